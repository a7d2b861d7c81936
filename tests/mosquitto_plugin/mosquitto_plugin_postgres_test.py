#!/usr/bin/python3
"""The iotblocks mosquitto plugin on PostgreSQL inside a real mosquitto 2.0, beside a gateway
that shares the database (all on 127.0.0.1, started and stopped here):

- a real PostgreSQL server (tests/postgres/server.cpp: initdb in a temporary directory, its own
  port) holds the registry and the policies; `iotblocks gateway run` uses it for its
  "stores", mosquitto's plugin for plugin_opt_registry;
- a device certificate is refused, then accepted once registered through the gateway's admin
  API (awaited: each try is a CONNECT answered by mosquitto, within the store's refresh);
- a publish outside the device's policy gets PUBACK 0x87 from mosquitto and never reaches a
  subscriber; one inside does;
- the certificate revoked through the gateway is refused at the next CONNECT;
- password users: a user added through the gateway's admin API (its users.db, the same PBKDF2
  hashes) connects with mosquitto_pub/mosquitto_sub under the gateway's default_policies; a
  wrong password, an unknown user and a publish outside the policy are refused; the user
  deleted through the gateway is refused at the next CONNECT.

  tests/mosquitto_plugin/mosquitto_plugin_postgres_test.py <plugin .so> <iotblocks> \
      <postgres_test_server>
"""
import json
import os
import queue
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mosquitto_plugin_test as base  # noqa: E402
from mosquitto_plugin_test import check  # noqa: E402

