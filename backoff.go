// Package backoff runs an operation under five limits that hold at the same
// time: a timeout per attempt, a deadline for the whole call, a pause
// between attempts, a maximum number of tries, and a choice of which
// errors are retried (plus a give-up predicate). It is a Go rendering of
// Python aiomisc's asyncbackoff.
//
// Start with [Policy] and [Do]:
//
//	p := backoff.Policy{
//		AttemptTimeout: 2 * time.Second,
//		Deadline:       10 * time.Second,
//		Pause:          500 * time.Millisecond,
//		MaxTries:       5,
//		RetryIf:        backoff.On(io.ErrUnexpectedEOF),
//	}
//	body, err := backoff.Do(ctx, p, fetch)
//
// A call that fails returns an [*Error] saying why it stopped (Reason) and
// what failed last (Last); errors.Is and errors.As reach both. An
// operation that may ignore its context can be bounded hard with
// [Abandon]. [Stats], [Logger] and any [Observer] see every step of a call.
//
// # Where the rules live
//
// Every rule is decided in one place, the decision core [Execution]: a
// pure state machine that is told an [Event] (the call began, an attempt
// ended, a pause is over, the caller cancelled) and answers with an
// [Action] (start an attempt, pause until a time, finish). It reads no
// clock, starts no goroutine and draws no random number; read it first.
// Do carries its actions out with the policy's [Clock], timers and
// contexts; package sim carries them out in virtual time, so any run can
// be simulated, traced and replayed; a job queue can carry them out too
// (the example of Execution is a complete driver).
//
// To test your own code, leave the policy's clock nil and run under
// testing/synctest, or give it a clockwork fake clock.
package backoff

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/timebound/backoff/internal/handoff"
)

// Do calls fn until it succeeds or the policy p says to stop, and returns
// fn's value, or the zero T and an [*Error].
//
// Each attempt gets a context derived from ctx that is done when the
// attempt's time is up: its Deadline is that instant on the policy's clock,
// its Err is then context.DeadlineExceeded, and context.Cause of it is
// ErrAttemptTimeout or ErrDeadline. If ctx is done before an attempt, fn is
// not called again; if it is done during a pause, Do returns at once; and
// a pause that would reach ctx's deadline is not taken: Do returns at once
// (the Reason is then context.DeadlineExceeded), as it does for a pause
// that would reach Policy.Deadline.
//
// fn runs on the caller's goroutine, and an attempt ends when fn returns
// (wrap fn with [Abandon] to stop waiting for it when its time is up). A
// panic in fn reaches the caller as a panic with the same value.
//
// An invalid p (see [Policy.Validate]) or a nil fn makes Do return an
// error at once, without calling fn. Do is safe for concurrent use; calls
// share nothing but p.
//
// Cost: on success at the first try, with no time limit, Do adds one
// clock read to the call of fn (for the Elapsed a failure would report)
// and allocates nothing. A failure adds a clock read where a time limit,
// an Observer or a Budget needs to know when it came. An attempt timeout
// or a deadline adds what context.WithTimeout costs, and a pause what a
// timer costs.
func Do[T any](ctx context.Context, p Policy, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if fn == nil {
		return zero, errNilFunc
	}
	if !p.valid() {
		if err := p.Validate(); err != nil {
			return zero, err
		}
	}
	var (
		x   Execution // with no p: its steps are told &p (see Execution.stepTo)
		w   = stopwatch{clk: p.Clock}
		rnd randomness
		obs CallObserver // the steps' observer: nil, without an Observer
	)
	var id uint64 // the call's number, if it needs one
	if p.Observer != nil {
		id = callIDs.Add(1)
		obs = p.Observer.Begin(ctx, Call{ID: id, Policy: p})
	}
	if p.Jitter != NoJitter {
		rnd.init(p.Rand, id)
	}
	// Without a time limit (the policy's or the caller's), an Observer or
	// a Budget, no decision of the core depends on when an attempt ends:
	// only the pauses take time it can see. Then the executor does not
	// read the clock after each failure, and keeps the core's time at the
	// sum of the pauses; it reads the clock once more, for the Elapsed of
	// a failed call.
	deadline, hasDeadline := ctx.Deadline()
	timeless := p.AttemptTimeout == 0 && p.Deadline == 0 && obs == nil && p.Budget == nil && !hasDeadline
	// On the system clock, the context of a first attempt with a time
	// limit reads the start (see stopwatch), unless the Began event needs
	// it first.
	instants := p.AttemptTimeout > 0 || p.Deadline > 0 || p.Budget != nil
	if p.Clock != nil || !instants || p.Budget != nil || hasDeadline {
		w.start(instants)
	}
	var e Event
	e.Kind, e.Cause = EventBegan, causeOf(ctx) // field by field: see below
	if p.Budget != nil {
		e.Start = w.at(0)
	}
	if hasDeadline {
		// A deadline of another clock (a fake clock's call under a real
		// context's deadline, say) that has passed on this one is none.
		e.CallerDeadline = max(w.until(deadline), 0)
	}
	var v T
	var a Action
	for {
		a = Action{}
		x.stepTo(&p, &e, &a) // Step, without copying the event and the action
		switch a.Kind {
		case ActionStart:
			at := e.At
			var err error
			if a.Cut == nil && obs == nil {
				v, err = fn(ctx) // what attempt does then, without its defer
			} else {
				v, err = attempt(ctx, obs, &w, &e, &a, fn)
			}
			// Field by field: a composite literal is built in a temporary
			// and copied, and that copy reads back the temporary's first
			// byte, just written alone (a store-forwarding stall of some
			// nanoseconds, a tenth of a call that succeeds at once).
			e.Kind, e.Attempt, e.Err, e.Cause, e.Start, e.Rand = EventEnded, a.Attempt, err, nil, time.Time{}, 0
			if err != nil || obs != nil {
				// The core ends a call that succeeds whatever the cause,
				// so only an Observer wants it then.
				e.Cause = causeOf(ctx)
			}
			switch {
			case timeless:
				e.At = at
			case e.Err != nil || obs != nil:
				// A success needs no time: the core ends the call whenever
				// it arrives (see Event.At), so only an Observer wants it.
				e.At = w.since()
			}
			e.Rand = rnd.next()
		case ActionPause:
			e = pause(ctx, obs, &w, e, &a, timeless)
		case ActionFinish:
			if obs != nil {
				obs.Observe(e, a)
			}
			if a.Err != nil {
				if timeless {
					a.Err.(*Error).Elapsed = w.since()
				}
				return zero, a.Err
			}
			return v, nil
		default:
			// ActionWait cannot follow an event this executor reports: it
			// reports each attempt's end, the pause's end, or the cancel.
			panic("backoff: internal error: the decision core answered Wait")
		}
	}
}

