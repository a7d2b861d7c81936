#!/usr/bin/env python3
"""Throughput of the stateless workers on one mosquitto, 1 and 2 replicas side by side.

  benchmarks/peers/workers.py build/<dir>/apps/iotblocks/iotblocks [--updates N]
                              [--messages N] [--publishers P] [--runs R]
                              [--republish-qos 0|1]

shadow worker: P mosquitto_pub -l clients (QoS 1) send N shadow updates, each to its
own thing ($aws/things/bench<p>/shadow/update, a distinct reported key per update) into a
PostgreSQL started here (initdb in a temporary directory, own port); the rate is N over
the time from the first publish to the N-th update/accepted at one mosquitto_sub (QoS 1).
Every update is committed before it is acknowledged and answered (group commit).

rules worker: the same publishers send N messages to bench/<p>; the rule
SELECT * FROM 'bench/+' republishes each to out/<p> at --republish-qos (default 0; at 1
each republish waits for its PUBACK on an engine thread before the message is
acknowledged); the rate is N over the time until the N-th republished message arrives.

Both run through mosquitto 2.0 with a bridge that remaps $aws/things/… to
iotblocks/things/… (mosquitto 2.0 matches no shared subscription to a $ topic). Prints
one line per run and a table of medians with the load average. The workers are
anonymous (clean sessions), so a stopped one leaves no session behind to take a share.
"""
import argparse
import glob
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bridge(port):
    c = (f"connection shadow-requests\naddress 127.0.0.1:{port}\n"
         "bridge_protocol_version mqttv50\ncleansession false\n"
         "local_clientid bench-bridge-local\nremote_clientid bench-bridge\ntry_private false\n")
    for op in ("get", "update", "delete"):
        c += f"topic things/+/shadow/{op} in 1 iotblocks/ $aws/\n"
    return c


class Mosquitto:
    def __init__(self, workdir):
        self.port = free_port()
        conf = os.path.join(workdir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
                    "log_dest none\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n"
                    + bridge(self.port))
        self.proc = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf])
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


class Postgres:
    def __init__(self, workdir):
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            sys.exit("no PostgreSQL server under /usr/lib/postgresql (Debian package postgresql)")
        self.bin = os.path.dirname(bins[-1])
        self.dir = os.path.join(workdir, "pg")
        os.mkdir(self.dir)
        self.as_user = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.port = free_port()
        self.run([f"{self.bin}/initdb", "-D", f"{self.dir}/data", "-A", "trust", "-U", "iot",
                  "-E", "UTF8", "--no-sync"])
        self.run([f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-w", "-l",
                  f"{self.dir}/server.log", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])
        self.dbs = 0

    def run(self, cmd):
        subprocess.run(self.as_user + cmd, check=True, stdout=subprocess.DEVNULL)

    def new_database(self):
        self.dbs += 1
        name = f"bench{self.dbs}"
        subprocess.run([f"{self.bin}/createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                        "iot", name], check=True)
        return f"postgresql://iot@127.0.0.1:{self.port}/{name}"

    def stop(self):
        self.run([f"{self.bin}/pg_ctl", "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop"])


def start_workers(cmds):
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, text=True) for c in cmds]
    for p in procs:
        line = p.stdout.readline()
        if '"subscribed"' not in line:
            raise RuntimeError(f"worker did not subscribe: {line!r}")
    return procs


def stop_workers(procs):
    out = []
    for p in procs:
        p.terminate()
        out.append(p.communicate()[0].strip().splitlines()[-1])
        p.wait()
    return out


