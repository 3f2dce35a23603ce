package backoff_test

// Tests of Stats. The calls run the executor on the system clock inside a
// testing/synctest bubble, so every instant, and so every time Stats
// adds up, is exact; nothing sleeps on the wall clock.

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
)

var (
	errStatsRetry = errors.New("stats: retry me")
	errStatsFatal = errors.New("stats: fatal")
)

// wantStats fails t unless got is want.
func wantStats(t *testing.T, got, want backoff.StatsSnapshot) {
	t.Helper()
	if got != want {
		t.Errorf("Snapshot() =\n\t%+v\nwant\n\t%+v", got, want)
	}
}

// checkSettled checks the identities StatsSnapshot promises once every
// call has returned, and that the times add up to elapsed.
func checkSettled(t *testing.T, s backoff.StatsSnapshot, elapsed time.Duration) {
	t.Helper()
	if s.Done != s.Attempts {
		t.Errorf("Done %d != Attempts %d", s.Done, s.Attempts)
	}
	if n := s.Errors + s.Rejected + s.Cancels + s.Successes; n != s.Done {
		t.Errorf("Errors+Rejected+Cancels+Successes = %d, Done = %d", n, s.Done)
	}
	if n := s.Successes + s.Failures; n != s.Calls {
		t.Errorf("Successes+Failures = %d, Calls = %d", n, s.Calls)
	}
	if d := s.AttemptTime + s.PauseTime; d != elapsed {
		t.Errorf("AttemptTime+PauseTime = %v, want the calls' time %v", d, elapsed)
	}
}

// checkBounds checks the inequalities every snapshot promises, even while
// calls are under way.
func checkBounds(t *testing.T, s backoff.StatsSnapshot) {
	t.Helper()
	if s.Done > s.Attempts || s.Errors+s.Rejected+s.Cancels+s.Successes > s.Done || s.Successes+s.Failures > s.Calls {
		t.Errorf("inconsistent snapshot %+v", s)
	}
}

