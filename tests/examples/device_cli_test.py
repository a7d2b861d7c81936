#!/usr/bin/env python3
"""examples/device_cli end to end: `iotblocks gateway run --config` (an mqtts listener
with a server certificate made here with the openssl CLI and client certificates
required, the admin API with a token, policies enforced), then the device_cli steps
as a user would run them: create a thing with its certificate and policy, subscribe to
elf/# in the background, send N messages, a publish outside the policy (refused), update
and read the shadow, clean up. Each
step's result is asserted (the subscriber got the N messages, shadow versions 1 then 2,
the thing and certificate gone, the old certificate refused). Everything started here
is killed at the end."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import lines_of, run_gateway, server_certificate, stop, wait_line  # noqa: E402

cli, gateway = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TOKEN = "elf-admin-token"
THING = "elf_thing_1"
N = 25
started = []

def admin(method, path):
    return harness.admin(http_url, TOKEN, method, path)


def elf(*args, check=True):
    t = time.monotonic()
    out = subprocess.run([cli, "--admin", http_url, "--token", TOKEN, "--mqtt",
                          f"127.0.0.1:{ports['mqtts']}", "--dir", "device", *args], cwd=work,
                         capture_output=True, text=True, timeout=90)
    print(f"$ device_cli {' '.join(args)}  -> exit {out.returncode} "
          f"({1000 * (time.monotonic() - t):.0f} ms)\n{out.stdout}{out.stderr}", end="")
    if check:
        assert out.returncode == 0, out
    return out


t0 = time.monotonic()
with tempfile.TemporaryDirectory() as work:
    try:
        server_certificate(work, "ELF Test Server CA")
        cfg = {"listeners": [
                   {"type": "mqtts", "address": "127.0.0.1", "port": 0,
                    "tls": {"cert_file": "server.pem", "key_file": "server.key",
                            "require_client_cert": True}},
                   {"type": "http", "address": "127.0.0.1", "port": 0}],
               "data_dir": "elf-data", "admin_token": TOKEN, "authorize": True}
        gw, ports = run_gateway(gateway, work, cfg)
        started.append(gw)
        http_url = f"http://127.0.0.1:{ports['http']}"

        # create: thing, certificate and policy; files in device/.
        out = elf("create", THING)
        cert_id = out.stdout.split()[3]
        for name in (f"{THING}.pem", f"{THING}.key", f"{THING}.id", "ca.pem"):
            assert os.path.getsize(f"{work}/device/{name}") > 0, name
        status, thing = admin("GET", f"/things/{THING}")
        assert status == 200 and thing["principals"] == [cert_id], (status, thing)
        status, cert = admin("GET", f"/certificates/{cert_id}")
        assert cert["status"] == "ACTIVE" and cert["policies"] == ["elf_policy"], cert
        elf("create", "elf_thing_2")  # a second thing reuses the policy

        # subscribe (background) + send N: every message arrives, in order.
        sub = subprocess.Popen([cli, "--admin", http_url, "--token", TOKEN, "--mqtt",
                                f"127.0.0.1:{ports['mqtts']}", "--dir", "device", "subscribe",
                                "elf_thing_2", str(N), "60"], cwd=work, stdout=subprocess.PIPE,
                               text=True)
        started.append(sub)
        sub_out = lines_of(sub)
        wait_line(sub_out, lambda l: l == "subscribed elf/#", "the subscription")
        out = elf("send", THING, str(N))
        assert out.stdout.strip() == f"sent {N} on elf/{THING}", out.stdout
        got = [wait_line(sub_out, lambda l: l.startswith("elf/"), f"message {i}")
               for i in range(1, N + 1)]
        assert [json.loads(l.split(" ", 1)[1])["seq"] for l in got] == list(range(1, N + 1)), got
        assert all(l.startswith(f"elf/{THING} ") for l in got), got
        wait_line(sub_out, lambda l: l == f"received {N}", "the subscriber's count")
        assert sub.wait(timeout=30) == 0

        # The policy: a thing publishes on elf/<its name> only, and uses only its own shadow.
        out = elf("send", "elf_thing_2", "1", f"elf/{THING}", check=False)
        assert out.returncode == 1 and f"publish elf/{THING}: refused" in out.stderr, out
        out = elf("shadow", "elf_thing_2", "get", check=False)  # no shadow yet: rejected 404
        assert out.returncode == 1 and "rejected" in out.stderr and "404" in out.stderr, out

        # shadow update twice, then get: versions 1 and 2, the merged state.
        out = elf("shadow", THING, "update", '{"state":{"reported":{"temp":21.5,"fan":"on"}}}')
        doc = json.loads(out.stdout)
        assert doc["version"] == 1 and doc["state"]["reported"]["temp"] == 21.5, doc
        out = elf("shadow", THING, "update", '{"state":{"reported":{"fan":"off"}}}')
        assert json.loads(out.stdout)["version"] == 2, out.stdout
        out = elf("shadow", THING, "get")
        doc = json.loads(out.stdout)
        assert doc["version"] == 2, doc
        assert doc["state"]["reported"] == {"temp": 21.5, "fan": "off"}, doc

        # cleanup: certificate and thing gone, the old certificate no longer connects.
        with open(f"{work}/device/{THING}.pem") as f:
            old_pem = f.read()
        with open(f"{work}/device/{THING}.key") as f:
            old_key = f.read()
        out = elf("cleanup", THING)
        assert out.stdout.splitlines() == [f"deleted certificate {cert_id}",
                                           f"deleted thing {THING}"], out.stdout
        assert admin("GET", f"/things/{THING}")[0] == 404
        assert admin("GET", f"/certificates/{cert_id}")[0] == 404
        assert not os.path.exists(f"{work}/device/{THING}.pem")
        with open(f"{work}/device/{THING}.pem", "w") as f:
            f.write(old_pem)
        with open(f"{work}/device/{THING}.key", "w") as f:
            f.write(old_key)
        out = elf("send", THING, "1", check=False)
        assert out.returncode == 1 and "connect" in out.stderr, out
        elf("cleanup", "elf_thing_2")
        status, things = admin("GET", "/things")
        assert status == 200 and things["things"] == [], things
    finally:
        stop(started)
print(f"ok ({time.monotonic() - t0:.1f} s)")
