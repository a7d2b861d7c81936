#!/usr/bin/env bash
# Broker comparison with iotblocks-bench: mosquitto 2.0 (Debian) vs the iotblocks
# gateway, same machine, same run, runs interleaved so both see the same
# background load. Prints three tables:
#  1. throughput/latency: fan-in (100 publishers -> 1 subscriber) and fan-out
#     (1 publisher -> 100 subscribers), QoS 0 and 1, 128-byte payloads, closed
#     loop (--inflight); median of RUNS; ratio gateway/mosquitto; broker CPU;
#  2. RSS of each broker before/after IDLE idle MQTT connections (and the rate
#     at which they were accepted), then IDLE_TLS idle MQTT-over-TLS connections;
#  3. TLS handshakes/s (openssl s_time, new sessions, TLS 1.3, ECDSA P-256
#     certificate made here) against the gateway's mqtts listener and a
#     mosquitto TLS listener.
#   benchmarks/peers/gateway.sh [BENCH] [IOTBLOCKS]
# BENCH: the iotblocks-bench program (default build/bench-gateway/benchmarks/bench/iotblocks-bench)
# IOTBLOCKS: the iotblocks CLI (default: next to BENCH, ../../apps/iotblocks/iotblocks)
# Environment: DURATION (s per run, default 5), RUNS (median of, default 3),
#   THREADS (gateway io threads, default 1: see docs/bench.md), BENCH_THREADS (bench io threads, default 1),
#   WINDOW (publishes outstanding per publisher, default 64), INFLIGHT_IN / INFLIGHT_OUT
#   (end-to-end window per publisher for fan-in / fan-out, defaults 10 / 50; 0 = open loop),
#   INFLIGHT_OUT_QOS (broker in-flight QoS 1/2 per subscriber, both brokers, default 256),
#   IDLE (idle connections, default 10000; 0 skips; 100000 needs `ulimit -n` above it,
#   spread over source addresses 127.0.0.x), IDLE_TLS (idle TLS connections, default 1000;
#   0 skips), TLS_SECONDS (default 5; 0 skips),
#   TABLES ("perf idle tls" by default).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-$here/../../build/bench-gateway/benchmarks/bench/iotblocks-bench}
cli=${2:-$(dirname "$bench")/../../apps/iotblocks/iotblocks}
duration=${DURATION:-5}
runs=${RUNS:-3}
threads=${THREADS:-1}
bench_threads=${BENCH_THREADS:-1}
window=${WINDOW:-64}
inflight_in=${INFLIGHT_IN:-10}
inflight_out=${INFLIGHT_OUT:-50}
inflight_qos=${INFLIGHT_OUT_QOS:-256}
idle=${IDLE:-10000}
idle_tls=${IDLE_TLS:-1000}
tls_seconds=${TLS_SECONDS:-5}
tables=${TABLES:-perf idle tls}
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # idle connections: brokers and client inherit it

