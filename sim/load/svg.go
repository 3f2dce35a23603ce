package load

import (
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/timebound/backoff/sim/internal/layout"
)

// The load picture's geometry and colours.
const (
	svgWidth  = 960
	svgLeft   = 70
	svgRight  = 30
	attemptsH = 240 // the attempts chart's height
	successH  = 130 // the success chart's height
)

// runColour is the colour of a run: without the budget, with it.
var runColour = map[bool]string{false: "#f59e0b", true: "#2563eb"}

const (
	colourDown    = "#fee2e2"
	colourDownInk = "#b91c1c"
	colourCalls   = "#111827"
	colourText    = "#111827"
	colourSubtle  = "#4b5563"
	colourGrid    = "#e5e7eb"
	svgFont       = "DejaVu Sans, Helvetica, Arial, sans-serif"
)

// SVG writes a load's report as a self-contained SVG picture, on one
// time axis: above, the attempts started in each bucket as bars (one bar
// per run, side by side: without the budget, then with it) and the calls
// begun as a dashed line, so that the bars' height over the line is the
// amplification; below, the share of the calls that ended in each bucket
// that succeeded, a line per run. The outage is shaded on both. A legend
// and each run's totals are written below. It reads only the report and
// costs some hundred bytes per bucket.
func SVG(w io.Writer, r *Report) error {
	if r == nil || len(r.Runs) == 0 {
		return errors.New("load: svg: no report")
	}
	sc := r.Scenario
	nb := 0
	for _, run := range r.Runs {
		nb = max(nb, len(run.Buckets))
	}
	nb = max(nb, 1)
	bucket := sc.Bucket.D()
	span := time.Duration(nb) * bucket
	plotW := float64(svgWidth - svgLeft - svgRight)
	x := func(t time.Duration) float64 {
		return svgLeft + plotW*float64(min(t, span))/float64(span)
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	text := func(x, y float64, size int, anchor, fill, weight, s string) {
		p(`<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s" font-weight="%s">%s</text>`+"\n",
			x, y, size, anchor, fill, weight, html.EscapeString(s))
	}

	// The header: the load's numbers, as the table's.
	var header []string
	for _, h := range headerLines(sc) {
		if h[0] == "load" || h[0] == "counted" {
			continue
		}
		for _, line := range strings.Split(strings.TrimRight(wrap(h[0]+": ", h[1]), "\n"), "\n") {
			header = append(header, strings.TrimSpace(line))
		}
	}
	top1 := 52 + 16*len(header) + 36 // the attempts chart's top
	axis1 := top1 + attemptsH
	top2 := axis1 + 62 // the success chart's top
	axis2 := top2 + successH
	legendY := axis2 + 52
	resultY := legendY + 34
	height := resultY + 20*len(r.Runs) + 8

	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n",
		svgWidth, height, svgWidth, height, svgFont)
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")
	title := "backoff load simulation"
	if sc.Name != "" {
		title = sc.Name
	}
	text(20, 30, 17, "start", colourText, "bold", title)
	for i, h := range header {
		text(20, float64(52+16*i), 12, "start", colourSubtle, "normal", h)
	}

	// The outage, shaded on both charts.
	shade := func(top, axis int) {
		if d := sc.Down; d != nil && d.From.D() < span {
			x0, x1 := x(d.From.D()), x(d.To.D())
			p(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", x0, top, x1-x0, axis-top, colourDown)
		}
	}

	// The time axis under a chart, with a grid.
	timeAxis := func(top, axis int) {
		step := niceStep(span)
		for t := time.Duration(0); t <= span; t += step {
			p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"/>`+"\n", x(t), axis, x(t), axis+5, colourSubtle)
			text(x(t), float64(axis)+18, 11, "middle", colourSubtle, "normal", t.String())
		}
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>`+"\n",
			svgLeft, axis, svgWidth-svgRight, axis, colourSubtle)
		p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1"/>`+"\n", svgLeft, top, svgLeft, axis, colourSubtle)
	}
	// A horizontal grid line at y with its label.
	hline := func(y float64, label string) {
		p(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1"/>`+"\n", svgLeft, y, svgWidth-svgRight, y, colourGrid)
		text(svgLeft-6, y+4, 11, "end", colourSubtle, "normal", label)
	}

	// The attempts chart.
	most := 1
	for _, run := range r.Runs {
		for _, bk := range run.Buckets {
			most = max(most, bk.Attempts, bk.Calls)
		}
	}
	ystep := niceCount(most)
	ymax := (most + ystep - 1) / ystep * ystep
	y1 := func(n int) float64 { return float64(axis1) - float64(attemptsH)*float64(n)/float64(ymax) }
	text(svgLeft, float64(top1-12), 13, "start", colourText, "bold",
		fmt.Sprintf("attempts started per %v (bars) and calls begun (dashed line)", sc.Bucket))
	shade(top1, axis1)
	for n := 0; n <= ymax; n += ystep {
		hline(y1(n), fmt.Sprint(n))
	}
	slotW := plotW / float64(nb)
	for k, run := range r.Runs {
		barW := slotW * 0.8 / float64(len(r.Runs))
		for _, bk := range run.Buckets {
			if bk.Attempts == 0 {
				continue
			}
			bx := x(bk.From) + slotW*0.1 + float64(k)*barW
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%v: %d attempts, %d calls begun, %s</title></rect>`+"\n",
				bx, y1(bk.Attempts), barW, float64(axis1)-y1(bk.Attempts), runColour[run.WithBudget],
				bk.From, bk.Attempts, bk.Calls, runTitle(run))
		}
	}
	// The calls begun, as steps (the same in every run).
	var path strings.Builder
	for i, bk := range r.Runs[0].Buckets {
		cmd := "L"
		if i == 0 {
			cmd = "M"
		}
		fmt.Fprintf(&path, "%s %.1f %.1f H %.1f ", cmd, x(bk.From), y1(bk.Calls), x(bk.From+bucket))
	}
	if path.Len() > 0 {
		p(`<path d="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`+"\n", strings.TrimSpace(path.String()), colourCalls)
	}
	if d := sc.Down; d != nil && d.From.D() < span {
		text((x(d.From.D())+x(d.To.D()))/2, float64(top1)+14, 11, "middle", colourDownInk, "bold", "dependency down")
	}
	timeAxis(top1, axis1)

	// The success chart.
	y2 := func(rate float64) float64 { return float64(axis2) - float64(successH)*rate }
	text(svgLeft, float64(top2-12), 13, "start", colourText, "bold", "success rate of the calls that ended, per "+sc.Bucket.String())
	shade(top2, axis2)
	for _, pct := range []int{0, 50, 100} {
		hline(y2(float64(pct)/100), fmt.Sprintf("%d%%", pct))
	}
	for k, run := range r.Runs {
		colour := runColour[run.WithBudget]
		var line strings.Builder
		cmd := "M"
		for _, bk := range run.Buckets {
			if bk.Ended() == 0 {
				cmd = "M" // no call ended: the line breaks
				continue
			}
			cx, cy := x(bk.From+bucket/2), y2(bk.SuccessRate())
			fmt.Fprintf(&line, "%s %.1f %.1f ", cmd, cx, cy)
			cmd = "L"
			p(`<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%v: %s of %d calls succeeded, %s</title></circle>`+"\n",
				cx, cy, colour, bk.From, success(bk.Counts), bk.Ended(), runTitle(run))
		}
		if line.Len() > 0 {
			// The first run's line is wider, so that it shows where the two are one.
			p(`<path d="%s" fill="none" stroke="%s" stroke-width="%d"/>`+"\n", strings.TrimSpace(line.String()), colour, 2+2*(len(r.Runs)-1-k))
		}
	}
	timeAxis(top2, axis2)
	text(svgWidth-svgRight, float64(axis2)+34, 11, "end", colourSubtle, "normal", "time since the load began")

	// The legend.
	lx := float64(svgLeft)
	item := func(draw func(x, y float64), label string) {
		draw(lx, float64(legendY))
		text(lx+30, float64(legendY), 11, "start", colourText, "normal", label)
		lx += 30 + 6.4*float64(len(label)) + 22
	}
	for _, run := range r.Runs {
		colour := runColour[run.WithBudget]
		item(func(x, y float64) {
			p(`<rect x="%.1f" y="%.1f" width="24" height="12" fill="%s"/>`+"\n", x, y-10, colour)
		}, runTitle(run))
	}
	item(func(x, y float64) {
		p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`+"\n", x, y-4, x+24, y-4, colourCalls)
	}, "calls begun")
	if sc.Down != nil {
		item(func(x, y float64) {
			p(`<rect x="%.1f" y="%.1f" width="24" height="12" fill="%s"/>`+"\n", x, y-10, colourDown)
		}, "dependency down")
	}

	// Each run's totals.
	for i, run := range r.Runs {
		t := run.Total
		words := fmt.Sprintf("%s: %d calls, %d attempts (%s per call), %s succeeded",
			runTitle(run), t.Calls, t.Attempts, amplification(t), success(t))
		if run.WithBudget {
			words += fmt.Sprintf("; %d stopped by the budget", t.BudgetExhausted)
		}
		text(svgLeft, float64(resultY+20*i), 13, "start", runColour[run.WithBudget], "bold", words)
	}
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts
// span into at most 10 whole parts.
func niceStep(span time.Duration) time.Duration {
	return time.Duration(layout.Step(int64(span), 10))
}

// niceCount returns a step of 1, 2 or 5 times a power of ten that
// cuts 0 to n into at most 5 whole parts.
func niceCount(n int) int { return int(layout.Step(int64(n), 5)) }
