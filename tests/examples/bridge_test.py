#!/usr/bin/env python3
"""examples/bridge end to end: a real mosquitto ("HQ") on a free loopback port and
`iotblocks gateway run --config` with the example's gateway.json (ports 0, the bridge
pointed at that mosquitto), once with MQTT 3.1.1 upstream (as written) and once with
MQTT 5. mosquitto_sub on each side counts every copy: each message crosses once, in the
direction and with the prefixes the config says, unmapped topics stay home, and nothing
comes back (no loop). Everything started here is killed at the end."""
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import free_port, run_gateway, stop, wait_until  # noqa: E402

cli, example = sys.argv[1], sys.argv[2]
started = []


class Side:
    """mosquitto_sub on '#' at one broker, counting copies per topic."""

    def __init__(self, name, port):
        self.name, self.port, self.got = name, port, {}
        self.proc = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p",
                                      str(port), "-d", "-F", "MSG %t %p", "-q", "1", "-i",
                                      f"{name}-watch", "-t", "#"],
                                     stdout=subprocess.PIPE, text=True)
        started.append(self.proc)
        self.subscribed = False
        threading.Thread(target=self._pump, daemon=True).start()
        wait_until(lambda: self.subscribed, f"{name} SUBACK")

    def _pump(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if not line.startswith("MSG "):  # -d debug lines
                self.subscribed |= "received SUBACK" in line
                continue
            topic, _, payload = line[4:].partition(" ")
            self.got.setdefault(topic, []).append(payload)

    def publish(self, topic, payload):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-q", "1",
                        "-i", f"{self.name}-pub", "-t", topic, "-m", payload],
                       check=True, timeout=30)

    def count(self, topic):
        return len(self.got.get(topic, []))


def metrics(http_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return {m.group(1): int(float(m.group(2)))
            for m in re.finditer(r'^iotblocks_bridge_(\w+)\{bridge="hq"\} (\S+)$', text, re.M)}


def scenario(work, version):
    hq_port = free_port()
    with open(f"{work}/mosquitto.conf", "w") as f:
        f.write(f"listener {hq_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "log_dest none\n")
    hq = subprocess.Popen(["/usr/sbin/mosquitto", "-c", f"{work}/mosquitto.conf"])
    started.append(hq)

    def hq_up():
        try:
            socket.create_connection(("127.0.0.1", hq_port), timeout=1).close()
            return True
        except OSError:
            return False
    wait_until(hq_up, "mosquitto to listen")

    cfg = json.load(open(f"{example}/gateway.json"))
    for listener in cfg["listeners"]:
        listener["port"] = 0
    bridge = cfg["bridges"][0]
    bridge["address"] = f"127.0.0.1:{hq_port}"
    bridge["protocol_version"] = version
    cfg["data_dir"] = f"{work}/data-{version}"
    gw, ports = run_gateway(cli, work, cfg)
    started.append(gw)
    wait_until(lambda: metrics(ports["http"]).get("connected") == 1, "the bridge to connect")

    site, central = Side("site", int(ports["mqtt"])), Side("hq", hq_port)
    # out: telemetry/... -> plants/plant-a/telemetry/...
    site.publish("telemetry/line1/temp", "21.5")
    # in: plants/plant-a/commands/... -> commands/...; central/announcements/... -> hq/announcements/...
    central.publish("plants/plant-a/commands/line1/stop", "now")
    central.publish("central/announcements/shift", "B starts at 14:00")
    # both: config/... <-> plants/plant-a/config/...
    site.publish("config/line1", "speed=3")
    central.publish("plants/plant-a/config/line2", "speed=5")
    # Not mapped: stays where it was published.
    site.publish("diagnostics/line1", "local only")
    site.publish("commands/line1/start", "in-only topic published locally")
    central.publish("plants/plant-b/commands/line1/stop", "another plant")
    central.publish("plants/plant-a/telemetry/line9/temp", "out-only topic published upstream")

    expected_site = {  # topic -> payload, each exactly once
        "telemetry/line1/temp": "21.5", "commands/line1/stop": "now",
        "hq/announcements/shift": "B starts at 14:00", "config/line1": "speed=3",
        "config/line2": "speed=5", "diagnostics/line1": "local only",
        "commands/line1/start": "in-only topic published locally"}
    expected_hq = {
        "plants/plant-a/telemetry/line1/temp": "21.5", "plants/plant-a/commands/line1/stop": "now",
        "central/announcements/shift": "B starts at 14:00",
        "plants/plant-a/config/line1": "speed=3", "plants/plant-a/config/line2": "speed=5",
        "plants/plant-b/commands/line1/stop": "another plant",
        "plants/plant-a/telemetry/line9/temp": "out-only topic published upstream"}
    wait_until(lambda: all(site.count(t) for t in expected_site) and
               all(central.count(t) for t in expected_hq), "every message on both sides")

    # Fences: one more message each way through the bridge; any echo or loop of the
    # messages above would have arrived before them.
    # Each fence is awaited on both sides: the local copy can reach its watcher after
    # the bridged one.
    central.publish("plants/plant-a/commands/fence", "end")
    wait_until(lambda: site.count("commands/fence") and
               central.count("plants/plant-a/commands/fence"), "the inbound fence")
    site.publish("telemetry/fence", "end")
    wait_until(lambda: central.count("plants/plant-a/telemetry/fence") and
               site.count("telemetry/fence"), "the outbound fence")
    expected_site["commands/fence"] = "end"
    expected_site["telemetry/fence"] = "end"
    expected_hq["plants/plant-a/commands/fence"] = "end"
    expected_hq["plants/plant-a/telemetry/fence"] = "end"
    for side, expected in ((site, expected_site), (central, expected_hq)):
        got = {t: v for t, v in side.got.items()}
        assert got == {t: [p] for t, p in expected.items()}, (side.name, got)
    m = metrics(ports["http"])
    # exported: telemetry/line1/temp, config/line1, telemetry/fence;
    # imported: commands/line1/stop, announcements/shift, config/line2, commands/fence.
    assert m["exported_total"] == 3 and m["imported_total"] == 4, m
    # MQTT 3.1.1 has no no-local: HQ sends config/line1 back and the bridge drops that echo.
    assert m["dropped_echo_total"] == (1 if version == "mqttv311" else 0), m
    print(f"{version}: site {sum(map(len, site.got.values()))} messages, "
          f"hq {sum(map(len, central.got.values()))}, each once; metrics {m}")
    for p in (site.proc, central.proc, gw, hq):
        p.terminate()
        p.wait(timeout=20)
    assert gw.returncode == 0, gw.returncode


t0 = time.monotonic()
try:
    with tempfile.TemporaryDirectory() as work:
        for version in ("mqttv311", "mqttv50"):
            scenario(work, version)
finally:
    stop(started)
print(f"ok ({time.monotonic() - t0:.1f} s)")
