package sim

import (
	"strings"
	"testing"

	"github.com/timebound/backoff"
)

// TestSimulation_oneEventAtATime: the checks that a simulated call waits
// for one thing at a time fire when it would not: an event scheduled while
// another is pending, and a take with nothing scheduled. (Every test of a
// run is a test that they never fire when it does.)
func TestSimulation_oneEventAtATime(t *testing.T) {
	wantPanic := func(what, msg string, f func()) {
		t.Helper()
		defer func() {
			t.Helper()
			r := recover()
			if s, _ := r.(string); !strings.Contains(s, msg) {
				t.Errorf("%s: panic %v; want one saying %q", what, r, msg)
			}
		}()
		f()
	}
	var s simulation
	wantPanic("take with nothing scheduled", "no event pending", func() { s.take() })
	s.schedule(backoff.Event{Kind: backoff.EventEnded, Attempt: 1}, 1)
	wantPanic("a second event", "fired scheduled while ended is pending", func() {
		s.schedule(backoff.Event{Kind: backoff.EventFired, Attempt: 2}, 0)
	})
	if ev := s.take(); ev.e.Kind != backoff.EventEnded || ev.value != 1 {
		t.Errorf("take = %+v; want the ended event scheduled first", ev)
	}
	wantPanic("a second take", "no event pending", func() { s.take() })
}
