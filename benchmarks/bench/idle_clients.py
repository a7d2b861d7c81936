#!/usr/bin/env python3
"""Opens N idle MQTT 3.1.1 connections to a broker and reports the broker's RSS.

    idle_clients.py --port 1883 --count 10000 --pid <broker pid>

Each connection sends CONNECT (clean session, keep-alive 600 s, client id
idle-<i>) and waits for a successful CONNACK; then nothing more is sent. The
broker's VmRSS (from /proc/<pid>/status) is read before the first connection and
again once every connection is established and the broker had a moment to
settle; the result is one JSON line: count, rss_before_kb, rss_after_kb and
bytes per connection. Needs `ulimit -n` above count (the runner raises it). --tls connects with TLS
(no certificate check: a throw-away server certificate); --sources spreads the
connections over source addresses 127.0.0.1, 127.0.0.2, ... (one address has
about 28,000 ephemeral ports towards one server port). The JSON line also gives
the connect time and the rate at which the broker accepted and answered.
"""
import argparse
import json
import os
import selectors
import socket
import ssl
import struct
import sys
import time


def connect_packet(client_id: str, keep_alive: int) -> bytes:
    cid = client_id.encode()
    body = (struct.pack("!H", 4) + b"MQTT" + bytes([4, 0x02]) + struct.pack("!H", keep_alive) +
            struct.pack("!H", len(cid)) + cid)
    return bytes([0x10, len(body)]) + body


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--pid", type=int, required=True, help="broker process to measure")
    ap.add_argument("--batch", type=int, default=200, help="connections opened at a time")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds before the second reading")
    ap.add_argument("--label", default="")
    ap.add_argument("--tls", action="store_true", help="connect with TLS (no certificate check)")
    ap.add_argument("--sources", type=int, default=0,
                    help="source addresses 127.0.0.1.. (0: one per 25,000 connections)")
    ap.add_argument("--hold-until", default="",
                    help="after the report, keep the connections until this file exists")
    a = ap.parse_args()

    sources = a.sources or 1 + a.count // 25000
    ctx = None
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    before = rss_kb(a.pid)
    sel = selectors.DefaultSelector()
    socks = []
    ok = 0
    start = time.monotonic()
    for first in range(0, a.count, a.batch):
        pending = {}
        for i in range(first, min(first + a.batch, a.count)):
            source = (f"127.0.0.{1 + i % sources}", 0) if sources > 1 else None
            s = socket.create_connection((a.host, a.port), source_address=source)
            if ctx:
                s = ctx.wrap_socket(s)
            s.sendall(connect_packet(f"idle-{i}", 600))
            s.setblocking(False)
            socks.append(s)
            pending[s] = b""
            sel.register(s, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                try:
                    data = s.recv(16)
                except ssl.SSLWantReadError:
                    continue
                if not data:
                    sel.unregister(s)
                    del pending[s]
                    continue
                pending[s] += data
                if len(pending[s]) >= 4:
                    if pending[s][0] == 0x20 and pending[s][3] == 0:
                        ok += 1
                    sel.unregister(s)
                    del pending[s]
        for s in pending:
            sel.unregister(s)
    elapsed = time.monotonic() - start
    time.sleep(a.settle)
    after = rss_kb(a.pid)
    per = (after - before) * 1024 / max(ok, 1)
    print(json.dumps({"label": a.label, "count": a.count, "connected": ok,
                      "rss_before_kb": before, "rss_after_kb": after,
                      "bytes_per_connection": round(per), "connect_s": round(elapsed, 2),
                      "accepts_per_s": round(ok / max(elapsed, 1e-9))}), flush=True)
    while a.hold_until and not os.path.exists(a.hold_until):
        time.sleep(0.1)
    for s in socks:
        s.close()
    return 0 if ok == a.count else 1


if __name__ == "__main__":
    sys.exit(main())