// Run is Do for an operation that returns only an error.
func Run(ctx context.Context, p Policy, fn func(context.Context) error) error {
	if fn == nil {
		return errNilFunc
	}
	_, err := Do(ctx, p, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, fn(ctx)
	})
	return err
}

// Wrap returns fn retried under p: each call of the result is a call of
// [Do] with its own tries, deadline and last error, as a function
// decorated by aiomisc's asyncbackoff is.
func Wrap[T any](p Policy, fn func(context.Context) (T, error)) func(context.Context) (T, error) {
	return func(ctx context.Context) (T, error) {
		return Do(ctx, p, fn)
	}
}

// randomness supplies Event.Rand for a call whose policy has a Jitter:
// from Policy.Rand, or else from a PCG of its own, seeded with the
// library's seed (read once from crypto/rand) and a number no other call
// gets, so that concurrent calls share no state and take no lock.
type randomness struct {
	src interface{ Uint64() uint64 } // Policy.Rand; nil: own
	own rand.PCG
	on  bool
}

var (
	seed    = newSeed()
	callIDs atomic.Uint64 // numbers the calls that need a number: Call.ID, and a stream of their own
)

func newSeed() uint64 {
	var b [8]byte
	crand.Read(b[:]) // it never fails (Go 1.24 and later)
	return binary.LittleEndian.Uint64(b[:])
}

// init readies r for the call numbered id (0: not numbered yet).
func (r *randomness) init(src interface{ Uint64() uint64 }, id uint64) {
	r.on, r.src = true, src
	if src == nil {
		if id == 0 {
			id = callIDs.Add(1)
		}
		r.own.Seed(seed, id)
	}
}

// next returns a random number, or 0 if the call needs none. (It is
// small enough to be inlined where a call needs none.)
func (r *randomness) next() uint64 {
	if !r.on {
		return 0
	}
	return r.draw()
}

func (r *randomness) draw() uint64 {
	if r.src != nil {
		return r.src.Uint64()
	}
	return r.own.Uint64()
}

// causeOf returns context.Cause(ctx) if ctx is done, else nil.
func causeOf(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}

// attempt runs attempt a.Attempt on the caller's goroutine, started by
// the event *e, and returns what fn returned.
func attempt[T any](ctx context.Context, obs CallObserver, w *stopwatch, e *Event, a *Action, fn func(context.Context) (T, error)) (T, error) {
	actx := ctx
	if a.Cut != nil {
		var cancel func()
		actx, cancel = attemptContext(ctx, w, a)
		if h, ok := ctx.(*handoff.Context); ok {
			// The operation may take the cancel over (package
			// backoffhttp does, to keep a response's body alive): what
			// it leaves is called when it returns.
			h.Cancel = cancel
			defer h.Release()
		} else {
			defer cancel()
		}
	}
	if obs != nil {
		obs.Observe(*e, *a)
	}
	return fn(actx)
}

// attemptContext returns the context of an attempt that a.Cut ends at
// a.Until (see WithDeadline).
//
// If the stopwatch is not begun, this is the call's first attempt, on the
// system clock, starting now, and the caller's context has no deadline
// (Do reads the start itself otherwise): the attempt's context is made
// with context.WithTimeoutCause, which reads the clock and whose deadline
// is that reading plus a.Until exactly, and the call's start is taken
// from it.
func attemptContext(ctx context.Context, w *stopwatch, a *Action) (context.Context, func()) {
	if !w.begun {
		actx, cancel := context.WithTimeoutCause(ctx, a.Until, a.Cut)
		d, _ := actx.Deadline()
		w.startAt(d.Add(-a.Until))
		return actx, cancel
	}
	return WithDeadline(ctx, w.clk, w.at(a.Until), a.Cut)
}

// pause waits until a.Until for the pause to end, or for ctx, and reports
// which came first. A timeless call (see Do) reports the core's own times
// instead of reading the clock.
func pause(ctx context.Context, obs CallObserver, w *stopwatch, e Event, a *Action, timeless bool) Event {
	now := e.At
	if !timeless {
		now = w.since()
	}
	var clk Clock = systemClock{}
	if w.clk != nil {
		clk = w.clk
	}
	t := clk.NewTimer(a.Until - now)
	defer t.Stop()
	if obs != nil {
		obs.Observe(e, *a)
	}
	select {
	case <-t.Chan():
		now = a.Until
		if !timeless {
			now = w.since()
		}
		return Event{Kind: EventFired, Attempt: a.Attempt, At: now, Cause: causeOf(ctx)}
	case <-ctx.Done():
		if !timeless {
			now = w.since()
		}
		return Event{Kind: EventCanceled, At: now, Cause: context.Cause(ctx)}
	}
}
