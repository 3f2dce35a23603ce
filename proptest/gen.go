// Package proptest holds pgregory.net/rapid generators for backoff
// policies and simulated scenarios, for property tests here and in other
// projects, and the property tests that show the rules of backoff hold
// together.
//
// Start with [Scenario]: it draws a call to simulate as a structure (the
// policy's numbers, a script per attempt, a cancel), so that a failing
// case shrinks to a small one. Durations are drawn in steps of [Grain] from
// small ranges, so that exact ties (an attempt ending at its timeout, a
// pause ending at the deadline) happen often. The pause fields are drawn
// too: growth among a few values, a cap, each kind of jitter with a seed,
// and now and then a delay hint on an attempt's error.
package proptest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
	"pgregory.net/rapid"
)

// Grain is the unit of drawn durations: every duration the generators
// draw is a multiple of it, so that exact ties are frequent.
const Grain = 10 * time.Millisecond

// Duration returns a generator of durations from 0 to n steps.
func Duration(n int) *rapid.Generator[time.Duration] {
	return rapid.Map(rapid.IntRange(0, n), func(k int) time.Duration { return time.Duration(k) * Grain })
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

// growths are the growths drawn: constant (0 and 1) and growing.
var growths = []float64{0, 1, 1.5, 2, 10}

// jitters are the names of jitter a scenario is drawn with ("" is none).
var jitters = []string{"", "none", "full", "equal", "decorrelated"}

// Policy returns a generator of valid policies with every field drawn,
// zero and nil values included (Clock, Observer and Budget are always
// nil: set them as the test needs). A policy with a Jitter gets a Rand of
// its own, a PCG of a drawn seed that is safe for concurrent use, so that
// its pauses are reproducible; copies of the policy share it.
func Policy() *rapid.Generator[backoff.Policy] {
	predicates := []func(error) bool{nil, backoff.AnyError, backoff.On(ErrA), backoff.On(ErrB)}
	pick := rapid.IntRange(0, len(predicates)-1)
	return rapid.Custom(func(t *rapid.T) backoff.Policy {
		p := backoff.Policy{
			AttemptTimeout: Duration(30).Draw(t, "AttemptTimeout"),
			Deadline:       Duration(60).Draw(t, "Deadline"),
			Pause:          Duration(10).Draw(t, "Pause"),
			MaxTries:       rapid.IntRange(0, 6).Draw(t, "MaxTries"),
			RetryIf:        predicates[pick.Draw(t, "RetryIf")],
			GiveUp:         predicates[pick.Draw(t, "GiveUp")],
			Growth:         rapid.SampledFrom(growths).Draw(t, "Growth"),
			MaxPause:       Duration(20).Draw(t, "MaxPause"),
			Jitter:         backoff.Jitter(rapid.IntRange(0, 3).Draw(t, "Jitter")),
		}
		MendPolicy(&p)
		if p.Jitter != backoff.NoJitter {
			p.Rand = &lockedPCG{pcg: *rand.NewPCG(rapid.Uint64().Draw(t, "seed"), sim.SeedStream)}
		}
		return p
	})
}

// MendPolicy makes a drawn policy valid the way Policy does, rather than
// filtering it: it drops what backoff.Policy.Validate refuses as settings
// that would be ignored (growth with decorrelated jitter; jitter but
// decorrelated, growth and the cap with a zero pause; a GiveUp when
// nothing is retried), and bounds with MaxTries a RetryIf that nothing
// else bounds.
func MendPolicy(p *backoff.Policy) {
	if p.Jitter == backoff.DecorrelatedJitter || p.Pause == 0 {
		p.Growth = min(p.Growth, 1)
	}
	if p.Pause == 0 && p.Jitter != backoff.DecorrelatedJitter {
		p.Jitter, p.MaxPause = backoff.NoJitter, 0
	}
	if p.RetryIf == nil && p.AttemptTimeout == 0 {
		p.GiveUp = nil
	}
	if p.RetryIf != nil && p.Pause == 0 && p.MaxTries == 0 && p.Deadline == 0 && p.Budget == nil {
		p.MaxTries = 6
	}
}

// lockedPCG is a PCG safe for concurrent use.
type lockedPCG struct {
	mu  sync.Mutex
	pcg rand.PCG
}

func (r *lockedPCG) Uint64() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pcg.Uint64()
}

// Attempt returns a generator of attempt scripts. Half the errors that
// are retried carry a delay hint (RetryAfter).
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
			a.Late = sim.Duration(rapid.IntRange(1, 10).Draw(t, "late")) * sim.Duration(Grain)
		}
		if (a.Outcome == sim.Retryable || a.Outcome == sim.GiveUp) && rapid.Bool().Draw(t, "hinted") {
			a.RetryAfter = simDuration(30).Draw(t, "retry_after")
		}
		return a
	})
}

