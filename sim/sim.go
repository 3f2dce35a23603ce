// Package sim simulates a call of backoff.Do in virtual time, writes its
// trace, and replays traces, so that any call of the library can be
// reproduced from a small file; it checks a simulated call against the
// rules ([Check]) and shows it ([Timeline], [SVG]). Package sim/load
// simulates many calls at once.
//
// Start with [Scenario] (a call to simulate: the policy's numbers and a
// script for its attempts) and [Run]. Run drives the same pure decision
// core that backoff.Do drives ([backoff.Execution]), with the one event
// the call waits for at each step (what ends the attempt running, or the
// pause) worked out from the script instead of timers and goroutines: no
// clock is read, the only random numbers (for a jitter) come from the
// scenario's seed, and the same scenario gives the same [Result], byte
// for byte. The steps it reports are the ones an Observer of
// backoff.Do sees for the same scenario (see [Scenario.Operation] and
// [Recorder]), which is what makes a trace recorded from the executor
// replay here ([Replay]).
package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/timebound/backoff"
)

// A Step is one step of a call: the event the decision core was given and
// the action it answered with, as an Observer sees them.
type Step struct {
	Event  backoff.Event
	Action backoff.Action
}

// A Result is what a simulated call did.
type Result struct {
	// Steps are the call's steps in order; a trace is these, encoded.
	Steps []Step
	// Value is the number of the attempt that succeeded; 0 if none did.
	Value int
	// Err is what the call returned: nil on success, else a *backoff.Error.
	Err error
	// Runaway is set when the call was stopped after MaxSteps steps
	// without finishing: nothing bounds the retries, as when every
	// attempt hangs until its timeout and there is no MaxTries, Deadline
	// or cancel, or a long enough script (about MaxSteps/2 attempts) runs
	// into the limit. (Retries at one instant without end are refused by
	// Validate.)
	Runaway bool
	// Ties are the instants at which two things the call waited for fell
	// due together, in order: tie i is Ties[i]. The simulator takes the
	// one scheduled first, unless Scenario.Flip lists i; the executor on a
	// real clock may see either first.
	Ties []time.Duration
}

// MaxSteps is the most steps Run takes before it reports a runaway: the
// steps are the call's start and the end of each attempt and of each
// pause, so a call of n attempts takes about 2n. A recorded call of more steps has no
// scenario that replays it: ScenarioOf (and so Recorder.WriteTrace)
// refuses it, saying so.
const MaxSteps = 10_000

// Run simulates the call sc describes, after checking it with Validate.
func Run(sc Scenario) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := sc.Policy()
	x, err := backoff.NewExecution(p)
	if err != nil {
		return nil, err
	}
	// Room for the steps of the scripted attempts (an attempt and a pause
	// each), so that a long script does not grow Steps over and over; at
	// most MaxSteps, and worked out so that no MaxTries overflows it.
	steps := MaxSteps
	if n := max(len(sc.Attempts), sc.MaxTries); n < MaxSteps/2 {
		steps = 2*n + 2
	}
	s := simulation{sc: sc, x: x, res: &Result{Steps: make([]Step, 0, steps)}, rand: p.Rand}
	s.end, s.endCause = sc.callerEnd()
	s.run()
	return s.res, nil
}

// simulation is one simulated call. A call waits for one thing at a time:
// the end of the attempt running, or of the pause (the caller's cancel
// ends either sooner; at a tie, the order is the scenario's). So each
// step schedules exactly one event, the one the next step takes: the
// simulation holds it, and needs no queue, and no event is ever left
// behind to be stale. schedule and take check it.
type simulation struct {
	sc  Scenario
	x   *backoff.Execution
	res *Result
	// end is when the caller's context is done (never if it is not),
	// and endCause why: ErrCanceled, or DeadlineExceeded at its deadline.
	end      time.Duration
	endCause error
	// next is the event the call waits for, and what a successful
	// attempt returned with it; pending says next is set.
	next    event
	pending bool
	// rand is the policy's Rand (nil without a jitter): the source the
	// executor would draw from, one number for each event that ends an
	// attempt.
	rand interface{ Uint64() uint64 }
}

// event is a scheduled event: what the executor would report, and when.
type event struct {
	e     backoff.Event
	value int // what a successful attempt returned
}

func (s *simulation) run() {
	s.schedule(backoff.Event{Kind: backoff.EventBegan, Cause: s.cause(0), CallerDeadline: s.sc.CallerDeadline.D()}, 0)
	for range MaxSteps {
		ev := s.take() // valid until the next schedule
		a := s.x.Step(ev.e)
		s.res.Steps = append(s.res.Steps, Step{ev.e, a})
		switch a.Kind {
		case backoff.ActionFinish:
			s.res.Err = a.Err
			if a.Err == nil {
				s.res.Value = ev.value
			}
			return
		case backoff.ActionStart:
			s.start(ev.e.At, a)
		case backoff.ActionPause:
			s.pause(a)
		default:
			// The core answers Wait to a stale event (of an attempt or a
			// pause the call no longer waits for) and to a cancel during an
			// attempt; the simulator reports neither, as the executor
			// does not.
			panic("sim: the decision core answered Wait to " + ev.e.Kind.String())
		}
	}
	s.res.Runaway = true
}