TOKEN = "plugin-test-admin-token"
REFRESH_MS = 200
ARN = base.ARN


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    """tests/postgres/server.cpp's server through postgres_test_server."""

    def __init__(self, program):
        self.proc = subprocess.Popen([program], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("postgresql://"):
            self.stop()
            raise RuntimeError("PostgreSQL did not start")

    def stop(self):
        self.proc.stdin.close()  # the helper stops the server and removes its directory
        self.proc.wait(timeout=60)


class Gateway:
    """`iotblocks gateway run` with its stores on the database; the admin API over HTTP."""

    def __init__(self, binary, d, config):
        path = f"{d}/gateway.json"
        with open(path, "w") as f:
            json.dump(config, f)
        self.proc = subprocess.Popen([binary, "gateway", "run", "--config", path],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.http = None
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"gateway exited: rc={self.proc.poll()}")
            parts = line.split()
            if len(parts) == 2 and parts[0] == "http":
                self.http = parts[1].rstrip("/")
            if parts and parts[0] == "data":
                threading.Thread(target=self.proc.stdout.read, daemon=True).start()
                return
        raise RuntimeError("gateway did not start")

    def admin(self, method, path, body=None):
        """(status, JSON answer) of an admin API call."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.http + path, data=data, method=method,
                                     headers={"Authorization": "Bearer " + TOKEN,
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def await_accepted(port, cert, server_ca, client_id, within):
    """CONNECTs until one gets CONNACK 0 (or `within` seconds pass): (device, seconds)."""
    started = time.time()
    while True:
        rc, dev = base.try_connect(port, cert, server_ca, client_id)
        if rc == 0:
            return dev, time.time() - started
        if time.time() - started > within:
            return None, time.time() - started


class Sub:
    """mosquitto_sub as a password user (MQTT 5); its lines land in a queue."""

    def __init__(self, port, user, password, client_id, topic_filter):
        self.proc = subprocess.Popen(
            # Line-buffered: mosquitto_sub flushes messages, not its -d lines.
            ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-q", "1",
             "-i", client_id, "-u", user, "-P", password, "-t", topic_filter, "-v", "-d"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.subscribed = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if "received SUBACK" in line:
                self.subscribed.set()
            elif not line.startswith("Client ") and not line.startswith("Subscribed"):
                self.lines.put(line)

    def next(self, timeout=base.TIMEOUT):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=base.TIMEOUT)


def pub(port, user, password, client_id, topic, message):
    """mosquitto_pub as a password user, QoS 1, MQTT 5: (exit code, output)."""
    args = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-V", "mqttv5", "-q", "1",
            "-i", client_id, "-t", topic, "-m", message]
    if user is not None:
        args += ["-u", user, "-P", password]
    r = subprocess.run(args, capture_output=True, text=True, timeout=base.TIMEOUT)
    return r.returncode, (r.stdout + r.stderr).strip()


def scenario(d, plugin, binary, pg):
    server_ca = base.make_ca(d, "server-ca")
    server = base.make_cert(d, "server", server_ca, cn="localhost",
                            ext="subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    device_ca = base.make_ca(d, "device-ca")
    dev1 = base.make_cert(d, "dev1", device_ca)
    monitor = base.make_cert(d, "monitor", device_ca)
    users_policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": f"{ARN}:client/*"},
        {"Effect": "Allow", "Action": "iot:Publish",
         "Resource": f"{ARN}:topic/users/${{iot:ClientId}}/*"},
        {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": f"{ARN}:topicfilter/users/*"},
        {"Effect": "Allow", "Action": "iot:Receive", "Resource": f"{ARN}:topic/users/*"}]}
    data_dir = f"{d}/gateway-data"
    gw = Gateway(binary, d, {
        "data_dir": data_dir,
        "authorize": True,
        "admin_token": TOKEN,
        "listeners": [{"type": "mqtt", "address": "127.0.0.1", "port": 0},
                      {"type": "http", "address": "127.0.0.1", "port": 0}],
        "stores": {"registry": pg.url, "policies": pg.url},
        "policies": {"users": users_policy},
        "default_policies": ["users"],
    })
    password_port = free_port()
    broker = None
    try:
        # The registry and policies, through the gateway.
        status, code = gw.admin("GET", "/admin/registration-code")
        check(status == 200, f"registration code from the gateway ({status})")
        verification = base.make_cert(d, "verification", device_ca, cn=code["registrationCode"])
        status, _ = gw.admin("POST", "/admin/cas", {
            "caPem": open(device_ca[0]).read(), "verificationPem": open(verification[0]).read(),
            "status": "ACTIVE"})
        check(status == 200, f"device CA registered through the gateway ({status})")
        status, _ = gw.admin("PUT", "/admin/policies/device", {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iot:Connect",
                 "Resource": f"{ARN}:client/${{iot:Connection.Thing.ThingName}}"},
                {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
                 "Resource": f"{ARN}:topic/devices/${{iot:ClientId}}/*"}]})
        check(status == 200, f"device policy created through the gateway ({status})")
        status, _ = gw.admin("PUT", "/admin/policies/monitor", {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"],
                 "Resource": "*"}]})
        check(status == 200, f"monitor policy created ({status})")
        status, rec = gw.admin("POST", "/admin/certificates",
                               {"certificatePem": open(monitor[0]).read(), "status": "ACTIVE"})
        check(status == 200, f"monitor certificate registered ({status})")
        status, _ = gw.admin("POST", "/admin/policies/monitor/attach",
                             {"principal": rec["certificateId"]})
        check(status == 200, f"monitor policy attached ({status})")

        broker = base.Broker(d, plugin, server, device_ca[0], {
            "registry": pg.url, "users": f"{data_dir}/users.db",
            "refresh_ms": str(REFRESH_MS)},
            extra=f"listener {password_port} 127.0.0.1\n")
        ca_file = server_ca[0]

        # Refused, then accepted once registered through the gateway.
        rc, _ = base.try_connect(broker.port, dev1, ca_file, "dev1")
        check(rc == 0x87, f"unregistered device certificate: CONNACK 0x87 (got {rc})")
        dev1_id = base.cert_id(dev1[0])
        check(broker.wait_line('refused client "dev1"', dev1_id) is not None,
              "unregistered: the log names the certificate")
        status, rec = gw.admin("POST", "/admin/certificates",
                               {"certificatePem": open(dev1[0]).read(), "status": "ACTIVE"})
        check(status == 200 and rec["certificateId"] == dev1_id,
              f"device certificate registered through the gateway ({status})")
        check(gw.admin("PUT", "/admin/things/dev1", {"attributes": {}})[0] == 200, "thing dev1")
        check(gw.admin("PUT", f"/admin/things/dev1/principals/{dev1_id}")[0] == 200,
              "thing dev1 attached")
        check(gw.admin("POST", "/admin/policies/device/attach",
                       {"principal": dev1_id})[0] == 200, "device policy attached")
        dev, took = await_accepted(broker.port, dev1, ca_file, "dev1", REFRESH_MS / 1000 + 2)
        check(dev is not None,
              f"registered through the gateway: CONNACK 0 after {took * 1000:.0f} ms")

        sub = base.Subscriber(broker.port, monitor, ca_file, "monitor", ["devices/#"])
        check(sub.subscribed.wait(base.TIMEOUT) and sub.granted == [1],
              f"monitor subscribed (granted {sub.granted})")
        if dev is not None:
            check(dev.publish("devices/dev1/temp", "21.5", 1) == 0, "publish inside: PUBACK 0")
            check(sub.next() == ("devices/dev1/temp", "21.5"), "publish inside: delivered")
            check(dev.publish("devices/dev2/temp", "spoofed", 2) == 0x87,
                  "publish outside the policy: PUBACK 0x87 from mosquitto")
            check(dev.publish("devices/dev1/end", "marker", 3) == 0, "marker published")
            got = sub.next()
            check(got == ("devices/dev1/end", "marker"),
                  f"publish outside the policy: never delivered (next was {got})")
            check(broker.wait_line("IMPLICIT_DENY", "topic/devices/dev2/temp") is not None,
                  "the denial is in mosquitto's log")
            dev.close()
        sub.stop()

        # Revoked through the gateway: refused at the next CONNECT.
        status, _ = gw.admin("PUT", f"/admin/certificates/{dev1_id}", {"status": "REVOKED"})
        check(status == 200, f"revoked through the gateway ({status})")
        rc, _ = base.try_connect(broker.port, dev1, ca_file, "dev1")
        check(rc == 0x87, f"revoked certificate: CONNACK 0x87 (got {rc})")
        check(broker.wait_line('refused client "dev1"', "revoked") is not None,
              "revoked: the log says so")

        # Password users: the gateway's users.db, the gateway's default_policies.
        rc, out = pub(password_port, "sensor7", "s3cret", "sensor7", "users/sensor7/t", "x")
        check(rc != 0, f"before the user exists: refused ({out})")
        check(gw.admin("PUT", "/admin/users/sensor7", {"password": "s3cret"})[0] == 200,
              "user added through the gateway")
        check(gw.admin("PUT", "/admin/users/watcher", {"password": "w4tch"})[0] == 200,
              "second user added")
        watcher = Sub(password_port, "watcher", "w4tch", "watcher", "users/#")
        check(watcher.subscribed.wait(base.TIMEOUT), "mosquitto_sub as a password user")
        rc, out = pub(password_port, "sensor7", "s3cret", "sensor7", "users/sensor7/t", "21.5")
        check(rc == 0, f"mosquitto_pub with the right password: exit 0 ({out})")
        check(watcher.next() == "users/sensor7/t 21.5", "the password user's publish delivered")
        rc, out = pub(password_port, "sensor7", "wrong", "sensor7", "users/sensor7/t", "x")
        check(rc != 0 and "not authori" in out.lower(),
              f"wrong password: refused ({out})")
        check(broker.wait_line("refused", "wrong username or password", '"sensor7"') is not None,
              "wrong password: the log says so")
        rc, out = pub(password_port, "nobody", "s3cret", "nobody", "users/nobody/t", "x")
        check(rc != 0, f"unknown user: refused ({out})")
        rc, out = pub(password_port, None, None, "anon", "users/anon/t", "x")
        check(rc != 0, f"no username: refused ({out})")
        rc, out = pub(password_port, "sensor7", "s3cret", "sensor7", "users/other/t", "spoofed")
        check("not authori" in out.lower(),
              f"publish outside the users' policy: mosquitto_pub sees PUBACK 0x87 ({out})")
        check(broker.wait_line("IMPLICIT_DENY", "topic/users/other/t") is not None,
              "publish outside the users' policy: denied by the plugin")
        pub(password_port, "sensor7", "s3cret", "sensor7", "users/sensor7/end", "marker")
        got = watcher.next()
        check(got == "users/sensor7/end marker",
              f"publish outside the users' policy: never delivered (next was {got})")
        check(gw.admin("DELETE", "/admin/users/sensor7")[0] == 200,
              "user deleted through the gateway")
        rc, out = pub(password_port, "sensor7", "s3cret", "sensor7", "users/sensor7/t", "x")
        check(rc != 0, f"deleted user: refused at the next CONNECT ({out})")
        watcher.stop()
    finally:
        if broker is not None:
            broker.stop()
            if base.failures:
                print("\n".join(broker.log[-60:]))
        gw.stop()


def main():
    plugin, binary, pg_program = sys.argv[1], sys.argv[2], sys.argv[3]
    started = time.time()
    pg = Postgres(pg_program)
    try:
        with tempfile.TemporaryDirectory() as d:
            scenario(d, plugin, binary, pg)
    finally:
        pg.stop()
    print(f"{time.time() - started:.1f} s")
    if base.failures:
        print(f"{len(base.failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
