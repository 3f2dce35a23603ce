package proptest_test

// The rules of backoff as properties of simulated calls, each its own
// named check, on scenarios drawn by proptest.Scenario. Each property is
// a plain statement about the steps of a call; TestProp_oracle adds the
// step-by-step oracle sim.Check. A failing property saves its shrunk
// scenario and prints the backoffsim command that reproduces it.

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/proptest"
	"github.com/timebound/backoff/sim"
	"pgregory.net/rapid"
)

// run is one attempt of a simulated call, read off its steps.
type run struct {
	k          int
	start, end time.Duration
	until      time.Duration // when its context is done by a limit (cut != nil)
	cut        error         // ErrAttemptTimeout, ErrDeadline or nil
	end_       backoff.Event // the event that ended it
	then       backoff.Action
	script     sim.Attempt
	late       bool // it returned after its time was up (a cooperative attempt)
}

// call is a simulated call and its attempts.
type call struct {
	sc   sim.Scenario
	res  *sim.Result
	runs []run
	last sim.Step
	err  *backoff.Error // nil on success
	// pauses are the pauses after its retryable failures, in order; rule5
	// is the failure it ended at rather than pause into the deadline.
	pauses []pause
	rule5  *pause
}

// A pause is what a call did after attempt k failed at end with a
// retryable error that carried the delay hint hint (0: none): it paused
// d, as the Pause action announced it (0: the next attempt started at once).
type pause struct {
	k        int
	end      time.Duration
	hint     time.Duration
	d        time.Duration
	announce backoff.Action
}

func newCall(sc sim.Scenario, res *sim.Result) *call {
	c := &call{sc: sc, res: res, last: res.Steps[len(res.Steps)-1]}
	errors.As(res.Err, &c.err)
	var cur *run
	for _, s := range res.Steps {
		e, a := s.Event, s.Action
		if cur != nil && e.Kind == backoff.EventEnded && e.Attempt == cur.k {
			cur.end, cur.end_, cur.then = e.At, e, a
			cur.late = cur.cut != nil && e.Kind == backoff.EventEnded && e.At > cur.until
			c.runs = append(c.runs, *cur)
			cur = nil
		}
		if a.Kind == backoff.ActionStart {
			cur = &run{k: a.Attempt, start: e.At, until: a.Until, cut: a.Cut, script: sc.Attempts[min(a.Attempt, len(sc.Attempts))-1]}
		}
	}
	for _, r := range c.runs {
		p := pause{k: r.k, end: r.end, hint: r.hint(), announce: r.then}
		switch a := r.then; {
		case a.Kind == backoff.ActionPause:
			p.d = a.Until - r.end
			c.pauses = append(c.pauses, p)
		case a.Kind == backoff.ActionStart && a.Outcome == backoff.OutcomeFailed:
			c.pauses = append(c.pauses, p)
		case a.Kind == backoff.ActionFinish && a.Outcome == backoff.OutcomeFailed && c.err != nil && c.err.Reason == backoff.ErrDeadline:
			c.rule5 = &p
		}
	}
	return c
}

// hint returns the delay hint of the error the attempt returned, if the
// policy saw it: 0 if it carries none, or the attempt was cut (its error
// then only echoes the cut), or the caller had cancelled.
func (r run) hint() time.Duration {
	e := r.end_
	if e.Kind != backoff.EventEnded || e.Cause != nil || r.cut != nil && e.At >= r.until {
		return 0
	}
	return hintOf(e.Err)
}

// hintOf returns the delay hint err carries (0 if none).
func hintOf(err error) time.Duration {
	if h, ok := errors.AsType[interface {
		error
		RetryAfter() time.Duration
	}](err); ok {
		return max(h.RetryAfter(), 0)
	}
	return 0
}

