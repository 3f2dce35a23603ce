package backoffriver

import (
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
// numbers and a script of the job's attempts read off its steps by
// sim.ScenarioOf (how long each took, what the core made of it, the
// random number its jitter drew, how late River started the retry after
// it); then the job's steps (see Steps), marked as recorded, so that a
// replay compares them but for the texts of the errors. The replay is
// identical whatever the clock: a retry that a worker fetched after its
// pause ended is a pause that ended late.
//
// It refuses, with the reason, a call whose times a scenario cannot hold
// (longer than sim.MaxDuration).
func WriteTrace(w io.Writer, p backoff.Policy, job *rivertype.JobRow) error {
	steps, err := Steps(p, job)
	if err != nil {
		return err
	}
	sc, err := sim.ScenarioOf(p, steps)
	if err != nil {
		return fmt.Errorf("backoffriver: job %d: its call does not fit a scenario: %w", job.ID, err)
	}
	sc.Name = fmt.Sprintf("River job %d (%s)", job.ID, job.Kind)
	t := sim.Trace{Scenario: sc, Recorded: true}
	for _, s := range steps {
		t.Lines = append(t.Lines, sim.LineOf(s))
	}
	return t.Write(w)
}
