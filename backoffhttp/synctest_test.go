package backoffhttp_test

// Timing rules, checked to the nanosecond in testing/synctest bubbles, with
// a fake RoundTripper: no network, so virtual time is the only time.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

// An answer is what the fake server does with one request.
type answer struct {
	after  time.Duration // how long it takes to answer; hang: until the request's context is done
	code   int
	header http.Header
	body   string
	stall  bool  // the body stalls after its bytes: a Read blocks until it is closed or its context is done
	late   bool  // the answer comes at its time even if the request's context is done by then
	err    error // fail at once with err, without reading the request's body (a failed dial)
}

// hang is an answer's after for a server that never answers.
const hang = -1

// fake is a RoundTripper that gives attempt n the nth answer of its
// script (the last one for the attempts beyond), as a server would:
// it answers after its time, or returns the cause of the request's
// context when that is done first. It records each attempt.
type fake struct {
	t0     time.Time // to measure the start of each attempt from
	clock  clockwork.Clock
	script []answer

	mu       sync.Mutex
	reqs     []*http.Request
	starts   []time.Duration
	sent     []string    // the request body each attempt read ("" if none)
	bodies   []*fakeBody // nil for an attempt that got no response
	errs     []error     // what each attempt returned
	attempts []int       // what Attempt says of each attempt's context
}

func (f *fake) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.starts = append(f.starts, f.now().Sub(f.t0))
	f.attempts = append(f.attempts, backoffhttp.Attempt(req.Context()))
	a := f.script[min(n, len(f.script)-1)]
	f.mu.Unlock()

	var sent []byte
	if req.Body != nil {
		if a.err == nil {
			sent, _ = io.ReadAll(req.Body)
		}
		req.Body.Close()
	}
	var wait <-chan time.Time
	if a.after != hang {
		t := f.clock.NewTimer(a.after)
		defer t.Stop()
		wait = t.Chan()
	}
	done := req.Context().Done()
	if a.late {
		done = nil
	}
	var resp *http.Response
	var body *fakeBody
	err := a.err
	if err == nil {
		select {
		case <-wait:
			body = &fakeBody{ctx: req.Context(), r: strings.NewReader(a.body), stall: a.stall, closing: make(chan struct{})}
			h := a.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			resp = &http.Response{StatusCode: a.code, Header: h, Body: body, Request: req, ContentLength: -1}
		case <-done:
			err = context.Cause(req.Context())
		}
	}
	f.mu.Lock()
	f.sent = append(f.sent, string(sent))
	f.bodies = append(f.bodies, body)
	f.errs = append(f.errs, err)
	f.mu.Unlock()
	return resp, err
}

func (f *fake) now() time.Time {
	if f.clock == nil {
		return time.Now()
	}
	return f.clock.Now()
}

// newFake returns a fake on the system clock (virtual in a bubble), its
// t0 now.
func newFake(script ...answer) *fake {
	return &fake{t0: time.Now(), clock: clockwork.NewRealClock(), script: script}
}

// fakeBody is a response body that fails, as net/http's do, once its
// request's context is done before it has been read to its end. One that
// stalls blocks, once its bytes are read, until it is closed or its
// request's context is done.
type fakeBody struct {
	ctx     context.Context
	r       *strings.Reader
	stall   bool
	closing chan struct{} // closed by Close

	mu     sync.Mutex
	closed bool
}

func (b *fakeBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	switch {
	case b.closed:
		b.mu.Unlock()
		return 0, errors.New("read on a closed body")
	case b.ctx.Err() != nil:
		b.mu.Unlock()
		return 0, context.Cause(b.ctx)
	case b.r.Len() == 0 && b.stall:
		b.mu.Unlock()
		select {
		case <-b.closing:
			return 0, errors.New("read on a closed body")
		case <-b.ctx.Done():
			return 0, context.Cause(b.ctx)
		}
	case b.r.Len() == 0:
		b.mu.Unlock()
		return 0, io.EOF
	}
	defer b.mu.Unlock()
	return b.r.Read(p)
}

func (b *fakeBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.closing)
	}
	return nil
}

// drained reports whether the body was read to its end and closed.
func (b *fakeBody) drained() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed && b.r.Len() == 0
}

