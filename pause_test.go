package backoff

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

var synctestTest = synctest.Test

const ms = time.Millisecond

var errPlain = errors.New("plain")

func TestPolicy_pauseAfter(t *testing.T) {
	hint := RetryAfter(errPlain, 700*ms)
	for _, tc := range []struct {
		name string
		p    Policy
		k    int
		prev time.Duration
		err  error
		want time.Duration
	}{
		{"zero values: Pause", Policy{Pause: 50 * ms}, 7, 0, errPlain, 50 * ms},
		{"growth 1 is constant", Policy{Pause: 50 * ms, Growth: 1}, 7, 0, errPlain, 50 * ms},
		{"growth after the first", Policy{Pause: 50 * ms, Growth: 2}, 1, 0, errPlain, 50 * ms},
		{"growth", Policy{Pause: 50 * ms, Growth: 2}, 4, 0, errPlain, 400 * ms},
		{"growth, capped", Policy{Pause: 50 * ms, Growth: 2, MaxPause: 300 * ms}, 4, 0, errPlain, 300 * ms},
		{"growth without overflow", Policy{Pause: time.Hour, Growth: 1e300}, 1 << 30, 0, errPlain, math.MaxInt64},
		{"a hint is a floor", Policy{Pause: 50 * ms}, 1, 0, hint, 700 * ms},
		{"a hint is not capped", Policy{Pause: 50 * ms, MaxPause: 100 * ms}, 1, 0, hint, 700 * ms},
		{"a shorter hint changes nothing", Policy{Pause: time.Second}, 1, 0, hint, time.Second},
		{"a negative hint is none", Policy{Pause: 50 * ms}, 1, 0, RetryAfter(errPlain, -time.Hour), 50 * ms},
		{"a wrapped hint", Policy{}, 1, 0, errors.Join(errPlain, hint), 700 * ms},
		{"no pause grows to none", Policy{Growth: 10}, 400, 0, errPlain, 0}, // not 0 × +Inf
		{"decorrelated: the first from Pause up to 3 × Pause", Policy{Pause: 50 * ms, Jitter: DecorrelatedJitter}, 1, 0, errPlain, 150 * ms},
		{"decorrelated: then up to 3 × the previous", Policy{Pause: 50 * ms, Jitter: DecorrelatedJitter}, 2, 70 * ms, errPlain, 210 * ms},
	} {
		if got := tc.p.pauseAfter(tc.k, tc.prev, math.MaxUint64, tc.err); got != tc.want {
			t.Errorf("%s: pauseAfter(%d) = %v, want %v", tc.name, tc.k, got, tc.want)
		}
	}
}

// Each jitter kind keeps within its bounds, and spreads: over many draws
// it comes near both ends.
func TestPolicy_pauseAfter_jitter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	base := 400 * ms
	for _, tc := range []struct {
		j      Jitter
		lo, hi time.Duration
	}{
		{FullJitter, 0, base},
		{EqualJitter, base / 2, base},
		{DecorrelatedJitter, 50 * ms, 3 * 200 * ms},
	} {
		p := Policy{Pause: 50 * ms, Growth: 2, Jitter: tc.j}
		lo, hi := time.Duration(math.MaxInt64), time.Duration(0)
		for range 10000 {
			d := p.pauseAfter(4, 200*ms, r.Uint64(), errPlain) // base 400ms; prev 200ms
			if d < tc.lo || d > tc.hi {
				t.Fatalf("%v: %v outside [%v, %v]", tc.j, d, tc.lo, tc.hi)
			}
			lo, hi = min(lo, d), max(hi, d)
		}
		if span := tc.hi - tc.lo; lo > tc.lo+span/100 || hi < tc.hi-span/100 {
			t.Errorf("%v: 10000 draws only spread over [%v, %v] of [%v, %v]", tc.j, lo, hi, tc.lo, tc.hi)
		}
		p.MaxPause = 100 * ms
		for range 1000 {
			if d := p.pauseAfter(4, 200*ms, r.Uint64(), errPlain); d > p.MaxPause {
				t.Fatalf("%v: %v exceeds MaxPause %v", tc.j, d, p.MaxPause)
			}
		}
	}
	p := Policy{Pause: time.Second, Jitter: FullJitter}
	if got := p.pauseAfter(1, 0, math.MaxUint64, nil); got != time.Second {
		t.Errorf("the largest draw gives %v, want the whole pause", got)
	}
}

