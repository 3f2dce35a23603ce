// Package golden compares the output of the tests of package sim and
// package sim/load with their golden files.
package golden

import (
	"fmt"
	"strings"
)

// FirstDiff describes the first line where a golden file (want) and what
// a test made of it now (got) differ.
func FirstDiff(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  golden: %s\n  now:    %s", i+1, wl, gl)
		}
	}
	return "(no line differs)"
}
