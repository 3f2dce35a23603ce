package backoff_test

// Tests of the executor (Do) on a clockwork fake clock, step by step.
//
// A backofftest.Driver runs each call and moves the clock: it fires a
// timer (fire: Driver.Pause or Driver.Cut) only once the executor has
// armed it, and Driver.Wait waits for the end. The harness around it
// checks every step the executor reports, exactly (expect), and drives a
// cooperative operation (fcOp: the test says when each attempt returns,
// and what). Time may also pass while an attempt or a pause is under way
// (elapse), by less than what is left, so that nothing fires. No test
// relies on BlockUntilContext counts, except as the negative leak check at
// the end ("no timer left").
//
// Nothing here can hang: every wait of the test (a step, an operation's
// start, a reply taken, the end of the call) fails the test after
// fcTimeout on the real clock, with the steps seen so far, and so do the
// Driver's own waits. An executor that never returns from an attempt (an
// Abandon that does not abandon, say) fails a test within seconds.
//
// With a fake clock an attempt's context is cancelled by the clock's
// AfterFunc, whose callback runs in a goroutine of its own after Advance has
// returned: the operations below wait on ctx.Done(), never poll.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backofftest"
)

// fcTimeout bounds every wait of the tests on the real clock.
const fcTimeout = 5 * time.Second

var (
	errFCBoom  = errors.New("fc: boom")
	errFCFlaky = errors.New("fc: flaky")
	errFCStop  = errors.New("fc: stopped by the caller")
)

// fcStep is one call of the Observer: an event and the action it led to.
type fcStep struct {
	e backoff.Event
	a backoff.Action
}

// fcObserver hands every step of a call to the test, in order.
type fcObserver chan fcStep

func (o fcObserver) Begin(context.Context, backoff.Call) backoff.CallObserver { return o }

func (o fcObserver) Observe(e backoff.Event, a backoff.Action) { o <- fcStep{e, a} }

// fcHarness is one call of Do on a fake clock, driven step by step.
type fcHarness struct {
	t     *testing.T
	d     *backofftest.Driver
	t0    time.Time // the call's start: the clock is not advanced before Do reads it
	steps fcObserver
	seen  []fcStep        // the steps taken from steps so far
	gs    map[string]bool // goroutines that existed before the call
}

func newFCHarness(t *testing.T) *fcHarness {
	t.Helper()
	d := backofftest.NewDriver(t)
	ids := map[string]bool{}
	for _, g := range fcGoroutines() {
		ids[g.id] = true
	}
	return &fcHarness{t: t, d: d, t0: d.Clock().Now(), steps: make(fcObserver, 64), gs: ids}
}

// fcRecv receives from ch, or fails the test after fcTimeout, saying what
// it waited for and the steps seen so far.
func fcRecv[T any](h *fcHarness, ch <-chan T, what string) T {
	h.t.Helper()
	timeout := time.NewTimer(fcTimeout)
	defer timeout.Stop()
	select {
	case v := <-ch:
		return v
	case <-timeout.C:
		h.t.Fatalf("no sign of %s after %v; the clock at %v since the call began; the steps seen:%s", what, fcTimeout, h.now(), h.seenString())
		panic("unreachable")
	}
}

// fcSend sends v on ch, or fails the test as fcRecv does.
func fcSend[T any](h *fcHarness, ch chan<- T, v T, what string) {
	h.t.Helper()
	timeout := time.NewTimer(fcTimeout)
	defer timeout.Stop()
	select {
	case ch <- v:
	case <-timeout.C:
		h.t.Fatalf("no sign of %s after %v; the clock at %v since the call began; the steps seen:%s", what, fcTimeout, h.now(), h.seenString())
	}
}

func (h *fcHarness) seenString() string {
	var b strings.Builder
	for _, s := range h.seen {
		fmt.Fprintf(&b, "\n\t%s -> %s", fcEventString(s.e), fcActionString(s.a))
	}
	if len(h.seen) == 0 {
		b.WriteString(" none")
	}
	return b.String()
}

// fcResult is what a call of Do returned, once it has.
type fcResult[T any] struct {
	v   T
	err error
}

// fcStart calls Do in a goroutine of the Driver's, on its clock, with the
// harness's observer. The Driver is told each step before the harness is,
// so that it knows every step the test has seen.
func fcStart[T any](h *fcHarness, ctx context.Context, p backoff.Policy, fn func(context.Context) (T, error)) *fcResult[T] {
	p.Clock, p.Observer = h.d.Clock(), backoff.MultiObserver(h.d, h.steps)
	r := new(fcResult[T])
	h.d.Go(func() { r.v, r.err = backoff.Do(ctx, p, fn) })
	return r
}

