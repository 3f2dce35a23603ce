package backoffriver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jonboulle/clockwork"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
	"github.com/timebound/backoff/sim"
)

// Tests on River's own clock hook: River reads a fake clock (Config.Test.Time)
// for the times it stamps on jobs and compares their schedules with, and
// the policy reads the same clock; the test moves it. Each attempt then
// starts at the very instant its pause ends, and every time is asserted
// exactly (to the microsecond PostgreSQL keeps).

type fakeArgs struct{}

func (fakeArgs) Kind() string { return "fake" }

// A started is what the work saw when an attempt began.
type started struct {
	attempt  int
	at       time.Duration // since t0
	deadline time.Duration // of its context, since t0 (0: none)
}

// A result is what the test tells an attempt to do: return err, or hang
// until its context is done.
type result struct {
	err   error
	hang  bool
	panic any // panic with this, if not nil
	// With hang: once the context is done, take late more on the fake
	// clock, then return err if ignore, else the context's error.
	late   time.Duration
	ignore bool
}

// fake is one job under a policy on a fake clock that River reads too.
type fake struct {
	t       *testing.T
	clock   *clockwork.FakeClock
	t0      time.Time
	p       backoff.Policy
	client  *river.Client[pgx]
	started chan started
	results chan result
	id      int64
	pool    *pgxpool.Pool
	schema  string
	workers *river.Workers
}

// newFake starts a client whose worker runs jobs under p (on the fake
// clock) and inserts one job, with MaxAttempts(p).
func newFake(t *testing.T, p backoff.Policy) *fake {
	return newFakeWith(t, p, &river.InsertOpts{MaxAttempts: backoffriver.MaxAttempts(p)})
}

