"""Peer for shadow_benchmark's BM_UpdateModel/documents:0 on moto's shadow model.

moto (the AWS mock library) implements iot-data shadows in moto.iotdata.models.FakeShadow.
This applies the benchmark's update stream with it: merge, then the update/accepted
response and the document with its delta, serialised with json.dumps. Usage:
  python3 shadow_peer_moto.py [seconds]   (needs `import moto`; prints a JSON line)
"""
import json
import sys
import time

from moto import __version__ as moto_version
from moto.iotdata.models import FakeShadow

BASE = {
    "state": {
        "desired": {
            "light": {
                "power": "on",
                "brightness": 80,
                "color": {
                    "r": 255,
                    "g": 180,
                    "b": 40
                }
            },
            "firmware": "https://updates.example.com/devices/lamp/firmware/channel/stable/2.4.1/lamp-2.4.1-20240101-release-signed.bin"
        },
        "reported": {
            "light": {
                "power": "off",
                "brightness": 75,
                "color": {
                    "r": 255,
                    "g": 170,
                    "b": 40
                }
            },
            "firmware": "https://updates.example.com/devices/lamp/firmware/channel/stable/2.4.0/lamp-2.4.0-20231101-release-signed.bin",
            "schedule": {
                "wake": "weekdays 06:30 ramp 15 min to 80 percent, weekends 08:00",
                "sleep": "every day 22:30 fade out over 30 minutes unless motion detected"
            },
            "sensors": {
                "temperature": 21.5,
                "humidity": 41.25,
                "location": "kitchen ceiling, north-east corner next to the window, above the sink, mounted on the second rail from the wall, installed 2023-11-01 by the landlord's electrician, circuit 12, dimmable warm-white 2700K driver, serial LMP-2023-004417"
            },
            "network": {
                "rssi": -61,
                "ssid": "home-iot-2.4GHz-network-second-floor-kitchen-access-point-guest-isolated",
                "ip": "192.168.100.243"
            }
        }
    }
}


def requests():
    out = []
    for i in range(256):
        if i % 2 == 0:
            out.append('{"state":{"desired":{"light":{"brightness":%d,"color":{"g":%d}}}},"clientToken":"app-%d"}'
                       % (i % 100, 100 + i % 150, i))
        else:
            out.append('{"state":{"reported":{"light":{"brightness":%d},"sensors":{"temperature":%d.%d}}}}'
                       % ((i + 3) % 100, 20 + i % 5, i % 10))
    return out


def run(seconds):
    shadow = FakeShadow.create_from_previous_version(None, BASE)
    reqs = requests()
    n = 0
    out_bytes = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while True:
        for _ in range(200):
            payload = json.loads(reqs[n & 255])
            shadow = FakeShadow.create_from_previous_version(shadow, payload)
            out = json.dumps(shadow.to_response_dict()) + json.dumps(shadow.to_dict())
            out_bytes += len(out)
            n += 1
        if time.perf_counter() - wall0 >= seconds:
            break
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return n, cpu, wall, out_bytes / n


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    run(0.3)
    n, cpu, wall, per = run(seconds)
    print(json.dumps({"peer": "moto %s (Python %s)" % (moto_version, sys.version.split()[0]),
                      "updates_per_cpu_second": round(n / cpu), "updates_per_second": round(n / wall),
                      "out_bytes_per_update": round(per)}))
