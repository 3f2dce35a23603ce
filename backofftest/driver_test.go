package backofftest

// The Driver's waits: what they take, and how they fail. A recordingT
// stands for the test, so that a wait that fails the test can be seen
// failing it; the Driver's timeout is cut short where a wait must time out.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/timebound/backoff"
)

const ms = time.Millisecond

var errBusy = errors.New("busy")

// recordingT is a testing.TB that records its failures; Fatalf ends the
// goroutine that calls it, as testing.T's does.
type recordingT struct {
	testing.TB // the methods the Driver does not call: nil, they panic

	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recordingT) Helper() {}

func (r *recordingT) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recordingT) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recordingT) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.errs) > 0
}

func (r *recordingT) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

// run runs body as a test of its own with a Driver whose waits time out
// after timeout, then its cleanups, and returns its failures.
func run(t *testing.T, timeout time.Duration, body func(d *Driver)) []string {
	t.Helper()
	r := &recordingT{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d := NewDriver(r)
		d.timeout = timeout
		body(d)
	}()
	select {
	case <-done:
	case <-time.After(timeout + 10*time.Second):
		t.Fatalf("the test did not end %v after its Driver's timeout; failures so far: %q", 10*time.Second, r.errs)
	}
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r.errs
}

// wantFailure checks that errs is one failure that contains each of
// wants.
func wantFailure(t *testing.T, errs []string, wants ...string) {
	t.Helper()
	if len(errs) != 1 {
		t.Fatalf("%d failures: %q; want 1", len(errs), errs)
	}
	for _, w := range wants {
		if !strings.Contains(errs[0], w) {
			t.Errorf("the failure\n%s\ndoes not say %q", errs[0], w)
		}
	}
}

// wantNoFailure checks that errs is empty.
func wantNoFailure(t *testing.T, errs []string) {
	t.Helper()
	for _, e := range errs {
		t.Errorf("the test failed: %s", e)
	}
}

// policy is a policy that a Driver can follow to its end.
var policy = backoff.Policy{AttemptTimeout: time.Second, Pause: 100 * ms, MaxTries: 3, RetryIf: backoff.AnyError}

// Every kind of step in one call: a pause, a cut, another pause, the end.
func TestDriver_steps(t *testing.T) {
	errs := run(t, 5*time.Second, func(d *Driver) {
		op := NewOp(Fail[int](errBusy), Hang[int](), Succeed(7))
		var v int
		var err error
		d.Go(func() { v, err = backoff.Do(context.Background(), d.Policy(policy), op.Call) })
		p1 := d.Pause()
		c := d.Cut()
		p2 := d.Pause()
		end := d.Wait()
		for _, c := range []struct {
			got, want State
		}{
			{p1, State{Phase: Pausing, Attempt: 2, At: 0, Until: 100 * ms, Err: errBusy}},
			{c, State{Phase: Running, Attempt: 2, At: 100 * ms, Until: 1100 * ms, Cut: backoff.ErrAttemptTimeout}},
			{p2, State{Phase: Pausing, Attempt: 3, At: 1100 * ms, Until: 1200 * ms, Err: context.DeadlineExceeded}},
			{end, State{Phase: Finished, Attempt: 3, At: 1200 * ms}},
		} {
			if c.got != c.want {
				t.Errorf("got %v, want %v", c.got, c.want)
			}
		}
		if v != 7 || err != nil {
			t.Errorf("Do = %v, %v; want 7, nil", v, err)
		}
		if again := d.Wait(); again != end {
			t.Errorf("Wait again: %v, want %v", again, end)
		}
	})
	wantNoFailure(t, errs)
}

// The policy's own Observer sees every step too, before the Driver.
func TestDriver_policyKeepsObserver(t *testing.T) {
	var stats backoff.Stats
	errs := run(t, 5*time.Second, func(d *Driver) {
		p := policy
		p.Observer = &stats
		d.Go(func() { backoff.Do(context.Background(), d.Policy(p), NewOp(Fail[int](errBusy), Succeed(1)).Call) })
		d.Pause()
		d.Wait()
	})
	wantNoFailure(t, errs)
	if s := stats.Snapshot(); s.Attempts != 2 || s.Successes != 1 {
		t.Errorf("the policy's Stats: %+v; want 2 attempts, 1 success", s)
	}
}