// now is the time since the call began, on the fake clock.
func (h *fcHarness) now() time.Duration { return h.d.Clock().Since(h.t0) }

// expect waits for the next step and checks it: the event's Kind, Attempt,
// At and Cause (and its Err with errors.Is when want.Err is set), and the
// action's Kind, Attempt, Until and Cut.
func (h *fcHarness) expect(we backoff.Event, wa backoff.Action) fcStep {
	h.t.Helper()
	s := fcRecv(h, h.steps, "the step "+fcEventString(we)+" -> "+fcActionString(wa))
	h.seen = append(h.seen, s)
	e, a := s.e, s.a
	if e.Kind != we.Kind || e.Attempt != we.Attempt || e.At != we.At || e.Cause != we.Cause ||
		(we.Err != nil && !errors.Is(e.Err, we.Err)) {
		h.t.Fatalf("event %s, want %s", fcEventString(e), fcEventString(we))
	}
	if a.Kind != wa.Kind || a.Attempt != wa.Attempt || a.Until != wa.Until || a.Cut != wa.Cut {
		h.t.Fatalf("after %s: action %s, want %s", fcEventString(e), fcActionString(a), fcActionString(wa))
	}
	return s
}

// fire advances the clock to s.a.Until, the instant of the timer that step
// s says is armed, through the Driver: Pause for a pause, Cut for an
// attempt with a time limit.
func (h *fcHarness) fire(s fcStep) {
	h.t.Helper()
	var got backofftest.State
	switch {
	case s.a.Kind == backoff.ActionPause:
		got = h.d.Pause()
	case s.a.Kind == backoff.ActionStart && s.a.Cut != nil:
		got = h.d.Cut()
	default:
		h.t.Fatalf("fire: step %s arms no timer", fcActionString(s.a))
	}
	if got.Attempt != s.a.Attempt || got.Until != s.a.Until || h.now() != s.a.Until {
		h.t.Fatalf("fire: the Driver took %v, and the clock is at %v; want the step %s", got, h.now(), fcActionString(s.a))
	}
}

// elapse lets d pass while step s (a running attempt or a pause) is under
// way, without reaching its Until: nothing fires.
func (h *fcHarness) elapse(s fcStep, d time.Duration) {
	h.t.Helper()
	if s.a.Kind != backoff.ActionStart && s.a.Kind != backoff.ActionPause {
		h.t.Fatalf("elapse: step %s is not under way", fcActionString(s.a))
	}
	if (s.a.Kind == backoff.ActionPause || s.a.Cut != nil) && d >= s.a.Until-h.now() {
		h.t.Fatalf("elapse: %v would reach %v (now %v)", d, s.a.Until, h.now())
	}
	h.d.Clock().Advance(d)
}

// fcFinished waits until Do has returned, which must follow the Finish
// step s at once (Do returns right after observing it, without the clock
// moving), and checks that the error is the one the step carried.
func fcFinished[T any](h *fcHarness, s fcStep, r *fcResult[T]) (T, error) {
	h.t.Helper()
	if s.a.Kind != backoff.ActionFinish {
		h.t.Fatalf("finished: step %s is not Finish", fcActionString(s.a))
	}
	if end := h.d.Wait(); end.At != s.e.At {
		h.t.Errorf("the Driver saw the call end %v; the Finish step came at %v", end, s.e.At)
	}
	if r.err != s.a.Err {
		h.t.Errorf("Do returned %v; the Finish step said %v", r.err, s.a.Err)
	}
	if n := len(h.steps); n != 0 {
		h.t.Errorf("%d steps observed after Finish, first %+v", n, <-h.steps)
	}
	return r.v, r.err
}

// checkNoLeaks checks, once Do has returned and every operation of the test
// has returned, that no timer is left on the fake clock and no goroutine of
// the library (started since the harness was made) is still alive.
func (h *fcHarness) checkNoLeaks() {
	h.t.Helper()
	// Negative check: no timer may be armed, so this must time out.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := h.d.Clock().BlockUntilContext(ctx, 1); err == nil {
		h.t.Errorf("a fake-clock timer is still armed after Do returned")
	}
	// Goroutines that end asynchronously (an AfterFunc callback, an
	// abandoned attempt released by the test) get a bounded number of
	// yields to finish; a leaked one never does.
	var left []fcGoroutine
	for range 10000 {
		left = left[:0]
		for _, g := range fcGoroutines() {
			if !h.gs[g.id] && bytes.Contains(g.stack, []byte("github.com/timebound/backoff.")) {
				left = append(left, g)
			}
		}
		if len(left) == 0 {
			return
		}
		runtime.Gosched()
	}
	for _, g := range left {
		h.t.Errorf("goroutine of the library left after Do returned:\n%s", g.stack)
	}
}

