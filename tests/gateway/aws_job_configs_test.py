#!/usr/bin/python3
"""AWS IoT Jobs' job configurations through the gateway binary, with botocore (Debian's, in
process) and the AWS IoT Device SDK v2 for JavaScript unchanged:

- jobExecutionsRolloutConfig: a job on six things at two a minute has executions for the
  first two only (the SDK device of the third has nothing to start); the gateway is killed
  with SIGKILL in the middle of the rollout twice and the rollout resumes from its file each
  time (the SDK device then starts its execution), with every thing reached once, nothing
  lost and no execution in two states. A minute passing while the gateway is down is made by
  moving the stored window start back 60 s in jobs.db (sqlite3) before the restart.
- jobExecutionsRetryConfig: the SDK device fails its first attempt, is told of attempt 2 by
  notify-next, and succeeds; describe-job-execution shows executionNumber 2, and with
  --execution-number 1 the FAILED attempt the retry ended.
- abortConfig: failures over the threshold cancel the job (reasonCode, comment) and its
  QUEUED executions; cancel-job with reasonCode and comment; refusals of bad configurations.
- job templates: create (from a document or a job), describe, list, delete, and create-job
  --job-template-arn taking the template's document and configurations where the request
  sets none.

  tests/gateway/aws_job_configs_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
import aws_jobs_test as jobs_test  # noqa: E402  (onboard, clients, call, thing_arn)

from aws_cli_test import check  # noqa: E402

import botocore.config  # noqa: E402
import botocore.session  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
call, thing_arn = jobs_test.call, jobs_test.thing_arn


def kill9(gw):
    gw.proc.kill()  # SIGKILL
    gw.proc.wait(timeout=20)
    gw.proc = None


def minute_passes(d, job):
    """While the gateway is down: the job's rollout window started 60 s earlier."""
    db = os.path.join(d, "data", "jobs.db")
    sql = ("UPDATE jobs SET config = json_set(config, '$.progress.windowStart', "
           "json_extract(config, '$.progress.windowStart') - 60) WHERE id = '%s';" % job)
    r = subprocess.run(["sqlite3", db, sql], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "sqlite3 moved the window %s" % r.stderr)


def executions(iot, job):
    out, code = call(iot, "list_job_executions_for_job", jobId=job)
    check(code is None, "list-job-executions-for-job %s" % code)
    return {x["thingArn"].rsplit("/", 1)[1]: x["jobExecutionSummary"]
            for x in out.get("executionSummaries", [])}


def wait_for_count(iot, job, n, what):
    """Polls the API until `n` executions exist (the gateway ticks once a second)."""
    deadline = time.time() + 10
    while time.time() < deadline:
        got = executions(iot, job)
        if len(got) >= n:
            break
        time.sleep(0.2)
    check(len(got) == n, "%s: %d executions %s" % (what, len(got), sorted(got)))
    return got


def start_next(gw, ca, cert, key, thing):
    """The SDK device's answer to one StartNextPendingJobExecution."""
    r = subprocess.run(["node", os.path.join(HERE, "aws_job_next_device.js"),
                        str(gw.ports["mqtts"]), ca, cert, key, thing],
                       capture_output=True, text=True, timeout=30)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    check(r.returncode == 0 and lines and lines[-1].get("event") == "start-next",
          "the SDK device asked for its next job: %s %s" % (lines, r.stderr[-1000:]))
    return lines[-1].get("execution") if lines else None


