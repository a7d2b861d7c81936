#!/usr/bin/python3
"""schedulingConfig.maintenanceWindows through the gateway binary over HTTP. Debian's AWS CLI
and botocore model do not know the member, so the requests are raw JSON signed with
botocore's SigV4Auth (aws_cli_test.signed):

- create-job with a window open now: both things get QUEUED executions at once;
- create-job with a window that opens in ten hours: IN_PROGRESS, no execution; describe-job
  returns the windows in schedulingConfig and scheduledJobRollouts (the next seven starts);
- the window made open while the gateway is down (its stored cron moved with sqlite3 in
  jobs.db): the restarted gateway's tick releases both things;
- a bad cron expression and a duration out of 1..1430 refused with InvalidRequestException
  naming the window, the field and the character;
- create-job-template with maintenanceWindows, shown by describe-job-template.

  tests/gateway/aws_job_windows_test.py build/<dir>/apps/iotblocks/iotblocks
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
import aws_jobs_test as jobs_test  # noqa: E402  (clients, call, thing_arn)

from aws_cli_test import aws, check, signed  # noqa: E402


def utc(hours=0, minutes=0):
    return (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(hours=hours, minutes=minutes))


def daily_at(t):
    """A cron expression naming t's minute every day."""
    return "cron(%d %d * * ? *)" % (t.minute, t.hour)


def create_job(gw, job, windows):
    body = {"targets": [jobs_test.thing_arn("lamp"), jobs_test.thing_arn("fan")],
            "document": '{"op":"update"}',
            "schedulingConfig": {"maintenanceWindows": windows}}
    return signed(gw, "PUT", "/jobs/" + job, json.dumps(body).encode())


def executions(gw, job):
    iot, _ = jobs_test.clients(gw)
    out, code = jobs_test.call(iot, "list_job_executions_for_job", jobId=job)
    check(code is None, "list-job-executions-for-job %s" % code)
    return {x["thingArn"].rsplit("/", 1)[1]: x["jobExecutionSummary"]["status"]
            for x in out.get("executionSummaries", [])}


def describe(gw, job):
    code, _, doc = signed(gw, "GET", "/jobs/" + job)
    check(code == 200, "describe-job %s: %d" % (job, code))
    return doc.get("job", {})


def wait_for(what, fn):
    deadline = time.time() + 10
    while time.time() < deadline and not fn():
        time.sleep(0.2)
    check(fn(), what)


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-windows-")
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

            # A window that opened a minute ago and lasts an hour: released at creation.
            opened = utc(minutes=-1)
            code, _, out = create_job(gw, "open", [{"startTime": daily_at(opened),
                                                    "durationInMinutes": 60}])
            check(code == 200 and out.get("jobId") == "open", "create-job open %d %s"
                  % (code, out))
            check(executions(gw, "open") == {"lamp": "QUEUED", "fan": "QUEUED"},
                  "inside a window: QUEUED executions at once %s" % executions(gw, "open"))

            # A window ten hours ahead: nothing released; describe-job shows it.
            ahead = utc(hours=10)
            windows = [{"startTime": daily_at(ahead), "durationInMinutes": 30}]
            code, _, out = create_job(gw, "later", windows)
            check(code == 200, "create-job later %d %s" % (code, out))
            job = describe(gw, "later")
            check(job.get("status") == "IN_PROGRESS"
                  and job.get("schedulingConfig") == {"maintenanceWindows": windows},
                  "describe-job: IN_PROGRESS with its maintenanceWindows %s" % job)
            first = ahead.replace(second=0, microsecond=0)
            starts = [(first + datetime.timedelta(days=i)).strftime("%Y-%m-%dT%H:%M")
                      for i in range(7)]
            check(job.get("scheduledJobRollouts") == [{"startTime": s} for s in starts],
                  "scheduledJobRollouts: the next seven window starts %s"
                  % job.get("scheduledJobRollouts"))
            check(executions(gw, "later") == {}, "outside a window: no execution")

            # Refusals name the window, the field and the character.
            for what, w, says in [
                    ("W in a list", {"startTime": "cron(0 0 15W,L * ? *)",
                                     "durationInMinutes": 5},
                     "maintenanceWindows[0].startTime: cron: Day-of-month: W takes one day, "
                     "not a list (character 12)"),
                    ("both day fields", {"startTime": "cron(0 0 * * MON *)",
                                         "durationInMinutes": 5},
                     "exactly one of Day-of-month and Day-of-week must be ? (character 10)"),
                    ("duration 1431", {"startTime": "cron(0 0 * * ? *)",
                                       "durationInMinutes": 1431},
                     "maintenanceWindows[0].durationInMinutes: required, an integer 1-1430")]:
                code, headers, out = create_job(gw, "bad", [w])
                kind = (headers.get("x-amzn-ErrorType") or "").split(":")[0]
                check(code == 400 and kind == "InvalidRequestException"
                      and says in out.get("message", ""),
                      "%s -> InvalidRequestException %d %s %s" % (what, code, kind, out))

            # Templates take the member too.
            body = {"description": "nightly", "document": '{"op":"x"}',
                    "maintenanceWindows": windows}
            code, _, out = signed(gw, "PUT", "/job-templates/nightly", json.dumps(body).encode())
            check(code == 200, "create-job-template with maintenanceWindows %d %s" % (code, out))
            code, _, out = signed(gw, "GET", "/job-templates/nightly")
            check(code == 200 and out.get("maintenanceWindows") == windows,
                  "describe-job-template: its maintenanceWindows %s" % out)

            # The window opens while the gateway is down: released at the first tick after.
            gw.stop()
            db = os.path.join(d, "data", "jobs.db")
            sql = ("UPDATE jobs SET config = json_set(config, "
                   "'$.scheduling.maintenanceWindows[0].startTime', '%s') WHERE id = 'later';"
                   % daily_at(utc(minutes=-1)))
            r = subprocess.run(["sqlite3", db, sql], capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, "sqlite3 opened the window %s" % r.stderr)
            gw.start()
            wait_for("the window open after the restart: QUEUED executions",
                     lambda: executions(gw, "later") == {"lamp": "QUEUED", "fan": "QUEUED"})
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
