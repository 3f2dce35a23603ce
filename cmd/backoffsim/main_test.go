package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/load"
)

var update = flag.Bool("update", false, "rewrite testdata/default.golden and testdata/load.golden from the program's output")

// result is what one run of the program gave.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the program with args and stdin.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(stdin), &stdout, &stderr)
	return result{code, stdout.String(), stderr.String()}
}

// want fails the test unless r has the exit code and each of the strings
// in its stdout (out) and its stderr (errs).
func (r result) want(t *testing.T, code int, out []string, errs []string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d; want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range out {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("stdout lacks %q:\n%s", s, r.stdout)
		}
	}
	for _, s := range errs {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
		}
	}
}

// A scenario that takes every branch the timeline has words for, small.
const scenarioJSON = `{
  "name": "small",
  "attempt_timeout": "100ms",
  "deadline": "1s",
  "pause": "50ms",
  "max_tries": 4,
  "attempts": [
    {"outcome": "hang"},
    {"takes": "30ms", "outcome": "retryable"},
    {"takes": "20ms", "outcome": "ok"}
  ]
}`

// writeFile writes content to a file of that name in a fresh directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDefault runs the program with no arguments and compares its output
// with testdata/default.golden (go test -update rewrites it).
func TestDefault(t *testing.T) {
	r := runCLI(t, "")
	r.wantGolden(t, "default.golden")
}

// TestDefault_showsEveryRule checks that the built-in scenario does what
// its name says: an attempt timeout, a retryable error, pauses between
// attempts, and the deadline cutting the last attempt; and that every
// rule holds.
func TestDefault_showsEveryRule(t *testing.T) {
	sc, err := sim.ParseScenario(defaultScenario)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.Check(sc, res); err != nil {
		t.Fatal(err)
	}
	var timedOut, retried, paused bool
	for _, s := range res.Steps {
		e, a := s.Event, s.Action
		timedOut = timedOut || a.Outcome == backoff.OutcomeFailed && e.Kind == backoff.EventEnded && !errors.Is(e.Err, sim.ErrRetryable)
		retried = retried || a.Outcome == backoff.OutcomeFailed && errors.Is(e.Err, sim.ErrRetryable)
		paused = paused || a.Kind == backoff.ActionPause
	}
	last := res.Steps[len(res.Steps)-1].Action
	if !timedOut || !retried || !paused || last.Outcome != backoff.OutcomeCut || !errors.Is(res.Err, backoff.ErrDeadline) {
		t.Errorf("timed out %t, retried an error %t, paused %t, last attempt %v, result %v; want all",
			timedOut, retried, paused, last.Outcome, res.Err)
	}
	// "default" prints the very same scenario.
	r := runCLI(t, "", "default")
	r.want(t, 0, nil, nil)
	if r.stdout != string(defaultScenario) {
		t.Errorf("default printed:\n%s\nwant:\n%s", r.stdout, defaultScenario)
	}
}

func TestRun(t *testing.T) {
	path := writeFile(t, "small.json", scenarioJSON)
	dir := t.TempDir()
	trace, svg := filepath.Join(dir, "out.jsonl"), filepath.Join(dir, "out.svg")
	want := []string{
		"scenario  small",
		"policy    attempt timeout 100ms, deadline 1s, pause 50ms, max tries 4, cooperative",
		"     0s  attempt 1 starts, cut at 100ms by its timeout",
		"  100ms  attempt 1 timed out (failed); pause until 150ms",
		"  150ms  pause over; attempt 2 starts, cut at 250ms by its timeout",
		"  180ms  attempt 2 failed: sim: retryable error; pause until 230ms",
		"  250ms  attempt 3 succeeded; the call returns the value 3",
		"result    success: the value 3 (from attempt 3) after 250ms",
	}

	// Flags after the file, and before it.
	for _, args := range [][]string{
		{"run", path, "-trace", trace, "-svg", svg},
		{"run", "-trace=" + trace, "-svg", svg, path},
	} {
		os.Remove(trace)
		os.Remove(svg)
		r := runCLI(t, "", args...)
		r.want(t, 0, append(want, "wrote the trace to "+trace, "wrote the picture to "+svg), nil)

		// The trace replays, in the program and in package sim.
		runCLI(t, "", "replay", trace).want(t, 0, []string{"identical: ", "6 steps re-simulated"}, nil)
		f, err := os.Open(trace)
		if err != nil {
			t.Fatal(err)
		}
		if err := sim.Replay(f); err != nil {
			t.Error(err)
		}
		f.Close()

		// The picture is well-formed XML, an svg element.
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		wellFormedSVG(t, b)
	}

	// Standard input.
	runCLI(t, scenarioJSON, "run", "-").want(t, 0, want, nil)
}

