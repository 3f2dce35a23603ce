// Package bench compares the cost of backoff.Do with a hand-written retry
// loop and with four peer libraries, on the same cases. It is a module of
// its own, so that the peers never enter the root go.mod.
//
// Every library is set up here, once, by a [Setup]: it takes the case and
// the operation and returns a [Call] that makes one retried call. The
// benchmarks (bench_test.go) time Calls; setup_test.go checks that every
// Call makes exactly the attempts its case intends. Everything a Call
// needs that can be built once (policies, options, executors, the
// operation and its adapters) is built by the Setup, outside the timed
// loop; what a library needs afresh for every call (go-retry's stateful
// Backoff) is built inside the Call, since a user must do the same.
package bench

import (
	"context"
	"errors"
	"time"

	avast "github.com/avast/retry-go/v4"
	cenkalti "github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"github.com/failsafe-go/failsafe-go/timeout"
	sethvargo "github.com/sethvargo/go-retry"

	"github.com/timebound/backoff"
)

// MaxTries is the most attempts every setup makes in a call.
const MaxTries = 4

// A Case is what a call is configured to do, the same for every library:
// no jitter, no pause, at most MaxTries attempts, every error retried.
type Case struct {
	// AttemptTimeout, if positive, bounds each attempt: with the library's
	// own per-attempt timeout where it has one, else with
	// context.WithTimeout inside the operation.
	AttemptTimeout time.Duration
	// Failures is how many times the operation fails (with ErrFail)
	// before it succeeds, in every call: at most MaxTries-1.
	Failures int
}

// Op returns the operation of case c: Succeed, or Flaky(c.Failures).
func (c Case) Op() Op {
	if c.Failures == 0 {
		return Succeed
	}
	return Flaky(c.Failures)
}

// An Op is the operation under test, written both ways the libraries want
// it: with the attempt's context, and without one. Both must do the same.
type Op struct {
	Ctx   func(context.Context) (int, error)
	Plain func() (int, error)
}

// A Call makes one retried call of the operation and returns its result.
type Call func() (int, error)

// A Setup builds the Call of one library for a case.
type Setup func(c Case, op Op) Call

// A Lib is a named Setup. Its name is the value of the "lib" key in the
// benchmarks' names.
type Lib struct {
	Name  string
	Setup Setup
}

// Libs are the setups, in the order of the benchmark table's columns: the
// baselines first, then this library, then the peers.
//
// Which libraries take part in which case is Applies' business.
var Libs = []Lib{
	{"hand", Hand},
	{"bare", Bare},
	{"hand-goroutine", HandGoroutine},
	{"backoff", Backoff},
	{"backoff-abandon", BackoffAbandon},
	{"cenkalti", Cenkalti},
	{"retrygo", RetryGo},
	{"goretry", GoRetry},
	{"failsafe", Failsafe},
}

// Applies says whether the setup named lib takes part in case c: the bare
// call (which does not retry) only where the first try succeeds and no
// attempt timeout is asked for; the goroutine baseline and backoff with
// Abandon only where one is.
func Applies(lib string, c Case) bool {
	switch lib {
	case "bare":
		return c.AttemptTimeout == 0 && c.Failures == 0
	case "hand-goroutine", "backoff-abandon":
		return c.AttemptTimeout > 0
	}
	return true
}

// ctx is the caller's context of every call.
var ctx = context.Background()

// Bare calls the operation once, with no retry at all: the floor.
func Bare(_ Case, op Op) Call {
	f := op.Ctx
	return func() (int, error) { return f(ctx) }
}

// Hand is the retry loop a user would write: up to MaxTries attempts, no
// pause, each under context.WithTimeout if the case has an attempt timeout.
func Hand(c Case, op Op) Call {
	f, d := op.Ctx, c.AttemptTimeout
	attempt := func() (int, error) {
		if d <= 0 {
			return f(ctx)
		}
		actx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return f(actx)
	}
	return func() (v int, err error) {
		for range MaxTries {
			if v, err = attempt(); err == nil {
				return v, nil
			}
		}
		return v, err
	}
}

// handResult is what an attempt of HandGoroutine sends back.
type handResult struct {
	v   int
	err error
}

// HandGoroutine is Hand with a hard bound, written by hand: each attempt
// runs in its own goroutine under context.WithTimeout, and the loop waits
// for its result or for the timeout, whichever comes first. It is the
// floor of what backoff's Abandon does.
func HandGoroutine(c Case, op Op) Call {
	f, d := op.Ctx, c.AttemptTimeout
	attempt := func() (int, error) {
		actx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		done := make(chan handResult, 1)
		go func() {
			v, err := f(actx)
			done <- handResult{v, err}
		}()
		select {
		case r := <-done:
			return r.v, r.err
		case <-actx.Done():
			return 0, actx.Err()
		}
	}
	return func() (v int, err error) {
		for range MaxTries {
			if v, err = attempt(); err == nil {
				return v, nil
			}
		}
		return v, err
	}
}

// policy is the backoff.Policy of case c.
func policy(c Case) backoff.Policy {
	p := backoff.Retry(MaxTries) // MaxTries, RetryIf: AnyError, no pause
	p.AttemptTimeout = c.AttemptTimeout
	return p
}

// Backoff is backoff.Do, cooperative (the default): the attempt timeout is
// its own AttemptTimeout.
func Backoff(c Case, op Op) Call {
	p, f := policy(c), op.Ctx
	return func() (int, error) { return backoff.Do(ctx, p, f) }
}

