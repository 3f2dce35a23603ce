package sim

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/timebound/backoff/sim/internal/layout"
)

// LoadTable writes a load's report as text for a terminal: a header with
// the load's numbers, then for each run a table with a row per bucket of
// time and a total, then a summary that sets the runs side by side for
// the whole run and before, during and after the outage. Lines are at
// most [TimelineWidth] columns wide.
//
//	from  calls  attempts  retries  succeeded  max tries  deadline  budget  attempts/call  success
//	  3s     50       166      150          2          6         0       0           3.32    25.0%
//	3.5s     50       251      200          0         49         0       0           5.02     0.0%
//
// A row counts what happened in its bucket: calls begun, attempts
// started, retries decided, and the calls that ended, by how; then the
// attempts per call begun ("-" if none began) and the share of the calls
// that ended that succeeded ("-" if none ended).
func LoadTable(w io.Writer, r *LoadReport) error {
	if r == nil || len(r.Runs) == 0 {
		return errors.New("sim: load table: no report")
	}
	l := r.Load
	var b strings.Builder
	for _, h := range loadHeader(l) {
		b.WriteString(loadWrap(fmt.Sprintf("%-12s", h[0]), h[1]))
	}
	for _, run := range r.Runs {
		b.WriteByte('\n')
		b.WriteString(loadRunTitle(run) + "\n")
		loadRunTable(&b, l, run)
	}
	b.WriteByte('\n')
	loadSummary(&b, r)
	_, err := io.WriteString(w, b.String())
	return err
}

// loadHeader returns the header's lines: a label and its words.
func loadHeader(l Load) [][2]string {
	var h [][2]string
	if l.Name != "" {
		h = append(h, [2]string{"load", l.Name})
	}
	calls := "1 call, at 0s"
	if l.Calls > 1 {
		if l.Every == 0 {
			calls = fmt.Sprintf("%d, all at 0s", l.Calls)
		} else {
			calls = fmt.Sprintf("%d, one every %v (the last at %v)", l.Calls, l.Every, time.Duration(l.Calls-1)*l.Every.D())
		}
	}
	h = append(h, [2]string{"calls", calls})
	dep := "answers after " + l.Takes.String()
	if d := l.Down; d != nil {
		dep += fmt.Sprintf("; down from %v to %v (every attempt that starts then fails)", d.From, d.To)
	}
	other := "otherwise"
	if l.Down == nil {
		other = "and"
	}
	switch {
	case l.FailRate == 0:
		dep += "; " + other + " never fails"
	case l.FailRate == 1:
		dep += "; " + other + " always fails"
	default:
		dep += fmt.Sprintf("; %s fails %s of attempts at random (seed %d)", other, loadPercent(l.FailRate), l.Seed)
	}
	h = append(h, [2]string{"dependency", dep})
	h = append(h, [2]string{"policy", loadPolicyWords(l)})
	if bu := l.Budget; bu != nil {
		h = append(h, [2]string{"budget", fmt.Sprintf("ratio %s, %s per second, burst %d (shared by all calls; run with and without it)",
			loadFloat(bu.Ratio), loadFloat(bu.PerSecond), bu.Burst)})
	}
	h = append(h, [2]string{"counted", fmt.Sprintf("per %v, each thing when it happened: calls begun, attempts started, "+
		"retries decided, and the calls that ended, by how", l.Bucket)})
	return h
}

// loadPolicyWords says what l's policy is.
func loadPolicyWords(l Load) string {
	var parts []string
	limit := func(name string, d Duration) {
		if d > 0 {
			parts = append(parts, name+" "+d.String())
		} else {
			parts = append(parts, "no "+name)
		}
	}
	limit("attempt timeout", l.AttemptTimeout)
	limit("deadline", l.Deadline)
	limit("pause", l.Pause)
	if l.Growth > 1 && l.Jitter != "decorrelated" {
		parts = append(parts, "growth "+loadFloat(l.Growth))
	}
	if l.MaxPause > 0 {
		parts = append(parts, "max pause "+l.MaxPause.String())
	}
	if l.Jitter != "" && l.Jitter != "none" {
		parts = append(parts, l.Jitter+" jitter")
	}
	if l.MaxTries > 0 {
		parts = append(parts, "max tries "+strconv.Itoa(l.MaxTries))
	} else {
		parts = append(parts, "no max tries")
	}
	return strings.Join(parts, ", ") + "; every failure retried"
}

