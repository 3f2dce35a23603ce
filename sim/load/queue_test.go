package load

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestQueue_order: the queue gives its events by time, and those due at
// one instant in the order they were pushed (first in, first out),
// whether they are pushed before, among or after earlier ones.
func TestQueue_order(t *testing.T) {
	var q queue[string]
	q.push(5, "a")
	q.push(3, "b")
	q.push(5, "c")
	q.push(3, "d")
	q.push(0, "e")
	q.push(5, "f")
	q.push(3, "g")
	var got []string
	var at []time.Duration
	for q.len() > 0 {
		t, v := q.pop()
		got, at = append(got, v), append(at, t)
	}
	if want := []string{"e", "b", "d", "g", "a", "c", "f"}; !slices.Equal(got, want) {
		t.Errorf("popped %q, want %q", got, want)
	}
	if want := []time.Duration{0, 3, 3, 3, 5, 5, 5}; !slices.Equal(at, want) {
		t.Errorf("popped at %v, want %v", at, want)
	}

	// A hundred events at one instant, pushed while others are popped.
	var q2 queue[int]
	next, n := 0, 0
	for i := range 100 {
		q2.push(7, i)
		if i%3 == 2 {
			if _, v := q2.pop(); v != next {
				t.Fatalf("popped %d after pushing %d; want %d, the first pushed of those left", v, i, next)
			}
			next++
		}
		n++
	}
	for q2.len() > 0 {
		if _, v := q2.pop(); v != next {
			t.Fatalf("popped %d; want %d", v, next)
		}
		next++
	}
	if next != n {
		t.Errorf("popped %d events; pushed %d", next, n)
	}
}

// TestQueue_random: pushes and pops at random give what a stable sort by
// time gives.
func TestQueue_random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type ev struct {
		at time.Duration
		n  int
	}
	for round := range 200 {
		var q queue[int]
		var pending, got, want []ev
		for n := range 300 {
			if q.len() > 0 && r.IntN(3) == 0 {
				at, v := q.pop()
				got = append(got, ev{at, v})
				// What a stable sort gives first of the events pending.
				i := 0
				for j := range pending {
					if pending[j].at < pending[i].at {
						i = j
					}
				}
				want = append(want, pending[i])
				pending = slices.Delete(pending, i, i+1)
			}
			at := time.Duration(r.IntN(20)) // few instants: many ties
			q.push(at, n)
			pending = append(pending, ev{at, n})
		}
		slices.SortStableFunc(pending, func(a, b ev) int { return cmp.Compare(a.at, b.at) })
		want = append(want, pending...)
		for q.len() > 0 {
			at, v := q.pop()
			got = append(got, ev{at, v})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: popped\n%v\nwant\n%v", round, got, want)
		}
	}
}
