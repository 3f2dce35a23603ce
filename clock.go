package backoff

import (
	"time"

	"github.com/jonboulle/clockwork"
)

// A Clock tells time and arms timers for a [Policy]. Every instant the
// library measures (the start of a call, each attempt's deadline, each
// pause, the elapsed time in an [Error]) is read from the policy's Clock.
//
// The interface is the subset of [clockwork.Clock] the library needs, so
// clockwork.NewRealClock() and clockwork.NewFakeClockAt(t) assign to
// [Policy.Clock] as they are. A nil Clock means the system clock, which also
// runs in virtual time inside a testing/synctest bubble.
//
// With a fake clock, an attempt's context is cancelled from a timer armed
// with AfterFunc, so it becomes done only after the fake clock is advanced
// past the attempt's deadline and that callback has run.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a timer that sends on its channel once d has passed.
	NewTimer(d time.Duration) clockwork.Timer
	// AfterFunc calls f in its own goroutine once d has passed, unless
	// the returned timer is stopped first.
	AfterFunc(d time.Duration, f func()) clockwork.Timer
}

// systemClock is the Clock a nil Policy.Clock stands for: package time.
// Its zero size keeps the conversion to Clock free of allocation.
type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

func (systemClock) NewTimer(d time.Duration) clockwork.Timer {
	return systemTimer{time.NewTimer(d)}
}

func (systemClock) AfterFunc(d time.Duration, f func()) clockwork.Timer {
	return systemTimer{time.AfterFunc(d, f)}
}

// systemTimer adapts *time.Timer to clockwork.Timer. It holds one pointer,
// so storing it in an interface does not allocate.
type systemTimer struct{ *time.Timer }

func (t systemTimer) Chan() <-chan time.Time { return t.C }
