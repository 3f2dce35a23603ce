package backoffriver_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
	"github.com/timebound/backoff/sim"
)

// The restart test runs its workers in processes of their own: this test
// binary, started again with BACKOFFRIVER_HELPER=worker, is one (see
// TestMain). A process killed with SIGKILL keeps nothing, as a machine
// that dies keeps nothing, so the second one can only carry on from what
// the database holds.

type restartArgs struct {
	Fails int `json:"fails"` // attempts 1 to Fails fail; the next one succeeds
}

func (restartArgs) Kind() string { return "restart" }

// restartPolicy grows its pauses and jitters them, under a deadline.
var restartPolicy = backoff.Policy{
	Deadline: 30 * time.Second, Pause: time.Second, Growth: 1.5, Jitter: backoff.EqualJitter,
	MaxTries: 8, RetryIf: backoff.AnyError,
}

func TestMain(m *testing.M) {
	if os.Getenv("BACKOFFRIVER_HELPER") == "worker" {
		os.Exit(helperWorker())
	}
	os.Exit(m.Run())
}

// helperWorker runs a River client under restartPolicy until it is
// killed (or for a minute at most), printing "start N DEADLINE" when
// attempt N of the job starts (its context's deadline in Unix
// nanoseconds) and "end N" when it returns.
func helperWorker() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg, err := pgxpool.ParseConfig(os.Getenv(envURL))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	schema := os.Getenv("BACKOFFRIVER_SCHEMA")
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	w, err := backoffriver.NewWorker(restartPolicy, func(ctx context.Context, job *river.Job[restartArgs]) error {
		d, _ := ctx.Deadline()
		fmt.Printf("start %d %d\n", job.Attempt, d.UnixNano())
		defer fmt.Printf("end %d\n", job.Attempt)
		if job.Attempt <= job.Args.Fails {
			return errBusy
		}
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{
		ID: os.Getenv("BACKOFFRIVER_CLIENT_ID"), Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 5}},
		Workers: workers, Schema: schema, FetchPollInterval: 10 * time.Millisecond, FetchCooldown: time.Millisecond,
		Logger: quietLogger(),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := client.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	<-ctx.Done()
	stopCtx, cancelStop := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelStop()
	client.Stop(stopCtx)
	return 0
}

// A helper is a worker process and the lines it prints.
type helper struct {
	cmd   *exec.Cmd
	lines chan string
}

// startHelper starts a worker process with client ID id.
func startHelper(t *testing.T, schema, id string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "BACKOFFRIVER_HELPER=worker", "BACKOFFRIVER_SCHEMA="+schema, "BACKOFFRIVER_CLIENT_ID="+id)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, lines: make(chan string, 100)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			h.lines <- sc.Text()
		}
		close(h.lines)
	}()
	t.Cleanup(h.kill)
	if l := h.line(t); l != "ready" {
		t.Fatalf("worker %s: said %q, want ready", id, l)
	}
	return h
}

// line returns the process's next line, failing after waitFor.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	select {
	case l, ok := <-h.lines:
		if !ok {
			t.Fatalf("worker process %d ended", h.cmd.Process.Pid)
		}
		return l
	case <-time.After(waitFor):
		t.Fatalf("worker process %d: waited %v for a line", h.cmd.Process.Pid, waitFor)
		panic("unreachable")
	}
}

// kill kills the process with SIGKILL: it keeps nothing.
func (h *helper) kill() {
	if h.cmd.ProcessState == nil {
		h.cmd.Process.Kill()
		h.cmd.Wait()
	}
}

