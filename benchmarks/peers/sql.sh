#!/usr/bin/env bash
# Rule SQL evaluator vs the same rules hand-written in Node.js, same messages, one run.
#   benchmarks/peers/sql.sh [BUILD_DIR]
# BUILD_DIR holds benchmarks/sql_benchmark (default build/bench-sql, made with
# `cmake --preset bench -B build/bench-sql -DIOTBLOCKS_ONLY="core;topic;sql"`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build/bench-sql}
bench=$build/benchmarks/sql_benchmark
ours=$("$bench" --benchmark_filter='BM_(WhereMatchSelectStar|WhereNoMatch|Projection5Fields2Functions|Case)$' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json)
peer=$(node "$here/sql_peer.js")
printf '%-30s %14s %14s %8s\n' case iotblocks/s node/s ratio
for c in WhereMatchSelectStar WhereNoMatch Projection5Fields2Functions Case; do
  a=$(jq -r --arg n "BM_${c}_median" '.benchmarks[] | select(.name == $n) | .items_per_second' <<< "$ours")
  b=$(jq -r --arg n "$c" 'select(.name == $n) | .evals_per_s' <<< "$peer")
  awk -v c="$c" -v a="$a" -v b="$b" 'BEGIN { printf "%-30s %14.0f %14.0f %7.1fx\n", c, a, b, a / b }'
done
