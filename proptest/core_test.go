package proptest_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/internal/drive"
	"github.com/timebound/backoff/proptest"
	"pgregory.net/rapid"
)

// coreMachine feeds the pure decision core arbitrary events in arbitrary
// orders: the ones a driver would report (an attempt ends, a timer fires,
// the caller cancels) and stale ones (a result of an attempt that is not
// running, a timer of another tag, anything after the end). A shadow
// Execution gets only the live events; the two must always agree, so a
// stale event is shown to change nothing.
type coreMachine struct {
	p      backoff.Policy
	x      backoff.Execution // gets every event
	shadow backoff.Execution // gets only the live ones
	now    time.Duration
	last   backoff.Action // the last live action
	starts int
	// The latest pause, as the core answered it (for DecorrelatedJitter),
	// and the bounds of the one that the last live event led to, if any.
	prev      time.Duration
	paused    bool
	lo, hi    time.Duration
	saturated bool // a pause ran to the end of time: no more bounds
}

func newCoreMachine(t *rapid.T) *coreMachine {
	p := proptest.Policy().Draw(t, "policy")
	x, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	m := &coreMachine{p: p, x: *x, shadow: *x}
	m.live(t, backoff.Event{Kind: backoff.EventBegan})
	return m
}

// drawnErrs are the errors an attempt returns; one carries a delay hint.
var drawnErrs = []error{proptest.ErrA, proptest.ErrB, errors.New("other"), nil, backoff.RetryAfter(proptest.ErrA, 70*time.Millisecond)}

// live gives both executions a live event and checks they agree.
func (m *coreMachine) live(t *rapid.T, e backoff.Event) {
	from := m.last
	a, b := m.x.Step(e), m.shadow.Step(e)
	if !drive.SameAction(a, b) {
		t.Fatalf("after stale events the core answers %+v, without them %+v", a, b)
	}
	if e.At > m.now {
		m.now = e.At
	}
	if a.Kind == backoff.ActionStart {
		m.starts++
	}
	m.paused = false
	if a.Kind == backoff.ActionPause || a.Kind == backoff.ActionStart && a.Outcome == backoff.OutcomeFailed {
		// The pause after attempt from.Attempt's failure: its bounds.
		hint := time.Duration(0)
		if e.Kind == backoff.EventEnded && e.Cause == nil && !(from.Cut != nil && e.At >= from.Until) {
			hint = hintOf(e.Err)
		}
		m.paused = true
		m.lo, m.hi = pauseRange(m.p, from.Attempt, m.prev, hint)
		m.prev = 0
		if a.Kind == backoff.ActionPause {
			m.prev = a.Until - m.now
			m.saturated = m.saturated || a.Until == math.MaxInt64
		}
	}
	m.last = a
}

func (m *coreMachine) running() bool { return m.last.Kind == backoff.ActionStart }

func (m *coreMachine) End(t *rapid.T) {
	if !m.running() {
		t.Skip("no attempt running")
	}
	d := proptest.Duration(30).Draw(t, "d")
	err := rapid.SampledFrom(drawnErrs).Draw(t, "err")
	m.live(t, backoff.Event{Kind: backoff.EventEnded, At: m.now + d, Attempt: m.last.Attempt, Err: err, Rand: m.rand(t)})
}

// rand is the random number of an event that ends an attempt, when the
// policy has a jitter.
func (m *coreMachine) rand(t *rapid.T) uint64 {
	if m.p.Jitter == backoff.NoJitter {
		return 0
	}
	return rapid.Uint64().Draw(t, "rand")
}

func (m *coreMachine) Fire(t *rapid.T) {
	if m.last.Kind != backoff.ActionPause {
		t.Skip("no pause under way")
	}
	m.live(t, backoff.Event{Kind: backoff.EventFired, At: max(m.now, m.last.Until), Attempt: m.last.Attempt})
}

