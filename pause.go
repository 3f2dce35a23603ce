package backoff

import (
	"errors"
	"math"
	"math/bits"
	"time"
)

// How long a pause lasts: Pause, grown by Growth after each failure,
// spread by Jitter, capped by MaxPause, and never shorter than a delay the
// failed operation asked for. The decision core (Execution.Step) calls
// pauseAfter; nothing else decides a pause.

// A Jitter says how pauses are spread at random, so that many callers
// that failed together do not retry together. The kinds are those of the
// AWS Architecture Blog's "Exponential Backoff And Jitter", where b is the
// pause before jitter (Pause grown by Growth, capped by MaxPause):
//
//   - NoJitter: b.
//   - FullJitter: uniform in [0, b].
//   - EqualJitter: b/2 plus uniform in [0, b/2], so within [b/2, b].
//   - DecorrelatedJitter: uniform in [Pause, 3 × the previous pause] (the
//     first previous pause is Pause), then capped by MaxPause; it grows by
//     itself, so Growth is not applied.
//
// Whatever the kind, no pause exceeds MaxPause, but one a delay hint asks
// for.
type Jitter uint8

// The kinds of jitter.
const (
	NoJitter Jitter = iota
	FullJitter
	EqualJitter
	DecorrelatedJitter
)

var jitterNames = [...]string{"none", "full", "equal", "decorrelated"}

// String returns the jitter kind's lower-case name.
func (j Jitter) String() string { return name(jitterNames[:], int(j), "Jitter") }

// RetryAfter returns err carrying a delay hint: the next pause lasts at
// least d (see [Policy]). The result wraps err (errors.Is and errors.As
// reach it) and reads as err does. A nil err gives nil.
//
// Any error that has a method RetryAfter() time.Duration, or wraps one,
// carries a hint the same way; backoffhttp's StatusError does, from a
// Retry-After header.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &hintError{err, d}
}

type hintError struct {
	err error
	d   time.Duration
}

func (e *hintError) Error() string             { return e.err.Error() }
func (e *hintError) Unwrap() error             { return e.err }
func (e *hintError) RetryAfter() time.Duration { return e.d }

// hinter is an error that carries a delay hint.
type hinter interface {
	error
	RetryAfter() time.Duration
}

// DelayHint returns the delay hint err carries (see [RetryAfter]): the
// RetryAfter() of err or of the first error it wraps that has one, 0 if
// none does (or if it is negative). It is the hint the decision core
// reads.
func DelayHint(err error) time.Duration { return hintOf(err) }

// hintOf is DelayHint.
func hintOf(err error) time.Duration {
	switch err.(type) {
	case hinter, interface{ Unwrap() error }, interface{ Unwrap() []error }, interface{ As(any) bool }:
	default:
		// Nothing errors.AsType could find a hint in (the common case):
		// not a hint, and wraps nothing, and has no As method.
		return 0
	}
	if h, ok := errors.AsType[hinter](err); ok {
		return max(h.RetryAfter(), 0)
	}
	return 0
}

// PauseAfter returns the pause the decision core takes under p after the
// k-th failed attempt of a call (from 1), whose error was err: prev is the
// pause before it (0 after the first failure), and r the random number
// the driver gave with the failure (used only with a Jitter). A delay hint
// err carries is a floor. (The core then ends the call instead if the
// pause would reach a deadline: rule 5.) It is the very function
// Execution.Step uses, for tools that show or explain a call's pauses.
func (p Policy) PauseAfter(k int, prev time.Duration, r uint64, err error) time.Duration {
	return p.pauseAfter(k, prev, r, err)
}

// pauseAfter returns the pause after the k-th failed attempt (from 1),
// whose error was err: prev is the pause before it (0 after the first
// failure: DecorrelatedJitter then starts from Pause, as the AWS
// definition's sleep starts at its base), r a uniformly random number. It never overflows: every
// duration is between 0 and math.MaxInt64.
func (p *Policy) pauseAfter(k int, prev time.Duration, r uint64, err error) time.Duration {
	d := p.Pause
	if d == 0 && p.Jitter != DecorrelatedJitter {
		return hintOf(err) // no pause to grow, cap or spread
	}
	switch {
	case p.Jitter == DecorrelatedJitter:
		if prev == 0 {
			prev = p.Pause
		}
		hi := max(p.Pause, mulSat(prev, 3))
		d = p.Pause + uniform(r, hi-p.Pause)
	case p.Growth > 1 && k > 1:
		d = grown(p.Pause, p.Growth, k-1)
	}
	if p.MaxPause > 0 {
		d = min(d, p.MaxPause)
	}
	switch p.Jitter {
	case FullJitter:
		d = uniform(r, d)
	case EqualJitter:
		d = d - d/2 + uniform(r, d/2)
	}
	// A server's hint is a floor: a retry sooner than it asked is wasted.
	// So it is neither jittered nor capped; rule 5 still ends the call if
	// it would reach the deadline.
	return max(d, hintOf(err))
}

