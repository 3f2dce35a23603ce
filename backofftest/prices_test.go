package backofftest_test

// The tests of README's "Testing your own code", as a user writes them for
// a service of their own: Prices.Fetch calls a flaky dependency through
// backoff.Do, and three things are tested, (a) the second attempt starts
// exactly one pause after the first failed, (b) a dependency that hangs
// ends the call at the deadline, exactly, (c) "not found" ends the call at
// once; each under testing/synctest (nothing to inject) and on a clockwork
// fake clock (with a backofftest.Driver).

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backofftest"
)

// The code under test.

var ErrNotFound = errors.New("prices: no such symbol")

// PriceRetry is how Prices retries its quote service.
var PriceRetry = backoff.Policy{
	AttemptTimeout: 200 * time.Millisecond,
	Deadline:       2 * time.Second,
	Pause:          100 * time.Millisecond,
	Growth:         2,
	Jitter:         backoff.FullJitter,
	MaxTries:       5,
	RetryIf:        func(err error) bool { return !errors.Is(err, ErrNotFound) },
}

type Prices struct {
	Retry backoff.Policy
	Quote func(ctx context.Context, symbol string) (float64, error) // the flaky dependency
}

func (p *Prices) Fetch(ctx context.Context, symbol string) (float64, error) {
	return backoff.Do(ctx, p.Retry, func(ctx context.Context) (float64, error) {
		return p.Quote(ctx, symbol)
	})
}

// The tests.

var errUnavailable = errors.New("quotes: unavailable")

// quote stands for the quote service, scripted by op.
func quote(op *backofftest.Op[float64]) func(context.Context, string) (float64, error) {
	return func(ctx context.Context, _ string) (float64, error) { return op.Call(ctx) }
}

func TestFetch_pause_synctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		op := backofftest.NewOp(backofftest.Fail[float64](errUnavailable), backofftest.Succeed(42.0))
		prices := Prices{Retry: PriceRetry, Quote: quote(op)}
		prices.Retry.Rand = backofftest.LongestPause // FullJitter gives the full pause

		start := time.Now()
		price, err := prices.Fetch(t.Context(), "ACME")
		// Attempt 1 failed at once, attempt 2 succeeded at once: the call took one pause.
		if price != 42 || err != nil || time.Since(start) != 100*time.Millisecond || op.Calls() != 2 {
			t.Errorf("Fetch = %v, %v after %v and %d calls; want 42, nil after 100ms and 2", price, err, time.Since(start), op.Calls())
		}
	})
}

func TestFetch_hangs_synctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		op := backofftest.NewOp(backofftest.Hang[float64]())
		prices := Prices{Retry: PriceRetry, Quote: quote(op)}
		prices.Retry.Rand = backofftest.Fraction(0.75) // pauses of 75, 150, 300 and 600ms

		start := time.Now()
		_, err := prices.Fetch(t.Context(), "ACME")
		// Four attempts cut at 200ms, then the deadline cuts the fifth, begun at 1.925s.
		if !errors.Is(err, backoff.ErrDeadline) || time.Since(start) != 2*time.Second || op.Calls() != 5 {
			t.Errorf("Fetch: %v after %v and %d calls; want ErrDeadline after 2s and 5", err, time.Since(start), op.Calls())
		}
	})
}

func TestFetch_notFound_synctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		op := backofftest.NewOp(backofftest.Fail[float64](ErrNotFound))
		prices := Prices{Retry: PriceRetry, Quote: quote(op)}

		start := time.Now()
		_, err := prices.Fetch(t.Context(), "NOPE")
		if !errors.Is(err, ErrNotFound) || time.Since(start) != 0 || op.Calls() != 1 {
			t.Errorf("Fetch: %v after %v and %d calls; want ErrNotFound at once, after 1", err, time.Since(start), op.Calls())
		}
	})
}

func TestFetch_pause_clockwork(t *testing.T) {
	d := backofftest.NewDriver(t)
	op := backofftest.NewOp(backofftest.Fail[float64](errUnavailable), backofftest.Succeed(42.0))
	prices := Prices{Retry: d.Policy(PriceRetry), Quote: quote(op)}
	prices.Retry.Rand = backofftest.LongestPause // FullJitter gives the full pause

	var price float64
	var err error
	d.Go(func() { price, err = prices.Fetch(t.Context(), "ACME") })
	pause := d.Pause() // waits for the pause, then moves the clock to its end
	d.Wait()
	if price != 42 || err != nil || pause.At != 0 || pause.Until != 100*time.Millisecond {
		t.Errorf("Fetch = %v, %v; attempt 1 failed at %v, attempt 2 began at %v; want 42, nil, 0 and 100ms", price, err, pause.At, pause.Until)
	}
}

func TestFetch_hangs_clockwork(t *testing.T) {
	d := backofftest.NewDriver(t)
	op := backofftest.NewOp(backofftest.Hang[float64]())
	prices := Prices{Retry: d.Policy(PriceRetry), Quote: quote(op)}
	prices.Retry.Rand = backofftest.Fraction(0.75) // pauses of 75, 150, 300 and 600ms
	d.Go(func() { prices.Fetch(t.Context(), "ACME") })
	for range 4 {
		d.Cut()   // the attempt's timeout
		d.Pause() // the pause after it
	}
	d.Cut() // the deadline, at 2s, cuts the fifth attempt, begun at 1.925s
	if end := d.Wait(); !errors.Is(end.Err, backoff.ErrDeadline) || end.At != 2*time.Second || end.Attempt != 5 {
		t.Errorf("the call %v; want ErrDeadline at 2s, after 5 attempts", end)
	}
}

func TestFetch_notFound_clockwork(t *testing.T) {
	d := backofftest.NewDriver(t)
	op := backofftest.NewOp(backofftest.Fail[float64](ErrNotFound))
	prices := Prices{Retry: d.Policy(PriceRetry), Quote: quote(op)}

	var err error
	d.Go(func() { _, err = prices.Fetch(t.Context(), "NOPE") })
	end := d.Wait()
	if !errors.Is(err, ErrNotFound) || end.At != 0 || end.Attempt != 1 {
		t.Errorf("Fetch: %v; the call %v; want ErrNotFound at once, after 1 attempt", err, end)
	}
}
