#!/usr/bin/python3
"""Policies attached to thing groups apply to the things in them and in their descendant
groups, as in AWS IoT: a device whose certificate has no policy of its own connects over mTLS
(mosquitto_sub, client id = its thing name) only while a policy is attached to an ancestor of
its group, receives an iot-data publish through it, and is refused after detach-policy and
after it leaves the group. attach-policy --target <thing group ARN>, list-targets-for-policy,
list-attached-policies, and the policies of a deleted group going with it.

  tests/gateway/aws_group_policies_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
import aws_jobs_test as jobs_test  # noqa: E402  (clients, call)

from aws_cli_test import check  # noqa: E402

import botocore.session  # noqa: E402

call = jobs_test.call
PREFIX = "arn:aws:iot:%s:000000000000:" % base.REGION


def device(iot, d, thing):
    """A thing and an ACTIVE certificate attached to it, with no policy of its own."""
    call(iot, "create_thing", thingName=thing)
    out, code = call(iot, "create_keys_and_certificate", setAsActive=True)
    check(code is None, "create-keys-and-certificate %s" % code)
    cert, key = os.path.join(d, thing + ".pem"), os.path.join(d, thing + ".key")
    with open(cert, "w") as f:
        f.write(out["certificatePem"])
    with open(key, "w") as f:
        f.write(out["keyPair"]["PrivateKey"])
    _, code = call(iot, "attach_thing_principal", thingName=thing,
                   principal=out["certificateArn"])
    check(code is None, "attach-thing-principal %s" % code)
    return cert, key


def connects(gw, ca, cert, key, thing):
    """Whether the device may connect (mosquitto_pub with QoS 1, MQTT 5)."""
    r = base.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]), "--cafile",
                  ca, "--cert", cert, "--key", key, "-i", thing, "-V", "mqttv5", "-q", "1",
                  "-t", "fleet/hello", "-m", "hi"])
    return r.returncode == 0, r.stderr.strip()


def receives(gw, ca, cert, key, thing, data):
    """Subscribes as the device (mosquitto_sub, line-buffered), publishes through iot-data once the SUBACK
    granted the subscription, and returns what the device received."""
    sub = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]),
                            "--cafile", ca, "--cert", cert, "--key", key, "-i", thing,
                            "-V", "mqttv5", "-q", "1", "-t", "fleet/data", "-C", "1", "-W", "10",
                            "-d"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    for line in sub.stdout:  # "Subscribed (mid: 1): 1" follows the SUBACK
        lines.append(line.rstrip())
        if line.startswith("Subscribed"):
            break
    granted = bool(lines) and lines[-1].endswith(": 1")
    _, code = call(data, "publish", topic="fleet/data", qos=1, payload=b'{"n":1}')
    rest, _ = sub.communicate(timeout=15)
    lines += rest.splitlines() + ["iot-data publish: %s" % code]
    return granted and code is None and '{"n":1}' in lines, lines


def scenario(gw, d, ca):
    iot, _ = jobs_test.clients(gw)
    data = botocore.session.get_session().create_client(
        "iot-data", region_name=base.REGION, endpoint_url=gw.url, aws_access_key_id=base.KEY,
        aws_secret_access_key=base.SECRET)
    cert, key = device(iot, d, "gdev")
    for name, parent in (("fleet", None), ("line-1", "fleet")):
        kw = {"parentGroupName": parent} if parent else {}
        _, code = call(iot, "create_thing_group", thingGroupName=name, **kw)
        check(code is None, "create-thing-group %s %s" % (name, code))
    _, code = call(iot, "add_thing_to_thing_group", thingGroupName="line-1", thingName="gdev")
    check(code is None, "add-thing-to-thing-group %s" % code)
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": PREFIX + "client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
         "Resource": PREFIX + "topic/fleet/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": PREFIX + "topicfilter/fleet/*"}]}
    _, code = call(iot, "create_policy", policyName="fleet-devices",
                   policyDocument=json.dumps(policy))
    check(code is None, "create-policy %s" % code)

    ok, err = connects(gw, ca, cert, key, "gdev")
    check(not ok, "no policy on its certificate nor its groups: refused (%s)" % err)
    fleet = PREFIX + "thinggroup/fleet"
    _, code = call(iot, "attach_policy", policyName="fleet-devices", target=fleet)
    check(code is None, "attach-policy --target <thing group ARN> %s" % code)
    _, code = call(iot, "attach_policy", policyName="fleet-devices",
                   target=PREFIX + "thinggroup/nope")
    check(code == "ResourceNotFoundException", "a group that does not exist: %s" % code)
    out, code = call(iot, "list_targets_for_policy", policyName="fleet-devices")
    check(out.get("targets") == [fleet], "list-targets-for-policy %s %s" % (out, code))
    out, code = call(iot, "list_attached_policies", target=fleet)
    check([p["policyName"] for p in out.get("policies", [])] == ["fleet-devices"],
          "list-attached-policies of the group %s %s" % (out, code))

    ok, err = connects(gw, ca, cert, key, "gdev")
    check(ok, "the parent group's policy lets the device in line-1 connect (%s)" % err)
    got, lines = receives(gw, ca, cert, key, "gdev", data)
    check(got, "and subscribe and receive through it %s" % lines)
    ok, err = connects(gw, ca, cert, key, "someone-else")
    check(not ok, "the group's policy is not the certificate's: another client id is refused")

    _, code = call(iot, "remove_thing_from_thing_group", thingGroupName="line-1",
                   thingName="gdev")
    ok, err = connects(gw, ca, cert, key, "gdev")
    check(code is None and not ok, "out of the group: refused (%s)" % err)
    call(iot, "add_thing_to_thing_group", thingGroupName="line-1", thingName="gdev")
    ok, _ = connects(gw, ca, cert, key, "gdev")
    check(ok, "back in the group: allowed")
    _, code = call(iot, "detach_policy", policyName="fleet-devices", target=fleet)
    ok, err = connects(gw, ca, cert, key, "gdev")
    check(code is None and not ok, "after detach-policy: refused (%s)" % err)

    _, code = call(iot, "attach_policy", policyName="fleet-devices",
                   target=PREFIX + "thinggroup/line-1")
    ok, _ = connects(gw, ca, cert, key, "gdev")
    check(code is None and ok, "attached to the thing's own group: allowed")
    call(iot, "remove_thing_from_thing_group", thingGroupName="line-1", thingName="gdev")
    _, code = call(iot, "delete_thing_group", thingGroupName="line-1")
    out, _ = call(iot, "list_targets_for_policy", policyName="fleet-devices")
    check(code is None and out.get("targets") == [],
          "a deleted group's attachments go with it %s %s" % (code, out))


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-grouppol-")
    try:
        ca, cert, key = base.make_server_tls(d)
        config = jobs_test.gateway_config(d, cert, key)
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            scenario(gw, d, ca)
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