// newFakeWith is newFake, inserting the job with opts.
func newFakeWith(t *testing.T, p backoff.Policy, opts *river.InsertOpts) *fake {
	// The fake time is ten minutes behind the real one, so that River's own
	// timeout of an attempt (real time) never comes before the policy's.
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	f := &fake{t: t, clock: clockwork.NewFakeClockAt(t0), t0: t0, started: make(chan started), results: make(chan result)}
	p.Clock = f.clock
	f.p = p
	w, err := backoffriver.NewWorker(p, func(ctx context.Context, job *river.Job[fakeArgs]) error {
		s := started{attempt: job.Attempt, at: f.clock.Now().Sub(t0)}
		if d, ok := ctx.Deadline(); ok {
			s.deadline = d.Sub(t0)
		}
		// The waits end when River cancels the attempt too (the test
		// failed, and its client stops).
		select {
		case f.started <- s:
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(waitFor):
			return errors.New("test: nobody took the start")
		}
		select {
		case r := <-f.results:
			if r.hang {
				<-ctx.Done()
				if r.late > 0 {
					f.clock.Advance(r.late)
				}
				if r.ignore {
					return r.err
				}
				return ctx.Err()
			}
			if r.panic != nil {
				panic(r.panic)
			}
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(waitFor):
			return errors.New("test: no result came")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	f.pool, f.schema = database(t)
	f.workers = river.NewWorkers()
	river.AddWorker(f.workers, w)
	f.client = newClient(t, f.pool, f.schema, f.workers, riverTime{f.clock})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	res, err := f.client.Insert(ctx, fakeArgs{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	f.id = res.Job.ID
	return f
}

// attempt waits for attempt n to start, checks that it starts at at with
// its context done at deadline (0: never), and has it do r.
func (f *fake) attempt(n int, at, deadline time.Duration, r result) {
	f.t.Helper()
	s := f.start(n)
	// River keeps times to the microsecond: the job runs when the clock
	// reaches its pause's end so cut (the worker counts the attempt from
	// the end itself).
	if want := (started{n, at.Truncate(time.Microsecond), deadline}); s != want {
		f.t.Fatalf("attempt started: %+v, want %+v", s, want)
	}
	f.results <- r
}

// early reports whether an attempt has started (which the test then
// leaves hanging, to end when it fails).
func (f *fake) early() bool {
	select {
	case <-f.started:
		return true
	default:
		return false
	}
}

// settled reports whether the job waits for a time the clock has not
// reached: River will not run it before the test moves the clock.
func (f *fake) settled(j *rivertype.JobRow) bool {
	waiting := j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateRetryable || j.State == rivertype.JobStateScheduled
	return waiting && j.ScheduledAt.After(f.clock.Now())
}

// start waits for attempt n to start, and fails at once if the job ends
// instead.
func (f *fake) start(n int) started {
	f.t.Helper()
	what := "attempt " + itoa(n) + " to start"
	timeout := time.After(waitFor)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		select {
		case s := <-f.started:
			return s
		case <-poll.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			job, err := f.client.JobGet(ctx, f.id)
			cancel()
			switch {
			case err != nil:
			case job.FinalizedAt != nil:
				f.t.Fatalf("waiting for %s, the job ended: %s", what, show(job))
			case f.settled(job):
				f.t.Fatalf("waiting for %s, the job is scheduled at t0+%v: %s", what, job.ScheduledAt.Sub(f.t0), show(job))
			}
		case <-timeout:
			f.t.Fatalf("waited %v for %s", waitFor, what)
		}
	}
}

// retryAt waits for River to schedule the job's next attempt, checks it is
// scheduled at at, and moves the clock there. It fails at once if the job
// ends instead, or is scheduled at another time.
func (f *fake) retryAt(at time.Duration) {
	f.t.Helper()
	want := f.t0.Add(at).Truncate(time.Microsecond)
	job := waitJobOr(f.t, f.client, f.id, "a retry scheduled at t0+"+at.String(), func(j *rivertype.JobRow) bool {
		return (j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateRetryable) && j.ScheduledAt.Equal(want)
	}, func(j *rivertype.JobRow) string {
		switch {
		case f.early():
			return "an attempt started"
		case j.FinalizedAt != nil:
			return "the job ended"
		case f.settled(j):
			return "the job is scheduled at t0+" + j.ScheduledAt.Sub(f.t0).String()
		}
		return ""
	})
	f.clock.Advance(job.ScheduledAt.Sub(f.clock.Now()))
}

// advance moves the clock to t0+at, once the attempt under way has armed
// its timer.
func (f *fake) advance(at time.Duration) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := f.clock.BlockUntilContext(ctx, 1); err != nil {
		f.t.Fatalf("waiting for the attempt's timer: %v", err)
	}
	f.clock.Advance(f.t0.Add(at).Sub(f.clock.Now()))
}

// end waits for the job to be finalized in state, at t0+at, with an error
// that contains text ("" for none), and returns it.
func (f *fake) end(state rivertype.JobState, at time.Duration, text string) *rivertype.JobRow {
	f.t.Helper()
	job := waitJobOr(f.t, f.client, f.id, "the job to end", func(j *rivertype.JobRow) bool { return j.FinalizedAt != nil },
		func(j *rivertype.JobRow) string {
			switch {
			case f.early():
				return "an attempt started"
			case f.settled(j):
				return "the job is scheduled to run again at t0+" + j.ScheduledAt.Sub(f.t0).String()
			}
			return ""
		})
	if job.State != state || !job.FinalizedAt.Equal(f.t0.Add(at).Truncate(time.Microsecond)) {
		f.t.Fatalf("job ended %s at t0+%v, want %s at t0+%v (%s)", job.State, job.FinalizedAt.Sub(f.t0), state, at, show(job))
	}
	if text != "" {
		if last := job.Errors[len(job.Errors)-1].Error; !strings.Contains(last, text) {
			f.t.Fatalf("the job's last error: %q, want it to say %q", last, text)
		}
	}
	return job
}

// timeline returns the job's steps as trace lines, one a line, error
// texts left out.
func timeline(t *testing.T, p backoff.Policy, job *rivertype.JobRow) string {
	t.Helper()
	steps, err := backoffriver.Steps(p, job)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range steps {
		l := sim.LineOf(s)
		b.WriteString(l.At.String() + " " + l.Event)
		if l.Attempt != 0 {
			b.WriteString(" " + itoa(l.Attempt))
		}
		if l.Outcome != "" {
			b.WriteString(" " + l.Outcome)
		}
		b.WriteString(" -> " + l.Action)
		if l.Next != 0 {
			b.WriteString(" " + itoa(l.Next))
		}
		if l.Until != nil {
			b.WriteString(" until " + l.Until.String())
		}
		if l.Reason != "" {
			b.WriteString(": " + l.Reason)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// replays writes the job's trace and checks that the simulator replays it
// step for step.
func replays(t *testing.T, p backoff.Policy, job *rivertype.JobRow) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := backoffriver.WriteTrace(&b, p, job); err != nil {
		t.Fatal(err)
	}
	if err := sim.Replay(bytes.NewReader(b.Bytes())); err != nil {
		t.Fatalf("the job's trace does not replay: %v\n%s", err, b.Bytes())
	}
	return b.Bytes()
}

func itoa(n int) string { return strconv.Itoa(n) }

var (
	errBusy      = errors.New("busy")
	errPermanent = errors.New("permanent")
	errQuota     = errors.New("quota gone")
)

// TestWorker_pauses: River retries the job when the policy's pauses end:
// grown by Growth, capped by MaxPause, and at least a delay hint.
func TestWorker_pauses(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, Growth: 2, MaxPause: 3 * time.Second, MaxTries: 5, RetryIf: backoff.AnyError}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errBusy})
	f.retryAt(time.Second) // Pause
	f.attempt(2, time.Second, 0, result{err: backoff.RetryAfter(errBusy, 2500*time.Millisecond)})
	f.retryAt(3500 * time.Millisecond) // the hint: 2.5s, not the 2s of Growth
	f.attempt(3, 3500*time.Millisecond, 0, result{err: errBusy})
	f.retryAt(6500 * time.Millisecond) // 4s of Growth, capped at 3s
	f.attempt(4, 6500*time.Millisecond, 0, result{})
	job := f.end(rivertype.JobStateCompleted, 6500*time.Millisecond, "")
	want := `0s began -> start 1
0s ended 1 failed -> pause 2 until 1s
1s fired 2 -> start 2
1s ended 2 failed -> pause 3 until 3.5s
3.5s fired 3 -> start 3
3.5s ended 3 failed -> pause 4 until 6.5s
6.5s fired 4 -> start 4
6.5s ended 4 succeeded -> finish
`
	if got := timeline(t, p, job); got != want {
		t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
	}
	trace := replays(t, p, job)

	// The command a bug report names replays it too.
	file := filepath.Join(t.TempDir(), "job.jsonl")
	if err := os.WriteFile(file, trace, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "run", "./cmd/backoffsim", "replay", file)
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "identical") {
		t.Errorf("backoffsim replay: %v\n%s", err, out)
	}
}

// TestWorker_jitter: each job draws its jitter from a PCG seeded with its
// ID, one number per attempt, as the simulator does with the job's ID for
// its seed: River retries the job exactly when the simulator says.
func TestWorker_jitter(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, Jitter: backoff.EqualJitter, Growth: 1.5, MaxTries: 4, RetryIf: backoff.AnyError}
	f := newFake(t, p)
	sc := sim.Scenario{Pause: sim.Duration(time.Second), Jitter: "equal", Growth: 1.5, MaxTries: 4, Seed: uint64(f.id),
		Attempts: []sim.Attempt{{Outcome: sim.Retryable}, {Outcome: sim.Retryable}, {Outcome: sim.Retryable}, {Outcome: sim.OK}}}
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	var starts []time.Duration // when the simulator starts each attempt
	for _, s := range res.Steps {
		if s.Action.Kind == backoff.ActionStart {
			starts = append(starts, s.Event.At)
		}
	}
	if len(starts) != 4 {
		t.Fatalf("the simulation starts %d attempts, want 4", len(starts))
	}
	for i, at := range starts {
		if i > 0 {
			f.retryAt(at)
		}
		r := result{err: errBusy}
		if i == 3 {
			r = result{}
		}
		f.attempt(i+1, at, 0, r)
	}
	job := f.end(rivertype.JobStateCompleted, starts[3], "")
	replays(t, p, job)
}

