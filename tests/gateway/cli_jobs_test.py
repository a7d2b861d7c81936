#!/usr/bin/python3
"""`iotblocks jobs …` and `iotblocks provision …` on a gateway's data directory, and the
gateway on the same files: groups and a certificate made through the AWS API (botocore),
then with the gateway stopped the CLI creates jobs (things, a group, rollout, abort, retry,
scheduling, timeout), the gateway serves them to iot-jobs-data (start-next, update to SUCCEEDED and
FAILED), and with it stopped again the CLI lists those executions; the CLI beside the running
gateway: its job and its cancel reach a subscribed device as notify / notify-next, and a
device update based on the gateway's older copy is refused; cancel and delete with
and without --force; provisioning templates validated, evaluated and registered by the CLI
(all or nothing) and seen by the gateway; the console's /admin/iot routes; bad input.

  tests/gateway/cli_jobs_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402  (Gateway, check())

from aws_cli_test import check  # noqa: E402

import botocore.session  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATES = os.path.join(HERE, "..", "data", "provisioning", "cli")
TOKEN = "cli-jobs-admin-token"


class Cli:
    def __init__(self, binary, data):
        self.binary, self.data = binary, data

    def __call__(self, *args, store="jobs.db"):
        """(exit code, parsed stdout or None, stderr) of `iotblocks args… [--store]`."""
        argv = [self.binary, *args]
        if store:
            argv += ["--store", os.path.join(self.data, store)]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        out = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None
        return r.returncode, out, r.stderr.strip()


def clients(gw):
    session = botocore.session.get_session()
    make = lambda name: session.create_client(  # noqa: E731
        name, region_name=base.REGION, endpoint_url=gw.url, aws_access_key_id=base.KEY,
        aws_secret_access_key=base.SECRET)
    return make("iot"), make("iot-jobs-data")


def call(client, op, **kw):
    try:
        return getattr(client, op)(**kw), None
    except ClientError as e:
        return {}, e.response["Error"]["Code"]


def admin(gw, method, path, body=None, token=TOKEN):
    req = urllib.request.Request(gw.url + "/admin/iot" + path, method=method,
                                 headers={"Authorization": "Bearer " + token},
                                 data=json.dumps(body).encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read().decode() or "null")


def setup_fleet(gw):
    """Groups lamps (child of building) and spare, things lamp-1..3, a certificate."""
    iot, _ = clients(gw)
    iot.create_thing_group(thingGroupName="building")
    iot.create_thing_group(thingGroupName="lamps",
                           parentGroupName="building",
                           thingGroupProperties={"attributePayload": {
                               "attributes": {"floor": "2"}}})
    iot.create_thing_group(thingGroupName="empty")
    for t in ("lamp-1", "lamp-2", "lamp-3"):
        iot.create_thing(thingName=t)
    for t in ("lamp-1", "lamp-2"):
        iot.add_thing_to_thing_group(thingGroupName="lamps", thingName=t)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}
    iot.create_policy(policyName="lamp-policy", policyDocument=json.dumps(policy))
    iot.attach_policy(policyName="lamp-policy",
                      target="arn:aws:iot:%s:000000000000:thinggroup/lamps" % base.REGION)
    cert = iot.create_keys_and_certificate(setAsActive=False)
    return cert["certificateId"]


def jobs_offline(cli):
    """The CLI creates jobs on the stopped gateway's store; bad input refused."""
    rc, out, err = cli("jobs", "create", "--job-id", "fw-1", "--document-inline",
                       '{"operation":"update","url":"https://example.com/fw.bin"}',
                       "--thing-groups", "lamps", "--things", "lamp-3",
                       "--description", "firmware 1", "--timeout", "30",
                       "--rollout", '{"maximumPerMinute":100}',
                       "--abort", '{"criteriaList":[{"failureType":"FAILED","action":"CANCEL",'
                       '"thresholdPercentage":90,"minNumberOfExecutedThings":3}]}',
                       "--retry", '{"criteriaList":[{"failureType":"TIMED_OUT",'
                       '"numberOfRetries":1}]}', "--region", base.REGION)
    check(rc == 0 and out == {"jobArn": "arn:aws:iot:%s:000000000000:job/fw-1" % base.REGION,
                              "jobId": "fw-1", "description": "firmware 1"},
          "jobs create prints CreateJob's response: %s %s" % (out, err))
    rc, out, err = cli("jobs", "describe", "--job-id", "fw-1")
    job = (out or {}).get("job", {})
    check(rc == 0 and job.get("status") == "IN_PROGRESS" and
          job["jobProcessDetails"]["numberOfQueuedThings"] == 3 and
          job["timeoutConfig"] == {"inProgressTimeoutInMinutes": 30} and
          job["jobExecutionsRolloutConfig"] == {"maximumPerMinute": 100} and
          job["abortConfig"]["criteriaList"][0]["thresholdPercentage"] == 90 and
          job["jobExecutionsRetryConfig"]["criteriaList"][0]["numberOfRetries"] == 1 and
          len(job["targets"]) == 2 and json.loads(out["document"])["operation"] == "update",
          "jobs describe: DescribeJob's shape, 3 QUEUED, the configurations: %s %s" % (out, err))
    doc = os.path.join(cli.data, "..", "doc.json")
    with open(doc, "w") as f:
        f.write('{"operation":"reboot"}')
    rc, out, err = cli("jobs", "create", "--job-id", "reboot", "--document", doc,
                       "--targets", "arn:aws:iot:%s:000000000000:thing/lamp-1" % base.REGION)
    check(rc == 0, "jobs create --document FILE --targets ARN %s" % err)
    window = {"startTime": "cron(0 2 LW * ? *)", "durationInMinutes": 60}
    rc, out, err = cli("jobs", "create", "--job-id", "windowed", "--document-inline", "{}",
                       "--things", "lamp-1", "--scheduling", json.dumps(
                           {"startTime": (datetime.datetime.now(datetime.timezone.utc) +
                                          datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M"),
                            "maintenanceWindows": [window]}))
    rc2, out, err2 = cli("jobs", "describe", "--job-id", "windowed")
    job = (out or {}).get("job", {})
    check(rc == 0 and rc2 == 0 and job.get("status") == "SCHEDULED"
          and job.get("schedulingConfig", {}).get("maintenanceWindows") == [window],
          "jobs create --scheduling: SCHEDULED with its window %s %s %s" % (job, err, err2))
    rc, _, err = cli("jobs", "delete", "--job-id", "windowed", "--force")
    check(rc == 0, "jobs delete of the SCHEDULED job %s" % err)
    rc, out, err = cli("jobs", "create", "--job-id", "later", "--document-inline", "{}",
                       "--thing-groups", "empty", "--target-selection", "CONTINUOUS")
    check(rc == 0, "a CONTINUOUS job on an empty group %s" % err)

    for args, code, words, what in (
            (["--job-id", "fw-1", "--document-inline", "{}", "--things", "lamp-1"], 1,
             "already exists", "the same job id again"),
            (["--job-id", "j2", "--document-inline", '{"a":', "--things", "x"], 3,
             "document: invalid JSON", "a document that is not JSON"),
            (["--job-id", "j2", "--document-inline", "[1]", "--things", "x"], 3,
             "expected a JSON object", "a document that is not an object"),
            (["--job-id", "j2", "--document-inline", "{}", "--things", "x", "--rollout",
              '{"maximumPerMinute":5000}'], 3, "maximumPerMinute", "a rollout out of range"),
            (["--job-id", "j2", "--document-inline", "{}", "--things", "x", "--retry",
              '{"criteriaList":[{"failureType":"FAILED","numberOfRetries":11}]}'], 3,
             "numberOfRetries", "a retry out of range"),
            (["--job-id", "j2", "--document-inline", "{}", "--things", "x", "--scheduling",
              '{"maintenanceWindows":[{"startTime":"cron(0 0 15W,L * ? *)",'
              '"durationInMinutes":5}]}'], 3,
             "cron: Day-of-month: W takes one day, not a list (character 12)",
             "a maintenance window's cron expression at fault"),
            (["--job-id", "j2", "--document-inline", "{}", "--things", "lamp-7"], 1,
             "no such thing: lamp-7", "a thing the registry does not have"),
            (["--job-id", "j2", "--document-inline", "{}", "--thing-groups", "nope"], 1,
             "no such thing group: nope", "an unknown thing group"),
            (["--job-id", "j2", "--document-inline", "{}", "--thing-groups", "empty"], 1,
             "no things", "a SNAPSHOT job on an empty group"),
            (["--job-id", "j2", "--document-inline", "{}"], 2, "needs targets", "no targets"),
            (["--job-id", "bad id", "--document-inline", "{}", "--things", "lamp-1"], 1,
             "", "a job id with a space"),
            (["--job-id", "j2", "--things", "x"], 2, "--document", "no document"),
            (["--job-id", "j2", "--document-inline", "{}", "--things", "x", "--targets", "nope"],
             2, "not a thing or thing group ARN", "a target that is no ARN"),
            (["--job-id", "j2", "--document-inline", "{}", "--things", "x",
              "--target-selection", "SOMETIMES"], 2, "", "an unknown target selection")):
        rc, _, err = cli("jobs", "create", *args)
        check(rc == code and words in err, "jobs create refuses %s: exit %d %s" % (what, rc, err))
    rc, _, err = cli("jobs", "create", "--job-id", "x", "--things", "a", store=None)
    check(rc == 2 and "--store" in err, "jobs create without --store: exit 2 %s" % err)
    rc, _, err = cli("jobs", "describe", "--job-id", "nope")
    check(rc == 1 and "no such job: nope" in err, "describe an unknown job: exit 1 %s" % err)
    rc, _, err = cli("jobs", "list", "--status", "DONE")
    check(rc == 2 and "--status" in err, "list --status DONE: exit 2 %s" % err)
    rc, _, err = cli("jobs", "list-executions")
    check(rc == 2 and "--job-id" in err, "list-executions without a job or thing: exit 2")
    rc, _, err = cli("jobs", "list", store="../not-a-dir/jobs.db")
    check(rc == 4 and "not-a-dir" in err, "a store that cannot be opened: exit 4 %s" % err)


def jobs_served(gw):
    """The gateway serves what the CLI created: the device runs fw-1 on lamp-1 to SUCCEEDED
    and on lamp-2 to FAILED over iot-jobs-data."""
    iot, data = clients(gw)
    out, code = call(iot, "describe_job", jobId="fw-1")
    check(code is None and out["job"]["jobProcessDetails"]["numberOfQueuedThings"] == 3,
          "the gateway describes the CLI's job fw-1 %s" % code)
    out, code = call(data, "start_next_pending_job_execution", thingName="lamp-2")
    check(code is None and out["execution"]["jobId"] == "fw-1" and
          json.loads(out["execution"]["jobDocument"])["operation"] == "update",
          "lamp-2 starts fw-1 with its document %s %s" % (out.get("execution"), code))
    _, code = call(data, "update_job_execution", thingName="lamp-2", jobId="fw-1",
                   status="FAILED", statusDetails={"reason": "flash"})
    check(code is None, "lamp-2 reports FAILED %s" % code)
    out, code = call(data, "start_next_pending_job_execution", thingName="lamp-1")
    check(code is None and out["execution"]["jobId"] == "fw-1",
          "lamp-1 starts fw-1 (queued before reboot) %s" % code)
    _, code = call(data, "update_job_execution", thingName="lamp-1", jobId="fw-1",
                   status="SUCCEEDED", statusDetails={"version": "1.1"})
    check(code is None, "lamp-1 reports SUCCEEDED %s" % code)
    out, code = call(data, "start_next_pending_job_execution", thingName="lamp-1")
    check(code is None and out["execution"]["jobId"] == "reboot",
          "lamp-1 starts the reboot job %s" % code)


class Subscriber:
    """mosquitto_sub (MQTT 5) on a thing's notify and notify-next topics, line-buffered so that
    its debug output tells when the SUBACK came (the constructor waits for it); take() gives
    the (topic, payload) messages as they arrive."""

    def __init__(self, gw, thing):
        self.messages, self.cond = [], threading.Condition()
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtt"]),
             "-V", "mqttv5", "-i", thing + "-device", "-d", "-v",
             "-t", "$aws/things/%s/jobs/notify" % thing,
             "-t", "$aws/things/%s/jobs/notify-next" % thing],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.subscribed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        check(self.subscribed.wait(10), "mosquitto_sub subscribed to %s's pushes" % thing)

    def _read(self):
        for line in self.proc.stdout:
            if "SUBACK" in line:
                self.subscribed.set()
            elif line.startswith("$aws/things/"):
                topic, _, payload = line.rstrip("\n").partition(" ")
                with self.cond:
                    self.messages.append((topic, json.loads(payload)))
                    self.cond.notify_all()

    def take(self, count, timeout=10):
        """The first `count` messages not taken yet, waiting up to `timeout` s for them."""
        with self.cond:
            self.cond.wait_for(lambda: len(self.messages) >= count, timeout)
            got, self.messages = self.messages[:count], self.messages[count:]
            return dict(got)

    def stop(self):
        base.stop_process(self.proc)


