// Package backoffhttp retries HTTP requests under a [backoff.Policy], the
// way servers and HTTP semantics expect. Replace http.DefaultClient in one
// line:
//
//	client := backoffhttp.NewClient(backoffhttp.DefaultPolicy())
//
// or wrap a transport of your own:
//
//	client := &http.Client{Transport: &backoffhttp.Transport{
//		Base:   myTransport,
//		Policy: backoff.Policy{AttemptTimeout: 2 * time.Second, Deadline: 10 * time.Second,
//			Pause: 500 * time.Millisecond, MaxTries: 4, RetryIf: backoff.AnyError},
//	}}
//
// # What is retried
//
// A request is retried only if it is safe to send again: its method is
// idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or it carries an
// Idempotency-Key header (see [Idempotent]; [Transport.Eligible] opts
// other requests in), and its body can be replayed. A body is replayed
// through Request.GetBody, which http.NewRequest sets for bytes, strings
// and bytes.Buffer bodies. A request whose body cannot be replayed, or that
// is not eligible, is sent once: it still runs under the policy's time
// limits and observer, with MaxTries 1.
//
// An outcome is retried if the classifier ([Transport.Classify], by
// default [Transient]) calls it transient: connection refused or reset,
// EOF before a response, timeouts, and the statuses 408, 429, 502, 503 and
// 504. Policy.RetryIf then narrows that choice: it is asked only about
// transient failures, and, as everywhere in package backoff, a nil RetryIf
// retries none of them (backoff.AnyError retries them all). Attempt
// timeouts are always retried, as the core decides.
//
// # What the caller gets
//
// A RoundTripper returns a response, with a nil error, whenever it got one,
// whatever its status (see [http.RoundTripper]). So when the call ends
// right after a response with an error status (retries ran out on a 503,
// GiveUp said stop, the next pause would pass the deadline, or the status
// is one that is not retried, such as 404), the caller gets that response,
// status, header and body, exactly as a plain http.Client would have
// returned it. Only when the call ends without a response to show (the
// last attempt failed to connect, or was cut by its timeout or by the
// deadline), or because the caller's own context is done, does the caller
// get an error: the [*backoff.Error] saying why the call stopped and what
// failed last. If that was a status, Error.Last is its [*StatusError], so
// the status code is never lost.
//
// # Bodies and connections
//
// The response returned keeps its body readable after RoundTrip returns:
// each attempt sends its request with a context of its own, done at the
// attempt's time limit (the earlier of Policy.AttemptTimeout and
// Policy.Deadline, on the policy's clock, with the same cause) or when the
// caller's context is done, and otherwise alive until the body is read to
// its end or closed. So the policy's time limits bound reading the body
// too, as http.Client.Timeout does. A response discarded for a retry is
// drained (at most [DrainLimit] bytes) and closed, so that its connection
// is reused.
//
// # Retry-After
//
// A response's Retry-After header (delta-seconds or an HTTP-date) is parsed
// into the hint of its [*StatusError], whose RetryAfter method package
// backoff reads: the next pause lasts at least that long (see
// [backoff.RetryAfter]). A hint that would end at or after Policy.Deadline
// ends the call at once, with Reason backoff.ErrDeadline (as the
// Observer's last step shows), and the caller gets the response that
// carried the hint, Retry-After header included.
//
// # Observing
//
// The policy's Observer sees every attempt, and the status code of every
// response with an error status (400 and above): such an attempt ends with
// a *StatusError as Event.Err, Failed if it is retried and Rejected if not
// (so backoff.Stats counts a 404 as a failed call, although the caller gets
// the 404 response with a nil error). A response below 400 ends the call
// as a success, whose Event.Err is nil: the Observer does not see its exact
// code, which only the caller's response carries.
//
// Every function of the package is safe for concurrent use.
package backoffhttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/timebound/backoff"
)

// DrainLimit is the most bytes read from the body of a response that is
// discarded for a retry. A body that ends within it is read to its end, so
// its connection goes back to the pool for the next attempt; a longer one
// is closed when the next attempt starts, which closes its connection too
// (reading on would cost more than a new connection).
const DrainLimit = 64 << 10

