package backoffhttp_test

// Tests against real servers on loopback: httptest servers, and a raw
// listener that resets, drops or hangs connections. They check outcomes
// and counts, never how long anything took; timing is checked exactly in
// synctest_test.go, with a fake RoundTripper in a bubble.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

// flaky returns a handler that answers the first n requests with status
// code (and a short body), and the others with 200 and "hello", and a
// counter of the requests it got.
func flaky(n int, code int) (http.HandlerFunc, *atomic.Int64) {
	var hits atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= int64(n) {
			http.Error(w, "busy", code)
			return
		}
		io.WriteString(w, "hello")
	}, &hits
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading the body: %v", err)
	}
	return resp, string(b)
}

func TestFlaky503sThen200(t *testing.T) {
	h, hits := flaky(2, http.StatusServiceUnavailable)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, rec := client(t, retry(5))

	resp, body := get(t, c, srv.URL)
	if resp.StatusCode != 200 || body != "hello" || hits.Load() != 3 {
		t.Fatalf("got %d %q after %d requests; want 200 \"hello\" after 3", resp.StatusCode, body, hits.Load())
	}
	if got := rec.statuses(); !equal(got, []int{503, 503, 0}) {
		t.Errorf("the observer saw statuses %v; want [503 503 0] (0: success)", got)
	}
	if _, outcomes := rec.ended(); !equal(outcomes, []backoff.Outcome{backoff.OutcomeFailed, backoff.OutcomeFailed, backoff.OutcomeSucceeded}) {
		t.Errorf("outcomes %v", outcomes)
	}
}

// When the tries run out on a retryable status, the caller gets the last
// response, body and all, with a nil error, as from a plain http.Client.
func TestRetriesRunOutOnAStatus(t *testing.T) {
	h, hits := flaky(1000, http.StatusBadGateway)
	var cc connCounter
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = cc.track
	srv.Start()
	defer srv.Close()
	c, rec := client(t, retry(3))

	resp, body := get(t, c, srv.URL)
	if resp.StatusCode != 502 || body != "busy\n" || hits.Load() != 3 {
		t.Fatalf("got %d %q after %d requests; want 502 \"busy\\n\" after 3", resp.StatusCode, body, hits.Load())
	}
	if a := rec.finish(t); !errors.Is(a.Err, backoff.ErrMaxTries) {
		t.Errorf("the call ended with %v; want ErrMaxTries", a.Err)
	}
	// The last 502 was retryable, though not retried: Failed, as the others.
	if _, outcomes := rec.ended(); !equal(outcomes, []backoff.Outcome{backoff.OutcomeFailed, backoff.OutcomeFailed, backoff.OutcomeFailed}) {
		t.Errorf("outcomes %v; want three failed", outcomes)
	}
	// The pool is kept when retries run out: more calls that run out of
	// retries go over the same connection. (A client that closed its idle
	// connections when it gave up would open one per call. net/http itself
	// opens another, now and then, when a request's write is reported late:
	// hence a bound, not an exact count.)
	for range 9 {
		get(t, c, srv.URL)
	}
	if n := cc.opened.Load(); n > 3 {
		t.Errorf("%d connections for 10 calls of 3 sequential exchanges; want 1 (at most 3)", n)
	}
}

// A status that is not retried ends the call at once; the observer sees
// its code (as a rejected failure) and the caller gets the response.
func TestNotRetriedStatus(t *testing.T) {
	h, hits := flaky(1000, http.StatusNotFound)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, rec := client(t, retry(3))

	resp, body := get(t, c, srv.URL)
	if resp.StatusCode != 404 || body != "busy\n" || hits.Load() != 1 {
		t.Fatalf("got %d %q after %d requests; want 404 after 1", resp.StatusCode, body, hits.Load())
	}
	if got := rec.statuses(); !equal(got, []int{404}) {
		t.Errorf("the observer saw %v; want [404]", got)
	}
	if _, outcomes := rec.ended(); !equal(outcomes, []backoff.Outcome{backoff.OutcomeRejected}) {
		t.Errorf("outcomes %v; want [rejected]", outcomes)
	}
}

