#!/usr/bin/env bash
# A tour of the building blocks through the CLI, on the bundled examples in
# examples/data: the greenhouse probe's MQTT traffic, its rule, its policy, a
# device shadow and a wind-speed series with a gust.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/dev/apps/iotblocks/iotblocks}
say() { printf '\n== %s\n' "$*"; }

say "iotblocks info"
"$bin" info

say "MQTT: decode a captured session of a greenhouse lux probe (iotblocks mqtt decode)"
"$bin" mqtt decode < examples/data/mqtt/greenhouse_publish.bin

say "Rule SQL: SELECT * FROM '/topic/Greenhouse/LuxSensors/+' WHERE lux > 35000"
echo '{"device":"greenhouse_lux_probe_1","lux":36250}' |
  "$bin" sql eval --sql "SELECT *, topic() AS source FROM '/topic/Greenhouse/LuxSensors/+' WHERE lux > 35000" \
    --topic /topic/Greenhouse/LuxSensors/probe_1

say "Policy: may probe_1 publish on its own lane? And on probe_2's?"
for lane in probe_1 probe_2; do
  "$bin" policy eval --policy examples/data/policy/greenhouse_lux_policy.json --action iot:Publish \
    --resource "arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/$lane" --var iot:ClientId=probe_1 || true
done

say "Device shadow: an update to lamp (the messages the shadow service would publish)"
"$bin" shadow apply --thing lamp < examples/data/shadow/lamp_update.json

say "Anomaly: PEWMA over a wind-speed series; the points it flags"
"$bin" anomaly score --detector pewma < examples/data/anomaly/wind_speed.csv | grep '"anomaly":true'
