package backoff_test

// A port of aiomisc's tests/test_backoff.py (its 17 test functions), one
// TestAiomisc_<name> per Python test.
//
// Every timed test runs in a testing/synctest bubble with the default (nil)
// clock, so time is virtual and the Python "roughly" bounds become exact
// values, worked out by hand from README's "The rules". The Python
// "sleep(x)" of an attempt is aioSleep: a wait that returns ctx.Err() when
// the attempt's context is done, as an asyncio coroutine is cancelled at its
// await. Where this library deliberately differs from aiomisc, the test
// asserts the new behaviour and a comment says why.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
)

// aioValueError is Python's ValueError. Each failure is a new value, so that
// identity (Python's "is") can be checked with ==.
type aioValueError struct{ msg string }

func (e *aioValueError) Error() string { return e.msg }

// aioSleep is the body's "await asyncio.sleep(d)": it returns nil after d,
// or ctx.Err() as soon as the attempt's context is done (where asyncio would
// cancel the coroutine).
func aioSleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// aioWantError checks that err is a *backoff.Error with exactly these
// fields, and that errors.Is reaches both Reason and Last through it.
func aioWantError(t *testing.T, err error, reason, last error, attempts int, elapsed time.Duration) *backoff.Error {
	t.Helper()
	var e *backoff.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want a *backoff.Error", err, err)
	}
	if e.Reason != reason {
		t.Errorf("Reason = %v, want %v", e.Reason, reason)
	}
	if e.Last != last {
		t.Errorf("Last = %v, want %v (compared by identity)", e.Last, last)
	}
	if e.Attempts != attempts {
		t.Errorf("Attempts = %d, want %d", e.Attempts, attempts)
	}
	if e.Elapsed != elapsed {
		t.Errorf("Elapsed = %v, want %v", e.Elapsed, elapsed)
	}
	if !errors.Is(err, reason) {
		t.Errorf("errors.Is(err, %v) = false", reason)
	}
	if last != nil && !errors.Is(err, last) {
		t.Errorf("errors.Is(err, %v) = false", last)
	}
	return e
}

// aioWantRetry is pytest.raises(ValueError, match="^RETRY$"): a
// *aioValueError whose message is exactly "RETRY" is reachable through err.
func aioWantRetry(t *testing.T, err error) *aioValueError {
	t.Helper()
	var ve *aioValueError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want it to wrap a ValueError", err)
	}
	if ve.msg != "RETRY" {
		t.Fatalf("ValueError message = %q, want %q", ve.msg, "RETRY")
	}
	return ve
}

// aioWantTimeout is pytest.raises(asyncio.TimeoutError): both ErrDeadline
// and ErrAttemptTimeout (and a context deadline) match DeadlineExceeded.
func aioWantTimeout(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
}

// aioResult is what a call run in its own goroutine (Python's create_task)
// reports when it returns.
type aioResult struct {
	err     error
	elapsed time.Duration
}

// test_kwargs: asyncbackoff(attempt_timeout=0.5, deadline=0.5, pause=0,
// exceptions=(Exception,)); the body sleeps 5 s. Two awaits, each a timeout.
func TestAiomisc_kwargs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Go has no keyword arguments; the policy is built field by field.
		var p backoff.Policy
		p.AttemptTimeout = 500 * time.Millisecond
		p.Deadline = 500 * time.Millisecond
		p.Pause = 0
		p.RetryIf = backoff.AnyError

		mana := 0
		var causes []error
		fn := func(ctx context.Context) (struct{}, error) {
			if mana < 500 {
				mana++
				if err := aioSleep(ctx, 5*time.Second); err != nil {
					causes = append(causes, context.Cause(ctx))
					return struct{}{}, err
				}
				return struct{}{}, &aioValueError{"ValueError"}
			}
			return struct{}{}, nil
		}

		start := time.Now()
		// Each call: attempt 1 at 0, cut at 0.5 s where the deadline ties the
		// attempt timeout; the deadline wins (rule 4), so Reason=ErrDeadline
		// and Last=nil (aiomisc raises a bare TimeoutError: R9b).
		_, err := backoff.Do(t.Context(), p, fn)
		aioWantTimeout(t, err)
		aioWantError(t, err, backoff.ErrDeadline, nil, 1, 500*time.Millisecond)
		if got := time.Since(start); got != 500*time.Millisecond {
			t.Errorf("t2 = %v, want 500ms", got)
		}

		_, err = backoff.Do(t.Context(), p, fn)
		aioWantTimeout(t, err)
		aioWantError(t, err, backoff.ErrDeadline, nil, 1, 500*time.Millisecond)
		if got := time.Since(start); got != time.Second {
			t.Errorf("t3 = %v, want 1s", got)
		}

		if mana != 2 {
			t.Errorf("mana = %d, want 2", mana)
		}
		// Rule 12: the attempt's context was cut by the deadline.
		for i, c := range causes {
			if c != backoff.ErrDeadline {
				t.Errorf("attempt %d: context.Cause = %v, want ErrDeadline", i+1, c)
			}
		}
	})
}

