package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/timebound/backoff"
)

// A Violation is a rule of backoff that a simulated call broke, as [Check]
// reports it. The rules are those of the README's "The rules", numbered 1
// to 12.
type Violation struct {
	// Rule is the rule's number (1 to 12), or 0 when the
	// result is malformed: it does not describe a call at all (steps after
	// the call finished, time going back, an event of no attempt).
	Rule int
	// Step is the index in Result.Steps of the step that breaks the rule,
	// or -1 when the rule is broken by the call as a whole.
	Step int
	// At is the step's virtual time (0 when Step is -1).
	At time.Duration
	// Msg says what the rule wants and what the step did.
	Msg string
}

// Error reads "rule 6, step 4 at 150ms: ..." (or "malformed result" in
// place of the rule, "the whole call" in place of the step).
func (v *Violation) Error() string {
	rule := "malformed result"
	if v.Rule > 0 {
		rule = "rule " + strconv.Itoa(v.Rule)
	}
	if v.Step < 0 {
		return rule + ", the whole call: " + v.Msg
	}
	return fmt.Sprintf("%s, step %d at %v: %s", rule, v.Step, v.At, v.Msg)
}

// Check is an oracle for simulated calls: it checks, against the rules of
// backoff and sc's script, every step of res and the result as a whole,
// and returns all the violations it finds, each a *[Violation], joined
// with [errors.Join]; nil if every rule holds. It returns a plain error if
// sc is invalid or res is nil.
//
// It is written from the rules' statements, not from the decision core,
// and shares no algorithm with it: it replays the call step by step,
// asking at each step two questions. Did the script and the clock make
// this event happen, now (how an attempt ends, rules 2, 3 and 9; when a
// pause ends, rule 6)? Is the action one the rules allow (rules 1 to 9)?
// On top of that it checks the rules' plain statements on the whole call:
// no attempt starts at or after the deadline, the call ends by it unless
// a cooperative attempt returned late, no attempt runs past its timeout
// unless it returned late, every pause is within its bounds (see below),
// nothing follows the last attempt, at most MaxTries attempts, a cancel
// at 0 calls nothing, and the returned *backoff.Error agrees with the
// steps.
//
// A pause is checked against what the statements of backoff.Policy's
// pause fields and of backoff.Jitter say of it: exactly where they give
// its value, else its bounds. With b = Pause × Growth^(k-1) after the k-th
// failure (Growth above 1 only; at most math.MaxInt64), capped by
// MaxPause, the pause is exactly b without a jitter; within [0, b] with
// FullJitter, [b/2, b] with EqualJitter, and [Pause, max(Pause, 3 × the
// previous pause)] capped by MaxPause with DecorrelatedJitter (the
// previous pause of the first is Pause); and at least the delay hint the
// failure's error carries (Attempt.RetryAfter, for an attempt that ended
// by itself with its scripted error), which no cap lowers. With a jitter,
// the walk takes the pause the call took, if it is within its bounds, as
// the one the random number gave: Check does not draw pauses. Rule 5
// ends the call instead when the pause would reach the deadline: with a
// jitter, the call may end so only if the longest pause the bounds allow
// would, and must if the shortest would. The whole-call check adds that,
// without a jitter, no pause is shorter than an earlier one unless a hint
// made either. Check does require of each event that ends an attempt the
// random number the executor would draw for it (Event.Rand: the next
// number of a PCG seeded with Seed and SeedStream, one per attempt, in
// order), as the scenario promises, so that a trace replays.
//
// How the policy classifies errors comes from the script (see [Scenario]):
// ErrRetryable and ErrGiveUp are retried, ErrGiveUp also gives up, and
// anything else an attempt returns before its time is up is not retried.
//
// Where two things fall due at the same instant (an attempt's return and
// its cut, a cut and the cancel, a pause's end and the cancel) either
// order is accepted, as an executor on a real clock may see either
// (Scenario.Flip picks one in the simulator), and the driver may notice a
// cancel due at the very instant of an event with that event or after it;
// the decision taken is then checked against the order the steps show.
// Rules 10 to 12 (state per call, panics, the context inside fn) concern
// the executor and are not visible in a simulated result, except that
// each Start's cut time is the D_k of rules 2 and 12.
func Check(sc Scenario, res *Result) error {
	if res == nil {
		return errors.New("sim: check: no result")
	}
	if err := sc.Validate(); err != nil {
		return fmt.Errorf("sim: check: %w", err)
	}
	c := &checker{sc: sc, res: res, pauses: newPauser(sc)}
	c.cancel, c.cause = sc.callerEnd()
	if c.pauses.jitter != backoff.NoJitter {
		c.rand = rand.NewPCG(sc.Seed, SeedStream)
	}
	c.walk()
	c.wholeCall()
	slices.SortStableFunc(c.errs, func(a, b *Violation) int {
		// By step, the whole call last; the order found within a step.
		return cmp.Compare(uint(a.Step), uint(b.Step))
	})
	errs := make([]error, len(c.errs))
	for i, v := range c.errs {
		errs[i] = v
	}
	return errors.Join(errs...)
}

type checker struct {
	sc     Scenario
	res    *Result
	cancel time.Duration // when the caller's context is done; never if it is not
	cause  error         // with this cause: ErrCanceled, or DeadlineExceeded at its deadline
	errs   []*Violation
	pauses pauser
	rand   *rand.PCG     // the seed's stream; nil without a jitter
	prev   time.Duration // the latest pause the call took (DecorrelatedJitter)
	// retries counts the retries the rules let the call take, for a
	// budget that allows so many (BudgetAllows).
	retries int
}

func (c *checker) fail(rule, step int, at time.Duration, format string, args ...any) {
	if step < 0 {
		at = 0
	}
	c.errs = append(c.errs, &Violation{Rule: rule, Step: step, At: at, Msg: fmt.Sprintf(format, args...)})
}

// script returns the script of attempt k (from 1): the script's entries
// in order, the last repeated.
func (c *checker) script(k int) Attempt {
	return c.sc.Attempts[max(1, min(k, len(c.sc.Attempts)))-1]
}

// plus returns a+b, or never if that does not fit.
func plus(a, b time.Duration) time.Duration {
	if a >= never-b {
		return never
	}
	return a + b
}

