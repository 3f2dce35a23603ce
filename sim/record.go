package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/timebound/backoff"
)

// A Recorder is an Observer that keeps the steps of one call, to write
// them as a trace or compare them with a simulation. Give each call its
// own Recorder (copy the Policy and set its Observer). It is safe for
// concurrent use.
type Recorder struct {
	mu    sync.Mutex
	steps []Step
}

// Begin returns r, which records the steps of the call.
func (r *Recorder) Begin(context.Context, backoff.Call) backoff.CallObserver { return r }

// Observe records a step.
func (r *Recorder) Observe(e backoff.Event, a backoff.Action) {
	r.mu.Lock()
	r.steps = append(r.steps, Step{e, a})
	r.mu.Unlock()
}

// Steps returns a copy of the steps recorded so far.
func (r *Recorder) Steps() []Step {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Step(nil), r.steps...)
}

// ScenarioOf returns a scenario that, simulated, takes the same steps as
// the recorded call under p took: p's numbers, and a script for each
// attempt read off the steps, so that a call recorded from the executor,
// on any clock, replays in the simulator:
//
//   - How the core classified each attempt's end (its Outcome) gives the
//     attempt's kind, and the time it took its Takes; an attempt that did
//     not return by itself before its context was done (cut by its limit
//     or by the caller) becomes a hang that returns as late as it did.
//   - A delay hint its error carried (backoff.DelayHint) is its RetryAfter.
//   - With a Jitter, the random number the event that ended it carried is
//     its Rand: the pause after it is the one the call took.
//   - A pause that ended after it was due (a real timer fires late) gives
//     the attempt before it a PauseLate of that much.
//   - The first time the steps show the caller's context done becomes
//     CancelAt, unless it was the caller's deadline (the began step's
//     CallerDeadline), which a pause may show seen late (CallerLate).
//   - A call that a Budget ended gets BudgetAllows, the retries it made:
//     what the other calls sharing the budget did is not known, only what
//     the budget answered. A Budget that refused nothing changed nothing,
//     and is left out.
//
// Where two things fell due at one instant, the scenario flips the ties
// (see Scenario.Flip) that reproduce the order the steps show. The
// simulated errors are the canonical ones (ErrRetryable...), not the
// recorded texts: compare the two with a recorded trace's shape, as Replay
// does for a trace whose header says it was recorded.
//
// It fails, saying why, if the steps are not those of one call under p,
// or if the call does not fit in a scenario (a duration over MaxDuration,
// or more steps than MaxSteps).
func ScenarioOf(p backoff.Policy, steps []Step) (Scenario, error) {
	if len(steps) > MaxSteps {
		return Scenario{}, fmt.Errorf("sim: the call took %d steps; the simulator follows a call for at most %d (sim.MaxSteps), so no scenario replays it", len(steps), MaxSteps)
	}
	sc := Scenario{
		AttemptTimeout: Duration(p.AttemptTimeout), Deadline: Duration(p.Deadline),
		Pause: Duration(p.Pause), Growth: p.Growth, MaxPause: Duration(p.MaxPause),
		MaxTries: p.MaxTries,
	}
	if p.Jitter != backoff.NoJitter {
		sc.Jitter = p.Jitter.String()
	}
	if sc.Pause == 0 && p.Jitter != backoff.DecorrelatedJitter {
		// Every pause is 0 (or a hint): the fields that shape it mean
		// nothing, and a scenario refuses them.
		sc.Growth, sc.MaxPause, sc.Jitter = 0, 0, ""
	}
	r := reading{sc: &sc, jitter: sc.Jitter != ""}
	var start Step  // the Start step of the attempt running, if any
	var pause *Step // the Pause step of the pause under way, if any
	running := false
	for i, s := range steps {
		e, a := s.Event, s.Action
		switch {
		case e.Kind == backoff.EventBegan:
			sc.CallerDeadline = Duration(max(e.CallerDeadline, 0))
			if e.Cause != nil {
				r.callerEnded(0, e.Cause)
			}
		case running && e.Kind == backoff.EventEnded && e.Attempt == start.Action.Attempt:
			sc.Attempts = append(sc.Attempts, r.ended(start, s))
			running = false
		case running:
			return Scenario{}, fmt.Errorf("sim: step %d: %v while attempt %d runs, which only its end ends", i, e.Kind, start.Action.Attempt)
		case pause != nil && (e.Kind == backoff.EventFired || e.Kind == backoff.EventCanceled):
			switch late := e.At - pause.Action.Until; {
			case e.Kind == backoff.EventFired && e.Attempt == pause.Action.Attempt && late > 0:
				sc.Attempts[len(sc.Attempts)-1].PauseLate = Duration(late)
			case e.Kind == backoff.EventCanceled && late >= 0:
				// The caller's end was seen before the pause's timer
				// fired, though the pause was due: the timer was late by
				// more than that.
				sc.Attempts[len(sc.Attempts)-1].PauseLate = Duration(late + 1)
			}
			if e.Cause != nil {
				r.callerEnded(e.At, e.Cause)
			}
		default:
			return Scenario{}, fmt.Errorf("sim: step %d: %v of no attempt or pause under way", i, e.Kind)
		}
		if e.Cause == nil {
			r.unseen = e.At // the caller's end, if any, was not seen yet
		}
		pause = nil
		switch a.Kind {
		case backoff.ActionStart:
			start, running = s, true
		case backoff.ActionPause:
			pause = &steps[i]
		case backoff.ActionFinish:
			var be *backoff.Error
			if errors.As(a.Err, &be) && be.Reason == backoff.ErrBudgetExhausted {
				allowed := be.Attempts - 1 // each attempt but the first was a retry it allowed
				sc.BudgetAllows = &allowed
			}
		}
	}
	if dl := sc.CallerDeadline.D(); dl > 0 && !r.endKnown && r.unseen >= dl {
		// The caller's deadline passed during the call, but no step saw
		// its context done: a real timer is late. It was seen, if ever,
		// after the call's last step.
		sc.CallerLate = Duration(r.unseen - dl + 1)
	}
	if len(sc.Attempts) == 0 {
		sc.Attempts = []Attempt{{Outcome: OK}} // never called: any script will do
	}
	if (sc.Growth > 1 || sc.Jitter == backoff.DecorrelatedJitter.String()) && sc.MaxPause == 0 && sc.Deadline == 0 && sc.MaxTries == 0 {
		// A scenario bounds pauses that grow (see Validate). The call
		// made len(sc.Attempts) attempts: allowing one more changes none
		// of its steps.
		sc.MaxTries = len(sc.Attempts) + 1
	}
	if err := sc.Validate(); err != nil {
		return Scenario{}, fmt.Errorf("sim: the recorded call does not fit in a scenario: %w", err)
	}
	// Where the recording shows two things at one instant, take the order
	// of the ties that reproduces it.
	recorded := make([]Line, len(steps))
	for i, s := range steps {
		recorded[i] = LineOf(s)
	}
	var found *Scenario
	tried := 0
	err := Explore(sc, func(v Scenario, res *Result) bool {
		if compare(recorded, res.Steps, shape) == nil {
			found = &v
		}
		tried++
		return found == nil && tried < maxOrders
	})
	switch {
	case err != nil:
		return Scenario{}, err
	case found == nil && tried == 1:
		return sc, fmt.Errorf("sim: the scenario read off the steps does not reproduce them: %w", compare(recorded, mustRun(sc).Steps, shape))
	case found == nil:
		return sc, fmt.Errorf("sim: no order of the %d ties of the scenario read off the steps reproduces them: %w", len(mustRun(sc).Ties), compare(recorded, mustRun(sc).Steps, shape))
	}
	return *found, nil
}

