// Package decode reads the JSON forms of package sim's scenarios and
// traces and of package sim/load's loads alike: one value and nothing
// after it, no unknown field, durations as Go duration strings (a bad one
// named by its field), and jitters by name.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/timebound/backoff"
)

// Strict decodes exactly one JSON value from b into v, refusing unknown
// fields and anything after the value. Where a duration does not parse
// (the Duration of a field is a *DurationError), it names the field that
// badDuration finds in b.
func Strict(b []byte, v any, badDuration func(b []byte) string) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*DurationError](err); ok {
			if field := badDuration(b); field != "" {
				return fmt.Errorf("%s: %w", field, err)
			}
		}
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("more after the JSON value, at byte %d", dec.InputOffset())
	}
	return nil
}

// Duration reads the JSON of a duration: a string that time.ParseDuration
// reads, such as "150ms" or "1h2m". Its error is a *DurationError, which
// encoding/json returns without saying where; Strict adds the field's
// name.
func Duration(b []byte) (time.Duration, error) {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return 0, &DurationError{fmt.Sprintf("a duration is a string such as \"150ms\", not %s", b)}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, &DurationError{fmt.Sprintf("bad duration %q: %v", s, err)}
	}
	return d, nil
}

// A DurationError is a duration that does not parse.
type DurationError struct{ Msg string }

func (e *DurationError) Error() string { return e.Msg }

// A Field is the name of a duration field and its JSON, as found in a
// document that did not decode.
type Field struct {
	Name string
	Raw  json.RawMessage
}

// FirstBadDuration returns the name of the first field whose JSON is set
// (not absent, not null) and is not a duration, or "".
func FirstBadDuration(fields []Field) string {
	for _, f := range fields {
		if f.Raw == nil || string(f.Raw) == "null" {
			continue
		}
		if _, err := Duration(f.Raw); err != nil {
			return f.Name
		}
	}
	return ""
}

// jitters are the jitter kinds by name ("" is none).
var jitters = map[string]backoff.Jitter{
	"": backoff.NoJitter, "none": backoff.NoJitter, "full": backoff.FullJitter,
	"equal": backoff.EqualJitter, "decorrelated": backoff.DecorrelatedJitter,
}

// Jitter returns the jitter kind of that name, as backoff.Jitter's String
// writes it, or "" for none; false for an unknown name.
func Jitter(name string) (backoff.Jitter, bool) {
	j, ok := jitters[name]
	return j, ok
}
