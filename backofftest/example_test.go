package backofftest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
	"github.com/timebound/backoff/backofftest"
)

// A dependency that fails twice, then answers.
func ExampleNewOp() {
	errBusy := errors.New("busy")
	op := backofftest.NewOp(backofftest.Fail[int](errBusy).Times(2), backofftest.Succeed(42))

	v, err := backoff.Do(context.Background(), backoff.Retry(5), op.Call)
	fmt.Println(v, err, "after", op.Calls(), "calls")
	// Output: 42 <nil> after 3 calls
}

// An HTTP server in memory behind a retrying client: two 503s, then a 200.
// Under testing/synctest the same test measures its times exactly.
func ExampleRoundTripper() {
	server := &backofftest.RoundTripper{Responses: []backofftest.Response{
		{Status: 503, Body: "busy"},
		{Status: 503, Body: "busy"},
		{Status: 200, Body: "42.00"},
	}}
	client := &http.Client{Transport: &backoffhttp.Transport{
		Base:   server,
		Policy: backoff.Policy{Pause: time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError},
	}}

	resp, err := client.Get("http://quotes.test/ACME")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	for _, r := range server.Requests() {
		fmt.Println(r.Method, r.URL)
	}
	// Output:
	// 200 42.00
	// GET http://quotes.test/ACME
	// GET http://quotes.test/ACME
	// GET http://quotes.test/ACME
}

// What each source makes of a FullJitter's pauses of 1ms, 2ms and 4ms.
func ExampleFraction() {
	errBusy := errors.New("busy")
	for _, rand := range []backofftest.Fixed{backofftest.LongestPause, backofftest.Fraction(0.75), backofftest.ShortestPause} {
		var pauses []time.Duration
		p := backoff.Policy{
			Pause: time.Millisecond, Growth: 2, Jitter: backoff.FullJitter, Rand: rand,
			MaxTries: 4, RetryIf: backoff.AnyError,
			Observer: backoff.ObserverFunc(func(e backoff.Event, a backoff.Action) {
				if a.Kind == backoff.ActionPause {
					pauses = append(pauses, a.Until-e.At)
				}
			}),
		}
		backoff.Do(context.Background(), p, backofftest.NewOp(backofftest.Fail[int](errBusy)).Call)
		fmt.Printf("%#x: %v\n", rand.Uint64(), pauses)
	}
	// Output:
	// 0xffffffffffffffff: [1ms 2ms 4ms]
	// 0xc000000000000000: [750µs 1.5ms 3ms]
	// 0x0: []
}
