// The AWS IoT Device SDKs for JavaScript (tests/peers: aws-iot-device-sdk-v2,
// aws-iot-device-sdk), their own client classes unchanged except for endpoint,
// port and CA, against a gateway started here on 127.0.0.1.
//
//   node --test tests/gateway/aws_sdk_test.js   (IOTBLOCKS_BIN=build/<dir>/apps/iotblocks/iotblocks)
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const path = require('path');
const { Gateway } = require('./aws_sdk_gateway');
const { sdk, awsIot, within, start5, stop5, roundTrip5 } = require('./aws_sdk_clients');

const { mqtt, mqtt5, iot, auth, iotshadow } = sdk;
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const { decide } = require('./aws_sdk_authorizer');

const REGION = 'eu-west-1';
const KEY = { id: 'AKIAIOTBLOCKSSDK0001', secret: 'sdk/test+secret=for-the-gateway' };
// A key whose policy allows connecting and lab/# only.
const LAB_KEY = { id: 'AKIAIOTBLOCKSLAB0001', secret: 'lab-secret' };
const LAB_POLICY = { Version: '2012-10-17', Statement: [
  { Effect: 'Allow', Action: 'iot:Connect', Resource: '*' },
  { Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: 'arn:aws:iot:*:*:topic/lab/*' },
  { Effect: 'Allow', Action: 'iot:Subscribe', Resource: 'arn:aws:iot:*:*:topicfilter/lab/*' }] };

const OPEN_POLICY = { Version: '2012-10-17',
                      Statement: [{ Effect: 'Allow', Action: 'iot:*', Resource: '*' }] };

// The HTTP authorizer function: counts its invocations, answers like the program.
const httpAuthorizer = { calls: 0, disconnectAfter: undefined };
const authServer = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    httpAuthorizer.calls += 1;
    const answer = decide(JSON.parse(Buffer.concat(chunks).toString()), httpAuthorizer.disconnectAfter);
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(answer));
  });
});

let gw;
let signing;  // the RSA key pair of the signed-token authorizer
before(async () => {
  gw = new Gateway(process.env.IOTBLOCKS_BIN);
  await new Promise((resolve) => authServer.listen(0, '127.0.0.1', resolve));
  signing = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = signing.publicKey.export({ type: 'spki', format: 'pem' });
  const url = `http://127.0.0.1:${authServer.address().port}/authorize`;
  await gw.start({
    authorize: true,
    policies: { Open: OPEN_POLICY },
    // Broad default policies: what a client admitted without an identity would get.
    default_policies: ['Open'],
    aws_access_keys: [
      { access_key_id: KEY.id, secret_access_key: KEY.secret },
      { access_key_id: LAB_KEY.id, secret_access_key: LAB_KEY.secret, policy: LAB_POLICY },
    ],
    custom_authorizers: {
      ProgramAuth: { function: { command: [process.execPath, path.join(__dirname, 'aws_sdk_authorizer.js')] },
                     signing_disabled: true },
      HttpAuth: { function: { url }, token_key_name: 'token', signing_disabled: true },
      SignedAuth: { function: { url }, token_key_name: 'token',
                    token_signing_public_keys: { k1: publicPem } },
      Disabled: { function: { url }, signing_disabled: true, status: 'INACTIVE' },
    },
  });
});
after(async () => {
  await gw.stop();
  gw.cleanup();
  authServer.closeAllConnections();
  authServer.close();
});

function mtls5(dev, clientId) {
  const b = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromPath(
      '127.0.0.1', dev.cert, dev.key);
  b.withPort(gw.ports.mqtts);
  b.withCertificateAuthorityFromPath(undefined, gw.tls.ca);
  b.withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 });
  return b.build();
}

test('v2 SDK, MQTT 3.1.1 over mutual TLS: connect, subscribe, publish', async () => {
  const dev = await gw.device('sdk-v2-311', 'Open');
  const b = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(dev.cert, dev.key);
  b.with_certificate_authority_from_path(undefined, gw.tls.ca);
  b.with_endpoint('127.0.0.1');
  b.with_port(gw.ports.mqtts);
  b.with_client_id('sdk-v2-311');
  b.with_clean_session(true);
  const conn = new mqtt.MqttClient().new_connection(b.build());
  await within(5000, 'connect', conn.connect());
  const got = new Promise((resolve) => {
    conn.subscribe('sdk/v2/311', mqtt.QoS.AtLeastOnce, (topic, payload) => resolve({ topic, payload }));
  });
  await conn.publish('sdk/v2/311', 'hello', mqtt.QoS.AtLeastOnce);
  const m = await within(3000, 'message', got);
  assert.strictEqual(m.topic, 'sdk/v2/311');
  assert.strictEqual(Buffer.from(m.payload).toString(), 'hello');
  await conn.disconnect();
});

