#!/usr/bin/python3
"""AWS IoT device compatibility of the gateway binary, with the AWS CLI, mosquitto and
paho on 127.0.0.1 (what the AWS IoT Device SDKs do is in aws_sdk_migration_test.js):

- account: the AWS guide's CA and device certificate registered with the AWS CLI
  (register-ca-certificate, register-certificate, ARNs and ownedBy naming the configured
  account), mosquitto under a policy copied verbatim from the account, the operator log
  line of each denial; "any_account" lets another account's policy work; the strict
  profile refuses the guide's CA, and so does `iotblocks x509 verify --profile strict`;
  register-certificate-without-ca, JITR;
- reserved topics: what is allowed to subscribe, Basic Ingest with the FROM filter
  ignored and to an unknown rule, lifecycle events refused, MQTT 3.1.1 closing on an
  unimplemented topic, shadows unaffected, and the operator log's rate limit.

  tests/gateway/aws_device_test.py build/<dir>/apps/iotblocks/iotblocks [case...]
"""
import json
import os
import queue
import subprocess
import sys
import socket
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_cli_test import (KEY, SECRET, Gateway, aws, check, expect_error,  # noqa: E402
                          failures, make_server_tls, run, signed)

import paho.mqtt.client as mqtt  # noqa: E402  (Debian python3-paho-mqtt)

TIMEOUT = 10

class LoggedGateway(Gateway):
    """The gateway binary with extra arguments; its output (the operator log is on standard
    error, merged) is read by a thread into `lines` once it has started."""

    def __init__(self, binary, workdir, config, args=()):
        super().__init__(binary, workdir, config)
        self.args = list(args)
        self.lines = queue.Queue()
        self.seen = []

    def start(self):
        real = subprocess.Popen

        def popen(cmd, **kw):
            return real(cmd + self.args, **kw)
        subprocess.Popen = popen
        try:
            super().start()
        finally:
            subprocess.Popen = real
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, *needles, timeout=TIMEOUT):
        """The first log line (seen before or coming) holding every needle, else None."""
        for line in self.seen:
            if all(n in line for n in needles):
                return line
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            self.seen.append(line)
            if all(n in line for n in needles):
                return line
        return None

    def drain(self):
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen


def logfmt(line):
    """key=value pairs of a logfmt line (values bare or double-quoted)."""
    out, i = {}, 0
    while i < len(line):
        eq = line.find("=", i)
        if eq < 0:
            break
        key = line[i:eq]
        if eq + 1 < len(line) and line[eq + 1] == '"':
            j, val = eq + 2, ""
            while line[j] != '"':
                if line[j] == "\\":
                    j += 1
                val += line[j]
                j += 1
            i = j + 2
        else:
            end = line.find(" ", eq)
            end = len(line) if end < 0 else end
            val, i = line[eq + 1:end], end + 1
        out[key] = val
    return out


REGION, ACCOUNT = "eu-west-1", "123456789012"
# As the AWS IoT console writes a device policy, verbatim.
COPIED_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect",
         "Resource": "arn:aws:iot:eu-west-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
        {"Effect": "Allow", "Action": "iot:Publish",
         "Resource": "arn:aws:iot:eu-west-1:123456789012:topic/sensors/${iot:ClientId}/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe",
         "Resource": "arn:aws:iot:eu-west-1:123456789012:topicfilter/sensors/*"},
        {"Effect": "Allow", "Action": "iot:Receive",
         "Resource": "arn:aws:iot:eu-west-1:123456789012:topic/sensors/*"},
        {"Sid": "NoFirmwareTopics", "Effect": "Deny", "Action": "iot:Publish",
         "Resource": "arn:aws:iot:eu-west-1:123456789012:topic/sensors/*/firmware"}]}
OTHER_ACCOUNT_POLICY = json.loads(json.dumps(COPIED_POLICY).replace("123456789012", "999999999999"))


def sh(cmd, cwd):
    r = subprocess.run(cmd, shell=True, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (cmd, r.stderr))
    return r.stdout


def guide_ca(d):
    """The AWS developer guide's commands (subjects given with -subj instead of prompts)."""
    sh("openssl genrsa -out rootCA.key 2048", d)
    sh("openssl req -x509 -new -nodes -key rootCA.key -sha256 -days 1024 -out rootCA.pem "
       "-subj '/CN=Guide Root CA'", d)