// test_simple: asyncbackoff(0.10, 1, 0, Exception); the body fails with
// ValueError after 0.05 s five times, then returns.
func TestAiomisc_simple(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana, calls := 0, 0
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: 100 * time.Millisecond,
			Deadline:       time.Second,
			RetryIf:        backoff.AnyError,
		}, func(ctx context.Context) (int, error) {
			calls++
			if mana < 5 {
				mana++
				if err := aioSleep(ctx, 50*time.Millisecond); err != nil {
					return 0, err
				}
				return 0, &aioValueError{"ValueError"}
			}
			return mana, nil
		})

		// Attempts 1-5 each fail at 0.05 s (before their 0.1 s timeout) and
		// the next starts at once (no pause): attempt k runs from
		// 0.05(k-1) to 0.05k. Attempt 6 starts at 0.25 s and succeeds.
		start := time.Now()
		v, err := fn(t.Context())
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		if v != 5 {
			t.Errorf("value = %d, want 5", v)
		}
		if mana != 5 || calls != 6 {
			t.Errorf("mana = %d, calls = %d; want 5, 6", mana, calls)
		}
		if got := time.Since(start); got != 250*time.Millisecond {
			t.Errorf("elapsed = %v, want 250ms", got)
		}
	})
}

// test_simple_fail: asyncbackoff(0.10, 0.5), no exceptions (only timeouts
// retried); the body fails with ValueError after 0.05 s.
func TestAiomisc_simple_fail(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		var fail error
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: 100 * time.Millisecond,
			Deadline:       500 * time.Millisecond,
		}, func(ctx context.Context) (struct{}, error) {
			mana++
			if err := aioSleep(ctx, 50*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			fail = &aioValueError{"ValueError"}
			return struct{}{}, fail
		})

		start := time.Now()
		_, err := fn(t.Context())
		// Rule 7: a nil RetryIf retries nothing; the ValueError is Last,
		// immediately, at 0.05 s (aiomisc raises the ValueError itself).
		aioWantError(t, err, backoff.ErrNotRetryable, fail, 1, 50*time.Millisecond)
		if mana != 1 {
			t.Errorf("mana = %d, want 1", mana)
		}
		if got := time.Since(start); got != 50*time.Millisecond {
			t.Errorf("elapsed = %v, want 50ms", got)
		}
	})
}

// test_too_long: asyncbackoff(0.5, 0.5, 0, Exception); the body sleeps 5 s.
func TestAiomisc_too_long(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: 500 * time.Millisecond,
			Deadline:       500 * time.Millisecond,
			RetryIf:        backoff.AnyError,
		}, func(ctx context.Context) (struct{}, error) {
			mana++
			if err := aioSleep(ctx, 5*time.Second); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, &aioValueError{"ValueError"}
		})

		start := time.Now()
		_, err := fn(t.Context())
		aioWantTimeout(t, err)
		// The deadline ties the attempt timeout at 0.5 s and wins (rule 4):
		// Reason=ErrDeadline, and no failure before it, so Last=nil.
		aioWantError(t, err, backoff.ErrDeadline, nil, 1, 500*time.Millisecond)
		if mana != 1 {
			t.Errorf("mana = %d, want 1", mana)
		}
		if got := time.Since(start); got != 500*time.Millisecond {
			t.Errorf("elapsed = %v, want 500ms", got)
		}
	})
}

