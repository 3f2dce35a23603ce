package fuzz_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden-* seeds of testdata/fuzz from ../sim/testdata")

// TestSeedCorpus_golden: every golden scenario and trace of package sim
// (../sim/testdata) is a seed of FuzzScenario and FuzzTrace, named
// golden-<name>, holding its bytes as they are (go test -update rewrites
// the seeds).
func TestSeedCorpus_golden(t *testing.T) {
	for _, c := range []struct{ from, ext, target string }{
		{"../sim/testdata/scenarios", ".json", "FuzzScenario"},
		{"../sim/testdata/traces", ".jsonl", "FuzzTrace"},
	} {
		paths, err := filepath.Glob(filepath.Join(c.from, "*"+c.ext))
		if err != nil || len(paths) == 0 {
			t.Fatalf("no golden files in %s (%v)", c.from, err)
		}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			seed := filepath.Join("testdata", "fuzz", c.target, "golden-"+strings.TrimSuffix(filepath.Base(p), c.ext))
			want := fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b)
			if *update {
				if err := os.WriteFile(seed, want, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got, err := os.ReadFile(seed); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s is not the seed of %s (%v): run go test ./fuzz -run TestSeedCorpus_golden -update", seed, p, err)
			}
		}
	}
}
