package sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff/sim"
)

// TestParseScenario_refuses feeds ParseScenario bad scenarios and requires
// an error that names what is wrong: the field (with the attempt's index)
// and, where there is one, the value.
func TestParseScenario_refuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		json string
		want []string // each must appear in the error
	}{
		// Unknown fields, at the top and in an attempt.
		{"unknown field", `{"attempts":[{"outcome":"ok"}],"bogus":1}`, []string{`unknown field "bogus"`}},
		{"misspelled field", `{"max_try":3,"attempts":[{"outcome":"ok"}]}`, []string{`unknown field "max_try"`}},
		{"unknown attempt field", `{"attempts":[{"outcome":"ok","tkes":"1s"}]}`, []string{`unknown field "tkes"`}},

		// Negative numbers.
		{"negative attempt_timeout", `{"attempt_timeout":"-1s","attempts":[{"outcome":"ok"}]}`, []string{"attempt_timeout is -1s"}},
		{"negative deadline", `{"deadline":"-500ms","attempts":[{"outcome":"ok"}]}`, []string{"deadline is -500ms"}},
		{"negative pause", `{"pause":"-1ms","attempts":[{"outcome":"ok"}]}`, []string{"pause is -1ms"}},
		{"negative max_tries", `{"max_tries":-1,"attempts":[{"outcome":"ok"}]}`, []string{"max_tries is -1"}},
		{"negative cancel_at", `{"cancel_at":"-1ms","attempts":[{"outcome":"ok"}]}`, []string{"cancel_at is -1ms"}},
		{"negative takes", `{"attempts":[{"outcome":"ok"},{"takes":"-5ms","outcome":"ok"}]}`, []string{"attempts[1].takes is -5ms"}},
		{"negative late", `{"deadline":"1s","attempts":[{"takes":"2s","outcome":"ok","on_cancel":"late","late":"-1ms"}]}`,
			[]string{"attempts[0].on_cancel is late but late is -1ms"}},
		{"every negative at once", `{"attempt_timeout":"-1s","deadline":"-2s","pause":"-3s","max_tries":-4,"cancel_at":"-5s","attempts":[{"takes":"-6s","outcome":"ok"}]}`,
			[]string{"attempt_timeout is -1s", "deadline is -2s", "pause is -3s", "max_tries is -4", "cancel_at is -5s", "attempts[0].takes is -6s"}},

		// Outcomes and reactions.
		{"bad outcome", `{"attempts":[{"outcome":"maybe"}]}`, []string{`attempts[0].outcome is "maybe"`}},
		{"bad outcome later", `{"attempts":[{"outcome":"ok"},{"outcome":"OK"}]}`, []string{`attempts[1].outcome is "OK"`}},
		{"missing outcome", `{"attempts":[{"takes":"1s"}]}`, []string{"attempts[0].outcome is missing"}},
		{"bad on_cancel", `{"attempts":[{"outcome":"ok","on_cancel":"never"}]}`, []string{`attempts[0].on_cancel is "never"`}},

		// Late without on_cancel late, and the reverse.
		{"late without on_cancel", `{"attempt_timeout":"1s","attempts":[{"takes":"2s","outcome":"ok","late":"5ms"}]}`,
			[]string{`attempts[0].late is 5ms but on_cancel is not "late"`}},
		{"late with on_cancel at-once", `{"attempt_timeout":"1s","attempts":[{"takes":"2s","outcome":"ok","on_cancel":"at-once","late":"5ms"}]}`,
			[]string{`attempts[0].late is 5ms but on_cancel is not "late"`}},
		{"late with on_cancel ignore", `{"attempt_timeout":"1s","attempts":[{"takes":"2s","outcome":"ok","on_cancel":"ignore","late":"5ms"}]}`,
			[]string{`attempts[0].late is 5ms but on_cancel is not "late"`}},
		{"on_cancel late without late", `{"attempt_timeout":"1s","attempts":[{"takes":"2s","outcome":"ok","on_cancel":"late"}]}`,
			[]string{"attempts[0].on_cancel is late but late is 0s"}},

		// Attempts that could never end.
		{"hang with no limit", `{"pause":"1s","max_tries":3,"attempts":[{"outcome":"hang"}]}`,
			[]string{"attempts[0].outcome is hang", "no attempt_timeout, deadline or cancel_at"}},
		{"hang with takes", `{"deadline":"1s","attempts":[{"takes":"1s","outcome":"hang"}]}`,
			[]string{"attempts[0].takes is 1s but the outcome is hang"}},
		{"hang ignoring its context without abandon", `{"deadline":"1s","attempts":[{"outcome":"hang","on_cancel":"ignore"}]}`,
			[]string{"attempts[0].outcome is hang and on_cancel is ignore", "abandon"}},

		// No attempts.
		{"empty attempts", `{"attempts":[]}`, []string{"attempts is empty"}},
		{"null attempts", `{"attempts":null}`, []string{"attempts is empty"}},
		{"no attempts", `{"deadline":"1s"}`, []string{"attempts is empty"}},

		// Trailing garbage after the scenario.
		{"trailing word", `{"attempts":[{"outcome":"ok"}]} xyz`, []string{"more after the JSON value"}},
		{"trailing object", `{"attempts":[{"outcome":"ok"}]} {}`, []string{"more after the JSON value"}},
		{"trailing comma", `{"attempts":[{"outcome":"ok"}]},`, []string{"more after the JSON value"}},
		{"trailing brace", `{"attempts":[{"outcome":"ok"}]}}`, []string{"more after the JSON value"}},
		{"trailing bracket", `{"attempts":[{"outcome":"ok"}]}]`, []string{"more after the JSON value"}},

		// Not a scenario at all.
		{"truncated", `{"attempts":[{"outcome":"ok"}`, []string{"sim: scenario"}},
		{"empty input", ``, []string{"sim: scenario"}},
		{"wrong type", `{"max_tries":"3","attempts":[{"outcome":"ok"}]}`, []string{"max_tries"}},
		{"bad duration", `{"attempts":[{"takes":"soon","outcome":"ok"}]}`, []string{"takes", `"soon"`}},
		{"duration as a number", `{"deadline":5,"attempts":[{"outcome":"ok"}]}`, []string{"deadline", "5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := sim.ParseScenario([]byte(tc.json))
			var missing []string
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					missing = append(missing, w)
				}
			}
			if len(missing) == 0 {
				return
			}
			if err == nil {
				t.Fatalf("ParseScenario(%s) = %+v, nil; want an error naming %q", tc.json, sc, tc.want)
			}
			t.Errorf("ParseScenario(%s) = %q; want it to name %q", tc.json, err, missing)
		})
	}
}

