package backoff

import (
	"errors"
	"fmt"
	"time"
)

// A Policy says how a call is retried: five limits that all hold at once.
// It is plain data: copy it, compare its numbers, share one Policy between
// many calls and goroutines (it is never modified by the library).
//
// The zero Policy calls the operation once, with no time limit, and returns
// its result: nothing is retried, because a nil RetryIf retries no error.
//
// Where aiomisc uses None for "not set", a Policy uses the zero value: a
// zero AttemptTimeout, Deadline or MaxTries means no limit (aiomisc's
// deadline=0 instead fails at once, and max_tries=0 is an error there).
type Policy struct {
	// AttemptTimeout, if positive, cuts off each attempt after this long:
	// the attempt's context is done, and the attempt counts as a failure
	// with ErrAttemptTimeout, which is always retried. Zero: no limit.
	AttemptTimeout time.Duration

	// Deadline, if positive, bounds the whole call (attempts and pauses),
	// measured from its start: the call ends with ErrDeadline then, and
	// never sleeps into it. Zero: no limit.
	Deadline time.Duration

	// Pause is the wait between the end of a failed attempt and the start
	// of the next one: the first pause, if Growth or Jitter change the
	// later ones (see [Jitter] for how they combine). Zero: the next attempt
	// starts at once, with no timer.
	//
	// An error that carries a delay hint (see [RetryAfter]) makes the
	// pause after it at least that long, neither jittered nor capped; a
	// pause that would reach the Deadline ends the call at once.
	Pause time.Duration

	// Growth, if above 1, multiplies the pause after each failure: the
	// pause after the k-th failure is Pause × Growth^(k-1), without
	// overflow. Zero or 1: every pause is Pause.
	Growth float64

	// MaxPause, if positive, caps every pause: no pause is longer, except
	// one a delay hint asks for. With FullJitter or EqualJitter the grown
	// pause is capped before the jitter spreads it (so jittered pauses are
	// within [0, MaxPause]); with DecorrelatedJitter the drawn pause is
	// capped. Zero: no cap.
	MaxPause time.Duration

	// Jitter spreads the pauses at random (see [Jitter]). Zero: NoJitter,
	// every pause exactly as Pause, Growth and MaxPause say.
	Jitter Jitter

	// Rand is the source of the random numbers Jitter uses: one Uint64 per
	// failed attempt (none with NoJitter). It must be safe for concurrent
	// use if concurrent calls share the policy. Nil: a source of the
	// library's own, seeded once from crypto/rand, with a stream of its
	// own for each call (a math/rand/v2 PCG), so calls need no lock.
	//
	// A number r puts the pause at lo + ⌊r × (hi − lo + 1ns) / 2^64⌋ in
	// its jitter's range [lo, hi] (see [Jitter]; b is the pause before
	// jitter, p the previous pause, or Pause after the first failure):
	//
	//   - math.MaxUint64 gives the longest pause, hi: with FullJitter
	//     and EqualJitter the full pause b, with DecorrelatedJitter
	//     3 × p (at least Pause);
	//   - 0 gives the shortest, lo: with FullJitter none, with EqualJitter
	//     b − b/2 (half of b, rounded up), with DecorrelatedJitter Pause.
	//
	// MaxPause then caps it, and a delay hint can lengthen it, as always.
	// For exact times in tests, package backofftest has these two sources
	// (LongestPause, ShortestPause), one for any point in between
	// (Fraction) and a seeded stream (NewRand), all safe for concurrent use.
	Rand interface{ Uint64() uint64 }

	// MaxTries, if positive, is the most attempts a call makes in total
	// (the first one included). Zero: no limit.
	MaxTries int

	// Budget, if not nil, is shared by the calls of every policy that
	// points to it, and limits their retries to a share of their calls
	// (see [Budget]): a retry it refuses ends the call with
	// ErrBudgetExhausted. Nil: retries are limited per call only.
	Budget *Budget

	// RetryIf says which errors of the operation are retried. Nil: none.
	// Attempt timeouts are always retried, whatever RetryIf says.
	RetryIf func(error) bool

	// GiveUp, if not nil, is asked about every retryable failure but the
	// last permitted one (MaxTries is checked first); true ends the call
	// with ErrGaveUp. Nil: never give up.
	GiveUp func(error) bool

	// Clock tells time for the call. Nil: the system clock (package time,
	// which is virtual inside a testing/synctest bubble).
	Clock Clock

	// Observer, if not nil, is told every step of every call made under
	// this policy, as it happens (see [Observer]). Nil: nobody is told.
	Observer Observer
}