// TestWorker_restart: a worker process killed in the middle of a job's
// retries (after attempt 2 failed, while the job waits out its pause), and
// another one started on the same database, carries on with the same
// rules: it waits out the pause the first one chose, draws the job's next
// random numbers, grows the pauses from where they were, and keeps the
// deadline measured from the first process's first attempt.
func TestWorker_restart(t *testing.T) {
	t.Parallel()
	pool, schema := database(t)
	a := startHelper(t, schema, "worker-a")

	// A client that only inserts and reads (no queues).
	client, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Schema: schema, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	res, err := client.Insert(ctx, restartArgs{Fails: 3}, &river.InsertOpts{MaxAttempts: backoffriver.MaxAttempts(restartPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	id := res.Job.ID

	var deadlines []int64 // each attempt's context deadline, as the workers saw it
	expect := func(h *helper, want string) {
		t.Helper()
		l := h.line(t)
		if !strings.HasPrefix(l, want) {
			t.Fatalf("worker said %q, want %q", l, want)
		}
		if f := strings.Fields(l); f[0] == "start" {
			d, _ := strconv.ParseInt(f[2], 10, 64)
			deadlines = append(deadlines, d)
		}
	}
	expect(a, "start 1")
	expect(a, "end 1")
	expect(a, "start 2")
	expect(a, "end 2")
	waiting := waitJob(t, client, id, "attempt 2 to fail and a retry to be scheduled", func(j *rivertype.JobRow) bool {
		return j.Attempt == 2 && (j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateRetryable)
	})
	a.kill()
	if waiting.Attempt != 2 || waiting.State == rivertype.JobStateCompleted {
		t.Fatalf("when worker a was killed: %s", show(waiting))
	}

	b := startHelper(t, schema, "worker-b")
	for n := 3; n <= 4; n++ {
		expect(b, "start "+strconv.Itoa(n))
		expect(b, "end "+strconv.Itoa(n))
	}
	job := waitJob(t, client, id, "the job to complete", func(j *rivertype.JobRow) bool { return j.FinalizedAt != nil })
	if job.State != rivertype.JobStateCompleted || job.Attempt != 4 {
		t.Fatalf("job ended: %s; want completed at attempt 4", show(job))
	}
	if got := strings.Join(job.AttemptedBy, ","); got != "worker-a,worker-a,worker-b,worker-b" {
		t.Errorf("attempted by %s, want attempts 1 and 2 by worker-a, 3 and 4 by worker-b", got)
	}

	steps, err := backoffriver.Steps(restartPolicy, job)
	if err != nil {
		t.Fatal(err)
	}
	// The pauses are the simulator's for a job of this ID: Pause grown by
	// Growth, jittered with the job's k-th random number after attempt k,
	// whichever process decided them.
	res2, err := sim.Run(sim.Scenario{Deadline: sim.Duration(restartPolicy.Deadline), Pause: sim.Duration(restartPolicy.Pause),
		Growth: 1.5, Jitter: "equal", MaxTries: 8, Seed: uint64(id),
		Attempts: []sim.Attempt{{Outcome: sim.Retryable}, {Outcome: sim.Retryable}, {Outcome: sim.Retryable}, {Outcome: sim.OK}}})
	if err != nil {
		t.Fatal(err)
	}
	want, got := pauses(res2.Steps), pauses(steps)
	if fmt.Sprint(got) != fmt.Sprint(want) || len(got) != 3 {
		t.Errorf("the job's pauses: %v, want the simulator's %v", got, want)
	}
	// No attempt started before its pause ended; worker b's first waited
	// out the pause worker a chose, which River held.
	rec := steps[0].Event.Start
	for i, s := range steps {
		if s.Event.Kind == backoff.EventFired && s.Event.At < steps[i-1].Action.Until {
			t.Errorf("attempt %d started at %v, before its pause ended at %v", s.Event.Attempt, s.Event.At, steps[i-1].Action.Until)
		}
		if s.Event.Kind == backoff.EventEnded && s.Event.Attempt == 2 {
			if due := rec.Add(s.Action.Until).Truncate(time.Microsecond); !waiting.ScheduledAt.Equal(due) {
				t.Errorf("worker a scheduled attempt 3 at %v, want the end of the pause after attempt 2, %v", waiting.ScheduledAt, due)
			}
		}
	}
	// Every attempt's context, in either process, is done at the deadline
	// measured from attempt 1's start in worker a.
	for n, d := range deadlines {
		if want := rec.Add(restartPolicy.Deadline).UnixNano(); d != want {
			t.Errorf("attempt %d's context deadline: %v, want %v (30s after the job's first attempt began)", n+1, time.Unix(0, d), time.Unix(0, want))
		}
	}
}

// pauses returns the lengths of the pauses of steps.
func pauses(steps []sim.Step) []time.Duration {
	var ps []time.Duration
	for _, s := range steps {
		if s.Action.Kind == backoff.ActionPause {
			ps = append(ps, s.Action.Until-s.Event.At)
		}
	}
	return ps
}
