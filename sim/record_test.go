package sim_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// A call recorded from the executor replays in the simulator: for every
// tie-free grid scenario, the trace a Recorder writes replays identically
// (up to error texts).
func TestRecorder_replays(t *testing.T) {
	n := recordAndReplay(t, grid(), func(sc sim.Scenario, want *sim.Result) bool {
		return !want.Runaway && len(want.Ties) == 0
	})
	t.Logf("%d recorded calls replayed", n)
}

// A production-like call, with the operation's own errors and a caller's
// cancel, replays; a doctored line is reported as the first divergence.
func TestRecorder_production(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errReset := errors.New("db: connection reset")
		var rec sim.Recorder
		p := backoff.Policy{AttemptTimeout: 200 * time.Millisecond, Deadline: 2 * time.Second, Pause: 50 * time.Millisecond,
			RetryIf: backoff.On(errReset), Observer: &rec}
		ctx, cancel := context.WithCancelCause(context.Background())
		time.AfterFunc(900*time.Millisecond, func() { cancel(errors.New("shutting down")) })
		n := 0
		_, err := backoff.Do(ctx, p, func(ctx context.Context) (int, error) {
			n++
			if n%2 == 1 {
				time.Sleep(30 * time.Millisecond)
				return 0, errReset
			}
			<-ctx.Done() // a slow query, cut by the attempt timeout
			time.Sleep(5 * time.Millisecond)
			return 0, ctx.Err()
		})
		if err == nil || !strings.Contains(err.Error(), "shutting down") {
			t.Fatalf("Do = %v", err)
		}
		var trace bytes.Buffer
		if err := rec.WriteTrace(&trace, p); err != nil {
			t.Fatal(err)
		}
		if err := sim.Replay(bytes.NewReader(trace.Bytes())); err != nil {
			t.Fatalf("the recorded trace does not replay: %v\n%s", err, trace.Bytes())
		}
		// Doctor step 2's time: the replay must name that step.
		lines := strings.SplitAfter(trace.String(), "\n")
		lines[3] = strings.Replace(lines[3], `"at":"`, `"at":"1`, 1)
		var d *sim.Divergence
		if err := sim.Replay(strings.NewReader(strings.Join(lines, ""))); !errors.As(err, &d) || d.Index != 2 {
			t.Fatalf("a doctored step 2: Replay = %v, want a divergence at step 2", err)
		}
	})
}

