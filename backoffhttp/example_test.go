package backoffhttp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

// A client that retries a flaky server: two 503s, then the answer. The
// observer prints the status of each attempt that failed.
func Example() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) <= 2 {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "hello")
	}))
	defer srv.Close()

	p := backoffhttp.DefaultPolicy()
	p.Pause = 10 * time.Millisecond // the default pauses a second
	p.Observer = backoff.ObserverFunc(func(e backoff.Event, a backoff.Action) {
		if se, ok := errors.AsType[*backoffhttp.StatusError](e.Err); ok {
			fmt.Printf("attempt %d: %d, then %s\n", e.Attempt, se.StatusCode, a.Kind)
		}
	})
	client := backoffhttp.NewClient(p) // in place of http.DefaultClient
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output:
	// attempt 1: 503, then pause
	// attempt 2: 503, then pause
	// 200 OK hello
}

// A POST is retried when it carries an Idempotency-Key and its body can be
// replayed (http.NewRequest makes strings replayable). Here the classifier
// also retries 500. When the tries run out, the caller gets the last
// response, as from a plain http.Client.
func ExampleTransport() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Printf("server got %q\n", body)
		http.Error(w, "oops", http.StatusInternalServerError)
	}))
	defer srv.Close()

	client := &http.Client{Transport: &backoffhttp.Transport{
		Policy: backoff.Policy{MaxTries: 3, Pause: 10 * time.Millisecond, RetryIf: backoff.AnyError},
		Classify: func(resp *http.Response, err error) bool {
			return resp != nil && resp.StatusCode == http.StatusInternalServerError ||
				backoffhttp.Transient(resp, err)
		},
	}}
	defer client.CloseIdleConnections()

	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(`{"amount": 10}`))
	req.Header.Set("Idempotency-Key", "order-1234")
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// server got "{\"amount\": 10}"
	// server got "{\"amount\": 10}"
	// server got "{\"amount\": 10}"
	// 500 Internal Server Error
}

func ExampleParseRetryAfter() {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"120", "Sun, 29 Nov 2026 12:01:30 GMT", "Sun, 29 Nov 2026 11:00:00 GMT", "-1"} {
		d, ok := backoffhttp.ParseRetryAfter(v, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2m0s true
	// 1m30s true
	// 0s true
	// 0s false
}

// A Base that signs each attempt anew, as a service that signs requests
// with a timestamp must (AWS SigV4, an HMAC), and says which attempt it
// is: Attempt reads the number from the request's context. A RoundTripper
// must not change the request it is given, so it signs a copy.
func ExampleAttempt() {
	secret := []byte("s3cret")
	sign := func(method, path, attempt string) string {
		m := hmac.New(sha256.New, secret)
		io.WriteString(m, method+" "+path+" "+attempt)
		return hex.EncodeToString(m.Sum(nil))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.Header.Get("X-Attempt")
		valid := hmac.Equal([]byte(r.Header.Get("X-Signature")), []byte(sign(r.Method, r.URL.Path, n)))
		fmt.Printf("attempt %s, signature valid: %v\n", n, valid)
		if n == "1" {
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()

	signer := signingTransport{base: http.DefaultTransport, sign: sign}
	client := &http.Client{Transport: &backoffhttp.Transport{
		Base:   signer,
		Policy: backoff.Policy{MaxTries: 3, Pause: 10 * time.Millisecond, RetryIf: backoff.AnyError},
	}}
	defer client.CloseIdleConnections()

	resp, err := client.Get(srv.URL + "/orders")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	// Output:
	// attempt 1, signature valid: true
	// attempt 2, signature valid: true
	// 200 OK
}

// signingTransport signs each attempt of a request (see ExampleAttempt).
type signingTransport struct {
	base http.RoundTripper
	sign func(method, path, attempt string) string
}

func (s signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	n := strconv.Itoa(backoffhttp.Attempt(req.Context()))
	r := req.Clone(req.Context())
	r.Header.Set("X-Attempt", n)
	r.Header.Set("X-Signature", s.sign(r.Method, r.URL.Path, n))
	return s.base.RoundTrip(r)
}

// One client, and a policy per request: this request must not be retried
// (its context says so), though the client retries others.
func ExampleWithPolicy() {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "try again later", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	p := backoffhttp.DefaultPolicy()
	p.Pause = 10 * time.Millisecond
	client := backoffhttp.NewClient(p)
	defer client.CloseIdleConnections()

	ctx := backoffhttp.WithPolicy(context.Background(), backoff.Policy{AttemptTimeout: time.Second})
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status, "after", hits.Load(), "request")
	// Output:
	// 503 Service Unavailable after 1 request
}
