package backoff_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
)

// TestError_message: the message of every way a call ends, from real calls
// (the decision core tells the message what ended the call), with the
// times rounded to three digits.
func TestError_message(t *testing.T) {
	stop := errors.New("stop")
	for _, tc := range []struct {
		name    string
		p       backoff.Policy
		steps   []step
		ctx     func(t *testing.T) context.Context
		want    string
		timeout bool
	}{{
		name:  "max tries",
		p:     backoff.Policy{MaxTries: 3, Pause: 100 * ms, RetryIf: backoff.AnyError},
		steps: []step{{d: 200*ms + 123456, err: errRetry}},
		want:  "backoff: max tries reached after 3 attempts in 800ms: retry me",
	}, {
		name:    "max tries after an attempt timeout",
		p:       backoff.Policy{MaxTries: 2, AttemptTimeout: 50 * ms},
		steps:   []step{{d: time.Hour}},
		want:    "backoff: max tries reached after 2 attempts in 100ms: attempt timed out",
		timeout: true,
	}, {
		name:  "not retryable",
		p:     backoff.Policy{RetryIf: backoff.On(errRetry), MaxTries: 3},
		steps: []step{{d: 1500 * time.Microsecond, err: errFatal}},
		want:  "backoff: error not retryable after 1 attempt in 1.5ms: fatal",
	}, {
		name:  "gave up",
		p:     backoff.Policy{RetryIf: backoff.AnyError, GiveUp: backoff.On(errFatal), MaxTries: 3},
		steps: []step{{d: ms, err: errFatal}},
		want:  "backoff: gave up after 1 attempt in 1ms: fatal",
	}, {
		name:    "the policy's deadline passed during an attempt",
		p:       backoff.Policy{Deadline: 2 * time.Second, AttemptTimeout: time.Second, Pause: 100 * ms},
		steps:   []step{{d: time.Hour}},
		want:    "backoff: deadline exceeded: the policy's deadline (2s) passed after 2 attempts in 2s: attempt timed out",
		timeout: true,
	}, {
		name:    "the next pause would pass the policy's deadline",
		p:       backoff.Policy{Deadline: 2 * time.Second, Pause: 500 * ms, RetryIf: backoff.AnyError},
		steps:   []step{{d: 600*ms + 1234567, err: errRetry}},
		want:    "backoff: deadline exceeded: the next pause (500ms) would pass the policy's deadline (2s), after 2 attempts in 1.7s: retry me",
		timeout: true,
	}, {
		name:  "the next pause would pass the caller's deadline",
		p:     backoff.Policy{Pause: time.Second, RetryIf: backoff.AnyError},
		steps: []step{{d: 700 * ms, err: errRetry}},
		ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 1500*ms)
			t.Cleanup(cancel)
			return ctx
		},
		want:    "backoff: context deadline exceeded: the next pause (1s) would pass the caller's deadline (1.5s), after 1 attempt in 700ms: retry me",
		timeout: true,
	}, {
		name:  "the caller cancels during a pause",
		p:     backoff.Policy{Pause: time.Second, RetryIf: backoff.AnyError},
		steps: []step{{d: 100 * ms, err: errRetry}},
		ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancelCause(t.Context())
			time.AfterFunc(300*ms, func() { cancel(stop) })
			return ctx
		},
		want: "backoff: stop: the caller's context is done, after 1 attempt in 300ms: retry me",
	}, {
		name:  "the caller's context was done before",
		p:     backoff.Retry(3),
		steps: []step{{}},
		ctx: func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		},
		want: "backoff: context canceled: the caller's context was done before the first attempt",
	}, {
		name:    "gave up on an attempt timeout",
		p:       backoff.Policy{AttemptTimeout: 50 * ms, GiveUp: backoff.On(backoff.ErrAttemptTimeout)},
		steps:   []step{{d: time.Hour}},
		want:    "backoff: gave up after 1 attempt in 50ms: attempt timed out",
		timeout: true,
	}, {
		name:    "the budget refuses after an attempt timeout",
		p:       backoff.Policy{AttemptTimeout: 50 * ms, Budget: &backoff.Budget{Burst: 1}},
		steps:   []step{{d: time.Hour}},
		want:    "backoff: retry budget exhausted after 2 attempts in 100ms: attempt timed out",
		timeout: true,
	}, {
		name:  "the budget refuses",
		p:     backoff.Policy{RetryIf: backoff.AnyError, Budget: &backoff.Budget{Burst: 1}},
		steps: []step{{d: ms, err: errRetry}},
		want:  "backoff: retry budget exhausted after 2 attempts in 2ms: retry me",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			bubble(t, func(t *testing.T) {
				ctx := t.Context()
				if tc.ctx != nil {
					ctx = tc.ctx(t)
				}
				r := do(ctx, tc.p, newOp(tc.steps...))
				var e *backoff.Error
				if !errors.As(r.err, &e) {
					t.Fatalf("Do = %v, want a *backoff.Error", r.err)
				}
				if got := e.Error(); got != tc.want {
					t.Errorf("Error() =\n\t%q\nwant\n\t%q", got, tc.want)
				}
				if e.Timeout() != tc.timeout {
					t.Errorf("Timeout() = %v, want %v", e.Timeout(), tc.timeout)
				}
				if os.IsTimeout(e) != tc.timeout {
					t.Errorf("os.IsTimeout = %v, want %v", os.IsTimeout(e), tc.timeout)
				}
				var ne net.Error
				if tc.timeout && !(errors.As(r.err, &ne) && ne.Timeout()) {
					t.Errorf("a net.Error whose Timeout is true must be found in %v", r.err)
				}
			})
		})
	}
}

