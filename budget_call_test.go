package backoff_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

var errDown = errors.New("dependency down")

func TestDo_budget(t *testing.T) {
	bubble(t, func(t *testing.T) {
		p := backoff.Policy{
			Pause: 100 * time.Millisecond, MaxTries: 5, RetryIf: backoff.AnyError,
			Budget: &backoff.Budget{Ratio: 0.5, Burst: 2},
		}
		call := func() (*backoff.Error, time.Duration) {
			start := time.Now()
			err := backoff.Run(context.Background(), p, func(context.Context) error { return errDown })
			var e *backoff.Error
			if !errors.As(err, &e) || !errors.Is(err, backoff.ErrBudgetExhausted) || !errors.Is(err, errDown) {
				t.Fatalf("err = %v, want a *backoff.Error matching ErrBudgetExhausted and the last failure", err)
			}
			return e, time.Since(start)
		}
		// Full at 2 tokens (the call's 0.5 does not fit): two retries, and
		// the third is refused at once, with no pause.
		// Then 0.5 a call: the next call cannot retry, the one after once.
		for i, want := range []struct {
			attempts int
			elapsed  time.Duration
		}{{3, 200 * time.Millisecond}, {1, 0}, {2, 100 * time.Millisecond}, {1, 0}, {2, 100 * time.Millisecond}} {
			e, took := call()
			if e.Reason != backoff.ErrBudgetExhausted || e.Last != errDown || e.Attempts != want.attempts || e.Elapsed != want.elapsed || took != want.elapsed {
				t.Errorf("call %d: %v (Do took %v); want budget exhausted after %d attempts in %v, Last kept", i+1, e, took, want.attempts, want.elapsed)
			}
		}
	})
}

// TestDo_budgetShared: concurrent calls share one Budget; the retries of
// all of them together stay within its share, whatever the interleaving.
func TestDo_budgetShared(t *testing.T) {
	const calls = 50
	budget := &backoff.Budget{Ratio: 0.1, Burst: 3}
	p := backoff.Policy{MaxTries: 10, RetryIf: backoff.AnyError, Budget: budget}
	var (
		mu       sync.Mutex
		attempts int
		wg       sync.WaitGroup
	)
	for range calls {
		wg.Go(func() {
			err := backoff.Run(context.Background(), p, func(context.Context) error {
				mu.Lock()
				attempts++
				mu.Unlock()
				return errDown
			})
			if !errors.Is(err, backoff.ErrBudgetExhausted) {
				t.Errorf("err = %v, want ErrBudgetExhausted (9 retries need more than the 8 tokens there ever are)", err)
			}
		})
	}
	wg.Wait()
	// 3 tokens to start with, 0.1 per call: at most 8 retries in all.
	if retries := attempts - calls; retries < 0 || retries > 8 {
		t.Fatalf("%d calls made %d retries, want at most 8", calls, retries)
	}
}

// TestDo_budgetOrder: the budget is asked last, after MaxTries, GiveUp and
// the deadline have let the retry happen, so they spend no token.
func TestDo_budgetOrder(t *testing.T) {
	bubble(t, func(t *testing.T) {
		budget := &backoff.Budget{Burst: 1}
		for _, tc := range []struct {
			name   string
			p      backoff.Policy
			reason error
		}{
			{"max tries", backoff.Policy{MaxTries: 1}, backoff.ErrMaxTries},
			{"give up", backoff.Policy{GiveUp: backoff.AnyError}, backoff.ErrGaveUp},
			{"deadline", backoff.Policy{Pause: time.Second, Deadline: time.Second}, backoff.ErrDeadline},
		} {
			tc.p.RetryIf, tc.p.Budget = backoff.AnyError, budget
			err := backoff.Run(context.Background(), tc.p, func(context.Context) error { return errDown })
			if !errors.Is(err, tc.reason) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.reason)
			}
		}
		// The one token is still there.
		p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Budget: budget}
		n := 0
		err := backoff.Run(context.Background(), p, func(context.Context) error { n++; return errDown })
		if n != 2 || !errors.Is(err, backoff.ErrBudgetExhausted) {
			t.Errorf("after the refusals: %d attempts, err %v; want 2 attempts (the token unspent), then the budget exhausted", n, err)
		}
	})
}