func TestPolicy_Validate_pause(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{MaxPause: -1}, "MaxPause is -1ns"},
		{Policy{Growth: 0.5}, "Growth is 0.5"},
		{Policy{Growth: -2}, "Growth is -2"},
		{Policy{Growth: math.NaN()}, "Growth is NaN"},
		{Policy{Growth: math.Inf(1)}, "Growth is +Inf"},
		{Policy{Jitter: 9}, "Jitter is Jitter(9)"},
	} {
		err := tc.p.Validate()
		if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error saying %q", tc.p, err, tc.want)
		}
	}
	for _, p := range []Policy{
		{Growth: 1},
		{Pause: time.Millisecond, Growth: 1.5, MaxPause: time.Second, Jitter: FullJitter},
		// DecorrelatedJitter spreads the pauses after a delay hint, even with
		// no Pause, and MaxPause caps them.
		{MaxPause: time.Second, Jitter: DecorrelatedJitter},
	} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", p, err)
		}
	}
}

// TestPolicy_Validate_ignored: a pause setting that would be silently
// ignored is refused, and the whole message says what to do.
func TestPolicy_Validate_ignored(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{Jitter: FullJitter},
			"backoff: invalid policy: Jitter is FullJitter but Pause is 0s: there is no pause to spread; set a Pause"},
		{Policy{Jitter: EqualJitter, MaxTries: 3},
			"backoff: invalid policy: Jitter is EqualJitter but Pause is 0s: there is no pause to spread; set a Pause"},
		{Policy{Growth: 2},
			"backoff: invalid policy: Growth is 2 but Pause is 0s: there is no pause to grow; set a Pause"},
		{Policy{MaxPause: time.Second},
			"backoff: invalid policy: MaxPause is 1s but Pause is 0s: there is no pause to cap (a delay hint is never capped); set a Pause"},
		{Policy{Pause: time.Second, Growth: 1.5, Jitter: DecorrelatedJitter},
			"backoff: invalid policy: Growth is 1.5 but Jitter is DecorrelatedJitter, which grows the pauses by itself and does not use Growth; " +
				"leave Growth 0 or drop the jitter"},
	} {
		err := tc.p.Validate()
		if !errors.Is(err, ErrInvalidPolicy) || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v\nwant %s", tc.p, err, tc.want)
		}
	}
}

// FuzzPauseAfter drives the pause maths at any numbers: a pause is never
// negative, never above MaxPause unless a hint asks for more, within its
// jitter's bounds, and at least the hint.
func FuzzPauseAfter(f *testing.F) {
	f.Add(int64(ms), 2.0, int64(0), uint8(0), 5, int64(0), uint64(0), int64(0))
	f.Add(int64(math.MaxInt64), 1e308, int64(math.MaxInt64), uint8(3), math.MaxInt, int64(math.MaxInt64), uint64(math.MaxUint64), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, pause int64, growth float64, maxPause int64, jitter uint8, k int, prev int64, r uint64, hint int64) {
		p := Policy{Pause: time.Duration(pause), Growth: growth, MaxPause: time.Duration(maxPause), Jitter: Jitter(jitter)}
		if p.Validate() != nil || k < 1 || prev < 0 {
			return
		}
		err := RetryAfter(errPlain, time.Duration(hint))
		d := p.pauseAfter(k, time.Duration(prev), r, err)
		h := max(time.Duration(hint), 0)
		switch {
		case d < 0:
			t.Fatalf("a negative pause %v", d)
		case d < h:
			t.Fatalf("pause %v, shorter than the hint %v", d, h)
		case p.MaxPause > 0 && d > max(p.MaxPause, h):
			t.Fatalf("pause %v above MaxPause %v and the hint %v", d, p.MaxPause, h)
		case p.Jitter == NoJitter && h == 0 && p.Growth <= 1 && d != min(p.Pause, capOr(p.MaxPause)):
			t.Fatalf("without growth or jitter the pause is %v, want Pause %v", d, p.Pause)
		}
		if p.Jitter == NoJitter && h == 0 && k > 1 {
			if before := p.pauseAfter(k-1, 0, r, errPlain); before > d {
				t.Fatalf("growth is not monotone: pause %d is %v, pause %d %v", k-1, before, k, d)
			}
		}
	})
}

func capOr(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return math.MaxInt64
}