test('v2 SDK, MQTT 5 over mutual TLS: connect, subscribe, publish', async () => {
  const dev = await gw.device('sdk-v2-5', 'Open');
  const r = await start5(mtls5(dev, 'sdk-v2-5'));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  await roundTrip5(r.client, 'sdk/v2/5');
  await stop5(r.client);
});

test('custom auth naming an unknown authorizer is refused, also by a gateway without authorizers', async () => {
  // Before custom authorizers existed, this client was admitted anonymously under the
  // (broad) default policies.
  const bare = new Gateway(process.env.IOTBLOCKS_BIN);
  await bare.start({ authorize: true, policies: { Open: OPEN_POLICY }, default_policies: ['Open'] });
  try {
    for (const [g, clientId] of [[gw, 'sdk-custom-unknown'], [bare, 'sdk-custom-bare']]) {
      const b = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithCustomAuth('127.0.0.1', {
        authorizerName: 'NoSuchAuthorizer', username: 'device', password: Buffer.from('token'),
      });
      b.withPort(g.ports.mqtts);
      b.withCertificateAuthorityFromPath(undefined, g.tls.ca);
      b.withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 });
      const r = await start5(b.build());
      if (r.ok) await stop5(r.client);
      assert.strictEqual(r.ok, false, `${clientId}: a client naming an unknown authorizer was admitted`);
      assert.strictEqual(r.reason, mqtt5.ConnectReasonCode.BadUsernameOrPassword);
    }
  } finally {
    await bare.stop();
    bare.cleanup();
  }
});

// --- custom authentication ----------------------------------------------------------

function customAuth5(clientId, customAuthConfig) {
  const b = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithCustomAuth('127.0.0.1',
                                                                                  customAuthConfig);
  b.withPort(gw.ports.mqtts);  // the SDK's default is 443
  b.withCertificateAuthorityFromPath(undefined, gw.tls.ca);
  b.withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 });
  return b.build();
}

test('v2 SDK, MQTT 5 custom auth (program authorizer): connect, its policy governs', async () => {
  const r = await start5(customAuth5('ca-prog', {
    authorizerName: 'ProgramAuth', username: 'device', password: Buffer.from('let-me-in') }));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  await roundTrip5(r.client, 'custom/ca-prog/t');
  // Outside custom/<clientId>/: the authorizer's policy denies.
  const denied = await r.client.publish({ topicName: 'elsewhere/t', qos: mqtt5.QoS.AtLeastOnce, payload: 'x' });
  assert.strictEqual(denied.reasonCode, mqtt5.PubackReasonCode.NotAuthorized);
  await stop5(r.client);
});

test('v2 SDK, MQTT 5 custom auth: a password the authorizer refuses, an INACTIVE authorizer', async () => {
  const wrong = await start5(customAuth5('ca-wrong', {
    authorizerName: 'ProgramAuth', username: 'device', password: Buffer.from('guess') }));
  assert.strictEqual(wrong.ok, false);
  assert.strictEqual(wrong.reason, mqtt5.ConnectReasonCode.BadUsernameOrPassword);
  const before = httpAuthorizer.calls;
  const inactive = await start5(customAuth5('ca-inactive', {
    authorizerName: 'Disabled', username: 'device', password: Buffer.from('let-me-in') }));
  assert.strictEqual(inactive.ok, false);
  assert.strictEqual(inactive.reason, mqtt5.ConnectReasonCode.BadUsernameOrPassword);
  assert.strictEqual(httpAuthorizer.calls, before, 'an INACTIVE authorizer was invoked');
});

