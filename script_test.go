package backoff_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/timebound/backoff"
)

// The scripted operation the tests of the rules, the errors, Stats and
// Logger share.

// op is a scripted operation: attempt k (from 1) runs for steps[k-1].d
// (the last step, once past the end) and then returns steps[k-1].err, or
// returns the context's error as soon as its context is done (plus late,
// if set), unless it ignores its context. It records when each attempt
// started, relative to when newOp made it (the bubble's start, under
// testing/synctest), and its context. It is safe for concurrent use: the
// attempts of calls that share it, or that backoff.Abandon makes, may
// overlap.
type op struct {
	mu     sync.Mutex // attempts overlap under backoff.Abandon
	t0     time.Time
	steps  []step
	starts []time.Duration
	ctxs   []context.Context
}

type step struct {
	d      time.Duration // how long the attempt runs if not cut
	err    error         // what it returns then
	late   time.Duration // how long after its context is done it returns
	ignore bool          // ignores its context entirely
	value  int           // returned with a nil err
}

func newOp(steps ...step) *op { return &op{t0: time.Now(), steps: steps} }

func (o *op) call(ctx context.Context) (int, error) {
	o.mu.Lock()
	k := len(o.starts)
	o.starts = append(o.starts, time.Since(o.t0))
	o.ctxs = append(o.ctxs, ctx)
	s := o.steps[min(k, len(o.steps)-1)]
	o.mu.Unlock()
	if s.ignore {
		time.Sleep(s.d)
		return s.value, s.err
	}
	timer := time.NewTimer(s.d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return s.value, s.err
	case <-ctx.Done():
		time.Sleep(s.late)
		return 0, ctx.Err()
	}
}

// fn returns o's operation, wrapped in backoff.Abandon if abandon is set.
func (o *op) fn(abandon bool) func(context.Context) (int, error) {
	if abandon {
		return backoff.Abandon(o.call)
	}
	return o.call
}

// wantStarts fails the test unless the attempts started at want, since
// newOp.
func (o *op) wantStarts(t *testing.T, want ...time.Duration) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.starts) != len(want) {
		t.Fatalf("attempts started at %v, want %v", o.starts, want)
	}
	for i := range want {
		if o.starts[i] != want[i] {
			t.Fatalf("attempts started at %v, want %v", o.starts, want)
		}
	}
}
