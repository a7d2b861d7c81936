#!/usr/bin/python3
"""Provisioning templates over the AWS-shaped API, driven by botocore in this process:
create / describe / list / update / delete-provisioning-template and the template versions
(create with --set-as-default, list, describe, delete) with AWS's shapes, errors and quotas;
a bad body is InvalidRequestException naming the path in the template; the templates survive
a kill -9 of the gateway; the config's templates seed the store. Then the AWS IoT Device SDK
v2's IotIdentityClient, unchanged, registers things with the stored default version, and a
disabled template refuses RegisterThing. Pre-provisioning hooks: an HTTP endpoint started here
and a program receive AWS's event, may refuse (403 AccessDenied, nothing made) or override
parameters; a hook whose function fails or is not configured refuses. JITP: a CA registered
with a registrationConfig (templateBody; templateName of a JITP template via
update-ca-certificate); a device certificate of that CA connects with mosquitto_pub, is
provisioned from its subject (thing, attributes, policy, ACTIVE) and publishes within its policy.

  tests/gateway/aws_provisioning_templates_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import http.server
import json
import os
import threading
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
from aws_cli_test import check  # noqa: E402
from aws_jobs_test import call, clients  # noqa: E402
from aws_provisioning_test import CLAIM_POLICY, DEVICE_POLICY, SDK  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROLE = "arn:aws:iam::000000000000:role/provisioning"
LAMBDA = "arn:aws:lambda:%s:000000000000:function:" % base.REGION
# The program hook: allows serials of digits only, adding the parameter Site.
HOOK_PROGRAM = """import json, sys
e = json.load(sys.stdin)
s = e["parameters"].get("SerialNumber", "")
print(json.dumps({"allowProvisioning": s.isdigit(), "parameterOverrides": {"Site": "p"}}))
"""


class HookServer(http.server.BaseHTTPRequestHandler):
    """The HTTP hook: refuses serials starting with "deny", else overrides SerialNumber."""
    events = []

    def do_POST(self):  # noqa: N802
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        HookServer.events.append(event)
        serial = event["parameters"].get("SerialNumber", "")
        answer = {"allowProvisioning": not serial.startswith("deny"),
                  "parameterOverrides": {"SerialNumber": "h" + serial}}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def body(prefix, extra_parameters=None):
    """A template whose thing is <prefix>-<SerialNumber>."""
    parameters = {"SerialNumber": {"Type": "String"}}
    parameters.update(extra_parameters or {})
    return json.dumps({
        "Parameters": parameters,
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Join": ["-", [prefix, {"Ref": "SerialNumber"}]]}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "Active"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "device-policy"}}}})


def register(gw, d, ca, *requests):
    """RegisterThing with the SDK: {template=serial: reply}."""
    proc = subprocess.run(["node", os.path.join(HERE, "aws_provisioning_register.js"),
                           str(gw.ports["mqtts"]), ca, os.path.join(d, "claim.pem"),
                           os.path.join(d, "claim.key"), *requests],
                          capture_output=True, text=True, timeout=60)
    check(proc.returncode == 0, "the SDK device finished: rc=%s %s %s"
          % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    out = {}
    for line in proc.stdout.splitlines():
        if line.strip():
            e = json.loads(line)
            if "template" in e:
                out["%s=%s" % (e["template"], e["serial"])] = e
    return out


def main():
    binary = sys.argv[1]
    if not os.path.isdir(SDK):
        print("tests/peers has no node_modules: run `npm ci` there (scripts/setup.sh)")
        sys.exit(1)
    d = tempfile.mkdtemp(prefix="iotblocks-templates-")
    try:
        ca, cert, key = base.make_server_tls(d)
        hook = http.server.ThreadingHTTPServer(("127.0.0.1", 0), HookServer)
        threading.Thread(target=hook.serve_forever, daemon=True).start()
        program = os.path.join(d, "hook.py")
        with open(program, "w") as f:
            f.write(HOOK_PROGRAM)
        config = {
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
            "provisioning_templates": {"seeded": json.loads(body("seed"))},
            "provisioning_hooks": {
                LAMBDA + "http": {"function": {
                    "url": "http://127.0.0.1:%d/hook" % hook.server_address[1]}},
                LAMBDA + "program": {"function": {"command": ["/usr/bin/python3", program]}},
                LAMBDA + "broken": {"function": {"url": "http://127.0.0.1:1/nothing"},
                                    "timeout_ms": 2000},
            },
        }
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            api(gw)
            gw.proc.kill()  # kill -9: what was acknowledged must be there after the restart
            gw.proc.wait()
            gw.proc = None
            gw.start()
            after_restart(gw)
            claim = devices(gw, d, ca)
            hooks(gw, d, ca, claim)
            jitp(gw, d, ca)
        finally:
            gw.stop()
            hook.shutdown()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if base.failures:
        print("%d failure(s)" % len(base.failures))
        sys.exit(1)
    print("all passed")


def api(gw):
    iot, _ = clients(gw)
    arn = "arn:aws:iot:%s:000000000000:provisioningtemplate/" % base.REGION
    out, code = call(iot, "create_provisioning_template", templateName="fleet",
                     description="lamps", templateBody=body("v1"), enabled=True,
                     provisioningRoleArn=ROLE)
    check(code is None and out.get("templateArn") == arn + "fleet"
          and out.get("templateName") == "fleet" and out.get("defaultVersionId") == 1,
          "create-provisioning-template %s %s" % (out, code))
    _, code = call(iot, "create_provisioning_template", templateName="fleet",
                   templateBody=body("v1"), provisioningRoleArn=ROLE)
    check(code == "ResourceAlreadyExistsException", "a second template of a name %s" % code)

    # A bad body is refused with the path in the template; nothing is stored.
    bad = json.loads(body("x"))
    bad["Resources"]["thing"]["Properties"]["ThingName"] = {"Fn::Nope": "x"}
    try:
        iot.create_provisioning_template(templateName="bad", templateBody=json.dumps(bad),
                                         provisioningRoleArn=ROLE)
        check(False, "a bad template body is refused")
    except iot.exceptions.InvalidRequestException as e:
        msg = e.response["Error"]["Message"]
        check("Resources.thing.Properties.ThingName" in msg and "Fn::Nope" in msg,
              "a bad template body names its path: %s" % msg)
    _, code = call(iot, "create_provisioning_template", templateName="bad",
                   templateBody="{\"Resources\": ", provisioningRoleArn=ROLE)
    check(code == "InvalidRequestException", "a body that is not JSON %s" % code)
    _, code = call(iot, "describe_provisioning_template", templateName="bad")
    check(code == "ResourceNotFoundException", "a refused template is not stored %s" % code)
    _, code = call(iot, "create_provisioning_template", templateName="jitp", type="JITP",
                   templateBody=body("j"), provisioningRoleArn=ROLE,
                   preProvisioningHook={"targetArn": "arn:aws:lambda:us-east-1:0:function:f"})
    check(code == "InvalidRequestException", "a JITP template takes no hook %s" % code)
    out, code = call(iot, "create_provisioning_template", templateName="off",
                     templateBody=body("off"), provisioningRoleArn=ROLE)
    check(code is None, "create-provisioning-template without enabled %s" % code)

    out, code = call(iot, "describe_provisioning_template", templateName="fleet")
    check(code is None and out.get("templateArn") == arn + "fleet"
          and out.get("description") == "lamps" and out.get("enabled") is True
          and out.get("defaultVersionId") == 1 and out.get("templateBody") == body("v1")
          and out.get("provisioningRoleArn") == ROLE and out.get("type") == "FLEET_PROVISIONING"
          and "creationDate" in out and "lastModifiedDate" in out,
          "describe-provisioning-template %s %s" % (out, code))
    out, _ = call(iot, "describe_provisioning_template", templateName="off")
    check(out.get("enabled") is False, "enabled is false unless given %s" % out)

    # Versions: 2 (not the default), 3 (--set-as-default), the quota of 5, deletes.
    out, code = call(iot, "create_provisioning_template_version", templateName="fleet",
                     templateBody=body("v2"))
    check(code is None and out.get("versionId") == 2 and out.get("isDefaultVersion") is False,
          "create-provisioning-template-version %s %s" % (out, code))
    out, code = call(iot, "create_provisioning_template_version", templateName="fleet",
                     templateBody=body("v3"), setAsDefault=True)
    check(code is None and out.get("versionId") == 3 and out.get("isDefaultVersion") is True
          and out.get("templateArn") == arn + "fleet",
          "create-provisioning-template-version --set-as-default %s %s" % (out, code))
    _, code = call(iot, "create_provisioning_template_version", templateName="fleet",
                   templateBody=json.dumps(bad))
    check(code == "InvalidRequestException", "a bad version body is refused %s" % code)
    _, code = call(iot, "create_provisioning_template_version", templateName="none",
                   templateBody=body("x"))
    check(code == "ResourceNotFoundException", "a version of no template %s" % code)
    out, code = call(iot, "describe_provisioning_template_version", templateName="fleet",
                     versionId=2)
    check(code is None and out.get("versionId") == 2 and out.get("templateBody") == body("v2")
          and out.get("isDefaultVersion") is False and "creationDate" in out,
          "describe-provisioning-template-version %s %s" % (out, code))
    _, code = call(iot, "describe_provisioning_template_version", templateName="fleet",
                   versionId=9)
    check(code == "ResourceNotFoundException", "a version that does not exist %s" % code)
    for v in ("v4", "v5"):
        call(iot, "create_provisioning_template_version", templateName="fleet",
             templateBody=body(v))
    _, code = call(iot, "create_provisioning_template_version", templateName="fleet",
                   templateBody=body("v6"))
    check(code == "VersionsLimitExceededException", "a sixth version %s" % code)
    _, code = call(iot, "delete_provisioning_template_version", templateName="fleet",
                   versionId=3)
    check(code == "DeleteConflictException", "the default version cannot be deleted %s" % code)
    _, code = call(iot, "delete_provisioning_template_version", templateName="fleet",
                   versionId=4)
    check(code is None, "delete-provisioning-template-version %s" % code)
    out, code = call(iot, "list_provisioning_template_versions", templateName="fleet",
                     maxResults=2)
    page = [(v["versionId"], v["isDefaultVersion"]) for v in out.get("versions", [])]
    check(page == [(1, False), (2, False)] and out.get("nextToken"),
          "list-provisioning-template-versions, first page %s %s" % (out, code))
    out, code = call(iot, "list_provisioning_template_versions", templateName="fleet",
                     maxResults=2, nextToken=out.get("nextToken", ""))
    page = [(v["versionId"], v["isDefaultVersion"]) for v in out.get("versions", [])]
    check(page == [(3, True), (5, False)] and "nextToken" not in out,
          "list-provisioning-template-versions, second page %s %s" % (out, code))

    # update: the default version, description, enabled, a hook and its removal.
    _, code = call(iot, "update_provisioning_template", templateName="fleet", defaultVersionId=4)
    check(code == "InvalidRequestException", "a deleted version cannot be the default %s" % code)
    _, code = call(iot, "update_provisioning_template", templateName="fleet", defaultVersionId=2,
                   description="lamps v2",
                   preProvisioningHook={"targetArn": "arn:aws:lambda:us-east-1:0:function:f"})
    check(code is None, "update-provisioning-template %s" % code)
    out, _ = call(iot, "describe_provisioning_template", templateName="fleet")
    check(out.get("defaultVersionId") == 2 and out.get("templateBody") == body("v2")
          and out.get("description") == "lamps v2"
          and out.get("preProvisioningHook") == {"targetArn": "arn:aws:lambda:us-east-1:0:function:f",
                                                 "payloadVersion": "2020-04-01"},
          "update-provisioning-template changed the default version and the hook %s" % out)
    _, code = call(iot, "update_provisioning_template", templateName="fleet",
                   removePreProvisioningHook=True)
    out, _ = call(iot, "describe_provisioning_template", templateName="fleet")
    check(code is None and "preProvisioningHook" not in out, "removePreProvisioningHook %s" % out)
    _, code = call(iot, "update_provisioning_template", templateName="none", enabled=True)
    check(code == "ResourceNotFoundException", "update of no template %s" % code)

    for name in ("gone", "zzz"):
        call(iot, "create_provisioning_template", templateName=name, templateBody=body(name),
             provisioningRoleArn=ROLE)
    _, code = call(iot, "delete_provisioning_template", templateName="gone")
    check(code is None, "delete-provisioning-template %s" % code)
    _, code = call(iot, "describe_provisioning_template", templateName="gone")
    check(code == "ResourceNotFoundException", "a deleted template is gone %s" % code)
    _, code = call(iot, "delete_provisioning_template", templateName="gone")
    check(code == "ResourceNotFoundException", "deleting it again %s" % code)


def after_restart(gw):
    iot, _ = clients(gw)
    names, token = [], None
    while True:
        kw = {"maxResults": 2}
        if token:
            kw["nextToken"] = token
        out, code = call(iot, "list_provisioning_templates", **kw)
        check(code is None, "list-provisioning-templates %s" % code)
        names += [(t["templateName"], t["enabled"], t["type"]) for t in out.get("templates", [])]
        token = out.get("nextToken")
        if not token:
            break
    check(names == [("fleet", True, "FLEET_PROVISIONING"), ("off", False, "FLEET_PROVISIONING"),
                    ("seeded", True, "FLEET_PROVISIONING"), ("zzz", False, "FLEET_PROVISIONING")],
          "after kill -9: the templates, paged, with the config's seed %s" % names)
    out, _ = call(iot, "describe_provisioning_template", templateName="fleet")
    check(out.get("defaultVersionId") == 2 and out.get("description") == "lamps v2",
          "after kill -9: the default version and description %s" % out)
    out, _ = call(iot, "list_provisioning_template_versions", templateName="fleet")
    check([v["versionId"] for v in out.get("versions", [])] == [1, 2, 3, 5],
          "after kill -9: the versions %s" % out)


def devices(gw, d, ca):
    iot, _ = clients(gw)
    out, code = call(iot, "create_keys_and_certificate", setAsActive=True)
    check(code is None, "claim certificate %s" % code)
    with open(os.path.join(d, "claim.pem"), "w") as f:
        f.write(out["certificatePem"])
    with open(os.path.join(d, "claim.key"), "w") as f:
        f.write(out["keyPair"]["PrivateKey"])
    call(iot, "attach_policy", policyName="claim", target=out["certificateArn"])
    claim = out["certificateId"]

    replies = register(gw, d, ca, "fleet=1", "off=2", "seeded=3", "none=4")
    got = replies.get("fleet=1", {})
    check(got.get("accepted", {}).get("thingName") == "v2-1",
          "RegisterThing uses the stored default version (2) %s" % got)
    got = replies.get("off=2", {}).get("rejected", {})
    check(got.get("statusCode") == 404 and got.get("errorCode") == "ResourceNotFound"
          and "disabled" in got.get("errorMessage", ""),
          "a disabled template refuses RegisterThing %s" % got)
    got = replies.get("seeded=3", {})
    check(got.get("accepted", {}).get("thingName") == "seed-3",
          "the config's template, seeded into the store %s" % got)
    got = replies.get("none=4", {}).get("rejected", {})
    check(got.get("errorCode") == "ResourceNotFound", "no such template %s" % got)

    # enabled by update-provisioning-template: the next RegisterThing is accepted.
    call(iot, "update_provisioning_template", templateName="off", enabled=True)
    replies = register(gw, d, ca, "off=5")
    check(replies.get("off=5", {}).get("accepted", {}).get("thingName") == "off-5",
          "an enabled template accepts RegisterThing %s" % replies)
    out, _ = call(iot, "list_things")
    check(sorted(t["thingName"] for t in out.get("things", [])) == ["off-5", "seed-3", "v2-1"],
          "only accepted registrations made things %s" % out)
    return claim


def hooks(gw, d, ca, claim):
    iot, _ = clients(gw)
    site = json.loads(body("x"))
    site["Parameters"]["Site"] = {"Type": "String", "Default": "none"}
    site["Resources"]["thing"]["Properties"]["ThingName"] = {
        "Fn::Join": ["-", [{"Ref": "Site"}, {"Ref": "SerialNumber"}]]}
    for name, arn, text in (("http", "http", body("web")), ("prog", "program", json.dumps(site)),
                            ("broken", "broken", body("b")), ("unset", "unset", body("u"))):
        _, code = call(iot, "create_provisioning_template", templateName=name, templateBody=text,
                       provisioningRoleArn=ROLE, enabled=True,
                       preProvisioningHook={"targetArn": LAMBDA + arn})
        check(code is None, "create-provisioning-template %s with a hook %s" % (name, code))
    HookServer.events.clear()
    replies = register(gw, d, ca, "http=7", "http=deny8", "prog=9", "prog=x10", "broken=11",
                       "unset=12")
    got = replies.get("http=7", {})
    check(got.get("accepted", {}).get("thingName") == "web-h7",
          "the HTTP hook's parameterOverrides are applied %s" % got)
    events = [e for e in HookServer.events if e["parameters"].get("SerialNumber") == "7"]
    e = events[0] if events else {}
    check(e.get("claimCertificateId") == claim and e.get("certificateId") == got.get("certificateId")
          and e.get("certificatePem", "").startswith("-----BEGIN CERTIFICATE")
          and e.get("templateArn") == "arn:aws:iot:%s:000000000000:provisioningtemplate/http"
          % base.REGION and e.get("clientId", "").startswith("claim-")
          and e.get("parameters") == {"SerialNumber": "7"},
          "the hook receives AWS's event %s" % e)
    for key, why in (("http=deny8", "the HTTP hook refuses"), ("prog=x10", "the program refuses"),
                     ("broken=11", "a hook whose function fails refuses"),
                     ("unset=12", "a hook with no function configured refuses")):
        got = replies.get(key, {}).get("rejected", {})
        check(got.get("statusCode") == 403 and got.get("errorCode") == "AccessDenied",
              "%s: 403 AccessDenied %s" % (why, got))
    got = replies.get("prog=9", {})
    check(got.get("accepted", {}).get("thingName") == "p-9",
          "the program hook allows and adds a parameter %s" % got)
    out, _ = call(iot, "list_things")
    names = sorted(t["thingName"] for t in out.get("things", []))
    check(names == ["off-5", "p-9", "seed-3", "v2-1", "web-h7"],
          "a refused RegisterThing makes no thing %s" % names)


JITP_BODY = json.dumps({
    "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"},
                   "AWS::IoT::Certificate::Country": {"Type": "String"},
                   "AWS::IoT::Certificate::Id": {"Type": "String"}},
    "Resources": {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {
            "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
            "AttributePayload": {"country": {"Ref": "AWS::IoT::Certificate::Country"}}}},
        "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
            "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
        "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"},
                {"Effect": "Allow", "Action": "iot:Publish", "Resource":
                 "arn:aws:iot:*:*:topic/jitp/${iot:Connection.Thing.ThingName}"}]})}}}})


def sh(cmd, cwd):
    r = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (cmd, r.stderr))
    return r.stdout


def jitp(gw, d, server_ca):
    iot, _ = clients(gw)
    w = os.path.join(d, "jitp")
    os.makedirs(w)
    sh("openssl ecparam -name prime256v1 -genkey -noout -out ca.key && openssl req -x509 -new "
       "-key ca.key -sha256 -days 30 -out ca.pem -subj '/CN=JITP Root CA'", w)
    code = iot.get_registration_code()["registrationCode"]

    def signed(name, subject):
        sh("openssl ecparam -name prime256v1 -genkey -noout -out %s.key && openssl req -new "
           "-key %s.key -out %s.csr -subj '%s' && openssl x509 -req -in %s.csr -CA ca.pem "
           "-CAkey ca.key -CAcreateserial -out %s.pem -days 30 -sha256"
           % (name, name, name, subject, name, name), w)
        with open(os.path.join(w, name + ".pem")) as f:
            return f.read()
    ca_pem = open(os.path.join(w, "ca.pem")).read()
    verification = signed("verify", "/CN=" + code)
    bad = json.loads(JITP_BODY)
    bad["Resources"]["thing"]["Properties"]["ThingName"] = {"Fn::GetAtt": ["a", "b"]}
    _, err = call(iot, "register_ca_certificate", caCertificate=ca_pem,
                  verificationCertificate=verification, setAsActive=True,
                  allowAutoRegistration=True,
                  registrationConfig={"templateBody": json.dumps(bad), "roleArn": ROLE})
    check(err == "InvalidRequestException", "a bad registrationConfig template is refused %s" % err)
    out, err = call(iot, "register_ca_certificate", caCertificate=ca_pem,
                    verificationCertificate=verification, setAsActive=True,
                    allowAutoRegistration=True,
                    registrationConfig={"templateBody": JITP_BODY, "roleArn": ROLE})
    check(err is None, "register-ca-certificate --registration-config %s" % err)
    ca_id = out.get("certificateId", "")
    out, _ = call(iot, "describe_ca_certificate", certificateId=ca_id)
    check(out.get("registrationConfig") == {"templateBody": JITP_BODY, "roleArn": ROLE},
          "describe-ca-certificate shows the registrationConfig %s" % out.get("registrationConfig"))

    device = signed("device", "/C=DE/CN=jitp-dev-1")
    device_id = sh("openssl x509 -in device.pem -outform der | sha256sum", w)[:64]
    pub = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]),
                          "--cafile", server_ca, "--cert", os.path.join(w, "device.pem"),
                          "--key", os.path.join(w, "device.key"), "-i", "jitp-dev-1",
                          "-t", "jitp/jitp-dev-1", "-m", "1", "-q", "1", "-V", "mqttv5"],
                         capture_output=True, text=True, timeout=30)
    check(pub.returncode == 0, "a device of the CA connects on its first connection and "
          "publishes within its JITP policy: %s" % pub.stderr)
    out, err = call(iot, "describe_thing", thingName="jitp-dev-1")
    check(out.get("attributes") == {"country": "DE"},
          "JITP made the thing from the certificate's subject %s %s" % (out, err))
    out, _ = call(iot, "describe_certificate", certificateId=device_id)
    check(out.get("certificateDescription", {}).get("status") == "ACTIVE",
          "JITP activated the certificate %s" % out.get("certificateDescription", {}).get("status"))
    arn = "arn:aws:iot:%s:000000000000:cert/%s" % (base.REGION, device_id)
    out, _ = call(iot, "list_attached_policies", target=arn)
    check(len(out.get("policies", [])) == 1, "JITP attached the template's policy %s" % out)
    out, _ = call(iot, "list_thing_principals", thingName="jitp-dev-1")
    check([p.rsplit("/", 1)[-1] for p in out.get("principals", [])] == [device_id],
          "JITP attached the certificate to the thing %s" % out)

    # templateName: a JITP template through update-ca-certificate.
    _, err = call(iot, "update_ca_certificate", certificateId=ca_id,
                  registrationConfig={"templateName": "fleet"})
    check(err == "InvalidRequestException", "a FLEET_PROVISIONING template is no JITP one %s" % err)
    named = json.loads(JITP_BODY)
    named["Resources"]["thing"]["Properties"]["ThingName"] = {
        "Fn::Join": ["-", ["named", {"Ref": "AWS::IoT::Certificate::CommonName"}]]}
    _, err = call(iot, "create_provisioning_template", templateName="jitp-named", type="JITP",
                  enabled=True, templateBody=json.dumps(named), provisioningRoleArn=ROLE)
    check(err is None, "create-provisioning-template --type JITP %s" % err)
    _, err = call(iot, "update_ca_certificate", certificateId=ca_id,
                  registrationConfig={"templateName": "jitp-named", "roleArn": ROLE})
    check(err is None, "update-ca-certificate --registration-config templateName %s" % err)
    signed("device2", "/C=FR/CN=dev-2")
    pub = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]),
                          "--cafile", server_ca, "--cert", os.path.join(w, "device2.pem"),
                          "--key", os.path.join(w, "device2.key"), "-i", "named-dev-2",
                          "-t", "jitp/named-dev-2", "-m", "1", "-q", "1", "-V", "mqttv5"],
                         capture_output=True, text=True, timeout=30)
    check(pub.returncode == 0, "a device provisioned by the named JITP template publishes %s"
          % pub.stderr)
    out, err = call(iot, "describe_thing", thingName="named-dev-2")
    check(out.get("attributes") == {"country": "FR"}, "the named JITP template applied %s" % err)


if __name__ == "__main__":
    main()