func (b *fakeBody) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// roundTrip sends a GET through a Transport over f under p, and returns
// the result, what the observer saw, and when it returned.
func roundTrip(t *testing.T, f *fake, p backoff.Policy) (*http.Response, *recorder, time.Duration, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://fake.test/", nil)
	if err != nil {
		t.Fatal(err)
	}
	return roundTripReq(t, f, p, req)
}

func roundTripReq(t *testing.T, f *fake, p backoff.Policy, req *http.Request) (*http.Response, *recorder, time.Duration, error) {
	t.Helper()
	rec := &recorder{}
	p.Observer = backoff.MultiObserver(rec, p.Observer) // the test's own, if any, told after rec
	tr := &backoffhttp.Transport{Base: f, Policy: p}
	resp, err := tr.RoundTrip(req)
	return resp, rec, f.now().Sub(f.t0), err
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return string(b)
}

func durations(ds ...time.Duration) []time.Duration { return ds }

// Three 503s, each taking 10ms, 100ms apart: the attempts start at 0,
// 110ms and 220ms, and the caller gets the third 503 at 230ms, as it came;
// the first two bodies were drained and closed.
func TestTimingPausesBetweenStatuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(
			answer{after: 10 * time.Millisecond, code: 503, body: "busy 1"},
			answer{after: 10 * time.Millisecond, code: 503, body: "busy 2"},
			answer{after: 10 * time.Millisecond, code: 503, body: "busy 3"},
		)
		resp, rec, took, err := roundTrip(t, f, backoff.Policy{Pause: 100 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError})
		if err != nil || resp.StatusCode != 503 || took != 230*time.Millisecond {
			t.Fatalf("got %v, %v at %v; want the last 503 at 230ms", resp, err, took)
		}
		if !equal(f.starts, durations(0, 110*time.Millisecond, 220*time.Millisecond)) {
			t.Errorf("attempts started at %v; want [0 110ms 220ms]", f.starts)
		}
		// The bodies retried were drained and closed; the last one is the
		// caller's, untouched.
		for i, b := range f.bodies[:2] {
			if !b.drained() {
				t.Errorf("body %d was not drained and closed", i+1)
			}
		}
		if f.bodies[2].isClosed() || resp.Body == nil {
			t.Fatal("the body of the response returned is closed")
		}
		if got := readAll(t, resp.Body); got != "busy 3" {
			t.Errorf("body %q; want \"busy 3\"", got)
		}
		resp.Body.Close()
		errs, _ := rec.ended()
		if se, ok := errors.AsType[*backoffhttp.StatusError](errs[2]); !ok || se.Error() != "backoffhttp: 503 Service Unavailable" {
			t.Errorf("the observer saw %v last; want backoffhttp: 503 Service Unavailable", errs[2])
		}
	})
}

// A hang is cut by the attempt timeout, with the cause ErrAttemptTimeout
// on the request's context; the next attempt starts a pause later.
func TestTimingAttemptTimeoutCutsAHang(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(
			answer{after: hang},
			answer{after: 5 * time.Millisecond, code: 200, body: "ok"},
		)
		p := backoff.Policy{AttemptTimeout: 50 * time.Millisecond, Pause: 20 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError}
		resp, rec, took, err := roundTrip(t, f, p)
		if err != nil || resp.StatusCode != 200 || took != 75*time.Millisecond {
			t.Fatalf("got %v, %v at %v; want 200 at 75ms", resp, err, took)
		}
		defer resp.Body.Close()
		if !equal(f.starts, durations(0, 70*time.Millisecond)) {
			t.Errorf("attempts started at %v; want [0 70ms]", f.starts)
		}
		if !errors.Is(f.errs[0], backoff.ErrAttemptTimeout) {
			t.Errorf("the hung request's context ended with %v; want ErrAttemptTimeout", f.errs[0])
		}
		steps := rec.all()
		if s := steps[1]; s.e.At != 50*time.Millisecond || s.a.Outcome != backoff.OutcomeFailed {
			t.Errorf("attempt 1 ended at %v (%v); want 50ms, failed", s.e.At, s.a.Outcome)
		}
		if d, _ := f.reqs[1].Context().Deadline(); !d.Equal(f.t0.Add(120 * time.Millisecond)) {
			t.Errorf("attempt 2's request context reports the deadline %v; want its time limit, 120ms in", d.Sub(f.t0))
		}
	})
}

