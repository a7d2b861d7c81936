#!/usr/bin/env bash
# `iotblocks gateway run --demo` end to end: the simulated devices' messages go
# through the demo rules (anomaly scores, shade commands, doorbell notifications,
# Sigfox rows in SQLite) and the console is served. Usage: demo_test.sh IOTBLOCKS_CLI
set -euo pipefail
cli=$1
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat > "$work/gw.json" <<JSON
{"listeners": [{"type": "mqtt", "port": 0}, {"type": "ws", "port": 0}, {"type": "http", "port": 0}],
 "data_dir": "$work/data"}
JSON
"$cli" gateway run --demo --config "$work/gw.json" > "$work/out.txt" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q '^demo   sqlite3' "$work/out.txt" && break; sleep 0.1; done
cat "$work/out.txt"
port() { awk -v t="$1" '$1 == t { n = split($2, a, ":"); print a[n] }' "$work/out.txt"; }
mqtt=$(port mqtt)
http=$(port http)
[ -n "$mqtt" ] && [ -n "$http" ] || { echo "no ports printed"; exit 1; }
grep -q "console http://127.0.0.1:$http/console/  (admin token demo-" "$work/out.txt"

expect() {  # topic filter, then a pattern the first message must match
  local got
  got=$(mosquitto_sub -h 127.0.0.1 -p "$mqtt" -v -t "$1" -C 1 -W 60)
  echo "$got"
  grep -Eq "$2" <<< "$got" || { echo "unexpected message on $1"; exit 1; }
}
expect 'anom/pred' '^anom/pred \{"station":"station-[12]","wind_speed":[0-9.]+,"anomaly":\{"wind_speed":\{"value"'
expect 'greenhouse/shade/#' '^greenhouse/shade/lux-probe-1 \{"shadePosition":[01],"lux":[0-9]+'
expect 'notifications/doorbell/#' '^notifications/doorbell/front \{"event":"ring","door":"front"\}'

# Sigfox callbacks stored per device, in time order.
for _ in $(seq 100); do
  rows=$(sqlite3 "$work/data/rules.db" "SELECT count(*) FROM rule_items WHERE tbl = 'sigfox'" 2>/dev/null || echo 0)
  [ "$rows" -ge 1 ] && break
  sleep 0.2
done
[ "$rows" -ge 1 ] || { echo "no Sigfox rows stored"; exit 1; }
sqlite3 "$work/data/rules.db" "SELECT hash, range_key FROM rule_items WHERE tbl = 'sigfox'" | grep -Eq '^(1A2B3C|4D5E6F)\|[0-9]{13}$'

# The console is served.
python3 -c "import urllib.request,sys; r=urllib.request.urlopen('http://127.0.0.1:$http/console/'); sys.exit(0 if r.status == 200 and b'<html' in r.read().lower() else 1)"
echo "demo: ok"