test('v2 SDK, MQTT 5 custom auth with a signed token (HTTP authorizer); a bad signature is refused', async () => {
  const sign = (token) => crypto.sign('sha256', Buffer.from(token), signing.privateKey).toString('base64');
  const good = await start5(customAuth5('ca-signed', {
    authorizerName: 'SignedAuth', tokenKeyName: 'token', tokenValue: 'good-token',
    tokenSignature: sign('good-token') }));
  assert.ok(good.ok, `refused: ${good.reason} ${good.error}`);
  await roundTrip5(good.client, 'custom/ca-signed/t');
  await stop5(good.client);
  const before = httpAuthorizer.calls;
  const forged = await start5(customAuth5('ca-forged', {
    authorizerName: 'SignedAuth', tokenKeyName: 'token', tokenValue: 'good-token',
    tokenSignature: sign('another-token') }));
  assert.strictEqual(forged.ok, false);
  assert.strictEqual(forged.reason, mqtt5.ConnectReasonCode.BadUsernameOrPassword);
  assert.strictEqual(httpAuthorizer.calls, before, 'a forged token reached the authorizer');
});

test('custom auth decisions are cached for refreshAfterInSeconds', async () => {
  const config = () => customAuth5('ca-cached', {
    authorizerName: 'HttpAuth', username: 'device', password: Buffer.from('let-me-in') });
  const before = httpAuthorizer.calls;
  for (let i = 0; i < 2; ++i) {
    const r = await start5(config());
    assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
    await stop5(r.client);
  }
  assert.strictEqual(httpAuthorizer.calls, before + 1);
});

test('custom auth: the connection is closed after disconnectAfterInSeconds', async () => {
  httpAuthorizer.disconnectAfter = 1;
  try {
    const r = await start5(customAuth5('ca-expiring', {
      authorizerName: 'HttpAuth', username: 'expiring', password: Buffer.from('let-me-in') }));
    assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
    const started = Date.now();
    await within(4000, 'disconnection', new Promise((resolve) => r.client.on('disconnection', resolve)));
    assert.ok(Date.now() - started >= 500, 'closed too early');
    await stop5(r.client);
  } finally {
    httpAuthorizer.disconnectAfter = undefined;
  }
});

test('v2 SDK, MQTT 3.1.1 with_custom_authorizer and MQTT 5 over WebSocket with custom auth', async () => {
  const b = iot.AwsIotMqttConnectionConfigBuilder.new_default_builder();
  b.with_custom_authorizer('device', 'HttpAuth', undefined, 'let-me-in');
  b.with_port(gw.ports.mqtts);  // with_custom_authorizer sets 443
  b.with_certificate_authority_from_path(undefined, gw.tls.ca);
  b.with_endpoint('127.0.0.1');
  b.with_client_id('ca-311');
  b.with_clean_session(true);
  const conn = new mqtt.MqttClient().new_connection(b.build());
  await within(5000, 'connect', conn.connect());
  const got = new Promise((resolve) => {
    conn.subscribe('custom/ca-311/t', mqtt.QoS.AtLeastOnce, (topic, payload) => resolve(payload));
  });
  await conn.publish('custom/ca-311/t', 'hello', mqtt.QoS.AtLeastOnce);
  assert.strictEqual(Buffer.from(await within(3000, 'message', got)).toString(), 'hello');
  await conn.disconnect();

  const w = iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithCustomAuth('127.0.0.1', {
    authorizerName: 'HttpAuth', username: 'device', password: Buffer.from('let-me-in') });
  w.withPort(gw.ports.wss);
  w.withCertificateAuthorityFromPath(undefined, gw.tls.ca);
  w.withConnectProperties({ clientId: 'ca-ws5', keepAliveIntervalSeconds: 30 });
  const r = await start5(w.build());
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  await roundTrip5(r.client, 'custom/ca-ws5/t');
  await stop5(r.client);
});

