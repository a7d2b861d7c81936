#!/usr/bin/env bash
# Broker comparison with iotblocks-bench: mosquitto 2.0 (Debian) vs the iotblocks
# gateway, same machine, same run, runs interleaved so both see the same
# background load. One gateway process per entry of THREADS (io threads), all
# measured in every run beside mosquitto. Prints three tables:
#  1. throughput/latency per shape (SHAPES), closed loop (--inflight), 128-byte
#     payloads, median of RUNS; ratio gateway/mosquitto; broker CPU per message:
#       fan-in    100 publishers -> 1 subscriber, QoS in QOS (0 1 2)
#       fan-out   1 publisher -> 100 subscribers, QoS in QOS
#       wildcard  20 publishers on concrete topics, WILDCARD_SUBS (1000) subscribers
#                 on '+'/'#' filters that each match 1/5 or 1/20 of them, QoS 0 and 1
#       retained  RETAINED (10000) retained messages on distinct topics, then a
#                 subscriber joins on a wildcard: messages/s until it has them all
#       persistent 10 publishers -> 10 MQTT 5 subscribers with clean start off and
#                 session expiry 300 s, QoS 1; each subscriber leaves once mid-run for
#                 0.3 s and reconnects to its session (both brokers durable)
#       storm     STORM (10000) clients connect over TLS 1.3 (CONNECT/CONNACK, then
#                 DISCONNECT), 32 at a time, offering session tickets: connects/s
#  2. RSS of each broker before/after IDLE idle MQTT connections (and the rate
#     at which they were accepted), then IDLE_TLS idle MQTT-over-TLS connections;
#  3. TLS handshakes/s (openssl s_time, new sessions, TLS 1.3, ECDSA P-256
#     certificate made here) against the gateway's mqtts listener and a
#     mosquitto TLS listener.
#   benchmarks/peers/gateway.sh [BENCH] [IOTBLOCKS]
# BENCH: the iotblocks-bench program (default build/bench-gateway/benchmarks/bench/iotblocks-bench)
# IOTBLOCKS: the iotblocks CLI (default: next to BENCH, ../../apps/iotblocks/iotblocks)
# Environment: DURATION (s per run, default 5), RUNS (median of, default 3),
#   THREADS (gateway io thread counts, one gateway each, default "1 2"; tables 2 and 3 use
#   the first), BENCH_THREADS (bench io threads, default 1),
#   SHAPES (default "fan-in fan-out wildcard retained persistent storm"), QOS (default "0 1 2"),
#   WINDOW (publishes outstanding per publisher, default 64), INFLIGHT_IN / INFLIGHT_OUT /
#   INFLIGHT_WILD / INFLIGHT_PERSISTENT (end-to-end window per publisher, defaults 10 / 50 / 2 /
#   200; 0 = open loop), INFLIGHT_OUT_QOS (broker in-flight QoS 1/2 per subscriber, both
#   brokers, default 256), WILDCARD_SUBS (1000), RETAINED (10000), STORM (10000 clients),
#   AUTOSAVE (mosquitto autosave_interval, default 1800 s, its own default),
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
thread_counts=${THREADS:-1 2}
threads=${thread_counts%% *}  # the gateway of tables 2 and 3
shape_names=${SHAPES:-fan-in fan-out wildcard retained persistent storm}
qos_levels=${QOS:-0 1 2}
inflight_wild=${INFLIGHT_WILD:-2}
inflight_persistent=${INFLIGHT_PERSISTENT:-200}
wildcard_subs=${WILDCARD_SUBS:-1000}
retained=${RETAINED:-10000}
storm=${STORM:-10000}
autosave=${AUTOSAVE:-1800}
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

# mosquitto: same queue and in-flight limits as the gateway's defaults; persistence on
# (sessions, queued QoS 1/2 messages and retained messages kept in memory and written to
# mosquitto.db every AUTOSAVE seconds and at exit; not before acknowledging).
mport=$(free_port); mtls=$(free_port)
mkdir -p "$work/mosquitto-data"; chmod 777 "$work/mosquitto-data"
cat > "$work/mosquitto.conf" <<CONF
per_listener_settings false
allow_anonymous true
persistence true
persistence_location $work/mosquitto-data/
autosave_interval $autosave
autosave_on_changes false
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

# The gateways (one per THREADS entry) with the real configuration schema
# (docs/gateway.md): a TCP and a TLS listener, no HTTP listener, no rules, no
# policies, default limits except the in-flight cap and the offline queue (default 1000)
# matched with mosquitto's above; the durable session store in data_dir.
gateways=()  # name:port:tls_port:pid
for t in $thread_counts; do
  gport=$(free_port); gtls=$(free_port)
  cat > "$work/gw-$t.json" <<CONF
{"listeners": [{"type": "mqtt", "address": "127.0.0.1", "port": $gport},
               {"type": "mqtts", "address": "127.0.0.1", "port": $gtls,
                "tls": {"cert_file": "$work/server.pem", "key_file": "$work/server.key"}}],
 "data_dir": "$work/gw-data-$t", "threads": $t,
 "limits": {"max_inflight_out": $inflight_qos, "max_offline_messages": 100000}}
