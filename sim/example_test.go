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
