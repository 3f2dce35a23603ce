package load

import (
	"math"
	"time"

	"github.com/timebound/backoff/sim"
)

// A Report is what a load did: one run without its budget, and, if it has
// one, a run with it, side by side.
type Report struct {
	Scenario Scenario
	// Runs are the run without the budget, then (if the load has one)
	// the run with it.
	Runs []*Result
}

// A Result is what one run of a load did, counted by time: each thing is
// counted in the bucket of the instant it happened (a call when it began,
// an attempt when it started, a retry when it was decided, an end when
// the call ended).
type Result struct {
	// WithBudget says whether the calls shared the load's budget.
	WithBudget bool
	// End is when the last call ended, since the load began.
	End time.Duration
	// Buckets are the counts of each Scenario.Bucket of time, from 0 to
	// End.
	Buckets []Bucket
	// Total counts the whole run.
	Total Counts
	// Phases count the run before, during and after the load's outage
	// (only those that are not empty; none without an outage).
	Phases []Phase
}

// A Bucket is the counts of the bucket of time that begins at From.
type Bucket struct {
	From time.Duration
	Counts
}

// A Phase is the counts of the stretch of time [From, To); To is Forever
// for the phase that lasts to the end of the run.
type Phase struct {
	Name     string
	From, To time.Duration
	Counts
}

// Forever stands for a time after everything.
const Forever = time.Duration(math.MaxInt64)

// Counts count what happened in a stretch of time.
type Counts struct {
	// Calls is the calls that began; Attempts the attempts that started
	// (the load the dependency sees); Retries the retries decided (a
	// failed attempt that the call goes on from: what a budget spends a
	// token on).
	Calls, Attempts, Retries int
	// Succeeded is the calls that ended with a success; the others are
	// the calls that ended with a failure, by its Reason: ErrMaxTries,
	// ErrDeadline, ErrBudgetExhausted.
	Succeeded, MaxTriesReached, DeadlineExceeded, BudgetExhausted int
}

// Failed is the calls that ended with a failure.
func (c Counts) Failed() int { return c.MaxTriesReached + c.DeadlineExceeded + c.BudgetExhausted }

// Ended is the calls that ended.
func (c Counts) Ended() int { return c.Succeeded + c.Failed() }

// Amplification is the attempts per call begun: what retries multiply
// the load by (0 if no call began).
func (c Counts) Amplification() float64 {
	if c.Calls == 0 {
		return 0
	}
	return float64(c.Attempts) / float64(c.Calls)
}

// SuccessRate is the share of the calls that ended that succeeded (0 if
// none ended).
func (c Counts) SuccessRate() float64 {
	if c.Ended() == 0 {
		return 0
	}
	return float64(c.Succeeded) / float64(c.Ended())
}

func (c *Counts) add(d Counts) {
	c.Calls += d.Calls
	c.Attempts += d.Attempts
	c.Retries += d.Retries
	c.Succeeded += d.Succeeded
	c.MaxTriesReached += d.MaxTriesReached
	c.DeadlineExceeded += d.DeadlineExceeded
	c.BudgetExhausted += d.BudgetExhausted
}

// A Step is one step of one call of a load, as Simulate's observer is
// told it: the call's number (from 0), when it began (since the load
// began; its events' At are since then, as for any call), and the step.
type Step struct {
	Call    int
	Arrival time.Duration
	sim.Step
}

// At is when the step happened, since the load began.
func (s Step) At() time.Duration { return s.Arrival + s.Event.At }
