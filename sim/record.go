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
// attempt read off the steps. How the core classified each attempt's end
// (its Outcome) gives the attempt's kind; an attempt that did not return
// by itself before it was cut becomes a hang that returns as late as it
// did; the first time the steps show the caller's context done becomes
// CancelAt.
//
// A pause longer than the one p's Pause, Growth and MaxPause give after a
// failure shows that the failure's error carried a delay hint: the
// attempt's RetryAfter is that pause. A failure that ends the call with
// ErrDeadline (rule 5) though its pause would have ended before the
// deadline shows a hint that reached it: RetryAfter is the time left.
//
// Where two things fell due at one instant, the scenario flips the ties
// (see Scenario.Flip) that reproduce the order the steps show. The
// simulated errors are the canonical ones (ErrRetryable...), not the
// recorded texts: compare the two with a recorded trace's shape, as Replay
// does for a trace whose header says it was recorded.
//
// A policy with a Jitter is refused: a scenario's jitter draws from its
// seed, and the random numbers of a recorded call came from elsewhere. So
// is a call that a Budget ended: a scenario is one call, and cannot hold
// what the other calls sharing the budget did (see [Load] for budgets).
// A Budget that refused nothing changed nothing, and is left out.
func ScenarioOf(p backoff.Policy, steps []Step) (Scenario, error) {
	if p.Jitter != backoff.NoJitter {
		return Scenario{}, fmt.Errorf("sim: the policy has Jitter %v: a scenario draws its jitter from its seed, which cannot give the random numbers of a recorded call, so its trace would not replay", p.Jitter)
	}
	for _, s := range steps {
		if errors.Is(s.Action.Err, backoff.ErrBudgetExhausted) {
			return Scenario{}, errors.New("sim: the policy's Budget ended the call: a scenario is one call, and cannot hold what the calls sharing the budget did, so its trace would not replay")
		}
	}
	sc := Scenario{
		AttemptTimeout: Duration(p.AttemptTimeout), Deadline: Duration(p.Deadline),
		Pause: Duration(p.Pause), Growth: p.Growth, MaxPause: Duration(p.MaxPause),
		MaxTries: p.MaxTries,
	}
	if sc.Pause == 0 {
		// Every pause is 0 (or a hint): the fields that shape it mean
		// nothing, and a scenario refuses them.
		sc.Growth, sc.MaxPause = 0, 0
	}
	cancelAt := func(t time.Duration) {
		if sc.CancelAt == nil && !(sc.CallerDeadline > 0 && t >= sc.CallerDeadline.D()) { // the deadline ended it
			d := Duration(t)
			sc.CancelAt = &d
		}
	}
	var start Step // the Start step of the attempt running, if any
	running := false
	for i, s := range steps {
		e, a := s.Event, s.Action
		switch {
		case e.Kind == backoff.EventBegan:
			if e.Cause != nil {
				cancelAt(0)
			}
			sc.CallerDeadline = Duration(max(e.CallerDeadline, 0))
		case running && e.Kind == backoff.EventEnded && e.Attempt == start.Action.Attempt:
			att := ended(start, s, cancelAt)
			if att.Outcome == Retryable {
				att.RetryAfter = hinted(&sc, p, start.Action.Attempt, s)
			}
			sc.Attempts = append(sc.Attempts, att)
			running = false
		case e.Kind == backoff.EventCanceled || e.Cause != nil:
			cancelAt(e.At) // during a pause, or at its very end
		case e.Kind != backoff.EventFired:
			return Scenario{}, fmt.Errorf("sim: step %d: %v of no attempt running", i, e.Kind)
		}
		if a.Kind == backoff.ActionStart {
			start, running = s, true
		}
	}
	if len(sc.Attempts) == 0 {
		sc.Attempts = []Attempt{{Outcome: OK}} // never called: any script will do
	}
	if sc.Growth > 1 && sc.MaxPause == 0 && sc.Deadline == 0 && sc.MaxTries == 0 {
		// A scenario bounds pauses that grow (see Validate). The call
		// made len(sc.Attempts) attempts: allowing one more changes none
		// of its steps.
		sc.MaxTries = len(sc.Attempts) + 1
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
	case found == nil:
		return sc, fmt.Errorf("sim: no order of the ties of the scenario read off the steps reproduces them: %w", compare(recorded, mustRun(sc).Steps, shape))
	}
	return *found, nil
}

// maxOrders bounds the orders ScenarioOf tries: n ties make up to 2^n.
const maxOrders = 4096

func mustRun(sc Scenario) *Result {
	res, _ := Run(sc) // sc was run by Explore already
	return res
}

// ended returns the script of an attempt that started at start and whose
// end the core saw as end.
func ended(start, end Step, cancelAt func(time.Duration)) Attempt {
	s, e, a := start.Action, end.Event, end.Action
	takes := Duration(e.At - start.Event.At)
	cutAt := s.Cut != nil && e.At >= s.Until
	switch a.Outcome {
	case backoff.OutcomeSucceeded:
		if e.Cause != nil {
			cancelAt(e.At)
		}
		return Attempt{Takes: takes, Outcome: OK}
	case backoff.OutcomeRejected:
		return Attempt{Takes: takes, Outcome: NotRetryable}
	case backoff.OutcomeFailed:
		if !cutAt {
			if a.Kind == backoff.ActionFinish && errors.Is(a.Err, backoff.ErrGaveUp) {
				return Attempt{Takes: takes, Outcome: GiveUp}
			}
			return Attempt{Takes: takes, Outcome: Retryable}
		}
	case backoff.OutcomeCut:
		if e.Cause != nil {
			cancelAt(e.At)
		}
		if !cutAt {
			return Attempt{Outcome: Hang} // cut by the cancel: returned at once
		}
	}
	// Cut by its time limit: it returned when it did after the cut.
	if late := e.At - s.Until; late > 0 {
		return Attempt{Outcome: Hang, OnCancel: Late, Late: Duration(late)}
	}
	return Attempt{Outcome: Hang}
}

// hinted returns the delay hint that the failure of attempt k, ended by
// its own retryable error at step s, shows: the pause it led to, if longer
// than the one p's numbers alone give (p.PauseAfter, with no hint); the
// time left before the deadline, if the call ended there (rule 5) though
// that pause would not have reached it; 0 if it shows none. Without a
// jitter the pauses do not depend on the previous one.
func hinted(sc *Scenario, p backoff.Policy, k int, s Step) Duration {
	e, a := s.Event, s.Action
	plain := p.PauseAfter(k, 0, 0, nil)
	switch {
	case a.Kind == backoff.ActionPause && a.Until-e.At > plain:
		return Duration(a.Until - e.At)
	case a.Kind == backoff.ActionFinish && errors.Is(a.Err, backoff.ErrDeadline) && sc.Deadline > 0 && plus(e.At, plain) < sc.Deadline.D():
		return sc.Deadline - Duration(e.At)
	}
	return 0
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