// wellFormedSVG fails the test unless b is well-formed XML whose root is
// an svg element.
func wellFormedSVG(t *testing.T, b []byte) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("the SVG is not well-formed XML: %v", err)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("the root element is %q; want svg", root)
	}
}

func TestCheck(t *testing.T) {
	path := writeFile(t, "small.json", scenarioJSON)
	runCLI(t, "", "check", path).want(t, 0, []string{"all rules hold: " + path + ", 6 steps"}, nil)
	runCLI(t, scenarioJSON, "check", "-").want(t, 0, []string{"all rules hold: standard input"}, nil)

	// A violation, as the oracle would report one, makes it exit 1 and
	// list them. (A simulated call that breaks a rule would be a bug.)
	check = func(sc sim.Scenario, res *sim.Result) error {
		return errors.Join(
			&sim.Violation{Rule: 6, Step: 2, At: 150e6, Msg: "attempt 2 starts 40ms after attempt 1 ended"},
			&sim.Violation{Rule: 8, Step: -1, Msg: "5 attempts started; max_tries is 4"})
	}
	t.Cleanup(func() { check = sim.Check })
	runCLI(t, "", "check", path).want(t, 1, []string{
		path + ": 2 rule violations",
		"  rule 6, step 2 at 150ms: attempt 2 starts 40ms after attempt 1 ended",
		"  rule 8, the whole call: 5 attempts started; max_tries is 4",
		"The simulated call, step by step:",
		"  250ms  attempt 3 succeeded",
	}, nil)
}

func TestReplay(t *testing.T) {
	sc, err := sim.ParseScenario([]byte(scenarioJSON))
	if err != nil {
		t.Fatal(err)
	}
	res, err := sim.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	trace := string(sim.Encode(sc, res.Steps))
	runCLI(t, trace, "replay", "-").want(t, 0, []string{"identical: standard input, 6 steps re-simulated"}, nil)

	// A doctored trace: the pause before attempt 2 ends 10ms early.
	doctored := strings.Replace(trace, `"until":"150ms"`, `"until":"140ms"`, 1)
	if doctored == trace {
		t.Fatal("the trace has no pause until 150ms to doctor")
	}
	path := writeFile(t, "doctored.jsonl", doctored)
	r := runCLI(t, "", "replay", path)
	r.want(t, 1, []string{
		path + ": the re-simulation differs",
		"diverges at step 1 (line 3)",
		`recorded: {"at":"100ms"`, `"until":"140ms"`,
		`replayed: {"at":"100ms"`, `"until":"150ms"`,
	}, nil)

	// A trace with a step less.
	lines := strings.SplitAfter(strings.TrimSuffix(trace, "\n"), "\n")
	short := strings.Join(lines[:len(lines)-1], "")
	runCLI(t, short, "replay", "-").want(t, 1, []string{"diverges at step 5", "recorded: (no line)"}, nil)
}

