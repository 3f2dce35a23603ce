package backoff

import (
	"context"
	"runtime"
)

// Abandon returns fn with a hard bound: each call of the result runs fn in
// a goroutine of its own and returns when fn does, or as soon as its
// context is done, whichever comes first; in the second case it returns
// the context's error (ctx.Err()) and fn's late result is discarded. Pass
// it to [Do] to bound attempts hard:
//
//	body, err := backoff.Do(ctx, p, backoff.Abandon(fetch))
//
// Do then returns on time even if fetch ignores its context: an attempt's
// time being up, the call's deadline, or the caller's cancel ends the
// attempt at once, as an attempt that returned its context's error then.
//
// A panic in fn reaches the goroutine that called the result, as a panic
// with the same value, and a runtime.Goexit in fn exits that goroutine
// too, as if fn had run on it; once the result has returned, fn's panic
// is discarded with its result, since nobody waits for it.
//
// The price: a goroutine and a channel for each call (about a microsecond
// and a few hundred bytes), and fn may still be running, and may complete
// its side effects, after the result has returned: while Do's next
// attempt runs, or after Do has returned. Without Abandon, Do runs fn on
// the caller's goroutine and an attempt ends when fn returns, as Go's
// context convention (and aiomisc's own cancellation) expects: attempts
// never overlap. That is the default because it costs nothing and leaves
// nothing behind; Abandon is for an operation that cannot be trusted to
// honour its context.
//
// Abandon is a property of the operation, not of the retry policy, which
// is why it wraps fn: fn stays on the caller's stack in every call of Do
// that does not ask for a goroutine.
func Abandon[T any](fn func(context.Context) (T, error)) func(context.Context) (T, error) {
	if fn == nil {
		return nil // Do reports the nil operation
	}
	return func(ctx context.Context) (T, error) {
		var zero T
		if ctx.Done() == nil {
			return fn(ctx) // nothing can cut it short: no goroutine needed
		}
		done := make(chan abandoned[T], 1) // room for the one result: the goroutine never blocks
		go func() {
			r := abandoned[T]{exit: true}
			defer func() {
				if r.exit {
					if r.panic = recover(); r.panic != nil {
						r.exit = false
					}
				}
				done <- r
			}()
			r.v, r.err = fn(ctx)
			r.exit = false
		}()
		select {
		case r := <-done:
			return r.result()
		case <-ctx.Done():
		}
		// A result that came by the time the context was done is taken:
		// when both are ready, select picks either at random, and a result
		// that has come is not late.
		select {
		case r := <-done:
			return r.result()
		default:
			return zero, ctx.Err()
		}
	}
}

// abandoned is the end of a call of an operation run by Abandon.
type abandoned[T any] struct {
	v     T
	err   error
	panic any  // the value fn panicked with, if it did
	exit  bool // fn called runtime.Goexit
}

// result returns what fn returned, on the caller's goroutine: its value
// and error, or its panic, or its Goexit.
func (r abandoned[T]) result() (T, error) {
	switch {
	case r.panic != nil:
		panic(r.panic) // rule 11: on the caller's goroutine
	case r.exit:
		runtime.Goexit()
	}
	return r.v, r.err
}
