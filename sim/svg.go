package sim

import (
	"errors"
	"fmt"
	"html"
	"io"
	"strings"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/sim/internal/layout"
)

// A bar is one attempt as the SVG draws it.
type bar struct {
	k          int
	start, end time.Duration
	until      time.Duration // when its cut is due (if cut is not nil)
	cut        error
	ended      bool // false: still running when the steps stop (a runaway)
	outcome    backoff.Outcome
	label      string        // what became of it, in a word or three
	late       bool          // it returned after its cut (cooperative)
	ghost      time.Duration // abandoned: until when the operation runs on; 0: it does not
	pause      bool          // a pause follows it
	pauseEnd   time.Duration // when that pause ended (or was cut short by the caller)
	pauseCut   bool          // the caller's cancel cut the pause short
}

// bars reads the attempts and pauses off the steps.
func bars(sc Scenario, res *Result) []bar {
	var bs []bar
	running := false
	for _, s := range res.Steps {
		e, a := s.Event, s.Action
		if n := len(bs); n > 0 {
			b := &bs[n-1]
			switch {
			case running && e.Kind == backoff.EventEnded && e.Attempt == b.k:
				running = false
				b.ended, b.end, b.outcome = true, e.At, a.Outcome
				b.late = b.cut != nil && e.At > b.until
				b.label = barLabel(b, e)
				if sc.Abandon && abandoned(e, a, b.until, b.cut) {
					b.ghost = ghostEnd(sc.attempt(b.k), b.start, e.At)
					b.label += ", abandoned"
				}
			case !running && b.pause && (e.Kind == backoff.EventFired || e.Kind == backoff.EventCanceled):
				b.pauseEnd = e.At
				b.pauseCut = e.Kind == backoff.EventCanceled || a.Kind == backoff.ActionFinish
			}
		}
		switch a.Kind {
		case backoff.ActionStart:
			bs = append(bs, bar{k: a.Attempt, start: e.At, until: a.Until, cut: a.Cut})
			running = true
		case backoff.ActionPause:
			if n := len(bs); n > 0 {
				bs[n-1].pause, bs[n-1].pauseEnd = true, a.Until
			}
		}
	}
	return bs
}

// ghostEnd says until when an operation abandoned at t runs on: never
// (for as long as the picture goes) if it hangs and ignores its context,
// 0 if it returns at once.
func ghostEnd(a Attempt, start, t time.Duration) time.Duration {
	natural := never
	if a.Outcome != Hang {
		natural = start + a.Takes.D()
	}
	switch a.OnCancel {
	case Ignore:
		return natural
	case Late:
		return min(natural, t+a.Late.D())
	}
	return 0
}

func barLabel(b *bar, e backoff.Event) string {
	switch b.outcome {
	case backoff.OutcomeSucceeded:
		if b.late {
			return "succeeded late"
		}
		return "succeeded"
	case backoff.OutcomeRejected:
		return "not retryable"
	case backoff.OutcomeCut:
		if e.Kind == backoff.EventCanceled || e.Cause != nil {
			return "cancelled"
		}
		return "cut by the deadline"
	case backoff.OutcomeFailed:
		if b.cut == backoff.ErrAttemptTimeout && e.At >= b.until {
			return "timed out"
		}
		return strings.TrimPrefix(errText(e.Err), "sim: ")
	}
	return "running"
}

// The SVG's geometry and colours.
const (
	svgWidth   = 960
	svgLeft    = 120 // the row labels' column
	svgRight   = 40
	svgRowH    = 30
	svgMaxRows = 24 // more attempts are elided in the middle
	svgFont    = "DejaVu Sans, Helvetica, Arial, sans-serif"
)

// outcomeColours is outcomeColour by the outcome's name.
var outcomeColours = map[string]string{}

func init() {
	for o, c := range outcomeColour {
		outcomeColours[o.String()] = c
	}
}

var outcomeColour = map[backoff.Outcome]string{
	backoff.OutcomeSucceeded: "#16a34a",
	backoff.OutcomeFailed:    "#f59e0b",
	backoff.OutcomeRejected:  "#dc2626",
	backoff.OutcomeCut:       "#64748b",
	backoff.OutcomeNone:      "#60a5fa",
}

const (
	colourDeadline = "#b91c1c"
	colourCancel   = "#7c3aed"
	colourCut      = "#111827"
	colourPause    = "#9ca3af"
	colourGrid     = "#e5e7eb"
	colourText     = "#111827"
	colourSubtle   = "#4b5563"
)

