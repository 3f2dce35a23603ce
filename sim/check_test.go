package sim_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// msec is a millisecond (diff_test.go has its own ms; this file stands alone).
const msec = time.Millisecond

// checkCases are handwritten scenarios, one or more per rule, each with
// how the call must end (worked out by hand from the rules).
var checkCases = []struct {
	name     string
	json     string
	reason   error // nil: success
	attempts int   // attempts started (or, on success, the attempt that succeeded)
	elapsed  time.Duration
}{
	{"rule 1: success at once",
		`{"attempt_timeout":"100ms","pause":"50ms","max_tries":3,"attempts":[{"takes":"10ms","outcome":"ok"}]}`,
		nil, 1, 10 * msec},
	{"rule 2: attempt timeouts are retried, then a success",
		`{"attempt_timeout":"100ms","attempts":[{"outcome":"hang"},{"outcome":"hang"},{"takes":"30ms","outcome":"ok"}]}`,
		nil, 3, 230 * msec},
	{"rule 3: cooperative, an attempt returns late after its timeout",
		`{"attempt_timeout":"100ms","pause":"50ms","max_tries":2,
		  "attempts":[{"outcome":"hang","on_cancel":"late","late":"40ms"}]}`,
		backoff.ErrMaxTries, 2, 330 * msec},
	{"rule 3: abandon, an attempt that hangs and ignores its context",
		`{"attempt_timeout":"100ms","deadline":"250ms","abandon":true,"attempts":[{"outcome":"hang","on_cancel":"ignore"}]}`,
		backoff.ErrDeadline, 3, 250 * msec},
	{"rules 1, 3: cooperative, a success that ignores the deadline's cut still counts",
		`{"deadline":"200ms","attempts":[{"takes":"300ms","outcome":"ok","on_cancel":"ignore"}]}`,
		nil, 1, 300 * msec},
	{"rule 4: the deadline cuts the last attempt, and ties an attempt timeout",
		`{"attempt_timeout":"200ms","deadline":"400ms","attempts":[{"outcome":"hang"}]}`,
		backoff.ErrDeadline, 2, 400 * msec},
	{"rule 5: no pause into the deadline",
		`{"deadline":"300ms","pause":"100ms","attempts":[{"takes":"50ms","outcome":"retryable"}]}`,
		backoff.ErrDeadline, 2, 200 * msec},
	{"rule 6: exact pauses, none before the first attempt or after the last",
		`{"attempt_timeout":"100ms","pause":"250ms","max_tries":3,
		  "attempts":[{"takes":"30ms","outcome":"retryable"},{"outcome":"hang"},{"takes":"20ms","outcome":"retryable"}]}`,
		backoff.ErrMaxTries, 3, 650 * msec},
	{"rule 6: a zero pause starts the next attempt at once",
		`{"max_tries":4,"attempts":[{"outcome":"retryable"}]}`,
		backoff.ErrMaxTries, 4, 0},
	{"rule 7: an error not retried ends the call",
		`{"attempt_timeout":"100ms","pause":"50ms","attempts":[{"outcome":"hang"},{"takes":"20ms","outcome":"not-retryable"}]}`,
		backoff.ErrNotRetryable, 2, 170 * msec},
	{"rule 8: GiveUp before the last try",
		`{"pause":"10ms","max_tries":3,"attempts":[{"takes":"10ms","outcome":"retryable"},{"takes":"10ms","outcome":"give-up"}]}`,
		backoff.ErrGaveUp, 2, 30 * msec},
	{"rule 8: MaxTries before GiveUp on the last try",
		`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"},{"takes":"10ms","outcome":"give-up"}]}`,
		backoff.ErrMaxTries, 2, 30 * msec},
	{"rule 9: cancelled before the call, nothing is called",
		`{"cancel_at":"0s","attempts":[{"outcome":"ok"}]}`,
		sim.ErrCanceled, 0, 0},
	{"rule 9: cancelled during a pause, the call ends at once",
		`{"pause":"1s","cancel_at":"500ms","attempts":[{"takes":"100ms","outcome":"retryable"}]}`,
		sim.ErrCanceled, 1, 500 * msec},
	{"rule 9: cancelled during a cooperative attempt, which returns late",
		`{"attempt_timeout":"1s","max_tries":5,"cancel_at":"200ms",
		  "attempts":[{"takes":"50ms","outcome":"retryable"},{"takes":"2s","outcome":"ok","on_cancel":"late","late":"30ms"}]}`,
		sim.ErrCanceled, 2, 230 * msec},
	{"rule 9: cancelled during an abandoned attempt, the call ends at once",
		`{"attempt_timeout":"1s","max_tries":5,"abandon":true,"cancel_at":"200ms",
		  "attempts":[{"takes":"50ms","outcome":"retryable"},{"outcome":"hang","on_cancel":"ignore"}]}`,
		sim.ErrCanceled, 2, 200 * msec},
	{"ties: a cancel at the end of a pause, and attempts ending at their timeout",
		`{"attempt_timeout":"100ms","pause":"100ms","cancel_at":"300ms","attempts":[{"takes":"100ms","outcome":"retryable"}]}`,
		sim.ErrCanceled, 2, 300 * msec},
	{"rule 6: pauses grow by growth, up to max_pause",
		`{"pause":"100ms","growth":3,"max_pause":"250ms","max_tries":4,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
		backoff.ErrMaxTries, 4, 640 * msec}, // pauses of 100, 250 (300 capped), 250ms
	{"rule 6: a delay hint is a floor on the pause, and is not capped",
		`{"pause":"50ms","max_pause":"60ms","attempts":[{"takes":"10ms","outcome":"retryable","retry_after":"200ms"},{"takes":"10ms","outcome":"ok"}]}`,
		nil, 2, 220 * msec},
	{"rule 5: a delay hint that reaches the deadline ends the call at once",
		`{"deadline":"500ms","pause":"10ms","attempts":[{"takes":"100ms","outcome":"retryable","retry_after":"400ms"}]}`,
		backoff.ErrDeadline, 1, 100 * msec},
	{"rule 6: full jitter from the seed",
		// The first two numbers of rand.NewPCG(1, sim.SeedStream), as
		// floor(r × (100ms+1) / 2^64): 86.868748ms and 39.349776ms.
		`{"pause":"100ms","jitter":"full","seed":1,"max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
		backoff.ErrMaxTries, 3, 126_218_524},
}

// simulate parses and runs a scenario.
func simulate(t *testing.T, js string) (sim.Scenario, *sim.Result) {
	t.Helper()
	sc, err := sim.ParseScenario([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	return sc, res
}

// checkAllOrders applies Check to sc and to sc under every order of its
// ties (at most limit variants), and returns how many it checked.
func checkAllOrders(t *testing.T, sc sim.Scenario, limit int) int {
	t.Helper()
	n := 0
	err := sim.Explore(sc, func(v sim.Scenario, res *sim.Result) bool {
		n++
		if err := sim.Check(v, res); err != nil {
			t.Errorf("Check fails on flip %v:\n%v\n%s", v.Flip, err, sim.Encode(v, res.Steps))
		}
		return n < limit
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCheck_holds: every rule holds on the handwritten scenarios, as the
// simulator runs them and under every other order of their ties; and each
// ends as worked out by hand.
func TestCheck_holds(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			sc, res := simulate(t, tc.json)
			if err := sim.Check(sc, res); err != nil {
				t.Fatalf("%v\n%s", err, sim.Encode(sc, res.Steps))
			}
			checkAllOrders(t, sc, 64)

			// The scenario does what its name says.
			var be *backoff.Error
			switch {
			case tc.reason == nil:
				if res.Err != nil || res.Value != tc.attempts || res.Steps[len(res.Steps)-1].Event.At != tc.elapsed {
					t.Errorf("got %v, value %d at %v; want success of attempt %d at %v",
						res.Err, res.Value, res.Steps[len(res.Steps)-1].Event.At, tc.attempts, tc.elapsed)
				}
			case !errors.As(res.Err, &be) || be.Reason != tc.reason || be.Attempts != tc.attempts || be.Elapsed != tc.elapsed:
				t.Errorf("got %v; want reason %v after %d attempts in %v", res.Err, tc.reason, tc.attempts, tc.elapsed)
			}
		})
	}
}

// TestCheck_runaway: a runaway result is a legitimate one.
func TestCheck_runaway(t *testing.T) {
	sc, res := simulate(t, `{"attempt_timeout":"10ms","attempts":[{"outcome":"hang"}]}`)
	if !res.Runaway {
		t.Fatal("not a runaway")
	}
	if err := sim.Check(sc, res); err != nil {
		t.Fatal(err)
	}
}

// TestCheck_goldenScenarios: every rule holds on the scenarios of
// testdata/scenarios, under every order of their ties.
func TestCheck_goldenScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no scenarios in testdata/scenarios")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := sim.ParseScenario(b)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		checkAllOrders(t, sc, 64)
	}
}

// randomScenario returns a valid scenario drawn from r: small multiples
// of 10ms, so that ties are frequent.
func randomScenario(r *rand.Rand) sim.Scenario {
	d := func(n int) sim.Duration { return sim.Duration(r.IntN(n)) * sim.Duration(10*msec) }
	kinds := []sim.Kind{sim.OK, sim.Retryable, sim.NotRetryable, sim.GiveUp, sim.Hang}
	reactions := []sim.Reaction{"", sim.AtOnce, sim.Late, sim.Ignore}
	for {
		sc := sim.Scenario{AttemptTimeout: d(4), Deadline: d(12), Pause: d(3), MaxTries: r.IntN(5), Abandon: r.IntN(2) == 0,
			Growth: []float64{0, 1, 1.5, 3}[r.IntN(4)], MaxPause: d(4), Jitter: []string{"", "full", "equal", "decorrelated"}[r.IntN(4)],
			Seed: r.Uint64()}
		if r.IntN(3) == 0 {
			c := d(12)
			sc.CancelAt = &c
		}
		for range 1 + r.IntN(4) {
			a := sim.Attempt{Takes: d(5), Outcome: kinds[r.IntN(len(kinds))], OnCancel: reactions[r.IntN(len(reactions))]}
			if a.Outcome == sim.Hang {
				a.Takes = 0
			}
			if a.OnCancel == sim.Late {
				a.Late = d(3) + sim.Duration(msec)
			}
			if (a.Outcome == sim.Retryable || a.Outcome == sim.GiveUp) && r.IntN(3) == 0 {
				a.RetryAfter = d(8)
			}
			sc.Attempts = append(sc.Attempts, a)
		}
		if sc.Validate() == nil {
			return sc
		}
	}
}

// TestCheck_random: every rule holds on random scenarios, under every
// order of their ties. The oracle and the decision core are written
// apart, so this is a differential test of the two.
func TestCheck_random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 600
	if testing.Short() {
		n = 200
	}
	for range n {
		checkAllOrders(t, randomScenario(r), 16)
		if t.Failed() {
			return
		}
	}
}

