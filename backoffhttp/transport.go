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
// A request can carry a policy of its own in its context ([WithPolicy]):
// a tighter deadline for one endpoint, no retry for another.
//
// # What is retried
//
// An outcome is retried if the classifier ([Transport.Classify], by
// default [Transient]) calls it transient: a connection refused, reset or
// cut off, timeouts, and the statuses 408, 429, 502, 503 and 504; and if
// the request can be sent again:
//
//   - its method is idempotent (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) or
//     it carries an Idempotency-Key header (see [Idempotent];
//     [Transport.Eligible] decides otherwise), and its body can be
//     replayed (see below); or
//   - whatever its method, the failure proves that nothing of the request
//     was sent, as net/http itself resends any request then: the
//     connection was never made (a *net.OpError whose Op is "dial" or
//     "proxyconnect", which covers a refused connection and a DNS
//     failure, or a *net.DNSError). A body that cannot be replayed is
//     sent again then only if it was never read.
//
// Policy.RetryIf then narrows that choice: it is asked only about
// transient failures of a request that can be sent again, and, as
// everywhere in package backoff, a nil RetryIf retries none of them
// (backoff.AnyError retries them all). An attempt timeout is retried, as
// the core decides, if the request can be sent again.
//
// A response whose delay hint (below) exceeds [Transport.MaxDelay] is not
// retried: the caller gets it at once.
//
// # Request bodies
//
// What happens to each kind of request body when an attempt is retried:
//
//   - none (nil or http.NoBody): nothing to replay; the request is sent
//     again as it is.
//   - a body with Request.GetBody (http.NewRequest sets it for
//     *bytes.Buffer, *bytes.Reader and *strings.Reader bodies): each
//     retry sends the body GetBody returns; an error from GetBody ends
//     the call, not retried.
//   - any other body that is an io.Seeker (an *os.File, say): each retry
//     seeks it back to where it was when RoundTrip was called, once the
//     previous attempt can no longer read it, and sends it again; a
//     failed Seek ends the call, not retried. The Base never sees it
//     closed: it is closed once the call is over and the last attempt is
//     done with it. (The Base is given a wrapper of it, so a file is
//     copied through memory rather than sent with sendfile; set GetBody
//     to one that reopens the file to keep that.)
//   - any other body: sent once, or again only after a failure that proves
//     nothing was sent and while it has not been read at all.
//
// Either way the request's Body is closed, as a RoundTripper must close
// it, and Request.ContentLength is sent unchanged with every attempt.
//
// # What the caller gets
//
// A RoundTripper returns a response, with a nil error, whenever it got one,
// whatever its status (see [http.RoundTripper]). So when the call ends
// right after a response with an error status (retries ran out on a 503,
// GiveUp said stop, the next pause would pass a deadline, the server asked
// for a delay beyond MaxDelay, or the status is one that is not retried,
// such as 404), the caller gets that response, status, header and body,
// exactly as a plain http.Client would have returned it. Only when the
// call ends without a response to show (the last attempt failed to
// connect, or was cut by its timeout or by the deadline), or because the
// caller's own context is done, does the caller get an error: the
// [*backoff.Error] saying why the call stopped and what failed last (which
// http.Client wraps in a *url.Error). If that was a status, Error.Last is
// its [*StatusError], so the status code is never lost.
//
// Timeouts look like timeouts, as with a plain http.Client: when a time
// limit ended the call (Policy.Deadline, the deadline of the request's
// context, or AttemptTimeout on the last attempt the policy allowed), the
// error's Timeout method reports true (through *url.Error, os.IsTimeout
// and a net.Error type assertion alike; see [backoff.Error.Timeout]), and
// errors.Is(err, context.DeadlineExceeded) holds. A cancel of the
// request's context is no timeout, as with net/http.
//
// # Response bodies and connections
//
// The response returned keeps its body readable after RoundTrip returns:
// each attempt's request runs under the attempt's own context (done at the
// attempt's time limit, the earlier of Policy.AttemptTimeout and
// Policy.Deadline on the policy's clock, with the same cause, or when the
// request's context is done), and the context of the attempt whose
// response is returned stays alive until its body is read to its end or
// closed. So the policy's time limits bound reading the body too, as
// http.Client.Timeout does. A response that arrives at or after its
// attempt's time limit is cut off with it: its body could not be read.
//
// A response discarded for a retry is drained, so that its connection is
// reused, and closed: at most [DrainLimit] bytes, for at most
// [DrainTimeout] (a body that has not ended by then is closed, and its
// connection with it), while the pause before the next attempt runs. The
// next attempt starts when both are over. A response whose status ends the
// call is not drained: the caller gets it as it came.
//
// Retries happen below http.Client: its redirects, its Jar and its
// CheckRedirect see only the response each call ends with, never the
// responses discarded for a retry (their Set-Cookie headers included).
//
// # Delay hints
//
// A response may ask for a delay before the next attempt: [ResponseDelay]
// reads the standard headers (Retry-After, retry-after-ms, and on a 429
// RateLimit-Reset), and [Transport.DelayHint] replaces it. The delay
// becomes the hint of the attempt's [*StatusError], whose RetryAfter method
// package backoff reads: the next pause lasts at least that long (see
// [backoff.RetryAfter]). A server does not decide alone how long a client
// waits: a hint beyond [Transport.MaxDelay] (by default [DefaultMaxDelay])
// ends the call at once, not retried, and one that would end at or after
// Policy.Deadline or the deadline of the request's context ends it at once
// too (with Reason backoff.ErrDeadline or context.DeadlineExceeded); the
// caller gets the response that carried the hint, its header included.
//
// # Observing
//
// The policy's Observer sees every attempt, and the status code of every
// response with an error status (400 and above) or that the classifier
// calls transient: such an attempt ends with a *StatusError as Event.Err,
// OutcomeFailed if it is retried and OutcomeRejected if it is not
// retryable (so backoff.Stats counts a 404 as a failed call, although the
// caller gets the 404 response with a nil error). The last attempt of a
// call that runs out of tries is OutcomeFailed too: it was retryable, but
// not retried. A response below 400 ends the call as a success, whose
// Event.Err is nil: the Observer does not see its exact code.
//
// To see every attempt's request and response, whatever the status (to
// log them, to sign each attempt anew, to add a header saying which
// attempt it is), wrap Base: it is called once per attempt, and
// [Attempt] tells it which one.
//
// Every function of the package is safe for concurrent use.
package backoffhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/internal/handoff"
)

