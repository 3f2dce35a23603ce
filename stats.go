package backoff

import (
	"context"
	"sync/atomic"
	"time"
)

// Stats is an [Observer] that counts what the calls it observes do: calls,
// attempts and how they ended, and the time spent in attempts and in
// pauses. It is the counterpart of aiomisc's BackoffStatistic, and, as
// there, one Stats counts every call of every policy whose Observer it is
// (rule 10): share it between policies to sum them, give each policy
// its own to tell them apart. [StatsSnapshot] documents each counter; the
// README's table of differences from aiomisc compares them with aiomisc's.
//
//	var stats backoff.Stats
//	p := backoff.Policy{MaxTries: 3, RetryIf: backoff.AnyError, Observer: &stats}
//	...
//	s := stats.Snapshot()
//
// The zero Stats is ready to use. A Stats is safe for concurrent use, and
// it must not be copied after first use (go vet reports a copy): pass a
// *Stats. Observe takes no lock and allocates nothing: it makes one atomic
// addition per counter the step moves (two to four).
//
// Stats reads nothing but the steps it is told: every count comes from the
// event, the action and the action's [Outcome], which the decision core
// decided; it does not judge an error itself. So the steps of a call that
// package sim simulates, fed to Observe, count exactly as those of the same
// call made by [Do].
//
// Every counter only grows. The two times (AttemptTime and PauseTime) grow
// when an attempt or a pause ends, by its whole length (Action.Since says
// when it began).
type Stats struct {
	// Written in Observe and read in Snapshot in opposite orders: see
	// Snapshot.
	calls       atomic.Int64
	attempts    atomic.Int64
	done        atomic.Int64
	errors      atomic.Int64
	rejected    atomic.Int64
	cancels     atomic.Int64
	successes   atomic.Int64
	failures    atomic.Int64
	attemptTime atomic.Int64 // nanoseconds
	pauseTime   atomic.Int64 // nanoseconds
}

// A StatsSnapshot is the value of the counters of a [Stats] (see
// [Stats.Snapshot]). Once the calls a Stats has seen have all returned,
//
//	Done      == Attempts
//	Done      == Errors + Rejected + Cancels + Successes
//	Calls     == Successes + Failures
//
// and AttemptTime + PauseTime is the total time the calls took (each from
// its start to its return, on its policy's clock, as Error.Elapsed).
// While calls are under way, Attempts - Done attempts and Calls -
// Successes - Failures calls are in flight. An operation that panics (or
// calls runtime.Goexit) ends its attempt and its call without a step, so
// they stay in flight for good.
//
// Each attempt that ends is counted once, by its [Outcome], in Errors,
// Rejected, Cancels or Successes.
type StatsSnapshot struct {
	// Calls is the number of calls begun: calls of Do (or Run, or a
	// function made by Wrap) with a valid policy and a non-nil operation,
	// including those whose context was done before they began, which end
	// at once without an attempt.
	Calls int64

	// Attempts is the number of attempts started, counted as each starts,
	// before the operation is called.
	Attempts int64

	// Done is the number of attempts that ended, whatever their outcome,
	// counted as each ends. An attempt of an operation wrapped in
	// [Abandon] ends when it is abandoned: what the operation does
	// afterwards is not counted.
	Done int64

	// Errors is the number of attempts that failed in a way the policy
	// retries (OutcomeFailed): an error that Policy.RetryIf retries, or
	// the attempt timeout (an error returned after the attempt's time is
	// up, such as an attempt abandoned at its timeout, counts as the
	// timeout). It counts such a failure whether or not a retry follows:
	// the last of Policy.MaxTries attempts, a failure Policy.GiveUp gives
	// up on and one after which no time is left for the pause are all
	// Errors.
	Errors int64

	// Rejected is the number of attempts that failed with an error that
	// Policy.RetryIf does not retry (OutcomeRejected); each ends its call
	// with ErrNotRetryable.
	Rejected int64

	// Cancels is the number of attempts cut short by the call's deadline
	// or by the caller's context (OutcomeCut): the attempt was running
	// when the time of the call ran out or the caller's context was done,
	// and it ended in an error (which only echoes the cut), or was
	// abandoned ([Abandon]). Each ends its call. A deadline that ties the
	// attempt timeout makes a cancel (the deadline wins); an attempt
	// timeout never does (it is an Error); an attempt that was cut and
	// whose operation returns a nil error anyway is a success.
	//
	// A call whose context is done during a pause, or before it began,
	// cuts no attempt, so it is not in Cancels (it is in Failures); nor is
	// the deadline that a pause would have reached (rule 5: the call ends
	// at once, with the failed attempt counted in Errors).
	Cancels int64

	// Successes is the number of calls that returned a value, which is the
	// number of attempts whose operation returned a nil error
	// (OutcomeSucceeded), since each ends its call.
	Successes int64

	// Failures is the number of calls that returned an error (an *Error).
	Failures int64

	// AttemptTime is the total time spent inside attempts: for each
	// attempt, from its start to its end, on the policy's clock. An
	// attempt ends when its operation returns, even after its time is up
	// (cooperative attempts), or when it is abandoned ([Abandon]). It
	// grows when an attempt ends, by the attempt's whole length.
	AttemptTime time.Duration

	// PauseTime is the total time spent pausing between attempts: for
	// each pause, from the end of the failed attempt to the start of the
	// next one, or to the instant the call ended because the caller's
	// context was done during it. It grows when a pause ends, by the
	// pause's whole length.
	PauseTime time.Duration
}

