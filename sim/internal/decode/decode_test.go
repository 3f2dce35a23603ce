package decode

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
)

type doc struct {
	N int             `json:"n"`
	D json.RawMessage `json:"d"`
}

func TestStrict(t *testing.T) {
	bad := func([]byte) string { return "d" }
	for _, tc := range []struct {
		in, err string
	}{
		{`{"n": 1}`, ""},
		{`{"n": 1, "x": 2}`, `line 1, column 10: unknown field "x"`},
		{`{"n": 1} {}`, "line 1, column 10: more after the JSON value"},
		{`{"n": "one"}`, `line 1, column 7: n is the string "one"; want a whole number`},
	} {
		var v doc
		err := Strict([]byte(tc.in), &v, bad)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Strict(%s) = %v; want %q", tc.in, err, tc.err)
		}
	}
	// A bad duration, named by the field badDuration finds.
	var v struct {
		D dur `json:"d"`
	}
	err := Strict([]byte(`{"d": "soon"}`), &v, func(b []byte) string {
		var d doc
		json.Unmarshal(b, &d)
		return FirstBadDuration([]Field{{"d", d.D}})
	})
	if err == nil || !strings.HasPrefix(err.Error(), `line 1, column 7: d: bad duration "soon"`) {
		t.Errorf("Strict of a bad duration = %v", err)
	}
	if _, ok := errors.AsType[*DurationError](err); !ok {
		t.Errorf("Strict of a bad duration = %T, want a *DurationError inside", err)
	}
}

type dur time.Duration

func (d *dur) UnmarshalJSON(b []byte) error {
	v, err := Duration(b)
	*d = dur(v)
	return err
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		err  string
	}{
		{`"150ms"`, 150 * time.Millisecond, ""},
		{`"1h2m"`, time.Hour + 2*time.Minute, ""},
		{`10`, 0, `a duration is a string such as "150ms", not 10`},
		{`"1 s"`, 0, `bad duration "1 s"`},
	} {
		got, err := Duration([]byte(tc.in))
		if got != tc.want || tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Duration(%s) = %v, %v; want %v, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	fields := []Field{{"a", nil}, {"b", json.RawMessage("null")}, {"c", json.RawMessage(`"1s"`)}, {"d", json.RawMessage(`"x"`)}, {"e", json.RawMessage(`"y"`)}}
	if got := FirstBadDuration(fields); got != "d" {
		t.Errorf("FirstBadDuration = %q, want d", got)
	}
	if got := FirstBadDuration(fields[:4-1]); got != "" {
		t.Errorf("FirstBadDuration of good fields = %q", got)
	}
}

func TestJitter(t *testing.T) {
	for _, j := range []backoff.Jitter{backoff.NoJitter, backoff.FullJitter, backoff.EqualJitter, backoff.DecorrelatedJitter} {
		if got, ok := Jitter(j.String()); !ok || got != j {
			t.Errorf("Jitter(%q) = %v, %v", j.String(), got, ok)
		}
	}
	if got, ok := Jitter(""); !ok || got != backoff.NoJitter {
		t.Errorf(`Jitter("") = %v, %v; want none`, got, ok)
	}
	if _, ok := Jitter("wild"); ok {
		t.Error(`Jitter("wild") is known`)
	}
}
