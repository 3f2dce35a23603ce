package bench

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/failsafehttp"
	"github.com/failsafe-go/failsafe-go/timeout"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
)

// The cost of a request through backoffhttp, against a plain http.Client,
// on loopback: a server that always answers 200 "ok", and clients that
// all have a per-attempt timeout of a second and a base transport of their
// own, configured alike. Every request succeeds at once, so what is
// measured is what a client adds to a request that needs no retry.
//
// allocs/op counts the allocations of the whole exchange, the server's
// included (it runs in the same process): they are the same for every
// client, so the differences are the clients'. At conc=32, ns/op is the
// wall time divided by the requests, the inverse of the throughput.

// httpTimeout is every client's per-attempt timeout.
const httpTimeout = time.Second

// An httpClient builds a client that sends its requests through base.
type httpClient struct {
	name string
	new  func(base *http.Transport) *http.Client
}

var httpClients = []httpClient{
	// plain: http.Client, whose Timeout bounds each request (its only
	// attempt), reading the body included.
	{"plain", func(base *http.Transport) *http.Client {
		return &http.Client{Transport: base, Timeout: httpTimeout}
	}},
	{"backoffhttp", func(base *http.Transport) *http.Client {
		return &http.Client{Transport: &backoffhttp.Transport{Base: base, Policy: backoff.Policy{
			AttemptTimeout: httpTimeout, MaxTries: 3, Pause: 100 * time.Millisecond, RetryIf: backoff.AnyError,
		}}}
	}},
	// retryablehttp: each attempt is a call of its HTTPClient, whose
	// Timeout is then the attempt's.
	{"retryablehttp", func(base *http.Transport) *http.Client {
		c := retryablehttp.NewClient()
		c.HTTPClient = &http.Client{Transport: base, Timeout: httpTimeout}
		c.Logger = nil
		c.RetryMax = 2
		c.RetryWaitMin, c.RetryWaitMax = 100*time.Millisecond, 100*time.Millisecond
		return c.StandardClient()
	}},
	// failsafehttp: a timeout policy inside the retry policy bounds each
	// attempt.
	{"failsafehttp", func(base *http.Transport) *http.Client {
		rp := failsafehttp.NewRetryPolicyBuilder().WithMaxRetries(2).WithDelay(100 * time.Millisecond).Build()
		return &http.Client{Transport: failsafehttp.NewRoundTripper(base, rp, timeout.New[*http.Response](httpTimeout))}
	}},
}

// BenchmarkHTTP sends GET requests that succeed at once, one at a time
// (conc=1) and from 32 goroutines at once (conc=32: b.RunParallel with
// 32/GOMAXPROCS goroutines per P, rounded up), through each client.
func BenchmarkHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	for _, conc := range []int{1, 32} {
		for _, hc := range httpClients {
			b.Run(fmt.Sprintf("conc=%d/client=%s", conc, hc.name), func(b *testing.B) {
				base := &http.Transport{MaxIdleConnsPerHost: conc}
				defer base.CloseIdleConnections()
				c := hc.new(base)
				get := func() error {
					resp, err := c.Get(srv.URL)
					if err != nil {
						return err
					}
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %s", resp.Status)
					}
					return err
				}
				if err := get(); err != nil { // a connection, dialled outside the timed loop
					b.Fatal(err)
				}
				b.ReportAllocs()
				if conc == 1 {
					for b.Loop() {
						if err := get(); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((conc + procs - 1) / procs)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := get(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
