package proptest_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/proptest"
	"github.com/timebound/backoff/sim"
)

// TestExhaustive checks every property on every scenario of a small scope,
// under every order of its ties: random testing rarely lands on exact
// ties, and this does not miss one.
//
// The scope: the policies of a grid (attempt timeout 0 or 100ms, deadline
// 0 or 250ms, pause 0 or 50ms, MaxTries 0 or 3, cooperative or Abandon), a
// cancel never, before the call, or at 100ms, 150ms or 250ms (the attempt
// timeout, it plus the pause, the deadline), leaving out what could retry
// forever (see unbounded), and scripts of up to four
// attempts, each taking 0, 50ms, or just below, at or just above the
// attempt timeout, with every outcome, and hangs that return at once,
// 1ms late, or (with Abandon) never. Scripts are enumerated depth first:
// a script is extended only if its call reached the attempt after its
// last entry, so no two scripts checked behave alike.
func TestExhaustive(t *testing.T) {
	const ms = time.Millisecond
	var options []sim.Attempt
	for _, d := range []time.Duration{0, 50 * ms, 99 * ms, 100 * ms, 101 * ms} {
		for _, k := range []sim.Kind{sim.OK, sim.Retryable, sim.NotRetryable, sim.GiveUp} {
			options = append(options, sim.Attempt{Takes: sim.Duration(d), Outcome: k})
		}
	}
	options = append(options,
		sim.Attempt{Outcome: sim.Hang},
		sim.Attempt{Outcome: sim.Hang, OnCancel: sim.Late, Late: sim.Duration(ms)},
		sim.Attempt{Outcome: sim.Hang, OnCancel: sim.Ignore}) // refused by Validate without Abandon

	depth := 4
	if testing.Short() || raceEnabled {
		depth = 2 // the full scope takes tens of seconds, minutes under -race
	}
	exhaust(t, smallPolicies(), options, depth)
}

// TestExhaustive_pauses is TestExhaustive for the pause fields, in a
// smaller scope: growth with a cap, each jitter with a seed, and a zero
// pause, under a grid of limits and cancels (attempt timeout 0 or 100ms,
// deadline 0 or 250ms, MaxTries 0 or 3, a cancel never or at 150ms,
// cooperative or Abandon); scripts of up to three attempts (two under
// -short or -race), each taking 0, 50ms or 100ms, with or without a
// delay hint on its error (30ms, 120ms, or 200ms, which the deadline
// cuts short), or hanging.
func TestExhaustive_pauses(t *testing.T) {
	const ms = time.Millisecond
	var options []sim.Attempt
	for _, d := range []time.Duration{0, 50 * ms, 100 * ms} {
		options = append(options, sim.Attempt{Takes: sim.Duration(d), Outcome: sim.OK}, sim.Attempt{Takes: sim.Duration(d), Outcome: sim.Retryable})
	}
	for _, h := range []time.Duration{30 * ms, 120 * ms, 200 * ms} {
		options = append(options, sim.Attempt{Takes: sim.Duration(50 * ms), Outcome: sim.Retryable, RetryAfter: sim.Duration(h)})
	}
	options = append(options,
		sim.Attempt{Takes: sim.Duration(50 * ms), Outcome: sim.GiveUp, RetryAfter: sim.Duration(30 * ms)},
		sim.Attempt{Outcome: sim.Hang})

	pauses := []sim.Scenario{
		{Pause: sim.Duration(50 * ms), Growth: 2, MaxPause: sim.Duration(80 * ms)},
		{Pause: sim.Duration(50 * ms), Jitter: "full", Seed: 1},
		{Pause: sim.Duration(50 * ms), Growth: 1.5, Jitter: "equal", Seed: 2},
		{Pause: sim.Duration(20 * ms), MaxPause: sim.Duration(100 * ms), Jitter: "decorrelated", Seed: 3},
		{},
	}
	var bases []sim.Scenario
	for _, p := range pauses {
		for _, at := range []time.Duration{0, 100 * ms} {
			for _, dl := range []time.Duration{0, 250 * ms} {
				for _, tries := range []int{0, 3} {
					for _, abandon := range []bool{false, true} {
						for _, cancel := range []*sim.Duration{nil, ptr(sim.Duration(150 * ms))} {
							sc := p
							sc.AttemptTimeout, sc.Deadline, sc.MaxTries, sc.Abandon, sc.CancelAt = sim.Duration(at), sim.Duration(dl), tries, abandon, cancel
							bases = append(bases, sc)
						}
					}
				}
			}
		}
	}
	depth := 3
	if testing.Short() || raceEnabled {
		depth = 2
	}
	exhaust(t, bases, options, depth)
}

