// A fleet migrated from an AWS account, driven by the AWS IoT Device SDKs for
// JavaScript (tests/peers) unchanged except for endpoint, port and CA: a CA and device
// certificates made with the AWS developer guide's openssl commands, a policy copied
// verbatim from account 123456789012 (the gateway configured with that account), Basic
// Ingest, reserved topics, and a refusal for each thing AWS IoT refuses.
//
//   node --test tests/gateway/aws_sdk_migration_test.js   (IOTBLOCKS_BIN=.../iotblocks)
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Gateway, GuideCa, opensslAsync } = require('./aws_sdk_gateway');
const { sdk, awsIot, within, start5, stop5, roundTrip5 } = require('./aws_sdk_clients');

const { mqtt, mqtt5, iot } = sdk;

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ARN = `arn:aws:iot:${REGION}:${ACCOUNT}`;
// As the AWS IoT console shows a device policy, verbatim.
const COPIED_POLICY = {
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 'iot:Connect',
      Resource: 'arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}' },
    { Effect: 'Allow', Action: 'iot:Publish',
      Resource: ['arn:aws:iot:eu-west-1:123456789012:topic/sensors/${iot:ClientId}/*',
                 'arn:aws:iot:eu-west-1:123456789012:topic/$aws/rules/SensorIngest/*'] },
    { Effect: 'Allow', Action: 'iot:Subscribe',
      Resource: 'arn:aws:iot:eu-west-1:123456789012:topicfilter/sensors/*' },
    { Effect: 'Allow', Action: 'iot:Receive',
      Resource: 'arn:aws:iot:eu-west-1:123456789012:topic/sensors/*' },
    { Sid: 'NoFirmwareTopics', Effect: 'Deny', Action: 'iot:Publish',
      Resource: 'arn:aws:iot:eu-west-1:123456789012:topic/sensors/*/firmware' },
  ],
};
const OTHER_ACCOUNT_POLICY = JSON.parse(JSON.stringify(COPIED_POLICY).replaceAll(ACCOUNT, '999999999999'));
const OPEN_POLICY = { Version: '2012-10-17',
                      Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] };
const republish = (topic) => [{ republish: { topic, qos: 1 } }];

let gw;
let guide;
const devices = {};  // name: {cert, key, id}
let watcher;         // the gateway's own device certificate under OPEN_POLICY

before(async () => {
  gw = new Gateway(process.env.IOTBLOCKS_BIN);
  guide = new GuideCa(gw.dir);
  await Promise.all([guide.make(['device']), gw.start({
    authorize: true,
    aws: { region: REGION, account_id: ACCOUNT },
    policies: { Open: OPEN_POLICY },
    rules: {
      // Basic Ingest targets SensorIngest; Other has the same FROM filter, Spy listens on
      // the reserved prefix: neither may see a Basic Ingest message.
      SensorIngest: { sql: "SELECT topic() AS t, v FROM 'sensors/+/level'", actions: republish('out/ingest') },
      Other: { sql: "SELECT topic() AS t FROM 'sensors/+/level'", actions: republish('out/other') },
      Spy: { sql: "SELECT topic() AS t FROM '$aws/rules/#'", actions: republish('out/spy') },
    },
  })]);
  // Register the guide's CA with a verification certificate (CN = registration code).
  const { registrationCode } = await gw.admin('GET', '/admin/registration-code');
  const verification = await guide.sign('verificationCert', 'device', registrationCode);
  await gw.admin('POST', '/admin/cas', { caPem: fs.readFileSync(guide.ca, 'utf8'),
                                         verificationPem: fs.readFileSync(verification.cert, 'utf8'),
                                         status: 'ACTIVE' });
  await gw.admin('PUT', '/admin/policies/DevicePolicy', COPIED_POLICY);
  await gw.admin('PUT', '/admin/policies/OtherAccountPolicy', OTHER_ACCOUNT_POLICY);
  // RegisterCertificate (its CA registered), a thing, AttachThingPrincipal, AttachPolicy.
  for (const [name, policy] of [['pump-7', 'DevicePolicy'], ['pump-8', 'OtherAccountPolicy']]) {
    const dev = await guide.sign(name, 'device', name);
    const out = await gw.admin('POST', '/admin/certificates', {
      certificatePem: fs.readFileSync(dev.cert, 'utf8'),
      caCertificatePem: fs.readFileSync(guide.ca, 'utf8'), status: 'ACTIVE' });
    await gw.admin('PUT', `/admin/things/${name}`, {});
    await gw.admin('PUT', `/admin/things/${name}/principals/${out.certificateId}`);
    await gw.admin('POST', `/admin/policies/${policy}/attach`, { principal: out.certificateId });
    devices[name] = { ...dev, id: out.certificateId };
  }
  watcher = await gw.device('watcher', 'Open');
});