def jobs_beside_running_gateway(gw, cli):
    """The CLI on the store of the running gateway: the gateway reads in its job and pushes
    notify / notify-next to the subscribed device as for a job made through the HTTP API;
    the CLI's force cancel ends the execution the device started through the gateway, and
    the device's update that follows (on the gateway's older copy) is refused, not applied."""
    iot, data = clients(gw)
    iot.create_thing(thingName="desk-1")
    sub = Subscriber(gw, "desk-1")
    try:
        rc, out, err = cli("jobs", "create", "--job-id", "live-1", "--things", "desk-1",
                           "--document-inline", '{"operation":"blink"}')
        check(rc == 0, "jobs create beside the running gateway %s" % err)
        got = sub.take(2)
        notify = got.get("$aws/things/desk-1/jobs/notify", {})
        nxt = got.get("$aws/things/desk-1/jobs/notify-next", {}).get("execution", {})
        check([j["jobId"] for j in notify.get("jobs", {}).get("QUEUED", [])] == ["live-1"],
              "the device gets notify with the CLI's job QUEUED %s" % got)
        check(nxt.get("jobId") == "live-1" and nxt.get("status") == "QUEUED" and
              nxt.get("jobDocument") == {"operation": "blink"} and
              nxt.get("versionNumber") == 1 and nxt.get("executionNumber") == 1,
              "the device gets notify-next with the CLI's execution and document %s" % got)
        out, code = call(data, "start_next_pending_job_execution", thingName="desk-1")
        check(code is None and out["execution"]["jobId"] == "live-1",
              "the device starts the CLI's job through the gateway %s" % code)
        sub.take(2)  # the gateway's own pushes for the start
        rc, _, err = cli("jobs", "cancel", "--job-id", "live-1", "--force")
        check(rc == 0, "jobs cancel --force beside the running gateway %s" % err)
        _, code = call(data, "update_job_execution", thingName="desk-1", jobId="live-1",
                       status="SUCCEEDED", expectedVersion=2)
        check(code == "TerminalStateException",
              "the device's update after the CLI's cancel is refused: %s" % code)
        got = sub.take(2)
        check(got.get("$aws/things/desk-1/jobs/notify") is not None and
              "execution" not in got.get("$aws/things/desk-1/jobs/notify-next", {"execution": 1}),
              "the CLI's cancel reaches the device: nothing pending %s" % got)
        out, code = call(iot, "describe_job_execution", jobId="live-1", thingName="desk-1")
        ex = out.get("execution", {})
        check(ex.get("status") == "CANCELED" and ex.get("versionNumber") == 2,
              "the execution stays CANCELED at the device's version 2 %s" % ex)
        out, code = call(iot, "describe_job", jobId="live-1")
        details = out.get("job", {}).get("jobProcessDetails", {})
        check(out.get("job", {}).get("status") == "CANCELED" and
              details.get("numberOfCanceledThings") == 1 and
              details.get("numberOfSucceededThings") == 0,
              "the job is CANCELED with one canceled execution, none succeeded %s" % details)
        rc, _, err = cli("jobs", "delete", "--job-id", "live-1")
        check(rc == 0, "jobs delete beside the running gateway %s" % err)
        # A read alone goes to the gateway's copy, which reads the file in every second.
        deadline, code = time.time() + 5, None
        while code != "ResourceNotFoundException" and time.time() < deadline:
            _, code = call(iot, "describe_job", jobId="live-1")
            if code is None:
                time.sleep(0.05)
        check(code == "ResourceNotFoundException", "the gateway reads the deletion in %s" % code)
    finally:
        sub.stop()


