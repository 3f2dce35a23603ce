// Command backoffsim simulates a call of backoff.Do in virtual time and
// shows it: a timeline in the terminal, a trace to replay, a picture, and
// a check of every rule. A scenario (JSON) gives the policy's numbers and
// a script for the attempts; see package sim. It also simulates a load:
// many calls against a dependency that fails, with and without a retry
// budget, to show what retries multiply the dependency's load by; see
// package sim/load.
//
//	backoffsim                      simulate the built-in example
//	backoffsim run FILE.json [-trace OUT.jsonl] [-svg OUT.svg]
//	backoffsim check FILE.json      check every rule on the simulated call
//	backoffsim replay TRACE.jsonl [-timeline] [-svg OUT.svg]
//	                                re-simulate a trace, report any difference
//	backoffsim default              print the built-in scenario, to edit
//	backoffsim load [NAME|FILE.json] [-svg OUT.svg] [-json]
//	                                simulate a load: an example or a file
//
// It tells a scenario, a trace and a load apart, and says which command
// reads a file given to another. What is wrong with a file is said with
// its line and column.
//
// Exit status: 0 all went well; 1 the replay differs, a rule is broken, or
// the call ran away (it had not finished after sim.MaxSteps steps); 2 a
// bad command line, or a file that cannot be read or written; 3 a bug in
// backoffsim (it says so, with where it happened), never a bad file.
package main

import (
	"bytes"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/load"
)

// defaultScenario is what backoffsim simulates with no arguments: every
// rule at work in one call.
//
//go:embed default.json
var defaultScenario []byte

const usage = `backoffsim simulates a call of backoff.Do in virtual time and shows it.

Usage:
  backoffsim                     simulate the built-in example, show it
  backoffsim run FILE.json [-trace OUT.jsonl] [-svg OUT.svg]
                                 simulate a scenario and show its
                                 timeline; write its trace, its picture
  backoffsim check FILE.json     simulate a scenario, check every rule,
                                 and that the call ends
  backoffsim replay TRACE.jsonl [-timeline] [-svg OUT.svg]
                                 re-simulate a trace; show the first step
                                 that differs, if one does, field by
                                 field; show the call's timeline, write
                                 its picture
  backoffsim default             print the built-in scenario, to edit
  backoffsim load [NAME|FILE.json] [-svg OUT.svg] [-json]
                                 simulate a load: many calls against a
                                 dependency that fails, with and without
                                 a retry budget; show the attempts per
                                 call and the success rate over time, and
                                 write a picture. NAME is an example:
                                 retry-budget (the default) or
                                 retry-storm. -json prints the load
                                 instead, to edit
  backoffsim help                show this

FILE "-" is standard input. backoffsim tells a scenario, a trace and a
load apart, and says which command reads the one you gave. It refuses an
unknown field, and a field given twice, saying where (line, column).
Exit status: 0 all went well; 1 the replay differs, a rule is broken or
the call ran away; 2 a bad command line or file; 3 a bug in backoffsim.

A scenario is JSON; durations are strings such as "150ms":
  {"attempt_timeout": "250ms", "deadline": "1s", "pause": "100ms",
   "max_tries": 5, "abandon": false, "cancel_at": "900ms",
   "attempts": [
     {"outcome": "hang"},
     {"takes": "50ms", "outcome": "retryable"},
     {"takes": "2s", "outcome": "ok", "on_cancel": "late", "late": "20ms"}]}
  outcome:   ok, retryable, not-retryable, give-up or hang
  on_cancel: at-once (the default), late (after "late"), or ignore
"abandon": true wraps the operation in backoff.Abandon: an attempt whose
context is done ends then, whatever its on_cancel says. "caller_deadline":
"1.5s" gives the caller's context a deadline, which the call knows from
the start (cancel_at cancels it instead, with no warning).
Attempts past the list repeat its last entry. Leave a limit out for none.
Each duration is at most 24h (sim.MaxDuration). A call is simulated for
at most 10000 steps (sim.MaxSteps), about 5000 attempts: one that has not
finished by then is a runaway, and check exits 1 for it.
Pauses can grow and spread: "growth": 2, "max_pause": "1s", "jitter":
none, full, equal or decorrelated, drawn from "seed"; an attempt's
"retry_after": "300ms" makes its error carry that delay hint.

A trace is JSON Lines: a header with the scenario, then one line a step.
Of a trace recorded from backoff.Do (sim.Recorder), replay compares all
but the operation's own error texts, which no simulation reproduces.

A load is JSON too: calls, every (between arrivals), takes (each
attempt), down (from, to: the dependency fails every attempt then),
fail_rate and seed (it fails at random otherwise), bucket (the report's
grain), budget (ratio, per_second, burst), and the policy's numbers as
in a scenario, with growth, max_pause and jitter (none, full, equal,
decorrelated). 'backoffsim load -json' prints an example.
`

