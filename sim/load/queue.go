package load

import "time"

// A queue holds the events of a load in the order they fall due: by time,
// and at one time in the order they were scheduled; that order is what
// makes a run deterministic.
//
// The first thing due is held apart, in the queue itself; the rest are a
// binary heap (container/heap's algorithm) on a concrete slice, so that
// scheduling boxes nothing. The zero queue is empty and ready.
type queue[E any] struct {
	first scheduled[E]   // the first due, if n > 0
	rest  []scheduled[E] // the others, a heap
	n     int
	seq   uint64 // the sequence number of the next push
}

type scheduled[E any] struct {
	at  time.Duration
	seq uint64
	v   E
}

func (a *scheduled[E]) before(b *scheduled[E]) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// len returns the number of things in the queue.
func (q *queue[E]) len() int { return q.n }

// push schedules v at time at.
func (q *queue[E]) push(at time.Duration, v E) {
	s := scheduled[E]{at, q.seq, v}
	q.seq++
	switch {
	case q.n == 0:
		q.first = s
	case s.before(&q.first):
		q.heapPush(q.first)
		q.first = s
	default:
		q.heapPush(s)
	}
	q.n++
}

// pop removes the first thing due and returns it with its time. The queue
// must not be empty.
func (q *queue[E]) pop() (time.Duration, E) {
	s := q.first
	q.n--
	if q.n > 0 {
		q.first = q.heapPop()
	} else {
		q.first = scheduled[E]{} // drop what it refers to
	}
	return s.at, s.v
}

func (q *queue[E]) heapPush(s scheduled[E]) {
	q.rest = append(q.rest, s)
	h := q.rest
	for i := len(h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !h[i].before(&h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

func (q *queue[E]) heapPop() scheduled[E] {
	h := q.rest
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = scheduled[E]{} // drop what it refers to
	h = h[:n]
	for i := 0; ; {
		m := 2*i + 1
		if m >= n {
			break
		}
		if r := m + 1; r < n && h[r].before(&h[m]) {
			m = r
		}
		if !h[m].before(&h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	q.rest = h
	return top
}