// maxOrders bounds the orders ScenarioOf tries: n ties make up to 2^n.
const maxOrders = 4096

func mustRun(sc Scenario) *Result {
	res, _ := Run(sc) // sc was run by Explore already
	return res
}

// A reading is ScenarioOf's scenario as it reads it off the steps.
type reading struct {
	sc       *Scenario
	jitter   bool          // the policy has a Jitter: each attempt's Rand is kept
	endKnown bool          // the caller's end is known
	unseen   time.Duration // the last step whose event saw no end of the caller's context
}

// callerEnded notes that the steps show the caller's context done at t,
// with cause: its deadline, seen late by the time its deadline was
// passed (CallerLate), or else a cancel then (CancelAt). Only the first
// counts: the context ends once.
func (r *reading) callerEnded(t time.Duration, cause error) {
	if r.endKnown {
		return
	}
	r.endKnown = true
	if dl := r.sc.CallerDeadline.D(); dl > 0 && t >= dl && errors.Is(cause, context.DeadlineExceeded) {
		r.sc.CallerLate = Duration(t - dl)
		return
	}
	d := Duration(t)
	r.sc.CancelAt = &d
}

// callerEnd is when the caller's context is done, as read so far, and
// whether it is known.
func (r *reading) callerEnd() (time.Duration, bool) {
	if !r.endKnown {
		return 0, false
	}
	t, _ := r.sc.callerEnd()
	return t, true
}

