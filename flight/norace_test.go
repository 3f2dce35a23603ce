//go:build !race

package flight_test

const race = false
