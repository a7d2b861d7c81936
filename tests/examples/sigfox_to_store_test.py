#!/usr/bin/env python3
"""examples/sigfox_to_store end to end: the program posts the sample callbacks to a
real gateway, the rule stores them, and the printed query has every callback, per
device, in the order it was posted (timestamps strictly increasing)."""
import json
import subprocess
import sys
import tempfile

program, example = sys.argv[1], sys.argv[2]
callbacks = [json.loads(l) for l in open(f"{example}/callbacks.jsonl") if l.strip()]
with tempfile.TemporaryDirectory() as data:
    out = subprocess.run([program, f"{example}/gateway.json", f"{example}/callbacks.jsonl", data],
                         capture_output=True, text=True, timeout=90)
print(out.stdout, out.stderr)
assert out.returncode == 0, out.returncode

rows, device = {}, None
for line in out.stdout.splitlines():
    if line.startswith("device "):
        device = line.split()[1].rstrip(":")
        rows[device] = []
        assert line.endswith(f": {line.split()[2]} rows"), line
    else:
        rows[device].append(json.loads(line))

expected = {}
for cb in callbacks:
    expected.setdefault(cb["device"], []).append(cb)
assert sorted(rows) == sorted(expected), (sorted(rows), sorted(expected))
for dev, want in expected.items():
    got = rows[dev]
    assert len(got) == len(want), (dev, len(got), len(want))
    stamps = [r["timestamp"] for r in got]
    assert all(isinstance(t, int) for t in stamps) and stamps == sorted(set(stamps)), stamps
    for r, cb in zip(got, want):
        assert r["deviceid"] == dev, r
        assert r["payload"] == cb, (r["payload"], cb)  # SELECT * keeps the callback as sent
print("ok:", {d: len(r) for d, r in rows.items()})
