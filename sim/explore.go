package sim

import "slices"

// Explore simulates sc under every order of its ties: first as it is,
// then, for each tie of a run past the ones sc already flips, with that
// tie flipped too, and so on recursively. It calls visit with each
// variant (sc with its Flip set) and its result, and stops early if visit
// returns false. Ties that a flip makes or removes are explored as they
// arise, so every order an executor could see is visited once.
func Explore(sc Scenario, visit func(Scenario, *Result) bool) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	_, err := explore(sc, visit)
	return err
}

func explore(sc Scenario, visit func(Scenario, *Result) bool) (more bool, err error) {
	res, err := Run(sc)
	if err != nil {
		return false, err
	}
	if !visit(sc, res) {
		return false, nil
	}
	from := 0
	if n := len(sc.Flip); n > 0 {
		from = sc.Flip[n-1] + 1
	}
	for i := from; i < len(res.Ties); i++ {
		v := sc
		v.Flip = append(slices.Clip(sc.Flip), i)
		if more, err := explore(v, visit); !more || err != nil {
			return false, err
		}
	}
	return true, nil
}