// Scenario returns a generator of valid scenarios: a policy's numbers
// (the pause fields and a seed included), one to six scripted attempts,
// a cancel one time in three, and a caller's deadline one time in three. Draws that Validate would refuse, or
// that would retry forever, are mended rather than filtered (see Mend),
// so that every draw counts and shrinking stays smooth.
func Scenario() *rapid.Generator[sim.Scenario] {
	return rapid.Custom(func(t *rapid.T) sim.Scenario {
		sc := sim.Scenario{
			AttemptTimeout: simDuration(30).Draw(t, "attempt_timeout"),
			Deadline:       simDuration(60).Draw(t, "deadline"),
			Pause:          simDuration(10).Draw(t, "pause"),
			MaxTries:       rapid.IntRange(0, 6).Draw(t, "max_tries"),
			Abandon:        rapid.Bool().Draw(t, "abandon"),
			Attempts:       rapid.SliceOfN(Attempt(), 1, 6).Draw(t, "attempts"),
			Growth:         rapid.SampledFrom(growths).Draw(t, "growth"),
			MaxPause:       simDuration(20).Draw(t, "max_pause"),
			Jitter:         rapid.SampledFrom(jitters).Draw(t, "jitter"),
			Seed:           rapid.Uint64().Draw(t, "seed"),
		}
		if rapid.IntRange(0, 2).Draw(t, "cancels") == 0 {
			c := simDuration(60).Draw(t, "cancel_at")
			sc.CancelAt = &c
		}
		if rapid.IntRange(0, 2).Draw(t, "caller deadlines") == 0 {
			sc.CallerDeadline = sim.Duration(rapid.IntRange(1, 60).Draw(t, "caller_deadline")) * sim.Duration(Grain)
		}
		Mend(&sc)
		return sc
	})
}

// Mend makes a drawn scenario valid, and finite, the way Scenario does: a
// hang that could never end gets a deadline; without Abandon a hang
// reacts to its context; a policy with no limit on its tries, its time or
// by a cancel gets MaxTries, and so does one that retries errors with no
// pause and no limit of its own (Validate refuses it even when a cancel
// would end it); and where zero-time failures with a zero
// pause could repeat forever at one instant, the last one takes a step.
// Of the pause fields: a delay hint is kept only on an error that is
// retried; growth is dropped with decorrelated jitter, and so are growth,
// jitter and the cap with a zero pause, where they mean nothing (see
// sim.Scenario.Validate); and pauses that could grow past
// sim.MaxDuration (an estimate from above) get a cap.
func Mend(sc *sim.Scenario) {
	if sc.CancelAt != nil && *sc.CancelAt == sc.CallerDeadline {
		sc.CallerDeadline += sim.Duration(Grain) // the context ends once
	}
	if sc.MaxTries == 0 && sc.Deadline == 0 &&
		(sc.CancelAt == nil && sc.CallerDeadline == 0 || sc.Pause == 0 && sc.BudgetAllows == nil && retries(sc)) {
		sc.MaxTries = len(sc.Attempts) + 1
	}
	if last := &sc.Attempts[len(sc.Attempts)-1]; sc.MaxTries == 0 && sc.Pause == 0 && last.Takes == 0 && last.Outcome != sim.Hang {
		last.Takes = sim.Duration(Grain)
	}
	limited := sc.AttemptTimeout > 0 || sc.Deadline > 0 || sc.CancelAt != nil || sc.CallerDeadline > 0
	for i := range sc.Attempts {
		a := &sc.Attempts[i]
		if a.Outcome != sim.Hang {
			continue
		}
		if !limited {
			sc.Deadline, limited = sim.Duration(60*Grain), true
		}
		if a.OnCancel == sim.Ignore && !sc.Abandon {
			a.OnCancel = sim.AtOnce
		}
	}
	mendPauses(sc)
}

// retries reports whether an attempt of sc fails with an error that is
// retried: only then does its policy have a RetryIf.
func retries(sc *sim.Scenario) bool {
	for _, a := range sc.Attempts {
		if a.Outcome == sim.Retryable || a.Outcome == sim.GiveUp {
			return true
		}
	}
	return false
}

// mendPauses is Mend of the pause fields.
func mendPauses(sc *sim.Scenario) {
	var hint sim.Duration
	for i := range sc.Attempts {
		a := &sc.Attempts[i]
		if a.Outcome != sim.Retryable && a.Outcome != sim.GiveUp {
			a.RetryAfter = 0
		}
		hint = max(hint, a.RetryAfter)
	}
	decorrelated := sc.Jitter == "decorrelated"
	if decorrelated || sc.Pause == 0 {
		sc.Growth = min(sc.Growth, 1)
	}
	if sc.Pause == 0 && !(decorrelated && hint > 0) {
		if sc.Jitter != "none" {
			sc.Jitter = ""
		}
		sc.MaxPause, decorrelated = 0, false
	}
	if (sc.Growth > 1 || decorrelated) && sc.MaxPause == 0 && sc.Deadline == 0 {
		// No pause after failure k exceeds max(Pause, hint) × max(Growth,
		// 3)^(k-1), and k < MaxTries.
		grows := math.Max(float64(sc.Pause), float64(hint)) * math.Pow(math.Max(sc.Growth, 3), float64(sc.MaxTries-2))
		if sc.MaxTries == 0 || !(grows <= float64(sim.MaxDuration)) {
			sc.MaxPause = max(sc.Pause, sim.Duration(20*Grain))
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
