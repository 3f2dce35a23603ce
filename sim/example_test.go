package sim_test

import (
	"fmt"

	"github.com/timebound/backoff/sim"
)

// Simulate one call and show its timeline: the first attempt hangs until
// its timeout cuts it, the second fails, the third succeeds.
func ExampleRun() {
	sc, err := sim.ParseScenario([]byte(`{
		"attempt_timeout": "200ms", "pause": "50ms", "max_tries": 5,
		"attempts": [
			{"outcome": "hang"},
			{"takes": "30ms", "outcome": "retryable"},
			{"takes": "10ms", "outcome": "ok"}]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := sim.Run(sc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sim.Check(sc, res)) // every rule holds: nil
	for _, s := range res.Steps {
		l := sim.LineOf(s)
		fmt.Printf("%6v  %-8s -> %s\n", l.At, l.Event, l.Action)
	}
	// Output:
	// <nil>
	//     0s  began    -> start
	//  200ms  ended    -> pause
	//  250ms  fired    -> start
	//  280ms  ended    -> pause
	//  330ms  fired    -> start
	//  340ms  ended    -> finish
}

// A dependency down for two seconds, 200 calls over four seconds, each of
// up to 4 tries: without a budget, the calls of the outage make almost 4
// attempts each; with a budget of Ratio 0.1, about 1 + Ratio.
func ExampleRunLoad() {
	l, err := sim.ParseLoad([]byte(`{
		"calls": 200, "every": "20ms", "takes": "10ms",
		"down": {"from": "1s", "to": "3s"},
		"pause": "100ms", "max_tries": 4,
		"budget": {"ratio": 0.1, "burst": 5},
		"bucket": "1s"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := sim.RunLoad(l)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, run := range r.Runs {
		for _, ph := range run.Phases {
			if ph.Name == "during the outage" {
				fmt.Printf("budget %v: %d calls, %d attempts (%.2f per call)\n", run.Budget, ph.Calls, ph.Attempts, ph.Amplification())
			}
		}
	}
	// sim.LoadTable(os.Stdout, r) prints the whole report, bucket by bucket.

	// Output:
	// budget false: 100 calls, 368 attempts (3.68 per call)
	// budget true: 100 calls, 114 attempts (1.14 per call)
}