// check is the oracle the check command applies (a test replaces it).
var check = sim.Check

// exitBug is the exit status of a panic: a bug in backoffsim, never a
// bad command line or file (2, the status Go gives a panic, is theirs).
const exitBug = 3

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run runs the command line args (without the program's name) and returns
// the exit status. A panic is a bug: run says so, with the stack, and
// returns exitBug.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "backoffsim: internal error: %v\n\n"+
				"This is a bug in backoffsim, not a fault of the command line or the file.\n"+
				"Please report it with the command, the file, and this:\n\n%s", r, debug.Stack())
			status = exitBug
		}
	}()
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return c.runDefault()
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return c.run(args)
	case "check":
		return c.check(args)
	case "replay":
		return c.replay(args)
	case "default":
		return c.printDefault(args)
	case "load":
		return c.load(args)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "backoffsim: no command %q\n\n%s", cmd, usage)
	return 2
}

// cli carries a run's streams.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// usageError reports a problem with the command line and returns 2.
func (c *cli) usageError(cmd, format string, args ...any) int {
	c.fail(cmd, format, args...)
	fmt.Fprintln(c.stderr, "Run 'backoffsim help' for usage.")
	return 2
}

// fail reports a problem with a file and returns 2.
func (c *cli) fail(cmd, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "%s: %s\n", strings.TrimSpace("backoffsim "+cmd), fmt.Sprintf(format, args...))
	return 2
}

// parse parses args for cmd, flags and positional arguments in any order,
// and returns the positional ones. It returns ok == false with the exit
// status when there is nothing more to do (help asked, or a bad flag).
func (c *cli) parse(cmd string, fs *flag.FlagSet, args []string, want int, what string) (pos []string, status int, ok bool) {
	return c.parseRange(cmd, fs, args, want, want, what)
}

// parseRange is parse for a command that takes from least to most
// positional arguments.
func (c *cli) parseRange(cmd string, fs *flag.FlagSet, args []string, least, most int, what string) (pos []string, status int, ok bool) {
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(c.stdout, usage)
				return nil, 0, false
			}
			return nil, c.usageError(cmd, "%v", err), false
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	switch {
	case len(pos) < least:
		return nil, c.usageError(cmd, "want %s", what), false
	case len(pos) > most:
		return nil, c.usageError(cmd, "want only %s; got also %q", what, pos[most:]), false
	}
	return pos, 0, true
}

// read returns the content of the file name, or of stdin for "-".
func (c *cli) read(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(c.stdin)
	}
	return os.ReadFile(name)
}

// wrongKind reports, and returns true, if b (the content of the file
// name) is of another kind than cmd reads, saying which command reads it.
func (c *cli) wrongKind(cmd, name string, b []byte, want kind) (int, bool) {
	if k := kindOf(b); k != unknownKind && k != want {
		return c.fail(cmd, "%s: this is %v, not %v; %s", displayName(name), k, want, k.use(name)), true
	}
	return 0, false
}

// scenario reads and simulates the scenario in the file name.
func (c *cli) scenario(cmd, name string) (sim.Scenario, *sim.Result, int, bool) {
	b, err := c.read(name)
	if err != nil {
		return sim.Scenario{}, nil, c.fail(cmd, "%v", err), false
	}
	if status, wrong := c.wrongKind(cmd, name, b, scenarioKind); wrong {
		return sim.Scenario{}, nil, status, false
	}
	sc, err := sim.ParseScenario(b)
	if err != nil {
		return sim.Scenario{}, nil, c.fail(cmd, "%s: %v", displayName(name), indentLines(err.Error())), false
	}
	res, err := sim.Run(sc)
	if err != nil {
		return sim.Scenario{}, nil, c.fail(cmd, "%s: %v", displayName(name), err), false
	}
	return sc, res, 0, true
}