// exhaust checks every property on every scenario made of a base (the
// policy and the cancel) and a script of up to depth attempts from
// options, under every order of its ties. Scripts are enumerated depth
// first: a script is extended only if its call reached the attempt after
// its last entry, so no two scripts checked behave alike.
func exhaust(t *testing.T, bases []sim.Scenario, options []sim.Attempt, depth int) {
	var scenarios, orders int
	failures := map[string]int{}
	var first []string
	fail := func(name string, err error, sc sim.Scenario) {
		failures[name]++
		first = append(first, fmt.Sprintf("%s: %v\nscenario: %s", name, err, mustJSON(sc)))
		if len(first) == 5 {
			t.Fatalf("properties broken (stopped at 5 failures): %v\n%v", failures, first)
		}
	}
	check := func(sc sim.Scenario, res *sim.Result) {
		orders++
		if res.Runaway {
			fail("bounded", fmt.Errorf("a runaway, where the policy bounds the call"), sc)
			return
		}
		c := newCall(sc, res)
		for name, p := range properties {
			if err := p(c); err != nil {
				fail(name, err, sc)
			}
		}
	}
	for _, base := range bases {
		var dfs func(prefix []sim.Attempt)
		dfs = func(prefix []sim.Attempt) {
			sc := base
			sc.Attempts = prefix
			if sc.Validate() != nil || unbounded(sc) {
				return
			}
			scenarios++
			further := false
			sim.Explore(sc, func(v sim.Scenario, res *sim.Result) bool {
				check(v, res)
				further = further || starts(res) > len(prefix)
				return true
			})
			if further && len(prefix) < depth {
				for _, o := range options {
					dfs(append(prefix[:len(prefix):len(prefix)], o))
				}
			}
		}
		for _, o := range options {
			dfs([]sim.Attempt{o})
		}
	}
	if len(failures) > 0 {
		names := make([]string, 0, len(failures))
		for n := range failures {
			names = append(names, fmt.Sprintf("%s (%d)", n, failures[n]))
		}
		sort.Strings(names)
		t.Fatalf("properties broken: %v\nfirst failures:\n%v", names, first)
	}
	t.Logf("exhaustive: %d scenarios (scripts of up to %d attempts), %d runs with every order of their ties: all %d properties hold", scenarios, depth, orders, len(properties))
}

// unbounded reports whether sc could retry forever: what proptest.Mend
// mends in drawn scenarios, and what the simulator cuts off as a runaway
// after 10,000 steps, which checks nothing and costs much.
func unbounded(sc sim.Scenario) bool {
	mended := sc
	mended.Attempts = append([]sim.Attempt(nil), sc.Attempts...)
	proptest.Mend(&mended)
	return !reflect.DeepEqual(mended, sc)
}

// smallPolicies is the grid of policies and cancels of TestExhaustive.
func smallPolicies() []sim.Scenario {
	const ms = time.Millisecond
	var out []sim.Scenario
	for _, at := range []time.Duration{0, 100 * ms} {
		for _, dl := range []time.Duration{0, 250 * ms} {
			for _, pause := range []time.Duration{0, 50 * ms} {
				for _, tries := range []int{0, 3} {
					for _, abandon := range []bool{false, true} {
						for _, cancel := range []*time.Duration{nil, ptr(0 * ms), ptr(100 * ms), ptr(150 * ms), ptr(250 * ms)} {
							sc := sim.Scenario{AttemptTimeout: sim.Duration(at), Deadline: sim.Duration(dl), Pause: sim.Duration(pause), MaxTries: tries, Abandon: abandon}
							if cancel != nil {
								c := sim.Duration(*cancel)
								sc.CancelAt = &c
							}
							out = append(out, sc)
						}
					}
				}
			}
		}
	}
	return out
}

func starts(res *sim.Result) int {
	n := 0
	for _, s := range res.Steps {
		if s.Action.Kind == backoff.ActionStart {
			n++
		}
	}
	return n
}

func ptr[T any](v T) *T { return &v }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