// test_too_long_multiple_times: asyncbackoff(0.06, 0.5, 0, Exception) called
// under wait_for(timeout=2); the body sleeps 5 s.
func TestAiomisc_too_long_multiple_times(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const attempt, deadline = 60 * time.Millisecond, 500 * time.Millisecond
		start := time.Now()
		mana := 0
		var deadlines []time.Duration
		var causes []error
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: attempt,
			Deadline:       deadline,
			RetryIf:        backoff.AnyError,
		}, func(ctx context.Context) (struct{}, error) {
			mana++
			d, _ := ctx.Deadline()
			deadlines = append(deadlines, d.Sub(start))
			if err := aioSleep(ctx, 5*time.Second); err != nil {
				causes = append(causes, context.Cause(ctx))
				return struct{}{}, err
			}
			return struct{}{}, &aioValueError{"ValueError"}
		})

		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_, err := fn(ctx)
		// Timeline: attempt k starts at 0.06(k-1), its time is up at
		// min(0.06k, 0.5). Attempts 1-8 time out at 0.06 ... 0.48 and are
		// retried at once; attempt 9 starts at 0.48 and the deadline cuts it
		// at 0.5. So 9 attempts (aiomisc: "8 or 9"), Reason=ErrDeadline, and
		// Last is the 8th attempt's ErrAttemptTimeout (aiomisc raises that
		// TimeoutError itself: R9a).
		aioWantTimeout(t, err)
		aioWantError(t, err, backoff.ErrDeadline, backoff.ErrAttemptTimeout, 9, deadline)
		if mana != 9 {
			t.Errorf("mana = %d, want 9", mana)
		}
		if got := time.Since(start); got != deadline {
			t.Errorf("elapsed = %v, want %v", got, deadline)
		}
		// Rule 12: D_k and the cause of each cut, as seen inside fn.
		for k := 1; k <= 9; k++ {
			wantD, wantC := time.Duration(k)*attempt, backoff.ErrAttemptTimeout
			if k == 9 {
				wantD, wantC = deadline, backoff.ErrDeadline
			}
			if k <= len(deadlines) && deadlines[k-1] != wantD {
				t.Errorf("attempt %d: ctx.Deadline = %v, want %v", k, deadlines[k-1], wantD)
			}
			if k <= len(causes) && causes[k-1] != wantC {
				t.Errorf("attempt %d: context.Cause = %v, want %v", k, causes[k-1], wantC)
			}
		}
	})
}

