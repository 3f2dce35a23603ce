package backoffriver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
	"github.com/timebound/backoff/sim"
)

type loadArgs struct {
	Fails     int  `json:"fails"`     // attempts 1 to Fails fail with errBusy
	Permanent bool `json:"permanent"` // attempt 1 fails with errPermanent
}

func (loadArgs) Kind() string { return "load" }

// TestWorker_manyJobs: 300 jobs at once, worked by two clients on the
// real clock, each ends as its policy says (completed after its failures,
// discarded out of tries, cancelled at once for an error not retried),
// no retry starts before its pause ends, both clients take part, and the
// trace of every job replays in the simulator exactly, jitter and River's
// late fetches included.
func TestWorker_manyJobs(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{
		Deadline: time.Minute, Pause: 20 * time.Millisecond, Growth: 1.5, Jitter: backoff.FullJitter,
		MaxTries: 4, RetryIf: backoff.On(errBusy),
	}
	pool, schema := database(t)
	w, err := backoffriver.NewWorker(p, func(ctx context.Context, job *river.Job[loadArgs]) error {
		switch {
		case job.Args.Permanent:
			return errPermanent
		case job.Attempt <= job.Args.Fails:
			return errBusy
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	clients := []*river.Client[pgx]{newClient(t, pool, schema, workers, nil), newClient(t, pool, schema, workers, nil)}

	const n = 300
	var params []river.InsertManyParams
	for i := range n {
		args := loadArgs{Fails: i % 6, Permanent: i%7 == 3} // 0 to 5 failures: 4 and 5 run out of tries
		params = append(params, river.InsertManyParams{Args: args, InsertOpts: &river.InsertOpts{MaxAttempts: backoffriver.MaxAttempts(p)}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := clients[0].InsertMany(ctx, params); err != nil {
		t.Fatal(err)
	}

	deadline := time.Now().Add(3 * waitFor)
	for open := -1; open != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %d jobs to end: %d are still open", 3*waitFor, n, open)
		}
		time.Sleep(20 * time.Millisecond)
		qctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := pool.QueryRow(qctx, "SELECT count(*) FROM river_job WHERE finalized_at IS NULL").Scan(&open)
		cancel()
		if err != nil {
			t.Fatalf("counting the open jobs: %v", err)
		}
	}

	res, err := clients[0].JobList(ctx, river.NewJobListParams().First(n+1).States(
		rivertype.JobStateCompleted, rivertype.JobStateCancelled, rivertype.JobStateDiscarded))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != n {
		t.Fatalf("%d jobs ended, want %d", len(res.Jobs), n)
	}
	by := map[string]int{} // attempts worked, by client ID
	for _, job := range res.Jobs {
		var args loadArgs
		if err := json.Unmarshal(job.EncodedArgs, &args); err != nil {
			t.Fatal(err)
		}
		state, attempts := rivertype.JobStateCompleted, args.Fails+1
		switch {
		case args.Permanent:
			state, attempts = rivertype.JobStateCancelled, 1
		case args.Fails >= p.MaxTries:
			state, attempts = rivertype.JobStateDiscarded, p.MaxTries
		}
		if job.State != state || job.Attempt != attempts {
			t.Errorf("job %d (%+v) ended %s at attempt %d, want %s at attempt %d (%s)", job.ID, args, job.State, job.Attempt, state, attempts, show(job))
			continue
		}
		var meta map[string]json.RawMessage
		if err := json.Unmarshal(job.Metadata, &meta); err != nil {
			t.Fatal(err)
		}
		if _, ok := meta["snoozes"]; ok {
			t.Errorf("job %d was snoozed: River ran it before its pause ended (%s)", job.ID, show(job))
		}
		steps, err := backoffriver.Steps(p, job)
		if err != nil {
			t.Fatalf("job %d: %v", job.ID, err)
		}
		last := steps[len(steps)-1].Action
		if last.Kind != backoff.ActionFinish || (last.Err == nil) != (state == rivertype.JobStateCompleted) {
			t.Errorf("job %d: its steps end with %+v, but River says %s", job.ID, last, state)
		}
		for i, s := range steps {
			if s.Event.Kind == backoff.EventFired && s.Event.At < steps[i-1].Action.Until {
				t.Errorf("job %d: attempt %d started at %v, before its pause ended at %v", job.ID, s.Event.Attempt, s.Event.At, steps[i-1].Action.Until)
			}
		}
		var trace bytes.Buffer
		if err := backoffriver.WriteTrace(&trace, p, job); err != nil {
			t.Fatalf("job %d: %v", job.ID, err)
		}
		if err := sim.Replay(bytes.NewReader(trace.Bytes())); err != nil {
			t.Errorf("job %d: its trace does not replay: %v\n%s", job.ID, err, trace.Bytes())
		}
		for _, c := range job.AttemptedBy {
			by[c]++
		}
	}
	if len(by) != 2 {
		t.Errorf("attempts by client: %v, want both clients", by)
	}
	t.Logf("attempts by client: %v", by)
}

type chargeArgs struct {
	Tries int `json:"tries"`
}

func (chargeArgs) Kind() string { return "charge" }

// TestWorkerFor_perJob: each job runs under the policy its arguments give;
// a job whose policy is invalid is cancelled, saying why.
func TestWorkerFor_perJob(t *testing.T) {
	t.Parallel()
	pool, schema := database(t)
	w, err := backoffriver.NewWorkerFor(func(job *river.Job[chargeArgs]) backoff.Policy {
		return backoff.Policy{MaxTries: job.Args.Tries, RetryIf: backoff.AnyError}
	}, func(ctx context.Context, job *river.Job[chargeArgs]) error { return errBusy })
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	c := newClient(t, pool, schema, workers, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	for _, tc := range []struct {
		tries, maxAttempts int
		state              rivertype.JobState
		attempts           int
		err                string
	}{
		{2, 2, rivertype.JobStateDiscarded, 2, "backoff: max tries reached after 2 attempts"},
		{3, 3, rivertype.JobStateDiscarded, 3, "backoff: max tries reached after 3 attempts"},
		{-1, 1, rivertype.JobStateCancelled, 1, "backoffriver: job %d: backoff: invalid policy: MaxTries is -1"},
		// Inserted with fewer attempts than the policy's: cancelled when
		// River would discard it while the policy retries, saying so.
		{3, 2, rivertype.JobStateCancelled, 2, "backoffriver: job %d: its policy retries it after attempt 2, but River discards it after MaxAttempts 2"},
	} {
		res, err := c.Insert(ctx, chargeArgs{Tries: tc.tries}, &river.InsertOpts{MaxAttempts: tc.maxAttempts})
		if err != nil {
			t.Fatal(err)
		}
		job := waitJob(t, c, res.Job.ID, "the job to end", func(j *rivertype.JobRow) bool { return j.FinalizedAt != nil })
		want := tc.err
		if strings.Contains(want, "%d") {
			want = fmt.Sprintf(want, job.ID)
		}
		if job.State != tc.state || job.Attempt != tc.attempts || !strings.Contains(job.Errors[len(job.Errors)-1].Error, want) {
			t.Errorf("job with Tries %d ended: %s; want %s at attempt %d, saying %q", tc.tries, show(job), tc.state, tc.attempts, want)
		}
	}
}
