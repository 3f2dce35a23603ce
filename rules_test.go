package backoff_test

// One test (or more) for every rule of README's "The rules", numbered as there.
// Each runs the executor on the system clock inside a testing/synctest
// bubble, so every instant is exact: T0 is the bubble's start, and an
// operation that "runs for d" sleeps d of virtual time. A bubble also fails
// the test if a goroutine is left blocked when it ends, so each of these is
// a goroutine leak test too.

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
)

const ms = time.Millisecond

var (
	errRetry = errors.New("retry me")
	errFatal = errors.New("fatal")
)

// result is what one Do call under synctest gave.
type result struct {
	v       int
	err     error
	elapsed time.Duration
}

func do(ctx context.Context, p backoff.Policy, o *op) result {
	v, err := backoff.Do(ctx, p, o.call)
	return result{v, err, time.Since(o.t0)}
}

// doAbandon is do with the operation wrapped in backoff.Abandon.
func doAbandon(ctx context.Context, p backoff.Policy, o *op) result {
	v, err := backoff.Do(ctx, p, backoff.Abandon(o.call))
	return result{v, err, time.Since(o.t0)}
}

// wantErr checks the *backoff.Error of r.
func (r result) wantErr(t *testing.T, reason, last error, attempts int, elapsed time.Duration) {
	t.Helper()
	var e *backoff.Error
	if !errors.As(r.err, &e) {
		t.Fatalf("err = %v (%T), want a *backoff.Error", r.err, r.err)
	}
	if e.Reason != reason || e.Last != last || e.Attempts != attempts || e.Elapsed != elapsed {
		t.Errorf("got Error{Reason: %v, Last: %v, Attempts: %d, Elapsed: %v}\nwant Error{Reason: %v, Last: %v, Attempts: %d, Elapsed: %v}",
			e.Reason, e.Last, e.Attempts, e.Elapsed, reason, last, attempts, elapsed)
	}
	if r.elapsed != elapsed {
		t.Errorf("Do returned after %v, want %v", r.elapsed, elapsed)
	}
}

func bubble(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	synctest.Test(t, f)
}

func TestRule1_success(t *testing.T) {
	bubble(t, func(t *testing.T) {
		o := newOp(step{d: 10 * ms, err: errRetry}, step{d: 10 * ms, err: errRetry}, step{d: 5 * ms, value: 42})
		r := do(t.Context(), backoff.Policy{Pause: 20 * ms, RetryIf: backoff.AnyError}, o)
		if r.err != nil || r.v != 42 {
			t.Fatalf("Do = %d, %v; want 42, nil", r.v, r.err)
		}
		if r.elapsed != 65*ms { // 10 + 20 + 10 + 20 + 5: returned the instant it succeeded
			t.Errorf("elapsed %v, want 65ms", r.elapsed)
		}
		o.wantStarts(t, 0, 30*ms, 60*ms)
	})
}

func TestRule2_attemptTimeout(t *testing.T) {
	t.Run("retried as ErrAttemptTimeout", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			// RetryIf is nil: nothing is retried but attempt timeouts.
			o := newOp(step{d: time.Hour})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, Pause: 10 * ms, MaxTries: 3}, o)
			r.wantErr(t, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 3, 320*ms)
			o.wantStarts(t, 0, 110*ms, 220*ms)
			if !errors.Is(r.err, context.DeadlineExceeded) {
				t.Error("errors.Is(err, context.DeadlineExceeded) = false after attempt timeouts")
			}
		})
	})
	t.Run("the caller's deadline is earlier", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 150*ms)
			defer cancel()
			o := newOp(step{d: time.Hour})
			r := do(ctx, backoff.Policy{AttemptTimeout: 100 * ms, Deadline: time.Second}, o)
			// attempt 1 is cut at 100ms by its timeout; attempt 2 at 150ms by ctx.
			r.wantErr(t, context.DeadlineExceeded, backoff.ErrAttemptTimeout, 2, 150*ms)
			if d, _ := o.ctxs[1].Deadline(); d != o.t0.Add(150*ms) {
				t.Errorf("attempt 2's Deadline() = T0+%v, want T0+150ms", d.Sub(o.t0))
			}
		})
	})
}