// serverDate is the Date the Retry-After tests' server stamps on its
// responses: an HTTP-date in Retry-After is measured from it, so the hints
// are exact whatever the time is.
var serverDate = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		retryAfter string
		deadline   time.Duration
		hint       time.Duration // what StatusError.RetryAfter says
		retried    bool
	}{
		{"seconds, zero: retried", "0", time.Minute, 0, true},
		{"date, past: retried", serverDate.Add(-10 * time.Second).Format(http.TimeFormat), time.Minute, 0, true},
		{"seconds past the deadline: the 429 at once", "20", 10 * time.Second, 20 * time.Second, false},
		{"date past the deadline: the 429 at once", serverDate.Add(15 * time.Second).Format(http.TimeFormat), 10 * time.Second, 15 * time.Second, false},
		{"garbage: no hint, retried", "soon", time.Minute, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", serverDate.Format(http.TimeFormat))
				if hits.Add(1) == 1 {
					w.Header().Set("Retry-After", tc.retryAfter)
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return
				}
				io.WriteString(w, "hello")
			}))
			defer srv.Close()
			p := retry(3)
			p.Deadline = tc.deadline
			c, rec := client(t, p)

			resp, body := get(t, c, srv.URL)
			errs, _ := rec.ended()
			se, ok := errors.AsType[*backoffhttp.StatusError](errs[0])
			if !ok || se.StatusCode != 429 || se.RetryAfter() != tc.hint {
				t.Fatalf("the observer saw %v first; want a 429 StatusError with hint %v", errs[0], tc.hint)
			}
			if tc.retried {
				if resp.StatusCode != 200 || body != "hello" || hits.Load() != 2 {
					t.Fatalf("got %d %q after %d requests; want 200 after 2", resp.StatusCode, body, hits.Load())
				}
				return
			}
			if resp.StatusCode != 429 || body != "slow down\n" || resp.Header.Get("Retry-After") != tc.retryAfter || hits.Load() != 1 {
				t.Fatalf("got %d %q (Retry-After %q) after %d requests; want the 429 after 1",
					resp.StatusCode, body, resp.Header.Get("Retry-After"), hits.Load())
			}
			if a := rec.finish(t); !errors.Is(a.Err, backoff.ErrDeadline) {
				t.Errorf("the call ended with %v; want ErrDeadline", a.Err)
			}
		})
	}
}

// opaque hides the type of a reader, so that http.NewRequest cannot set
// GetBody for it.
type opaque struct{ io.Reader }

func TestPOST(t *testing.T) {
	always := func(tr *backoffhttp.Transport) { tr.Eligible = func(*http.Request) bool { return true } }
	errNoBody := errors.New("no body today")
	for _, tc := range []struct {
		name      string
		body      func() io.Reader
		key       bool                           // with an Idempotency-Key header
		configure []func(*backoffhttp.Transport) // options of the Transport
		getBody   func() (io.ReadCloser, error)  // replaces the request's GetBody if not nil
		want      int                            // requests the server gets
	}{
		{"not idempotent: sent once", func() io.Reader { return strings.NewReader("payload") }, false, nil, nil, 1},
		{"Idempotency-Key and GetBody: replayed", func() io.Reader { return strings.NewReader("payload") }, true, nil, nil, 3},
		{"Idempotency-Key without GetBody: sent once", func() io.Reader { return opaque{strings.NewReader("payload")} }, true, nil, nil, 1},
		{"opted in with GetBody: replayed", func() io.Reader { return bytes.NewBufferString("payload") }, false, []func(*backoffhttp.Transport){always}, nil, 3},
		{"opted in without GetBody: sent once", func() io.Reader { return opaque{strings.NewReader("payload")} }, false, []func(*backoffhttp.Transport){always}, nil, 1},
		{"GetBody fails: not retried", func() io.Reader { return strings.NewReader("payload") }, true, nil,
			func() (io.ReadCloser, error) { return nil, errNoBody }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				bodies = append(bodies, string(b))
				n := len(bodies)
				mu.Unlock()
				if n < 3 {
					http.Error(w, "busy", http.StatusServiceUnavailable)
					return
				}
				io.WriteString(w, "created")
			}))
			defer srv.Close()
			c, rec := client(t, retry(5), tc.configure...)

			req, err := http.NewRequest(http.MethodPost, srv.URL, tc.body())
			if err != nil {
				t.Fatal(err)
			}
			if tc.key {
				req.Header.Set("Idempotency-Key", "k-1")
			}
			if tc.getBody != nil {
				req.GetBody = tc.getBody
			}
			resp, err := c.Do(req)
			mu.Lock()
			got := bodies
			mu.Unlock()
			if len(got) != tc.want {
				t.Fatalf("the server got %d requests; want %d", len(got), tc.want)
			}
			for i, b := range got {
				if b != "payload" {
					t.Errorf("request %d had body %q; want \"payload\"", i+1, b)
				}
			}
			attempts := tc.want
			if tc.getBody != nil {
				attempts++ // the second attempt fails before it sends anything
			}
			if rec.attempts() != attempts {
				t.Errorf("the observer saw %d attempts; want %d", rec.attempts(), attempts)
			}
			switch {
			case tc.getBody != nil:
				if !errors.Is(err, errNoBody) || !errors.Is(err, backoff.ErrNotRetryable) {
					t.Fatalf("got %v; want the GetBody error, not retried", err)
				}
				if se, ok := errors.AsType[*backoffhttp.StatusError](err); ok {
					t.Errorf("the error carries %v; want the GetBody failure as Last", se)
				}
			case err != nil:
				t.Fatalf("Do: %v", err)
			case tc.want == 1:
				if resp.StatusCode != 503 {
					t.Errorf("status %d; want the 503 of the only attempt", resp.StatusCode)
				}
			default:
				if resp.StatusCode != 200 {
					t.Errorf("status %d; want 200", resp.StatusCode)
				}
			}
			if resp != nil {
				resp.Body.Close()
			}
		})
	}
}

