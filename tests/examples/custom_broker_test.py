#!/usr/bin/env python3
"""examples/custom_broker end to end (built against an installed iotblocks by the
ctest case): mosquitto_sub subscribes to sensors/# and alerts/#, mosquitto_pub
publishes two readings; both readings reach sensors/#, and only the hot one comes
back through the rule as alerts/<room> with the rule's SELECT output."""
import json
import subprocess
import sys
import time

broker = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
try:
    first = broker.stdout.readline().split()
    assert first and first[0] == "mqtt", first
    port = first[1].rsplit(":", 1)[1]
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-v", "-C", "3",
                            "-W", "60", "-t", "sensors/#", "-t", "alerts/#"],
                           stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let the SUBSCRIBE land (no SUBACK hook in mosquitto_sub)
    for room, t in (("cellar", 12), ("kitchen", 35)):  # a wrong cold alert would come first
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1",
                        "-t", f"sensors/{room}/temp", "-m", json.dumps({"temperature": t})],
                       check=True, timeout=30)
    out, _ = sub.communicate(timeout=90)
    lines = sorted(out.splitlines())
    print("\n".join(lines))
    assert len(lines) == 3, lines
    got = {l.split(" ", 1)[0]: json.loads(l.split(" ", 1)[1]) for l in lines}
    assert got["sensors/kitchen/temp"] == {"temperature": 35}, got
    assert got["sensors/cellar/temp"] == {"temperature": 12}, got
    assert got["alerts/kitchen"] == {"temperature": 35, "room": "kitchen"}, got
finally:
    broker.stdin.close()
    assert broker.wait(timeout=30) == 0
print("ok")
