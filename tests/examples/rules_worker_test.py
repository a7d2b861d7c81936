#!/usr/bin/env python3
"""examples/rules_worker end to end: a real mosquitto on a free loopback port, two
`iotblocks rules worker` processes in group `converters` with the example's rules.json,
and mosquitto_pub as four production lines. Phase 1 (200 readings): every reading is
processed exactly once across the two workers (results counted on processed/#) and both
did a share (their stats add up). Phase 2: worker A is killed with SIGKILL during a stream
of 1000 readings and restarted with the same client id: its broker session kept what it
held (a worker acknowledges only after its actions ran), so every reading is processed
at least once; the duplicates (done by A, not yet acknowledged when it died) are counted
and printed. Phase 3 (100 readings after the restart): all processed exactly once, by
the two workers. Everything started here is killed at the end."""
import functools
import json
import os
import queue
import re
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import free_port, stop, wait_until  # noqa: E402

cli, example = sys.argv[1], sys.argv[2]
LINES = ("line1", "line2", "line3", "line4")
PHASE1, STREAM, PHASE3 = 200, 1000, 100  # readings (spread over the four lines)
started = []


wait_for = functools.partial(wait_until, timeout=60)


def collect(stream, sink):
    """Appends the stream's lines to the list `sink` from a thread."""
    def pump():
        for line in stream:
            sink.append(line.rstrip("\n"))
    threading.Thread(target=pump, daemon=True).start()


class Worker:
    def __init__(self, name, port):
        self.name, self.out = name, []
        self.proc = subprocess.Popen(
            [cli, "rules", "worker", "--broker", f"mqtt://127.0.0.1:{port}", "--group",
             "converters", "--rules", f"{example}/rules.json", "--client-id", name,
             "--stats", "1"], stdout=subprocess.PIPE, text=True)
        started.append(self.proc)
        collect(self.proc.stdout, self.out)

    def events(self, kind):
        return [e for e in map(json.loads, list(self.out)) if e["event"] == kind]

    def received(self):
        stats = self.events("stats")
        return stats[-1]["received"] if stats else 0


def publish(port, first, count, wait=True):
    """Readings first..first+count-1, round robin over the lines, one mosquitto_pub -l each;
    returns the publishers when not waiting."""
    pubs = []
    for i, line in enumerate(LINES):
        body = "".join(json.dumps({"seq": s, "celsius": 20 + s / 4}) + "\n"
                       for s in range(first, first + count) if s % len(LINES) == i)
        pubs.append(subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q",
                                      "1", "-i", f"{line}-sensor", "-t",
                                      f"factory/{line}/temperature", "-l"],
                                     stdin=subprocess.PIPE, text=True))
        pubs[-1].stdin.write(body)
        pubs[-1].stdin.close()
    if not wait:
        return pubs
    for p in pubs:
        assert p.wait(timeout=60) == 0


def check(results, first, count, at_least_once=False):
    for s in range(first, first + count):
        topic = f"processed/{LINES[s % len(LINES)]}/{s}"
        got = results.get(topic, [])
        if at_least_once:
            assert got and all(g == got[0] for g in got), (topic, got)  # copies are equal
        else:
            assert len(got) == 1, (topic, got)  # processed exactly once
        r = json.loads(got[0])
        celsius = 20 + s / 4
        assert r["seq"] == s and r["line"] == LINES[s % len(LINES)], r
        assert abs(r["fahrenheit"] - (celsius * 1.8 + 32)) < 1e-9, r