func TestStats_scenarios(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		name         string
		p            backoff.Policy
		steps        []step
		cancelAt     time.Duration // > 0: the caller cancels then
		cancelBefore bool          // the caller's context is done before the call
		abandon      bool          // the operation is wrapped in backoff.Abandon
		wantErr      error         // the Error's Reason; nil: success
		elapsed      time.Duration
		want         backoff.StatsSnapshot
	}{{
		name:    "success at the first try",
		steps:   []step{{d: 10 * ms}},
		elapsed: 10 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Successes: 1, AttemptTime: 10 * ms},
	}, {
		name:    "retries with pauses, then success",
		p:       backoff.Policy{Pause: 100 * ms, MaxTries: 5, RetryIf: backoff.AnyError},
		steps:   []step{{d: 10 * ms, err: errStatsRetry}, {d: 20 * ms, err: errStatsRetry}, {d: 30 * ms}},
		elapsed: 260 * ms, // 10 + 100 + 20 + 100 + 30
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 3, Done: 3, Errors: 2, Successes: 1,
			AttemptTime: 60 * ms, PauseTime: 200 * ms},
	}, {
		name:    "retries with no pause, then success",
		p:       backoff.Retry(5),
		steps:   []step{{d: 10 * ms, err: errStatsRetry}, {d: 20 * ms, err: errStatsRetry}, {d: 30 * ms}},
		elapsed: 60 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 3, Done: 3, Errors: 2, Successes: 1, AttemptTime: 60 * ms},
	}, {
		name:    "attempt timeouts, then MaxTries",
		p:       backoff.Policy{AttemptTimeout: 50 * ms, Pause: 10 * ms, MaxTries: 3},
		steps:   []step{{d: time.Hour}},
		wantErr: backoff.ErrMaxTries,
		elapsed: 170 * ms, // 50 + 10 + 50 + 10 + 50
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 3, Done: 3, Errors: 3, Failures: 1,
			AttemptTime: 150 * ms, PauseTime: 20 * ms},
	}, {
		name: "an error after the attempt timeout is the timeout",
		p:    backoff.Policy{AttemptTimeout: 50 * ms, MaxTries: 1},
		// Not retryable (RetryIf is nil), but returned at 80ms, after the
		// cut at 50ms: the core says Failed, and the attempt lasted 80ms.
		steps:   []step{{d: 80 * ms, err: errStatsFatal, ignore: true}},
		wantErr: backoff.ErrMaxTries,
		elapsed: 80 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Errors: 1, Failures: 1, AttemptTime: 80 * ms},
	}, {
		name:    "a non-retryable error",
		p:       backoff.Policy{Pause: 10 * ms, MaxTries: 5, RetryIf: backoff.On(errStatsRetry)},
		steps:   []step{{d: 5 * ms, err: errStatsRetry}, {d: 7 * ms, err: errStatsFatal}},
		wantErr: backoff.ErrNotRetryable,
		elapsed: 22 * ms,
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 1, Rejected: 1, Failures: 1,
			AttemptTime: 12 * ms, PauseTime: 10 * ms},
	}, {
		name:    "GiveUp: the error given up on is an Error",
		p:       backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError, GiveUp: backoff.On(errStatsFatal)},
		steps:   []step{{d: 5 * ms, err: errStatsRetry}, {d: 5 * ms, err: errStatsFatal}},
		wantErr: backoff.ErrGaveUp,
		elapsed: 20 * ms,
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 2, Failures: 1,
			AttemptTime: 10 * ms, PauseTime: 10 * ms},
	}, {
		name:    "the deadline cuts an attempt",
		p:       backoff.Policy{AttemptTimeout: 100 * ms, Deadline: 250 * ms, Pause: 20 * ms, RetryIf: backoff.AnyError},
		steps:   []step{{d: time.Hour}},
		wantErr: backoff.ErrDeadline,
		elapsed: 250 * ms, // attempts [0,100] [120,220] [240,250]
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 3, Done: 3, Errors: 2, Cancels: 1, Failures: 1,
			AttemptTime: 210 * ms, PauseTime: 40 * ms},
	}, {
		name:    "the deadline cuts the first attempt, which returns late",
		p:       backoff.Policy{Deadline: 100 * ms},
		steps:   []step{{d: time.Hour, late: 15 * ms}},
		wantErr: backoff.ErrDeadline,
		elapsed: 115 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Cancels: 1, Failures: 1, AttemptTime: 115 * ms},
	}, {
		name:    "a deadline that ties the attempt timeout is a cancel",
		p:       backoff.Policy{AttemptTimeout: 100 * ms, Deadline: 100 * ms},
		steps:   []step{{d: time.Hour}},
		wantErr: backoff.ErrDeadline,
		elapsed: 100 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Cancels: 1, Failures: 1, AttemptTime: 100 * ms},
	}, {
		name:    "cut by the deadline, but a success anyway",
		p:       backoff.Policy{Deadline: 50 * ms},
		steps:   []step{{d: 60 * ms, ignore: true}},
		elapsed: 60 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Successes: 1, AttemptTime: 60 * ms},
	}, {
		name: "no sleeping into the deadline: no pause, no cancel",
		p:    backoff.Policy{Deadline: 100 * ms, Pause: 80 * ms, RetryIf: backoff.AnyError},
		// The pause would end at 110ms: the call ends at 30ms instead.
		steps:   []step{{d: 30 * ms, err: errStatsRetry}},
		wantErr: backoff.ErrDeadline,
		elapsed: 30 * ms,
		want:    backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Errors: 1, Failures: 1, AttemptTime: 30 * ms},
	}, {
		name:     "the caller cancels during a pause: no cancel, a shorter pause",
		p:        backoff.Policy{Pause: 100 * ms, RetryIf: backoff.AnyError},
		steps:    []step{{d: 20 * ms, err: errStatsRetry}},
		cancelAt: 50 * ms,
		wantErr:  context.Canceled,
		elapsed:  50 * ms,
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Errors: 1, Failures: 1,
			AttemptTime: 20 * ms, PauseTime: 30 * ms},
	}, {
		name:     "the caller cancels during an attempt, which returns late",
		p:        backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError},
		steps:    []step{{d: 20 * ms, err: errStatsRetry}, {d: time.Hour, late: 5 * ms}},
		cancelAt: 50 * ms,
		wantErr:  context.Canceled,
		elapsed:  55 * ms, // attempts [0,20] [30,55]
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 1, Cancels: 1, Failures: 1,
			AttemptTime: 45 * ms, PauseTime: 10 * ms},
	}, {
		name:         "the caller's context is done before the call",
		p:            backoff.Retry(3),
		steps:        []step{{}},
		cancelBefore: true,
		wantErr:      context.Canceled,
		want:         backoff.StatsSnapshot{Calls: 1, Failures: 1},
	}, {
		name:    "Abandon at attempt timeouts",
		abandon: true,
		p:       backoff.Policy{AttemptTimeout: 50 * ms, Pause: 10 * ms, MaxTries: 2},
		steps:   []step{{d: time.Second, err: errStatsRetry, ignore: true}},
		wantErr: backoff.ErrMaxTries,
		elapsed: 110 * ms, // attempts [0,50] [60,110], abandoned
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 2, Failures: 1,
			AttemptTime: 100 * ms, PauseTime: 10 * ms},
	}, {
		name:    "Abandon at the deadline",
		abandon: true,
		p:       backoff.Policy{AttemptTimeout: 40 * ms, Deadline: 70 * ms, RetryIf: backoff.AnyError},
		steps:   []step{{d: time.Second, ignore: true}},
		wantErr: backoff.ErrDeadline,
		elapsed: 70 * ms, // attempts [0,40] [40,70], abandoned
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 1, Cancels: 1, Failures: 1,
			AttemptTime: 70 * ms},
	}, {
		name:     "Abandon: the caller cancels during an attempt",
		abandon:  true,
		p:        backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError},
		steps:    []step{{d: 20 * ms, err: errStatsRetry}, {d: time.Second, ignore: true}},
		cancelAt: 50 * ms,
		wantErr:  context.Canceled,
		elapsed:  50 * ms, // attempts [0,20] [30,50], the second abandoned
		want: backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 1, Cancels: 1, Failures: 1,
			AttemptTime: 40 * ms, PauseTime: 10 * ms},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tc.cancelBefore {
					cancel()
				} else if tc.cancelAt > 0 {
					time.AfterFunc(tc.cancelAt, cancel)
				}
				var stats backoff.Stats
				p := tc.p
				p.Observer = &stats
				t0 := time.Now()
				_, err := backoff.Do(ctx, p, newOp(tc.steps...).fn(tc.abandon))
				if elapsed := time.Since(t0); elapsed != tc.elapsed {
					t.Errorf("Do returned after %v, want %v", elapsed, tc.elapsed)
				}
				switch {
				case tc.wantErr == nil && err != nil:
					t.Fatalf("Do: %v, want success", err)
				case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
					t.Fatalf("Do: %v, want %v", err, tc.wantErr)
				}
				got := stats.Snapshot()
				wantStats(t, got, tc.want)
				checkSettled(t, got, tc.elapsed)

				// Abandoned attempts end later: what they do is not counted.
				time.Sleep(2 * time.Second)
				synctest.Wait()
				wantStats(t, stats.Snapshot(), got)
			})
		})
	}
}

