#!/usr/bin/env python3
"""examples/greenhouse end to end. The test plays the infrared blaster (a TCP
listener answering "completeir") and the operators' webhook (an HTTP server), runs
the greenhouse program over the lux series, then talks to its TLS listener with
mosquitto_pub. It computes the expected shade moves from the series on its own
(15 one-minute periods in a row on one side of 35,000 lux) and asserts:
the blaster gets exactly those commands in that order, each in the simulated minute
it is due (checked without timing: see `printed`), each move is notified with
the expected alarm and simulated time, moves are at least 15 periods apart, the
shade does not close before 15 bright periods, every reading is stored, and
publishes outside the probe's policy are refused and not stored."""
import json
import os
import queue
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import webhook  # noqa: E402

program, lux_file = sys.argv[1], sys.argv[2]
IR_CLOSE = "sendir,1:1,16,37993,1,1,246,160,60,20,20\r"
IR_OPEN = "sendir,1:1,15,37993,1,1,246,160,20,20,60\r"
PERIODS = 15

lux = [float(l) for l in open(lux_file) if l.strip() and not l.startswith("#")]


def expected_moves():
    """(minute the alarm fires at, alarm name) for each transition into ALARM."""
    moves, state = [], {"Shade_Close": None, "Shade_Open": None}
    for k in range(len(lux)):
        window = lux[max(0, k - PERIODS + 1):k + 1]
        full = len(window) == PERIODS
        for name, breaching in (("Shade_Close", lambda v: v > 35000),
                                ("Shade_Open", lambda v: v < 35000)):
            now = "ALARM" if full and all(breaching(v) for v in window) else "OK"
            if now == "ALARM" and state[name] != "ALARM":
                moves.append((k + 1, name))  # evaluated when minute k is complete
            state[name] = now
    return moves


moves = expected_moves()
assert [m[1] for m in moves] == ["Shade_Open", "Shade_Close", "Shade_Open"], moves

def hhmm(minute):
    return f"{6 + minute // 60:02d}:{minute % 60:02d}"


# The program prints "HH:MM lux ..." after each minute's alarms were evaluated and their
# notifications delivered (it waits for them), so while the blaster holds its reply the
# program cannot print more. A command for the alarm evaluated at minute m must find
# HH:MM of minute m-2 printed and that of minute m-1 not: that pins when it came.
printed = set()
printed_cv = threading.Condition()

# The blaster: one command per connection, answered like an Ethernet-to-IR device.
commands = queue.Queue()
blaster = socket.socket()
blaster.bind(("127.0.0.1", 0))
blaster.listen(8)


def serve_blaster():
    while True:
        try:
            conn, _ = blaster.accept()
        except OSError:
            return
        with conn:
            data = b""
            while not data.endswith(b"\r"):
                chunk = conn.recv(1024)
                if not chunk:
                    break
                data += chunk
            i = commands.qsize()
            when = "unexpected"
            if i < len(moves):
                m = moves[i][0]
                with printed_cv:
                    on_time = printed_cv.wait_for(lambda: hhmm(m - 2) in printed, timeout=20)
                    when = "on time" if on_time and hhmm(m - 1) not in printed else "early/late"
            commands.put((data.decode(), when))
            conn.sendall(b"completeir,1:1,15\r")


threading.Thread(target=serve_blaster, daemon=True).start()

notes = queue.Queue()
hook = webhook(lambda path, body: notes.put(body))

data = tempfile.mkdtemp(prefix="greenhouse-")
lines = queue.Queue()
started = time.monotonic()
gh = subprocess.Popen([program, data, lux_file, str(blaster.getsockname()[1]),
                       f"http://127.0.0.1:{hook.server_address[1]}/sunshade", "50"],
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def pump():
    for line in gh.stdout:
        with printed_cv:
            printed.add(line.split(" ", 1)[0])
            printed_cv.notify_all()
        lines.put(line.rstrip("\n"))


threading.Thread(target=pump, daemon=True).start()
seen = []


def wait_for(prefix, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no line starting with {prefix!r}; got:\n" + "\n".join(seen[-20:]))


def mosquitto_pub(*args):
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "--cafile",
                           os.path.join(data, "ca.pem"), "-V", "5", "-q", "1", *args],
                          capture_output=True, text=True, timeout=30)


