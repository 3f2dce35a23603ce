package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim/internal/decode"
)

// A trace is JSON Lines: a header line carrying the format, its version
// and the whole scenario, then one line per step with its virtual time:
//
//	{"format":"backoff-trace","version":1,"scenario":{...}}
//	{"at":"0s","event":"began","action":"start","attempt":1,"until":"100ms","cut":"attempt timeout"}
//	{"at":"100ms","event":"ended","attempt":1,"err":"context deadline exceeded","outcome":"failed","action":"pause","next":2,"until":"150ms"}
//	...
//	{"at":"1s","event":"ended","attempt":7,...,"action":"finish","reason":"backoff: deadline exceeded","last":"backoff: attempt timed out","attempts":7,"elapsed":"1s"}
//
// The same scenario always gives the same bytes.

// Format and Version name the trace format in a trace's header.
const (
	Format  = "backoff-trace"
	Version = 1
)

type header struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Recorded says the steps were recorded from the executor: their
	// error texts are the operation's own, so a replay compares shapes.
	Recorded bool     `json:"recorded,omitempty"`
	Scenario Scenario `json:"scenario"`
}

// A Line is one step of a trace, as written.
type Line struct {
	At Duration `json:"at"`
	// The event.
	Event   string `json:"event"`
	Attempt int    `json:"attempt,omitempty"` // ended, fired: the attempt or the timer's tag
	Err     string `json:"err,omitempty"`     // ended: what the attempt returned
	Cause   string `json:"cause,omitempty"`   // the caller's context is done, with this cause
	// CallerDeadline is the caller's deadline the call began with (began).
	CallerDeadline *Duration `json:"caller_deadline,omitempty"`
	// Rand is the random number an event that ends an attempt carries,
	// from which a jitter spreads the pause after it (ended, with a
	// jitter; 0 is not written).
	Rand    uint64 `json:"rand,omitempty"`
	Outcome string `json:"outcome,omitempty"` // what the core made of the attempt's end
	// The action.
	Action   string    `json:"action"`
	Next     int       `json:"next,omitempty"`     // start: the attempt; pause: the attempt it leads to
	Until    *Duration `json:"until,omitempty"`    // start (with a cut), pause
	Cut      string    `json:"cut,omitempty"`      // start: what ends the attempt at until
	Reason   string    `json:"reason,omitempty"`   // finish without success
	Last     string    `json:"last,omitempty"`     // finish: the last failure
	Attempts int       `json:"attempts,omitempty"` // finish without success
	Elapsed  *Duration `json:"elapsed,omitempty"`  // finish without success
}

// LineOf returns the trace line of a step.
func LineOf(s Step) Line {
	e, a := s.Event, s.Action
	l := Line{At: Duration(e.At), Event: e.Kind.String(), Attempt: e.Attempt, Action: a.Kind.String()}
	if e.Err != nil {
		l.Err = e.Err.Error()
	}
	if e.Cause != nil {
		l.Cause = e.Cause.Error()
	}
	if e.Kind == backoff.EventEnded {
		l.Rand = e.Rand
	}
	if e.Kind == backoff.EventBegan && e.CallerDeadline > 0 {
		d := Duration(e.CallerDeadline)
		l.CallerDeadline = &d
	}
	if a.Outcome != backoff.OutcomeNone {
		l.Outcome = a.Outcome.String()
	}
	switch a.Kind {
	case backoff.ActionStart:
		l.Next = a.Attempt
		if a.Cut != nil {
			until := Duration(a.Until)
			l.Until, l.Cut = &until, cutName(a.Cut)
		}
	case backoff.ActionPause:
		until := Duration(a.Until)
		l.Next, l.Until = a.Attempt, &until
	case backoff.ActionFinish:
		var be *backoff.Error
		if errors.As(a.Err, &be) {
			elapsed := Duration(be.Elapsed)
			l.Reason, l.Attempts, l.Elapsed = be.Reason.Error(), be.Attempts, &elapsed
			if be.Last != nil {
				l.Last = be.Last.Error()
			}
		}
	}
	return l
}

func cutName(cut error) string {
	switch cut {
	case backoff.ErrAttemptTimeout:
		return "attempt timeout"
	case backoff.ErrDeadline:
		return "deadline"
	}
	return cut.Error()
}

// Encode returns the trace of sc's steps: the header, then one line each.
func Encode(sc Scenario, steps []Step) []byte {
	var b bytes.Buffer
	WriteTrace(&b, sc, steps) // a bytes.Buffer does not fail
	return b.Bytes()
}

