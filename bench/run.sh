#!/usr/bin/env bash
# Runs the benchmarks that BENCHMARKS.md reports and prints their tables:
#   1. the comparison with the peers (this module),
#   2. the library's own benchmarks (the root package; BenchmarkSim on one
#      core, -cpu 1),
# each -count $COUNT times with -benchmem, then benchstat's table of each
# (medians with 95% confidence intervals) and the ratios and targets
# (./internal/ratios).
#
#   bench/run.sh              # COUNT=6, BENCHTIME=1s: about 8 minutes on 2 cores
#   COUNT=10 bench/run.sh
#   OUT=/tmp/b bench/run.sh   # keep the raw outputs in /tmp/b
#
# The raw outputs are left in $OUT (default: a new temporary directory),
# ready for benchstat old.txt new.txt comparisons.
set -euo pipefail
cd "$(dirname "$0")"

count=${COUNT:-6}
benchtime=${BENCHTIME:-1s}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
# benchstat, pinned; go run fetches it through the module proxy once.
benchstat=(go run golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da)

step() { printf '\n== %s\n' "$*" >&2; }

step "machine"
{
	echo "nproc: $(nproc)"
	grep -m1 'model name' /proc/cpuinfo || true
	go version
} | tee "$out/machine.txt" >&2

step "comparison with the peers: go test -run '^\$' -bench . -benchmem -count $count -benchtime $benchtime (in bench/)"
go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" . | tee "$out/compare.txt" >&2

step "the library's own benchmarks (root package)"
(cd .. && go test -run '^$' -bench . -skip '^BenchmarkSim$' -benchmem -count "$count" -benchtime "$benchtime" .) | tee "$out/root.txt" >&2
(cd .. && go test -run '^$' -bench '^BenchmarkSim$' -cpu 1 -benchmem -count "$count" -benchtime "$benchtime" .) | tee "$out/sim.txt" >&2

step "benchstat: comparison"
"${benchstat[@]}" "$out/compare.txt"
step "benchstat: root package"
"${benchstat[@]}" "$out/root.txt"
"${benchstat[@]}" "$out/sim.txt"
step "ratios and targets"
go run ./internal/ratios "$out/compare.txt" "$out/root.txt" "$out/sim.txt"
step "raw outputs in $out"