// TestStats_inFlight pins down what a snapshot says while a call is under
// way: Done is counted when an attempt ends (aiomisc's done only after the
// pause that follows), and a time grows when an attempt or pause ends.
func TestStats_inFlight(t *testing.T) {
	const ms = time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		var stats backoff.Stats
		p := backoff.Policy{Pause: 100 * ms, MaxTries: 3, RetryIf: backoff.AnyError, Observer: &stats}
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Attempts [0,10] [110,130] [230,260]; pauses [10,110] [130,230].
			backoff.Do(t.Context(), p, newOp(step{d: 10 * ms, err: errStatsRetry},
				step{d: 20 * ms, err: errStatsRetry}, step{d: 30 * ms}).call)
		}()
		t0 := time.Now()
		for _, c := range []struct {
			at   time.Duration
			want backoff.StatsSnapshot
		}{
			{5 * ms, backoff.StatsSnapshot{Calls: 1, Attempts: 1}},
			{50 * ms, backoff.StatsSnapshot{Calls: 1, Attempts: 1, Done: 1, Errors: 1,
				AttemptTime: 10 * ms}},
			{120 * ms, backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 1, Errors: 1,
				AttemptTime: 10 * ms, PauseTime: 100 * ms}},
			{200 * ms, backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 2, Errors: 2,
				AttemptTime: 30 * ms, PauseTime: 100 * ms}},
			{300 * ms, backoff.StatsSnapshot{Calls: 1, Attempts: 3, Done: 3, Errors: 2, Successes: 1,
				AttemptTime: 60 * ms, PauseTime: 200 * ms}},
		} {
			time.Sleep(c.at - time.Since(t0))
			synctest.Wait()
			got := stats.Snapshot()
			checkBounds(t, got)
			if got != c.want {
				t.Errorf("at %v: Snapshot() =\n\t%+v\nwant\n\t%+v", c.at, got, c.want)
			}
		}
		<-done
	})
}