// Code that takes the Clock and the Observer apart can be given the
// Driver's.
func TestDriver_observerAndClockApart(t *testing.T) {
	errs := run(t, 5*time.Second, func(d *Driver) {
		p := policy
		p.Clock, p.Observer = d.Clock(), d
		d.Go(func() { backoff.Do(context.Background(), p, NewOp(Hang[int]()).Call) })
		for range 2 {
			d.Cut()
			d.Pause()
		}
		d.Cut()
		if end := d.Wait(); end.At != 3200*ms || !errors.Is(end.Err, backoff.ErrMaxTries) {
			t.Errorf("the call %v; want ErrMaxTries at 3.2s", end)
		}
	})
	wantNoFailure(t, errs)
}

// Calls one after another, from one function: each is followed from its
// own start.
func TestDriver_callsInTurn(t *testing.T) {
	errs := run(t, 5*time.Second, func(d *Driver) {
		p := d.Policy(policy)
		d.Go(func() {
			for range 2 {
				backoff.Do(context.Background(), p, NewOp(Fail[int](errBusy), Succeed(1)).Call)
			}
		})
		for range 2 {
			if s := d.Pause(); s.At != 0 || s.Until != 100*ms {
				t.Errorf("pause %v; want from 0 until 100ms", s)
			}
		}
		if end := d.Wait(); end.At != 100*ms {
			t.Errorf("the second call %v; want finished at 100ms", end)
		}
	})
	wantNoFailure(t, errs)
}

// backoff.Abandon: an attempt that ignores its context is cut all the
// same.
func TestDriver_abandon(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	errs := run(t, 5*time.Second, func(d *Driver) {
		stubborn := func(context.Context) (int, error) { <-release; return 0, nil }
		p := d.Policy(backoff.Policy{AttemptTimeout: time.Second, MaxTries: 2})
		d.Go(func() { backoff.Do(context.Background(), p, backoff.Abandon(stubborn)) })
		d.Cut()
		d.Cut() // no pause: the next attempt starts at once
		if end := d.Wait(); end.At != 2*time.Second || !errors.Is(end.Err, backoff.ErrMaxTries) {
			t.Errorf("the call %v; want ErrMaxTries at 2s", end)
		}
	})
	wantNoFailure(t, errs)
}

// A wait that cannot be met fails at once, saying why and what the call
// did; one that is not met in time fails after the timeout.
func TestDriver_failures(t *testing.T) {
	const long = time.Minute // a wait that must fail at once would time out after this
	for _, c := range []struct {
		name    string
		timeout time.Duration
		op      Step[int]
		policy  backoff.Policy
		test    func(d *Driver)
		want    []string
	}{{
		name: "Pause, but the call finishes", timeout: long,
		op: Fail[int](errBusy), policy: backoff.Policy{AttemptTimeout: time.Second},
		test: func(d *Driver) { d.Pause() },
		want: []string{"Pause: the call finished without a pause", "finished at 0s after 1 attempts: backoff: error not retryable"},
	}, {
		name: "Pause, but the attempt hangs", timeout: 200 * ms,
		op: Hang[int](), policy: policy,
		test: func(d *Driver) { d.Pause() },
		want: []string{"Pause: no sign of a pause after 200ms", "the call: attempt 1 running since 0s, cut at 1s (backoff: attempt timed out); the clock at 0s",
			"(an attempt that waits for its context ends only at its cut: Cut moves the clock there)"},
	}, {
		name: "Cut, but the attempt has no time limit", timeout: long,
		op: Hang[int](), policy: backoff.Policy{MaxTries: 2},
		test: func(d *Driver) { d.Cut() },
		want: []string{"Cut: attempt 1 has no time limit", "attempt 1 running since 0s, with no time limit"},
	}, {
		name: "Cut, but the attempt failed by itself", timeout: long,
		op: Fail[int](errBusy), policy: policy,
		test: func(d *Driver) { waitPausing(t, d); d.Cut() },
		want: []string{"Cut: attempt 1 ended by itself", "Cut is for an attempt that waits for its context",
			"the call: pausing from 0s until 100ms, after a failure (busy), before attempt 2"},
	}, {
		name: "Cut twice", timeout: long,
		op: Hang[int](), policy: backoff.Policy{AttemptTimeout: time.Second, Pause: 100 * ms, MaxTries: 2},
		test: func(d *Driver) { d.Cut(); d.Cut() },
		want: []string{"Cut: the call paused (Pause moves the clock over a pause)"},
	}, {
		name: "Wait, but the call pauses", timeout: long,
		op: Fail[int](errBusy), policy: policy,
		test: func(d *Driver) { waitPausing(t, d); d.Wait() },
		want: []string{"Wait: the call is pausing and cannot finish unless the clock moves"},
	}, {
		name: "Pause, but the call has finished", timeout: long,
		op: Fail[int](errBusy), policy: backoff.Policy{AttemptTimeout: time.Second},
		test: func(d *Driver) { d.Wait(); d.Pause() },
		want: []string{"Pause: the call finished", "finished at 0s after 1 attempts: backoff: error not retryable"},
	}, {
		name: "Wait, but the attempt hangs", timeout: 200 * ms,
		op: Hang[int](), policy: policy,
		test: func(d *Driver) { d.Wait() },
		want: []string{"Wait: no sign of the end of the call after 200ms", "attempt 1 running since 0s", "Cut moves the clock there"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			errs := run(t, c.timeout, func(d *Driver) {
				d.Go(func() { backoff.Do(context.Background(), d.Policy(c.policy), NewOp(c.op).Call) })
				c.test(d)
				t.Errorf("the test went on after the wait")
			})
			// The reasons the waits fail at once come only from their
			// checks, never from their timeout.
			wantFailure(t, errs, c.want...)
		})
	}
}

