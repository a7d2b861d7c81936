#!/usr/bin/env python3
"""Fleet provisioning survives kill -9: claim connections of the AWS IoT Device SDK v2
(aws_provisioning_load.js, streaming each accepted device) provision devices while the gateway
is killed with SIGKILL in the middle; after a restart every device whose RegisterThing was
accepted is there whole (thing, type, attributes, group, ACTIVE certificate attached, policy
attached), and no thing exists without all of that (a RegisterThing cut short left nothing
of its thing behind).

  tests/gateway/aws_provisioning_crash_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
from aws_cli_test import check  # noqa: E402
from aws_jobs_test import call, clients  # noqa: E402
from aws_provisioning_test import SDK, claim_certificate, gateway_config, template  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ACCEPTED_BEFORE_KILL = 40  # devices accepted before the kill; more are in flight when it lands


def main():
    binary = sys.argv[1]
    if not os.path.isdir(SDK):
        print("tests/peers has no node_modules: run `npm ci` there (scripts/setup.sh)")
        sys.exit(1)
    d = tempfile.mkdtemp(prefix="iotblocks-provisioning-crash-")
    try:
        ca, config = gateway_config(
            d, {"fleet": template("lamp", {"PolicyName": "device-policy"})})
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            accepted = provision_until_killed(gw, d, ca)
            gw.start()
            after_restart(gw, accepted)
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if base.failures:
        print("%d failure(s)" % len(base.failures))
        sys.exit(1)
    print("all passed")


def provision_until_killed(gw, d, ca):
    claim_cert, claim_key = claim_certificate(gw, d)

    # 0 devices: until killed; each accepted device is a line as soon as its reply arrives.
    load = subprocess.Popen(["node", os.path.join(HERE, "aws_provisioning_load.js"),
                             str(gw.ports["mqtts"]), ca, claim_cert, claim_key, "0", "6", "1000",
                             "stream"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    accepted = []
    try:
        while len(accepted) < ACCEPTED_BEFORE_KILL:
            line = load.stdout.readline()
            if not line:
                break
            event = json.loads(line)
            if "error" in event:
                check(False, "no RegisterThing refused before the kill %r" % event)
                break
            accepted.append(event)
        gw.proc.kill()  # SIGKILL with RegisterThings in flight
        gw.proc.wait()
        gw.proc = None
    finally:
        load.kill()
        rest, _ = load.communicate()
    # Replies that arrived before the kill but were read after it count too.
    for line in rest.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "thing" in event:
            accepted.append(event)
    check(len(accepted) >= ACCEPTED_BEFORE_KILL,
          "%d devices accepted before the kill" % len(accepted))
    return accepted


def whole(iot, thing, certificate_id):
    """Why the device `thing` with `certificate_id` is not whole, or None."""
    out, code = call(iot, "describe_thing", thingName=thing)
    if code or out.get("thingTypeName") != "LightBulb" or \
            out.get("attributes", {}).get("version") != "v1":
        return "describe-thing %s %s" % (code, out.get("attributes"))
    out, code = call(iot, "list_thing_groups_for_thing", thingName=thing)
    if [g["groupName"] for g in out.get("thingGroups", [])] != ["lamps"]:
        return "groups %s %s" % (code, out.get("thingGroups"))
    out, code = call(iot, "describe_certificate", certificateId=certificate_id)
    if out.get("certificateDescription", {}).get("status") != "ACTIVE":
        return "certificate %s %s" % (code, out.get("certificateDescription", {}).get("status"))
    out, code = call(iot, "list_thing_principals", thingName=thing)
    if [p.rsplit("/", 1)[-1] for p in out.get("principals", [])] != [certificate_id]:
        return "principals %s %s" % (code, out.get("principals"))
    arn = "arn:aws:iot:%s:000000000000:cert/%s" % (base.REGION, certificate_id)
    out, code = call(iot, "list_attached_policies", target=arn)
    if [p["policyName"] for p in out.get("policies", [])] != ["device-policy"]:
        return "policies %s %s" % (code, out.get("policies"))
    return None


def after_restart(gw, accepted):
    iot, _ = clients(gw)
    broken = [(a["thing"], why) for a in accepted
              if (why := whole(iot, a["thing"], a["certificateId"])) is not None]
    check(not broken, "after kill -9: all %d accepted devices are there whole %s"
          % (len(accepted), broken[:5]))
    things, token = [], None
    while True:
        kw = {"maxResults": 250}
        if token:
            kw["nextToken"] = token
        out, code = call(iot, "list_things", **kw)
        things += [t["thingName"] for t in out.get("things", [])]
        token = out.get("nextToken")
        if code or not token:
            break
    # Every thing: one principal, that certificate ACTIVE with the policy, in the group.
    partial = []
    for name in things:
        out, code = call(iot, "list_thing_principals", thingName=name)
        principals = [p.rsplit("/", 1)[-1] for p in out.get("principals", [])]
        why = whole(iot, name, principals[0]) if len(principals) == 1 else \
            "principals %s" % principals
        if why:
            partial.append((name, why))
    check(len(things) >= len(accepted) and not partial,
          "after kill -9: %d things, none half-created %s" % (len(things), partial[:5]))
    out, code = call(iot, "list_things_in_thing_group", thingGroupName="lamps", maxResults=250)
    members = set(out.get("things", []))
    while out.get("nextToken"):
        out, code = call(iot, "list_things_in_thing_group", thingGroupName="lamps",
                         maxResults=250, nextToken=out["nextToken"])
        members |= set(out.get("things", []))
    check(members == set(things), "after kill -9: the group's members are the things %s"
          % sorted(members ^ set(things))[:5])


if __name__ == "__main__":
    main()
