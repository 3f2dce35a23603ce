package sim_test

// Golden traces: every scenario in testdata/scenarios/<name>.json has its
// trace, as the simulator writes it, in testdata/traces/<name>.jsonl.
//
//	go test ./sim -run TestGolden -update
//
// rewrites the traces from the simulator. Review the diff before keeping
// it: TestGoldenOutcomes holds, worked out by hand, what each scenario must
// end with (for the aiomisc_* scenarios, the expectations of the port of
// aiomisc's tests in ../aiomisc_test.go), so a rewrite that changes a
// call's outcome still fails there.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/internal/golden"
)

const (
	goldenScenarioDir = "testdata/scenarios"
	goldenTraceDir    = "testdata/traces"
)

// update is -update: rewrite the golden files (traces) from the simulator
// instead of comparing with them.
var update = flag.Bool("update", false, "rewrite the golden files in testdata from the simulator")

// A goldenCase is one scenario file and the path of its golden trace.
type goldenCase struct {
	name  string // the file's base name, which is also the scenario's name
	trace string // the golden trace's path
	sc    sim.Scenario
}

// goldenCases reads every scenario in testdata/scenarios, in name order.
func goldenCases(t *testing.T) []goldenCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenScenarioDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < 24 {
		t.Fatalf("%d scenarios in %s, want at least 24", len(paths), goldenScenarioDir)
	}
	var gs []goldenCase
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := sim.ParseScenario(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		if sc.Name != name {
			t.Errorf("%s: name is %q, want %q (the file's name)", p, sc.Name, name)
		}
		gs = append(gs, goldenCase{name, filepath.Join(goldenTraceDir, name+".jsonl"), sc})
	}
	return gs
}