after(async () => {
  await gw.stop();
  gw.cleanup();
});

function mtls5(dev, clientId) {
  const b = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
      '127.0.0.1', dev.cert, dev.key);
  b.withPort(gw.ports.mqtts);
  b.withCertificateAuthorityFromPath(undefined, gw.tls.ca);
  b.withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 });
  return b.build();
}

function mtls311(dev, clientId) {
  const b = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(dev.cert, dev.key);
  b.with_certificate_authority_from_path(undefined, gw.tls.ca);
  b.with_endpoint('127.0.0.1');
  b.with_port(gw.ports.mqtts);
  b.with_client_id(clientId);
  b.with_clean_session(true);
  return new mqtt.MqttClient().new_connection(b.build());
}

async function publish5(client, topicName, payload, retain = false) {
  return client.publish({ topicName, qos: mqtt5.QoS.AtLeastOnce, payload, retain });
}

async function subscribe5(client, topicFilter) {
  const suback = await client.subscribe({ subscriptions: [{ topicFilter, qos: mqtt5.QoS.AtLeastOnce }] });
  return suback.reasonCodes[0];
}

// --- the guide's CA and a policy copied from the account -----------------------------

test('the guide\'s CA and device certificate, a copied policy: v2 SDK over MQTT 3.1.1 and 5', async () => {
  const conn = mtls311(devices['pump-7'], 'pump-7');
  await within(5000, 'connect', conn.connect());
  const got = new Promise((resolve) => {
    conn.subscribe('sensors/pump-7/flow', mqtt.QoS.AtLeastOnce, (topic, payload) => resolve({ topic, payload }));
  });
  await conn.publish('sensors/pump-7/flow', '21.5', mqtt.QoS.AtLeastOnce);
  const m = await within(3000, 'message', got);
  assert.strictEqual(m.topic, 'sensors/pump-7/flow');
  assert.strictEqual(Buffer.from(m.payload).toString(), '21.5');
  await conn.disconnect();

  const r = await start5(mtls5(devices['pump-7'], 'pump-7'));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  await roundTrip5(r.client, 'sensors/pump-7/flow');
  await stop5(r.client);
});

test('the guide\'s device certificate with the v1 SDK (mqtts)', async () => {
  const device = awsIot.device({
    protocol: 'mqtts', host: '127.0.0.1', port: gw.ports.mqtts, clientId: 'pump-7',
    keyPath: devices['pump-7'].key, certPath: devices['pump-7'].cert, caPath: gw.tls.ca,
    reconnectPeriod: 0, keepalive: 30,
  });
  try {
    await within(5000, 'v1 connect', new Promise((resolve, reject) => {
      device.on('connect', resolve);
      device.on('error', reject);
    }));
    const got = new Promise((resolve) => device.on('message', (topic, payload) => resolve({ topic, payload })));
    device.subscribe('sensors/pump-7/v1', { qos: 1 });
    device.publish('sensors/pump-7/v1', 'hello', { qos: 1 });
    const m = await within(3000, 'message', got);
    assert.strictEqual(m.topic, 'sensors/pump-7/v1');
    assert.strictEqual(m.payload.toString(), 'hello');
  } finally {
    device.end(true);
  }
});

test('the copied policy denies: Publish and Subscribe outside it, its explicit Deny', async () => {
  const r = await start5(mtls5(devices['pump-7'], 'pump-7'));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  try {
    assert.strictEqual((await publish5(r.client, 'elsewhere/x', '1')).reasonCode,
                       mqtt5.PubackReasonCode.NotAuthorized);
    assert.strictEqual((await publish5(r.client, 'sensors/pump-8/flow', '1')).reasonCode,
                       mqtt5.PubackReasonCode.NotAuthorized, '${iot:ClientId} is pump-7');
    assert.strictEqual((await publish5(r.client, 'sensors/pump-7/firmware', '1')).reasonCode,
                       mqtt5.PubackReasonCode.NotAuthorized, 'the Deny statement');
    assert.strictEqual(await subscribe5(r.client, 'elsewhere/#'), mqtt5.SubackReasonCode.NotAuthorized);
    assert.strictEqual((await publish5(r.client, 'sensors/pump-7/ok', '1')).reasonCode,
                       mqtt5.PubackReasonCode.Success);
  } finally {
    await stop5(r.client);
  }
});