type fcGoroutine struct {
	id    string
	stack []byte
}

// fcGoroutines lists the live goroutines, with their stacks.
func fcGoroutines() []fcGoroutine {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var gs []fcGoroutine
	for _, b := range bytes.Split(buf, []byte("\n\n")) {
		// "goroutine 12 [chan receive]:\n..."
		rest, ok := bytes.CutPrefix(b, []byte("goroutine "))
		if !ok {
			continue
		}
		id, _, _ := bytes.Cut(rest, []byte(" "))
		gs = append(gs, fcGoroutine{string(id), b})
	}
	return gs
}

func fcEventString(e backoff.Event) string {
	kind := map[backoff.EventKind]string{backoff.EventBegan: "Began", backoff.EventEnded: "Ended", backoff.EventFired: "Fired", backoff.EventCanceled: "Canceled"}[e.Kind]
	if kind == "" {
		kind = "EventKind(" + strconv.Itoa(int(e.Kind)) + ")"
	}
	return fmt.Sprintf("{%s attempt=%d at=%v err=%v cause=%v}", kind, e.Attempt, e.At, e.Err, e.Cause)
}

func fcActionString(a backoff.Action) string {
	kind := map[backoff.ActionKind]string{backoff.ActionWait: "Wait", backoff.ActionStart: "Start", backoff.ActionPause: "Pause", backoff.ActionFinish: "Finish"}[a.Kind]
	if kind == "" {
		kind = "ActionKind(" + strconv.Itoa(int(a.Kind)) + ")"
	}
	return fmt.Sprintf("{%s attempt=%d until=%v cut=%v err=%v}", kind, a.Attempt, a.Until, a.Cut, a.Err)
}

// fcWantError checks that err is an *backoff.Error with exactly these
// fields (Reason and Last compared by identity), reachable by errors.Is.
func fcWantError(t *testing.T, err error, reason, last error, attempts int, elapsed time.Duration) {
	t.Helper()
	be, ok := err.(*backoff.Error)
	if !ok {
		t.Fatalf("err = %v (%T), want *backoff.Error", err, err)
	}
	if be.Reason != reason || be.Last != last || be.Attempts != attempts || be.Elapsed != elapsed {
		t.Errorf("Error{Reason: %v, Last: %v, Attempts: %d, Elapsed: %v}, want {%v, %v, %d, %v}",
			be.Reason, be.Last, be.Attempts, be.Elapsed, reason, last, attempts, elapsed)
	}
	if !errors.Is(err, reason) {
		t.Errorf("errors.Is(err, %v) is false", reason)
	}
	if last != nil && !errors.Is(err, last) {
		t.Errorf("errors.Is(err, %v) is false", last)
	}
}

// fcView is what one attempt saw of its context.
type fcView struct {
	deadline    time.Time
	hasDeadline bool
	errAtStart  error // ctx.Err() when fn was called
	cut         bool  // ctx became done while fn waited
	errAtCut    error // ctx.Err() then
	causeAtCut  error // context.Cause(ctx) then
}

// fcOp is a cooperative operation the test drives: each attempt returns
// the error the test sends (reply), or, when its context is done first, an
// error that wraps the context's cause. Its value is the time since the call
// began at which it returned. It runs on Do's goroutine; the test reads
// calls and views only after Do has returned.
type fcOp struct {
	h       *fcHarness
	replies chan error
	entered chan int // each attempt's number, once it has looked at its ctx
	calls   int
	views   []fcView
}

func newFCOp(h *fcHarness) *fcOp {
	return &fcOp{h: h, replies: make(chan error), entered: make(chan int, 16)}
}

func (o *fcOp) fn(ctx context.Context) (time.Duration, error) {
	o.calls++
	var v fcView
	v.deadline, v.hasDeadline = ctx.Deadline()
	v.errAtStart = ctx.Err()
	o.entered <- o.calls
	defer func() { o.views = append(o.views, v) }()
	select {
	case err := <-o.replies:
		return o.h.now(), err
	case <-ctx.Done():
		v.cut, v.errAtCut, v.causeAtCut = true, ctx.Err(), context.Cause(ctx)
		return o.h.now(), fmt.Errorf("fcOp: attempt cut short: %w", v.causeAtCut)
	}
}

// enter waits until attempt k (the running one) has looked at its context: only
// then may the test cut it and still expect it to have seen ctx.Err() == nil
// (the Start step tells that the attempt's timer is armed, not that fn has
// begun).
func (o *fcOp) enter(k int) {
	o.h.t.Helper()
	for fcRecv(o.h, o.entered, fmt.Sprintf("attempt %d calling fn", k)) != k {
	}
}

