// Package load simulates many calls of backoff.Do under one policy against
// one dependency, in virtual time, to show what retries do to it: how
// many attempts each call makes (what retries multiply the dependency's
// load by) and how many calls succeed, over time, with and without a
// retry budget (backoff.Budget).
//
// Start with [Scenario] (the calls, the dependency and the policy, read
// from JSON by [Parse]) and [Run], which simulates it without its budget
// and with it and returns a [Report]; [Table] and [SVG] show a report.
// [Simulate] runs one simulation and tells every step of every call. Each
// call is the decision core of package backoff ([backoff.Execution]) fed
// the events the executor would report; package sim simulates one call
// the same way.
package load

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/internal/decode"
)

// A Scenario is many calls under one policy against one dependency: calls
// arrive at a steady pace, each attempt takes the same time, and the
// dependency fails every attempt during an outage (Down) and a share of
// the others (FailRate). Its JSON form is what backoffsim load reads;
// durations are Go duration strings, and the policy's fields are named as
// in a sim.Scenario.
//
// Every failure is retryable (the policy's RetryIf is AnyError), so a
// call ends by success, by MaxTries, by its Deadline, or because the
// Budget refused a retry. An attempt cut by its timeout or by the deadline
// returns at once, as a cooperative operation that honours its context
// does.
type Scenario struct {
	Name string `json:"name,omitempty"`
	// Calls is how many calls arrive, the first at 0, then one every
	// Every (0: all at once).
	Calls int          `json:"calls"`
	Every sim.Duration `json:"every,omitempty"`
	// Takes is how long every attempt takes before the dependency
	// answers, with success or failure.
	Takes sim.Duration `json:"takes,omitempty"`
	// Down, if set, is an outage: every attempt that starts in
	// [Down.From, Down.To) fails, as a time since the load began.
	Down *Window `json:"down,omitempty"`
	// FailRate is the chance, 0 to 1, that an attempt outside the outage
	// fails. The draws come from a PCG seeded with Seed and the call's
	// number, one per attempt: attempt k of call i fails or not alike in
	// every run of the load, budget or none.
	FailRate float64 `json:"fail_rate,omitempty"`
	Seed     uint64  `json:"seed,omitempty"`

	// The policy of every call (see backoff.Policy). Jitter is "none"
	// (or left out), "full", "equal" or "decorrelated"; its draws come
	// from a PCG of each call's own, seeded with Seed.
	AttemptTimeout sim.Duration `json:"attempt_timeout,omitempty"`
	Deadline       sim.Duration `json:"deadline,omitempty"`
	Pause          sim.Duration `json:"pause,omitempty"`
	Growth         float64      `json:"growth,omitempty"`
	MaxPause       sim.Duration `json:"max_pause,omitempty"`
	Jitter         string       `json:"jitter,omitempty"`
	MaxTries       int          `json:"max_tries,omitempty"`

	// Budget, if set, gives the numbers of a retry budget the calls share
	// (see backoff.Budget); Run then simulates the load twice, without it
	// and with it.
	Budget *Budget `json:"budget,omitempty"`

	// Bucket is the report's grain: it counts what happened in each
	// Bucket of time, from 0.
	Bucket sim.Duration `json:"bucket"`
}

// A Window is a stretch of time [From, To) since a load began.
type Window struct {
	From sim.Duration `json:"from"`
	To   sim.Duration `json:"to"`
}

// A Budget gives the numbers of a backoff.Budget.
type Budget struct {
	Ratio     float64 `json:"ratio,omitempty"`
	PerSecond float64 `json:"per_second,omitempty"`
	Burst     int     `json:"burst"`
}

// Limits on a load, so that a run stays small: MaxCalls calls, a report of
// at most MaxBuckets buckets, and at most MaxSteps steps of the decision
// core in a run (a call that makes attempts without end at one instant
// stops there, with an error).
const (
	MaxCalls   = 1_000_000
	MaxBuckets = 1_000
	MaxSteps   = 20_000_000
)

// Epoch is when a simulated load begins on the policy's clock: call i
// begins at Epoch + i × Every, which its Began event carries as Start (the
// time a Budget is told).
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Read decodes one load from JSON, refusing unknown fields, anything after
// the load, and anything Validate refuses.
func Read(r io.Reader) (Scenario, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return Scenario{}, fmt.Errorf("load: %w", err)
	}
	return Parse(b)
}

// Parse is Read on a byte slice.
func Parse(b []byte) (Scenario, error) {
	var sc Scenario
	if err := decode.Strict(b, &sc, badDuration); err != nil {
		return Scenario{}, fmt.Errorf("load: %w", err)
	}
	return sc, sc.Validate()
}

// badDuration returns the name of the first duration field of the load b
// that does not parse, or "" if it finds none.
func badDuration(b []byte) string {
	var v struct {
		Every          json.RawMessage `json:"every"`
		Takes          json.RawMessage `json:"takes"`
		AttemptTimeout json.RawMessage `json:"attempt_timeout"`
		Deadline       json.RawMessage `json:"deadline"`
		Pause          json.RawMessage `json:"pause"`
		MaxPause       json.RawMessage `json:"max_pause"`
		Bucket         json.RawMessage `json:"bucket"`
		Down           *struct{ From, To json.RawMessage }
	}
	if json.Unmarshal(b, &v) != nil {
		return ""
	}
	fields := []decode.Field{{Name: "every", Raw: v.Every}, {Name: "takes", Raw: v.Takes},
		{Name: "attempt_timeout", Raw: v.AttemptTimeout}, {Name: "deadline", Raw: v.Deadline}, {Name: "pause", Raw: v.Pause},
		{Name: "max_pause", Raw: v.MaxPause}, {Name: "bucket", Raw: v.Bucket}}
	if v.Down != nil {
		fields = append(fields, decode.Field{Name: "down.from", Raw: v.Down.From}, decode.Field{Name: "down.to", Raw: v.Down.To})
	}
	return decode.FirstBadDuration(fields)
}