// TestParseScenario_accepts checks the edges that are legal: zero values,
// cancel_at 0, a hang bounded by the caller's cancel alone, a hang that
// ignores its context under abandon, and surrounding white space.
func TestParseScenario_accepts(t *testing.T) {
	for _, js := range []string{
		`{"attempts":[{"outcome":"ok"}]}`,
		`{"attempt_timeout":"0s","deadline":"0s","pause":"0s","max_tries":0,"attempts":[{"takes":"0s","outcome":"retryable"}]}`,
		`{"cancel_at":"0s","attempts":[{"outcome":"hang"}]}`,
		`{"cancel_at":"1s","attempts":[{"outcome":"hang","on_cancel":"late","late":"1ms"}]}`,
		`{"abandon":true,"deadline":"1s","attempts":[{"outcome":"hang","on_cancel":"ignore"}]}`,
		"\n\t {\"attempts\":[{\"outcome\":\"give-up\"}],\"seed\":7} \n",
	} {
		if _, err := sim.ParseScenario([]byte(js)); err != nil {
			t.Errorf("ParseScenario(%s) = %v, want nil", js, err)
		}
	}
}

// TestRun_refuses checks that Run refuses, with the same errors, a
// scenario built in Go that ParseScenario would refuse.
func TestRun_refuses(t *testing.T) {
	sc := sim.Scenario{
		Pause:    sim.Duration(-time.Millisecond),
		Attempts: []sim.Attempt{{Outcome: sim.Hang}},
	}
	res, err := sim.Run(sc)
	if err == nil {
		t.Fatalf("Run = %+v, nil; want an error", res)
	}
	for _, w := range []string{"pause is -1ms", "attempts[0].outcome is hang"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Run: %q does not name %q", err, w)
		}
	}
}

// TestReadTrace_refusesBadScenario checks that a trace whose header
// carries a bad scenario is refused, naming the line and the field.
func TestReadTrace_refusesBadScenario(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{`{"format":"backoff-trace","version":1,"scenario":{"attempts":[{"outcome":"maybe"}]}}`, `attempts[0].outcome is "maybe"`},
		{`{"format":"backoff-trace","version":1,"scenario":{"attempts":[{"outcome":"ok"}],"bogus":1}}`, `unknown field "bogus"`},
		{`{"format":"backoff-trace","version":1,"scenario":{"attempts":[]}}`, "attempts is empty"},
		{`{"format":"backoff-trace","version":2,"scenario":{"attempts":[{"outcome":"ok"}]}}`, "version 2"},
	} {
		_, err := sim.ReadTrace(strings.NewReader(tc.header + "\n"))
		if err == nil || !strings.Contains(err.Error(), "line 1") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadTrace(%s) = %v; want an error naming line 1 and %q", tc.header, err, tc.want)
		}
	}
}
