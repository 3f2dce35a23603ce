package flight_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/flight"
	"github.com/timebound/backoff/sim"
)

const ms = time.Millisecond

var (
	errBusy   = errors.New("busy: token=s3cr3t")
	errAbsent = errors.New("not found")
)

func newRecorder(t *testing.T, o flight.Options) *flight.Recorder {
	t.Helper()
	r, err := flight.NewRecorder(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// flaky fails n times with errBusy after d each, then succeeds after d.
func flaky(n int, d time.Duration) func(context.Context) (int, error) {
	k := 0
	return func(ctx context.Context) (int, error) {
		k++
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		if k <= n {
			return 0, errBusy
		}
		return k, nil
	}
}

// TestRecorder_keeps: the Recorder keeps the calls that failed (and those
// slower than Slow), the most recent first, at most Calls of them, each a
// trace that replays; it keeps no call that succeeded in time.
func TestRecorder_keeps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(t, flight.Options{Calls: 3, Slow: 150 * ms})
		p := backoff.Policy{AttemptTimeout: 100 * ms, Pause: 50 * ms, MaxTries: 3, RetryIf: backoff.On(errBusy), Observer: rec}
		var ids []uint64
		call := func(fn func(context.Context) (int, error)) {
			// Learn the call's ID the way a service would: from its logs.
			var id uint64
			q := p
			q.Observer = backoff.MultiObserver(rec, idOf(&id))
			backoff.Do(t.Context(), q, fn)
			ids = append(ids, id)
		}
		call(flaky(0, 10*ms))                                            // 0: succeeds at once: not kept
		call(flaky(5, 10*ms))                                            // 1: out of tries: kept
		call(flaky(1, 80*ms))                                            // 2: succeeds after 210ms: slow, kept
		call(flaky(0, time.Hour))                                        // 3: times out three times: kept
		call(func(context.Context) (int, error) { return 0, errAbsent }) // 4: not retryable: kept
		got := rec.Calls()
		if len(got) != 3 {
			t.Fatalf("%d calls kept, want 3 (Options.Calls)", len(got))
		}
		for i, want := range []uint64{ids[4], ids[3], ids[2]} {
			if got[i].ID != want {
				t.Errorf("call %d kept is %d, want %d (the most recent first)", i, got[i].ID, want)
			}
		}
		if c := got[2]; c.Failed || c.Elapsed != 210*ms || c.Attempts != 2 {
			t.Errorf("the slow call: %+v; want a success after 2 attempts in 210ms", c)
		}
		if c := got[0]; !c.Failed || c.Reason != backoff.ErrNotRetryable.Error() || c.Attempts != 1 {
			t.Errorf("the last call: %+v; want ErrNotRetryable after 1 attempt", c)
		}
		if rec.Call(ids[1]) != nil {
			t.Errorf("call %d is still kept, beyond Options.Calls", ids[1])
		}
		for _, c := range got {
			if c.Err != nil {
				t.Fatalf("call %d: %v", c.ID, c.Err)
			}
			var b bytes.Buffer
			if _, err := c.WriteTo(&b); err != nil {
				t.Fatal(err)
			}
			if err := sim.Replay(&b); err != nil {
				t.Errorf("call %d does not replay: %v", c.ID, err)
			}
		}
	})
}

// idOf is an Observer that learns the ID of the call it sees.
func idOf(id *uint64) backoff.Observer { return idObserver{id} }

type idObserver struct{ id *uint64 }

func (o idObserver) Begin(_ context.Context, c backoff.Call) backoff.CallObserver {
	*o.id = c.ID
	return nil
}

// TestRecorder_redact: every error text a kept call saw goes through
// Redact, in the trace and in the list.
func TestRecorder_redact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(t, flight.Options{Redact: func(s string) string {
			return strings.ReplaceAll(s, "s3cr3t", "XXX")
		}})
		p := backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError, Observer: rec}
		backoff.Do(t.Context(), p, flaky(5, ms))
		c := rec.Calls()[0]
		var b bytes.Buffer
		c.WriteTo(&b)
		if strings.Contains(b.String(), "s3cr3t") || !strings.Contains(b.String(), "token=XXX") {
			t.Errorf("the trace is not redacted:\n%s", b.String())
		}
		srv := httptest.NewRecorder()
		rec.ServeHTTP(srv, httptest.NewRequest(http.MethodGet, "/", nil))
		if strings.Contains(srv.Body.String(), "s3cr3t") {
			t.Errorf("the list shows a secret:\n%s", srv.Body.String())
		}
	})
}

