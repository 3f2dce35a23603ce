package backofftest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
)

// A Fixed is a source of random numbers that draws the same number every
// time, so that every jittered pause falls at the same point of its range.
// It is safe for concurrent use; its zero value is ShortestPause.
type Fixed uint64

// The ends of every jitter's range.
const (
	// LongestPause makes every jittered pause the longest its jitter
	// allows: with FullJitter the full pause, as if there were no jitter.
	LongestPause Fixed = math.MaxUint64
	// ShortestPause makes every jittered pause the shortest its jitter
	// allows: with FullJitter none at all.
	ShortestPause Fixed = 0
)

// Uint64 returns f.
func (f Fixed) Uint64() uint64 { return uint64(f) }

// Fraction returns the Fixed source that puts every jittered pause the
// fraction f of the way from the shortest to the longest pause its jitter
// allows: lo + ⌊f × (hi − lo + 1ns)⌋, so Fraction(0) is ShortestPause and
// Fraction(1) is LongestPause. The floor is exact for a fraction with a
// short binary expansion: with FullJitter, Fraction(0.75) turns a pause of
// 100ms into 75ms, and 200ms into 150ms.
//
// It panics if f is not between 0 and 1.
func Fraction(f float64) Fixed {
	switch {
	case !(f >= 0 && f <= 1): // NaN too
		panic(fmt.Sprintf("backofftest: Fraction(%v): want a number from 0 to 1", f))
	case f == 1:
		return LongestPause // 2^64 does not fit
	}
	return Fixed(f * (1 << 64))
}

// A Rand is a seeded stream of random numbers: the same seed gives the
// same jittered pauses in every run and with every Go release (it is
// math/rand/v2's PCG, whose streams do not change). Unlike a bare PCG, it
// is safe for concurrent use, as Policy.Rand must be when concurrent calls
// share the policy: a draw takes a lock. The zero Rand is the stream of
// rand.NewPCG(0, 0).
type Rand struct {
	mu  sync.Mutex
	pcg rand.PCG
}

// NewRand returns a stream seeded with seed: the stream of
// rand.NewPCG(seed, 0).
func NewRand(seed uint64) *Rand {
	r := &Rand{}
	r.pcg.Seed(seed, 0)
	return r
}

// Uint64 returns the next number of the stream.
func (r *Rand) Uint64() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pcg.Uint64()
}