// rawServer accepts connections on loopback and hands the nth (from 1) to
// handle in a goroutine of its own. It returns the server's URL and the
// number of connections accepted so far. Cleanup closes everything and
// waits for the handlers.
func rawServer(t *testing.T, handle func(n int, c net.Conn)) (string, func() int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		conns    []net.Conn
		accepted atomic.Int64
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			n := int(accepted.Add(1))
			wg.Go(func() { handle(n, c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return "http://" + l.Addr().String(), func() int { return int(accepted.Load()) }
}

// readRequest reads one request from c, body included.
func readRequest(c net.Conn) error {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, req.Body)
	return err
}

// respondOK reads a request and answers 200 "ok", closing the connection.
func respondOK(c net.Conn) {
	defer c.Close()
	if readRequest(c) == nil {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	}
}

func TestHungServerCutByAttemptTimeout(t *testing.T) {
	var hung atomic.Int64
	url, _ := rawServer(t, func(n int, c net.Conn) {
		if n == 1 { // read the request, never answer; wait for the client to hang up
			hung.Add(1)
			readRequest(c)
			io.Copy(io.Discard, c)
			c.Close()
			return
		}
		respondOK(c)
	})
	p := retry(5)
	p.AttemptTimeout = 50 * time.Millisecond // only to cut the hang: no time is checked
	c, rec := client(t, p)

	resp, body := get(t, c, url)
	if resp.StatusCode != 200 || body != "ok" || hung.Load() != 1 {
		t.Fatalf("got %d %q with %d hung connections; want 200 \"ok\" with 1", resp.StatusCode, body, hung.Load())
	}
	steps := rec.all()
	if len(steps) < 2 || steps[1].e.Kind != backoff.EventEnded || steps[1].a.Outcome != backoff.OutcomeFailed ||
		!errors.Is(steps[1].e.Err, backoff.ErrAttemptTimeout) {
		t.Fatalf("attempt 1 should have been cut by its timeout; steps %v", steps)
	}
}

// A connection reset, then one closed without a response (EOF), then a
// response: both failures are transient and retried.
func TestResetAndEOFBeforeResponse(t *testing.T) {
	url, accepted := rawServer(t, func(n int, c net.Conn) {
		switch n {
		case 1:
			readRequest(c)
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
		case 2:
			readRequest(c)
			c.Close()
		default:
			respondOK(c)
		}
	})
	c, rec := client(t, retry(5))

	resp, body := get(t, c, url)
	if resp.StatusCode != 200 || body != "ok" || accepted() != 3 {
		t.Fatalf("got %d %q after %d connections; want 200 \"ok\" after 3", resp.StatusCode, body, accepted())
	}
	errs, outcomes := rec.ended()
	if len(errs) != 3 || !equal(outcomes, []backoff.Outcome{backoff.OutcomeFailed, backoff.OutcomeFailed, backoff.OutcomeSucceeded}) {
		t.Fatalf("attempts ended with %v, %v; want two failures, then success", errs, outcomes)
	}
	if !errors.Is(errs[0], syscall.ECONNRESET) || !errors.Is(errs[1], io.EOF) {
		t.Errorf("attempt errors %v and %v; want a reset, then EOF", errs[0], errs[1])
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more
	c, _ := client(t, retry(3))

	_, err = c.Get(url)
	e, ok := errors.AsType[*backoff.Error](err)
	if !ok || !errors.Is(err, backoff.ErrMaxTries) || !errors.Is(err, syscall.ECONNREFUSED) || e.Attempts != 3 {
		t.Fatalf("got %v; want ECONNREFUSED after 3 attempts", err)
	}
}

// connCounter counts the connections a server accepts and closes.
type connCounter struct{ opened, closed atomic.Int64 }

func (cc *connCounter) track(c net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		cc.opened.Add(1)
	case http.StateClosed, http.StateHijacked:
		cc.closed.Add(1)
	}
}

// waitClosed waits until the server has seen every connection closed.
func (cc *connCounter) waitClosed(t *testing.T) {
	t.Helper()
	for range 1000 {
		if cc.closed.Load() == cc.opened.Load() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%d connections opened, only %d closed", cc.opened.Load(), cc.closed.Load())
}

// 1,000 requests, each answered 503 (with a 4 KiB body) then 200, one
// after the other: the discarded responses are drained, so one connection
// serves the 2,000 exchanges, and it is idle (not leaked) at the end.
func TestConnectionReuse(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	big := strings.Repeat("x", 4<<10)
	var cc connCounter
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		again := seen[r.URL.Path]
		seen[r.URL.Path] = true
		mu.Unlock()
		if !again {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, big)
			return
		}
		io.WriteString(w, "ok")
	}))
	srv.Config.ConnState = cc.track
	srv.Start()
	defer srv.Close()
	c, rec := client(t, retry(2))

	for i := range 1000 {
		resp, body := get(t, c, fmt.Sprintf("%s/%d", srv.URL, i))
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := rec.attempts(); n != 2000 {
		t.Errorf("%d attempts; want 2000", n)
	}
	// One connection would do; net/http opens another, now and then, when
	// a request's write is reported late. Without draining, every 503
	// would cost one.
	if n := cc.opened.Load(); n > 10 {
		t.Errorf("%d connections for 2000 sequential exchanges; want 1 (at most 10)", n)
	}
	c.CloseIdleConnections()
	cc.waitClosed(t)
}