def rollout(gw, d, ca):
    iot, _ = jobs_test.clients(gw)
    things = ["r%d" % i for i in range(6)]
    cert, key = jobs_test.onboard(iot, d, "r2")  # a device the rollout reaches in minute 2
    for t in things:
        if t != "r2":
            call(iot, "create_thing", thingName=t)
    rollout_config = {"maximumPerMinute": 2}
    abort_config = {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
                                      "thresholdPercentage": 100.0,
                                      "minNumberOfExecutedThings": 6}]}
    retry_config = {"criteriaList": [{"failureType": "TIMED_OUT", "numberOfRetries": 2}]}
    _, code = call(iot, "create_job", jobId="roll", targets=[thing_arn(t) for t in things],
                   document='{"op":"reboot"}', jobExecutionsRolloutConfig=rollout_config,
                   abortConfig=abort_config, jobExecutionsRetryConfig=retry_config)
    check(code is None, "create-job with a rollout %s" % code)
    out, code = call(iot, "describe_job", jobId="roll")
    j = out.get("job", {})
    check(j.get("jobExecutionsRolloutConfig") == rollout_config
          and j.get("abortConfig") == abort_config
          and j.get("jobExecutionsRetryConfig") == retry_config,
          "describe-job shows the configurations %s %s" % (j, code))
    first = executions(iot, "roll")
    check(sorted(first) == ["r0", "r1"] and j["jobProcessDetails"]["numberOfQueuedThings"] == 2,
          "two a minute: r0 and r1 only %s" % sorted(first))
    _, code = call(iot, "describe_job_execution", jobId="roll", thingName="r2")
    check(code == "ResourceNotFoundException", "r2 not reached yet: %s" % code)
    check(start_next(gw, ca, cert, key, "r2") is None,
          "the SDK device r2 has nothing to start before its minute")

    kill9(gw)
    minute_passes(d, "roll")
    gw.start()
    iot, _ = jobs_test.clients(gw)
    second = wait_for_count(iot, "roll", 4, "after kill -9 and a minute the rollout resumed")
    e = start_next(gw, ca, cert, key, "r2") or {}
    check(e.get("jobId") == "roll" and e.get("status") == "IN_PROGRESS"
          and e.get("executionNumber") == 1 and e.get("jobDocument") == {"op": "reboot"},
          "the SDK device r2 starts the execution the resumed rollout released %s" % e)
    second = executions(iot, "roll")
    kill9(gw)
    minute_passes(d, "roll")
    gw.start()
    iot, _ = jobs_test.clients(gw)
    last = wait_for_count(iot, "roll", 6, "after a second kill -9 the rollout finished")
    check(sorted(last) == things and last["r2"]["status"] == "IN_PROGRESS" and all(
        e["status"] == "QUEUED" for t, e in last.items() if t != "r2")
        and all(e["executionNumber"] == 1 for e in last.values()),
        "every thing reached once, attempt 1, QUEUED (r2 IN_PROGRESS) %s" % last)
    check(all(last[t]["queuedAt"] == first[t]["queuedAt"] for t in first)
          and all(last[t]["queuedAt"] == second[t]["queuedAt"] for t in second)
          and last["r2"]["queuedAt"] > first["r0"]["queuedAt"],
          "executions released before a kill are the same ones after it")
    out, _ = call(iot, "describe_job", jobId="roll")
    details = out.get("job", {}).get("jobProcessDetails", {})
    check(out["job"]["status"] == "IN_PROGRESS" and details.get("numberOfQueuedThings") == 5
          and details.get("numberOfInProgressThings") == 1
          and sum(v for k, v in details.items() if k.startswith("number")) == 6,
          "describe-job counts six executions, each in one state %s" % details)


