#!/usr/bin/python3
"""Registry events as AWS IoT publishes them: `aws iot update-event-configurations` (Debian's
AWS CLI) enables event types, then changes made with the CLI, botocore and the admin API
publish `$aws/events/thing/…`, `thingGroup/…`, `thingGroupMembership/…`,
`thingGroupHierarchy/…`, `thingType/…` and `thingTypeAssociation/…` with AWS's payloads,
seen by mosquitto_sub over mTLS with a certificate whose policy allows iot:Subscribe and
iot:Receive on them; each enabled event arrives once, disabled types publish nothing, a
subscriber allowed to receive thing events only gets those only, and the configuration
survives a restart. Jobs events: JOB and JOB_EXECUTION from the CLI, botocore's iot-jobs-data,
the console's route, a thing's deletion and a device over MQTT, each once when enabled and none for a refused change;
POLICY, CERTIFICATE and CA_CERTIFICATE are stored but publish nothing (AWS documents no topic).

  tests/gateway/aws_events_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
import aws_jobs_test as jobs_test  # noqa: E402  (clients, call, gateway_config)
import aws_group_policies_test as group_test  # noqa: E402  (device)

from aws_cli_test import check  # noqa: E402

call = jobs_test.call
PREFIX = "arn:aws:iot:%s:000000000000:" % base.REGION
TOKEN = "events-admin-token"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ALL_TYPES = ["THING", "THING_GROUP", "THING_TYPE", "THING_GROUP_MEMBERSHIP",
             "THING_GROUP_HIERARCHY", "THING_TYPE_ASSOCIATION", "JOB", "JOB_EXECUTION", "POLICY",
             "CERTIFICATE", "CA_CERTIFICATE"]


def events_policy(receive):
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": PREFIX + "client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": PREFIX + "topicfilter/$aws/events/*"},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": PREFIX + "topic/" + receive}]}


class Subscriber:
    """mosquitto_sub on `$aws/events/#` over mTLS; lines "topic<TAB>payload" in a queue."""

    def __init__(self, gw, ca, cert, key, client_id):
        self.proc = subprocess.Popen(
            ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]),
             "--cafile", ca, "--cert", cert, "--key", key, "-i", client_id, "-V", "mqttv5",
             "-q", "1", "-t", "$aws/events/#", "-F", "%t\t%p", "-d"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.subscribed = threading.Event()
        self.granted = False
        threading.Thread(target=self._read, daemon=True).start()
        check(self.subscribed.wait(10) and self.granted,
              "%s subscribed to $aws/events/# (SUBACK granted QoS 1)" % client_id)

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.startswith("Subscribed"):  # "Subscribed (mid: 1): 1" after the SUBACK
                self.granted = line.endswith(": 1")
                self.subscribed.set()
            elif line.startswith("$aws/events/") and not line.startswith("$aws/events/presence/"):
                # (lifecycle events are published whatever the configuration: not ours here)
                topic, _, payload = line.partition("\t")
                self.lines.put((topic, payload))

    def until(self, topic, timeout=10):
        """The events received up to and including the first on `topic`."""
        out, deadline = [], time.time() + timeout
        while time.time() < deadline:
            try:
                t, p = self.lines.get(timeout=max(0.0, deadline - time.time()))
            except queue.Empty:
                break
            out.append((t, json.loads(p)))
            if t == topic:
                return out
        out.append(("<timed out waiting for %s>" % topic, {}))
        return out

    def stop(self):
        base.stop_process(self.proc)


def admin_certificate(gw, thing):
    req = urllib.request.Request(gw.url + "/admin/things/%s/certificate" % thing, method="POST",
                                 data=b"{}", headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def common(p, event_type, operation):
    return (p.get("eventType") == event_type and p.get("operation") == operation
            and UUID.match(p.get("eventId", "")) is not None
            and isinstance(p.get("timestamp"), int) and p["timestamp"] > 1_600_000_000_000)


def admin(gw, method, path, body):
    req = urllib.request.Request(gw.url + path, method=method, data=json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + TOKEN})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def jobs_events(gw, d, ca, iot, data, monitor):
    """JOB and JOB_EXECUTION events: none while disabled, each once when enabled, none for a
    refused change; POLICY, CERTIFICATE and CA_CERTIFICATE are stored but publish nothing."""
    arn = jobs_test.thing_arn
    for t in ("dev-1", "dev-2"):  # THING is disabled by now: no event
        _, code = call(iot, "create_thing", thingName=t)
        check(code is None, "create-thing %s %s" % (t, code))
    _, code = call(iot, "create_job", jobId="quiet-job", targets=[arn("dev-1")], document="{}")
    check(code is None, "create-job quiet-job %s" % code)
    _, code = call(data, "update_job_execution", thingName="dev-1", jobId="quiet-job",
                   status="SUCCEEDED")
    check(code is None, "quiet-job SUCCEEDED while JOB and JOB_EXECUTION are disabled %s" % code)

    enable = {t: {"Enabled": True}
              for t in ("JOB", "JOB_EXECUTION", "POLICY", "CERTIFICATE", "CA_CERTIFICATE")}
    rc, _, err = base.aws(gw, "iot", "update-event-configurations", "--event-configurations",
                          json.dumps(enable))
    check(rc == 0, "enable JOB, JOB_EXECUTION, POLICY, CERTIFICATE, CA_CERTIFICATE " + err)
    _, code = call(iot, "create_policy", policyName="quiet-policy",
                   policyDocument=json.dumps(events_policy("quiet")))
    check(code is None, "create-policy while POLICY is enabled %s" % code)
    _, code = call(iot, "create_keys_and_certificate", setAsActive=True)
    check(code is None, "create-keys-and-certificate while CERTIFICATE is enabled %s" % code)

    rc, _, err = base.aws(gw, "iot", "create-job", "--job-id", "fw-1", "--targets", arn("dev-1"),
                          arn("dev-2"), "--document", '{"to":"2.0"}', "--description", "fw 2.0")
    check(rc == 0, "create-job fw-1 " + err)
    _, code = call(data, "update_job_execution", thingName="dev-2", jobId="fw-1",
                   status="FAILED", expectedVersion=9)
    check(code == "InvalidStateTransitionException",  # iot-jobs-data: a stale version
          "a stale expectedVersion is refused %s" % code)
    _, code = call(data, "update_job_execution", thingName="dev-1", jobId="fw-1",
                   status="SUCCEEDED", statusDetails={"version": "2.0"})
    check(code is None, "dev-1 SUCCEEDED %s" % code)
    _, code = call(data, "update_job_execution", thingName="dev-2", jobId="fw-1",
                   status="FAILED")
    check(code is None, "dev-2 FAILED %s" % code)
    _, code = call(iot, "cancel_job", jobId="fw-1")
    check(code is not None, "cancel-job of a COMPLETED job is refused %s" % code)
    _, code = call(iot, "create_job", jobId="fw-2", targets=[arn("dev-1")], document="{}")
    check(code is None, "create-job fw-2 %s" % code)
    check(admin(gw, "PUT", "/admin/iot/jobs/fw-2/cancel", {"comment": "not needed"}) == 200,
          "the console's cancel-job fw-2")
    _, code = call(iot, "delete_job_execution", jobId="fw-1", thingName="dev-1",
                   executionNumber=1)
    check(code is None, "delete-job-execution fw-1 dev-1 %s" % code)
    _, code = call(iot, "delete_job", jobId="fw-2")
    check(code is None, "delete-job fw-2 %s" % code)
    _, code = call(iot, "create_job", jobId="fw-3", targets=[arn("dev-2")], document="{}")
    check(code is None, "create-job fw-3 %s" % code)
    _, code = call(iot, "delete_thing", thingName="dev-2")
    check(code is None, "delete-thing dev-2 (its fw-3 execution REMOVED) %s" % code)
    # A device over MQTT (mosquitto_pub over mTLS): the broker's jobs topics.
    cert, key = group_test.device(iot, d, "dev-3")
    principals, _ = call(iot, "list_thing_principals", thingName="dev-3")
    call(iot, "create_policy", policyName="dev-3-jobs", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": PREFIX + "client/dev-3"},
            {"Effect": "Allow", "Action": "iot:Publish",
             "Resource": PREFIX + "topic/$aws/things/dev-3/jobs/*"}]}))
    _, code = call(iot, "attach_policy", policyName="dev-3-jobs",
                   target=principals["principals"][0])
    check(code is None, "attach-policy dev-3-jobs %s" % code)
    _, code = call(iot, "create_job", jobId="fw-4", targets=[arn("dev-3")], document="{}")
    check(code is None, "create-job fw-4 %s" % code)
    r = base.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]), "--cafile",
                  ca, "--cert", cert, "--key", key, "-i", "dev-3", "-V", "mqttv5", "-q", "1",
                  "-t", "$aws/things/dev-3/jobs/fw-4/update", "-m",
                  '{"status":"REJECTED","statusDetails":{"why":"battery"}}'])
    check(r.returncode == 0, "the device's REJECTED over MQTT " + r.stderr)

    seen = monitor.until("$aws/events/jobExecution/fw-4/rejected")
    expected = [
        "$aws/events/jobExecution/fw-1/succeeded",
        "$aws/events/job/fw-1/completed",  # in the batch of dev-2's FAILED: the job first
        "$aws/events/jobExecution/fw-1/failed",
        "$aws/events/job/fw-2/canceled",
        "$aws/events/jobExecution/fw-2/canceled",
        "$aws/events/jobExecution/fw-1/deleted",
        "$aws/events/job/fw-2/deleted",
        "$aws/events/job/fw-3/completed",
        "$aws/events/jobExecution/fw-3/removed",
        "$aws/events/job/fw-4/completed",
        "$aws/events/jobExecution/fw-4/rejected",
    ]
    topics = [t for t, _ in seen]
    check(topics == expected, "each jobs event once, none while disabled or for a refused change, "
          "none for POLICY or CERTIFICATE:\n  got      %s\n  expected %s" % (topics, expected))
    by = dict(reversed(seen))  # the first payload of each topic

    def common_jobs(p, event_type, operation):
        return (p.get("eventType") == event_type and p.get("operation") == operation
                and UUID.match(p.get("eventId", "")) is not None
                and isinstance(p.get("timestamp"), int)
                and 1_600_000_000 < p["timestamp"] < 10_000_000_000)  # seconds, as AWS shows

    described, _ = call(iot, "describe_job", jobId="fw-1")
    p = by.get("$aws/events/job/fw-1/completed", {})
    created_ms = int(described.get("job", {}).get("createdAt", 0).timestamp() * 1000)
    check(common_jobs(p, "JOB", "completed") and p.get("jobId") == "fw-1"
          and p.get("status") == "COMPLETED" and p.get("targetSelection") == "SNAPSHOT"
          and p.get("targets") == [arn("dev-1"), arn("dev-2")]
          and p.get("description") == "fw 2.0" and p.get("createdAt") == created_ms
          and isinstance(p.get("completedAt"), int) and p["completedAt"] >= created_ms
          and p.get("lastUpdatedAt") == p["completedAt"]
          and p.get("jobProcessDetails") == {
              "numberOfCanceledThings": 0, "numberOfRejectedThings": 0,
              "numberOfFailedThings": 1, "numberOfRemovedThings": 0,
              "numberOfSucceededThings": 1}, "JOB completed payload %s" % p)
    p = by.get("$aws/events/jobExecution/fw-1/succeeded", {})
    check(common_jobs(p, "JOB_EXECUTION", "succeeded") and p.get("jobId") == "fw-1"
          and p.get("thingArn") == arn("dev-1") and p.get("status") == "SUCCEEDED"
          and p.get("statusDetails") == {"version": "2.0"},
          "JOB_EXECUTION succeeded payload %s" % p)
    p = by.get("$aws/events/jobExecution/fw-1/failed", {})
    check(common_jobs(p, "JOB_EXECUTION", "failed") and p.get("thingArn") == arn("dev-2")
          and p.get("status") == "FAILED" and p.get("statusDetails") == {},
          "JOB_EXECUTION failed payload %s" % p)
    p = by.get("$aws/events/job/fw-2/canceled", {})
    check(common_jobs(p, "JOB", "canceled") and p.get("status") == "CANCELED"
          and "jobProcessDetails" not in p, "JOB canceled payload %s" % p)
    p = by.get("$aws/events/jobExecution/fw-2/canceled", {})
    check(common_jobs(p, "JOB_EXECUTION", "canceled") and p.get("status") == "CANCELED",
          "JOB_EXECUTION canceled payload %s" % p)
    p = by.get("$aws/events/job/fw-2/deleted", {})
    check(common_jobs(p, "JOB", "deleted") and p.get("status") == "DELETED"
          and p.get("comment") == "not needed", "JOB deleted payload %s" % p)
    p = by.get("$aws/events/jobExecution/fw-1/deleted", {})
    check(common_jobs(p, "JOB_EXECUTION", "deleted") and p.get("status") == "SUCCEEDED"
          and p.get("thingArn") == arn("dev-1"), "JOB_EXECUTION deleted payload %s" % p)
    p = by.get("$aws/events/jobExecution/fw-3/removed", {})
    check(common_jobs(p, "JOB_EXECUTION", "removed") and p.get("status") == "REMOVED"
          and p.get("thingArn") == arn("dev-2"), "JOB_EXECUTION removed payload %s" % p)
    p = by.get("$aws/events/jobExecution/fw-4/rejected", {})
    check(common_jobs(p, "JOB_EXECUTION", "rejected") and p.get("status") == "REJECTED"
          and p.get("statusDetails") == {"why": "battery"}, "JOB_EXECUTION rejected payload %s" % p)
    p = by.get("$aws/events/job/fw-4/completed", {})
    check(p.get("jobProcessDetails", {}).get("numberOfRejectedThings") == 1,
          "JOB completed after a rejection %s" % p)


def scenario(gw, d, ca):
    iot, data = jobs_test.clients(gw)
    rc, out, err = base.aws(gw, "iot", "describe-event-configurations")
    configs = (out or {}).get("eventConfigurations", {})
    check(rc == 0 and sorted(configs) == sorted(ALL_TYPES)
          and all(v == {"Enabled": False} for v in configs.values())
          and str(out.get("creationDate", "")).startswith("20"),  # the CLI prints ISO 8601
          "describe-event-configurations: every type disabled at first %s %s" % (out, err))

    for name, receive in (("monitor", "$aws/events/*"), ("narrow", "$aws/events/thing/*")):
        call(iot, "create_policy", policyName=name + "-events",
             policyDocument=json.dumps(events_policy(receive)))
        cert, key = group_test.device(iot, d, name)
        principals, _ = call(iot, "list_thing_principals", thingName=name)
        _, code = call(iot, "attach_policy", policyName=name + "-events",
                       target=principals["principals"][0])
        check(code is None, "attach-policy %s-events %s" % (name, code))
        setattr(gw, name + "_tls", (cert, key))
    monitor = Subscriber(gw, ca, *gw.monitor_tls, "monitor")
    narrow = Subscriber(gw, ca, *gw.narrow_tls, "narrow")
    try:
        # Disabled: a thing created before any type is enabled publishes nothing.
        _, code = call(iot, "create_thing", thingName="quiet")
        check(code is None, "create-thing while THING is disabled %s" % code)
        enable = {t: {"Enabled": True} for t in ALL_TYPES[:6] if t != "THING_TYPE"}
        rc, out, err = base.aws(gw, "iot", "update-event-configurations",
                                "--event-configurations", json.dumps(enable))
        check(rc == 0, "update-event-configurations " + err)
        out, _ = call(iot, "describe_event_configurations")
        got = {k: v["Enabled"] for k, v in out.get("eventConfigurations", {}).items()}
        check(got == {t: t in enable for t in ALL_TYPES},
              "describe-event-configurations shows what was enabled %s" % got)

        # THING_TYPE stays disabled: creating a type publishes nothing.
        _, code = call(iot, "create_thing_type", thingTypeName="Lamp",
                       thingTypeProperties={"searchableAttributes": ["watts"]})
        check(code is None, "create-thing-type %s" % code)
        rc, _, err = base.aws(gw, "iot", "create-thing", "--thing-name", "lamp-1",
                              "--thing-type-name", "Lamp", "--attribute-payload",
                              '{"attributes":{"watts":"60"}}')
        check(rc == 0, "create-thing lamp-1 " + err)
        rc, _, err = base.aws(gw, "iot", "update-thing", "--thing-name", "lamp-1",
                              "--attribute-payload", '{"attributes":{"watts":"40"}}')
        check(rc == 0, "update-thing lamp-1 " + err)
        _, code = call(iot, "create_thing_group", thingGroupName="fleet")
        check(code is None, "create-thing-group fleet %s" % code)
        _, code = call(iot, "create_thing_group", thingGroupName="line-1",
                       parentGroupName="fleet",
                       thingGroupProperties={"thingGroupDescription": "first line",
                                             "attributePayload": {"attributes": {"k": "v"}}})
        check(code is None, "create-thing-group line-1 under fleet %s" % code)
        rc, _, err = base.aws(gw, "iot", "add-thing-to-thing-group", "--thing-group-name",
                              "line-1", "--thing-name", "lamp-1")
        check(rc == 0, "add-thing-to-thing-group " + err)
        _, code = call(iot, "remove_thing_from_thing_group", thingGroupName="line-1",
                       thingName="lamp-1")
        check(code is None, "remove-thing-from-thing-group %s" % code)
        _, code = call(iot, "delete_thing_group", thingGroupName="line-1")
        check(code is None, "delete-thing-group line-1 %s" % code)
        _, code = call(iot, "delete_thing", thingName="lamp-1")
        check(code is None, "delete-thing lamp-1 %s" % code)
        check(admin_certificate(gw, "from-admin") == 200, "admin API: a thing and certificate")
        _, code = call(iot, "create_thing", thingName="end-marker")

        seen = monitor.until("$aws/events/thing/end-marker/created")
        topics = [t for t, _ in seen]
        expected = [
            "$aws/events/thing/lamp-1/created",
            "$aws/events/thingTypeAssociation/thing/lamp-1/Lamp",
            "$aws/events/thing/lamp-1/updated",
            "$aws/events/thingGroup/fleet/created",
            "$aws/events/thingGroup/line-1/created",
            "$aws/events/thingGroupHierarchy/thingGroup/fleet/childThingGroup/line-1/added",
            "$aws/events/thingGroupMembership/thingGroup/line-1/thing/lamp-1/added",
            "$aws/events/thingGroupMembership/thingGroup/line-1/thing/lamp-1/removed",
            "$aws/events/thingGroup/line-1/deleted",
            "$aws/events/thingGroupHierarchy/thingGroup/fleet/childThingGroup/line-1/removed",
            "$aws/events/thing/lamp-1/deleted",
            "$aws/events/thingTypeAssociation/thing/lamp-1/Lamp",
            "$aws/events/thing/from-admin/created",
            "$aws/events/thing/end-marker/created",
        ]
        check(topics == expected, "each enabled event once, in order, none for disabled types:"
              "\n  got      %s\n  expected %s" % (topics, expected))
        by = {}
        for t, p in seen:
            by.setdefault(t, []).append(p)

        p = by.get(expected[0], [{}])[0]
        check(common(p, "THING_EVENT", "CREATED") and p.get("accountId") == "000000000000"
              and p.get("thingName") == "lamp-1" and UUID.match(p.get("thingId", ""))
              and p.get("versionNumber") == 1 and p.get("thingTypeName") == "Lamp"
              and p.get("attributes") == {"watts": "60"}, "THING_EVENT created payload %s" % p)
        described, _ = call(iot, "describe_thing", thingName="end-marker")
        e = by.get(expected[-1], [{}])[0]
        check(e.get("thingId") == described.get("thingId") and e.get("thingTypeName", 0) is None
              and e.get("attributes") == {}, "thingId as describe-thing's, null type %s" % e)
        p = by.get(expected[2], [{}])[0]
        check(common(p, "THING_EVENT", "UPDATED") and p.get("versionNumber") == 2
              and p.get("attributes") == {"watts": "40"}, "THING_EVENT updated payload %s" % p)
        p = by.get(expected[10], [{}])[0]
        check(common(p, "THING_EVENT", "DELETED") and p.get("thingName") == "lamp-1",
              "THING_EVENT deleted payload %s" % p)
        made, deleted = by.get(expected[1], [{}, {}])[:2]
        check(common(made, "THING_TYPE_ASSOCIATION_EVENT", "CREATED")
              and common(deleted, "THING_TYPE_ASSOCIATION_EVENT", "DELETED")
              and made.get("thingName") == "lamp-1" and made.get("thingTypeName") == "Lamp"
              and UUID.match(made.get("thingId", "")),
              "THING_TYPE_ASSOCIATION_EVENT payloads %s %s" % (made, deleted))
        fleet, _ = call(iot, "describe_thing_group", thingGroupName="fleet")
        p = by.get(expected[4], [{}])[0]
        check(common(p, "THING_GROUP_EVENT", "CREATED") and p.get("thingGroupName") == "line-1"
              and p.get("parentGroupName") == "fleet"
              and p.get("parentGroupId") == fleet.get("thingGroupId")
              and p.get("description") == "first line" and p.get("attributes") == {"k": "v"}
              and p.get("versionNumber") == 1 and "dynamicGroupMappingId" in p
              and p.get("rootToParentThingGroups") == [
                  {"groupArn": PREFIX + "thinggroup/fleet", "groupId": fleet.get("thingGroupId")}],
              "THING_GROUP_EVENT payload %s" % p)
        p = by.get(expected[3], [{}])[0]
        check(p.get("parentGroupName", 0) is None and p.get("rootToParentThingGroups") == [],
              "a root group: null parent, no ancestors %s" % p)
        p = by.get(expected[5], [{}])[0]
        check(common(p, "THING_GROUP_HIERARCHY_EVENT", "ADDED")
              and p.get("thingGroupName") == "fleet" and p.get("childGroupName") == "line-1"
              and p.get("thingGroupId") == fleet.get("thingGroupId")
              and UUID.match(p.get("childGroupId", "")), "THING_GROUP_HIERARCHY_EVENT %s" % p)
        p = by.get(expected[6], [{}])[0]
        check(common(p, "THING_GROUP_MEMBERSHIP_EVENT", "ADDED")
              and p.get("groupArn") == PREFIX + "thinggroup/line-1"
              and p.get("thingArn") == PREFIX + "thing/lamp-1"
              and all(UUID.match(p.get(k, "")) for k in ("groupId", "thingId", "membershipId")),
              "THING_GROUP_MEMBERSHIP_EVENT payload %s" % p)
        check(common(by.get(expected[7], [{}])[0], "THING_GROUP_MEMBERSHIP_EVENT", "REMOVED"),
              "membership removed")

        # Receive is authorized per topic: this subscriber may receive thing events only.
        seen = narrow.until("$aws/events/thing/end-marker/created")
        check([t for t, _ in seen] == [t for t in expected if t.startswith("$aws/events/thing/")],
              "a policy allowing iot:Receive on $aws/events/thing/* only: thing events only %s"
              % [t for t, _ in seen])

        # THING_TYPE enabled now: deprecate publishes thingType/.../updated.
        rc, _, err = base.aws(gw, "iot", "update-event-configurations", "--event-configurations",
                              '{"THING_TYPE":{"Enabled":true},"THING":{"Enabled":false}}')
        check(rc == 0, "enable THING_TYPE, disable THING " + err)
        call(iot, "create_thing", thingName="quiet-2")
        _, code = call(iot, "deprecate_thing_type", thingTypeName="Lamp")
        seen = monitor.until("$aws/events/thingType/Lamp/updated")
        p = seen[-1][1]
        check([t for t, _ in seen] == ["$aws/events/thingType/Lamp/updated"]
              and common(p, "THING_TYPE_EVENT", "UPDATED") and p.get("isDeprecated") is True
              and isinstance(p.get("deprecationDate"), int)
              and p.get("searchableAttributes") == ["watts"] and UUID.match(p.get("thingTypeId", "")),
              "THING_TYPE_EVENT on deprecate, nothing for the disabled THING %s" % seen)
        jobs_events(gw, d, ca, iot, data, monitor)
    finally:
        monitor.stop()
        narrow.stop()

    # Hostile or wrong input: AWS's error with the field named.
    doc = base.expect_error(gw, "unknown event type", 400, "InvalidRequestException", "PATCH",
                            "/event-configurations",
                            b'{"eventConfigurations":{"THINGS":{"Enabled":true}}}')
    check("THINGS" in doc.get("message", ""), "the message names the type %s" % doc)
    base.expect_error(gw, "Enabled not a boolean", 400, "InvalidRequestException", "PATCH",
                      "/event-configurations",
                      b'{"eventConfigurations":{"THING":{"Enabled":"yes"}}}')
    base.expect_error(gw, "malformed JSON", 400, "InvalidRequestException", "PATCH",
                      "/event-configurations", b'{"eventConfigurations":')


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-events-")
    try:
        ca, cert, key = base.make_server_tls(d)
        config = jobs_test.gateway_config(d, cert, key)
        config["admin_token"] = TOKEN
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            scenario(gw, d, ca)
        finally:
            gw.stop()
        gw.start()
        try:
            rc, out, err = base.aws(gw, "iot", "describe-event-configurations")
            got = {k: v["Enabled"] for k, v in (out or {}).get("eventConfigurations", {}).items()}
            want = {t: t != "THING" for t in ALL_TYPES}
            check(rc == 0 and got == want
                  and out.get("lastModifiedDate", 0) >= out.get("creationDate", 1),
                  "the configuration survives a restart %s %s" % (got, err))
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
