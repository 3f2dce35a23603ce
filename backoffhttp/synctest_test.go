package backoffhttp_test

// Timing rules, checked to the nanosecond in testing/synctest bubbles, with
// a fake RoundTripper: no network, so virtual time is the only time.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
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
	cut    error // read the request's body, then fail with cut (a reset)
	length int64 // the response's ContentLength; 0: unknown (-1)
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
	if a.cut != nil {
		err = a.cut
	}
	if err == nil {
		select {
		case <-wait:
			body = &fakeBody{ctx: req.Context(), r: strings.NewReader(a.body), stall: a.stall, closing: make(chan struct{})}
			h := a.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			resp = &http.Response{StatusCode: a.code, Header: h, Body: body, Request: req, ContentLength: -1}
			if a.length != 0 {
				resp.ContentLength = a.length
			}
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
	eof    bool // a Read returned io.EOF
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
		b.eof = true
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

// drained reports whether the body was read to its end (EOF seen, as
// net/http needs to reuse the connection) and closed.
func (b *fakeBody) drained() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed && b.eof
}

// unread returns how many of its bytes were not read.
func (b *fakeBody) unread() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r.Len()
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

func roundTripReq(t *testing.T, f *fake, p backoff.Policy, req *http.Request, configure ...func(*backoffhttp.Transport)) (*http.Response, *recorder, time.Duration, error) {
	t.Helper()
	rec := &recorder{}
	p.Observer = backoff.MultiObserver(rec, p.Observer) // the test's own, if any, told after rec
	tr := &backoffhttp.Transport{Base: f, Policy: p}
	for _, c := range configure {
		c(tr)
	}
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

// A server that hangs cannot stall a DefaultPolicy call: each attempt is
// cut at 10s, and the call ends at its 30s deadline exactly, with an error
// that says it is a timeout, whatever the jittered pauses were.
func TestTimingDefaultPolicyCannotStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(answer{after: hang})
		resp, rec, took, err := roundTrip(t, f, backoffhttp.DefaultPolicy())
		e, ok := errors.AsType[*backoff.Error](err)
		if resp != nil || !ok || e.Reason != backoff.ErrDeadline || took != 30*time.Second || !e.Timeout() {
			t.Fatalf("got %v, %v at %v; want ErrDeadline at 30s, a timeout", resp, err, took)
		}
		if n := rec.attempts(); n != 3 {
			t.Errorf("%d attempts; want 3", n)
		}
		for i, s := range rec.all() {
			if s.a.Kind == backoff.ActionStart && s.a.Until-s.e.At > 10*time.Second {
				t.Errorf("step %d: an attempt allowed %v; want at most 10s", i, s.a.Until-s.e.At)
			}
		}
	})
}

// A server cannot make a client wait longer than Transport.MaxDelay: a
// hint beyond it ends the call at once, and the caller gets the response
// that carried it, as after a hint past the deadline. A hint of exactly
// MaxDelay is waited for.
func TestTimingMaxDelay(t *testing.T) {
	bubbleStart := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // synctest's epoch
	for _, tc := range []struct {
		name       string
		retryAfter string
		maxDelay   time.Duration
		retried    bool
	}{
		{"999999999999 seconds", "999999999999", 0, false},
		{"a day", "86400", 0, false},
		{"the year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Format(http.TimeFormat), 0, false},
		{"31s, over the default", "31", 0, false},
		{"30s, the default", "30", 0, true},
		{"a day, under a MaxDelay of two", "86400", 48 * time.Hour, true},
		{"a minute, over a MaxDelay of 2s", "60", 2 * time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				if !time.Now().Equal(bubbleStart) {
					t.Fatalf("the bubble starts at %v; the test assumes %v", time.Now(), bubbleStart)
				}
				f := newFake(
					answer{after: 100 * time.Millisecond, code: 503, header: http.Header{"Retry-After": {tc.retryAfter}}, body: "later"},
					answer{after: 0, code: 200, body: "ok"},
				)
				p := backoff.Policy{Pause: time.Second, MaxTries: 3, RetryIf: backoff.AnyError} // no deadline
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://fake.test/", nil)
				resp, rec, took, err := roundTripReq(t, f, p, req, func(tr *backoffhttp.Transport) { tr.MaxDelay = tc.maxDelay })
				if err != nil {
					t.Fatalf("RoundTrip: %v", err)
				}
				defer resp.Body.Close()
				if tc.retried {
					if resp.StatusCode != 200 || len(f.reqs) != 2 {
						t.Fatalf("got %d after %d attempts; want 200 after 2", resp.StatusCode, len(f.reqs))
					}
					return
				}
				if resp.StatusCode != 503 || took != 100*time.Millisecond || len(f.reqs) != 1 || resp.Header.Get("Retry-After") != tc.retryAfter {
					t.Fatalf("got %d at %v after %d attempts; want the 503, with its Retry-After, at 100ms after 1", resp.StatusCode, took, len(f.reqs))
				}
				if _, outcomes := rec.ended(); !equal(outcomes, []backoff.Outcome{backoff.OutcomeRejected}) {
					t.Errorf("outcomes %v; want [rejected]", outcomes)
				}
			})
		})
	}
}

