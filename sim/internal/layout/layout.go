// Package layout lays out the text and the pictures of package sim and
// package sim/load alike: lines wrapped to one width, and the steps of an
// axis.
package layout

import "strings"

// Width is the most columns a line of text takes.
const Width = 100

// Wrap returns prefix+text as lines of at most Width columns, breaking
// text at spaces (a word longer than a line stands alone on its line);
// continuation lines are indented by the prefix's width plus hang columns.
// Every line ends with a newline, and none with a space.
func Wrap(prefix, text string, hang int) string {
	var b strings.Builder
	indent := strings.Repeat(" ", len(prefix)+hang)
	line := prefix
	fresh := true // nothing of text on the line yet
	for word := range strings.FieldsSeq(text) {
		if !fresh && len(line)+1+len(word) > Width {
			b.WriteString(strings.TrimRight(line, " "))
			b.WriteByte('\n')
			line, fresh = indent, true
		}
		if !fresh {
			line += " "
		}
		line += word
		fresh = false
	}
	b.WriteString(strings.TrimRight(line, " "))
	b.WriteByte('\n')
	return b.String()
}

// Step returns the grid of an axis that runs from 0 to n (n >= 0, parts
// >= 1): the least step of 1, 2 or 5 times a power of ten of which n holds
// at most parts whole ones (so that the axis, rounded up to a step, has
// at most parts+1).
func Step(n, parts int64) int64 {
	for unit := int64(1); ; unit *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if s := unit * m; n/s <= parts {
				return s
			}
		}
	}
}