// cutOf returns, per rules 2 and 4, when the context of an attempt that
// starts at s is done and what ends it: the earlier of s+AttemptTimeout
// and the deadline, the deadline winning a tie; nil if neither is set.
func (c *checker) cutOf(s time.Duration) (time.Duration, error) {
	at, dl := c.sc.AttemptTimeout.D(), c.sc.Deadline.D()
	switch {
	case dl > 0 && (at == 0 || dl <= plus(s, at)):
		return dl, backoff.ErrDeadline
	case at > 0:
		return plus(s, at), backoff.ErrAttemptTimeout
	}
	return 0, nil
}

// An outlook is an event the script and the clock may make happen next,
// and the rule that says so.
type outlook struct {
	e    backoff.Event
	rule int
	why  string
}

// attemptEnds returns the ways attempt k, started at s, can end: by its
// script, or when its context is done (by its cut or the caller's cancel)
// as its reaction says, or, with Abandon, at once then. There are two or
// more ways only at a tie.
func (c *checker) attemptEnds(k int, s time.Duration) []outlook {
	a := c.script(k)
	until, cut := c.cutOf(s)
	natural := never
	if a.Outcome != Hang {
		natural = plus(s, a.Takes.D())
	}
	type done struct {
		at       time.Duration
		byCaller bool
	}
	var dones []done // when its context can be done, and by whom
	switch {
	case cut == nil && c.cancel == never:
		dones = []done{{never, false}}
	case cut == nil || c.cancel < until:
		dones = []done{{max(c.cancel, s), true}}
	case c.cancel == until:
		dones = []done{{until, false}, {until, true}}
	default:
		dones = []done{{until, false}}
	}
	script := fmt.Sprintf("attempt %d (script: %s) started at %v", k, describeScript(a), s)
	var outs []outlook
	add := func(o outlook) {
		for _, p := range outs {
			if sameEvent(p.e, o.e) {
				return
			}
		}
		outs = append(outs, o)
	}
	for _, d := range dones {
		if natural <= d.at {
			add(outlook{backoff.Event{Kind: backoff.EventEnded, At: natural, Attempt: k, Err: a.Err()}, 3,
				script + " returns by itself at " + natural.String()})
		}
		if natural < d.at || d.at == never {
			continue
		}
		rule, by := 3, "its cut"
		if d.byCaller {
			rule, by = 9, "the end of the caller's context"
		}
		why := fmt.Sprintf("%s; %s at %v ends its context", script, by, d.at)
		ctxErr := context.DeadlineExceeded
		if d.byCaller && c.cause == ErrCanceled {
			ctxErr = context.Canceled
		}
		reaction := a.OnCancel
		if c.sc.Abandon {
			// backoff.Abandon returns the context's error at once,
			// whatever the operation does.
			reaction, why = AtOnce, why+" and backoff.Abandon stops waiting for it"
		}
		switch reaction {
		case Ignore:
			add(outlook{backoff.Event{Kind: backoff.EventEnded, At: natural, Attempt: k, Err: a.Err()}, rule,
				why + ", which it ignores, so it returns by itself at " + natural.String()})
		case Late:
			end := plus(d.at, a.Late.D())
			add(outlook{backoff.Event{Kind: backoff.EventEnded, At: end, Attempt: k, Err: ctxErr}, rule,
				fmt.Sprintf("%s, and it returns %v later, at %v", why, a.Late, end)})
		default:
			add(outlook{backoff.Event{Kind: backoff.EventEnded, At: d.at, Attempt: k, Err: ctxErr}, rule,
				why + ", and it returns at once"})
		}
	}
	return outs
}

// pauseEnds returns the ways a pause from `from` until `until`, leading to
// attempt k, can end: at its end, or by the caller's cancel first (either
// at a tie).
func (c *checker) pauseEnds(k int, from, until time.Duration) []outlook {
	why := fmt.Sprintf("the pause before attempt %d ends at %v", k, until)
	if late := c.script(k - 1).PauseLate.D(); late > 0 {
		until = plus(until, late)
		why += fmt.Sprintf(", and its timer fires %v late (pause_late), at %v", late, until)
	}
	fired := outlook{backoff.Event{Kind: backoff.EventFired, At: until, Attempt: k}, 6, why}
	canceled := outlook{backoff.Event{Kind: backoff.EventCanceled, At: max(c.cancel, from), Cause: c.cause}, 9,
		fmt.Sprintf("the caller's context is done at %v, during the pause before attempt %d", c.cancel, k)}
	switch {
	case c.cancel < until:
		return []outlook{canceled}
	case c.cancel == until:
		return []outlook{fired, canceled}
	}
	return []outlook{fired}
}

// sameEvent compares what an event says happened, leaving out its Cause
// (see checkCause).
func sameEvent(a, b backoff.Event) bool {
	return a.Kind == b.Kind && a.At == b.At && a.Attempt == b.Attempt && sameErr(a.Err, b.Err)
}

// sameErr compares two errors: equal, or each matching the other by
// errors.Is, or carrying the same delay hint around the same error.
func sameErr(a, b error) bool {
	ha, oka, ua := unhint(a)
	hb, okb, ub := unhint(b)
	if oka || okb {
		return oka == okb && ha == hb && sameErr(ua, ub)
	}
	return a == b || a != nil && b != nil && errors.Is(a, b) && errors.Is(b, a)
}

// A hinter is an error that carries a delay hint (see backoff.RetryAfter).
type hinter interface {
	error
	RetryAfter() time.Duration
}

// unhint returns the hint err carries, if err itself carries one, as
// backoff.RetryAfter makes them, and the error it wraps.
func unhint(err error) (hint time.Duration, ok bool, inner error) {
	if h, ok := err.(hinter); ok {
		return h.RetryAfter(), true, errors.Unwrap(err)
	}
	return 0, false, err
}

// hintOf returns the delay hint of attempt k's error, when it ended by
// itself with its scripted error: its script's RetryAfter, if its outcome
// is one that carries a hint (see Attempt). An attempt cut by its time
// limit or by the caller returns the context's error, which carries none.
func (c *checker) hintOf(k int) time.Duration {
	if a := c.script(k); a.hints() {
		return a.RetryAfter.D()
	}
	return 0
}

