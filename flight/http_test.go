package flight_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffhttp"
	"github.com/timebound/backoff/flight"
)

// TestRecorder_backoffhttp: requests through backoffhttp to a real
// loopback server that answers 503, 503 with a delay hint, 200, or hangs,
// by turns; every call the Recorder keeps replays.
func TestRecorder_backoffhttp(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) % 5 {
		case 0, 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After-Ms", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 3:
			select { // hangs until the attempt is cut
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		default:
			fmt.Fprint(w, "ok")
		}
	}))
	defer srv.Close()
	rec := newRecorder(t, flight.Options{Calls: 100, Slow: time.Nanosecond})
	client := &http.Client{Transport: &backoffhttp.Transport{Policy: backoff.Policy{
		AttemptTimeout: 20 * time.Millisecond,
		Deadline:       200 * time.Millisecond,
		Pause:          time.Millisecond,
		Growth:         2,
		Jitter:         backoff.FullJitter,
		MaxTries:       4,
		RetryIf:        backoff.AnyError,
		Budget:         &backoff.Budget{Ratio: 1, Burst: 100},
		Observer:       rec,
	}}}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/"+strconv.Itoa(i), nil)
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	checkKept(t, rec, 100)
}
