package load_test

import (
	"fmt"

	"github.com/timebound/backoff/sim/load"
)

// A dependency down for two seconds, 200 calls over four seconds, each of
// up to 4 tries: without a budget, the calls of the outage make almost 4
// attempts each; with a budget of Ratio 0.1, about 1 + Ratio.
func ExampleRun() {
	sc, err := load.Parse([]byte(`{
		"calls": 200, "every": "20ms", "takes": "10ms",
		"down": {"from": "1s", "to": "3s"},
		"pause": "100ms", "max_tries": 4,
		"budget": {"ratio": 0.1, "burst": 5},
		"bucket": "1s"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := load.Run(sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, run := range r.Runs {
		for _, ph := range run.Phases {
			if ph.Name == "during the outage" {
				fmt.Printf("budget %v: %d calls, %d attempts (%.2f per call)\n", run.WithBudget, ph.Calls, ph.Attempts, ph.Amplification())
			}
		}
	}
	// load.Table(os.Stdout, r) prints the whole report, bucket by bucket.

	// Output:
	// budget false: 100 calls, 368 attempts (3.68 per call)
	// budget true: 100 calls, 114 attempts (1.14 per call)
}