// test_exit: asyncbackoff(0.05, 0) (deadline 0); the body sleeps 5 s.
// aiomisc raises TimeoutError at once without calling the body (E2).
//
// In Go a zero Deadline means "no deadline" (Policy's zero values), so there is no
// one-to-one port. It maps to three cases: the closest in meaning (no time
// at all for the call: an already expired ctx), the closest in form (a
// deadline shorter than the first attempt's timeout), and what Deadline 0
// now means (no deadline), bounded by MaxTries so that it ends. (Validate
// refuses a RetryIf that nothing bounds, so the first case has a MaxTries
// too, never reached.)
func TestAiomisc_exit(t *testing.T) {
	t.Run("expired_ctx", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			mana := 0
			fn := backoff.Wrap(backoff.Policy{
				AttemptTimeout: 50 * time.Millisecond,
				MaxTries:       3,
				RetryIf:        backoff.AnyError,
			}, func(ctx context.Context) (struct{}, error) {
				mana++
				return struct{}{}, aioSleep(ctx, 5*time.Second)
			})
			ctx, cancel := context.WithDeadline(t.Context(), time.Now())
			defer cancel()
			_, err := fn(ctx)
			// Rule 9: ctx already done, fn never called; Reason=Cause(ctx).
			aioWantTimeout(t, err)
			aioWantError(t, err, context.DeadlineExceeded, nil, 0, 0)
			if mana != 0 {
				t.Errorf("mana = %d, want 0", mana)
			}
		})
	})
	t.Run("deadline_1ns", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			mana := 0
			fn := backoff.Wrap(backoff.Policy{
				AttemptTimeout: 50 * time.Millisecond,
				Deadline:       time.Nanosecond,
				RetryIf:        backoff.AnyError,
			}, func(ctx context.Context) (struct{}, error) {
				mana++
				if err := aioSleep(ctx, 5*time.Second); err != nil {
					return struct{}{}, err
				}
				return struct{}{}, &aioValueError{"ValueError"}
			})
			start := time.Now()
			_, err := fn(t.Context())
			// The smallest positive deadline: attempt 1 starts (a positive
			// deadline never prevents the first call) and is cut at 1ns by
			// the deadline, not its 50ms timeout (rule 2: D_1 = min).
			aioWantTimeout(t, err)
			aioWantError(t, err, backoff.ErrDeadline, nil, 1, time.Nanosecond)
			if mana != 1 {
				t.Errorf("mana = %d, want 1", mana)
			}
			if got := time.Since(start); got != time.Nanosecond {
				t.Errorf("elapsed = %v, want 1ns", got)
			}
		})
	})
	t.Run("deadline_0_is_none", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			mana := 0
			fn := backoff.Wrap(backoff.Policy{
				AttemptTimeout: 50 * time.Millisecond,
				Deadline:       0,
				MaxTries:       10,
				RetryIf:        backoff.AnyError,
			}, func(ctx context.Context) (struct{}, error) {
				mana++
				if err := aioSleep(ctx, 5*time.Second); err != nil {
					return struct{}{}, err
				}
				return struct{}{}, &aioValueError{"ValueError"}
			})
			start := time.Now()
			_, err := fn(t.Context())
			// No deadline: attempts 1-10 each time out after 0.05 s, back to
			// back; the 10th ends at 0.5 s and MaxTries stops the call.
			// mana < 11, as upstream asserts.
			aioWantTimeout(t, err)
			aioWantError(t, err, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 10, 500*time.Millisecond)
			if mana != 10 {
				t.Errorf("mana = %d, want 10", mana)
			}
			if got := time.Since(start); got != 500*time.Millisecond {
				t.Errorf("elapsed = %v, want 500ms", got)
			}
		})
	})
}

// test_pause: asyncbackoff(0.05, 1.2, 0.35), no exceptions; the body bumps
// mana, notifies, and sleeps 0.2 s (so it always times out at 0.05 s). The
// test waits (5 s at most) for the second attempt, then awaits the task.
func TestAiomisc_pause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		started := make(chan int, 8) // the condition: mana after each bump
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: 50 * time.Millisecond,
			Deadline:       1200 * time.Millisecond,
			Pause:          350 * time.Millisecond,
		}, func(ctx context.Context) (struct{}, error) {
			mana++
			started <- mana
			if err := aioSleep(ctx, 200*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, &aioValueError{"ValueError"} // never reached
		})

		start := time.Now()
		done := make(chan aioResult, 1)
		go func() {
			_, err := fn(t.Context())
			done <- aioResult{err, time.Since(start)}
		}()

		timeout := time.After(5 * time.Second)
		for m := 0; m != 2; {
			select {
			case m = <-started:
			case <-timeout:
				t.Fatal("no second attempt within 5s")
			}
		}
		// Attempt 1: 0 - 0.05 (timeout), pause to 0.40; attempt 2 starts.
		if got := time.Since(start); got != 400*time.Millisecond {
			t.Errorf("second attempt started at %v, want 400ms", got)
		}

		r := <-done
		// Attempt 2: 0.40 - 0.45, pause to 0.80; attempt 3: 0.80 - 0.85.
		// The next pause would end at 0.85 + 0.35 = 1.20, which is the
		// deadline: rule 5 returns at once at 0.85 s with ErrDeadline
		// (aiomisc sleeps into the deadline and raises at 1.2 s).
		aioWantTimeout(t, r.err)
		aioWantError(t, r.err, backoff.ErrDeadline, backoff.ErrAttemptTimeout, 3, 850*time.Millisecond)
		if r.elapsed != 850*time.Millisecond {
			t.Errorf("elapsed = %v, want 850ms", r.elapsed)
		}
		if mana != 3 {
			t.Errorf("mana = %d, want 3", mana)
		}
	})
}