// Through Do, under synctest: the pauses between attempts are exactly
// what the policy says.
func TestDo_pauses(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Policy
		errs []error         // what attempts 1.. return (the last repeats)
		want []time.Duration // when the attempts start
	}{
		{"growth", Policy{Pause: 10 * ms, Growth: 3, MaxTries: 4, RetryIf: AnyError},
			[]error{errPlain}, []time.Duration{0, 10 * ms, 40 * ms, 130 * ms}},
		{"growth capped", Policy{Pause: 10 * ms, Growth: 3, MaxPause: 25 * ms, MaxTries: 4, RetryIf: AnyError},
			[]error{errPlain}, []time.Duration{0, 10 * ms, 35 * ms, 60 * ms}},
		{"a hint", Policy{Pause: 10 * ms, MaxTries: 3, RetryIf: AnyError},
			[]error{RetryAfter(errPlain, 500*ms), errPlain}, []time.Duration{0, 500 * ms, 510 * ms}},
		{"a hint with no pause", Policy{MaxTries: 3, RetryIf: AnyError},
			[]error{errPlain, RetryAfter(errPlain, 70*ms)}, []time.Duration{0, 0, 70 * ms}},
		{"a hint past the deadline ends the call at once", Policy{Pause: 10 * ms, Deadline: time.Second, RetryIf: AnyError},
			[]error{errPlain, RetryAfter(errPlain, time.Second)}, []time.Duration{0, 10 * ms}},
		{"seeded jitter", Policy{Pause: 100 * ms, Jitter: FullJitter, Rand: rand.NewPCG(7, 7), MaxTries: 3, RetryIf: AnyError},
			[]error{errPlain}, seededFullJitter(100*ms, 7, 2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctestTest(t, func(t *testing.T) {
				t0 := time.Now()
				var starts []time.Duration
				Do(t.Context(), tc.p, func(context.Context) (int, error) {
					starts = append(starts, time.Since(t0))
					return 0, tc.errs[min(len(starts), len(tc.errs))-1]
				})
				if !slices.Equal(starts, tc.want) {
					t.Errorf("attempts started at %v, want %v", starts, tc.want)
				}
			})
		})
	}
}

// seededFullJitter returns the start times of n+1 instant attempts with
// full jitter of pause from PCG(seed, seed): the draws Do makes.
func seededFullJitter(pause time.Duration, seed uint64, n int) []time.Duration {
	src := rand.NewPCG(seed, seed)
	out := []time.Duration{0}
	for range n {
		out = append(out, out[len(out)-1]+uniform(src.Uint64(), pause))
	}
	return out
}

