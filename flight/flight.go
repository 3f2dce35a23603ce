// Package flight is a flight recorder for the calls of backoff.Do in a
// service: an Observer that keeps the traces of the last calls that failed
// (and, if asked, of calls slower than a threshold), in bounded memory, and
// hands them out as trace files that backoffsim replays, and over HTTP.
//
// Give a Recorder to the policies whose calls it should watch, and mount it
// on a debug mux, as net/http/pprof is:
//
//	rec, err := flight.NewRecorder(flight.Options{Calls: 50, Redact: redact})
//	...
//	p := backoff.Policy{..., Observer: rec}
//	mux.Handle("/debug/backoff/", http.StripPrefix("/debug/backoff", rec))
//
// Then /debug/backoff/ lists the calls it keeps (when, reason, attempts,
// elapsed), and each is served as its trace (ID.jsonl, for `backoffsim
// replay`), its timeline (ID.txt) and its picture (ID.svg). A call's ID is
// its backoff.Call.ID, which a backoff.Logger logs with each record
// (call=ID), so a failure seen in the logs can be fetched by it.
//
// A trace carries the text of every error the call saw, which can hold
// secrets (a URL with a token, an account number): give the Recorder a
// Redact function, and mount the handler only where a service's debug
// endpoints go. The Recorder serves nothing unless it is mounted.
package flight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// Options say what a Recorder keeps. The zero Options keep the last 50
// calls that failed, with their error texts as they are.
type Options struct {
	// Calls is how many calls the Recorder keeps: the most recent ones it
	// chose to keep. Zero: 50.
	Calls int

	// Slow, if positive, makes the Recorder keep a call that succeeded
	// too, if it took at least this long (on its policy's clock). Zero:
	// only calls that failed are kept.
	Slow time.Duration

	// MaxSteps bounds the steps recorded of one call (two or so per
	// attempt); a call with more is kept without its later steps, marked
	// truncated, and cannot be replayed. Zero: 1000.
	MaxSteps int

	// Redact, if not nil, is applied to the text of every error a kept
	// call saw (what attempts returned, the caller's cause, the call's
	// reason and last error) before it is kept; the text it returns is
	// what the traces and the list show. Nil: the texts are kept as they
	// are. It must be safe for concurrent use.
	Redact func(string) string
}

// A Recorder is a backoff.Observer that keeps the traces of recent calls
// (see [Options]) for a service to hand out when something went wrong:
// Calls returns them, and it serves them over HTTP (see ServeHTTP).
//
// A Recorder is safe for concurrent use by any number of calls sharing one
// policy, or several. What it costs a call: a buffer for its steps, taken
// from a pool when the call begins and given back when it ends, so a call
// it does not keep allocates nothing once the pool is warm; a call it keeps
// (a failure) is turned into a trace then, which costs about what a
// simulation of it does. BENCHMARKS.md has the numbers.
type Recorder struct {
	o    Options
	pool sync.Pool // of *callRecord

	mu    sync.Mutex
	kept  []*Call // a ring of the kept calls: next is the oldest once full
	next  int
	count int // calls kept so far, all told
}