test('v1 SDK, wss-custom-auth with the credentials in headers', async () => {
  const device = awsIot.device({
    protocol: 'wss-custom-auth', host: '127.0.0.1', port: gw.ports.wss, clientId: 'ca-v1',
    customAuthHeaders: { 'X-Amz-CustomAuthorizer-Name': 'HttpAuth', token: 'good-token' },
    websocketOptions: { ca: fs.readFileSync(gw.tls.ca) },
    region: REGION, reconnectPeriod: 0, keepalive: 30,
  });
  try {
    await within(5000, 'v1 connect', new Promise((resolve, reject) => {
      device.on('connect', resolve);
      device.on('error', reject);
    }));
    const got = new Promise((resolve) => device.on('message', (topic, payload) => resolve({ topic, payload })));
    device.subscribe('custom/ca-v1/t', { qos: 1 });
    device.publish('custom/ca-v1/t', 'hello', { qos: 1 });
    const m = await within(3000, 'message', got);
    assert.strictEqual(m.payload.toString(), 'hello');
  } finally {
    device.end(true);
  }
});

// --- WebSocket with SigV4 ------------------------------------------------------------

function sigv4Mqtt5(key, clientId) {
  const b = iot.AwsIotMqtt5ClientConfigBuilder.newWebsocketMqttBuilderWithSigv4Auth('127.0.0.1', {
    region: REGION,  // else taken from an AWS-shaped host name
    credentialsProvider: auth.AwsCredentialsProvider.newStatic(key.id, key.secret),
  });
  b.withPort(gw.ports.wss);
  b.withCertificateAuthorityFromPath(undefined, gw.tls.ca);
  b.withConnectProperties({ clientId, keepAliveIntervalSeconds: 30 });
  return b.build();
}

test('v2 SDK, MQTT 5 over WebSocket with SigV4: connect, subscribe, publish', async () => {
  const r = await start5(sigv4Mqtt5(KEY, 'ws-v2-5'));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  await roundTrip5(r.client, 'sdk/ws/5');
  await stop5(r.client);
});

test('v2 SDK, MQTT 5 over WebSocket with SigV4: the key\'s policy governs', async () => {
  const r = await start5(sigv4Mqtt5(LAB_KEY, 'ws-v2-lab'));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  await roundTrip5(r.client, 'lab/ws');
  const denied = await r.client.publish({ topicName: 'factory/ws', qos: mqtt5.QoS.AtLeastOnce, payload: 'x' });
  assert.strictEqual(denied.reasonCode, mqtt5.PubackReasonCode.NotAuthorized);
  await stop5(r.client);
});

test('v2 SDK, MQTT 5 over WebSocket with a wrong secret or an unknown key: no connection', async () => {
  for (const key of [{ id: KEY.id, secret: 'wrong' }, { id: 'AKIAUNKNOWN000000000', secret: 'x' }]) {
    const r = await start5(sigv4Mqtt5(key, 'ws-v2-bad'));
    if (r.ok) await stop5(r.client);
    assert.strictEqual(r.ok, false, `admitted with ${key.id}`);
  }
});

test('v2 SDK, MQTT 3.1.1 over WebSocket with SigV4 (new_builder_for_websocket)', async () => {
  const b = iot.AwsIotMqttConnectionConfigBuilder.new_builder_for_websocket();
  b.with_credentials(REGION, KEY.id, KEY.secret);
  b.with_certificate_authority_from_path(undefined, gw.tls.ca);
  b.with_endpoint('127.0.0.1');
  b.with_port(gw.ports.wss);
  b.with_client_id('ws-v2-311');
  b.with_clean_session(true);
  const conn = new mqtt.MqttClient().new_connection(b.build());
  await within(5000, 'connect', conn.connect());
  const got = new Promise((resolve) => {
    conn.subscribe('sdk/ws/311', mqtt.QoS.AtLeastOnce, (topic, payload) => resolve(payload));
  });
  await conn.publish('sdk/ws/311', 'hello', mqtt.QoS.AtLeastOnce);
  assert.strictEqual(Buffer.from(await within(3000, 'message', got)).toString(), 'hello');
  await conn.disconnect();
});

test('v1 SDK, protocol wss (SigV4 URL, subprotocol mqttv3.1)', async () => {
  const device = awsIot.device({
    protocol: 'wss', host: '127.0.0.1', port: gw.ports.wss, clientId: 'ws-v1',
    accessKeyId: KEY.id, secretKey: KEY.secret, region: REGION,
    websocketOptions: { ca: fs.readFileSync(gw.tls.ca) }, reconnectPeriod: 0, keepalive: 30,
  });
  try {
    await within(5000, 'v1 connect', new Promise((resolve, reject) => {
      device.on('connect', resolve);
      device.on('error', reject);
    }));
    const got = new Promise((resolve) => device.on('message', (topic, payload) => resolve(payload)));
    device.subscribe('sdk/ws/v1', { qos: 1 });
    device.publish('sdk/ws/v1', 'hello', { qos: 1 });
    assert.strictEqual((await within(3000, 'message', got)).toString(), 'hello');
  } finally {
    device.end(true);
  }
});