func loadRunTitle(run *LoadRun) string {
	if run.Budget {
		return "with the budget"
	}
	return "without the budget"
}

// loadColumns are the table's columns: header and width.
var loadColumns = []struct {
	name  string
	width int
}{
	{"from", 7}, {"calls", 7}, {"attempts", 10}, {"retries", 9}, {"succeeded", 11},
	{"max tries", 11}, {"deadline", 10}, {"budget", 8}, {"attempts/call", 15}, {"success", 9},
}

// loadRunTable writes the table of one run.
func loadRunTable(b *strings.Builder, l Load, run *LoadRun) {
	row := func(cells ...string) {
		var line strings.Builder
		for i, c := range cells {
			fmt.Fprintf(&line, "%*s", loadColumns[i].width, c)
		}
		b.WriteString(strings.TrimRight(line.String(), " ") + "\n")
	}
	var names []string
	for _, c := range loadColumns {
		names = append(names, c.name)
	}
	row(names...)
	counts := func(from string, c LoadCounts) {
		row(from, strconv.Itoa(c.Calls), strconv.Itoa(c.Attempts), strconv.Itoa(c.Retries), strconv.Itoa(c.Succeeded),
			strconv.Itoa(c.MaxTries), strconv.Itoa(c.Deadline), strconv.Itoa(c.Budget), loadAmplification(c), loadSuccess(c))
	}
	for _, bk := range run.Buckets {
		counts(bk.From.String(), bk.LoadCounts)
	}
	counts("total", run.Total)
	b.WriteString(loadWrap("  ", fmt.Sprintf("the last call ended at %v", run.End)))
}

// loadSummary writes the runs side by side: the whole run, then each phase.
func loadSummary(b *strings.Builder, r *LoadReport) {
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
		titles = append(titles, loadRunTitle(run))
	}
	type phase struct {
		name string
		c    func(*LoadRun) LoadCounts
	}
	phases := []phase{{"whole run", func(run *LoadRun) LoadCounts { return run.Total }}}
	for i, ph := range r.Runs[0].Phases {
		name := fmt.Sprintf("%s (%v to %v)", ph.Name, ph.From, ph.To)
		if ph.To == LoadForever {
			name = fmt.Sprintf("%s (from %v)", ph.Name, ph.From)
		}
		phases = append(phases, phase{name, func(run *LoadRun) LoadCounts { return run.Phases[i].LoadCounts }})
	}
	for _, ph := range phases {
		width = max(width, 2+len(ph.name)+2)
	}
	line("summary", "", titles)
	for _, ph := range phases {
		for j, m := range []struct {
			name string
			f    func(LoadCounts) string
		}{
			{"calls begun", func(c LoadCounts) string { return strconv.Itoa(c.Calls) }},
			{"attempts", func(c LoadCounts) string { return strconv.Itoa(c.Attempts) }},
			{"attempts/call", loadAmplification},
			{"success", loadSuccess},
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

// loadAmplification formats the attempts per call: "-" if no call began.
func loadAmplification(c LoadCounts) string {
	if c.Calls == 0 {
		return "-"
	}
	return strconv.FormatFloat(c.Amplification(), 'f', 2, 64)
}

// loadSuccess formats the success rate: "-" if no call ended.
func loadSuccess(c LoadCounts) string {
	if c.Ended() == 0 {
		return "-"
	}
	return loadPercentOf(c.Succeeded, c.Ended())
}

// loadPercentOf formats n/d as a percentage with one decimal.
func loadPercentOf(n, d int) string {
	return strconv.FormatFloat(100*float64(n)/float64(d), 'f', 1, 64) + "%"
}

// loadPercent formats a rate from 0 to 1 as a percentage, as short as it goes.
func loadPercent(r float64) string {
	return strconv.FormatFloat(100*r, 'g', -1, 64) + "%"
}

// loadFloat formats a number as short as it goes.
func loadFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// loadWrap returns prefix+text as lines of at most TimelineWidth columns,
// breaking text at spaces; continuation lines are indented by the
// prefix's width.
func loadWrap(prefix, text string) string { return layout.Wrap(prefix, text, 0) }