// doctor returns a deep copy of res, for a test to spoil.
func doctor(res *sim.Result) *sim.Result {
	d := *res
	d.Steps = append([]sim.Step(nil), res.Steps...)
	d.Ties = append([]time.Duration(nil), res.Ties...)
	if be, ok := res.Err.(*backoff.Error); ok {
		c := *be
		d.Err = &c
		last := &d.Steps[len(d.Steps)-1].Action
		if last.Err == res.Err {
			last.Err = &c
		}
	}
	return &d
}

// shift moves every time from step i on by delta, as if something before
// had taken delta longer.
func shift(res *sim.Result, i int, delta time.Duration) {
	for j := i; j < len(res.Steps); j++ {
		s := &res.Steps[j]
		s.Event.At += delta
		if s.Action.Kind == backoff.ActionPause || s.Action.Kind == backoff.ActionStart && s.Action.Cut != nil {
			s.Action.Until += delta
		}
		if j > i && s.Action.Since > 0 {
			s.Action.Since += delta
		}
	}
	if be, ok := res.Err.(*backoff.Error); ok {
		be.Elapsed += delta
	}
}

// violations returns the Violations in err.
func violations(t *testing.T, err error) []*sim.Violation {
	t.Helper()
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Check returned %T %v; want joined violations", err, err)
	}
	var vs []*sim.Violation
	for _, e := range j.Unwrap() {
		v, ok := e.(*sim.Violation)
		if !ok {
			t.Fatalf("Check returned %T %v among its violations", e, e)
		}
		vs = append(vs, v)
	}
	return vs
}

