package backofftest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
)

// A Driver runs a test's calls of backoff.Do on a clockwork fake clock,
// and moves the clock for them. It knows where the call is, step by step:
// attempt k running (until its time limit cuts it), pausing until a time,
// or finished. A test waits for the call to pause and moves the clock to
// the end of the pause ([Driver.Pause]), or waits for an attempt that hangs
// and moves the clock to the instant its time limit cuts it
// ([Driver.Cut]), and then waits for the end ([Driver.Wait]); it never
// counts timers or guesses when a timer is armed.
//
// The Driver learns each step as the Observer of the call's policy (see
// [Driver.Policy]), which backoff.Do tells right after it has armed what
// the step needs (the attempt's time limit, the pause's timer) and before
// it blocks: the clock moves only then, so no timer is missed.
//
// Every wait has a time limit of its own, 5 seconds on the real clock, and
// fails the test with what the call was doing and what it did so far: a
// test that goes wrong fails at once or in seconds, and never hangs. A wait
// that cannot be met (a pause the call did not make, a call that finished
// already) fails at once.
//
// A Driver follows one call at a time: a call that begins while another is
// unfinished fails the test. Calls one after another are fine; the times of
// a [State] are measured from the start of its own call. The clock moves
// only when the test moves it: the attempts must take no time on it,
// failing or succeeding at once, or waiting for their context to be done
// (a [Hang] step).
//
// Its methods are meant for the test's goroutine, except that the call
// it follows runs in another one ([Driver.Go]). Following a call costs a
// lock and a few words of memory per step. The zero Driver is not usable:
// make one with [NewDriver].
type Driver struct {
	t       testing.TB
	clock   *clockwork.FakeClock
	timeout time.Duration // how long a wait may take, on the real clock

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when anything below changes
	states  []State       // the steps of the call followed, in order
	taken   int           // the states before this index are consumed by waits
	begun   bool          // a call has begun: states are its own
	busy    bool          // that call has not finished
	t0      time.Time     // when it began, on the clock
	tries   int           // the attempts it started
	gos     int           // functions that Go started and that have not returned
	started bool          // Go was called
}

// NewDriver returns a Driver on a new fake clock set to 1 January 2026,
// 00:00 UTC. When the test ends, a call left unfinished, or a function of
// [Driver.Go] that has not returned, fails it (unless it failed already).
func NewDriver(t testing.TB) *Driver {
	d := &Driver{
		t:       t,
		clock:   clockwork.NewFakeClockAt(time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)),
		timeout: 5 * time.Second,
		changed: make(chan struct{}),
	}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if (d.busy || d.gos > 0) && !t.Failed() {
			t.Errorf("backofftest: the test ended before the call did (call the Driver's Wait)\n%s", d.describe())
		}
	})
	return d
}

// Clock returns the Driver's fake clock. Move it by hand only while no
// call is under way: the Driver's waits move it for the calls.
func (d *Driver) Clock() *clockwork.FakeClock { return d.clock }

// Policy returns p on the Driver's clock, with the Driver added to its
// Observer (after p's own, if any: see backoff.MultiObserver).
func (d *Driver) Policy(p backoff.Policy) backoff.Policy {
	p.Clock = d.clock
	if p.Observer == nil {
		p.Observer = d
	} else {
		p.Observer = backoff.MultiObserver(p.Observer, d)
	}
	return p
}

// Begin makes the Driver a backoff.Observer, for code that takes the
// Observer and the Clock apart: the Driver follows the call c from now on.
func (d *Driver) Begin(_ context.Context, c backoff.Call) backoff.CallObserver {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy {
		d.t.Errorf("backofftest: call %d began while another one is unfinished: a Driver follows one call at a time\n%s", c.ID, d.describe())
		return nil
	}
	d.states, d.taken, d.begun, d.busy, d.t0, d.tries = nil, 0, true, true, d.clock.Now(), 0
	d.signal()
	return (*follower)(d)
}

// follower is the CallObserver of the call a Driver follows.
type follower Driver

func (f *follower) Observe(e backoff.Event, a backoff.Action) {
	d := (*Driver)(f)
	d.mu.Lock()
	defer d.mu.Unlock()
	s := State{At: e.At, Attempt: a.Attempt, Until: a.Until}
	switch a.Kind {
	case backoff.ActionStart:
		s.Phase, s.Cut = Running, a.Cut
		d.tries = max(d.tries, a.Attempt)
	case backoff.ActionPause:
		s.Phase, s.Err = Pausing, e.Err
	case backoff.ActionFinish:
		s.Phase, s.Attempt, s.Until, s.Err = Finished, d.tries, 0, a.Err
		d.busy = false
	default:
		return // ActionWait: nothing new (Do never reports one)
	}
	d.states = append(d.states, s)
	d.signal()
}

