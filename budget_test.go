package backoff

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// epoch is an arbitrary instant for the budget's clock.
var epoch = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return epoch.Add(d) }

// spends spends n times at t and returns how many were allowed.
func spends(b *Budget, t time.Time, n int) int {
	ok := 0
	for range n {
		if b.spend(t) {
			ok++
		}
	}
	return ok
}

func TestBudget_startsFull(t *testing.T) {
	b := &Budget{Burst: 3}
	if got := spends(b, at(0), 5); got != 3 {
		t.Fatalf("a new Budget of Burst 3 allowed %d of 5 retries, want 3", got)
	}
}

func TestBudget_callsEarnRatio(t *testing.T) {
	b := &Budget{Ratio: 0.1, Burst: 1}
	spends(b, at(0), 1) // empty it
	for i := range 9 {
		b.earn(at(0))
		if b.spend(at(0)) {
			t.Fatalf("a retry allowed after %d calls at Ratio 0.1, want none before 10", i+1)
		}
	}
	b.earn(at(0))
	if got := spends(b, at(0), 2); got != 1 {
		t.Fatalf("after 10 calls at Ratio 0.1: %d retries allowed, want 1", got)
	}
}

func TestBudget_timeEarnsPerSecond(t *testing.T) {
	b := &Budget{PerSecond: 2, Burst: 10}
	spends(b, at(0), 10) // empty it
	if b.spend(at(499 * time.Millisecond)) {
		t.Fatal("a retry allowed 499ms later at 2 per second, want none before 500ms")
	}
	if !b.spend(at(500 * time.Millisecond)) {
		t.Fatal("no retry allowed 500ms later at 2 per second, want one")
	}
	// An hour earns 7200 tokens, but the bucket holds 10.
	if got := spends(b, at(time.Hour), 20); got != 10 {
		t.Fatalf("after an hour: %d retries allowed, want Burst (10)", got)
	}
}

func TestBudget_timeGoingBackEarnsNothing(t *testing.T) {
	b := &Budget{PerSecond: 1, Burst: 5}
	spends(b, at(10*time.Second), 5)
	// Concurrent calls may report their times out of order: an earlier one
	// earns nothing, and does not make later ones earn twice.
	if b.spend(at(5 * time.Second)) {
		t.Fatal("a time before the last one earned a token")
	}
	if got := spends(b, at(11*time.Second), 3); got != 1 {
		t.Fatalf("1s after the latest time: %d retries allowed, want 1", got)
	}
}

func TestBudget_extremes(t *testing.T) {
	b := &Budget{Ratio: math.MaxFloat64, PerSecond: math.MaxFloat64, Burst: maxBurst}
	b.earn(at(0))
	b.earn(at(math.MaxInt64))
	if b.tokens != maxBurst*tokenUnit {
		t.Fatalf("tokens = %d, want the bucket full (%d) and no overflow", b.tokens, maxBurst*tokenUnit)
	}
}

func TestBudget_validate(t *testing.T) {
	for _, tc := range []struct {
		b    *Budget
		want string
	}{
		{&Budget{}, "Budget.Burst is 0; want 1 to 1073741824"},
		{&Budget{Burst: -1}, "Budget.Burst is -1"},
		{&Budget{Burst: maxBurst + 1}, "Budget.Burst is 1073741825"},
		{&Budget{Ratio: -0.5, Burst: 1}, "Budget.Ratio is -0.5; want a finite number, 0 or more"},
		{&Budget{Ratio: math.NaN(), Burst: 1}, "Budget.Ratio is NaN"},
		{&Budget{PerSecond: math.Inf(1), Burst: 1}, "Budget.PerSecond is +Inf"},
	} {
		err := Policy{Budget: tc.b}.Validate()
		if !errors.Is(err, ErrInvalidPolicy) || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(Budget{Ratio: %v, PerSecond: %v, Burst: %v}) = %v, want ErrInvalidPolicy saying %q", tc.b.Ratio, tc.b.PerSecond, tc.b.Burst, err, tc.want)
		}
	}
	if err := (Policy{Budget: &Budget{Ratio: 0.1, PerSecond: 1, Burst: 10}}).Validate(); err != nil {
		t.Errorf("a good Budget is refused: %v", err)
	}
}

