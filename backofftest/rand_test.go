package backofftest_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backofftest"
)

const ms = time.Millisecond

var errBusy = errors.New("busy")

// pauses returns the pauses of a call under p whose attempts all fail at
// once, measured in a synctest bubble.
func pauses(t *testing.T, p backoff.Policy) []time.Duration {
	t.Helper()
	var got []time.Duration
	synctest.Test(t, func(t *testing.T) {
		var last time.Time
		_, err := backoff.Do(context.Background(), p, func(context.Context) (int, error) {
			if !last.IsZero() {
				got = append(got, time.Since(last))
			}
			last = time.Now()
			return 0, errBusy
		})
		if !errors.Is(err, errBusy) {
			t.Errorf("Do = %v, want the operation's error", err)
		}
	})
	return got
}

// The table of the package doc and of Policy.Rand's: what each source
// makes of each jitter's pauses.
func TestRand_pauses(t *testing.T) {
	for _, c := range []struct {
		jitter backoff.Jitter
		rand   interface{ Uint64() uint64 }
		want   []time.Duration
	}{
		{backoff.FullJitter, backofftest.LongestPause, []time.Duration{100 * ms, 200 * ms, 400 * ms}},
		{backoff.FullJitter, backofftest.ShortestPause, []time.Duration{0, 0, 0}},
		{backoff.FullJitter, backofftest.Fraction(0.75), []time.Duration{75 * ms, 150 * ms, 300 * ms}},
		{backoff.FullJitter, backofftest.Fraction(0.5), []time.Duration{50 * ms, 100 * ms, 200 * ms}},
		{backoff.EqualJitter, backofftest.LongestPause, []time.Duration{100 * ms, 200 * ms, 400 * ms}},
		{backoff.EqualJitter, backofftest.ShortestPause, []time.Duration{50 * ms, 100 * ms, 200 * ms}},
		{backoff.EqualJitter, backofftest.Fraction(0.5), []time.Duration{75 * ms, 150 * ms, 300 * ms}},
		// Decorrelated: from Pause to 3 × the previous pause (it grows by
		// itself, without Growth).
		{backoff.DecorrelatedJitter, backofftest.LongestPause, []time.Duration{300 * ms, 900 * ms, 2700 * ms}},
		{backoff.DecorrelatedJitter, backofftest.ShortestPause, []time.Duration{100 * ms, 100 * ms, 100 * ms}},
		{backoff.DecorrelatedJitter, backofftest.Fraction(0.5), []time.Duration{200 * ms, 350 * ms, 575 * ms}},
	} {
		p := backoff.Policy{Pause: 100 * ms, Growth: 2, Jitter: c.jitter, Rand: c.rand, MaxTries: 4, RetryIf: backoff.AnyError}
		if c.jitter == backoff.DecorrelatedJitter {
			p.Growth = 0
		}
		if got := pauses(t, p); !slices.Equal(got, c.want) {
			t.Errorf("%v jitter, Rand %#x: pauses %v, want %v", c.jitter, c.rand.Uint64(), got, c.want)
		}
	}
}

// MaxPause caps the longest pause.
func TestRand_maxPause(t *testing.T) {
	p := backoff.Policy{Pause: 100 * ms, Growth: 2, MaxPause: 250 * ms, Jitter: backoff.FullJitter,
		Rand: backofftest.LongestPause, MaxTries: 4, RetryIf: backoff.AnyError}
	if got, want := pauses(t, p), []time.Duration{100 * ms, 200 * ms, 250 * ms}; !slices.Equal(got, want) {
		t.Errorf("pauses %v, want %v", got, want)
	}
}

func TestFraction(t *testing.T) {
	for _, c := range []struct {
		f    float64
		want backofftest.Fixed
	}{
		{0, backofftest.ShortestPause},
		{1, backofftest.LongestPause},
		{0.5, 1 << 63},
		{0.75, 3 << 62},
		{math.Nextafter(1, 0), math.MaxUint64 - 2047}, // 2^64 × (1 - 2^-53)
	} {
		if got := backofftest.Fraction(c.f); got != c.want {
			t.Errorf("Fraction(%v) = %#x, want %#x", c.f, uint64(got), uint64(c.want))
		}
	}
	for _, f := range []float64{-0.1, 1.1, math.NaN(), math.Inf(1)} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("Fraction(%v) did not panic", f)
				}
			}()
			backofftest.Fraction(f)
		}()
	}
}

// NewRand's stream is math/rand/v2's PCG, and it is safe for concurrent
// use.
func TestNewRand(t *testing.T) {
	r, pcg := backofftest.NewRand(42), rand.NewPCG(42, 0)
	for i := range 100 {
		if got, want := r.Uint64(), pcg.Uint64(); got != want {
			t.Fatalf("draw %d: %#x, want %#x", i, got, want)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 1000 {
				r.Uint64()
			}
		})
	}
	wg.Wait()
	pcg = rand.NewPCG(42, 0)
	for range 100 + 4000 {
		pcg.Uint64()
	}
	if got, want := r.Uint64(), pcg.Uint64(); got != want {
		t.Errorf("after 4,000 concurrent draws: %#x, want %#x: a draw was lost or repeated", got, want)
	}
}