// signal tells the waits that something changed. d.mu must be held.
func (d *Driver) signal() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// Go calls f in a goroutine of its own: f is the code under test, which
// makes the call. [Driver.Wait] waits for it to return.
func (d *Driver) Go(f func()) {
	d.mu.Lock()
	d.gos++
	d.started = true
	d.mu.Unlock()
	go func() {
		defer func() {
			d.mu.Lock()
			d.gos--
			d.signal()
			d.mu.Unlock()
		}()
		f()
	}()
}

// Pause waits until the call pauses after a failed attempt, moves the
// clock to the end of the pause, and returns the pause: its At is when the
// attempt failed, its Until when the next attempt starts.
//
// The attempts before the pause must end by themselves; if the call
// finishes instead, or the pause is over before Pause moves the clock,
// the test fails.
func (d *Driver) Pause() State {
	d.t.Helper()
	s := d.await("Pause", "a pause", func(fresh []State) (int, string) {
		for i, s := range fresh {
			last := i == len(fresh)-1
			switch {
			case s.Phase == Running && last:
				return -1, "" // the attempt may still end by itself
			case s.Phase == Pausing && last:
				return d.taken + i, ""
			case s.Phase == Pausing:
				return -1, fmt.Sprintf("the call moved on from its pause by itself, to: %v", fresh[i+1])
			case s.Phase == Finished:
				return -1, d.over("the call finished without a pause")
			}
		}
		return -1, d.idle()
	})
	d.advanceTo("Pause", s.Until)
	return s
}

// Cut waits until an attempt with a time limit is running, moves the
// clock to the instant its limit cuts it, and returns the attempt: its At
// is when it started, its Until when it is cut, and its Cut which limit
// cuts it (backoff.ErrAttemptTimeout or backoff.ErrDeadline).
//
// It is for an attempt that waits for its context to be done (a [Hang]
// step): if the call pauses or finishes first, or the attempt has no time
// limit, or it ended by itself, the test fails.
func (d *Driver) Cut() State {
	d.t.Helper()
	s := d.await("Cut", "an attempt to cut", func(fresh []State) (int, string) {
		for i, s := range fresh {
			switch {
			case s.Phase == Running && s.Cut == nil:
				return -1, fmt.Sprintf("attempt %d has no time limit: nothing cuts it", s.Attempt)
			case s.Phase == Running && i == len(fresh)-1:
				return d.taken + i, ""
			case s.Phase == Running:
				return -1, fmt.Sprintf("attempt %d ended by itself (next: %v); Cut is for an attempt that waits for its context", s.Attempt, fresh[i+1])
			case s.Phase == Pausing:
				return -1, "the call paused (Pause moves the clock over a pause)"
			case s.Phase == Finished:
				return -1, d.over("the call finished")
			}
		}
		return -1, d.idle()
	})
	d.advanceTo("Cut", s.Until)
	return s
}

// Wait waits until the call has finished and every function [Driver.Go]
// started has returned, and returns the call's last state: its At is when
// it finished, its Attempt how many attempts it made, its Err what Do
// returned. If the call pauses and the test does not move the clock, it
// cannot finish: the test fails at once.
func (d *Driver) Wait() State {
	d.t.Helper()
	return d.await("Wait", "the end of the call", func(fresh []State) (int, string) {
		if n := len(fresh); n > 0 && fresh[n-1].Phase == Pausing {
			return -1, "the call is pausing and cannot finish unless the clock moves (Pause moves it)"
		}
		n := len(d.states)
		switch {
		case n > 0 && d.states[n-1].Phase == Finished && d.gos == 0:
			return n - 1, ""
		case !d.begun:
			return -1, d.idle()
		}
		return -1, ""
	})
}

// idle says why a wait cannot be met when it has no state to consider,
// or "" if it may be met later. d.mu must be held.
func (d *Driver) idle() string {
	switch {
	case !d.begun && d.started && d.gos == 0:
		return "no call began, and the functions Go started have returned"
	case d.begun && !d.busy:
		return d.over("the call finished")
	}
	return ""
}

// over returns why, the reason a wait fails once the call has finished,
// or "" while a function of Go is running, which may make another call.
// d.mu must be held.
func (d *Driver) over(why string) string {
	if d.gos > 0 {
		return ""
	}
	return why
}