// TestStats_panic: an attempt that panics ends without a step, so it and
// its call stay in flight, and its time is not counted.
func TestStats_panic(t *testing.T) {
	const ms = time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		var stats backoff.Stats
		p := backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError, Observer: &stats}
		n := 0
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("recovered %v, want boom", r)
				}
			}()
			backoff.Do(t.Context(), p, func(context.Context) (int, error) {
				if n++; n == 1 {
					time.Sleep(10 * ms)
					return 0, errStatsRetry
				}
				time.Sleep(5 * ms)
				panic("boom")
			})
		}()
		wantStats(t, stats.Snapshot(), backoff.StatsSnapshot{Calls: 1, Attempts: 2, Done: 1, Errors: 1,
			AttemptTime: 10 * ms, PauseTime: 10 * ms})
	})
}

// TestStats_twoPolicies: one Stats observing two policies counts the calls
// of both.
func TestStats_twoPolicies(t *testing.T) {
	const ms = time.Millisecond
	synctest.Test(t, func(t *testing.T) {
		var stats backoff.Stats
		fast := backoff.Policy{MaxTries: 2, Pause: 5 * ms, RetryIf: backoff.AnyError, Observer: &stats}
		slow := backoff.Policy{AttemptTimeout: 30 * ms, MaxTries: 2, Pause: 20 * ms, Observer: &stats}

		// fast, 3 calls: each fails at 1ms, pauses 5ms, succeeds after 2ms.
		for range 3 {
			if _, err := backoff.Do(t.Context(), fast, newOp(step{d: ms, err: errStatsRetry}, step{d: 2 * ms}).call); err != nil {
				t.Fatal(err)
			}
		}
		// slow, 2 calls at once: each times out twice, 30ms, 20ms, 30ms.
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				if _, err := backoff.Do(t.Context(), slow, newOp(step{d: time.Hour}).call); !errors.Is(err, backoff.ErrMaxTries) {
					t.Errorf("Do: %v, want ErrMaxTries", err)
				}
			})
		}
		// fast, 1 more call, while the slow ones run: a success at once.
		if _, err := backoff.Do(t.Context(), fast, newOp(step{}).call); err != nil {
			t.Fatal(err)
		}
		wg.Wait()

		got := stats.Snapshot()
		wantStats(t, got, backoff.StatsSnapshot{
			Calls:       3 + 2 + 1,
			Attempts:    3*2 + 2*2 + 1,
			Done:        3*2 + 2*2 + 1,
			Errors:      3 + 2*2,
			Successes:   3 + 1,
			Failures:    2,
			AttemptTime: 3*(1+2)*ms + 2*(30+30)*ms,
			PauseTime:   3*5*ms + 2*20*ms,
		})
		checkSettled(t, got, 3*8*ms+2*80*ms)
	})
}

