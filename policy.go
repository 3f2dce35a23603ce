package backoff

import (
	"errors"
	"fmt"
	"math"
	"strconv"
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

	// MaxPause, if positive, caps every pause, after jitter: no pause is
	// longer, except one a delay hint asks for. Zero: no cap.
	MaxPause time.Duration

	// Jitter spreads the pauses at random (see [Jitter]). Zero: NoJitter,
	// every pause exactly as Pause, Growth and MaxPause say.
	Jitter Jitter

	// Rand is the source of the random numbers Jitter uses: one Uint64 per
	// failed attempt. It must be safe for concurrent use if concurrent
	// calls share the policy. Nil: a source of the library's own, seeded
	// once from crypto/rand, with a stream of its own for each call (a
	// math/rand/v2 PCG), so calls need no lock. Give a seeded source to
	// make jitter reproducible.
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

	// Abandon, if true, bounds each attempt hard: the operation runs in a
	// goroutine of its own, and when the attempt's time is up (or the
	// caller's context is done) the call stops waiting for it and goes on,
	// discarding its late result. The call then returns on time even if
	// the operation ignores its context.
	//
	// The price: a goroutine and a channel per attempt (about a microsecond
	// and a few hundred bytes), and an abandoned attempt may still be
	// running, and may complete its side effects, while the next attempt
	// runs or after the call has returned. A panic in an abandoned attempt
	// is discarded with its result, since nobody waits for it.
	//
	// False (the default) is cooperative, as Go's context convention and
	// aiomisc's own cancellation are: the operation runs on the caller's
	// goroutine, its context is cancelled when its time is up, and the
	// attempt ends when it returns. Attempts never overlap.
	Abandon bool

	// Observer, if not nil, is told every step of every call made under
	// this policy, as it happens (see [Observer]). Nil: nobody is told.
	Observer Observer
}

// An Observer is told each step of a call: the event the decision core
// was given and the action it answered with, in order. The executor calls
// it once the action is under way (an attempt's context made, a pause's
// timer armed) and before it blocks, from the goroutine that called Do;
// the simulator in package sim makes the same calls. A trace recorder,
// counters and a test's handshake before advancing a fake clock are all
// Observers.
//
// The event's At is the time the executor read from the policy's clock when
// the event happened; the action's Until is on the same scale, so a pause
// lasts a.Until - e.At.
//
// An Observer shared by concurrent calls must be safe for concurrent use.
// It runs inline, so it should be quick.
type Observer interface {
	Observe(e Event, a Action)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(e Event, a Action)

// Observe calls f(e, a).
func (f ObserverFunc) Observe(e Event, a Action) { f(e, a) }

// Validate reports whether the policy can be used. Each problem is an
// error matching ErrInvalidPolicy that names the field and its value; all
// of them are joined (see [errors.Join]). The zero Policy is valid.
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
	return errors.Join(errs...)
}

// valid is the fast path of Validate: true if it has nothing to report.
func (p *Policy) valid() bool {
	return p.AttemptTimeout >= 0 && p.Deadline >= 0 && p.Pause >= 0 && p.MaxTries >= 0 && p.pauseValid() && p.Budget == nil
}

// invalid returns an error matching ErrInvalidPolicy that says what is wrong.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPolicy}, args...)...)
}

// Retry returns the Policy of aiomisc's asyncretry: at most maxTries
// attempts (0: no limit), any error retried, no pause and no time limit.
// Set the other fields on the result as needed.
func Retry(maxTries int) Policy {
	return Policy{MaxTries: maxTries, RetryIf: AnyError}
}

// AnyError is a RetryIf that retries every error.
func AnyError(error) bool { return true }

