package sim_test

// The differential test: the same scenario through the simulator and
// through the executor (backoff.Do), which must report the same steps.
// The executor runs twice: on the system clock inside a testing/synctest
// bubble, and on a clockwork fake clock. This is what makes the simulator
// trustworthy: it and the executor obey the same decision core, and this
// test shows that they also feed it the same events at the same instants.

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff/internal/drive"
	"github.com/timebound/backoff/sim"
)

const ms = time.Millisecond

func dur(d time.Duration) sim.Duration { return sim.Duration(d) }

// grid returns scenarios that combine small policies with small scripts,
// chosen so that limits fall both between and exactly on events.
func grid() []sim.Scenario {
	scripts := [][]sim.Attempt{
		{{Takes: dur(30 * ms), Outcome: sim.OK}},
		{{Takes: dur(40 * ms), Outcome: sim.Retryable}, {Takes: dur(20 * ms), Outcome: sim.OK}},
		{{Takes: dur(40 * ms), Outcome: sim.Retryable}},
		{{Outcome: sim.Hang}, {Takes: dur(10 * ms), Outcome: sim.OK}},
		{{Outcome: sim.Hang, OnCancel: sim.Late, Late: dur(15 * ms)}, {Takes: dur(100 * ms), Outcome: sim.Retryable}},
		{{Takes: dur(150 * ms), Outcome: sim.Retryable, OnCancel: sim.Ignore}},
		{{Takes: dur(60 * ms), Outcome: sim.Retryable}, {Takes: dur(10 * ms), Outcome: sim.GiveUp}},
		{{Takes: dur(20 * ms), Outcome: sim.Retryable}, {Takes: dur(500 * ms), Outcome: sim.NotRetryable}},
	}
	var out []sim.Scenario
	for _, at := range []time.Duration{0, 70 * ms, 100 * ms} {
		for _, dl := range []time.Duration{0, 230 * ms, 300 * ms} {
			for _, pause := range []time.Duration{0, 25 * ms} {
				for _, tries := range []int{0, 3} {
					for _, abandon := range []bool{false, true} {
						for ci, cancel := range []*sim.Duration{nil, ptr(dur(0)), ptr(dur(95 * ms))} {
							for si, script := range scripts {
								sc := sim.Scenario{
									Name:           fmt.Sprintf("at=%v,dl=%v,pause=%v,tries=%d,abandon=%v,cancel#%d,script#%d", at, dl, pause, tries, abandon, ci, si),
									AttemptTimeout: dur(at), Deadline: dur(dl), Pause: dur(pause), MaxTries: tries,
									Abandon: abandon, Attempts: script, CancelAt: cancel,
								}
								if sc.Validate() == nil {
									out = append(out, sc)
								}
							}
						}
					}
				}
			}
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// pauseGrid returns scenarios of the pause fields: growth with a cap or a
// deadline, each jitter with a seed, zero pauses, and scripts whose
// errors carry delay hints (short and long ones, one that reaches the
// deadline), with attempt timeouts, abandon and a cancel.
func pauseGrid() []sim.Scenario {
	policies := []sim.Scenario{
		{Pause: dur(20 * ms), Growth: 2, MaxPause: dur(70 * ms), MaxTries: 5},
		{Pause: dur(20 * ms), Growth: 1.5, Deadline: dur(300 * ms)},
		{Pause: dur(10 * ms), Growth: 2, Jitter: "full", Seed: 1, MaxTries: 5},
		{Pause: dur(40 * ms), Growth: 10, MaxPause: dur(100 * ms), Jitter: "equal", Seed: 2, Deadline: dur(300 * ms)},
		{Pause: dur(10 * ms), MaxPause: dur(120 * ms), Jitter: "decorrelated", Seed: 3, MaxTries: 5},
		{MaxTries: 4},
		{Jitter: "decorrelated", Seed: 4, MaxTries: 4},
	}
	scripts := [][]sim.Attempt{
		{{Takes: dur(10 * ms), Outcome: sim.Retryable, RetryAfter: dur(100 * ms)}, {Takes: dur(10 * ms), Outcome: sim.Retryable}, {Takes: dur(5 * ms), Outcome: sim.OK}},
		{{Takes: dur(10 * ms), Outcome: sim.Retryable}, {Takes: dur(20 * ms), Outcome: sim.Retryable, RetryAfter: dur(500 * ms)}},
		{{Outcome: sim.Hang}, {Takes: dur(10 * ms), Outcome: sim.Retryable, RetryAfter: dur(30 * ms)}, {Takes: dur(60 * ms), Outcome: sim.Retryable, RetryAfter: dur(5 * ms)}},
		{{Takes: dur(10 * ms), Outcome: sim.Retryable, RetryAfter: dur(15 * ms)}, {Takes: dur(10 * ms), Outcome: sim.GiveUp, RetryAfter: dur(1 * ms)}},
	}
	var out []sim.Scenario
	for pi, base := range policies {
		for si, script := range scripts {
			for _, at := range []time.Duration{0, 50 * ms} {
				for _, abandon := range []bool{false, true} {
					for ci, cancel := range []*sim.Duration{nil, ptr(dur(150 * ms))} {
						sc := base
						sc.Name = fmt.Sprintf("policy#%d,script#%d,at=%v,abandon=%v,cancel#%d", pi, si, at, abandon, ci)
						sc.Attempts, sc.AttemptTimeout, sc.Abandon, sc.CancelAt = script, dur(at), abandon, cancel
						if sc.Validate() == nil {
							out = append(out, sc)
						}
					}
				}
			}
		}
	}
	return out
}

// TestDifferential_pauses: the scenarios of pauseGrid through the
// simulator and the executor (given sc.Policy(), whose seeded Rand draws
// what the simulator draws) give the same trace, or, where two things
// fall due at one instant, one of the orders the simulator explores.
func TestDifferential_pauses(t *testing.T) {
	n := 0
	for _, sc := range pauseGrid() {
		want, err := sim.Run(sc)
		if err != nil || want.Runaway {
			t.Fatalf("%s: %v (runaway %v)", sc.Name, err, want != nil && want.Runaway)
		}
		if err := sim.Check(sc, want); err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		traces, _ := drive.Orders(sc, 1<<10)
		for _, driver := range []struct {
			name string
			run  func(*testing.T, sim.Scenario, *sim.Result) ([]sim.Step, int, error)
		}{{"synctest", runSynctest}, {"fakeclock", runFakeClock}} {
			steps, v, err := driver.run(t, sc, want)
			if len(want.Ties) == 0 {
				if d := sim.Compare(lines(want.Steps), steps); d != nil {
					t.Fatalf("%s through the executor (%s) differs from the simulator (recorded = simulator, replayed = executor):\n%v\nsimulated trace:\n%s", sc.Name, driver.name, d, sim.Encode(sc, want.Steps))
				}
				if v != want.Value || fmt.Sprint(err) != fmt.Sprint(want.Err) {
					t.Fatalf("%s (%s): Do returned %d, %v; the simulator %d, %v", sc.Name, driver.name, v, err, want.Value, want.Err)
				}
			} else if !drive.OneOf(traces, steps) {
				t.Fatalf("%s (%s): the executor's trace is none of the %d orders the simulator explores:\n%s", sc.Name, driver.name, len(traces), sim.Encode(sc, steps))
			}
			for i, s := range steps {
				if j := sc.Policy().Jitter; j != 0 && i < len(want.Steps) && len(want.Ties) == 0 && s.Event.Rand != want.Steps[i].Event.Rand {
					t.Fatalf("%s (%s): step %d carries the random number %d; the simulator's %d", sc.Name, driver.name, i, s.Event.Rand, want.Steps[i].Event.Rand)
				}
			}
		}
		n++
	}
	if n < 100 {
		t.Errorf("only %d scenarios; pauseGrid should give more than 100", n)
	}
	t.Logf("%d scenarios with growth, caps, jitter and delay hints: the executor took the simulator's steps", n)
}

func TestDifferential(t *testing.T) {
	compared, ties := 0, 0
	for _, sc := range grid() {
		want, err := sim.Run(sc)
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		if want.Runaway {
			continue // the executor would spin at one instant forever
		}
		if len(want.Ties) > 0 {
			ties++ // the executor may see either event first: see TestDifferential_ties
			continue
		}
		compared++
		for _, driver := range []struct {
			name string
			run  func(*testing.T, sim.Scenario, *sim.Result) ([]sim.Step, int, error)
		}{{"synctest", runSynctest}, {"fakeclock", runFakeClock}} {
			steps, v, err := driver.run(t, sc, want)
			if d := sim.Compare(lines(want.Steps), steps); d != nil {
				t.Fatalf("%s through the executor (%s) differs from the simulator (recorded = simulator, replayed = executor):\n%v\nsimulated trace:\n%s", sc.Name, driver.name, d, sim.Encode(sc, want.Steps))
			}
			if v != want.Value || fmt.Sprint(err) != fmt.Sprint(want.Err) {
				t.Fatalf("%s (%s): Do returned %d, %v; the simulator %d, %v", sc.Name, driver.name, v, err, want.Value, want.Err)
			}
		}
	}
	if compared < 1000 {
		t.Errorf("only %d scenarios compared (%d with ties skipped); the grid should give more than 1000", compared, ties)
	}
	t.Logf("%d scenarios gave identical traces through the simulator and both executors; %d with same-instant ties were left to TestDifferential_ties", compared, ties)
}

// TestDifferential_ties runs the scenarios where two things fall due at
// one instant. The executor may see either first, so its trace need not be
// the simulator's first; but it must be the trace of one of the orders
// the simulator explores (sim.Explore), on both clocks.
func TestDifferential_ties(t *testing.T) {
	n, orders := 0, 0
	for _, sc := range grid() {
		want, _ := sim.Run(sc)
		if want.Runaway || len(want.Ties) == 0 {
			continue
		}
		n++
		traces, _ := drive.Orders(sc, 1<<16) // the grid's scenarios have few ties
		orders += len(traces)
		for _, run := range []func(*testing.T, sim.Scenario, *sim.Result) ([]sim.Step, int, error){runSynctest, runFakeClock} {
			got, _, _ := run(t, sc, want)
			if !drive.OneOf(traces, got) {
				t.Fatalf("%s: the executor's trace is none of the %d orders the simulator explores:\n%s", sc.Name, len(traces), sim.Encode(sc, got))
			}
		}
	}
	t.Logf("%d scenarios with ties: the executor took one of their %d explored orders", n, orders)
}

func lines(steps []sim.Step) []sim.Line { return drive.Lines(steps) }

// runSynctest runs sc through backoff.Do on the system clock in a bubble.
func runSynctest(t *testing.T, sc sim.Scenario, _ *sim.Result) (steps []sim.Step, v int, err error) {
	var r drive.Run
	synctest.Test(t, func(t *testing.T) { r = drive.System(sc) })
	return r.Steps, r.Value, r.Err
}

// runFakeClock runs sc through backoff.Do on a clockwork fake clock.
func runFakeClock(t *testing.T, sc sim.Scenario, want *sim.Result) (steps []sim.Step, v int, err error) {
	var r drive.Run
	synctest.Test(t, func(t *testing.T) { r = drive.FakeClock(sc, want) })
	return r.Steps, r.Value, r.Err
}