def jobs_after(cli):
    """With the gateway stopped, the CLI lists what it ran, then cancels and deletes."""
    rc, out, err = cli("jobs", "list-executions", "--job-id", "fw-1")
    got = {s["thingArn"].rsplit("/", 1)[1]: s["jobExecutionSummary"]["status"]
           for s in (out or {}).get("executionSummaries", [])}
    check(rc == 0 and got == {"lamp-1": "SUCCEEDED", "lamp-2": "FAILED", "lamp-3": "QUEUED"},
          "list-executions shows the executions the gateway ran: %s %s" % (got, err))
    rc, out, err = cli("jobs", "list-executions", "--job-id", "fw-1", "--status", "FAILED")
    check(rc == 0 and len(out["executionSummaries"]) == 1, "list-executions --status FAILED")
    rc, out, err = cli("jobs", "list-executions", "--thing", "lamp-1")
    got = {s["jobId"]: s["jobExecutionSummary"]["status"] for s in out["executionSummaries"]}
    check(got == {"fw-1": "SUCCEEDED", "reboot": "IN_PROGRESS"},
          "list-executions --thing: ListJobExecutionsForThing %s" % got)
    rc, out, err = cli("jobs", "describe-execution", "--job-id", "fw-1", "--thing", "lamp-2")
    e = (out or {}).get("execution", {})
    check(rc == 0 and e.get("status") == "FAILED" and
          e["statusDetails"]["detailsMap"] == {"reason": "flash"} and e["versionNumber"] == 3,
          "describe-execution: DescribeJobExecution with statusDetails %s %s" % (out, err))
    rc, out, err = cli("jobs", "describe-execution", "--job-id", "fw-1", "--thing", "lamp-2",
                       "--execution-number", "1")
    check(rc == 0 and out["execution"]["executionNumber"] == 1,
          "describe-execution --execution-number 1 (the current attempt) %s" % err)
    rc, _, err = cli("jobs", "describe-execution", "--job-id", "fw-1", "--thing", "lamp-2",
                     "--execution-number", "2")
    check(rc == 1, "describe-execution of an attempt there is not: exit 1 %s" % err)
    rc, _, err = cli("jobs", "describe-execution", "--job-id", "fw-1", "--thing", "lamp-9")
    check(rc == 1 and "no such job execution" in err, "describe-execution unknown: exit 1")
    rc, out, err = cli("jobs", "describe", "--job-id", "fw-1")
    d = out["job"]["jobProcessDetails"]
    check(d["numberOfSucceededThings"] == 1 and d["numberOfFailedThings"] == 1 and
          d["numberOfQueuedThings"] == 1, "describe counts 1 succeeded, 1 failed, 1 queued")
    rc, before, err = cli("jobs", "describe", "--job-id", "fw-1", "--before-substitution")
    check(rc == 0 and before["document"] == out["document"],
          "describe --before-substitution of a job without a managed template: its document")

    rc, _, err = cli("jobs", "delete", "--job-id", "reboot")
    check(rc == 1, "delete an IN_PROGRESS job without --force: exit 1 %s" % err)
    rc, out, err = cli("jobs", "cancel", "--job-id", "reboot", "--reason-code", "OPS_1",
                       "--comment", "not now")
    check(rc == 0 and out["jobId"] == "reboot", "cancel the reboot job %s" % err)
    rc, out, err = cli("jobs", "describe-execution", "--job-id", "reboot", "--thing", "lamp-1")
    check(out["execution"]["status"] == "IN_PROGRESS",
          "cancel without --force leaves the IN_PROGRESS execution")
    rc, _, err = cli("jobs", "cancel", "--job-id", "reboot")
    check(rc == 1, "cancel a CANCELED job again without --force: exit 1 %s" % err)
    rc, _, err = cli("jobs", "cancel", "--job-id", "reboot", "--force")
    check(rc == 0, "cancel --force %s" % err)
    rc, out, err = cli("jobs", "describe-execution", "--job-id", "reboot", "--thing", "lamp-1")
    check(out["execution"]["status"] == "CANCELED", "cancel --force cancels IN_PROGRESS")
    rc, out, _ = cli("jobs", "describe", "--job-id", "reboot")
    check(out["job"]["status"] == "CANCELED" and out["job"]["reasonCode"] == "OPS_1" and
          out["job"]["forceCanceled"] is True, "describe: CANCELED, reasonCode, forceCanceled")
    rc, _, err = cli("jobs", "cancel", "--job-id", "fw-1", "--reason-code", "lower")
    check(rc == 2 and "reason-code" in err, "a reason code in lower case: exit 2 %s" % err)
    rc, _, err = cli("jobs", "cancel-execution", "--job-id", "fw-1", "--thing", "lamp-3")
    check(rc == 0, "cancel-execution of a QUEUED execution %s" % err)
    rc, _, err = cli("jobs", "cancel-execution", "--job-id", "fw-1", "--thing", "lamp-1")
    check(rc == 1, "cancel-execution of a SUCCEEDED one: exit 1 %s" % err)
    rc, _, err = cli("jobs", "delete", "--job-id", "reboot")
    check(rc == 0, "delete a CANCELED job %s" % err)
    rc, out, err = cli("jobs", "list")
    ids = [j["jobId"] for j in out["jobs"]]
    check(ids == ["fw-1", "later"], "list: the jobs left, sorted %s" % ids)
    rc, out, _ = cli("jobs", "list", "--status", "COMPLETED")
    check([j["jobId"] for j in out["jobs"]] == ["fw-1"], "list --status COMPLETED: fw-1")