// TestStats_concurrentCalls: many goroutines share one Stats through one
// policy, while another takes snapshots; run it with -race.
func TestStats_concurrentCalls(t *testing.T) {
	const (
		ms         = time.Millisecond
		goroutines = 32
		calls      = 20 // per goroutine
		n          = goroutines * calls
	)
	synctest.Test(t, func(t *testing.T) {
		var stats backoff.Stats
		p := backoff.Policy{Pause: 2 * ms, MaxTries: 3, RetryIf: backoff.AnyError, Observer: &stats}
		concurrently(t, p, goroutines, calls, errStatsRetry, func() { checkBounds(t, stats.Snapshot()) })
		got := stats.Snapshot()
		wantStats(t, got, backoff.StatsSnapshot{Calls: n, Attempts: 2 * n, Done: 2 * n, Errors: n, Successes: n,
			AttemptTime: n * 4 * ms, PauseTime: n * 2 * ms})
		checkSettled(t, got, n*6*ms)
	})
}

// recordSteps returns the steps of one call of fn under p (the Observer
// set to record them), run in a synctest bubble.
func recordSteps(t *testing.T, p backoff.Policy, fn func(context.Context) (int, error)) (actions []backoff.Action, events []backoff.Event) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		p.Observer = backoff.ObserverFunc(func(e backoff.Event, a backoff.Action) {
			events, actions = append(events, e), append(actions, a)
		})
		backoff.Do(t.Context(), p, fn)
		time.Sleep(24 * time.Hour) // virtual: abandoned attempts end
	})
	return actions, events
}

// TestStats_concurrentObserve replays the steps of a call with every kind
// of step into one Stats from many goroutines at once, with no clock and
// no scheduling in the way, while another goroutine takes snapshots.
func TestStats_concurrentObserve(t *testing.T) {
	const ms = time.Millisecond
	// Attempts [0,50] timeout, [60,80] error, [90,100] cut by the deadline.
	p := backoff.Policy{AttemptTimeout: 50 * ms, Deadline: 100 * ms, Pause: 10 * ms, RetryIf: backoff.AnyError}
	actions, events := recordSteps(t, p, newOp(step{d: time.Hour}, step{d: 20 * ms, err: errStatsRetry}, step{d: time.Hour}).call)
	var one backoff.Stats
	for i := range actions {
		one.Observe(events[i], actions[i])
	}
	want1 := backoff.StatsSnapshot{Calls: 1, Attempts: 3, Done: 3, Errors: 2, Cancels: 1, Failures: 1,
		AttemptTime: 80 * ms, PauseTime: 20 * ms}
	wantStats(t, one.Snapshot(), want1)

	const goroutines, calls = 16, 1000
	var stats backoff.Stats
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reader sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				checkBounds(t, stats.Snapshot())
			}
		}
	})
	for range goroutines {
		wg.Go(func() {
			var o backoff.CallObserver = &stats
			for range calls {
				for i := range actions {
					o.Observe(events[i], actions[i])
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	reader.Wait()
	const k = goroutines * calls
	wantStats(t, stats.Snapshot(), backoff.StatsSnapshot{
		Calls: k * want1.Calls, Attempts: k * want1.Attempts, Done: k * want1.Done, Errors: k * want1.Errors,
		Cancels: k * want1.Cancels, Failures: k * want1.Failures,
		AttemptTime: k * want1.AttemptTime, PauseTime: k * want1.PauseTime,
	})
}

// TestStats_allocs: Observe allocates nothing, whatever the step; nor does
// Do with a Stats as its observer.
func TestStats_allocs(t *testing.T) {
	var stats backoff.Stats
	var o backoff.Observer = &stats
	wantObserveAllocFree(t, o)

	n := 0
	retrying := func(context.Context) (int, error) {
		if n++; n%4 != 0 {
			return 0, errStatsRetry
		}
		return 1, nil
	}
	p := backoff.Retry(4)
	p.Observer = &stats
	if a := testing.AllocsPerRun(100, func() { backoff.Do(context.Background(), p, retrying) }); a != 0 {
		t.Errorf("Do with a Stats allocates %v times per call, want 0", a)
	}
}

// TestStats_wait: a Wait step (the core's answer to a stale event, which
// Do never reports but another driver may) moves nothing.
func TestStats_wait(t *testing.T) {
	var stats backoff.Stats
	stats.Observe(backoff.Event{Kind: backoff.EventFired, At: time.Second, Attempt: 7}, backoff.Action{})
	stats.Observe(backoff.Event{Kind: backoff.EventEnded, At: time.Second, Attempt: 7, Err: errStatsRetry}, backoff.Action{})
	wantStats(t, stats.Snapshot(), backoff.StatsSnapshot{})
}

func BenchmarkStats_Observe(b *testing.B) {
	var stats backoff.Stats
	var o backoff.CallObserver = &stats
	e := backoff.Event{Kind: backoff.EventEnded, At: time.Millisecond, Attempt: 1, Err: errStatsRetry}
	a := backoff.Action{Kind: backoff.ActionPause, Attempt: 2, Until: 2 * time.Millisecond, Outcome: backoff.OutcomeFailed}
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			o.Observe(e, a)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				o.Observe(e, a)
			}
		})
	})
}

