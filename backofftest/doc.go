// Package backofftest helps test code that retries with package backoff,
// with exact times and no flaky waits: scripted dependencies, sources of
// jitter that make pauses exact, and a driver for a clockwork fake clock.
// It is to package backoff what net/http/httptest is to net/http.
//
// # Under testing/synctest: nothing to inject
//
// Leave Policy.Clock nil and run the test in a synctest bubble: there the
// system clock is virtual, so a call with a 2s deadline runs in no time,
// and time.Since measures it exactly. Give the code under test a scripted
// dependency ([Op], or [RoundTripper] for HTTP) and, if its policy has a
// Jitter, a fixed Policy.Rand ([LongestPause], [ShortestPause],
// [Fraction]):
//
//	synctest.Test(t, func(t *testing.T) {
//		op := backofftest.NewOp(backofftest.Fail[float64](errUnavailable), backofftest.Succeed(42.0))
//		prices := Prices{Retry: PriceRetry, Quote: quote(op)}
//		prices.Retry.Rand = backofftest.LongestPause // FullJitter gives the full pause
//
//		start := time.Now()
//		price, err := prices.Fetch(t.Context(), "ACME")
//		if price != 42 || err != nil || time.Since(start) != 100*time.Millisecond {
//			t.Errorf(...)
//		}
//	})
//
// A dependency must not use real I/O in a bubble: a goroutine blocked on a
// socket is not durably blocked, so the clock stops (an httptest.Server
// hangs the test). [RoundTripper] is a server in memory.
//
// # On a clockwork fake clock: a Driver
//
// With a fake clock, the test moves the clock, and must do it only once
// the timer it means to fire is armed. A [Driver] does that: it follows the
// call step by step as its policy's Observer, so the test says "wait for
// the pause, and move the clock to its end" ([Driver.Pause]) or "wait for
// the hanging attempt, and move the clock to its cut" ([Driver.Cut]), and
// then [Driver.Wait]s for the end. Every wait fails the test within
// seconds, with what the call was doing, instead of hanging:
//
//	d := backofftest.NewDriver(t)
//	prices := Prices{Retry: d.Policy(PriceRetry), Quote: quote(op)}
//	d.Go(func() { price, err = prices.Fetch(ctx, "ACME") })
//	pause := d.Pause() // pause.At: attempt 1 failed; pause.Until: attempt 2 starts
//	end := d.Wait()    // end.At: when the call finished
//
// prices_test.go in this package has the whole of these tests, three of
// them on each kind of clock.
//
// # Jitter
//
// Each failed attempt draws one number from Policy.Rand, and the number r
// puts the pause at lo + ⌊r × (hi − lo + 1ns) / 2^64⌋ in its jitter's
// range [lo, hi]:
//
//	jitter               lo (ShortestPause)  hi (LongestPause)
//	FullJitter           0                   b
//	EqualJitter          b − b/2             b
//	DecorrelatedJitter   Pause               3 × the previous pause (at least Pause)
//
// where b is the pause before jitter (Pause grown by Growth, capped by
// MaxPause) and the previous pause of the first is Pause. MaxPause caps
// every pause, and a delay hint lengthens it, as package backoff says.
package backofftest