func TestRule3_cooperative(t *testing.T) {
	t.Run("the attempt ends when fn returns", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour, late: 30 * ms}, step{d: 10 * ms, value: 7})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, Pause: 5 * ms}, o)
			if r.err != nil || r.v != 7 {
				t.Fatalf("Do = %d, %v; want 7, nil", r.v, r.err)
			}
			// Cut at 100ms, returned at 130ms, paused 5ms: attempt 2 at 135ms.
			o.wantStarts(t, 0, 135*ms)
		})
	})
	t.Run("an error after the cut is the cut", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 150 * ms, err: errFatal, ignore: true})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, MaxTries: 2}, o)
			// fn ignores its context and returns a non-retryable error at
			// 150ms, after its time was up: the outcome is the timeout.
			r.wantErr(t, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 2, 300*ms)
		})
	})
	t.Run("a success after the cut is a success", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 150 * ms, value: 3, ignore: true})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms}, o)
			if r.err != nil || r.v != 3 || r.elapsed != 150*ms {
				t.Fatalf("Do = %d, %v after %v; want 3, nil after 150ms", r.v, r.err, r.elapsed)
			}
		})
	})
	t.Run("attempts never overlap", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			var running, overlaps atomic.Int32
			n := 0
			_, err := backoff.Do(t.Context(), backoff.Policy{AttemptTimeout: 10 * ms, MaxTries: 5},
				func(ctx context.Context) (int, error) {
					if running.Add(1) > 1 {
						overlaps.Add(1)
					}
					defer running.Add(-1)
					n++
					<-ctx.Done()
					time.Sleep(50 * ms) // slow to notice: the next attempt still waits
					return 0, ctx.Err()
				})
			if !errors.Is(err, backoff.ErrMaxTries) || n != 5 || overlaps.Load() != 0 {
				t.Fatalf("err %v, %d attempts, %d overlaps; want ErrMaxTries, 5, 0", err, n, overlaps.Load())
			}
		})
	})
	t.Run("an error exactly at the timeout is the timeout", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 100 * ms, err: errFatal, ignore: true})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, MaxTries: 1}, o)
			r.wantErr(t, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 1, 100*ms)
		})
	})
	t.Run("a success exactly at the timeout is a success", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 100 * ms, value: 1, ignore: true})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, MaxTries: 1}, o)
			if r.err != nil || r.v != 1 {
				t.Fatalf("Do = %d, %v; want 1, nil", r.v, r.err)
			}
		})
	})
}

func TestRule3_abandon(t *testing.T) {
	t.Run("returns on time when fn ignores its context", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour, err: errFatal, ignore: true})
			r := doAbandon(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, Pause: 10 * ms, MaxTries: 2}, o)
			r.wantErr(t, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 2, 210*ms)
			// Two attempts overlap now: the first was abandoned at 100ms.
			o.wantStarts(t, 0, 110*ms)
			time.Sleep(time.Hour) // let the abandoned goroutines end inside the bubble
		})
	})
	t.Run("a fn that returns in time is waited for", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 30 * ms, err: errRetry}, step{d: 40 * ms, value: 9})
			r := doAbandon(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, Pause: 10 * ms, RetryIf: backoff.On(errRetry)}, o)
			if r.err != nil || r.v != 9 || r.elapsed != 80*ms {
				t.Fatalf("Do = %d, %v after %v; want 9, nil after 80ms", r.v, r.err, r.elapsed)
			}
		})
	})
	t.Run("an error exactly at the timeout is the timeout", func(t *testing.T) {
		// Whichever the executor sees first at 100ms (the result or its
		// timer), the outcome is the same.
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 100 * ms, err: errFatal, ignore: true})
			r := doAbandon(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, MaxTries: 1}, o)
			r.wantErr(t, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 1, 100*ms)
		})
	})
	t.Run("no time limit: waits for fn", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour, value: 5, ignore: true})
			r := doAbandon(t.Context(), backoff.Policy{}, o)
			if r.err != nil || r.v != 5 || r.elapsed != time.Hour {
				t.Fatalf("Do = %d, %v after %v; want 5, nil after 1h", r.v, r.err, r.elapsed)
			}
		})
	})
}