// checkCause checks that the driver reports the caller's cancel as it
// should: never before it happens; at once on a Canceled event; by the
// first event after it (at its very instant it may not have noticed yet);
// and, for a cancel at 0, before the call began (rule 9).
func (c *checker) checkCause(i int, e backoff.Event) {
	switch {
	case e.Cause != nil && e.Cause != c.cause:
		c.fail(9, i, e.At, "the event's cause is %s; the caller's context ends only with %s", errName(e.Cause), errName(c.cause))
	case e.Cause != nil && c.cancel > e.At:
		c.fail(9, i, e.At, "the event says the caller has cancelled, but it cancels at %v", fmtNever(c.cancel))
	case e.Cause == nil && (e.Kind == backoff.EventCanceled || c.cancel < e.At || c.cancel == 0):
		c.fail(9, i, e.At, "the caller cancelled at %v, but the %s event does not say so (no cause)", c.cancel, e.Kind)
	}
}

// A want is the action the rules demand at a step, and why.
type want struct {
	rule int
	why  string
	a    backoff.Action
	last error // the last failure after this step, as the rules keep it
	// latest, if after a.Until, is the latest end a Pause may have: the
	// rules allow any from a.Until to latest (a jittered pause's bounds).
	latest time.Duration
}

// demand returns the want of the action a, which rule demands for the
// reason why, leaving the last failure last.
func demand(rule int, why string, a backoff.Action, last error) *want {
	return &want{rule: rule, why: why, a: a, last: last}
}

// phases of a call, as the checker follows it.
type cphase uint8

const (
	cBegin cphase = iota
	cRunning
	cPausing
	cOver
)

// walk follows the steps one by one. At each it checks the event against
// what could happen next (outlooks), then the action against what the
// rules demand given that event, then follows the action the call took,
// so that one wrong step is reported once, not again at every later one.
func (c *checker) walk() {
	steps := c.res.Steps
	if len(steps) == 0 {
		c.fail(0, -1, 0, "there are no steps: a call has at least its beginning")
		return
	}
	if len(steps) > MaxSteps {
		c.fail(0, -1, 0, "%d steps; the simulator stops at MaxSteps (%d)", len(steps), MaxSteps)
	}
	var (
		phase   = cBegin
		k       int              // the attempt running, or the one the pause leads to
		started int              // attempts started
		start   time.Duration    // when attempt k started
		since   time.Duration    // when attempt k, or the pause before it, began
		until   time.Duration    // when its context is done by its cut (rules 2, 4)
		cut     error            // what cuts it; nil: nothing
		last    error            // the last failure, as the rules keep it
		next    []outlook        // what can happen next
		prev    time.Duration    // the previous step's time
		final   *want            // what the rules demanded at the last step
		finalAt = len(steps) - 1 // the index of the step that finished the call
	)
	for i, s := range steps {
		e, a := s.Event, s.Action
		if phase == cOver {
			c.fail(0, i, e.At, "a step after the call finished at step %d", finalAt)
			return
		}
		if e.At < prev {
			c.fail(0, i, e.At, "time goes back, from %v at the step before", prev)
		}
		prev = e.At

		// The event: did the script and the clock make it happen?
		if i == 0 {
			if !sameEvent(e, backoff.Event{Kind: backoff.EventBegan}) {
				c.fail(0, i, e.At, "the first event is %s; want the call beginning at 0s", describeEvent(e))
			}
		} else if !slices.ContainsFunc(next, func(o outlook) bool { return sameEvent(o.e, e) }) {
			o := next[0]
			c.fail(o.rule, i, e.At, "%s: want %s; got %s", o.why, describeEvent(o.e), describeEvent(e))
		}
		c.checkCause(i, e)
		if phase == cRunning {
			c.drawFor(i, k, e)
		}

		// The action: is it the one the rules demand?
		var w *want
		noticed := e.Kind == backoff.EventCanceled || e.Cause != nil
		switch phase {
		case cBegin:
			if e.Kind != backoff.EventBegan {
				break
			}
			if noticed {
				w = demand(9, "the caller's context is done before the call begins, so the operation is never called",
					finish(c.cause, nil, 0, e.At, backoff.OutcomeNone), nil)
			} else {
				w = c.startWant(6, "the first attempt starts at once, with no pause before it", 1, e.At, nil, backoff.OutcomeNone)
			}
		case cRunning:
			w = c.attemptEnded(e, k, started, start, until, cut, last, noticed, a)
		case cPausing:
			switch {
			case noticed && (e.Kind == backoff.EventCanceled || e.Kind == backoff.EventFired && e.Attempt == k):
				w = demand(9, "the caller cancelled during the pause, so the call ends at once",
					finish(c.cause, last, started, e.At, backoff.OutcomeNone), last)
			case e.Kind == backoff.EventFired && e.Attempt == k:
				w = c.pauseOver(e.At, k, started, last)
			}
		}
		if w == nil {
			c.fail(0, i, e.At, "%s is no event of a call %s", describeEvent(e), phaseWords(phase, k))
		} else {
			if phase != cBegin {
				w.a.Since = since
			}
			c.compare(i, e.At, w, a)
			last = w.last
		}

		// Follow the action the call took.
		switch a.Kind {
		case backoff.ActionStart:
			phase, k, start, since = cRunning, a.Attempt, e.At, e.At
			started++
			until, cut = c.cutOf(start)
			next = c.attemptEnds(k, start)
		case backoff.ActionPause:
			phase, k, since = cPausing, a.Attempt, e.At
			next = c.pauseEnds(k, e.At, a.Until)
		case backoff.ActionFinish:
			phase, final, finalAt = cOver, w, i
		default:
			c.fail(0, i, e.At, "the action is %s; a driver is told to wait only on events it does not report", a.Kind)
			return
		}
	}
	c.result(phase, final, finalAt)
}

// pauseOver is what the rules demand when the pause before attempt k is
// over at now: the attempt starts, unless the pause's timer fired so late
// that a deadline has come (rule 4: the call ends there).
func (c *checker) pauseOver(now time.Duration, k, started int, last error) *want {
	dl, cdl := c.sc.Deadline.D(), c.sc.CallerDeadline.D()
	switch {
	case dl > 0 && now >= dl && (cdl == 0 || dl <= cdl):
		return demand(4, fmt.Sprintf("the pause's timer fired late, at %v, at or after the deadline %v, so the call ends there", now, dl),
			finish(backoff.ErrDeadline, last, started, now, backoff.OutcomeNone), last)
	case cdl > 0 && now >= cdl:
		return demand(9, fmt.Sprintf("the pause's timer fired late, at %v, at or after the caller's deadline %v, so the call ends there", now, cdl),
			finish(context.DeadlineExceeded, last, started, now, backoff.OutcomeNone), last)
	}
	return c.startWant(6, "the pause is over", k, now, last, backoff.OutcomeNone)
}

