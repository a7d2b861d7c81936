#!/usr/bin/env bash
# The programs of benchmarks/footprint built for the host against one build's static
# libraries (default build/ci; configure and build it first), and their size: text
# + data of each binary (size(1)) less the empty program's, i.e. what linking one
# block into a minimal program adds. The C and C++ runtime libraries stay shared.
# Usage: scripts/host-footprint.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/ci}
cmake --build "$build" --target footprint >/dev/null
flash() { size "$build/benchmarks/footprint/footprint_$1" | awk 'NR == 2 { print $1 + $2 }'; }
empty=$(flash empty)
echo "$(uname -m), $(c++ --version | head -1), $(grep -m1 '^CMAKE_BUILD_TYPE:' "$build/CMakeCache.txt" | cut -d= -f2), less the empty program ($empty bytes):"
printf '| %-16s | %9s |\n' program bytes
for program in mqtt_codec topic_match pewma_score shadow_update policy_evaluate; do
  [[ -x $build/benchmarks/footprint/footprint_$program ]] || continue
  printf '| %-16s | %9s |\n' "$program" "$(($(flash "$program") - empty))"
done