func TestRule4_deadline(t *testing.T) {
	t.Run("during an attempt: Last is the previous failure", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 100 * ms, err: errRetry}, step{d: time.Hour})
			r := do(t.Context(), backoff.Policy{Deadline: 250 * ms, Pause: 50 * ms, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, backoff.ErrDeadline, errRetry, 2, 250*ms)
			if !errors.Is(r.err, errRetry) || !errors.Is(r.err, context.DeadlineExceeded) {
				t.Error("errors.Is must reach both the deadline and the last failure")
			}
		})
	})
	t.Run("cooperative: ends when the cut attempt returns", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour, late: 20 * ms})
			r := do(t.Context(), backoff.Policy{Deadline: 250 * ms}, o)
			r.wantErr(t, backoff.ErrDeadline, nil, 1, 270*ms)
		})
	})
	t.Run("abandon: ends at the deadline", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour, ignore: true})
			r := doAbandon(t.Context(), backoff.Policy{Deadline: 250 * ms}, o)
			r.wantErr(t, backoff.ErrDeadline, nil, 1, 250*ms)
			time.Sleep(time.Hour)
		})
	})
	t.Run("ties the attempt timeout and wins", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 500 * ms, Deadline: 500 * ms}, o)
			r.wantErr(t, backoff.ErrDeadline, nil, 1, 500*ms)
			if c := context.Cause(o.ctxs[0]); c != backoff.ErrDeadline {
				t.Errorf("the attempt's context cause is %v, want ErrDeadline", c)
			}
		})
	})
	t.Run("a later attempt ties it", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			// Attempts at 0 and 300ms; the second's timeout (600ms) is the
			// deadline: the deadline wins, Last is the first timeout.
			o := newOp(step{d: time.Hour})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 300 * ms, Deadline: 600 * ms}, o)
			r.wantErr(t, backoff.ErrDeadline, backoff.ErrAttemptTimeout, 2, 600*ms)
		})
	})
}

func TestRule5_noPointlessSleep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pause time.Duration
	}{{"the pause ends exactly at the deadline", 100 * ms}, {"the pause ends after it", 150 * ms}} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				o := newOp(step{d: 200 * ms, err: errRetry})
				r := do(t.Context(), backoff.Policy{Deadline: 300 * ms, Pause: tc.pause, RetryIf: backoff.AnyError}, o)
				r.wantErr(t, backoff.ErrDeadline, errRetry, 1, 200*ms) // at once, not at 300ms
			})
		})
	}
	t.Run("a pause that ends just before it is taken", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 200 * ms, err: errRetry})
			r := do(t.Context(), backoff.Policy{Deadline: 300 * ms, Pause: 99 * ms, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, backoff.ErrDeadline, errRetry, 2, 300*ms)
			o.wantStarts(t, 0, 299*ms)
		})
	})
}

func TestRule6_pause(t *testing.T) {
	t.Run("exactly Pause between attempts, none after the last", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 7 * ms, err: errRetry}, step{d: 3 * ms, err: errRetry}, step{d: 11 * ms, err: errRetry})
			r := do(t.Context(), backoff.Policy{Pause: 40 * ms, MaxTries: 3, RetryIf: backoff.AnyError}, o)
			o.wantStarts(t, 0, 47*ms, 90*ms)
			r.wantErr(t, backoff.ErrMaxTries, errRetry, 3, 101*ms)
		})
	})
	t.Run("zero pause starts the next attempt at once", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 7 * ms, err: errRetry})
			r := do(t.Context(), backoff.Policy{MaxTries: 4, RetryIf: backoff.AnyError}, o)
			o.wantStarts(t, 0, 7*ms, 14*ms, 21*ms)
			r.wantErr(t, backoff.ErrMaxTries, errRetry, 4, 28*ms)
		})
	})
	t.Run("no pause before the first attempt or after success", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 0, value: 1})
			r := do(t.Context(), backoff.Policy{Pause: time.Hour}, o)
			if r.err != nil || r.elapsed != 0 {
				t.Fatalf("Do = %v after %v, want nil after 0s", r.err, r.elapsed)
			}
		})
	})
}

