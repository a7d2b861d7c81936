// Fleet provisioning throughput: <connections> claim connections with the Device SDK v2's
// IotIdentityClient each run CreateKeysAndCertificate + RegisterThing (template "fleet",
// serials from <first>) until <count> devices are provisioned in all; prints one JSON line
// {"devices":…,"seconds":…,"register_per_second":…}. Run by aws_provisioning_test.py --measure.
// With <csr.pem>, CreateCertificateFromCsr with that CSR instead of CreateKeysAndCertificate.
// With "stream" as <csr.pem>, each accepted device is printed at once, {"thing", "certificateId"}
// (aws_provisioning_crash_test.py; <count> 0: until killed).
//
//   node aws_provisioning_load.js <port> <ca.pem> <claim.pem> <claim.key> <count> <connections> <first> [<csr.pem> | stream]
const path = require("path");
const peers = path.join(__dirname, "..", "peers", "node_modules");
const { mqtt, iot, iotidentity } = require(path.join(peers, "aws-iot-device-sdk-v2"));

const fs = require("fs");
const [port, ca, cert, key, count, connections, first, mode] = process.argv.slice(2);
const stream = mode === "stream";
const csr = mode && !stream ? fs.readFileSync(mode, "utf8") : null;
const QOS = mqtt.QoS.AtLeastOnce;
const fail = (what) => {
  process.stdout.write(JSON.stringify({ error: String(what) }) + "\n");
  process.exit(1);
};

async function worker(index, next) {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert, key)
    .with_certificate_authority_from_path(undefined, ca)
    .with_endpoint("127.0.0.1")
    .with_port(Number(port))
    .with_client_id("load-" + index)
    .with_clean_session(true)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  const id = new iotidentity.IotIdentityClient(connection);
  let pending = null;
  const settle = (err, r) => (err ? fail(err) : pending(r));
  const templateName = "fleet";
  if (csr) {
    await id.subscribeToCreateCertificateFromCsrAccepted({}, QOS, (e, r) => settle(e, { ok: r }));
    await id.subscribeToCreateCertificateFromCsrRejected({}, QOS, (e, r) => settle(e, { no: r }));
  } else {
    await id.subscribeToCreateKeysAndCertificateAccepted({}, QOS, (e, r) => settle(e, { ok: r }));
    await id.subscribeToCreateKeysAndCertificateRejected({}, QOS, (e, r) => settle(e, { no: r }));
  }
  await id.subscribeToRegisterThingAccepted({ templateName }, QOS, (e, r) => settle(e, { ok: r }));
  await id.subscribeToRegisterThingRejected({ templateName }, QOS, (e, r) => settle(e, { no: r }));
  const ask = (publish) => new Promise((resolve) => { pending = resolve; publish(); });
  return async () => {
    for (let n = next(); n !== null; n = next()) {
      const made = await ask(() => (csr
        ? id.publishCreateCertificateFromCsr({ certificateSigningRequest: csr }, QOS)
        : id.publishCreateKeysAndCertificate({}, QOS)));
      if (!made.ok) return fail(JSON.stringify(made));
      const done = await ask(() => id.publishRegisterThing({
        templateName, certificateOwnershipToken: made.ok.certificateOwnershipToken,
        parameters: { SerialNumber: String(n) } }, QOS));
      if (!done.ok) return fail(JSON.stringify(done));
      if (stream) {
        process.stdout.write(JSON.stringify({ thing: done.ok.thingName,
                                              certificateId: made.ok.certificateId }) + "\n");
      }
    }
    await connection.disconnect();
  };
}

async function main() {
  let issued = 0;
  const total = Number(count);
  const next = () => (total === 0 || issued < total ? Number(first) + issued++ : null);
  const runs = [];
  for (let i = 0; i < Number(connections); ++i) runs.push(await worker(i, next));
  const start = process.hrtime.bigint();
  await Promise.all(runs.map((r) => r()));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stdout.write(JSON.stringify({ devices: total, connections: Number(connections), seconds,
                                        register_per_second: total / seconds }) + "\n");
  process.exit(0);
}

main().catch(fail);
