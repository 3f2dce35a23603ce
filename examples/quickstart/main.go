// Quickstart shows the rules of a backoff.Policy at work on one call: it
// prints a timeline of the call, one line per step, with the time since
// the call began.
//
// The call runs in virtual time, on a fake clock that the operation moves
// on as it "works" and that an Observer moves over each pause, so it ends
// at once and prints the same every time. In production, leave
// Policy.Clock and Policy.Observer nil.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

func main() {
	run(os.Stdout)
}

var errBusy = errors.New("server busy")

// A step is what the server does on one attempt: it answers err after d,
// unless the attempt's time is up first.
type step struct {
	d   time.Duration
	err error
}

// hang is a server that does not answer.
const hang = time.Hour

// run makes one call of backoff.Do and writes its timeline to w.
func run(w io.Writer) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, time.January, 1, 9, 0, 0, 0, time.UTC))
	p := backoff.Policy{
		AttemptTimeout: 200 * time.Millisecond,
		Deadline:       800 * time.Millisecond,
		Pause:          100 * time.Millisecond,
		MaxTries:       5,
		RetryIf:        backoff.On(errBusy),
		Clock:          clock,
		Observer:       &timeline{w: w, clock: clock},
	}
	script := []step{
		{hang, nil},
		{50 * time.Millisecond, errBusy},
		{150 * time.Millisecond, errBusy},
		{hang, nil},
		{10 * time.Millisecond, nil},
	}
	fmt.Fprintf(w, "Policy: attempt timeout %v, pause %v, deadline %v, max tries %d, retry %q.\n",
		p.AttemptTimeout, p.Pause, p.Deadline, p.MaxTries, errBusy)
	fmt.Fprintf(w, "The server hangs on attempts 1 and 4, and says %q after 50ms and 150ms on attempts 2 and 3.\n\n", errBusy)

	start := clock.Now()
	attempt := 0
	v, err := backoff.Do(context.Background(), p, func(ctx context.Context) (string, error) {
		s := script[attempt]
		attempt++
		return work(ctx, clock, s.d, "hello", s.err)
	})
	at := clock.Since(start)
	if err != nil {
		fmt.Fprintf(w, "%5v  Do returns the error %q\n", at, err)
		fmt.Fprintf(w, "       errors.Is(err, backoff.ErrDeadline): %t, errors.Is(err, errBusy): %t\n",
			errors.Is(err, backoff.ErrDeadline), errors.Is(err, errBusy))
		return
	}
	fmt.Fprintf(w, "%5v  Do returns %q\n", at, v)
}

// work stands for a remote call that takes d on the fake clock and then
// returns v, or err if it is not nil: it moves the clock on by d. If the
// context's deadline comes first, it stops there, as a call that heeds its
// context does, and returns the context's error.
func work[T any](ctx context.Context, clock *clockwork.FakeClock, d time.Duration, v T, err error) (T, error) {
	var zero T
	if end, ok := ctx.Deadline(); ok && !clock.Now().Add(d).Before(end) {
		clock.Advance(end.Sub(clock.Now()))
		<-ctx.Done() // the attempt's timer has fired: its context is done soon
		return zero, ctx.Err()
	}
	clock.Advance(d)
	if err != nil {
		return zero, err
	}
	return v, nil
}

// timeline is the Observer that prints the steps of the call. Do tells it
// each event (an attempt ended, a pause is over) with the action the
// policy answered, once the action is under way and before Do waits.
type timeline struct {
	w     io.Writer
	clock *clockwork.FakeClock
	last  backoff.Action // the latest Start
}

func (t *timeline) Begin(context.Context, backoff.Call) backoff.CallObserver { return t }

func (t *timeline) Observe(e backoff.Event, a backoff.Action) {
	if e.Kind == backoff.EventEnded || e.Kind == backoff.EventCanceled {
		outcome, cutByDeadline := t.outcome(e)
		fmt.Fprintf(t.w, "%5v  %s%s\n", e.At, outcome, then(a, cutByDeadline))
	}
	switch a.Kind {
	case backoff.ActionStart:
		t.last = a
		fmt.Fprintf(t.w, "%5v  attempt %d starts%s\n", e.At, a.Attempt, cut(a))
	case backoff.ActionPause:
		// Skip the pause: its timer is armed, and Advance fires it.
		t.clock.Advance(a.Until - e.At)
	}
}

// outcome says how the attempt that e reports ended, and whether the
// deadline cut it off.
func (t *timeline) outcome(e backoff.Event) (string, bool) {
	n := t.last.Attempt
	switch {
	case e.Kind == backoff.EventCanceled:
		return fmt.Sprintf("the caller's context is done during attempt %d", n), false
	case e.Err == nil:
		return fmt.Sprintf("attempt %d succeeds", n), false
	case t.last.Cut == nil || e.At < t.last.Until:
		return fmt.Sprintf("attempt %d fails: %v", n, e.Err), false
	case t.last.Cut == backoff.ErrDeadline:
		return fmt.Sprintf("attempt %d is cut off by the deadline", n), true
	}
	return fmt.Sprintf("attempt %d times out", n), false
}

// cut says when the attempt a starts is cut off, and by what.
func cut(a backoff.Action) string {
	switch a.Cut {
	case nil:
		return ""
	case backoff.ErrDeadline:
		return fmt.Sprintf(" (cut off at %v: deadline)", a.Until)
	}
	return fmt.Sprintf(" (cut off at %v: attempt timeout)", a.Until)
}

// then says what the policy decided after an attempt ended.
func then(a backoff.Action, cutByDeadline bool) string {
	switch a.Kind {
	case backoff.ActionPause:
		return fmt.Sprintf("; pause until %v", a.Until)
	case backoff.ActionStart:
		return "; retry at once"
	case backoff.ActionFinish:
		var e *backoff.Error
		if !errors.As(a.Err, &e) {
			return ""
		}
		switch e.Reason {
		case backoff.ErrMaxTries:
			return "; that was the last try"
		case backoff.ErrNotRetryable:
			return "; not retried"
		case backoff.ErrGaveUp:
			return "; GiveUp says stop"
		case backoff.ErrBudgetExhausted:
			return "; the retry budget refuses a retry"
		case backoff.ErrDeadline:
			if cutByDeadline {
				return "; the call ends"
			}
			return "; a pause would reach the deadline, so the call ends now"
		}
	}
	return ""
}
