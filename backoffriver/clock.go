package backoffriver

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

// systemClock is the Clock a nil Policy.Clock stands for: package time.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) clockwork.Timer { return systemTimer{time.NewTimer(d)} }

func (systemClock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return systemTimer{time.AfterFunc(d, f)}
}

type systemTimer struct{ *time.Timer }

func (t systemTimer) Chan() <-chan time.Time { return t.C }

// attemptContext returns the context of an attempt that cut ends at
// deadline (no cut: no end), as backoff.Do makes one: on the system
// clock (clk nil) with context.WithDeadlineCause; on another clock, a
// timer of that clock cancels it, and its Deadline and Err say what
// WithDeadlineCause's would.
func attemptContext(ctx context.Context, clk backoff.Clock, deadline time.Time, cut error) (context.Context, context.CancelFunc) {
	switch {
	case cut == nil:
		return context.WithCancel(ctx)
	case clk == nil:
		return context.WithDeadlineCause(ctx, deadline, cut)
	}
	inner, cancel := context.WithCancelCause(ctx)
	t := clk.AfterFunc(deadline.Sub(clk.Now()), func() { cancel(cut) })
	return &clockContext{Context: inner, deadline: deadline, cut: cut}, func() {
		t.Stop()
		cancel(context.Canceled)
	}
}

// clockContext is an attempt's context on a clock other than the system
// one: its Deadline is that clock's, and its Err is DeadlineExceeded once
// the clock's timer has cancelled it.
type clockContext struct {
	context.Context
	deadline time.Time
	cut      error
}

func (c *clockContext) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

func (c *clockContext) Err() error {
	err := c.Context.Err()
	if err == context.Canceled && context.Cause(c.Context) == c.cut {
		return context.DeadlineExceeded
	}
	return err
}
