package proptest_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain runs 1,000 checks per property unless -rapid.checks or
// RAPID_CHECKS says otherwise (rapid's own default is 100).
func TestMain(m *testing.M) {
	flag.Parse()
	set := os.Getenv("RAPID_CHECKS") != ""
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if !set {
		flag.Set("rapid.checks", "1000")
	}
	os.Exit(m.Run())
}
