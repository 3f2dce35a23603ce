// Package handoff lets an operation of backoff.Do take over the cancel of
// the context of the attempt it runs in, so that the context outlives the
// attempt: package backoffhttp returns a response whose body is read after
// the attempt has returned, under the attempt's time limit, and releases
// the context when the body is closed.
//
// It is internal: Do's public contract is unchanged for every other
// caller, whose attempt contexts are cancelled as soon as the attempt
// returns.
package handoff

import "context"

// A Context, passed to backoff.Do as the caller's context, is the caller's
// context (which it embeds) with a slot for the cancel of the running
// attempt's context. For each attempt with a time limit, Do puts the
// attempt context's cancel in Cancel before the operation runs, and calls
// what is left there when the operation returns: an operation that takes
// the cancel (Take) keeps its attempt's context alive, and must call the
// cancel itself. An attempt without a time limit runs under the Context
// itself, with nothing to cancel.
//
// A Context is used by the goroutine that calls Do, one call at a time.
type Context struct {
	context.Context
	Cancel func() // the running attempt's, until it is taken or called
}

// Take returns the running attempt's cancel, or nil if its context has
// none, and leaves Do nothing to call when the attempt returns.
func (c *Context) Take() func() {
	f := c.Cancel
	c.Cancel = nil
	return f
}

// Release calls the cancel that was not taken, if any. Do calls it when
// the attempt returns.
func (c *Context) Release() {
	if f := c.Cancel; f != nil {
		c.Cancel = nil
		f()
	}
}