// A negative MaxDelay is refused, with an error that names it, and the
// request's body is closed.
func TestMaxDelayNegative(t *testing.T) {
	for _, d := range []time.Duration{-time.Second, -1} {
		body := &closeTracker{Reader: strings.NewReader("payload")}
		req, _ := http.NewRequest(http.MethodPut, "http://fake.test/", body)
		f := newFake(answer{code: 200})
		resp, _, _, err := roundTripReq(t, f, backoff.Policy{}, req, func(tr *backoffhttp.Transport) { tr.MaxDelay = d })
		if resp != nil || err == nil || !strings.Contains(err.Error(), "MaxDelay is "+d.String()) || len(f.reqs) != 0 || !body.closed {
			t.Fatalf("MaxDelay %v: got %v, %v after %d attempts, body closed %v; want an error naming MaxDelay, no attempt", d, resp, err, len(f.reqs), body.closed)
		}
	}
}

// A hint that would reach the deadline of the request's context ends the
// call at once, as one that reaches Policy.Deadline does: the caller gets
// the response, not its context's error a second later.
func TestTimingRetryAfterAndTheCallersDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
		f := newFake(
			answer{after: 100 * time.Millisecond, code: 503, header: http.Header{"Retry-After": {"5"}}, body: "later"},
			answer{after: 0, code: 200, body: "ok"},
		)
		p := backoff.Policy{Pause: 10 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError}
		resp, rec, took, err := roundTripReq(t, f, p, req)
		if err != nil || resp.StatusCode != 503 || took != 100*time.Millisecond || len(f.reqs) != 1 {
			t.Fatalf("got %v, %v at %v after %d attempts; want the 503 at 100ms after 1", resp, err, took, len(f.reqs))
		}
		defer resp.Body.Close()
		if got := readAll(t, resp.Body); got != "later" {
			t.Errorf("body %q; want \"later\"", got)
		}
		if a := rec.finish(t); !errors.Is(a.Err, context.DeadlineExceeded) {
			t.Errorf("the call ended with %v; want the caller's deadline", a.Err)
		}
	})
}

// A 503 whose body stalls does not stall the client: draining it stops at
// DrainTimeout, closing it (and its connection), and the next attempt
// starts when both its pause and the drain are over. The last 503, which
// ends the call, is not drained: the caller gets it at once.
func TestTimingStalledBodyOfARetriedResponse(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pause time.Duration
		next  time.Duration // when attempt 2 starts
	}{
		{"pause shorter than the drain", 10 * time.Millisecond, 100*time.Millisecond + backoffhttp.DrainTimeout},
		{"pause longer than the drain", time.Second, 1100 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFake(answer{after: 100 * time.Millisecond, code: 503, body: "busy", stall: true})
				p := backoff.Policy{Pause: tc.pause, MaxTries: 2, RetryIf: backoff.AnyError}
				resp, _, took, err := roundTrip(t, f, p)
				if err != nil || resp.StatusCode != 503 || len(f.reqs) != 2 || took != tc.next+100*time.Millisecond {
					t.Fatalf("got %v, %v at %v after %d attempts; want the second 503 at %v", resp, err, took, len(f.reqs), tc.next+100*time.Millisecond)
				}
				if f.starts[1] != tc.next {
					t.Errorf("attempt 2 started at %v; want %v", f.starts[1], tc.next)
				}
				if !f.bodies[0].isClosed() || f.bodies[1].isClosed() {
					t.Errorf("closed: body 1 %v, body 2 %v; want the first only", f.bodies[0].isClosed(), f.bodies[1].isClosed())
				}
				resp.Body.Close()
			})
		})
	}
}