// On returns a RetryIf (or GiveUp) that is true for an error that matches
// any of targets by [errors.Is]. With no targets it is never true.
func On(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// OnType returns a RetryIf (or GiveUp) that is true for an error that is,
// or wraps, an error of type E (see [errors.AsType]).
func OnType[E error]() func(error) bool {
	return func(err error) bool {
		_, ok := errors.AsType[E](err)
		return ok
	}
}

// The decision core.
//
// Every rule of a call lives in Execution.Step and nowhere else. Step is
// pure: it reads no clock, starts no goroutine, draws no random number; it
// takes an Event (what happened, and when) and answers with an Action (what
// to do next). The executor behind Do carries the actions out with real
// timers and contexts; the simulator in package sim carries them out in
// virtual time. Because both obey the same Step, a run of one can be
// replayed by the other.

// An EventKind says what happened.
type EventKind uint8

// The events an Execution is told of.
const (
	// Began: the call began. Event.At is 0 by convention.
	Began EventKind = iota + 1
	// Ended: attempt Event.Attempt returned Event.Err.
	Ended
	// Fired: the time of Action.Until for the Action numbered
	// Event.Attempt came: a pause is over, or (with Abandon) an attempt's
	// time is up.
	Fired
	// Canceled: the caller's context is done, with cause Event.Cause.
	Canceled
)

// An Event is one input to [Execution.Step].
type Event struct {
	Kind EventKind
	// At is when it happened: the time since the call began, on the
	// policy's clock. An At before an earlier event's counts as that one.
	// The core does not use the At of an Ended event with a nil Err (a
	// success ends the call whenever it arrives, and no time is reported
	// with it), so a driver may leave it 0 when no Observer is told.
	At time.Duration
	// Attempt is the number (from 1) of the attempt an Ended event reports,
	// or the number in the Action whose timer a Fired event reports. An
	// event for any other attempt is stale and ignored.
	Attempt int
	// Err is what the attempt returned (Ended only).
	Err error
	// Cause, if not nil, says the caller's context is done, and why
	// (context.Cause). Any event may carry it; the driver reports it when
	// it notices, and with a Canceled event when it waits for nothing else.
	Cause error
	// Start is when the call began, on the policy's clock (Began only;
	// its At is 0). The core uses it only to tell the policy's Budget the
	// time: a driver must set it when the policy has a Budget, and may
	// leave it zero otherwise.
	Start time.Time
	// Rand is a uniformly random number, which the core uses to jitter the
	// pause an attempt's failure leads to. A driver supplies a fresh one
	// with each event that ends an attempt when the policy has a Jitter
	// (the executor from Policy.Rand, the simulator from its seed); else
	// it is ignored.
	Rand uint64
}

var eventNames = [...]string{"none", "began", "ended", "fired", "canceled"}

// String returns the event kind's lower-case name.
func (k EventKind) String() string { return name(eventNames[:], int(k), "EventKind") }

// An ActionKind says what to do next.
type ActionKind uint8

// The actions an Execution answers with.
const (
	// Wait: nothing new to do; keep waiting for the running attempt or
	// timer. It is also the answer to a stale event.
	Wait ActionKind = iota
	// Start: start attempt Action.Attempt now. If Action.Cut is not nil,
	// the attempt's context must be done at Action.Until with that cause;
	// with Policy.Abandon, report Fired then unless the attempt has ended.
	Start
	// Pause: wait until Action.Until, then report Fired with Action.Attempt,
	// the number of the attempt the pause leads to.
	Pause
	// Finish: the call is over. Action.Err is nil on success, else an *Error.
	Finish
)

var actionNames = [...]string{"wait", "start", "pause", "finish"}

// String returns the action kind's lower-case name.
func (k ActionKind) String() string { return name(actionNames[:], int(k), "ActionKind") }

// An Action is the answer of [Execution.Step].
type Action struct {
	Kind ActionKind
	// Attempt is the attempt to start (Start) or that a pause leads to (Pause).
	Attempt int
	// Until is when the attempt's time is up (Start, when Cut is not nil)
	// or when the pause ends (Pause), as a time since the call began.
	Until time.Duration
	// Cut is ErrAttemptTimeout or ErrDeadline: the limit that ends the
	// attempt at Until (Start only). Nil: the attempt has no time limit.
	Cut error
	// Err is the result of the call (Finish only): nil on success.
	Err error
	// Outcome is what the core made of the attempt that the event ended
	// (an Ended event, or the Fired or Canceled event that abandoned it);
	// NoOutcome for other events.
	Outcome Outcome
	// Since is when the attempt or the pause that the event ended began,
	// as a time since the call began: with an Outcome, the attempt's
	// start; after a pause, the pause's. An attempt lasted e.At - a.Since.
	// It is 0 for the answer to Began and for Wait.
	Since time.Duration
}

// An Outcome is what the decision core made of the end of an attempt.
type Outcome uint8

// The outcomes of an attempt.
const (
	// NoOutcome: the event ended no attempt.
	NoOutcome Outcome = iota
	// Succeeded: the operation returned a nil error.
	Succeeded
	// Failed: a retryable failure, an error RetryIf retries or the
	// attempt timeout; Error.Last is now its error.
	Failed
	// Rejected: an error RetryIf does not retry; the call ends.
	Rejected
	// Cut: the attempt was cut short by the deadline or by the caller's
	// context; its error only echoes the cut and is not kept.
	Cut
)

var outcomeNames = [...]string{"none", "succeeded", "failed", "rejected", "cut"}

// String returns the outcome's lower-case name.
func (o Outcome) String() string { return name(outcomeNames[:], int(o), "Outcome") }

// name returns names[i], or "Type(i)" for a value without a name.
func name(names []string, i int, typ string) string {
	if i < len(names) {
		return names[i]
	}
	return typ + "(" + strconv.Itoa(i) + ")"
}

// phase is where an Execution is in a call.
type phase uint8

const (
	idle    phase = iota // not begun
	running              // attempt n is running
	pausing              // waiting until `until` to start attempt n
	done                 // finished; every event is ignored
)

// An Execution is the pure decision core of one call under a Policy: the
// state of aiomisc's BackoffExecution without its clock. Feed it Events in
// the order they happen and carry out the Actions it answers with; it
// decides everything else. Do drives one with real timers; package sim
// drives one in virtual time; a job queue can drive one by storing
// "attempt n at t".
//
// It reads no clock, starts no goroutine and draws no random number: the
// driver brings the time and the randomness in each Event. The only things
// it touches outside itself are the policy's RetryIf and GiveUp, which it
// asks, and its Budget, which it tells of the call's start and asks for
// each retry (so a Budget sees the calls of every driver that shares it).
//
// An Execution is not safe for concurrent use: one call, one driver. Step
// costs some tens of nanoseconds and never allocates, except the *Error of
// a call that fails.
type Execution struct {
	p     Policy // the rules; p.Clock is not used
	phase phase
	now   time.Duration // the latest event's At: time never goes back
	n     int           // the attempt running, or the one a pause leads to
	until time.Duration // when attempt n's time is up (if cut != nil), or the pause ends
	cut   error         // ErrAttemptTimeout, ErrDeadline, or nil: what ends attempt n
	cause error         // the caller's context is done with this cause
	last  error         // the most recent attempt failure
	since time.Duration // when attempt n, or the pause before it, began
	pause time.Duration // the latest pause (for DecorrelatedJitter)
	rand  uint64        // the Rand of the event being handled
	t0    time.Time     // when the call began on the policy's clock (with a Budget)
}

// Execution returns the decision core for one call under p, after
// checking p with [Policy.Validate]. Its first Event must be Began.
func (p Policy) Execution() (Execution, error) {
	if err := p.Validate(); err != nil {
		return Execution{}, err
	}
	return Execution{p: p}, nil
}

// Step takes the next event of the call and says what to do next. See
// DESIGN rules 1-12: they are all decided here.
func (x *Execution) Step(e Event) Action {
	var a Action
	x.stepTo(&e, &a)
	return a
}

// stepTo is Step writing its answer to *a, which must be zero. The
// decisions below all write to *a rather than return an Action: an Action
// is 72 bytes, and copying it up each level was most of Step's cost.
func (x *Execution) stepTo(e *Event, a *Action) {
	from, since := x.phase, x.since
	x.rand = e.Rand
	x.step(e, a)
	if a.Kind != Wait && from != idle {
		a.Since = since // an attempt or a pause ended here
	}
}

func (x *Execution) step(e *Event, a *Action) {
	if x.phase == done {
		return
	}
	if e.At > x.now {
		x.now = e.At
	}
	if e.Cause != nil && x.cause == nil {
		x.cause = e.Cause
	}
	switch x.phase {
	case idle:
		if e.Kind != Began {
			return
		}
		if x.cause != nil { // rule 9: ctx already done, fn is never called
			x.finish(x.cause, NoOutcome, a)
			return
		}
		if x.p.Budget != nil {
			x.t0 = e.Start
			x.p.Budget.earn(e.Start)
		}
		x.start(1, a)
	case running:
		switch {
		case e.Kind == Ended && e.Attempt == x.n:
			x.ended(e.Err, a)
		case x.cause != nil && x.p.Abandon:
			// Rule 9 with Abandon: the call ends now; the attempt is left
			// behind, and its error (it has none yet) does not replace Last.
			x.finish(x.cause, Cut, a)
		case e.Kind == Fired && e.Attempt == x.n && x.cut != nil && x.p.Abandon:
			// Rule 3 with Abandon: the attempt's time is up; stop waiting.
			x.failed(x.cut, a)
		}
		// Else Wait. Cooperative: a cancelled attempt ends when fn returns.
	case pausing:
		if x.cause != nil { // rule 9: cancelled during a pause: at once
			x.finish(x.cause, NoOutcome, a)
		} else if e.Kind == Fired && e.Attempt == x.n {
			x.start(x.n, a)
		}
	}
}

// start starts attempt n now. Its context is done at the earliest of its
// attempt timeout and the call's deadline; a tie is the deadline's (rule 4).
func (x *Execution) start(n int, a *Action) {
	x.phase, x.n, x.until, x.cut, x.since = running, n, 0, nil, x.now
	if x.p.AttemptTimeout > 0 {
		x.until, x.cut = addSat(x.now, x.p.AttemptTimeout), ErrAttemptTimeout
	}
	if x.p.Deadline > 0 && (x.cut == nil || x.p.Deadline <= x.until) {
		x.until, x.cut = x.p.Deadline, ErrDeadline
	}
	a.Kind, a.Attempt, a.Until, a.Cut = Start, n, x.until, x.cut
}

// ended decides what attempt n's return means.
func (x *Execution) ended(err error, a *Action) {
	switch {
	case err == nil:
		x.phase = done
		a.Kind, a.Outcome = Finish, Succeeded // rule 1: from any attempt, even late
	case x.cause != nil:
		x.finish(x.cause, Cut, a) // rule 9: the error only echoes the cancel
	case x.cut != nil && x.now >= x.until:
		// Rule 3: an error at or after the attempt's time is up is the cut.
		// A deadline cut ends the call and keeps Last (rule 4).
		x.failed(x.cut, a)
	case x.p.RetryIf == nil || !x.p.RetryIf(err):
		x.last = err
		x.finish(ErrNotRetryable, Rejected, a) // rule 7
	default:
		x.failed(err, a)
	}
}

// failed handles attempt n's failure with err: an error of fn that
// RetryIf retries, ErrAttemptTimeout, or ErrDeadline.
func (x *Execution) failed(err error, a *Action) {
	if err == ErrDeadline {
		x.finish(ErrDeadline, Cut, a) // rule 4; Last is the previous failure
		return
	}
	x.last = err
	// Rule 8: MaxTries, then GiveUp, then the pause: unless it reaches
	// the deadline (rule 5) or the Budget refuses the retry.
	if x.p.MaxTries > 0 && x.n >= x.p.MaxTries {
		x.finish(ErrMaxTries, Failed, a)
		return
	}
	if x.p.GiveUp != nil && x.p.GiveUp(err) {
		x.finish(ErrGaveUp, Failed, a)
		return
	}
	x.pause = x.p.pauseAfter(x.n, x.pause, x.rand, err)
	next := addSat(x.now, x.pause)
	if x.p.Deadline > 0 && next >= x.p.Deadline {
		x.finish(ErrDeadline, Failed, a) // rule 5: no sleeping into the deadline
		return
	}
	if x.p.Budget != nil && !x.p.Budget.spend(x.t0.Add(x.now)) {
		x.finish(ErrBudgetExhausted, Failed, a)
		return
	}
	a.Outcome = Failed
	if x.pause == 0 {
		x.start(x.n+1, a) // rule 6: no pause, no timer
		return
	}
	x.phase, x.n, x.until, x.cut, x.since = pausing, x.n+1, next, nil, x.now
	a.Kind, a.Attempt, a.Until = Pause, x.n, next
}

// finish ends the call without success; o is what the event's attempt
// came to, if it ended one.
func (x *Execution) finish(reason error, o Outcome, a *Action) {
	attempts := x.n
	if x.phase == pausing {
		attempts-- // the attempt the pause led to never started
	}
	x.phase = done
	a.Kind, a.Outcome = Finish, o
	a.Err = &Error{Reason: reason, Last: x.last, Attempts: attempts, Elapsed: x.now}
}

// addSat returns a+b for non-negative durations, saturating instead of
// wrapping around.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