func (m *coreMachine) Cancel(t *rapid.T) {
	if m.last.Kind == backoff.ActionFinish {
		t.Skip("finished")
	}
	d := proptest.Duration(30).Draw(t, "d")
	if m.running() {
		// A driver learns of the cancel with the attempt's end.
		m.live(t, backoff.Event{Kind: backoff.EventEnded, At: m.now + d, Attempt: m.last.Attempt, Err: errors.New("canceled"), Cause: errCause})
		return
	}
	m.live(t, backoff.Event{Kind: backoff.EventCanceled, At: m.now + d, Cause: errCause})
}

var errCause = errors.New("cause")

// Stale sends the full execution an event that is not live and checks it
// is answered with Wait.
func (m *coreMachine) Stale(t *rapid.T) {
	var e backoff.Event
	k := m.last.Attempt
	switch rapid.IntRange(0, 3).Draw(t, "stale") {
	case 0: // the result of an attempt that is not running
		e = backoff.Event{Kind: backoff.EventEnded, Attempt: k - 1 - rapid.IntRange(0, 2).Draw(t, "back"), Err: proptest.ErrA}
		if m.running() {
			break
		}
		e.Attempt = k
	case 1: // a timer of another tag
		e = backoff.Event{Kind: backoff.EventFired, Attempt: k + 1 + rapid.IntRange(0, 2).Draw(t, "ahead")}
	case 2: // a timer of a running attempt: the attempt ends when it returns
		if !m.running() {
			t.Skip("no attempt running")
		}
		e = backoff.Event{Kind: backoff.EventFired, Attempt: k}
	case 3: // a second Began
		e = backoff.Event{Kind: backoff.EventBegan}
	}
	if m.last.Kind == backoff.ActionFinish {
		e.Cause = errCause // after the end even a cancel is stale
	}
	e.At = m.now
	if a := m.x.Step(e); a.Kind != backoff.ActionWait {
		t.Fatalf("stale %+v (last action %+v) answered with %+v", e, m.last, a)
	}
}

func (m *coreMachine) Idle(t *rapid.T) {}

// Check holds after every step.
func (m *coreMachine) Check(t *rapid.T) {
	a := m.last
	if m.p.MaxTries > 0 && m.starts > m.p.MaxTries {
		t.Fatalf("%d attempts started, MaxTries is %d", m.starts, m.p.MaxTries)
	}
	if m.p.Deadline > 0 {
		if a.Kind == backoff.ActionStart && (m.now >= m.p.Deadline || a.Until > m.p.Deadline) {
			t.Fatalf("attempt %d starts at %v, cut at %v: the deadline is %v", a.Attempt, m.now, a.Until, m.p.Deadline)
		}
		if a.Kind == backoff.ActionPause && a.Until >= m.p.Deadline {
			t.Fatalf("a pause until %v sleeps into the deadline %v", a.Until, m.p.Deadline)
		}
	}
	if d := a.Until - m.now; a.Kind == backoff.ActionPause && !m.saturated && (d < m.lo || d > m.hi) {
		t.Fatalf("a pause from %v until %v, of %v; want it within [%v, %v]", m.now, a.Until, d, m.lo, m.hi)
	}
	if m.paused && a.Kind == backoff.ActionStart && m.lo > 0 {
		t.Fatalf("attempt %d starts at once; the pause must be within [%v, %v]", a.Attempt, m.lo, m.hi)
	}
	if a.Kind == backoff.ActionStart && a.Cut == nil && (m.p.AttemptTimeout > 0 || m.p.Deadline > 0) {
		t.Fatalf("attempt %d has no cut under a time limit", a.Attempt)
	}
	if a.Kind == backoff.ActionFinish && a.Err != nil {
		var e *backoff.Error
		if !errors.As(a.Err, &e) || e.Attempts != m.starts || e.Elapsed != m.now {
			t.Fatalf("finished with %#v after %d starts at %v", a.Err, m.starts, m.now)
		}
	}
}

func TestCore_model(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newCoreMachine(t)
		t.Repeat(rapid.StateMachineActions(m))
	})
}