// A discarded body of exactly DrainLimit bytes is read to its end, so its
// connection is reused; a longer one is closed before its end. (Learning
// that a body ends within the limit takes one Read past it: a body of one
// byte more is read whole, but closed before its EOF is seen.)
func TestTimingDrainLimit(t *testing.T) {
	for _, tc := range []struct {
		size    int
		drained bool
	}{
		{backoffhttp.DrainLimit - 1, true},
		{backoffhttp.DrainLimit, true},
		{backoffhttp.DrainLimit + 2, false},
		{10 * backoffhttp.DrainLimit, false},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(answer{after: 0, code: 503, body: strings.Repeat("x", tc.size)}, answer{after: 0, code: 200})
			resp, _, _, err := roundTrip(t, f, backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("got %v, %v; want 200", resp, err)
			}
			resp.Body.Close()
			if b := f.bodies[0]; b.drained() != tc.drained || !b.isClosed() {
				t.Errorf("a body of %d bytes: drained %v, closed %v; want drained %v, closed", tc.size, b.drained(), b.isClosed(), tc.drained)
			}
		})
	}
}

// A discarded body whose Content-Length says it is longer than DrainLimit
// is closed at once, none of it read; one that says it is within the
// limit is read to its end.
func TestTimingDrainLimitByContentLength(t *testing.T) {
	for _, tc := range []struct {
		size    int
		drained bool
	}{
		{backoffhttp.DrainLimit, true},
		{backoffhttp.DrainLimit + 1, false},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := newFake(answer{after: 0, code: 503, body: strings.Repeat("x", tc.size), length: int64(tc.size)}, answer{after: 0, code: 200})
			resp, _, _, err := roundTrip(t, f, backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("got %v, %v; want 200", resp, err)
			}
			resp.Body.Close()
			b := f.bodies[0]
			if unread := b.unread(); b.drained() != tc.drained || !b.isClosed() || !tc.drained && unread != tc.size {
				t.Errorf("a body of Content-Length %d: drained %v, closed %v, %d bytes unread; want drained %v, closed, and none read if not drained",
					tc.size, b.drained(), b.isClosed(), unread, tc.drained)
			}
		})
	}
}

// On a fake clock, draining a discarded body that stalls stops at
// DrainTimeout on that clock: the next attempt, without a pause, starts
// when the clock reaches it, not before.
func TestFakeClockDrainTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clock := clockwork.NewFakeClockAt(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
		f := &fake{t0: clock.Now(), clock: clock, script: []answer{
			{after: 0, code: 503, body: "busy", stall: true},
			{after: 0, code: 200, body: "ok"},
		}}
		type result struct {
			resp *http.Response
			err  error
		}
		done := make(chan result, 1)
		go func() {
			resp, _, _, err := roundTrip(t, f, backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError, Clock: clock})
			done <- result{resp, err}
		}()
		synctest.Wait() // the drain waits for the stalled body, or for its timer
		clock.Advance(backoffhttp.DrainTimeout - 1)
		synctest.Wait()
		if f.bodies[0].isClosed() {
			t.Errorf("the stalled body was closed %v into its drain; want at %v", backoffhttp.DrainTimeout-1, backoffhttp.DrainTimeout)
		}
		clock.Advance(1)
		synctest.Wait()
		if !f.bodies[0].isClosed() {
			t.Errorf("the stalled body is not closed %v into its drain", backoffhttp.DrainTimeout)
			clock.Advance(time.Hour) // let the call end
		}
		r := <-done
		if r.err != nil || r.resp.StatusCode != 200 || len(f.reqs) != 2 || f.starts[1] != backoffhttp.DrainTimeout {
			t.Fatalf("got %v, %v after %d attempts, started at %v; want 200 from attempt 2, started at %v", r.resp, r.err, len(f.reqs), f.starts, backoffhttp.DrainTimeout)
		}
		r.resp.Body.Close()
	})
}

