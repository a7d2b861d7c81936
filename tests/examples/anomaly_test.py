#!/usr/bin/python3
"""examples/anomaly end to end in headless Chromium (Debian chromium + chromium-driver,
driven by python3-selenium, as tests/console/console_test.py does).

1. `iotblocks gateway run --config` with examples/anomaly/gateway.json on free ports;
   /console/anomaly.html subscribes to anom/pred over MQTT on WebSocket; the example
   program replays the wind series (two stations) into anom/detect. The page's charts
   must grow while the replay runs (points and bounds), end with every point of both
   stations, draw the bounds, and ring the gust (31.00 on station-1) outside the band;
   the program must print the page address and the flagged gust.
2. `iotblocks gateway run --demo`: the simulated wind stations' anom/pred shows up on
   the same page (points and bounds for station-1 and station-2).
Screenshots go to --artifacts.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

sys.path.insert(0, os.path.dirname(__file__))
from harness import free_port  # noqa: E402

WAIT = 30  # seconds for any one thing to show up


def wait_for(what, fn, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


class Gateway:
    """`iotblocks gateway run` on free ports with the rules of `base` (a config dict)."""

    def __init__(self, cli, d, name, base, extra=()):
        self.ports = {t: free_port() for t in ("mqtt", "ws", "http")}
        cfg = dict(base)
        cfg["listeners"] = [
            {"type": "mqtt", "address": "127.0.0.1", "port": self.ports["mqtt"]},
            {"type": "ws", "address": "127.0.0.1", "port": self.ports["ws"], "ws_path": "/mqtt"},
            {"type": "http", "address": "127.0.0.1", "port": self.ports["http"]},
        ]
        cfg["data_dir"] = os.path.join(d, name + "-data")
        path = os.path.join(d, name + ".json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.cmd = [cli, "gateway", "run", "--config", path, *extra]
        self.log_path = os.path.join(d, name + ".log")
        self.base = "http://127.0.0.1:%d" % self.ports["http"]
        self.start()

    def start(self):
        """Starts the gateway (again: same ports, same data) and waits for /health."""
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("gateway exited: see " + self.log_path)
            try:
                urllib.request.urlopen(self.base + "/health", timeout=1).read()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gateway did not answer /health")
                time.sleep(0.05)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def chart_state(driver, series):
    """Counters and geometry of one series' chart, or None before its card exists."""
    return driver.execute_script("""
        const card = [...document.querySelectorAll('[data-series]')]
            .find((c) => c.dataset.series === arguments[0]);
        if (!card) return null;
        const svg = card.querySelector('svg');
        const pts = (role) => (svg.querySelector(`[data-role="${role}"]`).getAttribute('points') || '')
            .split(' ').filter(Boolean).map((p) => p.split(',').map(Number));
        return {received: +svg.dataset.received, points: +svg.dataset.points,
                bounds: +svg.dataset.bounds, anomalies: +svg.dataset.anomalies,
                dots: svg.querySelectorAll('[data-role="point"]').length,
                upper: pts('upper'), lower: pts('lower'), value: pts('value'),
                band: (svg.querySelector('[data-role="band"]').getAttribute('d') || '').length,
                rings: [...svg.querySelectorAll('[data-role="anomaly"]')].map((r) =>
                    ({x: +r.getAttribute('cx'), y: +r.getAttribute('cy'), value: +r.dataset.value}))};
    """, series)