// Validate reports what is wrong with sc, naming the field and the value:
// a number out of its range, an unknown jitter, an outage that ends
// before it begins, or calls that could make attempts without end.
func (sc Scenario) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("load: "+format, args...))
	}
	duration := func(name string, d sim.Duration) {
		if d < 0 || d.D() > sim.MaxDuration {
			bad("%s is %v; want 0 to %v", name, d, sim.MaxDuration)
		}
	}
	if sc.Calls < 1 || sc.Calls > MaxCalls {
		bad("calls is %d; want 1 to %d", sc.Calls, MaxCalls)
	}
	duration("every", sc.Every)
	if sc.Calls > 1 && sc.Every > 0 && sc.Every.D() <= sim.MaxDuration && sc.Calls <= MaxCalls &&
		time.Duration(sc.Calls-1)*sc.Every.D() > sim.MaxDuration {
		bad("calls is %d and every is %v: the last call would arrive after %v", sc.Calls, sc.Every, sim.MaxDuration)
	}
	duration("takes", sc.Takes)
	if w := sc.Down; w != nil {
		duration("down.from", w.From)
		duration("down.to", w.To)
		if w.To <= w.From {
			bad("down is from %v to %v; want to after from", w.From, w.To)
		}
	}
	if !(sc.FailRate >= 0 && sc.FailRate <= 1) {
		bad("fail_rate is %v; want 0 to 1", sc.FailRate)
	}
	duration("attempt_timeout", sc.AttemptTimeout)
	duration("deadline", sc.Deadline)
	duration("pause", sc.Pause)
	duration("max_pause", sc.MaxPause)
	if !(sc.Growth == 0 || sc.Growth >= 1 && !math.IsInf(sc.Growth, 1)) {
		bad("growth is %v; want 0 or 1 (constant pauses) or a finite number above 1", sc.Growth)
	}
	if _, ok := decode.Jitter(sc.Jitter); !ok {
		bad("jitter is %q; want none, full, equal or decorrelated", sc.Jitter)
	}
	if sc.MaxTries < 0 {
		bad("max_tries is %d; want 0 (no limit) or more", sc.MaxTries)
	}
	if sc.MaxTries == 0 && sc.Deadline == 0 {
		bad("max_tries and deadline are both 0: a call would retry for as long as the dependency fails")
	}
	if sc.MaxTries == 0 && sc.Takes == 0 && sc.Pause == 0 {
		bad("max_tries, takes and pause are 0: a failing call would make attempts without end at one instant")
	}
	if b := sc.Budget; b != nil {
		rate := func(name string, v float64) {
			if !(v >= 0 && !math.IsInf(v, 1)) {
				bad("budget.%s is %v; want a finite number, 0 or more", name, v)
			}
		}
		rate("ratio", b.Ratio)
		rate("per_second", b.PerSecond)
		if b.Burst < 1 || b.Burst > 1<<30 {
			bad("budget.burst is %d; want 1 to %d: a retry spends a whole token", b.Burst, 1<<30)
		}
	}
	switch {
	case sc.Bucket <= 0 || sc.Bucket.D() > sim.MaxDuration:
		bad("bucket is %v; want more than 0, up to %v: the report counts what happens in each bucket of time", sc.Bucket, sim.MaxDuration)
	case sc.Calls > 1 && sc.Calls <= MaxCalls && sc.Every > 0 && sc.Every.D() <= sim.MaxDuration:
		if n := time.Duration(sc.Calls-1) * sc.Every.D() / sc.Bucket.D(); n >= MaxBuckets {
			bad("bucket is %v and the calls arrive over %v: more than %d buckets", sc.Bucket,
				time.Duration(sc.Calls-1)*sc.Every.D(), MaxBuckets)
		}
	}
	if len(errs) == 0 {
		if err := sc.Policy().Validate(); err != nil { // a backstop: the checks above cover the policy
			bad("%v", err)
		}
	}
	return errors.Join(errs...)
}

// Policy returns the policy sc's calls run under: its numbers, RetryIf
// AnyError, and, if sc has a budget, a new backoff.Budget with its numbers
// (a new one at each call of Policy: the calls of one run share one).
func (sc Scenario) Policy() backoff.Policy {
	jitter, _ := decode.Jitter(sc.Jitter)
	p := backoff.Policy{
		AttemptTimeout: sc.AttemptTimeout.D(),
		Deadline:       sc.Deadline.D(),
		Pause:          sc.Pause.D(),
		Growth:         sc.Growth,
		MaxPause:       sc.MaxPause.D(),
		Jitter:         jitter,
		MaxTries:       sc.MaxTries,
		RetryIf:        backoff.AnyError,
	}
	if b := sc.Budget; b != nil {
		p.Budget = &backoff.Budget{Ratio: b.Ratio, PerSecond: b.PerSecond, Burst: b.Burst}
	}
	return p
}
