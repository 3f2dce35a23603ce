package bench

import (
	"context"
	"sync/atomic"
	"time"

	avast "github.com/avast/retry-go/v4"
	cenkalti "github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"
	sethvargo "github.com/sethvargo/go-retry"

	"github.com/timebound/backoff"
)

// The closure cases: what users write. The operation is a func literal
// made at the call, capturing the call's locals (here the attempt count
// and the failures to make), so a library that keeps the operation past
// the call, or lets it reach a go statement, moves it and its locals to
// the heap on every call; one that only calls it does not.
//
// A ClosureSetup builds, once, the Call of a library for case c; each call
// of the Call makes its operation afresh. Its value is the number of
// attempts the call made, which the tests check.

// A ClosureSetup builds the closure Call of one library for a case.
type ClosureSetup func(c Case) Call

// A ClosureLib is a named ClosureSetup.
type ClosureLib struct {
	Name  string
	Setup ClosureSetup
}

// ClosureLibs are the closure setups, in the order of Libs.
var ClosureLibs = []ClosureLib{
	{"hand", HandClosure},
	{"backoff", BackoffClosure},
	{"backoff-abandon", BackoffAbandonClosure},
	{"cenkalti", CenkaltiClosure},
	{"retrygo", RetryGoClosure},
	{"goretry", GoRetryClosure},
	{"failsafe", FailsafeClosure},
}

// HandClosure is Hand with the operation written inline, as a user does.
func HandClosure(c Case) Call {
	d, failures := c.AttemptTimeout, c.Failures
	return func() (v int, err error) {
		n := 0
		for range MaxTries {
			actx, cancel := ctx, context.CancelFunc(func() {})
			if d > 0 {
				actx, cancel = context.WithTimeout(ctx, d)
			}
			v, err = func(context.Context) (int, error) {
				if n++; n <= failures {
					return 0, ErrFail
				}
				return n, nil
			}(actx)
			cancel()
			if err == nil {
				return v, nil
			}
		}
		return v, err
	}
}

// BackoffClosure is backoff.Do of a closure.
func BackoffClosure(c Case) Call {
	p, failures := policy(c), c.Failures
	return func() (int, error) {
		n := 0
		return backoff.Do(ctx, p, func(context.Context) (int, error) {
			if n++; n <= failures {
				return 0, ErrFail
			}
			return n, nil
		})
	}
}

// BackoffAbandonClosure is backoff.Do of a closure wrapped in
// backoff.Abandon: the goroutine the adapter starts holds it.
func BackoffAbandonClosure(c Case) Call {
	p, failures := policy(c), c.Failures
	return func() (int, error) {
		var n atomic.Int32 // each attempt runs in a goroutine of its own
		return backoff.Do(ctx, p, backoff.Abandon(func(context.Context) (int, error) {
			k := int(n.Add(1))
			if k <= failures {
				return 0, ErrFail
			}
			return k, nil
		}))
	}
}

// CenkaltiClosure is Cenkalti with a closure.
func CenkaltiClosure(c Case) Call {
	d, failures := c.AttemptTimeout, c.Failures
	opts := []cenkalti.RetryOption{
		cenkalti.WithBackOff(&cenkalti.ZeroBackOff{}),
		cenkalti.WithMaxTries(MaxTries),
		cenkalti.WithMaxElapsedTime(0),
	}
	return func() (int, error) {
		n := 0
		return cenkalti.Retry(ctx, func() (int, error) {
			actx := ctx
			if d > 0 {
				var cancel context.CancelFunc
				actx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			_ = actx // the attempt's context, as an operation would use it
			if n++; n <= failures {
				return 0, ErrFail
			}
			return n, nil
		}, opts...)
	}
}

// RetryGoClosure is RetryGo with a closure.
func RetryGoClosure(c Case) Call {
	d, failures := c.AttemptTimeout, c.Failures
	opts := []avast.Option{
		avast.Attempts(MaxTries),
		avast.Delay(0),
		avast.DelayType(avast.FixedDelay),
		avast.RetryIf(func(error) bool { return true }),
		avast.LastErrorOnly(true),
	}
	return func() (int, error) {
		n := 0
		return avast.DoWithData(func() (int, error) {
			actx := ctx
			if d > 0 {
				var cancel context.CancelFunc
				actx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			_ = actx // the attempt's context, as an operation would use it
			if n++; n <= failures {
				return 0, ErrFail
			}
			return n, nil
		}, opts...)
	}
}

// GoRetryClosure is GoRetry with a closure, which marks its own error
// retryable (with the error marked once, as GoRetry's is).
func GoRetryClosure(c Case) Call {
	d, failures := c.AttemptTimeout, c.Failures
	zero := sethvargo.BackoffFunc(func() (time.Duration, bool) { return 0, false })
	return func() (int, error) {
		n := 0
		return sethvargo.DoValue(ctx, sethvargo.WithMaxRetries(MaxTries-1, zero), func(ctx context.Context) (int, error) {
			if d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			_ = ctx // the attempt's context, as an operation would use it
			if n++; n <= failures {
				return 0, errFailRetryable
			}
			return n, nil
		})
	}
}

// FailsafeClosure is Failsafe with a closure.
func FailsafeClosure(c Case) Call {
	failures := c.Failures
	rp := retrypolicy.NewBuilder[int]().
		WithMaxAttempts(MaxTries).
		ReturnLastFailure().
		Build()
	if c.AttemptTimeout <= 0 {
		ex := failsafe.With[int](rp)
		return func() (int, error) {
			n := 0
			return ex.Get(func() (int, error) {
				if n++; n <= failures {
					return 0, ErrFail
				}
				return n, nil
			})
		}
	}
	ex := failsafe.With[int](rp, timeout.New[int](c.AttemptTimeout))
	return func() (int, error) {
		n := 0
		return ex.GetWithExecution(func(exec failsafe.Execution[int]) (int, error) {
			_ = exec.Context() // the attempt's context, as an operation would use it
			if n++; n <= failures {
				return 0, ErrFail
			}
			return n, nil
		})
	}
}
