package backoffhttp_test

// What RoundTrip makes of each attempt's outcome: the StatusError it
// becomes, what the classifier and the delay hint decide, what the
// policy's GiveUp and Observer are told, and what the caller gets when its
// context ends as a response arrives.

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

// A StatusError reads as the status, and says the delay its response
// asked for; a response without a status line gets one made from its code.
func TestStatusError_message(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(
			answer{code: 503, header: http.Header{"Retry-After": {"2"}}},
			answer{code: 429},
			answer{code: 200},
		)
		resp, rec, _, err := roundTrip(t, f, backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError})
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v; want 200", resp, err)
		}
		resp.Body.Close()
		errs, _ := rec.ended()
		want := []string{"backoffhttp: 503 Service Unavailable (Retry-After 2s)", "backoffhttp: 429 Too Many Requests"}
		for i, w := range want {
			if i >= len(errs) || errs[i] == nil || errs[i].Error() != w {
				t.Errorf("attempt %d ended with %v; want %q", i+1, errs, w)
			}
		}
	})
}

// A response the classifier calls transient is retried whatever its
// status, 200 included: only a response that is not transient and below
// 400 is a success.
func TestTransientSuccessStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(
			answer{code: 200, header: http.Header{"X-Busy": {"1"}}, body: "not yet"},
			answer{code: 200, body: "ok"},
		)
		busy := func(resp *http.Response, err error) bool {
			return resp != nil && resp.Header.Get("X-Busy") != "" || backoffhttp.Transient(resp, err)
		}
		resp, rec, _, err := roundTripReq(t, f, backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError}, getFake(t),
			func(tr *backoffhttp.Transport) { tr.Classify = busy })
		if err != nil || resp.StatusCode != 200 || len(f.reqs) != 2 {
			t.Fatalf("got %v, %v after %d attempts; want 200 after 2", resp, err, len(f.reqs))
		}
		defer resp.Body.Close()
		if got := readAll(t, resp.Body); got != "ok" {
			t.Errorf("body %q; want \"ok\"", got)
		}
		if got := rec.statuses(); !equal(got, []int{200, 0}) {
			t.Errorf("the attempts ended with the statuses %v; want [200 0]: a StatusError of the transient 200, then a success", got)
		}
	})
}

// A DelayHint that returns a negative delay asks for none: the
// StatusError's RetryAfter is 0, and the pause is the policy's.
func TestDelayHintNegative(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(answer{code: 503}, answer{code: 200})
		never := func(*http.Response, time.Time) time.Duration { return -5 * time.Second }
		resp, rec, took, err := roundTripReq(t, f, backoff.Policy{Pause: 10 * time.Millisecond, MaxTries: 2, RetryIf: backoff.AnyError}, getFake(t),
			func(tr *backoffhttp.Transport) { tr.DelayHint = never })
		if err != nil || resp.StatusCode != 200 || took != 10*time.Millisecond {
			t.Fatalf("got %v, %v at %v; want 200 at 10ms", resp, err, took)
		}
		resp.Body.Close()
		errs, _ := rec.ended()
		se, ok := errors.AsType[*backoffhttp.StatusError](errs[0])
		if !ok || se.RetryAfter() != 0 || se.Error() != "backoffhttp: 503 Service Unavailable" {
			t.Errorf("attempt 1 ended with %v (hint %v); want a 503 with no hint", errs[0], se.RetryAfter())
		}
	})
}

// A request that may not be sent again is retried only after a failure
// that proves nothing was sent, and then the policy's GiveUp is asked as
// for any request: here it stops at a refused connection.
func TestGiveUpOfARequestNotResendable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://fake.test/", opaque{strings.NewReader("payload")})
		f := newFake(answer{err: errDial}, answer{code: 200})
		p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, GiveUp: func(err error) bool { return errors.Is(err, errDial) }}
		resp, _, _, err := roundTripReq(t, f, p, req)
		e, ok := errors.AsType[*backoff.Error](err)
		if resp != nil || !ok || e.Reason != backoff.ErrGaveUp || e.Last != error(errDial) || len(f.reqs) != 1 {
			t.Fatalf("got %v, %v after %d attempts; want ErrGaveUp with the refused dial after 1", resp, err, len(f.reqs))
		}
	})
}