def provisioning_offline(cli, data, cert_id):
    lamp = os.path.join(TEMPLATES, "lamp.json")
    rc, out, err = cli("provision", "validate", "--template", lamp, store=None)
    check(rc == 0 and out["parameters"] == ["SerialNumber", "Site"],
          "provision validate: the parameters %s %s" % (out, err))
    bad = os.path.join(TEMPLATES, "bad_function.json")
    rc, _, err = cli("provision", "validate", "--template", bad, store=None)
    check(rc == 3 and bad in err and "Resources.thing.Properties.ThingName" in err and
          "Fn::Nope" in err, "validate names the file and the path in it: exit 3 %s" % err)
    rc, out, err = cli("provision", "evaluate", "--template", lamp, "--parameters",
                       '{"SerialNumber":"7","Site":"roof"}', store=None)
    res = (out or {}).get("resources", {})
    check(rc == 0 and res["thing"]["thingName"] == "lamp-7" and
          res["thing"]["attributes"] == {"serial": "7", "site": "roof"} and
          res["thing"]["thingGroups"] == ["lamps"] and res["certificate"]["status"] == "ACTIVE" and
          res["deviceConfiguration"] == {"site": "roof"},
          "evaluate: the resources RegisterThing would create %s %s" % (out, err))
    rc, _, err = cli("provision", "evaluate", "--template", lamp, store=None)
    check(rc == 3 and "Parameters.SerialNumber" in err, "evaluate without a parameter %s" % err)
    rc, _, err = cli("provision", "evaluate", "--template", lamp, "--parameters", '{"a":1}',
                     store=None)
    check(rc == 3 and "--parameters.a" in err, "a parameter that is not a string %s" % err)
    rc, _, err = cli("provision", "validate", store=None)
    check(rc == 2, "validate with no template: exit 2 %s" % err)

    templates = "provisioning_templates.db"
    rc, out, err = cli("provision", "list-templates", "--region", base.REGION, store=templates)
    check(rc == 0 and [t["templateName"] for t in out["templates"]] == ["lamps"] and
          out["templates"][0]["templateArn"].endswith(":provisioningtemplate/lamps"),
          "list-templates: ListProvisioningTemplates %s %s" % (out, err))
    rc, out, err = cli("provision", "describe-template", "--template-name", "lamps",
                       store=templates)
    check(rc == 0 and out["enabled"] is True and out["defaultVersionId"] == 1 and
          json.loads(out["templateBody"])["Resources"]["thing"]["Type"] == "AWS::IoT::Thing",
          "describe-template: DescribeProvisioningTemplate %s" % err)
    rc, _, err = cli("provision", "describe-template", "--template-name", "nope", store=templates)
    check(rc == 1 and "no such provisioning template" in err, "describe an unknown template")
    rc, out, err = cli("provision", "evaluate", "--template-name", "lamps", "--parameters",
                       '{"SerialNumber":"8"}', store=templates)
    check(rc == 0 and out["resources"]["thing"]["thingName"] == "lamp-8",
          "evaluate a stored template %s" % err)

    rc, _, err = cli("jobs", "create", "--job-id", "follow", "--document-inline", "{}",
                     "--thing-groups", "lamps", "--target-selection", "CONTINUOUS")
    check(rc == 0, "a CONTINUOUS job on lamps %s" % err)
    # RegisterThing: a template naming a missing policy leaves nothing behind.
    missing = os.path.join(TEMPLATES, "missing_policy.json")
    rc, _, err = cli("provision", "register-thing", "--data-dir", data, "--template", missing,
                     "--certificate-id", cert_id, "--parameters", '{"SerialNumber":"5"}',
                     store=None)
    check(rc == 3 and "Resources.policy.Properties.PolicyName" in err,
          "register-thing with a missing policy: exit 3, the path %s" % err)
    rc, _, err = cli("provision", "register-thing", "--data-dir", data, "--template-name",
                     "lamps", "--certificate-id", "f" * 64, "--parameters",
                     '{"SerialNumber":"5"}', store=None)
    check(rc == 1 and "no such certificate" in err, "register-thing, unknown certificate %s" % err)
    rc, out, err = cli("provision", "register-thing", "--data-dir", data, "--template-name",
                       "lamps", "--certificate-id", cert_id, "--parameters",
                       '{"SerialNumber":"9"}', store=None)
    check(rc == 0 and out["thingName"] == "lamp-9" and out["deviceConfiguration"] ==
          {"site": "lab"}, "register-thing: RegisterThing's reply %s %s" % (out, err))
    rc, out, err = cli("jobs", "list-executions", "--thing", "lamp-9")
    check(rc == 0 and [(s["jobId"], s["jobExecutionSummary"]["status"])
                       for s in out["executionSummaries"]] == [("follow", "QUEUED")],
          "lamp-9 joined lamps: the CONTINUOUS job on lamps reached it %s" % out)


