// A device with the AWS IoT Device SDK v2 for JavaScript, unchanged (iotjobs.IotJobsClient
// over mTLS), that asks once for its next job (StartNextPendingJobExecution) and prints the
// answer as one JSON line: {"event":"start-next","execution":{…} or null}. Driven by
// aws_job_configs_test.py to see what a rollout has released to it.
//
//   node aws_job_next_device.js <port> <ca.pem> <cert.pem> <key.pem> <thing>
const path = require("path");
const peers = path.join(__dirname, "..", "peers", "node_modules");
const { mqtt, iot, iotjobs } = require(path.join(peers, "aws-iot-device-sdk-v2"));

const [port, ca, cert, key, thingName] = process.argv.slice(2);
const QOS = mqtt.QoS.AtLeastOnce;
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (what) => {
  say({ event: "error", what: String(what) });
  process.exit(1);
};
setTimeout(() => fail("timed out"), 20000).unref();

async function main() {
  const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder_from_path(cert, key)
    .with_certificate_authority_from_path(undefined, ca)
    .with_endpoint("127.0.0.1")
    .with_port(Number(port))
    .with_client_id(thingName)
    .with_clean_session(true)
    .build();
  const connection = new mqtt.MqttClient().new_connection(config);
  await connection.connect();
  const jobs = new iotjobs.IotJobsClient(connection);
  let answer;
  const answered = new Promise((resolve) => (answer = resolve));
  await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, QOS, (err, r) =>
    err ? fail(err) : answer(r));
  await jobs.subscribeToStartNextPendingJobExecutionRejected({ thingName }, QOS, (err, r) =>
    fail("start-next rejected " + JSON.stringify(err || r)));
  await jobs.publishStartNextPendingJobExecution({ thingName, clientToken: "next" }, QOS);
  const r = await answered;
  say({ event: "start-next", execution: r.execution || null, clientToken: r.clientToken });
  await connection.disconnect();
  process.exit(0);
}

main().catch(fail);
