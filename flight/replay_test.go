package flight_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/flight"
	"github.com/timebound/backoff/sim"
)

var errGone = errors.New("gone")

// storm makes n calls at once, sharing one policy with every limit, a
// jitter and a budget, each with its own script drawn from seed: an
// operation that fails, hangs until its context is done, succeeds or
// fails for good, after a while on clk; and a caller that may cancel or
// give the call a deadline. sleep waits on the clock the calls run on.
func storm(t *testing.T, n int, seed uint64, p backoff.Policy, sleep func(time.Duration) <-chan time.Time) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		r := rand.New(rand.NewPCG(seed, uint64(i)))
		ops := make([]int, 8)
		for k := range ops {
			ops[k] = r.IntN(10)
		}
		cancelAfter := time.Duration(r.IntN(300)) * time.Millisecond / 10
		deadline := time.Duration(r.IntN(400)) * time.Millisecond / 10
		mode := r.IntN(4)
		wg.Go(func() {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			switch mode {
			case 1:
				go func() {
					select {
					case <-sleep(cancelAfter):
						cancel(errGone)
					case <-ctx.Done(): // the call is over
					}
				}()
			case 2:
				var stop context.CancelFunc
				ctx, stop = backoff.WithDeadline(ctx, p.Clock, clockNow(p.Clock).Add(deadline), nil)
				defer stop()
			}
			k := 0
			backoff.Do(ctx, p, func(ctx context.Context) (int, error) {
				op := ops[min(k, len(ops)-1)]
				k++
				var took <-chan time.Time
				switch {
				case op < 6: // fails after a while
					took = sleep(time.Duration(op) * time.Millisecond / 2)
				case op < 8: // hangs until its context is done
				case op < 9: // succeeds after a while
					took = sleep(time.Millisecond)
				default: // fails for good
					return 0, errAbsent
				}
				select {
				case <-took:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
				if op == 8 {
					return k, nil
				}
				if op == 5 {
					return 0, backoff.RetryAfter(errBusy, 3*time.Millisecond)
				}
				return 0, errBusy
			})
		})
	}
	wg.Wait()
}

func clockNow(clk backoff.Clock) time.Time {
	if clk == nil {
		return time.Now()
	}
	return clk.Now()
}

// stormPolicy has every limit, growth, a full jitter and a budget, with
// pauses short enough for the real clock.
func stormPolicy(rec *flight.Recorder) backoff.Policy {
	return backoff.Policy{
		AttemptTimeout: 8 * time.Millisecond,
		Deadline:       40 * time.Millisecond,
		Pause:          time.Millisecond,
		Growth:         2,
		Jitter:         backoff.FullJitter,
		MaxTries:       6,
		RetryIf:        backoff.On(errBusy),
		Budget:         &backoff.Budget{Ratio: 1, Burst: 100},
		Observer:       rec,
	}
}

// checkKept requires every call rec kept to replay "identical", and its
// header's scenario to simulate to the very steps recorded.
func checkKept(t *testing.T, rec *flight.Recorder, want int) {
	t.Helper()
	calls := rec.Calls()
	if len(calls) != want {
		t.Errorf("%d calls kept, want %d", len(calls), want)
	}
	kinds := map[string]int{}
	for _, c := range calls {
		if c.Err != nil {
			t.Errorf("call %d cannot be replayed: %v", c.ID, c.Err)
			continue
		}
		var b bytes.Buffer
		if _, err := c.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if err := sim.Replay(bytes.NewReader(b.Bytes())); err != nil {
			t.Errorf("call %d does not replay: %v\n%s", c.ID, err, b.Bytes())
			continue
		}
		res, err := sim.Run(c.Trace.Scenario)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Steps) != len(c.Trace.Lines) {
			t.Errorf("call %d: its scenario simulates to %d steps; %d were recorded", c.ID, len(res.Steps), len(c.Trace.Lines))
		}
		kinds[c.Reason]++
	}
	t.Logf("%d calls kept and replayed: %v", len(calls), kinds)
}

// TestRecorder_realClock: 200 concurrent calls on the real clock, sharing
// one policy (pauses that grow with a full jitter, an attempt timeout, a
// deadline, a budget), under callers that cancel or have deadlines; real
// timers fire late. Every call is kept and every trace replays.
func TestRecorder_realClock(t *testing.T) {
	rec := newRecorder(t, flight.Options{Calls: 200, Slow: time.Nanosecond})
	storm(t, 200, 1, stormPolicy(rec), time.After)
	checkKept(t, rec, 200)
}

// TestRecorder_synctest: the same under testing/synctest, where timers
// are exact and ties happen.
func TestRecorder_synctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(t, flight.Options{Calls: 200, Slow: time.Nanosecond})
		storm(t, 200, 2, stormPolicy(rec), time.After)
		checkKept(t, rec, 200)
	})
}

// TestRecorder_fakeClock: the same on a clockwork fake clock, which a
// goroutine advances a little at a time while the calls run.
func TestRecorder_fakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		rec := newRecorder(t, flight.Options{Calls: 100, Slow: time.Nanosecond})
		p := stormPolicy(rec)
		p.Clock = fc
		done := make(chan struct{})
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				synctest.Wait()
				fc.Advance(100 * time.Microsecond)
			}
		}()
		storm(t, 100, 3, p, fc.After)
		close(done)
		checkKept(t, rec, 100)
	})
}
