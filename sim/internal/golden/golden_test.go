package golden

import "testing"

func TestFirstDiff(t *testing.T) {
	for _, tc := range []struct{ want, got, diff string }{
		{"a\nb\n", "a\nb\n", "(no line differs)"},
		{"a\nb\n", "a\nc\n", "line 2:\n  golden: b\n  now:    c"},
		{"a\n", "a\nb\n", "line 2:\n  golden: \n  now:    b"},
	} {
		if got := FirstDiff([]byte(tc.want), []byte(tc.got)); got != tc.diff {
			t.Errorf("FirstDiff(%q, %q) = %q, want %q", tc.want, tc.got, got, tc.diff)
		}
	}
}