// pauseRange returns the bounds of the pause after the k-th failure under
// pol, whose error carried the delay hint hint, prev being the pause
// before it (0 before the first: then Pause), from the definitions of the pause
// fields (backoff.Policy, backoff.Jitter): b = min(Pause × Growth^(k-1),
// MaxPause); exactly b without jitter, [0, b] with full, [b - b/2, b]
// with equal, [Pause, max(Pause, 3 × prev)] capped with decorrelated; a
// hint is a floor on both bounds.
func pauseRange(pol backoff.Policy, k int, prev, hint time.Duration) (lo, hi time.Duration) {
	p, limit := pol.Pause, time.Duration(math.MaxInt64)
	if pol.MaxPause > 0 {
		limit = pol.MaxPause
	}
	b := p
	if pol.Growth > 1 && k > 1 && p > 0 {
		b = math.MaxInt64
		if f := float64(p) * math.Pow(pol.Growth, float64(k-1)); f < math.MaxInt64 {
			b = time.Duration(f)
		}
	}
	b = min(b, limit)
	switch pol.Jitter {
	case backoff.FullJitter:
		lo, hi = 0, b
	case backoff.EqualJitter:
		lo, hi = b-b/2, b
	case backoff.DecorrelatedJitter:
		top := time.Duration(math.MaxInt64)
		if prev == 0 {
			prev = p // the first: the previous pause is Pause
		}
		if prev <= math.MaxInt64/3 {
			top = max(p, 3*prev)
		}
		lo, hi = min(p, limit), min(top, limit)
	default:
		lo, hi = b, b
	}
	return max(lo, hint), max(hi, hint)
}

// jittered reports whether the scenario's policy has a jitter.
func jittered(sc sim.Scenario) bool { return sc.Policy().Jitter != backoff.NoJitter }

// property checks one statement on a call; it returns an error saying
// what does not hold, or nil.
type property func(c *call) error

// properties are all of them, by name, for the exhaustive check.
var properties = map[string]property{
	"deadline": propDeadline, "attemptTimeout": propAttemptTimeout, "pause": propPause,
	"maxTries": propMaxTries, "stops": propStops, "result": propResult, "cancel": propCancel,
	"determinism": propDeterminism, "oracle": propOracle,
	"pauseBounds": propPauseBounds, "growth": propGrowth, "hint": propHint,
}

// checkProperty runs p on drawn scenarios, under every order of their
// ties (sim.Explore), up to maxOrders of them: a scenario with n ties has
// up to 2^n orders (TestExhaustive checks all of them in its scope). On
// failure it saves the scenario (the shrunk one is the last saved) and
// prints how to replay it.
func checkProperty(t *testing.T, p property) {
	const maxOrders = 64
	rapid.Check(t, func(rt *rapid.T) {
		sc := proptest.Scenario().Draw(rt, "scenario")
		orders := 0
		err := sim.Explore(sc, func(v sim.Scenario, res *sim.Result) bool {
			orders++
			if res.Runaway {
				rt.Fatalf("a runaway: only a call with no limit can retry forever, and Mend gives each one\nreproduce: %s", proptest.Save(t.Name(), v))
			}
			if err := p(newCall(v, res)); err != nil {
				rt.Fatalf("%v\nreproduce: %s\ntrace:\n%s", err, proptest.Save(t.Name(), v), sim.Encode(v, res.Steps))
			}
			return orders < maxOrders
		})
		if err != nil {
			rt.Fatalf("a drawn scenario is refused: %v", err)
		}
	})
}

// 1. Elapsed <= Deadline: the call never ends after it (unless a
// cooperative attempt returns late), and no attempt starts at or after it.
func TestProp_deadline(t *testing.T) { checkProperty(t, propDeadline) }

var propDeadline property = func(c *call) error {
	dl := c.sc.Deadline.D()
	if dl == 0 {
		return nil
	}
	for _, r := range c.runs {
		if r.start >= dl {
			return fmt.Errorf("attempt %d starts at %v, at or after the deadline %v", r.k, r.start, dl)
		}
	}
	if end := c.last.Event.At; end > dl && !(len(c.runs) > 0 && c.runs[len(c.runs)-1].late) {
		return fmt.Errorf("the call ends at %v, after the deadline %v", end, dl)
	}
	return nil
}

// 2. Each attempt runs at most AttemptTimeout (unless a cooperative
// attempt returns late), and its context is done at
// D_k = min(S_k + AttemptTimeout, Deadline), by the deadline at a tie.
func TestProp_attemptTimeout(t *testing.T) { checkProperty(t, propAttemptTimeout) }