t0 = time.monotonic()
try:
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        with open(f"{work}/mosquitto.conf", "w") as f:
            f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "log_dest stderr\nlog_type notice\nlog_type information\n")
        broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", f"{work}/mosquitto.conf"],
                                  stderr=subprocess.PIPE, text=True)
        started.append(broker)
        broker_log = []
        collect(broker.stderr, broker_log)
        wait_for(lambda: any("running" in l for l in broker_log), "mosquitto to start")

        # A watcher on the results: topic -> payloads.
        results, watch_out = {}, queue.Queue()
        watcher = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p",
                                    str(port), "-d", "-F", "MSG %t %p", "-q", "1", "-i", "watcher",
                                    "-t", "processed/#"], stdout=subprocess.PIPE, text=True)
        started.append(watcher)
        suback = threading.Event()

        def watch():
            for line in watcher.stdout:
                line = line.rstrip("\n")
                if not line.startswith("MSG "):  # -d debug lines
                    if "received SUBACK" in line:
                        suback.set()
                    continue
                topic, _, payload = line[4:].partition(" ")
                results.setdefault(topic, []).append(payload)
        threading.Thread(target=watch, daemon=True).start()
        assert suback.wait(30), "watcher SUBACK"

        a, b = Worker("worker-a", port), Worker("worker-b", port)
        wait_for(lambda: a.events("subscribed") and b.events("subscribed"), "both workers' SUBACK")
        print("subscribed:", a.events("subscribed")[0], b.events("subscribed")[0])

        # Phase 1: both workers.
        publish(port, 0, PHASE1)
        wait_for(lambda: len(results) >= PHASE1, f"{PHASE1} results")
        wait_for(lambda: a.received() + b.received() == PHASE1, "the workers' stats")
        a1, b1 = a.received(), b.received()
        check(results, 0, PHASE1)
        assert a1 > 0 and b1 > 0, (a1, b1)  # the work was split
        print(f"phase 1: {PHASE1} readings, worker-a {a1}, worker-b {b1}, each result once")

        # Phase 2: a stream; worker A is killed (SIGKILL, no goodbye) while it runs, then
        # restarted with the same client id: its session gives back what it held.
        stream = publish(port, PHASE1, STREAM, wait=False)
        wait_for(lambda: len(results) >= PHASE1 + STREAM // 10, "the stream to be under way")
        a.proc.kill()
        a.proc.wait(timeout=10)
        wait_for(lambda: any(re.search(r"(client|Client) worker-a\b.*(disconnect|closed)", l)
                             for l in broker_log), "mosquitto to notice worker-a is gone")
        for p in stream:
            assert p.wait(timeout=60) == 0
        processed_while_down = len(results)
        a = Worker("worker-a", port)
        wait_for(lambda: a.events("subscribed"), "worker-a back")
        first3 = PHASE1 + STREAM
        wait_for(lambda: all(f"processed/{LINES[s % len(LINES)]}/{s}" in results
                             for s in range(PHASE1, first3)), f"all {STREAM} stream results")

        # Phase 3: published after the restart, all processed exactly once by the two.
        publish(port, first3, PHASE3)
        wait_for(lambda: all(f"processed/{LINES[s % len(LINES)]}/{s}" in results
                             for s in range(first3, first3 + PHASE3)), f"{PHASE3} results")
        final = {}
        for w in (a, b):
            w.proc.terminate()
            assert w.proc.wait(timeout=30) == 0  # after its held messages were acknowledged
        time.sleep(0.1)  # let the reader threads take the last lines
        for w in (a, b):
            stopped = w.events("stopped")
            assert stopped, w.name
            final[w.name] = st = stopped[-1]
            assert st["actions_failed"] == 0 and st["not_acked"] == 0, st
            assert st["acked"] == st["received"] == st["actions_succeeded"], st

        # A fence through the broker: any late duplicate would have arrived before it.
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                        "-t", "processed/fence", "-m", "end"], check=True, timeout=30)
        wait_for(lambda: "processed/fence" in results, "the fence")
        del results["processed/fence"]
        check(results, 0, PHASE1)
        check(results, PHASE1, STREAM, at_least_once=True)  # none lost
        check(results, first3, PHASE3)
        assert len(results) == PHASE1 + STREAM + PHASE3, len(results)
        twice = sorted(int(t.rsplit("/", 1)[1]) for t, v in results.items() if len(v) > 1)
        extra = sum(len(v) - 1 for v in results.values())
        back = final["worker-a"]
        # A duplicate is a reading the killed worker had processed but not acknowledged.
        assert extra <= back["redelivered"], (extra, back)
        print(f"phase 2: worker-a killed during a stream of {STREAM} ({processed_while_down - PHASE1}"
              f" results by then), restarted with its client id: all {STREAM} processed, "
              f"{back['redelivered']} handed back as redelivered, {extra} processed twice "
              f"{twice[:5]}{'...' if len(twice) > 5 else ''}")
        print(f"phase 3: {PHASE3} readings after the restart, each once; restarted worker-a "
              f"received {back['received']}, worker-b {final['worker-b']['received']} in all")
finally:
    stop(started)
print(f"ok ({time.monotonic() - t0:.1f} s)")
