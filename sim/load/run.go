package load

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// Run simulates sc, after checking it with Validate: once without its
// budget, and, if it has one, once with it. See Simulate.
func Run(sc Scenario) (*Report, error) {
	r := &Report{Scenario: sc}
	without := sc
	without.Budget = nil
	runs := []Scenario{without}
	if sc.Budget != nil {
		runs = append(runs, sc)
	}
	for _, v := range runs {
		res, err := Simulate(v, nil)
		if err != nil {
			return nil, err
		}
		r.Runs = append(r.Runs, res)
	}
	return r, nil
}

// Simulate simulates one run of sc (with its budget, if it has one),
// after checking it with Validate, and tells observe (if not nil) every
// step of every call as it happens.
//
// It is one discrete-event simulation in virtual time: each call is a
// backoff.Execution fed the events the executor would report (an
// attempt's end, with a random number for the jitter; a pause's end),
// and the events of all calls wait in one queue, by (time, sequence): at
// one instant, the one scheduled first goes first. No clock is read,
// nothing runs concurrently, and the same load gives the same run, byte
// for byte. It costs under a microsecond per attempt (Run takes some 20ms
// for both runs of 10,000 calls through an outage, 28,000 attempts), and
// memory for the calls running at once and the report's buckets.
func Simulate(sc Scenario, observe func(Step)) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	p := sc.Policy()
	idle, err := backoff.NewExecution(p) // the state of a call not begun: each call starts from a copy
	if err != nil {
		return nil, err
	}
	s := &simulation{sc: &sc, idle: *idle, jitter: p.Jitter != backoff.NoJitter, observe: observe,
		res: &Result{WithBudget: sc.Budget != nil}}
	if sc.Down != nil {
		add := func(name string, from, to time.Duration) {
			if from < to {
				s.res.Phases = append(s.res.Phases, Phase{Name: name, From: from, To: to})
			}
		}
		add("before the outage", 0, sc.Down.From.D())
		add("during the outage", sc.Down.From.D(), sc.Down.To.D())
		add("after the outage", sc.Down.To.D(), Forever)
	}
	if err := s.simulate(); err != nil {
		return nil, err
	}
	return s.res, nil
}

// simulation is one run of a load.
type simulation struct {
	sc      *Scenario
	idle    backoff.Execution
	jitter  bool // the policy has a Jitter: each attempt's end carries a random number
	observe func(Step)
	res     *Result
	q       queue[event]
	calls   []call  // the calls running, by slot
	free    []int32 // slots of calls that ended
	steps   int
}

// call is a call running.
type call struct {
	n       int // its number, from 0
	arrival time.Duration
	x       backoff.Execution
	fails   rand.PCG // decides which attempts fail
	jitter  rand.PCG // the Rand of its events
}

// event is a scheduled event of a call (slot >= 0), or the arrival of
// call n (slot < 0).
type event struct {
	at   time.Duration // since the load began
	slot int32
	n    int
	e    backoff.Event
}

// schedule schedules ev, unless it falls after the last bucket a report
// can have: then the run stops there, with an error.
func (s *simulation) schedule(ev event) error {
	if ev.at >= s.horizon() {
		return fmt.Errorf("load: bucket is %v, and the run goes on past %v: more than %d buckets",
			s.sc.Bucket, s.horizon(), MaxBuckets)
	}
	s.q.push(ev.at, ev)
	return nil
}

