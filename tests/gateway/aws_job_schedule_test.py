#!/usr/bin/python3
"""CreateJob's schedulingConfig through the gateway binary with the AWS CLI (Debian's awscli):

- create-job --scheduling-config startTime=…,endTime=…,endBehavior=CANCEL: the job is
  SCHEDULED (describe-job shows the configuration; list-jobs --status SCHEDULED lists it) and
  no thing has an execution;
- AWS's rules refused with InvalidRequestException: startTime under 30 minutes ahead or over a
  year, endTime under 30 minutes after startTime, a time not YYYY-MM-DDTHH:MM, an unknown
  endBehavior;
- startTime passing while the gateway is down (made by moving the stored startTime back with
  sqlite3 in jobs.db before the restart): the restarted gateway's tick starts the job, the
  things get QUEUED executions, one is started through iot-jobs-data;
- endTime passing the same way: the job is CANCELED, its QUEUED execution CANCELED and its
  IN_PROGRESS one left running (CANCEL, not FORCE_CANCEL).

  tests/gateway/aws_job_schedule_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
import aws_jobs_test as jobs_test  # noqa: E402  (clients, call, thing_arn, error_type)

from aws_cli_test import aws, check  # noqa: E402

call, thing_arn, error_type = jobs_test.call, jobs_test.thing_arn, jobs_test.error_type


def at(minutes):
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M")


def move_back(d, job, member):
    """While the gateway is down: the job's stored startTime or endTime is now in the past."""
    db = os.path.join(d, "data", "jobs.db")
    sql = ("UPDATE jobs SET config = json_set(config, '$.scheduling.%s', %d) WHERE id = '%s';"
           % (member, int(time.time()) - 1, job))
    r = subprocess.run(["sqlite3", db, sql], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "sqlite3 moved %s back %s" % (member, r.stderr))


def status_of(gw, job):
    rc, out, err = aws(gw, "iot", "describe-job", "--job-id", job)
    return (out or {}).get("job", {})


def executions(gw, job):
    iot, _ = jobs_test.clients(gw)
    out, code = call(iot, "list_job_executions_for_job", jobId=job)
    check(code is None, "list-job-executions-for-job %s" % code)
    return {x["thingArn"].rsplit("/", 1)[1]: x["jobExecutionSummary"]["status"]
            for x in out.get("executionSummaries", [])}


def wait_for(what, fn):
    """Polls until fn() is true (the gateway ticks once a second)."""
    deadline = time.time() + 10
    while time.time() < deadline and not fn():
        time.sleep(0.2)
    check(fn(), what)


def refusals(gw):
    cases = [
        ("startTime 10 minutes ahead", "startTime=%s" % at(10)),
        ("startTime over a year ahead", "startTime=%s" % at(366 * 24 * 60)),
        ("endTime 20 minutes after startTime",
         "startTime=%s,endTime=%s" % (at(40), at(60))),
        ("a time that is not YYYY-MM-DDTHH:MM", "startTime=tomorrow"),
        ("an unknown endBehavior", "endTime=%s,endBehavior=STOP" % at(60)),
    ]
    for i, (what, config) in enumerate(cases):
        rc, out, err = aws(gw, "iot", "create-job", "--job-id", "bad-%d" % i, "--targets",
                           thing_arn("lamp"), "--document", '{"op":"x"}',
                           "--scheduling-config", config)
        check(rc != 0 and error_type(err) == "InvalidRequestException",
              "%s -> InvalidRequestException %s" % (what, err.strip()))


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-schedule-")
    try:
        config = {
            "data_dir": os.path.join(d, "data"),
            "listeners": [{"type": "http", "port": 0}],
            "aws_access_keys": [{"access_key_id": base.KEY, "secret_access_key": base.SECRET}],
            "aws": {"region": base.REGION},
        }
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            for thing in ("lamp", "fan"):
                rc, _, err = aws(gw, "iot", "create-thing", "--thing-name", thing)
                check(rc == 0, "create-thing %s %s" % (thing, err.strip()))
            start, end = at(40), at(24 * 60)
            rc, out, err = aws(gw, "iot", "create-job", "--job-id", "s1", "--targets",
                               thing_arn("lamp"), thing_arn("fan"), "--document",
                               '{"op":"reboot"}', "--scheduling-config",
                               "startTime=%s,endTime=%s,endBehavior=CANCEL" % (start, end))
            check(rc == 0 and out["jobId"] == "s1", "create-job with a schedule %s %s"
                  % (out, err))
            job = status_of(gw, "s1")
            check(job.get("status") == "SCHEDULED"
                  and job.get("schedulingConfig") == {"startTime": start, "endTime": end,
                                                      "endBehavior": "CANCEL"},
                  "describe-job: SCHEDULED with its schedulingConfig %s" % job)
            rc, out, err = aws(gw, "iot", "list-jobs", "--status", "SCHEDULED")
            check(rc == 0 and [j["jobId"] for j in out["jobs"]] == ["s1"],
                  "list-jobs --status SCHEDULED %s %s" % (out, err))
            check(executions(gw, "s1") == {}, "no execution before startTime")
            refusals(gw)

            gw.stop()
            move_back(d, "s1", "startTime")
            gw.start()
            wait_for("startTime passed: QUEUED executions for both things",
                     lambda: executions(gw, "s1") == {"lamp": "QUEUED", "fan": "QUEUED"})
            check(status_of(gw, "s1").get("status") == "IN_PROGRESS", "the job IN_PROGRESS")
            _, data = jobs_test.clients(gw)
            out, code = call(data, "start_next_pending_job_execution", thingName="lamp")
            check(code is None and out.get("execution", {}).get("jobId") == "s1"
                  and json.loads(out["execution"]["jobDocument"]) == {"op": "reboot"},
                  "lamp starts its execution through iot-jobs-data %s %s" % (out, code))

            gw.stop()
            move_back(d, "s1", "endTime")
            gw.start()
            wait_for("endTime passed: the job CANCELED",
                     lambda: status_of(gw, "s1").get("status") == "CANCELED")
            job = status_of(gw, "s1")
            check(job.get("forceCanceled") is False, "not forced %s" % job)
            check(executions(gw, "s1") == {"lamp": "IN_PROGRESS", "fan": "CANCELED"},
                  "CANCEL: the QUEUED execution CANCELED, the IN_PROGRESS one running %s"
                  % executions(gw, "s1"))
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