// SVG writes a simulated call as a self-contained SVG picture: one row
// per attempt on a common time axis, each attempt a bar from its start to
// its end coloured by its outcome (succeeded, failed, rejected, cut), the
// pauses as the gaps between bars (a dotted line across each), each
// attempt's cut time as a short black tick, the deadline and the caller's
// cancel as lines across all rows, and the instant the call returns
// marked on the axis. An attempt that returned after its cut has its late
// part hatched; one that was abandoned and runs on is continued by a
// dashed outline. A legend and the result are written below the axis.
// Many attempts (a runaway) are elided in the middle.
//
// sc is the scenario res was simulated from.
func SVG(w io.Writer, sc Scenario, res *Result) error {
	if res == nil {
		return errors.New("sim: svg: no result")
	}
	bs := bars(sc, res)
	var end time.Duration // when the call returned, or the last step
	if n := len(res.Steps); n > 0 {
		end = res.Steps[n-1].Event.At
	}

	// The time span shown: the call, and the lines near it.
	span := end
	extra := []time.Duration{sc.Deadline.D()}
	if sc.CancelAt != nil {
		extra = append(extra, sc.CancelAt.D())
	}
	if sc.CallerDeadline > 0 {
		extra = append(extra, sc.CallerDeadline.D())
	}
	for _, b := range bs {
		if b.cut != nil {
			extra = append(extra, b.until)
		}
		if b.pause {
			extra = append(extra, b.pauseEnd)
		}
		if b.ghost > b.end {
			extra = append(extra, b.ghost)
		}
	}
	for _, t := range extra {
		switch {
		case t <= 0 || t == never:
		case end == 0: // all at one instant: show up to the nearest line
			span = min(max(span, t), t)
		case t <= end+end/2:
			span = max(span, t)
		}
	}
	if span <= 0 {
		span = time.Millisecond
	}
	step := niceStep(span)
	span = (span + step - 1) / step * step
	plotW := float64(svgWidth - svgLeft - svgRight)
	x := func(t time.Duration) float64 {
		return svgLeft + plotW*float64(min(t, span))/float64(span)
	}

	// Which attempts get a row.
	rows := make([]int, 0, len(bs)) // indexes into bs; -1: the elision row
	if len(bs) > svgMaxRows {
		for i := range svgMaxRows - 4 {
			rows = append(rows, i)
		}
		rows = append(rows, -1)
		for i := len(bs) - 3; i < len(bs); i++ {
			rows = append(rows, i)
		}
	} else {
		for i := range bs {
			rows = append(rows, i)
		}
	}
	// The header: the title, the policy, the script (wrapped).
	header := []string{policyWords(sc)}
	for _, l := range strings.Split(strings.TrimRight(wrap("script: ", scriptWords(sc)), "\n"), "\n") {
		header = append(header, strings.TrimSpace(l))
	}
	if len(header) > 4 {
		header = append(header[:3], ellipsis(header[3], 100-4)+" ...")
	}
	top := 62 + 18*len(header) + 16 // the first row's top
	axisY := top + len(rows)*svgRowH + 12
	if len(rows) == 0 {
		axisY = top + svgRowH
	}

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	text := func(x, y float64, size int, anchor, fill, weight, s string) {
		p(`<text x="%.1f" y="%.1f" font-size="%d" text-anchor="%s" fill="%s" font-weight="%s">%s</text>`+"\n",
			x, y, size, anchor, fill, weight, html.EscapeString(s))
	}

	// The legend and the result, laid out first to know the height.
	type item struct{ kind, colour, label string }
	has := map[string]bool{}
	for _, bb := range bs {
		has[bb.outcome.String()] = true
		has["late"] = has["late"] || bb.late
		has["ghost"] = has["ghost"] || bb.ghost > bb.end
		has["pause"] = has["pause"] || bb.pause
		has["tick"] = has["tick"] || bb.cut != nil && bb.until <= span
	}
	has["line"] = sc.Deadline > 0 && sc.Deadline.D() <= span
	has["dash"] = sc.CancelAt != nil || sc.CallerDeadline > 0
	has["return"] = !res.Runaway && len(res.Steps) > 0
	var legend []item
	for _, it := range []item{
		{"bar", backoff.OutcomeSucceeded.String(), "succeeded"},
		{"bar", backoff.OutcomeFailed.String(), "failed (retried)"},
		{"bar", backoff.OutcomeRejected.String(), "rejected (not retryable)"},
		{"bar", backoff.OutcomeCut.String(), "cut by the deadline or a cancel"},
		{"bar", backoff.OutcomeNone.String(), "running"},
		{"late", "late", "returned after its cut"},
		{"ghost", "ghost", "abandoned, runs on"},
		{"pause", "pause", "pause"},
		{"tick", "tick", "attempt's cut time"},
		{"line", "line", "deadline"},
		{"dash", "dash", "caller's cancel"},
		{"return", "return", "the call returns"},
	} {
		if has[it.colour] {
			legend = append(legend, it)
		}
	}
	legendY := float64(axisY) + 60
	type placed struct {
		item
		x, y float64
	}
	var placedItems []placed
	lx, ly := float64(svgLeft), legendY
	for _, it := range legend {
		wdt := 30 + 6.6*float64(len(it.label)) + 22
		if lx+wdt > svgWidth-svgRight && lx > svgLeft {
			lx, ly = svgLeft, ly+22
		}
		placedItems = append(placedItems, placed{it, lx, ly})
		lx += wdt
	}
	resultY := ly + 32
	result := strings.Split(strings.TrimRight(wrap("", "result: "+resultWords(sc, res)), "\n"), "\n")
	height := int(resultY) + 18*len(result) + 4

	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n",
		svgWidth, height, svgWidth, height, svgFont)
	p(`<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
		`<rect width="6" height="6" fill="white" fill-opacity="0.55"/><line x1="0" y1="0" x2="0" y2="6" stroke="white" stroke-width="3"/></pattern></defs>` + "\n")
	p(`<rect width="100%%" height="100%%" fill="white"/>` + "\n")

	// Title and policy.
	title := "backoff simulation"
	if sc.Name != "" {
		title = sc.Name
	}
	text(20, 30, 17, "start", colourText, "bold", title)
	for i, l := range header {
		text(20, float64(52+18*i), 12, "start", colourSubtle, "normal", l)
	}

	// Grid and axis.
	for t := time.Duration(0); t <= span; t += step {
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"/>`+"\n", x(t), top-8, x(t), axisY, colourGrid)
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1"/>`+"\n", x(t), axisY, x(t), axisY+5, colourSubtle)
		text(x(t), float64(axisY)+18, 11, "middle", colourSubtle, "normal", t.String())
	}
	p(`<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="1.5"/>`+"\n", svgLeft, axisY, svgWidth-svgRight, axisY, colourSubtle)
	text(svgWidth-svgRight, float64(axisY)+34, 11, "end", colourSubtle, "normal", "time since the call began")

	// The rows.
	if len(rows) == 0 {
		text(svgLeft+8, float64(top+svgRowH/2+4), 12, "start", colourSubtle, "italic", "no attempt was made")
	}
	for r, i := range rows {
		y := float64(top + r*svgRowH)
		mid := y + svgRowH/2
		if i < 0 {
			text(svgLeft-10, mid+4, 12, "end", colourSubtle, "normal", "...")
			text(svgLeft+8, mid+4, 12, "start", colourSubtle, "italic",
				fmt.Sprintf("%d more attempts", len(bs)-(svgMaxRows-4)-3))
			continue
		}
		bb := bs[i]
		text(svgLeft-10, mid+4, 12, "end", colourText, "normal", fmt.Sprintf("attempt %d", bb.k))
		end := bb.end
		if !bb.ended {
			end = res.Steps[len(res.Steps)-1].Event.At
		}
		colour := outcomeColour[bb.outcome]
		x0, x1 := x(bb.start), x(end)
		if x1-x0 < 3 {
			x1 = x0 + 3
		}
		// The ghost of an abandoned attempt that runs on.
		if bb.ghost > end {
			gx := x(bb.ghost)
			if bb.ghost > span { // it runs on past the picture: into the margin
				gx = svgWidth - 10
			}
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="14" rx="3" fill="none" stroke="%s" stroke-width="1.2" stroke-dasharray="4 3"/>`+"\n",
				x1, mid-7, max(gx-x1, 1), colour)
		}
		// The bar, its late part hatched.
		p(`<rect x="%.1f" y="%.1f" width="%.1f" height="18" rx="3" fill="%s"><title>attempt %d: %v to %v, %s</title></rect>`+"\n",
			x0, mid-9, x1-x0, colour, bb.k, bb.start, end, bb.label)
		if bb.late {
			lx := x(bb.until)
			p(`<rect x="%.1f" y="%.1f" width="%.1f" height="18" fill="url(#hatch)"/>`+"\n", lx, mid-9, max(x1-lx, 0))
		}
		// Its cut time: faint if the attempt ended before it.
		if bb.cut != nil && bb.until <= span {
			opacity := "1"
			if bb.ended && bb.end < bb.until {
				opacity = "0.35"
			}
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5" stroke-opacity="%s"/>`+"\n",
				x(bb.until), mid-12, x(bb.until), mid+12, colourCut, opacity)
		}
		// The pause after it.
		if bb.pause {
			px0, px1 := x1, x(bb.pauseEnd)
			if px1 > px0 {
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="2 3"/>`+"\n",
					px0, mid, px1, mid, colourPause)
				words := "pause"
				if bb.pauseCut {
					words = "pause (cancelled)"
				}
				if px1-px0 > 6.2*float64(len(words))+8 && bb.ghost <= end {
					text((px0+px1)/2, mid-6, 10, "middle", colourSubtle, "normal", words)
				}
			}
		}
		// Its label: in the bar if it fits, else before it, else after it
		// (and after the pause or the ghost that follow it).
		lw := 6.4 * float64(len(bb.label))
		after := x1
		if bb.ghost > end {
			after = max(after, min(x(bb.ghost), svgWidth-svgRight))
		}
		if bb.pause {
			after = max(after, x(bb.pauseEnd))
		}
		switch {
		case x1-x0 >= lw+12:
			ink := "white"
			if bb.outcome == backoff.OutcomeFailed || bb.outcome == backoff.OutcomeNone {
				ink = colourText
			}
			text(x0+6, mid+4, 11, "start", ink, "bold", bb.label)
		case x0-8-lw >= svgLeft:
			text(x0-8, mid+4, 11, "end", colourText, "normal", bb.label)
		default:
			text(after+6, mid+4, 11, "start", colourText, "normal", bb.label)
		}
	}

	// The deadline and the caller's cancel, across all rows.
	labelAt := map[int]bool{}
	vline := func(t time.Duration, colour, dash, words string) {
		ty := top - 20
		for labelAt[ty] {
			ty -= 14
		}
		labelAt[ty] = true
		if t > span {
			text(svgWidth-svgRight, float64(ty), 11, "end", colour, "bold", words+", later →")
			return
		}
		p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", x(t), top-12, x(t), axisY, colour, dash)
		anchor := "middle"
		if x(t) > svgWidth-svgRight-60 {
			anchor = "end"
		}
		text(x(t), float64(ty), 11, anchor, colour, "bold", words)
	}
	if sc.Deadline > 0 {
		vline(sc.Deadline.D(), colourDeadline, "", "deadline "+sc.Deadline.String())
	}
	if sc.CancelAt != nil {
		vline(sc.CancelAt.D(), colourCancel, ` stroke-dasharray="6 4"`, "cancel "+sc.CancelAt.String())
	}
	if sc.CallerDeadline > 0 {
		vline(sc.CallerDeadline.D(), colourCancel, ` stroke-dasharray="6 4"`, "caller's deadline "+sc.CallerDeadline.String())
	}

	// The instant the call returns.
	if !res.Runaway && len(res.Steps) > 0 {
		ex := x(end)
		p(`<path d="M %.1f %d l -6 -9 h 12 z" fill="%s"/>`+"\n", ex, axisY, colourText)
	}

	// The legend.
	for _, it := range placedItems {
		sx, sy := it.x, it.y
		switch it.colour {
		case "late":
			it.colour = outcomeColour[backoff.OutcomeFailed]
		case "ghost":
			it.colour = colourSubtle
		case "pause":
			it.colour = colourPause
		case "tick":
			it.colour = colourCut
		case "line":
			it.colour = colourDeadline
		case "dash":
			it.colour = colourCancel
		case "return":
			it.colour = colourText
		default:
			it.colour = outcomeColours[it.colour]
		}
		switch it.kind {
		case "bar":
			p(`<rect x="%.1f" y="%.1f" width="24" height="12" rx="2" fill="%s"/>`+"\n", sx, sy-10, it.colour)
		case "late":
			p(`<rect x="%.1f" y="%.1f" width="24" height="12" rx="2" fill="%s"/>`+"\n", sx, sy-10, it.colour)
			p(`<rect x="%.1f" y="%.1f" width="24" height="12" fill="url(#hatch)"/>`+"\n", sx, sy-10)
		case "ghost":
			p(`<rect x="%.1f" y="%.1f" width="24" height="10" rx="2" fill="none" stroke="%s" stroke-width="1.2" stroke-dasharray="4 3"/>`+"\n", sx, sy-9, it.colour)
		case "pause":
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="2 3"/>`+"\n", sx, sy-4, sx+24, sy-4, it.colour)
		case "tick":
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2.5"/>`+"\n", sx+12, sy-12, sx+12, sy+3, it.colour)
		case "line":
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2"/>`+"\n", sx+12, sy-12, sx+12, sy+3, it.colour)
		case "dash":
			p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="4 3"/>`+"\n", sx+12, sy-12, sx+12, sy+3, it.colour)
		case "return":
			p(`<path d="M %.1f %.1f l -6 -9 h 12 z" fill="%s"/>`+"\n", sx+12, sy+1, it.colour)
		}
		text(sx+30, sy, 11, "start", colourText, "normal", it.label)
	}

	// The result.
	for i, l := range result {
		text(svgLeft, resultY+float64(18*i), 13, "start", colourText, "bold", strings.TrimSpace(l))
	}
	p("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceStep returns a step of 1, 2 or 5 times a power of ten that cuts
// span into at most 10 whole parts.
func niceStep(span time.Duration) time.Duration { return time.Duration(layout.Step(int64(span), 10)) }

// ellipsis cuts s to at most n characters.
func ellipsis(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
