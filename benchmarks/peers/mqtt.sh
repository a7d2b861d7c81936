#!/usr/bin/env bash
# MQTT codec vs npm mqtt-packet on the same packets, in one run; prints packets/s
# (per CPU second, median of 3) and the ratio.
#   benchmarks/peers/mqtt.sh [BUILD_DIR]
# BUILD_DIR holds benchmarks/mqtt_benchmark (default build/bench-mqtt, made with
# `cmake --preset bench -B build/bench-mqtt -DIOTBLOCKS_ONLY="core;topic;mqtt"`).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build/bench-mqtt}
bench=$build/benchmarks/mqtt_benchmark
data=$build/mqtt-packets
mkdir -p "$data"
"$bench" --write-packets "$data"
"$bench" --benchmark_filter='BM_(Decode|Encode)/' --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_min_time=0.5 \
  --benchmark_format=json > "$data/iotblocks.json" 2> /dev/null
NODE_PATH=$here/node_modules node "$here/mqtt_peer.js" "$data" > "$data/mqtt-packet.jsonl"
node - "$data/iotblocks.json" "$data/mqtt-packet.jsonl" <<'JS'
const fs = require('fs')
const ours = {}
for (const b of JSON.parse(fs.readFileSync(process.argv[2], 'utf8').replace(/\bNaN\b/g, 'null')).benchmarks) {
  if (b.aggregate_name !== 'median') continue
  const [kind, name] = b.run_name.split('/')
  ours[name] = ours[name] || {}
  ours[name][kind] = b
}
const fmt = x => (x / 1e6).toFixed(2).padStart(8)
const gbps = b => (b.bytes_per_second / 1e9).toFixed(2).padStart(6)
console.log('packet                          bytes | decode M/s  iotblocks mqtt-packet  ratio  GB/s allocs | encode M/s  iotblocks mqtt-packet  ratio')
for (const line of fs.readFileSync(process.argv[3], 'utf8').split('\n').filter(Boolean)) {
  const p = JSON.parse(line)
  const d = ours[p.name].BM_Decode; const e = ours[p.name].BM_Encode
  console.log(`${p.name.padEnd(32)}${String(p.bytes).padStart(5)} |            ${fmt(d.items_per_second)}   ${fmt(p.decode_per_s)} ${(d.items_per_second / p.decode_per_s).toFixed(0).padStart(5)}x ${gbps(d)} ${String(d.allocs_per_packet).padStart(6)} |            ${fmt(e.items_per_second)}   ${fmt(p.encode_per_s)} ${(e.items_per_second / p.encode_per_s).toFixed(0).padStart(5)}x`)
}
JS