def provisioning_served(gw, cert_id):
    iot, _ = clients(gw)
    out, code = call(iot, "describe_thing", thingName="lamp-9")
    check(code is None and out["attributes"] == {"serial": "9", "site": "lab"},
          "the gateway finds lamp-9 made by the CLI %s" % code)
    _, code = call(iot, "describe_thing", thingName="lamp-5")
    check(code == "ResourceNotFoundException", "the failed register-thing left no lamp-5")
    out, _ = call(iot, "list_thing_groups_for_thing", thingName="lamp-9")
    check([g["groupName"] for g in out.get("thingGroups", [])] == ["lamps"], "lamp-9 in lamps")
    out, _ = call(iot, "describe_certificate", certificateId=cert_id)
    check(out.get("certificateDescription", {}).get("status") == "ACTIVE",
          "the template's Status: Active activated the certificate")
    arn = out["certificateDescription"]["certificateArn"]
    out, _ = call(iot, "list_attached_policies", target=arn)
    names = [p["policyName"] for p in out.get("policies", [])]
    check(len(names) == 1 and names[0].startswith("lamps_policy_"),
          "the template's policy document created and attached %s" % names)
    out, _ = call(iot, "list_thing_principals", thingName="lamp-9")
    check(out.get("principals") == [arn], "the certificate attached to lamp-9")