// await waits until decide, asked each time something changes with the
// states no wait has consumed yet, returns the index in d.states of the
// state to take, or a reason to fail; it fails the test after the
// Driver's timeout. decide runs with d.mu held.
func (d *Driver) await(name, want string, decide func(fresh []State) (int, string)) State {
	d.t.Helper()
	timeout := time.NewTimer(d.timeout)
	defer timeout.Stop()
	for {
		s, ok, changed, stop := d.take(decide)
		switch {
		case ok:
			return s
		case stop != "":
			d.t.Fatalf("backofftest: %s: %s", name, stop)
		}
		select {
		case <-changed:
		case <-timeout.C:
			d.mu.Lock()
			what := d.describe()
			if n := len(d.states); n > 0 && d.states[n-1].Phase == Running && d.states[n-1].Cut != nil && name != "Cut" {
				what += "\n(an attempt that waits for its context ends only at its cut: Cut moves the clock there)"
			}
			d.mu.Unlock()
			d.t.Fatalf("backofftest: %s: no sign of %s after %v\n%s", name, want, d.timeout, what)
		}
	}
}

// take asks decide once: it returns the state taken, or the channel
// closed at the next change, or why the wait fails (with what the call did).
func (d *Driver) take(decide func(fresh []State) (int, string)) (s State, ok bool, changed <-chan struct{}, stop string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	i, stop := decide(d.states[d.taken:])
	if i >= 0 {
		d.taken = i + 1
		return d.states[i], true, nil, ""
	}
	if stop != "" {
		stop += "\n" + d.describe()
	}
	return State{}, false, d.changed, stop
}

// advanceTo moves the clock to until, a time since the call began.
func (d *Driver) advanceTo(name string, until time.Duration) {
	d.t.Helper()
	d.mu.Lock()
	now := d.clock.Since(d.t0)
	d.mu.Unlock()
	if until < now {
		d.t.Fatalf("backofftest: %s: the clock is at %v since the call began, past %v (was it moved by hand?)", name, now, until)
	}
	d.clock.Advance(until - now)
}

// describe says what the call is doing and what it did. d.mu must be held.
func (d *Driver) describe() string {
	var b strings.Builder
	switch {
	case !d.begun:
		b.WriteString("the call: not begun (is the Driver the policy's Observer? see Policy)")
	case len(d.states) == 0:
		b.WriteString("the call: begun, no step yet")
	default:
		fmt.Fprintf(&b, "the call: %v; the clock at %v since it began", d.states[len(d.states)-1], d.clock.Since(d.t0))
		b.WriteString("\nits steps:")
		for i, s := range d.states {
			mark := ""
			if i >= d.taken {
				mark = " (no wait took it yet)"
			}
			fmt.Fprintf(&b, "\n\t%v%s", s, mark)
		}
	}
	if d.gos > 0 {
		fmt.Fprintf(&b, "\nfunctions of Go still running: %d", d.gos)
	}
	return b.String()
}

// A State is where a call is: an attempt running, a pause, or the end.
// Its times are measured from the start of the call, on its clock.
type State struct {
	Phase Phase
	// Attempt is the attempt running (Running), the attempt the pause
	// leads to (Pausing), or the number of attempts made (Finished).
	Attempt int
	// At is when the phase began: when the attempt started, when the
	// attempt before the pause failed, or when the call finished.
	At time.Duration
	// Until is when the attempt's time limit cuts it (Running, if Cut is
	// not nil) or when the pause ends (Pausing).
	Until time.Duration
	// Cut is the limit that cuts the attempt at Until (Running):
	// backoff.ErrAttemptTimeout or backoff.ErrDeadline; nil: none.
	Cut error
	// Err is what the attempt before the pause returned (Pausing), or the
	// call's result (Finished): nil on success, else a *backoff.Error.
	Err error
}

// String describes s in words, as a failure message does.
func (s State) String() string {
	switch s.Phase {
	case Running:
		if s.Cut == nil {
			return fmt.Sprintf("attempt %d running since %v, with no time limit", s.Attempt, s.At)
		}
		return fmt.Sprintf("attempt %d running since %v, cut at %v (%v)", s.Attempt, s.At, s.Until, s.Cut)
	case Pausing:
		return fmt.Sprintf("pausing from %v until %v, after a failure (%v), before attempt %d", s.At, s.Until, s.Err, s.Attempt)
	case Finished:
		if s.Err == nil {
			return fmt.Sprintf("finished at %v after %d attempts: success", s.At, s.Attempt)
		}
		return fmt.Sprintf("finished at %v after %d attempts: %v", s.At, s.Attempt, s.Err)
	}
	return "not begun"
}

// A Phase is what a call is doing.
type Phase uint8

// The phases of a call. The zero Phase is that of a call not begun.
const (
	Running  Phase = iota + 1 // an attempt is running
	Pausing                   // waiting for the pause before the next attempt to end
	Finished                  // the call is over
)

var phaseNames = [...]string{"not begun", "running", "pausing", "finished"}

// String returns the phase's name.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", p)
}