// TestWorker_deadline: the deadline, measured from the job's first
// attempt, cuts an attempt and cancels the job with ErrDeadline; a retry
// whose pause would reach it is never scheduled (rule 5): the job is
// cancelled at once.
func TestWorker_deadline(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Deadline: 2500 * time.Millisecond, Pause: time.Second, RetryIf: backoff.AnyError}
	t.Run("cut", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, p)
		f.attempt(1, 0, 2500*time.Millisecond, result{err: errBusy})
		f.retryAt(time.Second)
		f.attempt(2, time.Second, 2500*time.Millisecond, result{err: errBusy})
		f.retryAt(2 * time.Second)
		f.attempt(3, 2*time.Second, 2500*time.Millisecond, result{hang: true})
		f.advance(2500 * time.Millisecond)
		job := f.end(rivertype.JobStateCancelled, 2500*time.Millisecond, "backoff: deadline exceeded: the policy's deadline (2.5s) passed after 3 attempts in 2.5s: busy")
		if len(job.Errors) != 3 {
			t.Errorf("%d errors, want 3 (%s)", len(job.Errors), show(job))
		}
		want := `0s began -> start 1 until 2.5s
0s ended 1 failed -> pause 2 until 1s
1s fired 2 -> start 2 until 2.5s
1s ended 2 failed -> pause 3 until 2s
2s fired 3 -> start 3 until 2.5s
2.5s ended 3 cut -> finish: backoff: deadline exceeded
`
		if got := timeline(t, p, job); got != want {
			t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
		}
		replays(t, p, job)
	})
	t.Run("no retry past it", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, p)
		f.attempt(1, 0, 2500*time.Millisecond, result{err: errBusy})
		f.retryAt(time.Second)
		// The server asks for 2s: the retry would come at 3s, past the
		// deadline, so none is scheduled and the job ends now.
		f.attempt(2, time.Second, 2500*time.Millisecond, result{err: backoff.RetryAfter(errBusy, 2*time.Second)})
		job := f.end(rivertype.JobStateCancelled, time.Second, "backoff: deadline exceeded: the next pause (2s) would pass the policy's deadline (2.5s), after 2 attempts in 1s: busy")
		if job.ScheduledAt.After(f.t0.Add(p.Deadline)) {
			t.Errorf("scheduled at t0+%v, past the deadline", job.ScheduledAt.Sub(f.t0))
		}
		replays(t, p, job)
	})
}

