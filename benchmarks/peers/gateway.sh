#!/usr/bin/env bash
# Broker throughput/latency with iotblocks-bench: mosquitto 2.0 (Debian) vs the
# iotblocks gateway, same machine, same run. Shapes: fan-in (100 publishers -> 1
# subscriber) and fan-out (1 publisher -> 100 subscribers), QoS 0 and 1, 128-byte
# payloads, publishing as fast as the window allows. Prints a table with ratios.
#   benchmarks/peers/gateway.sh [BENCH] [IOTBLOCKS]
# BENCH: the iotblocks-bench program (default build/bench-gateway/benchmarks/bench/iotblocks-bench)
# IOTBLOCKS: the iotblocks CLI (default: next to BENCH, ../../apps/iotblocks/iotblocks)
# Environment: DURATION (s, default 5), RUNS (median of, default 1), WINDOW (default 64),
#              THREADS (bench io threads, default 1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-$here/../../build/bench-gateway/benchmarks/bench/iotblocks-bench}
cli=${2:-$(dirname "$bench")/../../apps/iotblocks/iotblocks}
duration=${DURATION:-5}
runs=${RUNS:-1}
window=${WINDOW:-64}
threads=${THREADS:-1}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2; return 1
}

# mosquitto on a free loopback port; raise its queues so QoS 0 bursts are not dropped by configuration.
mport=$(free_port)
cat > "$work/mosquitto.conf" <<CONF
listener $mport 127.0.0.1
allow_anonymous true
persistence false
log_dest none
max_queued_messages 100000
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" & pids+=($!)
wait_port "$mport"
brokers=("mosquitto:$mport")

# TODO(gateway): the config below guesses the gateway's JSON schema; align it with
# docs/gateway.md once `iotblocks gateway run` is committed.
if [ -x "$cli" ] && "$cli" gateway run --help > /dev/null 2>&1; then
  gport=$(free_port)
  cat > "$work/gw.json" <<CONF
{"listeners": [{"type": "mqtt", "address": "127.0.0.1", "port": $gport}],
 "data_dir": "$work/gw-data", "http": {"enabled": false}}
CONF
  "$cli" gateway run --config "$work/gw.json" > "$work/gw.log" 2>&1 & pids+=($!)
  wait_port "$gport" && brokers+=("iotblocks:$gport")
else
  echo "note: '$cli gateway run' not available yet; measuring mosquitto only (TODO)" >&2
fi

shapes=("fan-in 100 1" "fan-out 1 100")
for b in "${brokers[@]}"; do
  name=${b%%:*}; port=${b##*:}
  for s in "${shapes[@]}"; do
    read -r shape np ns <<< "$s"
    for q in 0 1; do
      for r in $(seq "$runs"); do
        "$bench" --port "$port" -p "$np" -s "$ns" -q "$q" --payload 128 --rate 0 \
          --window "$window" -d "$duration" -t "$threads" --label "$name $shape qos$q" \
          >> "$work/results.jsonl"
      done
    done
  done
done

python3 - "$work/results.jsonl" <<'PY'
import json, sys, statistics
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    broker, shape, qos = r["label"].split()
    rows.setdefault((shape, qos), {}).setdefault(broker, []).append(r)
def med(rs, f):
    return statistics.median(f(r) for r in rs)
print(f"{'shape':8} {'qos':4} {'broker':10} {'recv msg/s':>11} {'p50 us':>9} {'p99 us':>9} {'p99.9 us':>9} {'lost':>7} {'ratio':>6}")
for (shape, qos), by in rows.items():
    base = med(by["mosquitto"], lambda r: r["received_per_s"]) if "mosquitto" in by else None
    for broker, rs in by.items():
        rate = med(rs, lambda r: r["received_per_s"])
        ratio = f"{rate / base:.2f}x" if base else "-"
        print(f"{shape:8} {qos:4} {broker:10} {rate:11.0f} {med(rs, lambda r: r['latency_us']['p50']):9.0f} "
              f"{med(rs, lambda r: r['latency_us']['p99']):9.0f} {med(rs, lambda r: r['latency_us']['p999']):9.0f} "
              f"{int(med(rs, lambda r: r['lost'])):7d} {ratio:>6}")
PY
