package sim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
)

// TestReadTrace_longLines: what the simulator writes, it reads. The
// header of a trace holds the whole scenario, here over 1 MiB long.
func TestReadTrace_longLines(t *testing.T) {
	sc := sim.Scenario{Pause: sim.Duration(time.Millisecond), MaxTries: 30_001}
	for i := range 30_000 {
		sc.Attempts = append(sc.Attempts, sim.Attempt{Takes: sim.Duration(i % 7 * int(time.Millisecond)), Outcome: sim.Retryable})
	}
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	trace := sim.Encode(sc, res.Steps)
	if header, _, _ := bytes.Cut(trace, []byte("\n")); len(header) <= 1<<20 {
		t.Fatalf("the header is %d bytes; want more than 1 MiB", len(header))
	}
	tr, err := sim.ReadTrace(bytes.NewReader(trace))
	if err != nil {
		t.Fatalf("ReadTrace of a trace WriteTrace wrote: %v", err)
	}
	if len(tr.Scenario.Attempts) != len(sc.Attempts) || len(tr.Lines) != len(res.Steps) {
		t.Errorf("read %d attempts and %d lines; want %d and %d", len(tr.Scenario.Attempts), len(tr.Lines), len(sc.Attempts), len(res.Steps))
	}
	if err := sim.Replay(bytes.NewReader(trace)); err != nil {
		t.Errorf("Replay: %v", err)
	}
}