// reply makes the running attempt return err (waits until it receives it).
func (o *fcOp) reply(err error) {
	o.h.t.Helper()
	fcSend(o.h, o.replies, err, fmt.Sprintf("the running attempt taking the reply %v", err))
}

// wantView checks attempt k's (from 1) view of its context: a deadline of
// t0+until, not done when called, and, if cut, done with
// DeadlineExceeded (== and errors.Is) and the cause cut.
func (o *fcOp) wantView(k int, until time.Duration, cut error) {
	t := o.h.t
	t.Helper()
	if k > len(o.views) {
		t.Fatalf("attempt %d: not run (%d views)", k, len(o.views))
	}
	v := o.views[k-1]
	if want := o.h.t0.Add(until); !v.hasDeadline || !v.deadline.Equal(want) {
		t.Errorf("attempt %d: ctx.Deadline() = %v, %v; want %v, true", k, v.deadline, v.hasDeadline, want)
	}
	if v.errAtStart != nil {
		t.Errorf("attempt %d: ctx.Err() = %v when fn was called, want nil", k, v.errAtStart)
	}
	if cut == nil {
		if v.cut {
			t.Errorf("attempt %d: ctx done (%v, cause %v), want not cut", k, v.errAtCut, v.causeAtCut)
		}
		return
	}
	if !v.cut {
		t.Errorf("attempt %d: returned before its ctx was done, want cut by %v", k, cut)
		return
	}
	if v.errAtCut != context.DeadlineExceeded || !errors.Is(v.errAtCut, context.DeadlineExceeded) {
		t.Errorf("attempt %d: after the cut ctx.Err() = %v, want context.DeadlineExceeded", k, v.errAtCut)
	}
	if v.causeAtCut != cut {
		t.Errorf("attempt %d: after the cut context.Cause(ctx) = %v, want %v", k, v.causeAtCut, cut)
	}
}

// Rules 1, 6, 7, 12: two retryable failures, two exact pauses, then a
// success; the value and the elapsed time are exact.
func TestFakeClock_pausesThenSuccess(t *testing.T) {
	const ms = time.Millisecond
	h := newFCHarness(t)
	op := newFCOp(h)
	done := fcStart(h, context.Background(), backoff.Policy{
		AttemptTimeout: 10 * time.Second,
		Pause:          time.Second,
		MaxTries:       5,
		RetryIf:        backoff.On(errFCBoom),
	}, op.fn)

	s := h.expect(backoff.Event{Kind: backoff.EventBegan},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 10 * time.Second, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, 300*ms)
	op.reply(errFCBoom)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 300 * ms, Err: errFCBoom},
		backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 1300 * ms})
	h.fire(s)
	s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 2, At: 1300 * ms},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 11300 * ms, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, 200*ms)
	op.reply(errFCBoom)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: 1500 * ms, Err: errFCBoom},
		backoff.Action{Kind: backoff.ActionPause, Attempt: 3, Until: 2500 * ms})
	h.fire(s)
	s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 3, At: 2500 * ms},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 3, Until: 12500 * ms, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, 100*ms)
	op.reply(nil)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 3, At: 2600 * ms},
		backoff.Action{Kind: backoff.ActionFinish})
	v, err := fcFinished(h, s, done)

	if err != nil || v != 2600*ms {
		t.Errorf("Do = %v, %v; want 2.6s (the clock when the success returned), nil", v, err)
	}
	if got := h.now(); got != 2600*ms {
		t.Errorf("clock after Do: %v since the start, want 2.6s", got)
	}
	if op.calls != 3 {
		t.Errorf("fn called %d times, want 3", op.calls)
	}
	op.wantView(1, 10*time.Second, nil)
	op.wantView(2, 11300*ms, nil)
	op.wantView(3, 12500*ms, nil)
	h.checkNoLeaks()
}

