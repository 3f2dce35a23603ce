package backoff_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
)

// callWatch is an Observer that keeps what each call's Begin was told and
// the steps of each call apart, by the CallObserver it gave the call.
type callWatch struct {
	mu    sync.Mutex
	calls []*watchedCall
}

type watchedCall struct {
	ctx   context.Context
	call  backoff.Call
	steps []backoff.Action // one goroutine per call: no lock
}

func (w *callWatch) Begin(ctx context.Context, c backoff.Call) backoff.CallObserver {
	wc := &watchedCall{ctx: ctx, call: c}
	w.mu.Lock()
	w.calls = append(w.calls, wc)
	w.mu.Unlock()
	return wc
}

func (wc *watchedCall) Observe(_ backoff.Event, a backoff.Action) { wc.steps = append(wc.steps, a) }

type requestKey struct{}

// TestObserver_begin: every call under one shared policy begins for the
// Observer with the caller's own context, its policy and a number no other
// call has, and its steps go to its own CallObserver only.
func TestObserver_begin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w callWatch
		p := backoff.Policy{Pause: 10 * time.Millisecond, MaxTries: 3, RetryIf: backoff.AnyError, Observer: &w}
		const calls = 20
		var wg sync.WaitGroup
		for i := range calls {
			wg.Go(func() {
				ctx := context.WithValue(t.Context(), requestKey{}, i)
				n := 0
				backoff.Do(ctx, p, func(context.Context) (int, error) {
					if n++; n <= i%3 {
						return 0, errRetry
					}
					return n, nil
				})
			})
		}
		wg.Wait()
		if len(w.calls) != calls {
			t.Fatalf("%d calls began, want %d", len(w.calls), calls)
		}
		var ids []uint64
		for _, wc := range w.calls {
			i := wc.ctx.Value(requestKey{}).(int)
			ids = append(ids, wc.call.ID)
			if wc.call.Policy.Pause != p.Pause || wc.call.Policy.MaxTries != p.MaxTries {
				t.Errorf("call %d: Begin was told the policy %+v", i, wc.call.Policy)
			}
			// i%3 failures, then the success: a Start per attempt, a Pause per failure, the Finish.
			starts := 0
			for _, a := range wc.steps {
				if a.Kind == backoff.ActionStart {
					starts++
				}
			}
			if last := wc.steps[len(wc.steps)-1]; starts != i%3+1 || last.Kind != backoff.ActionFinish || last.Err != nil {
				t.Errorf("call %d: steps %v; want %d attempts then success", i, wc.steps, i%3+1)
			}
		}
		slices.Sort(ids)
		if len(slices.Compact(ids)) != calls || ids[0] == 0 {
			t.Errorf("the calls' IDs %v are not distinct numbers from 1", ids)
		}
	})
}

// TestObserver_nilCallObserver: an Observer may decline to watch a call.
func TestObserver_nilCallObserver(t *testing.T) {
	began := 0
	p := backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError, Observer: beginOnly(func() { began++ })}
	n := 0
	v, err := backoff.Do(context.Background(), p, func(context.Context) (int, error) {
		if n++; n == 1 {
			return 0, errRetry
		}
		return 7, nil
	})
	if v != 7 || err != nil || began != 1 {
		t.Fatalf("Do = %v, %v; Begin called %d times; want 7, nil, once", v, err, began)
	}
}

type beginOnly func()

func (f beginOnly) Begin(context.Context, backoff.Call) backoff.CallObserver { f(); return nil }

// TestMultiObserver: each step reaches every observer, in their order;
// nil observers and observers that decline a call are left out.
func TestMultiObserver(t *testing.T) {
	var order []string
	tell := func(name string) backoff.Observer {
		return backoff.ObserverFunc(func(_ backoff.Event, a backoff.Action) { order = append(order, name+":"+a.Kind.String()) })
	}
	var stats backoff.Stats
	p := backoff.Policy{Observer: backoff.MultiObserver(tell("a"), nil, beginOnly(func() {}), &stats, tell("b"))}
	for range 3 { // the second and third calls reuse what the first gave back
		order = order[:0]
		backoff.Do(context.Background(), p, func(context.Context) (int, error) { return 1, nil })
		if want := []string{"a:start", "b:start", "a:finish", "b:finish"}; !slices.Equal(order, want) {
			t.Fatalf("steps told %v, want %v", order, want)
		}
	}
	if s := stats.Snapshot(); s.Calls != 3 || s.Successes != 3 {
		t.Errorf("Stats in a MultiObserver counted %+v", s)
	}
	if o := backoff.MultiObserver(beginOnly(func() {})).Begin(context.Background(), backoff.Call{}); o != nil {
		t.Errorf("a MultiObserver whose observers all decline a call returned %v", o)
	}
}

// ctxHandler is a slog.Handler that keeps the context and the attributes
// of every record.
type ctxHandler struct {
	mu      sync.Mutex
	ctxs    []context.Context
	records []map[string]string
}

func (h *ctxHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *ctxHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *ctxHandler) WithGroup(string) slog.Handler            { return h }
func (h *ctxHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := map[string]string{"msg": r.Message}
	r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
	h.mu.Lock()
	h.ctxs, h.records = append(h.ctxs, ctx), append(h.records, attrs)
	h.mu.Unlock()
	return nil
}

// TestLogger_call: every record of a call is made with the caller's
// context, and carries the call's number (Call.ID), the same for all its
// records and another for another call.
func TestLogger_call(t *testing.T) {
	h := &ctxHandler{}
	var w callWatch
	p := backoff.Policy{MaxTries: 2, RetryIf: backoff.AnyError,
		Observer: backoff.MultiObserver(backoff.Logger{Logger: slog.New(h)}, &w)}
	for i := range 2 {
		ctx := context.WithValue(context.Background(), requestKey{}, i)
		backoff.Do(ctx, p, func(context.Context) (int, error) { return 0, errRetry })
	}
	// Each call: Start, Retry, Start, Failure.
	if len(h.records) != 8 {
		t.Fatalf("%d records, want 8: %v", len(h.records), h.records)
	}
	for i, r := range h.records {
		call := i / 4
		if got := h.ctxs[i].Value(requestKey{}); got != call {
			t.Errorf("record %d (%s) was made with the context of call %v, want %d", i, r["msg"], got, call)
		}
		if want := strconv.FormatUint(w.calls[call].call.ID, 10); r["call"] != want {
			t.Errorf("record %d (%s): call=%s, want %s (the call's ID)", i, r["msg"], r["call"], want)
		}
	}
}