// A response that arrives at the very instant its attempt's time is up is
// cut off with it, not returned: its body could not be read. The attempt
// counts as timed out, and the next one's response is the answer. (At that
// instant the attempt context's timer may have run or not: the scenario is
// run 20 times, to see both.)
func TestTimingResponseAtTheCut(t *testing.T) {
	for range 20 {
		responseAtTheCut(t)
	}
}

func responseAtTheCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(
			answer{after: 50 * time.Millisecond, code: 200, body: "too late", late: true},
			answer{after: 0, code: 200, body: "ok"},
		)
		p := backoff.Policy{AttemptTimeout: 50 * time.Millisecond, MaxTries: 2, RetryIf: backoff.AnyError}
		resp, rec, took, err := roundTrip(t, f, p)
		if err != nil || len(f.reqs) != 2 || took != 50*time.Millisecond {
			t.Fatalf("got %v, %v at %v after %d attempts; want attempt 2's response at 50ms", resp, err, took, len(f.reqs))
		}
		defer resp.Body.Close()
		if got := readAll(t, resp.Body); got != "ok" {
			t.Errorf("body %q; want \"ok\"", got)
		}
		if !f.bodies[0].isClosed() {
			t.Error("the late response's body was not closed")
		}
		errs, outcomes := rec.ended()
		if !errors.Is(errs[0], backoff.ErrAttemptTimeout) || outcomes[0] != backoff.OutcomeFailed {
			t.Errorf("attempt 1 ended with %v (%v); want the attempt timeout, failed", errs[0], outcomes[0])
		}
	})
}

// The time limit of a body is the attempt's even when the caller's own
// deadline is later: reading fails at the attempt's limit.
func TestTimingBodyLimitUnderALaterCallersDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
		f := newFake(answer{after: 100 * time.Millisecond, code: 200, body: "abc"})
		resp, _, _, err := roundTripReq(t, f, backoff.Policy{AttemptTimeout: time.Second}, req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		time.Sleep(900 * time.Millisecond)
		synctest.Wait()
		if _, err := resp.Body.Read(make([]byte, 1)); !errors.Is(err, backoff.ErrAttemptTimeout) {
			t.Fatalf("read at the attempt's limit: %v; want ErrAttemptTimeout", err)
		}
	})
}

// Transport.DelayHint replaces ResponseDelay: here it reads GitHub's
// X-RateLimit-Reset, a Unix time, and the pause lasts until then.
func TestTimingDelayHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reset := time.Now().Add(5 * time.Second)
		f := newFake(
			answer{after: time.Second, code: 429, header: http.Header{"X-Ratelimit-Reset": {strconv.FormatInt(reset.Unix(), 10)}}},
			answer{after: 0, code: 200, body: "ok"},
		)
		hint := func(resp *http.Response, now time.Time) time.Duration {
			secs, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64)
			if err != nil {
				return 0
			}
			return time.Unix(secs, 0).Sub(now)
		}
		p := backoff.Policy{Pause: 100 * time.Millisecond, MaxTries: 2, RetryIf: backoff.AnyError}
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://fake.test/", nil)
		resp, rec, took, err := roundTripReq(t, f, p, req, func(tr *backoffhttp.Transport) { tr.DelayHint = hint })
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("got %v, %v; want 200", resp, err)
		}
		defer resp.Body.Close()
		errs, _ := rec.ended()
		if se, ok := errors.AsType[*backoffhttp.StatusError](errs[0]); !ok || se.RetryAfter() != 4*time.Second {
			t.Fatalf("attempt 1 ended with %v; want a 429 with hint 4s", errs[0])
		}
		if want := time.Second + pauseAfterHint(t, p, time.Second, 4*time.Second); took != want {
			t.Errorf("the answer came at %v; want %v", took, want)
		}
	})
}