// test_no_waterline: asyncbackoff(None, 1, 0, Exception); the body sleeps
// 0.1 s, notifies and raises ValueError("RETRY"). The test waits (2 s at
// most) for mana >= 5, then the task must raise ValueError("RETRY").
func TestAiomisc_no_waterline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		var fails []error
		notified := make(chan int, 16)
		fn := backoff.Wrap(backoff.Policy{
			Deadline: time.Second,
			RetryIf:  backoff.AnyError,
		}, func(ctx context.Context) (struct{}, error) {
			mana++
			if err := aioSleep(ctx, 100*time.Millisecond); err != nil {
				return struct{}{}, err
			}
			notified <- mana
			err := &aioValueError{"RETRY"}
			fails = append(fails, err)
			return struct{}{}, err
		})

		start := time.Now()
		done := make(chan aioResult, 1)
		go func() {
			_, err := fn(t.Context())
			done <- aioResult{err, time.Since(start)}
		}()

		timeout := time.After(2 * time.Second)
		for m := 0; m < 5; {
			select {
			case m = <-notified:
			case <-timeout:
				t.Fatal("mana did not reach 5 within 2s")
			}
		}
		if got := time.Since(start); got != 500*time.Millisecond {
			t.Errorf("mana reached 5 at %v, want 500ms", got)
		}

		r := <-done
		// Attempt k runs from 0.1(k-1) to 0.1k and fails with RETRY,
		// retried at once. Attempt 10 starts at 0.9 and its sleep ends at
		// 1.0, exactly when the deadline cuts its context: whichever the
		// select picks, an error at the cut is the cut (rule 3), so it does
		// not replace Last. Reason=ErrDeadline and Last is attempt 9's very
		// ValueError (aiomisc raises that ValueError itself: R9a).
		if len(fails) < 9 {
			t.Fatalf("%d failures recorded, want at least 9", len(fails))
		}
		aioWantRetry(t, r.err)
		aioWantError(t, r.err, backoff.ErrDeadline, fails[8], 10, time.Second)
		if r.elapsed != time.Second {
			t.Errorf("elapsed = %v, want 1s", r.elapsed)
		}
		if mana != 10 {
			t.Errorf("mana = %d, want 10", mana)
		}
	})
}

// test_no_deadline[max_sleep]: asyncbackoff(0.15, None, 0, Exception);
// attempt k sleeps max_sleep - 0.1(k-1), then notifies and returns. The test
// waits (max_sleep*10 s at most) for mana == max_sleep*10, then for the task
// (max_sleep s at most).
//
// Exception is retried with no pause and no bound: Validate refuses that
// policy (a body that failed at once would be called again without end).
// The body here fails only by its attempt timeout, which is always
// retried, so the policy without a RetryIf makes the same calls.
func TestAiomisc_no_deadline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxSleep time.Duration
		mana     int           // the successful attempt: max_sleep*10
		elapsed  time.Duration // (mana-1) timeouts of 0.15 s, then 0.1 s
	}{
		// Sleeps 0.5, 0.4, 0.3, 0.2 time out at 0.15 each (0.6 s); the 5th
		// sleeps 0.1 and succeeds at 0.7 s.
		{"max_sleep=0.5", 500 * time.Millisecond, 5, 700 * time.Millisecond},
		// Sleeps 1.0 ... 0.2 time out (9 x 0.15 = 1.35 s); the 10th sleeps
		// 0.1 and succeeds at 1.45 s.
		{"max_sleep=1", time.Second, 10, 1450 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mana := 0
				notified := make(chan int, 1)
				fn := backoff.Wrap(backoff.Policy{
					AttemptTimeout: 150 * time.Millisecond,
				}, func(ctx context.Context) (struct{}, error) {
					mana++
					d := tc.maxSleep - time.Duration(mana-1)*100*time.Millisecond
					if err := aioSleep(ctx, d); err != nil {
						return struct{}{}, err
					}
					notified <- mana
					return struct{}{}, nil
				})

				start := time.Now()
				done := make(chan aioResult, 1)
				go func() {
					_, err := fn(t.Context())
					done <- aioResult{err, time.Since(start)}
				}()

				select {
				case m := <-notified:
					if m != tc.mana {
						t.Errorf("notified with mana = %d, want %d", m, tc.mana)
					}
				case <-time.After(time.Duration(tc.mana) * time.Second):
					t.Fatalf("no notification within %ds", tc.mana)
				}
				select {
				case r := <-done:
					if r.err != nil {
						t.Fatalf("err = %v, want nil", r.err)
					}
					if r.elapsed != tc.elapsed {
						t.Errorf("elapsed = %v, want %v", r.elapsed, tc.elapsed)
					}
				case <-time.After(tc.maxSleep):
					t.Fatalf("the call did not return within %v", tc.maxSleep)
				}
				if mana != tc.mana {
					t.Errorf("mana = %d, want %d", mana, tc.mana)
				}
			})
		})
	}
}