// NewRecorder returns a Recorder that keeps what o says, or an error
// naming a field of o that is out of range.
func NewRecorder(o Options) (*Recorder, error) {
	var errs []error
	if o.Calls < 0 {
		errs = append(errs, fmt.Errorf("flight: Options.Calls is %d; want 1 or more (0: 50)", o.Calls))
	}
	if o.Slow < 0 {
		errs = append(errs, fmt.Errorf("flight: Options.Slow is %v; want 0 (failures only) or more", o.Slow))
	}
	if o.MaxSteps < 0 {
		errs = append(errs, fmt.Errorf("flight: Options.MaxSteps is %d; want 2 or more (0: 1000)", o.MaxSteps))
	} else if o.MaxSteps == 1 {
		errs = append(errs, errors.New("flight: Options.MaxSteps is 1; want 2 or more (0: 1000): a call has at least two steps"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Calls == 0 {
		o.Calls = 50
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = 1000
	}
	r := &Recorder{o: o, kept: make([]*Call, o.Calls)}
	r.pool.New = func() any { return &callRecord{r: r} }
	return r, nil
}

// A Call is a call the Recorder kept.
type Call struct {
	// ID is the call's number (backoff.Call.ID).
	ID uint64
	// When is when the call began, on its policy's clock.
	When time.Time
	// Failed says the call returned an error; else it was kept for being
	// slow (Options.Slow).
	Failed bool
	// Reason is the text of the call's Reason, redacted ("" on success).
	Reason string
	// Attempts is the number of attempts the call made.
	Attempts int
	// Elapsed is the call's time, on its policy's clock.
	Elapsed time.Duration
	// Trace is the call's trace: the scenario read off its steps in its
	// header, then its steps with their texts redacted.
	Trace *sim.Trace
	// Truncated says the call had more steps than Options.MaxSteps: the
	// trace holds the first ones only, and Err says it cannot be replayed.
	Truncated bool
	// Err, if not nil, says why the trace cannot be replayed: its steps
	// could not be read as a scenario (see sim.ScenarioOf). Trace.Lines
	// are still the call's steps; its Scenario is then the policy's
	// numbers alone.
	Err error
}

// WriteTo writes the call's trace (JSON Lines: see package sim), which
// `backoffsim replay` re-simulates. It is what makes a *Call an
// io.WriterTo.
func (c *Call) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := c.Trace.Write(cw)
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Calls returns the calls the Recorder keeps, the most recent first.
func (r *Recorder) Calls() []*Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Call
	for i := range len(r.kept) {
		// From the newest (just before next) back to the oldest.
		if c := r.kept[(r.next-1-i+2*len(r.kept))%len(r.kept)]; c != nil {
			out = append(out, c)
		}
	}
	return out
}

// Call returns the kept call numbered id, or nil.
func (r *Recorder) Call(id uint64) *Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.kept {
		if c != nil && c.ID == id {
			return c
		}
	}
	return nil
}

// keep adds c to the ring, dropping the oldest call if it is full.
func (r *Recorder) keep(c *Call) {
	r.mu.Lock()
	r.kept[r.next] = c
	r.next = (r.next + 1) % len(r.kept)
	r.count++
	r.mu.Unlock()
}

// Begin starts recording the steps of a call. It is what makes a
// *Recorder a backoff.Observer.
func (r *Recorder) Begin(_ context.Context, c backoff.Call) backoff.CallObserver {
	cr := r.pool.Get().(*callRecord)
	cr.call = c
	return cr
}

// A callRecord is the steps of one call under way. It is reused, through
// the Recorder's pool, for another call once this one has ended.
type callRecord struct {
	r     *Recorder
	call  backoff.Call
	steps []sim.Step
	cut   bool // more steps than MaxSteps came
}

// Observe records a step; at the call's last one, it keeps the call if it
// failed or was slow, and goes back to the pool.
func (cr *callRecord) Observe(e backoff.Event, a backoff.Action) {
	if len(cr.steps) < cr.r.o.MaxSteps {
		cr.steps = append(cr.steps, sim.Step{Event: e, Action: a})
	} else {
		cr.cut = true
	}
	if a.Kind != backoff.ActionFinish {
		return
	}
	if slow := cr.r.o.Slow; a.Err != nil || slow > 0 && e.At >= slow {
		cr.r.keep(cr.r.record(cr, e, a))
	}
	clear(cr.steps) // drop what the steps refer to (errors)
	cr.steps, cr.cut, cr.call = cr.steps[:0], false, backoff.Call{}
	cr.r.pool.Put(cr)
}

// systemClock is the clock of a policy whose Clock is nil.
var systemClock = clockwork.NewRealClock()

// record turns a call that ended with the step e, a into a kept Call: its
// trace, with its texts redacted.
func (r *Recorder) record(cr *callRecord, e backoff.Event, a backoff.Action) *Call {
	p := cr.call.Policy
	clk := p.Clock
	if clk == nil {
		clk = systemClock
	}
	c := &Call{ID: cr.call.ID, When: clk.Now().Add(-e.At), Failed: a.Err != nil, Elapsed: e.At, Truncated: cr.cut}
	for _, s := range cr.steps {
		if s.Action.Kind == backoff.ActionStart {
			c.Attempts++
		}
	}
	var be *backoff.Error
	if errors.As(a.Err, &be) {
		c.Reason, c.Attempts = r.redact(be.Reason.Error()), be.Attempts
	}
	lines := make([]sim.Line, len(cr.steps))
	for i, s := range cr.steps {
		lines[i] = r.redactLine(sim.LineOf(s))
	}
	sc, err := sim.ScenarioOf(p, cr.steps)
	switch {
	case cr.cut:
		err = fmt.Errorf("flight: the call took more than %d steps (Options.MaxSteps): only the first ones are kept", r.o.MaxSteps)
	case err != nil:
		err = fmt.Errorf("flight: the trace cannot be replayed: %w", err)
	}
	if err != nil {
		sc = policyScenario(p)
	}
	c.Trace, c.Err = &sim.Trace{Scenario: sc, Lines: lines, Recorded: true}, err
	return c
}

// policyScenario is a scenario with p's numbers and a script of one
// attempt: the header of a trace whose steps could not be read as one.
func policyScenario(p backoff.Policy) sim.Scenario {
	return sim.Scenario{
		AttemptTimeout: sim.Duration(p.AttemptTimeout), Deadline: sim.Duration(p.Deadline),
		Pause: sim.Duration(p.Pause), MaxTries: p.MaxTries,
		Attempts: []sim.Attempt{{Outcome: sim.OK}},
	}
}

func (r *Recorder) redact(s string) string {
	if r.o.Redact == nil || s == "" {
		return s
	}
	return r.o.Redact(s)
}

// redactLine redacts the error texts of a trace line.
func (r *Recorder) redactLine(l sim.Line) sim.Line {
	for _, s := range []*string{&l.Err, &l.Cause, &l.Reason, &l.Last} {
		*s = r.redact(*s)
	}
	return l
}
