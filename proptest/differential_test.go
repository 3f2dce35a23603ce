package proptest_test

import (
	"testing"

	"github.com/timebound/backoff/internal/drive"
	"github.com/timebound/backoff/proptest"
	"github.com/timebound/backoff/sim"
	"pgregory.net/rapid"
)

// Random scenarios through the executor must give the simulator's trace:
// the very one when nothing ties, and one of the orders the simulator
// explores (sim.Explore) when two things fall due at one instant. (A
// scenario with more than 256 orders is compared only if the executor
// took one of the first 256.)
func TestProp_differential(t *testing.T) {
	t.Run("system clock", func(t *testing.T) {
		checkDifferential(t, func(sc sim.Scenario, _ *sim.Result) drive.Run { return drive.System(sc) })
	})
	t.Run("fake clock", func(t *testing.T) { checkDifferential(t, drive.FakeClock) })
}

func checkDifferential(t *testing.T, run func(sim.Scenario, *sim.Result) drive.Run) {
	rapid.Check(t, func(rt *rapid.T) {
		sc := proptest.Scenario().Draw(rt, "scenario")
		want, err := sim.Run(sc)
		if err != nil {
			rt.Fatal(err)
		}
		if want.Runaway {
			// In the bubble the executor would spin at one instant forever.
			rt.Fatalf("the simulator runs away\nreproduce: %s", proptest.Save(t.Name(), sc))
		}
		var r drive.Run
		// Not rt.Context() in the bubble: if the bubble deadlocked, rapid's
		// cleanup would close that context from outside it, and the test
		// binary would die (fatal error: close of synctest channel from
		// outside bubble) with no shrinking and no fail file.
		rapid.SyncTest(rt, func(*rapid.T) { r = run(sc, want) })
		if orders, all := drive.Orders(sc, 256); !drive.OneOf(orders, r.Steps) && all {
			rt.Fatalf("the executor's trace is none of the %d simulated orders:\n%s\nreproduce: %s", len(orders), sim.Encode(sc, r.Steps), proptest.Save(t.Name(), sc))
		}
	})
}