var propAttemptTimeout property = func(c *call) error {
	at, dl := c.sc.AttemptTimeout.D(), c.sc.Deadline.D()
	for _, r := range c.runs {
		want, by := time.Duration(-1), error(nil)
		if at > 0 {
			want, by = r.start+at, backoff.ErrAttemptTimeout
		}
		if dl > 0 && (want < 0 || dl <= want) {
			want, by = dl, backoff.ErrDeadline // a tie is the deadline's
		}
		if r.cut != by || want >= 0 && r.until != want {
			return fmt.Errorf("attempt %d (from %v) is cut at %v by %v; want D_k = %v by %v", r.k, r.start, r.until, r.cut, want, by)
		}
		if at > 0 && r.end-r.start > at && !r.late {
			return fmt.Errorf("attempt %d runs %v, longer than AttemptTimeout %v", r.k, r.end-r.start, at)
		}
	}
	return nil
}

// 3. The next attempt starts exactly when the pause announced after the
// previous one ends (at once after a zero pause), and nothing follows
// the last attempt; with no growth, jitter, cap below Pause or delay
// hint, every pause is Pause.
func TestProp_pause(t *testing.T) { checkProperty(t, propPause) }

var propPause property = func(c *call) error {
	for i := 1; i < len(c.runs); i++ {
		before, r := c.runs[i-1], c.runs[i]
		want := before.end
		if before.then.Kind == backoff.ActionPause {
			want = before.then.Until
		}
		if r.start != want {
			return fmt.Errorf("attempt %d starts at %v; the pause after attempt %d (ended at %v) ends at %v", r.k, r.start, before.k, before.end, want)
		}
	}
	constant := c.sc.Growth <= 1 && !jittered(c.sc) && (c.sc.MaxPause == 0 || c.sc.MaxPause >= c.sc.Pause)
	for _, p := range c.pauses {
		if constant && p.hint == 0 && p.d != c.sc.Pause.D() {
			return fmt.Errorf("the pause after attempt %d is %v; Pause is %v", p.k, p.d, c.sc.Pause)
		}
	}
	if n := len(c.runs); n > 0 {
		r := c.runs[n-1]
		inPause := r.then.Kind == backoff.ActionPause && c.last.Event.At <= r.then.Until
		if end := c.last.Event.At; end != r.end && !(end > r.end && inPause && c.cancelled(end)) {
			return fmt.Errorf("the call ends at %v; its last attempt at %v (and no cancel during a pause)", end, r.end)
		}
	}
	return nil
}

// cancelled reports whether the caller's cancel is due by t.
func (c *call) cancelled(t time.Duration) bool {
	return c.sc.CancelAt != nil && c.sc.CancelAt.D() <= t
}

// 4. Attempts <= MaxTries.
func TestProp_maxTries(t *testing.T) { checkProperty(t, propMaxTries) }

var propMaxTries property = func(c *call) error {
	if m := c.sc.MaxTries; m > 0 && len(c.runs) > m {
		return fmt.Errorf("%d attempts; MaxTries is %d", len(c.runs), m)
	}
	return nil
}

// 5. A non-retryable error or a give-up ends the call at that attempt;
// GiveUp is never asked on the last permitted try.
func TestProp_stops(t *testing.T) { checkProperty(t, propStops) }

var propStops property = func(c *call) error {
	for i, r := range c.runs {
		e := r.end_
		if e.Kind != backoff.EventEnded || e.Cause != nil || r.cut != nil && e.At >= r.until {
			continue // cut: its error only echoes the cut
		}
		var want error
		switch {
		case errors.Is(e.Err, sim.ErrPermanent):
			want = backoff.ErrNotRetryable
		case errors.Is(e.Err, sim.ErrGiveUp) && c.sc.MaxTries > 0 && r.k >= c.sc.MaxTries:
			want = backoff.ErrMaxTries // the last permitted try: GiveUp is not asked
		case errors.Is(e.Err, sim.ErrGiveUp):
			want = backoff.ErrGaveUp
		default:
			continue
		}
		if i != len(c.runs)-1 || c.err == nil || c.err.Reason != want || c.last.Event.At != r.end {
			return fmt.Errorf("attempt %d returned %v at %v; the call must end then with %v, but returned %v at %v", r.k, e.Err, r.end, want, c.res.Err, c.last.Event.At)
		}
	}
	return nil
}