// Rules 2, 6, 8, 12: every attempt runs into its timeout (cooperative: fn
// returns once its context is cut); attempt timeouts are retried although
// RetryIf is nil; the third one ends the call with ErrMaxTries.
func TestFakeClock_attemptTimeoutThenMaxTries(t *testing.T) {
	const ms = time.Millisecond
	for _, pause := range []time.Duration{500 * ms, 0} {
		t.Run("pause="+pause.String(), func(t *testing.T) {
			h := newFCHarness(t)
			op := newFCOp(h)
			done := fcStart(h, context.Background(), backoff.Policy{
				AttemptTimeout: 2 * time.Second,
				Pause:          pause,
				MaxTries:       3,
			}, op.fn)

			var at time.Duration
			ev := backoff.Event{Kind: backoff.EventBegan}
			var untils []time.Duration
			for k := 1; k <= 3; k++ {
				s := h.expect(ev, backoff.Action{Kind: backoff.ActionStart, Attempt: k, Until: at + 2*time.Second, Cut: backoff.ErrAttemptTimeout})
				untils = append(untils, s.a.Until)
				op.enter(k) // fn has seen its ctx not yet done
				h.fire(s)
				at += 2 * time.Second
				ev = backoff.Event{Kind: backoff.EventEnded, Attempt: k, At: at, Err: backoff.ErrAttemptTimeout}
				if k < 3 && pause > 0 {
					// Rule 6: exactly Pause between the end and the next start.
					s = h.expect(ev, backoff.Action{Kind: backoff.ActionPause, Attempt: k + 1, Until: at + pause})
					h.fire(s)
					at += pause
					ev = backoff.Event{Kind: backoff.EventFired, Attempt: k + 1, At: at}
				}
				// With a zero pause the next Start follows the Ended event
				// directly: no timer, no Pause step (rule 6).
			}
			s := h.expect(ev, backoff.Action{Kind: backoff.ActionFinish})
			_, err := fcFinished(h, s, done)

			want := 6*time.Second + 2*pause
			fcWantError(t, err, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 3, want)
			if got := h.now(); got != want {
				t.Errorf("clock after Do: %v since the start, want %v", got, want)
			}
			if op.calls != 3 {
				t.Errorf("fn called %d times, want 3", op.calls)
			}
			for k, u := range untils {
				op.wantView(k+1, u, backoff.ErrAttemptTimeout)
			}
			h.checkNoLeaks()
		})
	}
}

// Rules 4 and 12: the deadline cuts the second attempt, before its own
// timeout; the call ends with ErrDeadline and Last is the failure of the
// attempt before it, not what the cut attempt returned.
func TestFakeClock_deadlineCutsAttempt(t *testing.T) {
	const ms = time.Millisecond
	h := newFCHarness(t)
	op := newFCOp(h)
	done := fcStart(h, context.Background(), backoff.Policy{
		AttemptTimeout: 3 * time.Second,
		Deadline:       5 * time.Second,
		Pause:          time.Second,
		RetryIf:        backoff.On(errFCBoom),
	}, op.fn)

	s := h.expect(backoff.Event{Kind: backoff.EventBegan},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 3 * time.Second, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, 1500*ms)
	op.reply(errFCBoom)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 1500 * ms, Err: errFCBoom},
		backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 2500 * ms})
	h.fire(s)
	// min(2.5s+3s, 5s): the deadline ends attempt 2.
	s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 2, At: 2500 * ms},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 5 * time.Second, Cut: backoff.ErrDeadline})
	op.enter(2) // fn has seen its ctx not yet done
	h.fire(s)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: 5 * time.Second, Err: backoff.ErrDeadline},
		backoff.Action{Kind: backoff.ActionFinish})
	_, err := fcFinished(h, s, done)

	fcWantError(t, err, backoff.ErrDeadline, errFCBoom, 2, 5*time.Second)
	if op.calls != 2 {
		t.Errorf("fn called %d times, want 2", op.calls)
	}
	op.wantView(1, 3*time.Second, nil)
	op.wantView(2, 5*time.Second, backoff.ErrDeadline)
	h.checkNoLeaks()
}

// Rule 5: when the pause after a failure would end at or after the
// deadline, Do returns at once with ErrDeadline, without the clock being
// advanced; a pause that ends 1ns before the deadline is slept.
func TestFakeClock_noSleepIntoDeadline(t *testing.T) {
	const ms = time.Millisecond
	for _, c := range []struct {
		name   string
		d1, d2 time.Duration // how long attempts 1 and 2 run
	}{
		{"pause ends after the deadline", 1500 * ms, 200 * ms},
		{"pause ends at the deadline", 500 * ms, 500 * ms},
		{"pause ends 1ns before the deadline", 500 * ms, 500*ms - 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			const deadline, pause = 3 * time.Second, time.Second
			h := newFCHarness(t)
			op := newFCOp(h)
			done := fcStart(h, context.Background(), backoff.Policy{
				Deadline: deadline,
				Pause:    pause,
				RetryIf:  backoff.AnyError,
			}, op.fn)

			s := h.expect(backoff.Event{Kind: backoff.EventBegan},
				backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: deadline, Cut: backoff.ErrDeadline})
			h.elapse(s, c.d1)
			op.reply(errFCBoom)
			e1 := c.d1
			s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: e1, Err: errFCBoom},
				backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: e1 + pause})
			h.fire(s)
			s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 2, At: e1 + pause},
				backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: deadline, Cut: backoff.ErrDeadline})
			h.elapse(s, c.d2)
			op.reply(errFCFlaky)
			e2 := e1 + pause + c.d2
			ended := backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: e2, Err: errFCFlaky}

			if e2+pause < deadline {
				// The pause fits: it is slept, then the deadline cuts attempt 3.
				s = h.expect(ended, backoff.Action{Kind: backoff.ActionPause, Attempt: 3, Until: e2 + pause})
				h.fire(s)
				s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 3, At: e2 + pause},
					backoff.Action{Kind: backoff.ActionStart, Attempt: 3, Until: deadline, Cut: backoff.ErrDeadline})
				op.enter(3) // fn has seen its ctx not yet done
				h.fire(s)
				s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 3, At: deadline, Err: backoff.ErrDeadline},
					backoff.Action{Kind: backoff.ActionFinish})
				_, err := fcFinished(h, s, done)
				fcWantError(t, err, backoff.ErrDeadline, errFCFlaky, 3, deadline)
				if op.calls != 3 {
					t.Errorf("fn called %d times, want 3", op.calls)
				}
				op.wantView(3, deadline, backoff.ErrDeadline)
			} else {
				// No pointless sleep: Finish at once, the clock untouched.
				s = h.expect(ended, backoff.Action{Kind: backoff.ActionFinish})
				_, err := fcFinished(h, s, done)
				fcWantError(t, err, backoff.ErrDeadline, errFCFlaky, 2, e2)
				if got := h.now(); got != e2 {
					t.Errorf("clock after Do: %v since the start, want %v", got, e2)
				}
				if op.calls != 2 {
					t.Errorf("fn called %d times, want 2", op.calls)
				}
			}
			op.wantView(1, deadline, nil)
			op.wantView(2, deadline, nil)
			h.checkNoLeaks()
		})
	}
}