// TestError_exact: the message rounds the times; the fields keep them.
func TestError_exact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := do(t.Context(), backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError}, newOp(step{d: 300*ms + 871370, err: errRetry}))
		var e *backoff.Error
		if !errors.As(r.err, &e) || e.Elapsed != 601742740 {
			t.Fatalf("Do = %v; want Elapsed 601.74274ms exactly", r.err)
		}
		if want := "backoff: max tries reached after 2 attempts in 602ms: retry me"; e.Error() != want {
			t.Errorf("Error() = %q, want %q", e.Error(), want)
		}
	})
}

// TestError_unwrap: errors.Is and errors.As reach Reason, then Last; so
// errors.As finds the Reason first where both are of the asked type.
func TestError_unwrap(t *testing.T) {
	pe := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	reason := &fs.PathError{Op: "reason", Path: "r", Err: fs.ErrPermission}
	e := &backoff.Error{Reason: reason, Last: pe, Attempts: 3, Elapsed: 1500 * ms}
	if got := e.Unwrap(); len(got) != 2 || got[0] != reason || got[1] != pe {
		t.Errorf("Unwrap() = %v, want [Reason Last]", got)
	}
	if as, ok := errors.AsType[*fs.PathError](e); !ok || as != reason {
		t.Errorf("errors.As found %v, want the Reason first", as)
	}
	if !errors.Is(e, fs.ErrPermission) || !errors.Is(e, fs.ErrNotExist) {
		t.Error("errors.Is must reach Reason and Last")
	}
	if errors.Unwrap(e) != nil {
		t.Error("errors.Unwrap of an Unwrap() []error is nil")
	}
	if got := (&backoff.Error{Reason: context.Canceled}).Unwrap(); len(got) != 1 || got[0] != context.Canceled {
		t.Errorf("Unwrap without Last = %v", got)
	}
	if got := (&backoff.Error{Last: io.EOF}).Unwrap(); len(got) != 1 || got[0] != io.EOF {
		t.Errorf("Unwrap without Reason = %v", got)
	}
}

// TestErrTimeouts: the two time limits match context.DeadlineExceeded and
// say Timeout, and are told apart.
func TestErrTimeouts(t *testing.T) {
	for _, err := range []error{backoff.ErrAttemptTimeout, backoff.ErrDeadline} {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%v does not match context.DeadlineExceeded", err)
		}
		if te, ok := err.(interface{ Timeout() bool }); !ok || !te.Timeout() {
			t.Errorf("%v is not a Timeout() error", err)
		}
	}
	if errors.Is(backoff.ErrAttemptTimeout, backoff.ErrDeadline) || errors.Is(backoff.ErrDeadline, backoff.ErrAttemptTimeout) {
		t.Error("ErrAttemptTimeout and ErrDeadline must be told apart")
	}
}