func phaseWords(p cphase, k int) string {
	switch p {
	case cBegin:
		return "that has not begun"
	case cRunning:
		return fmt.Sprintf("running attempt %d", k)
	}
	return fmt.Sprintf("pausing before attempt %d", k)
}

// startWant is the action that starts attempt k at now.
func (c *checker) startWant(rule int, why string, k int, now time.Duration, last error, o backoff.Outcome) *want {
	until, cut := c.cutOf(now)
	return demand(rule, why, backoff.Action{Kind: backoff.ActionStart, Attempt: k, Until: until, Cut: cut, Outcome: o}, last)
}

func finish(reason, last error, attempts int, elapsed time.Duration, o backoff.Outcome) backoff.Action {
	return backoff.Action{Kind: backoff.ActionFinish, Outcome: o,
		Err: &backoff.Error{Reason: reason, Last: last, Attempts: attempts, Elapsed: elapsed}}
}

// attemptEnded returns what the rules demand when the event e ends
// attempt k (started at start, cut at until by cut), or nil if e cannot
// end it; got is the action the call took.
func (c *checker) attemptEnded(e backoff.Event, k, started int, start, until time.Duration, cut, last error, noticed bool, got backoff.Action) *want {
	mine := e.Kind == backoff.EventEnded && e.Attempt == k
	now := e.At
	at := fmt.Sprintf("attempt %d", k)
	switch {
	case !mine:
		return nil // only its own return ends an attempt
	case e.Err == nil:
		return demand(1, at+" succeeded, so the call returns its value at once",
			backoff.Action{Kind: backoff.ActionFinish, Outcome: backoff.OutcomeSucceeded}, last)
	case noticed:
		return demand(9, "the caller cancelled, and "+at+" has returned an error, so the call ends, keeping Last",
			finish(c.cause, last, started, now, backoff.OutcomeCut), last)
	case cut == backoff.ErrDeadline && now >= until:
		return demand(4, at+" was cut off by the deadline, so the call ends with ErrDeadline, keeping Last",
			finish(backoff.ErrDeadline, last, started, now, backoff.OutcomeCut), last)
	case cut != nil && now >= until:
		return c.failed(k, started, now, backoff.ErrAttemptTimeout, 0,
			fmt.Sprintf("%s timed out at %v, an always retried failure (rules 2, 3)", at, until), got)
	case errors.Is(e.Err, ErrRetryable) || errors.Is(e.Err, ErrGiveUp):
		return c.failed(k, started, now, e.Err, c.hintOf(k), fmt.Sprintf("%s failed with %s, which is retried", at, errName(e.Err)), got)
	}
	return demand(7, fmt.Sprintf("%s failed with %s, which is not retried, so the call ends", at, errName(e.Err)),
		finish(backoff.ErrNotRetryable, e.Err, started, now, backoff.OutcomeRejected), e.Err)
}

// drawFor draws the random number of attempt k, which the event e at
// step i ends, from the seed's stream, and requires e to carry it: a
// driver gives the core one with each event that ends an attempt, when
// the policy has a jitter, in the order of the attempts.
func (c *checker) drawFor(i, k int, e backoff.Event) {
	if r := c.script(k).Rand; r != nil {
		if e.Rand != *r {
			c.fail(6, i, e.At, "the event that ends attempt %d carries the random number %d; its script gives %d", k, e.Rand, *r)
		}
		return
	}
	if c.rand == nil {
		return
	}
	if r := c.rand.Uint64(); e.Rand != r {
		c.fail(6, i, e.At, "the event that ends attempt %d carries the random number %d; the stream of seed %d gives %d, its number %d",
			k, e.Rand, c.sc.Seed, r, k)
	}
}

// failed returns what the rules demand after attempt k failed at now with
// err, a retryable failure whose error carries the delay hint hint, given
// got, the action the call took: MaxTries, then GiveUp (rule 8), then the
// pause (rule 6), unless it would reach a deadline (rules 5 and 9).
func (c *checker) failed(k, started int, now time.Duration, err error, hint time.Duration, why string, got backoff.Action) *want {
	switch {
	case c.sc.MaxTries > 0 && k >= c.sc.MaxTries:
		return demand(8, fmt.Sprintf("%s; it was try %d of max_tries %d, so the call ends with ErrMaxTries (GiveUp is not asked)", why, k, c.sc.MaxTries),
			finish(backoff.ErrMaxTries, err, started, now, backoff.OutcomeFailed), err)
	case errors.Is(err, ErrGiveUp):
		return demand(8, why+"; GiveUp says stop, so the call ends with ErrGaveUp",
			finish(backoff.ErrGaveUp, err, started, now, backoff.OutcomeFailed), err)
	}
	w := c.pauses.allow(k, c.prev, hint)
	least, most := w.least(), w.most()
	dl, cdl := c.sc.Deadline.D(), c.sc.CallerDeadline.D()
	limit := never // the deadline a pause may not reach: the earlier, the policy's at a tie
	if cdl > 0 {
		limit = cdl
	}
	if dl > 0 && dl <= limit {
		limit = dl
	}
	// The pause: exactly least where the statements give its value; with
	// a jitter, the one the call took if it is within its bounds (the one
	// its random number gave), or any if every one would reach the
	// deadline, or the longest if the call ended as if it would.
	taken, paused := pauseTaken(got, k, now)
	if paused {
		c.prev = taken
	}
	d, what := least, ""
	switch {
	case least == most:
		c.prev = d
	case paused && taken >= least && taken <= most:
		d = taken
	case plus(now, least) >= limit:
	case got.Kind == backoff.ActionFinish && plus(now, most) >= limit:
		d, what = most, fmt.Sprintf("a pause of up to %v (%s)", most, c.pauses.words(w))
	default:
		// The call took no pause the bounds allow.
		wa := backoff.Action{Kind: backoff.ActionPause, Attempt: k + 1, Until: plus(now, least), Outcome: backoff.OutcomeFailed}
		if least == 0 {
			wa.Until = now // or no pause at all: the next attempt at once
		}
		return &want{rule: 6, why: fmt.Sprintf("%s; %s, so the next attempt is %v to %v later", why, c.pauses.within(w), least, most),
			a: wa, last: err, latest: plus(now, most)}
	}
	if what == "" {
		what = c.pauses.pauseWords(w, d)
	}
	next := plus(now, d)
	budgetRefuses := c.sc.BudgetAllows != nil && c.retries >= *c.sc.BudgetAllows
	switch {
	case dl > 0 && next >= dl && (cdl == 0 || dl <= cdl):
		return demand(5, fmt.Sprintf("%s; %s would end at %v, at or after the deadline %v, so the call ends at once",
			why, what, fmtNever(next), c.sc.Deadline), finish(backoff.ErrDeadline, err, started, now, backoff.OutcomeFailed), err)
	case cdl > 0 && next >= cdl:
		return demand(9, fmt.Sprintf("%s; %s would end at %v, at or after the caller's deadline %v, so the call ends at once with context.DeadlineExceeded",
			why, what, fmtNever(next), c.sc.CallerDeadline), finish(context.DeadlineExceeded, err, started, now, backoff.OutcomeFailed), err)
	case budgetRefuses:
		return demand(8, fmt.Sprintf("%s; the budget allows %d retries of the call (budget_allows), all taken, so it refuses this one", why, *c.sc.BudgetAllows),
			finish(backoff.ErrBudgetExhausted, err, started, now, backoff.OutcomeFailed), err)
	case d == 0:
		c.retries++
		return c.startWant(6, why+"; with no pause the next attempt starts at once", k+1, now, err, backoff.OutcomeFailed)
	}
	c.retries++
	return demand(6, fmt.Sprintf("%s; %s, so the next attempt is %v later", why, what, d),
		backoff.Action{Kind: backoff.ActionPause, Attempt: k + 1, Until: next, Outcome: backoff.OutcomeFailed}, err)
}