// A Transport is an http.RoundTripper that sends each request through Base,
// retried under Policy. Each call of RoundTrip is one call of [backoff.Do]
// with its own tries, deadline and last error; a redirect the http.Client
// follows is a request, and a call, of its own. The package documentation
// says which requests and outcomes are retried, and what the caller gets.
//
// The zero Transport sends each request once through
// http.DefaultTransport, as the zero Policy does: set Policy (for instance
// to [DefaultPolicy]) to retry.
//
// A Transport is safe for concurrent use, as long as its fields are not
// changed once it is in use. It reads Policy on every call and never
// changes it: the Transport runs each call under a copy whose RetryIf,
// GiveUp and Observer wrap Policy's.
type Transport struct {
	// Base sends each attempt. Nil: http.DefaultTransport. It must honour
	// the request's context, as net/http's transports do: the attempt's
	// time limit reaches it only through that context.
	Base http.RoundTripper

	// Policy says how each request is retried; see package backoff.
	// Policy.RetryIf is asked only about the failures the classifier
	// calls transient (nil: none is retried). Attempts run on the
	// caller's goroutine (there is no backoff.Abandon here): net/http
	// honours contexts, and an abandoned attempt could still return a
	// response whose connection nobody would close.
	Policy backoff.Policy

	// Eligible reports whether a request may be sent more than once. Nil:
	// [Idempotent]. A request with a body that cannot be replayed (no
	// GetBody) is sent once whatever Eligible says.
	Eligible func(req *http.Request) bool

	// Classify reports whether the outcome of an attempt is transient,
	// and so worth retrying: resp is nil when err is not, and err is nil
	// when resp is not. It must not read or close resp.Body. Nil:
	// [Transient].
	Classify func(resp *http.Response, err error) bool
}

// NewClient returns an http.Client whose Transport is a [Transport] that
// runs every request under p through http.DefaultTransport. The client
// has no Timeout of its own: p's limits are the timeouts.
func NewClient(p backoff.Policy) *http.Client {
	return &http.Client{Transport: &Transport{Policy: p}}
}

// DefaultPolicy returns a Policy for a client that replaces
// http.DefaultClient: at most 3 attempts, a second apart, every transient
// failure retried. Like http.DefaultClient it sets no time limit, because
// the limits also bound reading the response's body; add AttemptTimeout
// and Deadline to cut hanging servers off.
func DefaultPolicy() backoff.Policy {
	return backoff.Policy{Pause: time.Second, MaxTries: 3, RetryIf: backoff.AnyError}
}

// RoundTrip sends req through Base, retried under Policy, and returns the
// response to show for it, or an error: see the package documentation. It
// closes req.Body, as a RoundTripper must, and does not change req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := &call{req: req, base: t.Base, classify: t.Classify, clock: t.Policy.Clock, observer: t.Policy.Observer}
	if c.base == nil {
		c.base = http.DefaultTransport
	}
	if c.classify == nil {
		c.classify = Transient
	}
	eligible := t.Eligible
	if eligible == nil {
		eligible = Idempotent
	}

	p := t.Policy
	if err := p.Validate(); err != nil { // before MaxTries is set below
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	p.Observer = c
	if !replayable(req) || !eligible(req) {
		p.MaxTries = 1
	}
	retryIf := p.RetryIf
	p.RetryIf = func(err error) bool {
		return c.transient && retryIf != nil && retryIf(err)
	}

	resp, err := backoff.Do(req.Context(), p, c.attempt)
	if !c.sent && req.Body != nil {
		req.Body.Close() // no attempt was made: the body is still ours to close
	}
	if err == nil {
		return resp, nil
	}
	return c.end(err)
}

// CloseIdleConnections closes the idle connections of Base, if it has a
// CloseIdleConnections method, as http.Transport does. http.Client's
// method of that name calls it.
func (t *Transport) CloseIdleConnections() {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if b, ok := base.(interface{ CloseIdleConnections() }); ok {
		b.CloseIdleConnections()
	}
}

// Idempotent reports whether req may be sent again as it is: its method is
// GET, HEAD, OPTIONS, TRACE, PUT or DELETE (RFC 9110's idempotent
// methods; an empty method is GET), or it has an Idempotency-Key or
// X-Idempotency-Key header (even with a nil value, which net/http does not
// send). It is the default of [Transport.Eligible], and the rule net/http
// itself follows before resending a request on a new connection, with PUT
// and DELETE added.
func Idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	if _, ok := req.Header["Idempotency-Key"]; ok {
		return true
	}
	_, ok := req.Header["X-Idempotency-Key"]
	return ok
}

// replayable reports whether req's body can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// A call is the state of one RoundTrip. It is used by one goroutine only:
// attempts run on the caller's goroutine, and the
// policy's RetryIf, GiveUp and Observer are called there too.
type call struct {
	req      *http.Request
	base     http.RoundTripper
	classify func(*http.Response, error) bool
	clock    backoff.Clock        // nil: the system clock
	observer backoff.Observer     // the policy's own, or nil
	steps    backoff.CallObserver // what observer.Begin returned for this call

	cut       error          // what ends the running attempt (its Start action's Cut)
	sent      bool           // req.Body has been given to base
	transient bool           // the classifier called the latest attempt's failure transient
	held      *http.Response // the latest attempt's response with an error status, if any
	heldErr   *StatusError   // what that attempt returned for it
}

