#!/usr/bin/env python3
"""examples/jitr end to end, over real TLS: `iotblocks gateway run --config` with the
example's gateway.json (ports 0), a CA made with the openssl CLI and registered through the
admin API with its verification certificate, and the `jitr` device program. The first
connection is refused and publishes the registration event, the rule activates the
certificate and attaches the Device policy, the reconnection reports, and after revocation
the device is refused again. Everything started here is killed at the end."""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import (lines_of, make_ca, run_gateway, server_certificate, sign,  # noqa: E402
                     stop, wait_line)

jitr, cli, example = sys.argv[1], sys.argv[2], sys.argv[3]
TOKEN = "change-me"
started = []


def admin(method, path, body=None):
    return harness.admin(http_url, TOKEN, method, path, body)


def device(thing):
    """Runs the device program; returns (exit code, stdout lines)."""
    out = subprocess.run([jitr, f"127.0.0.1:{ports['mqtts']}", "server-ca.pem", "my-ca.pem",
                          "my-ca.key", thing, "."], cwd=work, capture_output=True, text=True,
                         timeout=60)
    print(f"$ jitr ... {thing}  -> exit {out.returncode}\n{out.stdout}{out.stderr}", end="")
    return out.returncode, out.stdout.splitlines()


t0 = time.monotonic()
with tempfile.TemporaryDirectory() as work:
    try:
        # The gateway's own server certificate (the device trusts server-ca.pem).
        server_certificate(work, "Gateway Server CA")

        # The example's config with free ports, run as a user would.
        cfg = json.load(open(f"{example}/gateway.json"))
        for listener in cfg["listeners"]:
            listener["port"] = 0
        gw, ports = run_gateway(cli, work, cfg)
        started.append(gw)
        http_url = f"http://127.0.0.1:{ports['http']}"

        # 1. Our CA, proven with the registration code, registered with auto-registration.
        make_ca(work, "my-ca", "Acme Devices CA")
        status, reply = admin("GET", "/registration-code")
        assert status == 200, reply
        code = reply["registrationCode"]
        assert re.fullmatch(r"[0-9a-f]{64}", code), code
        sign(work, "verification", code, "my-ca", "leaf")
        sign(work, "wrong", "not-the-code", "my-ca", "leaf")
        ca_pem = open(f"{work}/my-ca.pem").read()
        body = {"caPem": ca_pem, "verificationPem": open(f"{work}/wrong.pem").read(),
                "status": "ACTIVE", "autoRegistration": True}
        status, reply = admin("POST", "/cas", body)
        assert status == 400, (status, reply)  # the CN is not the registration code
        body["verificationPem"] = open(f"{work}/verification.pem").read()
        status, reply = admin("POST", "/cas", body)
        assert status == 200, reply
        ca_id = reply["caId"]
        der = subprocess.run(["openssl", "x509", "-in", f"{work}/my-ca.pem", "-outform", "DER"],
                             check=True, capture_output=True).stdout
        assert ca_id == hashlib.sha256(der).hexdigest(), ca_id  # AWS's id: SHA-256 of the DER
        status, reply = admin("GET", f"/cas/{ca_id}")
        assert reply["status"] == "ACTIVE" and reply["autoRegistration"] is True, reply
        print("CA registered:", ca_id)

        # A watcher (no certificate: the default Watcher policy) sees events and reports.
        watcher = subprocess.Popen(
            ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", ports["mqtt"], "-i",
             "watcher1", "-d", "-F", "MSG %t %p", "-q", "1", "-t",
             "$aws/events/certificates/registered/#", "-t", "devices/#"],
            stdout=subprocess.PIPE, text=True)
        started.append(watcher)
        seen = lines_of(watcher)
        wait_line(seen, lambda l: "received SUBACK" in l, "the watcher's SUBACK")
        messages = lambda l: l.startswith("MSG ")  # not a -d debug line

        # 2. A new device: refused at the handshake, the registration event is published.
        code_, out = device("probe-7")
        assert code_ == 2 and out[0].startswith("certificate ") and out[0].endswith(" new"), out
        assert out[-1].startswith("refused:"), out
        cert_id = out[0].split()[1]
        event = wait_line(seen, messages, "the registration event")
        _, topic, payload = event.split(" ", 2)
        assert topic == f"$aws/events/certificates/registered/{ca_id}", topic
        payload = json.loads(payload)
        assert payload["certificateId"] == cert_id, payload
        assert payload["caCertificateId"] == ca_id, payload
        assert payload["certificateStatus"] == "PENDING_ACTIVATION", payload
        print("event:", event)

        # 3. The rule activated it, attached the Device policy and made the thing.
        deadline = time.monotonic() + 30
        while True:
            status, cert = admin("GET", f"/certificates/{cert_id}")
            if cert.get("status") == "ACTIVE" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert cert["status"] == "ACTIVE", cert
        assert cert["policies"] == ["Device"] and cert["things"] == ["probe-7"], cert
        assert cert["caId"] == ca_id, cert

        # 4. Reconnection: accepted, the report reaches the watcher.
        code_, out = device("probe-7")
        assert code_ == 0, out
        assert out == [f"certificate {cert_id} existing", "connected",
                       "reported devices/probe-7/report"], out
        report = wait_line(seen, messages, "the report")
        assert report == 'MSG devices/probe-7/report {"thing":"probe-7","state":"online"}', report

        # 5. Revoked through the admin API: refused again, and no new event (not pending).
        status, cert = admin("PUT", f"/certificates/{cert_id}", {"status": "REVOKED"})
        assert status == 200 and cert["status"] == "REVOKED", cert
        code_, out = device("probe-7")
        assert code_ == 2 and out[-1].startswith("refused:"), out
        status, reply = admin("PUT", f"/certificates/{cert_id}", {"status": "ACTIVE"})
        assert status == 409, (status, reply)  # REVOKED is final

        # 6. CA deactivated: a new device of that CA is refused and not registered.
        status, reply = admin("PUT", f"/cas/{ca_id}", {"status": "INACTIVE"})
        assert status == 200 and reply["status"] == "INACTIVE", reply
        code_, out = device("probe-8")
        assert code_ == 2 and out[-1].startswith("refused:"), out
        status, listed = admin("GET", "/certificates")
        ids = [c["certificateId"] for c in listed["certificates"]]
        assert cert_id in ids and out[0].split()[1] not in ids, listed

        # Every message the watcher got, in order: one event, one report (nothing after).
        harness.stop([watcher], timeout=5)
        time.sleep(0.2)
        rest = []
        while not seen.empty():
            line = seen.get()
            if messages(line):
                rest.append(line)
        assert rest == [], rest
    finally:
        stop(started)
    assert gw.returncode == 0, gw.returncode
print(f"ok ({time.monotonic() - t0:.1f} s)")