test('v1 SDK, protocol wss with a wrong secret or an unknown key: no connection', async () => {
  for (const key of [{ id: KEY.id, secret: 'wrong' }, { id: 'AKIAUNKNOWN000000000', secret: 'x' }]) {
    const device = awsIot.device({
      protocol: 'wss', host: '127.0.0.1', port: gw.ports.wss, clientId: 'ws-v1-bad',
      accessKeyId: key.id, secretKey: key.secret, region: REGION,
      websocketOptions: { ca: fs.readFileSync(gw.tls.ca) }, reconnectPeriod: 0, keepalive: 30,
    });
    try {
      const outcome = await within(5000, 'v1 refusal', new Promise((resolve) => {
        device.on('connect', () => resolve('connected'));
        device.on('error', (e) => resolve(`error ${e.message}`));
        device.on('close', () => resolve('closed'));
      }));
      assert.notStrictEqual(outcome, 'connected', `admitted with ${key.id}`);
    } finally {
      device.end(true);
    }
  }
});

/// A presigned /mqtt URL as AWS IoT's SDKs make it (service iotdevicegateway, host signed).
function presign(key, host, date) {
  const amzDate = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${REGION}/iotdevicegateway/aws4_request`;
  const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${encodeURIComponent(`${key.id}/${scope}`)}` +
                `&X-Amz-Date=${amzDate}&X-Amz-SignedHeaders=host`;
  const hash = (s) => crypto.createHash('sha256').update(s).digest('hex');
  const canonical = `GET\n/mqtt\n${query}\nhost:${host}\n\nhost\n${hash('')}`;
  const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${hash(canonical)}`;
  let k = Buffer.from(`AWS4${key.secret}`);
  for (const part of [day, REGION, 'iotdevicegateway', 'aws4_request']) {
    k = crypto.createHmac('sha256', k).update(part).digest();
  }
  return `/mqtt?${query}&X-Amz-Signature=${crypto.createHmac('sha256', k).update(toSign).digest('hex')}`;
}

/// The gateway's answer to a WebSocket upgrade of `target`: status and body.
function upgrade(target, protocol = 'mqtt') {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port: gw.ports.wss, path: target, ca: fs.readFileSync(gw.tls.ca),
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13',
                 'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
                 'Sec-WebSocket-Protocol': protocol } });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode, protocol: res.headers['sec-websocket-protocol'] });
    });
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('WebSocket upgrade: SigV4 refusals are HTTP 403 before the upgrade; query strings and mqttv3.1 accepted', async () => {
  const host = `127.0.0.1:${gw.ports.wss}`;
  const now = new Date();
  const ok = await upgrade(presign(KEY, host, now), 'mqttv3.1');
  assert.deepStrictEqual(ok, { status: 101, protocol: 'mqttv3.1' });
  const wrong = await upgrade(presign({ id: KEY.id, secret: 'wrong' }, host, now));
  assert.strictEqual(wrong.status, 403);
  assert.match(wrong.body, /InvalidSignatureException: The request signature we calculated/);
  const stale = await upgrade(presign(KEY, host, new Date(now.getTime() - 6 * 60 * 1000)));
  assert.strictEqual(stale.status, 403);
  assert.match(stale.body, /Signature expired/);
  const early = await upgrade(presign(KEY, host, new Date(now.getTime() + 6 * 60 * 1000)));
  assert.strictEqual(early.status, 403);
  const unknown = await upgrade(presign({ id: 'AKIAUNKNOWN000000000', secret: 'x' }, host, now));
  assert.strictEqual(unknown.status, 403);
  assert.match(unknown.body, /UnrecognizedClientException/);
  const tampered = presign(KEY, host, now).replace('X-Amz-SignedHeaders=host', 'X-Amz-SignedHeaders=host&extra=1');
  assert.strictEqual((await upgrade(tampered)).status, 403);
  assert.deepStrictEqual(await upgrade('/mqtt?any=thing&x=1'), { status: 101, protocol: 'mqtt' });
  assert.strictEqual((await upgrade('/elsewhere?x=1')).status, 404);
  assert.strictEqual((await upgrade('/mqtt', 'chat')).status, 400);
});

// --- Device Shadow clients -----------------------------------------------------------

async function mtls311(dev, clientId) {
  const b = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(dev.cert, dev.key);
  b.with_certificate_authority_from_path(undefined, gw.tls.ca);
  b.with_endpoint('127.0.0.1');
  b.with_port(gw.ports.mqtts);
  b.with_client_id(clientId);
  b.with_clean_session(true);
  const conn = new mqtt.MqttClient().new_connection(b.build());
  await within(5000, 'connect', conn.connect());
  return conn;
}

/// Subscribes with `subscribe(handler)`, then runs `publish()`; resolves with the first answer.
async function answer(subscribe, publish) {
  let done;
  const got = new Promise((resolve, reject) => {
    done = (error, response) => (error ? reject(error) : resolve(response));
  });
  await subscribe(done);
  await publish();
  return within(3000, 'shadow answer', got);
}

test('v2 SDK IotShadowClient (MQTT 3.1.1): update and get, classic and named shadows', async () => {
  const dev = await gw.device('sdk-shadow-311', 'Open');
  const conn = await mtls311(dev, 'sdk-shadow-311');
  const shadow = new iotshadow.IotShadowClient(conn);
  const QoS = mqtt.QoS.AtLeastOnce;
  const thingName = 'sdk-shadow-311';
  const updated = await answer(
      (h) => shadow.subscribeToUpdateShadowAccepted({ thingName }, QoS, h),
      () => shadow.publishUpdateShadow({ thingName, state: { reported: { temp: 21 } } }, QoS));
  assert.deepStrictEqual(updated.state.reported, { temp: 21 });
  const got = await answer(
      (h) => shadow.subscribeToGetShadowAccepted({ thingName }, QoS, h),
      () => shadow.publishGetShadow({ thingName }, QoS));
  assert.deepStrictEqual(got.state.reported, { temp: 21 });
  assert.strictEqual(typeof got.version, 'number');
  const shadowName = 'config';
  const named = await answer(
      (h) => shadow.subscribeToUpdateNamedShadowAccepted({ thingName, shadowName }, QoS, h),
      () => shadow.publishUpdateNamedShadow({ thingName, shadowName, state: { desired: { rate: 5 } } }, QoS));
  assert.deepStrictEqual(named.state.desired, { rate: 5 });
  const namedGot = await answer(
      (h) => shadow.subscribeToGetNamedShadowAccepted({ thingName, shadowName }, QoS, h),
      () => shadow.publishGetNamedShadow({ thingName, shadowName }, QoS));
  assert.deepStrictEqual(namedGot.state.desired, { rate: 5 });
  assert.deepStrictEqual(namedGot.state.delta, { rate: 5 });
  await conn.disconnect();
});

test('v2 SDK IotShadowClientv2 (MQTT 5, request-response): update and get, classic and named', async () => {
  const dev = await gw.device('sdk-shadow-5', 'Open');
  const r = await start5(mtls5(dev, 'sdk-shadow-5'));
  assert.ok(r.ok, `refused: ${r.reason} ${r.error}`);
  const shadow = iotshadow.IotShadowClientv2.newFromMqtt5(r.client, {
    maxRequestResponseSubscriptions: 4, maxStreamingSubscriptions: 2, operationTimeoutInSeconds: 5 });
  try {
    const thingName = 'sdk-shadow-5';
    const up = await shadow.updateShadow({ thingName, state: { reported: { on: true } } });
    assert.deepStrictEqual(up.state.reported, { on: true });
    const got = await shadow.getShadow({ thingName });
    assert.deepStrictEqual(got.state.reported, { on: true });
    await shadow.updateNamedShadow({ thingName, shadowName: 'fw', state: { reported: { v: '1.2' } } });
    const named = await shadow.getNamedShadow({ thingName, shadowName: 'fw' });
    assert.deepStrictEqual(named.state.reported, { v: '1.2' });
  } finally {
    shadow.close();
    await stop5(r.client);
  }
});