// A retried response whose body is at most DrainLimit long is drained, so
// its connection serves the next attempt; a longer one is not read to its
// end: its connection is closed instead. Either way, the last response is
// the caller's, who reads all of it. (Ten calls each: net/http opens a
// connection of its own now and then, when a request's write is reported
// late, so the counts are bounds.)
func TestBodyOfARetriedResponse(t *testing.T) {
	const calls = 10
	for _, tc := range []struct {
		size    int
		drained bool
	}{
		{backoffhttp.DrainLimit, true},
		{backoffhttp.DrainLimit + 1000, false},
	} {
		long := bytes.Repeat([]byte("x"), tc.size)
		var cc connCounter
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(long)
		}))
		srv.Config.ConnState = cc.track
		srv.Start()
		c, _ := client(t, retry(2))

		for range calls {
			resp, body := get(t, c, srv.URL)
			if resp.StatusCode != 503 || body != string(long) {
				t.Fatalf("%d bytes: got %d and %d bytes; want 503 and all of them", tc.size, resp.StatusCode, len(body))
			}
		}
		// Drained: one connection for all (a few at most). Not drained:
		// one for each retried 503, and one more.
		if n := cc.opened.Load(); tc.drained && n > 3 || !tc.drained && n < calls+1 {
			t.Errorf("a body of %d bytes: %d connections for %d calls of 2 exchanges; want %s", tc.size, n, calls,
				map[bool]string{true: "1 (at most 3)", false: "11"}[tc.drained])
		}
		c.CloseIdleConnections()
		cc.waitClosed(t)
		srv.Close()
	}
}

// An 8 MiB body, after a retry, read in full once RoundTrip has returned
// (and the executor has cancelled the attempt's own context).
func TestLargeBodyAfterSuccess(t *testing.T) {
	large := make([]byte, 8<<20)
	for i := range large {
		large[i] = byte(i * 7 / 3)
	}
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write(large)
	}))
	defer srv.Close()
	p := retry(3)
	p.AttemptTimeout, p.Deadline = time.Minute, 2*time.Minute // an attempt context with a timer
	c, _ := client(t, p)

	resp, body := get(t, c, srv.URL)
	if resp.StatusCode != 200 || body != string(large) {
		t.Fatalf("got %d and %d bytes; want 200 and %d equal bytes", resp.StatusCode, len(body), len(large))
	}
}

