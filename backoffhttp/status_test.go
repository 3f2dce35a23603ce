package backoffhttp_test

import (
	"testing"

	"github.com/timebound/backoff/backoffhttp"
)

func TestStatusErrorZeroValue(t *testing.T) {
	var e backoffhttp.StatusError
	if e.Error() != "backoffhttp: 0" || e.RetryAfter() != 0 {
		t.Errorf("the zero StatusError reads %q with hint %v", e.Error(), e.RetryAfter())
	}
}
