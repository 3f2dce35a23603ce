package backoff_test

// Benchmarks of the library on its own (issue 6). The comparison with the
// peer libraries is in bench/, a module of its own; BENCHMARKS.md records
// both. Nothing here asserts a time: a benchmark reports, a reader judges.
//
// Every operation is made once, outside the timed loop: a closure made per
// iteration would allocate in every library alike.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

var errBench = errors.New("bench: attempt failed")

var (
	benchOrigin = time.Now()
	benchSink   time.Duration
)

// benchFlaky returns an operation that fails failures times with errBench,
// then succeeds with 1, and again for the next call: one goroutine at a time.
func benchFlaky(failures int) func(context.Context) (int, error) {
	left := failures
	return func(context.Context) (int, error) {
		if left > 0 {
			left--
			return 0, errBench
		}
		left = failures
		return 1, nil
	}
}

// benchSucceed succeeds at once. It is a variable, so that calls of it stay
// indirect, as they are inside Do.
var benchSucceed = func(context.Context) (int, error) { return 1, nil }

// benchSkip is an Observer that advances a fake clock through every pause as
// soon as its timer is armed, so that pauses cost no waiting.
type benchSkip struct{ clk *clockwork.FakeClock }

func (o benchSkip) Begin(context.Context, backoff.Call) backoff.CallObserver { return o }

func (o benchSkip) Observe(e backoff.Event, a backoff.Action) {
	if a.Kind == backoff.ActionPause {
		o.clk.Advance(a.Until - e.At)
	}
}