// TestDo_budgetOnPolicyClock: the time that earns tokens is the policy's
// clock's, here a fake one that only moves when the test says.
func TestDo_budgetOnPolicyClock(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC))
	p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Clock: clock,
		Budget: &backoff.Budget{PerSecond: 1, Burst: 1}}
	attempts := func() int {
		n := 0
		backoff.Run(context.Background(), p, func(context.Context) error { n++; return errDown })
		return n
	}
	for i, want := range []struct {
		advance  time.Duration
		attempts int
	}{{0, 2}, {0, 1}, {999 * time.Millisecond, 1}, {time.Millisecond, 2}, {time.Hour, 2}, {0, 1}} {
		clock.Advance(want.advance)
		if got := attempts(); got != want.attempts {
			t.Errorf("call %d, after %v more: %d attempts, want %d", i+1, want.advance, got, want.attempts)
		}
	}
}

// TestExecution_replayedLeavesBudget: a driver that rebuilds a call by
// replaying its events (Replayed) gets the decisions it got then, and the
// Budget is told nothing again: a replayed start earns nothing, a replayed
// retry spends nothing, and the next live retry spends as usual.
func TestExecution_replayedLeavesBudget(t *testing.T) {
	budget := &backoff.Budget{Ratio: 1, Burst: 2}
	p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.AnyError, Budget: budget}
	errDown := errors.New("down")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	events := []backoff.Event{
		{Kind: backoff.EventBegan, Start: t0},
		{Kind: backoff.EventEnded, At: 100 * time.Millisecond, Attempt: 1, Err: errDown},
		{Kind: backoff.EventFired, At: 1100 * time.Millisecond, Attempt: 2},
		{Kind: backoff.EventEnded, At: 1200 * time.Millisecond, Attempt: 2, Err: errDown},
	}
	live, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	var want []backoff.Action
	for _, e := range events { // the call as it happened: both retries spend the 2 tokens
		want = append(want, live.Step(e))
	}
	if want[3].Kind != backoff.ActionPause {
		t.Fatalf("the second retry: %+v, want a pause (the budget held 2 tokens)", want[3])
	}
	again, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		e.Replayed = true
		if got := again.Step(e); got != want[i] {
			t.Fatalf("replayed step %d: %+v, want %+v as it happened (the budget is empty now)", i, got, want[i])
		}
	}
	// Live again: attempt 3 fails, and the budget, told nothing by the
	// replay, has no token left for a third retry.
	again.Step(backoff.Event{Kind: backoff.EventFired, At: 3200 * time.Millisecond, Attempt: 3})
	a := again.Step(backoff.Event{Kind: backoff.EventEnded, At: 3300 * time.Millisecond, Attempt: 3, Err: errDown})
	if a.Kind != backoff.ActionFinish || !errors.Is(a.Err, backoff.ErrBudgetExhausted) {
		t.Fatalf("live retry after the replay: %+v, want a finish with ErrBudgetExhausted", a)
	}
}

// TestExecution_replayedKeepsStart: a call rebuilt from Replayed events
// keeps its start for the Budget, whose clock earns the next live retry.
func TestExecution_replayedKeepsStart(t *testing.T) {
	budget := &backoff.Budget{PerSecond: 1, Burst: 1}
	p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.AnyError, Budget: budget}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	live, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	began := backoff.Event{Kind: backoff.EventBegan, Start: t0}
	failed := backoff.Event{Kind: backoff.EventEnded, At: 100 * time.Millisecond, Attempt: 1, Err: errDown}
	live.Step(began)
	if a := live.Step(failed); a.Kind != backoff.ActionPause { // spends the one token, at t0+100ms
		t.Fatalf("first retry: %+v, want a pause", a)
	}
	again, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	began.Replayed, failed.Replayed = true, true
	again.Step(began)
	again.Step(failed)
	again.Step(backoff.Event{Kind: backoff.EventFired, At: 1100 * time.Millisecond, Attempt: 2})
	// At t0+1.2s the budget has earned a token since t0+100ms.
	a := again.Step(backoff.Event{Kind: backoff.EventEnded, At: 1200 * time.Millisecond, Attempt: 2, Err: errDown})
	if a.Kind != backoff.ActionPause {
		t.Fatalf("live retry after the replay: %+v, want a pause (the budget earned a token by t0+1.2s)", a)
	}
}
