package sim_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
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
			[]string{"attempts[0].outcome is hang", "no attempt_timeout, deadline, cancel_at or caller_deadline"}},
		{"hang with takes", `{"deadline":"1s","attempts":[{"takes":"1s","outcome":"hang"}]}`,
			[]string{"attempts[0].takes is 1s but the outcome is hang"}},
		{"hang ignoring its context without abandon", `{"deadline":"1s","attempts":[{"outcome":"hang","on_cancel":"ignore"}]}`,
			[]string{"attempts[0].outcome is hang and on_cancel is ignore", "abandon"}},

		// Retries at one instant, without end (backoff.Policy.Validate refuses
		// the policy); a give-up error is retried too.
		{"retries bounded by nothing", `{"attempts":[{"outcome":"retryable"}]}`,
			[]string{"sim: scenario: an attempt fails with an error to retry, and no pause, max_tries, deadline or budget_allows bounds the retries: " +
				"the call would retry at once, without end; set max_tries, pause or deadline"}},
		{"give-up bounded by nothing", `{"attempt_timeout":"1s","attempts":[{"outcome":"ok"},{"outcome":"give-up"}]}`,
			[]string{"no pause, max_tries, deadline or budget_allows bounds the retries"}},

		// No attempts.
		{"empty attempts", `{"attempts":[]}`, []string{"attempts is empty"}},
		{"null attempts", `{"attempts":null}`, []string{"attempts is empty"}},
		{"no attempts", `{"deadline":"1s"}`, []string{"attempts is empty"}},

		// The pause fields.
		{"growth below 1", `{"pause":"1s","growth":0.5,"attempts":[{"outcome":"ok"}]}`,
			[]string{"growth is 0.5; want 0 or 1 (constant) or a finite number above 1"}},
		{"negative growth", `{"pause":"1s","growth":-2,"attempts":[{"outcome":"ok"}]}`, []string{"growth is -2"}},
		{"growth too large for a float64", `{"pause":"1s","growth":1e999,"attempts":[{"outcome":"ok"}]}`, []string{"growth"}},
		{"negative max_pause", `{"pause":"1s","max_pause":"-1ms","attempts":[{"outcome":"ok"}]}`,
			[]string{"max_pause is -1ms; want 0 (no cap) or more"}},
		{"max_pause too long", `{"pause":"1s","max_pause":"25h","attempts":[{"outcome":"ok"}]}`,
			[]string{"max_pause is 25h0m0s; want at most 24h0m0s"}},
		{"max_pause not a duration", `{"pause":"1s","max_pause":"soon","attempts":[{"outcome":"ok"}]}`, []string{"max_pause", `"soon"`}},
		{"unknown jitter", `{"pause":"1s","jitter":"Full","attempts":[{"outcome":"ok"}]}`,
			[]string{`jitter is "Full"; want none, full, equal or decorrelated`}},
		{"jitter not a string", `{"pause":"1s","jitter":1,"attempts":[{"outcome":"ok"}]}`, []string{"jitter"}},
		{"negative retry_after", `{"attempts":[{"outcome":"retryable","retry_after":"-1s"}],"max_tries":2}`,
			[]string{"attempts[0].retry_after is -1s; want 0 (no hint) or more"}},
		{"retry_after too long", `{"attempts":[{"outcome":"retryable","retry_after":"48h"}],"max_tries":2}`,
			[]string{"attempts[0].retry_after is 48h0m0s; want at most 24h0m0s"}},
		{"retry_after not a duration", `{"attempts":[{"outcome":"ok"},{"outcome":"retryable","retry_after":"later"}]}`,
			[]string{"attempts[1].retry_after", `"later"`}},
		{"retry_after on a success", `{"attempts":[{"outcome":"ok","retry_after":"1s"}]}`,
			[]string{"attempts[0].retry_after is 1s but the outcome is ok; only an error that is retried (retryable or give-up) carries a delay hint"}},
		{"retry_after on an error not retried", `{"attempts":[{"outcome":"not-retryable","retry_after":"1s"}]}`,
			[]string{"attempts[0].retry_after is 1s but the outcome is not-retryable"}},
		{"retry_after on a hang", `{"deadline":"1s","attempts":[{"outcome":"hang","retry_after":"1s"}]}`,
			[]string{"attempts[0].retry_after is 1s but the outcome is hang"}},
		{"growth with no pause", `{"growth":2,"max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
			[]string{"growth is 2 but pause is 0s: there is no pause to grow"}},
		{"jitter with no pause", `{"jitter":"full","max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
			[]string{`jitter is "full" but pause is 0s: there is no pause to spread`}},
		{"decorrelated jitter with no pause and no hint", `{"jitter":"decorrelated","max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
			[]string{`jitter is "decorrelated" but pause is 0s`}},
		{"max_pause with no pause", `{"max_pause":"1s","max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
			[]string{"max_pause is 1s but pause is 0s: there is no pause to cap"}},
		{"growth with decorrelated jitter", `{"pause":"1s","growth":2,"jitter":"decorrelated","max_pause":"1m","attempts":[{"outcome":"ok"}]}`,
			[]string{"growth is 2 but jitter is decorrelated"}},
		{"growth bounded by nothing", `{"pause":"1s","growth":2,"cancel_at":"1m","attempts":[{"outcome":"retryable"}]}`,
			[]string{"growth is 2, and no max_pause, deadline or max_tries bounds the pauses it grows"}},
		{"decorrelated jitter bounded by nothing", `{"pause":"1s","jitter":"decorrelated","attempts":[{"takes":"1s","outcome":"retryable"},{"outcome":"ok"}]}`,
			[]string{"jitter is decorrelated, and no max_pause, deadline or max_tries bounds the pauses it grows"}},
		{"growth past MaxDuration", `{"pause":"1s","growth":10,"max_tries":7,"attempts":[{"outcome":"retryable"}]}`,
			[]string{"growth is 10 with pause 1s and max_tries 7: the pauses could grow to 27h46m40s; want at most 24h0m0s (set max_pause or deadline)"}},
		{"decorrelated past MaxDuration", `{"pause":"1h","jitter":"decorrelated","max_tries":5,"attempts":[{"outcome":"retryable"}]}`,
			[]string{"jitter is decorrelated with pause 1h0m0s and max_tries 5: the pauses could grow to 27h0m0s"}},
		{"decorrelated hints past MaxDuration", `{"pause":"1s","jitter":"decorrelated","max_tries":3,"attempts":[{"outcome":"retryable","retry_after":"10h"}]}`,
			[]string{"the pauses could grow to 30h0m0s"}},

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
		`{"attempt_timeout":"0s","deadline":"0s","pause":"0s","max_tries":0,"attempts":[{"takes":"0s","outcome":"not-retryable"}]}`,
		`{"cancel_at":"0s","attempts":[{"outcome":"hang"}]}`,
		`{"cancel_at":"1s","attempts":[{"outcome":"hang","on_cancel":"late","late":"1ms"}]}`,
		`{"abandon":true,"deadline":"1s","attempts":[{"outcome":"hang","on_cancel":"ignore"}]}`,
		"\n\t {\"attempts\":[{\"outcome\":\"give-up\"}],\"max_tries\":2,\"seed\":7} \n",
		// The pause fields: growth 0 and 1 are constant; every jitter with a
		// pause; growth bounded by max_pause, the deadline or max_tries.
		`{"pause":"1s","growth":1,"max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
		`{"pause":"1s","growth":1.5,"max_pause":"10s","jitter":"full","seed":18446744073709551615,"attempts":[{"outcome":"retryable"}],"cancel_at":"1m"}`,
		`{"pause":"1s","growth":10,"deadline":"1h","jitter":"equal","attempts":[{"outcome":"retryable"}]}`,
		`{"pause":"1s","growth":10,"max_tries":5,"jitter":"none","attempts":[{"outcome":"retryable"}]}`,
		`{"pause":"1s","jitter":"decorrelated","max_tries":5,"attempts":[{"outcome":"retryable"}]}`,
		// A hint on each error that is retried; decorrelated jitter spreads
		// the pauses after a hint even with no pause, and max_pause caps them.
		`{"max_tries":3,"attempts":[{"outcome":"retryable","retry_after":"24h"},{"outcome":"give-up","retry_after":"1ms"}]}`,
		`{"jitter":"decorrelated","max_pause":"1s","max_tries":3,"attempts":[{"outcome":"retryable","retry_after":"10ms"}]}`,
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

// TestValidate_growth: growths JSON cannot write, refused by name and value.
func TestValidate_growth(t *testing.T) {
	for _, tc := range []struct {
		growth float64
		want   string
	}{
		{math.NaN(), "sim: scenario: growth is NaN; want 0 or 1 (constant) or a finite number above 1"},
		{math.Inf(1), "sim: scenario: growth is +Inf; want 0 or 1 (constant) or a finite number above 1"},
		{math.Inf(-1), "sim: scenario: growth is -Inf; want 0 or 1 (constant) or a finite number above 1"},
		{math.SmallestNonzeroFloat64, "sim: scenario: growth is 5e-324; want 0 or 1 (constant) or a finite number above 1"},
	} {
		sc := sim.Scenario{Pause: sim.Duration(time.Second), Growth: tc.growth, MaxTries: 3, Attempts: []sim.Attempt{{Outcome: sim.Retryable}}}
		if err := sc.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate with growth %v = %v; want %q", tc.growth, err, tc.want)
		}
	}
	for _, g := range []float64{0, 1, 1.0000001, 1e300} {
		sc := sim.Scenario{Pause: sim.Duration(time.Second), Growth: g, MaxPause: sim.Duration(time.Minute), Attempts: []sim.Attempt{{Outcome: sim.OK}}}
		if err := sc.Validate(); err != nil {
			t.Errorf("Validate with growth %v = %v; want nil", g, err)
		}
	}
}

// TestScenario_Policy: the pause fields reach the policy, and a jitter
// comes with a new PCG seeded from Seed on each call, which gives the
// stream of rand.NewPCG(Seed, SeedStream).
func TestScenario_Policy(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`{"pause":"10ms","growth":2.5,"max_pause":"1s","jitter":"equal","seed":99,"max_tries":3,"attempts":[{"outcome":"retryable"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p := sc.Policy()
	if p.Pause != 10*time.Millisecond || p.Growth != 2.5 || p.MaxPause != time.Second || p.Jitter != backoff.EqualJitter || p.Rand == nil {
		t.Fatalf("Policy() = %+v", p)
	}
	want := rand.NewPCG(99, sim.SeedStream)
	again := sc.Policy().Rand
	for i := range 3 {
		w := want.Uint64()
		if got := p.Rand.Uint64(); got != w {
			t.Fatalf("number %d of the first policy's Rand is %d, want %d", i, got, w)
		}
		if got := again.Uint64(); got != w {
			t.Fatalf("number %d of the second policy's Rand is %d, want %d (each Policy has its own)", i, got, w)
		}
	}
	for _, name := range []string{"", "none"} {
		sc.Jitter = name
		if p := sc.Policy(); p.Jitter != backoff.NoJitter || p.Rand != nil {
			t.Errorf("jitter %q: Policy() has Jitter %v, Rand %v; want none and nil", name, p.Jitter, p.Rand)
		}
	}
	for name, j := range map[string]backoff.Jitter{"full": backoff.FullJitter, "decorrelated": backoff.DecorrelatedJitter} {
		sc.Jitter = name
		if p := sc.Policy(); p.Jitter != j {
			t.Errorf("jitter %q: Policy() has Jitter %v; want %v", name, p.Jitter, j)
		}
	}
}

// TestAttempt_Err: an attempt with a retry_after returns its outcome's
// error carrying the hint, reading as that error does.
func TestAttempt_Err(t *testing.T) {
	err := sim.Attempt{Outcome: sim.GiveUp, RetryAfter: sim.Duration(3 * time.Second)}.Err()
	h, ok := err.(interface{ RetryAfter() time.Duration })
	if !ok || h.RetryAfter() != 3*time.Second || !errors.Is(err, sim.ErrGiveUp) || err.Error() != sim.ErrGiveUp.Error() {
		t.Errorf("Err() = %#v; want sim.ErrGiveUp carrying a hint of 3s", err)
	}
	if err := (sim.Attempt{Outcome: sim.Retryable}).Err(); err != sim.ErrRetryable {
		t.Errorf("Err() without a hint = %v; want sim.ErrRetryable itself", err)
	}
	if err := (sim.Attempt{Outcome: sim.OK, RetryAfter: 1}).Err(); err != nil {
		t.Errorf("Err() of a success = %v; want nil", err)
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