// DrainLimit is the most bytes read from the body of a response that is
// discarded for a retry. A body that ends within it (exactly DrainLimit
// bytes included) is read to its end, so its connection goes back to the
// pool for the next attempt; a longer one is closed, which closes its
// connection too (reading on would cost more than a new connection). A
// response whose Content-Length says it is longer is closed at once.
const DrainLimit = 64 << 10

// DrainTimeout is the longest a response discarded for a retry is drained:
// a body that has not ended by then (a server that stalls) is closed, and
// its connection with it. Draining runs while the pause before the next
// attempt does, so it delays that attempt only by the time it outlasts the
// pause.
const DrainTimeout = 250 * time.Millisecond

// DefaultMaxDelay is the longest delay a server can ask for (see
// [Transport.MaxDelay]) when MaxDelay is 0: as long as the pauses of
// go-retryablehttp's default policy may grow, and as long as the deadline
// of [DefaultPolicy].
const DefaultMaxDelay = 30 * time.Second

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
// changes it: the Transport runs each call under a copy whose Observer
// and RetryIf (if set) wrap Policy's, and, for a request that may not be
// sent again, whose GiveUp stops after any failure that could resend it.
//
// Cost: a request that succeeds at once costs, over the same request sent
// through Base, what [backoff.Do] costs under the policy (with a time
// limit, the attempt's context and its timer), and three allocations: the
// call's state, the RetryIf that wraps the policy's (none if it has no
// RetryIf), and the copy of the request that carries the attempt's
// context. Each retry adds that copy, a
// context to carry the attempt's number, and the wrapper of a response's
// body under a time limit.
type Transport struct {
	// Base sends each attempt. Nil: http.DefaultTransport. It must honour
	// the request's context, as net/http's transports do: the attempt's
	// time limit reaches it only through that context. [Attempt] tells it
	// which attempt a request is.
	Base http.RoundTripper

	// Policy says how each request is retried; see package backoff.
	// Policy.RetryIf is asked only about the failures the classifier
	// calls transient (nil: none is retried). A request whose context
	// carries a policy of its own ([WithPolicy]) runs under that one
	// instead. Attempts run on the caller's goroutine: backoff.Abandon is
	// not used, because net/http honours contexts, and an abandoned
	// attempt could still return a response whose connection nobody would
	// close.
	Policy backoff.Policy

	// Eligible reports whether a request may be sent more than once. Nil:
	// [Idempotent]. A request that is not eligible, or whose body cannot
	// be replayed, is sent again only after a failure that proves nothing
	// of it was sent (see the package documentation).
	Eligible func(req *http.Request) bool

	// Classify reports whether the outcome of an attempt is transient,
	// and so worth retrying: resp is nil when err is not, and err is nil
	// when resp is not. It must not read or close resp.Body. Nil:
	// [Transient].
	Classify func(resp *http.Response, err error) bool

	// DelayHint returns the delay a response asks for before the next
	// attempt, or 0 if it asks for none; now is when the response
	// arrived, on the policy's clock. It is asked about every response
	// that becomes a [StatusError], and must not read or close its body.
	// Nil: [ResponseDelay].
	DelayHint func(resp *http.Response, now time.Time) time.Duration

	// MaxDelay bounds the delay a server can ask for: a response whose
	// delay hint exceeds it is not retried, and the caller gets it at
	// once. Zero: [DefaultMaxDelay]. To let a server ask for any delay,
	// set it to math.MaxInt64. A negative MaxDelay makes every request
	// fail with an error saying so.
	MaxDelay time.Duration
}