// TestBudget_share checks the Budget's promise on random histories: over
// any stretch of time [t_i, t_j] of the history, the retries it allowed
// are at most Burst + Ratio × the calls begun in it + PerSecond × its
// length. (The float products are checked with a relative slack of 1e-9;
// the bucket itself counts in whole units and only rounds down.)
func TestBudget_share(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := &Budget{
			Ratio:     rapid.SampledFrom([]float64{0, 0.01, 0.1, 0.2, 1.0 / 3, 0.5, 1, 2.5}).Draw(t, "ratio"),
			PerSecond: rapid.SampledFrom([]float64{0, 0.5, 1, 3, 10}).Draw(t, "per_second"),
			Burst:     rapid.IntRange(1, 5).Draw(t, "burst"),
		}
		type op struct {
			t       time.Duration
			call    bool // a call began; else a retry was asked for
			allowed bool
		}
		var ops []op
		now := time.Duration(0)
		for range rapid.IntRange(1, 60).Draw(t, "ops") {
			now += time.Duration(rapid.IntRange(0, 20).Draw(t, "gap")) * 50 * time.Millisecond
			o := op{t: now, call: rapid.Bool().Draw(t, "call")}
			if o.call {
				b.earn(at(now))
			} else {
				o.allowed = b.spend(at(now))
			}
			ops = append(ops, o)
		}
		for i := range ops {
			calls, retries := 0, 0
			for j := i; j < len(ops); j++ {
				if ops[j].call {
					calls++
				} else if ops[j].allowed {
					retries++
				}
				share := float64(b.Burst) + b.Ratio*float64(calls) + b.PerSecond*(ops[j].t-ops[i].t).Seconds()
				if float64(retries) > share*(1+1e-9) {
					t.Fatalf("from op %d (%v) to op %d (%v): %d retries allowed for %d calls, want at most %v", i, ops[i].t, j, ops[j].t, retries, calls, share)
				}
			}
		}
	})
}

// FuzzBudget runs a Budget of any valid numbers through any history of
// calls and retries at any times, going back included: the bucket never
// holds less than nothing or more than Burst, and a retry is allowed iff
// a whole token was there.
func FuzzBudget(f *testing.F) {
	f.Add(0.1, 1.0, 10, []byte{0, 1, 2, 255, 128, 7})
	f.Add(math.MaxFloat64, math.SmallestNonzeroFloat64, maxBurst, []byte{255, 255, 0, 0})
	f.Fuzz(func(t *testing.T, ratio, perSecond float64, burst int, history []byte) {
		b := &Budget{Ratio: ratio, PerSecond: perSecond, Burst: burst}
		if (Policy{Budget: b}).Validate() != nil {
			return
		}
		full := int64(burst) * tokenUnit
		now := time.Duration(0)
		for i, op := range history {
			// The low bits move the time (back, too), the top bit picks the op.
			now += time.Duration(int8(op<<1)) * time.Duration(1+i) * 37 * time.Millisecond
			before := b.tokens
			if op&0x80 != 0 {
				b.earn(at(now))
			} else {
				ok := b.spend(at(now))
				refilled := b.tokens
				if ok {
					refilled += tokenUnit
				}
				if ok != (refilled >= tokenUnit) || (b.begun && i > 0 && refilled < before) {
					t.Fatalf("op %d at %v: spend = %v with %d units before it and %d after a refill", i, now, ok, before, refilled)
				}
			}
			if b.tokens < 0 || b.tokens > full {
				t.Fatalf("op %d at %v: %d units, want 0 to %d", i, now, b.tokens, full)
			}
		}
	})
}