// Validate reports whether the policy can be used. Each problem is an
// error matching ErrInvalidPolicy that names the field and its value, and
// says what to do; all of them are joined (see [errors.Join]). The zero
// Policy is valid.
//
// Besides numbers out of range, it refuses settings that cannot work:
//   - GiveUp when nothing is retried (a nil RetryIf and no
//     AttemptTimeout): GiveUp is asked only about what is retried.
//   - FullJitter, EqualJitter, a Growth above 1 or MaxPause with a zero
//     Pause: there is no pause to spread, grow or cap. DecorrelatedJitter
//     (and MaxPause with it) is allowed: it spreads the pauses that follow
//     a delay hint.
//   - A Growth above 1 with DecorrelatedJitter, which does not use it.
//   - A RetryIf with no Pause and nothing to bound the retries (MaxTries,
//     Deadline or a Budget): a failing operation would be called again
//     at once, without end, as fast as it fails.
func (p Policy) Validate() error {
	if p.valid() {
		return nil // the common case, without building anything
	}
	var errs []error
	for _, f := range [...]struct {
		name string
		d    time.Duration
	}{{"AttemptTimeout", p.AttemptTimeout}, {"Deadline", p.Deadline}, {"Pause", p.Pause}} {
		if f.d < 0 {
			errs = append(errs, invalid("%s is %v; want 0 (none) or more", f.name, f.d))
		}
	}
	if p.MaxTries < 0 {
		errs = append(errs, invalid("MaxTries is %d; want 0 (no limit) or more", p.MaxTries))
	}
	errs = p.validatePause(errs)
	if p.Budget != nil {
		errs = p.Budget.validate(errs)
	}
	if p.GiveUp != nil && p.RetryIf == nil && p.AttemptTimeout == 0 {
		errs = append(errs, invalid("GiveUp is set but RetryIf is nil and there is no AttemptTimeout: nothing is retried, so GiveUp is never asked "+
			"(it sees only what is retried; an error RetryIf does not retry ends the call with ErrNotRetryable); set a RetryIf"))
	}
	if p.RetryIf != nil && p.Pause == 0 && p.MaxTries == 0 && p.Deadline == 0 && p.Budget == nil {
		errs = append(errs, invalid("RetryIf is set but no Pause, MaxTries, Deadline or Budget bounds the retries: a failing operation would be "+
			"called again at once, without end; bound the retries with MaxTries, Pause or Deadline"))
	}
	return errors.Join(errs...)
}

// valid is the fast path of Validate: true if it has nothing to report.
func (p *Policy) valid() bool {
	// One sign test for all the numbers that must not be negative: Do
	// checks every call, and this is a tenth of a call that succeeds.
	return int64(p.AttemptTimeout)|int64(p.Deadline)|int64(p.Pause)|int64(p.MaxPause)|int64(p.MaxTries) >= 0 &&
		p.pauseValid() && p.Budget == nil &&
		(p.Pause > 0 || p.RetryIf == nil || p.MaxTries > 0 || p.Deadline > 0) &&
		(p.GiveUp == nil || p.RetryIf != nil || p.AttemptTimeout > 0)
}

// invalid returns an error matching ErrInvalidPolicy that says what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPolicy}, args...)...)
}

// Retry returns the Policy of aiomisc's asyncretry: at most maxTries
// attempts, any error retried, no pause and no time limit. Set the other
// fields on the result as needed. Retry(0), no limit on tries, is valid
// only once a Pause or a Deadline is set: without one, a failing
// operation would be called again at once, without end, and Validate
// refuses it.
func Retry(maxTries int) Policy {
	return Policy{MaxTries: maxTries, RetryIf: AnyError}
}
