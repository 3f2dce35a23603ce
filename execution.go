package backoff

import (
	"context"
	"math"
	"strconv"
	"time"
)

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
	// EventBegan: the call began. Its At is 0.
	EventBegan EventKind = iota + 1
	// EventEnded: attempt Event.Attempt returned Event.Err.
	EventEnded
	// EventFired: the pause that leads to attempt Event.Attempt is over
	// (the time of its Action.Until came).
	EventFired
	// EventCanceled: the caller's context is done, with cause Event.Cause,
	// while the call waits for nothing else (during a pause).
	EventCanceled
)

var eventNames = [...]string{"none", "began", "ended", "fired", "canceled"}

// String returns the event kind's lower-case name.
func (k EventKind) String() string { return name(eventNames[:], int(k), "EventKind") }

// An Event is one input to [Execution.Step]: what happened, and when.
type Event struct {
	Kind EventKind
	// Replayed says the event already happened, and was told to another
	// Execution of the same call, which a driver replays to rebuild the
	// call's state (a job queue does, when another process runs the next
	// attempt): the core decides as it did then, but leaves the policy's
	// Budget alone, which was told then (the call's start earned, its
	// retry spent).
	// (Next to Kind, it takes no room of its own.)
	Replayed bool
	// At is when it happened: the time since the call began, on the
	// policy's clock. An At before an earlier event's counts as that one.
	// The core does not use the At of an EventEnded with a nil Err (a
	// success ends the call whenever it arrives), so a driver may leave it
	// 0 when no Observer is told.
	At time.Duration
	// Attempt is the number (from 1) of the attempt an EventEnded reports,
	// or of the attempt the pause an EventFired reports leads to. An event
	// for any other attempt is stale, and answered with ActionWait.
	Attempt int
	// Err is what the attempt returned (EventEnded only).
	Err error
	// Cause, if not nil, says the caller's context is done, and why
	// (context.Cause). Any event may carry it: a driver reports it with
	// the first event after it noticed, or with an EventCanceled when it
	// waits for nothing else.
	Cause error
	// Start is when the call began, on the policy's clock (EventBegan
	// only). The core uses it only to tell the policy's Budget the time.
	Start time.Time
	// CallerDeadline is the deadline of the caller's context, as a time
	// since the call began on the policy's clock (EventBegan only); 0: it
	// has none. A pause that would reach it ends the call at once, as one
	// that would reach Policy.Deadline does (rules 5 and 9).
	CallerDeadline time.Duration
	// Rand is a uniformly random number, from which the core jitters the
	// pause that the failure of the attempt an EventEnded reports leads
	// to (only with a Jitter; else it is ignored).
	Rand uint64
}

// An ActionKind says what to do next.
type ActionKind uint8

// The actions an Execution answers with.
const (
	// ActionWait: nothing new to do; keep waiting for the running attempt
	// or the pause. It is the answer to a stale event, and to a cancel
	// during an attempt (the attempt ends when the operation returns).
	ActionWait ActionKind = iota
	// ActionStart: start attempt Action.Attempt now. If Action.Cut is not
	// nil, the attempt's context must be done at Action.Until, with that
	// cause.
	ActionStart
	// ActionPause: wait until Action.Until, then report an EventFired
	// with Action.Attempt, the number of the attempt the pause leads to.
	ActionPause
	// ActionFinish: the call is over. Action.Err is nil on success, else
	// an *Error.
	ActionFinish
)

var actionNames = [...]string{"wait", "start", "pause", "finish"}

// String returns the action kind's lower-case name.
func (k ActionKind) String() string { return name(actionNames[:], int(k), "ActionKind") }