// The classic bug: the body of the response is still readable after
// RoundTrip has returned, though the server sends it only then.
func TestBodyReadableAfterReturn(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "head ")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "tail")
	}))
	defer srv.Close()
	defer close(release) // in case the test fails before it releases
	p := retry(3)
	p.AttemptTimeout = time.Minute
	c, _ := client(t, p)

	resp, err := c.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	head := make([]byte, len("head "))
	if _, err := io.ReadFull(resp.Body, head); err != nil {
		t.Fatalf("reading the head: %v", err)
	}
	release <- struct{}{}
	tail, err := io.ReadAll(resp.Body)
	if err != nil || string(head)+string(tail) != "head tail" {
		t.Fatalf("read %q, %q, %v; want \"head \", \"tail\" and no error", head, tail, err)
	}
}

func TestNewClientAndDefaultPolicy(t *testing.T) {
	h, hits := flaky(1, http.StatusServiceUnavailable)
	srv := httptest.NewServer(h)
	defer srv.Close()
	p := backoffhttp.DefaultPolicy()
	p.Pause = time.Millisecond // the default is a second
	c := backoffhttp.NewClient(p)
	defer c.CloseIdleConnections()

	resp, body := get(t, c, srv.URL)
	if resp.StatusCode != 200 || body != "hello" || hits.Load() != 2 {
		t.Fatalf("got %d %q after %d requests; want 200 after 2", resp.StatusCode, body, hits.Load())
	}
}

// The zero Transport sends once through http.DefaultTransport.
func TestZeroTransport(t *testing.T) {
	h, hits := flaky(1, http.StatusServiceUnavailable)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c := &http.Client{Transport: &backoffhttp.Transport{}}
	defer c.CloseIdleConnections()

	resp, _ := get(t, c, srv.URL)
	if resp.StatusCode != 503 || hits.Load() != 1 {
		t.Fatalf("got %d after %d requests; want the 503 after 1", resp.StatusCode, hits.Load())
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// One Transport, many goroutines, each request 503 then 200.
func TestConcurrentUse(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		again := seen[r.URL.Path]
		seen[r.URL.Path] = true
		mu.Unlock()
		if !again {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, r.URL.Path)
	}))
	defer srv.Close()
	c, rec := client(t, retry(2))

	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := range 20 {
				path := fmt.Sprintf("/%d/%d", g, i)
				resp, err := c.Get(srv.URL + path)
				if err != nil {
					t.Error(err)
					return
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(b) != path {
					t.Errorf("%s: %d %q %v", path, resp.StatusCode, b, err)
				}
			}
		})
	}
	wg.Wait()
	if n := rec.attempts(); n != 800 {
		t.Errorf("%d attempts; want 800", n)
	}
}

// A 101 Switching Protocols response keeps a body that is the connection,
// with its Write method.
func TestSwitchingProtocols(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		io.WriteString(brw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		io.WriteString(conn, line)
	}))
	defer srv.Close()
	limited := retry(3)
	limited.AttemptTimeout = time.Minute // the body keeps the attempt's context: a wrapper
	for _, p := range []backoff.Policy{retry(3), limited} {
		c, _ := client(t, p)
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := c.Do(req)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("AttemptTimeout %v: got %v, %v; want 101", p.AttemptTimeout, resp, err)
		}
		rw, ok := resp.Body.(io.ReadWriter)
		if !ok {
			resp.Body.Close()
			t.Fatalf("AttemptTimeout %v: the body of a 101 is a %T, not an io.ReadWriter", p.AttemptTimeout, resp.Body)
		}
		io.WriteString(rw, "ping\n")
		line, err := bufio.NewReader(rw).ReadString('\n')
		resp.Body.Close()
		if err != nil || line != "ping\n" {
			t.Fatalf("AttemptTimeout %v: echo: %q, %v", p.AttemptTimeout, line, err)
		}
	}
}