// Rule 9: the caller's context cancelled during a pause ends the call at
// once, with its cause as the Reason and the last failure kept.
func TestFakeClock_cancelDuringPause(t *testing.T) {
	const ms = time.Millisecond
	h := newFCHarness(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	op := newFCOp(h)
	done := fcStart(h, ctx, backoff.Policy{
		AttemptTimeout: time.Second,
		Pause:          10 * time.Second,
		RetryIf:        backoff.AnyError,
	}, op.fn)

	s := h.expect(backoff.Event{Kind: backoff.EventBegan},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: time.Second, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, 400*ms)
	op.reply(errFCBoom)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 400 * ms, Err: errFCBoom},
		backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 10400 * ms})
	h.elapse(s, 3*time.Second)
	cancel(errFCStop)
	s = h.expect(backoff.Event{Kind: backoff.EventCanceled, At: 3400 * ms, Cause: errFCStop},
		backoff.Action{Kind: backoff.ActionFinish})
	_, err := fcFinished(h, s, done)

	fcWantError(t, err, errFCStop, errFCBoom, 1, 3400*ms)
	if got := h.now(); got != 3400*ms {
		t.Errorf("clock after Do: %v since the start, want 3.4s", got)
	}
	if op.calls != 1 {
		t.Errorf("fn called %d times, want 1", op.calls)
	}
	h.checkNoLeaks()
}

// Rule 9, cooperative: the caller's context cancelled during an attempt
// cancels the attempt's context (with the same cause); the call ends when
// fn returns, with the cause as the Reason and the previous failure kept.
func TestFakeClock_cancelDuringAttempt(t *testing.T) {
	const ms = time.Millisecond
	h := newFCHarness(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	op := newFCOp(h)
	done := fcStart(h, ctx, backoff.Policy{
		AttemptTimeout: 5 * time.Second,
		Pause:          time.Second,
		RetryIf:        backoff.AnyError,
	}, op.fn)

	s := h.expect(backoff.Event{Kind: backoff.EventBegan},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 5 * time.Second, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, time.Second)
	op.reply(errFCBoom)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: time.Second, Err: errFCBoom},
		backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 2 * time.Second})
	h.fire(s)
	s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 2, At: 2 * time.Second},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 7 * time.Second, Cut: backoff.ErrAttemptTimeout})
	h.elapse(s, 1500*ms)
	cancel(errFCStop)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: 3500 * ms, Cause: errFCStop},
		backoff.Action{Kind: backoff.ActionFinish})
	_, err := fcFinished(h, s, done)

	fcWantError(t, err, errFCStop, errFCBoom, 2, 3500*ms)
	if op.calls != 2 {
		t.Errorf("fn called %d times, want 2", op.calls)
	}
	v := op.views[1]
	if !v.cut || v.errAtCut != context.Canceled || v.causeAtCut != errFCStop {
		t.Errorf("attempt 2 saw cut=%v ctx.Err()=%v cause=%v; want true, context.Canceled, %v",
			v.cut, v.errAtCut, v.causeAtCut, errFCStop)
	}
	h.checkNoLeaks()
}