// BenchmarkDo: the executor on the system clock and on a clockwork fake
// clock; on success at the first try (tries=1) and after three failures
// with no pause (tries=4); with no time limit, an attempt timeout of 1s, a
// deadline of 1m, or both; the operation as it is, and wrapped in
// backoff.Abandon. The baselines are BenchmarkBaseline's.
func BenchmarkDo(b *testing.B) {
	fake := clockwork.NewFakeClockAt(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	limits := []struct {
		name              string
		attempt, deadline time.Duration
	}{
		{"none", 0, 0},
		{"attempt", time.Second, 0},
		{"deadline", 0, time.Minute},
		{"both", time.Second, time.Minute},
	}
	for _, clock := range []string{"system", "fake"} {
		for _, tries := range []int{1, 4} {
			for _, l := range limits {
				for _, abandon := range []bool{false, true} {
					if abandon && l.name != "attempt" {
						continue
					}
					p := backoff.Retry(4)
					p.AttemptTimeout, p.Deadline = l.attempt, l.deadline
					if clock == "fake" {
						p.Clock = fake
					}
					name := fmt.Sprintf("clock=%s/tries=%d/limits=%s", clock, tries, l.name)
					if abandon {
						name += "/abandon"
					}
					benchDo(b, name, p, tries, abandon)
				}
			}
		}
	}
	// Pauses on the fake clock, skipped by an Observer as soon as armed.
	p := backoff.Policy{Pause: time.Second, MaxTries: 4, RetryIf: backoff.AnyError, Clock: fake, Observer: benchSkip{fake}}
	benchDo(b, "clock=fake/tries=4/limits=none/pause=1s", p, 4, false)
}

func benchDo(b *testing.B, name string, p backoff.Policy, tries int, abandon bool) {
	b.Run(name, func(b *testing.B) {
		ctx, fn := context.Background(), benchFlaky(tries-1)
		if abandon {
			fn = backoff.Abandon(fn)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := backoff.Do(ctx, p, fn); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkDo_closure: what a user writes, the operation a closure made
// at the call that captures its locals, through each entry point: Do,
// Run, and a function made by Wrap (whose operation is made once, as
// Wrap's users do). Under a 1s attempt timeout (timeout=1s) or none, and
// after three failures (tries=4). The closures stay on the stack: no case
// allocates but for the attempt's context.
func BenchmarkDo_closure(b *testing.B) {
	for _, d := range []time.Duration{0, time.Second} {
		for _, tries := range []int{1, 4} {
			p := backoff.Retry(4)
			p.AttemptTimeout = d
			name := fmt.Sprintf("tries=%d/timeout=%v", tries, d)
			b.Run("Do/"+name, func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					n, key := 0, "k"
					v, err := backoff.Do(ctx, p, func(context.Context) (string, error) {
						if n++; n < tries {
							return "", errBench
						}
						return key, nil
					})
					if err != nil || v != key {
						b.Fatal(v, err)
					}
				}
			})
			b.Run("Run/"+name, func(b *testing.B) {
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					n := 0
					if err := backoff.Run(ctx, p, func(context.Context) error {
						if n++; n < tries {
							return errBench
						}
						return nil
					}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Wrap/"+name, func(b *testing.B) {
				ctx, n := context.Background(), 0
				get := backoff.Wrap(p, func(context.Context) (int, error) {
					if n++; n%tries != 0 {
						return 0, errBench
					}
					return n, nil
				})
				b.ReportAllocs()
				for b.Loop() {
					if _, err := get(ctx); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkBaseline: what BenchmarkDo is measured against, in the same
// run: a bare call of the operation, and the loop a user would write by
// hand (up to 4 attempts, each under context.WithTimeout for
// limits=attempt).
func BenchmarkBaseline(b *testing.B) {
	ctx := context.Background()
	b.Run("clock", func(b *testing.B) {
		// One read of the monotonic clock, the one a call that succeeds
		// at once pays for (see Do's cost).
		var d time.Duration
		for b.Loop() {
			d += time.Since(benchOrigin)
		}
		benchSink = d
	})
	b.Run("bare", func(b *testing.B) {
		fn := benchSucceed
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fn(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, tries := range []int{1, 4} {
		for _, d := range []time.Duration{0, time.Second} {
			limits := "none"
			if d > 0 {
				limits = "attempt"
			}
			b.Run(fmt.Sprintf("hand/tries=%d/limits=%s", tries, limits), func(b *testing.B) {
				fn := benchFlaky(tries - 1)
				b.ReportAllocs()
				for b.Loop() {
					if _, err := benchHand(ctx, d, fn); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// benchHand is the hand-written loop: up to 4 attempts, no pause, each
// under context.WithTimeout(d) if d > 0.
func benchHand(ctx context.Context, d time.Duration, fn func(context.Context) (int, error)) (v int, err error) {
	for range 4 {
		if d > 0 {
			actx, cancel := context.WithTimeout(ctx, d)
			v, err = fn(actx)
			cancel()
		} else {
			v, err = fn(ctx)
		}
		if err == nil {
			return v, nil
		}
	}
	return v, err
}

// BenchmarkExecution_Step: the pure decision core, per event, in whole
// calls: a copy of an Execution not begun (as NewExecution made it), then
// every event of the call. It reports ns/event (the op is a whole call).
func BenchmarkExecution_Step(b *testing.B) {
	const ms = time.Millisecond
	p := backoff.Policy{AttemptTimeout: time.Second, Deadline: time.Minute, MaxTries: 4, RetryIf: backoff.AnyError}
	pausing := p
	pausing.Pause = 10 * ms
	for _, tc := range []struct {
		name   string
		p      backoff.Policy
		events []backoff.Event
	}{
		{"tries=1", p, []backoff.Event{
			{Kind: backoff.EventBegan},
			{Kind: backoff.EventEnded, At: ms, Attempt: 1},
		}},
		{"tries=4/pause=0", p, []backoff.Event{
			{Kind: backoff.EventBegan},
			{Kind: backoff.EventEnded, At: ms, Attempt: 1, Err: errBench},
			{Kind: backoff.EventEnded, At: 2 * ms, Attempt: 2, Err: errBench},
			{Kind: backoff.EventEnded, At: 3 * ms, Attempt: 3, Err: errBench},
			{Kind: backoff.EventEnded, At: 4 * ms, Attempt: 4},
		}},
		{"tries=4/pause=10ms", pausing, []backoff.Event{
			{Kind: backoff.EventBegan},
			{Kind: backoff.EventEnded, At: ms, Attempt: 1, Err: errBench},
			{Kind: backoff.EventFired, At: 11 * ms, Attempt: 2},
			{Kind: backoff.EventEnded, At: 12 * ms, Attempt: 2, Err: errBench},
			{Kind: backoff.EventFired, At: 22 * ms, Attempt: 3},
			{Kind: backoff.EventEnded, At: 23 * ms, Attempt: 3, Err: errBench},
			{Kind: backoff.EventFired, At: 33 * ms, Attempt: 4},
			{Kind: backoff.EventEnded, At: 34 * ms, Attempt: 4},
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			x0, err := backoff.NewExecution(tc.p)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				x := *x0
				var a backoff.Action
				for _, e := range tc.events {
					a = x.Step(e)
				}
				if a.Kind != backoff.ActionFinish || a.Err != nil {
					b.Fatalf("the call ended with %v %v; want a success", a.Kind, a.Err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(tc.events)), "ns/event")
		})
	}
}

// benchScenario is a call of n attempts: n-1 retryable failures of 1ms,
// then a success, with 10ms pauses, a 5ms attempt timeout and a day's
// deadline: 2n-1 steps, as many events in the simulator's queue.
func benchScenario(n int) sim.Scenario {
	attempts := make([]sim.Attempt, n)
	for i := range attempts {
		attempts[i] = sim.Attempt{Takes: sim.Duration(time.Millisecond), Outcome: sim.Retryable}
	}
	attempts[n-1].Outcome = sim.OK
	return sim.Scenario{
		AttemptTimeout: sim.Duration(5 * time.Millisecond),
		Deadline:       sim.Duration(24 * time.Hour),
		Pause:          sim.Duration(10 * time.Millisecond),
		MaxTries:       n,
		Attempts:       attempts,
	}
}

// BenchmarkSim: sim.Run on scenarios of 10, 100 and 1000 attempts (1x,
// 10x, 100x), in simulated attempts per second and ns per attempt (flat if
// the simulator is linear). Run it with -cpu 1 for the rate on one core.
func BenchmarkSim(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("attempts=%d", n), func(b *testing.B) {
			sc := benchScenario(n)
			b.ReportAllocs()
			for b.Loop() {
				res, err := sim.Run(sc)
				if err != nil {
					b.Fatal(err)
				}
				if res.Value != n || res.Err != nil {
					b.Fatalf("the simulated call returned (%v, %v); want (%d, nil)", res.Value, res.Err, n)
				}
			}
			attempts := float64(b.N * n)
			b.ReportMetric(attempts/b.Elapsed().Seconds(), "attempts/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/attempts, "ns/attempt")
		})
	}
}

// BenchmarkInFlight: 100,000 calls at once, each in a pause, on the system
// clock. It reports the live heap per call (heap-B/call) once they all
// wait, against a baseline of as many goroutines each waiting on a bare
// time.Timer and the same context (baseline-heap-B/call), and the
// goroutine stacks per call of both (stack-B/call, baseline-stack-B/call),
// which the heap does not include.
//
// It is deterministic without a fake clock: each call's pause is an hour
// long, so no timer ever fires; an Observer counts the calls whose pause
// timer is armed, and once all are, a GC settles the heap before it is
// read; then the context is cancelled and every call returns at once
// (README rule 9). A warm-up leaves 100,000 exited goroutines behind
// first, so that both measurements reuse their descriptors (runtime.g) and
// count only what a call allocates.
func BenchmarkInFlight(b *testing.B) {
	const calls = 100_000
	var heap, baseHeap, stack, baseStack float64
	for b.Loop() {
		benchWarmGoroutines(calls)
		h, s := benchInFlight(calls, func(ctx context.Context, parked *sync.WaitGroup) {
			t := time.NewTimer(time.Hour)
			defer t.Stop()
			parked.Done()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		})
		baseHeap, baseStack = baseHeap+h, baseStack+s
		h, s = benchInFlight(calls, func(ctx context.Context, parked *sync.WaitGroup) {
			p := backoff.Policy{
				Pause:    time.Hour,
				MaxTries: 2,
				RetryIf:  backoff.AnyError,
				Observer: backoff.ObserverFunc(func(_ backoff.Event, a backoff.Action) {
					if a.Kind == backoff.ActionPause {
						parked.Done()
					}
				}),
			}
			backoff.Do(ctx, p, benchFail)
		})
		heap, stack = heap+h, stack+s
	}
	n := float64(b.N)
	b.ReportMetric(heap/n, "heap-B/call")
	b.ReportMetric(baseHeap/n, "baseline-heap-B/call")
	b.ReportMetric(stack/n, "stack-B/call")
	b.ReportMetric(baseStack/n, "baseline-stack-B/call")
}

var benchFail = func(context.Context) (int, error) { return 0, errBench }

// benchWarmGoroutines starts n goroutines that wait until all have
// started, then exit: their descriptors stay for reuse.
func benchWarmGoroutines(n int) {
	var started, exited sync.WaitGroup
	release := make(chan struct{})
	started.Add(n)
	for range n {
		exited.Go(func() {
			started.Done()
			<-release
		})
	}
	started.Wait()
	close(release)
	exited.Wait()
}

// benchInFlight starts n goroutines running wait(ctx, parked), each of
// which calls parked.Done once it is about to block until ctx is done,
// and returns the growth of the live heap and of goroutine stacks, per
// goroutine, once all have.
func benchInFlight(n int, wait func(ctx context.Context, parked *sync.WaitGroup)) (heap, stack float64) {
	ctx, cancel := context.WithCancel(context.Background())
	var before, after runtime.MemStats
	var parked, exited sync.WaitGroup
	parked.Add(n)
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		exited.Go(func() { wait(ctx, &parked) })
	}
	parked.Wait()
	runtime.GC() // collects what the calls no longer hold; a straggler blocks meanwhile
	runtime.ReadMemStats(&after)
	cancel()
	exited.Wait()
	heap = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
	stack = float64(int64(after.StackInuse)-int64(before.StackInuse)) / float64(n)
	return heap, stack
}

// BenchmarkPause: a 1ms pause repeated 200 times by Do, against a bare
// time.Timer waited on 200 times for 1ms, in the same iteration. It reports
// both wall times per iteration and their ratio (backoff/timer); on a
// real clock it is noisy, and only a benchmark.
func BenchmarkPause(b *testing.B) {
	const pauses, d = 200, time.Millisecond
	ctx := context.Background()
	p := backoff.Policy{Pause: d, MaxTries: pauses + 1, RetryIf: backoff.AnyError}
	fn := benchFlaky(pauses)
	var timer, lib time.Duration
	for b.Loop() {
		start := time.Now()
		t := time.NewTimer(d)
		<-t.C
		for range pauses - 1 {
			t.Reset(d)
			<-t.C
		}
		mid := time.Now()
		if _, err := backoff.Do(ctx, p, fn); err != nil {
			b.Fatal(err)
		}
		end := time.Now()
		timer += mid.Sub(start)
		lib += end.Sub(mid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(timer.Nanoseconds())/n/pauses, "timer-ns/pause")
	b.ReportMetric(float64(lib.Nanoseconds())/n/pauses, "backoff-ns/pause")
	b.ReportMetric(float64(lib)/float64(timer), "backoff/timer")
}
