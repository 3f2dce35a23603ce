package backoff

// An Observer is told each step of a call: the event the decision core
// was given and the action it answered with, in order. The executor calls
// it once the action is under way (an attempt's context made, a pause's
// timer armed) and before it blocks, from the goroutine that called Do;
// the simulator in package sim makes the same calls. A trace recorder,
// counters and a test's handshake before advancing a fake clock are all
// Observers.
//
// The event's At is the time the executor read from the policy's clock when
// the event happened; the action's Until is on the same scale, so a pause
// lasts a.Until - e.At.
//
// An Observer shared by concurrent calls must be safe for concurrent use.
// It runs inline, so it should be quick.
type Observer interface {
	Observe(e Event, a Action)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(e Event, a Action)

// Observe calls f(e, a).
func (f ObserverFunc) Observe(e Event, a Action) { f(e, a) }