// Begin begins the call for the policy's observer, which is told its
// steps too: the call is its own observer, to learn the limit that cuts
// each attempt.
func (c *call) Begin(ctx context.Context, bc backoff.Call) backoff.CallObserver {
	if c.observer != nil {
		bc.Policy.Observer = c.observer
		c.steps = c.observer.Begin(ctx, bc)
	}
	return c
}

// Observe records the limit that cuts each attempt, then tells the
// policy's observer.
func (c *call) Observe(e backoff.Event, a backoff.Action) {
	if a.Kind == backoff.ActionStart {
		c.cut = a.Cut
	}
	if c.steps != nil {
		c.steps.Observe(e, a)
	}
}

// attempt is the operation the executor retries: one round trip. A
// response that is not transient and below 400 is a success. Any other
// response is returned as a *StatusError (transient, so retried, or not),
// and the response itself is kept in c.held, to be discarded when the next
// attempt starts or returned to the caller when the call ends.
func (c *call) attempt(actx context.Context) (*http.Response, error) {
	c.discard() // the previous attempt's response, if any, is not the answer
	c.transient = false

	body := c.req.Body
	if c.sent && body != nil && body != http.NoBody {
		if c.req.GetBody == nil { // cannot happen: MaxTries is 1 then
			return nil, errors.New("backoffhttp: the request body cannot be replayed")
		}
		b, err := c.req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("backoffhttp: replaying the request body: %w", err)
		}
		body = b
	}
	c.sent = true

	// The request's context is done when the attempt's is, with the same
	// cause, while the attempt runs (the bridge); but the executor also
	// cancels the attempt's context as soon as this function returns, and
	// the response's body must outlive that. So once the round trip is
	// over the bridge is cut, and a timer of the request's own takes over
	// the attempt's time limit.
	rctx, cancel := context.WithCancelCause(c.req.Context())
	bridge := context.AfterFunc(actx, func() { cancel(context.Cause(actx)) })
	r := c.req.WithContext(rctx)
	r.Body = body
	resp, err := c.base.RoundTrip(r)
	if !bridge() {
		// The attempt's time is up, or the caller's context is done: what
		// came back is cut off with it (the executor reports the cut).
		if resp != nil {
			resp.Body.Close()
		}
		if err == nil {
			err = context.Cause(rctx)
		}
		return nil, err
	}
	if err != nil {
		cancel(nil)
		c.transient = c.classify(nil, err)
		return nil, err
	}
	resp.Body = c.keep(actx, resp.Body, cancel)

	transient := c.classify(resp, nil)
	if !transient && resp.StatusCode < 400 {
		return resp, nil
	}
	c.transient = transient
	se := newStatusError(resp, c.now())
	if transient {
		drain(resp) // to the limit: the connection is free before the pause
	}
	c.held, c.heldErr = resp, se
	return nil, se
}

// keep returns body wrapped so that closing it, or reading it to its end,
// releases the request's context, and arms the attempt's time limit on
// that context (unless the caller's context ends first anyway).
func (c *call) keep(actx context.Context, rc io.ReadCloser, cancel context.CancelCauseFunc) io.ReadCloser {
	if rc == http.NoBody { // nothing to read: nothing to keep alive
		cancel(nil)
		return rc
	}
	b := &body{rc: rc, cancel: cancel}
	if cut := c.cut; cut != nil {
		if d, ok := actx.Deadline(); ok {
			if pd, ok := c.req.Context().Deadline(); !ok || d.Before(pd) {
				b.stop = c.afterFunc(d, func() { cancel(cut) })
			}
		}
	}
	if w, ok := rc.(io.Writer); ok { // 101 Switching Protocols: the body is the connection
		return &rwBody{b, w}
	}
	return b
}

// discard drains (as far as drain did) and closes the held response.
func (c *call) discard() {
	if c.held != nil {
		c.held.Body.Close()
		c.held, c.heldErr = nil, nil
	}
}

// end turns the error of Do into what RoundTrip returns: the held
// response if the call ended right after it, for any reason but the
// caller's context; else the error.
func (c *call) end(err error) (*http.Response, error) {
	resp := c.held
	if e, ok := errors.AsType[*backoff.Error](err); ok && resp != nil &&
		e.Last == error(c.heldErr) && c.req.Context().Err() == nil {
		c.held, c.heldErr = nil, nil
		return resp, nil
	}
	c.discard()
	return nil, err
}

// now reads the policy's clock.
func (c *call) now() time.Time {
	if c.clock == nil {
		return time.Now()
	}
	return c.clock.Now()
}

// afterFunc calls f in its own goroutine at t on the policy's clock,
// unless the returned function is called first.
func (c *call) afterFunc(t time.Time, f func()) func() bool {
	if c.clock == nil {
		return time.AfterFunc(time.Until(t), f).Stop
	}
	return c.clock.AfterFunc(t.Sub(c.clock.Now()), f).Stop
}