def severe_logs(driver):
    """The page's SEVERE console entries since the last call (CSP violations, script errors)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def open_page(driver, gw):
    driver.get("about:blank")  # the previous page (retrying its lost gateway) is gone
    severe_logs(driver)  # and what it logged is dropped
    driver.get(gw.base + "/console/anomaly.html")
    wait_for("the page to subscribe", lambda: driver.execute_script(
        "return document.getElementById('anomaly').dataset.subscribed === 'true'"))
    pill = driver.find_element(By.ID, "mqtt-state").text
    assert pill == "MQTT connected", pill


def hostile_messages(driver, gw):
    """Anything may be published on anom/pred: the page must neither break nor run it."""
    script = "<img src=x onerror=\"window.pwned=1\">"
    messages = [
        "not json",
        '{"station": "x"}',
        "[1, 2, 3]",
        json.dumps({"station": script, "time": "t" * 500,
                    "anomaly": {"wind_speed": {"value": "high", "lower": None, "upper": [1],
                                               "anomaly": "yes"}}}),
        json.dumps({"station": "huge", "anomaly": {"wind_speed": {
            "value": 1e308, "lower": -1e308, "upper": 1e308, "anomaly": True}}}),
        json.dumps({"station": "huge", "anomaly": {"wind_speed": {
            "value": 5, "lower": 1, "upper": 9, "anomaly": False}}}),
    ]
    for m in messages:
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(gw.ports["mqtt"]),
                        "-t", "anom/pred", "-m", m], check=True, timeout=10)
    wait_for("the page to count the hostile messages", lambda: driver.execute_script(
        "return document.getElementById('anomaly').dataset.messages") == str(240 + len(messages)))
    assert driver.execute_script("return window.pwned === undefined && "
                                 "document.querySelectorAll('main img').length === 0")
    summary = driver.find_element(By.ID, "summary").text
    assert "3 ignored" in summary, summary
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-series] h2")]
    assert script + " · wind_speed" in titles, titles  # shown as text, not markup
    odd = chart_state(driver, script + "/wind_speed")
    assert odd["received"] == 1 and odd["points"] == 0 and odd["bounds"] == 0, odd
    huge = chart_state(driver, "huge/wind_speed")
    assert huge["received"] == 2 and huge["points"] == 1 and huge["bounds"] == 1, huge
    logs = severe_logs(driver)
    assert not logs, logs


def replay_scenario(args, driver, tmp):
    with open(os.path.join(args.example, "gateway.json")) as f:
        base = json.load(f)
    gw = Gateway(args.cli, tmp, "replay", base)
    replay = None
    try:
        open_page(driver, gw)
        replay = subprocess.Popen([args.replay, "--gateway", gw.base, "--rate", "15"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The charts grow while the replay runs (120 rows at 15/s: about 8 s).
        samples = []
        deadline = time.monotonic() + 60
        while replay.poll() is None and time.monotonic() < deadline:
            s = chart_state(driver, "station-1/wind_speed")
            if s:
                samples.append((s["received"], s["dots"], len(s["upper"]), len(s["lower"])))
            time.sleep(0.4)
        out, err = replay.communicate(timeout=30)
        print(out, err)
        assert replay.returncode == 0, replay.returncode
        print("samples (received, dots, upper, lower) during the replay:", samples)
        growing = sorted(set(samples))
        assert len(growing) >= 3, samples
        assert all(a <= b for a, b in zip(samples, samples[1:])), samples
        assert any(s[2] > 0 for s in growing[:-1]), "bounds did not grow during the replay"

        lines = out.splitlines()
        assert lines[0] == "page %s/console/anomaly.html" % gw.base, lines[0]
        assert any(l.startswith("anomaly station-1 ") and "wind_speed = 31.00" in l
                   for l in lines), out
        assert lines[-1] == "replayed 240 points on anom/detect, 240 predictions on anom/pred", lines[-1]

        def complete():
            a = chart_state(driver, "station-1/wind_speed")
            b = chart_state(driver, "station-2/wind_speed")
            return a and b and a["received"] == 120 and b["received"] == 120 and (a, b)
        s1, s2 = wait_for("all 120 points of both stations", complete)
        for s in (s1, s2):
            assert s["points"] == s["dots"] == len(s["value"]) == 120, s["points"]
            assert s["bounds"] == len(s["upper"]) == len(s["lower"]) >= 110, s["bounds"]
            assert s["band"] > 0
            # Upper above lower everywhere (SVG y grows downwards).
            assert all(u[1] <= l[1] + 0.01 for u, l in zip(s["upper"], s["lower"]))
        # The gust is ringed, and it lies above the upper bound at its x.
        gust = [r for r in s1["rings"] if abs(r["value"] - 31.0) < 1e-9]
        assert gust, s1["rings"]
        upper_at = {round(x, 1): y for x, y in s1["upper"]}
        assert gust[0]["y"] < upper_at[round(gust[0]["x"], 1)], (gust, upper_at)
        assert s1["anomalies"] >= 1 and s2["anomalies"] >= 1, (s1["anomalies"], s2["anomalies"])
        rows = driver.find_elements(By.CSS_SELECTOR, "#flagged tr[data-anomaly='station-1/wind_speed']")
        assert any("31.0" in r.text for r in rows), [r.text for r in rows]
        summary = driver.find_element(By.ID, "summary").text
        assert summary.startswith("240 messages, 2 series"), summary
        driver.save_screenshot(os.path.join(args.artifacts, "anomaly-replay.png"))
        logs = severe_logs(driver)
        assert not logs, logs
        print("replay: station-1 %d points, %d with bounds, %d flagged; station-2 %d flagged" %
              (s1["points"], s1["bounds"], s1["anomalies"], s2["anomalies"]))
        hostile_messages(driver, gw)
    finally:
        if replay is not None and replay.poll() is None:
            replay.kill()
            replay.wait()
        gw.stop()


def demo_scenario(args, driver, tmp):
    gw = Gateway(args.cli, tmp, "demo", {}, extra=["--demo"])
    try:
        open_page(driver, gw)
        first = {}

        def live():
            for station in ("station-1", "station-2"):
                s = chart_state(driver, station + "/wind_speed")
                if not s or s["bounds"] == 0:
                    return False
                first.setdefault(station, s["received"])
                if s["received"] < first[station] + 3:
                    return False
            return True
        wait_for("the demo's wind stations with bounds", live, timeout=45)
        driver.save_screenshot(os.path.join(args.artifacts, "anomaly-demo.png"))
        logs = severe_logs(driver)
        assert not logs, logs
        s = chart_state(driver, "station-1/wind_speed")
        print("demo: station-1 %d points, %d with bounds" % (s["points"], s["bounds"]))

        # A gateway restart: the page says so, reconnects by itself and keeps drawing.
        gw.stop()
        wait_for("the page to notice the lost connection", lambda: driver.execute_script(
            "return document.getElementById('anomaly').dataset.state === 'disconnected'"))
        assert "reconnecting" in driver.find_element(By.ID, "error").text
        gw.start()
        wait_for("the page to reconnect", lambda: driver.execute_script(
            "const m = document.getElementById('anomaly').dataset;"
            "return m.subscribed === 'true' && m.connections === '2'"))
        before = chart_state(driver, "station-1/wind_speed")["received"]
        wait_for("points after the restart", lambda: chart_state(
            driver, "station-1/wind_speed")["received"] >= before + 2)
        severe_logs(driver)  # the refused reconnection attempts log errors; expected here
        print("demo: reconnected after a gateway restart, points keep coming")
    finally:
        gw.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True, help="the iotblocks program")
    ap.add_argument("--replay", required=True, help="the example program")
    ap.add_argument("--example", required=True, help="examples/anomaly")
    ap.add_argument("--artifacts", required=True, help="screenshots go here")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = ap.parse_args()
    for tool in (args.chromium, args.chromedriver, shutil.which("mosquitto_pub")):
        if not tool or not os.path.exists(tool):
            print("missing tool:", tool, "(see scripts/deps.txt)")
            return 1
    os.makedirs(args.artifacts, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="iotblocks-anomaly-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = args.chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1200,1100", "--no-first-run", "--disable-extensions"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(args.chromedriver), options=opts)
    ok = False
    try:
        replay_scenario(args, driver, tmp)
        demo_scenario(args, driver, tmp)
        ok = True
    finally:
        if not ok:
            try:
                driver.save_screenshot(os.path.join(args.artifacts, "anomaly-failed.png"))
            except Exception:  # noqa: BLE001
                pass
        driver.quit()
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print("gateway logs kept in", tmp)
    print("ok: screenshots in", args.artifacts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
