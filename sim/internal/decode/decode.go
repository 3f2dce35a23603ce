// Package decode reads the JSON forms of package sim's scenarios and
// traces and of package sim/load's loads alike: one value and nothing
// after it, no unknown field and no field given twice, durations as Go
// duration strings (a bad one named by its field), and jitters by name.
// What is wrong is said with its line and column.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"time"
	"unicode/utf8"

	"github.com/timebound/backoff"
)

// Strict decodes exactly one JSON value from b into v, refusing unknown
// fields, a field given twice, and anything after the value. Its error
// says where in b the problem is (an *Error) when it can: a syntax error,
// the input ending too soon, an unknown or repeated field (named with its
// path, such as attempts[1].takes), a value of the wrong type. Where a
// duration does not parse (the Duration of a field is a *DurationError),
// it names the field that badDuration finds in b.
func Strict(b []byte, v any, badDuration func(b []byte) string) error {
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return fmt.Errorf("decode: Strict needs a pointer, not %T", v)
	}
	if err := walk(b, t.Elem()); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if _, ok := errors.AsType[*DurationError](err); ok {
			if field := badDuration(b); field != "" {
				if at := find(b, t.Elem(), field); at >= 0 {
					line, col := Position(b, at)
					return &Error{Line: line, Column: col, Err: fmt.Errorf("%s: %w", field, err)}
				}
				return fmt.Errorf("%s: %w", field, err)
			}
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			// The walk lets no such error through; if one comes, say where.
			line, col := Position(b, max(te.Offset-1, 0))
			return &Error{Line: line, Column: col, Err: err}
		}
		return err
	}
	return nil
}

// An Error is what is wrong with a JSON document, and where: Line and
// Column (from 1; a column counts characters, a tab as one) of the
// character, key or value at fault.
type Error struct {
	Line, Column int
	Err          error
}

// Error returns "line L, column C: " and the error.
func (e *Error) Error() string { return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err) }

// Unwrap returns the error without its position.
func (e *Error) Unwrap() error { return e.Err }

// Position returns the line and column (from 1) of the byte at offset in
// b; an offset at the end of b is just past its last character.
func Position(b []byte, offset int64) (line, column int) {
	offset = min(max(offset, 0), int64(len(b)))
	before := b[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
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
