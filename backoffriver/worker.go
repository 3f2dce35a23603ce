package backoffriver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
)

// ErrAttemptLost is the error of an attempt that River counted but no
// worker saw end: its process died and River's rescuer failed it, or River
// failed it before the worker ran. It is always retried (as an attempt
// timeout is); GiveUp is asked about it.
var ErrAttemptLost = errors.New("backoffriver: attempt lost: its worker never reported its end")

// A PanicError is the error of an attempt whose work panicked: the panic
// is recovered, and the attempt fails with it, as River fails a job that
// panics. The policy's RetryIf decides whether it is retried.
type PanicError struct {
	Value any    // what the work panicked with
	Stack []byte // the stack of the panic (debug.Stack)
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("backoffriver: the work panicked: %v", e.Value)
}

// riverMargin is how much later than the policy's cut River's own timeout
// of an attempt ends it (see Worker.Timeout).
const riverMargin = time.Second

// A Worker is a river.Worker of the jobs of kind T that runs each job
// under a backoff.Policy, every decision made by the same decision core
// as backoff.Do's: each attempt of the job is one attempt of a call, and
// the job's attempts may run in different processes. See the package doc
// for how the policy's fields map onto River's.
//
// Make one with NewWorker or NewWorkerFor (the zero Worker has no policy
// and no work), and register it with river.AddWorker. It is safe for
// concurrent use, as River uses it. It costs, per attempt, the replay of
// the job's earlier attempts through a new backoff.Execution (about 0.3 µs
// before a second attempt, 3 µs after 10 attempts, 13 µs after 100 on two
// cores of an AMD EPYC: BenchmarkReplay, in BENCHMARKS.md) and about 90
// bytes of record per attempt in the job's metadata.
type Worker[T river.JobArgs] struct {
	river.WorkerDefaults[T] // Middleware

	policy func(*river.Job[T]) (backoff.Policy, error)
	work   func(context.Context, *river.Job[T]) error
	// next holds, by job ID, when River is to retry the attempt that Work
	// just failed: NextRetry takes it.
	next sync.Map
}

// A retry is when River is to retry a job's attempt.
type retry struct {
	attempt int
	at      time.Time
}

// NewWorker returns a Worker that runs every job under p, calling work
// for each attempt. It refuses a policy that p.Validate refuses, or that
// sets a field a job cannot use (see the package doc).
func NewWorker[T river.JobArgs](p backoff.Policy, work func(ctx context.Context, job *river.Job[T]) error) (*Worker[T], error) {
	if err := check(p); err != nil {
		return nil, err
	}
	if work == nil {
		return nil, errors.New("backoffriver: the work is a nil func")
	}
	return &Worker[T]{policy: func(*river.Job[T]) (backoff.Policy, error) { return p, nil }, work: work}, nil
}

// NewWorkerFor returns a Worker that runs each job under the policy that
// policy returns for it (from its arguments, say), calling work for each
// attempt. policy must return the same policy for a job every time it is
// asked, in every process. A job whose policy is refused (as NewWorker
// refuses one) is cancelled with the reason.
func NewWorkerFor[T river.JobArgs](policy func(job *river.Job[T]) backoff.Policy, work func(ctx context.Context, job *river.Job[T]) error) (*Worker[T], error) {
	if policy == nil || work == nil {
		return nil, errors.New("backoffriver: the policy or the work is a nil func")
	}
	return &Worker[T]{policy: func(job *river.Job[T]) (backoff.Policy, error) {
		p := policy(job)
		if err := check(p); err != nil {
			return p, fmt.Errorf("backoffriver: job %d: %w", job.ID, err)
		}
		return p, nil
	}, work: work}, nil
}

