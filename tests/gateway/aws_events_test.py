#!/usr/bin/python3
"""Registry events as AWS IoT publishes them: `aws iot update-event-configurations` (Debian's
AWS CLI) enables event types, then changes made with the CLI, botocore and the admin API
publish `$aws/events/thing/…`, `thingGroup/…`, `thingGroupMembership/…`,
`thingGroupHierarchy/…`, `thingType/…` and `thingTypeAssociation/…` with AWS's payloads,
seen by mosquitto_sub over mTLS with a certificate whose policy allows iot:Subscribe and
iot:Receive on them; each enabled event arrives once, disabled types publish nothing, a
subscriber allowed to receive thing events only gets those only, and the configuration
survives a restart.

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
        self.proc.terminate()
        self.proc.wait(timeout=10)


def admin_certificate(gw, thing):
    req = urllib.request.Request(gw.url + "/admin/things/%s/certificate" % thing, method="POST",
                                 data=b"{}", headers={"Authorization": "Bearer " + TOKEN})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status


def common(p, event_type, operation):
    return (p.get("eventType") == event_type and p.get("operation") == operation
            and UUID.match(p.get("eventId", "")) is not None
            and isinstance(p.get("timestamp"), int) and p["timestamp"] > 1_600_000_000_000)


def scenario(gw, d, ca):
    iot, _ = jobs_test.clients(gw)
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
            want = {t: t in ALL_TYPES[1:6] for t in ALL_TYPES}
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