// TestBadInput: bad command lines and files exit 2 with a message on
// stderr that says what is wrong, and print nothing on stdout.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	notJSON := writeFile(t, "notjson.json", "attempts: many")
	unknown := writeFile(t, "unknown.json", `{"attempts":[{"outcome":"ok"}],"max_try":3}`)
	invalid := writeFile(t, "invalid.json", `{"pause":"-1s","attempts":[{"outcome":"boom"}]}`)
	badTrace := writeFile(t, "bad.jsonl", `{"format":"other","version":1,"scenario":{"attempts":[{"outcome":"ok"}]}}`+"\n")
	scenario := writeFile(t, "small.json", scenarioJSON)
	unwritable := filepath.Join(dir, "no-such-dir", "out.svg")

	for _, tc := range []struct {
		name string
		args []string
		want []string // each in stderr
	}{
		{"no such command", []string{"frob"}, []string{`no command "frob"`, "Usage:"}},
		{"run without a file", []string{"run"}, []string{"backoffsim run: want a scenario file"}},
		{"run with two files", []string{"run", scenario, "extra"}, []string{`got also ["extra"]`}},
		{"run with an unknown flag", []string{"run", "-x", scenario}, []string{"flag provided but not defined: -x"}},
		{"run with a flag without its value", []string{"run", scenario, "-svg"}, []string{"flag needs an argument: -svg"}},
		{"run a missing file", []string{"run", missing}, []string{"missing.json", "no such file"}},
		{"run a file that is not JSON", []string{"run", notJSON}, []string{"notjson.json", "invalid character"}},
		{"run a scenario with an unknown field", []string{"run", unknown}, []string{`unknown field "max_try"`}},
		{"run an invalid scenario", []string{"run", invalid}, []string{"pause is -1s", `outcome is "boom"`}},
		{"run to an unwritable svg", []string{"run", scenario, "-svg", unwritable}, []string{"cannot write the picture"}},
		{"check without a file", []string{"check"}, []string{"backoffsim check: want a scenario file"}},
		{"check an invalid scenario", []string{"check", invalid}, []string{"pause is -1s"}},
		{"check with a flag", []string{"check", "-trace", "x", scenario}, []string{"flag provided but not defined: -trace"}},
		{"replay without a file", []string{"replay"}, []string{"backoffsim replay: want a trace file"}},
		{"replay a missing file", []string{"replay", missing}, []string{"no such file"}},
		{"replay a scenario, not a trace", []string{"replay", scenario}, []string{"small.json", "trace"}},
		{"replay a trace of another format", []string{"replay", badTrace}, []string{`format "other"`}},
		{"default with an argument", []string{"default", "x"}, []string{"want only no argument"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			r.want(t, 2, nil, tc.want)
			if tc.args[0] == "run" && r.stdout != "" && !strings.Contains(tc.name, "unwritable") {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

// TestHelp: help goes to stdout with exit 0, fits an 80-column terminal,
// and its example scenario is a valid one.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"run", "-h"}, {"check", "-help"}, {"load", "-h"}} {
		r := runCLI(t, "", args...)
		r.want(t, 0, []string{"Usage:", "backoffsim run FILE.json", "backoffsim replay TRACE.jsonl", "backoffsim check FILE.json",
			"backoffsim load [NAME|FILE.json]"}, nil)
	}
	// The limits, by their values.
	for _, limit := range []string{fmt.Sprintf("%d steps (sim.MaxSteps)", sim.MaxSteps), "24h (sim.MaxDuration)"} {
		if !strings.Contains(usage, limit) {
			t.Errorf("the usage does not name the limit %q", limit)
		}
	}
	if sim.MaxDuration != 24*time.Hour {
		t.Errorf("sim.MaxDuration is %v; the usage says 24h", sim.MaxDuration)
	}
	for _, l := range strings.Split(usage, "\n") {
		if len(l) > 79 {
			t.Errorf("usage line of %d columns: %q", len(l), l)
		}
	}
	example := usage[strings.Index(usage, "{") : strings.LastIndex(usage, "}")+1]
	sc, err := sim.ParseScenario([]byte(example))
	if err != nil {
		t.Fatalf("the usage's example scenario: %v\n%s", err, example)
	}
	if _, err := sim.Run(sc); err != nil {
		t.Fatal(err)
	}
}

// A small load, worked out by hand in package sim/load's TestRun_small.
const loadJSON = `{"name": "small", "calls": 3, "every": "100ms", "takes": "10ms",
 "down": {"from": "0s", "to": "150ms"}, "pause": "50ms", "max_tries": 3,
 "budget": {"ratio": 0.5, "burst": 1}, "bucket": "100ms"}`

// TestLoad runs "load" with no argument (the retry-budget example) and
// compares its output with testdata/load.golden (go test -update
// rewrites it); with a name, a file and standard input; and writes the
// picture.
func TestLoad(t *testing.T) {
	r := runCLI(t, "", "load")
	r.wantGolden(t, "load.golden")
	// The same as the example by name.
	if byName := runCLI(t, "", "load", "retry-budget"); byName.stdout != r.stdout || byName.code != 0 {
		t.Errorf("load retry-budget differs from load")
	}

	// The storm: one run, no budget.
	runCLI(t, "", "load", "retry-storm").want(t, 0, []string{
		"load        retry-storm",
		"without the budget",
		"  total   1000      2168     1168        744        256         0       0           2.17    74.4%",
	}, nil)
	if r := runCLI(t, "", "load", "retry-storm"); strings.Contains(r.stdout, "with the budget") {
		t.Errorf("the storm has a run with a budget:\n%s", r.stdout)
	}

	// A file, with the picture; flags before and after it; standard input.
	path := writeFile(t, "small.json", loadJSON)
	svg := filepath.Join(t.TempDir(), "load.svg")
	small := []string{
		"load        small",
		"  total      3         6        3          2          1         0       0           2.00    66.7%",
		"  total      3         4        1          1          0         0       2           1.33    33.3%",
	}
	for _, args := range [][]string{{"load", path, "-svg", svg}, {"load", "-svg=" + svg, path}} {
		os.Remove(svg)
		runCLI(t, "", args...).want(t, 0, append(small, "wrote the picture to "+svg), nil)
		b, err := os.ReadFile(svg)
		if err != nil {
			t.Fatal(err)
		}
		wellFormedSVG(t, b)
	}
	runCLI(t, loadJSON, "load", "-").want(t, 0, small, nil)
}

// TestLoad_json: "load -json" prints an example's load, which "load"
// reads back; the default is retry-budget.
func TestLoad_json(t *testing.T) {
	for _, name := range load.Examples() {
		r := runCLI(t, "", "load", name, "-json")
		r.want(t, 0, []string{`"name": "` + name + `"`}, nil)
		want, err := load.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		if r.stdout != string(want) {
			t.Errorf("load %s -json printed\n%s\nwant\n%s", name, r.stdout, want)
		}
		path := writeFile(t, name+".json", r.stdout)
		if a, b := runCLI(t, "", "load", path), runCLI(t, "", "load", name); a.code != 0 || a.stdout != b.stdout {
			t.Errorf("load %s and load of its JSON differ:\n%s\n%s", name, a.stdout+a.stderr, b.stdout)
		}
	}
	runCLI(t, "", "load", "-json").want(t, 0, []string{`"name": "retry-budget"`}, nil)
}

// TestLoad_badInput: bad command lines and loads exit 2 with a message on
// stderr saying what is wrong.
func TestLoad_badInput(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	unknown := writeFile(t, "unknown.json", `{"calls": 1, "max_tries": 1, "bucket": "1s", "rate": 3}`)
	invalid := writeFile(t, "invalid.json", `{"calls": 0, "fail_rate": 2, "max_tries": 1, "bucket": "1s"}`)
	tooLong := writeFile(t, "long.json", `{"calls": 1, "takes": "10ms", "fail_rate": 1, "max_tries": 200, "bucket": "1ms"}`)
	load := writeFile(t, "small.json", loadJSON)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no such example", []string{"load", "storm"}, []string{`no example "storm"`, "retry-budget, retry-storm"}},
		{"two loads", []string{"load", "retry-storm", "retry-budget"}, []string{`got also ["retry-budget"]`}},
		{"an unknown flag", []string{"load", "-trace", "x"}, []string{"flag provided but not defined: -trace"}},
		{"a missing file", []string{"load", missing}, []string{"missing.json", "no such file"}},
		{"an unknown field", []string{"load", unknown}, []string{"unknown.json", `unknown field "rate"`}},
		{"an invalid load", []string{"load", invalid}, []string{"calls is 0", "fail_rate is 2"}},
		{"a run too long for its buckets", []string{"load", tooLong}, []string{"more than 1000 buckets"}},
		{"an unwritable picture", []string{"load", load, "-svg", filepath.Join(dir, "no-such-dir", "x.svg")}, []string{"cannot write the picture"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", tc.args...)
			r.want(t, 2, nil, tc.want)
			if r.stdout != "" && !strings.Contains(tc.name, "unwritable") {
				t.Errorf("stdout: %s", r.stdout)
			}
		})
	}
}

// wantGolden checks that the run succeeded quietly, that its output is
// testdata/name (go test -update rewrites it), and that no line of it is
// wider than a timeline.
func (r result) wantGolden(t *testing.T, name string) {
	t.Helper()
	r.want(t, 0, nil, nil)
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	golden := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(golden, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if r.stdout != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", golden, r.stdout, want)
	}
	for _, l := range strings.Split(r.stdout, "\n") {
		if len(l) > sim.TimelineWidth {
			t.Errorf("line of %d columns: %q", len(l), l)
		}
	}
}

// TestBadInput_where: a file that is not good JSON is refused with the
// line and column of the fault, for a scenario, a trace and a load alike;
// exact messages.
func TestBadInput_where(t *testing.T) {
	header := `{"format":"backoff-trace","version":1,"scenario":{"attempts":[{"outcome":"ok"}]}}`
	for _, tc := range []struct {
		name, file, content string
		args                []string
		want                string
	}{
		{"a scenario cut short", "s.json", "{\"pause\": \"1ms\",\n \"attempts\": [{\"outcome\": \"retryable\"", []string{"run"},
			"sim: scenario: line 2, column 38: unexpected end of input: the object of attempts[0] (from line 2, column 15) is not closed"},
		{"a scenario with a field twice", "s.json", `{"pause": "1ms", "pause": "2ms", "attempts": [{"outcome": "ok"}]}`, []string{"check"},
			`sim: scenario: line 1, column 18: duplicate field "pause" (first at line 1, column 2); give each field once`},
		{"a trace cut short", "t.jsonl", header + "\n" + `{"at":"0s","event":"began"`, []string{"replay"},
			"sim: trace: line 2, column 27: unexpected end of input: the object (from line 1, column 1) is not closed"},
		{"a trace with a field twice", "t.jsonl", header + "\n" + `{"at":"0s","event":"began","event":"began","action":"start"}`, []string{"replay"},
			`sim: trace: line 2, column 28: duplicate field "event" (first at line 1, column 12); give each field once`},
		{"a load cut short", "l.json", "{\"calls\": 3,\n \"down\": {\"from\": \"1s\"", []string{"load"},
			"load: line 2, column 23: unexpected end of input: the object of down (from line 2, column 10) is not closed"},
		{"a load with a field twice", "l.json", `{"calls": 3, "bucket": "1s", "calls": 4}`, []string{"load"},
			`load: line 1, column 30: duplicate field "calls" (first at line 1, column 2); give each field once`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.file, tc.content)
			r := runCLI(t, "", append(tc.args, path)...)
			r.want(t, 2, nil, nil)
			if want := "backoffsim " + tc.args[0] + ": " + path + ": " + tc.want + "\n"; r.stderr != want {
				t.Errorf("stderr\n%s\nwant\n%s", r.stderr, want)
			}
		})
	}
}

