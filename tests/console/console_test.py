#!/usr/bin/python3
"""End-to-end test of the web console in headless Chromium (Debian chromium +
chromium-driver, driven by Debian's python3-selenium).

Starts `iotblocks gateway run` on free ports (mqtt, mqtts with a server
certificate made here, ws, http, admin_token), then: logs in, creates a thing
through the wizard, connects with the generated files using the wizard's
mosquitto_pub command over TLS, sees the message in the MQTT client view and the
connection on the dashboard, and edits a rule with a syntax error to see the
position. Saves a screenshot of every page under --artifacts.

Each step ends PASS, FAIL or BLOCKED (an admin endpoint the gateway does not
answer yet). Any FAIL or BLOCKED fails the test: nothing is reported as passing
that did not run.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

TOKEN = "console-test-token"
WAIT = 20  # seconds for any one thing to show up in the page


class Blocked(Exception):
    """A step needs a gateway endpoint that is not there."""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_server_certificate(d):
    """A CA and a server certificate for 127.0.0.1/localhost (chain in server.pem)."""
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
         "/CN=iotblocks console test CA"], cwd=d)
    run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"], cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-out", "leaf.pem", "-days", "2", "-extfile", "ext.cnf"], cwd=d)
    with open(os.path.join(d, "server.pem"), "w") as out:
        for name in ("leaf.pem", "ca.pem"):
            with open(os.path.join(d, name)) as f:
                out.write(f.read())


class Gateway:
    def __init__(self, cli, d):
        make_server_certificate(d)
        self.ports = {t: free_port() for t in ("mqtt", "mqtts", "ws", "http")}
        cfg = {
            "listeners": [
                {"type": "mqtt", "port": self.ports["mqtt"]},
                {"type": "mqtts", "port": self.ports["mqtts"],
                 "tls": {"cert_file": os.path.join(d, "server.pem"),
                         "key_file": os.path.join(d, "server.key"),
                         "request_client_cert": True}},
                {"type": "ws", "port": self.ports["ws"], "ws_path": "/mqtt"},
                {"type": "http", "port": self.ports["http"]},
            ],
            "data_dir": os.path.join(d, "data"),
            "threads": 2,
            "admin_token": TOKEN,
        }
        path = os.path.join(d, "gw.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.log = open(os.path.join(d, "gateway.log"), "w")
        self.proc = subprocess.Popen([cli, "gateway", "run", "--config", path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.ports["http"]
        for _ in range(200):
            if self.proc.poll() is not None:
                raise RuntimeError("gateway exited: see " + self.log.name)
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1).read()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gateway did not answer /health")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def http(self, method, path, headers=None, body=None):
        req = urllib.request.Request(self.base + path, method=method, headers=headers or {},
                                     data=body.encode() if body is not None else None)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(req, timeout=5) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def require(self, method, path, body=None):
        """Raises Blocked when the gateway's router does not know /admin<path>."""
        status, _, text = self.http(method, "/admin" + path,
                                    {"Authorization": "Bearer " + TOKEN,
                                     "Content-Type": "application/json"}, body)
        if status in (404, 405) and ('"message":"not found"' in text or
                                     '"message":"method not allowed"' in text):
            raise Blocked("the gateway does not answer %s /admin%s" % (method, path))
        return status, text


class Run:
    def __init__(self, args):
        self.args = args
        self.results = []
        os.makedirs(args.artifacts, exist_ok=True)

    def step(self, name, fn):
        print("--", name, flush=True)
        try:
            fn()
            self.results.append((name, "PASS", ""))
        except Blocked as e:
            self.results.append((name, "BLOCKED", str(e)))
        except Exception as e:  # noqa: BLE001 - report and go on with the next step
            traceback.print_exc()
            self.results.append((name, "FAIL", "%s: %s" % (type(e).__name__, e)))
            self.shot("failed-" + re.sub(r"[^a-z0-9]+", "-", name.lower())[:40].strip("-"))

    def shot(self, name):
        try:
            self.driver.save_screenshot(os.path.join(self.args.artifacts, name + ".png"))
        except Exception:  # noqa: BLE001
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True, help="the iotblocks program")
    ap.add_argument("--artifacts", required=True, help="screenshots go here")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = ap.parse_args()
    for tool in (args.chromium, args.chromedriver, shutil.which("mosquitto_pub"), shutil.which("openssl")):
        if not tool or not os.path.exists(tool):
            print("missing tool:", tool, "(see scripts/deps.txt)")
            return 1

    tmp = tempfile.mkdtemp(prefix="iotblocks-console-")
    t = Run(args)
    gw = Gateway(args.cli, tmp)
    opts = webdriver.ChromeOptions()
    opts.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1000", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=opts)
    t.driver = driver
    sub = None
    try:
        import steps  # noqa: E402 (the steps live next to this file)
        sub = steps.run_all(t, gw, driver, tmp)
    finally:
        if sub is not None and sub.poll() is None:
            sub.terminate()
        driver.quit()
        gw.stop()

    print("\nconsole end-to-end steps (screenshots in %s):" % args.artifacts)
    bad = 0
    for name, status, why in t.results:
        print("  %-8s %s%s" % (status, name, (" — " + why) if why else ""))
        bad += status != "PASS"
    if bad == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("gateway log and files kept in", tmp)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.modules["console_test"] = sys.modules["__main__"]  # steps.py shares Blocked, TOKEN
    sys.exit(main())