def guide_signed(d, name, cn, key=None):
    """A key (or the existing `key`), a CSR and a certificate signed by rootCA.pem, as the
    guide makes device and verification certificates."""
    if key is None:
        key = name
        sh("openssl genrsa -out %s.key 2048" % name, d)
    sh("openssl req -new -key %s.key -out %s.csr -subj '/CN=%s'" % (key, name, cn), d)
    sh("openssl x509 -req -in %s.csr -CA rootCA.pem -CAkey rootCA.key -CAcreateserial "
       "-out %s.pem -days 500 -sha256" % (name, name), d)
    return os.path.join(d, name + ".pem"), os.path.join(d, key + ".key")


ADMIN_TOKEN = "aws-device-admin"


def admin(gw, method, path, body=None):
    """The gateway's admin API (bearer token): set-up that is not under test here."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(gw.url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + ADMIN_TOKEN})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read()
        return json.loads(text) if text.strip() else {}


def onboard_admin(gw, cert_id, thing, policy_name, policy=None):
    """A thing with the certificate as principal and a policy attached (admin API)."""
    if policy is not None:
        admin(gw, "PUT", "/admin/policies/" + policy_name, policy)
    admin(gw, "PUT", "/admin/things/" + thing, {})
    admin(gw, "PUT", "/admin/things/%s/principals/%s" % (thing, cert_id))
    admin(gw, "POST", "/admin/policies/%s/attach" % policy_name, {"principal": cert_id})


def gateway_config(d, server, extra):
    ca, cert, key = server
    cfg = {"data_dir": os.path.join(d, "data"), "authorize": True, "admin_token": ADMIN_TOKEN,
           "listeners": [
               {"type": "mqtts", "port": 0, "tls": {"cert_file": cert, "key_file": key,
                                                    "require_client_cert": True}},
               {"type": "http", "port": 0}],
           "aws_access_keys": [{"access_key_id": KEY, "secret_access_key": SECRET}]}
    cfg.update(extra)
    return cfg


def mqtts_pub(gw, server_ca, cert, key, client_id, topic, version="mqttv311"):
    return run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtts"]), "--cafile",
                server_ca, "--cert", cert, "--key", key, "-i", client_id, "-t", topic, "-m",
                "21.5", "-q", "1", "-V", version])


def onboard(gw, d, cert_pem, thing, policy_name, policy):
    """register-certificate (its CA registered) with the AWS CLI; the thing and the policy
    with the admin API (their AWS CLI calls are in aws_cli_test.py)."""
    rc, out, err = aws(gw, "iot", "register-certificate", "--certificate-pem", "file://" + cert_pem,
                       "--ca-certificate-pem", "file://" + os.path.join(d, "rootCA.pem"),
                       "--set-as-active")
    check(rc == 0, "register-certificate of the guide's device certificate " + err)
    if rc != 0:
        return None
    arn = out["certificateArn"]
    check(arn.startswith("arn:aws:iot:%s:%s:cert/" % (REGION, ACCOUNT)),
          "the certificate ARN names the configured region and account: " + arn)
    onboard_admin(gw, out["certificateId"], thing, policy_name, policy)
    return arn


def register_admin(gw, d, cert_pem, thing, policy_name, policy):
    """The same as onboard(), all with the admin API."""
    with open(cert_pem) as f, open(os.path.join(d, "rootCA.pem")) as ca:
        out = admin(gw, "POST", "/admin/certificates", {
            "certificatePem": f.read(), "caCertificatePem": ca.read(), "status": "ACTIVE"})
    onboard_admin(gw, out["certificateId"], thing, policy_name, policy)


def account_and_certificates(binary, d):
    server = make_server_tls(d)
    guide_ca(d)
    dev_cert, dev_key = guide_signed(d, "deviceCert", "pump-7")
    other_cert, other_key = guide_signed(d, "otherCert", "pump-8", "deviceCert")

    # iotblocks x509 verify: one profile notion; the default is what AWS accepts.
    ok = run([binary, "x509", "verify", dev_cert, "--trust", os.path.join(d, "rootCA.pem"),
              "--purpose", "client"])
    check(ok.returncode == 0 and '"profile":"aws"' in ok.stdout,
          "x509 verify accepts the guide's chain by default " + ok.stdout + ok.stderr)
    strict = run([binary, "x509", "verify", dev_cert, "--trust", os.path.join(d, "rootCA.pem"),
                  "--profile", "strict"])
    check(strict.returncode != 0 and "key usage" in strict.stdout,
          "x509 verify --profile strict refuses it, saying why: " + strict.stdout)

    cfg = gateway_config(d, server, {"aws": {"region": REGION, "account_id": ACCOUNT}})
    gw = LoggedGateway(binary, d, cfg)
    gw.start()
    try:
        # Each AWS CLI call takes seconds: the CLI runs what only it can show (the guide's
        # commands, the onboarding of existing certificates, JITR); the rest goes to the
        # same API signed in-process (signed, expect_error) or to the admin API.
        code = admin(gw, "GET", "/admin/registration-code")["registrationCode"]
        guide_signed(d, "verificationCert", code, "deviceCert")
        rc, out, err = aws(gw, "iot", "register-ca-certificate", "--ca-certificate",
                           "file://" + os.path.join(d, "rootCA.pem"), "--verification-cert",
                           "file://" + os.path.join(d, "verificationCert.pem"),
                           "--set-as-active")
        check(rc == 0, "register-ca-certificate of the guide's CA (no keyUsage) " + err)
        check(rc == 0 and out["certificateArn"].startswith(
            "arn:aws:iot:%s:%s:cacert/" % (REGION, ACCOUNT)), "the CA ARN names the account")
        onboard(gw, d, dev_cert, "pump-7", "DevicePolicy", COPIED_POLICY)
        register_admin(gw, d, other_cert, "pump-8", "OtherAccountPolicy", OTHER_ACCOUNT_POLICY)

        # The copied policy: the device connects (thing name = client id) and publishes
        # (MQTT 5, QoS 1: a denied publish would show in the PUBACK).
        pub = mqtts_pub(gw, server[0], dev_cert, dev_key, "pump-7", "sensors/pump-7/flow",
                        "mqttv5")
        check(pub.returncode == 0 and "failed" not in pub.stdout + pub.stderr,
              "the device connects and publishes under the copied policy " + pub.stderr)
        denied = mqtts_pub(gw, server[0], dev_cert, dev_key, "pump-7", "elsewhere/x", "mqttv5")
        check("not authori" in (denied.stdout + denied.stderr).lower(),
              "outside the policy's topics the publish is refused: " + denied.stderr)
        line = gw.wait_line("event=policy_denied", "topic/elsewhere/x")
        f = logfmt(line or "")
        check(f.get("level") == "warn" and f.get("action") == "iot:Publish" and
              f.get("resource") == "arn:aws:iot:%s:%s:topic/elsewhere/x" % (REGION, ACCOUNT) and
              f.get("decision") == "IMPLICIT_DENY" and f.get("client_id") == "pump-7" and
              f.get("time", "").endswith("Z"), "policy denial logged: %s" % line)
        mqtts_pub(gw, server[0], dev_cert, dev_key, "pump-7", "sensors/pump-7/firmware", "mqttv5")
        line = gw.wait_line("event=policy_denied", "topic/sensors/pump-7/firmware")
        f = logfmt(line or "")
        check(f.get("decision") == "EXPLICIT_DENY" and f.get("statement") == "DevicePolicy#4" and
              f.get("sid") == "NoFirmwareTopics", "the deciding statement is named: %s" % line)
        # Another account's ARNs do not match inside this account.
        bad = mqtts_pub(gw, server[0], other_cert, other_key, "pump-8", "sensors/pump-8/flow")
        check(bad.returncode != 0 and "not authori" in (bad.stderr + bad.stdout).lower(),
              "a policy naming account 999999999999 does not allow Connect: " + bad.stderr)
        line = gw.wait_line("event=policy_denied", "action=iot:Connect", "client/pump-8")
        check(line is not None, "the Connect denial is logged: %s" % line)
        without_ca(gw, d, server)
        jitr(gw, d, server)
    finally:
        gw.stop()

    # "any_account": migrated policies of several accounts work unchanged.
    cfg["aws"]["any_account"] = True
    gw = Gateway(binary, d, cfg)
    gw.start()
    try:
        pub = mqtts_pub(gw, server[0], other_cert, other_key, "pump-8", "sensors/pump-8/flow")
        check(pub.returncode == 0, "with any_account the other account's policy allows " +
              pub.stderr)
        pub = mqtts_pub(gw, server[0], dev_cert, dev_key, "pump-7", "sensors/pump-7/flow")
        check(pub.returncode == 0, "and the copied one still does " + pub.stderr)
    finally:
        gw.stop()

    # The strict profile refuses the guide's CA, saying why.
    sd = os.path.join(d, "strict")
    os.mkdir(sd)
    gw = Gateway(binary, sd, gateway_config(sd, server, {"certificate_profile": "strict"}))
    gw.start()
    try:
        code = admin(gw, "GET", "/admin/registration-code")["registrationCode"]
        guide_signed(d, "verificationStrict", code, "deviceCert")
        with open(os.path.join(d, "rootCA.pem")) as ca, \
                open(os.path.join(d, "verificationStrict.pem")) as v:
            body = {"caCertificate": ca.read(), "verificationCertificate": v.read()}
        doc = expect_error(gw, "the strict profile refuses the guide's CA", 400,
                           "CertificateValidationException", "POST",
                           "/cacertificate?setAsActive=true", json.dumps(body).encode())
        check("key usage" in doc.get("message", ""), "saying why: %s" % doc)
    finally:
        gw.stop()


def without_ca(gw, d, server):
    """register-certificate-without-ca: a certificate of a CA nobody registered connects
    while ACTIVE, and is refused once INACTIVE or REVOKED."""
    sh("openssl genrsa -out factoryCA.key 2048", d)
    sh("openssl req -x509 -new -nodes -key factoryCA.key -sha256 -days 30 -out factoryCA.pem "
       "-subj '/CN=Factory CA'", d)
    sh("openssl genrsa -out pump9.key 2048", d)
    sh("openssl req -new -key pump9.key -out pump9.csr -subj '/CN=pump-9'", d)
    sh("openssl x509 -req -in pump9.csr -CA factoryCA.pem -CAkey factoryCA.key -CAcreateserial "
       "-out pump9.pem -days 30 -sha256", d)
    cert, key = os.path.join(d, "pump9.pem"), os.path.join(d, "pump9.key")
    before = mqtts_pub(gw, server[0], cert, key, "pump-9", "sensors/pump-9/flow")
    check(before.returncode != 0, "an unregistered certificate of an unregistered CA is refused")
    cid = sh("openssl x509 -in pump9.pem -outform der | sha256sum", d)[:64]
    line = gw.wait_line("event=tls_refused_ca", cid)
    check(line is not None and "error=" in line and "reason=" in line,
          "the refused handshake is logged with its certificate id: %s" % line)
    rc, out, err = aws(gw, "iot", "register-certificate-without-ca", "--certificate-pem",
                       "file://" + cert, "--status", "ACTIVE")
    check(rc == 0 and out["certificateArn"].endswith(out["certificateId"]),
          "register-certificate-without-ca " + err)
    if rc != 0:
        return
    cid = out["certificateId"]
    onboard_admin(gw, cid, "pump-9", "DevicePolicy")
    status, _, out = signed(gw, "GET", "/certificates/" + cid)
    desc = out.get("certificateDescription", {})
    check(status == 200 and desc.get("status") == "ACTIVE" and not desc.get("caCertificateId") and
          desc.get("ownedBy") == ACCOUNT,
          "described ACTIVE without a CA, ownedBy the configured account: %s %s" %
          (status, {k: desc.get(k) for k in ("status", "caCertificateId", "ownedBy")}))
    pub = mqtts_pub(gw, server[0], cert, key, "pump-9", "sensors/pump-9/flow", "mqttv5")
    check(pub.returncode == 0, "the certificate registered without a CA connects " + pub.stderr)
    with open(cert) as f:
        expect_error(gw, "register-certificate-without-ca twice", 409,
                     "ResourceAlreadyExistsException", "POST", "/certificate/register-no-ca",
                     json.dumps({"certificatePem": f.read()}).encode())
    for status in ("INACTIVE", "REVOKED"):
        admin(gw, "PUT", "/admin/certificates/" + cid, {"status": status})
        pub = mqtts_pub(gw, server[0], cert, key, "pump-9", "sensors/pump-9/flow")
        check(pub.returncode != 0, "refused once " + status)
        line = gw.wait_line("event=tls_refused ", cid, status)
        check(line is not None, "logged: %s" % line)


def jitr(gw, d, server):
    """JITR: auto-registration on, a new device of the guide's CA is registered
    PENDING_ACTIVATION, refused, and the registration is logged."""
    ca_id = sh("openssl x509 -in rootCA.pem -outform der | sha256sum", d)[:64]  # the guide's CA
    rc, _, err = aws(gw, "iot", "update-ca-certificate", "--certificate-id", ca_id,
                     "--new-auto-registration-status", "ENABLE")
    check(rc == 0, "update-ca-certificate auto-registration " + err)
    cert, key = guide_signed(d, "pump10", "pump-10", "deviceCert")
    pub = mqtts_pub(gw, server[0], cert, key, "pump-10", "sensors/pump-10/flow")
    check(pub.returncode != 0, "a just-in-time registered device is refused until activated")
    line = gw.wait_line("event=jitr_registration", "ca_certificate_id=" + ca_id)
    check(line is not None and "status=PENDING_ACTIVATION" in line, "JITR logged: %s" % line)


class Client:
    """A paho client (MQTT 5 or 3.1.1) on its own network thread."""

    def __init__(self, port, v5, client_id):
        self.v5 = v5
        proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        self.c = mqtt.Client(client_id, protocol=proto)
        self.events = queue.Queue()
        self.messages = queue.Queue()
        self.c.on_connect = lambda *a: self.events.put(("connack", a[3]))
        self.c.on_subscribe = lambda c, u, mid, granted, *p: self.events.put(("suback", granted))
        self.c.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.c.on_disconnect = lambda c, u, rc, *p: self.events.put(("disconnect", rc))
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.wait("connack")

    def wait(self, kind):
        while True:
            got = self.events.get(timeout=TIMEOUT)
            if got[0] == kind:
                return got[1]

    def subscribe(self, topic_filter):
        self.c.subscribe(topic_filter, qos=1)
        granted = self.wait("suback")[0]
        return granted.value if hasattr(granted, "value") else granted

    def stop(self):
        self.c.loop_stop()
        self.c.disconnect()


def mosquitto_pub_v5(port, topic, payload):
    return run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-q", "1",
                "-t", topic, "-m", payload, "-d"])


def reserved_topics(binary, d):
    rule = {"sql": "SELECT topic() AS t, v FROM 'never/used'",
            "actions": [{"republish": {"topic": "out/ingest", "qos": 1}}]}
    cfg = {"data_dir": os.path.join(d, "data"),
           "listeners": [{"type": "mqtt", "port": 0}],
           "rules": {"ingest": rule},
           "log": {"level": "error", "burst": 5, "per_second": 1}}
    gw = LoggedGateway(binary, d, cfg, ["--log-level", "info"])  # the command line wins
    gw.start()
    port = gw.ports["mqtt"]
    watcher, old = Client(port, True, "watcher"), Client(port, False, "old-device")
    try:
        check(watcher.subscribe("out/ingest") == 1, "subscribe out/ingest")
        check(watcher.subscribe("$aws/things/+/shadow/#") == 1, "shadow topics may be subscribed")
        check(old.subscribe("$aws/things/t1/jobs/notify-next") == 1,
              "jobs topics may be subscribed (the jobs plane claims them)")
        events = Client(port, True, "events")
        check(events.subscribe("$aws/events/#") == 1, "event topics may be subscribed")
        events.stop()
        # The refused subscriptions ($aws/rules, unimplemented $aws topics; MQTT 5 and
        # 3.1.1) are checked with the AWS IoT Device SDKs: aws_sdk_migration_test.js.

        # Basic Ingest with the rule's FROM filter ignored (the SDK test checks that it
        # reaches that rule only, with topic() without the prefix, and is never retained).
        pub = mosquitto_pub_v5(port, "$aws/rules/ingest/a/b", '{"v": 1}')
        check(pub.returncode == 0 and "failed" not in pub.stderr + pub.stdout,
              "Basic Ingest publish is acknowledged " + pub.stdout + pub.stderr)
        topic, payload = watcher.messages.get(timeout=TIMEOUT)
        check(topic == "out/ingest" and json.loads(payload) == {"t": "a/b", "v": 1},
              "the rule ran on topic() 'a/b': %s %s" % (topic, payload))
        # Unknown rule: acknowledged and dropped, as AWS IoT does.
        pub = mosquitto_pub_v5(port, "$aws/rules/nosuchrule/a", '{"v": 2}')
        check(pub.returncode == 0, "a publish to an unknown rule is acknowledged")
        line = gw.wait_line("event=rule_not_found", "rule=nosuchrule")
        check(line is not None, "and logged: %s" % line)

        # Reserved topics that are refused, never relayed (MQTT 5 PUBACK 0x90 for an
        # unimplemented one: aws_sdk_migration_test.js).
        pub = mosquitto_pub_v5(port, "$aws/events/presence/connected/x", "{}")
        check("not authori" in (pub.stdout + pub.stderr).lower(),
              "clients may not publish lifecycle events (0x87): " + pub.stdout + pub.stderr)
        old.c.publish("$aws/provisioning-templates/p/provision/json", "{}", qos=1)
        check(old.wait("disconnect") != 0, "3.1.1: a publish to an unimplemented $aws topic "
              "closes the connection")

        # Shadows keep working.
        pub = mosquitto_pub_v5(port, "$aws/things/t1/shadow/update",
                               '{"state": {"reported": {"on": true}}}')
        check(pub.returncode == 0, "shadow update published")
        seen = []
        while True:
            topic, payload = watcher.messages.get(timeout=TIMEOUT)
            seen.append(topic)
            if topic == "$aws/things/t1/shadow/update/accepted":
                break
        check(True, "shadow update accepted (%s)" % ", ".join(seen))
        try:
            while True:
                seen.append(watcher.messages.get(timeout=0.5)[0])
        except queue.Empty:
            pass
        check(all(t == "out/ingest" or t.startswith("$aws/things/t1/shadow/") for t in seen),
              "no reserved message was relayed: %s" % seen)
        protocol_error_flood(gw, port)
    finally:
        watcher.stop()
        gw.stop()


def protocol_error_flood(gw, port):
    """Malformed CONNECTs: one protocol_error line each, at most the burst (5) plus one a
    second, and every dropped line counted (suppressed=N on the next line, or a
    log_suppressed line from the once-a-second tick)."""
    sent, started = 40, time.time()
    for _ in range(sent):
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(bytes([0x10, 0x03, 0x00, 0x00, 0x00]))  # CONNECT, empty protocol name
            c.settimeout(TIMEOUT)
            try:
                while c.recv(64):
                    pass
            except OSError:
                pass
    elapsed = time.time() - started
    written = suppressed = 0
    deadline = time.time() + 5
    while time.time() < deadline and written + suppressed < sent:
        gw.wait_line("event=log_suppressed", "of=protocol_error", timeout=0.5)
        lines = [x for x in gw.drain() if "event=protocol_error" in x]
        written = len(lines)
        suppressed = sum(int(logfmt(x).get("suppressed", 0)) for x in lines) + sum(
            int(logfmt(x).get("count", 0)) for x in gw.seen
            if "event=log_suppressed" in x and "of=protocol_error" in x)
    check(lines and "error=" in lines[0] and "peer=127.0.0.1" in lines[0],
          "a protocol-error disconnect is logged: %s" % (lines[:1],))
    check(written <= 5 + int(elapsed) + 1,
          "rate-limited: %d lines for %d errors in %.1f s" % (written, sent, elapsed))
    check(written + suppressed == sent, "every dropped line is counted: %d written + %d "
          "suppressed = %d" % (written, suppressed, sent))


CASES = {"account": account_and_certificates, "reserved": reserved_topics}


def main():
    binary = sys.argv[1]
    names = sys.argv[2:] or list(CASES)
    for name in names:
        with tempfile.TemporaryDirectory(prefix="iotblocks-awsdev-") as d:
            print("== " + name, flush=True)
            CASES[name](binary, d)
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
