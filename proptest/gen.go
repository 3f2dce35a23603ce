// Package proptest holds pgregory.net/rapid generators for backoff
// policies and simulated scenarios, for property tests here and in other
// projects, and the property tests that show the rules of backoff hold
// together.
//
// Start with [Scenario]: it draws a call to simulate as a structure (the
// policy's numbers, a script per attempt, a cancel), so that a failing
// case shrinks to a small one. Durations are drawn in steps of 10ms from
// small ranges, so that exact ties (an attempt ending at its timeout, a
// pause ending at the deadline) happen often.
package proptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
	"pgregory.net/rapid"
)

// Step is the grain of drawn durations.
const Step = 10 * time.Millisecond

// Duration returns a generator of durations from 0 to n steps.
func Duration(n int) *rapid.Generator[time.Duration] {
	return rapid.Map(rapid.IntRange(0, n), func(k int) time.Duration { return time.Duration(k) * Step })
}

func simDuration(n int) *rapid.Generator[sim.Duration] {
	return rapid.Map(Duration(n), func(d time.Duration) sim.Duration { return sim.Duration(d) })
}

// ErrA and ErrB are the errors drawn policies classify: RetryIf and GiveUp
// are drawn among nil, AnyError, On(ErrA) and On(ErrB).
var (
	ErrA = errors.New("proptest: error A")
	ErrB = errors.New("proptest: error B")
)

// Policy returns a generator of valid policies with every field drawn,
// zero and nil values included (Clock and Observer are always nil: set
// them as the test needs).
func Policy() *rapid.Generator[backoff.Policy] {
	predicates := []func(error) bool{nil, backoff.AnyError, backoff.On(ErrA), backoff.On(ErrB)}
	pick := rapid.IntRange(0, len(predicates)-1)
	return rapid.Custom(func(t *rapid.T) backoff.Policy {
		return backoff.Policy{
			AttemptTimeout: Duration(30).Draw(t, "AttemptTimeout"),
			Deadline:       Duration(60).Draw(t, "Deadline"),
			Pause:          Duration(10).Draw(t, "Pause"),
			MaxTries:       rapid.IntRange(0, 6).Draw(t, "MaxTries"),
			RetryIf:        predicates[pick.Draw(t, "RetryIf")],
			GiveUp:         predicates[pick.Draw(t, "GiveUp")],
			Abandon:        rapid.Bool().Draw(t, "Abandon"),
		}
	})
}

// Attempt returns a generator of attempt scripts.
func Attempt() *rapid.Generator[sim.Attempt] {
	kinds := rapid.SampledFrom([]sim.Kind{sim.Retryable, sim.OK, sim.NotRetryable, sim.GiveUp, sim.Hang})
	reactions := rapid.SampledFrom([]sim.Reaction{sim.AtOnce, sim.Late, sim.Ignore})
	return rapid.Custom(func(t *rapid.T) sim.Attempt {
		a := sim.Attempt{Outcome: kinds.Draw(t, "outcome")}
		if a.Outcome != sim.Hang {
			a.Takes = simDuration(30).Draw(t, "takes")
		}
		a.OnCancel = reactions.Draw(t, "on_cancel")
		if a.OnCancel == sim.Late {
			a.Late = sim.Duration(rapid.IntRange(1, 10).Draw(t, "late")) * sim.Duration(Step)
		}
		return a
	})
}

// Scenario returns a generator of valid scenarios: a policy's numbers,
// one to six scripted attempts, and a cancel one time in three. Draws that
// Validate would refuse, or that would retry forever, are mended rather
// than filtered (see Mend), so that every draw counts and shrinking stays
// smooth.
func Scenario() *rapid.Generator[sim.Scenario] {
	return rapid.Custom(func(t *rapid.T) sim.Scenario {
		sc := sim.Scenario{
			AttemptTimeout: simDuration(30).Draw(t, "attempt_timeout"),
			Deadline:       simDuration(60).Draw(t, "deadline"),
			Pause:          simDuration(10).Draw(t, "pause"),
			MaxTries:       rapid.IntRange(0, 6).Draw(t, "max_tries"),
			Abandon:        rapid.Bool().Draw(t, "abandon"),
			Attempts:       rapid.SliceOfN(Attempt(), 1, 6).Draw(t, "attempts"),
		}
		if rapid.IntRange(0, 2).Draw(t, "cancels") == 0 {
			c := simDuration(60).Draw(t, "cancel_at")
			sc.CancelAt = &c
		}
		Mend(&sc)
		return sc
	})
}

// Mend makes a drawn scenario valid, and finite, the way Scenario does: a
// hang that could never end gets a deadline; without Abandon a hang
// reacts to its context; a policy with no limit on its tries, its time or
// by a cancel gets MaxTries; and where zero-time failures with a zero
// pause could repeat forever at one instant, the last one takes a step.
func Mend(sc *sim.Scenario) {
	if sc.MaxTries == 0 && sc.Deadline == 0 && sc.CancelAt == nil {
		sc.MaxTries = len(sc.Attempts) + 1
	}
	if last := &sc.Attempts[len(sc.Attempts)-1]; sc.MaxTries == 0 && sc.Pause == 0 && last.Takes == 0 && last.Outcome != sim.Hang {
		last.Takes = sim.Duration(Step)
	}
	limited := sc.AttemptTimeout > 0 || sc.Deadline > 0 || sc.CancelAt != nil
	for i := range sc.Attempts {
		a := &sc.Attempts[i]
		if a.Outcome != sim.Hang {
			continue
		}
		if !limited {
			sc.Deadline, limited = sim.Duration(60*Step), true
		}
		if a.OnCancel == sim.Ignore && !sc.Abandon {
			a.OnCancel = sim.AtOnce
		}
	}
}

// Save writes sc as JSON to a file named after the test in the system's
// temporary directory, and returns a command that reproduces the case
// with backoffsim. A property calls it when it fails; rapid runs the
// shrunk case last, so the file holds the smallest failing scenario.
func Save(name string, sc sim.Scenario) (cmd string) {
	dir := filepath.Join(os.TempDir(), "backoff-proptest")
	path := filepath.Join(dir, strings.ReplaceAll(name, "/", "_")+".json")
	b, err := json.MarshalIndent(sc, "", "  ")
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(path, append(b, '\n'), 0o644)
	}
	if err != nil {
		return fmt.Sprintf("(could not save the scenario: %v)\n%s", err, b)
	}
	return "go run ./cmd/backoffsim check " + path
}