// BackoffAbandon is backoff.Do of the operation wrapped in
// backoff.Abandon (the hard bound).
func BackoffAbandon(c Case, op Op) Call {
	p, f := policy(c), backoff.Abandon(op.Ctx)
	return func() (int, error) { return backoff.Do(ctx, p, f) }
}

// withTimeout returns op's plain form, bounded by context.WithTimeout
// inside it if c has an attempt timeout: for peers without a per-attempt
// timeout of their own.
func withTimeout(c Case, op Op) func() (int, error) {
	if c.AttemptTimeout <= 0 {
		return op.Plain
	}
	f, d := op.Ctx, c.AttemptTimeout
	return func() (int, error) {
		actx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		return f(actx)
	}
}

// Cenkalti is cenkalti/backoff v5's Retry with ZeroBackOff, MaxTries and no
// MaxElapsedTime (its default is 15 minutes). It has no per-attempt
// timeout (its operation gets no context): context.WithTimeout inside the
// operation.
func Cenkalti(c Case, op Op) Call {
	f := withTimeout(c, op)
	opts := []cenkalti.RetryOption{
		cenkalti.WithBackOff(&cenkalti.ZeroBackOff{}),
		cenkalti.WithMaxTries(MaxTries),
		cenkalti.WithMaxElapsedTime(0),
	}
	return func() (int, error) { return cenkalti.Retry(ctx, f, opts...) }
}

// RetryGo is avast/retry-go v4's DoWithData with a fixed zero delay (so
// no jitter), MaxTries attempts, RetryIf true for every error, and only the
// last error kept. It has no per-attempt timeout (its operation gets no
// context): context.WithTimeout inside the operation.
func RetryGo(c Case, op Op) Call {
	f := withTimeout(c, op)
	opts := []avast.Option{
		avast.Attempts(MaxTries),
		avast.Delay(0),
		avast.DelayType(avast.FixedDelay),
		avast.RetryIf(func(error) bool { return true }),
		avast.LastErrorOnly(true),
	}
	return func() (int, error) { return avast.DoWithData(f, opts...) }
}

// GoRetry is sethvargo/go-retry's DoValue with a constant zero backoff
// under WithMaxRetries(MaxTries-1). Its Backoff counts the retries, so it
// is made afresh for each call, as a user must. It retries only errors
// marked with RetryableError: the operation's error is marked once,
// outside the call (see GoRetryOp). Its operation gets the caller's
// context, not one per attempt: context.WithTimeout inside the operation.
// The mark costs GoRetry one more indirect call per attempt than the
// others (a few ns).
func GoRetry(c Case, op Op) Call {
	f := goRetryOp(op.Ctx)
	if d := c.AttemptTimeout; d > 0 {
		g := f
		f = func(ctx context.Context) (int, error) {
			actx, cancel := context.WithTimeout(ctx, d)
			defer cancel()
			return g(actx)
		}
	}
	zero := sethvargo.BackoffFunc(func() (time.Duration, bool) { return 0, false })
	return func() (int, error) {
		return sethvargo.DoValue(ctx, sethvargo.WithMaxRetries(MaxTries-1, zero), f)
	}
}

// Failsafe is failsafe-go's executor with a retry policy of MaxTries
// attempts, no delay, every error handled (its default), and the last
// failure returned as it is. The attempt timeout is its own timeout
// policy, composed inside the retry policy (a timeout per attempt); the
// operation reads the attempt's context from the Execution.
func Failsafe(c Case, op Op) Call {
	rp := retrypolicy.NewBuilder[int]().
		WithMaxAttempts(MaxTries).
		ReturnLastFailure().
		Build()
	if c.AttemptTimeout <= 0 {
		ex, f := failsafe.With[int](rp), op.Plain
		return func() (int, error) { return ex.Get(f) }
	}
	ex := failsafe.With[int](rp, timeout.New[int](c.AttemptTimeout))
	f := op.Ctx
	g := func(exec failsafe.Execution[int]) (int, error) { return f(exec.Context()) }
	return func() (int, error) { return ex.GetWithExecution(g) }
}

// ErrFail is what a failing attempt returns.
var ErrFail = errors.New("bench: attempt failed")

// errFailRetryable is ErrFail marked for go-retry, once.
var errFailRetryable = sethvargo.RetryableError(ErrFail)

// Succeed is an Op that succeeds at once, with 1. It is stateless, so
// concurrent calls may share it.
var Succeed = Op{
	Ctx:   func(context.Context) (int, error) { return 1, nil },
	Plain: func() (int, error) { return 1, nil },
}

// Flaky returns an Op that fails failures times (with ErrFail), then
// succeeds (with 1), and again for the next call. It is for one goroutine
// at a time. Its two forms share their state and do the same work, so
// that neither costs a call more than the other.
func Flaky(failures int) Op {
	left := failures
	return Op{
		Ctx: func(context.Context) (int, error) {
			if left > 0 {
				left--
				return 0, ErrFail
			}
			left = failures
			return 1, nil
		},
		Plain: func() (int, error) {
			if left > 0 {
				left--
				return 0, ErrFail
			}
			left = failures
			return 1, nil
		},
	}
}

// goRetryOp returns f with its error marked retryable for go-retry, the
// one peer that retries only marked errors. ErrFail is returned marked
// once and for all (errFailRetryable), so the mark allocates nothing;
// any other error is marked as it comes.
func goRetryOp(f func(context.Context) (int, error)) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		v, err := f(ctx)
		switch {
		case err == nil:
			return v, nil
		case err == ErrFail:
			return v, errFailRetryable
		}
		return v, sethvargo.RetryableError(err)
	}
}
