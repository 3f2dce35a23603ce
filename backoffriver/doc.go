// Package backoffriver runs River jobs (github.com/riverqueue/river)
// under a backoff.Policy: the same rules as backoff.Do, decided by the
// same decision core (backoff.Execution), for retries that outlive a
// process and run on whichever machine is free.
//
// Each job is one call; each of its attempts is one run of the job by
// River, in any process. A [Worker] wraps your work function: before an
// attempt it rebuilds the job's decision core from what the job keeps in
// its metadata (see [MetadataKey]), after it tells the core how the
// attempt ended, and answers River with the core's decision:
//
//   - MaxTries is the job's attempts. Insert jobs with MaxAttempts:
//     [MaxAttempts](p), so that River's own limit never comes first. A
//     call that runs out of tries on River's last attempt is discarded,
//     as River discards any job then.
//   - AttemptTimeout and Deadline end each attempt's context when the
//     core says (the earlier of the two). The Deadline is measured from
//     the start of the job's first attempt, on the policy's clock: the
//     call begins when the work is first called, as Do's does, so that
//     the time a job waits in the queue before it first runs is not
//     taken from its retries.
//   - The pause after a failure (Pause, Growth, Jitter, MaxPause, delay
//     hints) is when River retries the job ([Worker.NextRetry]). Jitter
//     is reproducible per job: job N draws from sim's PCG seeded with
//     (N, sim.SeedStream), one number per attempt, in every process.
//   - RetryIf, GiveUp and the deadline (rule 5: no retry scheduled at or
//     past it) end the call: the job is cancelled (river.JobCancel) with
//     the call's *backoff.Error, whose text River keeps in the job's
//     errors.
//   - Budget is per process: a job's first attempt earns for the Budget
//     of the process that runs it, and each retry spends from the Budget
//     of the process that decides it.
//
// Policy.Rand and Policy.Observer are refused: the jitter of a job comes
// from its ID, and a job's steps happen in many processes (read them with
// [Steps], or write them as a trace for `backoffsim replay` with
// [WriteTrace]).
//
// What changes against Do: attempts may run in different processes,
// with the queue's latency between them (a retry starts when a worker
// fetches it, at or after its pause's end); with a zero Pause the next
// attempt is due at once, and its AttemptTimeout counts from the end of
// the one before, as the core starts it then. An attempt that River
// ends itself (its client stops, or the job is cancelled in River) is not
// one for the core: River runs it again later, or ends the job. An
// attempt River counted that no worker saw end (its process died, and
// River's rescuer failed it) counts as a failure with [ErrAttemptLost],
// always retried. A panic of the work fails the attempt with a
// [*PanicError]; RetryIf decides whether it is retried. A job retried by
// hand after its call ended (River's JobRetry) is a new call. A policy
// changed while jobs are under way applies at their next attempt: their
// recorded attempts are replayed under it.
package backoffriver