func TestRule7_whichErrorsRetry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		retryIf func(error) bool
	}{{"nil RetryIf retries nothing", nil}, {"RetryIf false", backoff.On(errRetry)}} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				o := newOp(step{d: 10 * ms, err: errFatal})
				r := do(t.Context(), backoff.Policy{MaxTries: 5, Pause: ms, RetryIf: tc.retryIf}, o)
				r.wantErr(t, backoff.ErrNotRetryable, errFatal, 1, 10*ms)
			})
		})
	}
	t.Run("a non-retryable error after a retryable one is Last", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour}, step{d: 10 * ms, err: errFatal})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 100 * ms, Deadline: time.Second}, o)
			r.wantErr(t, backoff.ErrNotRetryable, errFatal, 2, 110*ms)
		})
	})
	t.Run("OnType", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{err: &tempError{}}, step{err: errFatal})
			r := do(t.Context(), backoff.Policy{RetryIf: backoff.OnType[*tempError](), MaxTries: 3}, o)
			r.wantErr(t, backoff.ErrNotRetryable, errFatal, 2, 0)
		})
	})
}

type tempError struct{}

func (*tempError) Error() string { return "temporary" }

func TestRule8_order(t *testing.T) {
	t.Run("MaxTries before GiveUp: not asked on the last try", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			asked := 0
			o := newOp(step{d: 10 * ms, err: errRetry})
			r := do(t.Context(), backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError,
				GiveUp: func(error) bool { asked++; return false }}, o)
			r.wantErr(t, backoff.ErrMaxTries, errRetry, 3, 30*ms)
			if asked != 2 {
				t.Errorf("GiveUp asked %d times, want 2", asked)
			}
		})
	})
	t.Run("MaxTries 1 never asks GiveUp", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{err: errRetry})
			r := do(t.Context(), backoff.Policy{MaxTries: 1, RetryIf: backoff.AnyError,
				GiveUp: func(error) bool { t.Error("GiveUp asked"); return true }}, o)
			r.wantErr(t, backoff.ErrMaxTries, errRetry, 1, 0)
		})
	})
	t.Run("GiveUp before the pause; Last is the error it saw", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			var seen error
			n := 0
			_, err := backoff.Do(t.Context(), backoff.Policy{Pause: time.Hour, RetryIf: backoff.AnyError,
				GiveUp: func(err error) bool { seen = err; return true }},
				func(context.Context) (int, error) { n++; return 0, errors.New("boom") })
			var e *backoff.Error
			if !errors.As(err, &e) || e.Reason != backoff.ErrGaveUp || e.Last != seen || seen == nil || n != 1 || e.Elapsed != 0 {
				t.Fatalf("err %#v after %d attempts, GiveUp saw %v", err, n, seen)
			}
		})
	})
	t.Run("GiveUp sees attempt timeouts", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: time.Hour})
			r := do(t.Context(), backoff.Policy{AttemptTimeout: 10 * ms, GiveUp: backoff.On(backoff.ErrAttemptTimeout)}, o)
			r.wantErr(t, backoff.ErrGaveUp, backoff.ErrAttemptTimeout, 1, 10*ms)
		})
	})
}

func TestRule9_parentContext(t *testing.T) {
	cause := errors.New("shutting down")
	t.Run("already done: fn is never called", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			cancel(cause)
			o := newOp(step{value: 1})
			r := doAbandon(ctx, backoff.Policy{}, o)
			r.wantErr(t, cause, nil, 0, 0)
			o.wantStarts(t)
		})
	})
	t.Run("during a pause: at once", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			time.AfterFunc(70*ms, func() { cancel(cause) })
			o := newOp(step{d: 50 * ms, err: errRetry})
			r := do(ctx, backoff.Policy{Pause: time.Hour, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, cause, errRetry, 1, 70*ms)
		})
	})
	t.Run("during an attempt: when fn returns", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			time.AfterFunc(170*ms, func() { cancel(cause) })
			o := newOp(step{d: 100 * ms, err: errRetry}, step{d: time.Hour, late: 30 * ms})
			r := do(ctx, backoff.Policy{Pause: 50 * ms, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, cause, errRetry, 2, 200*ms)
		})
	})
	t.Run("during an attempt with Abandon: at once", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			time.AfterFunc(170*ms, func() { cancel(cause) })
			o := newOp(step{d: 100 * ms, err: errRetry}, step{d: time.Hour, ignore: true})
			r := doAbandon(ctx, backoff.Policy{Pause: 50 * ms, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, cause, errRetry, 2, 170*ms)
			time.Sleep(time.Hour)
		})
	})
}

