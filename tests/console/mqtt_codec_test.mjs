// The console's MQTT 3.1.1 codec (web/js/mqtt.js) against mqtt-packet (the MQTT.js
// codec, in benchmarks/peers/node_modules): what one encodes the other parses.
// Run: node tests/console/mqtt_codec_test.mjs (from the repository root).
import assert from 'node:assert/strict';
import {createRequire} from 'node:module';
import path from 'node:path';
import {fileURLToPath, pathToFileURL} from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const require = createRequire(path.join(root, 'benchmarks/peers/package.json'));
const mqttPacket = require('mqtt-packet');
globalThis.WebSocket ??= {OPEN: 1};  // node 20 has none; the client only reads OPEN here
const m = await import(pathToFileURL(path.join(root, 'web/js/mqtt.js')).href);

function parseAll(bytes) {
  const parser = mqttPacket.parser({protocolVersion: 4});
  const out = [];
  parser.on('packet', (p) => out.push(p));
  parser.on('error', (e) => { throw e; });
  parser.parse(Buffer.from(bytes));
  return out;
}

// Remaining-length varints at every boundary (MQTT 3.1.1 table 2.4).
for (const [n, bytes] of [[0, 1], [127, 1], [128, 2], [16383, 2], [16384, 3], [2097151, 3],
  [2097152, 4], [268435455, 4]]) {
  const enc = m.encodeLength(n);
  assert.equal(enc.length, bytes, `length of ${n}`);
  assert.deepEqual(m.decodeLength(Uint8Array.from(enc), 0), {value: n, bytes});
}
assert.throws(() => m.encodeLength(268435456));
assert.throws(() => m.decodeLength(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]), 0));
assert.equal(m.decodeLength(Uint8Array.from([0x80]), 0), null);

// CONNECT
const [c] = parseAll(m.encodeConnect({clientId: 'console-1', keepAlive: 30, username: 'u', password: 'p'}));
assert.equal(c.cmd, 'connect');
assert.equal(c.clientId, 'console-1');
assert.equal(c.keepalive, 30);
assert.equal(c.clean, true);
assert.equal(c.protocolVersion, 4);
assert.equal(c.username, 'u');
assert.equal(c.password.toString(), 'p');

// PUBLISH QoS 0 and 1, retain, UTF-8 topic, payload sizes across varint boundaries.
for (const size of [0, 1, 100, 127 - 9, 200, 16384, 70000]) {
  const payload = new Uint8Array(size).map((_, i) => i & 0xff);
  for (const qos of [0, 1]) {
    const [p] = parseAll(m.encodePublish({topic: 'a/ü/b', payload, qos, retain: qos === 1, id: 513}));
    assert.equal(p.cmd, 'publish');
    assert.equal(p.topic, 'a/ü/b');
    assert.equal(p.qos, qos);
    assert.equal(p.retain, qos === 1);
    if (qos) assert.equal(p.messageId, 513);
    assert.deepEqual(new Uint8Array(p.payload), payload);
  }
}

// What mqtt-packet encodes, the client decodes — also split byte by byte.
const incoming = [
  mqttPacket.generate({cmd: 'connack', returnCode: 0, sessionPresent: false}),
  mqttPacket.generate({cmd: 'suback', messageId: 1, granted: [0, 1, 128]}),
  mqttPacket.generate({cmd: 'publish', topic: 't/1', payload: Buffer.from('{"a":1}'), qos: 1, messageId: 7, retain: true}),
  mqttPacket.generate({cmd: 'publish', topic: 't/2', payload: Buffer.alloc(300, 1), qos: 0}),
  mqttPacket.generate({cmd: 'pingresp'}),
];
for (const split of [false, true]) {
  const client = new m.MqttClient('ws://unused');
  const sent = [];
  const got = [];
  client.ws = {readyState: 1, send: (b) => sent.push(b), close() {}};
  client.connectWaiter = {resolve() {}, reject(e) { throw e; }};
  client.pending.set(1, {resolve: (g) => got.push(['suback', g]), reject() {}, timer: 0});
  client.onMessage((msg) => got.push(['publish', msg.topic, msg.qos, msg.retain, msg.payload.length]));
  const all = Buffer.concat(incoming);
  if (split) for (const b of all) client.receive(Uint8Array.of(b));
  else client.receive(new Uint8Array(all));
  assert.equal(client.state, 'connected');
  clearInterval(client.pingTimer);
  assert.deepEqual(got, [['suback', [0, 1, 128]], ['publish', 't/1', 1, true, 7], ['publish', 't/2', 0, false, 300]]);
  // The QoS 1 message was acknowledged with its packet id.
  const acks = sent.flatMap((b) => parseAll(b));
  assert.deepEqual(acks.map((a) => [a.cmd, a.messageId]), [['puback', 7]]);
}

// SUBSCRIBE as mqtt-packet reads it.
{
  const client = new m.MqttClient('ws://unused');
  const sent = [];
  client.ws = {readyState: 1, send: (b) => sent.push(b), close() {}};
  client.subscribe(['$aws/events/#', 'a/+'], 1).catch(() => {});
  const [s] = parseAll(sent[0]);
  assert.equal(s.cmd, 'subscribe');
  assert.deepEqual(s.subscriptions.map((x) => [x.topic, x.qos]), [['$aws/events/#', 1], ['a/+', 1]]);
  for (const [, p] of client.pending) clearTimeout(p.timer);
}

// Topic matching, with the '$' rule.
assert.ok(m.topicMatches('a/+/c', 'a/b/c'));
assert.ok(m.topicMatches('a/#', 'a'));
assert.ok(!m.topicMatches('#', '$aws/events/x'));
assert.ok(m.topicMatches('$aws/things/+/shadow/#', '$aws/things/lamp/shadow/update/accepted'));
assert.ok(!m.topicMatches('a/+', 'a/b/c'));

console.log('mqtt codec: all checks passed');
