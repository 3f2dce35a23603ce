package backoffriver

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/riverqueue/river/rivertype"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// What a job keeps of its call, and how the decision core is rebuilt from
// it. River keeps a job's attempt number and the texts of its errors; the
// error values, and so what the policy's RetryIf and GiveUp said of them,
// die with the process that ran the attempt. So at the end of each
// attempt the worker writes to the job's metadata, under MetadataKey, the
// call's start and, for each attempt, when it started and ended and what
// the core read off its error: RetryIf's and GiveUp's answers and the
// delay hint. Whichever process runs the next attempt replays those
// events through a new Execution, each error replaced by a stand-in that
// gives the same answers, and so reaches the very state the core was in.

// MetadataKey is the key of a job's metadata under which the worker keeps
// the job's record.
const MetadataKey = "backoff"

// maxErrText bounds the text of an error kept in a record (River keeps
// each error's whole text in the job's errors).
const maxErrText = 256

// A record is what a job keeps of its call, in its metadata.
type record struct {
	// Start is when the call began: the start of the job's first attempt,
	// on the worker's clock.
	Start time.Time `json:"start"`
	// Base is the attempts River counted before the call began: 0, or,
	// for a job run again after its call ended (River's JobRetry), the
	// attempts of the calls before. The call's attempt n is River's
	// Base+n.
	Base int `json:"base,omitempty"`
	// Attempts are the attempts that ended, in order.
	Attempts []attempt `json:"attempts"`

	loaded bool // read from the job, which an earlier attempt wrote
}

// An attempt is one attempt of a record: its events, as the core was told
// them, and the core's questions about its error, with their answers.
type attempt struct {
	N     int      `json:"n"`
	Start duration `json:"start"` // since the call began
	End   duration `json:"end"`
	OK    bool     `json:"ok,omitempty"`  // returned a nil error
	Err   string   `json:"err,omitempty"` // its error's text, cut to maxErrText bytes
	// Retry and GiveUp are what the policy's RetryIf and GiveUp said of
	// the error, if they were asked (false if not); Hint is the delay hint
	// it carried.
	Retry  bool     `json:"retry,omitempty"`
	GiveUp bool     `json:"give_up,omitempty"`
	Hint   duration `json:"hint,omitempty"`
	// Refused says the Budget of the process that ran the attempt refused
	// the retry after it, which ended the call. (A replay leaves the
	// Budget alone, so it is told the refusal rather than the Budget.)
	Refused bool `json:"refused,omitempty"`
	// Lost says the attempt did not end in its worker: River counted it
	// (its process died, and River's rescuer failed it, or River failed it
	// before the worker ran), but nobody recorded it. It counts as a
	// failure with ErrAttemptLost.
	Lost bool `json:"lost,omitempty"`
}

// A duration is a time.Duration written as a Go duration string, exact to
// the nanosecond.
type duration time.Duration

func (d duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration is a string such as \"1.5s\", not %s", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = duration(v)
	return nil
}

// readRecord returns the record job keeps, with the attempts River
// counted but nobody recorded added as lost ones. A job that keeps none
// began at now, or at its first error if River failed it before.
func readRecord(job *rivertype.JobRow, now time.Time) (*record, error) {
	rec, err := recordIn(job)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		rec = &record{Start: now.Round(0)}
		for _, e := range job.Errors {
			if e.At.Before(rec.Start) {
				rec.Start = e.At.Round(0)
			}
		}
	}
	if n := len(rec.Attempts); n > 0 && rec.Attempts[n-1].N != n {
		return nil, fmt.Errorf("backoffriver: job %d: its record's attempt %d is numbered %d", job.ID, n, rec.Attempts[n-1].N)
	}
	if rec.Base+len(rec.Attempts) >= job.Attempt {
		return nil, fmt.Errorf("backoffriver: job %d is at attempt %d, but its record holds %d attempts after %d", job.ID, job.Attempt, len(rec.Attempts), rec.Base)
	}
	// River counted attempts 1 to job.Attempt-1: those the record lacks
	// were lost. Each ended when River failed it (its error's At), or, if
	// River kept no error of it, when the previous one did.
	for k := rec.Base + len(rec.Attempts) + 1; k < job.Attempt; k++ {
		var end time.Duration
		if n := len(rec.Attempts); n > 0 {
			end = rec.Attempts[n-1].End.d()
		}
		for _, e := range job.Errors {
			if e.Attempt == k {
				end = max(end, e.At.Sub(rec.Start))
			}
		}
		rec.Attempts = append(rec.Attempts, attempt{N: k - rec.Base, Start: duration(end), End: duration(end), Err: ErrAttemptLost.Error(), Lost: true})
	}
	return rec, nil
}

// recordIn returns the record job keeps in its metadata, nil if none.
func recordIn(job *rivertype.JobRow) (*record, error) {
	var m struct {
		Record *record `json:"backoff"`
	}
	if len(job.Metadata) > 0 {
		if err := json.Unmarshal(job.Metadata, &m); err != nil {
			return nil, fmt.Errorf("backoffriver: job %d: metadata[%q] is not a record of its attempts: %w", job.ID, MetadataKey, err)
		}
	}
	if m.Record != nil {
		m.Record.loaded = true
	}
	return m.Record, nil
}

func (d duration) d() time.Duration { return time.Duration(d) }

// A call is the decision core of one job, rebuilt from its record, with
// every step it took.
type call struct {
	rec   *record
	x     *backoff.Execution
	a     backoff.Action // the core's latest answer
	steps []sim.Step
	rng   *rand.PCG
	whole bool // every recorded attempt was told (none left out)
	// what the policy's RetryIf and GiveUp said of the live attempt's error
	retry, giveUp bool
}