// pauseTaken returns the pause the action a took after attempt k failed
// at now, if a goes on to attempt k+1: until its Until, or none if it
// starts the attempt at once.
func pauseTaken(a backoff.Action, k int, now time.Duration) (time.Duration, bool) {
	switch {
	case a.Outcome != backoff.OutcomeFailed || a.Attempt != k+1:
	case a.Kind == backoff.ActionPause && a.Until >= now:
		return a.Until - now, true
	case a.Kind == backoff.ActionStart:
		return 0, true
	}
	return 0, false
}

// A pauser says which pauses the rules allow after a failure, from the
// statements of backoff.Policy's pause fields and of backoff.Jitter (see
// Check): their values where the statements give them, else their bounds.
// It draws nothing.
type pauser struct {
	pause    time.Duration
	growth   float64
	cap      time.Duration // MaxPause; never if there is none
	jitter   backoff.Jitter
	jitterBy string // the jitter's name
}

func newPauser(sc Scenario) pauser {
	p := pauser{pause: sc.Pause.D(), growth: sc.Growth, cap: never, jitterBy: sc.Jitter}
	p.jitter, _ = sc.jitter()
	if sc.MaxPause > 0 {
		p.cap = sc.MaxPause.D()
	}
	return p
}

// An allowance is what the rules allow of the pause after the k-th
// failure: from least() to most(), exactly one pause when they are equal.
type allowance struct {
	k      int
	grown  time.Duration // Pause × Growth^(k-1), before the cap
	base   time.Duration // b: grown, capped
	lo, hi time.Duration // the jitter's bounds (b and b without one), capped
	hint   time.Duration // the delay hint of the failure; 0 if none
}

// least is the shortest pause allowed: the jitter's lower bound, but at
// least the hint.
func (w allowance) least() time.Duration { return max(w.lo, w.hint) }

// most is the longest pause allowed: the jitter's upper bound, or the
// hint if it asks for more (no cap lowers a hint).
func (w allowance) most() time.Duration { return max(w.hi, w.hint) }

// base returns b for the k-th failure: Pause × Growth^(k-1) if Growth is
// above 1, at most math.MaxInt64; and b capped.
func (p *pauser) base(k int) (grown, b time.Duration) {
	grown = p.pause
	if p.growth > 1 && k > 1 && p.pause > 0 {
		f := float64(p.pause) * math.Pow(p.growth, float64(k-1))
		if f >= math.MaxInt64 { // 2^63, as a float64
			grown = never
		} else {
			grown = time.Duration(f)
		}
	}
	return grown, min(grown, p.cap)
}

// allow returns what the rules allow of the pause after the k-th failure,
// whose error carries the delay hint hint, given the previous pause prev
// (0 before the first): b without a jitter; [0, b] with FullJitter; [b/2,
// b] with EqualJitter; [Pause, max(Pause, 3 × prev)] capped by MaxPause
// with DecorrelatedJitter (prev being Pause before the first).
func (p *pauser) allow(k int, prev, hint time.Duration) allowance {
	w := allowance{k: k, hint: hint}
	w.grown, w.base = p.base(k)
	b := w.base
	switch p.jitter {
	case backoff.FullJitter:
		w.lo, w.hi = 0, b
	case backoff.EqualJitter:
		w.lo, w.hi = b-b/2, b // b/2 rounded up: pauses are whole nanoseconds
	case backoff.DecorrelatedJitter:
		if prev == 0 {
			prev = p.pause
		}
		w.lo, w.hi = min(p.pause, p.cap), min(max(p.pause, mul3(prev)), p.cap)
	default:
		w.lo, w.hi = b, b
	}
	return w
}

// words says where the pauses w allows come from, for a message.
func (p *pauser) words(w allowance) string {
	var parts []string
	if p.jitter != backoff.DecorrelatedJitter {
		if p.growth > 1 {
			parts = append(parts, fmt.Sprintf("pause %v × growth %v^%d = %s", p.pause, p.growth, w.k-1, fmtNever(w.grown)))
		} else {
			parts = append(parts, "pause "+p.pause.String())
		}
		if w.base < w.grown {
			parts = append(parts, "capped at max_pause "+p.cap.String())
		}
	}
	switch p.jitter {
	case backoff.FullJitter, backoff.EqualJitter, backoff.DecorrelatedJitter:
		s := fmt.Sprintf("%s jitter: within [%v, %v]", p.jitterBy, w.lo, w.hi)
		if p.jitter == backoff.DecorrelatedJitter {
			s = fmt.Sprintf("%s jitter: within [%v, %v], from pause %v to 3 times the previous pause", p.jitterBy, w.lo, w.hi, p.pause)
			if p.cap != never {
				s += ", capped at max_pause " + p.cap.String()
			}
		}
		parts = append(parts, s)
	}
	if w.hint > 0 {
		parts = append(parts, "at least the delay hint "+w.hint.String())
	}
	return strings.Join(parts, "; ")
}

