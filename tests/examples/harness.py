"""Helpers shared by the end-to-end tests of the examples (tests/examples/*_test.py).

Each test runs as `python3 tests/examples/<name>_test.py <args>` and imports this module
from its own folder. What is here is what several tests did the same way: free loopback
ports, reading a child's stdout line by line, waiting for a condition, stopping what a
test started, certificates made with the openssl CLI, the gateway's admin API and a
webhook sink.

    started = []
    gw, ports = harness.run_gateway(cli, work, {"listeners": [...]})
    started.append(gw)
    ...
    harness.stop(started)
"""
import http.server
import json
import os
import queue
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(proc):
    """A queue that a thread fills with `proc`'s stdout lines (text mode, without '\\n')."""
    q = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line.rstrip("\n"))
    threading.Thread(target=pump, daemon=True).start()
    return q


def wait_line(q, pred, what, timeout=30):
    """Takes lines from `q` until one satisfies `pred` and returns it; lines before it are
    dropped. Raises AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = q.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        if pred(line):
            return line
    raise AssertionError(f"timed out waiting for {what}")


def wait_until(pred, what, timeout=30):
    """Polls `pred` every 20 ms until it is true; AssertionError naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def run_gateway(cli, work, cfg, timeout=30):
    """Writes `cfg` to <work>/gateway.json and starts `<cli> gateway run --config
    gateway.json` in `work`, stdout piped. Waits for the lines the gateway prints at start
    ("mqtts  mqtts://127.0.0.1:PORT", ..., then "data  DIR"); returns (the process,
    {listener kind: port, "data": data dir})."""
    with open(os.path.join(work, "gateway.json"), "w") as f:
        json.dump(cfg, f)
    proc = subprocess.Popen([cli, "gateway", "run", "--config", "gateway.json"], cwd=work,
                            stdout=subprocess.PIPE, text=True)
    out, ports = lines_of(proc), {}
    try:
        while "data" not in ports:
            line = wait_line(out, lambda l: True, "the gateway's listeners", timeout)
            kind, rest = line.split(None, 1)
            ports[kind] = rest.rsplit(":", 1)[-1]
    except BaseException:
        stop([proc])
        raise
    return proc, ports


def stop(procs, timeout=20):
    """Terminates the processes still running, newest first; kills those that do not exit
    within `timeout` seconds."""
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


# openssl extension sections: a CA, a client (device) leaf and a server leaf for 127.0.0.1.
OPENSSL_CNF = """[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def openssl(*args, cwd):
    """Runs the openssl CLI in `cwd`; raises if it fails."""
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _write_cnf(cwd):
    path = os.path.join(cwd, "openssl.cnf")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(OPENSSL_CNF)


def make_ca(cwd, name, cn):
    """A self-signed P-256 CA in `cwd`: <name>.key and <name>.pem, subject CN=<cn>."""
    _write_cnf(cwd)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", f"{name}.key", cwd=cwd)
    openssl("req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-days", "3650",
            "-sha256", "-config", "openssl.cnf", "-extensions", "ca", "-out", f"{name}.pem",
            cwd=cwd)


def sign(cwd, name, cn, ca, extensions):
    """A P-256 key <name>.key and certificate <name>.pem (CN=<cn>) signed by the CA <ca>,
    with the extension section `extensions` ("ca", "leaf" or "server") of OPENSSL_CNF."""
    _write_cnf(cwd)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", f"{name}.key", cwd=cwd)
    openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-config", "openssl.cnf",
            "-out", f"{name}.csr", cwd=cwd)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "365", "-sha256",
            "-extfile", "openssl.cnf", "-extensions", extensions, "-out", f"{name}.pem", cwd=cwd)


def server_certificate(cwd, ca_cn):
    """A gateway's TLS files in `cwd`: server-ca.pem (what clients trust), server.pem
    (the localhost/127.0.0.1 certificate followed by the CA) and server.key."""
    make_ca(cwd, "server-ca", ca_cn)
    sign(cwd, "server-leaf", "localhost", "server-ca", "server")
    with open(os.path.join(cwd, "server.pem"), "w") as f:
        for part in ("server-leaf.pem", "server-ca.pem"):
            with open(os.path.join(cwd, part)) as p:
                f.write(p.read())
    os.rename(os.path.join(cwd, "server-leaf.key"), os.path.join(cwd, "server.key"))


def admin(base, token, method, path, body=None):
    """One call to the gateway's admin API at <base>/admin<path> with a bearer token and an
    optional JSON body; returns (HTTP status, decoded JSON reply or {})."""
    req = urllib.request.Request(f"{base}/admin{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def webhook(on_post):
    """An HTTP server on a free loopback port, served by a thread, that answers every POST
    with 200 after calling on_post(path, body bytes). Returns the server; its port is
    server.server_address[1]."""
    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            on_post(self.path, self.rfile.read(int(self.headers.get("content-length", 0))))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
