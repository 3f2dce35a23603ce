package sim_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
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
	n := 0
	for _, sc := range grid() {
		want, _ := sim.Run(sc)
		if want.Runaway || len(want.Ties) > 0 {
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

// A policy whose pauses a scenario cannot express is refused, not dropped.
func TestScenarioOf_refusesWhatItCannotExpress(t *testing.T) {
	for _, p := range []backoff.Policy{{Growth: 2}, {MaxPause: time.Second}, {Jitter: backoff.FullJitter}} {
		if _, err := sim.ScenarioOf(p, nil); err == nil {
			t.Errorf("ScenarioOf(%+v) = nil error", p)
		}
	}
}