CONF
  "$cli" gateway check-config "$work/gw-$t.json" > /dev/null
  "$cli" gateway run --config "$work/gw-$t.json" > "$work/gw-$t.log" 2>&1 & gpid=$!; pids+=("$gpid")
  wait_port "$gport"; wait_port "$gtls"
  gateways+=("iotblocks-t$t:$gport:$gtls:$gpid")
done
IFS=: read -r _ gport gtls gpid <<< "${gateways[0]}"
wait_port "$mport"; wait_port "$mtls"

hz=$(getconf CLK_TCK)
echo "load before: $(uptime)"
# What one system call costs on this host (getppid, less the loop): mosquitto makes about
# ten per fan-in message (reads, a write, epoll_ctl), the gateway batches, so ratios
# taken on hosts whose system calls cost very differently are not comparable.
python3 - <<'PY'
import os, time
def ns(f, n=200000):
    t = time.perf_counter()
    for _ in range(n): f()
    return (time.perf_counter() - t) / n * 1e9
print(f"host: {min(ns(os.getppid) for _ in range(3)) - min(ns(int) for _ in range(3)):.0f} ns per system call")
PY
echo "gateway threads: $thread_counts, bench threads: $bench_threads, duration ${duration}s x $runs runs"

# bench arguments per shape and QoS ("-" for the storm).
shape_args() {
  case "$1" in
    fan-in) echo "-p 100 -s 1 -q $2 --inflight $inflight_in" ;;
    fan-out) echo "-p 1 -s 100 -q $2 --inflight $inflight_out" ;;
    wildcard) echo "-p 20 -s $wildcard_subs -q $2 --topics wildcard --groups 5 --inflight $inflight_wild" ;;
    retained) echo "-s 1 -q $2 --retained $retained" ;;
    persistent) echo "-p 10 -s 10 -q $2 --persistent --mqtt-version 5 --session-expiry 300 --offline 0.3 --inflight $inflight_persistent" ;;
    storm) echo "--connect-storm $storm --concurrency 32 --ca-file $work/ca.pem" ;;
  esac
}
shape_qos() {
  case "$1" in
    fan-in|fan-out) echo "$qos_levels" ;;
    wildcard) echo "0 1" ;;
    retained|persistent) echo 1 ;;
    storm) echo - ;;
  esac
}

if [[ " $tables " == *" perf "* ]]; then
  brokers=("mosquitto:$mport:$mtls:$mpid" "${gateways[@]}")
  for r in $(seq "$runs"); do
    for shape in $shape_names; do
      for q in $(shape_qos "$shape"); do
        for b in "${brokers[@]}"; do
          IFS=: read -r name port tport pid <<< "$b"
          [ "$shape" = storm ] && port=$tport
          before=$(cpu_ticks "$pid")
          # shellcheck disable=SC2046
          out=$("$bench" --port "$port" $(shape_args "$shape" "$q") --payload 128 --rate 0 \
                  --window "$window" -d "$duration" -t "$bench_threads" \
                  --label "$name $shape $q")
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
def cpu_us(r):  # broker CPU per delivered message (per connect in the storm)
    return r["broker_cpu_s"] / r["hz"] * 1e6 / max(r["received"], 1)
def notes(rs):
    r = rs[len(rs) // 2]
    if "resumed" in r:
        return f"resumed {int(med(rs, lambda r: r['resumed']))}/{r['received']}"
    out = []
    if any(r.get("duplicates", 0) for r in rs):
        out.append(f"dup {int(med(rs, lambda r: r['duplicates']))}")
    if any(r.get("sessions_lost", 0) for r in rs):
        out.append(f"sessions lost {int(med(rs, lambda r: r['sessions_lost']))}")
    if r.get("retained"):
        out.append(f"stored in {med(rs, lambda r: r['retained'] / max(r['sent_per_s'], 1)):.2f} s")
    return ", ".join(out)
unit = {"storm": "conn/s"}
print(f"\n{'shape':10} {'qos':3} {'broker':12} {'recv msg/s':>11} {'p50 us':>8} {'p99 us':>8} "
      f"{'p99.9 us':>9} {'lost':>6} {'ratio':>6} {'cpu us/msg':>10}  notes")
below = []
for (shape, qos), by in rows.items():
    base = med(by["mosquitto"], lambda r: r["received_per_s"]) if "mosquitto" in by else None
    for broker, rs in by.items():
        rate = med(rs, lambda r: r["received_per_s"])
        ratio = f"{rate / base:.2f}x" if base else "-"
        if base and broker != "mosquitto" and rate / base < 2.5:
            below.append(f"{shape} qos {qos} {broker} {rate / base:.2f}x")
        print(f"{shape:10} {qos:3} {broker:12} {rate:11.0f} {med(rs, lambda r: r['latency_us']['p50']):8.0f} "
              f"{med(rs, lambda r: r['latency_us']['p99']):8.0f} {med(rs, lambda r: r['latency_us']['p999']):9.0f} "
              f"{int(med(rs, lambda r: r['lost'])):6d} {ratio:>6} {med(rs, cpu_us):10.2f}  {notes(rs)}")
print("\nbelow 2.5x mosquitto: " + ("; ".join(below) if below else "none"))
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
