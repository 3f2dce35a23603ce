package backofftest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
	"github.com/timebound/backoff/backofftest"
)

// A retrying client under synctest: two 503s, the second asking for a
// second's wait, then a 200. The times are exact.
func TestRoundTripper_backoffhttp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server := &backofftest.RoundTripper{Responses: []backofftest.Response{
			{Status: 503},
			{Status: 503, Header: http.Header{"Retry-After": {"1"}}},
			{Status: 200, Body: "42.00"},
		}}
		client := &http.Client{Transport: &backoffhttp.Transport{
			Base:   server,
			Policy: backoff.Policy{Pause: 100 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError},
		}}

		start := time.Now()
		resp, err := client.Get("http://quotes.test/ACME")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || string(body) != "42.00" || err != nil || time.Since(start) != 1100*time.Millisecond {
			t.Errorf("got %d %q (%v) after %v; want 200 \"42.00\" after 1.1s", resp.StatusCode, body, err, time.Since(start))
		}
		// A pause of 100ms, then the second the server asked for.
		var at []time.Duration
		for _, r := range server.Requests() {
			at = append(at, r.Time.Sub(start))
		}
		if want := []time.Duration{0, 100 * time.Millisecond, 1100 * time.Millisecond}; !slices.Equal(at, want) {
			t.Errorf("requests at %v, want %v", at, want)
		}
	})
}

// What a RoundTripper answers, and what it records.
func TestRoundTripper_script(t *testing.T) {
	errReset := errors.New("connection reset by peer")
	rt := &backofftest.RoundTripper{Responses: []backofftest.Response{
		{Status: 503, Body: "busy"},
		{Err: errReset},
		{Status: 201, Header: http.Header{"Location": {"/prices/1"}}, Body: "made"},
	}}
	type answer struct {
		code   int
		header string
		body   string
		err    error
	}
	for i, want := range []answer{{503, "", "busy", nil}, {0, "", "", errReset}, {201, "/prices/1", "made", nil}, {201, "/prices/1", "made", nil}} {
		req, _ := http.NewRequest(http.MethodPut, "http://prices.test/p", strings.NewReader("body "+string(rune('1'+i))))
		req.Header.Set("Idempotency-Key", "k")
		resp, err := rt.RoundTrip(req)
		var got answer
		if err != nil {
			got.err = err
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			got = answer{resp.StatusCode, resp.Header.Get("Location"), string(b), nil}
			if status := fmt.Sprint(resp.StatusCode, " ", http.StatusText(resp.StatusCode)); resp.Status != status ||
				resp.Request != req || resp.ContentLength != int64(len(b)) || resp.ProtoMajor != 1 {
				t.Errorf("request %d: response %+v", i+1, resp)
			}
		}
		if got != want {
			t.Errorf("request %d: %+v, want %+v", i+1, got, want)
		}
	}
	reqs := rt.Requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests recorded, want 4", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != http.MethodPut || r.URL.String() != "http://prices.test/p" || r.Header.Get("Idempotency-Key") != "k" || r.Body != "body "+string(rune('1'+i)) {
			t.Errorf("request %d recorded as %+v", i+1, r)
		}
	}
}

// Like net/http's transports, a RoundTripper honours the request's
// context: a request whose context is done before its answer fails with
// its cause, and so does reading a body once it is done.
func TestRoundTripper_context(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errCut := errors.New("cut")
		rt := &backofftest.RoundTripper{Responses: []backofftest.Response{
			{Hang: true},
			{Status: 200, After: time.Second},
			{Status: 200, After: 100 * time.Millisecond, Body: "late"},
		}}
		for i, want := range []error{errCut, errCut, nil} {
			ctx, cancel := context.WithTimeoutCause(context.Background(), 200*time.Millisecond, errCut)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://prices.test/", nil)
			start := time.Now()
			resp, err := rt.RoundTrip(req)
			if err != want {
				t.Errorf("request %d: err %v, want %v", i+1, err, want)
			}
			if err != nil && time.Since(start) != 200*time.Millisecond {
				t.Errorf("request %d: failed after %v, want 200ms", i+1, time.Since(start))
			}
			if resp != nil {
				time.Sleep(200 * time.Millisecond) // past the request's deadline
				if _, err := io.ReadAll(resp.Body); err != errCut {
					t.Errorf("request %d: reading the body after its context was done: %v, want %v", i+1, err, errCut)
				}
				resp.Body.Close()
			}
			cancel()
		}
	})
}

// A body read to its end stays readable (at EOF) after the request's
// context is done; a closed one fails.
func TestRoundTripper_body(t *testing.T) {
	rt := &backofftest.RoundTripper{Responses: []backofftest.Response{{Status: 200, Body: "ok"}}}
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://prices.test/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(resp.Body); string(b) != "ok" || err != nil {
		t.Fatalf("body %q, %v; want \"ok\"", b, err)
	}
	cancel()
	if n, err := resp.Body.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("read at the end, after the cancel: %d, %v; want 0, EOF", n, err)
	}
	resp.Body.Close()
	if _, err := resp.Body.Read(make([]byte, 1)); err == nil || err == io.EOF {
		t.Errorf("read after Close: %v, want an error", err)
	}
}

// A bad script is an error of RoundTrip that says what is wrong.
func TestRoundTripper_badScript(t *testing.T) {
	for _, c := range []struct {
		responses []backofftest.Response
		want      string
	}{
		{nil, "backofftest: the RoundTripper has no Responses"},
		{[]backofftest.Response{{}}, "backofftest: Responses[0]: Status 0, Err <nil>, Hang false: want exactly one of them set"},
		{[]backofftest.Response{{Status: 200, Hang: true}}, "backofftest: Responses[0]: Status 200, Err <nil>, Hang true: want exactly one of them set"},
		{[]backofftest.Response{{Status: 42}}, "backofftest: Responses[0]: Status 42: want a code from 100 to 999"},
		{[]backofftest.Response{{Status: 200, After: -time.Second}}, "backofftest: Responses[0]: After -1s: want 0 or more"},
	} {
		rt := &backofftest.RoundTripper{Responses: c.responses}
		req, _ := http.NewRequest(http.MethodGet, "http://prices.test/", nil)
		if resp, err := rt.RoundTrip(req); resp != nil || err == nil || err.Error() != c.want {
			t.Errorf("RoundTrip with %+v: %v, %v; want nil, %q", c.responses, resp, err, c.want)
		}
	}
}
