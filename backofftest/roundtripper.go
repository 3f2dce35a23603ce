package backofftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A RoundTripper is a scripted HTTP server in memory: an http.RoundTripper
// whose k-th request gets Responses[k-1], and every request after the last
// response the last one again. It records each request.
//
// It opens no socket, so it works inside a testing/synctest bubble, where
// a server of net/http/httptest does not (a goroutine blocked on a real
// socket is not durably blocked, and the bubble's clock never moves on).
// Its times are on the system clock, virtual in a bubble.
//
// Like net/http's transports, it honours the request's context: a request
// whose context is done before its response comes fails with the
// context's cause (context.Cause), and a response's body fails to read,
// with that cause, once the request's context is done before the body is
// read to its end.
//
// A RoundTripper is safe for concurrent use; set Responses before its
// first request and do not change it then. The zero RoundTripper fails
// every request. It keeps every request it gets, with its body.
type RoundTripper struct {
	// Responses is the script: what the server answers, request by
	// request. A RoundTripper without any fails every request.
	Responses []Response

	mu       sync.Mutex
	requests []Request
}

// A Response is what a [RoundTripper] answers one request with: a
// response with Status, Header and Body; or the error Err, as from a
// connection that was reset; or, with Hang, nothing until the request's
// context is done. Exactly one of Status, Err and Hang must be set.
type Response struct {
	Status int         // the status code, from 100 to 999
	Header http.Header // the response's header (nil: an empty one)
	Body   string      // the response's body

	Err  error // the request fails with Err
	Hang bool  // the request waits until its context is done

	// After is how long the server takes to answer. If the request's
	// context is done first, the request fails then.
	After time.Duration
}

// A Request is a request a [RoundTripper] got.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   string    // what the request's body held, read to its end
	Time   time.Time // when the request came, on the system clock
}

// RoundTrip answers req with the next response of the script, and records
// req. It reads req's body to its end and closes it.
func (rt *RoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	u := *req.URL
	r := Request{Method: req.Method, URL: &u, Header: req.Header.Clone(), Time: time.Now()}
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("backofftest: reading the request's body: %w", err)
		}
		r.Body = string(b)
	}
	rt.mu.Lock()
	n := len(rt.requests)
	rt.requests = append(rt.requests, r)
	rt.mu.Unlock()

	if len(rt.Responses) == 0 {
		return nil, errors.New("backofftest: the RoundTripper has no Responses")
	}
	i := min(n, len(rt.Responses)-1)
	resp := rt.Responses[i]
	if problem := resp.problem(); problem != "" {
		return nil, fmt.Errorf("backofftest: Responses[%d]: %s", i, problem)
	}

	ctx := req.Context()
	if resp.After > 0 {
		t := time.NewTimer(resp.After)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	switch {
	case resp.Hang:
		<-ctx.Done()
		return nil, context.Cause(ctx)
	case resp.Err != nil:
		return nil, resp.Err
	}
	header := resp.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		Status:        strconv.Itoa(resp.Status) + " " + http.StatusText(resp.Status),
		StatusCode:    resp.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          &body{ctx: ctx, r: strings.NewReader(resp.Body)},
		ContentLength: int64(len(resp.Body)),
		Request:       req,
	}, nil
}

// problem says what is wrong with r, if anything.
func (r *Response) problem() string {
	set := 0
	for _, b := range []bool{r.Status != 0, r.Err != nil, r.Hang} {
		if b {
			set++
		}
	}
	switch {
	case set != 1:
		return fmt.Sprintf("Status %d, Err %v, Hang %v: want exactly one of them set", r.Status, r.Err, r.Hang)
	case r.Status != 0 && (r.Status < 100 || r.Status > 999):
		return fmt.Sprintf("Status %d: want a code from 100 to 999", r.Status)
	case r.After < 0:
		return fmt.Sprintf("After %v: want 0 or more", r.After)
	}
	return ""
}

// Requests returns the requests received so far, in the order they came.
func (rt *RoundTripper) Requests() []Request {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]Request(nil), rt.requests...)
}

// body is a response's body: once its request's context is done, reading
// it fails, unless it has been read to its end.
type body struct {
	ctx context.Context
	mu  sync.Mutex
	r   *strings.Reader
}

func (b *body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.r == nil:
		return 0, errors.New("backofftest: read on a closed response body")
	case b.r.Len() == 0:
		return 0, io.EOF
	case b.ctx.Err() != nil:
		return 0, context.Cause(b.ctx)
	}
	return b.r.Read(p)
}

func (b *body) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.r = nil
	return nil
}