test('Connect denied: another client id than the thing name, a policy naming another account', async () => {
  const other = await start5(mtls5(devices['pump-7'], 'pump-8'));
  if (other.ok) await stop5(other.client);
  assert.strictEqual(other.reason, mqtt5.ConnectReasonCode.NotAuthorized, 'client id pump-8 on pump-7\'s certificate');
  const account = await start5(mtls5(devices['pump-8'], 'pump-8'));
  if (account.ok) await stop5(account.client);
  assert.strictEqual(account.reason, mqtt5.ConnectReasonCode.NotAuthorized, 'account 999999999999');
  // MQTT 3.1.1 (v1 SDK): CONNACK return code 5. (The v2 SDK reports any 3.1.1 CONNACK
  // refusal as AWS_ERROR_MQTT_PROTOCOL_ERROR, whatever the code; mosquitto's too.)
  const device = awsIot.device({
    protocol: 'mqtts', host: '127.0.0.1', port: gw.ports.mqtts, clientId: 'pump-8',
    keyPath: devices['pump-7'].key, certPath: devices['pump-7'].cert, caPath: gw.tls.ca,
    reconnectPeriod: 0, keepalive: 30,
  });
  try {
    const outcome = await within(5000, 'v1 refusal', new Promise((resolve) => {
      device.on('connect', () => resolve('connected'));
      device.on('error', (e) => resolve(e.message));
    }));
    assert.strictEqual(outcome, 'Connection refused: Not authorized');
  } finally {
    device.end(true);
  }
});

test('a certificate of a CA nobody registered: the TLS handshake is refused', async () => {
  const dir = gw.dir;
  await opensslAsync(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
                     '-keyout', 'stranger-ca.key', '-out', 'stranger-ca.pem', '-days', '2',
                     '-subj', '/CN=Guide Root CA');  // the same name as the registered CA
  await opensslAsync(dir, 'req', '-new', '-key', 'device.key', '-out', 'stranger.csr', '-subj', '/CN=pump-7');
  await opensslAsync(dir, 'x509', '-req', '-in', 'stranger.csr', '-CA', 'stranger-ca.pem', '-CAkey',
                     'stranger-ca.key', '-CAcreateserial', '-out', 'stranger.pem', '-days', '2', '-sha256');
  const r = await start5(mtls5({ cert: path.join(dir, 'stranger.pem'), key: path.join(dir, 'device.key') },
                               'pump-7'));
  if (r.ok) await stop5(r.client);
  assert.strictEqual(r.ok, false, 'admitted');
  assert.strictEqual(r.reason, undefined, 'refused by a CONNACK, not at the handshake');
});

// --- Basic Ingest and reserved topics --------------------------------------------------

function metric(name) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: gw.ports.http, path: '/metrics' }, (res) => {
      let text = '';
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        const line = text.split('\n').find((l) => l.startsWith(`${name} `));
        if (!line) reject(new Error(`no ${name} in /metrics`));
        else resolve(Number(line.split(' ')[1]));
      });
    }).on('error', reject);
  });
}

/// A rule's counters (evaluated, matched, ...), updated before the publisher's PUBACK.
async function ruleMetrics(name) {
  return (await gw.admin('GET', `/admin/rules/${name}`)).metrics;
}

