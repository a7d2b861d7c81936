#!/usr/bin/python3
"""mosquitto 2.0 with and without the iotblocks plugin, side by side in one run: one
mosquitto_pub (-l, QoS 1, mTLS) sends N messages that one mosquitto_sub (QoS 1, mTLS)
receives; each message costs the plugin an iot:Publish and an iot:Receive decision.
Prints messages/s per run and the median of each.

  benchmarks/peers/mosquitto_plugin.py build/<dir>/lib/mosquitto_plugin/iotblocks_mosquitto_plugin.so \\
      build/<dir>/tests/mosquitto_plugin/mosquitto_plugin_store_tool [N] [RUNS]
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "../../tests/mosquitto_plugin"))
from mosquitto_plugin_test import (ARN, Broker, cert_id, make_ca,  # noqa: E402
                                   make_cert, run)


def one_run(d, plugin, server, trust, ca_file, dev1, monitor, n, payloads):
    broker = Broker(d, plugin, server, trust, {"refresh_ms": "1000", "log": "refusals"},
                    log_types=("notice", "information", "subscribe"),
                    extra="max_queued_messages 0\n")  # keep every message
    try:
        tls = ["-h", "127.0.0.1", "-p", str(broker.port), "--cafile", ca_file, "--insecure"]
        sub = subprocess.Popen(["mosquitto_sub", *tls, "--cert", monitor[0], "--key", monitor[1],
                                "-i", "monitor", "-t", "devices/#", "-q", "1", "-C", str(n)],
                               stdout=subprocess.DEVNULL)
        if not broker.wait_line("monitor 1 devices/#"):
            raise RuntimeError("subscriber did not subscribe")
        start = time.perf_counter()
        with open(payloads) as f:
            subprocess.run(["mosquitto_pub", *tls, "--cert", dev1[0], "--key", dev1[1], "-i",
                            "dev1", "-t", "devices/dev1/t", "-q", "1", "-l"], stdin=f,
                           check=True)
        try:
            sub.wait(timeout=120)
        except subprocess.TimeoutExpired:
            sub.kill()
            raise
        return n / (time.perf_counter() - start)
    finally:
        broker.stop()


def main():
    plugin, tool = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    with tempfile.TemporaryDirectory() as d:
        os.mkdir(f"{d}/store")
        registry, policies = f"{d}/store/registry.db", f"{d}/store/policies.db"
        server_ca = make_ca(d, "server-ca")
        server = make_cert(d, "server", server_ca, cn="localhost",
                           ext="subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        device_ca = make_ca(d, "device-ca")
        dev1, monitor = make_cert(d, "dev1", device_ca), make_cert(d, "monitor", device_ca)
        code = run(tool, "registration-code", registry).strip()
        verification = make_cert(d, "verification", device_ca, cn=code)
        run(tool, "register-ca", registry, device_ca[0], verification[0])
        with open(f"{d}/device.json", "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "iot:Connect",
                 "Resource": f"{ARN}:client/${{iot:Connection.Thing.ThingName}}"},
                {"Effect": "Allow", "Action": "iot:Publish",
                 "Resource": f"{ARN}:topic/devices/${{iot:ClientId}}/*"}]}, f)
        with open(f"{d}/monitor.json", "w") as f:
            json.dump({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["iot:Connect", "iot:Subscribe", "iot:Receive"],
                 "Resource": "*"}]}, f)
        run(tool, "create-policy", policies, "device", f"{d}/device.json")
        run(tool, "create-policy", policies, "monitor", f"{d}/monitor.json")
        dev1_id = run(tool, "register-cert", registry, dev1[0], "ACTIVE").strip()
        run(tool, "attach-thing", registry, "dev1", dev1_id)
        run(tool, "attach-policy", policies, "device", dev1_id)
        run(tool, "attach-policy", policies, "monitor",
            run(tool, "register-cert", registry, monitor[0], "ACTIVE").strip())
        assert cert_id(dev1[0]) == dev1_id
        trust = device_ca[0]
        payloads = f"{d}/payloads.txt"
        with open(payloads, "w") as f:
            for i in range(n):
                f.write(f'{{"seq":{i},"temperature":21.5}}\n')
        results = {"mosquitto": [], "mosquitto + iotblocks plugin": []}
        for _ in range(runs):  # interleaved, so that load changes hit both alike
            for name, so in (("mosquitto", None), ("mosquitto + iotblocks plugin", plugin)):
                rate = one_run(d, so, server, trust, server_ca[0], dev1, monitor, n, payloads)
                results[name].append(rate)
                print(f"{name}: {rate:,.0f} messages/s", flush=True)
        base = statistics.median(results["mosquitto"])
        with_plugin = statistics.median(results["mosquitto + iotblocks plugin"])
        print(f"median: mosquitto {base:,.0f}/s, with the plugin {with_plugin:,.0f}/s "
              f"({with_plugin / base:.2f}x); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
