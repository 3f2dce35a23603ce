package layout

import (
	"strings"
	"testing"
)

func TestWrap(t *testing.T) {
	long := strings.Repeat("word ", 30)
	for _, tc := range []struct {
		prefix, text string
		hang         int
		want         string
	}{
		{"policy    ", "short", 2, "policy    short\n"},
		{"p ", "", 0, "p\n"},
		{"policy    ", long, 2, "policy    " + strings.TrimSpace(strings.Repeat("word ", 18)) + "\n" +
			"            " + strings.TrimSpace(strings.Repeat("word ", 12)) + "\n"},
		{"load        ", long, 0, "load        " + strings.TrimSpace(strings.Repeat("word ", 17)) + "\n" +
			"            " + strings.TrimSpace(strings.Repeat("word ", 13)) + "\n"},
		{"x ", strings.Repeat("y", 120), 0, "x " + strings.Repeat("y", 120) + "\n"},
	} {
		got := Wrap(tc.prefix, tc.text, tc.hang)
		if got != tc.want {
			t.Errorf("Wrap(%q, %q, %d) =\n%q\nwant\n%q", tc.prefix, tc.text, tc.hang, got, tc.want)
		}
	}
}

func TestStep(t *testing.T) {
	for _, tc := range []struct{ n, parts, want int64 }{
		{0, 10, 1}, {10, 10, 1}, {11, 10, 2}, {21, 10, 2}, {22, 10, 5}, {54, 10, 5}, {60, 10, 10},
		{1_000_000_000, 10, 100_000_000}, {1_100_000_000, 10, 200_000_000},
		{5, 5, 1}, {6, 5, 2}, {30, 5, 10}, {249, 5, 50}, {300, 5, 100},
	} {
		if got := Step(tc.n, tc.parts); got != tc.want {
			t.Errorf("Step(%d, %d) = %d, want %d", tc.n, tc.parts, got, tc.want)
		}
	}
}