// TestCheck_fails: Check fails on doctored results, naming the rule
// broken and the step that breaks it.
func TestCheck_fails(t *testing.T) {
	for _, tc := range []struct {
		name   string
		json   string
		spoil  func(t *testing.T, sc *sim.Scenario, res *sim.Result) *sim.Result
		rule   int // a violation of this rule
		step   int // at this step (-1: the whole call; -2: any)
		inMsgs string
	}{
		{"a shortened pause",
			`{"attempt_timeout":"100ms","pause":"50ms","attempts":[{"outcome":"hang"},{"takes":"30ms","outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 timeout + pause until 150ms, 2 fired + start, 3 success
				d.Steps[1].Action.Until -= 10 * msec
				shift(d, 2, -10*msec)
				return d
			}, 6, 1, "want pause until 150ms, then attempt 2 (outcome failed); got pause until 140ms"},
		{"the next attempt starts before the pause is over",
			`{"attempt_timeout":"100ms","pause":"50ms","attempts":[{"outcome":"hang"},{"takes":"30ms","outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				shift(d, 2, -10*msec) // the pause says 150ms, the start comes at 140ms
				return d
			}, 6, 2, "the pause before attempt 2 ends at 150ms"},
		{"an attempt beyond MaxTries",
			`{"attempt_timeout":"100ms","max_tries":3,"attempts":[{"outcome":"hang"}]}`,
			func(t *testing.T, sc *sim.Scenario, _ *sim.Result) *sim.Result {
				// The steps of the same call with one more try allowed.
				more := *sc
				more.MaxTries++
				res, err := sim.Run(more)
				if err != nil {
					t.Fatal(err)
				}
				return res
			}, 8, 3, "it was try 3 of max_tries 3, so the call ends with ErrMaxTries"},
		{"a wrong Reason: GiveUp asked on the last permitted try",
			`{"max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"},{"takes":"10ms","outcome":"give-up"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Err.(*backoff.Error).Reason = backoff.ErrGaveUp
				return d
			}, 8, 2, "Reason ErrMaxTries"},
		{"a wrong Reason in the result only",
			`{"deadline":"100ms","attempts":[{"outcome":"hang"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Err = &backoff.Error{Reason: backoff.ErrMaxTries, Attempts: 1, Elapsed: 100 * msec}
				return d
			}, 4, 1, "the call must return Reason ErrDeadline"},
		{"a deadline cut replaces Last",
			`{"attempt_timeout":"100ms","deadline":"150ms","attempts":[{"outcome":"hang"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Err.(*backoff.Error).Last = backoff.ErrDeadline
				return d
			}, 4, 2, "keeping Last"},
		{"an attempt runs past its timeout",
			`{"attempt_timeout":"100ms","max_tries":2,"attempts":[{"outcome":"hang"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				shift(d, 1, 20*msec) // attempt 1 ends at 120ms
				return d
			}, 3, 1, "ran 120ms (from 0s), longer than the attempt timeout 100ms"},
		{"the call ends after the deadline",
			`{"deadline":"100ms","attempts":[{"outcome":"hang"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				shift(d, 1, 30*msec)
				return d
			}, 4, 1, "after the deadline 100ms"},
		{"a success is retried",
			`{"pause":"10ms","attempts":[{"takes":"10ms","outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Steps[1].Action = backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 20 * msec, Outcome: backoff.OutcomeFailed, Since: 0}
				return d
			}, 1, 1, "succeeded, so the call returns its value at once"},
		{"an error not retried is retried",
			`{"max_tries":3,"attempts":[{"takes":"10ms","outcome":"not-retryable"},{"takes":"10ms","outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, _ *sim.Result) *sim.Result {
				sc, res := simulate(t, `{"max_tries":3,"attempts":[{"takes":"10ms","outcome":"retryable"},{"takes":"10ms","outcome":"ok"}]}`)
				_ = sc
				d := doctor(res)
				d.Steps[1].Event.Err = sim.ErrPermanent
				return d
			}, 7, 1, "which is not retried"},
		{"a cancel at 0 calls the operation",
			`{"cancel_at":"0s","attempts":[{"takes":"10ms","outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, _ *sim.Result) *sim.Result {
				_, res := simulate(t, `{"attempts":[{"takes":"10ms","outcome":"ok"}]}`)
				return res
			}, 9, 0, "the caller cancelled before the call began, yet attempt 1 starts"},
		{"a cancelled pause runs to its end",
			`{"pause":"1s","cancel_at":"500ms","attempts":[{"takes":"100ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				shift(d, 2, 600*msec) // the call ends at 1.1s, when the pause would have
				return d
			}, 9, 2, "the caller's context is done at 500ms, during the pause"},
		{"the wrong attempt count",
			`{"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Err.(*backoff.Error).Attempts = 3
				return d
			}, 10, -1, "the call's error says 3 attempts; 2 started"},
		{"a finished call marked as a runaway",
			`{"attempts":[{"outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Runaway = true
				return d
			}, 0, -1, "Runaway is set, but the call finished"},
		{"a pause that did not grow",
			`{"pause":"100ms","growth":3,"max_pause":"250ms","max_tries":3,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 pause until 110ms, 2 start, 3 pause until 370ms, 4 start, 5 finish
				d.Steps[3].Action.Until -= 150 * msec
				shift(d, 4, -150*msec)
				return d
			}, 6, 3, "a pause of 250ms (pause 100ms × growth 3^1 = 300ms; capped at max_pause 250ms)"},
		{"the same, as the whole call shows it",
			`{"pause":"100ms","growth":3,"max_pause":"250ms","max_tries":3,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Steps[3].Action.Until -= 150 * msec
				shift(d, 4, -150*msec)
				return d
			}, 6, 4, "the pause after attempt 2 is 100ms; want exactly 250ms"},
		{"a full-jitter pause past its bound",
			`{"pause":"100ms","jitter":"full","seed":1,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 pause until 86.868748ms, 2 start, 3 finish
				over := 120*msec - d.Steps[1].Action.Until
				d.Steps[1].Action.Until += over
				shift(d, 2, over)
				return d
			}, 6, 1, "full jitter: within [0s, 100ms]), so the next attempt is 0s to 100ms later: want pause until 0s to 100ms"},
		{"a full-jitter pause past its bound, as the whole call shows it",
			`{"pause":"100ms","jitter":"full","seed":1,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				over := 120*msec - d.Steps[1].Action.Until
				d.Steps[1].Action.Until += over
				shift(d, 2, over)
				return d
			}, 6, 2, "the pause after attempt 1 is 120ms; want within [0s, 100ms], the bounds of full jitter of 100ms"},
		{"an equal-jitter pause under half its base",
			`{"pause":"100ms","jitter":"equal","seed":2,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 pause until 51.636802ms, 2 start, 3 finish
				under := 40*msec - d.Steps[1].Action.Until
				d.Steps[1].Action.Until += under
				shift(d, 2, under)
				return d
			}, 6, 1, "want pause until 50ms to 100ms"},
		{"a decorrelated pause past 3 times the one before",
			`{"pause":"100ms","jitter":"decorrelated","seed":1,"max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 pause, 2 start, 3 pause, 4 start, 5 finish
				first := d.Steps[1].Action.Until - d.Steps[1].Event.At
				over := d.Steps[3].Event.At + 3*first + 10*msec - d.Steps[3].Action.Until
				d.Steps[3].Action.Until += over
				shift(d, 4, over)
				return d
			}, 6, 3, "decorrelated jitter: within [100ms, "},
		{"a jittered pause into the deadline",
			`{"deadline":"60ms","pause":"100ms","jitter":"equal","seed":2,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				// Steps: 0 start, 1 pause until 51.636802ms, 2 start, 3 finish.
				// A pause of 70ms is within [50ms, 100ms], but past the deadline.
				d := doctor(res)
				later := 70*msec - d.Steps[1].Action.Until
				d.Steps[1].Action.Until += later
				shift(d, 2, later)
				return d
			}, 5, 1, "would end at 70ms, at or after the deadline 60ms, so the call ends at once"},
		{"rule 5 with a jitter where even the longest pause would end before the deadline",
			`{"deadline":"1s","pause":"100ms","jitter":"full","seed":1,"max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				end := &backoff.Error{Reason: backoff.ErrDeadline, Last: sim.ErrRetryable, Attempts: 1, Elapsed: 10 * msec}
				d.Steps = d.Steps[:2]
				d.Steps[1].Action = backoff.Action{Kind: backoff.ActionFinish, Err: end, Outcome: backoff.OutcomeFailed}
				d.Err = end
				return d
			}, 5, 1, "its pause, at most 100ms, would end by 110ms, before the deadline 1s"},
		{"an event with another random number",
			`{"pause":"100ms","jitter":"equal","seed":5,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Steps[1].Event.Rand++
				return d
			}, 6, 1, "the event that ends attempt 1 carries the random number"},
		{"a pause past max_pause",
			`{"pause":"100ms","growth":2,"max_pause":"150ms","jitter":"full","seed":3,"max_tries":3,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 pause, 2 start, 3 pause, 4 start, 5 finish
				over := res.Steps[3].Event.At + 160*msec - d.Steps[3].Action.Until
				d.Steps[3].Action.Until += over
				shift(d, 4, over)
				return d
			}, 6, 4, "longer than max_pause 150ms, and no delay hint asked for it"},
		{"a delay hint not honoured",
			`{"pause":"50ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable","retry_after":"200ms"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start, 1 pause until 210ms, 2 start, 3 finish
				d.Steps[1].Action.Until -= 150 * msec
				shift(d, 2, -150*msec)
				return d
			}, 6, 2, "the pause after attempt 1 is 50ms, shorter than the delay hint 200ms its error carries"},
		{"rule 5 where the pause would end before the deadline",
			`{"deadline":"1s","pause":"100ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				end := &backoff.Error{Reason: backoff.ErrDeadline, Last: sim.ErrRetryable, Attempts: 1, Elapsed: 10 * msec}
				d.Steps = d.Steps[:2]
				d.Steps[1].Action = backoff.Action{Kind: backoff.ActionFinish, Err: end, Outcome: backoff.OutcomeFailed}
				d.Err = end
				return d
			}, 5, 1, "its pause, at most 100ms, would end by 110ms, before the deadline 1s"},
		{"steps after the call finished",
			`{"attempts":[{"outcome":"ok"}]}`,
			func(t *testing.T, _ *sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Steps = append(d.Steps, d.Steps[len(d.Steps)-1])
				return d
			}, 0, 2, "a step after the call finished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, res := simulate(t, tc.json)
			if err := sim.Check(sc, res); err != nil {
				t.Fatalf("the result before spoiling fails already: %v", err)
			}
			spoiled := tc.spoil(t, &sc, res)
			err := sim.Check(sc, spoiled)
			if err == nil {
				t.Fatalf("Check passes a spoiled result:\n%s", sim.Encode(sc, spoiled.Steps))
			}
			found := false
			for _, v := range violations(t, err) {
				if v.Rule == tc.rule && (tc.step == -2 || v.Step == tc.step) && strings.Contains(v.Msg, tc.inMsgs) {
					found = true
				}
			}
			if !found {
				t.Errorf("no violation of rule %d at step %d saying %q; got:\n%v\n%s",
					tc.rule, tc.step, tc.inMsgs, err, sim.Encode(sc, spoiled.Steps))
			}
			t.Logf("as reported:\n%v", err)
		})
	}
}

// TestCheck_jitterIsABound: the statements of the jitters give bounds, not
// values, so Check passes a jittered pause within its bounds that is not
// the one the random number gives (1ns longer); the re-simulation of its
// trace (Replay, which takes the pause from the core's maths, whose draw
// package backoff's tests check) reports it at that step.
func TestCheck_jitterIsABound(t *testing.T) {
	sc, res := simulate(t, `{"pause":"100ms","jitter":"full","seed":1,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`)
	d := doctor(res) // steps: 0 start, 1 pause until 86.868748ms, 2 start, 3 finish
	d.Steps[1].Action.Until++
	shift(d, 2, 1)
	if err := sim.Check(sc, d); err != nil {
		t.Errorf("Check fails a jittered pause within its bounds: %v", err)
	}
	var div *sim.Divergence
	if err := sim.Replay(bytes.NewReader(sim.Encode(sc, d.Steps))); !errors.As(err, &div) || div.Index != 1 {
		t.Errorf("Replay of a pause 1ns off its random number = %v; want a divergence at step 1", err)
	}
}

// TestCheck_refuses: an invalid scenario or no result is an error of its
// own, not a violation.
func TestCheck_refuses(t *testing.T) {
	sc, res := simulate(t, `{"attempts":[{"outcome":"ok"}]}`)
	if err := sim.Check(sc, nil); err == nil {
		t.Error("Check passes a nil result")
	}
	bad := sc
	bad.Pause = -1
	if err := sim.Check(bad, res); err == nil || strings.Contains(err.Error(), "rule") {
		t.Errorf("Check of an invalid scenario: %v", err)
	}
}

func TestViolation_Error(t *testing.T) {
	for _, tc := range []struct {
		v    sim.Violation
		want string
	}{
		{sim.Violation{Rule: 6, Step: 3, At: 150 * msec, Msg: "m"}, "rule 6, step 3 at 150ms: m"},
		{sim.Violation{Rule: 8, Step: -1, Msg: "m"}, "rule 8, the whole call: m"},
		{sim.Violation{Rule: 0, Step: 2, At: 0, Msg: "m"}, "malformed result, step 2 at 0s: m"},
	} {
		if got := tc.v.Error(); got != tc.want {
			t.Errorf("%q; want %q", got, tc.want)
		}
	}
}

// TestTimelineAndSVG: on every handwritten scenario, the timeline fits
// TimelineWidth columns and has a line per step, and the picture is
// well-formed XML whose root is an svg element; with words and marks
// that say what happened.
func TestTimelineAndSVG(t *testing.T) {
	words := map[string][]string{ // in the timeline, per scenario name
		checkCases[1].name:  {"attempt 1 timed out (failed)", "attempt 3 succeeded", "the call returns the value 3"},
		checkCases[2].name:  {"attempt 1 timed out at 100ms; it returned 40ms later (failed); pause until 190ms"},
		checkCases[3].name:  {"attempt 1 timed out; abandoned (failed)", "the deadline cut attempt 3 off; abandoned (cut)"},
		checkCases[4].name:  {"attempt 1 succeeded 100ms after its cut at 200ms (a success still counts)"},
		checkCases[6].name:  {"the call ends: the pause would end at 300ms"},
		checkCases[9].name:  {"attempt 2 failed: sim: permanent error (rejected: not retried)"},
		checkCases[10].name: {"the call ends: GiveUp says stop", "Last sim.ErrGiveUp"},
		checkCases[11].name: {"the call ends: max tries (2) reached"},
		checkCases[12].name: {"the caller cancelled before the call began, so the operation is never called"},
		checkCases[13].name: {"the caller cancels during the pause; the call ends: cancelled by the caller"},
		checkCases[15].name: {"the caller cancels: attempt 2 is abandoned (cut)"},
		checkCases[17].name: {"pause 100ms, growth 3, max pause 250ms, max tries 4", "370ms  pause over; attempt 3 starts"},
		checkCases[18].name: {"#1: fails after 10ms (retryable), asking to retry after 200ms", "pause until 210ms"},
		checkCases[19].name: {"the call ends: the pause would end at 500ms", "Last sim.ErrRetryable with a delay hint of 400ms"},
		checkCases[20].name: {"pause 100ms, full jitter (seed 1), max tries 3", "pause until 86.868748ms"},
	}
	marks := map[string][]string{ // in the SVG
		checkCases[2].name:  {`fill="url(#hatch)"`, ">pause<", ">timed out<"},
		checkCases[3].name:  {`stroke-dasharray="4 3"`, ">deadline 250ms<"},
		checkCases[13].name: {">cancel 500ms<", ">pause (cancelled)<"},
	}
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			sc, res := simulate(t, tc.json)
			var tl bytes.Buffer
			if err := sim.Timeline(&tl, sc, res); err != nil {
				t.Fatal(err)
			}
			steps := 0
			for _, l := range strings.Split(tl.String(), "\n") {
				if len(l) > sim.TimelineWidth {
					t.Errorf("a line of %d columns: %q", len(l), l)
				}
				if stepLine.MatchString(l) {
					steps++
				}
			}
			if steps < len(res.Steps) {
				t.Errorf("%d step lines for %d steps:\n%s", steps, len(res.Steps), tl.String())
			}
			for _, w := range words[tc.name] {
				if !strings.Contains(tl.String(), w) {
					t.Errorf("the timeline lacks %q:\n%s", w, tl.String())
				}
			}

			var svg bytes.Buffer
			if err := sim.SVG(&svg, sc, res); err != nil {
				t.Fatal(err)
			}
			if err := wellFormedSVG(svg.Bytes()); err != nil {
				t.Errorf("%v\n%s", err, svg.String())
			}
			for _, m := range marks[tc.name] {
				if !strings.Contains(svg.String(), m) {
					t.Errorf("the SVG lacks %q", m)
				}
			}
		})
	}
}

// TestTimelineAndSVG_runaway: the steps of a runaway are elided in the
// middle of the timeline, and its attempts in the middle of the picture.
func TestTimelineAndSVG_runaway(t *testing.T) {
	sc, res := simulate(t, `{"attempt_timeout":"10ms","attempts":[{"outcome":"hang"}]}`)
	var tl, svg bytes.Buffer
	if err := sim.Timeline(&tl, sc, res); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(tl.String(), "\n"); n > 70 {
		t.Errorf("the timeline of a runaway has %d lines", n)
	}
	for _, w := range []string{"... 9950 steps not shown ...", "attempt 9999 timed out", "a runaway, stopped after 10000 steps"} {
		if !strings.Contains(tl.String(), w) {
			t.Errorf("the timeline lacks %q:\n%s", w, tl.String())
		}
	}
	if err := sim.SVG(&svg, sc, res); err != nil {
		t.Fatal(err)
	}
	if err := wellFormedSVG(svg.Bytes()); err != nil {
		t.Error(err)
	}
	if !strings.Contains(svg.String(), "9977 more attempts") || svg.Len() > 64<<10 {
		t.Errorf("the SVG of a runaway (%d bytes) does not elide its attempts", svg.Len())
	}
}

// stepLine matches a timeline's line of a step: its time, two spaces, words.
var stepLine = regexp.MustCompile(`^ +[0-9][0-9a-zµ.]*  [^ ]`)

// wellFormedSVG says whether b is well-formed XML whose root is svg.
func wellFormedSVG(b []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("the SVG is not well-formed XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return fmt.Errorf("the root element is %q; want svg", root)
	}
	return nil
}

// TestCheck_exact: Check fed results broken in known ways reports exactly
// these violations (rule, step, time and message), in this order: no
// fewer (a rule it misses), and no more (a rule it breaks itself).
func TestCheck_exact(t *testing.T) {
	for _, tc := range []struct {
		name  string
		json  string
		spoil func(t *testing.T, sc sim.Scenario, res *sim.Result) *sim.Result
		want  []sim.Violation
	}{
		{"the whole call makes one attempt more than max_tries",
			`{"attempt_timeout":"100ms","max_tries":3,"attempts":[{"outcome":"hang"}]}`,
			func(t *testing.T, sc sim.Scenario, _ *sim.Result) *sim.Result {
				// The call as it runs with one more try allowed: steps
				// 0 start 1, 1 start 2, 2 start 3, 3 start 4 (which
				// max_tries 3 forbids), 4 finish with ErrMaxTries.
				sc.MaxTries++
				res, err := sim.Run(sc)
				if err != nil {
					t.Fatal(err)
				}
				return res
			},
			[]sim.Violation{
				{Rule: 8, Step: 3, At: 300 * msec, Msg: "attempt 3 timed out at 300ms, an always retried failure (rules 2, 3); it was try 3 of max_tries 3, so the call ends with ErrMaxTries (GiveUp is not asked): want finish, returning Reason ErrMaxTries, Last ErrAttemptTimeout, Attempts 3, Elapsed 300ms (outcome failed); got start attempt 4, cut at 400ms by the attempt timeout (outcome failed)"},
				{Rule: 8, Step: 3, At: 300 * msec, Msg: "attempt 4 starts, beyond max_tries 3"},
			}},
		{"a wrong Elapsed in the last step",
			`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause until 20ms, 2 start 2, 3 finish at 30ms
				last := &d.Steps[3].Action
				e := *last.Err.(*backoff.Error)
				e.Elapsed = 25 * msec
				last.Err = &e
				return d
			},
			[]sim.Violation{
				{Rule: 8, Step: 3, At: 30 * msec, Msg: "attempt 2 failed with sim.ErrRetryable, which is retried; it was try 2 of max_tries 2, so the call ends with ErrMaxTries (GiveUp is not asked): want finish, returning Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 30ms (outcome failed); got finish, returning Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 25ms (outcome failed)"},
				{Rule: 0, Step: 3, At: 30 * msec, Msg: "the call returned Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 30ms, but its last step says Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 25ms"},
			}},
		{"a wrong Elapsed in the last step and the result alike",
			`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res)
				d.Err.(*backoff.Error).Elapsed = 25 * msec // the last step's error too
				return d
			},
			[]sim.Violation{
				{Rule: 8, Step: 3, At: 30 * msec, Msg: "attempt 2 failed with sim.ErrRetryable, which is retried; it was try 2 of max_tries 2, so the call ends with ErrMaxTries (GiveUp is not asked): want finish, returning Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 30ms (outcome failed); got finish, returning Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 25ms (outcome failed)"},
				{Rule: 10, Step: -1, At: 0, Msg: "the call's error says it took 25ms; it ended at 30ms"},
			}},
		{"an event that reports the caller's cancel before it happened",
			`{"pause":"1s","cancel_at":"500ms","attempts":[{"takes":"100ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				// The call ends at 100ms, when attempt 1 fails, as if the
				// caller had cancelled then; it cancels at 500ms.
				// Steps: 0 start 1, 1 pause until 1.1s, 2 cancel at 500ms.
				// Last is nil: the attempt's error comes with the cancel.
				d := doctor(res)
				end := &backoff.Error{Reason: sim.ErrCanceled, Attempts: 1, Elapsed: 100 * msec}
				d.Steps = d.Steps[:2]
				d.Steps[1].Event.Cause = sim.ErrCanceled
				d.Steps[1].Action = backoff.Action{Kind: backoff.ActionFinish, Outcome: backoff.OutcomeCut, Err: end}
				d.Err = end
				return d
			},
			[]sim.Violation{
				{Rule: 9, Step: 1, At: 100 * msec, Msg: "the event says the caller has cancelled, but it cancels at 500ms"},
			}},
		{"an equal-jitter pause 1ns under its lower bound, for an odd base",
			// b = 1.000001ms: b/2 is 500.0005µs, so the shortest pause
			// is 500.001µs; the call pauses 500µs.
			`{"pause":"1.000001ms","jitter":"equal","seed":2,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause, 2 start 2, 3 finish
				delta := 500*time.Microsecond - d.Steps[1].Action.Until
				d.Steps[1].Action.Until += delta
				shift(d, 2, delta)
				return d
			},
			[]sim.Violation{
				{Rule: 6, Step: 1, At: 0, Msg: "attempt 1 failed with sim.ErrRetryable, which is retried; a pause within [500.001µs, 1.000001ms] (pause 1.000001ms; equal jitter: within [500.001µs, 1.000001ms]), so the next attempt is 500.001µs to 1.000001ms later: want pause until 500.001µs to 1.000001ms, then attempt 2 (outcome failed); got pause until 500µs, then attempt 2 (outcome failed)"},
				{Rule: 6, Step: 2, At: 500 * time.Microsecond, Msg: "the pause after attempt 1 is 500µs; want within [500.001µs, 1.000001ms], the bounds of equal jitter of 1.000001ms"},
			}},
		{"an attempt starts at the deadline",
			`{"deadline":"100ms","pause":"50ms","max_tries":2,"attempts":[{"takes":"50ms","outcome":"retryable"}]}`,
			func(t *testing.T, sc sim.Scenario, _ *sim.Result) *sim.Result {
				// The call as it runs without the deadline: attempt 2
				// starts at 100ms, when the deadline has passed.
				sc.Deadline = 0
				return run(t, sc)
			},
			[]sim.Violation{
				{Rule: 4, Step: 0, At: 0, Msg: "attempt 1 starts at 0s, so its context is done at 100ms by the deadline; got never (no time limit)"},
				{Rule: 5, Step: 1, At: 50 * msec, Msg: "attempt 1 failed with sim.ErrRetryable, which is retried; a pause of 50ms would end at 100ms, at or after the deadline 100ms, so the call ends at once: want finish, returning Reason ErrDeadline, Last sim.ErrRetryable, Attempts 1, Elapsed 50ms (outcome failed); got pause until 100ms, then attempt 2 (outcome failed)"},
				{Rule: 4, Step: 2, At: 100 * msec, Msg: "the pause's timer fired late, at 100ms, at or after the deadline 100ms, so the call ends there: want finish, returning Reason ErrDeadline, Last sim.ErrRetryable, Attempts 1, Elapsed 100ms; got start attempt 2, with no time limit"},
				{Rule: 4, Step: 2, At: 100 * msec, Msg: "attempt 2 starts at 100ms, at or after the deadline 100ms"},
				{Rule: 3, Step: 3, At: 150 * msec, Msg: "attempt 2 (script: retryable after 50ms) started at 100ms; its cut at 100ms ends its context, and it returns at once: want attempt 2 returning context.DeadlineExceeded at 100ms; got attempt 2 returning sim.ErrRetryable at 150ms"},
				{Rule: 4, Step: 3, At: 150 * msec, Msg: "attempt 2 was cut off by the deadline, so the call ends with ErrDeadline, keeping Last: want finish, returning Reason ErrDeadline, Last sim.ErrRetryable, Attempts 2, Elapsed 150ms (outcome cut); got finish, returning Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 2, Elapsed 150ms (outcome failed)"},
				{Rule: 4, Step: 3, At: 150 * msec, Msg: "the call ends at 150ms, after the deadline 100ms, and no cooperative attempt returned late"},
			}},
		{"the first attempt starts after a pause",
			`{"attempts":[{"takes":"10ms","outcome":"ok"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 success at 10ms
				d.Steps = []sim.Step{
					{Event: res.Steps[0].Event, Action: backoff.Action{Kind: backoff.ActionPause, Attempt: 1, Until: 10 * msec}},
					{Event: backoff.Event{Kind: backoff.EventFired, At: 10 * msec, Attempt: 1}, Action: res.Steps[0].Action},
					res.Steps[1],
				}
				shift(d, 2, 10*msec)
				d.Steps[2].Action.Since = 10 * msec
				return d
			},
			[]sim.Violation{
				{Rule: 6, Step: 0, At: 0, Msg: "the first attempt starts at once, with no pause before it: want start attempt 1, with no time limit; got pause until 10ms, then attempt 1"},
				{Rule: 6, Step: 1, At: 10 * msec, Msg: "the first attempt starts at 10ms; want 0s, with no pause before it"},
			}},
		{"the call ends at a pause's end",
			`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause until 20ms, 2 start 2, 3 finish
				end := &backoff.Error{Reason: backoff.ErrMaxTries, Last: sim.ErrRetryable, Attempts: 1, Elapsed: 20 * msec}
				d.Steps = d.Steps[:3]
				d.Steps[2].Action = backoff.Action{Kind: backoff.ActionFinish, Outcome: backoff.OutcomeNone, Err: end}
				d.Err = end
				return d
			},
			[]sim.Violation{
				{Rule: 6, Step: 2, At: 20 * msec, Msg: "the pause is over: want start attempt 2, with no time limit; got finish, returning Reason ErrMaxTries, Last sim.ErrRetryable, Attempts 1, Elapsed 20ms"},
				{Rule: 6, Step: 2, At: 20 * msec, Msg: "the call ends at 20ms, not when its last attempt ended (10ms)"},
			}},
		{"an event with another cause than the caller's",
			`{"pause":"1s","cancel_at":"500ms","attempts":[{"takes":"100ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause until 1.1s, 2 cancel at 500ms
				d.Steps[2].Event.Cause = context.DeadlineExceeded
				return d
			},
			[]sim.Violation{
				{Rule: 9, Step: 2, At: 500 * msec, Msg: "the event's cause is context.DeadlineExceeded; the caller's context ends only with sim.ErrCanceled"},
			}},
		{"a decorrelated pause past max_pause",
			`{"pause":"100ms","max_pause":"150ms","jitter":"decorrelated","seed":1,"max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause, 2 start 2, 3 finish
				over := 160*msec - d.Steps[1].Action.Until
				d.Steps[1].Action.Until += over
				shift(d, 2, over)
				return d
			},
			[]sim.Violation{
				{Rule: 6, Step: 1, At: 0, Msg: "attempt 1 failed with sim.ErrRetryable, which is retried; a pause within [100ms, 150ms] (decorrelated jitter: within [100ms, 150ms], from pause 100ms to 3 times the previous pause, capped at max_pause 150ms), so the next attempt is 100ms to 150ms later: want pause until 100ms to 150ms, then attempt 2 (outcome failed); got pause until 160ms, then attempt 2 (outcome failed)"},
				{Rule: 6, Step: 2, At: 160 * msec, Msg: "the pause after attempt 1 is 160ms, longer than max_pause 150ms, and no delay hint asked for it"},
			}},
		{"a wrong Since",
			`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause until 20ms, 2 start 2 at 20ms, 3 finish at 30ms
				d.Steps[3].Action.Since = 10 * msec
				return d
			},
			[]sim.Violation{
				{Rule: 3, Step: 3, At: 30 * msec, Msg: "the action says the attempt that ended here began at 10ms (Since); it began at 20ms"},
			}},
		{"a start with the wrong cut",
			`{"attempt_timeout":"100ms","deadline":"1s","attempts":[{"takes":"10ms","outcome":"ok"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1 until 100ms, 1 success
				d.Steps[0].Action.Cut = backoff.ErrDeadline
				return d
			},
			[]sim.Violation{
				{Rule: 2, Step: 0, At: 0, Msg: "attempt 1 starts at 0s, so its context is done at 100ms by the attempt timeout; got 100ms by the deadline"},
			}},
		{"time going back",
			`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause until 20ms, 2 start 2 at 20ms, 3 finish at 30ms
				d.Steps[2].Event.At = 5 * msec
				return d
			},
			[]sim.Violation{
				{Rule: 0, Step: 2, At: 5 * msec, Msg: "time goes back, from 10ms at the step before"},
				{Rule: 6, Step: 2, At: 5 * msec, Msg: "the pause before attempt 2 ends at 20ms: want the timer of attempt 2 firing at 20ms; got the timer of attempt 2 firing at 5ms"},
				{Rule: 6, Step: 2, At: 5 * msec, Msg: "the pause after attempt 1 is -5ms, shorter than the delay hint 0s its error carries"},
				{Rule: 3, Step: 3, At: 30 * msec, Msg: "attempt 2 (script: retryable after 10ms) started at 5ms returns by itself at 15ms: want attempt 2 returning sim.ErrRetryable at 15ms; got attempt 2 returning sim.ErrRetryable at 30ms"},
				{Rule: 3, Step: 3, At: 30 * msec, Msg: "the action says the attempt that ended here began at 20ms (Since); it began at 5ms"},
			}},
		{"another delay hint in an event",
			`{"pause":"10ms","max_tries":2,"attempts":[{"takes":"10ms","outcome":"retryable","retry_after":"200ms"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause until 210ms, 2 start 2, 3 finish
				d.Steps[1].Event.Err = backoff.RetryAfter(sim.ErrRetryable, 100*msec)
				return d
			},
			[]sim.Violation{
				{Rule: 3, Step: 1, At: 10 * msec, Msg: "attempt 1 (script: retryable after 10ms) started at 0s returns by itself at 10ms: want attempt 1 returning sim.ErrRetryable with a delay hint of 200ms at 10ms; got attempt 1 returning sim.ErrRetryable with a delay hint of 100ms at 10ms"},
			}},
		{"a runaway cut short",
			`{"pause":"10ms","max_tries":2,"attempts":[{"outcome":"retryable"}]}`,
			func(t *testing.T, _ sim.Scenario, res *sim.Result) *sim.Result {
				d := doctor(res) // steps: 0 start 1, 1 pause, 2 start 2, 3 finish
				d.Steps = d.Steps[:3]
				d.Runaway, d.Err, d.Value = true, nil, 0
				return d
			},
			[]sim.Violation{
				{Rule: 0, Step: -1, At: 0, Msg: "Runaway is set after 3 steps; the simulator stops at MaxSteps (10000)"},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc, res := simulate(t, tc.json)
			if err := sim.Check(sc, res); err != nil {
				t.Fatalf("the result before spoiling fails already: %v", err)
			}
			spoiled := tc.spoil(t, sc, res)
			var got []sim.Violation
			for _, v := range violations(t, sim.Check(sc, spoiled)) {
				got = append(got, *v)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Check reports\n%s\nwant\n%s\nof the steps\n%s", listViolations(got), listViolations(tc.want), sim.Encode(sc, spoiled.Steps))
			}
		})
	}
}

// run runs sc.
func run(t *testing.T, sc sim.Scenario) *sim.Result {
	t.Helper()
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// listViolations lists vs one a line, as Go values.
func listViolations(vs []sim.Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "\t{Rule: %d, Step: %d, At: %d, Msg: %q},\n", v.Rule, v.Step, int64(v.At), v.Msg)
	}
	if len(vs) == 0 {
		b.WriteString("\t(none)\n")
	}
	return b.String()
}
