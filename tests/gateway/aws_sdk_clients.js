// Test helper for the aws_sdk_*_test.js files: the AWS IoT Device SDKs (tests/peers)
// and small wrappers that turn their events into promises with a time limit.
'use strict';
const assert = require('node:assert');
const path = require('path');

const peers = path.join(__dirname, '../peers/node_modules');
const sdk = require(path.join(peers, 'aws-iot-device-sdk-v2'));
const awsIot = require(path.join(peers, 'aws-iot-device-sdk'));
const { mqtt5 } = sdk;

function within(ms, what, promise) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/// Starts an MQTT 5 client; resolves {ok: true, client} on CONNACK success, {ok: false,
/// reason} on a refusal (the CONNACK reason code, or the error for a transport failure).
function start5(config) {
  const client = new mqtt5.Mqtt5Client(config);
  const outcome = new Promise((resolve) => {
    client.on('connectionSuccess', () => resolve({ ok: true, client }));
    client.on('connectionFailure', (e) => {
      const stopped = new Promise((done) => client.on('stopped', done));
      client.stop();
      // The native client is released only by close(), once stopped.
      stopped.then(() => {
        client.close();
        resolve({ ok: false, reason: e.connack ? e.connack.reasonCode : undefined, error: e.error });
      });
    });
  });
  client.start();
  return within(5000, 'MQTT 5 connect', outcome);
}

async function stop5(client) {
  const stopped = new Promise((resolve) => client.on('stopped', resolve));
  client.stop();
  await stopped;
  client.close();
}

/// Subscribes, publishes one QoS 1 message to itself and waits for it (MQTT 5).
async function roundTrip5(client, topic) {
  const got = new Promise((resolve) => {
    client.on('messageReceived', (e) => resolve(e.message));
  });
  const suback = await client.subscribe({ subscriptions: [{ topicFilter: topic, qos: mqtt5.QoS.AtLeastOnce }] });
  assert.deepStrictEqual(suback.reasonCodes, [mqtt5.SubackReasonCode.GrantedQoS1]);
  await client.publish({ topicName: topic, qos: mqtt5.QoS.AtLeastOnce, payload: 'hello' });
  const m = await within(3000, `message on ${topic}`, got);
  assert.strictEqual(m.topicName, topic);
  assert.strictEqual(Buffer.from(m.payload).toString(), 'hello');
}

module.exports = { sdk, awsIot, within, start5, stop5, roundTrip5 };