// replay rebuilds the decision core of job from its record, under p: the
// core is told every recorded event again (Replayed), each error replaced
// by a stand-in that answers RetryIf and GiveUp as they answered then,
// and carries the delay hint it carried, so it decides as it did then.
// What it decides after the record is on c.a. If the core ends the call
// before the record does (the policy changed since), c.a says so and the
// rest of the record is left out.
func replay(p backoff.Policy, rec *record, jobID int64) (*call, error) {
	c := &call{rec: rec, rng: rand.NewPCG(uint64(jobID), sim.SeedStream)}
	for range rec.Base { // River's attempt k draws the job's k-th number
		c.rng.Uint64()
	}
	q := p
	// The stand-ins replace only what the policy has, so that q passes
	// Validate as p did; but a lost attempt is always retried, through
	// RetryIf, even under a policy that has none.
	lost := slices.ContainsFunc(rec.Attempts, func(at attempt) bool { return at.Lost })
	if p.RetryIf != nil || lost {
		q.RetryIf = c.retryIf(p.RetryIf)
		if p.RetryIf == nil && q.Validate() != nil {
			// A policy that retries only attempt timeouts, with nothing to
			// bound them, now retries a lost attempt too: bound the tries
			// by a number no job reaches, so that Validate accepts it.
			q.MaxTries = math.MaxInt32
		}
	}
	if p.GiveUp != nil {
		q.GiveUp = c.giveUpIf(p.GiveUp)
	}
	x, err := backoff.NewExecution(q)
	if err != nil {
		return nil, err
	}
	c.x = x
	c.step(backoff.Event{Kind: backoff.EventBegan, Start: rec.Start, Replayed: rec.loaded})
	for i, at := range rec.Attempts {
		if c.a.Kind == backoff.ActionPause {
			c.step(backoff.Event{Kind: backoff.EventFired, At: at.Start.d(), Attempt: c.a.Attempt, Replayed: true})
		}
		if c.a.Kind != backoff.ActionStart || c.a.Attempt != at.N {
			rec.Attempts = rec.Attempts[:i]
			return c, nil
		}
		if at.Lost { // always retried; GiveUp is asked of ErrAttemptLost
			at.Retry, at.GiveUp, at.Hint = true, p.GiveUp != nil && p.GiveUp(ErrAttemptLost), 0
			rec.Attempts[i] = at
		}
		var err error
		if !at.OK {
			err = &recorded{at.Err, at.Retry, at.GiveUp, at.Hint.d(), at.Lost}
		}
		// Attempt k draws the job's k-th number, jitter or not, so that
		// the numbers stay the job's if the policy gains a jitter; the
		// event carries it only with one, as the executor's do.
		r := c.rng.Uint64()
		if p.Jitter == backoff.NoJitter {
			r = 0
		}
		a := c.step(backoff.Event{Kind: backoff.EventEnded, At: at.End.d(), Attempt: at.N, Err: err, Rand: r, Replayed: true})
		if at.Refused && a.Kind != backoff.ActionFinish {
			// The Budget refused the retry the core chose: the call ended
			// there, as the core ended it (see backoff.ErrBudgetExhausted).
			c.a = backoff.Action{Kind: backoff.ActionFinish, Outcome: a.Outcome,
				Err: &backoff.Error{Reason: backoff.ErrBudgetExhausted, Last: err, Attempts: at.N, Elapsed: at.End.d()}}
			c.steps[len(c.steps)-1].Action = c.a
		}
	}
	c.whole = true
	return c, nil
}

// step tells the core e and keeps the step.
func (c *call) step(e backoff.Event) backoff.Action {
	c.a = c.x.Step(e)
	c.steps = append(c.steps, sim.Step{Event: e, Action: c.a})
	return c.a
}

// retryIf asks f of a live error, and keeps its answer; a stand-in
// answers as RetryIf did when the error was live.
func (c *call) retryIf(f func(error) bool) func(error) bool {
	return func(err error) bool {
		if r, ok := err.(*recorded); ok {
			return r.retry
		}
		c.retry = f != nil && f(err)
		return c.retry
	}
}

// giveUpIf is retryIf for GiveUp.
func (c *call) giveUpIf(f func(error) bool) func(error) bool {
	return func(err error) bool {
		if r, ok := err.(*recorded); ok {
			return r.giveUp
		}
		c.giveUp = f != nil && f(err)
		return c.giveUp
	}
}

// recorded stands in for the error of a recorded attempt: it reads as the
// error did, and gives the core the answers the error gave.
type recorded struct {
	text          string
	retry, giveUp bool
	hint          time.Duration
	lost          bool
}

func (e *recorded) Error() string             { return e.text }
func (e *recorded) RetryAfter() time.Duration { return e.hint }

// Unwrap returns ErrAttemptLost for a lost attempt.
func (e *recorded) Unwrap() error {
	if e.lost {
		return ErrAttemptLost
	}
	return nil
}

// hintOf returns the delay hint err carries, as package backoff reads it:
// the RetryAfter of the first error in its tree that has such a method,
// 0 if none or a negative one.
func hintOf(err error) time.Duration {
	var h interface {
		error
		RetryAfter() time.Duration
	}
	if errors.As(err, &h) {
		return max(h.RetryAfter(), 0)
	}
	return 0
}

// errText returns err's text, cut to maxErrText bytes.
func errText(err error) string {
	s := err.Error()
	if len(s) > maxErrText {
		s = s[:maxErrText] + "…"
	}
	return s
}