try:
    port = wait_for("mqtts ").rsplit(":", 1)[1]
    assert "refused" in wait_for("probe: publish on Greenhouse/greenhouse_lux_probe_2")
    done = wait_for("done ", timeout=120)
    run_s = time.monotonic() - started
    assert done == f"done readings {len(lux)} stored {len(lux)}", done

    # Blaster: exactly the expected commands, in order.
    got = []
    while True:
        try:
            got.append(commands.get(timeout=2 if len(got) >= len(moves) else 20))
        except queue.Empty:
            break
    want = [(IR_CLOSE if name == "Shade_Close" else IR_OPEN, "on time") for _, name in moves]
    assert got == want, (got, want)

    # Notifications: one SNS envelope per move, naming the alarm and the simulated minute.
    for minute, name in moves:
        envelope = json.loads(notes.get(timeout=20))
        assert envelope["Type"] == "Notification", envelope
        alarm = json.loads(envelope["Message"])
        assert alarm["AlarmName"] == name and alarm["NewStateValue"] == "ALARM", alarm
        at = f"T{hhmm(minute)}:00"
        assert at in alarm["StateChangeTime"], (at, alarm["StateChangeTime"])
    assert notes.empty()
    minutes = [m for m, _ in moves]
    assert all(b - a >= PERIODS for a, b in zip(minutes, minutes[1:])), minutes
    first_bright = next(k for k, v in enumerate(lux) if v > 35000)
    close_at = next(m for m, n in moves if n == "Shade_Close")
    assert close_at >= first_bright + PERIODS, (close_at, first_bright)

    # Outside the policy: another probe's topic, and no certificate at all.
    cert = ["--cert", os.path.join(data, "probe.pem"), "--key", os.path.join(data, "probe.key")]
    mosquitto_pub(*cert, "-i", "greenhouse_lux_probe_1", "-t", "Greenhouse/greenhouse_lux_probe_9",
                  "-m", '{"lux":99999}')
    wait_for("denied: publish greenhouse_lux_probe_1 Greenhouse/greenhouse_lux_probe_9")
    anon = mosquitto_pub("-i", "greenhouse_lux_probe_1", "-t", "Greenhouse/greenhouse_lux_probe_1",
                         "-m", '{"lux":99999}')
    assert anon.returncode != 0, anon

    # Stored: one row per reading, none from the refused publishes.
    db = sqlite3.connect(os.path.join(data, "telemetry.db"))
    rows = db.execute("SELECT hash, range_key, payload FROM rule_items WHERE tbl = ? "
                      "ORDER BY range_key", ("Greenhouse_Lux_Sensor",)).fetchall()
    db.close()
    assert len(rows) == len(lux), len(rows)
    assert {r[0] for r in rows} == {"greenhouse_lux_probe_1"}, {r[0] for r in rows}
    assert [json.loads(r[2])["lux"] for r in rows] == lux
    assert rows[1][1] - rows[0][1] == 60000, rows[:2]
finally:
    gh.stdin.close()
    rc = gh.wait(timeout=30)
    hook.shutdown()
    blaster.close()
    shutil.rmtree(data, ignore_errors=True)
rest = []
while not lines.empty():
    rest.append(lines.get())
assert rc == 0, rc
denied = [l for l in seen + rest if l.startswith("denied ")]
assert denied and int(denied[-1].split()[1]) >= 2, denied
print(f"{len(lux)} simulated minutes in {run_s:.1f} s; moves at minutes "
      f"{[m for m, _ in moves]}: {[n for _, n in moves]}")
print("ok")