// WriteTrace writes the trace of sc's steps to w.
func WriteTrace(w io.Writer, sc Scenario, steps []Step) error {
	return writeTrace(w, header{Format, Version, false, sc}, steps)
}

func writeTrace(w io.Writer, h header, steps []Step) error {
	lines := make([]Line, len(steps))
	for i, s := range steps {
		lines[i] = LineOf(s)
	}
	return writeLines(w, h, lines)
}

func writeLines(w io.Writer, h header, lines []Line) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(h); err != nil {
		return err
	}
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// A Trace is a trace as read: its scenario and its lines.
type Trace struct {
	Scenario Scenario
	Lines    []Line
	// Recorded is set for a trace recorded from the executor (see
	// Recorder.WriteTrace): its error texts are the operation's own.
	Recorded bool
}

// Write writes t in the trace format; ReadTrace gives t back from it.
func (t *Trace) Write(w io.Writer) error {
	return writeLines(w, header{Format, Version, t.Recorded, t.Scenario}, t.Lines)
}

// ReadTrace reads a trace, refusing a header of another format or
// version, unknown fields, and a scenario Validate refuses.
func ReadTrace(r io.Reader) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("sim: trace: %w", err)
		}
		return nil, errors.New("sim: trace: empty: want a header line first")
	}
	var h header
	if err := strictUnmarshal(sc.Bytes(), &h); err != nil {
		return nil, fmt.Errorf("sim: trace: line 1 (the header): %w", err)
	}
	if h.Format != Format || h.Version != Version {
		return nil, fmt.Errorf("sim: trace: line 1: format %q version %d; want %q version %d", h.Format, h.Version, Format, Version)
	}
	h.Scenario.canonical()
	if err := h.Scenario.Validate(); err != nil {
		return nil, fmt.Errorf("sim: trace: line 1: %w", err)
	}
	t := &Trace{Scenario: h.Scenario, Recorded: h.Recorded}
	for n := 2; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l Line
		if err := strictUnmarshal(sc.Bytes(), &l); err != nil {
			return nil, fmt.Errorf("sim: trace: line %d: %w", n, err)
		}
		t.Lines = append(t.Lines, l)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("sim: trace: %w", err)
	}
	return t, nil
}

func strictUnmarshal(b []byte, v any) error { return decode.Strict(b, v, badDuration) }

// A Divergence is the first line where a replayed trace differs from the
// recorded one. Index counts steps from 0 (the trace's line Index+2); a
// missing line is nil.
type Divergence struct {
	Index    int
	Recorded *Line
	Replayed *Line
}

// Error shows the step where the traces part, as recorded and as replayed.
func (d *Divergence) Error() string {
	show := func(l *Line) string {
		if l == nil {
			return "(no line)"
		}
		b, _ := json.Marshal(l)
		return string(b)
	}
	return fmt.Sprintf("sim: replay diverges at step %d (line %d)\n  recorded: %s\n  replayed: %s", d.Index, d.Index+2, show(d.Recorded), show(d.Replayed))
}

// Replay re-simulates the trace's scenario and compares the steps line by
// line. It returns nil when they are identical, a *Divergence at the first
// difference, or an error if the trace cannot be read. For a recorded
// trace it compares everything but the texts of errors and causes, which
// came from the real operation and caller.
func Replay(r io.Reader) error {
	t, err := ReadTrace(r)
	if err != nil {
		return err
	}
	res, err := Run(t.Scenario)
	if err != nil {
		return err
	}
	if t.Recorded {
		return compare(t.Lines, res.Steps, shape)
	}
	return Compare(t.Lines, res.Steps)
}

// Compare returns the first difference between recorded lines and the
// lines of steps, as a *Divergence, or nil if there is none.
func Compare(recorded []Line, steps []Step) error {
	return compare(recorded, steps, func(l Line) Line { return l })
}

// compare is Compare of the lines as view shows them.
func compare(recorded []Line, steps []Step, view func(Line) Line) error {
	for i := range max(len(recorded), len(steps)) {
		var rec, rep *Line
		if i < len(recorded) {
			rec = &recorded[i]
		}
		if i < len(steps) {
			l := LineOf(steps[i])
			rep = &l
		}
		if rec == nil || rep == nil || !sameLine(view(*rec), view(*rep)) {
			return &Divergence{Index: i, Recorded: rec, Replayed: rep}
		}
	}
	return nil
}

func sameLine(a, b Line) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
