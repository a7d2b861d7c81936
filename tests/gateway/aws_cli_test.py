#!/usr/bin/python3
"""The gateway's AWS-shaped API driven by Debian's AWS CLI (/usr/bin/aws) with
--endpoint-url: onboarding a device (thing, keys and certificate, policy, attachments,
then mosquitto_pub/mosquitto_sub over mTLS with that certificate), shadows and publish
through `aws iot-data`, topic rules, pagination over 250 things, error shapes with their
HTTP status, SigV4 refusals (wrong secret, unknown key, stale date) and durability
across a restart.

  tests/gateway/aws_cli_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import base64
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

sys.path.insert(0, "/usr/lib/python3/dist-packages/awscli")  # Debian's botocore (awscli)
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
import botocore.session  # noqa: E402

AWS = "/usr/bin/aws"
KEY, SECRET, REGION = "AKIAIOTBLOCKSTEST01", "s3cr3t/Key+for=the-gateway", "eu-west-1"
# A second key whose policy allows reading things and publishing under lab/ only.
RO_KEY, RO_SECRET = "AKIAIOTBLOCKSREAD01", "read-only-secret"
RO_POLICY = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iot:ListThings", "iot:DescribeThing"], "Resource": "*"},
    {"Effect": "Allow", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:*:*:topic/lab/*"}]}
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kw)


def stop_process(proc, timeout=5):
    """SIGTERM, then SIGKILL when `proc` has not exited within `timeout` seconds
    (mosquitto_sub's SIGTERM handler can deadlock on its own lock)."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


class Gateway:
    def __init__(self, binary, workdir, config):
        self.binary, self.workdir, self.config = binary, workdir, config
        self.proc = None
        self.ports = {}

    def start(self):
        path = os.path.join(self.workdir, "gw.json")
        with open(path, "w") as f:
            json.dump(self.config, f)
        self.proc = subprocess.Popen([self.binary, "gateway", "run", "--config", path],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("gateway exited: rc=%s" % self.proc.poll())
            parts = line.split()
            if len(parts) == 2 and "://" in parts[1]:
                self.ports[parts[0]] = int(parts[1].rsplit(":", 1)[1])
            if parts and parts[0] == "data":
                return
        raise RuntimeError("gateway did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.ports["http"]


def aws(gw, *args, secret=SECRET, key=KEY):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=key, AWS_SECRET_ACCESS_KEY=secret,
               AWS_DEFAULT_REGION=REGION, AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true",
               AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    env.pop("AWS_PROFILE", None)
    r = run([AWS, *args, "--endpoint-url", gw.url, "--output", "json"], env=env)
    out = None
    if r.returncode == 0 and r.stdout.strip():
        out = json.loads(r.stdout)
    return r.returncode, out, r.stderr


def signed(gw, method, path, body=b"", service="execute-api", secret=SECRET, key=KEY,
           when=None, headers=None):
    """A request signed by botocore's SigV4 signer; returns (status, headers, json body)."""
    req = AWSRequest(method=method, url=gw.url + path, data=body, headers=headers or {})
    with mock.patch("botocore.auth.datetime") as dt:
        now = when or datetime.datetime.utcnow()
        dt.datetime.utcnow.return_value = now
        dt.datetime.now.return_value = now
        SigV4Auth(Credentials(key, secret), service, REGION).add_auth(req)
    p = req.prepare()
    r = urllib.request.Request(p.url, data=body or None, headers=dict(p.headers), method=method)
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            data = resp.read()
            return resp.status, resp.headers, json.loads(data) if data.strip() else {}
    except urllib.error.HTTPError as e:
        data = e.read()
        return e.code, e.headers, json.loads(data) if data.strip() else {}


def expect_error(gw, what, status, error_type, method, path, body=b"", **kw):
    code, headers, doc = signed(gw, method, path, body, **kw)
    got_type = (headers.get("x-amzn-ErrorType") or "").split(":")[0]
    check(code == status and got_type == error_type and isinstance(doc.get("message"), str),
          "%s -> %d %s (got %d %s %s)" % (what, status, error_type, code, got_type, doc))
    return doc


def make_server_tls(d):
    ca_key, ca = os.path.join(d, "ca.key"), os.path.join(d, "ca.pem")
    key, csr, cert = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", "/CN=test server CA"])
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"])
    ext = os.path.join(d, "ext.cnf")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext])
    return ca, cert, key


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-aws-")
    try:
        ca, cert, key = make_server_tls(d)
        config = {
            "data_dir": os.path.join(d, "data"),
            "authorize": True,
            "listeners": [
                {"type": "mqtts", "port": 0, "tls": {"cert_file": cert, "key_file": key,
                                                      "require_client_cert": True}},
                {"type": "http", "port": 0},
            ],
            "aws_access_keys": [{"access_key_id": KEY, "secret_access_key": SECRET},
                                {"access_key_id": RO_KEY, "secret_access_key": RO_SECRET,
                                 "policy": RO_POLICY}],
        }
        gw = Gateway(binary, d, config)
        gw.start()
        try:
            scenario(gw, d, ca)
            thing_types(gw)
            gw.stop()
            gw.start()
            rc, out, err = aws(gw, "iot", "describe-thing-type", "--thing-type-name", "LightBulb")
            check(rc == 0 and out["thingTypeMetadata"]["deprecated"] is True,
                  "after a restart LightBulb is still deprecated " + err)
            rc, out, err = aws(gw, "iot", "describe-thing", "--thing-name", "sensor-1")
            check(rc == 0 and out["attributes"] == {"room": "lab"},
                  "after a restart describe-thing still finds sensor-1 " + err)
            rc, out, err = aws(gw, "iot", "list-things", "--page-size", "100")
            check(rc == 0 and len(out["things"]) == 251, "after a restart 251 things " + err)
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all passed")


def scenario(gw, d, server_ca):
    # SigV4 refusals.
    rc, _, err = aws(gw, "iot", "list-things", secret="wrong-secret")
    check(rc != 0 and "InvalidSignatureException" in err, "wrong secret refused by the CLI")
    expect_error(gw, "wrong secret", 403, "InvalidSignatureException", "GET", "/things",
                 secret="wrong-secret")
    expect_error(gw, "unknown access key", 403, "UnrecognizedClientException", "GET", "/things",
                 key="AKIAUNKNOWN")
    doc = expect_error(gw, "stale date", 403, "InvalidSignatureException", "GET", "/things",
                       when=datetime.datetime.utcnow() - datetime.timedelta(minutes=20))
    check("Signature expired" in doc.get("message", ""), "stale date says Signature expired")
    expect_error(gw, "unknown route", 400, "UnknownOperationException", "GET", "/no-such-route")
    expect_error(gw, "unknown data-plane route", 400, "UnknownOperationException", "GET",
                 "/things/x/nothing", service="iotdata")
    code, _, _ = signed(gw, "GET", "/things")
    check(code == 200, "a correctly signed list-things is 200")

    # The second key's policy decides what it may do.
    rc, out, err = aws(gw, "iot", "list-things", key=RO_KEY, secret=RO_SECRET)
    check(rc == 0, "the restricted key may list things " + err)
    rc, _, err = aws(gw, "iot", "create-thing", "--thing-name", "nope", key=RO_KEY,
                     secret=RO_SECRET)
    check(rc != 0 and "AccessDeniedException" in err, "the restricted key may not create " + err)
    doc = expect_error(gw, "create-thing by the restricted key", 403, "AccessDeniedException",
                       "POST", "/things/nope", b"{}", key=RO_KEY, secret=RO_SECRET)
    check("iot:CreateThing" in doc.get("message", "") and ":thing/nope" in doc.get("message", ""),
          "the refusal names the action and the resource")
    code, _, _ = signed(gw, "POST", "/topics/lab%2Fok", b"1", service="iotdata", key=RO_KEY,
                        secret=RO_SECRET)
    check(code == 200, "the restricted key may publish under lab/")
    expect_error(gw, "publish outside lab/ by the restricted key", 403, "AccessDeniedException",
                 "POST", "/topics/other%2Fx", b"1", service="iotdata", key=RO_KEY,
                 secret=RO_SECRET)
    expect_error(gw, "retained publish without iot:RetainPublish", 403, "AccessDeniedException",
                 "POST", "/topics/lab%2Fok?retain=true", b"1", service="iotdata", key=RO_KEY,
                 secret=RO_SECRET)

    # Onboarding: thing, keys and certificate, policy, attachments, then MQTT over mTLS.
    rc, out, err = aws(gw, "iot", "create-thing", "--thing-name", "sensor-1",
                       "--attribute-payload", '{"attributes":{"room":"lab"}}')
    check(rc == 0 and out["thingName"] == "sensor-1" and out["thingArn"].endswith(
        ":thing/sensor-1"), "create-thing " + err)
    rc, out, err = aws(gw, "iot", "create-keys-and-certificate", "--set-as-active")
    check(rc == 0 and "BEGIN CERTIFICATE" in out["certificatePem"], "create-keys-and-certificate "
          + err)
    cert_arn, cert_id = out["certificateArn"], out["certificateId"]
    device_cert, device_key = os.path.join(d, "device.pem"), os.path.join(d, "device.key")
    with open(device_cert, "w") as f:
        f.write(out["certificatePem"])
    with open(device_key, "w") as f:
        f.write(out["keyPair"]["PrivateKey"])
    check("PUBLIC KEY" in out["keyPair"]["PublicKey"], "keyPair.PublicKey is a PEM public key")
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}
    rc, out, err = aws(gw, "iot", "create-policy", "--policy-name", "device-policy",
                       "--policy-document", json.dumps(policy))
    check(rc == 0 and out["policyVersionId"] == "1", "create-policy " + err)
    rc, _, err = aws(gw, "iot", "attach-policy", "--policy-name", "device-policy", "--target",
                     cert_arn)
    check(rc == 0, "attach-policy " + err)
    rc, _, err = aws(gw, "iot", "attach-thing-principal", "--thing-name", "sensor-1",
                     "--principal", cert_arn)
    check(rc == 0, "attach-thing-principal " + err)
    rc, out, err = aws(gw, "iot", "list-principal-things", "--principal", cert_arn)
    check(rc == 0 and out["things"] == ["sensor-1"], "list-principal-things " + err)
    rc, out, err = aws(gw, "iot", "list-thing-principals", "--thing-name", "sensor-1")
    check(rc == 0 and out["principals"] == [cert_arn], "list-thing-principals " + err)
    rc, out, err = aws(gw, "iot", "list-attached-policies", "--target", cert_arn)
    check(rc == 0 and [p["policyName"] for p in out["policies"]] == ["device-policy"],
          "list-attached-policies " + err)
    rc, out, err = aws(gw, "iot", "list-targets-for-policy", "--policy-name", "device-policy")
    check(rc == 0 and out["targets"] == [cert_arn], "list-targets-for-policy " + err)
    rc, out, err = aws(gw, "iot", "describe-certificate", "--certificate-id", cert_id)
    check(rc == 0 and out["certificateDescription"]["status"] == "ACTIVE",
          "describe-certificate " + err)
    rc, out, err = aws(gw, "iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
    check(rc == 0 and out["endpointAddress"] == "127.0.0.1:%d" % gw.ports["mqtts"],
          "describe-endpoint " + err)

    port = str(gw.ports["mqtts"])
    tls = ["-h", "127.0.0.1", "-p", port, "--cafile", server_ca, "--cert", device_cert,
           "--key", device_key]
    sub = subprocess.Popen(["mosquitto_sub", *tls, "-i", "sensor-1-sub", "-t", "lab/+/temp",
                            "-C", "2", "-W", "20", "-v"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    pub = run(["mosquitto_pub", *tls, "-i", "sensor-1", "-t", "lab/1/temp", "-m", "21.5",
               "-q", "1"])
    check(pub.returncode == 0, "mosquitto_pub with the new certificate " + pub.stderr)
    # iot-data publish reaches the same MQTT subscriber.
    rc, _, err = aws(gw, "iot-data", "publish", "--topic", "lab/2/temp", "--qos", "1",
                     "--cli-binary-format", "raw-in-base64-out", "--payload", '{"t":22}')
    check(rc == 0, "iot-data publish " + err)
    out, serr = sub.communicate(timeout=30)
    check(out.splitlines() == ["lab/1/temp 21.5", 'lab/2/temp {"t":22}'],
          "mosquitto_sub saw the device's and iot-data's messages: %r %s" % (out, serr))

    # MQTT 5 properties as AWS's Publish takes them (headers and query parameters).
    sub = subprocess.Popen(["mosquitto_sub", *tls, "-i", "props-sub", "-V", "mqttv5", "-t",
                            "lab/props", "-C", "1", "-W", "15", "-F", "%t|%C|%R|%F|%P|%D|%p"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    rc, _, err = aws(gw, "iot-data", "publish", "--topic", "lab/props", "--qos", "1",
                     "--content-type", "application/json", "--response-topic", "lab/reply",
                     "--payload-format-indicator", "UTF8_DATA", "--user-properties",
                     '[{"a":"1"},{"b":"2"}]', "--correlation-data", "Y29ycg==",
                     "--message-expiry", "60", "--cli-binary-format", "raw-in-base64-out",
                     "--payload", '{"v":1}')
    check(rc == 0, "iot-data publish with MQTT 5 properties " + err)
    out, serr = sub.communicate(timeout=20)
    check(out.strip() == 'lab/props|application/json|lab/reply|1|a:1 b:2|corr|{"v":1}',
          "the subscriber sees the MQTT 5 properties: %r %s" % (out, serr))

    # Retained publish through iot-data, seen by a later subscriber.
    rc, _, err = aws(gw, "iot-data", "publish", "--topic", "lab/state", "--retain",
                     "--cli-binary-format", "raw-in-base64-out", "--payload", "on")
    check(rc == 0, "iot-data publish --retain " + err)
    late = run(["mosquitto_sub", *tls, "-i", "sensor-1-late", "-t", "lab/state", "-C", "1",
                "-W", "10"])
    check(late.stdout.strip() == "on", "a later subscriber gets the retained message %r"
          % late.stdout)

    # The retained store through iot-data: get (payload, qos, time, user properties),
    # list in pages, and gone once cleared.
    before_ms = int(time.time() * 1000)
    rc, _, err = aws(gw, "iot-data", "publish", "--topic", "lab/zone/a", "--retain", "--qos", "1",
                     "--user-properties", '[{"site":"north"}]', "--cli-binary-format",
                     "raw-in-base64-out", "--payload", "closed")
    check(rc == 0, "iot-data publish --retain with a user property " + err)
    rc, out, err = aws(gw, "iot-data", "get-retained-message", "--topic", "lab/zone/a")
    check(rc == 0, "get-retained-message " + err)
    got = out
    check(got["topic"] == "lab/zone/a" and base64.b64decode(got["payload"]) == b"closed" and
          got["qos"] == 1 and before_ms <= got["lastModifiedTime"] <= int(time.time() * 1000),
          "get-retained-message answers as AWS: %r" % got)
    # userProperties is newer than the CLI's model, which drops it: read it signed.
    code, _, doc = signed(gw, "GET", "/retainedMessage/lab%2Fzone%2Fa", service="iotdata")
    check(code == 200 and
          json.loads(base64.b64decode(doc.get("userProperties", ""))) == [{"site": "north"}],
          "get-retained-message gives the user properties: %d %r" % (code, doc))
    rc, out, err = aws(gw, "iot-data", "list-retained-messages", "--no-paginate",
                       "--max-results", "1")
    page = out or {}
    check(rc == 0 and [t["topic"] for t in page["retainedTopics"]] == ["lab/state"] and
          page["retainedTopics"][0]["payloadSize"] == 2 and "nextToken" in page,
          "list-retained-messages, first page of one: %r %s" % (out, err))
    rc, out, err = aws(gw, "iot-data", "list-retained-messages", "--no-paginate",
                       "--max-results", "1", "--next-token", page.get("nextToken", ""))
    page = out or {}
    check(rc == 0 and [t["topic"] for t in page["retainedTopics"]] == ["lab/zone/a"] and
          "nextToken" not in page, "list-retained-messages, last page: %r %s" % (out, err))
    aws(gw, "iot-data", "publish", "--topic", "lab/zone/a", "--retain", "--payload", "")
    expect_error(gw, "a cleared retained message", 404, "ResourceNotFoundException", "GET",
                 "/retainedMessage/lab%2Fzone%2Fa", service="iotdata")

    # Shadows (classic and named).
    shadow_out = os.path.join(d, "shadow.json")
    rc, _, err = aws(gw, "iot-data", "update-thing-shadow", "--thing-name", "sensor-1",
                     "--cli-binary-format", "raw-in-base64-out", "--payload",
                     '{"state":{"desired":{"on":true}}}', shadow_out)
    check(rc == 0 and json.load(open(shadow_out))["state"]["desired"] == {"on": True},
          "update-thing-shadow " + err)
    rc, _, err = aws(gw, "iot-data", "get-thing-shadow", "--thing-name", "sensor-1", shadow_out)
    doc = json.load(open(shadow_out)) if rc == 0 else {}
    check(rc == 0 and doc["state"]["desired"] == {"on": True} and doc["state"]["delta"] == {
        "on": True}, "get-thing-shadow " + err)
    rc, _, err = aws(gw, "iot-data", "update-thing-shadow", "--thing-name", "sensor-1",
                     "--shadow-name", "config", "--cli-binary-format", "raw-in-base64-out",
                     "--payload", '{"state":{"reported":{"rate":5}}}', shadow_out)
    check(rc == 0, "update-thing-shadow --shadow-name " + err)
    rc, _, err = aws(gw, "iot-data", "get-thing-shadow", "--thing-name", "sensor-1",
                     "--shadow-name", "config", shadow_out)
    check(rc == 0 and json.load(open(shadow_out))["state"]["reported"] == {"rate": 5},
          "get-thing-shadow --shadow-name " + err)
    for name in ("b-shadow", "a-shadow"):
        aws(gw, "iot-data", "update-thing-shadow", "--thing-name", "sensor-1", "--shadow-name",
            name, "--cli-binary-format", "raw-in-base64-out", "--payload",
            '{"state":{"reported":{"x":1}}}', shadow_out)
    rc, out, err = aws(gw, "iot-data", "list-named-shadows-for-thing", "--thing-name",
                       "sensor-1")
    check(rc == 0 and out["results"] == ["a-shadow", "b-shadow", "config"],
          "list-named-shadows-for-thing " + err)
    rc, out, err = aws(gw, "iot-data", "list-named-shadows-for-thing", "--thing-name",
                       "sensor-1", "--page-size", "2")
    check(rc == 0 and out["results"] == ["a-shadow", "b-shadow"] and "nextToken" in out,
          "list-named-shadows-for-thing --page-size 2 " + err)
    rc, out, err = aws(gw, "iot-data", "list-named-shadows-for-thing", "--thing-name",
                       "sensor-1", "--page-size", "2", "--next-token", out["nextToken"])
    check(rc == 0 and out["results"] == ["config"] and "nextToken" not in out,
          "list-named-shadows-for-thing next page " + err)
    rc, _, err = aws(gw, "iot-data", "delete-thing-shadow", "--thing-name", "sensor-1",
                     "--shadow-name", "config", shadow_out)
    check(rc == 0, "delete-thing-shadow --shadow-name " + err)
    rc, _, err = aws(gw, "iot-data", "get-thing-shadow", "--thing-name", "sensor-1",
                     "--shadow-name", "config", shadow_out)
    check(rc != 0 and "ResourceNotFoundException" in err, "deleted shadow is not found " + err)
    expect_error(gw, "get-thing-shadow of a missing shadow", 404, "ResourceNotFoundException",
                 "GET", "/things/sensor-1/shadow?name=nothing", service="iotdata")
    expect_error(gw, "update-thing-shadow with a bad document", 400, "InvalidRequestException",
                 "POST", "/things/sensor-1/shadow", b'{"state":', service="iotdata")
    expect_error(gw, "publish with qos 2", 400, "InvalidRequestException", "POST",
                 "/topics/a?qos=2", b"x", service="iotdata")

    # Topic rule from a JSON file, seen to fire.
    rule_file = os.path.join(d, "rule.json")
    with open(rule_file, "w") as f:
        json.dump({"sql": "SELECT t * 2 AS t2 FROM 'lab/+/temp'", "ruleDisabled": False,
                   "awsIotSqlVersion": "2016-03-23",
                   "actions": [{"republish": {"topic": "lab/doubled", "qos": 0,
                                              "roleArn": "arn:aws:iam::000000000000:role/r"}}]}, f)
    rc, _, err = aws(gw, "iot", "create-topic-rule", "--rule-name", "doubler",
                     "--topic-rule-payload", "file://" + rule_file)
    check(rc == 0, "create-topic-rule from a file " + err)
    rc, out, err = aws(gw, "iot", "get-topic-rule", "--rule-name", "doubler")
    check(rc == 0 and out["rule"]["sql"].startswith("SELECT t * 2") and out["ruleArn"].endswith(
        ":rule/doubler"), "get-topic-rule " + err)
    rc, out, err = aws(gw, "iot", "list-topic-rules")
    check(rc == 0 and [(r["ruleName"], r["topicPattern"]) for r in out["rules"]] == [
        ("doubler", "lab/+/temp")], "list-topic-rules " + err)
    sub = subprocess.Popen(["mosquitto_sub", *tls, "-i", "rule-sub", "-t", "lab/doubled",
                            "-C", "1", "-W", "15"], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    aws(gw, "iot-data", "publish", "--topic", "lab/3/temp", "--cli-binary-format",
        "raw-in-base64-out", "--payload", '{"t":21}')
    out, _ = sub.communicate(timeout=20)
    check(out.strip() == '{"t2":42}', "the rule fired: %r" % out)
    rc, _, err = aws(gw, "iot", "create-topic-rule", "--rule-name", "doubler",
                     "--topic-rule-payload", "file://" + rule_file)
    check(rc != 0 and "ResourceAlreadyExistsException" in err, "create-topic-rule twice " + err)
    doc = expect_error(gw, "create-topic-rule with bad SQL", 400, "SqlParseException", "POST",
                       "/rules/broken", b'{"sql":"SELECT FROM WHERE","actions":[]}')

    # Error shapes with their HTTP status.
    rc, _, err = aws(gw, "iot", "describe-thing", "--thing-name", "nobody")
    check(rc != 0 and "ResourceNotFoundException" in err, "describe-thing missing (CLI) " + err)
    expect_error(gw, "describe-thing missing", 404, "ResourceNotFoundException", "GET",
                 "/things/nobody")
    expect_error(gw, "create-policy twice", 409, "ResourceAlreadyExistsException", "POST",
                 "/policies/device-policy", json.dumps({"policyDocument": json.dumps(policy)})
                 .encode())
    expect_error(gw, "create-thing again with other attributes", 409,
                 "ResourceAlreadyExistsException", "POST", "/things/sensor-1",
                 b'{"attributePayload":{"attributes":{"room":"hall"}}}')
    doc = expect_error(gw, "create-thing with a number attribute", 400, "InvalidRequestException",
                       "POST", "/things/x1", b'{"attributePayload":{"attributes":{"room":5}}}')
    check("attributePayload.attributes.room" in doc.get("message", ""),
          "the message names the field: %s" % doc)
    doc = expect_error(gw, "create-thing with malformed JSON", 400, "InvalidRequestException",
                       "POST", "/things/x2", b'{"attributePayload":')
    expect_error(gw, "update-thing with a stale expectedVersion", 409, "VersionConflictException",
                 "PATCH", "/things/sensor-1", b'{"expectedVersion":99}')
    doc = expect_error(gw, "list-things maxResults over 250", 400, "InvalidRequestException",
                       "GET", "/things?maxResults=251")
    check("maxResults" in doc.get("message", ""), "the message names maxResults")
    expect_error(gw, "delete-policy while attached", 409, "DeleteConflictException", "DELETE",
                 "/policies/device-policy")
    expect_error(gw, "delete-certificate while ACTIVE", 406, "CertificateStateException",
                 "DELETE", "/certificates/" + cert_id)
    rc, out, err = aws(gw, "iot", "update-thing", "--thing-name", "sensor-1",
                       "--attribute-payload", '{"attributes":{"floor":"2"},"merge":true}')
    rc, out, err = aws(gw, "iot", "describe-thing", "--thing-name", "sensor-1")
    check(rc == 0 and out["attributes"] == {"room": "lab", "floor": "2"} and out["version"] == 2,
          "update-thing merges attributes and bumps the version " + err)
    rc, _, _ = aws(gw, "iot", "update-thing", "--thing-name", "sensor-1",
                   "--attribute-payload", '{"attributes":{"floor":""},"merge":true}')
    # Policy versions.
    policy2 = dict(policy, Statement=[{"Effect": "Allow", "Action": "iot:Connect",
                                       "Resource": "*"}])
    rc, out, err = aws(gw, "iot", "create-policy-version", "--policy-name", "device-policy",
                       "--policy-document", json.dumps(policy2))
    check(rc == 0 and out["policyVersionId"] == "2" and out["isDefaultVersion"] is False,
          "create-policy-version " + err)
    rc, out, err = aws(gw, "iot", "list-policy-versions", "--policy-name", "device-policy")
    check(rc == 0 and [(v["versionId"], v["isDefaultVersion"]) for v in out["policyVersions"]]
          == [("2", False), ("1", True)], "list-policy-versions " + err)
    rc, out, err = aws(gw, "iot", "get-policy-version", "--policy-name", "device-policy",
                       "--policy-version-id", "2")
    check(rc == 0 and json.loads(out["policyDocument"]) == policy2, "get-policy-version " + err)
    rc, _, err = aws(gw, "iot", "delete-policy-version", "--policy-name", "device-policy",
                     "--policy-version-id", "2")
    check(rc == 0, "delete-policy-version " + err)
    rc, out, err = aws(gw, "iot", "get-policy", "--policy-name", "device-policy")
    check(rc == 0 and out["defaultVersionId"] == "1" and json.loads(out["policyDocument"]) ==
          policy, "get-policy " + err)

    ca_registration(gw, d, server_ca, cert_arn)
    csr_onboarding(gw, d, server_ca)

    # Pagination over 250 things (created with signed requests, listed by the CLI).
    for i in range(250):
        code, _, _ = signed(gw, "POST", "/things/bulk-%03d" % i, b"{}")
        if code != 200:
            check(False, "create bulk thing %d" % i)
            break
    rc, out, err = aws(gw, "iot", "list-things", "--page-size", "40")
    names = [t["thingName"] for t in out["things"]] if rc == 0 else []
    check(len(names) == 251 and len(set(names)) == 251 and names == sorted(names),
          "list-things follows nextToken over 251 things (%d) %s" % (len(names), err))
    rc, out, err = aws(gw, "iot", "list-things", "--max-items", "100", "--page-size", "30")
    check(rc == 0 and len(out["things"]) == 100 and "NextToken" in out,
          "list-things --max-items 100 returns a NextToken " + err)
    rc, out2, err = aws(gw, "iot", "list-things", "--starting-token", out["NextToken"],
                        "--page-size", "30")
    first = [t["thingName"] for t in out["things"]]
    rest = [t["thingName"] for t in out2["things"]] if rc == 0 else []
    check(first + rest == names, "--starting-token continues where the page ended " + err)
    code, _, doc = signed(gw, "GET", "/things?maxResults=250")
    check(code == 200 and len(doc["things"]) == 250 and "nextToken" in doc,
          "maxResults=250 gives 250 things and a nextToken")
    expect_error(gw, "list-things with a forged nextToken", 400, "InvalidRequestException",
                 "GET", "/things?nextToken=%25%25")


def thing_types(gw):
    """The CLI for create and deprecate, then botocore in this process (the same service model,
    without a second of CLI start-up per call)."""
    rc, out, err = aws(gw, "iot", "create-thing-type", "--thing-type-name", "LightBulb",
                       "--thing-type-properties",
                       "thingTypeDescription=light bulb type,searchableAttributes=wattage,model")
    check(rc == 0 and out["thingTypeArn"].endswith(":thingtype/LightBulb") and out["thingTypeId"],
          "create-thing-type " + err)
    iot = botocore.session.get_session().create_client(
        "iot", region_name=REGION, endpoint_url=gw.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET)

    def error_of(op, **kw):
        try:
            getattr(iot, op)(**kw)
            return None, ""
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"]["Message"]

    check(error_of("create_thing_type", thingTypeName="LightBulb")[0] ==
          "ResourceAlreadyExistsException", "create-thing-type again is 409")
    out = iot.describe_thing_type(thingTypeName="LightBulb")
    check(out["thingTypeProperties"] == {"thingTypeDescription": "light bulb type",
                                         "searchableAttributes": ["wattage", "model"]}
          and out["thingTypeMetadata"]["deprecated"] is False, "describe-thing-type %s" % out)
    check(error_of("create_thing", thingName="bulb-1", thingTypeName="NoSuchType")[0] ==
          "ResourceNotFoundException", "create-thing with a missing type is 404")
    iot.create_thing(thingName="bulb-1", thingTypeName="LightBulb")
    out = iot.list_things(thingTypeName="LightBulb")
    check([t["thingName"] for t in out["things"]] == ["bulb-1"], "list-things by type %s" % out)
    rc, _, err = aws(gw, "iot", "deprecate-thing-type", "--thing-type-name", "LightBulb")
    check(rc == 0, "deprecate-thing-type " + err)
    code, message = error_of("create_thing", thingName="bulb-2", thingTypeName="LightBulb")
    check(code == "InvalidRequestException" and "deprecated" in message,
          "create-thing with a deprecated type: %s %s" % (code, message))
    code, message = error_of("delete_thing_type", thingTypeName="LightBulb")
    check(code == "InvalidRequestException" and "bulb-1" in message,
          "delete-thing-type while bulb-1 has it: %s %s" % (code, message))
    iot.delete_thing(thingName="bulb-1")
    code, message = error_of("delete_thing_type", thingTypeName="LightBulb")
    check(code == "InvalidRequestException" and "5 minutes" in message,
          "delete-thing-type right after deprecation: %s %s" % (code, message))
    out = iot.list_thing_types()
    check([t["thingTypeName"] for t in out["thingTypes"]] == ["LightBulb"]
          and out["thingTypes"][0]["thingTypeMetadata"]["deprecated"] is True,
          "list-thing-types %s" % out)


def ca_registration(gw, d, server_ca, first_cert_arn):
    """Bring-your-own CA with a verification certificate, then register-certificate of a
    device certificate made under it, which then connects over mTLS."""
    p = lambda n: os.path.join(d, n)  # noqa: E731
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", p("byo-ca.key"), "-out", p("byo-ca.pem"),
         "-days", "2", "-subj", "/CN=fleet CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    rc, out, err = aws(gw, "iot", "get-registration-code")
    check(rc == 0 and len(out["registrationCode"]) >= 32, "get-registration-code " + err)
    code = out["registrationCode"]
    with open(p("leaf.cnf"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
    for name, cn in (("verification", code), ("byo-device", "byo-device")):
        run(["openssl", "req", *ec, "-keyout", p(name + ".key"), "-out", p(name + ".csr"),
             "-subj", "/CN=" + cn])
        run(["openssl", "x509", "-req", "-in", p(name + ".csr"), "-CA", p("byo-ca.pem"),
             "-CAkey", p("byo-ca.key"), "-CAcreateserial", "-out", p(name + ".pem"), "-days", "2",
             "-extfile", p("leaf.cnf")])
    rc, out, err = aws(gw, "iot", "register-ca-certificate", "--ca-certificate",
                       "file://" + p("byo-ca.pem"), "--verification-certificate",
                       "file://" + p("verification.pem"), "--set-as-active",
                       "--allow-auto-registration")
    check(rc == 0 and out["certificateArn"].endswith(":cacert/" + out["certificateId"]),
          "register-ca-certificate with a verification certificate " + err)
    ca_id = out["certificateId"] if rc == 0 else ""
    rc, out, err = aws(gw, "iot", "describe-ca-certificate", "--certificate-id", ca_id)
    check(rc == 0 and out["certificateDescription"]["status"] == "ACTIVE" and
          out["certificateDescription"]["autoRegistrationStatus"] == "ENABLE",
          "describe-ca-certificate " + err)
    rc, out, err = aws(gw, "iot", "list-ca-certificates")
    check(rc == 0 and ca_id in [c["certificateId"] for c in out["certificates"]],
          "list-ca-certificates " + err)
    # Another CA whose verification certificate does not carry the registration code.
    run(["openssl", "req", "-x509", *ec, "-keyout", p("ca2.key"), "-out", p("ca2.pem"), "-days",
         "2", "-subj", "/CN=other CA", "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req", *ec, "-keyout", p("wrong.key"), "-out", p("wrong.csr"), "-subj",
         "/CN=not-the-code"])
    run(["openssl", "x509", "-req", "-in", p("wrong.csr"), "-CA", p("ca2.pem"), "-CAkey",
         p("ca2.key"), "-CAcreateserial", "-out", p("wrong.pem"), "-days", "2", "-extfile",
         p("leaf.cnf")])
    expect_error(gw, "register-ca-certificate with the wrong verification", 400,
                 "RegistrationCodeValidationException", "POST", "/cacertificate",
                 json.dumps({"caCertificate": open(p("ca2.pem")).read(),
                             "verificationCertificate": open(p("wrong.pem")).read()}).encode())
    rc, out, err = aws(gw, "iot", "register-certificate", "--certificate-pem",
                       "file://" + p("byo-device.pem"), "--ca-certificate-pem",
                       "file://" + p("byo-ca.pem"), "--set-as-active")
    check(rc == 0, "register-certificate of a device certificate " + err)
    arn, cert_id = (out["certificateArn"], out["certificateId"]) if rc == 0 else ("", "")
    rc, out, err = aws(gw, "iot", "list-certificates")
    check(rc == 0 and cert_id in [c["certificateId"] for c in out["certificates"]],
          "list-certificates shows it " + err)
    rc, _, err = aws(gw, "iot", "attach-policy", "--policy-name", "device-policy", "--target", arn)
    check(rc == 0, "attach-policy to the registered certificate " + err)
    code, _, first = signed(gw, "POST", "/policy-targets/device-policy?pageSize=1")
    code2, _, second = signed(gw, "POST", "/policy-targets/device-policy?pageSize=1&marker="
                              + urllib.parse.quote(first.get("nextMarker", ""), safe=""))
    check(code == 200 and code2 == 200 and len(first["targets"]) == 1 and
          len(second["targets"]) == 1 and "nextMarker" not in second and
          sorted(first["targets"] + second["targets"]) == sorted([arn, first_cert_arn]),
          "list-targets-for-policy pages with pageSize/marker: %s %s" % (first, second))
    rc, out, err = aws(gw, "iot", "list-targets-for-policy", "--policy-name", "device-policy")
    check(rc == 0 and sorted(out["targets"]) == sorted([arn, first_cert_arn]),
          "list-targets-for-policy " + err)
    tls = ["-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]), "--cafile", server_ca, "--cert",
           p("byo-device.pem"), "--key", p("byo-device.key"), "-i", "byo-device", "-t", "x",
           "-m", "1", "-q", "1", "-V", "mqttv5"]
    pub = run(["mosquitto_pub", *tls])
    check(pub.returncode == 0, "the registered device connects and publishes " + pub.stderr)
    rc, _, err = aws(gw, "iot", "update-certificate", "--certificate-id", cert_id,
                     "--new-status", "INACTIVE")
    check(rc == 0, "update-certificate INACTIVE " + err)
    pub = run(["mosquitto_pub", *tls])
    check(pub.returncode != 0, "an INACTIVE certificate is refused")
    rc, _, err = aws(gw, "iot", "delete-certificate", "--certificate-id", cert_id)
    check(rc != 0 and "DeleteConflictException" in err, "delete-certificate with a policy " + err)
    rc, _, err = aws(gw, "iot", "delete-certificate", "--certificate-id", cert_id,
                     "--force-delete")
    check(rc == 0, "delete-certificate --force-delete " + err)
    rc, _, err = aws(gw, "iot", "describe-certificate", "--certificate-id", cert_id)
    check(rc != 0 and "ResourceNotFoundException" in err, "the certificate is gone " + err)


def csr_onboarding(gw, d, server_ca):
    """create-certificate-from-csr: the device keeps its key; the certificate then connects."""
    p = lambda n: os.path.join(d, n)  # noqa: E731
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", p("csr-device.key"), "-out", p("csr-device.csr"), "-subj",
         "/CN=csr-device"])
    rc, out, err = aws(gw, "iot", "create-certificate-from-csr", "--certificate-signing-request",
                       "file://" + p("csr-device.csr"), "--set-as-active")
    check(rc == 0 and "BEGIN CERTIFICATE" in out["certificatePem"],
          "create-certificate-from-csr " + err)
    if rc != 0:
        return
    with open(p("csr-device.pem"), "w") as f:
        f.write(out["certificatePem"])
    rc, _, err = aws(gw, "iot", "attach-policy", "--policy-name", "device-policy", "--target",
                     out["certificateArn"])
    check(rc == 0, "attach-policy to the CSR certificate " + err)
    pub = run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]), "--cafile",
               server_ca, "--cert", p("csr-device.pem"), "--key", p("csr-device.key"), "-i",
               "csr-device", "-t", "x", "-m", "1", "-q", "1", "-V", "mqttv5"])
    check(pub.returncode == 0, "the CSR device connects with its own key " + pub.stderr)
    doc = expect_error(gw, "create-certificate-from-csr with garbage", 400,
                       "InvalidRequestException", "POST", "/certificates",
                       b'{"certificateSigningRequest":"not a CSR"}')
    check("certificateSigningRequest" in doc.get("message", ""), "the message names the field")


if __name__ == "__main__":
    main()
