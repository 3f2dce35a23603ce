#!/usr/bin/env bash
# The mutation check moved to internal/mutants (a table of mutants for
# every package, with a score per area); this runs it.
# Usage: bash proptest/mutants/run.sh [-area NAME]   (from anywhere in the repository)
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
exec go run ./internal/mutants "$@"
