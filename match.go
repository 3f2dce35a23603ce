package backoff

import "errors"

// AnyError is a RetryIf that retries every error.
func AnyError(error) bool { return true }

// On returns a RetryIf (or GiveUp) that is true for an error that matches
// any of targets by [errors.Is]. With no targets it is never true.
func On(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

// OnType returns a RetryIf (or GiveUp) that is true for an error that is,
// or wraps, an error of type E (see [errors.AsType]).
func OnType[E error]() func(error) bool {
	return func(err error) bool {
		_, ok := errors.AsType[E](err)
		return ok
	}
}