// A wait for the next call's step is not failed by the end of the call
// before, while the function that made it may make another: here the
// second call begins once the first has finished, and has a pause.
func TestDriver_callsInTurnWithAGap(t *testing.T) {
	errs := run(t, 5*time.Second, func(d *Driver) {
		p := d.Policy(policy)
		next := make(chan struct{})
		d.Go(func() {
			backoff.Do(context.Background(), p, NewOp(Succeed(1)).Call)
			<-next
			backoff.Do(context.Background(), p, NewOp(Fail[int](errBusy), Succeed(1)).Call)
		})
		waitFor(t, d, "the first call to finish", func() bool {
			n := len(d.states)
			return n > 0 && d.states[n-1].Phase == Finished
		})
		time.AfterFunc(100*ms, func() { close(next) }) // once Pause waits (if not, it still must)
		if s := d.Pause(); s.At != 0 || s.Until != 100*ms || s.Attempt != 2 {
			t.Errorf("pause %v; want the second call's, from 0 until 100ms", s)
		}
		if end := d.Wait(); end.At != 100*ms || end.Attempt != 2 {
			t.Errorf("the second call %v; want finished at 100ms after 2 attempts", end)
		}
	})
	wantNoFailure(t, errs)
}

// Wait returns only once the functions of Go have returned, not when the
// call they made finishes.
func TestDriver_waitForGo(t *testing.T) {
	var returned atomic.Bool
	errs := run(t, 5*time.Second, func(d *Driver) {
		release := make(chan struct{})
		d.Go(func() {
			backoff.Do(context.Background(), d.Policy(policy), NewOp(Succeed(1)).Call)
			<-release
			returned.Store(true)
		})
		waitFor(t, d, "the call to finish", func() bool {
			n := len(d.states)
			return n > 0 && d.states[n-1].Phase == Finished
		})
		time.AfterFunc(100*ms, func() { close(release) }) // once Wait waits (if not, it still must)
		d.Wait()
		if !returned.Load() {
			t.Errorf("Wait returned before the function of Go did")
		}
	})
	wantNoFailure(t, errs)
}

