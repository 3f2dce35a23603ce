package handoff_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/internal/handoff"
)

// Under a handoff.Context, an attempt that takes its cancel keeps its
// context alive after it returns, until its time limit or the cancel; an
// attempt that does not is cancelled when it returns, as under any other
// context; an attempt without a time limit runs under the Context itself.
func TestDo(t *testing.T) {
	for _, clock := range []struct {
		name string
		c    func() backoff.Clock
	}{
		{"system", func() backoff.Clock { return nil }},
		{"fake", func() backoff.Clock { return clockwork.NewFakeClock() }},
	} {
		t.Run(clock.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := clock.c()
				h := &handoff.Context{Context: t.Context()}
				var ctxs []context.Context
				var kept func()
				p := backoff.Policy{AttemptTimeout: time.Second, MaxTries: 3, RetryIf: backoff.AnyError, Clock: clk}
				_, err := backoff.Do(h, p, func(ctx context.Context) (int, error) {
					ctxs = append(ctxs, ctx)
					if len(ctxs) == 1 {
						return 0, errors.New("fail") // its cancel is left to Do
					}
					kept = h.Take()
					return 1, nil
				})
				if err != nil || len(ctxs) != 2 || kept == nil {
					t.Fatalf("Do: %v after %d attempts (cancel taken: %v); want success after 2", err, len(ctxs), kept != nil)
				}
				synctest.Wait()
				if ctxs[0].Err() == nil {
					t.Error("attempt 1's context is alive after it returned")
				}
				if ctxs[1].Err() != nil {
					t.Fatalf("attempt 2's context is done (%v) though its cancel was taken", ctxs[1].Err())
				}
				if h.Cancel != nil {
					t.Error("the Context still holds a cancel after Do returned")
				}
				if fc, ok := clk.(*clockwork.FakeClock); ok {
					fc.Advance(time.Second)
				} else {
					time.Sleep(time.Second)
				}
				synctest.Wait()
				if !errors.Is(context.Cause(ctxs[1]), backoff.ErrAttemptTimeout) {
					t.Errorf("attempt 2's context, at its time limit: cause %v; want ErrAttemptTimeout", context.Cause(ctxs[1]))
				}
				kept() // no harm after the limit

				var got context.Context
				backoff.Do(h, backoff.Policy{}, func(ctx context.Context) (int, error) {
					got = ctx
					return 0, nil
				})
				if got != context.Context(h) || h.Take() != nil {
					t.Errorf("without a time limit the attempt ran under %v, with a cancel to take; want the Context itself, nothing to take", got)
				}
			})
		})
	}
}

// A cancel taken and called ends the attempt's context at once.
func TestTake(t *testing.T) {
	h := &handoff.Context{Context: context.Background()}
	var ctx context.Context
	var kept func()
	backoff.Do(h, backoff.Policy{AttemptTimeout: time.Hour}, func(actx context.Context) (int, error) {
		ctx, kept = actx, h.Take()
		return 0, nil
	})
	if ctx.Err() != nil {
		t.Fatalf("the context is done (%v) before its cancel is called", ctx.Err())
	}
	kept()
	if ctx.Err() == nil {
		t.Error("the context is alive after its cancel")
	}
}