def console_routes(gw):
    """The console's /admin/iot routes answer with the AWS shapes, with the admin token only."""
    status, out = admin(gw, "GET", "/jobs")
    check(status == 200 and [j["jobId"] for j in out["jobs"]] == ["follow", "fw-1", "later"],
          "GET /admin/iot/jobs: ListJobs %s %s" % (status, out))
    status, out = admin(gw, "GET", "/jobs/fw-1/things")
    check(status == 200 and len(out["executionSummaries"]) == 3,
          "GET /admin/iot/jobs/fw-1/things: ListJobExecutionsForJob")
    status, out = admin(gw, "GET", "/jobs", token="wrong")
    check(status == 401, "a wrong admin token: 401 %s" % status)
    status, out = admin(gw, "GET", "/things")
    check(status == 400 and "no operation" in out["message"],
          "only jobs and groups through /admin/iot: %s %s" % (status, out))
    for path in ("x/jobs", "%2Fjobs"):  # /admin/iotx/jobs, /admin/iot%2Fjobs
        status, out = admin(gw, "GET", path)
        check(status == 404, "GET /admin/iot%s is no route: %s %s" % (path, status, out))
    status, out = admin(gw, "GET", "/jobs/nope")
    check(status == 404, "an unknown job: 404 %s" % status)
    status, out = admin(gw, "PUT", "/jobs/later/cancel?force=true", {})
    check(status == 200 and out["jobId"] == "later", "PUT /admin/iot/jobs/later/cancel %s" % out)
    status, out = admin(gw, "GET", "/thing-groups/lamps")
    check(status == 200 and out["thingGroupMetadata"]["parentGroupName"] == "building",
          "GET /admin/iot/thing-groups/lamps: DescribeThingGroup %s" % out)
    status, out = admin(gw, "GET", "/thing-groups/building/things?recursive=true")
    check(status == 200 and out["things"] == ["lamp-1", "lamp-2", "lamp-9"],
          "things of building, recursive %s" % out)
    arn = urllib.request.quote("arn:aws:iot:%s:000000000000:thinggroup/lamps" % base.REGION,
                               safe="")
    status, out = admin(gw, "POST", "/attached-policies/" + arn, {})
    check(status == 200 and [p["policyName"] for p in out["policies"]] == ["lamp-policy"],
          "POST /admin/iot/attached-policies/<group ARN> %s %s" % (status, out))
    for page in ("js/views/jobs.js", "js/views/groups.js"):
        with urllib.request.urlopen(gw.url + "/console/" + page, timeout=5) as r:
            check(r.status == 200 and "/iot/" in r.read().decode(), "the console serves " + page)


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-cli-jobs-")
    data = os.path.join(d, "data")
    try:
        config = {
            "data_dir": data,
            "authorize": True,
            "listeners": [{"type": "http", "port": 0},
                          {"type": "mqtt", "address": "127.0.0.1", "port": 0}],
            # Devices without a certificate (the mosquitto_sub of the live jobs check).
            "policies": {"devices": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}},
            "default_policies": ["devices"],
            "aws": {"region": base.REGION},
            "admin_token": TOKEN,
            "aws_access_keys": [{"access_key_id": base.KEY, "secret_access_key": base.SECRET}],
        }
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            cert_id = setup_fleet(gw)
            iot, _ = clients(gw)
            iot.create_provisioning_template(
                templateName="lamps", enabled=True,
                templateBody=open(os.path.join(TEMPLATES, "lamp.json")).read(),
                provisioningRoleArn="arn:aws:iam::000000000000:role/provisioning")
        finally:
            gw.stop()
        cli = Cli(binary, data)
        jobs_offline(cli)
        gw.start()
        try:
            jobs_served(gw)
            jobs_beside_running_gateway(gw, cli)
        finally:
            gw.stop()
        jobs_after(cli)
        provisioning_offline(cli, data, cert_id)
        gw.start()
        try:
            provisioning_served(gw, cert_id)
            console_routes(gw)
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if base.failures:
        print("%d failure(s)" % len(base.failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