test('Basic Ingest: $aws/rules/SensorIngest/... reaches that rule only, topic() without the prefix, never a subscriber', async () => {
  const w = await start5(mtls5(watcher, 'watcher'));
  assert.ok(w.ok, `refused: ${w.reason} ${w.error}`);
  const d = await start5(mtls5(devices['pump-7'], 'pump-7'));
  assert.ok(d.ok, `refused: ${d.reason} ${d.error}`);
  try {
    const seen = [];
    let both;
    const done = new Promise((resolve) => { both = resolve; });
    w.client.on('messageReceived', (e) => {
      seen.push({ topic: e.message.topicName, payload: Buffer.from(e.message.payload).toString() });
      if (seen.length === 2) both();
    });
    assert.strictEqual(await subscribe5(w.client, 'out/#'), mqtt5.SubackReasonCode.GrantedQoS1);
    const retained = await metric('iotblocks_mqtt_retained_messages');
    const puback = await publish5(d.client, '$aws/rules/SensorIngest/sensors/pump-7/level', '{"v": 1}');
    assert.strictEqual(puback.reasonCode, mqtt5.PubackReasonCode.Success);
    // Retained on a Basic Ingest topic: still the rule only, nothing kept for subscribers.
    const again = await publish5(w.client, '$aws/rules/SensorIngest/sensors/w/level', '{"v": 2}', true);
    assert.strictEqual(again.reasonCode, mqtt5.PubackReasonCode.Success);
    assert.strictEqual(await metric('iotblocks_mqtt_retained_messages'), retained, 'a Basic Ingest message was retained');
    await within(3000, 'the rule\'s republished messages', done);
    seen.sort((x, y) => x.payload.localeCompare(y.payload));
    assert.deepStrictEqual(seen, [
      { topic: 'out/ingest', payload: '{"t":"sensors/pump-7/level","v":1}' },
      { topic: 'out/ingest', payload: '{"t":"sensors/w/level","v":2}' },
    ]);
    // Other has the same FROM filter, Spy's is the reserved prefix: neither ran.
    assert.strictEqual((await ruleMetrics('SensorIngest')).evaluated, 2);
    assert.strictEqual((await ruleMetrics('Other')).evaluated, 0, 'Other ran');
    assert.strictEqual((await ruleMetrics('Spy')).evaluated, 0, 'Spy ran');
  } finally {
    await stop5(d.client);
    await stop5(w.client);
  }
});

test('reserved topics: $aws/rules subscriptions and unimplemented $aws topics refused (MQTT 5 and 3.1.1)', async () => {
  // The watcher's policy allows everything: only the gateway's reserved-topic rules refuse.
  const w = await start5(mtls5(watcher, 'watcher'));
  assert.ok(w.ok, `refused: ${w.reason} ${w.error}`);
  try {
    assert.strictEqual(await subscribe5(w.client, '$aws/rules/#'), mqtt5.SubackReasonCode.NotAuthorized);
    assert.strictEqual(await subscribe5(w.client, '$aws/rules/SensorIngest/sensors/+/level'),
                       mqtt5.SubackReasonCode.NotAuthorized);
    // Secure tunneling and Device Defender are not implemented: refused at once, not ignored.
    assert.strictEqual(await subscribe5(w.client, '$aws/things/watcher/tunnels/notify'),
                       mqtt5.SubackReasonCode.TopicFilterInvalid);
    assert.strictEqual((await publish5(w.client, '$aws/things/watcher/defender/metrics/json', '{}')).reasonCode,
                       mqtt5.PubackReasonCode.TopicNameInvalid);
  } finally {
    await stop5(w.client);
  }
  const conn = mtls311(watcher, 'watcher-311');
  await within(5000, 'connect', conn.connect());
  try {
    for (const filter of ['$aws/rules/#', '$aws/things/t/tunnels/notify']) {
      const sub = await conn.subscribe(filter, mqtt.QoS.AtLeastOnce);
      assert.strictEqual(sub.qos, 128, `SUBACK 0x80 for ${filter}`);
    }
  } finally {
    await conn.disconnect();
  }
});

// Last: it revokes pump-7's certificate.
test('an INACTIVE or REVOKED certificate is refused at the handshake', async () => {
  const id = devices['pump-7'].id;
  await gw.admin('PUT', `/admin/certificates/${id}`, { status: 'INACTIVE' });
  const inactive = await start5(mtls5(devices['pump-7'], 'pump-7'));
  if (inactive.ok) await stop5(inactive.client);
  assert.strictEqual(inactive.ok, false, 'INACTIVE admitted');
  assert.strictEqual(inactive.reason, undefined, 'INACTIVE refused by a CONNACK, not at the handshake');
  await gw.admin('PUT', `/admin/certificates/${id}`, { status: 'ACTIVE' });
  const active = await start5(mtls5(devices['pump-7'], 'pump-7'));
  assert.ok(active.ok, `ACTIVE again, refused: ${active.reason} ${active.error}`);
  await stop5(active.client);
  await gw.admin('PUT', `/admin/certificates/${id}`, { status: 'REVOKED' });
  const revoked = await start5(mtls5(devices['pump-7'], 'pump-7'));
  if (revoked.ok) await stop5(revoked.client);
  assert.strictEqual(revoked.ok, false, 'REVOKED admitted');
  assert.strictEqual(revoked.reason, undefined, 'REVOKED refused by a CONNACK, not at the handshake');
});
