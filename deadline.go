package backoff

import (
	"context"
	"errors"
	"time"
)

// WithDeadline returns a copy of parent that is done at d on the clock clk
// (nil: the system clock), with cause as its context.Cause (nil:
// context.DeadlineExceeded), or when parent is done. Its Deadline is d, or
// parent's if that is earlier, and its Err is context.DeadlineExceeded
// once d has come. It is the context each attempt of Do gets, and what a
// driver of an Execution needs for its attempts on the policy's clock.
//
// On the system clock it is context.WithDeadlineCause. On another clock a
// timer of that clock cancels it: with a clockwork fake clock, in a
// goroutine of its own once Advance has reached d, so the context is done
// shortly after Advance returns. (Unlike clockwork's own WithDeadline, its
// Err does not block.) Contexts derived from it report Canceled then,
// with the same cause. Call cancel when the work is done, as for any
// context, to release its timer.
func WithDeadline(parent context.Context, clk Clock, d time.Time, cause error) (context.Context, context.CancelFunc) {
	if cause == nil {
		cause = context.DeadlineExceeded
	}
	if clk == nil {
		return context.WithDeadlineCause(parent, d, cause)
	}
	inner, cancel := context.WithCancelCause(parent)
	c := &clockContext{Context: inner, deadline: d, cause: cause}
	t := clk.AfterFunc(d.Sub(clk.Now()), func() { cancel(cause) })
	return c, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// clockContext is a context with a deadline on a clock other than the
// system one. It reports the deadline of that clock, and DeadlineExceeded
// once the clock's timer has cancelled it.
type clockContext struct {
	context.Context           // cancelled by the clock's timer, with cause
	deadline        time.Time // when the timer fires
	cause           error
}

func (c *clockContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *clockContext) Err() error {
	err := c.Context.Err()
	if cause := context.Cause(c.Context); err == context.Canceled && (cause == c.cause || errors.Is(cause, context.DeadlineExceeded)) {
		// Cut by its own timer, or by the deadline of the parent (whose
		// cancellation reaches it with the parent's cause).
		return context.DeadlineExceeded
	}
	return err
}