// TestReadTrace_says what is wrong with a trace, and where: the line,
// and the column in it; exact messages.
func TestReadTrace_says(t *testing.T) {
	const header = `{"format":"backoff-trace","version":1,"scenario":{"attempts":[{"outcome":"ok"}]}}`
	const step = `{"at":"0s","event":"began","action":"start","next":1}`
	for _, tc := range []struct{ name, trace, want string }{
		{"an empty trace", ``, `sim: trace: empty: want a header line first`},
		{"a header cut short", `{"format":"backoff-trace","version":1,"scenario":{"attempts":[{"outcome":"ok"}]}` + "\n",
			`sim: trace: line 1 (the header), column 81: unexpected end of input: the object (from line 1, column 1) is not closed`},
		{"a header with a field twice", `{"format":"backoff-trace","version":1,"version":1,"scenario":{"attempts":[{"outcome":"ok"}]}}`,
			`sim: trace: line 1 (the header), column 39: duplicate field "version" (first at line 1, column 27); give each field once`},
		{"a scenario with a field twice", `{"format":"backoff-trace","version":1,"scenario":{"pause":"1s","pause":"2s","attempts":[{"outcome":"ok"}]}}`,
			`sim: trace: line 1 (the header), column 64: duplicate field "pause" in scenario (first at line 1, column 51); give each field once`},
		{"a bad duration in the header", `{"format":"backoff-trace","version":1,"scenario":{"pause":"soon","attempts":[{"outcome":"ok"}]}}`,
			`sim: trace: line 1 (the header), column 59: scenario.pause: bad duration "soon": time: invalid duration "soon"`},
		{"a step cut short", header + "\n" + step + "\n" + `{"at":"0s","event":"ended"` + "\n",
			`sim: trace: line 3, column 27: unexpected end of input: the object (from line 1, column 1) is not closed`},
		{"a step with a field twice", header + "\n" + `{"at":"0s","at":"1s","event":"began","action":"start"}` + "\n",
			`sim: trace: line 2, column 12: duplicate field "at" (first at line 1, column 2); give each field once`},
		{"a step with an unknown field", header + "\n\n" + `{"at":"0s","event":"began","action":"start","nxt":1}` + "\n",
			`sim: trace: line 3, column 45: unknown field "nxt" (did you mean "next"?)`},
		{"a step with a number for a string", header + "\n" + `{"at":"0s","event":1,"action":"start"}`,
			`sim: trace: line 2, column 20: event is 1; want a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sim.ReadTrace(strings.NewReader(tc.trace))
			if err == nil || err.Error() != tc.want {
				t.Errorf("ReadTrace = %v\nwant %s", err, tc.want)
			}
		})
	}
	// Lines may end with CRLF, and the last need not end at all.
	tr, err := sim.ReadTrace(strings.NewReader(header + "\r\n" + step + "\r\n" + step))
	if err != nil || len(tr.Lines) != 2 {
		t.Errorf("ReadTrace of CRLF lines = %+v, %v; want 2 lines", tr, err)
	}
}

// TestDivergence_fields: a divergence names the fields that differ, with
// their two values; exact message.
func TestDivergence_fields(t *testing.T) {
	sc, res := simulate(t, `{"pause":"50ms","max_tries":2,"attempts":[{"takes":"100ms","outcome":"retryable"}]}`)
	trace := string(sim.Encode(sc, res.Steps))
	lines := strings.SplitAfter(trace, "\n")
	lines[2] = strings.Replace(lines[2], `"until":"150ms"`, `"until":"140ms"`, 1)
	lines[2] = strings.Replace(lines[2], `"next":2`, `"next":3`, 1)
	err := sim.Replay(strings.NewReader(strings.Join(lines, "")))
	var d *sim.Divergence
	if !errors.As(err, &d) {
		t.Fatalf("Replay = %v; want a *sim.Divergence", err)
	}
	if want := []string{"next", "until"}; !slices.Equal(d.Fields, want) || d.Omitted != nil {
		t.Errorf("Fields %q, Omitted %q; want %q and none", d.Fields, d.Omitted, want)
	}
	want := `sim: replay diverges at step 1 (line 3): next and until differ
  next:     recorded 3, replayed 2
  until:    recorded "140ms", replayed "150ms"
  recorded: {"at":"100ms","event":"ended","attempt":1,"err":"sim: retryable error","outcome":"failed","action":"pause","next":3,"until":"140ms"}
  replayed: {"at":"100ms","event":"ended","attempt":1,"err":"sim: retryable error","outcome":"failed","action":"pause","next":2,"until":"150ms"}`
	if err.Error() != want {
		t.Errorf("Replay =\n%v\nwant\n%s", err, want)
	}

	// A step less, and a step more.
	lines = strings.SplitAfter(strings.TrimSuffix(trace, "\n"), "\n")
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{lines[:len(lines)-1], "sim: replay diverges at step 3 (line 5): the recorded trace ends before it; the replay goes on\n  recorded: (no line)\n"},
		{append(slices.Clone(lines), "\n", lines[len(lines)-1]), "sim: replay diverges at step 4 (line 6): the replay ends before it; the recorded trace goes on\n  recorded: {"},
	} {
		err := sim.Replay(strings.NewReader(strings.Join(tc.lines, "")))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Replay = %v\nwant %s...", err, tc.want)
		}
	}
}

// TestDivergence_recorded: for a recorded trace, the texts a replay
// cannot reproduce (the operation's errors) are not compared, and not
// shown as differences; exact message.
func TestDivergence_recorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sim.Recorder
		p := backoff.Policy{Pause: 10 * time.Millisecond, MaxTries: 2, RetryIf: backoff.AnyError, Observer: &rec}
		backoff.Do(context.Background(), p, func(context.Context) (int, error) {
			time.Sleep(5 * time.Millisecond)
			return 0, errors.New("dial tcp 10.0.0.1:5432: connection refused")
		})
		var trace bytes.Buffer
		if err := rec.WriteTrace(&trace, p); err != nil {
			t.Fatal(err)
		}
		if err := sim.Replay(bytes.NewReader(trace.Bytes())); err != nil {
			t.Fatalf("the recorded trace does not replay: %v", err)
		}
		lines := strings.SplitAfter(trace.String(), "\n")
		lines[2] = strings.Replace(lines[2], `"until":"15ms"`, `"until":"16ms"`, 1)
		err := sim.Replay(strings.NewReader(strings.Join(lines, "")))
		var d *sim.Divergence
		if !errors.As(err, &d) {
			t.Fatalf("Replay = %v; want a *sim.Divergence", err)
		}
		if !slices.Equal(d.Fields, []string{"until"}) || !slices.Equal(d.Omitted, []string{"err"}) {
			t.Errorf("Fields %q, Omitted %q; want until, and err", d.Fields, d.Omitted)
		}
		want := `sim: replay diverges at step 1 (line 3): until differs
  until:    recorded "16ms", replayed "15ms"
  recorded: {"at":"5ms","event":"ended","attempt":1,"outcome":"failed","action":"pause","next":2,"until":"16ms"}
  replayed: {"at":"5ms","event":"ended","attempt":1,"outcome":"failed","action":"pause","next":2,"until":"15ms"}
  not compared: err (a recorded call's own texts, which a replay cannot reproduce)`
		if err.Error() != want {
			t.Errorf("Replay =\n%v\nwant\n%s", err, want)
		}

		// The last step: its error texts are left out; the reason, the
		// library's own, is compared, and shown.
		lines = strings.SplitAfter(trace.String(), "\n")
		last := len(lines) - 2
		lines[last] = strings.Replace(lines[last], `"attempts":2`, `"attempts":3`, 1)
		err = sim.Replay(strings.NewReader(strings.Join(lines, "")))
		if !errors.As(err, &d) || !slices.Equal(d.Fields, []string{"attempts"}) || !slices.Equal(d.Omitted, []string{"err", "last"}) {
			t.Fatalf("Replay = %v; want attempts differing, err and last not compared", err)
		}
		if strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), `"reason":"backoff: max tries reached"`) {
			t.Errorf("Replay = %v; want no error text of the operation's, and the reason", err)
		}
	})
}

// TestScenarioOf_tooManySteps: a recorded call longer than the simulator
// follows is refused, naming the limit.
func TestScenarioOf_tooManySteps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec sim.Recorder
		p := backoff.Policy{Pause: time.Millisecond, MaxTries: 6000, RetryIf: backoff.AnyError, Observer: &rec}
		backoff.Do(context.Background(), p, func(context.Context) (int, error) { return 0, errors.New("refused") })
		err := rec.WriteTrace(&bytes.Buffer{}, p)
		want := fmt.Sprintf("sim: the call took 12000 steps; the simulator follows a call for at most %d (sim.MaxSteps), so no scenario replays it", sim.MaxSteps)
		if err == nil || err.Error() != want {
			t.Errorf("WriteTrace = %v\nwant %s", err, want)
		}
	})
}