// TestWorker_attemptTimeout: AttemptTimeout ends each attempt's context
// on the policy's clock; MaxTries is the job's attempts, and a call out of
// tries on River's last attempt is discarded, as River discards any job.
func TestWorker_attemptTimeout(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{AttemptTimeout: time.Second, Pause: time.Second, MaxTries: 2}
	f := newFake(t, p)
	f.attempt(1, 0, time.Second, result{hang: true})
	f.advance(time.Second)
	f.retryAt(2 * time.Second)
	f.attempt(2, 2*time.Second, 3*time.Second, result{hang: true})
	f.advance(3 * time.Second)
	job := f.end(rivertype.JobStateDiscarded, 3*time.Second, "backoff: max tries reached after 2 attempts in 3s: attempt timed out")
	replays(t, p, job)
}

// TestWorker_notRetryable: an error RetryIf does not retry cancels the
// job at once; one GiveUp gives up on cancels it after that attempt.
func TestWorker_notRetryable(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.On(errBusy, errQuota), GiveUp: backoff.On(errQuota)}
	t.Run("RetryIf", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, p)
		f.attempt(1, 0, 0, result{err: errPermanent})
		job := f.end(rivertype.JobStateCancelled, 0, "backoff: error not retryable after 1 attempt in 0s: permanent")
		if len(job.Errors) != 1 {
			t.Errorf("%d errors, want 1 (%s)", len(job.Errors), show(job))
		}
		replays(t, p, job)

		// Retried by hand (River's JobRetry, the UI's retry) once the
		// endpoint is fixed, the job is a new call, counted from now.
		f.clock.Advance(time.Minute)
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if _, err := f.client.JobRetry(ctx, f.id); err != nil {
			t.Fatal(err)
		}
		f.attempt(2, time.Minute, 0, result{})
		job = f.end(rivertype.JobStateCompleted, time.Minute, "")
		want := `0s began -> start 1
0s ended 1 succeeded -> finish
`
		if got := timeline(t, p, job); got != want {
			t.Errorf("the job's steps after the retry by hand:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("GiveUp", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, p)
		f.attempt(1, 0, 0, result{err: errBusy})
		f.retryAt(time.Second)
		f.attempt(2, time.Second, 0, result{err: errQuota})
		job := f.end(rivertype.JobStateCancelled, time.Second, "backoff: gave up after 2 attempts in 1s: quota gone")
		replays(t, p, job)
	})
}

