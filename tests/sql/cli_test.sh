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
echo "sql CLI: ok"
