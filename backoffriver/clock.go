package backoffriver

import "github.com/jonboulle/clockwork"

// systemClock is the Clock a nil Policy.Clock stands for: package time.
var systemClock = clockwork.NewRealClock()