// 6. The returned Error's Reason, Last and Attempts agree with the
// steps; a success returns at once, with its value.
func TestProp_result(t *testing.T) { checkProperty(t, propResult) }

var propResult property = func(c *call) error {
	if c.res.Err == nil {
		r := c.runs[len(c.runs)-1]
		if r.end_.Kind != backoff.EventEnded || r.end_.Err != nil || c.last.Event.At != r.end || c.res.Value != r.k {
			return fmt.Errorf("a success with value %d at %v; its last attempt %d ended with %v at %v", c.res.Value, c.last.Event.At, r.k, r.end_.Err, r.end)
		}
		return nil
	}
	var last error
	for _, r := range c.runs {
		switch e := r.end_; {
		case e.Cause != nil && e.Kind != backoff.EventFired || e.Kind == backoff.EventCanceled:
		case r.cut != nil && e.At >= r.until: // cut by its limit
			if r.cut == backoff.ErrAttemptTimeout {
				last = backoff.ErrAttemptTimeout
			}
		default:
			last = e.Err
		}
	}
	if c.err.Attempts != len(c.runs) || c.err.Last != last || c.err.Elapsed != c.last.Event.At {
		return fmt.Errorf("Error{Attempts: %d, Last: %v, Elapsed: %v}; the steps show %d attempts, last failure %v, end at %v",
			c.err.Attempts, c.err.Last, c.err.Elapsed, len(c.runs), last, c.last.Event.At)
	}
	return nil
}

// 7. The caller's cancel ends the call at that instant during a pause or
// an abandonable attempt, and as soon as a cooperative attempt returns.
// (Where the cancel ties another event, the oracle checks either order.)
func TestProp_cancel(t *testing.T) { checkProperty(t, propCancel) }

var propCancel property = func(c *call) error {
	if c.sc.CancelAt == nil || len(c.res.Ties) > 0 || c.sc.CallerDeadline > 0 && c.sc.CallerDeadline < *c.sc.CancelAt {
		return nil // no cancel, or the caller's deadline ends its context first
	}
	at := c.sc.CancelAt.D()
	end := c.last.Event.At
	if end < at {
		return nil // over before the cancel
	}
	want := at
	for _, r := range c.runs {
		if r.start < at && r.end > at && !c.sc.Abandon {
			want = r.end // a cooperative attempt is running: when it returns
		}
	}
	if end != want || c.res.Err != nil && c.err.Reason != sim.ErrCanceled {
		return fmt.Errorf("cancelled at %v, the call ends at %v with %v; want the end at %v with the cancel's cause", at, end, c.res.Err, want)
	}
	return nil
}

// 13. The caller's deadline is kept like the policy's (rule 9): no pause
// that would reach it is taken, no attempt starts at or after it, and the
// call does not end after it unless an attempt running then returns late.
func TestProp_callerDeadline(t *testing.T) { checkProperty(t, propCallerDeadline) }

var propCallerDeadline property = func(c *call) error {
	dl := c.sc.CallerDeadline.D()
	if dl == 0 {
		return nil
	}
	for _, p := range c.pauses {
		if p.d > 0 && p.end+p.d >= dl {
			return fmt.Errorf("attempt %d failed at %v and the call paused %v, until %v, at or after the caller's deadline %v", p.k, p.end, p.d, p.end+p.d, dl)
		}
	}
	for _, r := range c.runs {
		if r.start >= dl {
			return fmt.Errorf("attempt %d starts at %v, at or after the caller's deadline %v", r.k, r.start, dl)
		}
	}
	if end := c.last.Event.At; end > dl && !(len(c.runs) > 0 && c.runs[len(c.runs)-1].end > dl) {
		return fmt.Errorf("the call ends at %v, after the caller's deadline %v, and no attempt ran past it", end, dl)
	}
	return nil
}

// 8. Determinism: the same scenario gives the same trace, byte for byte.
func TestProp_determinism(t *testing.T) { checkProperty(t, propDeterminism) }