// pauseWords says how the pause d, which w allows, comes about.
func (p *pauser) pauseWords(w allowance, d time.Duration) string {
	if p.jitter == backoff.NoJitter && p.growth <= 1 && p.cap == never && w.hint == 0 {
		return "a pause of " + d.String()
	}
	return fmt.Sprintf("a pause of %v (%s)", d, p.words(w))
}

// within says which pauses w allows, where the call took none of them.
func (p *pauser) within(w allowance) string {
	return fmt.Sprintf("a pause within [%v, %v] (%s)", w.least(), w.most(), p.words(w))
}

// compare reports how the action a taken at step i differs from w.
func (c *checker) compare(i int, at time.Duration, w *want, a backoff.Action) {
	wa := w.a
	same := a.Kind == wa.Kind && a.Outcome == wa.Outcome
	switch wa.Kind {
	case backoff.ActionStart:
		same = same && a.Attempt == wa.Attempt
	case backoff.ActionPause:
		same = same && a.Attempt == wa.Attempt && (a.Until == wa.Until || a.Until > wa.Until && a.Until <= w.latest)
	case backoff.ActionFinish:
		same = same && sameResult(a.Err, wa.Err)
	}
	if !same {
		want := describeAction(wa)
		if w.latest > wa.Until {
			want = fmt.Sprintf("pause until %v to %v, then attempt %d (outcome %v)", wa.Until, w.latest, wa.Attempt, wa.Outcome)
		}
		c.fail(w.rule, i, at, "%s: want %s; got %s", w.why, want, describeAction(a))
		return
	}
	if a.Since != wa.Since {
		what, rule := "attempt", 3
		if w.rule == 6 && wa.Kind == backoff.ActionStart && wa.Outcome == backoff.OutcomeNone || w.rule == 9 && wa.Outcome == backoff.OutcomeNone {
			what, rule = "pause", 6
		}
		c.fail(rule, i, at, "the action says the %s that ended here began at %v (Since); it began at %v", what, a.Since, wa.Since)
	}
	if wa.Kind == backoff.ActionStart && (a.Until != wa.Until || a.Cut != wa.Cut) {
		rule := 2
		if wa.Cut == backoff.ErrDeadline {
			rule = 4
		}
		c.fail(rule, i, at, "attempt %d starts at %v, so its context is done at %s; got %s",
			wa.Attempt, at, cutWords(wa.Until, wa.Cut), cutWords(a.Until, a.Cut))
	}
}

// sameResult compares two results of a call: both nil, or two *backoff.Error
// alike in every field.
func sameResult(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	ea, ok1 := a.(*backoff.Error)
	eb, ok2 := b.(*backoff.Error)
	return ok1 && ok2 && sameErr(ea.Reason, eb.Reason) && sameErr(ea.Last, eb.Last) &&
		ea.Attempts == eb.Attempts && ea.Elapsed == eb.Elapsed
}

// result checks the Result's fields against the steps: the call's error
// and value are those of its last step, as the rules demand them, and a
// call that does not finish is a runaway.
func (c *checker) result(phase cphase, final *want, finalAt int) {
	res := c.res
	if phase != cOver {
		switch {
		case !res.Runaway:
			c.fail(0, -1, 0, "the steps end without the call finishing, and Runaway is not set")
		case len(res.Steps) != MaxSteps:
			c.fail(0, -1, 0, "Runaway is set after %d steps; the simulator stops at MaxSteps (%d)", len(res.Steps), MaxSteps)
		}
		if res.Runaway && (res.Err != nil || res.Value != 0) {
			c.fail(0, -1, 0, "a runaway call returned %v and the value %d; it returned nothing", res.Err, res.Value)
		}
		return
	}
	if res.Runaway {
		c.fail(0, -1, 0, "Runaway is set, but the call finished at step %d", finalAt)
	}
	at := res.Steps[finalAt].Event.At
	stepErr := res.Steps[finalAt].Action.Err
	switch {
	case sameResult(res.Err, stepErr):
		// The step has been checked: the result is what it says.
	case final != nil && !sameResult(res.Err, final.a.Err):
		c.fail(final.rule, finalAt, at, "%s: the call must return %s; it returned %s",
			final.why, describeResult(final.a.Err), describeResult(res.Err))
	default:
		c.fail(0, finalAt, at, "the call returned %s, but its last step says %s",
			describeResult(res.Err), describeResult(stepErr))
	}
	if final == nil {
		return
	}
	value := 0
	if e := res.Steps[finalAt].Event; final.a.Kind == backoff.ActionFinish && final.a.Err == nil && e.Kind == backoff.EventEnded {
		value = e.Attempt // a simulated attempt returns its number
	}
	if res.Value != value {
		c.fail(1, finalAt, at, "the call returned the value %d; want %d", res.Value, value)
	}
}

// An attemptSpan is one attempt as the steps show it.
type attemptSpan struct {
	k          int
	startStep  int
	start, end time.Duration
	endStep    int // -1 while running (a runaway)
	// The pause after it: the step's action is a Pause (pausing) or
	// starts the next attempt at once after a failure (a zero pause).
	paused     bool
	pauseUntil time.Duration // when that pause ends, as announced
}