[ -x "$bench" ] || { echo "no iotblocks-bench at $bench" >&2; exit 1; }
[ -x "$cli" ] || { echo "no iotblocks CLI at $cli" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on port $1" >&2; return 1
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime

# A CA and an ECDSA P-256 server certificate for 127.0.0.1.
openssl ecparam -name prime256v1 -genkey -noout -out "$work/ca.key" 2>/dev/null
openssl req -x509 -new -key "$work/ca.key" -subj "/CN=bench CA" -days 2 -out "$work/ca.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$work/server.key" 2>/dev/null
openssl req -new -key "$work/server.key" -subj "/CN=127.0.0.1" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null
# mosquitto started as root drops to its own user: let it read the (throw-away) key.
chmod 755 "$work"; chmod 644 "$work/server.key"

# mosquitto: same queue and in-flight limits as the gateway's defaults, no persistence.
mport=$(free_port); mtls=$(free_port)
cat > "$work/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous true
persistence false
log_dest none
max_connections -1
max_queued_messages 100000
max_inflight_messages $inflight_qos
listener $mport 127.0.0.1
listener $mtls 127.0.0.1
certfile $work/server.pem
keyfile $work/server.key
CONF
/usr/sbin/mosquitto -c "$work/mosquitto.conf" & mpid=$!; pids+=("$mpid")

# The gateway with its real configuration schema (docs/gateway.md): a TCP and a
# TLS listener, no HTTP listener, no rules, no policies, default limits except
# the in-flight cap matched with mosquitto's above.
gport=$(free_port); gtls=$(free_port)
cat > "$work/gw.json" <<CONF
{"listeners": [{"type": "mqtt", "address": "127.0.0.1", "port": $gport},
               {"type": "mqtts", "address": "127.0.0.1", "port": $gtls,
                "tls": {"cert_file": "$work/server.pem", "key_file": "$work/server.key"}}],
 "data_dir": "$work/gw-data", "threads": $threads,
 "limits": {"max_inflight_out": $inflight_qos}}
CONF
"$cli" gateway check-config "$work/gw.json" > /dev/null
"$cli" gateway run --config "$work/gw.json" > "$work/gw.log" 2>&1 & gpid=$!; pids+=("$gpid")
wait_port "$mport"; wait_port "$gport"; wait_port "$mtls"; wait_port "$gtls"

hz=$(getconf CLK_TCK)
echo "load before: $(uptime)"
echo "gateway threads: $threads, bench threads: $bench_threads, duration ${duration}s x $runs runs"

if [[ " $tables " == *" perf "* ]]; then
  shapes=("fan-in 100 1 $inflight_in" "fan-out 1 100 $inflight_out")
  for r in $(seq "$runs"); do
    for s in "${shapes[@]}"; do
      read -r shape np ns inflight <<< "$s"
      for q in 0 1; do
        for b in "mosquitto:$mport:$mpid" "iotblocks:$gport:$gpid"; do
          IFS=: read -r name port pid <<< "$b"
          before=$(cpu_ticks "$pid")
          out=$("$bench" --port "$port" -p "$np" -s "$ns" -q "$q" --payload 128 --rate 0 \
                  --window "$window" --inflight "$inflight" -d "$duration" -t "$bench_threads" \
                  --label "$name $shape qos$q")
          after=$(cpu_ticks "$pid")
          echo "${out%\}},\"broker_cpu_s\":$(( after - before ))e0,\"hz\":$hz}" >> "$work/results.jsonl"
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
def cpu_us(r):  # broker CPU per delivered message
    return r["broker_cpu_s"] / r["hz"] * 1e6 / max(r["received"], 1)
print(f"\n{'shape':8} {'qos':4} {'broker':10} {'recv msg/s':>11} {'p50 us':>8} {'p99 us':>8} "
      f"{'p99.9 us':>9} {'lost':>6} {'ratio':>6} {'cpu us/msg':>10}")
for (shape, qos), by in rows.items():
    base = med(by["mosquitto"], lambda r: r["received_per_s"]) if "mosquitto" in by else None
    for broker, rs in by.items():
        rate = med(rs, lambda r: r["received_per_s"])
        ratio = f"{rate / base:.2f}x" if base else "-"
        print(f"{shape:8} {qos:4} {broker:10} {rate:11.0f} {med(rs, lambda r: r['latency_us']['p50']):8.0f} "
              f"{med(rs, lambda r: r['latency_us']['p99']):8.0f} {med(rs, lambda r: r['latency_us']['p999']):9.0f} "
              f"{int(med(rs, lambda r: r['lost'])):6d} {ratio:>6} {med(rs, cpu_us):10.2f}")
PY
fi

if [[ " $tables " == *" idle "* ]] && [ "$idle" -gt 0 ]; then
  echo
  files=$(ulimit -n)
  need=$((idle + idle_tls + 100))  # each broker holds one descriptor per connection
  if [ "$files" != unlimited ] && [ "$files" -le "$need" ]; then
    echo "idle: IDLE=$idle IDLE_TLS=$idle_tls need more than $need open files; the limit here is $files" \
         "(raise the hard limit: ulimit -Hn, or LimitNOFILE)"
  else
    # Per broker: the plain connections, then (while they stay open, so that the
    # memory they take is not reused) the TLS ones on its TLS listener.
    for b in "mosquitto:$mport:$mtls:$mpid" "iotblocks:$gport:$gtls:$gpid"; do
      IFS=: read -r name port tport pid <<< "$b"
      python3 "$here/../bench/idle_clients.py" --port "$port" --pid "$pid" --count "$idle" \
        --label "$name" --hold-until "$work/release-$name" > "$work/idle-$name.json" & held=$!
      pids+=("$held")
      while kill -0 "$held" 2>/dev/null && [ ! -s "$work/idle-$name.json" ]; do sleep 0.2; done
      cat "$work/idle-$name.json" >> "$work/idle.jsonl"
      if [ "$idle_tls" -gt 0 ]; then
        python3 "$here/../bench/idle_clients.py" --port "$tport" --pid "$pid" --count "$idle_tls" \
          --label "$name-tls" --tls >> "$work/idle.jsonl" || true
      fi
      touch "$work/release-$name"; wait "$held" || true
    done
    python3 - "$work/idle.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(f"idle {r['label']:14} {r['connected']:6d} connections: RSS {r['rss_before_kb']} -> "
          f"{r['rss_after_kb']} KiB, {r['bytes_per_connection']} bytes per connection, "
          f"connected in {r['connect_s']} s ({r['accepts_per_s']}/s)")
PY
  fi
fi

if [[ " $tables " == *" tls "* ]] && [ "$tls_seconds" -gt 0 ]; then
  echo
  for b in "mosquitto:$mtls" "iotblocks:$gtls"; do
    IFS=: read -r name port <<< "$b"
    # Two clients in parallel (the server side of a handshake costs more than the client's).
    clients=()
    for i in 1 2; do
      openssl s_time -connect "127.0.0.1:$port" -new -time "$tls_seconds" > "$work/tls-$name-$i.txt" 2>&1 &
      clients+=($!)
    done
    wait "${clients[@]}" || true
    python3 - "$name" "$work"/tls-"$name"-*.txt <<'PY'
import re, sys
total = 0.0
for path in sys.argv[2:]:
    m = re.search(r"(\d+) connections in ([\d.]+)s", open(path).read())
    if m:
        total += int(m.group(1)) / float(m.group(2))
print(f"tls  {sys.argv[1]:10} {total:8.0f} handshakes/s (2 openssl s_time clients, new sessions)")
PY
  done
fi
echo
echo "load after: $(uptime)"