func displayName(name string) string {
	if name == "-" {
		return "standard input"
	}
	return name
}

// indentLines puts each line after the first of a joined error on a line
// of its own, indented.
func indentLines(s string) string {
	return strings.ReplaceAll(s, "\n", "\n  ")
}

func (c *cli) runDefault() int {
	sc, err := sim.ParseScenario(defaultScenario)
	if err != nil {
		return c.fail("", "the built-in scenario: %v", err) // a test makes sure it does not
	}
	res, err := sim.Run(sc)
	if err != nil {
		return c.fail("", "the built-in scenario: %v", err)
	}
	if err := sim.Timeline(c.stdout, sc, res); err != nil {
		return c.fail("", "%v", err)
	}
	fmt.Fprint(c.stdout, "\nThis is the built-in example; 'backoffsim help' tells how to simulate yours.\n")
	return 0
}

func (c *cli) run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	tracePath := fs.String("trace", "", "write the trace (JSON Lines) to this file")
	svgPath := fs.String("svg", "", "write the picture (SVG) to this file")
	pos, status, ok := c.parse("run", fs, args, 1, "a scenario file (FILE.json, or - for standard input)")
	if !ok {
		return status
	}
	sc, res, status, ok := c.scenario("run", pos[0])
	if !ok {
		return status
	}
	if err := sim.Timeline(c.stdout, sc, res); err != nil {
		return c.fail("run", "%v", err)
	}
	if status, ok := c.write("run", *tracePath, "trace", func(w io.Writer) error { return sim.WriteTrace(w, sc, res.Steps) }); !ok {
		return status
	}
	if status, ok := c.write("run", *svgPath, "picture", func(w io.Writer) error { return sim.SVG(w, sc, res) }); !ok {
		return status
	}
	return 0
}

// write writes what (a trace, a picture) to the file path, if one is
// given, with write, and says so.
func (c *cli) write(cmd, path, what string, write func(io.Writer) error) (int, bool) {
	if path == "" {
		return 0, true
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return c.fail(cmd, "%s: %v", what, err), false
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return c.fail(cmd, "cannot write the %s: %v", what, err), false
	}
	fmt.Fprintf(c.stdout, "wrote the %s to %s\n", what, path)
	return 0, true
}

func (c *cli) check(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	pos, status, ok := c.parse("check", fs, args, 1, "a scenario file (FILE.json, or - for standard input)")
	if !ok {
		return status
	}
	sc, res, status, ok := c.scenario("check", pos[0])
	if !ok {
		return status
	}
	err := check(sc, res)
	if err == nil && !res.Runaway {
		fmt.Fprintf(c.stdout, "all rules hold: %s, %d steps\n", displayName(pos[0]), len(res.Steps))
		return 0
	}
	if res.Runaway {
		// Every rule can hold on the steps of a call that never ends.
		fmt.Fprintf(c.stdout, "%s: the call ran away: it had not finished after %d steps (sim.MaxSteps), where the simulator stops it\n",
			displayName(pos[0]), len(res.Steps))
	}
	if err == nil {
		fmt.Fprintf(c.stdout, "the rules hold on its %d steps\n", len(res.Steps))
	} else {
		var all []error
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			all = j.Unwrap()
		} else {
			all = []error{err}
		}
		fmt.Fprintf(c.stdout, "%s: %d rule violations\n", displayName(pos[0]), len(all))
		for _, v := range all {
			fmt.Fprintf(c.stdout, "  %s\n", v)
		}
	}
	fmt.Fprintln(c.stdout, "\nThe simulated call, step by step:")
	if err := sim.Timeline(c.stdout, sc, res); err != nil {
		return c.fail("check", "%v", err)
	}
	return 1
}

