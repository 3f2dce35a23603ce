#!/usr/bin/env bash
# Mutation check: each mutant below breaks one rule in the decision core
# (execution.go), its pause maths (pause.go) or the executor (backoff.go),
# and the property tests of ./proptest must catch every one.
# A mutant is applied through `go test -overlay`, so no file is changed;
# -failfast stops at the first test that catches it.
# Usage: bash proptest/mutants/run.sh   (from anywhere in the repository)
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# file|name|sed expression applied to the file
mutants=(
	'execution.go|MaxTries off by one|s/p.MaxTries > 0 \&\& x.n >= p.MaxTries/p.MaxTries > 0 \&\& x.n > p.MaxTries/'
	'execution.go|pause skipped|s/if x.pause == 0 {/if true {/'
	'execution.go|MaxTries ignored when GiveUp is set|s/if p.MaxTries > 0 \&\& x.n >= p.MaxTries {/if p.GiveUp == nil \&\& p.MaxTries > 0 \&\& x.n >= p.MaxTries {/'
	'execution.go|sleeping into the deadline|s/next >= p.Deadline {/next > p.Deadline {/'
	'execution.go|attempt timeout ties the deadline and wins|s/p.Deadline <= x.until/p.Deadline < x.until/'
	'execution.go|a late error is not the cut|s/x.cut != nil \&\& x.now >= x.until/x.cut != nil \&\& x.now > x.until/'
	'backoff.go|the cancel is not reported with an attempt'"'"'s end|s/Err: err, Cause: causeOf(ctx)}/Err: err}/'
	'pause.go|a delay hint is not honoured|s/return max(d, hintOf(err))/return d/'
	'pause.go|the cap is not applied to jittered pauses|s/if p.MaxPause > 0 {/if p.MaxPause > 0 \&\& p.Jitter == NoJitter {/'
	'pause.go|growth counted from the first failure|s/d = grown(p.Pause, p.Growth, k-1)/d = grown(p.Pause, p.Growth, k)/'
	'budget.go|a retry spends no token|s/b.tokens -= tokenUnit/b.tokens -= 0/'
	'budget.go|the bucket holds more than Burst|s/room := int64(b.Burst)\*tokenUnit - b.tokens/room := 2*int64(b.Burst)*tokenUnit - b.tokens/'
	'execution.go|the budget is never asked|s/if p.Budget != nil \&\& !p.Budget.spend(x.t0.Add(x.now)) {/if false {/'
	'backoff.go|a pause cancelled is reported as over|s/return Event{Kind: EventCanceled, At: now, Cause: context.Cause(ctx)}/return Event{Kind: EventFired, Attempt: a.Attempt, At: now, Cause: context.Cause(ctx)}/'
)

failed=0
for m in "${mutants[@]}"; do
	file=${m%%|*}
	rest=${m#*|}
	name=${rest%%|*}
	expr=${rest#*|}
	sed "$expr" "$file" >"$work/$file"
	if cmp -s "$file" "$work/$file"; then
		echo "mutant '$name': the expression matches nothing in $file (update it)"
		failed=1
		continue
	fi
	printf '{"Replace":{"%s":"%s"}}' "$PWD/$file" "$work/$file" >"$work/overlay.json"
	if out=$(go test -count=1 -short -failfast -timeout=5m -overlay="$work/overlay.json" ./proptest -args -rapid.nofailfile -rapid.shrinktime=1s 2>&1); then
		echo "mutant '$name': SURVIVED (no property caught it)"
		failed=1
	else
		caught=$(grep -oE '^--- FAIL: Test[A-Za-z_]+' <<<"$out" | sed 's/--- FAIL: //' | sort -u | tr '\n' ' ' || true)
		echo "mutant '$name': caught by ${caught:-(the test binary failed: $(tail -n 1 <<<"$out"))}"
	fi
done
exit $failed