// TestCrash: a panic is a bug, never a bad file: it exits 3 (not 2, the
// status of a bad file and of an unrecovered panic) and says so.
func TestCrash(t *testing.T) {
	path := writeFile(t, "small.json", scenarioJSON)
	check = func(sim.Scenario, *sim.Result) error { panic("the oracle fell over") }
	t.Cleanup(func() { check = sim.Check })
	r := runCLI(t, "", "check", path)
	r.want(t, exitBug, nil, []string{
		"backoffsim: internal error: the oracle fell over\n\n" +
			"This is a bug in backoffsim, not a fault of the command line or the file.\n" +
			"Please report it with the command, the file, and this:\n\ngoroutine ",
		"backoffsim.(*cli).check(",
	})
}

// TestHugeMaxTries: a max_tries near the largest int once made every
// command that simulates panic (exit 2, as a bad file); it is a runaway.
func TestHugeMaxTries(t *testing.T) {
	path := writeFile(t, "huge.json", `{"max_tries": 4611686018427387904, "attempts": [{"outcome": "retryable"}]}`)
	dir := t.TempDir()
	trace := filepath.Join(dir, "huge.jsonl")
	runCLI(t, "", "run", path, "-trace", trace).want(t, 0, []string{"none: a runaway, stopped after 10000 steps"}, nil)
	runCLI(t, "", "check", path).want(t, 1, []string{"the call ran away"}, nil)
	runCLI(t, "", "replay", trace).want(t, 0, []string{"identical: " + trace + ", 10000 steps re-simulated\n" +
		"the call ran away: the simulator stopped it after 10000 steps (sim.MaxSteps)\n"}, nil)
}

