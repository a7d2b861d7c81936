#!/usr/bin/python3
"""The iotblocks mosquitto plugin inside a real mosquitto 2.0 on 127.0.0.1, with real TLS
client certificates made by openssl, raw MQTT 5 packets (to read reason codes) and a paho
subscriber:

- a mistyped plugin_opt_ stops mosquitto at start, naming it;
- stores missing: every CONNECT is refused (nothing is created at the configured path);
- a device certificate under a registered CA is refused until it is registered ACTIVE, then
  accepted (iot:Connect on client/${iot:Connection.Thing.ThingName}: the thing is attached);
- a certificate of a CA mosquitto trusts but the registry does not know is refused;
- a publish outside the device's policy gets PUBACK 0x87 and never reaches the subscriber,
  one inside it does; a subscribe outside the policy gets SUBACK 0x87;
- just-in-time registration: a certificate under a CA with auto-registration is refused,
  registered PENDING_ACTIVATION, its registration event reaches an allowed subscriber, and
  once activated it connects;
- revocation: a connected device is denied from its next publish on, and refused on reconnect.

  tests/mosquitto_plugin/mosquitto_plugin_test.py <plugin .so> <store_tool>
"""
import json
import os
import pwd
import queue
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mqtt  # Debian python3-paho-mqtt

TIMEOUT = 5
REGION, ACCOUNT = "eu-west-1", "123456789012"
ARN = f"arn:aws:iot:{REGION}:{ACCOUNT}"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def run(*args, **kw):
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw).stdout


# ---- certificates (openssl) ----

def make_ca(d, name):
    key, pem = f"{d}/{name}.key", f"{d}/{name}.pem"
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", key, "-out", pem, "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return pem, key


def make_cert(d, name, ca, cn=None, ext=None):
    key, csr, pem = f"{d}/{name}.key", f"{d}/{name}.csr", f"{d}/{name}.pem"
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", key, "-out", csr, "-subj", f"/O=iotblocks/CN={cn or name}")
    args = ["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
            "-CAcreateserial", "-out", pem, "-days", "1"]
    if ext:
        with open(f"{d}/{name}.ext", "w") as f:
            f.write(ext)
        args += ["-extfile", f"{d}/{name}.ext"]
    run(*args)
    return pem, key


def cert_id(pem):
    """The registry's certificate id: the SHA-256 of the DER."""
    out = run("openssl", "x509", "-in", pem, "-noout", "-fingerprint", "-sha256")
    return out.strip().split("=", 1)[1].replace(":", "").lower()


# ---- raw MQTT 5 over TLS, to read the reason codes mosquitto sends ----

def vbi(n):
    out = b""
    while True:
        n, d = n // 128, n % 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


def utf8(s):
    b = s.encode()
    return struct.pack(">H", len(b)) + b


class Device:
    """One TLS connection speaking MQTT 5 packet by packet."""

    def __init__(self, port, cert, server_ca):
        ctx = ssl.create_default_context(cafile=server_ca)
        ctx.load_cert_chain(cert[0], cert[1])
        ctx.check_hostname = False
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock = ctx.wrap_socket(raw)

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf

    def packet(self):
        """(type, body) of the next packet; EOFError when the broker closed."""
        first = self._read(1)[0]
        length, shift = 0, 0
        while True:
            b = self._read(1)[0]
            length |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        return first >> 4, self._read(length)

    def connect(self, client_id, will_topic=None):
        """The CONNACK reason code, or None when the broker closed without one."""
        flags = 0x02 | (0x04 if will_topic else 0)
        body = utf8("MQTT") + bytes([5, flags]) + struct.pack(">H", 30) + vbi(0) + utf8(client_id)
        if will_topic:
            body += vbi(0) + utf8(will_topic) + utf8("gone")
        self.sock.sendall(bytes([0x10]) + vbi(len(body)) + body)
        try:
            kind, body = self.packet()
        except (EOFError, ConnectionError, ssl.SSLError):
            return None
        return body[1] if kind == 2 else None

    def publish(self, topic, payload, pid):
        """QoS 1: the PUBACK reason code."""
        body = utf8(topic) + struct.pack(">H", pid) + vbi(0) + payload.encode()
        self.sock.sendall(bytes([0x32]) + vbi(len(body)) + body)
        kind, body = self.packet()
        assert kind == 4 and struct.unpack(">H", body[:2])[0] == pid, (kind, body)
        return body[2] if len(body) > 2 else 0

    def subscribe(self, topic_filter, pid):
        """The SUBACK reason code of one filter asked at QoS 1."""
        body = struct.pack(">H", pid) + vbi(0) + utf8(topic_filter) + bytes([1])
        self.sock.sendall(bytes([0x82]) + vbi(len(body)) + body)
        kind, body = self.packet()
        assert kind == 9, (kind, body)
        return body[-1]

    def close(self):
        try:
            self.sock.sendall(bytes([0xE0, 0x00]))
        except OSError:
            pass
        self.sock.close()


