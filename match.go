package backoff

import "errors"

// The predicates a Policy's RetryIf and GiveUp are made of: AnyError, On
// (errors.Is), OnType (errors.As), and Or to join them.

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

// Or returns a RetryIf (or GiveUp) that is true for an error any of
// predicates is true for, asked in order; nil predicates are left out.
// With none it is never true. It joins On and OnType:
//
//	RetryIf: backoff.Or(backoff.On(io.ErrUnexpectedEOF), backoff.OnType[*net.OpError]())
func Or(predicates ...func(error) bool) func(error) bool {
	var list []func(error) bool
	for _, p := range predicates {
		if p != nil {
			list = append(list, p)
		}
	}
	return func(err error) bool {
		for _, p := range list {
			if p(err) {
				return true
			}
		}
		return false
	}
}