// NewClient returns an http.Client whose Transport is a [Transport] that
// runs every request under p through http.DefaultTransport. The client
// has no Timeout of its own: p's limits are the timeouts.
func NewClient(p backoff.Policy) *http.Client {
	return &http.Client{Transport: &Transport{Policy: p}}
}

// DefaultPolicy returns a Policy for a client that a service can ship
// with, like the standard resilience handler of .NET's HttpClient:
//
//   - AttemptTimeout 10s: a server that hangs is cut off, and asked
//     again. The limit bounds reading the body too, so a download that
//     takes longer needs a policy of its own.
//   - Deadline 30s: no call lasts longer, pauses, delay hints and the
//     body included, whatever the server does.
//   - at most 3 attempts, every transient failure retried: a failing
//     dependency gets at most three times its load.
//   - pauses of 1s, then 2s, each spread by EqualJitter (half of it at
//     random), so that clients that failed together do not retry
//     together.
func DefaultPolicy() backoff.Policy {
	return backoff.Policy{
		AttemptTimeout: 10 * time.Second,
		Deadline:       30 * time.Second,
		Pause:          time.Second,
		Growth:         2,
		Jitter:         backoff.EqualJitter,
		MaxTries:       3,
		RetryIf:        backoff.AnyError,
	}
}

// RoundTrip sends req through Base, retried under Policy, and returns the
// response to show for it, or an error: see the package documentation. It
// closes req.Body, as a RoundTripper must, and does not change req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	p := &t.Policy
	if rp, ok := req.Context().Value(policyKey{}).(*backoff.Policy); ok {
		p = rp
	}
	if err := t.validate(p); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	c := &call{t: t, req: req, clock: p.Clock, policy: p}
	c.h.Context = req.Context()
	c.base = t.Base
	if c.base == nil {
		c.base = http.DefaultTransport
	}
	c.classify = t.Classify
	if c.classify == nil {
		c.classify = Transient
	}
	eligible := t.Eligible
	if eligible == nil {
		eligible = Idempotent
	}
	c.body.init(req)
	c.eligible = eligible(req) && c.body.replayable()

	q := *p
	q.Observer = c
	if p.RetryIf != nil {
		// Left nil otherwise: nothing is retried but attempt timeouts, and
		// the copy must pass Validate as the policy did.
		q.RetryIf = c.retryIf
	}
	if !c.eligible && (p.RetryIf != nil || p.AttemptTimeout > 0) {
		// A request that may not be sent again whatever happens must also
		// stop after an attempt timeout, which RetryIf is not asked about.
		q.GiveUp = c.giveUp
	}
	resp, err := backoff.Do(&c.h, q, c.attempt)
	c.body.end()
	if err == nil {
		return resp, nil
	}
	return c.end(err)
}

