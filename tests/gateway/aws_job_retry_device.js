// A device with the AWS IoT Device SDK v2 for JavaScript, unchanged (iotjobs.IotJobsClient
// over mTLS), that fails its first attempt of a job and sees the job's retry configuration
// queue the next one: driven by aws_job_configs_test.py.
//
//   node aws_job_retry_device.js <port> <ca.pem> <cert.pem> <key.pem> <thing>
//
// Prints one JSON line per event: {"event":"ready"} once subscribed, then each notify-next
// and each reply. Attempt 1: start-next, FAILED. Attempt 2 (announced by notify-next):
// start-next, SUCCEEDED. Exits when notify-next says nothing is pending.
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
  let attempts = 0;
  let replies = Promise.resolve();
  const accepted = new Map();  // jobId → resolver of the next update/accepted
  const subscribed = new Set();
  const updateAccepted = async (jobId) => {
    if (subscribed.has(jobId)) return;
    subscribed.add(jobId);
    await jobs.subscribeToUpdateJobExecutionAccepted({ thingName, jobId }, QOS, (err, r) => {
      if (err) return fail(err);
      say({ event: "update-accepted", reply: r });
      accepted.get(jobId)?.();
    });
    await jobs.subscribeToUpdateJobExecutionRejected({ thingName, jobId }, QOS, (err, r) =>
      fail("update rejected " + JSON.stringify(err || r)));
  };
  let startNext;
  await jobs.subscribeToStartNextPendingJobExecutionAccepted({ thingName }, QOS, (err, r) =>
    err ? fail(err) : startNext(r));
  await jobs.subscribeToStartNextPendingJobExecutionRejected({ thingName }, QOS, (err, r) =>
    fail("start-next rejected " + JSON.stringify(err || r)));
  // One attempt: start-next, then the update that ends it.
  const attempt = async (status) => {
    const started = new Promise((resolve) => (startNext = resolve));
    await jobs.publishStartNextPendingJobExecution({ thingName }, QOS);
    const r = await started;
    say({ event: "start-next", execution: r.execution });
    const jobId = r.execution.jobId;
    await updateAccepted(jobId);
    const done = new Promise((resolve) => accepted.set(jobId, resolve));
    await jobs.publishUpdateJobExecution(
      { thingName, jobId, status, executionNumber: r.execution.executionNumber,
        includeJobExecutionState: true }, QOS);
    await done;
  };
  await jobs.subscribeToNextJobExecutionChangedEvents({ thingName }, QOS, (err, ev) => {
    if (err) return fail(err);
    say({ event: "notify-next", execution: ev.execution || null });
    if (!ev.execution) {
      if (attempts > 0) {
        replies.then(() => connection.disconnect()).then(() => process.exit(0));
      }
      return;
    }
    if (ev.execution.status !== "QUEUED") return;
    attempts += 1;
    const status = attempts === 1 ? iotjobs.model.JobStatus.FAILED
                                  : iotjobs.model.JobStatus.SUCCEEDED;
    replies = replies.then(() => attempt(status)).catch(fail);
  });
  say({ event: "ready" });
}

main().catch(fail);
