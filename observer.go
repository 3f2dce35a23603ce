package backoff

import (
	"context"
	"sync"
)

// An Observer watches the calls made under a policy (Policy.Observer). It
// is told when each call begins, with the caller's context and the call's
// number and policy, and answers with the CallObserver that is told the
// steps of that one call. Counters ([Stats]), logs ([Logger]), trace recorders and a
// test's handshake before advancing a fake clock are all Observers.
//
// Because it is told the caller's context, an Observer can log with it
// (slog's *Context methods) or find a trace or request ID in it; because
// each call has a CallObserver of its own, it can tell concurrent calls
// under one shared policy apart without a lock or a lookup. An Observer
// that needs neither returns one CallObserver for every call, as
// [ObserverFunc] and [Stats] do.
//
// Begin is called on the goroutine that called Do, before the call's first
// step; an Observer shared by concurrent calls must be safe for concurrent
// use. It runs inline, so it should be quick.
type Observer interface {
	// Begin is told that the call c begins, with the caller's context
	// ctx, and returns the CallObserver of its steps, or nil to see none.
	Begin(ctx context.Context, c Call) CallObserver
}

// A Call is what an [Observer] is told of a call as it begins.
type Call struct {
	// ID is the call's number: no other call of the program has it. (The
	// first call an Observer sees is not numbered 1: every call of the
	// program that needs a number takes one, in the order they begin.)
	// [Logger] logs it with every record, so that a call a log shows can
	// be found by it elsewhere.
	ID uint64
	// Policy is the call's policy.
	Policy Policy
}

// A CallObserver is told each step of a call: the event the decision core
// was given and the action it answered with, in order, the first one the
// call's EventBegan and the last one its ActionFinish (a call whose
// operation panics has none). The executor calls it once the action is
// under way (an attempt's context made, a pause's timer armed) and before
// it blocks, from the goroutine that called Do; the simulator in package
// sim makes the same steps.
//
// The event's At is the time the executor read from the policy's clock
// when the event happened; the action's Until is on the same scale, so a
// pause lasts a.Until - e.At.
//
// A CallObserver that [Observer.Begin] returns for one call only is told
// its steps one at a time, from one goroutine, and nothing after the
// ActionFinish: it may then serve another call (those of [Logger] and
// [MultiObserver] go back to a pool). One that Begin returns for several
// calls must be safe for concurrent use.
type CallObserver interface {
	Observe(e Event, a Action)
}

// ObserverFunc adapts a function to an Observer that is told the steps of
// every call: it is its own CallObserver. It must be safe for concurrent
// use if calls under its policy run at once.
type ObserverFunc func(e Event, a Action)

// Begin returns f, which is told every step of the call.
func (f ObserverFunc) Begin(context.Context, Call) CallObserver { return f }

// Observe calls f(e, a).
func (f ObserverFunc) Observe(e Event, a Action) { f(e, a) }

// MultiObserver returns an Observer that is each of observers: every call
// begins for each of them, in order, and each step is told to each of the
// CallObservers they return, in the same order. Nil observers are left
// out. It is safe for concurrent use if they all are. A call allocates
// nothing: the CallObservers of a call are kept in a pool, and go back to
// it with the call's last step.
func MultiObserver(observers ...Observer) Observer {
	var list multiObserver
	for _, o := range observers {
		if o != nil {
			list = append(list, o)
		}
	}
	return list
}

type multiObserver []Observer

func (m multiObserver) Begin(ctx context.Context, c Call) CallObserver {
	mc := multiCalls.Get().(*multiCall)
	for _, o := range m {
		if co := o.Begin(ctx, c); co != nil {
			mc.list = append(mc.list, co)
		}
	}
	if len(mc.list) == 0 {
		multiCalls.Put(mc)
		return nil
	}
	return mc
}

// multiCall is the CallObserver of one call of a MultiObserver.
type multiCall struct{ list []CallObserver }

var multiCalls = sync.Pool{New: func() any { return new(multiCall) }}

func (mc *multiCall) Observe(e Event, a Action) {
	for _, co := range mc.list {
		co.Observe(e, a)
	}
	if a.Kind == ActionFinish {
		clear(mc.list)
		mc.list = mc.list[:0]
		multiCalls.Put(mc)
	}
}
