package load

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/timebound/backoff/sim"
	"github.com/timebound/backoff/sim/internal/layout"
)

// Table writes a load's report as text for a terminal: a header with
// the load's numbers, then for each run a table with a row per bucket of
// time and a total, then a summary that sets the runs side by side for
// the whole run and before, during and after the outage. Lines are at
// most [sim.TimelineWidth] (100) columns wide.
//
//	from  calls  attempts  retries  succeeded  max tries  deadline  budget  attempts/call  success
//	  3s     50       166      150          2          6         0       0           3.32    25.0%
//	3.5s     50       251      200          0         49         0       0           5.02     0.0%
//
// A row counts what happened in its bucket: calls begun, attempts
// started, retries decided, and the calls that ended, by how; then the
// attempts per call begun ("-" if none began) and the share of the calls
// that ended that succeeded ("-" if none ended).
func Table(w io.Writer, r *Report) error {
	if r == nil || len(r.Runs) == 0 {
		return errors.New("load: table: no report")
	}
	sc := r.Scenario
	var b strings.Builder
	for _, h := range headerLines(sc) {
		b.WriteString(wrap(fmt.Sprintf("%-12s", h[0]), h[1]))
	}
	for _, run := range r.Runs {
		b.WriteByte('\n')
		b.WriteString(runTitle(run) + "\n")
		runTable(&b, sc, run)
	}
	b.WriteByte('\n')
	summary(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// headerLines returns the header's lines: a label and its words.
func headerLines(sc Scenario) [][2]string {
	var h [][2]string
	if sc.Name != "" {
		h = append(h, [2]string{"load", sc.Name})
	}
	calls := "1 call, at 0s"
	if sc.Calls > 1 {
		if sc.Every == 0 {
			calls = fmt.Sprintf("%d, all at 0s", sc.Calls)
		} else {
			calls = fmt.Sprintf("%d, one every %v (the last at %v)", sc.Calls, sc.Every, time.Duration(sc.Calls-1)*sc.Every.D())
		}
	}
	h = append(h, [2]string{"calls", calls})
	dep := "answers after " + sc.Takes.String()
	if d := sc.Down; d != nil {
		dep += fmt.Sprintf("; down from %v to %v (every attempt that starts then fails)", d.From, d.To)
	}
	other := "otherwise"
	if sc.Down == nil {
		other = "and"
	}
	switch {
	case sc.FailRate == 0:
		dep += "; " + other + " never fails"
	case sc.FailRate == 1:
		dep += "; " + other + " always fails"
	default:
		dep += fmt.Sprintf("; %s fails %s of attempts at random (seed %d)", other, percent(sc.FailRate), sc.Seed)
	}
	h = append(h, [2]string{"dependency", dep})
	h = append(h, [2]string{"policy", policyWords(sc)})
	if bu := sc.Budget; bu != nil {
		h = append(h, [2]string{"budget", fmt.Sprintf("ratio %s, %s per second, burst %d (shared by all calls; run with and without it)",
			float(bu.Ratio), float(bu.PerSecond), bu.Burst)})
	}
	h = append(h, [2]string{"counted", fmt.Sprintf("per %v, each thing when it happened: calls begun, attempts started, "+
		"retries decided, and the calls that ended, by how", sc.Bucket)})
	return h
}

// policyWords says what sc's policy is.
func policyWords(sc Scenario) string {
	var parts []string
	limit := func(name string, d sim.Duration) {
		if d > 0 {
			parts = append(parts, name+" "+d.String())
		} else {
			parts = append(parts, "no "+name)
		}
	}
	limit("attempt timeout", sc.AttemptTimeout)
	limit("deadline", sc.Deadline)
	limit("pause", sc.Pause)
	if sc.Growth > 1 && sc.Jitter != "decorrelated" {
		parts = append(parts, "growth "+float(sc.Growth))
	}
	if sc.MaxPause > 0 {
		parts = append(parts, "max pause "+sc.MaxPause.String())
	}
	if sc.Jitter != "" && sc.Jitter != "none" {
		parts = append(parts, sc.Jitter+" jitter")
	}
	if sc.MaxTries > 0 {
		parts = append(parts, "max tries "+strconv.Itoa(sc.MaxTries))
	} else {
		parts = append(parts, "no max tries")
	}
	return strings.Join(parts, ", ") + "; every failure retried"
}

func runTitle(run *Result) string {
	if run.WithBudget {
		return "with the budget"
	}
	return "without the budget"
}

// columns are the table's columns: header and width.
var columns = []struct {
	name  string
	width int
}{
	{"from", 7}, {"calls", 7}, {"attempts", 10}, {"retries", 9}, {"succeeded", 11},
	{"max tries", 11}, {"deadline", 10}, {"budget", 8}, {"attempts/call", 15}, {"success", 9},
}

// runTable writes the table of one run.
func runTable(b *strings.Builder, sc Scenario, run *Result) {
	row := func(cells ...string) {
		var line strings.Builder
		for i, c := range cells {
			fmt.Fprintf(&line, "%*s", columns[i].width, c)
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	var names []string
	for _, c := range columns {
		names = append(names, c.name)
	}
	row(names...)
	counts := func(from string, c Counts) {
		row(from, strconv.Itoa(c.Calls), strconv.Itoa(c.Attempts), strconv.Itoa(c.Retries), strconv.Itoa(c.Succeeded),
			strconv.Itoa(c.MaxTriesReached), strconv.Itoa(c.DeadlineExceeded), strconv.Itoa(c.BudgetExhausted), amplification(c), success(c))
	}
	for _, bk := range run.Buckets {
		counts(bk.From.String(), bk.Counts)
	}
	counts("total", run.Total)
	b.WriteString(wrap("  ", fmt.Sprintf("the last call ended at %v", run.End)))
}

// summary writes the runs side by side: the whole run, then each phase.
func summary(b *strings.Builder, r *Report) {
	width := 0 // of the phases' column
	line := func(phase, metric string, vals []string) {
		s := fmt.Sprintf("%-*s%-15s", width, phase, metric)
		for _, v := range vals {
			s += fmt.Sprintf("%20s", v)
		}
		b.WriteString(strings.TrimRight(s, " ") + "\n")
	}
	var titles []string
	for _, run := range r.Runs {
		titles = append(titles, runTitle(run))
	}
	type phase struct {
		name string
		c    func(*Result) Counts
	}
	phases := []phase{{"whole run", func(run *Result) Counts { return run.Total }}}
	for i, ph := range r.Runs[0].Phases {
		name := fmt.Sprintf("%s (%v to %v)", ph.Name, ph.From, ph.To)
		if ph.To == Forever {
			name = fmt.Sprintf("%s (from %v)", ph.Name, ph.From)
		}
		phases = append(phases, phase{name, func(run *Result) Counts { return run.Phases[i].Counts }})
	}
	for _, ph := range phases {
		width = max(width, 2+len(ph.name)+2)
	}
	line("summary", "", titles)
	for _, ph := range phases {
		for j, m := range []struct {
			name string
			f    func(Counts) string
		}{
			{"calls begun", func(c Counts) string { return strconv.Itoa(c.Calls) }},
			{"attempts", func(c Counts) string { return strconv.Itoa(c.Attempts) }},
			{"attempts/call", amplification},
			{"success", success},
		} {
			var vals []string
			for _, run := range r.Runs {
				vals = append(vals, m.f(ph.c(run)))
			}
			name := ""
			if j == 0 {
				name = "  " + ph.name
			}
			line(name, m.name, vals)
		}
	}
}

// amplification formats the attempts per call: "-" if no call began.
func amplification(c Counts) string {
	if c.Calls == 0 {
		return "-"
	}
	return strconv.FormatFloat(c.Amplification(), 'f', 2, 64)
}

// success formats the success rate: "-" if no call ended.
func success(c Counts) string {
	if c.Ended() == 0 {
		return "-"
	}
	return percentOf(c.Succeeded, c.Ended())
}

// percentOf formats n/d as a percentage with one decimal.
func percentOf(n, d int) string {
	return strconv.FormatFloat(100*float64(n)/float64(d), 'f', 1, 64) + "%"
}

// percent formats a rate from 0 to 1 as a percentage, as short as it goes.
func percent(r float64) string {
	return strconv.FormatFloat(100*r, 'g', -1, 64) + "%"
}

// float formats a number as short as it goes.
func float(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// wrap returns prefix+text as lines of at most layout.Width columns,
// breaking text at spaces; continuation lines are indented by the
// prefix's width.
func wrap(prefix, text string) string { return layout.Wrap(prefix, text, 0) }