// Rule 9 with the caller's deadline: a pause that would reach it ends the
// call at once, as rule 5 does for the policy's Deadline; whichever
// deadline comes first decides.
func TestRule9_callerDeadline(t *testing.T) {
	withDeadline := func(t *testing.T, d time.Duration) context.Context {
		ctx, cancel := context.WithTimeout(t.Context(), d)
		t.Cleanup(cancel)
		return ctx
	}
	for _, tc := range []struct {
		name  string
		pause time.Duration
	}{{"the pause ends exactly at it", 100 * ms}, {"the pause ends after it", 150 * ms}} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				o := newOp(step{d: 200 * ms, err: errRetry})
				r := do(withDeadline(t, 300*ms), backoff.Policy{Pause: tc.pause, RetryIf: backoff.AnyError}, o)
				r.wantErr(t, context.DeadlineExceeded, errRetry, 1, 200*ms) // at once, not at 300ms
			})
		})
	}
	t.Run("a pause that ends just before it is taken", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 200 * ms, err: errRetry})
			r := do(withDeadline(t, 300*ms), backoff.Policy{Pause: 99 * ms, RetryIf: backoff.AnyError}, o)
			// Attempt 2 starts at 299ms, and the caller's deadline cuts it.
			r.wantErr(t, context.DeadlineExceeded, errRetry, 2, 300*ms)
			o.wantStarts(t, 0, 299*ms)
		})
	})
	t.Run("a delay hint that would reach it", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			hinted := backoff.RetryAfter(errRetry, time.Hour)
			o := newOp(step{d: 10 * ms, err: hinted})
			r := do(withDeadline(t, time.Minute), backoff.Policy{Pause: ms, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, context.DeadlineExceeded, hinted, 1, 10*ms)
		})
	})
	t.Run("the earlier of the two deadlines decides", func(t *testing.T) {
		bubble(t, func(t *testing.T) {
			o := newOp(step{d: 200 * ms, err: errRetry})
			r := do(withDeadline(t, 300*ms), backoff.Policy{Deadline: 250 * ms, Pause: 100 * ms, RetryIf: backoff.AnyError}, o)
			r.wantErr(t, backoff.ErrDeadline, errRetry, 1, 200*ms)
			r = do(withDeadline(t, 250*ms), backoff.Policy{Deadline: 300 * ms, Pause: 100 * ms, RetryIf: backoff.AnyError}, newOp(step{d: 200 * ms, err: errRetry}))
			r.wantErr(t, context.DeadlineExceeded, errRetry, 1, 200*ms)
		})
	})
}

func TestRule10_perCallState(t *testing.T) {
	bubble(t, func(t *testing.T) {
		p := backoff.Policy{Deadline: 600 * ms, MaxTries: 2, Pause: 100 * ms, RetryIf: backoff.AnyError}
		var calls atomic.Int32
		fn := func(context.Context) (int, error) { calls.Add(1); time.Sleep(200 * ms); return 0, errRetry }
		errs := make(chan error, 3)
		for range 3 {
			go func() { _, err := backoff.Do(t.Context(), p, fn); errs <- err }()
		}
		for range 3 {
			var e *backoff.Error
			if err := <-errs; !errors.As(err, &e) || e.Reason != backoff.ErrMaxTries || e.Attempts != 2 || e.Elapsed != 500*ms {
				t.Errorf("concurrent call: %v", err)
			}
		}
		if calls.Load() != 6 {
			t.Errorf("%d calls of fn, want 6 (2 per call)", calls.Load())
		}
		// A later call has the whole deadline again.
		start := time.Now()
		_, err := backoff.Do(t.Context(), p, fn)
		if !errors.Is(err, backoff.ErrMaxTries) || time.Since(start) != 500*ms {
			t.Errorf("second call: %v after %v", err, time.Since(start))
		}
	})
}