// ended returns the script of an attempt that started at start and whose
// end the core saw as end.
func (r *reading) ended(start, end Step) Attempt {
	s, e, a := start.Action, end.Event, end.Action
	var att Attempt
	if r.jitter {
		rand := e.Rand
		att.Rand = &rand
	}
	takes := Duration(e.At - start.Event.At)
	cutAt := s.Cut != nil && e.At >= s.Until // at or after its own limit
	switch a.Outcome {
	case backoff.OutcomeSucceeded:
		if e.Cause != nil {
			r.callerEnded(e.At, e.Cause)
		}
		att.Takes, att.Outcome = takes, OK
		if c, ok := r.callerEnd(); cutAt && e.At > s.Until || ok && e.At > c {
			// Its context was done before it returned, and it went on to
			// succeed (a success still counts): it ignored the cut.
			att.OnCancel = Ignore
		}
		return att
	case backoff.OutcomeRejected:
		att.Takes, att.Outcome = takes, NotRetryable
		return att
	case backoff.OutcomeFailed:
		if !cutAt {
			att.Takes, att.Outcome = takes, Retryable
			if a.Kind == backoff.ActionFinish && errors.Is(a.Err, backoff.ErrGaveUp) {
				att.Outcome = GiveUp
			}
			att.RetryAfter = Duration(backoff.DelayHint(e.Err))
			return att
		}
	case backoff.OutcomeCut:
		if e.Cause != nil {
			r.callerEnded(e.At, e.Cause)
		}
		if c, ok := r.callerEnd(); ok && (!cutAt || c < s.Until) {
			// The caller's end came first: the attempt returned as late
			// after it as it did.
			att.Outcome = Hang
			if late := e.At - c; late > 0 {
				att.OnCancel, att.Late = Late, Duration(late)
			}
			return att
		}
	}
	// Cut by its time limit: it returned when it did after the cut.
	att.Outcome = Hang
	if late := e.At - s.Until; late > 0 {
		att.OnCancel, att.Late = Late, Duration(late)
	}
	return att
}

// WriteTrace writes the recorded steps as a trace whose header carries the
// scenario ScenarioOf derives from them under p, marked as recorded.
func (r *Recorder) WriteTrace(w io.Writer, p backoff.Policy) error {
	steps := r.Steps()
	sc, err := ScenarioOf(p, steps)
	if err != nil {
		return err
	}
	return writeTrace(w, header{Format, Version, true, sc}, steps)
}

// shape returns l without the texts that come from the operation or the
// caller (its errors and its cancel cause): what a simulation of a
// recorded call can reproduce.
func shape(l Line) Line {
	l.Err, l.Cause, l.Last = "", "", ""
	if !strings.HasPrefix(l.Reason, "backoff: ") {
		l.Reason = ""
	}
	return l
}
