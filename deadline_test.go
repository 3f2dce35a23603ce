package backoff_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

// TestWithDeadline: on a fake clock and on the system clock alike, the
// context is done at d with the cause, its Err is DeadlineExceeded then
// (and nil before), its Deadline is d or the parent's earlier one.
func TestWithDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fc := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		cut := errors.New("cut")
		for _, clk := range []backoff.Clock{nil, fc} {
			now := time.Now
			advance := time.Sleep
			if clk != nil {
				now, advance = fc.Now, fc.Advance
			}
			d := now().Add(50 * ms)
			ctx, cancel := backoff.WithDeadline(t.Context(), clk, d, cut)
			if got, ok := ctx.Deadline(); !ok || !got.Equal(d) || ctx.Err() != nil {
				t.Errorf("clock %T: Deadline %v %v, Err %v before d; want d, true, nil", clk, got, ok, ctx.Err())
			}
			advance(50 * ms)
			synctest.Wait() // a fake clock's timer cancels it in a goroutine of its own
			if ctx.Err() != context.DeadlineExceeded || context.Cause(ctx) != cut {
				t.Errorf("clock %T: at d, Err %v, Cause %v; want DeadlineExceeded, cut", clk, ctx.Err(), context.Cause(ctx))
			}
			cancel()

			// No cause: DeadlineExceeded. A parent's earlier deadline wins.
			parent, stop := backoff.WithDeadline(t.Context(), clk, now().Add(10*ms), nil)
			ctx, cancel = backoff.WithDeadline(parent, clk, now().Add(time.Hour), cut)
			if got, _ := ctx.Deadline(); !got.Equal(now().Add(10 * ms)) {
				t.Errorf("clock %T: Deadline is %v; want the parent's, 10ms away", clk, got.Sub(now()))
			}
			advance(10 * ms)
			synctest.Wait()
			if ctx.Err() != context.DeadlineExceeded || context.Cause(ctx) != context.DeadlineExceeded {
				t.Errorf("clock %T: cut by the parent: Err %v, Cause %v; want DeadlineExceeded twice", clk, ctx.Err(), context.Cause(ctx))
			}
			cancel()
			stop()
		}
		// cancel stops a fake clock's timer: nothing is left armed.
		_, cancel := backoff.WithDeadline(t.Context(), fc, fc.Now().Add(time.Hour), nil)
		cancel()
		ctx, stop := context.WithTimeout(context.Background(), time.Millisecond)
		defer stop()
		if err := fc.BlockUntilContext(ctx, 1); err == nil {
			t.Error("a timer of the fake clock is still armed after cancel")
		}
	})
}