// wholeCall checks the rules' plain statements on the call as a whole, as
// the steps show it, independently of the step-by-step walk.
func (c *checker) wholeCall() {
	steps := c.res.Steps
	if len(steps) == 0 {
		return
	}
	var spans []attemptSpan
	running := false
	for i, s := range steps {
		e, a := s.Event, s.Action
		if running && i > 0 {
			sp := &spans[len(spans)-1]
			if e.Kind == backoff.EventEnded && e.Attempt == sp.k {
				sp.end, sp.endStep = e.At, i
				running = false
				switch {
				case a.Kind == backoff.ActionPause:
					sp.paused, sp.pauseUntil = true, a.Until
				case a.Kind == backoff.ActionStart && a.Outcome == backoff.OutcomeFailed:
					sp.paused, sp.pauseUntil = true, e.At
				}
			}
		}
		if a.Kind == backoff.ActionStart {
			spans = append(spans, attemptSpan{k: a.Attempt, startStep: i, start: e.At, endStep: -1})
			running = true
		}
		if a.Kind == backoff.ActionFinish {
			break
		}
	}
	last := steps[len(steps)-1]
	finished := last.Action.Kind == backoff.ActionFinish
	end := last.Event.At
	dl, at := c.sc.Deadline.D(), c.sc.AttemptTimeout.D()

	// Rule 9: a cancel at 0 calls nothing.
	if c.cancel == 0 && len(spans) > 0 {
		c.fail(9, spans[0].startStep, spans[0].start, "the caller cancelled before the call began, yet attempt %d starts", spans[0].k)
	}
	for j, sp := range spans {
		// Attempts are numbered from 1, in order.
		if sp.k != j+1 {
			c.fail(0, sp.startStep, sp.start, "attempt %d is the call's attempt number %d", sp.k, j+1)
		}
		// Rule 8: at most MaxTries attempts.
		if c.sc.MaxTries > 0 && j == c.sc.MaxTries {
			c.fail(8, sp.startStep, sp.start, "attempt %d starts, beyond max_tries %d", j+1, c.sc.MaxTries)
		}
		// Rule 4: no attempt starts at or after the deadline.
		if dl > 0 && sp.start >= dl {
			c.fail(4, sp.startStep, sp.start, "attempt %d starts at %v, at or after the deadline %v", sp.k, sp.start, dl)
		}
		// Rule 6: the first attempt at once; then a pause between an
		// attempt's end and the next one's start (see pauseBounds).
		if j == 0 && sp.start != 0 {
			c.fail(6, sp.startStep, sp.start, "the first attempt starts at %v; want 0s, with no pause before it", sp.start)
		}
		if j > 0 && spans[j-1].endStep >= 0 && !spans[j-1].paused {
			c.fail(6, sp.startStep, sp.start, "attempt %d starts, but the call did not pause or go on after attempt %d", sp.k, spans[j-1].k)
		}
		// Rules 2, 3: no attempt runs past its timeout, unless cooperative
		// and its script returns late; with abandon none runs past its cut.
		if sp.endStep < 0 {
			continue
		}
		late := !c.sc.Abandon && c.script(sp.k).OnCancel != AtOnce && c.script(sp.k).OnCancel != ""
		if at > 0 && !late && sp.end-sp.start > at {
			c.fail(3, sp.endStep, sp.end, "attempt %d ran %v (from %v), longer than the attempt timeout %v, though it does not return late",
				sp.k, sp.end-sp.start, sp.start, at)
		}
	}
	c.pauseBounds(spans, finished)
	if !finished {
		return
	}
	// A pause whose timer fired late, at or after a deadline, ends the
	// call there (its pause_late says how late).
	lateTimer := false
	if n := len(spans); n > 0 && spans[n-1].endStep >= 0 && spans[n-1].paused {
		lp := spans[n-1]
		lateTimer = end == plus(lp.pauseUntil, c.script(lp.k).PauseLate.D()) && end > lp.pauseUntil
	}
	// Rule 4: the call ends by the deadline, unless its last attempt was
	// cooperative and returned late, or a pause's timer fired late.
	if dl > 0 && end > dl {
		lateEnd := len(spans) > 0 && !c.sc.Abandon && spans[len(spans)-1].endStep == len(steps)-1 &&
			(c.script(len(spans)).OnCancel == Late || c.script(len(spans)).OnCancel == Ignore)
		if !lateEnd && !lateTimer {
			c.fail(4, len(steps)-1, end, "the call ends at %v, after the deadline %v, and no cooperative attempt returned late", end, dl)
		}
	}
	// Rule 6: nothing follows the last attempt, but a pause the caller cuts short.
	if n := len(spans); n > 0 && spans[n-1].endStep >= 0 && end != spans[n-1].end {
		lp := spans[n-1]
		inPause := c.cancel == end && end > lp.end && lp.paused && end <= plus(lp.pauseUntil, c.script(lp.k).PauseLate.D())
		if !inPause && !lateTimer {
			c.fail(6, len(steps)-1, end, "the call ends at %v, not when its last attempt ended (%v)", end, lp.end)
		}
	}
	// The returned error agrees with the steps.
	var be *backoff.Error
	if errors.As(c.res.Err, &be) {
		if be.Attempts != len(spans) {
			c.fail(10, -1, 0, "the call's error says %d attempts; %d started", be.Attempts, len(spans))
		}
		if be.Elapsed != end {
			c.fail(10, -1, 0, "the call's error says it took %v; it ended at %v", be.Elapsed, end)
		}
	}
}

// pauseBounds checks the plain bounds of every pause the steps show (see
// Check): the gap between an attempt's end and the next one's start, or,
// when the caller cut the call short during a pause, the pause announced.
// A pause is at least the delay hint of the failure before it; no longer
// than MaxPause unless a hint asked for more; within its jitter's bounds
// (b exactly without a jitter) unless a hint asked for more; and, without
// a jitter, no shorter than an earlier pause, where no hint made either.
// A call that ends at a failure with ErrDeadline (rule 5) would have
// paused into the deadline even at the longest pause its bounds allow.
func (c *checker) pauseBounds(spans []attemptSpan, finished bool) {
	var (
		prev   time.Duration      // the previous pause (0 before the first)
		plain  time.Duration = -1 // the latest pause without a hint (none yet)
		plainK int
	)
	for j, sp := range spans {
		if sp.endStep < 0 {
			return
		}
		endEvent := c.res.Steps[sp.endStep].Event
		hint := time.Duration(0)
		if until, cut := c.cutOf(sp.start); endEvent.Kind == backoff.EventEnded && (cut == nil || endEvent.At < until) {
			hint = c.hintOf(sp.k) // a cut attempt's error only echoes the cut
		}
		w := c.pauses.allow(sp.k, prev, hint)
		lo, hi := w.least(), w.most()
		if !sp.paused {
			// Rule 5: the call ends here rather than pause into the deadline.
			a := c.res.Steps[sp.endStep].Action
			var be *backoff.Error
			if dl := c.sc.Deadline.D(); finished && j == len(spans)-1 && a.Outcome == backoff.OutcomeFailed &&
				errors.As(a.Err, &be) && be.Reason == backoff.ErrDeadline && plus(sp.end, hi) < dl {
				c.fail(5, sp.endStep, sp.end, "the call ends with ErrDeadline after attempt %d failed at %v, but its pause, at most %v, would end by %v, before the deadline %v",
					sp.k, sp.end, hi, plus(sp.end, hi), dl)
			}
			return
		}
		d := sp.pauseUntil - sp.end // as announced: the pause a cancel cut short
		step, at := sp.endStep, sp.end
		if j+1 < len(spans) {
			// As taken, but for how late its timer fired (pause_late).
			d = spans[j+1].start - sp.end - c.script(sp.k).PauseLate.D()
			step, at = spans[j+1].startStep, spans[j+1].start
		}
		what := fmt.Sprintf("the pause after attempt %d is %v", sp.k, d)
		switch {
		case d < hint:
			c.fail(6, step, at, "%s, shorter than the delay hint %v its error carries", what, hint)
		case c.pauses.cap != never && d > c.pauses.cap && d != hint:
			c.fail(6, step, at, "%s, longer than max_pause %v, and no delay hint asked for it", what, c.pauses.cap)
		case d < lo || d > hi:
			c.fail(6, step, at, "%s; want %s", what, c.boundWords(w, lo, hi))
		case c.pauses.jitter == backoff.NoJitter && hint == 0 && d < plain:
			c.fail(6, step, at, "%s, shorter than the pause after attempt %d (%v), with no jitter and no delay hint", what, plainK, plain)
		}
		if hint == 0 {
			plain, plainK = d, sp.k
		}
		prev = d
	}
}