// The response's body outlives RoundTrip (the executor cancels the
// attempt's own context as soon as the attempt returns) but not the
// attempt's time limit: reading fails from then on, with its cause.
func TestTimingBodyLivesUntilTheAttemptsLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     backoff.Policy
		limit time.Duration // when reading starts to fail, from the call's start
		cause error
	}{
		{"attempt timeout", backoff.Policy{AttemptTimeout: time.Second}, time.Second, backoff.ErrAttemptTimeout},
		{"deadline", backoff.Policy{AttemptTimeout: time.Second, Deadline: 500 * time.Millisecond}, 500 * time.Millisecond, backoff.ErrDeadline},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(answer{after: 100 * time.Millisecond, code: 200, body: "abc"})
				resp, _, took, err := roundTrip(t, f, tc.p)
				if err != nil || took != 100*time.Millisecond {
					t.Fatalf("got %v at %v; want a response at 100ms", err, took)
				}
				defer resp.Body.Close()
				one := make([]byte, 1)
				time.Sleep(tc.limit - took - time.Nanosecond) // just before the limit
				if _, err := resp.Body.Read(one); err != nil {
					t.Fatalf("read just before the limit: %v", err)
				}
				time.Sleep(time.Nanosecond)
				synctest.Wait()
				_, err = resp.Body.Read(one)
				if !errors.Is(err, tc.cause) || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("read at the limit: %v; want %v", err, tc.cause)
				}
			})
		})
	}
}

// Closing the body, or reading it to its end, releases its request's
// context at once.
func TestTimingBodyReleasesItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, how := range []string{"close", "read to the end"} {
			f := newFake(answer{after: 0, code: 200, body: "abc"})
			resp, _, _, err := roundTrip(t, f, backoff.Policy{AttemptTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			ctx := f.reqs[0].Context()
			if ctx.Err() != nil {
				t.Fatalf("%s: the request's context is done before the body is read", how)
			}
			if how == "close" {
				resp.Body.Close()
			} else {
				readAll(t, resp.Body)
			}
			if ctx.Err() == nil {
				t.Errorf("%s: the request's context is still alive", how)
			}
			resp.Body.Close()
		}
	})
}

// hinted is an error with a delay hint, for the probe below.
type hinted time.Duration

func (h hinted) Error() string             { return "hinted" }
func (h hinted) RetryAfter() time.Duration { return time.Duration(h) }

// pauseAfterHint asks the decision core how long it pauses after a
// failure with a delay hint, at a time into a call under p: p.Pause where
// the core does not read hints, the hint where it does. The tests follow
// the core either way: what they check here is the Transport, not the core.
func pauseAfterHint(t *testing.T, p backoff.Policy, at, hint time.Duration) time.Duration {
	t.Helper()
	p.RetryIf, p.Observer = backoff.AnyError, nil
	x, err := backoff.NewExecution(p)
	if err != nil {
		t.Fatal(err)
	}
	x.Step(backoff.Event{Kind: backoff.EventBegan})
	a := x.Step(backoff.Event{Kind: backoff.EventEnded, At: at, Attempt: 1, Err: hinted(hint)})
	if a.Kind != backoff.ActionPause {
		t.Fatalf("the core answered %v to a hinted failure at %v; want a pause", a.Kind, at)
	}
	return a.Until - at
}