def measure(port, n, publishers, topic_of, payload_of, reply_filter):
    """Seconds from the first publish until n replies matched reply_filter."""
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                            "-t", reply_filter, "-C", str(n), "-W", "600", "-i",
                            f"bench-sub-{os.getpid()}", "-V", "mqttv5"],
                           stdout=subprocess.DEVNULL)
    time.sleep(0.5)  # mosquitto_sub has no "subscribed" output to wait on
    per = [n // publishers + (1 if p < n % publishers else 0) for p in range(publishers)]
    inputs = ["".join(payload_of(p, i) + "\n" for i in range(per[p])) for p in range(publishers)]
    start = time.monotonic()
    pubs = []
    for p in range(publishers):
        pub = subprocess.Popen(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1",
                                "-t", topic_of(p), "-l", "-V", "mqttv5"],
                               stdin=subprocess.PIPE, text=True)
        pubs.append(pub)
    for pub, text in zip(pubs, inputs):
        pub.stdin.write(text)
        pub.stdin.close()
    if sub.wait() != 0:
        raise RuntimeError("mosquitto_sub timed out")
    elapsed = time.monotonic() - start
    for pub in pubs:
        pub.wait()
    return elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cli", help="the iotblocks program")
    ap.add_argument("--updates", type=int, default=40000)
    ap.add_argument("--messages", type=int, default=40000)
    ap.add_argument("--publishers", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", choices=("shadow", "rules"), help="run one kind of worker")
    ap.add_argument("--republish-qos", type=int, choices=(0, 1), default=0)
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="iotblocks-workers-bench-")
    os.chmod(work, 0o755)
    rules = os.path.join(work, "rules.json")
    with open(rules, "w") as f:
        f.write('{"Bench": {"sql": "SELECT * FROM \'bench/+\'", "actions": '
                '[{"republish": {"topic": "out/${topic(2)}", "qos": %d}}]}}' % a.republish_qos)
    broker = Mosquitto(work)
    pg = Postgres(work)
    results = {}
    try:
        for run in range(a.runs):
            for workers in (1, 2) if a.only != "rules" else ():
                url = pg.new_database()
                procs = start_workers([[a.cli, "shadow", "worker", "--broker",
                                        f"127.0.0.1:{broker.port}", "--store", url,
                                        "--share-group", "bench", "--request-prefix",
                                        "iotblocks/"] for _ in range(workers)])
                t = measure(broker.port, a.updates, a.publishers,
                            lambda p: f"$aws/things/bench{p}/shadow/update",
                            lambda p, i: '{"state":{"reported":{"k%d":%d}}}' % (i % 16, i),
                            "$aws/things/+/shadow/update/accepted")
                stop_workers(procs)
                rate = a.updates / t
                results.setdefault(("shadow", workers), []).append(rate)
                print(f"run {run + 1}: shadow worker x{workers}: {a.updates} updates in "
                      f"{t:.2f} s = {rate:,.0f}/s", flush=True)
            for workers in (1, 2) if a.only != "shadow" else ():
                procs = start_workers([[a.cli, "rules", "worker", "--broker",
                                        f"mqtt://127.0.0.1:{broker.port}", "--group", "bench",
                                        "--rules", rules] for _ in range(workers)])
                t = measure(broker.port, a.messages, a.publishers, lambda p: f"bench/{p}",
                            lambda p, i: '{"i":%d}' % i, "out/+")
                stop_workers(procs)
                rate = a.messages / t
                results.setdefault(("rules", workers), []).append(rate)
                print(f"run {run + 1}: rules worker x{workers}: {a.messages} messages in "
                      f"{t:.2f} s = {rate:,.0f}/s", flush=True)
    finally:
        broker.stop()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()
    print(f"\nload average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}, {os.cpu_count()} cores; "
          f"medians of {a.runs}")
    print("| worker | 1 replica | 2 replicas | 2 / 1 |\n|---|---|---|---|")
    for kind, unit in (("shadow", "updates/s"), ("rules", "messages/s")):
        if (kind, 1) not in results:
            continue
        one = statistics.median(results[(kind, 1)])
        two = statistics.median(results[(kind, 2)])
        print(f"| {kind} worker | {one:,.0f} {unit} | {two:,.0f} | {two / one:.2f}x |")


if __name__ == "__main__":
    main()
