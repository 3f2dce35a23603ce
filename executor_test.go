package backoff_test

// Corners of the executor (Do) that no rule's test reaches: where it
// learns the call's start, what it tells the Budget, the hard-bound
// adapter's Goexit, and a fake clock under a caller's earlier deadline.

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

// TestDo_callerDeadlineFirst: on the system clock, the caller's deadline
// earlier than the first attempt's limit cuts that attempt; the call's
// start, its Elapsed and every time the steps report stay exact.
func TestDo_callerDeadlineFirst(t *testing.T) {
	bubble(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 70*ms)
		defer cancel()
		var steps []backoff.Event
		p := backoff.Policy{AttemptTimeout: 100 * ms, Deadline: time.Second, RetryIf: backoff.AnyError,
			Observer: backoff.ObserverFunc(func(e backoff.Event, _ backoff.Action) { steps = append(steps, e) })}
		time.Sleep(5 * ms) // the call does not begin at the bubble's first instant
		o := newOp(step{d: time.Hour})
		r := do(ctx, p, o)
		r.wantErr(t, context.DeadlineExceeded, nil, 1, 70*ms-5*ms)
		if len(steps) != 2 || steps[0].CallerDeadline != 65*ms || steps[1].At != 65*ms {
			t.Errorf("steps %+v; want Began with CallerDeadline 65ms, then the end at 65ms", steps)
		}
	})
}

// TestDo_budgetTime: with a Budget and no time limit, the executor tells
// the budget the clock's time: a retry decided after an attempt that took
// a second finds the token that second earned.
func TestDo_budgetTime(t *testing.T) {
	bubble(t, func(t *testing.T) {
		budget := &backoff.Budget{PerSecond: 1, Burst: 1}
		p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Budget: budget}
		// Spend the one token, without time passing.
		r := do(t.Context(), p, newOp(step{err: errRetry}, step{err: errRetry}))
		r.wantErr(t, backoff.ErrBudgetExhausted, errRetry, 2, 0)
		// Attempts of 600ms: the first failure finds 0.6 of a token
		// (refused); a call whose attempt takes a second finds one.
		r = do(t.Context(), p, newOp(step{d: 600 * ms, err: errRetry}))
		r.wantErr(t, backoff.ErrBudgetExhausted, errRetry, 1, 600*ms)
		o := newOp(step{d: time.Second, err: errRetry}, step{d: ms, value: 7})
		if r = do(t.Context(), p, o); r.err != nil || r.v != 7 {
			t.Fatalf("Do = %d, %v; want the retry the second earned, and 7", r.v, r.err)
		}
	})
}

// TestAbandon_goexit: runtime.Goexit in an operation wrapped in Abandon
// exits the goroutine that called Do, as it would have run there; the
// attempt's goroutine is not left behind.
func TestAbandon_goexit(t *testing.T) {
	bubble(t, func(t *testing.T) {
		exited, returned := make(chan bool, 1), false
		go func() {
			defer func() { exited <- !returned }()
			backoff.Do(t.Context(), backoff.Policy{AttemptTimeout: time.Second}, backoff.Abandon(func(context.Context) (int, error) {
				runtime.Goexit()
				return 0, nil
			}))
			returned = true
		}()
		if !<-exited {
			t.Error("Do returned; want the caller's goroutine to exit")
		}
	})
}

// TestAbandon_noDeadline: with a context that is never done, Abandon runs
// the operation on the caller's goroutine (nothing could cut it short).
func TestAbandon_noDeadline(t *testing.T) {
	caller := callerID()
	v, err := backoff.Abandon(func(context.Context) (int, error) {
		if callerID() != caller {
			return 0, errors.New("ran in a goroutine of its own")
		}
		return 1, nil
	})(context.Background())
	if v != 1 || err != nil {
		t.Errorf("Abandon(fn)(Background) = %v, %v; want 1, nil", v, err)
	}
}

// callerID tells goroutines apart by their stack's first line.
func callerID() string {
	var b [64]byte
	n := runtime.Stack(b[:], false)
	line := string(b[:n])
	for i := range len(line) {
		if line[i] == '[' {
			return line[:i]
		}
	}
	return line
}

// TestDo_fakeClockCallerDeadline: on a fake clock, an attempt's context
// reports the caller's deadline when it comes before the attempt's own
// limit (rule 12: D_k is the earliest), and DeadlineExceeded once it cuts
// the attempt.
func TestDo_fakeClockCallerDeadline(t *testing.T) {
	bubble(t, func(t *testing.T) {
		fc := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		t0 := fc.Now()
		parent, cancel := context.WithDeadline(t.Context(), t0.Add(30*ms)) // on the system clock: never reached here
		defer cancel()
		p := backoff.Policy{AttemptTimeout: 100 * ms, MaxTries: 1, Clock: fc}
		seen := make(chan time.Time, 1)
		done := make(chan error, 1)
		go func() {
			_, err := backoff.Do(parent, p, func(ctx context.Context) (int, error) {
				d, _ := ctx.Deadline()
				seen <- d
				return 0, nil
			})
			done <- err
		}()
		if d := <-seen; !d.Equal(t0.Add(30 * ms)) {
			t.Errorf("ctx.Deadline() = T0+%v; want the caller's T0+30ms, before the attempt's T0+100ms", d.Sub(t0))
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
