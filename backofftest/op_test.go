package backofftest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff/backofftest"
)

// The steps in order, each taken as many times as it says, the last one
// again and again.
func TestOp_script(t *testing.T) {
	errA, errB := errors.New("a"), errors.New("b")
	op := backofftest.NewOp(
		backofftest.Fail[string](errA).Times(2),
		backofftest.Succeed("x"),
		backofftest.Fail[string](errB),
		backofftest.Succeed("y"),
	)
	type result struct {
		v   string
		err error
	}
	want := []result{{"", errA}, {"", errA}, {"x", nil}, {"", errB}, {"y", nil}, {"y", nil}, {"y", nil}}
	for i, w := range want {
		v, err := op.Call(context.Background())
		if v != w.v || err != w.err {
			t.Errorf("call %d = %q, %v; want %q, %v", i+1, v, err, w.v, w.err)
		}
	}
	if got := op.Calls(); got != len(want) {
		t.Errorf("Calls() = %d, want %d", got, len(want))
	}
}

// After takes its time on the system clock, which is virtual in a bubble;
// a context done first ends the call then, with its error. Hang waits for
// the context.
func TestOp_time(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, c := range []struct {
			name    string
			step    backofftest.Step[int]
			timeout time.Duration // of the call's context; 0: none
			v       int
			err     error
			took    time.Duration
		}{
			{"succeed after 30ms", backofftest.Succeed(1).After(30 * time.Millisecond), time.Second, 1, nil, 30 * time.Millisecond},
			{"fail after 30ms", backofftest.Fail[int](errBusy).After(30 * time.Millisecond), 0, 0, errBusy, 30 * time.Millisecond},
			{"cut before it succeeds", backofftest.Succeed(1).After(time.Second), 200 * time.Millisecond, 0, context.DeadlineExceeded, 200 * time.Millisecond},
			{"hang", backofftest.Hang[int](), 200 * time.Millisecond, 0, context.DeadlineExceeded, 200 * time.Millisecond},
			{"hang after 30ms", backofftest.Hang[int]().After(30 * time.Millisecond), 200 * time.Millisecond, 0, context.DeadlineExceeded, 200 * time.Millisecond},
		} {
			ctx, cancel := context.Background(), func() {}
			if c.timeout > 0 {
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
			}
			start := time.Now()
			v, err := backofftest.NewOp(c.step).Call(ctx)
			took := time.Since(start)
			cancel()
			if v != c.v || err != c.err || took != c.took {
				t.Errorf("%s: %v, %v after %v; want %v, %v after %v", c.name, v, err, took, c.v, c.err, c.took)
			}
		}
	})
}

// A cancelled context ends a hanging call with context.Canceled.
func TestOp_hangCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := backofftest.NewOp(backofftest.Hang[int]()).Call(ctx); err != context.Canceled {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// Concurrent calls each take a step of their own.
func TestOp_concurrent(t *testing.T) {
	op := backofftest.NewOp(backofftest.Fail[int](errBusy).Times(50), backofftest.Succeed(1))
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			if _, err := op.Call(context.Background()); err != nil {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if failed != 50 || op.Calls() != 100 {
		t.Errorf("%d of %d calls failed, want 50 of 100", failed, op.Calls())
	}
}

// Bad scripts panic with a message that says what is wrong.
func TestOp_badScript(t *testing.T) {
	for _, c := range []struct {
		want string
		f    func()
	}{
		{"backofftest: NewOp(): want at least one step", func() { backofftest.NewOp[int]() }},
		{"backofftest: Call of an Op without steps (make one with NewOp)", func() { new(backofftest.Op[int]).Call(context.Background()) }},
		{"backofftest: Fail(nil): a step that fails needs an error (Succeed returns nil)", func() { backofftest.Fail[int](nil) }},
		{"backofftest: Times(0): want 1 or more", func() { backofftest.Succeed(1).Times(0) }},
		{"backofftest: After(-1s): want 0 or more", func() { backofftest.Succeed(1).After(-time.Second) }},
	} {
		func() {
			defer func() {
				if r := recover(); r != c.want {
					t.Errorf("panic %v, want %q", r, c.want)
				}
			}()
			c.f()
		}()
	}
}
