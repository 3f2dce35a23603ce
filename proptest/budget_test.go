package proptest_test

// The retry budget's promise, as a property: over any stretch of time
// [t1, t2], the retries decided in it are at most
//
//	Burst + Ratio × (calls begun in [t1, t2]) + PerSecond × (t2 − t1)/1s
//
// A retry is "decided at t" by a step whose Action has Outcome Failed and
// Kind Pause or Start (the core spends a token there). It is enough to
// check the windows whose ends are both retry decisions: any window with
// retries in it can shrink to its first and last retry, keeping them all
// while the bound only gets smaller. The bound is allowed a relative slack
// of 1e-9, for the rounding of float64 products (Ratio × a token, and
// PerSecond × a time, computed in the Budget and here).
//
// TestProp_budgetLoad checks it on random loads simulated by sim/load
// (load.Simulate: many calls overlapping in virtual time, ties
// included); TestProp_budgetByHand drives several backoff.Executions
// sharing one Budget directly, interleaved at random. Each runs rapid's
// check count (1,000; 100 under -race: see TestMain).

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/proptest"
	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/load"
	"pgregory.net/rapid"
)

// budgetSlack is the relative slack the bound is allowed, for float
// rounding.
const budgetSlack = 1e-9

// budgetNumbers returns a generator of a budget's numbers: round ones
// (where exact ties with the bound happen) and arbitrary ones.
func budgetNumbers() *rapid.Generator[load.Budget] {
	return rapid.Custom(func(t *rapid.T) load.Budget {
		return load.Budget{
			Ratio: rapid.OneOf(rapid.SampledFrom([]float64{0, 0.1, 0.25, 0.5, 1, 2}),
				rapid.Float64Range(0, 2)).Draw(t, "ratio"),
			PerSecond: rapid.OneOf(rapid.SampledFrom([]float64{0, 1, 10, 100}),
				rapid.Float64Range(0, 100)).Draw(t, "per_second"),
			Burst: rapid.IntRange(1, 5).Draw(t, "burst"),
		}
	})
}

// budgetWindows checks the bound on every window whose ends are retry
// decisions: retries and begun are the instants of the retries decided
// and of the calls begun. It returns what does not hold, or nil.
func budgetWindows(b load.Budget, retries, begun []time.Duration) error {
	retries, begun = slices.Sorted(slices.Values(retries)), slices.Sorted(slices.Values(begun))
	for i := 0; i < len(retries); i++ {
		if i > 0 && retries[i] == retries[i-1] {
			continue // the window from this instant starts at its first retry
		}
		t1 := retries[i]
		from := sort.Search(len(begun), func(k int) bool { return begun[k] >= t1 })
		for j := i; j < len(retries); j++ {
			if j+1 < len(retries) && retries[j+1] == retries[j] {
				continue // the window to this instant ends at its last retry
			}
			t2 := retries[j]
			n := j - i + 1
			calls := sort.Search(len(begun), func(k int) bool { return begun[k] > t2 }) - from
			bound := float64(b.Burst) + b.Ratio*float64(calls) + b.PerSecond*(t2-t1).Seconds()
			if float64(n) > bound*(1+budgetSlack) {
				return fmt.Errorf("%d retries decided in [%v, %v], in which %d calls began: more than burst %d + ratio %v × %d + %v per second × %v = %v",
					n, t1, t2, calls, b.Burst, b.Ratio, calls, b.PerSecond, (t2 - t1).Seconds(), bound)
			}
		}
	}
	return nil
}

// isRetry says whether the step decided a retry.
func isRetry(a backoff.Action) bool {
	return a.Outcome == backoff.OutcomeFailed && (a.Kind == backoff.ActionPause || a.Kind == backoff.ActionStart)
}

// budgetLoad returns a generator of valid loads with a budget: up to 40
// calls in steps of 10ms (so that arrivals, answers and pauses often fall
// due at one instant), an outage or not, random failures, and a drawn
// policy.
func budgetLoad() *rapid.Generator[load.Scenario] {
	d := func(t *rapid.T, n int, label string) sim.Duration {
		return sim.Duration(proptest.Duration(n).Draw(t, label))
	}
	return rapid.Custom(func(t *rapid.T) load.Scenario {
		b := budgetNumbers().Draw(t, "budget")
		l := load.Scenario{
			Calls:          rapid.IntRange(1, 40).Draw(t, "calls"),
			Every:          d(t, 5, "every"),
			Takes:          d(t, 5, "takes"),
			FailRate:       rapid.SampledFrom([]float64{0, 0.3, 0.7, 1}).Draw(t, "fail_rate"),
			Seed:           rapid.Uint64().Draw(t, "seed"),
			AttemptTimeout: d(t, 5, "attempt_timeout"),
			Deadline:       d(t, 60, "deadline"),
			Pause:          d(t, 10, "pause"),
			Growth:         rapid.SampledFrom([]float64{0, 1.5, 2}).Draw(t, "growth"),
			MaxPause:       d(t, 20, "max_pause"),
			Jitter:         rapid.SampledFrom([]string{"", "full", "equal", "decorrelated"}).Draw(t, "jitter"),
			MaxTries:       rapid.IntRange(0, 8).Draw(t, "max_tries"),
			Budget:         &b,
			Bucket:         sim.Duration(time.Second),
		}
		if rapid.Bool().Draw(t, "down") {
			from := d(t, 30, "down.from")
			l.Down = &load.Window{From: from, To: from + d(t, 30, "down.length") + sim.Duration(proptest.Grain)}
		}
		// Mend what Validate refuses: calls with no limit, or that could
		// make attempts without end at one instant.
		if l.MaxTries == 0 && l.Deadline == 0 {
			l.MaxTries = 8
		}
		if l.MaxTries == 0 && l.Takes == 0 && l.Pause == 0 {
			l.Takes = sim.Duration(proptest.Grain)
		}
		// And the pause settings a zero pause, or decorrelated jitter,
		// would ignore.
		if l.Jitter == "decorrelated" || l.Pause == 0 {
			l.Growth = 0
		}
		if l.Pause == 0 {
			l.Jitter, l.MaxPause = "", 0
		}
		return l
	})
}

