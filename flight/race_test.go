//go:build race

package flight_test

// race says the race detector is on: sync.Pool then drops a share of what
// it is given, at random, so pooled objects are allocated anew.
const race = true
