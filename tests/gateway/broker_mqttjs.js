// The broker against MQTT.js (benchmarks/peers/node_modules/mqtt) over
// WebSocket, MQTT 5: QoS 0/1/2, a retained message, a user property passed
// through. Usage: node broker_mqttjs.js <ws port>; prints "ok" on success.
'use strict';
const path = require('path');
const mqtt = require(path.join(__dirname, '../../benchmarks/peers/node_modules/mqtt'));

const url = `ws://127.0.0.1:${process.argv[2]}/mqtt`;
const options = { protocolVersion: 5, connectTimeout: 10000, reconnectPeriod: 0 };

function fail(why) {
  console.error(why);
  process.exit(1);
}
setTimeout(() => fail('timed out'), 20000).unref();

async function main() {
  const pub = await mqtt.connectAsync(url, { ...options, clientId: 'js-pub' });
  await pub.publishAsync('js/retained', 'kept', { qos: 1, retain: true });

  const sub = await mqtt.connectAsync(url, { ...options, clientId: 'js-sub' });
  const got = [];
  const done = new Promise((resolve) => {
    sub.on('message', (topic, payload, packet) => {
      got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain,
                 user: packet.properties && packet.properties.userProperties });
      if (got.length === 4) resolve();
    });
  });
  await sub.subscribeAsync('js/#', { qos: 2 });
  for (const qos of [0, 1, 2]) {
    await pub.publishAsync(`js/q${qos}`, `m${qos}`, { qos, properties: { userProperties: { k: 'v' } } });
  }
  await done;
  const retained = got.find((m) => m.topic === 'js/retained');
  if (!retained || retained.payload !== 'kept' || !retained.retain) fail('retained: ' + JSON.stringify(got));
  for (const qos of [0, 1, 2]) {
    const m = got.find((x) => x.topic === `js/q${qos}`);
    if (!m || m.payload !== `m${qos}` || m.qos !== qos || !m.user || m.user.k !== 'v') {
      fail(`QoS ${qos}: ` + JSON.stringify(got));
    }
  }
  await pub.endAsync();
  await sub.endAsync();
  console.log('ok');
}

main().catch((e) => fail(e.stack || String(e)));