// A 429 arrives 1s into a call with a 10s deadline. A Retry-After that
// ends at or after the deadline ends the call there and then, with the
// 429; one that ends before it is retried.
func TestTimingRetryAfterAndTheDeadline(t *testing.T) {
	bubbleStart := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's epoch
	at := bubbleStart.Add(time.Second)                         // when the 429 arrives
	date := func(d time.Duration) string { return at.Add(d).Format(http.TimeFormat) }
	for _, tc := range []struct {
		name   string
		header http.Header
		hint   time.Duration
		retry  bool
	}{
		{"seconds, to the deadline", http.Header{"Retry-After": {"9"}}, 9 * time.Second, false},
		{"seconds, past it", http.Header{"Retry-After": {"30"}}, 30 * time.Second, false},
		{"seconds, before it", http.Header{"Retry-After": {"8"}}, 8 * time.Second, true},
		{"date, to the deadline", http.Header{"Retry-After": {date(9 * time.Second)}}, 9 * time.Second, false},
		{"date, before it", http.Header{"Retry-After": {date(8 * time.Second)}}, 8 * time.Second, true},
		{"date, from the Date header", http.Header{"Retry-After": {date(3 * time.Second)}, "Date": {date(-6 * time.Second)}}, 9 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if !time.Now().Equal(bubbleStart) {
					t.Fatalf("the bubble starts at %v; the test assumes %v", time.Now(), bubbleStart)
				}
				f := newFake(
					answer{after: time.Second, code: 429, header: tc.header, body: "slow down"},
					answer{after: 0, code: 200, body: "ok"},
				)
				p := backoff.Policy{Deadline: 10 * time.Second, Pause: 100 * time.Millisecond, MaxTries: 5, RetryIf: backoff.AnyError}
				resp, rec, took, err := roundTrip(t, f, p)
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				defer resp.Body.Close()
				errs, _ := rec.ended()
				if se, ok := errors.AsType[*backoffhttp.StatusError](errs[0]); !ok || se.RetryAfter() != tc.hint {
					t.Fatalf("attempt 1 ended with %v; want a StatusError with hint %v", errs[0], tc.hint)
				}
				if !tc.retry {
					if resp.StatusCode != 429 || took != time.Second || len(f.reqs) != 1 || readAll(t, resp.Body) != "slow down" {
						t.Fatalf("got %d at %v after %d attempts; want the 429 at 1s after 1", resp.StatusCode, took, len(f.reqs))
					}
					if a := rec.finish(t); !errors.Is(a.Err, backoff.ErrDeadline) {
						t.Errorf("the call ended with %v; want ErrDeadline", a.Err)
					}
					return
				}
				want := time.Second + pauseAfterHint(t, p, time.Second, tc.hint)
				if resp.StatusCode != 200 || took != want || len(f.reqs) != 2 {
					t.Fatalf("got %d at %v after %d attempts; want 200 at %v after 2", resp.StatusCode, took, len(f.reqs), want)
				}
			})
		})
	}
}

// A 503, then an attempt the deadline cuts: the 503 was discarded when that
// attempt started, so the caller gets the error, whose Last is still the
// 503's StatusError (a cut does not replace Last): the code is not lost.
func TestTimingDeadlineCutsTheAttemptAfterA503(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(answer{after: 10 * time.Millisecond, code: 503, body: "busy"}, answer{after: hang})
		p := backoff.Policy{Deadline: 250 * time.Millisecond, Pause: 100 * time.Millisecond, MaxTries: 5, RetryIf: backoff.AnyError}
		resp, _, took, err := roundTrip(t, f, p)
		e, ok := errors.AsType[*backoff.Error](err)
		if resp != nil || !ok || took != 250*time.Millisecond || e.Reason != backoff.ErrDeadline || e.Attempts != 2 {
			t.Fatalf("got %v, %v at %v; want ErrDeadline after 2 attempts at 250ms", resp, err, took)
		}
		if se, ok := e.Last.(*backoffhttp.StatusError); !ok || se.StatusCode != 503 {
			t.Errorf("Last is %v; want the 503", e.Last)
		}
		if !f.bodies[0].drained() {
			t.Error("the 503's body was not drained and closed")
		}
		if !errors.Is(f.errs[1], backoff.ErrDeadline) {
			t.Errorf("the cut request's context ended with %v; want ErrDeadline", f.errs[1])
		}
	})
}

// The caller cancels during the pause after a 503: the call ends at once
// with the caller's cause, the 503 in Last, and its response closed.
func TestTimingCallerCancelsDuringThePause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errStop := errors.New("stop")
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(500*time.Millisecond, func() { cancel(errStop) })
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
		f := newFake(answer{after: 10 * time.Millisecond, code: 503, body: "busy"})
		p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.AnyError}
		resp, _, took, err := roundTripReq(t, f, p, req)
		if resp != nil || !errors.Is(err, errStop) || took != 500*time.Millisecond {
			t.Fatalf("got %v, %v at %v; want the cause at 500ms", resp, err, took)
		}
		if se, ok := errors.AsType[*backoffhttp.StatusError](err); !ok || se.StatusCode != 503 {
			t.Errorf("the error carries %v; want the 503", se)
		}
		if !f.bodies[0].isClosed() {
			t.Error("the 503's response was not closed")
		}
	})
}

// closeTracker is a request body that records that it was closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

