package backoffhttp_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
