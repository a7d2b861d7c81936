#!/usr/bin/python3
"""The gateway as the HTTP service of EMQX 5's HTTP authenticator and HTTP authorizer: real
HTTP requests in the shape EMQX sends (POST, JSON body of the operator's placeholders filled in
as strings), answered 200 with {"result": "allow"|"deny", ...} (EMQX itself is not installable
here):

- authn: the gateway's password users (added through the admin API) allowed with
  is_superuser false; a wrong password, an unknown user, a certificate's names without a
  password, missing or malformed fields, a body that is not JSON: deny, with a log line;
- authz: the users' policies (default_policies) with iot:ClientId and aws:SourceIp from
  ${clientid} and ${peerhost}: publish, retained publish and subscribe allowed or denied as the
  policies say; a bad action, QoS, retain flag or topic: deny;
- the bearer token: missing or wrong, deny; without a token configured, loopback callers are
  answered.

  tests/gateway/emqx_auth_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

TOKEN = "emqx-caller-token"
ADMIN = "emqx-test-admin"
ARN = "arn:aws:iot:eu-west-1:123456789012"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class Gateway:
    def __init__(self, binary, d, name, config):
        path = f"{d}/{name}.json"
        with open(path, "w") as f:
            json.dump(config, f)
        self.proc = subprocess.Popen([binary, "gateway", "run", "--config", path],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.http, self.log = None, []
        self.changed = threading.Condition()
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"gateway exited: rc={self.proc.poll()}")
            parts = line.split()
            if len(parts) == 2 and parts[0] == "http":
                self.http = parts[1].rstrip("/")
            if parts and parts[0] == "data":
                threading.Thread(target=self._read, daemon=True).start()
                return
        raise RuntimeError("gateway did not start")

    def _read(self):
        for line in self.proc.stdout:
            with self.changed:
                self.log.append(line.rstrip("\n"))
                self.changed.notify_all()

    def logged(self, *needles, timeout=5):
        """Awaits a log line holding every needle."""
        def found():
            return any(all(n in line for n in needles) for line in self.log)
        with self.changed:
            return self.changed.wait_for(found, timeout=timeout)

    def post(self, path, body, token=TOKEN):
        """(status, JSON answer): the request EMQX's HTTP authenticator/authorizer sends."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = "Bearer " + token
        req = urllib.request.Request(self.http + path, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def admin(self, method, path, body):
        req = urllib.request.Request(self.http + path, data=json.dumps(body).encode(),
                                     method=method,
                                     headers={"Authorization": "Bearer " + ADMIN})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def config(d, name, emqx_auth):
    return {
        "data_dir": f"{d}/{name}",
        "admin_token": ADMIN,
        "aws": {"region": "eu-west-1", "account_id": "123456789012"},
        "listeners": [{"type": "mqtt", "address": "127.0.0.1", "port": 0},
                      {"type": "http", "address": "127.0.0.1", "port": 0}],
        "emqx_auth": emqx_auth,
        "policies": {"users": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Publish",
             "Resource": f"{ARN}:topic/users/${{iot:ClientId}}/*"},
            {"Effect": "Allow", "Action": "iot:RetainPublish",
             "Resource": f"{ARN}:topic/users/${{iot:ClientId}}/state"},
            {"Effect": "Allow", "Action": "iot:Subscribe",
             "Resource": f"{ARN}:topicfilter/users/${{iot:ClientId}}/*"},
            {"Effect": "Allow", "Action": "iot:Publish", "Resource": f"{ARN}:topic/site/*",
             "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}},
        "default_policies": ["users"],
    }


def authn_body(clientid="sensor7", username="sensor7", password="s3cret", cn="", subject=""):
    # EMQX's body template {"clientid": "${clientid}", ...}, rendered: strings, "" when unset.
    return {"clientid": clientid, "username": username, "password": password,
            "peerhost": "127.0.0.1", "cert_common_name": cn, "cert_subject": subject}


def authz_body(topic, action="publish", clientid="sensor7", qos="1", retain="false",
               peerhost="127.0.0.1"):
    return {"clientid": clientid, "username": "sensor7", "peerhost": peerhost, "topic": topic,
            "action": action, "qos": qos, "retain": retain}


ALLOW_AUTHN = (200, {"result": "allow", "is_superuser": False})
DENY_AUTHN = (200, {"result": "deny", "is_superuser": False})
ALLOW, DENY = (200, {"result": "allow"}), (200, {"result": "deny"})


def scenario(gw):
    check(gw.admin("PUT", "/admin/users/sensor7", {"password": "s3cret"}) == 200, "user added")

    # Authentication.
    check(gw.post("/emqx/authn", authn_body()) == ALLOW_AUTHN, "authn: right password: allow")
    check(gw.post("/emqx/authn", authn_body(password="wrong")) == DENY_AUTHN,
          "authn: wrong password: deny")
    check(gw.logged("emqx_auth_denied", "wrong username or password"),
          "authn: the denial is logged with its reason")
    check(gw.post("/emqx/authn", authn_body(username="nobody")) == DENY_AUTHN,
          "authn: unknown user: deny")
    check(gw.post("/emqx/authn", authn_body(username="", password="")) == DENY_AUTHN,
          "authn: neither username nor password: deny")
    check(gw.post("/emqx/authn", authn_body(password="", cn="sensor7",
                                           subject="CN=sensor7,O=iotblocks")) == DENY_AUTHN,
          "authn: a certificate's names without a password: deny")
    check(gw.logged("emqx_auth_denied", "certificate cannot be checked"),
          "authn: the certificate refusal says why")
    body = authn_body()
    del body["clientid"]
    check(gw.post("/emqx/authn", body) == DENY_AUTHN, "authn: no clientid: deny")
    check(gw.logged("emqx_auth_denied", "clientid"), "authn: the missing field is named")
    check(gw.post("/emqx/authn", {**authn_body(), "password": 1234}) == DENY_AUTHN,
          "authn: a password that is not a string: deny")
    check(gw.post("/emqx/authn", b'{"clientid": "sensor7", "password": ') == DENY_AUTHN,
          "authn: truncated JSON: deny")
    check(gw.logged("emqx_auth_denied", "invalid JSON", "at 1:37"),
          "authn: the JSON error is logged with its position")
    check(gw.post("/emqx/authn", b"[1,2]") == DENY_AUTHN, "authn: not an object: deny")

    # The caller: the bearer token.
    check(gw.post("/emqx/authn", authn_body(), token=None) == DENY_AUTHN,
          "no bearer token: deny")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/t"), token="guess") == DENY,
          "wrong bearer token: deny")
    check(gw.logged("emqx_auth_denied", "wrong bearer token"), "wrong token: logged")

    # Authorization with the users' policies and the client's variables.
    check(gw.post("/emqx/authz", authz_body("users/sensor7/t")) == ALLOW,
          "authz: publish inside the policy (${iot:ClientId}): allow")
    check(gw.post("/emqx/authz", authz_body("users/other/t")) == DENY,
          "authz: publish outside the policy: deny")
    check(gw.logged("emqx_auth_denied", "IMPLICIT_DENY", "topic/users/other/t"),
          "authz: the denial names the decision and resource")
    check(gw.post("/emqx/authz", authz_body("users/other/t", clientid="other")) == ALLOW,
          "authz: the same topic for the client it names: allow")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/state", retain="true")) == ALLOW,
          "authz: retained publish where iot:RetainPublish is allowed: allow")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/t", retain="true")) == DENY,
          "authz: retained publish without iot:RetainPublish: deny")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/#", "subscribe", qos="2")) == ALLOW,
          "authz: subscribe inside the policy: allow")
    check(gw.post("/emqx/authz", authz_body("users/#", "subscribe")) == DENY,
          "authz: subscribe outside the policy: deny")
    check(gw.post("/emqx/authz", authz_body("site/a", peerhost="10.1.2.3")) == ALLOW,
          "authz: aws:SourceIp from ${peerhost} inside the condition: allow")
    check(gw.post("/emqx/authz", authz_body("site/a", peerhost="192.0.2.7")) == DENY,
          "authz: aws:SourceIp outside the condition: deny")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/+")) == DENY,
          "authz: a wildcard in a topic to publish: deny")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/t", action="all")) == DENY,
          "authz: an action other than publish or subscribe: deny")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/t", qos="3")) == DENY,
          "authz: QoS 3: deny")
    check(gw.post("/emqx/authz", authz_body("users/sensor7/t", retain="yes")) == DENY,
          "authz: a retain flag that is not true/false: deny")
    check(gw.post("/emqx/authz", authz_body("")) == DENY, "authz: empty topic: deny")
    check(gw.post("/emqx/authz", {**authz_body("users/sensor7/t"), "qos": 1, "retain": False})
          == ALLOW, "authz: QoS and retain as JSON number and boolean: allow")


def main():
    binary = sys.argv[1]
    started = time.time()
    d = tempfile.mkdtemp(prefix="iotblocks-emqx-")
    try:
        gw = Gateway(binary, d, "token", config(d, "token", {"token": TOKEN}))
        try:
            scenario(gw)
        finally:
            gw.stop()
            if failures:
                print("\n".join(gw.log[-40:]))
        # Without a token: loopback callers only (this test reaches it from 127.0.0.1).
        gw = Gateway(binary, d, "loopback", config(d, "loopback", {}))
        try:
            check(gw.post("/emqx/authz", authz_body("users/sensor7/t"), token=None) == ALLOW,
                  "no token configured: a loopback caller is answered")
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print(f"{time.time() - started:.1f} s")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