// TestCheck_runaway: a call that never ends breaks no rule step by step,
// but check says it ran away, and exits 1.
func TestCheck_runaway(t *testing.T) {
	r := runCLI(t, `{"deadline": "1s", "attempts": [{"outcome": "retryable"}]}`, "check", "-")
	r.want(t, 1, []string{
		"standard input: the call ran away: it had not finished after 10000 steps (sim.MaxSteps), where the simulator stops it\n" +
			"the rules hold on its 10000 steps\n\nThe simulated call, step by step:\n",
		"result    none: a runaway, stopped after 10000 steps (sim.MaxSteps, the simulator's limit) without\n" +
			"            finishing: 10000 attempts, all at 0s, each failing at once with no pause before the\n" +
			"            next, which makes attempts without end (set a pause or max_tries)\n",
	}, nil)
	if strings.Contains(r.stdout, "all rules hold") {
		t.Errorf("check of a runaway says all rules hold:\n%s", r.stdout)
	}
}

// TestReplay_timelineAndSVG: replay shows the timeline of the call it
// re-simulates, as run does, and writes its picture; a divergence names
// the fields that differ.
func TestReplay_timelineAndSVG(t *testing.T) {
	path := writeFile(t, "small.json", scenarioJSON)
	dir := t.TempDir()
	trace, svg := filepath.Join(dir, "small.jsonl"), filepath.Join(dir, "small.svg")
	runCLI(t, "", "run", path, "-trace", trace).want(t, 0, nil, nil)
	timeline := []string{
		"\nThe re-simulated call, step by step:\nscenario  small\n",
		"  180ms  attempt 2 failed: sim: retryable error; pause until 230ms\n",
		"result    success: the value 3 (from attempt 3) after 250ms\n",
	}
	r := runCLI(t, "", "replay", trace, "-timeline", "-svg", svg)
	r.want(t, 0, append(timeline, "identical: "+trace+", 6 steps re-simulated\n", "wrote the picture to "+svg+"\n"), nil)
	b, err := os.ReadFile(svg)
	if err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b)
	if plain := runCLI(t, "", "replay", trace); strings.Contains(plain.stdout, "step by step") {
		t.Errorf("replay without -timeline prints the timeline:\n%s", plain.stdout)
	}

	// A doctored trace: the divergence, then the timeline of the replay.
	content, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	doctored := writeFile(t, "doctored.jsonl", strings.Replace(string(content), `"until":"150ms"`, `"until":"140ms"`, 1))
	r = runCLI(t, "", "replay", "-timeline", doctored)
	r.want(t, 1, append(timeline, doctored+": the re-simulation differs\n"+
		"sim: replay diverges at step 1 (line 3): until differs\n"+
		`  until:    recorded "140ms", replayed "150ms"`+"\n"), nil)
}