// On a clockwork fake clock too, a response that arrives at the instant
// its attempt's time is up is cut off with it (run 20 times, as above);
// and a deadline of the caller's context, on the system clock, does not
// make a response look late by the fake clock's time.
func TestFakeClockResponseAtTheCut(t *testing.T) {
	for range 20 {
		synctest.Test(t, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
			f := &fake{t0: clock.Now(), clock: clock, script: []answer{
				{after: 50 * time.Millisecond, code: 200, body: "too late", late: true},
				{after: 0, code: 200, body: "ok"},
			}}
			go func() {
				synctest.Wait() // attempt 1 waits for its answer
				clock.Advance(50 * time.Millisecond)
			}()
			p := backoff.Policy{AttemptTimeout: 50 * time.Millisecond, MaxTries: 2, RetryIf: backoff.AnyError, Clock: clock}
			resp, _, _, err := roundTrip(t, f, p)
			if err != nil || len(f.reqs) != 2 {
				t.Fatalf("got %v, %v after %d attempts; want attempt 2's response", resp, err, len(f.reqs))
			}
			defer resp.Body.Close()
			if got := readAll(t, resp.Body); got != "ok" || !f.bodies[0].isClosed() {
				t.Fatalf("body %q, the late one closed: %v; want \"ok\", true", got, f.bodies[0].isClosed())
			}
		})
	}
	synctest.Test(t, func(t *testing.T) {
		clock := clockwork.NewFakeClockAt(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)) // after the caller's deadline
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://fake.test/", nil)
		f := &fake{t0: clock.Now(), clock: clock, script: []answer{{after: 0, code: 200, body: "ok"}}}
		p := backoff.Policy{AttemptTimeout: time.Second, MaxTries: 2, RetryIf: backoff.AnyError, Clock: clock}
		resp, _, _, err := roundTripReq(t, f, p, req)
		if err != nil || len(f.reqs) != 1 {
			t.Fatalf("got %v, %v after %d attempts; want the first response", resp, err, len(f.reqs))
		}
		defer resp.Body.Close()
		if got := readAll(t, resp.Body); got != "ok" {
			t.Errorf("body %q; want \"ok\"", got)
		}
	})
}

// On a fake clock, the cut of an attempt after the first is its own
// start plus its timeout: a response that arrives at attempt 2's cut,
// 100ms into the call, is cut off too.
func TestFakeClockResponseAtTheCutOfALaterAttempt(t *testing.T) {
	for range 5 {
		synctest.Test(t, func(t *testing.T) {
			clock := clockwork.NewFakeClockAt(time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC))
			f := &fake{t0: clock.Now(), clock: clock, script: []answer{
				{after: 0, code: 503, body: "busy"},
				{after: 50 * time.Millisecond, code: 200, body: "too late", late: true},
				{after: 0, code: 200, body: "ok"},
			}}
			go func() {
				for _, d := range []time.Duration{100 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond} {
					synctest.Wait() // a pause, or attempt 2 waiting for its answer
					clock.Advance(d)
				}
			}()
			p := backoff.Policy{AttemptTimeout: 50 * time.Millisecond, Pause: 100 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError, Clock: clock}
			resp, _, _, err := roundTrip(t, f, p)
			if err != nil || len(f.reqs) != 3 {
				t.Fatalf("got %v, %v after %d attempts; want attempt 3's response", resp, err, len(f.reqs))
			}
			defer resp.Body.Close()
			if got := readAll(t, resp.Body); got != "ok" || !f.bodies[1].isClosed() {
				t.Fatalf("body %q, the late one closed: %v; want \"ok\", true", got, f.bodies[1].isClosed())
			}
		})
	}
}

// A Base that returns neither a response nor an error breaks the
// RoundTripper contract: the call ends with an error saying so, not a
// panic.
func TestBaseReturnsNothing(t *testing.T) {
	base := roundTripperFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
	tr := &backoffhttp.Transport{Base: base, Policy: backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError}}
	req, _ := http.NewRequest(http.MethodGet, "http://fake.test/", nil)
	resp, err := tr.RoundTrip(req)
	if resp != nil || err == nil || !strings.Contains(err.Error(), "nil response and a nil error") {
		t.Fatalf("got %v, %v; want an error naming the nil response", resp, err)
	}
}