// test_values: invalid arguments. aiomisc raises ValueError from the
// constructor; here Policy.Validate (and Do, before calling fn) returns an
// error matching ErrInvalidPolicy that names the field. No time passes, so
// no bubble is needed.
func TestAiomisc_values(t *testing.T) {
	fields := []string{"AttemptTimeout", "Deadline", "Pause", "MaxTries"}
	for _, tc := range []struct {
		name  string
		p     backoff.Policy
		field string
	}{
		{"asyncbackoff(-1, 1)", backoff.Policy{AttemptTimeout: -time.Second, Deadline: time.Second}, "AttemptTimeout"},
		{"asyncbackoff(0, -1)", backoff.Policy{AttemptTimeout: 0, Deadline: -time.Second}, "Deadline"},
		{"asyncbackoff(0, 0, -0.1)", backoff.Policy{Pause: -100 * time.Millisecond}, "Pause"},
		// Not in test_values, but aiomisc's max_tries < 1 check (E13); in
		// Go 0 means "no limit", so only a negative value is invalid.
		{"max_tries=-1", backoff.Policy{MaxTries: -1}, "MaxTries"},
	} {
		err := tc.p.Validate()
		if !errors.Is(err, backoff.ErrInvalidPolicy) {
			t.Errorf("%s: Validate() = %v, want ErrInvalidPolicy", tc.name, err)
			continue
		}
		for _, f := range fields {
			// "Deadline" is not a substring of another field's name, nor
			// the reverse, so Contains checks exactly which field is named.
			if named := strings.Contains(err.Error(), f); named != (f == tc.field) {
				t.Errorf("%s: Validate() = %q; names %s: %v, want %v", tc.name, err, f, named, f == tc.field)
			}
		}

		// Do and Wrap check the policy before calling fn.
		called := false
		fn := func(context.Context) (int, error) { called = true; return 0, nil }
		if _, err := backoff.Do(context.Background(), tc.p, fn); !errors.Is(err, backoff.ErrInvalidPolicy) ||
			!strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Do = %v, want ErrInvalidPolicy naming %s", tc.name, err, tc.field)
		}
		if _, err := backoff.Wrap(tc.p, fn)(context.Background()); !errors.Is(err, backoff.ErrInvalidPolicy) {
			t.Errorf("%s: Wrap(...)() = %v, want ErrInvalidPolicy", tc.name, err)
		}
		if called {
			t.Errorf("%s: fn called under an invalid policy", tc.name)
		}
	}

	// aiomisc accepts 0 for both timeouts: so does Go (0 = not set).
	if err := (backoff.Policy{AttemptTimeout: 0, Deadline: 0}).Validate(); err != nil {
		t.Errorf("Policy{0, 0}.Validate() = %v, want nil", err)
	}

	// asyncbackoff(0, 0)(lambda x: None) raises TypeError at decoration.
	// Go's types rule out a non-context func; the remaining bad operation is
	// a nil func, which Do, Run and the func made by Wrap report as an
	// error at call time (Wrap cannot return one), never as a panic.
	ctx := context.Background()
	if _, err := backoff.Do[int](ctx, backoff.Policy{}, nil); err == nil {
		t.Error("Do(nil) = nil error, want an error")
	}
	if err := backoff.Run(ctx, backoff.Policy{}, nil); err == nil {
		t.Error("Run(nil) = nil error, want an error")
	}
	wrapped := backoff.Wrap[int](backoff.Policy{}, nil)
	if wrapped == nil {
		t.Fatal("Wrap(nil) = nil func")
	}
	if _, err := wrapped(ctx); err == nil {
		t.Error("Wrap(nil)() = nil error, want an error")
	}
}