// A server reads the start of a 200 kB upload and resets the connection.
// Depending on a race inside net/http, the client sees the reset, or its
// write of the body finds the connection net/http has closed after it
// read the reset (net.ErrClosed): either way the upload is retried, and
// the retry sends the whole body.
func TestUploadCutByAReset(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	var whole atomic.Int64
	url, accepted := rawServer(t, func(n int, c net.Conn) {
		if n%2 == 1 {
			io.ReadFull(c, make([]byte, 1000))
			c.(*net.TCPConn).SetLinger(0) // close with RST
			c.Close()
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		if b, err := io.ReadAll(req.Body); err == nil && bytes.Equal(b, payload) {
			whole.Add(1)
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	})
	c, rec := client(t, retry(3))
	const uploads = 40 // enough for the race to go both ways
	for i := range uploads {
		req, _ := http.NewRequest(http.MethodPut, url, bytes.NewReader(payload))
		resp, err := c.Do(req)
		if err != nil {
			errs, _ := rec.ended()
			t.Fatalf("upload %d: %v (the attempts so far ended with %v)", i+1, err, errs)
		}
		resp.Body.Close()
	}
	if whole.Load() != uploads || accepted() != 2*uploads {
		t.Errorf("the server got %d whole uploads on %d connections; want %d on %d", whole.Load(), accepted(), uploads, 2*uploads)
	}
}

// hung returns the URL of a server that reads each request and never
// answers, until the client hangs up.
func hung(t *testing.T) string {
	url, _ := rawServer(t, func(_ int, c net.Conn) {
		readRequest(c)
		io.Copy(io.Discard, c)
		c.Close()
	})
	return url
}

// When a time limit ends a call, the error says it is a timeout, as a plain
// http.Client's does: through *url.Error, os.IsTimeout, net.Error, and
// errors.Is(context.DeadlineExceeded). A cancel is no timeout.
func TestTimeoutsLookLikeTimeouts(t *testing.T) {
	target := hung(t)
	for _, tc := range []struct {
		name    string
		p       backoff.Policy
		ctx     func(t *testing.T) context.Context
		timeout bool
		plain   bool // a plain http.Client sees the same context
	}{
		{"the caller's deadline", retry(3), func(t *testing.T) context.Context {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, true, true},
		{"Policy.Deadline", backoff.Policy{Deadline: 50 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError}, (*testing.T).Context, true, false},
		{"AttemptTimeout, tries run out", backoff.Policy{AttemptTimeout: 20 * time.Millisecond, MaxTries: 2, RetryIf: backoff.AnyError}, (*testing.T).Context, true, false},
		{"a cancel", retry(3), func(t *testing.T) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(20*time.Millisecond, cancel)
			t.Cleanup(cancel)
			return ctx
		}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(who string, c *http.Client, ctx context.Context) {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
				resp, err := c.Do(req)
				if err == nil {
					resp.Body.Close()
					t.Fatalf("%s: a response from a server that never answers", who)
				}
				var ue *url.Error
				var ne net.Error
				if !errors.As(err, &ue) || ue.Timeout() != tc.timeout || os.IsTimeout(err) != tc.timeout ||
					!errors.As(err, &ne) && tc.timeout || ne != nil && ne.Timeout() != tc.timeout ||
					errors.Is(err, context.DeadlineExceeded) != tc.timeout {
					t.Errorf("%s: %v (%T): Timeout %v, os.IsTimeout %v, DeadlineExceeded %v; want %v for all",
						who, err, err, ue != nil && ue.Timeout(), os.IsTimeout(err), errors.Is(err, context.DeadlineExceeded), tc.timeout)
				}
			}
			c, _ := client(t, tc.p)
			check("backoffhttp", c, tc.ctx(t))
			if tc.plain {
				plain := &http.Client{Transport: &http.Transport{}}
				defer plain.CloseIdleConnections()
				check("a plain http.Client", plain, tc.ctx(t))
			}
		})
	}
}

// A POST is not idempotent, yet a failure that proves it never reached
// the server (the connection was refused) is retried, as net/http itself
// resends any request it never wrote, whatever its body.
func TestRequestNeverSent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := l.Addr().String()
	l.Close() // nothing listens there any more

	for _, tc := range []struct {
		name string
		body func() io.Reader
	}{
		{"body replayable", func() io.Reader { return strings.NewReader("payload") }},
		{"body not replayable", func() io.Reader { return opaque{strings.NewReader("payload")} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			var mu sync.Mutex
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				mu.Lock()
				got = append(got, string(b))
				mu.Unlock()
				io.WriteString(w, "created")
			}))
			defer srv.Close()
			// The first dial goes to the refused address: a real refusal.
			var dials atomic.Int64
			base := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				if dials.Add(1) == 1 {
					addr = refused
				}
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}}
			defer base.CloseIdleConnections()
			rec := &recorder{}
			p := retry(3)
			p.Observer = rec
			c := &http.Client{Transport: &backoffhttp.Transport{Base: base, Policy: p}}

			req, _ := http.NewRequest(http.MethodPost, srv.URL, tc.body())
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			resp.Body.Close()
			errs, _ := rec.ended()
			if len(errs) != 2 || !errors.Is(errs[0], syscall.ECONNREFUSED) || errs[1] != nil {
				t.Fatalf("the attempts ended with %v; want a refused connection, then success", errs)
			}
			mu.Lock()
			defer mu.Unlock()
			if !equal(got, []string{"payload"}) {
				t.Errorf("the server got %q; want one \"payload\"", got)
			}
		})
	}

	t.Run("refused every time", func(t *testing.T) {
		c, _ := client(t, retry(3))
		_, err := c.Post("http://"+refused, "text/plain", strings.NewReader("payload"))
		e, ok := errors.AsType[*backoff.Error](err)
		if !ok || !errors.Is(err, backoff.ErrMaxTries) || !errors.Is(err, syscall.ECONNREFUSED) || e.Attempts != 3 {
			t.Fatalf("got %v; want ECONNREFUSED after 3 attempts", err)
		}
	})
}

