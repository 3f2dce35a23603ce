package backofftest

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A Step is what one call of an [Op] does: fail, succeed or hang, at once
// or after a while. Make one with [Fail], [Succeed] or [Hang]; a Step is a
// value, and its methods return changed copies. The zero Step succeeds at
// once with the zero T.
type Step[T any] struct {
	v     T
	err   error
	hang  bool
	after time.Duration
	times int // how many calls in a row take this step; 0: one
}

// Fail returns the step that returns err. It panics if err is nil.
func Fail[T any](err error) Step[T] {
	if err == nil {
		panic("backofftest: Fail(nil): a step that fails needs an error (Succeed returns nil)")
	}
	return Step[T]{err: err}
}

// Succeed returns the step that returns v and a nil error.
func Succeed[T any](v T) Step[T] { return Step[T]{v: v} }

// Hang returns the step of a dependency that never answers: it waits
// until its context is done and returns the context's error (ctx.Err(),
// as code that honours its context does). It needs a context that will be
// done: a policy with an AttemptTimeout or a Deadline, or a caller's
// context that is cancelled.
func Hang[T any]() Step[T] { return Step[T]{hang: true} }

// After returns s taking d first, on the system clock (virtual in a
// testing/synctest bubble, where d passes in no time and exactly): the
// call returns what s says d after it began, or its context's error
// (ctx.Err()) as soon as the context is done, if that comes first.
//
// On a clockwork fake clock the time would pass on the system clock and
// not on the fake one: there, use steps that take no time (a [Driver]
// cuts a Hang at its time limit). It panics if d is negative.
func (s Step[T]) After(d time.Duration) Step[T] {
	if d < 0 {
		panic(fmt.Sprintf("backofftest: After(%v): want 0 or more", d))
	}
	s.after = d
	return s
}

// Times returns s taken by n calls in a row: Fail[T](err).Times(3) fails
// three times. It panics if n is less than 1.
func (s Step[T]) Times(n int) Step[T] {
	if n < 1 {
		panic(fmt.Sprintf("backofftest: Times(%d): want 1 or more", n))
	}
	s.times = n
	return s
}

// An Op is a scripted operation, a dependency that fails, succeeds or
// hangs as a test says: its calls take its steps in order, and every call
// after the last step takes the last step again. Pass its Call method to
// backoff.Do, or call it from the stand-in for your dependency.
//
// It is safe for concurrent use: concurrent calls take the steps in the
// order they arrive. A call costs a lock, and a timer if its step takes
// time. The zero Op has no steps: make one with [NewOp].
type Op[T any] struct {
	steps []Step[T]

	mu    sync.Mutex
	calls int
}

// NewOp returns an Op that takes steps. It panics if there are none.
//
//	backofftest.NewOp(backofftest.Fail[int](errBusy).Times(2), backofftest.Succeed(42))
//
// fails twice with errBusy, then returns 42 from every call.
func NewOp[T any](steps ...Step[T]) *Op[T] {
	if len(steps) == 0 {
		panic("backofftest: NewOp(): want at least one step")
	}
	return &Op[T]{steps: steps}
}

// Call makes the next call: it does what the next step says.
func (o *Op[T]) Call(ctx context.Context) (T, error) {
	if len(o.steps) == 0 {
		panic("backofftest: Call of an Op without steps (make one with NewOp)")
	}
	o.mu.Lock()
	s := o.step(o.calls)
	o.calls++
	o.mu.Unlock()

	var zero T
	if s.after > 0 {
		t := time.NewTimer(s.after)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return zero, ctx.Err()
		}
	}
	if s.hang {
		<-ctx.Done()
		return zero, ctx.Err()
	}
	return s.v, s.err
}

// step returns the step that call n (from 0) takes.
func (o *Op[T]) step(n int) Step[T] {
	for _, s := range o.steps {
		if n < max(s.times, 1) {
			return s
		}
		n -= max(s.times, 1)
	}
	return o.steps[len(o.steps)-1]
}

// Calls returns the number of calls made so far.
func (o *Op[T]) Calls() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}