func (c *cli) replay(args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	timeline := fs.Bool("timeline", false, "print the timeline of the re-simulated call")
	svgPath := fs.String("svg", "", "write the picture (SVG) of the re-simulated call to this file")
	pos, status, ok := c.parse("replay", fs, args, 1, "a trace file (TRACE.jsonl, or - for standard input)")
	if !ok {
		return status
	}
	name := displayName(pos[0])
	b, err := c.read(pos[0])
	if err != nil {
		return c.fail("replay", "%v", err)
	}
	if status, wrong := c.wrongKind("replay", pos[0], b, traceKind); wrong {
		return status
	}
	t, err := sim.ReadTrace(bytes.NewReader(b))
	if err != nil {
		return c.fail("replay", "%s: %v", name, indentLines(err.Error()))
	}
	res, err := sim.Run(t.Scenario)
	if err != nil {
		return c.fail("replay", "%s: %v", name, err)
	}
	err = sim.Replay(bytes.NewReader(b))
	var d *sim.Divergence
	switch {
	case errors.As(err, &d):
		fmt.Fprintf(c.stdout, "%s: the re-simulation differs\n%v\n", name, d)
		status = 1
	case err != nil:
		return c.fail("replay", "%s: %v", name, err)
	default:
		fmt.Fprintf(c.stdout, "identical: %s, %d steps re-simulated\n", name, len(t.Lines))
	}
	if res.Runaway {
		fmt.Fprintf(c.stdout, "the call ran away: the simulator stopped it after %d steps (sim.MaxSteps)\n", len(res.Steps))
	}
	if *timeline {
		fmt.Fprintln(c.stdout, "\nThe re-simulated call, step by step:")
		if t.Recorded {
			fmt.Fprintln(c.stdout, "(a recorded call: its errors read as the simulator's, not as the operation's)")
		}
		if err := sim.Timeline(c.stdout, t.Scenario, res); err != nil {
			return c.fail("replay", "%v", err)
		}
	}
	if status, ok := c.write("replay", *svgPath, "picture", func(w io.Writer) error { return sim.SVG(w, t.Scenario, res) }); !ok {
		return status
	}
	return status
}

func (c *cli) printDefault(args []string) int {
	fs := flag.NewFlagSet("default", flag.ContinueOnError)
	if _, status, ok := c.parse("default", fs, args, 0, "no argument"); !ok {
		return status
	}
	c.stdout.Write(defaultScenario)
	return 0
}

// defaultLoad is the example load simulates with no argument: a storm,
// and the budget stopping it.
const defaultLoad = "retry-budget"

// isFile says whether load's argument name is a file rather than an
// example's name: standard input, a name with a dot or a slash (an
// example's has neither), or a file that exists.
func isFile(name string) bool {
	if slices.Contains(load.Examples(), name) {
		return false
	}
	_, err := os.Stat(name)
	return name == "-" || strings.ContainsAny(name, `./\`) || err == nil
}

func (c *cli) load(args []string) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	svgPath := fs.String("svg", "", "write the picture (SVG) to this file")
	printJSON := fs.Bool("json", false, "print the load (JSON) instead of simulating it")
	pos, status, ok := c.parseRange("load", fs, args, 0, 1,
		"an example's name ("+strings.Join(load.Examples(), ", ")+") or a load file (FILE.json, or - for standard input)")
	if !ok {
		return status
	}
	name := defaultLoad
	if len(pos) > 0 {
		name = pos[0]
	}
	var b []byte
	var err error
	if isFile(name) {
		b, err = c.read(name)
	} else {
		b, err = load.Example(name)
	}
	if err != nil {
		return c.fail("load", "%v", err)
	}
	if status, wrong := c.wrongKind("load", name, b, loadKind); wrong {
		return status
	}
	sc, err := load.Parse(b)
	if err != nil {
		return c.fail("load", "%s: %v", displayName(name), indentLines(err.Error()))
	}
	if *printJSON {
		c.stdout.Write(b)
		return 0
	}
	r, err := load.Run(sc)
	if err != nil {
		return c.fail("load", "%s: %v", displayName(name), err)
	}
	if err := load.Table(c.stdout, r); err != nil {
		return c.fail("load", "%v", err)
	}
	status, _ = c.write("load", *svgPath, "picture", func(w io.Writer) error { return load.SVG(w, r) })
	return status
}
