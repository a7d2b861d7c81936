// RegisterThing against named templates with the AWS IoT Device SDK v2 for JavaScript,
// unchanged (iotidentity.IotIdentityClient over mTLS), for aws_provisioning_templates_test.py.
//
//   node aws_provisioning_register.js <port> <ca.pem> <claim.pem> <claim.key> <template>=<serial>…
//
// One claim connection; for each <template>=<serial>: CreateKeysAndCertificate, then
// RegisterThing on <template> with {"SerialNumber": <serial>}. Prints one JSON line per
// request: {"template", "serial", "certificateId", "accepted" | "rejected"}.
const path = require("path");
const peers = path.join(__dirname, "..", "peers", "node_modules");
const { mqtt, iot, iotidentity } = require(path.join(peers, "aws-iot-device-sdk-v2"));

const [port, ca, claimCert, claimKey, ...requests] = process.argv.slice(2);
const QOS = mqtt.QoS.AtLeastOnce;
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (what) => {
  say({ event: "error", what: String(what && what.stack ? what.stack : what) });
  process.exit(1);
};
setTimeout(() => fail("timed out"), 20000).unref();

async function main() {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(claimCert, claimKey)
    .with_certificate_authority_from_path(undefined, ca)
    .with_endpoint("127.0.0.1")
    .with_port(Number(port))
    .with_client_id("claim-" + process.pid)
    .with_clean_session(true)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  const id = new iotidentity.IotIdentityClient(connection);
  let pending = null;  // one request at a time: its reply resolves it
  const on = (ok) => (err, r) => (err ? fail(err) : pending(ok ? { accepted: r } : { rejected: r }));
  const ask = (send) => new Promise((resolve) => { pending = resolve; send(); });
  await id.subscribeToCreateKeysAndCertificateAccepted({}, QOS, on(true));
  await id.subscribeToCreateKeysAndCertificateRejected({}, QOS, on(false));
  const templates = [...new Set(requests.map((r) => r.split("=")[0]))];
  for (const templateName of templates) {
    await id.subscribeToRegisterThingAccepted({ templateName }, QOS, on(true));
    await id.subscribeToRegisterThingRejected({ templateName }, QOS, on(false));
  }
  for (const request of requests) {
    const [templateName, serial] = request.split("=");
    const created = await ask(() => id.publishCreateKeysAndCertificate({}, QOS));
    if (!created.accepted) return fail("CreateKeysAndCertificate rejected " + JSON.stringify(created));
    const { certificateId, certificateOwnershipToken } = created.accepted;
    const reply = await ask(() => id.publishRegisterThing(
      { templateName, certificateOwnershipToken, parameters: { SerialNumber: serial } }, QOS));
    say({ template: templateName, serial, certificateId, ...reply });
  }
  await connection.disconnect();
  process.exit(0);
}

main().catch(fail);
