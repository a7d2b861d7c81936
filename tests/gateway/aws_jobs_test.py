#!/usr/bin/python3
"""AWS IoT Jobs through the gateway: `aws iot create-job` (Debian's AWS CLI, --endpoint-url)
reaches a device running the AWS IoT Device SDK v2's iotjobs.IotJobsClient unchanged over
mTLS, which takes the job through start-next to SUCCEEDED and sees VersionMismatch and
InvalidStateTransition refusals; the control plane (describe/list/cancel/delete jobs and
executions) and its error shapes; `aws iot-jobs-data`; the device's policy on jobs topics;
and the jobs after a restart.

  tests/gateway/aws_jobs_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402  (Gateway, aws(), check(), make_server_tls())

from aws_cli_test import aws, check  # noqa: E402

import botocore.session  # noqa: E402  (Debian's, from the awscli package, as the CLI uses)
from botocore.exceptions import ClientError  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.join(HERE, "..", "peers", "node_modules", "aws-iot-device-sdk-v2")


def onboard(iot, d, thing):
    """A thing with an ACTIVE certificate whose policy allows its own jobs topics only."""
    _, code = call(iot, "create_thing", thingName=thing)
    check(code is None, "create-thing %s %s" % (thing, code))
    out, code = call(iot, "create_keys_and_certificate", setAsActive=True)
    check(code is None, "create-keys-and-certificate %s" % code)
    cert, key = os.path.join(d, thing + ".pem"), os.path.join(d, thing + ".key")
    with open(cert, "w") as f:
        f.write(out["certificatePem"])
    with open(key, "w") as f:
        f.write(out["keyPair"]["PrivateKey"])
    arn = out["certificateArn"]
    prefix = "arn:aws:iot:*:*:"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": prefix + "topic/$aws/things/%s/jobs/*" % thing},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": prefix + "topicfilter/$aws/things/%s/jobs/*" % thing}]}
    for op, kw in (("create_policy", {"policyName": thing + "-jobs",
                                      "policyDocument": json.dumps(policy)}),
                   ("attach_policy", {"policyName": thing + "-jobs", "target": arn}),
                   ("attach_thing_principal", {"thingName": thing, "principal": arn})):
        _, code = call(iot, op, **kw)
        check(code is None, "%s %s" % (op, code))
    return cert, key


def clients(gw):
    """botocore clients for iot and iot-jobs-data on the gateway: the service models the CLI
    uses, in this process (a CLI run costs about a second of start-up)."""
    session = botocore.session.get_session()
    make = lambda name: session.create_client(  # noqa: E731
        name, region_name=base.REGION, endpoint_url=gw.url, aws_access_key_id=base.KEY,
        aws_secret_access_key=base.SECRET)
    return make("iot"), make("iot-jobs-data")


def call(client, op, **kw):
    """(response, error code or None)."""
    try:
        return getattr(client, op)(**kw), None
    except ClientError as e:
        return {}, e.response["Error"]["Code"]


def thing_arn(name):
    return "arn:aws:iot:%s:000000000000:thing/%s" % (base.REGION, name)


def error_type(err):
    """The AWS error code the CLI printed: "... (ResourceNotFoundException) when ..."."""
    start = err.find("(")
    return err[start + 1:err.find(")", start)] if start >= 0 else err


def device_run(gw, d, ca, cert, key, thing):
    """The SDK device: waits until it is subscribed, creates the job, returns its events."""
    proc = subprocess.Popen(["node", os.path.join(HERE, "aws_jobs_device.js"),
                             str(gw.ports["mqtts"]), ca, cert, key, thing],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(proc.stdout.readline() or '{"event":"none"}')
    check(first.get("event") == "ready", "the SDK device connected and subscribed %r" % first)
    rc, out, err = aws(gw, "iot", "create-job", "--job-id", "fw-1", "--targets",
                       thing_arn(thing), "--document", '{"op":"update","to":"2.0"}',
                       "--description", "firmware 2.0", "--timeout-config",
                       "inProgressTimeoutInMinutes=30")
    check(rc == 0 and out["jobId"] == "fw-1" and out["jobArn"].endswith(":job/fw-1")
          and out["description"] == "firmware 2.0", "create-job %s %s" % (out, err))
    try:
        stdout, stderr = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    events = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    check(proc.returncode == 0, "the SDK device finished: rc=%s %s %s" % (proc.returncode,
                                                                         events, stderr[-2000:]))
    return {e["event"]: e for e in events}


def scenario(gw, d, ca):
    iot, data = clients(gw)
    cert, key = onboard(iot, d, "lamp")
    ev = device_run(gw, d, ca, cert, key, "lamp")
    start = ev.get("start-next", {}).get("accepted", {})
    execution = start.get("execution", {})
    check(execution.get("jobId") == "fw-1" and execution.get("status") == "IN_PROGRESS"
          and execution.get("versionNumber") == 2 and start.get("clientToken") == "start-1"
          and execution.get("jobDocument") == {"op": "update", "to": "2.0"},
          "the SDK's start-next is accepted with the job document %r" % start)
    stale = ev.get("stale-update", {}).get("rejected", {})
    check(stale.get("code") == "VersionMismatch" and stale.get("clientToken") == "stale",
          "a stale expectedVersion is VersionMismatch through the SDK %r" % stale)
    done = ev.get("update", {}).get("accepted", {})
    check(done.get("executionState", {}).get("status") == "SUCCEEDED"
          and done.get("executionState", {}).get("versionNumber") == 3,
          "the SDK's update to SUCCEEDED is accepted %r" % done)
    back = ev.get("backwards-update", {}).get("rejected", {})
    check(back.get("code") == "InvalidStateTransition",
          "SUCCEEDED -> IN_PROGRESS is InvalidStateTransition through the SDK %r" % back)
    check(ev.get("notify-next", {}).get("execution") is None,
          "the last notify-next says nothing is pending")

    rc, out, err = aws(gw, "iot", "describe-job-execution", "--job-id", "fw-1", "--thing-name",
                       "lamp")
    e = (out or {}).get("execution", {})
    check(rc == 0 and e.get("status") == "SUCCEEDED" and e.get("versionNumber") == 3
          and e.get("statusDetails") == {"detailsMap": {"step": "done"}}
          and e.get("thingArn") == thing_arn("lamp") and e.get("executionNumber") == 1,
          "describe-job-execution shows SUCCEEDED %s %s" % (out, err))
    out, code = call(iot, "describe_job", jobId="fw-1")
    j = out.get("job", {})
    check(j.get("status") == "COMPLETED" and j.get("targets") == [thing_arn("lamp")]
          and j.get("jobProcessDetails", {}).get("numberOfSucceededThings") == 1
          and j.get("timeoutConfig") == {"inProgressTimeoutInMinutes": 30}
          and j.get("description") == "firmware 2.0",
          "describe-job: COMPLETED with its process details %s %s" % (out, code))
    out, code = call(iot, "get_job_document", jobId="fw-1")
    check(json.loads(out.get("document", "null")) == {"op": "update", "to": "2.0"},
          "get-job-document %s" % code)

    # Control plane on a second and third job.
    call(iot, "create_thing", thingName="fan")
    for job in ("fw-2", "fw-3"):
        out, code = call(iot, "create_job", jobId=job,
                         targets=[thing_arn("lamp"), thing_arn("fan")],
                         document='{"op":"%s"}' % job)
        check(code is None, "create-job %s %s" % (job, code))
    _, code = call(iot, "create_job", jobId="fw-2", targets=[thing_arn("fan")], document="{}")
    check(code == "ResourceAlreadyExistsException", "the same job id again: %s" % code)
    _, code = call(iot, "create_job", jobId="x", targets=[thing_arn("nobody")], document="{}")
    check(code == "ResourceNotFoundException", "a target thing that does not exist: %s" % code)
    for what, extra in (
            ("schedulingConfig", {"schedulingConfig": {"startTime": "2030-01-01T00:00"}}),
            ("documentSource", {"documentSource": "https://example.invalid/doc.json"})):
        kw = {"jobId": "x", "targets": [thing_arn("fan")]}
        if "documentSource" not in extra:
            kw["document"] = "{}"
        kw.update(extra)
        _, code = call(iot, "create_job", **kw)
        check(code == "InvalidRequestException", "%s is refused, not ignored: %s" % (what, code))
    _, code = call(iot, "create_job", jobId="x", targets=[thing_arn("fan")], document="[1]")
    check(code == "InvalidRequestException", "a document that is not an object: %s" % code)
    _, code = call(iot, "create_job", jobId="bad id", targets=[thing_arn("fan")], document="{}")
    check(code == "InvalidRequestException", "a job id with a space: %s" % code)
    out, code = call(iot, "list_jobs")
    check([j["jobId"] for j in out.get("jobs", [])] == ["fw-1", "fw-2", "fw-3"],
          "list-jobs %s %s" % (out, code))
    out, code = call(iot, "list_jobs", status="IN_PROGRESS")
    check([j["jobId"] for j in out.get("jobs", [])] == ["fw-2", "fw-3"],
          "list-jobs --status IN_PROGRESS %s" % code)
    out, code = call(iot, "list_jobs", maxResults=2)
    check(len(out.get("jobs", [])) == 2 and "nextToken" in out, "list-jobs paginates %s" % code)
    out, code = call(iot, "list_jobs", maxResults=2, nextToken=out.get("nextToken", ""))
    check([j["jobId"] for j in out.get("jobs", [])] == ["fw-3"] and "nextToken" not in out,
          "list-jobs second page %s" % code)
    out, code = call(iot, "list_job_executions_for_job", jobId="fw-2")
    check([(x["thingArn"], x["jobExecutionSummary"]["status"])
           for x in out.get("executionSummaries", [])]
          == [(thing_arn("fan"), "QUEUED"), (thing_arn("lamp"), "QUEUED")],
          "list-job-executions-for-job %s %s" % (out, code))
    out, code = call(iot, "list_job_executions_for_thing", thingName="lamp")
    check([(x["jobId"], x["jobExecutionSummary"]["status"])
           for x in out.get("executionSummaries", [])]
          == [("fw-1", "SUCCEEDED"), ("fw-2", "QUEUED"), ("fw-3", "QUEUED")],
          "list-job-executions-for-thing %s %s" % (out, code))
    out, code = call(iot, "list_job_executions_for_thing", thingName="lamp", status="QUEUED")
    check(len(out.get("executionSummaries", [])) == 2,
          "list-job-executions-for-thing --status %s" % code)

    # The jobs data plane over HTTP: the CLI once, then botocore.
    rc, out, err = aws(gw, "iot-jobs-data", "start-next-pending-job-execution", "--thing-name",
                       "fan", "--step-timeout-in-minutes", "10")
    check(rc == 0 and out["execution"]["jobId"] == "fw-2"
          and out["execution"]["status"] == "IN_PROGRESS"
          and json.loads(out["execution"]["jobDocument"]) == {"op": "fw-2"}
          and out["execution"]["approximateSecondsBeforeTimedOut"] == 600,
          "aws iot-jobs-data start-next-pending-job-execution %s %s" % (out, err))
    out, code = call(data, "get_pending_job_executions", thingName="fan")
    check([x["jobId"] for x in out.get("inProgressJobs", [])] == ["fw-2"]
          and [x["jobId"] for x in out.get("queuedJobs", [])] == ["fw-3"],
          "iot-jobs-data get-pending-job-executions %s %s" % (out, code))
    _, code = call(data, "update_job_execution", thingName="fan", jobId="fw-2",
                   status="FAILED", expectedVersion=1)
    check(code == "InvalidStateTransitionException",
          "iot-jobs-data update with a stale version: %s" % code)
    out, code = call(data, "update_job_execution", thingName="fan", jobId="fw-2",
                     status="FAILED", expectedVersion=2, includeJobExecutionState=True)
    check(out.get("executionState", {}).get("status") == "FAILED",
          "iot-jobs-data update-job-execution %s %s" % (out, code))
    _, code = call(data, "update_job_execution", thingName="fan", jobId="fw-2",
                   status="SUCCEEDED")
    check(code == "InvalidStateTransitionException",
          "iot-jobs-data FAILED -> SUCCEEDED: %s" % code)
    out, code = call(data, "describe_job_execution", thingName="fan", jobId="fw-2")
    check(out.get("execution", {}).get("status") == "FAILED",
          "iot-jobs-data describe-job-execution %s %s" % (out, code))
    _, code = call(data, "describe_job_execution", thingName="fan", jobId="nope")
    check(code == "ResourceNotFoundException",
          "iot-jobs-data describe-job-execution of nothing: %s" % code)

    # Cancel and delete.
    _, code = call(iot, "cancel_job_execution", jobId="fw-3", thingName="fan",
                   expectedVersion=7)
    check(code == "VersionConflictException", "cancel-job-execution, wrong version: %s" % code)
    _, code = call(iot, "cancel_job_execution", jobId="fw-3", thingName="fan",
                   expectedVersion=1, statusDetails={"reason": "operator"})
    check(code is None, "cancel-job-execution %s" % code)
    out, code = call(iot, "describe_job_execution", jobId="fw-3", thingName="fan")
    check(out.get("execution", {}).get("status") == "CANCELED"
          and out["execution"]["statusDetails"]["detailsMap"] == {"reason": "operator"},
          "the canceled execution %s %s" % (out, code))
    _, code = call(iot, "delete_job", jobId="fw-3")
    check(code == "InvalidStateTransitionException",
          "delete-job of an IN_PROGRESS job needs --force: %s" % code)
    _, code = call(iot, "delete_job_execution", jobId="fw-3", thingName="lamp",
                   executionNumber=1)
    check(code == "InvalidStateTransitionException",
          "delete-job-execution of a QUEUED execution needs --force: %s" % code)
    _, code = call(iot, "delete_job_execution", jobId="fw-3", thingName="fan",
                   executionNumber=2)
    check(code == "ResourceNotFoundException", "delete-job-execution, another number: %s" % code)
    _, code = call(iot, "delete_job_execution", jobId="fw-3", thingName="fan",
                   executionNumber=1)
    check(code is None, "delete-job-execution of a CANCELED execution %s" % code)
    out, code = call(iot, "cancel_job", jobId="fw-3")
    check(out.get("jobId") == "fw-3", "cancel-job %s" % code)
    _, code = call(iot, "cancel_job", jobId="fw-3")
    check(code == "InvalidRequestException", "cancel-job again without force: %s" % code)
    _, code = call(iot, "delete_job", jobId="fw-3")
    check(code is None, "delete-job of a CANCELED job %s" % code)
    _, code = call(iot, "describe_job", jobId="fw-3")
    check(code == "ResourceNotFoundException", "the deleted job is gone: %s" % code)
    _, code = call(iot, "delete_job", jobId="fw-2", force=True)
    check(code is None, "delete-job --force %s" % code)

    groups(iot)

    # The device's policy covers its own jobs topics only: a start-next for another thing
    # is not routed (the execution stays QUEUED).
    call(iot, "create_job", jobId="fw-4", targets=[thing_arn("fan")], document="{}")
    pub = base.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]), "--cafile",
                    ca, "--cert", cert, "--key", key, "-i", "lamp", "-q", "1", "-t",
                    "$aws/things/fan/jobs/start-next", "-m", "{}"])
    out, code = call(iot, "describe_job_execution", jobId="fw-4", thingName="fan")
    check(out.get("execution", {}).get("status") == "QUEUED",
          "lamp's certificate cannot start fan's job (mosquitto_pub rc %s) %s"
          % (pub.returncode, out))


def groups(iot):
    """Thing groups: hierarchy, membership, and jobs that target groups (snapshot and
    continuous: a thing added later gets an execution)."""
    out, code = call(iot, "create_thing_group", thingGroupName="building",
                     thingGroupProperties={"thingGroupDescription": "HQ",
                                           "attributePayload": {"attributes": {"city": "Lyon"}}})
    check(code is None and out["thingGroupArn"].endswith(":thinggroup/building"),
          "create-thing-group %s %s" % (out, code))
    _, code = call(iot, "create_thing_group", thingGroupName="floor-1",
                   parentGroupName="building")
    check(code is None, "create-thing-group with a parent %s" % code)
    _, code = call(iot, "create_thing_group", thingGroupName="x", parentGroupName="nope")
    check(code == "ResourceNotFoundException", "a missing parent group: %s" % code)
    out, code = call(iot, "describe_thing_group", thingGroupName="floor-1")
    meta = out.get("thingGroupMetadata", {})
    check(meta.get("parentGroupName") == "building"
          and [g["groupName"] for g in meta.get("rootToParentThingGroups", [])] == ["building"]
          and out.get("version") == 1, "describe-thing-group %s %s" % (out, code))
    out, code = call(iot, "describe_thing_group", thingGroupName="building")
    check(out.get("thingGroupProperties") == {
        "thingGroupDescription": "HQ", "attributePayload": {"attributes": {"city": "Lyon"}}},
        "describe-thing-group properties %s %s" % (out, code))
    _, code = call(iot, "add_thing_to_thing_group", thingGroupName="floor-1", thingName="fan")
    check(code is None, "add-thing-to-thing-group %s" % code)
    _, code = call(iot, "add_thing_to_thing_group", thingGroupName="building", thingName="fan")
    check(code == "InvalidRequestException", "one group per hierarchy: %s" % code)
    _, code = call(iot, "add_thing_to_thing_group", thingGroupName="floor-1", thingName="nobody")
    check(code == "ResourceNotFoundException", "adding a thing that does not exist: %s" % code)
    out, code = call(iot, "list_things_in_thing_group", thingGroupName="building")
    check(out.get("things") == [], "list-things-in-thing-group (direct) %s %s" % (out, code))
    out, code = call(iot, "list_things_in_thing_group", thingGroupName="building", recursive=True)
    check(out.get("things") == ["fan"], "list-things-in-thing-group --recursive %s" % out)
    out, code = call(iot, "list_thing_groups_for_thing", thingName="fan")
    check([g["groupName"] for g in out.get("thingGroups", [])] == ["floor-1"],
          "list-thing-groups-for-thing %s %s" % (out, code))
    out, code = call(iot, "list_thing_groups")
    check([g["groupName"] for g in out.get("thingGroups", [])] == ["building", "floor-1"],
          "list-thing-groups %s %s" % (out, code))
    out, code = call(iot, "list_thing_groups", parentGroup="building", recursive=False)
    check([g["groupName"] for g in out.get("thingGroups", [])] == ["floor-1"],
          "list-thing-groups --parent-group %s %s" % (out, code))

    building = "arn:aws:iot:%s:000000000000:thinggroup/building" % base.REGION
    out, code = call(iot, "create_job", jobId="grp-snap", targets=[building], document="{}")
    check(code is None, "create-job targeting a group %s" % code)
    out, code = call(iot, "list_job_executions_for_job", jobId="grp-snap")
    check([x["thingArn"] for x in out.get("executionSummaries", [])] == [thing_arn("fan")],
          "a group's job reaches the things of its child groups %s" % out)
    out, code = call(iot, "create_job", jobId="grp-cont", targets=[building], document="{}",
                     targetSelection="CONTINUOUS")
    check(code is None, "create-job CONTINUOUS %s" % code)
    call(iot, "create_thing", thingName="heater")
    _, code = call(iot, "add_thing_to_thing_group", thingGroupName="floor-1",
                   thingName="heater")
    out, code = call(iot, "describe_job_execution", jobId="grp-cont", thingName="heater")
    check(out.get("execution", {}).get("status") == "QUEUED",
          "a thing added to the group later gets the continuous job %s %s" % (out, code))
    _, code = call(iot, "describe_job_execution", jobId="grp-snap", thingName="heater")
    check(code == "ResourceNotFoundException", "but not the snapshot job: %s" % code)
    out, code = call(iot, "describe_job", jobId="grp-cont")
    check(out.get("job", {}).get("targetSelection") == "CONTINUOUS"
          and out["job"]["targets"] == [building], "describe-job of a continuous job %s" % out)
    out, code = call(iot, "list_jobs", thingGroupName="building")
    check([j["jobId"] for j in out.get("jobs", [])] == ["grp-cont", "grp-snap"],
          "list-jobs --thing-group-name %s %s" % (out, code))
    _, code = call(iot, "remove_thing_from_thing_group", thingGroupName="floor-1",
                   thingName="heater")
    out, _ = call(iot, "list_things_in_thing_group", thingGroupName="floor-1")
    check(code is None and out.get("things") == ["fan"], "remove-thing-from-thing-group %s"
          % out)
    _, code = call(iot, "delete_thing_group", thingGroupName="building")
    check(code == "InvalidRequestException", "a group with child groups stays: %s" % code)
    call(iot, "add_thing_to_thing_group", thingGroupName="floor-1", thingName="heater")
    _, code = call(iot, "delete_thing", thingName="heater")
    out, _ = call(iot, "describe_job_execution", jobId="grp-cont", thingName="heater")
    groups_left, _ = call(iot, "list_thing_groups_for_thing", thingName="heater")
    check(code is None and out.get("execution", {}).get("status") == "REMOVED"
          and groups_left.get("thingGroups") == [],
          "a deleted thing's execution is REMOVED and it leaves its groups %s %s"
          % (out, groups_left))


def gateway_config(d, cert, key):
    """An mTLS MQTT listener requiring client certificates, HTTP, one access key and
    authorization: the gateway of the jobs, job-configuration and group-policy tests."""
    return {
        "data_dir": os.path.join(d, "data"),
        "authorize": True,
        "listeners": [
            {"type": "mqtts", "port": 0, "tls": {"cert_file": cert, "key_file": key,
                                                  "require_client_cert": True}},
            {"type": "http", "port": 0},
        ],
        "aws_access_keys": [{"access_key_id": base.KEY, "secret_access_key": base.SECRET}],
        # ARNs name the configured region (the CLI signs for base.REGION).
        "aws": {"region": base.REGION},
    }


def main():
    binary = sys.argv[1]
    if not os.path.isdir(SDK):
        print("tests/peers has no node_modules: run `npm ci` there (scripts/setup.sh)")
        sys.exit(1)
    d = tempfile.mkdtemp(prefix="iotblocks-jobs-")
    try:
        ca, cert, key = base.make_server_tls(d)
        config = gateway_config(d, cert, key)
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            scenario(gw, d, ca)
            gw.stop()
            gw.start()
            iot, _ = clients(gw)
            out, code = call(iot, "describe_job_execution", jobId="fw-1", thingName="lamp")
            check(out.get("execution", {}).get("status") == "SUCCEEDED"
                  and out["execution"]["versionNumber"] == 3,
                  "after a restart the execution is still SUCCEEDED %s" % code)
            out, code = call(iot, "list_jobs")
            check([j["jobId"] for j in out.get("jobs", [])]
                  == ["fw-1", "fw-4", "grp-cont", "grp-snap"],
                  "after a restart list-jobs %s %s" % (out, code))
            out, code = call(iot, "list_things_in_thing_group", thingGroupName="building",
                             recursive=True)
            check(out.get("things") == ["fan"], "after a restart the groups %s" % out)
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
