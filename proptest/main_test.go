package proptest_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs 1,000 checks per property unless -rapid.checks or
// RAPID_CHECKS says otherwise; under -race, where every check costs ten
// times as much, rapid's own default of 100 (the plain run has the 1,000).
func TestMain(m *testing.M) {
	flag.Parse()
	set := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set && !raceEnabled {
		flag.Set("rapid.checks", "1000")
	}
	os.Exit(m.Run())
}