// The policy's Observer begins each call with the request's context and
// the policy the call runs under as given: a request's own (WithPolicy),
// not the Transport's.
func TestObserverSeesTheRequestsPolicy(t *testing.T) {
	type key struct{}
	var calls []backoff.Call
	var values []any
	obs := beginFunc(func(ctx context.Context, c backoff.Call) {
		calls = append(calls, c)
		values = append(values, ctx.Value(key{}))
	})
	own := backoff.Policy{MaxTries: 2, Pause: time.Millisecond, RetryIf: backoff.AnyError, Observer: obs}
	ctx := backoffhttp.WithPolicy(context.WithValue(context.Background(), key{}, "mine"), own)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
	f := newFake(answer{code: 503}, answer{code: 200})
	tr := &backoffhttp.Transport{Base: f, Policy: backoff.Policy{MaxTries: 5, Observer: obs}}
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("got %v, %v; want 200", resp, err)
	}
	resp.Body.Close()
	if len(calls) != 1 || calls[0].Policy.MaxTries != 2 || calls[0].Policy.Pause != time.Millisecond || values[0] != "mine" {
		t.Errorf("the observer began %d calls: %+v with the context value %v; want one, under the request's policy (MaxTries 2), with its context", len(calls), calls, values)
	}
}

// beginFunc is an Observer that calls a function as each call begins.
type beginFunc func(context.Context, backoff.Call)

func (f beginFunc) Begin(ctx context.Context, c backoff.Call) backoff.CallObserver {
	f(ctx, c)
	return nil
}

// A response that arrives once the request's context is done is cut off:
// the caller gets its context's error, and the body is closed.
func TestCallerCancelsAsAResponseArrives(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := &closeTracker{Reader: strings.NewReader("busy")}
	base := roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		cancel() // the caller gives up as the response comes
		return &http.Response{StatusCode: 503, Header: http.Header{}, Body: body, Request: req}, nil
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
	tr := &backoffhttp.Transport{Base: base, Policy: backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError}}
	resp, err := tr.RoundTrip(req)
	if resp != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %v; want context.Canceled and no response", resp, err)
	}
	if !body.closed {
		t.Error("the 503's body was not closed")
	}
}

// getFake returns a GET of the fake server.
func getFake(t *testing.T) *http.Request {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://fake.test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// A response is not returned if the request's context is done by the time
// the call ends, even if the call ended for another reason (here the
// policy's Observer cancels it as the call runs out of tries on a 503):
// its body, read under the attempt's context, which derives from the
// request's, could not be read. The caller gets the call's error, and the
// body is closed.
func TestCallerCancelsAsTheCallEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
		f := newFake(answer{code: 503, body: "busy"})
		cancelAtTheEnd := backoff.ObserverFunc(func(_ backoff.Event, a backoff.Action) {
			if a.Kind == backoff.ActionFinish {
				cancel()
			}
		})
		p := backoff.Policy{AttemptTimeout: time.Second, MaxTries: 1, RetryIf: backoff.AnyError, Observer: cancelAtTheEnd}
		resp, _, _, err := roundTripReq(t, f, p, req)
		e, ok := errors.AsType[*backoff.Error](err)
		if resp != nil || !ok || e.Reason != backoff.ErrMaxTries {
			t.Fatalf("got %v, %v; want ErrMaxTries and no response", resp, err)
		}
		if se, ok := errors.AsType[*backoffhttp.StatusError](e.Last); !ok || se.StatusCode != 503 {
			t.Errorf("Last is %v; want the 503", e.Last)
		}
		if !f.bodies[0].isClosed() {
			t.Error("the 503's body was not closed")
		}
	})
}