// Without Policy.Rand, concurrent calls with jitter share no stream: no
// race, and their pauses differ.
func TestDo_jitterOwnSource(t *testing.T) {
	synctestTest(t, func(t *testing.T) {
		p := Policy{Pause: time.Second, Jitter: FullJitter, MaxTries: 2, RetryIf: AnyError}
		ends := make(chan time.Duration, 8)
		t0 := time.Now()
		for range 8 {
			go func() {
				Do(t.Context(), p, func(context.Context) (int, error) { return 0, errPlain })
				ends <- time.Since(t0)
			}()
		}
		seen := map[time.Duration]bool{}
		for range 8 {
			d := <-ends
			if d < 0 || d > time.Second {
				t.Fatalf("a jittered pause of %v", d)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("8 calls paused alike: %v", seen)
		}
	})
}

// asHint is an error that is no hint and wraps none, but whose As method
// makes one: errors.As finds hints that way too, so hintOf must.
type asHint struct{}

func (asHint) Error() string { return "as" }
func (asHint) As(target any) bool {
	if h, ok := target.(*hinter); ok {
		*h = RetryAfter(errPlain, 3*ms).(hinter)
		return true
	}
	return false
}

func TestHintOf(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"a plain error", errPlain, 0},
		{"nil", nil, 0},
		{"a hint", RetryAfter(errPlain, ms), ms},
		{"wrapped by fmt.Errorf", fmt.Errorf("get: %w", RetryAfter(errPlain, 2*ms)), 2 * ms},
		{"joined", errors.Join(errPlain, RetryAfter(errPlain, 4*ms)), 4 * ms},
		{"by an As method", asHint{}, 3 * ms},
	} {
		if got := hintOf(tc.err); got != tc.want {
			t.Errorf("%s: hintOf = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The pause maths at its edges: the bounds of EqualJitter are exact to the
// nanosecond for an odd base, and growth that reaches 2^63 nanoseconds
// saturates at math.MaxInt64, never wrapping negative, whether MaxPause
// caps it or a jitter spreads it.
func TestPolicy_pauseAfter_edges(t *testing.T) {
	const (
		lowest  = uint64(0)
		highest = uint64(math.MaxUint64)
		maxD    = time.Duration(math.MaxInt64)
	)
	for _, tc := range []struct {
		name string
		p    Policy
		k    int
		prev time.Duration
		r    uint64
		want time.Duration
	}{
		// b/2 of b = 101ns is 50.5ns: the shortest pause is 51ns, not 50ns.
		{"equal jitter, odd base: the lowest draw", Policy{Pause: 101, Jitter: EqualJitter}, 1, 0, lowest, 51},
		{"equal jitter, odd base: the highest draw", Policy{Pause: 101, Jitter: EqualJitter}, 1, 0, highest, 101},
		{"equal jitter, even base: the lowest draw", Policy{Pause: 100, Jitter: EqualJitter}, 1, 0, lowest, 50},
		{"equal jitter, odd base grown: the lowest draw", Policy{Pause: time.Second + 1, Growth: 3, Jitter: EqualJitter}, 2, 0, lowest, 1_500_000_002},
		{"equal jitter, odd base by MaxPause: the lowest draw", Policy{Pause: time.Second, MaxPause: 101, Jitter: EqualJitter}, 1, 0, lowest, 51},
		{"equal jitter, base 1ns: the lowest draw", Policy{Pause: 1, Jitter: EqualJitter}, 1, 0, lowest, 1},

		{"growth just below 2^63ns", Policy{Pause: 1, Growth: 2}, 63, 0, lowest, 1 << 62},
		{"growth to exactly 2^63ns", Policy{Pause: 1, Growth: 2}, 64, 0, lowest, maxD},
		{"growth past 2^63ns", Policy{Pause: 3, Growth: 2}, 63, 0, lowest, maxD},
		{"growth far past 2^63ns", Policy{Pause: time.Hour, Growth: 10}, 400, 0, lowest, maxD},
		{"growth to 2^63ns, capped", Policy{Pause: 1, Growth: 2, MaxPause: time.Hour}, 64, 0, lowest, time.Hour},
		{"growth to 2^63ns, capped at the most", Policy{Pause: 1, Growth: 2, MaxPause: maxD}, 64, 0, lowest, maxD},
		{"growth to 2^63ns, full jitter: the highest draw", Policy{Pause: 1, Growth: 2, Jitter: FullJitter}, 64, 0, highest, maxD},
		{"growth to 2^63ns, full jitter: the lowest draw", Policy{Pause: 1, Growth: 2, Jitter: FullJitter}, 64, 0, lowest, 0},
		{"growth to 2^63ns, equal jitter: the highest draw", Policy{Pause: 1, Growth: 2, Jitter: EqualJitter}, 64, 0, highest, maxD},
		{"growth to 2^63ns, equal jitter: the lowest draw", Policy{Pause: 1, Growth: 2, Jitter: EqualJitter}, 64, 0, lowest, 1 << 62},
		{"growth to 2^63ns, equal jitter, capped", Policy{Pause: 1, Growth: 2, Jitter: EqualJitter, MaxPause: time.Hour}, 64, 0, lowest, 30 * time.Minute},
		{"decorrelated: 3 × the previous past 2^63ns, the highest draw", Policy{Pause: 1, Jitter: DecorrelatedJitter}, 5, maxD/3 + 1, highest, maxD},
		{"decorrelated: 3 × the previous past 2^63ns, the lowest draw", Policy{Pause: 1, Jitter: DecorrelatedJitter}, 5, maxD/3 + 1, lowest, 1},
		{"decorrelated: 3 × the previous past 2^63ns, capped", Policy{Pause: 1, Jitter: DecorrelatedJitter, MaxPause: time.Hour}, 5, maxD, highest, time.Hour},
	} {
		if got := tc.p.pauseAfter(tc.k, tc.prev, tc.r, errPlain); got != tc.want {
			t.Errorf("%s: pauseAfter(%d, %v, %#x) = %v (%d), want %v (%d)", tc.name, tc.k, tc.prev, tc.r, got, int64(got), tc.want, int64(tc.want))
		}
	}

	// Whatever the jitter, cap and draw, growth through 2^63ns and beyond
	// never gives a negative pause, and without a jitter never a shorter
	// one than before.
	for _, j := range []Jitter{NoJitter, FullJitter, EqualJitter, DecorrelatedJitter} {
		for _, maxPause := range []time.Duration{0, time.Hour, maxD} {
			for _, r := range []uint64{lowest, highest / 2, highest} {
				p := Policy{Pause: 7, Growth: 2, Jitter: j, MaxPause: maxPause}
				var prev time.Duration
				for k := 1; k <= 70; k++ {
					d := p.pauseAfter(k, prev, r, errPlain)
					if d < 0 || maxPause > 0 && d > maxPause {
						t.Fatalf("%v jitter, MaxPause %v, r %#x: pause %d is %d ns", j, maxPause, r, k, int64(d))
					}
					if j == NoJitter && d < prev {
						t.Fatalf("MaxPause %v: pause %d is %v, shorter than pause %d, %v", maxPause, k, d, k-1, prev)
					}
					prev = d
				}
			}
		}
	}
}
