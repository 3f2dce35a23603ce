package backoff

import "time"

// A stopwatch tells the time of one call on the policy's clock: how long
// since the call began, as every Event.At and Error.Elapsed measure it,
// and the instant on that clock that such a time stands for (an attempt's
// deadline, the start a Budget is told). A clock read costs more than the
// rest of a call that succeeds at once, so it reads as little as it can:
//
//   - On the system clock, a call that needs no instant, only durations
//     (one with no time limit and no Budget), keeps its start as a reading
//     of the monotonic clock alone, time.Since(origin): about half the
//     cost of time.Now, which reads the wall clock too.
//   - On the system clock, a call whose first attempt has a time limit
//     does not read its start at all: the attempt's context reads the
//     clock anyway (context.WithTimeout), and the start is its deadline
//     less the limit (see attemptContext). Until then it is not begun.
//
// The zero stopwatch runs on the system clock and is not begun.
type stopwatch struct {
	clk   Clock         // nil: the system clock
	t0    time.Time     // the start; on the system clock, only if the call needs instants
	mono  time.Duration // on the system clock: the start, as time.Since(origin)
	begun bool
}

// origin is an instant of the system clock, read once, from which a
// stopwatch measures the start of a call on the monotonic clock alone.
var origin = time.Now()

// start reads the start of the call from the clock; on the system clock,
// from the monotonic clock alone unless the call needs instants.
func (w *stopwatch) start(instants bool) {
	switch {
	case w.clk != nil:
		w.t0 = w.clk.Now()
	case instants:
		w.startAt(time.Now())
	default:
		w.mono = time.Since(origin)
	}
	w.begun = true
}

// startAt sets the start of the call to t, an instant of the clock.
func (w *stopwatch) startAt(t time.Time) {
	if w.clk == nil {
		w.mono = t.Sub(origin) // both have monotonic readings
	}
	w.t0, w.begun = t, true
}

// since returns the time since the call began.
func (w *stopwatch) since() time.Duration {
	if w.clk == nil {
		return time.Since(origin) - w.mono
	}
	return w.clk.Now().Sub(w.t0)
}

// at returns the instant of the clock d after the call began. The call
// must have been started with instants.
func (w *stopwatch) at(d time.Duration) time.Time { return w.t0.Add(d) }

// until returns the time since the call began at which the instant t of
// the clock falls (negative if before).
func (w *stopwatch) until(t time.Time) time.Duration {
	if w.clk == nil {
		return t.Sub(origin) - w.mono
	}
	return t.Sub(w.t0)
}