// test_too_long_multiple: test_kwargs with positional arguments; guards
// PR #22: the deadline is per call, so the second call has its full 0.5 s.
func TestAiomisc_too_long_multiple(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: 500 * time.Millisecond,
			Deadline:       500 * time.Millisecond,
			RetryIf:        backoff.AnyError,
		}, func(ctx context.Context) (struct{}, error) {
			if mana < 500 {
				mana++
				if err := aioSleep(ctx, 5*time.Second); err != nil {
					return struct{}{}, err
				}
				return struct{}{}, &aioValueError{"ValueError"}
			}
			return struct{}{}, nil
		})

		start := time.Now()
		// Each call: one attempt, cut at 0.5 s by the deadline, which wins
		// its tie with the attempt timeout (rule 4).
		_, err := fn(t.Context())
		aioWantTimeout(t, err)
		aioWantError(t, err, backoff.ErrDeadline, nil, 1, 500*time.Millisecond)
		if got := time.Since(start); got != 500*time.Millisecond {
			t.Errorf("t2 = %v, want 500ms", got)
		}

		_, err = fn(t.Context())
		aioWantTimeout(t, err)
		aioWantError(t, err, backoff.ErrDeadline, nil, 1, 500*time.Millisecond)
		if got := time.Since(start); got != time.Second {
			t.Errorf("t3 = %v, want 1s", got)
		}
		if mana != 2 {
			t.Errorf("mana = %d, want 2", mana)
		}
	})
}

// test_max_tries[N]: asyncbackoff(0.5, 0.5, 0, Exception, max_tries=N); the
// body raises ValueError("RETRY") at once.
func TestAiomisc_max_tries(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("max_tries=%d", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mana := 0
				var last error
				fn := backoff.Wrap(backoff.Policy{
					AttemptTimeout: 500 * time.Millisecond,
					Deadline:       500 * time.Millisecond,
					RetryIf:        backoff.AnyError,
					MaxTries:       n,
				}, func(ctx context.Context) (struct{}, error) {
					mana++
					last = &aioValueError{"RETRY"}
					return struct{}{}, last
				})

				_, err := fn(t.Context())
				// All N attempts fail at t=0; the N-th is the last permitted
				// one (rule 8). aiomisc raises that ValueError; here it is Last.
				aioWantRetry(t, err)
				aioWantError(t, err, backoff.ErrMaxTries, last, n, 0)
				if mana != n {
					t.Errorf("mana = %d, want %d", mana, n)
				}
			})
		})
	}
}

// test_giveup[max_mana]: asyncbackoff(0.5, 0.5, 0, Exception, giveup=giveup)
// where giveup(e) stores e and returns mana >= max_mana; the body raises
// ValueError("RETRY") at once.
func TestAiomisc_giveup(t *testing.T) {
	for _, maxMana := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("max_mana=%d", maxMana), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				mana, asked := 0, 0
				var giveupErr error
				fn := backoff.Wrap(backoff.Policy{
					AttemptTimeout: 500 * time.Millisecond,
					Deadline:       500 * time.Millisecond,
					RetryIf:        backoff.AnyError,
					GiveUp: func(err error) bool {
						asked++
						giveupErr = err
						return mana >= maxMana
					},
				}, func(ctx context.Context) (struct{}, error) {
					mana++
					return struct{}{}, &aioValueError{"RETRY"}
				})

				_, err := fn(t.Context())
				ve := aioWantRetry(t, err)
				// Python's "giveup_exception is e.value": Last is the very
				// error GiveUp saw (rule 8).
				if error(ve) != giveupErr {
					t.Errorf("raised %p, GiveUp saw %v; want the same error", ve, giveupErr)
				}
				aioWantError(t, err, backoff.ErrGaveUp, giveupErr, maxMana, 0)
				if mana != maxMana || asked != maxMana {
					t.Errorf("mana = %d, GiveUp asked %d times; want %d, %d", mana, asked, maxMana, maxMana)
				}
			})
		})
	}
}