// TestWorker_stoppedMidAttempt: an attempt that River ends itself (its
// client stops with StopAndCancel) is not one for the core: River puts the
// job back, a second client on the same database runs the attempt again,
// and the deadline still counts from the job's first attempt.
func TestWorker_stoppedMidAttempt(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Deadline: 10 * time.Second, Pause: time.Second, RetryIf: backoff.AnyError}
	f := newFake(t, p)
	f.attempt(1, 0, 10*time.Second, result{err: errBusy})
	f.retryAt(time.Second)
	f.attempt(2, time.Second, 10*time.Second, result{hang: true})
	f.clock.Advance(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := f.client.StopAndCancel(ctx); err != nil {
		t.Fatalf("stopping the first client: %v", err)
	}
	job := waitJob(t, f.client, f.id, "River to put the job back", func(j *rivertype.JobRow) bool {
		return j.State == rivertype.JobStateAvailable
	})
	if job.Attempt != 1 || len(job.Errors) != 1 {
		t.Fatalf("after the stop: %s; want attempt 1 with 1 error (River does not count a stopped attempt)", show(job))
	}
	f.client = newClient(t, f.pool, f.schema, f.workers, riverTime{f.clock})
	f.attempt(2, 1500*time.Millisecond, 10*time.Second, result{err: errBusy}) // the same deadline
	f.retryAt(2500 * time.Millisecond)
	f.attempt(3, 2500*time.Millisecond, 10*time.Second, result{})
	job = f.end(rivertype.JobStateCompleted, 2500*time.Millisecond, "")
	want := `0s began -> start 1 until 10s
0s ended 1 failed -> pause 2 until 1s
1.5s fired 2 -> start 2 until 10s
1.5s ended 2 failed -> pause 3 until 2.5s
2.5s fired 3 -> start 3 until 10s
2.5s ended 3 succeeded -> finish
`
	if got := timeline(t, p, job); got != want {
		t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
	}
}

// TestWorker_lostAttempt: an attempt River counted but no worker saw end
// (its process died and River's rescuer failed it) counts as a failure
// with ErrAttemptLost; the job is then not run before the pause after it
// ends (it is snoozed until then).
func TestWorker_lostAttempt(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 3, RetryIf: backoff.On(errBusy)}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errBusy})
	waitJob(t, f.client, f.id, "a retry to be scheduled", func(j *rivertype.JobRow) bool {
		return j.State == rivertype.JobStateAvailable
	})
	// Attempt 2 ran in a process that died at 5s; River's rescuer failed
	// it then, as it does, and made the job available at once.
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	rescued := fmt.Sprintf(`{"at": %q, "attempt": 2, "error": "Stuck job rescued by JobRescuer"}`, f.t0.Add(5*time.Second).Format(time.RFC3339Nano))
	if _, err := f.pool.Exec(ctx, `UPDATE river_job SET attempt = 2, errors = errors || $1::jsonb, scheduled_at = $2 WHERE id = $3`,
		rescued, f.t0.Add(5*time.Second), f.id); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(5 * time.Second)
	// River fetches it now, at 5s; the worker snoozes it to 6s, a Pause
	// after the lost attempt.
	f.retryAt(6 * time.Second)
	f.attempt(3, 6*time.Second, 0, result{err: errBusy})
	job := f.end(rivertype.JobStateDiscarded, 6*time.Second, "backoff: max tries reached after 3 attempts in 6s: busy")
	want := `0s began -> start 1
0s ended 1 failed -> pause 2 until 1s
5s fired 2 -> start 2
5s ended 2 failed -> pause 3 until 6s
6s fired 3 -> start 3
6s ended 3 failed -> finish: backoff: max tries reached
`
	if got := timeline(t, p, job); got != want {
		t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
	}
}

