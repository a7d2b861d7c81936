#!/usr/bin/python3
"""AWS IoT fleet provisioning by claim through the gateway: a device running the AWS IoT
Device SDK v2's iotidentity.IotIdentityClient unchanged, with a claim certificate whose
policy allows only the provisioning topics, calls CreateKeysAndCertificate and RegisterThing
with a template from the config; the thing, its group, attributes, certificate status and
policy are checked with botocore; a failing RegisterThing leaves nothing behind and keeps
the token; another claim connection never sees the reply; the claim certificate is refused
outside the provisioning topics; the new certificate connects and publishes; a token handed
out before a kill -9 of the gateway serves its RegisterThing after the restart, once.

  tests/gateway/aws_provisioning_test.py build/<dir>/apps/iotblocks/iotblocks [--measure N C [KEYS]]

--measure N C: afterwards, N more devices are provisioned (CreateKeysAndCertificate and
RegisterThing each) over C claim connections and the rate printed (aws_provisioning_load.js).
KEYS: p256 (the default: CreateKeysAndCertificate makes a P-256 key), rsa2048 (it makes an
RSA-2048 key, as AWS: "provisioning_key_algorithm"), csr-p256 or csr-rsa2048
(CreateCertificateFromCsr with a CSR of such a key made by openssl, the same CSR each time).
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

HERE = os.path.dirname(os.path.abspath(__file__))
SDK = os.path.join(HERE, "..", "peers", "node_modules", "aws-iot-device-sdk-v2")
ARN = "arn:aws:iot:*:*:"

# The claim policy of AWS's fleet provisioning guide: the provisioning topics only.
CLAIM_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": [ARN + "topic/$aws/certificates/create/*",
                  ARN + "topic/$aws/certificates/create-from-csr/*",
                  ARN + "topic/$aws/provisioning-templates/*/provision/*"]},
    {"Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": [ARN + "topicfilter/$aws/certificates/create/*",
                  ARN + "topicfilter/$aws/certificates/create-from-csr/*",
                  ARN + "topicfilter/$aws/provisioning-templates/*/provision/*"]}]}
DEVICE_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": ARN + "topic/telemetry/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": ARN + "topicfilter/telemetry/${iot:Connection.Thing.ThingName}"}]}


def template(prefix, policy_properties, thing_type="LightBulb", version="v1", overrides=None):
    t = {
        "Parameters": {"SerialNumber": {"Type": "String"},
                       "Model": {"Type": "String", "Default": "lamp"},
                       "AWS::IoT::Certificate::Id": {"Type": "String"}},
        "Conditions": {"IsLamp": {"Fn::Equals": [{"Ref": "Model"}, "lamp"]}},
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Join": ["-", [prefix, {"Ref": "SerialNumber"}]]},
                "ThingTypeName": thing_type,
                "ThingGroups": [{"Fn::If": ["IsLamp", "lamps", "others"]}],
                "AttributePayload": {"serial": {"Ref": "SerialNumber"}, "version": version}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": policy_properties}},
        "DeviceConfiguration": {"topic": {"Fn::Sub": "telemetry/${Model}-${SerialNumber}"}},
    }
    if overrides:
        t["Resources"]["thing"]["OverrideSettings"] = overrides
    return t


def main():
    binary = sys.argv[1]
    if not os.path.isdir(SDK):
        print("tests/peers has no node_modules: run `npm ci` there (scripts/setup.sh)")
        sys.exit(1)
    measuring = len(sys.argv) in (5, 6) and sys.argv[2] == "--measure"
    keys = sys.argv[5] if len(sys.argv) == 6 else "p256"
    if measuring and keys not in ("p256", "rsa2048", "csr-p256", "csr-rsa2048"):
        print("KEYS: p256, rsa2048, csr-p256 or csr-rsa2048")
        sys.exit(2)
    d = tempfile.mkdtemp(prefix="iotblocks-provisioning-")
    try:
        ca, config = gateway_config(d, {
            "fleet": template({"Fn::If": ["IsLamp", "lamp", "other"]},
                              {"PolicyName": "device-policy"}),
            # Valid JSON, not a policy: fails after the thing, its group and the
            # certificate attachment are made, which are undone.
            "broken": template("broken", {"PolicyDocument": '{"Statement": 5}'}),
            "strict": template("lamp", {"PolicyName": "device-policy"}, version="v2",
                               overrides={"AttributePayload": "FAIL"}),
            "badtype": template("lamp", {"PolicyName": "device-policy"}, thing_type="Nope"),
        })
        if measuring and keys == "rsa2048":
            config["provisioning_key_algorithm"] = "rsa2048"
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            scenario(gw, d, ca)
            token_survives_restart(gw, d, ca)
            if measuring:
                measure(gw, d, ca, sys.argv[3], sys.argv[4], keys)
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if base.failures:
        print("%d failure(s)" % len(base.failures))
        sys.exit(1)
    print("all passed")


def measure(gw, d, ca, count, connections, keys):
    extra = []
    if keys.startswith("csr-"):
        csr = os.path.join(d, "measure.csr")
        key = ["-newkey", "rsa:2048"] if keys == "csr-rsa2048" else \
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        base.run(["openssl", "req"] + key + ["-nodes", "-keyout", os.path.join(d, "measure.key"),
                                             "-out", csr, "-subj", "/CN=measured"])
        extra = [csr]
    r = subprocess.run(["node", os.path.join(HERE, "aws_provisioning_load.js"),
                        str(gw.ports["mqtts"]), ca, os.path.join(d, "claim.pem"),
                        os.path.join(d, "claim.key"), count, connections, "100000"] + extra,
                       capture_output=True, text=True, timeout=600)
    print(keys, r.stdout.strip(), r.stderr[-2000:])
    print("load average", open("/proc/loadavg").read().split()[:3])


def gateway_config(d, templates):
    """The server's CA file and a gateway config: mTLS and HTTP listeners, the access key, the
    claim and device policies and `templates`."""
    ca, cert, key = base.make_server_tls(d)
    return ca, {
        "data_dir": os.path.join(d, "data"),
        "authorize": True,
        "listeners": [
            {"type": "mqtts", "port": 0, "tls": {"cert_file": cert, "key_file": key,
                                                  "require_client_cert": True}},
            {"type": "http", "port": 0},
        ],
        "aws_access_keys": [{"access_key_id": base.KEY, "secret_access_key": base.SECRET}],
        "aws": {"region": base.REGION},
        "policies": {"claim": CLAIM_POLICY, "device-policy": DEVICE_POLICY},
        "provisioning_templates": templates,
    }


def claim_certificate(gw, d):
    """The templates' group and type, and a claim certificate with the claim policy attached:
    its certificate and key files."""
    iot, _ = clients(gw)
    _, code = call(iot, "create_thing_group", thingGroupName="lamps")
    check(code is None, "create-thing-group %s" % code)
    _, code = call(iot, "create_thing_type", thingTypeName="LightBulb")
    check(code is None, "create-thing-type %s" % code)
    out, code = call(iot, "create_keys_and_certificate", setAsActive=True)
    check(code is None, "claim certificate %s" % code)
    claim_cert, claim_key = os.path.join(d, "claim.pem"), os.path.join(d, "claim.key")
    with open(claim_cert, "w") as f:
        f.write(out["certificatePem"])
    with open(claim_key, "w") as f:
        f.write(out["keyPair"]["PrivateKey"])
    _, code = call(iot, "attach_policy", policyName="claim", target=out["certificateArn"])
    check(code is None, "attach the claim policy %s" % code)
    return claim_cert, claim_key


def scenario(gw, d, ca):
    iot, _ = clients(gw)
    claim_cert, claim_key = claim_certificate(gw, d)

    csr_key, csr = os.path.join(d, "csr.key"), os.path.join(d, "device.csr")
    base.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
              "-keyout", csr_key, "-out", csr, "-subj", "/CN=lamp-0043"])
    proc = subprocess.run(["node", os.path.join(HERE, "aws_provisioning_device.js"),
                           str(gw.ports["mqtts"]), ca, claim_cert, claim_key, "0042", d, csr],
                          capture_output=True, text=True, timeout=60)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    check(proc.returncode == 0, "the SDK device finished: rc=%s %s %s"
          % (proc.returncode, events, proc.stderr[-2000:]))
    if proc.returncode != 0:
        return
    ev = {e["event"]: e for e in events}

    bad = ev.get("bad-token", {}).get("rejected", {})
    check(bad.get("statusCode") == 400
          and bad.get("errorCode") == "InvalidCertificateOwnershipToken",
          "a made-up token is InvalidCertificateOwnershipToken %r" % bad)
    created = ev.get("create", {}).get("accepted", {})
    cert_id = created.get("certificateId", "")
    check(len(cert_id) == 64 and created.get("certificatePem", "").startswith("-----BEGIN")
          and "PRIVATE KEY" in created.get("privateKey", "")
          and len(created.get("certificateOwnershipToken", "")) >= 32,
          "CreateKeysAndCertificate answers certificate, key and token %r" % list(created))
    broken = ev.get("register-broken", {}).get("rejected", {})
    check(broken.get("statusCode") == 400 and broken.get("errorCode") == "InvalidTemplate"
          and "PolicyDocument" in broken.get("errorMessage", ""),
          "RegisterThing with an invalid policy document is rejected %r" % broken)
    registered = ev.get("register", {}).get("accepted", {})
    check(registered == {"thingName": "lamp-0042",
                         "deviceConfiguration": {"topic": "telemetry/lamp-0042"}},
          "RegisterThing is accepted with the same token after the failure %r" % registered)
    reuse = ev.get("reuse-token", {}).get("rejected", {})
    check(reuse.get("errorCode") == "InvalidCertificateOwnershipToken",
          "a token serves one RegisterThing %r" % reuse)
    spy = ev.get("spy", {})
    check(spy.get("own") and spy.get("own") != spy.get("first"),
          "another claim connection sees only its own CreateKeysAndCertificate reply %r" % spy)
    garbage = ev.get("csr-garbage", {}).get("rejected", {})
    check(garbage.get("statusCode") == 400 and garbage.get("errorCode") == "InvalidCertificate",
          "CreateCertificateFromCsr refuses a bad CSR %r" % garbage)
    signed = ev.get("csr", {}).get("accepted", {})
    check(len(signed.get("certificateId", "")) == 64 and "privateKey" not in signed
          and signed.get("certificatePem", "").startswith("-----BEGIN"),
          "CreateCertificateFromCsr signs the CSR %r" % list(signed))
    out = base.run(["openssl", "x509", "-noout", "-pubkey"], input=signed.get("certificatePem", ""))
    mine = base.run(["openssl", "pkey", "-pubout", "-in", csr_key])
    check(out.stdout and out.stdout == mine.stdout, "the certificate carries the CSR's key")
    by_csr = ev.get("csr-register", {}).get("accepted", {})
    check(by_csr.get("thingName") == "lamp-0043",
          "RegisterThing with the CSR certificate's token %r" % by_csr)
    out, code = call(iot, "describe_certificate", certificateId=signed.get("certificateId", "x" * 64))
    check(out.get("certificateDescription", {}).get("status") == "ACTIVE",
          "the CSR certificate is ACTIVE %s" % code)
    sub = ev.get("claim-subscribe", {}).get("result", {})
    check(sub.get("qos") == 128 or sub.get("error_code") == 128 or "error" in sub,
          "the claim certificate may not subscribe outside the provisioning topics %r" % sub)
    msg = ev.get("device-message", {})
    check(msg.get("topic") == "telemetry/lamp-0042" and json.loads(msg.get("payload", "{}"))
          == {"t": 21.5}, "the new certificate connects, publishes and receives %r" % msg)

    strict = ev.get("register-strict", {}).get("rejected", {})
    check(strict.get("statusCode") == 409 and strict.get("errorCode") == "ResourceConflict"
          and "AttributePayload" in strict.get("errorMessage", ""),
          "OverrideSettings FAIL refuses another attribute value %r" % strict)
    badtype = ev.get("register-badtype", {}).get("rejected", {})
    check(badtype.get("statusCode") == 400 and "ThingTypeName" in badtype.get("errorMessage", ""),
          "a thing type that does not exist is refused %r" % badtype)
    again = ev.get("register-again", {})
    check(again.get("accepted", {}).get("thingName") == "lamp-0042",
          "a second certificate provisions the existing thing %r" % again)
    second_id = again.get("certificateId", "")
    out, code = call(iot, "describe_thing", thingName="lamp-0042")
    check(out.get("attributes") == {"serial": "0042", "version": "v1"}
          and out.get("thingTypeName") == "LightBulb",
          "the thing has the template's type and attributes %s %s" % (out, code))
    out, code = call(iot, "list_thing_groups_for_thing", thingName="lamp-0042")
    check([g["groupName"] for g in out.get("thingGroups", [])] == ["lamps"],
          "the thing is in the template's group %s %s" % (out, code))
    out, code = call(iot, "describe_certificate", certificateId=cert_id)
    check(out.get("certificateDescription", {}).get("status") == "ACTIVE",
          "the new certificate is ACTIVE %s" % code)
    out, code = call(iot, "list_thing_principals", thingName="lamp-0042")
    check(sorted(p.rsplit("/", 1)[-1] for p in out.get("principals", []))
          == sorted([cert_id, second_id]),
          "both certificates are attached to the thing %s %s" % (out, code))
    arn = "arn:aws:iot:%s:000000000000:cert/%s" % (base.REGION, cert_id)
    out, code = call(iot, "list_attached_policies", target=arn)
    check([p["policyName"] for p in out.get("policies", [])] == ["device-policy"],
          "the template's policy is attached to the certificate %s %s" % (out, code))
    out, code = call(iot, "list_policies")
    check(sorted(p["policyName"] for p in out.get("policies", [])) == ["claim", "device-policy"],
          "the failed RegisterThing left no policy behind %s %s" % (out, code))
    out, code = call(iot, "list_things")
    check([t["thingName"] for t in out.get("things", [])] == ["lamp-0042", "lamp-0043"],
          "the failed RegisterThing left no thing behind %s" % out)
    out, code = call(iot, "list_things_in_thing_group", thingGroupName="lamps")
    check(out.get("things") == ["lamp-0042", "lamp-0043"],
          "the failed RegisterThing left no group membership behind %s %s" % (out, code))
    out, code = call(iot, "list_principal_things", principal=arn)
    check(out.get("things") == ["lamp-0042"],
          "the failed RegisterThing left no thing attached to the certificate %s %s"
          % (out, code))


def request(gw, d, ca, topic, payload, reply):
    """One provisioning request with the claim certificate (mosquitto_rr, MQTT 5): the JSON
    reply on `topic`/`reply`, None when none came."""
    r = subprocess.run(["mosquitto_rr", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]),
                        "--cafile", ca, "--cert", os.path.join(d, "claim.pem"),
                        "--key", os.path.join(d, "claim.key"), "-i", "claim-rr", "-q", "1",
                        "-t", topic, "-e", topic + "/" + reply, "-m", json.dumps(payload),
                        "-W", "10"], capture_output=True, text=True, timeout=30)
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def kill_and_restart(gw):
    gw.proc.kill()  # SIGKILL: nothing written at exit
    gw.proc.wait(timeout=20)
    gw.proc = None
    gw.start()


def token_survives_restart(gw, d, ca):
    """An ownership token handed out before a kill -9 of the gateway still serves one
    RegisterThing after the restart; once spent it stays spent across another."""
    created = request(gw, d, ca, "$aws/certificates/create/json", {}, "accepted") or {}
    token = created.get("certificateOwnershipToken", "")
    check(len(token) == 64, "CreateKeysAndCertificate before the kill %r" % list(created))
    kill_and_restart(gw)
    register = "$aws/provisioning-templates/fleet/provision/json"
    body = {"certificateOwnershipToken": token, "parameters": {"SerialNumber": "0077"}}
    out = request(gw, d, ca, register, body, "accepted") or {}
    check(out.get("thingName") == "lamp-0077",
          "RegisterThing after kill -9 and restart with the earlier token %r" % out)
    kill_and_restart(gw)
    out = request(gw, d, ca, register, body, "rejected") or {}
    check(out.get("errorCode") == "InvalidCertificateOwnershipToken",
          "after another kill -9 the spent token is still refused %r" % out)


if __name__ == "__main__":
    main()