// validate reports what is wrong with the Transport's settings, or with
// the policy p it is about to run.
func (t *Transport) validate(p *backoff.Policy) error {
	if t.MaxDelay < 0 {
		return fmt.Errorf("backoffhttp: Transport.MaxDelay is %v; want 0 (DefaultMaxDelay) or more", t.MaxDelay)
	}
	return p.Validate()
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

// A call is the state of one RoundTrip. It is used by one goroutine only:
// attempts run on the caller's goroutine, and the policy's RetryIf,
// GiveUp and Observer are called there too.
type call struct {
	h        handoff.Context // the request's context, for Do: attempts may keep theirs
	t        *Transport
	req      *http.Request
	base     http.RoundTripper
	classify func(*http.Response, error) bool
	clock    backoff.Clock        // nil: the system clock
	policy   *backoff.Policy      // the policy the call runs under, as given
	steps    backoff.CallObserver // what the policy's Observer.Begin returned, if any
	body     replay               // gives each attempt the request's body
	eligible bool                 // the request may be sent again (Eligible, and a body that can be replayed)
	n        int                  // the attempt under way
	cut      error                // what ends it at its time limit (its Start action's Cut)
	cutAt    time.Time            // when, on a clock of the policy's own (not the system's)
	retry    bool                 // the latest attempt's failure may be retried
	held     *http.Response       // the latest attempt's response with an error status, if any
	heldErr  *StatusError         // what that attempt returned for it

	// The first attempt's context and response body: most calls make
	// one attempt, and need no allocation of their own for them.
	ctx1  attemptContext
	body1 body
}

// retryIf is the call's Policy.RetryIf: the policy's own, asked only
// about a transient failure after which the request can be sent again.
func (c *call) retryIf(err error) bool {
	return c.retry && c.policy.RetryIf != nil && c.policy.RetryIf(err)
}

// giveUp is the call's Policy.GiveUp when the request is not eligible:
// it stops after any failure after which the request cannot be sent
// again (an attempt timeout, say), then asks the policy's own.
func (c *call) giveUp(err error) bool {
	return !c.retry || c.policy.GiveUp != nil && c.policy.GiveUp(err)
}

// Begin begins the call for the policy's observer, with the request's
// context and the policy as given: the call is its own observer, to learn
// each attempt's number and the limit that cuts it, and to drain a
// response discarded for a retry.
func (c *call) Begin(_ context.Context, bc backoff.Call) backoff.CallObserver {
	if o := c.policy.Observer; o != nil {
		bc.Policy = *c.policy
		c.steps = o.Begin(c.req.Context(), bc)
	}
	return c
}

// Observe records each attempt's number and cut, discards a response
// the core retries, then tells the policy's observer.
func (c *call) Observe(e backoff.Event, a backoff.Action) {
	if a.Kind == backoff.ActionStart {
		c.n, c.cut = a.Attempt, a.Cut
		if a.Cut != nil && c.clock != nil {
			c.cutAt = c.clock.Now().Add(a.Until - e.At)
		}
	}
	if e.Kind == backoff.EventEnded && c.held != nil && (a.Kind == backoff.ActionPause || a.Kind == backoff.ActionStart) {
		// The held response is not the answer: free its connection while
		// the pause runs (or the next attempt, without a pause).
		resp := c.held
		c.held, c.heldErr = nil, nil
		drain(resp.Body, resp.ContentLength, c.clock)
	}
	if c.steps != nil {
		c.steps.Observe(e, a)
	}
}

// attempt is the operation the executor retries: one round trip. A
// response that is not transient and below 400 is a success. Any other
// response is returned as a *StatusError (transient, so retried, or not),
// and the response itself is kept in c.held, to be drained if the call
// goes on or returned to the caller if it ends.
func (c *call) attempt(actx context.Context) (*http.Response, error) {
	c.retry = false
	if c.held != nil { // not drained by Observe: cannot happen, but leaks nothing
		c.held.Body.Close()
		c.held, c.heldErr = nil, nil
	}
	reqBody, err := c.body.next()
	if err != nil {
		return nil, err
	}
	ac := &c.ctx1
	if c.n > 1 {
		ac = new(attemptContext)
	}
	*ac = attemptContext{Context: actx, n: c.n}
	r := c.req.WithContext(ac)
	r.Body = reqBody
	resp, err := c.base.RoundTrip(r)
	if err == nil && resp == nil {
		err = errNilResponse
	}
	if err == nil && c.late(actx) {
		// The attempt's time is up, or the request's context is done:
		// what came back is cut off with it (the executor reports the cut).
		resp.Body.Close()
		resp, err = nil, context.Cause(actx)
	}
	if err != nil {
		c.retry = c.classify(nil, err) && (c.eligible || unsent(err) && c.body.reusable())
		return nil, err
	}
	// The response's body outlives the attempt: take its context's
	// cancel over from the executor (nil without a time limit), to call
	// it when the body is done with.
	if cancel := c.h.Take(); cancel != nil {
		b := &c.body1
		if c.n > 1 {
			b = new(body)
		}
		resp.Body = keep(b, resp.Body, cancel)
	}

	transient := c.classify(resp, nil)
	if !transient && resp.StatusCode < 400 {
		return resp, nil
	}
	now := c.now()
	se := newStatusError(resp)
	if c.t.DelayHint != nil {
		se.retryAfter = max(c.t.DelayHint(resp, now), 0)
	} else {
		se.retryAfter = ResponseDelay(resp, now)
	}
	maxDelay := c.t.MaxDelay
	if maxDelay == 0 {
		maxDelay = DefaultMaxDelay
	}
	c.retry = transient && c.eligible && se.retryAfter <= maxDelay
	c.held, c.heldErr = resp, se
	return nil, se
}

// errNilResponse is an attempt's error when Base breaks the RoundTripper
// contract by returning neither a response nor an error.
var errNilResponse = errors.New("backoffhttp: Base returned a nil response and a nil error")

// late reports whether a response that arrived in the attempt of actx is
// too late to be read: the attempt's context is done, or the attempt's
// time limit has come (its timer may not have run yet).
func (c *call) late(actx context.Context) bool {
	if actx.Err() != nil {
		return true
	}
	if c.cut == nil {
		return false
	}
	// On the system clock the context's deadline is the earlier of the
	// cut and the caller's; on another clock the caller's deadline is on
	// the system clock, and only the cut's instant is comparable.
	d := c.cutAt
	if c.clock == nil {
		d, _ = actx.Deadline()
	}
	if c.now().Before(d) {
		return false
	}
	<-actx.Done() // due now: its timer is about to run, and set the cause
	return true
}

// end turns the error of Do into what RoundTrip returns: the held
// response if the call ended right after it, for any reason but the
// request's context being done; else the error.
func (c *call) end(err error) (*http.Response, error) {
	resp, se := c.held, c.heldErr
	c.held, c.heldErr = nil, nil
	if resp == nil {
		return nil, err
	}
	if e, ok := errors.AsType[*backoff.Error](err); ok && e.Last == error(se) && c.req.Context().Err() == nil {
		return resp, nil
	}
	resp.Body.Close()
	return nil, err
}

// now reads the policy's clock.
func (c *call) now() time.Time {
	if c.clock == nil {
		return time.Now()
	}
	return c.clock.Now()
}