func (s *simulation) simulate() error {
	if err := s.schedule(event{slot: -1}); err != nil {
		return err
	}
	for s.q.len() > 0 {
		_, ev := s.q.pop()
		now := ev.at
		if ev.slot < 0 { // call ev.n arrives
			if next := ev.n + 1; next < s.sc.Calls {
				if err := s.schedule(event{at: time.Duration(next) * s.sc.Every.D(), slot: -1, n: next}); err != nil {
					return err
				}
			}
			ev.slot = s.begin(ev.n, now)
			s.count(now, Counts{Calls: 1})
			ev.e = backoff.Event{Kind: backoff.EventBegan, Start: Epoch.Add(now)}
		}
		if s.steps++; s.steps > MaxSteps {
			return fmt.Errorf("load: a runaway: more than %d steps by %v; calls make attempts without end", MaxSteps, now)
		}
		c := &s.calls[ev.slot]
		a := c.x.Step(ev.e)
		if s.observe != nil {
			s.observe(Step{Call: c.n, Arrival: c.arrival, Step: sim.Step{Event: ev.e, Action: a}})
		}
		if a.Outcome == backoff.OutcomeFailed && (a.Kind == backoff.ActionPause || a.Kind == backoff.ActionStart) {
			s.count(now, Counts{Retries: 1})
		}
		switch a.Kind {
		case backoff.ActionStart:
			s.count(now, Counts{Attempts: 1})
			if err := s.attempt(ev.slot, c, now, a); err != nil {
				return err
			}
		case backoff.ActionPause:
			if err := s.schedule(event{at: s.after(c.arrival, a.Until), slot: ev.slot,
				e: backoff.Event{Kind: backoff.EventFired, At: a.Until, Attempt: a.Attempt}}); err != nil {
				return err
			}
		case backoff.ActionFinish:
			var end Counts
			var be *backoff.Error
			switch {
			case a.Err == nil:
				end.Succeeded = 1
			case !errors.As(a.Err, &be):
				return fmt.Errorf("load: call %d ended with %v", c.n, a.Err)
			case be.Reason == backoff.ErrMaxTries:
				end.MaxTriesReached = 1
			case be.Reason == backoff.ErrDeadline:
				end.DeadlineExceeded = 1
			case be.Reason == backoff.ErrBudgetExhausted:
				end.BudgetExhausted = 1
			default:
				return fmt.Errorf("load: call %d ended with %v, which a load cannot", c.n, a.Err)
			}
			s.count(now, end)
			s.res.End = now
			s.free = append(s.free, ev.slot)
		default:
			// The simulator reports only what the executor would, and the
			// core answers Wait to nothing the executor reports.
			return fmt.Errorf("load: the decision core answered %v to %v of call %d", a.Kind, ev.e.Kind, c.n)
		}
	}
	return nil
}

// horizon is the end of the last bucket a report can have.
func (s *simulation) horizon() time.Duration { return time.Duration(MaxBuckets) * s.sc.Bucket.D() }

// after returns arrival+d, or the horizon if that is later (d may be as
// large as a time.Duration goes: a pause grown without bound).
func (s *simulation) after(arrival, d time.Duration) time.Duration {
	if h := s.horizon(); d >= h-arrival {
		return h
	}
	return arrival + d
}

// begin sets up call n, arriving at now, in a free slot, and returns it.
func (s *simulation) begin(n int, now time.Duration) int32 {
	var slot int32
	if k := len(s.free); k > 0 {
		slot, s.free = s.free[k-1], s.free[:k-1]
	} else {
		s.calls = append(s.calls, call{})
		slot = int32(len(s.calls) - 1)
	}
	c := &s.calls[slot]
	c.n, c.arrival, c.x = n, now, s.idle
	c.fails.Seed(s.sc.Seed, 2*uint64(n))
	c.jitter.Seed(s.sc.Seed, 2*uint64(n)+1)
	return slot
}

// attempt schedules the end of the attempt a starts, at now, for call c
// in slot: the dependency's answer after Takes, or the cut, whichever is
// first (at a tie, the answer: as the simulator of one call does).
func (s *simulation) attempt(slot int32, c *call, now time.Duration, a backoff.Action) error {
	var err error
	if r := s.sc.FailRate; r > 0 && r < 1 {
		// One draw per attempt, used or not, so that attempt k of call n
		// draws the same number in every run.
		if float64(c.fails.Uint64()>>11)/(1<<53) < r {
			err = sim.ErrRetryable
		}
	} else if r == 1 {
		err = sim.ErrRetryable
	}
	if d := s.sc.Down; d != nil && now >= d.From.D() && now < d.To.D() {
		err = sim.ErrRetryable
	}
	at := now + s.sc.Takes.D()
	if local := at - c.arrival; a.Cut != nil && a.Until < local {
		at, err = c.arrival+a.Until, context.DeadlineExceeded
	}
	e := backoff.Event{Kind: backoff.EventEnded, At: at - c.arrival, Attempt: a.Attempt, Err: err}
	if s.jitter {
		e.Rand = c.jitter.Uint64()
	}
	return s.schedule(event{at: at, slot: slot, e: e})
}

// count adds d to the counts of the instant t: its bucket, the total, and
// its phase.
func (s *simulation) count(t time.Duration, d Counts) {
	r := s.res
	i := int(t / s.sc.Bucket.D()) // below MaxBuckets: see schedule
	for len(r.Buckets) <= i {
		r.Buckets = append(r.Buckets, Bucket{From: time.Duration(len(r.Buckets)) * s.sc.Bucket.D()})
	}
	r.Buckets[i].add(d)
	r.Total.add(d)
	for k := range r.Phases {
		if ph := &r.Phases[k]; t >= ph.From && t < ph.To {
			ph.add(d)
		}
	}
}