// TestProp_budgetLoad: in random loads run with their budget, no window
// of time holds more retries than the budget allows.
func TestProp_budgetLoad(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		l := budgetLoad().Draw(rt, "load")
		var retries, begun []time.Duration
		run, err := load.Simulate(l, func(s load.Step) {
			switch {
			case s.Event.Kind == backoff.EventBegan:
				begun = append(begun, s.At())
			case isRetry(s.Action):
				retries = append(retries, s.At())
			}
		})
		if err != nil {
			rt.Fatal(err)
		}
		if len(begun) != l.Calls || len(retries) != run.Total.Retries {
			rt.Fatalf("%d calls began and %d retries were seen; the run counts %d and %d", len(begun), len(retries), run.Total.Calls, run.Total.Retries)
		}
		if err := budgetWindows(*l.Budget, retries, begun); err != nil {
			b, _ := json.Marshal(l)
			rt.Fatalf("%v\nthe load (backoffsim load FILE.json simulates it): %s", err, b)
		}
	})
}

// A budgetCall is a call driven by hand.
type budgetCall struct {
	x       backoff.Execution
	begun   bool
	done    bool
	arrival time.Duration // when it began
	last    backoff.Action
}

// TestProp_budgetByHand: several calls, each its own backoff.Execution
// under a drawn policy, share one Budget; at each step one of them, drawn
// at random, takes its next event (it begins, its attempt ends, or its
// pause is over) at a time that never goes back. No window of time holds
// more retries than the budget allows, and the first retry any call asks
// for is allowed (a new Budget is full, and Burst is at least 1).
func TestProp_budgetByHand(t *testing.T) {
	errFail := errors.New("proptest: the operation failed")
	rapid.Check(t, func(rt *rapid.T) {
		nums := budgetNumbers().Draw(rt, "budget")
		budget := &backoff.Budget{Ratio: nums.Ratio, PerSecond: nums.PerSecond, Burst: nums.Burst}
		calls := make([]budgetCall, rapid.IntRange(1, 8).Draw(rt, "calls"))
		for i := range calls {
			p := backoff.Policy{
				AttemptTimeout: proptest.Duration(5).Draw(rt, "attempt_timeout"),
				Deadline:       proptest.Duration(60).Draw(rt, "deadline"),
				Pause:          proptest.Duration(10).Draw(rt, "pause"),
				MaxTries:       rapid.IntRange(0, 8).Draw(rt, "max_tries"),
				RetryIf:        backoff.AnyError,
				Budget:         budget,
			}
			x, err := backoff.NewExecution(p)
			if err != nil {
				rt.Fatal(err)
			}
			calls[i].x = *x
		}
		epoch := load.Epoch
		var now time.Duration
		var retries, begun []time.Duration
		var firstAsked backoff.Action // the answer to the first failure that could be retried
		asked := false
		for range rapid.IntRange(1, 300).Draw(rt, "steps") {
			var live []int
			for i, c := range calls {
				if !c.done {
					live = append(live, i)
				}
			}
			if len(live) == 0 {
				break
			}
			k := rapid.SampledFrom(live).Draw(rt, "call")
			c := &calls[k]
			now += proptest.Duration(3).Draw(rt, "advance")
			var e backoff.Event
			switch {
			case !c.begun:
				c.begun, c.arrival = true, now
				e = backoff.Event{Kind: backoff.EventBegan, Start: epoch.Add(now)}
				begun = append(begun, now)
			case c.last.Kind == backoff.ActionStart:
				var err error = errFail
				if rapid.IntRange(0, 4).Draw(rt, "succeeds") == 0 {
					err = nil
				}
				e = backoff.Event{Kind: backoff.EventEnded, At: now - c.arrival, Attempt: c.last.Attempt, Err: err}
			case c.last.Kind == backoff.ActionPause:
				now = max(now, c.arrival+c.last.Until) // a timer fires at its time, or later
				e = backoff.Event{Kind: backoff.EventFired, At: now - c.arrival, Attempt: c.last.Attempt}
			default:
				rt.Fatalf("call %d: nothing to do after %+v", k, c.last)
			}
			a := c.x.Step(e)
			if a.Kind == backoff.ActionWait {
				rt.Fatalf("call %d: the core answered Wait to %+v", k, e)
			}
			c.last, c.done = a, a.Kind == backoff.ActionFinish
			var be *backoff.Error
			refused := errors.As(a.Err, &be) && be.Reason == backoff.ErrBudgetExhausted
			if isRetry(a) {
				retries = append(retries, now)
			}
			if !asked && (isRetry(a) || refused) {
				firstAsked, asked = a, true
			}
		}
		if asked && !isRetry(firstAsked) {
			rt.Fatalf("the first retry asked for was refused: %+v", firstAsked)
		}
		if err := budgetWindows(nums, retries, begun); err != nil {
			rt.Fatal(err)
		}
	})
}
