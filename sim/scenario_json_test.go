package sim_test

import (
	"strings"
	"testing"

	"github.com/timebound/backoff/sim"
)

// TestParseScenario_where: malformed JSON, a field given twice, an
// unknown field and a value of the wrong type are refused with the line
// and column where they are; exact messages.
func TestParseScenario_where(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"cut short", "{\n  \"pause\": \"1ms\",\n  \"attempts\": [{\"outcome\": \"retryable\"",
			`sim: scenario: line 3, column 39: unexpected end of input: the object of attempts[0] (from line 3, column 16) is not closed`},
		{"a trailing comma", "{\"attempts\": [{\"outcome\": \"ok\"},]}",
			`sim: scenario: line 1, column 33: invalid character ']' looking for beginning of value`},
		{"a field twice", "{\"pause\": \"1ms\",\n \"attempts\": [{\"outcome\": \"ok\"}],\n \"pause\": \"2ms\"}",
			`sim: scenario: line 3, column 2: duplicate field "pause" (first at line 1, column 2); give each field once`},
		{"a field of an attempt twice", `{"attempts": [{"outcome": "ok", "takes": "1s", "takes": "2s"}]}`,
			`sim: scenario: line 1, column 48: duplicate field "takes" in attempts[0] (first at line 1, column 33); give each field once`},
		{"an unknown field", `{"max_try": 3, "attempts": [{"outcome": "ok"}]}`, `sim: scenario: line 1, column 2: unknown field "max_try"`},
		{"a misspelt field", `{"attempts": [{"outcome": "ok", "on_cancle": "late"}]}`,
			`sim: scenario: line 1, column 33: unknown field "on_cancle" in attempts[0] (did you mean "on_cancel"?)`},
		{"max_tries as a string", `{"max_tries": "3", "attempts": [{"outcome": "ok"}]}`,
			`sim: scenario: line 1, column 15: max_tries is the string "3"; want a whole number`},
		{"a bad duration", "{\"attempts\": [\n  {\"outcome\": \"ok\", \"takes\": \"1 s\"}]}",
			`sim: scenario: line 2, column 30: attempts[0].takes: bad duration "1 s": time: unknown unit " s" in duration "1 s"`},
		{"empty", ``, `sim: scenario: line 1, column 1: the input is empty; want a JSON object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sim.ParseScenario([]byte(tc.json))
			if err == nil || err.Error() != tc.want {
				t.Errorf("ParseScenario = %v\nwant %s", err, tc.want)
			}
		})
	}
	// A field twice is refused even with the same value, and in any case.
	for _, js := range []string{`{"pause": "1ms", "pause": "1ms", "attempts": [{"outcome": "ok"}]}`,
		`{"pause": "1ms", "PAUSE": "1ms", "attempts": [{"outcome": "ok"}]}`} {
		if _, err := sim.ParseScenario([]byte(js)); err == nil || !strings.Contains(err.Error(), "duplicate field") {
			t.Errorf("ParseScenario(%s) = %v; want a duplicate field", js, err)
		}
	}
}
