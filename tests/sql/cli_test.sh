#!/usr/bin/env bash
# `iotblocks sql eval` and `iotblocks sql check`: outputs and exit codes.
set -u
cli=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$(echo '{"lux":36250,"device":"p1"}' | "$cli" sql eval --topic /g \
  --sql "SELECT * FROM '/g' WHERE lux > 35000" --template '$$aws/things/${device}/x')
[ $? -eq 0 ] || fail "matching eval exit code"
[ "$out" = $'{"lux":36250,"device":"p1"}\n$aws/things/p1/x' ] || fail "matching eval output: $out"

out=$(echo '{"lux":20000}' | "$cli" sql eval --topic /g --sql "SELECT * FROM '/g' WHERE lux > 35000" 2>/dev/null)
code=$?
[ $code -eq 1 ] || fail "no match exit code $code"
[ -z "$out" ] || fail "no match printed: $out"

out=$(printf 'raw' | "$cli" sql eval --topic a/b --clientid c1 --timestamp 5 \
  --sql "SELECT encode(*, 'base64') AS b, clientid() AS c, timestamp() AS t, topic(2) AS l FROM 'a/+'")
[ "$out" = '{"b":"cmF3","c":"c1","t":5,"l":"b"}' ] || fail "context: $out"

err=$("$cli" sql check "SELECT timestmp() FROM 't'" 2>&1 >/dev/null)
code=$?
[ $code -eq 3 ] || fail "check exit code $code"
[[ "$err" == *"unknown function 'timestmp' (did you mean 'timestamp'?) at 1:8"* ]] || fail "check message: $err"

out=$("$cli" sql check "SELECT a.b, c FROM 'x/#' WHERE d > 1")
[ "$out" = '{"valid":true,"from":"x/#","where":true,"value":false,"reads":["a","a.b","c","d"],"variables":[]}' ] \
  || fail "check output: $out"

out=$(echo '{}' | "$cli" sql eval --topic t --sql "SELECT *, 1 AS x FROM 't'" --payload /dev/null 2>&1)
[ $? -eq 4 ] || fail "evaluation error exit code ($out)"
# FROM applies before WHERE, as in the rules engine: a topic the filter does not match
# triggers nothing (exit 1, empty stdout), however true WHERE would be.
from_case() {  # from_case FILTER TOPIC EXPECTED_EXIT
  local out err code
  err=$(mktemp)
  out=$(echo '{"n":1}' | "$cli" sql eval --topic "$2" --sql "SELECT n FROM '$1' WHERE n = 1" 2>"$err")
  code=$?
  [ $code -eq "$3" ] || fail "FROM '$1' on topic '$2': exit $code, want $3 ($(cat "$err"))"
  if [ "$3" -eq 0 ]; then
    [ "$out" = '{"n":1}' ] || fail "FROM '$1' on topic '$2' printed: $out"
  else
    [ -z "$out" ] || fail "FROM '$1' on topic '$2' printed: $out"
    grep -q "does not match FROM '$1'" "$err" || fail "FROM '$1' on '$2': message $(cat "$err")"
  fi
  rm -f "$err"
}
from_case 'a/b' 'a/b' 0
from_case 'a/b' 'a/c' 1
from_case 'a/b' 'a/b/c' 1
from_case 'a/b' 'A/b' 1
from_case 'a/+' 'a/c' 0
from_case 'a/+' 'a/c/d' 1
from_case 'a/+' 'b/c' 1
from_case 'a/+' 'a' 1
from_case 'a/#' 'a/c/d' 0
from_case 'a/#' 'a' 0
from_case 'a/#' 'b/c' 1
from_case '#' 'x/y' 0
from_case '#' '$aws/things/t1/shadow/update' 1
from_case '$aws/things/+/shadow/update' '$aws/things/t1/shadow/update' 0

out=$(echo '{"n":1}' | "$cli" sql eval --topic a --sql "SELECT n WHERE n = 1" 2>&1 >/dev/null)
[ $? -eq 1 ] || fail "rule without FROM: exit code"
[[ "$out" == *"no FROM clause"* ]] || fail "rule without FROM: message $out"

out=$(echo '{"n":1}' | "$cli" sql eval --sql "SELECT n FROM 'a'" 2>/dev/null)
[ $? -eq 2 ] || fail "missing --topic is not a usage error"
[ -z "$out" ] || fail "missing --topic printed: $out"
out=$(echo '{"n":1}' | "$cli" sql eval --topic 'a/+' --sql "SELECT n FROM 'a/+'" 2>&1 >/dev/null)
[ $? -eq 2 ] || fail "a filter as --topic is not a usage error"
[[ "$out" == *"is not a topic name"* ]] || fail "a filter as --topic: message $out"
echo "sql CLI: ok"
