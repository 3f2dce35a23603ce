// Package drive runs a simulated scenario through the real executor,
// backoff.Do, and records its steps, for the differential tests of sim and
// proptest: the same scenario through the simulator and the executor must
// give the same trace.
//
// Each run takes a policy of its own from sc.Policy(): with a jitter, its
// Rand is a new source seeded from the scenario, so the executor draws the
// very numbers the simulator draws, in the same order.
//
// Both drivers must be called inside a testing/synctest bubble (from
// synctest.Test or rapid.SyncTest): System runs on the system clock, which
// is virtual there; FakeClock runs on a clockwork fake clock and uses
// synctest.Wait as its handshake before each Advance.
package drive

import (
	"context"
	"slices"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// A Run is what the executor did with a scenario.
type Run struct {
	Steps []sim.Step
	Value int
	Err   error
}

// System runs sc through backoff.Do on the system clock. Call it in a
// synctest bubble.
func System(sc sim.Scenario) Run {
	var rec sim.Recorder
	p := sc.Policy()
	p.Observer = &rec
	op, release := sc.Operation(nil)
	ctx, cancel := cancelled(sc, func(d time.Duration, f func()) { time.AfterFunc(d, f) })
	defer cancel()
	if d := sc.CallerDeadline.D(); d > 0 {
		var stop context.CancelFunc
		ctx, stop = context.WithTimeout(ctx, d)
		defer stop()
	}
	v, err := backoff.Do(ctx, p, op)
	release()
	synctest.Wait() // abandoned attempts end
	return Run{rec.Steps(), v, err}
}

// FakeClock runs sc through backoff.Do on a clockwork fake clock made in
// the bubble. Time moves only by Advance, to each instant at which
// something falls due in any order of sc's ties that the simulator
// explores (the executor may take any of them; at an instant where
// nothing is due for the order it took, nothing happens), and only once
// synctest.Wait says every goroutine is blocked: the executor on its
// select, the operation on its timer, clockwork's AfterFunc goroutines
// done. want, the simulated result, is one of those orders. Call it in a
// synctest bubble.
func FakeClock(sc sim.Scenario, want *sim.Result) Run {
	fc := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	var rec sim.Recorder
	p := sc.Policy()
	p.Clock, p.Observer = fc, &rec
	op, release := sc.Operation(fc)
	ctx, cancel := cancelled(sc, func(d time.Duration, f func()) { fc.AfterFunc(d, f) })
	defer cancel()
	if d := sc.CallerDeadline.D(); d > 0 {
		ctx = withFakeDeadline(ctx, fc, d)
	}
	var r Run
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Value, r.Err = backoff.Do(ctx, p, op)
	}()
	start := fc.Now()
	var due []time.Duration
	sim.Explore(sc, func(v sim.Scenario, res *sim.Result) bool {
		due = append(due, instants(v, res)...)
		return len(due) < 1<<16
	})
	due = append(due, instants(sc, want)...)
	slices.Sort(due)
	for _, at := range slices.Compact(due) {
		synctest.Wait()
		fc.Advance(at - fc.Since(start))
	}
	<-done
	release()
	synctest.Wait()
	r.Steps = rec.Steps()
	return r
}

// cancelled returns a context that the caller cancels (with cause
// sim.ErrCanceled) at sc.CancelAt on the clock that after uses.
func cancelled(sc sim.Scenario, after func(time.Duration, func())) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	if sc.CancelAt != nil {
		if sc.CancelAt.D() == 0 {
			cancel(sim.ErrCanceled)
		} else {
			after(sc.CancelAt.D(), func() { cancel(sim.ErrCanceled) })
		}
	}
	return ctx, func() { cancel(nil) }
}

// withFakeDeadline returns a context whose deadline is d from now on the
// fake clock fc: it is done then with Err DeadlineExceeded and that cause,
// as a context.WithTimeout is on the system clock, or when parent is.
// (clockwork's own WithTimeout has an Err that blocks until the context is
// done.)
func withFakeDeadline(parent context.Context, fc *clockwork.FakeClock, d time.Duration) context.Context {
	ctx, cancel := context.WithCancelCause(parent)
	fc.AfterFunc(d, func() { cancel(context.DeadlineExceeded) })
	return &fakeDeadline{ctx, fc.Now().Add(d)}
}

type fakeDeadline struct {
	context.Context // cancelled at the deadline with cause DeadlineExceeded
	deadline        time.Time
}

func (c *fakeDeadline) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *fakeDeadline) Err() error {
	err := c.Context.Err()
	if err == context.Canceled && context.Cause(c.Context) == context.DeadlineExceeded {
		return context.DeadlineExceeded
	}
	return err
}

// instants returns, in order, every instant at which something falls due
// in the simulated call: each step's time, each cut and pause end, the
// cancel, and so when each cut attempt's late return is due (it is a
// step's time).
func instants(sc sim.Scenario, res *sim.Result) []time.Duration {
	var ts []time.Duration
	for _, s := range res.Steps {
		ts = append(ts, s.Event.At)
		if s.Action.Kind == backoff.ActionPause || s.Action.Cut != nil {
			ts = append(ts, s.Action.Until)
		}
	}
	if sc.CancelAt != nil {
		ts = append(ts, sc.CancelAt.D())
	}
	if sc.CallerDeadline > 0 {
		ts = append(ts, sc.CallerDeadline.D())
	}
	slices.Sort(ts)
	return slices.Compact(ts)
}

// Lines returns the trace lines of steps.
func Lines(steps []sim.Step) []sim.Line {
	out := make([]sim.Line, len(steps))
	for i, s := range steps {
		out[i] = sim.LineOf(s)
	}
	return out
}

// Orders returns the steps of the orders of sc's ties (sim.Explore), at
// most limit of them, and whether that is all of them: n ties make up to
// 2^n orders.
func Orders(sc sim.Scenario, limit int) (orders [][]sim.Step, all bool) {
	all = true
	sim.Explore(sc, func(_ sim.Scenario, res *sim.Result) bool {
		if len(orders) == limit {
			all = false
			return false
		}
		orders = append(orders, res.Steps)
		return true
	})
	return orders, all
}

// OneOf reports whether steps are those of one of orders.
func OneOf(orders [][]sim.Step, steps []sim.Step) bool {
	return slices.ContainsFunc(orders, func(o []sim.Step) bool { return sim.Compare(Lines(o), steps) == nil })
}

// SameAction reports whether two actions are the same, comparing the
// *backoff.Error of a failed call by value.
func SameAction(a, b backoff.Action) bool {
	ea, _ := a.Err.(*backoff.Error)
	eb, _ := b.Err.(*backoff.Error)
	if ea != nil && eb != nil {
		if !SameError(ea, eb) {
			return false
		}
		a.Err, b.Err = nil, nil
	}
	return a == b
}

// SameError reports whether two errors of calls have the same fields.
// (Their messages may differ where an error made by hand lacks what the
// decision core tells the message; the tests of errors.go check those.)
func SameError(a, b *backoff.Error) bool {
	return a.Reason == b.Reason && a.Last == b.Last && a.Attempts == b.Attempts && a.Elapsed == b.Elapsed
}
