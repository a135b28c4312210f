#!/usr/bin/env bash
# Fails unless every profile of a ConformanceReport succeeded, core and
# extended, with nothing skipped: what Portico claims must all pass.
set -euo pipefail
report="${1:?usage: $0 REPORT}"
[[ -s "$report" ]] || { echo "conformance report $report is missing" >&2; exit 1; }
results=$(grep -E '^\s+result: ' "$report" | awk '{print $2}')
if [[ -z "$results" ]]; then
  echo "conformance report $report has no profile results" >&2
  exit 1
fi
if grep -qvx success <<<"$results"; then
  echo "conformance report $report: not every profile result is success:" >&2
  grep -E '^\s+(name|summary|result):' "$report" >&2
  exit 1
fi
echo "conformance: every claimed profile and feature passed ($(grep -cE '^- core:' "$report") profiles)"
grep -E '^\s+summary:' "$report"
