#!/bin/sh
# Shadow updates with delta on the same 1 KB / 20-leaf document and update stream:
# iotblocks (BM_UpdateModel/documents:0) against a Node.js implementation of the same
# semantics and against moto's FakeShadow (if Python can import moto). All figures are
# updates per CPU second, so a busy machine skews them less; the ratio is what counts.
# Usage: benchmarks/peers/shadow.sh [path/to/shadow_benchmark] [seconds]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-$here/../../build/bench/benchmarks/shadow_benchmark}
secs=${2:-3}
ours=$("$bench" --benchmark_filter='BM_UpdateModel/documents:0$' --benchmark_min_time="$secs" \
         --benchmark_format=json 2>/dev/null |
       python3 -c 'import json,sys; b=json.load(sys.stdin)["benchmarks"][0]; print(round(b["items_per_second"]))')
echo "iotblocks: $ours updates per CPU second"
js=$(node "$here/shadow_peer.js" "$secs")
echo "$js"
python3 - "$ours" "$js" <<'PY'
import json, sys
ours = float(sys.argv[1]); peer = json.loads(sys.argv[2])
print("ratio iotblocks / %s: %.1fx" % (peer["peer"], ours / peer["updates_per_cpu_second"]))
PY
if python3 -c 'import moto' 2>/dev/null; then
  moto=$(python3 "$here/shadow_peer_moto.py" "$secs")
  echo "$moto"
  python3 - "$ours" "$moto" <<'PY'
import json, sys
ours = float(sys.argv[1]); peer = json.loads(sys.argv[2])
print("ratio iotblocks / %s: %.1fx" % (peer["peer"], ours / peer["updates_per_cpu_second"]))
PY
else
  echo "moto not importable: skipping that peer"
fi