// TestRecorder_handler: the pages, and the answers to what is not one.
func TestRecorder_handler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := newRecorder(t, flight.Options{})
		var id uint64
		p := backoff.Policy{Pause: 10 * ms, MaxTries: 2, RetryIf: backoff.AnyError,
			Observer: backoff.MultiObserver(rec, idOf(&id))}
		backoff.Do(t.Context(), p, flaky(5, ms))
		get := func(method, path string) *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			rec.ServeHTTP(w, httptest.NewRequest(method, path, nil))
			return w
		}
		n := strconv.FormatUint(id, 10)
		for _, tc := range []struct {
			path, ctype string
			code        int
			has         string
		}{
			{"/", "text/html; charset=utf-8", 200, `href="` + n + `.jsonl"`},
			{"/" + n + ".jsonl", "text/plain; charset=utf-8", 200, `"format":"backoff-trace"`},
			{"/" + n + ".txt", "text/plain; charset=utf-8", 200, "attempt 2 starts"},
			{"/" + n + ".svg", "image/svg+xml", 200, "<svg"},
			{"/" + n + ".pdf", "", 404, "no such page"},
			{"/12345678901.jsonl", "", 404, "not kept"},
			{"/x.jsonl", "", 404, "no such page"},
		} {
			w := get(http.MethodGet, tc.path)
			if w.Code != tc.code || tc.ctype != "" && w.Header().Get("Content-Type") != tc.ctype || !strings.Contains(w.Body.String(), tc.has) {
				t.Errorf("GET %s: %d %q\n%.300s\nwant %d %q with %q", tc.path, w.Code, w.Header().Get("Content-Type"), w.Body.String(), tc.code, tc.ctype, tc.has)
			}
		}
		var b bytes.Buffer
		rec.Call(id).WriteTo(&b)
		if w := get(http.MethodGet, "/"+n+".jsonl"); w.Body.String() != b.String() {
			t.Errorf("the served trace is not the call's:\n%s\nwant\n%s", w.Body.String(), b.String())
		}
		if w := get(http.MethodPost, "/"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("POST /: %d, Allow %q", w.Code, w.Header().Get("Allow"))
		}
	})
}

// TestNewRecorder_refuses: options out of range are refused, each named.
func TestNewRecorder_refuses(t *testing.T) {
	_, err := flight.NewRecorder(flight.Options{Calls: -1, Slow: -ms, MaxSteps: 1})
	for _, want := range []string{"Options.Calls is -1", "Options.Slow is -1ms", "Options.MaxSteps is 1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewRecorder = %v; want it to say %q", err, want)
		}
	}
}

// TestRecorder_truncated: a call with more steps than MaxSteps is kept,
// its first steps only, and says it cannot be replayed.
func TestRecorder_truncated(t *testing.T) {
	rec := newRecorder(t, flight.Options{MaxSteps: 4})
	p := backoff.Policy{MaxTries: 10, RetryIf: backoff.AnyError, Observer: rec}
	backoff.Do(context.Background(), p, func(context.Context) (int, error) { return 0, errBusy })
	c := rec.Calls()[0]
	if !c.Truncated || c.Err == nil || len(c.Trace.Lines) != 4 || c.Attempts != 10 {
		t.Errorf("the call: truncated %v, err %v, %d lines, %d attempts; want truncated, an error, 4 lines, 10 attempts", c.Truncated, c.Err, len(c.Trace.Lines), c.Attempts)
	}
}

// TestRecorder_allocs: a call the Recorder does not keep allocates
// nothing, once its pool is warm.
func TestRecorder_allocs(t *testing.T) {
	if race {
		t.Skip("the race detector makes sync.Pool drop what it is given")
	}
	rec := newRecorder(t, flight.Options{})
	p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Observer: rec}
	ctx := context.Background()
	n := 0
	fn := func(context.Context) (int, error) {
		if n++; n%3 != 0 {
			return 0, errBusy
		}
		return n, nil
	}
	if a := testing.AllocsPerRun(100, func() { backoff.Do(ctx, p, fn) }); a != 0 {
		t.Errorf("a call the Recorder does not keep allocates %v times, want 0", a)
	}
}

// BenchmarkRecorder: the cost of the Recorder on a call that succeeds at
// once (none, for the baseline), in the same run.
func BenchmarkRecorder(b *testing.B) {
	rec, _ := flight.NewRecorder(flight.Options{})
	var stats backoff.Stats
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	for _, tc := range []struct {
		name string
		o    backoff.Observer
	}{{"none", nil}, {"stats", &stats}, {"recorder", rec}} {
		b.Run("observer="+tc.name, func(b *testing.B) {
			p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Observer: tc.o}
			b.ReportAllocs()
			for b.Loop() {
				backoff.Do(ctx, p, fn)
			}
		})
	}
	b.Run("observer=recorder/parallel", func(b *testing.B) {
		p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Observer: rec}
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				backoff.Do(ctx, p, fn)
			}
		})
	})
}