// TestWorker_budget: the Budget is the process's: the retry of attempt 1
// spends its one token, replaying that retry before attempt 2 spends
// nothing, and the retry attempt 2 would need is refused.
func TestWorker_budget(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.AnyError, Budget: &backoff.Budget{Burst: 1}}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errBusy})
	f.retryAt(time.Second)
	f.attempt(2, time.Second, 0, result{err: errBusy})
	job := f.end(rivertype.JobStateCancelled, time.Second, "backoff: retry budget exhausted after 2 attempts in 1s: busy")
	want := `0s began -> start 1
0s ended 1 failed -> pause 2 until 1s
1s fired 2 -> start 2
1s ended 2 failed -> finish: backoff: retry budget exhausted
`
	if got := timeline(t, p, job); got != want {
		t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
	}
	// The trace holds what the budget answered (budget_allows), and
	// replays.
	if tr := replays(t, p, job); !bytes.Contains(tr, []byte(`"budget_allows":1`)) {
		t.Errorf("the trace of a call the Budget ended lacks budget_allows:\n%s", tr)
	}
}

// TestWorker_panic: a panic of the work fails the attempt with a
// *PanicError, which RetryIf judges like any error.
func TestWorker_panic(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 3, RetryIf: backoff.OnType[*backoffriver.PanicError]()}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{panic: "boom"})
	f.retryAt(time.Second)
	f.attempt(2, time.Second, 0, result{err: errPermanent})
	f.end(rivertype.JobStateCancelled, time.Second, "backoff: error not retryable after 2 attempts in 1s: permanent")
	job, err := f.client.JobGet(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := job.Errors[0].Error; got != "backoffriver: the work panicked: boom" {
		t.Errorf("attempt 1's error: %q, want the panic's", got)
	}
}

// TestWorker_maxTriesBeforeRiversLast: a job inserted with more
// MaxAttempts than the policy's MaxTries is cancelled when its call runs
// out of tries, not left to River, which would run it again.
func TestWorker_maxTriesBeforeRiversLast(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 2, RetryIf: backoff.AnyError}
	f := newFakeWith(t, p, &river.InsertOpts{MaxAttempts: 5})
	f.attempt(1, 0, 0, result{err: errBusy})
	f.retryAt(time.Second)
	f.attempt(2, time.Second, 0, result{err: errBusy})
	f.end(rivertype.JobStateCancelled, time.Second, "backoff: max tries reached after 2 attempts in 1s: busy")
}

// TestWorker_retriedByHandJitter: a job retried by hand after its call
// ended is a new call, whose attempts go on drawing the job's numbers
// where River's attempts are: its first attempt (River's second) draws
// the job's second number.
func TestWorker_retriedByHandJitter(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, Jitter: backoff.FullJitter, MaxTries: 5, RetryIf: backoff.On(errBusy)}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errPermanent})
	f.end(rivertype.JobStateCancelled, 0, "backoff: error not retryable after 1 attempt in 0s: permanent")

	f.clock.Advance(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := f.client.JobRetry(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	f.attempt(2, time.Minute, 0, result{err: errBusy})
	numbers := rand.NewPCG(uint64(f.id), sim.SeedStream)
	numbers.Uint64()                                       // River's attempt 1, of the call before
	pause := p.PauseAfter(1, 0, numbers.Uint64(), errBusy) // River's attempt 2, the new call's first
	f.retryAt(time.Minute + pause)
	f.attempt(3, time.Minute+pause, 0, result{})
	f.end(rivertype.JobStateCompleted, time.Minute+pause, "")
}

// TestWorker_workSnoozes: the work's own river.JobSnooze goes to River as
// it is, and is no attempt for the core: River runs the job again after
// the snooze, as the same attempt, and the call goes on from there.
func TestWorker_workSnoozes(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 3, RetryIf: backoff.AnyError}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: river.JobSnooze(time.Second)})
	f.retryAt(time.Second)
	f.attempt(1, time.Second, 0, result{err: errBusy}) // River's attempt 1 again
	f.retryAt(2 * time.Second)
	f.attempt(2, 2*time.Second, 0, result{})
	f.end(rivertype.JobStateCompleted, 2*time.Second, "")
}