// A proxy that cannot be set up (here an https proxy that speaks plain
// HTTP, so that the TLS handshake with it fails) proves that nothing of
// the request was sent: net/http reports a *net.OpError whose Op is
// "proxyconnect", and a request that may not be sent again is sent again
// then, if the classifier calls the failure transient.
func TestRequestNeverSent_proxy(t *testing.T) {
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		io.WriteString(w, "created")
	}))
	defer srv.Close()
	plain := httptest.NewServer(http.NotFoundHandler())
	defer plain.Close()
	proxy, err := url.Parse("https://" + plain.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var proxied atomic.Int64
	base := &http.Transport{Proxy: func(*http.Request) (*url.URL, error) {
		if proxied.Add(1) == 1 {
			return proxy, nil
		}
		return nil, nil // then straight to the server
	}}
	defer base.CloseIdleConnections()
	rec := &recorder{}
	p := retry(3)
	p.Observer = rec
	anyFailure := func(resp *http.Response, err error) bool { return err != nil || backoffhttp.Transient(resp, nil) }
	c := &http.Client{Transport: &backoffhttp.Transport{Base: base, Policy: p, Classify: anyFailure}}

	req, _ := http.NewRequest(http.MethodPost, srv.URL, opaque{strings.NewReader("payload")})
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	resp.Body.Close()
	errs, _ := rec.ended()
	if op, ok := errors.AsType[*net.OpError](errs[0]); len(errs) != 2 || !ok || op.Op != "proxyconnect" || errs[1] != nil {
		t.Fatalf("the attempts ended with %v; want a failed proxyconnect, then success", errs)
	}
	mu.Lock()
	defer mu.Unlock()
	if !equal(got, []string{"payload"}) {
		t.Errorf("the server got %q; want one \"payload\"", got)
	}
}

