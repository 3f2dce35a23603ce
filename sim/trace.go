package sim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

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
// version, unknown fields, and a scenario Validate refuses. Its errors
// name the line, and the column where they can. A line may be of any
// length: the header holds the whole scenario, and ReadTrace reads every
// trace WriteTrace and Trace.Write write.
func ReadTrace(r io.Reader) (*Trace, error) {
	br := bufio.NewReader(r)
	line, err := readLine(br)
	if err != nil && (err != io.EOF || len(line) == 0) {
		if err == io.EOF {
			return nil, errors.New("sim: trace: empty: want a header line first")
		}
		return nil, fmt.Errorf("sim: trace: %w", err)
	}
	var h header
	if err := strictUnmarshal(line, &h); err != nil {
		return nil, traceError(1, " (the header)", err)
	}
	if h.Format != Format || h.Version != Version {
		return nil, fmt.Errorf("sim: trace: line 1: format %q version %d; want %q version %d", h.Format, h.Version, Format, Version)
	}
	h.Scenario.canonical()
	if err := h.Scenario.Validate(); err != nil {
		return nil, fmt.Errorf("sim: trace: line 1: %w", err)
	}
	t := &Trace{Scenario: h.Scenario, Recorded: h.Recorded}
	for n := 2; err == nil; n++ {
		line, err = readLine(br)
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("sim: trace: line %d: %w", n, err)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var l Line
		if err := strictUnmarshal(line, &l); err != nil {
			return nil, traceError(n, "", err)
		}
		t.Lines = append(t.Lines, l)
	}
	return t, nil
}

// readLine returns the next line of r without its end ("\n" or "\r\n"),
// and io.EOF with the last line.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadBytes('\n')
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
	return line, err
}

// traceError is err, of line n of a trace (what, if set, says what the
// line is), with its column if it has one.
func traceError(n int, what string, err error) error {
	if de, ok := errors.AsType[*decode.Error](err); ok {
		return fmt.Errorf("sim: trace: line %d%s, column %d: %w", n, what, de.Column, de.Err)
	}
	return fmt.Errorf("sim: trace: line %d%s: %w", n, what, err)
}

func strictUnmarshal(b []byte, v any) error { return decode.Strict(b, v, badDuration) }

// A Divergence is the first line where a replayed trace differs from the
// recorded one. Index counts steps from 0 (the trace's line Index+2); a
// missing line is nil.
type Divergence struct {
	Index    int
	Recorded *Line
	Replayed *Line
	// Fields names the fields of the line that differ, as a trace spells
	// them ("at", "until"), in the order of a line; none when a line is
	// missing.
	Fields []string
	// Omitted names the fields of the lines that were not compared, and
	// that Error does not show, because a replay cannot reproduce them:
	// for a recorded trace, the texts of the operation's errors and of the
	// caller's cause, where the lines have them (see Replay).
	Omitted []string
}

// Error says at which step the traces part and in which fields, with the
// two values of each, then shows the step as recorded and as replayed
// (without the Omitted fields):
//
//	sim: replay diverges at step 1 (line 3): until differs
//	  until:    recorded "140ms", replayed "150ms"
//	  recorded: {"at":"100ms","event":"ended",...,"until":"140ms"}
//	  replayed: {"at":"100ms","event":"ended",...,"until":"150ms"}
func (d *Divergence) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sim: replay diverges at step %d (line %d)", d.Index, d.Index+2)
	switch {
	case d.Recorded == nil && d.Replayed != nil:
		b.WriteString(": the recorded trace ends before it; the replay goes on")
	case d.Recorded != nil && d.Replayed == nil:
		b.WriteString(": the replay ends before it; the recorded trace goes on")
	case len(d.Fields) == 1:
		fmt.Fprintf(&b, ": %s differs", d.Fields[0])
	case len(d.Fields) > 1:
		fmt.Fprintf(&b, ": %s and %s differ", strings.Join(d.Fields[:len(d.Fields)-1], ", "), d.Fields[len(d.Fields)-1])
	}
	if d.Recorded != nil && d.Replayed != nil {
		rec, rep := lineFields(*d.Recorded), lineFields(*d.Replayed)
		width := max(len("recorded"), maxLen(d.Fields))
		for _, f := range d.Fields {
			fmt.Fprintf(&b, "\n  %-*s recorded %s, replayed %s", width+1, f+":", fieldValue(rec, f), fieldValue(rep, f))
		}
	}
	show := func(l *Line) string {
		if l == nil {
			return "(no line)"
		}
		return string(omit(*l, d.Omitted))
	}
	fmt.Fprintf(&b, "\n  recorded: %s\n  replayed: %s", show(d.Recorded), show(d.Replayed))
	if len(d.Omitted) > 0 {
		fmt.Fprintf(&b, "\n  not compared: %s (a recorded call's own texts, which a replay cannot reproduce)",
			strings.Join(d.Omitted, ", "))
	}
	return b.String()
}

func maxLen(ss []string) int {
	n := 0
	for _, s := range ss {
		n = max(n, len(s))
	}
	return n
}

// fieldValue returns the JSON of a line's field, or "(none)".
func fieldValue(fields map[string]json.RawMessage, name string) string {
	if v, ok := fields[name]; ok {
		return string(v)
	}
	return "(none)"
}

// lineNames are the names of a Line's fields in JSON, in order.
var lineNames = func() []string {
	t := reflect.TypeFor[Line]()
	var names []string
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}()

// lineFields returns the JSON of each field a line sets, by name.
func lineFields(l Line) map[string]json.RawMessage {
	b, _ := json.Marshal(l)
	var m map[string]json.RawMessage
	json.Unmarshal(b, &m)
	return m
}

// diffFields returns the names of the fields in which a and b differ, in
// the order of a line.
func diffFields(a, b Line) []string {
	fa, fb := lineFields(a), lineFields(b)
	var diff []string
	for _, name := range lineNames {
		if !bytes.Equal(fa[name], fb[name]) {
			diff = append(diff, name)
		}
	}
	return diff
}

// omit returns the JSON of l without the named fields.
func omit(l Line, names []string) []byte {
	v := reflect.ValueOf(&l).Elem()
	for i := range v.NumField() {
		if name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ","); slices.Contains(names, name) {
			v.Field(i).SetZero()
		}
	}
	b, _ := json.Marshal(l)
	return b
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

// compare is Compare of the lines as view shows them. Its Divergence
// names the fields view leaves out of either line as Omitted.
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
			d := &Divergence{Index: i, Recorded: rec, Replayed: rep}
			for _, l := range []*Line{rec, rep} {
				if l != nil {
					for _, name := range diffFields(*l, view(*l)) {
						if !slices.Contains(d.Omitted, name) {
							d.Omitted = append(d.Omitted, name)
						}
					}
				}
			}
			slices.SortFunc(d.Omitted, func(a, b string) int { return slices.Index(lineNames, a) - slices.Index(lineNames, b) })
			if rec != nil && rep != nil {
				d.Fields = diffFields(view(*rec), view(*rep))
			}
			return d
		}
	}
	return nil
}

func sameLine(a, b Line) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}