// A pause that the call has left by itself, the clock having been moved
// past it by hand, is not taken: Pause fails saying where the call went.
func TestDriver_pauseLeft(t *testing.T) {
	errs := run(t, time.Minute, func(d *Driver) {
		p := backoff.Policy{AttemptTimeout: time.Second, Pause: 100 * ms, MaxTries: 2, RetryIf: backoff.AnyError}
		d.Go(func() { backoff.Do(context.Background(), d.Policy(p), NewOp(Fail[int](errBusy), Hang[int]()).Call) })
		waitPausing(t, d)
		d.Clock().Advance(time.Second)
		waitFor(t, d, "attempt 2 to start", func() bool {
			n := len(d.states)
			return n > 0 && d.states[n-1].Phase == Running && d.states[n-1].Attempt == 2
		})
		defer func() { // cut attempt 2, the last, so that the call ends
			d.Clock().Advance(time.Hour)
			waitFor(t, d, "the call to end", func() bool { return !d.busy && d.gos == 0 })
		}()
		d.Pause()
	})
	wantFailure(t, errs, "Pause: the call moved on from its pause by itself, to: attempt 2 running since 1s")
}

// A pause that the clock was moved past by hand is not taken.
func TestDriver_clockMovedByHand(t *testing.T) {
	errs := run(t, time.Minute, func(d *Driver) {
		d.Go(func() { backoff.Do(context.Background(), d.Policy(policy), NewOp(Fail[int](errBusy)).Call) })
		waitPausing(t, d)
		d.Clock().Advance(time.Second)
		d.Pause()
	})
	// The call may have moved on when Pause looks, or not yet.
	if len(errs) != 1 || !strings.Contains(errs[0], "Pause: the call moved on from its pause by itself, to: attempt 2 running since 1s") &&
		!strings.Contains(errs[0], "Pause: the clock is at 1s since the call began, past 100ms") {
		t.Errorf("failures %q; want one, of Pause", errs)
	}
}

// A policy that does not tell the Driver: no call begins.
func TestDriver_policyWithoutDriver(t *testing.T) {
	errs := run(t, time.Minute, func(d *Driver) {
		d.Go(func() { backoff.Do(context.Background(), policy, NewOp(Fail[int](errBusy)).Call) })
		d.Wait()
	})
	wantFailure(t, errs, "Wait: no call began", "is the Driver the policy's Observer?")
}

// A test that ends with its call unfinished fails.
func TestDriver_unfinished(t *testing.T) {
	errs := run(t, 5*time.Second, func(d *Driver) {
		d.Go(func() { backoff.Do(context.Background(), d.Policy(policy), NewOp(Fail[int](errBusy)).Call) })
		d.Pause()
	})
	wantFailure(t, errs, "the test ended before the call did (call the Driver's Wait)", "functions of Go still running: 1")
}

// A call that begins while another is unfinished fails the test.
func TestDriver_overlappingCalls(t *testing.T) {
	errs := run(t, 5*time.Second, func(d *Driver) {
		p := d.Policy(policy)
		ctx, cancel := context.WithCancel(context.Background())
		d.Go(func() { backoff.Do(ctx, p, NewOp(Hang[int]()).Call) })
		// Its first attempt under way (begun is not enough: the failure
		// would then say no step came yet).
		waitFor(t, d, "attempt 1 to start", func() bool { return len(d.states) > 0 })
		d.Go(func() { backoff.Do(context.Background(), p, NewOp(Succeed(1)).Call) })
		waitGos(t, d, 1) // the second call ended, unfollowed
		cancel()
		if end := d.Wait(); !errors.Is(end.Err, context.Canceled) {
			t.Errorf("the first call %v; want cancelled", end)
		}
	})
	wantFailure(t, errs, "began while another one is unfinished", "attempt 1 running since 0s")
}

// waitPausing waits until the last step of d's call is a pause.
func waitPausing(t *testing.T, d *Driver) {
	t.Helper()
	waitFor(t, d, "a pause", func() bool { return len(d.states) > 0 && d.states[len(d.states)-1].Phase == Pausing })
}

// waitGos waits until n functions of d.Go are running.
func waitGos(t *testing.T, d *Driver, n int) {
	t.Helper()
	waitFor(t, d, fmt.Sprintf("%d functions of Go running", n), func() bool { return d.gos == n })
}

func waitFor(t *testing.T, d *Driver, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d.mu.Lock()
		ok, changed := cond(), d.changed
		d.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("no sign of %s after 5s", what)
		}
	}
}
