package backoffriver

import (
	"errors"
	"fmt"
	"io"

	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// Steps returns the steps of job's call under p, the policy it ran under:
// its recorded events told again to the decision core, with the core's
// answers, as an Observer of backoff.Do would have seen them. Times are
// since the job's first attempt began. A job still running or waiting to
// be retried ends with the core's last answer (a pause, or the start of
// the attempt under way).
func Steps(p backoff.Policy, job *rivertype.JobRow) ([]sim.Step, error) {
	if err := check(p); err != nil {
		return nil, err
	}
	rec, err := recordIn(job)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("backoffriver: job %d keeps no record of its attempts (metadata[%q]): no attempt of it has ended under a Worker", job.ID, MetadataKey)
	}
	c, err := replay(p, rec, job.ID)
	if err != nil {
		return nil, err
	}
	return c.steps, nil
}

// WriteTrace writes job's call under p as a trace (see package sim) that
// `backoffsim replay` re-simulates: a header whose scenario holds p's
// numbers, a script of the job's attempts (how long each took, and what
// the core made of it), and, with a Jitter, the job's ID as the seed
// (each job draws its jitter from sim's PCG seeded with its ID, as the
// simulator does); then the job's steps (see Steps), marked as recorded,
// so that a replay compares them but for the texts of the errors.
//
// The replay is identical when each retry of the job started when its
// pause ended, as it does under a clock a test sets. On a real clock River
// starts a retry somewhat after its pause ends (when a worker fetches it),
// which a scenario cannot yet hold: the replay then shows the first such
// retry as the first difference.
//
// It refuses, with the reason, a call that a Budget ended (a scenario is
// one call) and one whose times a scenario cannot hold (longer than
// sim.MaxDuration).
func WriteTrace(w io.Writer, p backoff.Policy, job *rivertype.JobRow) error {
	steps, err := Steps(p, job)
	if err != nil {
		return err
	}
	sc, err := scenarioOf(p, job, steps)
	if err != nil {
		return err
	}
	t := sim.Trace{Scenario: sc, Recorded: true}
	for _, s := range steps {
		t.Lines = append(t.Lines, sim.LineOf(s))
	}
	return t.Write(w)
}

// scenarioOf returns the scenario of job's call under p, read off its
// steps: how the core classified each attempt's end gives the attempt's
// kind, an attempt its cut ended becomes one that hangs (and returns as
// late as it did), and a retried error carries the delay hint the record
// kept.
func scenarioOf(p backoff.Policy, job *rivertype.JobRow, steps []sim.Step) (sim.Scenario, error) {
	sc := sim.Scenario{
		Name:           fmt.Sprintf("River job %d (%s)", job.ID, job.Kind),
		AttemptTimeout: sim.Duration(p.AttemptTimeout), Deadline: sim.Duration(p.Deadline),
		Pause: sim.Duration(p.Pause), Growth: p.Growth, MaxPause: sim.Duration(p.MaxPause),
		MaxTries: p.MaxTries,
	}
	if p.Jitter != backoff.NoJitter {
		sc.Jitter, sc.Seed = p.Jitter.String(), uint64(job.ID)
	}
	if sc.Pause == 0 && p.Jitter != backoff.DecorrelatedJitter {
		// Every pause is 0 (or a hint): the fields that shape one mean
		// nothing, and a scenario refuses them.
		sc.Growth, sc.MaxPause, sc.Jitter, sc.Seed = 0, 0, "", 0
	}
	var start backoff.Action // the start of the attempt under way
	var startAt sim.Duration
	for _, s := range steps {
		e, a := s.Event, s.Action
		if errors.Is(a.Err, backoff.ErrBudgetExhausted) {
			return sim.Scenario{}, fmt.Errorf("backoffriver: job %d: the policy's Budget ended the call: a scenario is one call, and cannot hold what the calls sharing the budget did", job.ID)
		}
		if e.Kind == backoff.EventEnded {
			sc.Attempts = append(sc.Attempts, attemptOf(start, startAt, s))
		}
		if a.Kind == backoff.ActionStart {
			start, startAt = a, sim.Duration(e.At)
		}
	}
	if len(sc.Attempts) == 0 {
		sc.Attempts = []sim.Attempt{{Outcome: sim.OK}} // none ended: any script will do
	}
	if sc.Growth > 1 && sc.MaxPause == 0 && sc.Deadline == 0 && sc.MaxTries == 0 {
		// A scenario bounds pauses that grow; one more try than the job
		// made changes none of its steps.
		sc.MaxTries = len(sc.Attempts) + 1
	}
	if err := sc.Validate(); err != nil {
		return sim.Scenario{}, fmt.Errorf("backoffriver: job %d: its call does not fit a scenario: %w", job.ID, err)
	}
	return sc, nil
}

// attemptOf returns the script of the attempt that start began at
// startAt and that the step end ended.
func attemptOf(start backoff.Action, startAt sim.Duration, end sim.Step) sim.Attempt {
	e, a := end.Event, end.Action
	takes := sim.Duration(e.At) - startAt
	if start.Cut != nil && e.At >= start.Until && a.Outcome != backoff.OutcomeSucceeded {
		// Cut by its time limit: it hung, and returned when it did.
		if late := e.At - start.Until; late > 0 {
			return sim.Attempt{Outcome: sim.Hang, OnCancel: sim.Late, Late: sim.Duration(late)}
		}
		return sim.Attempt{Outcome: sim.Hang}
	}
	switch a.Outcome {
	case backoff.OutcomeSucceeded:
		if start.Cut != nil && e.At > start.Until {
			// A success after its cut (rule 1): it went on past it.
			return sim.Attempt{Takes: takes, Outcome: sim.OK, OnCancel: sim.Ignore}
		}
		return sim.Attempt{Takes: takes, Outcome: sim.OK}
	case backoff.OutcomeRejected:
		return sim.Attempt{Takes: takes, Outcome: sim.NotRetryable}
	}
	att := sim.Attempt{Takes: takes, Outcome: sim.Retryable, RetryAfter: sim.Duration(hintOf(e.Err))}
	if a.Kind == backoff.ActionFinish && errors.Is(a.Err, backoff.ErrGaveUp) {
		att.Outcome = sim.GiveUp
	}
	return att
}