// Rule 9: a context done before the call means fn is never called.
func TestFakeClock_cancelledBeforeStart(t *testing.T) {
	h := newFCHarness(t)
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errFCStop)
	op := newFCOp(h)
	done := fcStart(h, ctx, backoff.Policy{AttemptTimeout: time.Second, MaxTries: 3, RetryIf: backoff.AnyError}, op.fn)

	s := h.expect(backoff.Event{Kind: backoff.EventBegan, Cause: errFCStop}, backoff.Action{Kind: backoff.ActionFinish})
	_, err := fcFinished(h, s, done)

	fcWantError(t, err, errFCStop, nil, 0, 0)
	if op.calls != 0 {
		t.Errorf("fn called %d times, want 0", op.calls)
	}
	h.checkNoLeaks()
}

// Rule 12 (and the tie of rule 4): inside fn, ctx.Deadline() is the
// attempt's end on the fake clock; once cut, ctx.Err() is
// DeadlineExceeded and context.Cause(ctx) says which limit cut it.
func TestFakeClock_attemptContext(t *testing.T) {
	const ms = time.Millisecond
	t.Run("timeout then deadline", func(t *testing.T) {
		h := newFCHarness(t)
		op := newFCOp(h)
		done := fcStart(h, context.Background(), backoff.Policy{
			AttemptTimeout: 2 * time.Second,
			Deadline:       3 * time.Second,
			Pause:          500 * ms,
		}, op.fn)

		s := h.expect(backoff.Event{Kind: backoff.EventBegan},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 2 * time.Second, Cut: backoff.ErrAttemptTimeout})
		op.enter(1) // fn has seen its ctx not yet done
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 2 * time.Second, Err: backoff.ErrAttemptTimeout},
			backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 2500 * ms})
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 2, At: 2500 * ms},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 3 * time.Second, Cut: backoff.ErrDeadline})
		op.enter(2) // fn has seen its ctx not yet done
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: 3 * time.Second, Err: backoff.ErrDeadline},
			backoff.Action{Kind: backoff.ActionFinish})
		_, err := fcFinished(h, s, done)

		fcWantError(t, err, backoff.ErrDeadline, backoff.ErrAttemptTimeout, 2, 3*time.Second)
		op.wantView(1, 2*time.Second, backoff.ErrAttemptTimeout)
		op.wantView(2, 3*time.Second, backoff.ErrDeadline)
		h.checkNoLeaks()
	})
	t.Run("deadline ties the attempt timeout", func(t *testing.T) {
		h := newFCHarness(t)
		op := newFCOp(h)
		done := fcStart(h, context.Background(), backoff.Policy{
			AttemptTimeout: 2 * time.Second,
			Deadline:       2 * time.Second,
			RetryIf:        backoff.AnyError,
		}, op.fn)

		s := h.expect(backoff.Event{Kind: backoff.EventBegan},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 2 * time.Second, Cut: backoff.ErrDeadline})
		op.enter(1) // fn has seen its ctx not yet done
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 2 * time.Second, Err: backoff.ErrDeadline},
			backoff.Action{Kind: backoff.ActionFinish})
		_, err := fcFinished(h, s, done)

		fcWantError(t, err, backoff.ErrDeadline, nil, 1, 2*time.Second)
		op.wantView(1, 2*time.Second, backoff.ErrDeadline)
		h.checkNoLeaks()
	})
}

// Rule 3: a success that arrives once the attempt's context is cut is
// still a success.
func TestFakeClock_successAtCut(t *testing.T) {
	h := newFCHarness(t)
	calls := 0
	done := fcStart(h, context.Background(), backoff.Policy{
		AttemptTimeout: time.Second,
		MaxTries:       3,
		RetryIf:        backoff.AnyError,
	}, func(ctx context.Context) (string, error) {
		calls++
		<-ctx.Done()
		return "late", nil
	})

	s := h.expect(backoff.Event{Kind: backoff.EventBegan},
		backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: time.Second, Cut: backoff.ErrAttemptTimeout})
	h.fire(s)
	s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: time.Second}, backoff.Action{Kind: backoff.ActionFinish})
	v, err := fcFinished(h, s, done)
	if v != "late" || err != nil || s.e.Err != nil {
		t.Errorf("Do = %q, %v (event err %v); want \"late\", nil", v, err, s.e.Err)
	}
	if calls != 1 {
		t.Errorf("fn called %d times, want 1", calls)
	}
	h.checkNoLeaks()
}

// fcStubborn is an operation that ignores its context: every attempt
// blocks until the test releases them all, then fails. The tests wrap it
// in backoff.Abandon, which runs it in goroutines of its own.
type fcStubborn struct {
	entered chan struct{} // one value per attempt, as it starts
	block   chan struct{}
	release func()
}