func TestRule11_panics(t *testing.T) {
	for _, abandon := range []bool{false, true} {
		name := map[bool]string{false: "cooperative", true: "abandon"}[abandon]
		t.Run(name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				type boom struct{ n int }
				defer func() {
					if r := recover(); r != (boom{2}) {
						t.Errorf("recovered %v, want boom{2}", r)
					}
				}()
				n := 0
				fn := func(context.Context) (int, error) {
					if n++; n == 2 {
						panic(boom{n})
					}
					return 0, errRetry
				}
				if abandon {
					fn = backoff.Abandon(fn)
				}
				backoff.Do(t.Context(), backoff.Policy{AttemptTimeout: time.Second, MaxTries: 3, RetryIf: backoff.AnyError}, fn)
				t.Error("Do returned")
			})
		})
	}
}

func TestRule12_attemptContext(t *testing.T) {
	for _, tc := range []struct {
		name      string
		p         backoff.Policy
		until     time.Duration
		wantCause error
	}{
		{"attempt timeout", backoff.Policy{AttemptTimeout: 100 * ms, Deadline: time.Second, MaxTries: 1}, 100 * ms, backoff.ErrAttemptTimeout},
		{"deadline", backoff.Policy{AttemptTimeout: time.Second, Deadline: 100 * ms}, 100 * ms, backoff.ErrDeadline},
	} {
		for _, abandon := range []bool{false, true} {
			t.Run(tc.name+map[bool]string{false: "", true: " abandon"}[abandon], func(t *testing.T) {
				bubble(t, func(t *testing.T) {
					t0 := time.Now()
					adapt := func(fn func(context.Context) (int, error)) func(context.Context) (int, error) { return fn }
					if abandon {
						adapt = backoff.Abandon[int]
					}
					backoff.Do(t.Context(), tc.p, adapt(func(ctx context.Context) (int, error) {
						if d, ok := ctx.Deadline(); !ok || d != t0.Add(tc.until) {
							t.Errorf("Deadline() = T0+%v, %v; want T0+%v", d.Sub(t0), ok, tc.until)
						}
						if ctx.Err() != nil || context.Cause(ctx) != nil {
							t.Errorf("before the cut: Err %v, Cause %v", ctx.Err(), context.Cause(ctx))
						}
						<-ctx.Done()
						if time.Since(t0) != tc.until || ctx.Err() != context.DeadlineExceeded || context.Cause(ctx) != tc.wantCause {
							t.Errorf("at %v: Err %v, Cause %v; want at %v: %v, %v", time.Since(t0), ctx.Err(), context.Cause(ctx), tc.until, context.DeadlineExceeded, tc.wantCause)
						}
						return 0, ctx.Err()
					}))
				})
			})
		}
	}
	t.Run("no time limit: the caller's context itself", func(t *testing.T) {
		ctx := context.WithValue(context.Background(), ctxKey{}, 1)
		backoff.Do(ctx, backoff.Policy{}, func(actx context.Context) (int, error) {
			if actx != ctx {
				t.Error("without a time limit, fn should get the caller's context as it is")
			}
			return 0, nil
		})
	})
}

type ctxKey struct{}

// TestRule3_abandonEchoIsTheCut: with Abandon, an attempt whose context is
// done before the adapter waits for it, and that returns its context's
// error at once, makes both cases of the adapter's wait ready. Whichever
// it takes, the call must end the same way: cut by the caller's cancel,
// with the cause as Reason and no Last, every time.
func TestRule3_abandonEchoIsTheCut(t *testing.T) {
	for range 500 {
		ctx, cancel := context.WithCancelCause(context.Background())
		cause := errors.New("stop")
		var last backoff.Action
		p := backoff.Policy{Observer: backoff.ObserverFunc(func(e backoff.Event, a backoff.Action) {
			if a.Kind == backoff.ActionStart {
				cancel(cause) // before fn runs: its context is done at once
			}
			last = a
		})}
		_, err := backoff.Do(ctx, p, backoff.Abandon(func(ctx context.Context) (int, error) {
			return 0, ctx.Err() // at once: often before the adapter waits
		}))
		var e *backoff.Error
		if !errors.As(err, &e) || e.Reason != cause || e.Last != nil || last.Outcome != backoff.OutcomeCut {
			t.Fatalf("err %v, last outcome %v; want the cause, no Last, and the attempt cut", err, last.Outcome)
		}
	}
}