// A request that may not be sent twice (a PUT whose body cannot be
// replayed, a POST) runs under the policy's time limits: its hang is cut,
// and not retried, though the core retries attempt timeouts; the Transport
// gives up.
func TestTimingNotResendableSentOnceUnderTheTimeout(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		body   func() io.Reader
	}{
		{"PUT, body not replayable", http.MethodPut, func() io.Reader { return &closeTracker{Reader: strings.NewReader("payload")} }},
		{"POST, body replayable", http.MethodPost, func() io.Reader { return strings.NewReader("payload") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				body := tc.body()
				req, _ := http.NewRequestWithContext(t.Context(), tc.method, "http://fake.test/", body)
				f := newFake(answer{after: hang})
				p := backoff.Policy{AttemptTimeout: 50 * time.Millisecond, MaxTries: 5, RetryIf: backoff.AnyError}
				resp, _, took, err := roundTripReq(t, f, p, req)
				e, ok := errors.AsType[*backoff.Error](err)
				if resp != nil || !ok || e.Reason != backoff.ErrGaveUp || e.Last != backoff.ErrAttemptTimeout || e.Attempts != 1 || took != 50*time.Millisecond {
					t.Fatalf("got %v, %v at %v; want ErrGaveUp after 1 attempt timed out at 50ms", resp, err, took)
				}
				if !e.Timeout() {
					t.Error("Timeout() is false for a call cut by its attempt timeout")
				}
				if ct, ok := body.(*closeTracker); ok && !ct.closed {
					t.Error("the request body was not closed")
				}
			})
		})
	}
}

// No attempt (the caller's context is done, or the policy is invalid):
// the request's body is closed all the same, as a RoundTripper must.
func TestNoAttemptClosesTheBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  func() context.Context
		p    backoff.Policy
		want error
	}{
		{"context done", func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, backoff.Policy{MaxTries: 3}, context.Canceled},
		{"invalid policy", context.Background, backoff.Policy{MaxTries: -1}, backoff.ErrInvalidPolicy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &closeTracker{Reader: strings.NewReader("payload")}
			req, _ := http.NewRequestWithContext(tc.ctx(), http.MethodPut, "http://fake.test/", body)
			f := newFake(answer{code: 200})
			resp, _, _, err := roundTripReq(t, f, tc.p, req)
			if resp != nil || !errors.Is(err, tc.want) || len(f.reqs) != 0 || !body.closed {
				t.Fatalf("got %v, %v after %d attempts, body closed %v; want %v, no attempt, the body closed",
					resp, err, len(f.reqs), body.closed, tc.want)
			}
		})
	}
}

// On a clockwork fake clock, the body's time limit and a Retry-After date
// are measured on that clock.
func TestFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := clockwork.NewFakeClockAt(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
		f := &fake{t0: clock.Now(), clock: clock, script: []answer{
			{after: 0, code: 503, header: http.Header{"Retry-After": {clock.Now().Add(21 * time.Second).Format(http.TimeFormat)}}},
			{after: 0, code: 200, body: "abc"},
		}}
		// The 503's hint makes the pause 21s: move the fake clock over it.
		skip := backoff.ObserverFunc(func(e backoff.Event, a backoff.Action) {
			if a.Kind == backoff.ActionPause {
				clock.Advance(a.Until - e.At)
			}
		})
		p := backoff.Policy{AttemptTimeout: time.Second, Clock: clock, MaxTries: 2, RetryIf: backoff.AnyError, Observer: skip}
		resp, rec, _, err := roundTrip(t, f, p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v; want 200", resp, err)
		}
		defer resp.Body.Close()
		errs, _ := rec.ended()
		if se, ok := errors.AsType[*backoffhttp.StatusError](errs[0]); !ok || se.RetryAfter() != 21*time.Second {
			t.Errorf("attempt 1 ended with %v; want a 503 with hint 21s", errs[0])
		}
		one := make([]byte, 1)
		clock.Advance(999 * time.Millisecond)
		synctest.Wait()
		if _, err := resp.Body.Read(one); err != nil {
			t.Fatalf("read before the limit: %v", err)
		}
		clock.Advance(time.Millisecond)
		synctest.Wait()
		if _, err := resp.Body.Read(one); !errors.Is(err, backoff.ErrAttemptTimeout) {
			t.Fatalf("read at the limit: %v; want ErrAttemptTimeout", err)
		}
	})
}