// Begin returns s itself, which counts the steps of every call: it is
// what makes a *Stats an [Observer].
func (s *Stats) Begin(context.Context, Call) CallObserver { return s }

// Observe counts one step of a call. It is what makes a *Stats a
// [CallObserver]; it is not meant to be called otherwise.
func (s *Stats) Observe(e Event, a Action) {
	// Every pair of counters that a snapshot compares is written here in
	// the order a call moves them, and read in Snapshot in the opposite
	// order (see there).
	if e.Kind == EventBegan {
		s.calls.Add(1)
	}
	switch {
	case a.Outcome != OutcomeNone:
		// The step ends an attempt, which began at a.Since: first Done,
		// then its outcome's counter.
		s.attemptTime.Add(int64(e.At - a.Since))
		s.done.Add(1)
		switch a.Outcome {
		case OutcomeFailed:
			s.errors.Add(1)
		case OutcomeRejected:
			s.rejected.Add(1)
		case OutcomeCut:
			s.cancels.Add(1)
		}
	case e.Kind != EventBegan && a.Kind != ActionWait:
		// The step ends no attempt but does something (a stale event is
		// answered by Wait), so it ends the pause that began at a.Since:
		// between two attempts, nothing but a pause is under way. It then
		// starts the next attempt, or finishes a call whose context was
		// done during the pause.
		s.pauseTime.Add(int64(e.At - a.Since))
	}
	switch a.Kind {
	case ActionStart:
		s.attempts.Add(1)
	case ActionFinish:
		if a.Err == nil {
			s.successes.Add(1)
		} else {
			s.failures.Add(1)
		}
	}
}

// Snapshot returns the counters' values.
//
// It reads them one at a time, so while calls are under way it is not the
// picture of one instant; but it reads each counter before those a call
// moves ahead of it, so that every snapshot, even then, has
//
//	Done <= Attempts
//	Errors + Rejected + Cancels + Successes <= Done
//	Successes + Failures <= Calls
//
// (see [StatsSnapshot] for the equalities once the calls have returned).
func (s *Stats) Snapshot() StatsSnapshot {
	var v StatsSnapshot
	// A call moves calls, then attempts, then done, then an outcome's
	// counter, then successes or failures, so they are read backwards:
	// whatever increment of a later counter this sees, it also sees the
	// earlier one that preceded it (atomics are sequentially consistent).
	// (A retry's attempts is moved after the previous attempt's done; all
	// Done <= Attempts needs is that each attempt's done follows its own
	// attempts.)
	v.Failures = s.failures.Load()
	v.Successes = s.successes.Load()
	v.Cancels = s.cancels.Load()
	v.Rejected = s.rejected.Load()
	v.Errors = s.errors.Load()
	v.Done = s.done.Load()
	v.Attempts = s.attempts.Load()
	v.Calls = s.calls.Load()
	v.AttemptTime = time.Duration(s.attemptTime.Load())
	v.PauseTime = time.Duration(s.pauseTime.Load())
	return v
}
