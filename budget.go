package backoff

import (
	"math"
	"sync"
	"time"
)

// A Budget limits the retries of many calls to a share of those calls, so
// that when a dependency is down its callers do not multiply their load
// on it (a retry storm): with MaxTries 5 and no budget, an outage turns
// each call into five attempts; with a budget of Ratio 0.1, into about
// 1.1. It is a token bucket, as gRPC's retry throttling and Finagle's
// retry budgets are:
//
//   - it holds at most Burst tokens, and a new Budget starts full;
//   - each call that starts its first attempt earns Ratio of a token;
//   - time earns PerSecond tokens per second on the policy's clock, so
//     that a service with few calls can still retry;
//   - each retry spends one token, and a retry that finds less than one
//     is refused: the call ends with ErrBudgetExhausted, and Error.Last
//     is the failure it would have retried.
//
// Over any stretch of time, the retries it allows are therefore at most
// Burst + Ratio × the calls begun in that stretch + PerSecond × its
// length in seconds.
//
// A retry is spent when the decision core decides it (after MaxTries,
// GiveUp and the deadline let it happen, before the pause), not when the
// retry starts: a call refused by the budget ends at once, without
// sleeping first.
//
// Point the Budget field of the policies that share it at one Budget. Set
// its fields before the first call uses it, and do not change them after.
// A Budget is safe for concurrent use: it takes a lock (some tens of
// nanoseconds) when a call begins and when it retries. The zero Budget
// allows no retry, and Policy.Validate refuses it.
type Budget struct {
	// Ratio is the share of a retry each call earns: 0.1 allows one retry
	// for every ten calls. Zero: calls earn nothing.
	Ratio float64

	// PerSecond is the retries earned per second of the policy's clock,
	// whatever the traffic. Zero: time earns nothing.
	PerSecond float64

	// Burst is the most tokens the Budget holds, and what it holds when
	// it is new: the retries it allows at once after a quiet spell. It
	// must be at least 1, since a retry spends a whole token.
	Burst int

	mu     sync.Mutex
	begun  bool      // tokens and last are set
	tokens int64     // in units of 1/tokenUnit of a token
	last   time.Time // when time last earned tokens
}

// tokenUnit is the number of units a token is counted in: in whole units,
// the bucket's sums are exact, and round down where they cannot be.
const tokenUnit = 1_000_000_000

// maxBurst keeps Burst × tokenUnit far from overflowing.
const maxBurst = 1 << 30

// earn adds what the call begun at t earns, and what time has earned
// since the last call, to the bucket.
func (b *Budget) earn(t time.Time) {
	b.mu.Lock()
	b.refill(t)
	b.add(b.Ratio * tokenUnit)
	b.mu.Unlock()
}

// spend takes one token for a retry decided at t, and reports whether
// there was one to take.
func (b *Budget) spend(t time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill(t)
	if b.tokens < tokenUnit {
		return false
	}
	b.tokens -= tokenUnit
	return true
}

// refill fills a new bucket, or adds what time has earned since last: the
// clock reads of concurrent calls arrive in any order, so a time before
// last earns nothing and leaves last where it is.
func (b *Budget) refill(t time.Time) {
	if !b.begun {
		b.begun, b.tokens, b.last = true, int64(b.Burst)*tokenUnit, t
		return
	}
	if d := t.Sub(b.last); d > 0 {
		b.last = t
		// PerSecond tokens per second is PerSecond units per nanosecond.
		b.add(float64(d) * b.PerSecond)
	}
}

// add adds units to the bucket, up to Burst tokens.
func (b *Budget) add(units float64) {
	room := int64(b.Burst)*tokenUnit - b.tokens
	if units >= float64(room) { // also +Inf
		b.tokens += room
	} else if units >= 1 {
		b.tokens += int64(units) // rounds down
	}
}

// validate adds the problems of the Budget's fields to errs.
func (b *Budget) validate(errs []error) []error {
	rate := func(name string, v float64) {
		if !(v >= 0 && !math.IsInf(v, 1)) {
			errs = append(errs, invalid("Budget.%s is %v; want a finite number, 0 or more", name, v))
		}
	}
	rate("Ratio", b.Ratio)
	rate("PerSecond", b.PerSecond)
	if b.Burst < 1 || b.Burst > maxBurst {
		errs = append(errs, invalid("Budget.Burst is %d; want 1 to %d: the most tokens it holds, and a retry spends one", b.Burst, maxBurst))
	}
	return errs
}
