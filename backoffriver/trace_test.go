package backoffriver_test

// The traces of jobs (WriteTrace): attempts that outlive their cut, as
// the simulator replays them.

import (
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
)

// TestWriteTrace_pastTheCut: an attempt that returns its context's error
// 200ms after its cut, and one that ignores its context and succeeds
// 200ms after it, are scripted as such (a hang that returns late; a
// success that ignores its context), so that the trace replays.
func TestWriteTrace_pastTheCut(t *testing.T) {
	t.Parallel()
	p := backoff.Policy{AttemptTimeout: time.Second, Pause: time.Second, MaxTries: 2}
	f := newFake(t, p)
	f.attempt(1, 0, time.Second, result{hang: true, late: 200 * time.Millisecond})
	f.advance(time.Second)
	f.retryAt(2200 * time.Millisecond)
	f.attempt(2, 2200*time.Millisecond, 3200*time.Millisecond, result{hang: true, late: 200 * time.Millisecond, ignore: true})
	f.advance(3200 * time.Millisecond)
	job := f.end(rivertype.JobStateCompleted, 3400*time.Millisecond, "")
	want := `0s began -> start 1 until 1s
1.2s ended 1 failed -> pause 2 until 2.2s
2.2s fired 2 -> start 2 until 3.2s
3.4s ended 2 succeeded -> finish
`
	if got := timeline(t, p, job); got != want {
		t.Errorf("the job's steps:\n%s\nwant:\n%s", got, want)
	}
	replays(t, p, job)
}