var propDeterminism property = func(c *call) error {
	again, err := sim.Run(c.sc)
	if err != nil {
		return err
	}
	if a, b := sim.Encode(c.sc, c.res.Steps), sim.Encode(c.sc, again.Steps); !bytes.Equal(a, b) {
		return fmt.Errorf("two runs, two traces:\n%s\n%s", a, b)
	}
	return nil
}

// The step-by-step oracle: every rule of README's "The rules" at every
// step.
func TestProp_oracle(t *testing.T) { checkProperty(t, propOracle) }

var propOracle property = func(c *call) error { return sim.Check(c.sc, c.res) }

// 10. Every pause keeps its bounds (see pauseRange): exactly b without
// jitter, within [0, b] with full jitter, [b - b/2, b] with equal,
// [Pause, max(Pause, 3 × the previous pause)] capped with decorrelated;
// no pause is longer than MaxPause unless a delay hint asked for it; and
// a call that ends at a failure with ErrDeadline rather than pause (rule
// 5) would have reached the deadline even with the longest pause allowed.
func TestProp_pauseBounds(t *testing.T) { checkProperty(t, propPauseBounds) }

var propPauseBounds property = func(c *call) error {
	var prev time.Duration
	for _, p := range c.pauses {
		lo, hi := pauseRange(c.sc.Policy(), p.k, prev, p.hint)
		if p.d < lo || p.d > hi {
			return fmt.Errorf("the pause after attempt %d is %v; want it within [%v, %v] (pause %v, growth %v, max_pause %v, jitter %q, previous pause %v, delay hint %v)",
				p.k, p.d, lo, hi, c.sc.Pause, c.sc.Growth, c.sc.MaxPause, c.sc.Jitter, prev, p.hint)
		}
		if m := c.sc.MaxPause.D(); m > 0 && p.d > m && p.d != p.hint {
			return fmt.Errorf("the pause after attempt %d is %v, longer than MaxPause %v, and no delay hint asked for it", p.k, p.d, m)
		}
		prev = p.d
	}
	if p := c.rule5; p != nil {
		dl := c.sc.Deadline.D()
		if _, hi := pauseRange(c.sc.Policy(), p.k, prev, p.hint); p.end+hi < dl {
			return fmt.Errorf("attempt %d failed at %v and the call ended with ErrDeadline, but its pause, at most %v, would end at %v, before the deadline %v",
				p.k, p.end, hi, p.end+hi, dl)
		}
	}
	return nil
}

// 11. Without jitter, pauses grow: a pause with no delay hint is no
// shorter than an earlier one with none, and with Growth above 1 it is
// longer, unless the earlier one was at MaxPause already.
func TestProp_growth(t *testing.T) { checkProperty(t, propGrowth) }

var propGrowth property = func(c *call) error {
	if jittered(c.sc) {
		return nil
	}
	var before *pause
	for i, p := range c.pauses {
		if p.hint > 0 {
			continue
		}
		if before != nil {
			capped := c.sc.MaxPause > 0 && before.d >= c.sc.MaxPause.D()
			if p.d < before.d || c.sc.Growth > 1 && c.sc.Pause > 0 && !capped && p.d <= before.d {
				return fmt.Errorf("the pause after attempt %d is %v, after attempt %d %v: with growth %v (max_pause %v) they must grow",
					before.k, before.d, p.k, p.d, c.sc.Growth, c.sc.MaxPause)
			}
		}
		before = &c.pauses[i]
	}
	return nil
}

// 12. A delay hint is honoured: the pause after a failure whose error
// carries one is at least that long, past MaxPause if need be; and where
// that pause would reach the deadline, the call ends there at once with
// ErrDeadline instead (rule 5).
func TestProp_hint(t *testing.T) { checkProperty(t, propHint) }

var propHint property = func(c *call) error {
	dl := c.sc.Deadline.D()
	for _, p := range c.pauses {
		if p.d < p.hint {
			return fmt.Errorf("the pause after attempt %d is %v, shorter than the delay hint %v of its error", p.k, p.d, p.hint)
		}
		if dl > 0 && p.end+p.hint >= dl {
			return fmt.Errorf("attempt %d failed at %v asking for a pause of %v, which reaches the deadline %v, yet the call goes on (%s)",
				p.k, p.end, p.hint, dl, p.announce.Kind)
		}
	}
	return nil
}