// check reports what in p a Worker cannot use.
func check(p backoff.Policy) error {
	var errs []error
	if p.Rand != nil {
		errs = append(errs, fmt.Errorf("backoffriver: Policy.Rand is %T; want nil: each job draws its jitter from a PCG seeded with its ID, so that every process draws the same numbers", p.Rand))
	}
	if p.Observer != nil {
		errs = append(errs, fmt.Errorf("backoffriver: Policy.Observer is %T; want nil: a job's steps happen in many processes, one attempt in each (read them with Steps or WriteTrace)", p.Observer))
	}
	if err := p.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MaxAttempts returns the MaxAttempts to insert a job with, so that River
// never discards it before p is done with it: p.MaxTries, or, if p has no
// limit on tries, the most River can count (its column is a smallint).
// With fewer, a job that River would discard while p would retry it is
// cancelled instead, with an error that says so.
func MaxAttempts(p backoff.Policy) int {
	if p.MaxTries > 0 && p.MaxTries < math.MaxInt16 {
		return p.MaxTries
	}
	return math.MaxInt16
}

// Timeout returns River's timeout for an attempt of job: -1 (none) if
// the job's policy has neither AttemptTimeout nor Deadline, else the
// first of them plus a second. The Worker itself ends each attempt
// exactly when the decision core says (the attempt timeout or the
// deadline, whichever comes first, on the policy's clock); River's
// timeout, later, is for River: its rescuer takes a job of a dead process
// for stuck only once it has run that long (and never if -1).
func (w *Worker[T]) Timeout(job *river.Job[T]) time.Duration {
	p, err := w.policy(job)
	switch {
	case err != nil:
		return 0 // River's default: Work cancels the job at once
	case p.AttemptTimeout > 0:
		return p.AttemptTimeout + riverMargin
	case p.Deadline > 0:
		return p.Deadline + riverMargin
	}
	return -1
}

// NextRetry returns when River is to retry job: when the pause the core
// chose after the attempt Work just failed ends (or at once, if it chose
// none). For an attempt this process did not see end (River's rescuer
// asks about a job whose worker died), it returns now: the next Work
// counts the attempt as lost, and waits out the pause that the core
// chooses after it (with river.JobSnooze) or ends the job.
func (w *Worker[T]) NextRetry(job *river.Job[T]) time.Time {
	now := w.clock(job).Now()
	if v, ok := w.next.LoadAndDelete(job.ID); ok {
		if r := v.(retry); r.attempt == job.Attempt && r.at.After(now) {
			return r.at
		}
	}
	return now
}

func (w *Worker[T]) clock(job *river.Job[T]) backoff.Clock {
	if p, err := w.policy(job); err == nil && p.Clock != nil {
		return p.Clock
	}
	return systemClock
}

// Work runs the job's current attempt, if the decision core, told the
// job's recorded attempts again, starts it now; then tells the core how
// it ended, records that in the job's metadata, and returns what River
// should do: nil (the job succeeded), the attempt's error (River retries
// the job at NextRetry), river.JobCancel with the call's *backoff.Error
// (the core ended the call), or, if the job runs before the pause the
// core chose ends, river.JobSnooze until then.
//
// An attempt that River ends before the policy does (its client stops,
// or the job is cancelled) is neither told to the core nor recorded:
// Work returns River's cause, and River runs the attempt again later
// (a stop) or ends the job (a cancel). Work passes the work's own
// river.JobSnooze and river.JobCancel on to River as they are.
func (w *Worker[T]) Work(ctx context.Context, job *river.Job[T]) error {
	p, err := w.policy(job)
	if err != nil {
		return river.JobCancel(err)
	}
	clk := w.clock(job)
	now := clk.Now()
	rec, err := readRecord(job.JobRow, now)
	if err != nil {
		return river.JobCancel(err)
	}
	c, err := replay(p, rec, job.ID)
	if err != nil {
		return river.JobCancel(err)
	}
	if c.a.Kind == backoff.ActionFinish && c.whole && len(rec.Attempts) > 0 && !rec.Attempts[len(rec.Attempts)-1].Lost {
		// The call ended at its last recorded attempt, yet River runs the
		// job (River's JobRetry): a new call begins.
		rec = &record{Start: now.Round(0), Base: job.Attempt - 1}
		if c, err = replay(p, rec, job.ID); err != nil {
			return river.JobCancel(err)
		}
	}
	save := func() error {
		return river.MetadataSet(ctx, MetadataKey, rec)
	}
	a := c.a
	start := now
	if a.Kind == backoff.ActionPause {
		// River keeps times to the microsecond: a job due at the pause's
		// end runs up to a microsecond before it, which is the end.
		due := rec.Start.Add(a.Until)
		if now.Before(due.Truncate(time.Microsecond)) {
			if err := save(); err != nil {
				return err
			}
			return river.JobSnooze(due.Sub(now))
		}
		if start.Before(due) {
			start = due
		}
		a = c.step(backoff.Event{Kind: backoff.EventFired, At: start.Sub(rec.Start), Attempt: a.Attempt})
	}
	if a.Kind == backoff.ActionFinish { // the recorded attempts end the call
		if err := save(); err != nil {
			return err
		}
		return w.end(job, a.Err)
	}
	if a.Kind != backoff.ActionStart || rec.Base+a.Attempt != job.Attempt {
		return river.JobCancel(fmt.Errorf("backoffriver: job %d is at attempt %d, but the decision core, told its record, answers %v attempt %d after %d", job.ID, job.Attempt, a.Kind, a.Attempt, rec.Base))
	}

	actx, cancel := context.WithCancel(ctx) // no cut: no end
	if a.Cut != nil {
		actx, cancel = backoff.WithDeadline(ctx, p.Clock, rec.Start.Add(a.Until), a.Cut)
	}
	err = w.run(actx, job)
	cancel()
	end := clk.Now()
	if end.Before(start) { // it started at its pause's end, a microsecond ahead
		end = start
	}
	var snooze *rivertype.JobSnoozeError
	var jc *rivertype.JobCancelError
	cut := a.Cut != nil && !end.Before(rec.Start.Add(a.Until))
	switch {
	case errors.As(err, &snooze) || errors.As(err, &jc):
		if err := save(); err != nil {
			return err
		}
		return err
	case err != nil && ctx.Err() != nil && !cut:
		// River ended the attempt: not one for the core.
		if err := save(); err != nil {
			return err
		}
		return errors.Join(context.Cause(ctx), err)
	}

	c.retry, c.giveUp = false, false
	n := a.Attempt
	a = c.step(backoff.Event{Kind: backoff.EventEnded, At: end.Sub(rec.Start), Attempt: n, Err: err, Rand: c.rng.Uint64()})
	at := attempt{N: n, Start: duration(start.Sub(rec.Start)), End: duration(end.Sub(rec.Start)), OK: err == nil}
	if err != nil {
		at.Err, at.Retry, at.GiveUp, at.Hint = errText(err), c.retry, c.giveUp, duration(hintOf(err))
		var e *backoff.Error
		at.Refused = errors.As(a.Err, &e) && e.Reason == backoff.ErrBudgetExhausted
	}
	rec.Attempts = append(rec.Attempts, at)
	if err := save(); err != nil {
		return err
	}
	var next time.Time
	switch a.Kind {
	case backoff.ActionFinish:
		if a.Err == nil {
			return nil
		}
		return w.end(job, a.Err)
	case backoff.ActionPause:
		next = rec.Start.Add(a.Until)
	case backoff.ActionStart: // no pause: at once
		next = end
	}
	if job.Attempt >= job.MaxAttempts {
		return river.JobCancel(fmt.Errorf("backoffriver: job %d: its policy retries it after attempt %d, but River discards it after MaxAttempts %d (insert it with MaxAttempts: backoffriver.MaxAttempts(policy)): %w",
			job.ID, job.Attempt, job.MaxAttempts, err))
	}
	w.next.Store(job.ID, retry{job.Attempt, next})
	return err
}

// end returns what ends job with the call's error err: err itself when
// the call ran out of tries on River's last attempt (River discards the
// job), else river.JobCancel(err).
func (w *Worker[T]) end(job *river.Job[T], err error) error {
	var e *backoff.Error
	if errors.As(err, &e) && e.Reason == backoff.ErrMaxTries && job.Attempt >= job.MaxAttempts {
		return err
	}
	return river.JobCancel(err)
}

// run calls the work, turning a panic into a *PanicError.
func (w *Worker[T]) run(ctx context.Context, job *river.Job[T]) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return w.work(ctx, job)
}