// boundWords says what bounds a pause keeps.
func (c *checker) boundWords(w allowance, lo, hi time.Duration) string {
	var s string
	switch c.pauses.jitter {
	case backoff.NoJitter:
		s = fmt.Sprintf("exactly %v", w.base)
	case backoff.DecorrelatedJitter:
		s = fmt.Sprintf("within [%v, %v], from pause %v to 3 times the previous pause", w.lo, w.hi, c.pauses.pause)
	default:
		s = fmt.Sprintf("within [%v, %v], the bounds of %s jitter of %v", w.lo, w.hi, c.pauses.jitterBy, w.base)
	}
	if w.hint > 0 {
		s += fmt.Sprintf(", or the delay hint %v (so within [%v, %v])", w.hint, lo, hi)
	}
	return s
}

// The words of messages.

func fmtNever(t time.Duration) string {
	if t == never {
		return "never"
	}
	return t.String()
}

// errName names an error as a Go programmer would write it.
func errName(err error) string {
	if hint, ok, inner := unhint(err); ok {
		return fmt.Sprintf("%s with a delay hint of %v", errName(inner), hint)
	}
	switch err {
	case nil:
		return "nil"
	case backoff.ErrAttemptTimeout:
		return "ErrAttemptTimeout"
	case backoff.ErrDeadline:
		return "ErrDeadline"
	case backoff.ErrMaxTries:
		return "ErrMaxTries"
	case backoff.ErrNotRetryable:
		return "ErrNotRetryable"
	case backoff.ErrGaveUp:
		return "ErrGaveUp"
	case ErrRetryable:
		return "sim.ErrRetryable"
	case ErrPermanent:
		return "sim.ErrPermanent"
	case ErrGiveUp:
		return "sim.ErrGiveUp"
	case ErrCanceled:
		return "sim.ErrCanceled"
	case context.Canceled:
		return "context.Canceled"
	case context.DeadlineExceeded:
		return "context.DeadlineExceeded"
	}
	return strconv.Quote(err.Error())
}

func cutWords(until time.Duration, cut error) string {
	switch cut {
	case nil:
		return "never (no time limit)"
	case backoff.ErrAttemptTimeout:
		return until.String() + " by the attempt timeout"
	case backoff.ErrDeadline:
		return until.String() + " by the deadline"
	}
	return fmt.Sprintf("%v by %s", until, errName(cut))
}

func describeScript(a Attempt) string {
	var s string
	switch a.Outcome {
	case Hang:
		s = "hangs"
	case OK:
		s = "ok after " + a.Takes.String()
	default:
		s = fmt.Sprintf("%s after %v", a.Outcome, a.Takes)
	}
	switch a.OnCancel {
	case Late:
		s += fmt.Sprintf(", returns %v late when cut", a.Late)
	case Ignore:
		s += ", ignores its context"
	}
	return s
}

func describeEvent(e backoff.Event) string {
	var s string
	switch e.Kind {
	case backoff.EventEnded:
		s = fmt.Sprintf("attempt %d returning %s at %v", e.Attempt, errName(e.Err), e.At)
	case backoff.EventFired:
		s = fmt.Sprintf("the timer of attempt %d firing at %v", e.Attempt, e.At)
	case backoff.EventCanceled:
		s = fmt.Sprintf("the caller's cancel at %v", e.At)
	case backoff.EventBegan:
		s = fmt.Sprintf("the call beginning at %v", e.At)
	default:
		s = fmt.Sprintf("%s (attempt %d) at %v", e.Kind, e.Attempt, e.At)
	}
	if e.Cause != nil {
		s += " (cause " + errName(e.Cause) + ")"
	}
	return s
}

func describeAction(a backoff.Action) string {
	var s string
	switch a.Kind {
	case backoff.ActionStart:
		if a.Cut == nil {
			s = fmt.Sprintf("start attempt %d, with no time limit", a.Attempt)
		} else {
			s = fmt.Sprintf("start attempt %d, cut at %s", a.Attempt, cutWords(a.Until, a.Cut))
		}
	case backoff.ActionPause:
		s = fmt.Sprintf("pause until %v, then attempt %d", a.Until, a.Attempt)
	case backoff.ActionFinish:
		s = "finish, returning " + describeResult(a.Err)
	default:
		s = a.Kind.String()
	}
	if a.Outcome != backoff.OutcomeNone {
		s += " (outcome " + a.Outcome.String() + ")"
	}
	return s
}

func describeResult(err error) string {
	if err == nil {
		return "success"
	}
	if be, ok := err.(*backoff.Error); ok {
		return fmt.Sprintf("Reason %s, Last %s, Attempts %d, Elapsed %v", errName(be.Reason), errName(be.Last), be.Attempts, be.Elapsed)
	}
	return errName(err) + " (not a *backoff.Error)"
}
