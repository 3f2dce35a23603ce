package main

import (
	"bytes"
	"io"
	"testing"

	"github.com/timebound/backoff/sim"
)

// FuzzCommands feeds any bytes to run, check and replay, as a file on
// standard input: no input may crash them (exit 3), and each ends with a
// status it documents.
func FuzzCommands(f *testing.F) {
	sc, err := sim.ParseScenario([]byte(scenarioJSON))
	if err != nil {
		f.Fatal(err)
	}
	res, err := sim.Run(sc)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		scenarioJSON,
		string(sim.Encode(sc, res.Steps)),
		`{"max_tries": 4611686018427387904, "attempts": [{"outcome": "retryable"}]}`,
		`{"max_tries": 9223372036854775807, "pause": "24h", "growth": 2, "max_pause": "24h", "attempts": [{"outcome": "give-up", "retry_after": "24h"}]}`,
		`{"deadline": "1ns", "caller_deadline": "1ns", "cancel_at": "0s", "abandon": true, "attempts": [{"outcome": "hang", "on_cancel": "late", "late": "24h"}]}`,
		`{"jitter": "decorrelated", "pause": "1ns", "seed": 18446744073709551615, "max_tries": 5000, "attempts": [{"outcome": "retryable"}]}`,
		loadJSON,
	} {
		for cmd := range byte(3) {
			f.Add(cmd, []byte(seed))
		}
	}
	f.Fuzz(func(t *testing.T, cmd byte, file []byte) {
		name := []string{"run", "check", "replay"}[cmd%3]
		code := run([]string{name, "-"}, bytes.NewReader(file), io.Discard, io.Discard)
		if code != 0 && code != 1 && code != 2 {
			var stderr bytes.Buffer
			run([]string{name, "-"}, bytes.NewReader(file), io.Discard, &stderr)
			t.Fatalf("backoffsim %s of %q: exit %d\n%s", name, file, code, stderr.String())
		}
	})
}
