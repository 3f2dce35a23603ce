package sim_test

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff/sim"
)

// TestRun_hugeMaxTries: no max_tries makes Run panic sizing the steps (it
// once overflowed from 2^62 on). With no pause, an attempt is a step: a
// call of MaxSteps tries or more runs away.
func TestRun_hugeMaxTries(t *testing.T) {
	for _, n := range []int{sim.MaxSteps/2 - 1, sim.MaxSteps/2 + 1, sim.MaxSteps - 1, sim.MaxSteps, 1 << 62, 1<<62 + 1, math.MaxInt64 - 1, math.MaxInt64} {
		sc := sim.Scenario{MaxTries: n, Attempts: []sim.Attempt{{Outcome: sim.Retryable}}}
		res, err := sim.Run(sc)
		if err != nil {
			t.Fatalf("max_tries %d: %v", n, err)
		}
		if cap(res.Steps) > sim.MaxSteps {
			t.Errorf("max_tries %d: room for %d steps; want at most %d", n, cap(res.Steps), sim.MaxSteps)
		}
		if runs := n >= sim.MaxSteps; res.Runaway != runs || runs && len(res.Steps) != sim.MaxSteps {
			t.Errorf("max_tries %d: runaway %t after %d steps; want %t", n, res.Runaway, len(res.Steps), runs)
		}
	}
}

// TestTimeline_runaway says what the limit is and what ran into it:
// attempts without end at one instant, or a call longer than the
// simulator follows; exact words.
func TestTimeline_runaway(t *testing.T) {
	// A script too long to follow to its end (it once read as attempts
	// without end at one instant).
	long := sim.Scenario{Pause: sim.Duration(time.Millisecond), Attempts: make([]sim.Attempt, 20_000)}
	for i := range long.Attempts {
		long.Attempts[i] = sim.Attempt{Outcome: sim.Retryable}
	}
	long.Attempts[len(long.Attempts)-1].Outcome = sim.OK
	const hour = sim.Duration(time.Hour)
	for _, tc := range []struct {
		name string
		sc   sim.Scenario
		want string
	}{
		{"at one instant", sim.Scenario{Deadline: hour, Attempts: []sim.Attempt{{Outcome: sim.Retryable}}},
			"result    none: a runaway, stopped after 10000 steps (sim.MaxSteps, the simulator's limit) without\n" +
				"            finishing: 10000 attempts, all at 0s, each failing at once with no pause before the\n" +
				"            next, which makes attempts without end (set a pause or max_tries)\n"},
		{"at one instant, from 2s on", sim.Scenario{Deadline: hour, Attempts: []sim.Attempt{{Takes: sim.Duration(2 * time.Second), Outcome: sim.Retryable}, {Outcome: sim.Retryable}}},
			"result    none: a runaway, stopped after 10000 steps (sim.MaxSteps, the simulator's limit) without\n" +
				"            finishing: 10000 attempts, the last 9999 of them all at 2s, each failing at once with no\n" +
				"            pause before the next, which makes attempts without end (set a pause or max_tries)\n"},
		{"unbounded", sim.Scenario{AttemptTimeout: sim.Duration(time.Second), Attempts: []sim.Attempt{{Outcome: sim.Hang}}},
			"result    none: a runaway, stopped after 10000 steps (sim.MaxSteps, the simulator's limit) without\n" +
				"            finishing: 10000 attempts in 2h46m39s, and nothing bounds the retries (no max_tries,\n" +
				"            deadline, cancel_at or caller_deadline, and the script's last attempt, which repeats,\n" +
				"            hangs), so attempts go on without end\n"},
		{"20000 attempts 1ms apart", long,
			"result    none: a runaway, stopped after 10000 steps (sim.MaxSteps, the simulator's limit) without\n" +
				"            finishing: 5000 attempts in 4.999s, and the call goes on longer than the simulator\n" +
				"            follows one\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := sim.Run(tc.sc)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := sim.Timeline(&b, tc.sc, res); err != nil {
				t.Fatal(err)
			}
			_, got, _ := strings.Cut(b.String(), "\n\nresult")
			if got = "result" + got; got != tc.want {
				t.Errorf("the timeline ends\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}