// An Action is the answer of [Execution.Step]: what to do next.
type Action struct {
	Kind ActionKind
	// Attempt is the attempt to start (ActionStart) or that a pause leads
	// to (ActionPause).
	Attempt int
	// Until is when the attempt's time is up (ActionStart, when Cut is
	// not nil) or when the pause ends (ActionPause), as a time since the
	// call began.
	Until time.Duration
	// Cut is ErrAttemptTimeout or ErrDeadline: the limit that ends the
	// attempt at Until (ActionStart only). Nil: the attempt has no limit.
	Cut error
	// Err is the result of the call (ActionFinish only): nil on success.
	Err error
	// Outcome is what the core made of the attempt the event ended (an
	// EventEnded); OutcomeNone for other events.
	Outcome Outcome
	// Since is when the attempt or the pause that the event ended began,
	// as a time since the call began: with an Outcome, the attempt's
	// start; after a pause, the pause's. An attempt lasted e.At - a.Since.
	// It is 0 for the answer to EventBegan and for ActionWait.
	Since time.Duration
}

// An Outcome is what the decision core made of the end of an attempt.
type Outcome uint8

// The outcomes of an attempt.
const (
	// OutcomeNone: the event ended no attempt.
	OutcomeNone Outcome = iota
	// OutcomeSucceeded: the operation returned a nil error.
	OutcomeSucceeded
	// OutcomeFailed: a retryable failure, an error RetryIf retries or the
	// attempt timeout; Error.Last is now its error.
	OutcomeFailed
	// OutcomeRejected: an error RetryIf does not retry; the call ends.
	OutcomeRejected
	// OutcomeCut: the attempt was cut short by the deadline or by the
	// caller's context; its error only echoes the cut and is not kept.
	OutcomeCut
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

// An Execution is the pure decision core of one call under a Policy: the
// state of aiomisc's BackoffExecution without its clock. Feed it Events in
// the order they happen and carry out the Actions it answers with; it
// decides everything else. [Do] drives one with timers and contexts;
// package sim drives one in virtual time; a job queue can drive one by
// storing "attempt n at t".
//
// It reads no clock, starts no goroutine and draws no random number: the
// driver brings the time and the randomness in each Event. The only things
// it touches outside itself are the policy's RetryIf and GiveUp, which it
// asks, and its Budget, which it tells of the call's start and asks for
// each retry (so a Budget sees the calls of every driver that shares it).
//
// # Driving an Execution
//
// A driver makes one with [NewExecution] for each call, and then:
//
//  1. Tells it EventBegan, with At 0, Start the time on its clock, the
//     caller's deadline in CallerDeadline if it has one, and Cause if the
//     caller's context is already done.
//  2. On ActionStart, starts attempt Action.Attempt at once. If Action.Cut
//     is not nil, the attempt's context is done at Action.Until (a time
//     since the call began) with cause Action.Cut. When the attempt
//     returns, the driver tells EventEnded with its Attempt and Err, the
//     time it returned in At, a fresh random number in Rand if the policy
//     has a Jitter, and Cause if the caller's context is done by then.
//  3. On ActionPause, waits until Action.Until, then tells EventFired with
//     Action.Attempt and the time in At. If the caller's context is done
//     first, it tells EventCanceled with the time and the Cause instead.
//  4. On ActionFinish, stops: Action.Err is the call's result, nil on
//     success. Every later event is answered with ActionWait.
//  5. On ActionWait, goes on waiting for what it was waiting for.
//
// Every time is on one clock, measured from the call's start, and never
// goes back (an At before the previous event's counts as that one). A
// driver that waits for nothing else when the caller's context is done
// during an attempt may tell EventCanceled then: the answer is
// ActionWait, and the attempt still ends when it returns (rule 3).
//
// An Execution is not safe for concurrent use: one call, one driver. Step
// costs some nanoseconds and never allocates, except the *Error of a call
// that fails. The zero Execution has no policy: make one with
// NewExecution. A copy of an Execution is a copy of the call's state,
// which goes on from there on its own (under the same policy).
type Execution struct {
	p     *Policy // the rules (nil in Do's, which passes its own: see stepTo)
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
	dl    time.Duration // the caller's deadline (0: none)
}

// phase is where an Execution is in a call.
type phase uint8

const (
	idle    phase = iota // not begun
	running              // attempt n is running
	pausing              // waiting until `until` to start attempt n
	done                 // finished; every event is ignored
)

// NewExecution returns the decision core of one call under p, after
// checking p with [Policy.Validate]. It keeps a copy of p. Its first
// event must be EventBegan.
func NewExecution(p Policy) (*Execution, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	// One allocation for both: the Execution and the copy it points to.
	o := &struct {
		x Execution
		p Policy
	}{p: p}
	o.x.p = &o.p
	return &o.x, nil
}

// Step takes the next event of the call and says what to do next. Every
// rule of README's "The rules" is decided here.
func (x *Execution) Step(e Event) Action {
	if x.p == nil {
		panic("backoff: Step of an Execution not made by NewExecution")
	}
	var a Action
	x.stepTo(x.p, &e, &a)
	return a
}

// stepTo is Step under the policy p, writing its answer to *a, which
// must be zero. The decisions below all write to *a rather than return an
// Action: an Action is 72 bytes, and copying it up each level was most of
// Step's cost. The policy is passed apart from x, which the executor makes
// with a nil p: an Execution's pointers flow to the *Error and the Action
// the core makes, so escape analysis would move a policy that x points to
// to the heap; one passed as a parameter stays on Do's stack.
func (x *Execution) stepTo(p *Policy, e *Event, a *Action) {
	if x.phase == done {
		return
	}
	if e.At > x.now {
		x.now = e.At
	}
	if e.Cause != nil && x.cause == nil {
		x.cause = e.Cause
	}
	x.rand = e.Rand
	if e.Replayed && p.Budget != nil {
		// Decided as then, without telling the Budget again; the call's
		// start is kept for the retries decided live.
		if x.phase == idle {
			x.t0 = e.Start
		}
		q := *p
		q.Budget = nil
		p = &q
	}
	since := x.since // when the attempt or the pause under way began
	switch x.phase {
	case idle:
		switch {
		case e.Kind != EventBegan:
		case x.cause != nil: // rule 9: ctx already done, fn is never called
			x.finish(x.cause, OutcomeNone, ending{caller: true}, a)
		default:
			if p.Budget != nil {
				x.t0 = e.Start
				p.Budget.earn(e.Start)
			}
			x.dl = max(e.CallerDeadline, 0)
			x.start(p, 1, a)
		}
		return
	case running:
		// Only the attempt's own end ends it: a cancel or a cut during it
		// is carried out by its context, and it ends when fn returns (rule
		// 3). Anything else is answered with ActionWait.
		if e.Kind != EventEnded || e.Attempt != x.n {
			return
		}
		x.ended(p, e.Err, a)
	case pausing:
		switch {
		case x.cause != nil: // rule 9: cancelled during a pause: at once
			x.finish(x.cause, OutcomeNone, ending{caller: true}, a)
		case e.Kind != EventFired || e.Attempt != x.n:
			return
		// A pause ends before the deadlines (rules 5 and 9), but a real
		// timer fires late: one that fires at or after a deadline ends the
		// call there (rule 4), rather than start an attempt with no time.
		case p.Deadline > 0 && x.now >= p.Deadline && (x.dl == 0 || p.Deadline <= x.dl):
			x.finish(ErrDeadline, OutcomeNone, ending{limit: p.Deadline}, a)
		case x.dl > 0 && x.now >= x.dl:
			x.finish(context.DeadlineExceeded, OutcomeNone, ending{limit: x.dl, caller: true}, a)
		default:
			x.start(p, x.n, a)
		}
	}
	a.Since = since // an attempt or a pause ended here
}

// start starts attempt n now. Its context is done at the earliest of its
// attempt timeout and the call's deadline; a tie is the deadline's (rule 4).
func (x *Execution) start(p *Policy, n int, a *Action) {
	var until time.Duration
	var cut error
	if p.AttemptTimeout > 0 {
		until, cut = addSat(x.now, p.AttemptTimeout), ErrAttemptTimeout
	}
	if p.Deadline > 0 && (cut == nil || p.Deadline <= until) {
		until, cut = p.Deadline, ErrDeadline
	}
	x.phase, x.n, x.until, x.cut, x.since = running, n, until, cut, x.now
	a.Kind, a.Attempt, a.Until, a.Cut = ActionStart, n, until, cut
}

// ended decides what attempt n's return means.
func (x *Execution) ended(p *Policy, err error, a *Action) {
	switch {
	case err == nil:
		x.phase = done
		a.Kind, a.Outcome = ActionFinish, OutcomeSucceeded // rule 1: from any attempt, even late
	case x.cause != nil:
		x.finish(x.cause, OutcomeCut, ending{caller: true}, a) // rule 9: the error only echoes the cancel
	case x.cut != nil && x.now >= x.until:
		// Rule 3: an error at or after the attempt's time is up is the cut.
		// A deadline cut ends the call and keeps Last (rule 4).
		x.failed(p, x.cut, a)
	case p.RetryIf == nil || !p.RetryIf(err):
		x.last = err
		x.finish(ErrNotRetryable, OutcomeRejected, ending{}, a) // rule 7
	default:
		x.failed(p, err, a)
	}
}

// failed handles attempt n's failure with err: an error of fn that
// RetryIf retries, ErrAttemptTimeout, or ErrDeadline.
func (x *Execution) failed(p *Policy, err error, a *Action) {
	if err == ErrDeadline {
		x.finish(ErrDeadline, OutcomeCut, ending{limit: p.Deadline}, a) // rule 4; Last is the previous failure
		return
	}
	x.last = err
	// Rule 8: MaxTries, then GiveUp, then the pause: unless it reaches
	// the deadline (rule 5) or the Budget refuses the retry.
	if p.MaxTries > 0 && x.n >= p.MaxTries {
		x.finish(ErrMaxTries, OutcomeFailed, ending{}, a)
		return
	}
	if p.GiveUp != nil && p.GiveUp(err) {
		x.finish(ErrGaveUp, OutcomeFailed, ending{}, a)
		return
	}
	x.pause = p.pauseAfter(x.n, x.pause, x.rand, err)
	next := addSat(x.now, x.pause)
	// Rules 5 and 9: no sleeping into the deadline, the policy's or the
	// caller's, whichever comes first.
	switch {
	case p.Deadline > 0 && next >= p.Deadline && (x.dl == 0 || p.Deadline <= x.dl):
		x.finish(ErrDeadline, OutcomeFailed, ending{limit: p.Deadline, pause: x.pause}, a)
		return
	case x.dl > 0 && next >= x.dl:
		// The caller's context will end with DeadlineExceeded (its own
		// cause, if it has one, is not known before then).
		x.finish(context.DeadlineExceeded, OutcomeFailed, ending{limit: x.dl, pause: x.pause, caller: true}, a)
		return
	}
	if p.Budget != nil && !p.Budget.spend(x.t0.Add(x.now)) {
		x.finish(ErrBudgetExhausted, OutcomeFailed, ending{}, a)
		return
	}
	a.Outcome = OutcomeFailed
	if x.pause == 0 {
		x.start(p, x.n+1, a) // rule 6: no pause, no timer
		return
	}
	x.phase, x.n, x.until, x.cut, x.since = pausing, x.n+1, next, nil, x.now
	a.Kind, a.Attempt, a.Until = ActionPause, x.n, next
}

// finish ends the call without success; o is what the event's attempt
// came to, if it ended one, and end says what ended the call, for the
// error's message.
func (x *Execution) finish(reason error, o Outcome, end ending, a *Action) {
	attempts := x.n
	if x.phase == pausing {
		attempts-- // the attempt the pause led to never started
	}
	x.phase = done
	a.Kind, a.Outcome = ActionFinish, o
	a.Err = &Error{Reason: reason, Last: x.last, Attempts: attempts, Elapsed: x.now, end: end}
}

// addSat returns a+b for non-negative durations, saturating instead of
// wrapping around.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
