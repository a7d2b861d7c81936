#!/bin/sh
# ctest: `iotblocks shadow apply` on the files in tests/data/shadow/cli/.
# Usage: cli_test.sh <path to iotblocks>
set -eu
cli="$1"
data=tests/data/shadow/cli
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$cli" shadow apply --doc $data/current.json --thing lightbulb --time 1020 < $data/report.json)
expected='{"document":{"state":{"desired":{"color":"green"},"reported":{"color":"green"}},"metadata":{"desired":{"color":{"timestamp":1010}},"reported":{"color":{"timestamp":1020}}},"version":3},"messages":[{"topic":"$aws/things/lightbulb/shadow/update/accepted","payload":{"state":{"reported":{"color":"green"}},"metadata":{"reported":{"color":{"timestamp":1020}}},"version":3,"timestamp":1020,"clientToken":"dev-1"}},{"topic":"$aws/things/lightbulb/shadow/update/documents","payload":{"previous":{"state":{"desired":{"color":"green"},"reported":{"color":"red"}},"metadata":{"desired":{"color":{"timestamp":1010}},"reported":{"color":{"timestamp":1000}}},"version":2},"current":{"state":{"desired":{"color":"green"},"reported":{"color":"green"}},"metadata":{"desired":{"color":{"timestamp":1010}},"reported":{"color":{"timestamp":1020}}},"version":3},"timestamp":1020,"clientToken":"dev-1"}}]}'
[ "$out" = "$expected" ] || fail "update: $out"

out=$("$cli" shadow apply --thing lightbulb --name cfg --topic-op get --time 5 2>/dev/null) && fail "get of a missing named shadow should exit 1"
case "$out" in
  *'"topic":"$aws/things/lightbulb/shadow/name/cfg/get/rejected"'*'"code":404'*) ;;
  *) fail "get: $out" ;;
esac

out=$("$cli" shadow apply --doc $data/current.json --thing lightbulb --topic-op delete --time 7)
[ "$out" = '{"document":{"version":2,"deletedAt":7},"messages":[{"topic":"$aws/things/lightbulb/shadow/delete/accepted","payload":{"version":2,"timestamp":7}}]}' ] || fail "delete: $out"

set +e
echo '{"state":' | "$cli" shadow apply --time 1 > /dev/null 2>&1; [ $? -eq 1 ] || fail "invalid JSON should exit 1"
"$cli" shadow apply --doc /nonexistent.json < $data/report.json > /dev/null 2>&1; [ $? -eq 3 ] || fail "missing --doc should exit 3"
"$cli" shadow apply --topic-op list < $data/report.json > /dev/null 2>&1; [ $? -eq 2 ] || fail "bad --topic-op should exit 2"
echo ok