// concurrently makes calls calls of Do under p from each of goroutines
// goroutines at once, inside a synctest bubble: attempt 1 fails with err
// after 1ms, and after the pause attempt 2 succeeds after 3ms. Meanwhile,
// another goroutine runs meanwhile every half millisecond.
func concurrently(t *testing.T, p backoff.Policy, goroutines, calls int, err error, meanwhile func()) {
	const ms = time.Millisecond
	finished := make(chan struct{})
	var other sync.WaitGroup
	other.Go(func() {
		for {
			meanwhile()
			select {
			case <-finished:
				return
			case <-time.After(ms / 2):
			}
		}
	})
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range calls {
				fn := newOp(step{d: ms, err: err}, step{d: 3 * ms}).call
				if _, err := backoff.Do(t.Context(), p, fn); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	close(finished)
	other.Wait()
}

// wantObserveAllocFree requires o to allocate nothing for a call (Begin)
// and any step
// of calls that pause and succeed, retry at once, time out and reach the
// deadline, fail for good, or abandon an attempt.
func wantObserveAllocFree(t *testing.T, o backoff.Observer) {
	t.Helper()
	const ms = time.Millisecond
	for _, tc := range []struct {
		name string
		p    backoff.Policy
		fn   func(context.Context) (int, error)
	}{
		{"pauses and success", backoff.Policy{Pause: 10 * ms, RetryIf: backoff.AnyError},
			newOp(step{d: ms, err: errStatsRetry}, step{d: ms}).call},
		{"no pause", backoff.Retry(3), newOp(step{d: ms, err: errStatsRetry}).call},
		{"timeouts and deadline", backoff.Policy{AttemptTimeout: 50 * ms, Deadline: 100 * ms, Pause: 10 * ms},
			newOp(step{d: time.Hour}).call},
		{"non-retryable", backoff.Policy{}, newOp(step{err: errStatsFatal}).call},
		{"abandoned", backoff.Policy{AttemptTimeout: 10 * ms, MaxTries: 2},
			newOp(step{d: time.Second, ignore: true}).fn(true)},
	} {
		actions, events := recordSteps(t, tc.p, tc.fn)
		if a := testing.AllocsPerRun(100, func() {
			co := o.Begin(context.Background(), backoff.Call{ID: 1, Policy: tc.p})
			for i := range actions {
				co.Observe(events[i], actions[i])
			}
		}); a != 0 {
			t.Errorf("%s: Observe allocates %v times per call, want 0", tc.name, a)
		}
	}
}