// A response cut off anywhere (in its status line, a header, between
// them, or in its body) is retried: net/http reports a line cut short as
// malformed, and Transient knows it for the start of a well-formed one.
func TestResponseCutAtEveryByte(t *testing.T) {
	const full = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nbusy"
	for cut := range len(full) {
		url, accepted := rawServer(t, func(n int, c net.Conn) {
			if n == 1 {
				defer c.Close()
				if readRequest(c) == nil {
					io.WriteString(c, full[:cut])
				}
				return
			}
			respondOK(c)
		})
		c, rec := client(t, retry(2))
		resp, err := c.Get(url)
		if err != nil {
			errs, _ := rec.ended()
			t.Errorf("cut after %d bytes (%q): %v (attempt errors %v)", cut, full[:cut], err, errs)
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(b) != "ok" || accepted() != 2 {
			t.Errorf("cut after %d bytes: got %d %q, %v after %d connections; want 200 \"ok\" after 2", cut, resp.StatusCode, b, err, accepted())
		}
	}
}

// A malformed response that is no response cut short (a server that speaks
// another protocol) is not retried.
func TestMalformedResponseNotRetried(t *testing.T) {
	for _, garbage := range []string{"SSH-2.0-OpenSSH_9.6\r\n", "\x15\x03\x01\x00\x02\x02\x0a", "HTTP/1.1 2000 OK\r\n\r\n"} {
		url, accepted := rawServer(t, func(_ int, c net.Conn) {
			defer c.Close()
			if readRequest(c) == nil {
				io.WriteString(c, garbage)
			}
		})
		c, _ := client(t, retry(3))
		_, err := c.Get(url)
		if !errors.Is(err, backoff.ErrNotRetryable) || accepted() != 1 {
			t.Errorf("%q: got %v after %d connections; want an error not retried, after 1", garbage, err, accepted())
		}
	}
}

// A 503 whose body stalls: the client drains it for DrainTimeout at most,
// then closes it (and its connection), and goes on; the last 503 is
// returned at once, as a plain http.Client returns it.
func TestStalledBodyOfARetriedResponse(t *testing.T) {
	var closed atomic.Int64
	url, accepted := rawServer(t, func(_ int, c net.Conn) {
		defer c.Close()
		if readRequest(c) != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\npartial")
		io.Copy(io.Discard, c) // until the client closes the connection
		closed.Add(1)
	})
	c, _ := client(t, backoff.Policy{MaxTries: 2, Pause: time.Millisecond, RetryIf: backoff.AnyError}) // no time limit
	done := make(chan error, 1)
	go func() {
		resp, err := c.Get(url)
		if err == nil {
			if resp.StatusCode != 503 {
				err = fmt.Errorf("status %d; want 503", resp.StatusCode)
			}
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the client hangs on a stalled body (%d connections accepted)", accepted())
	}
	if accepted() != 2 {
		t.Errorf("%d connections; want 2", accepted())
	}
}

// A request's context can carry a policy of its own, which replaces the
// Transport's for that request only; an invalid one is refused.
func TestWithPolicy(t *testing.T) {
	h, hits := flaky(1000, http.StatusServiceUnavailable)
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, _ := client(t, retry(4))
	for _, tc := range []struct {
		name string
		ctx  context.Context
		hits int64
	}{
		{"the Transport's", t.Context(), 4},
		{"no retry", backoffhttp.WithPolicy(t.Context(), backoff.Policy{}), 1},
		{"two tries", backoffhttp.WithPolicy(t.Context(), retry(2)), 2},
		{"the latest wins", backoffhttp.WithPolicy(backoffhttp.WithPolicy(t.Context(), retry(3)), retry(2)), 2},
	} {
		hits.Store(0)
		req, _ := http.NewRequestWithContext(tc.ctx, http.MethodGet, srv.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 || hits.Load() != tc.hits {
			t.Errorf("%s: %d after %d requests; want the 503 after %d", tc.name, resp.StatusCode, hits.Load(), tc.hits)
		}
	}
	req, _ := http.NewRequestWithContext(backoffhttp.WithPolicy(t.Context(), backoff.Policy{MaxTries: -1}), http.MethodGet, srv.URL, nil)
	if _, err := c.Do(req); !errors.Is(err, backoff.ErrInvalidPolicy) || !strings.Contains(err.Error(), "MaxTries is -1") {
		t.Errorf("an invalid policy in the context: %v; want ErrInvalidPolicy naming MaxTries", err)
	}
}

// A Base learns which attempt each request is, from its context: here it
// adds a header saying so, on a copy of the request, as a RoundTripper
// that changes a request must.
func TestAttempt(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Attempt"))
		n := len(seen)
		mu.Unlock()
		if n < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	inner := &http.Transport{}
	defer inner.CloseIdleConnections()
	base := roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		r := req.Clone(req.Context())
		r.Header.Set("X-Attempt", strconv.Itoa(backoffhttp.Attempt(req.Context())))
		return inner.RoundTrip(r)
	})
	c := &http.Client{Transport: &backoffhttp.Transport{Base: base, Policy: retry(5)}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if !equal(seen, []string{"1", "2", "3"}) || req.Header.Get("X-Attempt") != "" {
		t.Errorf("the server saw X-Attempt %q, the caller's request has %q; want [1 2 3], none", seen, req.Header.Get("X-Attempt"))
	}
	if n := backoffhttp.Attempt(t.Context()); n != 0 {
		t.Errorf("Attempt of a context no attempt made = %d; want 0", n)
	}
}

// Retries happen below http.Client: its Jar sees only the response a call
// ends with, not the cookies of a response discarded for a retry.
func TestJarSeesTheFinalResponseOnly(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.SetCookie(w, &http.Cookie{Name: "discarded", Value: "1"})
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "final", Value: "2"})
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := client(t, retry(2))
	c.Jar = jar
	get(t, c, srv.URL)
	u, _ := url.Parse(srv.URL)
	var names []string
	for _, ck := range jar.Cookies(u) {
		names = append(names, ck.Name)
	}
	if !equal(names, []string{"final"}) {
		t.Errorf("the jar holds %v; want [final]", names)
	}
}
