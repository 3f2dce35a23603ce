// Package fuzz_test holds the Go native fuzz targets of backoff: the rule
// properties through rapid.MakeFuzz, the scenario decoder, the trace
// reader, and the policy's validation and decision core at extreme values.
// Seed corpora are under testdata/fuzz/<Target>/; README says how to fuzz
// for longer.
package fuzz_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/timebound/backoff"
	"github.com/timebound/backoff/proptest"
	"github.com/timebound/backoff/sim"
	"pgregory.net/rapid"
)

// FuzzProperties checks every rule (sim.Check) on scenarios drawn by
// proptest.Scenario from the fuzzer's bytes.
func FuzzProperties(f *testing.F) {
	f.Add(make([]byte, 256))
	f.Fuzz(rapid.MakeFuzz(func(t *rapid.T) {
		sc := proptest.Scenario().Draw(t, "scenario")
		res, err := sim.Run(sc)
		if err != nil {
			t.Fatalf("a drawn scenario is refused: %v", err)
		}
		if res.Runaway {
			return
		}
		if err := sim.Check(sc, res); err != nil {
			t.Fatalf("%v\nscenario: %s", err, mustJSON(sc))
		}
	}))
}

// FuzzScenario feeds arbitrary bytes to the scenario decoder: it must
// never panic; what it accepts must survive a JSON round trip unchanged,
// simulate without error, and obey every rule.
func FuzzScenario(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := sim.ParseScenario(b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "sim: scenario: ") {
				t.Fatalf("an error without its prefix: %v", err)
			}
			return
		}
		again, err := sim.ParseScenario(mustJSON(sc))
		if err != nil || !reflect.DeepEqual(again, sc) {
			t.Fatalf("the round trip changes %+v into %+v (%v)", sc, again, err)
		}
		res, err := sim.Run(sc)
		if err != nil {
			t.Fatalf("an accepted scenario does not run: %v", err)
		}
		if !res.Runaway {
			if err := sim.Check(sc, res); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzTrace feeds arbitrary bytes to the trace reader and to Replay: they
// must never panic; a trace the reader accepts must be written back and
// read again unchanged.
func FuzzTrace(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = sim.Replay(bytes.NewReader(b))
		tr, err := sim.ReadTrace(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := tr.Write(&out); err != nil {
			t.Fatal(err)
		}
		again, err := sim.ReadTrace(&out)
		if err != nil || !reflect.DeepEqual(again, tr) {
			t.Fatalf("the round trip changes the trace (%v):\n%s", err, out.Bytes())
		}
	})
}

// FuzzPolicy validates arbitrary numbers, overflow-sized durations
// included, and drives the decision core of every valid policy through
// events drawn from the bytes: it must never panic, and what it answers
// must keep the rules' plain statements.
func FuzzPolicy(f *testing.F) {
	f.Add(int64(0), int64(0), int64(0), 0, []byte{})
	f.Add(int64(math.MaxInt64), int64(math.MaxInt64), int64(math.MaxInt64), math.MaxInt, []byte{1, 2, 3, 4, 5, 6, 7, 8})
	f.Add(int64(-1), int64(math.MinInt64), int64(1), -1, []byte{0})
	f.Fuzz(func(t *testing.T, at, dl, pause int64, tries int, events []byte) {
		p := backoff.Policy{AttemptTimeout: time.Duration(at), Deadline: time.Duration(dl), Pause: time.Duration(pause),
			MaxTries: tries, RetryIf: backoff.On(proptest.ErrA), GiveUp: backoff.On(proptest.ErrB)}
		x, err := backoff.NewExecution(p)
		if err != nil {
			// Valid numbers are refused only when nothing bounds the retries.
			unbounded := pause == 0 && tries == 0 && dl == 0
			if !errors.Is(err, backoff.ErrInvalidPolicy) || (at >= 0 && dl >= 0 && pause >= 0 && tries >= 0 && !unbounded) {
				t.Fatalf("Validate(%+v) = %v", p, err)
			}
			return
		}
		driveCore(t, p, x, events)
	})
}

// driveCore feeds x events drawn two bytes at a time (what happens, and
// how long after the last event) and checks each answer.
func driveCore(t *testing.T, p backoff.Policy, x *backoff.Execution, events []byte) {
	errs := []error{proptest.ErrA, proptest.ErrB, nil, errors.New("other")}
	var now time.Duration
	a := x.Step(backoff.Event{Kind: backoff.EventBegan})
	starts := 1
	for len(events) >= 2 && a.Kind != backoff.ActionFinish {
		what, d := events[0], time.Duration(events[1])*time.Duration(math.MaxInt64/255)
		events = events[2:]
		if now > math.MaxInt64-d {
			d = math.MaxInt64 - now
		}
		now += d
		var e backoff.Event
		switch what % 3 {
		case 0:
			e = backoff.Event{Kind: backoff.EventEnded, At: now, Attempt: a.Attempt, Err: errs[int(what/3)%len(errs)]}
		case 1:
			e = backoff.Event{Kind: backoff.EventFired, At: max(now, a.Until), Attempt: a.Attempt}
		case 2:
			e = backoff.Event{Kind: backoff.EventCanceled, At: now, Cause: errors.New("cause")}
		}
		next := x.Step(e)
		if next.Kind == backoff.ActionWait {
			continue
		}
		if next.Until < 0 || (next.Kind == backoff.ActionPause && next.Until < e.At) {
			t.Fatalf("after %+v: %+v (a time that wrapped around)", e, next)
		}
		if next.Kind == backoff.ActionStart {
			if starts++; p.MaxTries > 0 && starts > p.MaxTries {
				t.Fatalf("attempt %d started; MaxTries is %d", starts, p.MaxTries)
			}
		}
		a = next
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
