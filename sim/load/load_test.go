package load_test

// Loads: hand-computed runs, the examples' golden reports, strict
// decoding, determinism and the picture.
//
//	go test ./sim/load -run TestExamples -update
//
// rewrites testdata/<name>.golden from the simulator. Review the diff:
// TestExamples also holds, by hand, the numbers that show each
// example does what it is for.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"math/bits"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/internal/golden"
	"github.com/timebound/backoff/sim/load"
)

const ms = time.Millisecond

func mustParse(t *testing.T, s string) load.Scenario {
	t.Helper()
	sc, err := load.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func mustRun(t *testing.T, sc load.Scenario) *load.Report {
	t.Helper()
	r, err := load.Run(sc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// counts builds Counts from calls, attempts, retries, succeeded, max
// tries, deadline, budget.
func counts(c ...int) load.Counts {
	return load.Counts{Calls: c[0], Attempts: c[1], Retries: c[2], Succeeded: c[3], MaxTriesReached: c[4], DeadlineExceeded: c[5], BudgetExhausted: c[6]}
}

// wantResult fails the test unless run has these buckets (from 0, one
// bucket apart), total, end, and phases (nil: none).
func wantResult(t *testing.T, what string, run *load.Result, bucket, end time.Duration, total load.Counts, buckets []load.Counts, phases []load.Phase) {
	t.Helper()
	var got []load.Counts
	for i, b := range run.Buckets {
		if b.From != time.Duration(i)*bucket {
			t.Errorf("%s: bucket %d is from %v, want %v", what, i, b.From, time.Duration(i)*bucket)
		}
		got = append(got, b.Counts)
	}
	if !slices.Equal(got, buckets) {
		t.Errorf("%s: buckets\n %+v\nwant\n %+v", what, got, buckets)
	}
	if run.Total != total {
		t.Errorf("%s: total %+v, want %+v", what, run.Total, total)
	}
	if run.End != end {
		t.Errorf("%s: end %v, want %v", what, run.End, end)
	}
	if !reflect.DeepEqual(run.Phases, phases) {
		t.Errorf("%s: phases\n %+v\nwant\n %+v", what, run.Phases, phases)
	}
}

// smallLoad is worked out by hand in TestRun_small.
const smallLoad = `{"name": "small", "calls": 3, "every": "100ms", "takes": "10ms",
 "down": {"from": "0s", "to": "150ms"}, "pause": "50ms", "max_tries": 3,
 "budget": {"ratio": 0.5, "burst": 1}, "bucket": "100ms"}`

// TestRun_small: three calls, 100ms apart, against a dependency down
// until 150ms; each attempt takes 10ms, 50ms pauses, three tries.
//
// Without the budget: call 0 tries at 0, 60 and 120ms (all down) and ends
// at 130ms (max tries); call 1 fails at 100ms and succeeds at 160ms (ends
// at 170ms); call 2 succeeds at 200ms (ends at 210ms).
//
// With the budget (ratio 0.5, burst 1, full at first): call 0 spends the
// one token on its retry at 10ms; its second failure, at 70ms, finds none
// (ErrBudgetExhausted). Call 1 brings 0.5 at 100ms: not enough for its
// retry at 110ms. Call 2 brings the bucket to 1 and succeeds at once.
func TestRun_small(t *testing.T) {
	r := mustRun(t, mustParse(t, smallLoad))
	if len(r.Runs) != 2 || r.Runs[0].WithBudget || !r.Runs[1].WithBudget {
		t.Fatalf("%d runs; want one without the budget, then one with it", len(r.Runs))
	}
	during := func(c load.Counts) load.Phase {
		return load.Phase{Name: "during the outage", From: 0, To: 150 * ms, Counts: c}
	}
	after := func(c load.Counts) load.Phase {
		return load.Phase{Name: "after the outage", From: 150 * ms, To: load.Forever, Counts: c}
	}
	wantResult(t, "without the budget", r.Runs[0], 100*ms, 210*ms,
		counts(3, 6, 3, 2, 1, 0, 0),
		[]load.Counts{counts(1, 2, 2, 0, 0, 0, 0), counts(1, 3, 1, 1, 1, 0, 0), counts(1, 1, 0, 1, 0, 0, 0)},
		[]load.Phase{during(counts(2, 4, 3, 0, 1, 0, 0)), after(counts(1, 2, 0, 2, 0, 0, 0))})
	wantResult(t, "with the budget", r.Runs[1], 100*ms, 210*ms,
		counts(3, 4, 1, 1, 0, 0, 2),
		[]load.Counts{counts(1, 2, 1, 0, 0, 0, 1), counts(1, 1, 0, 0, 0, 0, 1), counts(1, 1, 0, 1, 0, 0, 0)},
		[]load.Phase{during(counts(2, 3, 1, 0, 0, 0, 2)), after(counts(1, 1, 0, 1, 0, 0, 0))})

	// The table, whole.
	var b strings.Builder
	if err := load.Table(&b, r); err != nil {
		t.Fatal(err)
	}
	want := `load        small
calls       3, one every 100ms (the last at 200ms)
dependency  answers after 10ms; down from 0s to 150ms (every attempt that starts then fails);
            otherwise never fails
policy      no attempt timeout, no deadline, pause 50ms, max tries 3; every failure retried
budget      ratio 0.5, 0 per second, burst 1 (shared by all calls; run with and without it)
counted     per 100ms, each thing when it happened: calls begun, attempts started, retries decided,
            and the calls that ended, by how

without the budget
   from  calls  attempts  retries  succeeded  max tries  deadline  budget  attempts/call  success
     0s      1         2        2          0          0         0       0           2.00        -
  100ms      1         3        1          1          1         0       0           3.00    50.0%
  200ms      1         1        0          1          0         0       0           1.00   100.0%
  total      3         6        3          2          1         0       0           2.00    66.7%
  the last call ended at 210ms

with the budget
   from  calls  attempts  retries  succeeded  max tries  deadline  budget  attempts/call  success
     0s      1         2        1          0          0         0       1           2.00     0.0%
  100ms      1         1        0          0          0         0       1           1.00     0.0%
  200ms      1         1        0          1          0         0       0           1.00   100.0%
  total      3         4        1          1          0         0       2           1.33    33.3%
  the last call ended at 210ms

summary                                             without the budget     with the budget
  whole run                        calls begun                       3                   3
                                   attempts                          6                   4
                                   attempts/call                  2.00                1.33
                                   success                       66.7%               33.3%
  during the outage (0s to 150ms)  calls begun                       2                   2
                                   attempts                          4                   3
                                   attempts/call                  2.00                1.50
                                   success                        0.0%                0.0%
  after the outage (from 150ms)    calls begun                       1                   1
                                   attempts                          2                   1
                                   attempts/call                  2.00                1.00
                                   success                      100.0%              100.0%
`
	if b.String() != want {
		t.Errorf("Table:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestRun_cuts: an attempt takes 300ms, but its timeout is 200ms and
// the deadline 500ms, with no pause and no max tries: attempts at 0,
// 200ms (both cut by their timeout, and retried) and 400ms (cut by the
// deadline at 500ms: the call ends with ErrDeadline, Last the timeout).
func TestRun_cuts(t *testing.T) {
	sc := mustParse(t, `{"calls": 2, "every": "1s", "takes": "300ms", "attempt_timeout": "200ms",
		"deadline": "500ms", "bucket": "1s"}`)
	var ends []string
	run, err := load.Simulate(sc, func(s load.Step) {
		if s.Action.Kind == backoff.ActionFinish {
			var be *backoff.Error
			errors.As(s.Action.Err, &be)
			ends = append(ends, s.At().String()+" "+be.Reason.Error()+" / "+be.Last.Error())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	wantResult(t, "run", run, time.Second, 1500*ms, counts(2, 6, 4, 0, 0, 2, 0),
		[]load.Counts{counts(1, 3, 2, 0, 0, 1, 0), counts(1, 3, 2, 0, 0, 1, 0)}, nil)
	want := []string{
		"500ms backoff: deadline exceeded / backoff: attempt timed out",
		"1.5s backoff: deadline exceeded / backoff: attempt timed out",
	}
	if !slices.Equal(ends, want) {
		t.Errorf("calls ended %q, want %q", ends, want)
	}

	// An answer at the very instant of the cut is the answer (as the
	// simulator of one call has it): a success succeeds; a failure is
	// the timeout's.
	for _, tc := range []struct {
		failRate string
		want     load.Counts
	}{{"0", counts(1, 1, 0, 1, 0, 0, 0)}, {"1", counts(1, 1, 0, 0, 1, 0, 0)}} {
		sc := mustParse(t, `{"calls": 1, "takes": "200ms", "attempt_timeout": "200ms", "max_tries": 1,
			"fail_rate": `+tc.failRate+`, "bucket": "1s"}`)
		var last error
		run, err := load.Simulate(sc, func(s load.Step) {
			var be *backoff.Error
			if errors.As(s.Action.Err, &be) {
				last = be.Last
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if run.Total != tc.want || run.End != 200*ms {
			t.Errorf("fail_rate %s: total %+v, end %v; want %+v, 200ms", tc.failRate, run.Total, run.End, tc.want)
		}
		if tc.failRate == "1" && last != backoff.ErrAttemptTimeout {
			t.Errorf("fail_rate 1: Last is %v, want ErrAttemptTimeout", last)
		}
	}
}

// TestRun_events: each call begins at its arrival, with Start on the
// load's epoch; the events are the executor's (an attempt's end, a
// pause's end), and with a jitter each attempt's end carries the next
// number of the call's own PCG (seed, 2n+1): the pause after call 0's
// first failure is uniform(that number, 100ms).
func TestRun_events(t *testing.T) {
	sc := mustParse(t, `{"calls": 4, "every": "250ms", "takes": "5ms", "fail_rate": 1, "seed": 42,
		"pause": "100ms", "jitter": "full", "max_tries": 2, "bucket": "1s"}`)
	var steps []load.Step
	run, err := load.Simulate(sc, func(s load.Step) { steps = append(steps, s) })
	if err != nil {
		t.Fatal(err)
	}
	if run.Total != counts(4, 8, 4, 0, 4, 0, 0) {
		t.Errorf("total %+v", run.Total)
	}
	var kinds []string
	for _, s := range steps {
		if s.Call == 0 {
			kinds = append(kinds, s.Event.Kind.String()+">"+s.Action.Kind.String())
		}
		if s.Arrival != time.Duration(s.Call)*250*ms {
			t.Errorf("call %d arrived at %v", s.Call, s.Arrival)
		}
		switch s.Event.Kind {
		case backoff.EventBegan:
			if s.Event.At != 0 || !s.Event.Start.Equal(load.Epoch.Add(s.Arrival)) {
				t.Errorf("call %d began at %v, Start %v", s.Call, s.Event.At, s.Event.Start)
			}
		case backoff.EventEnded:
			r := rand.NewPCG(42, 2*uint64(s.Call)+1)
			want := r.Uint64()
			if s.Event.Attempt == 2 {
				want = r.Uint64()
			}
			if s.Event.Rand != want {
				t.Errorf("call %d attempt %d ended with Rand %d, want %d", s.Call, s.Event.Attempt, s.Event.Rand, want)
			}
		}
	}
	if want := []string{"began>start", "ended>pause", "fired>start", "ended>finish"}; !slices.Equal(kinds, want) {
		t.Errorf("call 0's steps %q, want %q", kinds, want)
	}
	hi, _ := bits.Mul64(rand.NewPCG(42, 1).Uint64(), uint64(100*ms)+1)
	if got := steps[1].Action.Until - steps[1].Event.At; steps[1].Call != 0 || got != time.Duration(hi) {
		t.Errorf("call 0's first pause lasts %v, want %v", got, time.Duration(hi))
	}

	// Without a jitter, no number is drawn.
	sc.Jitter = ""
	if _, err := load.Simulate(sc, func(s load.Step) {
		if s.Event.Rand != 0 {
			t.Errorf("without a jitter, call %d's %v has Rand %d", s.Call, s.Event.Kind, s.Event.Rand)
		}
	}); err != nil {
		t.Fatal(err)
	}
}

// TestRun_failRate: attempt k of call n draws the k-th number of the
// call's PCG (seed, 2n): alike in both runs, so a budget changes which
// attempts are made, not how the dependency answers them. Over 10,000
// calls of one try at a rate of 0.3, seed 7, 3,004 fail (near 3,000).
func TestRun_failRate(t *testing.T) {
	sc := mustParse(t, `{"calls": 10000, "every": "1ms", "takes": "1ms", "fail_rate": 0.3, "seed": 7,
		"max_tries": 1, "bucket": "1s"}`)
	r := mustRun(t, sc)
	if got := r.Runs[0].Total; got != counts(10000, 10000, 0, 6996, 3004, 0, 0) {
		t.Errorf("total %+v", got)
	}
	failed := 0
	for n := range 10000 {
		p := rand.NewPCG(7, 2*uint64(n))
		if float64(p.Uint64()>>11)/(1<<53) < 0.3 {
			failed++
		}
	}
	if failed != 3004 {
		t.Errorf("the draws fail %d calls, want 3004", failed)
	}

	// Both runs, with a budget that allows few retries: where both runs
	// make attempt k of call n, it fails in both or in neither.
	sc = mustParse(t, `{"calls": 500, "every": "1ms", "takes": "1ms", "fail_rate": 0.5, "seed": 3,
		"max_tries": 4, "budget": {"ratio": 0.1, "burst": 2}, "bucket": "1s"}`)
	outcome := [2]map[[2]int]backoff.Outcome{{}, {}}
	budgetRefused := 0
	without := sc
	without.Budget = nil
	for i, v := range []load.Scenario{without, sc} {
		if _, err := load.Simulate(v, func(s load.Step) {
			if s.Action.Outcome != backoff.OutcomeNone {
				outcome[i][[2]int{s.Call, s.Event.Attempt}] = s.Action.Outcome
			}
			var be *backoff.Error
			if errors.As(s.Action.Err, &be) && be.Reason == backoff.ErrBudgetExhausted {
				budgetRefused++
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	common := 0
	for k, o := range outcome[1] {
		if o0, ok := outcome[0][k]; ok {
			common++
			if o0 != o {
				t.Errorf("call %d attempt %d: %v without the budget, %v with it", k[0], k[1], o0, o)
			}
		}
	}
	if common != len(outcome[1]) || budgetRefused == 0 || len(outcome[0]) <= len(outcome[1]) {
		t.Errorf("%d attempts without the budget, %d with it, %d in common, %d calls refused: want the budget to refuse some",
			len(outcome[0]), len(outcome[1]), common, budgetRefused)
	}
}

// TestExamples: each example's report is byte for byte its golden
// one (-update rewrites them), and does what the example is for.
func TestExamples(t *testing.T) {
	names := load.Examples()
	if want := []string{"retry-budget", "retry-storm"}; !slices.Equal(names, want) {
		t.Fatalf("examples %q, want %q", names, want)
	}
	reports := map[string]*load.Report{}
	for _, name := range names {
		b, err := load.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := load.Parse(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sc.Name != name {
			t.Errorf("%s: its name is %q", name, sc.Name)
		}
		r := mustRun(t, sc)
		reports[name] = r
		var out bytes.Buffer
		if err := load.Table(&out, r); err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out.String(), "\n") {
			if len(line) > sim.TimelineWidth {
				t.Errorf("%s: a line of %d columns: %q", name, len(line), line)
			}
		}
		goldenPath := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(goldenPath, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(goldenPath)
		if err != nil {
			t.Fatalf("%v (go test -update writes it)", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s: the report differs from %s (go test -update rewrites it; review the diff)\n%s",
				name, goldenPath, golden.FirstDiff(want, out.Bytes()))
		}
	}

	// The storm: 1,000 calls, 300 of them begun during the 3s outage.
	// Without a budget, they make 1,419 attempts then: 4.73 per call,
	// near max tries (5).
	storm := reports["retry-storm"]
	if len(storm.Runs) != 1 {
		t.Fatalf("the storm has %d runs, want 1 (no budget)", len(storm.Runs))
	}
	out := storm.Runs[0].Phases[1]
	if out.Name != "during the outage" || out.Calls != 300 || out.Attempts != 1419 || out.Succeeded != 2 {
		t.Errorf("the storm during the outage: %+v", out)
	}
	// The same load with a budget of ratio 0.1: 342 attempts for the
	// same 300 calls (1.14 per call, near 1 + ratio), and after the
	// outage it succeeds as often as without it.
	budget := reports["retry-budget"]
	if len(budget.Runs) != 2 || !reflect.DeepEqual(budget.Runs[0], storm.Runs[0]) {
		t.Fatalf("the budget example's first run is not the storm")
	}
	with := budget.Runs[1]
	if out := with.Phases[1]; out.Calls != 300 || out.Attempts != 342 || out.Retries != 42 || out.BudgetExhausted != 298 {
		t.Errorf("the budget during the outage: %+v", out)
	}
	if after, stormAfter := with.Phases[2], storm.Runs[0].Phases[2]; after.Calls != 400 || after.Succeeded != 400 ||
		after.SuccessRate() < stormAfter.SuccessRate() {
		t.Errorf("after the outage: with the budget %+v, without %+v", after, stormAfter)
	}
}

// TestRun_deterministic: the same load gives the same report, table
// and picture, byte for byte.
func TestRun_deterministic(t *testing.T) {
	b, err := load.Example("retry-budget")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := load.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	var first [2][]byte
	var firstReport *load.Report
	for i := range 3 {
		r := mustRun(t, sc)
		var text, svg bytes.Buffer
		if err := load.Table(&text, r); err != nil {
			t.Fatal(err)
		}
		if err := load.SVG(&svg, r); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first, firstReport = [2][]byte{text.Bytes(), svg.Bytes()}, r
			continue
		}
		if !reflect.DeepEqual(r, firstReport) || !bytes.Equal(text.Bytes(), first[0]) || !bytes.Equal(svg.Bytes(), first[1]) {
			t.Fatalf("run %d differs from the first", i)
		}
	}
}

// TestSVG: the picture is well-formed XML, an svg element with a bar
// per bucket with attempts per run, a point per bucket with calls that
// ended per run, the outage shaded on both charts, and a line of totals
// per run.
func TestSVG(t *testing.T) {
	r := mustRun(t, mustParse(t, smallLoad))
	var b bytes.Buffer
	if err := load.SVG(&b, r); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	var root string
	elements := map[string]int{}
	var texts []string
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed XML: %v", err)
			}
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			elements[tok.Name.Local]++
			for _, a := range tok.Attr {
				if a.Name.Local == "fill" && a.Value == "#fee2e2" {
					elements["shade"]++
				}
			}
		case xml.CharData:
			texts = append(texts, string(tok))
		}
	}
	if root != "svg" {
		t.Errorf("root %q, want svg", root)
	}
	// 3 + 3 bars, 2 + 3 points (no call ended in the first bucket without
	// the budget), the outage on both charts and in the legend.
	if elements["circle"] != 5 || elements["shade"] != 3 {
		t.Errorf("%d points, %d shaded rectangles; want 5, 3", elements["circle"], elements["shade"])
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{
		"small",
		"without the budget: 3 calls, 6 attempts (2.00 per call), 66.7% succeeded",
		"with the budget: 3 calls, 4 attempts (1.33 per call), 33.3% succeeded; 2 stopped by the budget",
		"0s: 2 attempts, 1 calls begun, without the budget",
		"100ms: 1 attempts, 1 calls begun, with the budget",
		"dependency down",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("the picture lacks %q", want)
		}
	}
	if err := load.SVG(&b, nil); err == nil {
		t.Error("SVG(nil) = nil, want an error")
	}
	if err := load.Table(&b, &load.Report{}); err == nil {
		t.Error("Table of no run = nil, want an error")
	}
}

// TestParse_refuses feeds Parse bad loads and requires an error
// that starts "load: " and names the field and the value.
func TestParse_refuses(t *testing.T) {
	const ok = `"calls": 10, "every": "10ms", "takes": "5ms", "max_tries": 3, "bucket": "100ms"`
	for _, tc := range []struct {
		name string
		json string
		want []string
	}{
		{"not JSON", `calls: 10`, []string{"invalid character"}},
		{"unknown field", `{` + ok + `, "max_try": 3}`, []string{`unknown field "max_try"`}},
		{"unknown budget field", `{` + ok + `, "budget": {"burst": 1, "rate": 2}}`, []string{`unknown field "rate"`}},
		{"more after the load", `{` + ok + `} {}`, []string{"more after the JSON value"}},
		{"calls is a string", `{"calls": "many", "bucket": "1s"}`, []string{"calls", "string"}},
		{"bad every", `{"calls": 1, "every": "soon", "bucket": "1s"}`, []string{"every: bad duration", `"soon"`}},
		{"every a number", `{"calls": 1, "every": 10, "bucket": "1s"}`, []string{"every: a duration is a string"}},
		{"bad down.to", `{` + ok + `, "down": {"from": "1s", "to": "2x"}}`, []string{"down.to: bad duration"}},
		{"bad bucket", `{"calls": 1, "max_tries": 1, "bucket": "1 s"}`, []string{"bucket: bad duration"}},
		{"bad max_pause", `{` + ok + `, "max_pause": "-"}`, []string{"max_pause: bad duration"}},
		{"no calls", `{"max_tries": 1, "bucket": "1s"}`, []string{"calls is 0; want 1 to 1000000"}},
		{"negative every", `{"calls": 2, "every": "-1s", "max_tries": 1, "bucket": "1s"}`, []string{"every is -1s"}},
		{"arrivals too long", `{"calls": 100, "every": "1h", "max_tries": 1, "bucket": "24h"}`, []string{"the last call would arrive after 24h0m0s"}},
		{"takes too long", `{` + strings.Replace(ok, `"takes": "5ms"`, `"takes": "25h"`, 1) + `}`, []string{"takes is 25h0m0s; want 0 to 24h0m0s"}},
		{"down backwards", `{` + ok + `, "down": {"from": "2s", "to": "1s"}}`, []string{"down is from 2s to 1s; want to after from"}},
		{"negative down.from", `{` + ok + `, "down": {"from": "-1s", "to": "1s"}}`, []string{"down.from is -1s"}},
		{"fail_rate above 1", `{` + ok + `, "fail_rate": 1.5}`, []string{"fail_rate is 1.5; want 0 to 1"}},
		{"negative fail_rate", `{` + ok + `, "fail_rate": -0.1}`, []string{"fail_rate is -0.1"}},
		{"negative attempt_timeout", `{` + ok + `, "attempt_timeout": "-1ms"}`, []string{"attempt_timeout is -1ms"}},
		{"negative deadline", `{` + ok + `, "deadline": "-1ms"}`, []string{"deadline is -1ms"}},
		{"negative pause", `{` + ok + `, "pause": "-1ms"}`, []string{"pause is -1ms"}},
		{"growth below 1", `{` + ok + `, "growth": 0.5}`, []string{"growth is 0.5"}},
		{"bad jitter", `{` + ok + `, "jitter": "wild"}`, []string{`jitter is "wild"; want none, full, equal or decorrelated`}},
		{"negative max_tries", `{"calls": 1, "deadline": "1s", "max_tries": -1, "bucket": "1s"}`, []string{"max_tries is -1"}},
		{"no limit", `{"calls": 1, "takes": "1ms", "bucket": "1s"}`, []string{"max_tries and deadline are both 0"}},
		{"attempts without end at one instant", `{"calls": 1, "deadline": "1s", "bucket": "1s"}`,
			[]string{"max_tries, takes and pause are 0"}},
		{"negative budget.ratio", `{` + ok + `, "budget": {"ratio": -1, "burst": 1}}`, []string{"budget.ratio is -1"}},
		{"negative budget.per_second", `{` + ok + `, "budget": {"per_second": -2, "burst": 1}}`, []string{"budget.per_second is -2"}},
		{"no budget.burst", `{` + ok + `, "budget": {"ratio": 0.1}}`, []string{"budget.burst is 0; want 1 to"}},
		{"no bucket", `{"calls": 1, "max_tries": 1}`, []string{"bucket is 0s; want more than 0"}},
		{"too many buckets", `{"calls": 2000, "every": "1ms", "max_tries": 1, "bucket": "1ms"}`,
			[]string{"bucket is 1ms and the calls arrive over 1.999s: more than 1000 buckets"}},
		{"everything at once", `{"calls": -1, "every": "-1s", "fail_rate": 2, "jitter": "x", "max_tries": -1, "bucket": "-1s"}`,
			[]string{"calls is -1", "every is -1s", "fail_rate is 2", `jitter is "x"`, "max_tries is -1", "bucket is -1s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load.Parse([]byte(tc.json))
			if err == nil {
				t.Fatalf("Parse(%s) = nil error", tc.json)
			}
			if !strings.HasPrefix(err.Error(), "load: ") {
				t.Errorf("error %q does not start with \"load: \"", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := load.Simulate(load.Scenario{}, nil); err == nil || !strings.Contains(err.Error(), "calls is 0") {
		t.Errorf("Simulate of the zero Scenario = %v, want an error", err)
	}
}

// TestParse_roundTrip: a load's JSON decodes to the same load, and
// Read reads what Parse parses.
func TestParse_roundTrip(t *testing.T) {
	for _, name := range load.Examples() {
		b, err := load.Example(name)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := load.Read(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		again, err := json.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		l2, err := load.Parse(again)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(sc, l2) {
			t.Errorf("%s: %+v, and after a round trip %+v", name, sc, l2)
		}
	}
	if _, err := load.Example("nope"); err == nil || !strings.Contains(err.Error(), "retry-budget, retry-storm") {
		t.Errorf("Example(nope) = %v, want an error listing the examples", err)
	}
}

// TestRun_tooLong: a run that goes on past MaxBuckets buckets
// stops with an error that says so.
func TestRun_tooLong(t *testing.T) {
	sc := mustParse(t, `{"calls": 1, "takes": "10ms", "fail_rate": 1, "max_tries": 200, "bucket": "1ms"}`)
	_, err := load.Run(sc)
	if err == nil || err.Error() != "load: bucket is 1ms, and the run goes on past 1s: more than 1000 buckets" {
		t.Errorf("Run = %v", err)
	}
	// A pause grown past any horizon, without overflow.
	sc = mustParse(t, `{"calls": 1, "takes": "10ms", "fail_rate": 1, "pause": "1s", "growth": 1000, "max_tries": 60, "bucket": "24h"}`)
	if _, err := load.Run(sc); err == nil || !strings.Contains(err.Error(), "more than 1000 buckets") {
		t.Errorf("Run = %v", err)
	}
}

// TestRun_10000 simulates 10,000 calls, 10ms apart, through a 20s
// outage [30s, 50s) (BenchmarkRun times it). Call a's attempts start
// at a, a+120ms, ... a+480ms (20ms each, 100ms pauses), so without the
// budget: the 8,000 calls begun outside the outage succeed at once; the
// 1,952 begun in [30s, 49.52s) make 5 attempts and run out of tries; the
// 48 begun in [49.52s, 50s) fail 4, 3, 2 or 1 times (12 calls each) and
// then succeed: 168 attempts. 8,000 + 9,760 + 168 = 17,928 attempts.
//
// With the budget (ratio 0.1, burst 10, full when the outage begins; the
// first call of the outage earns nothing, the bucket being full), the
// retries it allows are 10 + 1,999 × 0.1 = 209.9, so 209: 1,999 of the
// 2,000 calls begun in the outage end refused by the budget, and one
// succeeds after its retries.
func TestRun_10000(t *testing.T) {
	r := mustRun(t, mustParse(t, load10000))
	if got := r.Runs[0].Total; got != counts(10000, 17928, 7928, 8048, 1952, 0, 0) {
		t.Errorf("without the budget: %+v", got)
	}
	if got := r.Runs[1].Total; got != counts(10000, 10209, 209, 8001, 0, 0, 1999) {
		t.Errorf("with the budget: %+v", got)
	}
}

const load10000 = `{"calls": 10000, "every": "10ms", "takes": "20ms", "down": {"from": "30s", "to": "50s"},
 "pause": "100ms", "max_tries": 5, "budget": {"ratio": 0.1, "burst": 10}, "bucket": "1s"}`

func BenchmarkRun(b *testing.B) {
	sc, err := load.Parse([]byte(load10000))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := load.Run(sc); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSimulate_sameInstant: events due at one instant go in the order
// they were scheduled. Three calls arrive at 0 and each attempt answers at
// once: call 0's arrival schedules call 1's, then its attempt's end; call
// 1's arrival schedules call 2's, then its attempt's end; and so on.
func TestSimulate_sameInstant(t *testing.T) {
	sc := mustParse(t, `{"calls": 3, "max_tries": 1, "bucket": "1s"}`)
	var got []string
	if _, err := load.Simulate(sc, func(s load.Step) {
		if s.At() != 0 {
			t.Errorf("call %d: a step at %v; want every step at 0", s.Call, s.At())
		}
		got = append(got, strconv.Itoa(s.Call)+" "+s.Event.Kind.String())
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"0 began", "1 began", "0 ended", "2 began", "1 ended", "2 ended"}
	if !slices.Equal(got, want) {
		t.Errorf("steps %q, want %q", got, want)
	}
}

// TestRun_horizon: a report has at most MaxBuckets buckets, the last
// ending at the horizon (MaxBuckets × Bucket): a load whose last call
// arrives at the horizon is refused, one whose last call arrives a bucket
// earlier is not; an event due at the horizon ends the run with an error,
// one due just before it is counted in the last bucket.
func TestRun_horizon(t *testing.T) {
	if _, err := load.Parse([]byte(`{"calls": 1001, "every": "1ms", "max_tries": 1, "bucket": "1ms"}`)); err == nil ||
		!strings.Contains(err.Error(), "bucket is 1ms and the calls arrive over 1s: more than 1000 buckets") {
		t.Errorf("1001 calls 1ms apart in buckets of 1ms: %v, want an error", err)
	}
	r := mustRun(t, mustParse(t, `{"calls": 1000, "every": "1ms", "max_tries": 1, "bucket": "1ms"}`))
	if n := len(r.Runs[0].Buckets); n != load.MaxBuckets {
		t.Errorf("1000 calls 1ms apart in buckets of 1ms: %d buckets, want %d", n, load.MaxBuckets)
	}

	_, err := load.Run(mustParse(t, `{"calls": 1, "takes": "1s", "max_tries": 1, "bucket": "1ms"}`))
	if err == nil || err.Error() != "load: bucket is 1ms, and the run goes on past 1s: more than 1000 buckets" {
		t.Errorf("an attempt that ends at the horizon: %v, want an error", err)
	}
	r = mustRun(t, mustParse(t, `{"calls": 1, "takes": "999.999999ms", "max_tries": 1, "bucket": "1ms"}`))
	run := r.Runs[0]
	if n := len(run.Buckets); n != load.MaxBuckets || run.End != time.Second-1 || run.Buckets[n-1].Succeeded != 1 {
		t.Errorf("an attempt that ends 1ns before the horizon: %d buckets, end %v, the last %+v; want %d, 999.999999ms, a success",
			n, run.End, run.Buckets[n-1], load.MaxBuckets)
	}
}
