package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim/internal/layout"
)

// TimelineWidth is the most columns a line of [Timeline] takes: 100, as a
// line of a load's table (package sim/load) does.
const TimelineWidth = layout.Width

// Steps beyond timelineMax are elided from a timeline: the first
// timelineHead and the last timelineTail are shown.
const (
	timelineMax  = 60
	timelineHead = 40
	timelineTail = 10
)

// Timeline writes a simulated call as text for a person to read: a header
// with the policy's numbers and the script, then one line per step with
// its virtual time (the time since the call began), then the result.
// Lines are aligned and at most [TimelineWidth] columns wide; a long one
// goes on, indented, on the next line. The steps of a long call (a
// runaway has thousands) are elided in the middle.
//
//	policy    attempt timeout 250ms, deadline 1s, pause 100ms, max tries 5, cooperative
//	script    #1: hangs; #2: fails after 50ms (retryable); ...
//
//	     0s  attempt 1 starts, cut at 250ms by its timeout
//	  250ms  attempt 1 timed out (failed); pause until 350ms
//	  ...
//	     1s  the deadline cut attempt 4 off (cut); the call ends: deadline exceeded
//
//	result    Reason ErrDeadline, Last ErrAttemptTimeout, Attempts 4, Elapsed 1s
//
// sc is the scenario res was simulated from.
func Timeline(w io.Writer, sc Scenario, res *Result) error {
	if res == nil {
		return errors.New("sim: timeline: no result")
	}
	var b strings.Builder
	if sc.Name != "" {
		b.WriteString(wrap("scenario  ", sc.Name))
	}
	b.WriteString(wrap("policy    ", policyWords(sc)))
	b.WriteString(wrap("script    ", scriptWords(sc)))
	b.WriteByte('\n')

	// The time column is as wide as the widest time.
	width := 5
	for _, s := range res.Steps {
		width = max(width, len(s.Event.At.String()))
	}
	t := teller{sc: sc, policy: sc.Policy(), res: res}
	n := len(res.Steps)
	for i, s := range res.Steps {
		line := t.step(s) // every step, so that the teller follows the call
		if n > timelineMax && i >= timelineHead && i < n-timelineTail {
			if i == timelineHead {
				b.WriteString(wrap(strings.Repeat(" ", width+4),
					fmt.Sprintf("... %d steps not shown ...", n-timelineHead-timelineTail)))
			}
			continue
		}
		b.WriteString(wrap(fmt.Sprintf("  %*s  ", width, s.Event.At), line))
	}
	b.WriteByte('\n')
	b.WriteString(wrap("result    ", resultWords(sc, res)))
	if res.Err != nil {
		b.WriteString(wrap("          ", "the error reads "+strconv.Quote(res.Err.Error())))
	}
	if len(res.Ties) > 0 {
		b.WriteString(wrap("note      ", tieWords(res.Ties)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// wrap returns prefix+text as lines of at most TimelineWidth columns,
// breaking text at spaces; continuation lines are indented by the
// prefix's width plus two columns.
func wrap(prefix, text string) string { return layout.Wrap(prefix, text, 2) }

func policyWords(sc Scenario) string {
	var parts []string
	if sc.AttemptTimeout > 0 {
		parts = append(parts, "attempt timeout "+sc.AttemptTimeout.String())
	} else {
		parts = append(parts, "no attempt timeout")
	}
	if sc.Deadline > 0 {
		parts = append(parts, "deadline "+sc.Deadline.String())
	} else {
		parts = append(parts, "no deadline")
	}
	if sc.Pause > 0 {
		parts = append(parts, "pause "+sc.Pause.String())
	} else {
		parts = append(parts, "no pause")
	}
	if sc.Growth > 1 {
		parts = append(parts, "growth "+strconv.FormatFloat(sc.Growth, 'g', -1, 64))
	}
	if sc.MaxPause > 0 {
		parts = append(parts, "max pause "+sc.MaxPause.String())
	}
	if j, _ := sc.jitter(); j != backoff.NoJitter {
		parts = append(parts, fmt.Sprintf("%s jitter (seed %d)", sc.Jitter, sc.Seed))
	}
	if sc.MaxTries > 0 {
		parts = append(parts, "max tries "+strconv.Itoa(sc.MaxTries))
	} else {
		parts = append(parts, "no max tries")
	}
	if sc.Abandon {
		parts = append(parts, "hard bound (backoff.Abandon)")
	} else {
		parts = append(parts, "cooperative")
	}
	s := strings.Join(parts, ", ")
	if sc.CancelAt != nil {
		s += "; the caller cancels at " + sc.CancelAt.String()
	}
	if sc.CallerDeadline > 0 {
		s += "; the caller's deadline is " + sc.CallerDeadline.String()
	}
	return s
}

func scriptWords(sc Scenario) string {
	var parts []string
	for i, a := range sc.Attempts {
		who := "#" + strconv.Itoa(i+1)
		if i == len(sc.Attempts)-1 && i > 0 {
			who += " and later"
		} else if i == 0 && len(sc.Attempts) == 1 {
			who = "every attempt"
		}
		parts = append(parts, who+": "+attemptWords(a))
	}
	return strings.Join(parts, "; ")
}

// attemptWords says what a scripted attempt does.
func attemptWords(a Attempt) string {
	var s string
	switch a.Outcome {
	case Hang:
		s = "hangs"
	case OK:
		s = "succeeds " + after(a.Takes)
	case Retryable:
		s = "fails " + after(a.Takes) + " (retryable)"
	case NotRetryable:
		s = "fails " + after(a.Takes) + " (not retryable)"
	case GiveUp:
		s = "fails " + after(a.Takes) + " (give up)"
	default:
		s = string(a.Outcome)
	}
	if a.RetryAfter > 0 {
		s += ", asking to retry after " + a.RetryAfter.String()
	}
	switch a.OnCancel {
	case Late:
		s += ", returns " + a.Late.String() + " late when cut"
	case Ignore:
		s += ", ignores cuts"
	}
	return s
}

func after(d Duration) string {
	if d == 0 {
		return "at once"
	}
	return "after " + d.String()
}

// runawayWords says where the simulation of a runaway of sc stopped, and
// what made it run so long: attempts without end at one instant (each
// failing at once, with no pause), nothing bounding the retries, or a
// call longer than MaxSteps steps.
func runawayWords(sc Scenario, res *Result) string {
	n := len(res.Steps)
	attempts := 0
	for _, s := range res.Steps {
		if s.Action.Kind == backoff.ActionStart {
			attempts = s.Action.Attempt
		}
	}
	s := fmt.Sprintf("none: a runaway, stopped after %d steps (sim.MaxSteps, the simulator's limit) without finishing", n)
	if n == 0 {
		return s
	}
	// The steps at the last instant, and the attempts they started.
	last := res.Steps[n-1].Event.At
	still := 0
	for i := n - 1; i >= 0 && res.Steps[i].Event.At == last; i-- {
		if res.Steps[i].Action.Kind == backoff.ActionStart {
			still++
		}
	}
	if still >= 2 {
		which := fmt.Sprintf("the last %d of them all", still)
		if still == attempts {
			which = "all"
		}
		return s + fmt.Sprintf(": %d attempts, %s at %v, each failing at once with no pause "+
			"before the next, which makes attempts without end (set a pause or max_tries)", attempts, which, last)
	}
	s += fmt.Sprintf(": %d attempts in %v", attempts, last)
	// The script's last attempt repeats: if it fails, and no limit ends
	// the call, the call never ends.
	if again := sc.attempt(len(sc.Attempts)).Outcome; (again == Retryable || again == Hang) &&
		sc.MaxTries == 0 && sc.Deadline == 0 && sc.CancelAt == nil && sc.CallerDeadline == 0 && sc.BudgetAllows == nil {
		verb := "fails"
		if again == Hang {
			verb = "hangs"
		}
		return s + ", and nothing bounds the retries (no max_tries, deadline, cancel_at or caller_deadline, " +
			"and the script's last attempt, which repeats, " + verb + "), so attempts go on without end"
	}
	return s + ", and the call goes on longer than the simulator follows one"
}

func resultWords(sc Scenario, res *Result) string {
	if res.Runaway {
		return runawayWords(sc, res)
	}
	var elapsed time.Duration
	if n := len(res.Steps); n > 0 {
		elapsed = res.Steps[n-1].Event.At
	}
	var be *backoff.Error
	switch {
	case res.Err == nil:
		return fmt.Sprintf("success: the value %d (from attempt %d) after %v", res.Value, res.Value, elapsed)
	case errors.As(res.Err, &be):
		return fmt.Sprintf("Reason %s, Last %s, Attempts %d, Elapsed %v", errName(be.Reason), errName(be.Last), be.Attempts, be.Elapsed)
	}
	return "the error " + strconv.Quote(res.Err.Error())
}

func tieWords(ties []time.Duration) string {
	var s []string
	for i, t := range ties {
		if i == 0 || t != ties[i-1] {
			s = append(s, t.String())
		}
	}
	return fmt.Sprintf("two things fell due at the same instant at %s; the simulator took one order "+
		"(Scenario.Flip chooses), a real clock may take either", strings.Join(s, ", "))
}

// A teller follows a call step by step and says what each step means.
type teller struct {
	sc     Scenario
	policy backoff.Policy // sc.Policy()
	res    *Result
	// The attempt running or the one a pause leads to, and its numbers.
	k        int
	running  bool
	start    time.Duration
	until    time.Duration
	cut      error
	pauseEnd time.Duration
	prev     time.Duration // the latest pause
}

// step says what step s means, in one line of words (not wrapped).
func (t *teller) step(s Step) string {
	e, a := s.Event, s.Action
	ev := t.event(e, a)
	act := t.action(e, a)
	switch a.Kind {
	case backoff.ActionStart:
		if a.Outcome == backoff.OutcomeFailed {
			t.prev = 0 // no pause
		}
		t.k, t.running, t.start, t.until, t.cut = a.Attempt, true, e.At, a.Until, a.Cut
	case backoff.ActionPause:
		t.k, t.running, t.pauseEnd, t.prev = a.Attempt, false, a.Until, a.Until-e.At
	case backoff.ActionFinish:
		t.running = false
	}
	if ev == "" {
		return act
	}
	return ev + "; " + act
}

// event says what happened.
func (t *teller) event(e backoff.Event, a backoff.Action) string {
	k, o := t.k, a.Outcome
	outcome := ""
	if o != backoff.OutcomeNone {
		outcome = " (" + o.String() + ")"
	}
	late := time.Duration(0) // how long after its cut the attempt returned
	if t.cut != nil && e.At > t.until {
		late = e.At - t.until
	}
	switch {
	case e.Kind == backoff.EventBegan:
		if a.Kind == backoff.ActionFinish {
			return "the caller cancelled before the call began, so the operation is never called"
		}
		return ""
	case e.Kind == backoff.EventCanceled || !t.running && e.Cause != nil:
		return "the caller cancels during the pause"
	case e.Kind == backoff.EventFired && !t.running:
		return "pause over"
	case t.sc.Abandon && abandoned(e, a, t.until, t.cut):
		switch {
		case e.Cause != nil:
			return fmt.Sprintf("the caller cancels: attempt %d is abandoned%s", k, outcome)
		case o == backoff.OutcomeCut:
			return fmt.Sprintf("the deadline cut attempt %d off; abandoned%s", k, outcome)
		}
		return fmt.Sprintf("attempt %d timed out; abandoned%s", k, outcome)
	case e.Kind != backoff.EventEnded:
		return fmt.Sprintf("%s (attempt %d)", e.Kind, e.Attempt)
	}
	cutTime := ""
	if late > 0 {
		cutTime = " at " + t.until.String()
	}
	switch o {
	case backoff.OutcomeSucceeded:
		if late > 0 {
			return fmt.Sprintf("attempt %d succeeded %v after its cut at %v (a success still counts)", k, late, t.until)
		}
		return fmt.Sprintf("attempt %d succeeded", k)
	case backoff.OutcomeRejected:
		return fmt.Sprintf("attempt %d failed: %v (rejected: not retried)", k, errText(e.Err))
	case backoff.OutcomeCut:
		if e.Cause != nil {
			c, cause := t.sc.callerEnd()
			what := "the caller cancelled"
			if cause == context.DeadlineExceeded {
				what = "the caller's deadline passed"
			}
			if e.At > c {
				return fmt.Sprintf("attempt %d returned %q %v after %s at %v%s",
					k, errText(e.Err), e.At-c, what, c, outcome)
			}
			return fmt.Sprintf("attempt %d returned %q as %s%s", k, errText(e.Err), what, outcome)
		}
		return fmt.Sprintf("the deadline cut attempt %d off%s%s%s", k, cutTime, returned(late), outcome)
	case backoff.OutcomeFailed:
		if t.cut == backoff.ErrAttemptTimeout && e.At >= t.until {
			return fmt.Sprintf("attempt %d timed out%s%s%s", k, cutTime, returned(late), outcome)
		}
		return fmt.Sprintf("attempt %d failed: %v", k, errText(e.Err))
	}
	return fmt.Sprintf("attempt %d returned %q%s", k, errText(e.Err), outcome)
}

// returned says how late an attempt returned after its cut, if it did.
func returned(late time.Duration) string {
	if late <= 0 {
		return ""
	}
	return fmt.Sprintf("; it returned %v later", late)
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// action says what the call does next.
func (t *teller) action(e backoff.Event, a backoff.Action) string {
	switch a.Kind {
	case backoff.ActionStart:
		s := fmt.Sprintf("attempt %d starts", a.Attempt)
		switch a.Cut {
		case nil:
			return s + ", no time limit"
		case backoff.ErrAttemptTimeout:
			return fmt.Sprintf("%s, cut at %v by its timeout", s, a.Until)
		}
		return s + ", cut at " + cutWords(a.Until, a.Cut)
	case backoff.ActionPause:
		return "pause until " + a.Until.String()
	case backoff.ActionFinish:
		if a.Err == nil {
			return fmt.Sprintf("the call returns the value %d", t.res.Value)
		}
		return "the call ends: " + t.reasonWords(e, a)
	}
	return a.Kind.String()
}

func (t *teller) reasonWords(e backoff.Event, a backoff.Action) string {
	var be *backoff.Error
	if !errors.As(a.Err, &be) {
		return a.Err.Error()
	}
	switch {
	case be.Reason == backoff.ErrMaxTries:
		return fmt.Sprintf("max tries (%d) reached", t.sc.MaxTries)
	case be.Reason == backoff.ErrNotRetryable:
		return "the error is not retried"
	case be.Reason == backoff.ErrGaveUp:
		return "GiveUp says stop"
	case be.Reason == backoff.ErrDeadline && a.Outcome == backoff.OutcomeFailed:
		return fmt.Sprintf("the pause would end at %s, not before the deadline (%v)",
			fmtNever(plus(e.At, t.pause(e))), t.sc.Deadline)
	case be.Reason == backoff.ErrDeadline:
		return "deadline exceeded"
	case be.Reason == ErrCanceled:
		return "cancelled by the caller"
	case be.Reason == context.DeadlineExceeded && a.Outcome == backoff.OutcomeFailed:
		return fmt.Sprintf("the pause would end at %s, not before the caller's deadline (%v)",
			fmtNever(plus(e.At, t.pause(e))), t.sc.CallerDeadline)
	case be.Reason == context.DeadlineExceeded:
		return "the caller's deadline passed"
	}
	return be.Reason.Error()
}

// pause returns the pause that the failure e of attempt t.k led to, as
// the decision core worked it out (Policy.PauseAfter): from the policy,
// the previous pause, the error (the cut's, if the attempt's time was up:
// it carries no delay hint) and the attempt's random number.
func (t *teller) pause(e backoff.Event) time.Duration {
	err := e.Err
	if t.cut != nil && e.At >= t.until {
		err = t.cut
	}
	return t.policy.PauseAfter(t.k, t.prev, e.Rand, err)
}

// abandoned reports whether the event e, answered with a, ended an
// attempt (cut at until by cut) because its context was done: by the
// caller's cancel, or at its cut. With the operation wrapped in
// backoff.Abandon, such an attempt was abandoned, and its operation may
// run on.
func abandoned(e backoff.Event, a backoff.Action, until time.Duration, cut error) bool {
	switch {
	case e.Kind != backoff.EventEnded || e.Err == nil:
		return false
	case a.Outcome == backoff.OutcomeCut:
		return true
	}
	return a.Outcome == backoff.OutcomeFailed && cut != nil && e.At >= until
}
