package backoffriver_test

// What a job keeps of its call (its record, in its metadata), and what the
// next attempt rebuilds from it: attempts River counted that no worker
// recorded, a record that does not fit the job, and the record's size.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/backoffriver"
)

// TestWorker_lostFirstAttempt: a job whose first attempt River counted but
// no worker recorded (its process died, and River's rescuer failed it at
// 5s) begins its call when that attempt ended, not when a worker first
// runs it (6s): the pause after the lost attempt ends at 6s, and the
// deadline counts from 5s.
func TestWorker_lostFirstAttempt(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Deadline: 10 * time.Second, Pause: time.Second, MaxTries: 3, RetryIf: backoff.AnyError}
	// Inserted to run in an hour: no worker runs it before the test has
	// made its first attempt a lost one.
	f := newFakeWith(t, p, &river.InsertOpts{MaxAttempts: backoffriver.MaxAttempts(p), ScheduledAt: time.Now().Add(time.Hour)})
	lose(t, f, 1, 5*time.Second)
	f.clock.Advance(6 * time.Second)
	f.attempt(2, 6*time.Second, 15*time.Second, result{})
	job := f.end(rivertype.JobStateCompleted, 6*time.Second, "")
	want := `0s began -> start 1 until 10s
0s ended 1 failed -> pause 2 until 1s
1s fired 2 -> start 2 until 10s
1s ended 2 succeeded -> finish
`
	if got := timeline(t, p, job); got != want {
		t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
	}
}

// TestWorker_lostAttemptGivesUp: GiveUp is asked about a lost attempt's
// ErrAttemptLost, as about any failure: here it gives up on it, and the
// job is cancelled when it next runs.
func TestWorker_lostAttemptGivesUp(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.AnyError, GiveUp: backoff.On(backoffriver.ErrAttemptLost)}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errBusy})
	waitJob(t, f.client, f.id, "a retry to be scheduled", func(j *rivertype.JobRow) bool {
		return j.State == rivertype.JobStateAvailable || j.State == rivertype.JobStateRetryable
	})
	lose(t, f, 2, 5*time.Second)
	f.clock.Advance(5 * time.Second)
	f.end(rivertype.JobStateCancelled, 5*time.Second, "backoff: gave up after 2 attempts in 5s: "+backoffriver.ErrAttemptLost.Error())
}

// lose makes attempt n of f's job one that River counted and failed at
// at (since t0), as its rescuer does for a worker that died, and makes
// the job available then. The clock must not have reached the job's
// scheduled time yet: River would run it before this.
func lose(t *testing.T, f *fake, n int, at time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	rescued := fmt.Sprintf(`{"at": %q, "attempt": %d, "error": "Stuck job rescued by JobRescuer"}`, f.t0.Add(at).Format(time.RFC3339Nano), n)
	if _, err := f.pool.Exec(ctx, `UPDATE river_job SET state = 'available', attempt = $1, errors = coalesce(errors, '{}') || $2::jsonb, scheduled_at = $3 WHERE id = $4`,
		n, rescued, f.t0.Add(at), f.id); err != nil {
		t.Fatal(err)
	}
}

// TestWorker_recordAhead: a record that holds more attempts than River
// has counted (metadata written by hand, or restored from elsewhere) does
// not fit the job: the job is cancelled with an error that says so.
func TestWorker_recordAhead(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 5, RetryIf: backoff.AnyError}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errBusy})
	job := waitJob(t, f.client, f.id, "a retry to be scheduled", func(j *rivertype.JobRow) bool {
		return j.State == rivertype.JobStateRetryable || j.State == rivertype.JobStateAvailable
	})
	// The record's one attempt and a second like it, which River has not
	// counted: it is about to run attempt 2.
	var meta map[string]map[string]any
	if err := json.Unmarshal(job.Metadata, &meta); err != nil {
		t.Fatal(err)
	}
	rec := meta[backoffriver.MetadataKey]
	attempts, _ := rec["attempts"].([]any)
	if len(attempts) != 1 {
		t.Fatalf("the job's record: %s; want one attempt", job.Metadata)
	}
	second := map[string]any{}
	for k, v := range attempts[0].(map[string]any) {
		second[k] = v
	}
	second["n"] = 2
	rec["attempts"] = append(attempts, second)
	b, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := f.pool.Exec(ctx, `UPDATE river_job SET metadata = $1::jsonb WHERE id = $2`, string(b), f.id); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Second)
	f.end(rivertype.JobStateCancelled, time.Second, fmt.Sprintf("backoffriver: job %d is at attempt 2, but its record holds 2 attempts after 0", f.id))
}

// TestWorker_longError: a record keeps no more than the start of an
// error's text (River keeps the whole of it in the job's errors): a job
// that fails with 10,000 bytes of text keeps a small record.
func TestWorker_longError(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{Pause: time.Second, MaxTries: 2, RetryIf: backoff.AnyError}
	f := newFake(t, p)
	f.attempt(1, 0, 0, result{err: errors.New(strings.Repeat("x", 10_000))})
	f.retryAt(time.Second)
	f.attempt(2, time.Second, 0, result{})
	job := f.end(rivertype.JobStateCompleted, time.Second, "")
	if n := len(job.Metadata); n > 1000 {
		t.Errorf("the job's metadata holds %d bytes after an error of 10,000; want at most 1,000:\n%.300s…", n, job.Metadata)
	}
}
