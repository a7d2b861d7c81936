#!/usr/bin/env bash
# Subscription index vs qlobber on the same generated files, in one run.
#   benchmarks/peers/topic.sh [BUILD_DIR] [SIZES...]
# BUILD_DIR holds benchmarks/topic_benchmark (default build/bench-topic, made with
# `cmake --preset bench -B build/bench-topic -DIOTBLOCKS_ONLY="core;topic"`).
# SIZES: any of 10k 100k 1m emqx (default all). Data goes to $BUILD_DIR/topic-workload.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build/bench-topic}
shift || true
sizes=("${@:-10k 100k 1m emqx}")
read -r -a sizes <<< "${sizes[*]}"
bench=$build/benchmarks/topic_benchmark
data=$build/topic-workload
mkdir -p "$data"
[ -f "$data/subs_emqx.txt" ] || "$bench" --write-workload "$data"
field() { sed -E "s/.*\"$2\":([0-9.]+).*/\1/" <<< "$1"; }
printf '%-6s %-10s %12s %10s %12s %12s %9s %9s\n' set impl lookups/s ns/lookup inserts/s removes/s B/sub matches
for s in "${sizes[@]}"; do
  ours=$("$bench" --run "$data/subs_$s.txt" "$data/lookups_$s.txt" 1)
  two=$("$bench" --run "$data/subs_$s.txt" "$data/lookups_$s.txt" 2)
  peer=$(node --expose-gc --max-old-space-size=8192 "$here/topic_peer.js" "$data/subs_$s.txt" "$data/lookups_$s.txt")
  for line in "$ours" "$peer"; do
    printf '%-6s %-10s %12s %10s %12s %12s %9s %9s\n' "$s" \
      "$(sed -E 's/.*"impl":"([a-z]+)".*/\1/' <<< "$line")" "$(field "$line" lookups_per_s)" \
      "$(field "$line" ns_per_lookup)" "$(field "$line" inserts_per_s)" \
      "$(field "$line" removes_per_s)" "$(field "$line" bytes_per_sub)" "$(field "$line" matches)"
  done
  if [ "$(field "$ours" matches)" != "$(field "$peer" matches)" ]; then
    echo "$s: MISMATCH: iotblocks found $(field "$ours" matches) matches, qlobber $(field "$peer" matches)" >&2
  fi
  # Rates are per CPU second (the machine is shared); 2-thread scaling is therefore
  # 2 x (CPU efficiency of the 2-thread run), and the wall-clock ratio is printed too.
  awk -v a="$(field "$ours" lookups_per_s)" -v b="$(field "$peer" lookups_per_s)" \
      -v c="$(field "$two" lookups_per_s)" -v w1="$(field "$ours" wall_lookups_per_s)" \
      -v w2="$(field "$two" wall_lookups_per_s)" -v s="$s" \
      -v m="$(field "$ours" matches)" -v n="$(field "$ours" lookups)" \
      -v bt="$(field "$ours" batch_lookups_per_s)" \
      'BEGIN { printf "%-6s iotblocks/qlobber lookups per CPU second: %.1fx one topic a call, %.1fx in batches of 64 (%.0f/s); 2 threads vs 1: %.2fx by CPU time, %.2fx by wall clock\n", s, a / b, bt / b, bt, 2 * c / a, w2 / w1;
               printf "%-6s %.2f matches per lookup (both); ns per match: iotblocks %.1f, qlobber %.1f\n", s, m / n, 1e9 / a / (m / n), 1e9 / b / (m / n) }'
done