// TestGolden runs every scenario and requires its trace to be byte for
// byte the golden one (with -update: writes it). A golden trace without a
// scenario is an error.
func TestGolden(t *testing.T) {
	gs := goldenCases(t)
	if *update {
		if err := os.MkdirAll(goldenTraceDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range gs {
		t.Run(g.name, func(t *testing.T) {
			res, err := sim.Run(g.sc)
			if err != nil {
				t.Fatal(err)
			}
			if res.Runaway {
				t.Fatalf("runaway after %d steps", len(res.Steps))
			}
			got := sim.Encode(g.sc, res.Steps)
			if *update {
				if err := os.WriteFile(g.trace, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(g.trace)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the trace differs from %s (run with -update to rewrite it, then review the diff)\n%s",
					g.trace, golden.FirstDiff(want, got))
			}
		})
	}

	traces, err := filepath.Glob(filepath.Join(goldenTraceDir, "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range traces {
		name := strings.TrimSuffix(filepath.Base(p), ".jsonl")
		if !slices.ContainsFunc(gs, func(g goldenCase) bool { return g.name == name }) {
			t.Errorf("%s has no scenario %s: remove it", p, filepath.Join(goldenScenarioDir, name+".json"))
		}
	}
}

// goldenLines returns the lines of a golden trace, header first, without
// the final newline.
func goldenLines(t *testing.T, g goldenCase) []string {
	t.Helper()
	b, err := os.ReadFile(g.trace)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestGoldenReplay replays every golden trace: the simulator must agree.
func TestGoldenReplay(t *testing.T) {
	for _, g := range goldenCases(t) {
		t.Run(g.name, func(t *testing.T) {
			f, err := os.Open(g.trace)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := sim.Replay(f); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestGoldenReplayDoctored changes one step line of each golden trace in
// memory (its time, one nanosecond later), one line at a time, and
// requires Replay to report a *sim.Divergence at exactly that line, with
// the doctored line as recorded and the true one as replayed. A missing
// last line and an extra line are divergences too.
func TestGoldenReplayDoctored(t *testing.T) {
	for _, g := range goldenCases(t) {
		t.Run(g.name, func(t *testing.T) {
			lines := goldenLines(t, g)
			if len(lines) < 2 {
				t.Fatalf("%s has %d lines, want a header and at least one step", g.trace, len(lines))
			}
			replay := func(lines []string) error {
				return sim.Replay(strings.NewReader(strings.Join(lines, "\n") + "\n"))
			}
			for i := 1; i < len(lines); i++ { // lines[i] is step i-1, the file's line i+1
				var l sim.Line
				if err := json.Unmarshal([]byte(lines[i]), &l); err != nil {
					t.Fatalf("line %d: %v", i+1, err)
				}
				l.At++
				doctored, err := json.Marshal(l)
				if err != nil {
					t.Fatal(err)
				}
				changed := slices.Clone(lines)
				changed[i] = string(doctored)

				err = replay(changed)
				var d *sim.Divergence
				if !errors.As(err, &d) {
					t.Errorf("line %d doctored: Replay = %v, want a *sim.Divergence", i+1, err)
					continue
				}
				if d.Index != i-1 {
					t.Errorf("line %d doctored: Divergence.Index = %d, want %d", i+1, d.Index, i-1)
				}
				if want := fmt.Sprintf("(line %d)", i+1); !strings.Contains(err.Error(), want) {
					t.Errorf("line %d doctored: %q does not say %q", i+1, err, want)
				}
				if got := goldenMarshal(t, d.Recorded); got != string(doctored) {
					t.Errorf("line %d doctored: Divergence.Recorded = %s, want %s", i+1, got, doctored)
				}
				if got := goldenMarshal(t, d.Replayed); got != lines[i] {
					t.Errorf("line %d doctored: Divergence.Replayed = %s, want %s", i+1, got, lines[i])
				}
			}

			last := len(lines) - 1
			var d *sim.Divergence
			if err := replay(lines[:last]); !errors.As(err, &d) || d.Index != last-1 || d.Recorded != nil || d.Replayed == nil {
				t.Errorf("last line removed: Replay = %v, want a *sim.Divergence at step %d with no recorded line", err, last-1)
			}
			if err := replay(append(slices.Clone(lines), lines[last])); !errors.As(err, &d) || d.Index != last || d.Recorded == nil || d.Replayed != nil {
				t.Errorf("last line repeated: Replay = %v, want a *sim.Divergence at step %d with no replayed line", err, last)
			}
		})
	}
}

func goldenMarshal(t *testing.T, l *sim.Line) string {
	t.Helper()
	if l == nil {
		return "(nil)"
	}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A goldenOutcome is how a scenario's call must go, worked out by hand.
type goldenOutcome struct {
	reason   error           // nil: the call succeeded
	last     error           // Error.Last (failure only)
	attempts int             // attempts started; on success, the attempt that succeeded
	elapsed  time.Duration   // when the call returned
	starts   []time.Duration // when each attempt started
	cuts     []string        // if set: "until cut" of each start, "" for none
	ties     []time.Duration // the instants the simulator reports as ties
}

// goldenMsList returns durations in milliseconds.
func goldenMsList(vs ...float64) []time.Duration {
	ds := make([]time.Duration, len(vs))
	for i, v := range vs {
		ds[i] = time.Duration(v * float64(time.Millisecond))
	}
	return ds
}

// goldenEvery returns n instants from 0, step apart.
func goldenEvery(n int, step time.Duration) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = time.Duration(i) * step
	}
	return ds
}

const goldenStep = time.Millisecond

// goldenOutcomes holds the expected end of every scenario. The aiomisc_* ones
// are the expectations of ../aiomisc_test.go (TestAiomisc_<test>), where
// a Python ValueError is sim.ErrRetryable if the test retries it,
// sim.ErrPermanent if it does not, and sim.ErrGiveUp where giveup says
// stop; the others follow from the rules.
var goldenOutcomes = map[string]goldenOutcome{
	// test_kwargs, test_too_long, test_too_long_multiple (one of its two
	// identical calls): the deadline ties the 0.5 s attempt timeout and
	// wins; no failure before it.
	"aiomisc_kwargs":            {backoff.ErrDeadline, nil, 1, 500 * goldenStep, goldenMsList(0), []string{"500ms deadline"}, nil},
	"aiomisc_too_long":          {backoff.ErrDeadline, nil, 1, 500 * goldenStep, goldenMsList(0), []string{"500ms deadline"}, nil},
	"aiomisc_too_long_multiple": {backoff.ErrDeadline, nil, 1, 500 * goldenStep, goldenMsList(0), []string{"500ms deadline"}, nil},
	// test_simple: five failures at 0.05 s each, no pause, the 6th succeeds at 0.25 s.
	"aiomisc_simple": {nil, nil, 6, 250 * goldenStep, goldenEvery(6, 50*goldenStep), nil, nil},
	// test_simple_fail: a ValueError that is not retried, at 0.05 s.
	"aiomisc_simple_fail": {backoff.ErrNotRetryable, sim.ErrPermanent, 1, 50 * goldenStep, goldenMsList(0), nil, nil},
	// test_too_long_multiple_times: D_k = 0.06k for k <= 8, the deadline for the 9th.
	"aiomisc_too_long_multiple_times": {backoff.ErrDeadline, backoff.ErrAttemptTimeout, 9, 500 * goldenStep, goldenEvery(9, 60*goldenStep),
		[]string{"60ms attempt timeout", "120ms attempt timeout", "180ms attempt timeout", "240ms attempt timeout",
			"300ms attempt timeout", "360ms attempt timeout", "420ms attempt timeout", "480ms attempt timeout", "500ms deadline"}, nil},
	// test_exit, its three Go forms. expired_ctx: fn never called (the
	// Go test's Reason is the expired ctx's cause, here the sim's cancel).
	"aiomisc_exit_expired_ctx":        {sim.ErrCanceled, nil, 0, 0, nil, nil, nil},
	"aiomisc_exit_deadline_1ns":       {backoff.ErrDeadline, nil, 1, time.Nanosecond, goldenMsList(0), []string{"1ns deadline"}, nil},
	"aiomisc_exit_deadline_0_is_none": {backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 10, 500 * goldenStep, goldenEvery(10, 50*goldenStep), nil, nil},
	// test_pause: attempts at 0, 0.4, 0.8; the third pause would end at
	// the deadline (1.2 s), so the call ends at 0.85 s (rule 5).
	"aiomisc_pause": {backoff.ErrDeadline, backoff.ErrAttemptTimeout, 3, 850 * goldenStep, goldenMsList(0, 400, 800), nil, nil},
	// test_no_waterline: attempt k from 0.1(k-1) to 0.1k; the 10th ends
	// exactly at the deadline, so its error is the cut and Last is the
	// 9th's ValueError.
	"aiomisc_no_waterline": {backoff.ErrDeadline, sim.ErrRetryable, 10, time.Second, goldenEvery(10, 100*goldenStep), nil, goldenMsList(1000)},
	// test_no_deadline[0.5], [1]: (n-1) timeouts of 0.15 s, then 0.1 s.
	"aiomisc_no_deadline_05": {nil, nil, 5, 700 * goldenStep, goldenEvery(5, 150*goldenStep), nil, nil},
	"aiomisc_no_deadline_1":  {nil, nil, 10, 1450 * goldenStep, goldenEvery(10, 150*goldenStep), nil, nil},
	// test_max_tries[N]: N instant failures.
	"aiomisc_max_tries_1": {backoff.ErrMaxTries, sim.ErrRetryable, 1, 0, goldenEvery(1, 0), nil, nil},
	"aiomisc_max_tries_2": {backoff.ErrMaxTries, sim.ErrRetryable, 2, 0, goldenEvery(2, 0), nil, nil},
	"aiomisc_max_tries_5": {backoff.ErrMaxTries, sim.ErrRetryable, 5, 0, goldenEvery(5, 0), nil, nil},
	// test_giveup[max_mana]: GiveUp says stop on attempt max_mana; Last is
	// the error it saw.
	"aiomisc_giveup_1": {backoff.ErrGaveUp, sim.ErrGiveUp, 1, 0, goldenEvery(1, 0), nil, nil},
	"aiomisc_giveup_2": {backoff.ErrGaveUp, sim.ErrGiveUp, 2, 0, goldenEvery(2, 0), nil, nil},
	"aiomisc_giveup_5": {backoff.ErrGaveUp, sim.ErrGiveUp, 5, 0, goldenEvery(5, 0), nil, nil},
	// test_last_exception_is_last: the timeout at 1 s, then TestExc at once.
	"aiomisc_last_exception_is_last": {backoff.ErrNotRetryable, sim.ErrPermanent, 2, time.Second, goldenMsList(0, 1000), nil, nil},
	// test_asyncbackoff_retry, test_asyncretry, test_asyncretry_class: 5 instant failures.
	"aiomisc_asyncbackoff_retry": {backoff.ErrMaxTries, sim.ErrRetryable, 5, 0, goldenEvery(5, 0), nil, nil},
	"aiomisc_asyncretry":         {backoff.ErrMaxTries, sim.ErrRetryable, 5, 0, goldenEvery(5, 0), nil, nil},
	"aiomisc_asyncretry_class":   {backoff.ErrMaxTries, sim.ErrRetryable, 5, 0, goldenEvery(5, 0), nil, nil},

	// Rule 1: success returns at once.
	"rule1_success_at_once": {nil, nil, 1, 0, goldenMsList(0), nil, nil},
	// Rule 2/3: an error returned exactly at the attempt timeout is the timeout.
	"rule2_attempt_ends_at_its_timeout": {backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 2, 200 * goldenStep, goldenMsList(0, 100), nil, goldenMsList(100, 200)},
	// Rule 3: a success that arrives at, or after, the cut is a success.
	"rule3_success_at_timeout_tie":          {nil, nil, 1, 100 * goldenStep, goldenMsList(0), nil, goldenMsList(100)},
	"rule3_cooperative_ignore_late_success": {nil, nil, 1, 300 * goldenStep, goldenMsList(0), []string{"100ms attempt timeout"}, nil},
	// Rule 3, Abandon: the call goes on at each cut, whatever fn does.
	"rule3_abandon_hang_ignores_context": {backoff.ErrDeadline, backoff.ErrAttemptTimeout, 3, 250 * goldenStep, goldenMsList(0, 100, 200),
		[]string{"100ms attempt timeout", "200ms attempt timeout", "250ms deadline"}, nil},
	"rule3_abandon_late_success_discarded": {backoff.ErrMaxTries, backoff.ErrAttemptTimeout, 3, 300 * goldenStep, goldenMsList(0, 100, 200), nil, nil},
	// Rule 4: the deadline cuts attempt 2 at 300ms; it returns 50ms late.
	"rule4_deadline_cuts_cooperative_late": {backoff.ErrDeadline, sim.ErrRetryable, 2, 350 * goldenStep, goldenMsList(0, 150), []string{"300ms deadline", "300ms deadline"}, nil},
	// Rule 4: attempt 2's timeout (400ms) ties the deadline, which wins.
	"rule4_attempt_timeout_ties_deadline": {backoff.ErrDeadline, backoff.ErrAttemptTimeout, 2, 400 * goldenStep, goldenMsList(0, 200),
		[]string{"200ms attempt timeout", "400ms deadline"}, nil},
	// Rule 5: the second pause would end at the deadline: return at 200ms.
	"rule5_pause_ends_at_deadline": {backoff.ErrDeadline, sim.ErrRetryable, 2, 200 * goldenStep, goldenMsList(0, 150), nil, nil},
	// Rule 6.
	"rule6_zero_pause_to_max_tries": {backoff.ErrMaxTries, sim.ErrRetryable, 4, 0, goldenEvery(4, 0), nil, nil},
	"rule6_pause_between_attempts":  {nil, nil, 3, 670 * goldenStep, goldenMsList(0, 280, 630), nil, nil},
	// Rule 7: not retryable after a timeout: Last is the new error.
	"rule7_not_retryable_after_timeout": {backoff.ErrNotRetryable, sim.ErrPermanent, 2, 170 * goldenStep, goldenMsList(0, 150), nil, nil},
	// Rule 8: MaxTries first, GiveUp not asked on the last try.
	"rule8_max_tries_before_giveup_on_last_try": {backoff.ErrMaxTries, sim.ErrGiveUp, 3, 50 * goldenStep, goldenMsList(0, 20, 40), nil, nil},
	"rule8_giveup_before_last_try":              {backoff.ErrGaveUp, sim.ErrGiveUp, 2, 30 * goldenStep, goldenMsList(0, 20), nil, nil},
	// Rule 9.
	"rule9_cancel_at_zero":                         {sim.ErrCanceled, nil, 0, 0, nil, nil, nil},
	"rule9_cancel_during_pause":                    {sim.ErrCanceled, sim.ErrRetryable, 1, 500 * goldenStep, goldenMsList(0), nil, nil},
	"rule9_cancel_during_cooperative_attempt_late": {sim.ErrCanceled, sim.ErrRetryable, 2, 230 * goldenStep, goldenMsList(0, 50), nil, nil},
	"rule9_cancel_during_abandoned_attempt":        {sim.ErrCanceled, sim.ErrRetryable, 2, 200 * goldenStep, goldenMsList(0, 50), nil, nil},
	// Rule 9 at a tie: the cancel falls due as the pause ends (200ms). Tie
	// 0 is the pause's end against the cancel, tie 1 whether the executor
	// has seen the cancel when it reports the pause's end. Unflipped, it
	// has not: attempt 2 starts with its context already done, and returns
	// at once. Flip 0: the cancel comes first. Flip 1: the end of the pause
	// is reported with the cancel. Either way fn is not called again.
	"rule9_cancel_ties_pause_end":       {sim.ErrCanceled, sim.ErrRetryable, 2, 200 * goldenStep, goldenMsList(0, 200), nil, goldenMsList(200, 200)},
	"rule9_cancel_ties_pause_end_flip0": {sim.ErrCanceled, sim.ErrRetryable, 1, 200 * goldenStep, goldenMsList(0), nil, goldenMsList(200)},
	"rule9_cancel_ties_pause_end_flip1": {sim.ErrCanceled, sim.ErrRetryable, 1, 200 * goldenStep, goldenMsList(0), nil, goldenMsList(200, 200)},

	// Rule 9 with the caller's deadline at 450ms: attempts [0,150] and
	// [250,400]; the next pause would end at 500ms, past it: the call
	// ends at once, with context.DeadlineExceeded.
	"rule9_caller_deadline_pause": {context.DeadlineExceeded, sim.ErrRetryable, 2, 400 * goldenStep, goldenMsList(0, 250), nil, nil},
	// The caller's deadline (250ms) cuts attempt 2 (from 150ms), which
	// returns at once: the end of the caller's context, with its cause.
	"rule9_caller_deadline_cuts_attempt": {context.DeadlineExceeded, sim.ErrRetryable, 2, 250 * goldenStep, goldenMsList(0, 150), nil, nil},
	// The caller's deadline (250ms) seen 7ms late, as a real timer may be:
	// attempt 2 (from 150ms, no time limit of its own) hangs until the
	// caller's context is done, at 257ms.
	"rule9_caller_deadline_seen_late": {context.DeadlineExceeded, sim.ErrRetryable, 2, 257 * goldenStep, goldenMsList(0, 150), nil, nil},

	// Rule 6 with the pause fields. Growth 2 from 100ms, capped at 500ms:
	// pauses of 100, 200, 400, 500, 500ms between attempts of 10ms.
	"rule6_growth_capped": {backoff.ErrMaxTries, sim.ErrRetryable, 6, 1760 * goldenStep, goldenMsList(0, 110, 320, 730, 1240, 1750), nil, nil},
	// Seeded jitter, attempts of 10ms. Worked out apart from package sim:
	// the k-th number r of rand.NewPCG(seed, sim.SeedStream), a uniform
	// number in [0, n] as floor(r × (n+1) / 2^64) with math/big, and the
	// definitions of backoff.Jitter. Full and equal: b = 100, 200, 300
	// (400 capped), 300ms; full is uniform in [0, b], equal b/2 plus
	// uniform in [0, b/2]. Decorrelated: 100ms plus uniform in [0, max(100ms,
	// 3 × the previous pause) - 100ms], capped at 1s, the previous pause of
	// the first being 100ms (so the first is within [100ms, 300ms]).
	// A pause whose timer fires 3ms late (pause_late), as a real one may:
	// attempt 2 starts at 113ms, and the next pause counts from its end.
	"rule6_pause_ends_late": {nil, nil, 3, 233 * goldenStep, goldenMsList(0, 113, 223), nil, nil},
	// The random numbers a recorded call drew (rand), not the seed's: 2^63
	// spreads the 100ms pause to half of it, 0 to none.
	"rule6_jitter_recorded_rand": {nil, nil, 3, 80 * goldenStep, goldenMsList(0, 60, 70), nil, nil},
	"rule6_jitter_full_seeded": {backoff.ErrMaxTries, sim.ErrRetryable, 5, 451_367_397,
		[]time.Duration{0, 40_134_167, 154_429_995, 307_132_868, 441_367_397}, nil, nil},
	"rule6_jitter_equal_seeded": {backoff.ErrMaxTries, sim.ErrRetryable, 5, 675_235_858,
		[]time.Duration{0, 98_380_163, 210_551_538, 398_562_247, 665_235_858}, nil, nil},
	"rule6_jitter_decorrelated_seeded": {backoff.ErrMaxTries, sim.ErrRetryable, 6, 2_091_791_052,
		[]time.Duration{0, 300_235_911, 475_685_761, 941_148_378, 1_814_009_919, 2_081_791_052}, nil, nil},
	// A delay hint is a floor and is not capped: attempt 1 asks for 300ms
	// (max_pause is 100ms), attempt 2 for 20ms, less than the 50ms pause.
	"rule6_hint_is_a_floor": {nil, nil, 3, 380 * goldenStep, goldenMsList(0, 310, 370), nil, nil},
	// Rule 5 with a hint: attempt 2 fails at 200ms asking for 800ms, which
	// would end at the deadline (1s): the call ends at once. Last is its
	// error (carrying the hint).
	"rule5_hint_reaches_deadline": {backoff.ErrDeadline, sim.ErrRetryable, 2, 200 * goldenStep, goldenMsList(0, 150),
		[]string{"1s deadline", "1s deadline"}, nil},
}

// goldenSameLast reports whether got is the error want, or (from an
// attempt with a retry_after) want carrying a delay hint.
func goldenSameLast(got, want error) bool {
	if got == want {
		return true
	}
	h, ok := got.(interface{ RetryAfter() time.Duration })
	return ok && h.RetryAfter() > 0 && errors.Unwrap(got) == want
}

// TestGoldenOutcomes checks every golden trace against the outcome worked
// out by hand in goldenOutcomes: when each attempt started (and how it was to
// be cut), and how the call ended; and the simulator's ties and value.
func TestGoldenOutcomes(t *testing.T) {
	gs := goldenCases(t)
	for _, g := range gs {
		t.Run(g.name, func(t *testing.T) {
			want, ok := goldenOutcomes[g.name]
			if !ok {
				t.Fatalf("no expected goldenOutcome for %s: add one to goldenOutcomes", g.name)
			}
			f, err := os.Open(g.trace)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			tr, err := sim.ReadTrace(f)
			if err != nil {
				t.Fatal(err)
			}

			var starts []time.Duration
			var cuts []string
			for _, l := range tr.Lines {
				if l.Action == "start" {
					starts = append(starts, l.At.D())
					cut := ""
					if l.Until != nil {
						cut = l.Until.String() + " " + l.Cut
					}
					cuts = append(cuts, cut)
				}
			}
			if !slices.Equal(starts, want.starts) {
				t.Errorf("attempts started at %v, want %v", starts, want.starts)
			}
			if want.cuts != nil && !slices.Equal(cuts, want.cuts) {
				t.Errorf("attempts cut at %q, want %q", cuts, want.cuts)
			}

			end := tr.Lines[len(tr.Lines)-1]
			if end.Action != "finish" {
				t.Fatalf("the last line's action is %q, want finish", end.Action)
			}
			if end.At.D() != want.elapsed {
				t.Errorf("finished at %v, want %v", end.At, want.elapsed)
			}
			res, err := sim.Run(tr.Scenario)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Ties, want.ties) {
				t.Errorf("ties at %v, want %v", res.Ties, want.ties)
			}
			if want.reason == nil {
				if end.Outcome != "succeeded" || end.Reason != "" {
					t.Errorf("the call ended with goldenOutcome %q, reason %q; want success", end.Outcome, end.Reason)
				}
				if res.Err != nil || res.Value != want.attempts {
					t.Errorf("Run = %d, %v; want %d (the attempt that succeeded), nil", res.Value, res.Err, want.attempts)
				}
				return
			}
			if end.Reason != want.reason.Error() {
				t.Errorf("reason %q, want %q", end.Reason, want.reason)
			}
			wantLast := ""
			if want.last != nil {
				wantLast = want.last.Error()
			}
			if end.Last != wantLast {
				t.Errorf("last %q, want %q", end.Last, wantLast)
			}
			if end.Attempts != want.attempts {
				t.Errorf("%d attempts, want %d", end.Attempts, want.attempts)
			}
			if end.Elapsed == nil || end.Elapsed.D() != want.elapsed {
				t.Errorf("elapsed %v, want %v", end.Elapsed, want.elapsed)
			}
			var be *backoff.Error
			if !errors.As(res.Err, &be) || be.Reason != want.reason || !goldenSameLast(be.Last, want.last) {
				t.Errorf("Run's error = %v, want Reason %v and Last %v", res.Err, want.reason, want.last)
			}
		})
	}
	for name := range goldenOutcomes {
		if !slices.ContainsFunc(gs, func(g goldenCase) bool { return g.name == name }) {
			t.Errorf("goldenOutcomes has %s, which has no scenario", name)
		}
	}
}