func newFCStubborn() *fcStubborn {
	o := &fcStubborn{entered: make(chan struct{}, 16), block: make(chan struct{})}
	o.release = sync.OnceFunc(func() { close(o.block) })
	return o
}

func (o *fcStubborn) fn(ctx context.Context) (int, error) {
	o.entered <- struct{}{}
	<-o.block
	return 1, errors.New("fc: late result, to be discarded")
}

// finish releases the abandoned attempts once Do has returned, checks that
// fn was called exactly n times (each attempt's goroutine does start,
// perhaps after Do returned), and checks for leaks once they are gone.
func (o *fcStubborn) finish(h *fcHarness, n int) {
	h.t.Helper()
	for k := range n {
		fcRecv(h, o.entered, fmt.Sprintf("attempt %d calling fn", k+1))
	}
	o.release()
	h.checkNoLeaks()
	if k := len(o.entered); k != 0 {
		h.t.Errorf("fn called %d times, want %d", n+k, n)
	}
}

// Rule 3 with backoff.Abandon (and rule 9): an operation that ignores its
// context is abandoned when the attempt's time is up or the caller's
// context is done; the adapter returns the context's error then, and Do
// returns after the Advance (or the cancel) although fn never returns.
func TestFakeClock_abandon(t *testing.T) {
	const ms = time.Millisecond
	t.Run("timeouts then max tries", func(t *testing.T) {
		h := newFCHarness(t)
		op := newFCStubborn()
		defer op.release()
		done := fcStart(h, context.Background(), backoff.Policy{
			AttemptTimeout: time.Second,
			Pause:          500 * ms,
			MaxTries:       2,
		}, backoff.Abandon(op.fn))

		s := h.expect(backoff.Event{Kind: backoff.EventBegan},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: time.Second, Cut: backoff.ErrAttemptTimeout})
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: time.Second, Err: context.DeadlineExceeded},
			backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 1500 * ms})
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventFired, Attempt: 2, At: 1500 * ms},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 2500 * ms, Cut: backoff.ErrAttemptTimeout})
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: 2500 * ms, Err: context.DeadlineExceeded},
			backoff.Action{Kind: backoff.ActionFinish})
		_, err := fcFinished(h, s, done)

		fcWantError(t, err, backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 2, 2500*ms)
		op.finish(h, 2)
	})
	t.Run("timeout then deadline, zero pause", func(t *testing.T) {
		h := newFCHarness(t)
		op := newFCStubborn()
		defer op.release()
		done := fcStart(h, context.Background(), backoff.Policy{
			AttemptTimeout: 2 * time.Second,
			Deadline:       3 * time.Second,
		}, backoff.Abandon(op.fn))

		s := h.expect(backoff.Event{Kind: backoff.EventBegan},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 1, Until: 2 * time.Second, Cut: backoff.ErrAttemptTimeout})
		h.fire(s)
		// Attempt 1 is abandoned, still running, while attempt 2 runs.
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 2 * time.Second, Err: context.DeadlineExceeded},
			backoff.Action{Kind: backoff.ActionStart, Attempt: 2, Until: 3 * time.Second, Cut: backoff.ErrDeadline})
		h.fire(s)
		s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 2, At: 3 * time.Second, Err: context.DeadlineExceeded},
			backoff.Action{Kind: backoff.ActionFinish})
		_, err := fcFinished(h, s, done)

		fcWantError(t, err, backoff.ErrDeadline, backoff.ErrAttemptTimeout, 2, 3*time.Second)
		op.finish(h, 2)
	})
	for _, timeout := range []time.Duration{5 * time.Second, 0} {
		t.Run("caller cancels, attempt timeout "+timeout.String(), func(t *testing.T) {
			h := newFCHarness(t)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			op := newFCStubborn()
			defer op.release()
			done := fcStart(h, ctx, backoff.Policy{
				AttemptTimeout: timeout,
				MaxTries:       3,
				RetryIf:        backoff.AnyError,
			}, backoff.Abandon(op.fn))

			want := backoff.Action{Kind: backoff.ActionStart, Attempt: 1}
			if timeout > 0 {
				want.Until, want.Cut = timeout, backoff.ErrAttemptTimeout
			}
			s := h.expect(backoff.Event{Kind: backoff.EventBegan}, want)
			h.elapse(s, 2*time.Second)
			cancel(errFCStop)
			s = h.expect(backoff.Event{Kind: backoff.EventEnded, Attempt: 1, At: 2 * time.Second, Cause: errFCStop, Err: context.Canceled},
				backoff.Action{Kind: backoff.ActionFinish})
			_, err := fcFinished(h, s, done)

			fcWantError(t, err, errFCStop, nil, 1, 2*time.Second)
			op.finish(h, 1)
		})
	}
}
