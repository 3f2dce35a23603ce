#!/usr/bin/env bash
# Mutation check: each mutant below breaks one rule in the decision core
# (policy.go), and the property tests of ./proptest must catch every one.
# A mutant is applied through `go test -overlay`, so no file is changed.
# Usage: bash proptest/mutants/run.sh   (from anywhere in the repository)
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# name|sed expression applied to policy.go
mutants=(
	'MaxTries off by one|s/x.p.MaxTries > 0 \&\& x.n >= x.p.MaxTries/x.p.MaxTries > 0 \&\& x.n > x.p.MaxTries/'
	'pause skipped|s/if x.p.Pause == 0 {/if true {/'
	'MaxTries ignored when GiveUp is set|s/if x.p.MaxTries > 0 \&\& x.n >= x.p.MaxTries {/if x.p.GiveUp == nil \&\& x.p.MaxTries > 0 \&\& x.n >= x.p.MaxTries {/'
	'sleeping into the deadline|s/next >= x.p.Deadline {/next > x.p.Deadline {/'
	'attempt timeout ties the deadline and wins|s/x.p.Deadline <= x.until/x.p.Deadline < x.until/'
	'a late error is not the cut|s/x.cut != nil \&\& x.now >= x.until/x.cut != nil \&\& x.now > x.until/'
)

failed=0
for m in "${mutants[@]}"; do
	name=${m%%|*}
	expr=${m#*|}
	sed "$expr" policy.go >"$work/policy.go"
	if cmp -s policy.go "$work/policy.go"; then
		echo "mutant '$name': the expression matches nothing in policy.go (update it)"
		failed=1
		continue
	fi
	printf '{"Replace":{"%s":"%s"}}' "$PWD/policy.go" "$work/policy.go" >"$work/overlay.json"
	if out=$(go test -count=1 -overlay="$work/overlay.json" ./proptest -args -rapid.nofailfile 2>&1); then
		echo "mutant '$name': SURVIVED (no property caught it)"
		failed=1
	else
		caught=$(grep -oE '^--- FAIL: Test[A-Za-z_]+' <<<"$out" | sed 's/--- FAIL: //' | sort -u | tr '\n' ' ')
		echo "mutant '$name': caught by $caught"
	fi
done
exit $failed
