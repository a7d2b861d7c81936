#!/usr/bin/python3
"""HTTP publishes to the gateway, SigV4-signed (`aws iot-data publish`) and unsigned
(`POST /topics`), measured with `iotblocks-bench --http` over keep-alive connections on
loopback. The gateway's HTTP server runs on one thread; the figure that does not depend on
the machine's other load is the gateway's CPU time per request (from /proc), given as
requests per second of gateway CPU (= requests/s on one core). Several gateway binaries
(e.g. before and after a change) run interleaved, RUNS times, and the median is printed.

  benchmarks/peers/aws_publish.py BENCH IOTBLOCKS [IOTBLOCKS ...]
  env: RUNS (3), DURATION (3 s), CONNECTIONS (4), PAYLOAD (64)
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

KEY, SECRET = "AKIABENCHPUBLISH01", "bench-publish-secret"


def start(binary, d):
    config = {"data_dir": os.path.join(d, "data"), "listeners": [{"type": "http", "port": 0}],
              "aws_access_keys": [{"access_key_id": KEY, "secret_access_key": SECRET}]}
    path = os.path.join(d, "gw.json")
    with open(path, "w") as f:
        json.dump(config, f)
    proc = subprocess.Popen([binary, "gateway", "run", "--config", path],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("gateway exited")
        parts = line.split()
        if len(parts) == 2 and parts[0] == "http":
            port = int(parts[1].rsplit(":", 1)[1])
        if parts and parts[0] == "data":
            return proc, port


def main():
    bench, binaries = sys.argv[1], sys.argv[2:]
    runs = int(os.environ.get("RUNS", "3"))
    duration = os.environ.get("DURATION", "3")
    connections = os.environ.get("CONNECTIONS", "4")
    payload = os.environ.get("PAYLOAD", "64")
    results = {}
    print("load average at start: %.2f %.2f %.2f" % os.getloadavg(), flush=True)
    for _ in range(runs):
        for binary in binaries:
            for signed in (False, True):
                d = tempfile.mkdtemp(prefix="iotblocks-aws-publish-")
                proc, port = start(binary, d)
                try:
                    args = [bench, "--http", "--port", str(port), "-p", connections, "-d", duration,
                            "--payload", payload, "--server-pid", str(proc.pid)]
                    if signed:
                        args += ["--aws-access-key-id", KEY, "--aws-secret-access-key", SECRET,
                                 "--aws-region", "eu-west-1"]
                    out = json.loads(subprocess.run(args, capture_output=True, text=True,
                                                    check=True, timeout=120).stdout)
                    if out["errors"]:
                        raise RuntimeError("errors: %s" % out["first_error"])
                    results.setdefault((binary, signed), []).append(out)
                finally:
                    proc.terminate()
                    proc.wait(timeout=20)
                    shutil.rmtree(d, ignore_errors=True)
    print("load average at end: %.2f %.2f %.2f" % os.getloadavg())
    print("| gateway | request | requests/s (wall) | gateway CPU us/request | requests/s per gateway core |")
    print("|---|---|---:|---:|---:|")
    for binary in binaries:
        for signed in (False, True):
            rs = results[(binary, signed)]
            print("| %s | %s | %.0f | %.1f | %.0f |" % (
                binary, "SigV4" if signed else "unsigned",
                statistics.median(r["requests_per_s"] for r in rs),
                statistics.median(r["server_cpu_us_per_request"] for r in rs),
                statistics.median(r["requests_per_server_cpu_s"] for r in rs)))


if __name__ == "__main__":
    main()
