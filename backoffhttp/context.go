package backoffhttp

import (
	"context"

	"github.com/timebound/backoff"
)

// What a request's context tells a Transport, and what the Transport tells
// its Base through the context of each attempt's request.

// policyKey is the context key of WithPolicy's policy.
type policyKey struct{}

// WithPolicy returns a copy of ctx that carries p: a [Transport] runs a
// request whose context carries a policy under that policy instead of its
// own, and checks it the same way (see [backoff.Policy.Validate]). It
// serves a policy per request without another client:
//
//	// no retry for this one
//	ctx = backoffhttp.WithPolicy(ctx, backoff.Policy{AttemptTimeout: time.Second})
//
// The policy replaces the Transport's whole: start from the Transport's
// Policy to change a field of it. The latest WithPolicy on a context wins.
func WithPolicy(ctx context.Context, p backoff.Policy) context.Context {
	return context.WithValue(ctx, policyKey{}, &p)
}

// attemptKey is the context key under which an attempt's context answers
// with itself.
type attemptKey struct{}

// Attempt returns the number (from 1) of the attempt whose request has the
// context ctx, or a context derived from it, as a [Transport] gives it to
// its Base; 0 for any other context. A Base that wraps another can read it
// to sign each attempt anew, to add a header saying which attempt it is,
// or to log each request and response with its number.
func Attempt(ctx context.Context) int {
	if a, ok := ctx.Value(attemptKey{}).(*attemptContext); ok {
		return a.n
	}
	return 0
}

// An attemptContext is the context of an attempt's request: the attempt's
// context, done at its time limit, with its number.
type attemptContext struct {
	context.Context
	n int
}

func (a *attemptContext) Value(key any) any {
	if key == (attemptKey{}) {
		return a
	}
	return a.Context.Value(key)
}