def try_connect(port, cert, server_ca, client_id, will_topic=None):
    """CONNACK reason, None when refused without one (TLS or closed)."""
    try:
        dev = Device(port, cert, server_ca)
    except (ssl.SSLError, ConnectionError):
        return None, None
    rc = dev.connect(client_id, will_topic)
    if rc != 0:
        dev.close()
        return rc, None
    return rc, dev


# ---- the broker ----

class Broker:
    """mosquitto on a free port with mTLS; with the plugin and `options` (plugin_opt_ names
    without the prefix) unless `plugin` is None (then any trusted certificate may do all)."""

    def __init__(self, d, plugin, server, trust, options=None, log_types=("all",), extra=""):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        opts = {"registry": f"{d}/store/registry.db", "region": REGION, "account_id": ACCOUNT,
                "refresh_ms": "0", "log": "decisions"}
        opts.update(options or {})
        plugin_lines = "" if plugin is None else f"plugin {plugin}\n" + "".join(
            f"plugin_opt_{k} {v}\n" for k, v in opts.items())
        log_lines = "".join(f"log_type {t}\n" for t in log_types)
        conf = f"{d}/mosquitto.conf"
        with open(conf, "w") as f:
            # Run as root, mosquitto would switch to user "mosquitto", who cannot read `d`.
            f.write(f"""user {pwd.getpwuid(os.getuid()).pw_name}
per_listener_settings false
{plugin_lines}allow_anonymous {"true" if plugin is None else "false"}
persistence false
log_dest stderr
{log_lines}listener {self.port} 127.0.0.1
cafile {trust}
certfile {server[0]}
keyfile {server[1]}
require_certificate true
use_identity_as_username false
{extra}""")
        self.proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.lines = queue.Queue()
        self.log = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.time() + TIMEOUT
        while not self.wait_line("running", timeout=0.05):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                self.reader.join(timeout=TIMEOUT)
                self.wait_line("everything", timeout=0.05)
                raise RuntimeError("mosquitto did not start:\n" + "\n".join(self.log))

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, *needles, timeout=TIMEOUT):
        for line in self.log:
            if all(n in line for n in needles):
                return line
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            self.log.append(line)
            if all(n in line for n in needles):
                return line
        return None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Subscriber:
    """A paho MQTT 5 client with a certificate; messages land in a queue."""

    def __init__(self, port, cert, server_ca, client_id, topic_filters):
        self.messages = queue.Queue()
        self.subscribed = threading.Event()
        self.granted = []
        self.client = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=server_ca, certfile=cert[0], keyfile=cert[1])
        self.client.tls_insecure_set(True)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload.decode()))
        self.client.on_subscribe = self._on_subscribe
        connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p=None: connected.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not connected.wait(TIMEOUT):
            raise RuntimeError("subscriber did not connect")
        self.client.subscribe([(f, 1) for f in topic_filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties=None):
        self.granted = [int(r.value) for r in reason_codes]
        self.subscribed.set()

    def next(self, timeout=TIMEOUT):
        try:
            return self.messages.get(timeout=timeout)
        except queue.Empty:
            return None

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()


def main():
    plugin, tool = sys.argv[1], sys.argv[2]
    started = time.time()
    with tempfile.TemporaryDirectory() as d:
        store = f"{d}/store"
        os.mkdir(store)
        registry, policies = f"{store}/registry.db", f"{store}/policies.db"

        def tool_run(*args):
            return run(tool, *args).strip()

        server_ca = make_ca(d, "server-ca")
        server = make_cert(d, "server", server_ca, cn="localhost",
                           ext="subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        device_ca = make_ca(d, "device-ca")
        jitr_ca = make_ca(d, "jitr-ca")
        rogue_ca = make_ca(d, "rogue-ca")
        dev1 = make_cert(d, "dev1", device_ca)
        monitor = make_cert(d, "monitor", device_ca)
        dev3 = make_cert(d, "dev3", jitr_ca)
        rogue = make_cert(d, "rogue", rogue_ca)
        # mosquitto's TLS layer trusts all three device CAs; the registry decides.
        trust = f"{d}/trust.pem"
        with open(trust, "w") as f:
            for ca in (device_ca, jitr_ca, rogue_ca):
                f.write(open(ca[0]).read())
        ca_file = server_ca[0]

        # A mistyped setting stops mosquitto at start, naming it.
        try:
            Broker(d, plugin, server, trust, {"regsitry": registry})
            check(False, "a mistyped setting stops mosquitto")
        except RuntimeError as e:
            check("unknown setting plugin_opt_regsitry" in str(e),
                  "a mistyped setting stops mosquitto, naming it")

        broker = Broker(d, plugin, server, trust)
        try:
            # No store files yet: refused, and nothing created at the configured path.
            rc, _ = try_connect(broker.port, dev1, ca_file, "dev1")
            check(rc == 0x87, f"stores missing: CONNACK 0x87 (got {rc})")
            check(broker.wait_line("iotblocks: refused", "does not exist") is not None,
                  "stores missing: the log says why")
            check(not os.path.exists(registry), "stores missing: no file created")

            # The stores, as an operator's tools make them while mosquitto runs.
            code = tool_run("registration-code", registry)
            for name, ca in (("device", device_ca), ("jitr", jitr_ca)):
                verification = make_cert(d, f"verification-{name}", ca, cn=code)
                tool_run("register-ca", registry, ca[0], verification[0],
                         *(["auto"] if name == "jitr" else []))
            jitr_ca_id = cert_id(jitr_ca[0])
            device_policy = f"{d}/device-policy.json"
            with open(device_policy, "w") as f:
                json.dump({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "iot:Connect",
                     "Resource": f"{ARN}:client/${{iot:Connection.Thing.ThingName}}"},
                    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
                     "Resource": f"{ARN}:topic/devices/${{iot:ClientId}}/*"},
                    {"Effect": "Allow", "Action": "iot:Subscribe",
                     "Resource": f"{ARN}:topicfilter/devices/${{iot:ClientId}}/*"}]}, f)
            monitor_policy = f"{d}/monitor-policy.json"
            with open(monitor_policy, "w") as f:
                json.dump({"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe",
                                                   "iot:Receive"], "Resource": "*"}]}, f)
            tool_run("create-policy", policies, "device", device_policy)
            tool_run("create-policy", policies, "monitor", monitor_policy)
            monitor_id = tool_run("register-cert", registry, monitor[0], "ACTIVE")
            tool_run("attach-policy", policies, "monitor", monitor_id)

            # Not registered yet: refused; registered ACTIVE with its thing: accepted.
            rc, _ = try_connect(broker.port, dev1, ca_file, "dev1")
            check(rc == 0x87, f"unregistered device certificate: CONNACK 0x87 (got {rc})")
            dev1_id = cert_id(dev1[0])
            check(broker.wait_line("refused client \"dev1\"", dev1_id) is not None,
                  "unregistered: the log names the certificate")
            check(tool_run("register-cert", registry, dev1[0], "ACTIVE") == dev1_id,
                  "registered through the registry library")
            tool_run("attach-policy", policies, "device", dev1_id)
            rc, _ = try_connect(broker.port, dev1, ca_file, "dev1")
            check(rc == 0x87, f"iot:Connect needs the thing attached: CONNACK 0x87 (got {rc})")
            tool_run("attach-thing", registry, "dev1", dev1_id)
            rc, dev = try_connect(broker.port, dev1, ca_file, "dev1")
            check(rc == 0, f"registered ACTIVE, thing attached: CONNACK 0 (got {rc})")
            rc, _ = try_connect(broker.port, dev1, ca_file, "other-id")
            check(rc == 0x87, f"another client id than the thing: CONNACK 0x87 (got {rc})")

            # A CA mosquitto trusts but the registry does not know.
            rc, _ = try_connect(broker.port, rogue, ca_file, "rogue")
            check(rc == 0x87, f"certificate of an unregistered CA: CONNACK 0x87 (got {rc})")

            sub = Subscriber(broker.port, monitor, ca_file, "monitor",
                             ["devices/#", "$aws/events/certificates/registered/#"])
            check(sub.subscribed.wait(TIMEOUT) and sub.granted == [1, 1],
                  f"monitor subscribed (granted {sub.granted})")

            # Publish inside and outside the policy; the subscriber sees only the first.
            check(dev.publish("devices/dev1/temp", "21.5", 1) == 0, "publish inside: PUBACK 0")
            check(sub.next() == ("devices/dev1/temp", "21.5"), "publish inside: delivered")
            check(dev.publish("devices/dev2/temp", "spoofed", 2) == 0x87,
                  "publish outside the policy: PUBACK 0x87")
            check(dev.publish("devices/dev1/end", "marker", 3) == 0, "marker published")
            got = sub.next()
            check(got == ("devices/dev1/end", "marker"),
                  f"publish outside the policy: never delivered (next was {got})")
            check(broker.wait_line("IMPLICIT_DENY",
                                   "topic/devices/dev2/temp") is not None,
                  "the denial is in mosquitto's log")

            # Subscribe outside and inside the policy.
            check(dev.subscribe("devices/dev2/#", 4) == 0x87, "subscribe outside: SUBACK 0x87")
            check(dev.subscribe("devices/dev1/#", 5) == 1, "subscribe inside: SUBACK 1")

            # Just-in-time registration under the CA with auto-registration.
            rc, _ = try_connect(broker.port, dev3, ca_file, "dev3")
            check(rc == 0x87, f"JITR: first connection refused (got {rc})")
            dev3_id = cert_id(dev3[0])
            event = sub.next()
            check(event is not None and event[0] ==
                  f"$aws/events/certificates/registered/{jitr_ca_id}" and
                  json.loads(event[1]).get("certificateId") == dev3_id,
                  f"JITR: registration event delivered ({event and event[0]})")
            check(tool_run("describe-cert", registry, dev3_id) == "PENDING_ACTIVATION",
                  "JITR: registered PENDING_ACTIVATION in the file")
            tool_run("update-cert", registry, dev3_id, "ACTIVE")
            tool_run("attach-policy", policies, "device", dev3_id)
            tool_run("attach-thing", registry, "dev3", dev3_id)
            rc, dev3c = try_connect(broker.port, dev3, ca_file, "dev3")
            check(rc == 0, f"JITR: accepted once activated (got {rc})")

            # Revocation: the connected device is denied from its next publish on.
            tool_run("update-cert", registry, dev1_id, "REVOKED")
            check(dev.publish("devices/dev1/temp", "after revocation", 6) == 0x87,
                  "revoked while connected: PUBACK 0x87")
            if dev3c:
                check(dev3c.publish("devices/dev3/end", "marker", 1) == 0, "dev3 publishes")
                got = sub.next()
                check(got == ("devices/dev3/end", "marker"),
                      f"revoked while connected: nothing delivered (next was {got})")
                dev3c.close()
            dev.close()
            check(broker.wait_line('client "dev1" disconnected') is not None,
                  "MOSQ_EVT_DISCONNECT drops the connection's state")
            rc, _ = try_connect(broker.port, dev1, ca_file, "dev1")
            check(rc == 0x87, f"revoked certificate: CONNACK 0x87 (got {rc})")
            check(broker.wait_line("refused client \"dev1\"", "revoked") is not None,
                  "revoked: the log says so")
            # Wills: mosquitto asks for their publish when it sends them (after the
            # disconnection event); one inside the policy is delivered, one outside is not.
            for topic in ("devices/dev1/will", "devices/dev3/will"):
                rc, willing = try_connect(broker.port, dev3, ca_file, "dev3", topic)
                check(rc == 0, f"will {topic}: CONNACK 0 (got {rc})")
                willing.sock.close()  # no DISCONNECT: the will is due
            got = sub.next()
            check(got == ("devices/dev3/will", "gone"),
                  f"the will outside the policy is dropped, the one inside delivered (got {got})")
            check(broker.wait_line("IMPLICIT_DENY", "topic/devices/dev1/will") is not None,
                  "the will outside the policy: denied in the log")
            sub.stop()
        finally:
            broker.stop()
            if failures:
                print("\n".join(broker.log[-60:]))
    print(f"{time.time() - started:.1f} s")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