// grown returns d × g^n, at most math.MaxInt64.
func grown(d time.Duration, g float64, n int) time.Duration {
	if d == 0 {
		return 0 // not 0 × +Inf, which is NaN, once g^n overflows
	}
	f := float64(d) * math.Pow(g, float64(n))
	if !(f < math.MaxInt64) { // also NaN and +Inf
		return math.MaxInt64
	}
	return time.Duration(f)
}

// mulSat returns d × m for d >= 0, m > 0, at most math.MaxInt64.
func mulSat(d time.Duration, m int64) time.Duration {
	if d > math.MaxInt64/time.Duration(m) {
		return math.MaxInt64
	}
	return d * time.Duration(m)
}

// uniform returns a duration uniform in [0, n] drawn from r (Lemire's
// multiply-shift, without the rejection step: a bias below 2^-63 × n).
func uniform(r uint64, n time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	hi, _ := bits.Mul64(r, uint64(n)+1)
	return time.Duration(hi)
}

// validatePause adds the problems of the pause fields to errs.
func (p *Policy) validatePause(errs []error) []error {
	if p.MaxPause < 0 {
		errs = append(errs, invalid("MaxPause is %v; want 0 (no cap) or more", p.MaxPause))
	}
	if !(p.Growth == 0 || p.Growth >= 1 && !math.IsInf(p.Growth, 1)) {
		errs = append(errs, invalid("Growth is %v; want 0 or 1 (constant pauses) or a finite number above 1", p.Growth))
	}
	if int(p.Jitter) >= len(jitterNames) {
		errs = append(errs, invalid("Jitter is %v; want NoJitter, FullJitter, EqualJitter or DecorrelatedJitter", p.Jitter))
	}
	// Settings that would be silently ignored. With a zero Pause every
	// pause is 0, but one a delay hint asks for, which nothing shapes; but
	// DecorrelatedJitter, which spreads (and MaxPause caps) the pauses
	// after a hint.
	if p.Growth > 1 && p.Jitter == DecorrelatedJitter {
		errs = append(errs, invalid("Growth is %v but Jitter is DecorrelatedJitter, which grows the pauses by itself and does not use Growth; "+
			"leave Growth 0 or drop the jitter", p.Growth))
	}
	if p.Pause == 0 {
		if p.Jitter == FullJitter || p.Jitter == EqualJitter {
			errs = append(errs, invalid("Jitter is %s but Pause is 0s: there is no pause to spread; set a Pause", jitterGoNames[p.Jitter]))
		}
		if p.Growth > 1 && p.Jitter != DecorrelatedJitter {
			errs = append(errs, invalid("Growth is %v but Pause is 0s: there is no pause to grow; set a Pause", p.Growth))
		}
		if p.MaxPause > 0 && p.Jitter != DecorrelatedJitter {
			errs = append(errs, invalid("MaxPause is %v but Pause is 0s: there is no pause to cap (a delay hint is never capped); set a Pause", p.MaxPause))
		}
	}
	return errs
}

// jitterGoNames are the Jitter kinds' names in Go, for messages.
var jitterGoNames = [...]string{"NoJitter", "FullJitter", "EqualJitter", "DecorrelatedJitter"}

// pauseValid is the fast path of validatePause, but for MaxPause (see
// Policy.valid): true if it has nothing to add.
func (p *Policy) pauseValid() bool {
	return (p.Growth == 0 || p.Growth >= 1 && !math.IsInf(p.Growth, 1)) && int(p.Jitter) < len(jitterNames) &&
		(p.Pause > 0 || p.Jitter == NoJitter && p.Growth <= 1 && p.MaxPause == 0) &&
		(p.Jitter != DecorrelatedJitter || p.Growth <= 1)
}