// aioTestExc is the test's "class TestExc(Exception)".
type aioTestExc struct{}

func (*aioTestExc) Error() string { return "TestExc" }

// test_last_exception_is_last: asyncbackoff(1, 2, 0), no exceptions; the
// first attempt sleeps 1.5 s (times out at 1 s), the second raises TestExc,
// which is not retryable. PR #59: TestExc, not the earlier timeout, is what
// the caller sees.
func TestAiomisc_last_exception_is_last(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		exc := &aioTestExc{}
		fn := backoff.Wrap(backoff.Policy{
			AttemptTimeout: time.Second,
			Deadline:       2 * time.Second,
		}, func(ctx context.Context) (struct{}, error) {
			if mana == 0 {
				mana++
				if err := aioSleep(ctx, 1500*time.Millisecond); err != nil {
					return struct{}{}, err
				}
				return struct{}{}, nil
			}
			return struct{}{}, exc
		})

		start := time.Now()
		_, err := fn(t.Context())
		// Attempt 1: 0 - 1 s, timed out (always retried), no pause;
		// attempt 2 at 1 s returns TestExc at once: not retryable (rule 7).
		aioWantError(t, err, backoff.ErrNotRetryable, exc, 2, time.Second)
		var te *aioTestExc
		if !errors.As(err, &te) || te != exc {
			t.Errorf("errors.As(err, *TestExc) = %v, want the TestExc", te)
		}
		if errors.Is(err, backoff.ErrAttemptTimeout) {
			t.Errorf("err = %v matches ErrAttemptTimeout; the stale timeout must be replaced", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("elapsed = %v, want 1s", got)
		}
	})
}

// test_asyncbackoff_retry: asyncbackoff(None, None, 0, Exception,
// max_tries=5); the body always raises ValueError("RETRY").
func TestAiomisc_asyncbackoff_retry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		var last error
		fn := backoff.Wrap(backoff.Policy{
			RetryIf:  backoff.AnyError,
			MaxTries: 5,
		}, func(ctx context.Context) (struct{}, error) {
			mana++
			last = &aioValueError{"RETRY"}
			return struct{}{}, last
		})

		_, err := fn(t.Context())
		aioWantRetry(t, err)
		aioWantError(t, err, backoff.ErrMaxTries, last, 5, 0)
		if mana != 5 {
			t.Errorf("mana = %d, want 5", mana)
		}
	})
}

// test_asyncretry: asyncretry(5); the body always raises ValueError("RETRY").
func TestAiomisc_asyncretry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mana := 0
		var last error
		fn := backoff.Wrap(backoff.Retry(5), func(ctx context.Context) (struct{}, error) {
			mana++
			last = &aioValueError{"RETRY"}
			return struct{}{}, last
		})

		_, err := fn(t.Context())
		aioWantRetry(t, err)
		aioWantError(t, err, backoff.ErrMaxTries, last, 5, 0)
		if mana != 5 {
			t.Errorf("mana = %d, want 5", mana)
		}
	})
}

// aioFoo is the test's "class Foo" with an @asyncretry(5) method.
type aioFoo struct {
	mana int
	last error
}

func (f *aioFoo) test(ctx context.Context) (struct{}, error) {
	f.mana++
	f.last = &aioValueError{"RETRY"}
	return struct{}{}, f.last
}

// test_asyncretry_class: the decorated method binds self. In Go the method
// value foo.test carries its receiver into Wrap.
func TestAiomisc_asyncretry_class(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		foo := &aioFoo{}
		other := &aioFoo{}
		fn := backoff.Wrap(backoff.Retry(5), foo.test)

		_, err := fn(t.Context())
		aioWantRetry(t, err)
		aioWantError(t, err, backoff.ErrMaxTries, foo.last, 5, 0)
		if foo.mana != 5 || other.mana != 0 {
			t.Errorf("foo.mana = %d, other.mana = %d; want 5, 0", foo.mana, other.mana)
		}
	})
}
