package main

import (
	"path/filepath"
	"testing"
)

// TestKind: a file given to a command that reads another kind is refused
// (exit 2), saying what it is and which command reads it; exact messages.
func TestKind(t *testing.T) {
	dir := t.TempDir()
	scenario := writeFile(t, "s.json", scenarioJSON)
	load := writeFile(t, "l.json", loadJSON)
	trace := filepath.Join(dir, "t.jsonl")
	runCLI(t, "", "run", scenario, "-trace", trace).want(t, 0, nil, nil)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", trace}, "backoffsim run: " + trace + ": this is a trace, not a scenario; to re-simulate it: backoffsim replay " + trace + "\n"},
		{[]string{"check", trace}, "backoffsim check: " + trace + ": this is a trace, not a scenario; to re-simulate it: backoffsim replay " + trace + "\n"},
		{[]string{"load", trace}, "backoffsim load: " + trace + ": this is a trace, not a load; to re-simulate it: backoffsim replay " + trace + "\n"},
		{[]string{"run", load}, "backoffsim run: " + load + ": this is a load, not a scenario; to simulate it: backoffsim load " + load + "\n"},
		{[]string{"check", load}, "backoffsim check: " + load + ": this is a load, not a scenario; to simulate it: backoffsim load " + load + "\n"},
		{[]string{"replay", load}, "backoffsim replay: " + load + ": this is a load, not a trace; to simulate it: backoffsim load " + load + "\n"},
		{[]string{"replay", scenario}, "backoffsim replay: " + scenario + ": this is a scenario, not a trace; to simulate it: backoffsim run " +
			scenario + " (-trace OUT.jsonl writes its trace), or backoffsim check " + scenario + "\n"},
		{[]string{"load", scenario}, "backoffsim load: " + scenario + ": this is a scenario, not a load; to simulate it: backoffsim run " +
			scenario + " (-trace OUT.jsonl writes its trace), or backoffsim check " + scenario + "\n"},
	} {
		r := runCLI(t, "", tc.args...)
		r.want(t, 2, nil, nil)
		if r.stderr != tc.want || r.stdout != "" {
			t.Errorf("%q: stderr\n%s\nwant\n%s(and stdout %q empty)", tc.args, r.stderr, tc.want, r.stdout)
		}
	}
	// Standard input too.
	runCLI(t, scenarioJSON, "replay", "-").want(t, 2, nil, []string{"backoffsim replay: standard input: this is a scenario, not a trace; to simulate it: backoffsim run -"})
}

func TestKindOf(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want kind
	}{
		{scenarioJSON, scenarioKind},
		{`{"pause": "1s", "flip": [0]}`, scenarioKind}, // no attempts: the reader says so
		{`{"Attempts": []}`, scenarioKind},
		{loadJSON, loadKind},
		{`{"bucket": "1s"}`, loadKind},
		{`{"format":"backoff-trace","version":1,"scenario":{}}` + "\n{}\n", traceKind},
		{`{"format":"other","version":9,"scenario":{}}`, traceKind}, // the reader names the format
		{`{"attempts": [], "calls": 3}`, unknownKind},
		{`{"pause": "1s"}`, unknownKind},
		{`[1]`, unknownKind},
		{`{"attempts": [`, unknownKind},
		{``, unknownKind},
	} {
		if got := kindOf([]byte(tc.in)); got != tc.want {
			t.Errorf("kindOf(%s) = %v; want %v", tc.in, got, tc.want)
		}
	}
}