// On the real clock, as a service runs it, a call with growing jittered
// pauses, attempt timeouts and a deadline, recorded with a Recorder,
// replays identical: its timers that fire late and its random draws are in
// the trace. Twenty calls run at once; nothing here depends on the
// machine's speed.
func TestRecorder_realClock(t *testing.T) {
	errBusy := errors.New("busy")
	var wg sync.WaitGroup
	traces := make([]bytes.Buffer, 20)
	errs := make([]error, len(traces))
	for i := range traces {
		wg.Go(func() {
			var rec sim.Recorder
			p := backoff.Policy{AttemptTimeout: 5 * time.Millisecond, Deadline: time.Second, Pause: time.Millisecond, Growth: 2,
				MaxPause: 4 * time.Millisecond, Jitter: backoff.FullJitter, MaxTries: 5, RetryIf: backoff.On(errBusy), Observer: &rec}
			n := 0
			backoff.Do(context.Background(), p, func(ctx context.Context) (int, error) {
				switch n++; (n + i) % 3 {
				case 0:
					return n, nil
				case 1:
					<-ctx.Done() // hangs until its attempt timeout
					return 0, ctx.Err()
				}
				return 0, errBusy
			})
			if errs[i] = rec.WriteTrace(&traces[i], p); errs[i] == nil {
				errs[i] = sim.Replay(bytes.NewReader(traces[i].Bytes()))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v\n%s", i, err, traces[i].Bytes())
		}
	}
}

// A caller's deadline seen late (caller_late), as a real timer may be, is
// read back off the steps.
func TestScenarioOf_callerLate(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(`{"pause":"50ms","max_tries":5,"caller_deadline":"250ms","caller_late":"7ms",
		"attempts":[{"takes":"100ms","outcome":"retryable"},{"outcome":"hang"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := sim.ScenarioOf(sc.Policy(), res.Steps)
	if err != nil {
		t.Fatal(err)
	}
	if got.CallerDeadline != sc.CallerDeadline || got.CallerLate != sc.CallerLate {
		t.Errorf("ScenarioOf: caller_deadline %v, caller_late %v; want %v, %v", got.CallerDeadline, got.CallerLate, sc.CallerDeadline, sc.CallerLate)
	}
}

// What a scenario could not hold before a recorded call could carry it: a
// jitter's random numbers (each attempt's Rand), and a Budget's refusal
// (BudgetAllows). Both replay; a budget that refused nothing is left out.
func TestScenarioOf_jitterAndBudget(t *testing.T) {
	for _, j := range []backoff.Jitter{backoff.FullJitter, backoff.EqualJitter, backoff.DecorrelatedJitter} {
		synctest.Test(t, func(t *testing.T) {
			var rec sim.Recorder
			p := backoff.Policy{Pause: 100 * time.Millisecond, Growth: 2, MaxTries: 4, Jitter: j, RetryIf: backoff.AnyError, Observer: &rec}
			if j == backoff.DecorrelatedJitter {
				p.Growth = 0
			}
			backoff.Run(t.Context(), p, func(context.Context) error { time.Sleep(time.Millisecond); return errors.New("down") })
			sc, err := sim.ScenarioOf(p, rec.Steps())
			if err != nil {
				t.Fatalf("Jitter %v: %v", j, err)
			}
			for i, a := range sc.Attempts {
				if a.Rand == nil || *a.Rand != rec.Steps()[2*i+1].Event.Rand {
					t.Errorf("Jitter %v: attempts[%d].Rand = %v; want the recorded %d", j, i, a.Rand, rec.Steps()[2*i+1].Event.Rand)
				}
			}
			var trace bytes.Buffer
			if err := rec.WriteTrace(&trace, p); err != nil {
				t.Fatal(err)
			}
			if err := sim.Replay(&trace); err != nil {
				t.Errorf("Jitter %v: the recorded trace does not replay: %v", j, err)
			}
		})
	}
	for _, tc := range []struct {
		burst  int
		reason error
		allows *int
	}{{2, backoff.ErrBudgetExhausted, new(2)}, {5, backoff.ErrMaxTries, nil}} {
		var rec sim.Recorder
		p := backoff.Policy{MaxTries: 4, RetryIf: backoff.AnyError, Budget: &backoff.Budget{Burst: tc.burst}, Observer: &rec}
		if err := backoff.Run(context.Background(), p, func(context.Context) error { return errors.New("down") }); !errors.Is(err, tc.reason) {
			t.Fatalf("Burst %d: err = %v, want %v", tc.burst, err, tc.reason)
		}
		sc, err := sim.ScenarioOf(p, rec.Steps())
		if err != nil {
			t.Fatalf("Burst %d: %v", tc.burst, err)
		}
		if (sc.BudgetAllows == nil) != (tc.allows == nil) || tc.allows != nil && *sc.BudgetAllows != *tc.allows {
			t.Errorf("Burst %d: BudgetAllows = %v; want %v", tc.burst, sc.BudgetAllows, tc.allows)
		}
		var trace bytes.Buffer
		if err := rec.WriteTrace(&trace, p); err != nil {
			t.Fatal(err)
		}
		if err := sim.Replay(&trace); err != nil {
			t.Errorf("Burst %d: the recorded trace does not replay: %v", tc.burst, err)
		}
	}
	// No step is no call.
	if _, err := sim.ScenarioOf(backoff.Policy{}, nil); err == nil {
		t.Error("ScenarioOf of no steps: no error")
	}
}

// Calls with growth, a cap and delay hints, recorded from the executor,
// replay: the recorded scenario's retry_after is each pause the policy
// alone would not make (pauseGrid's scenarios without jitter and ties).
func TestRecorder_replaysPauses(t *testing.T) {
	n := recordAndReplay(t, pauseGrid(), func(sc sim.Scenario, want *sim.Result) bool {
		return sc.Policy().Jitter == backoff.NoJitter && len(want.Ties) == 0
	})
	if n < 50 {
		t.Errorf("only %d recorded calls", n)
	}
	t.Logf("%d recorded calls with growth, caps and hints replayed", n)
}

// ScenarioOf reads each delay hint off its error: one longer than the
// policy's pause (past its cap), one shorter (which changes nothing), and
// one that ended the call at the deadline (rule 5).
func TestScenarioOf_hints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBusy := errors.New("busy")
		var rec sim.Recorder
		p := backoff.Policy{Deadline: 2 * time.Second, Pause: 100 * time.Millisecond, Growth: 2, MaxPause: 150 * time.Millisecond,
			RetryIf: backoff.AnyError, Observer: &rec}
		n := 0
		_, err := backoff.Do(t.Context(), p, func(ctx context.Context) (int, error) {
			n++
			time.Sleep(10 * time.Millisecond)
			switch n {
			case 1:
				return 0, backoff.RetryAfter(errBusy, 700*time.Millisecond) // past the cap
			case 2:
				return 0, backoff.RetryAfter(errBusy, 50*time.Millisecond) // shorter than the pause: unseen
			}
			return 0, backoff.RetryAfter(errBusy, time.Hour) // reaches the deadline
		})
		if !errors.Is(err, backoff.ErrDeadline) {
			t.Fatalf("Do = %v", err)
		}
		sc, err := sim.ScenarioOf(p, rec.Steps())
		if err != nil {
			t.Fatal(err)
		}
		// Attempts at 0, 710ms (after 700ms), 870ms (after 150ms, capped);
		// the third fails at 880ms, and its hour reaches the deadline.
		want := []sim.Duration{sim.Duration(700 * time.Millisecond), sim.Duration(50 * time.Millisecond), sim.Duration(time.Hour)}
		if len(sc.Attempts) != len(want) {
			t.Fatalf("ScenarioOf = %+v; want %d attempts", sc, len(want))
		}
		for i, a := range sc.Attempts {
			if a.Outcome != sim.Retryable || a.RetryAfter != want[i] {
				t.Errorf("attempts[%d] = %+v; want retryable with retry_after %v", i, a, want[i])
			}
		}
		if sc.Growth != 2 || sc.MaxPause.D() != 150*time.Millisecond {
			t.Errorf("ScenarioOf = %+v; want growth 2 and max_pause 150ms", sc)
		}
		var trace bytes.Buffer
		if err := rec.WriteTrace(&trace, p); err != nil {
			t.Fatal(err)
		}
		if err := sim.Replay(&trace); err != nil {
			t.Fatalf("the recorded trace does not replay: %v", err)
		}
	})
}

// Growth with no cap, deadline or max_tries is bounded in the scenario by
// allowing one attempt more than the call made; with no pause, growth and
// the cap mean nothing and are left out.
func TestScenarioOf_boundsGrowth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			p    backoff.Policy
			want sim.Scenario
		}{
			{backoff.Policy{Pause: 10 * time.Millisecond, Growth: 3, RetryIf: backoff.AnyError},
				sim.Scenario{Pause: sim.Duration(10 * time.Millisecond), Growth: 3, MaxTries: 4}},
		} {
			var rec sim.Recorder
			p := tc.p
			p.Observer = &rec
			n := 0
			backoff.Do(t.Context(), p, func(ctx context.Context) (int, error) {
				if n++; n == 3 {
					return 3, nil
				}
				return 0, errors.New("not yet")
			})
			sc, err := sim.ScenarioOf(p, rec.Steps())
			if err != nil {
				t.Fatal(err)
			}
			if sc.Pause != tc.want.Pause || sc.Growth != tc.want.Growth || sc.MaxPause != tc.want.MaxPause || sc.MaxTries != tc.want.MaxTries {
				t.Errorf("ScenarioOf(%+v) = %+v; want pause %v, growth %v, max_pause %v, max_tries %d",
					tc.p, sc, tc.want.Pause, tc.want.Growth, tc.want.MaxPause, tc.want.MaxTries)
			}
			var trace bytes.Buffer
			if err := rec.WriteTrace(&trace, p); err != nil {
				t.Fatal(err)
			}
			if err := sim.Replay(&trace); err != nil {
				t.Fatalf("the recorded trace does not replay: %v", err)
			}
		}
	})
}

// recordAndReplay runs each scenario that keep accepts through the
// executor under synctest, records it with a Recorder, and requires its
// trace to replay in the simulator; it returns how many it replayed.
func recordAndReplay(t *testing.T, scenarios []sim.Scenario, keep func(sim.Scenario, *sim.Result) bool) int {
	t.Helper()
	n := 0
	for _, sc := range scenarios {
		want, _ := sim.Run(sc)
		if !keep(sc, want) {
			continue
		}
		steps, _, _ := runSynctest(t, sc, want)
		var rec sim.Recorder
		for _, s := range steps {
			rec.Observe(s.Event, s.Action)
		}
		var trace bytes.Buffer
		if err := rec.WriteTrace(&trace, sc.Policy()); err != nil {
			t.Fatalf("%s: WriteTrace: %v", sc.Name, err)
		}
		if err := sim.Replay(bytes.NewReader(trace.Bytes())); err != nil {
			t.Fatalf("%s: the recorded trace does not replay: %v\n%s", sc.Name, err, trace.Bytes())
		}
		n++
	}
	return n
}