// cause is the cause the executor sees when it reports an event at t:
// the caller's cause (ErrCanceled, or context.DeadlineExceeded at its
// deadline) once its context is done, else nil. An end due at t itself
// (unless at 0, before the call) is a tie: the event comes first, and its
// cause is not seen yet, unless flipped.
func (s *simulation) cause(t time.Duration) error {
	c, cause := s.end, s.endCause
	switch {
	case c > t:
		return nil
	case c < t || c == 0 || s.tie(t):
		return cause
	}
	return nil
}

// never stands for "never" among instants: no cancel, no return by
// itself, no cap.
const never = time.Duration(1<<63 - 1)

// start schedules what ends attempt a.Attempt, started at now: what the
// executor would see first, given the script. That one event ends the
// attempt, whatever its kind, and so carries the attempt's random number
// when the policy has a jitter: the executor draws one after every
// attempt, in the order of the attempts.
func (s *simulation) start(now time.Duration, a backoff.Action) {
	script := s.sc.attempt(a.Attempt)
	var r uint64
	switch {
	case script.Rand != nil:
		r = *script.Rand // as a recorded call drew it
	case s.rand != nil:
		r = s.rand.Uint64()
	}
	schedule := func(e backoff.Event, value int) {
		e.Rand = r
		s.schedule(e, value)
	}
	natural := never // when the attempt returns by itself
	if script.Outcome != Hang {
		natural = now + script.Takes.D()
	}
	done, byCaller := never, false // when its context is done, and by whom
	if a.Cut != nil {
		done = a.Until
	}
	c, callerCause := s.end, s.endCause
	if c != never && c <= done {
		// At a tie the cut comes first, unless flipped: the caller first.
		if c < done || a.Cut == nil || s.tie(done) {
			done, byCaller = c, true
		}
	}
	v, err := result(a.Attempt, script)
	// At a tie the attempt's return comes first, unless flipped: its
	// context first.
	if natural < done || natural == done && !s.tie(done) {
		schedule(backoff.Event{Kind: backoff.EventEnded, At: natural, Attempt: a.Attempt, Err: err, Cause: s.cause(natural)}, v)
		return
	}
	// The attempt's context is done first. The operation returns as it
	// reacts to that; wrapped in backoff.Abandon, at once, whatever the
	// operation itself does.
	ctxErr := context.DeadlineExceeded
	if byCaller && callerCause == ErrCanceled {
		ctxErr = context.Canceled
	}
	reaction := script.OnCancel
	if s.sc.Abandon {
		reaction = AtOnce
	}
	var end time.Duration
	switch reaction {
	case Ignore:
		end = natural // finite: Validate refuses a hang that ignores its context here
	case Late:
		end, v, err = done+script.Late.D(), 0, ctxErr
	default:
		end, v, err = done, 0, ctxErr
	}
	cause := callerCause // the caller ended it: the executor has seen it
	if !byCaller || end > done {
		cause = s.cause(end)
	}
	schedule(backoff.Event{Kind: backoff.EventEnded, At: end, Attempt: a.Attempt, Err: err, Cause: cause}, v)
}

// pause schedules the end of the pause a, as late as the script of the
// attempt before it says (PauseLate), or the end of the caller's context
// before it.
func (s *simulation) pause(a backoff.Action) {
	due := plus(a.Until, s.sc.attempt(a.Attempt-1).PauseLate.D())
	// At a tie the pause's end comes first, unless flipped: the cancel.
	if c, cause := s.end, s.endCause; c < due || c == due && s.tie(due) {
		s.schedule(backoff.Event{Kind: backoff.EventCanceled, At: c, Cause: cause}, 0)
		return
	}
	s.schedule(backoff.Event{Kind: backoff.EventFired, At: due, Attempt: a.Attempt, Cause: s.cause(due)}, 0)
}

// tie notes a tie at t and says whether to flip it (take the event
// scheduled later first).
func (s *simulation) tie(t time.Duration) (flip bool) {
	i := len(s.res.Ties)
	s.res.Ties = append(s.res.Ties, t)
	return slices.Contains(s.sc.Flip, i)
}

// schedule makes e, which a successful attempt ends with value, the event
// the call waits for. Nothing may be pending: a step schedules one event,
// and the next step takes it.
func (s *simulation) schedule(e backoff.Event, value int) {
	if s.pending {
		panic(fmt.Sprintf("sim: %v scheduled while %v is pending: a call waits for one thing at a time", e.Kind, s.next.e.Kind))
	}
	s.next, s.pending = event{e, value}, true
}

// take returns the event the call waits for, which the step before
// scheduled (or run, for the first). It stays in place, unchanged until
// the next schedule.
func (s *simulation) take() *event {
	if !s.pending {
		panic("sim: no event pending: the step before scheduled none")
	}
	s.pending = false
	return &s.next
}