def retry(gw, d, ca):
    iot, _ = jobs_test.clients(gw)
    cert, key = jobs_test.onboard(iot, d, "lamp")
    proc = subprocess.Popen(["node", os.path.join(HERE, "aws_job_retry_device.js"),
                             str(gw.ports["mqtts"]), ca, cert, key, "lamp"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(proc.stdout.readline() or '{"event":"none"}')
    check(first.get("event") == "ready", "the SDK device subscribed %r" % first)
    _, code = call(iot, "create_job", jobId="flaky", targets=[thing_arn("lamp")],
                   document='{"op":"update"}', jobExecutionsRetryConfig={
                       "criteriaList": [{"failureType": "FAILED", "numberOfRetries": 1}]})
    check(code is None, "create-job with a retry configuration %s" % code)
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    check(proc.returncode == 0, "the SDK device finished rc=%s %s %s"
          % (proc.returncode, events, stderr[-2000:]))
    nexts = [e["execution"] for e in events if e["event"] == "notify-next"]
    check([(x or {}).get("executionNumber") for x in nexts] == [1, 2, None]
          and nexts[1].get("status") == "QUEUED",
          "notify-next told the device of attempt 1, then attempt 2, then nothing %s" % nexts)
    states = [e["reply"]["executionState"]["status"] for e in events
              if e["event"] == "update-accepted"]
    check(states == ["FAILED", "SUCCEEDED"], "the device's updates were accepted %s" % states)
    out, code = call(iot, "describe_job_execution", jobId="flaky", thingName="lamp")
    e = out.get("execution", {})
    check(e.get("status") == "SUCCEEDED" and e.get("executionNumber") == 2,
          "describe-job-execution: attempt 2 SUCCEEDED %s %s" % (e, code))
    out, code = call(iot, "list_job_executions_for_thing", thingName="lamp")
    s = out.get("executionSummaries", [{}])[0].get("jobExecutionSummary", {})
    check(s.get("retryAttempt") == 1, "list-job-executions-for-thing: retryAttempt 1 %s" % s)
    out, code = call(iot, "describe_job_execution", jobId="flaky", thingName="lamp",
                     executionNumber=1)
    e = out.get("execution", {})
    check(code is None and e.get("status") == "FAILED" and e.get("executionNumber") == 1,
          "describe-job-execution --execution-number 1: the attempt the retry ended %s %s"
          % (e, code))
    _, code = call(iot, "describe_job_execution", jobId="flaky", thingName="lamp",
                   executionNumber=3)
    check(code == "ResourceNotFoundException", "no attempt 3: %s" % code)


def abort(gw):
    iot, data = jobs_test.clients(gw)
    things = ["a%d" % i for i in range(4)]
    for t in things:
        call(iot, "create_thing", thingName=t)
    _, code = call(iot, "create_job", jobId="risky", targets=[thing_arn(t) for t in things],
                   document="{}", abortConfig={"criteriaList": [{
                       "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 50,
                       "minNumberOfExecutedThings": 2}]})
    check(code is None, "create-job with an abort configuration %s" % code)
    _, code = call(data, "update_job_execution", thingName="a0", jobId="risky", status="FAILED")
    out, _ = call(iot, "describe_job", jobId="risky")
    check(code is None and out["job"]["status"] == "IN_PROGRESS",
          "one failure of one executed thing: below minNumberOfExecutedThings")
    _, code = call(data, "update_job_execution", thingName="a1", jobId="risky",
                   status="SUCCEEDED")
    out, _ = call(iot, "describe_job", jobId="risky")
    j = out.get("job", {})
    check(code is None and j.get("status") == "CANCELED"
          and j.get("reasonCode") == "ABORT_CRITERIA_MET" and "FAILED" in j.get("comment", "")
          and j["jobProcessDetails"]["numberOfCanceledThings"] == 2,
          "1 of 2 FAILED = 50%%: the job is canceled with its QUEUED executions %s" % j)
    _, code = call(data, "update_job_execution", thingName="a2", jobId="risky",
                   status="IN_PROGRESS")
    check(code == "TerminalStateException", "a canceled execution refuses updates: %s" % code)

    call(iot, "create_job", jobId="manual", targets=[thing_arn("a0")], document="{}")
    _, code = call(iot, "cancel_job", jobId="manual", reasonCode="BAD_BUILD",
                   comment="build 42 bricks lamps")
    out, _ = call(iot, "describe_job", jobId="manual")
    check(code is None and out["job"].get("reasonCode") == "BAD_BUILD"
          and out["job"].get("comment") == "build 42 bricks lamps",
          "cancel-job keeps reasonCode and comment %s" % out.get("job"))
    _, code = call(iot, "cancel_job", jobId="manual", force=True, reasonCode="bad code")
    check(code == "InvalidRequestException", "reasonCode is [A-Z0-9_]+: %s" % code)

    # botocore checks AWS's ranges before sending: without that, the gateway's refusals.
    session = botocore.session.get_session()
    raw = session.create_client(
        "iot", region_name=base.REGION, endpoint_url=gw.url, aws_access_key_id=base.KEY,
        aws_secret_access_key=base.SECRET,
        config=botocore.config.Config(parameter_validation=False))
    for what, kw in (
            ("maximumPerMinute 0", {"jobExecutionsRolloutConfig": {"maximumPerMinute": 0}}),
            ("maximumPerMinute 1001", {"jobExecutionsRolloutConfig": {"maximumPerMinute": 1001}}),
            ("incrementFactor 1.25", {"jobExecutionsRolloutConfig": {
                "maximumPerMinute": 9, "exponentialRate": {
                    "baseRatePerMinute": 1, "incrementFactor": 1.25,
                    "rateIncreaseCriteria": {"numberOfNotifiedThings": 1}}}}),
            ("exponentialRate without maximumPerMinute", {"jobExecutionsRolloutConfig": {
                "exponentialRate": {"baseRatePerMinute": 1, "incrementFactor": 2,
                                    "rateIncreaseCriteria": {"numberOfNotifiedThings": 1}}}}),
            ("thresholdPercentage 101", {"abortConfig": {"criteriaList": [{
                "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 101,
                "minNumberOfExecutedThings": 1}]}}),
            ("thresholdPercentage 10.999", {"abortConfig": {"criteriaList": [{
                "failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 10.999,
                "minNumberOfExecutedThings": 1}]}}),
            ("numberOfRetries 11", {"jobExecutionsRetryConfig": {"criteriaList": [{
                "failureType": "TIMED_OUT", "numberOfRetries": 11}]}}),
            ("retry on REJECTED", {"jobExecutionsRetryConfig": {"criteriaList": [{
                "failureType": "REJECTED", "numberOfRetries": 1}]}})):
        _, code = call(raw, "create_job", jobId="bad", targets=[thing_arn("a0")], document="{}",
                       **kw)
        check(code == "InvalidRequestException", "%s is refused: %s" % (what, code))
    _, code = call(iot, "describe_job", jobId="bad")
    check(code == "ResourceNotFoundException", "nothing was created: %s" % code)


def templates(gw):
    iot, _ = jobs_test.clients(gw)
    arn = "arn:aws:iot:%s:000000000000:jobtemplate/" % base.REGION
    rollout_config = {"maximumPerMinute": 1}
    abort_config = {"criteriaList": [{"failureType": "ALL", "action": "CANCEL",
                                      "thresholdPercentage": 20.5,
                                      "minNumberOfExecutedThings": 5}]}
    retry_config = {"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 3}]}
    out, code = call(iot, "create_job_template", jobTemplateId="fw", description="firmware",
                     document='{"op":"update"}', timeoutConfig={"inProgressTimeoutInMinutes": 9},
                     jobExecutionsRolloutConfig=rollout_config, abortConfig=abort_config,
                     jobExecutionsRetryConfig=retry_config)
    check(code is None and out.get("jobTemplateArn") == arn + "fw",
          "create-job-template %s %s" % (out, code))
    _, code = call(iot, "create_job_template", jobTemplateId="fw", description="again",
                   document="{}")
    check(code == "ConflictException", "the same template id again: %s" % code)
    _, code = call(iot, "create_job_template", jobTemplateId="x", description="neither")
    check(code == "InvalidRequestException", "a template with no document: %s" % code)
    out, code = call(iot, "describe_job_template", jobTemplateId="fw")
    check(code is None and out.get("document") == '{"op":"update"}'
          and out.get("description") == "firmware"
          and out.get("timeoutConfig") == {"inProgressTimeoutInMinutes": 9}
          and out.get("jobExecutionsRolloutConfig") == rollout_config
          and out.get("abortConfig") == abort_config
          and out.get("jobExecutionsRetryConfig") == retry_config and "createdAt" in out,
          "describe-job-template %s %s" % (out, code))
    for t in ("m0", "m1"):
        call(iot, "create_thing", thingName=t)
    _, code = call(iot, "create_job", jobId="from-template", jobTemplateArn=arn + "fw",
                   targets=[thing_arn("m0"), thing_arn("m1")])
    check(code is None, "create-job --job-template-arn with no document %s" % code)
    out, _ = call(iot, "describe_job", jobId="from-template")
    j = out.get("job", {})
    check(j.get("jobTemplateArn") == arn + "fw" and j.get("abortConfig") == abort_config
          and j.get("jobExecutionsRolloutConfig") == rollout_config
          and j.get("jobExecutionsRetryConfig") == retry_config
          and j.get("timeoutConfig") == {"inProgressTimeoutInMinutes": 9}
          and j["jobProcessDetails"]["numberOfQueuedThings"] == 1,
          "the job took the template's configurations (one thing a minute) %s" % j)
    out, _ = call(iot, "get_job_document", jobId="from-template")
    check(out.get("document") == '{"op":"update"}', "and its document %s" % out)
    _, code = call(iot, "create_job", jobId="overridden", jobTemplateArn=arn + "fw",
                   targets=[thing_arn("m0")], document='{"op":"reboot"}',
                   jobExecutionsRolloutConfig={"maximumPerMinute": 100})
    out, _ = call(iot, "describe_job", jobId="overridden")
    doc, _ = call(iot, "get_job_document", jobId="overridden")
    check(code is None and out["job"]["jobExecutionsRolloutConfig"] == {"maximumPerMinute": 100}
          and out["job"]["abortConfig"] == abort_config
          and doc.get("document") == '{"op":"reboot"}',
          "the request's document and rollout win over the template's %s" % out.get("job"))
    _, code = call(iot, "create_job", jobId="x", jobTemplateArn=arn + "nope",
                   targets=[thing_arn("m0")])
    check(code == "ResourceNotFoundException", "an unknown template: %s" % code)
    jarn = "arn:aws:iot:%s:000000000000:job/overridden" % base.REGION
    _, code = call(iot, "create_job_template", jobTemplateId="copy", description="from a job",
                   jobArn=jarn)
    out, _ = call(iot, "describe_job_template", jobTemplateId="copy")
    check(code is None and out.get("document") == '{"op":"reboot"}'
          and out.get("jobExecutionsRolloutConfig") == {"maximumPerMinute": 100},
          "create-job-template --job-arn copies the job %s" % out)
    out, code = call(iot, "list_job_templates")
    check([t["jobTemplateId"] for t in out.get("jobTemplates", [])] == ["copy", "fw"],
          "list-job-templates %s %s" % (out, code))
    _, code = call(iot, "delete_job_template", jobTemplateId="copy")
    _, gone = call(iot, "describe_job_template", jobTemplateId="copy")
    check(code is None and gone == "ResourceNotFoundException",
          "delete-job-template %s %s" % (code, gone))


def main():
    binary = sys.argv[1]
    if not os.path.isdir(jobs_test.SDK):
        print("tests/peers has no node_modules: run `npm ci` there (scripts/setup.sh)")
        sys.exit(1)
    d = tempfile.mkdtemp(prefix="iotblocks-jobcfg-")
    try:
        ca, cert, key = base.make_server_tls(d)
        config = jobs_test.gateway_config(d, cert, key)
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            rollout(gw, d, ca)
            retry(gw, d, ca)
            abort(gw)
            templates(gw)
            gw.stop()
            gw.start()
            iot, _ = jobs_test.clients(gw)
            out, code = call(iot, "describe_job_template", jobTemplateId="fw")
            check(out.get("abortConfig", {}).get("criteriaList", [{}])[0].get(
                "thresholdPercentage") == 20.5, "after a restart the template %s" % code)
        finally:
            if gw.proc:
                gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if base.failures:
        print("%d failure(s)" % len(base.failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
