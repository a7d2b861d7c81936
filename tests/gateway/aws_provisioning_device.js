// A device provisioned by claim with the AWS IoT Device SDK v2 for JavaScript, unchanged
// (iotidentity.IotIdentityClient over mTLS MQTT 3.1.1), driven by aws_provisioning_test.py.
//
//   node aws_provisioning_device.js <port> <ca.pem> <claim.pem> <claim.key> <serial> <dir> <csr>
//
// With the claim certificate: RegisterThing with a made-up token (rejected); an eavesdropper
// (a second claim connection) subscribes to CreateKeysAndCertificate's replies;
// CreateKeysAndCertificate; RegisterThing on the template "broken" (rejected: its policy
// document is invalid); RegisterThing on "fleet" with the same token (accepted); the
// eavesdropper's own CreateKeysAndCertificate (it must see its own reply only); a SUBSCRIBE
// outside the provisioning topics (refused); CreateCertificateFromCsr with garbage (rejected)
// and with <csr>, and RegisterThing for serial <serial>+1 with its token; a second certificate
// for the existing thing (templates "strict" and "badtype" refuse, "fleet" accepts). Then with the new certificate (written to
// <dir>/device.pem, device.key): connect, subscribe, publish and receive its own message.
// Prints one JSON line per event.
const fs = require("fs");
const path = require("path");
const peers = path.join(__dirname, "..", "peers", "node_modules");
const { mqtt, iot, iotidentity } = require(path.join(peers, "aws-iot-device-sdk-v2"));

const [port, ca, claimCert, claimKey, serial, dir, csrPath] = process.argv.slice(2);
const QOS = mqtt.QoS.AtLeastOnce;
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (what) => {
  say({ event: "error", what: String(what && what.stack ? what.stack : what) });
  process.exit(1);
};
setTimeout(() => fail("timed out"), 20000).unref();

async function connect(cert, key, clientId, fromFiles) {
  const builder = fromFiles
    ? iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert, key)
    : iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(cert, key);
  const config = builder
    .with_certificate_authority_from_path(undefined, ca)
    .with_endpoint("127.0.0.1")
    .with_port(Number(port))
    .with_client_id(clientId)
    .with_clean_session(true)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  return connection;
}

// Replies by kind, awaited by the code that sent the request.
function mailbox() {
  const waiting = [];
  return {
    expect: (kind) => new Promise((resolve) => waiting.push({ kind, resolve })),
    deliver: (kind, body) => {
      const i = waiting.findIndex((w) => w.kind === kind);
      if (i < 0) return fail("unexpected " + kind + " " + JSON.stringify(body));
      waiting.splice(i, 1)[0].resolve(body);
    },
  };
}

async function identityClient(connection, box, templates) {
  const id = new iotidentity.IotIdentityClient(connection);
  const on = (kind, ok) => (err, r) => (err ? fail(err) : box.deliver(kind, ok ? { accepted: r } : { rejected: r }));
  await id.subscribeToCreateKeysAndCertificateAccepted({}, QOS, on("create", true));
  await id.subscribeToCreateKeysAndCertificateRejected({}, QOS, on("create", false));
  await id.subscribeToCreateCertificateFromCsrAccepted({}, QOS, on("csr", true));
  await id.subscribeToCreateCertificateFromCsrRejected({}, QOS, on("csr", false));
  for (const templateName of templates) {
    await id.subscribeToRegisterThingAccepted({ templateName }, QOS, on("register-" + templateName, true));
    await id.subscribeToRegisterThingRejected({ templateName }, QOS, on("register-" + templateName, false));
  }
  return id;
}

async function main() {
  const box = mailbox();
  const claim = await connect(claimCert, claimKey, "claim-" + serial, true);
  const id = await identityClient(claim, box, ["fleet", "broken", "strict", "badtype"]);
  const register = async (templateName, token, number = serial) => {
    const r = box.expect("register-" + templateName);
    await id.publishRegisterThing(
      { templateName, certificateOwnershipToken: token, parameters: { SerialNumber: number } }, QOS);
    return r;
  };
  const fromCsr = async (certificateSigningRequest) => {
    const r = box.expect("csr");
    await id.publishCreateCertificateFromCsr({ certificateSigningRequest }, QOS);
    return r;
  };
  say({ event: "bad-token", ...(await register("fleet", "not-a-token")) });

  const spyBox = mailbox();
  const spy = await connect(claimCert, claimKey, "spy-" + serial, true);
  const spyId = await identityClient(spy, spyBox, []);

  let reply = box.expect("create");
  await id.publishCreateKeysAndCertificate({}, QOS);
  const created = await reply;
  say({ event: "create", ...created });
  if (!created.accepted) return fail("CreateKeysAndCertificate rejected");
  const { certificateId, certificatePem, privateKey, certificateOwnershipToken } = created.accepted;
  fs.writeFileSync(path.join(dir, "device.pem"), certificatePem);
  fs.writeFileSync(path.join(dir, "device.key"), privateKey);

  say({ event: "register-broken", ...(await register("broken", certificateOwnershipToken)) });
  const registered = await register("fleet", certificateOwnershipToken);
  say({ event: "register", ...registered });
  if (!registered.accepted) return fail("RegisterThing rejected");
  say({ event: "reuse-token", ...(await register("fleet", certificateOwnershipToken)) });

  // The spy's own request: its reply comes after anything sent to it before.
  reply = spyBox.expect("create");
  await spyId.publishCreateKeysAndCertificate({}, QOS);
  const own = await reply;
  say({ event: "spy", own: own.accepted ? own.accepted.certificateId : null, first: certificateId });
  await spy.disconnect();

  say({ event: "csr-garbage", ...(await fromCsr("not a CSR")) });
  const signed = await fromCsr(fs.readFileSync(csrPath, "utf8"));
  say({ event: "csr", ...signed });
  if (!signed.accepted) return fail("CreateCertificateFromCsr rejected");
  const next = String(Number(serial) + 1).padStart(serial.length, "0");
  say({ event: "csr-register",
        ...(await register("fleet", signed.accepted.certificateOwnershipToken, next)) });

  // A second certificate for the existing thing: refused by FAIL overrides and by a type that
  // does not exist, then accepted by "fleet" (DO_NOTHING by default) with the same token.
  reply = box.expect("create");
  await id.publishCreateKeysAndCertificate({}, QOS);
  const second = (await reply).accepted;
  if (!second) return fail("second CreateKeysAndCertificate rejected");
  say({ event: "register-strict", ...(await register("strict", second.certificateOwnershipToken)) });
  say({ event: "register-badtype", ...(await register("badtype", second.certificateOwnershipToken, "0099")) });
  say({ event: "register-again", certificateId: second.certificateId,
        ...(await register("fleet", second.certificateOwnershipToken)) });

  let sub;
  try {
    sub = await claim.subscribe("telemetry/#", QOS, () => {});
  } catch (e) {
    sub = { error: String(e) };
  }
  say({ event: "claim-subscribe", result: sub });
  await claim.disconnect();

  const thingName = registered.accepted.thingName;
  const device = await connect(path.join(dir, "device.pem"), path.join(dir, "device.key"), thingName, true);
  let arrived;
  const got = new Promise((resolve) => (arrived = resolve));
  await device.subscribe("telemetry/" + thingName, QOS, (topic, payload) =>
    arrived({ topic, payload: Buffer.from(payload).toString() }));
  await device.publish("telemetry/" + thingName, JSON.stringify({ t: 21.5 }), QOS);
  say({ event: "device-message", ...(await got) });
  await device.disconnect();
  process.exit(0);
}

main().catch(fail);
