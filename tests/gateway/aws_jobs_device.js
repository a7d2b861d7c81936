// A device running AWS IoT Jobs with the AWS IoT Device SDK v2 for JavaScript, unchanged
// (iotjobs.IotJobsClient over an mTLS MQTT 3.1.1 connection), driven by aws_jobs_test.py.
//
//   node aws_jobs_device.js <port> <ca.pem> <cert.pem> <key.pem> <thing>
//
// Prints one JSON line per event: {"event":"ready"} once subscribed, then what the gateway
// answered. For the first job it is notified of: start-next, a stale update (expectedVersion
// 1: VersionMismatch), SUCCEEDED with the right version, then IN_PROGRESS again
// (InvalidStateTransition); it exits when notify-next says nothing is pending.
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

// Each reply the client receives, awaited by the code that sent the request.
const waiting = [];
function expect(kind) {
  return new Promise((resolve) => waiting.push({ kind, resolve }));
}
function deliver(kind, body) {
  const i = waiting.findIndex((w) => w.kind === kind);
  if (i < 0) return fail("unexpected " + kind + " " + JSON.stringify(body));
  waiting.splice(i, 1)[0].resolve(body);
}

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
  let started = false;
  let idle;  // resolved by the notify-next that says nothing is pending
  const nothingPending = new Promise((resolve) => (idle = resolve));
  await jobs.subscribeToNextJobExecutionChangedEvents({ thingName }, QOS, (err, ev) => {
    if (err) return fail(err);
    say({ event: "notify-next", execution: ev.execution || null });
    if (ev.execution && !started) {
      started = true;
      run(jobs, ev.execution.jobId)
        .then(() => nothingPending)
        .then(() => connection.disconnect())
        .then(() => process.exit(0))
        .catch(fail);
    } else if (!ev.execution && started) {
      idle();
    }
  });
  await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, QOS, (err, r) =>
    err ? fail(err) : deliver("start-next", { accepted: r }));
  await jobs.subscribeToStartNextPendingJobExecutionRejected({ thingName }, QOS, (err, r) =>
    err ? fail(err) : deliver("start-next", { rejected: r }));
  say({ event: "ready" });
}

async function run(jobs, jobId) {
  await jobs.subscribeToUpdateJobExecutionAccepted({ thingName, jobId }, QOS, (err, r) =>
    err ? fail(err) : deliver("update", { accepted: r }));
  await jobs.subscribeToUpdateJobExecutionRejected({ thingName, jobId }, QOS, (err, r) =>
    err ? fail(err) : deliver("update", { rejected: r }));

  let reply = expect("start-next");
  await jobs.publishStartNextPendingJobExecution(
    { thingName, clientToken: "start-1", statusDetails: { step: "download" } }, QOS);
  const start = await reply;
  say({ event: "start-next", ...start });
  if (!start.accepted) return fail("start-next rejected");
  const version = start.accepted.execution.versionNumber;

  const update = async (request) => {
    const r = expect("update");
    await jobs.publishUpdateJobExecution({ thingName, jobId, ...request }, QOS);
    return r;
  };
  say({ event: "stale-update",
        ...(await update({ status: iotjobs.model.JobStatus.SUCCEEDED, expectedVersion: 1,
                           clientToken: "stale" })) });
  say({ event: "update",
        ...(await update({ status: iotjobs.model.JobStatus.SUCCEEDED, expectedVersion: version,
                           statusDetails: { step: "done" }, includeJobExecutionState: true,
                           clientToken: "done" })) });
  say({ event: "backwards-update",
        ...(await update({ status: iotjobs.model.JobStatus.IN_PROGRESS,
                           clientToken: "again" })) });
}

main().catch(fail);
