"""The steps of console_test.py (one function each, in the order they run)."""
import json
import os
import re
import shlex
import subprocess
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from console_test import TOKEN, WAIT, Blocked

THING = "probe-1"


def wait(driver, cond, timeout=WAIT):
    return WebDriverWait(driver, timeout).until(cond)


def visible(driver, css, timeout=WAIT):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)


def text_in(driver, css, pattern, timeout=WAIT):
    """Waits until the element's text matches the regex; returns the text."""
    def check(d):
        try:
            t = d.find_element(By.CSS_SELECTOR, css).text
        except Exception:  # noqa: BLE001 - not there yet
            return False
        return t if re.search(pattern, t) else False
    return wait(driver, check, timeout)


def go(driver, gw, view):
    driver.get(gw.base + "/console/#/" + view)
    top = view.split("/")[0]  # the page marks its view by the first path segment
    wait(driver, lambda d: d.find_element(By.ID, "view").get_attribute("data-view") == top)


def set_value(el, text):
    el.clear()
    el.send_keys(text)


def run_all(t, gw, driver, tmp):
    state = {"sub": None}
    base = gw.base

    def serving():
        status, headers, body = gw.http("GET", "/")
        assert status == 302 and headers.get("Location") == "/console/", (status, headers)
        status, headers, _ = gw.http("GET", "/console")
        assert status == 302 and headers.get("Location") == "/console/", (status, headers)
        status, headers, body = gw.http("GET", "/console/")
        assert status == 200 and headers["Content-Type"].startswith("text/html"), headers
        assert "js/app.js" in body
        etag = headers["ETag"]
        assert headers["Cache-Control"] == "no-cache", headers
        status, _, body = gw.http("GET", "/console/index.html", {"If-None-Match": etag})
        assert status == 304 and body == "", status
        status, headers, _ = gw.http("GET", "/console/js/mqtt.js")
        assert status == 200 and headers["Content-Type"].startswith("text/javascript"), headers
        status, headers, _ = gw.http("GET", "/console/style.css")
        assert headers["Content-Type"].startswith("text/css"), headers
        assert gw.http("GET", "/console/nothing.js")[0] == 404
        assert gw.http("GET", "/console/../gw.json")[0] == 404
        status, headers, body = gw.http("GET", "/console/config.json")
        cfg = json.loads(body)
        assert TOKEN not in body and "key" not in body.lower(), body
        ws = [l for l in cfg["listeners"] if l["type"] == "ws"][0]
        assert ws["port"] == gw.ports["ws"] and ws["path"] == "/mqtt", cfg
        assert gw.http("GET", "/nowhere")[0] == 404
    t.step("serving: redirect, content types, ETag/304, config.json without secrets", serving)

    def login():
        driver.get(base + "/")
        visible(driver, "#login-form")
        assert driver.current_url.endswith("/console/"), driver.current_url
        t.shot("01-login")
        set_value(driver.find_element(By.ID, "login-token"), "wrong")
        driver.find_element(By.ID, "login-submit").click()
        text_in(driver, "#login-error", "not accepted")
        set_value(driver.find_element(By.ID, "login-token"), TOKEN)
        driver.find_element(By.ID, "login-submit").click()
        visible(driver, "#nav")
        wait(driver, lambda d: d.find_element(By.ID, "view").get_attribute("data-view") == "dashboard")
        stored = driver.execute_script("return sessionStorage.getItem('iotblocks.adminToken')")
        assert stored == TOKEN
        assert driver.execute_script("return localStorage.length") == 0
    t.step("login (token in sessionStorage only)", login)

    def dashboard_live():
        gw.require("GET", "/stats")
        text_in(driver, "#stats-status", "Live")
        text_in(driver, "#stat-connected", r"^\d+$")
        time.sleep(1.5)  # two polls: rates appear after the second one
        text_in(driver, "#stat-messages_in", r"/s")
        t.shot("02-dashboard")
    t.step("dashboard polls GET /admin/stats", dashboard_live)

    def events_subscribe():
        go(driver, gw, "events")
        text_in(driver, "#events-status", "Live")
        t.shot("08-events")
    t.step("live events view subscribes over MQTT/WebSocket", events_subscribe)

    def mqtt_subscribe():
        go(driver, gw, "mqtt")
        text_in(driver, "#mqtt-status", "Connected as")
        set_value(driver.find_element(By.ID, "sub-filter"), "devices/#")
        Select(driver.find_element(By.ID, "sub-qos")).select_by_value("1")
        driver.find_element(By.ID, "sub-button").click()
        text_in(driver, "#subscriptions", r"devices/# \(granted QoS 1\)")
        t.shot("07-mqtt-client")
    t.step("MQTT client view subscribes to devices/#", mqtt_subscribe)

    def wizard():
        go(driver, gw, "wizard")
        t.shot("06-wizard")
        gw.require("GET", "/things")
        set_value(driver.find_element(By.ID, "wizard-thing"), THING + "-x")
        set_value(driver.find_element(By.ID, "wizard-thing"), THING)
        assert THING in driver.find_element(By.ID, "wizard-policy").get_attribute("value")
        driver.find_element(By.ID, "wizard-create").click()
        visible(driver, "#wizard-command")
        t.shot("06-wizard")
        files = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const links = [...document.querySelectorAll('#wizard-downloads a')];
            Promise.all(links.map(async (a) => [a.download, await (await fetch(a.href)).text()]))
              .then(done, (e) => done({error: String(e)}));""")
        assert isinstance(files, list) and len(files) == 3, files
        for name, text in files:
            with open(os.path.join(tmp, name), "w") as f:
                f.write(text)
        names = [n for n, _ in files]
        assert any(n.endswith(".private.key") for n in names), names
        state["command"] = driver.find_element(By.ID, "wizard-command").text
        # The key is offered once: nothing the gateway serves afterwards carries it.
        key = [x for n, x in files if n.endswith(".private.key")][0]
        for path in ("/things", "/things/" + THING, "/certificates"):
            status, body = gw.require("GET", path)
            assert "PRIVATE KEY" not in body and key.strip() not in body, path
    t.step("wizard creates thing + policy + certificate and offers the files", wizard)

    def mosquitto():
        if "command" not in state:
            raise Blocked("no wizard output (see the wizard step)")
        cmd = shlex.split(state["command"])
        assert cmd[0] == "mosquitto_pub" and "--cert" in cmd and "--key" in cmd, cmd
        r = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, "mosquitto_pub failed (%d): %s" % (r.returncode, r.stderr)
        # A lasting connection with the same files for the dashboard.
        sub = [("mosquitto_sub" if a == "mosquitto_pub" else a) for a in cmd]
        cut = sub.index("-m")
        sub = sub[:cut] + ["-W", "60"]
        state["sub"] = subprocess.Popen(sub, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t.step("the wizard's mosquitto_pub command line connects over TLS and publishes", mosquitto)

    def message_seen():
        if "command" not in state:
            raise Blocked("no wizard output (see the wizard step)")
        go(driver, gw, "mqtt")
        css = '#messages li[data-topic="devices/%s/hello"]' % THING
        msg = visible(driver, css)
        assert "QoS 1" in msg.text, msg.text
        payload = msg.find_element(By.CSS_SELECTOR, "pre.payload").get_attribute("textContent")
        assert payload == '{\n  "hello": "from %s"\n}' % THING, payload
        # One published from the page with retain, then a new subscription gets it
        # flagged as retained.
        set_value(driver.find_element(By.ID, "pub-topic"), "devices/console/retained")
        driver.find_element(By.ID, "pub-retain").click()
        driver.find_element(By.ID, "pub-button").click()
        visible(driver, '#messages li[data-topic="devices/console/retained"]')
        set_value(driver.find_element(By.ID, "sub-filter"), "devices/console/#")
        driver.find_element(By.ID, "sub-button").click()
        wait(driver, lambda d: any("retained" in e.text for e in d.find_elements(
            By.CSS_SELECTOR, '#messages li[data-topic="devices/console/retained"] .message-head')))
        t.shot("07-mqtt-client")
    t.step("the device's message shows in the MQTT client view (topic, QoS, pretty JSON)", message_seen)

    def connection_on_dashboard():
        gw.require("GET", "/stats")
        if state.get("sub") is None:
            raise Blocked("no device connection (see the mosquitto step)")
        go(driver, gw, "dashboard")
        # The console's own WebSocket connection plus the device's.
        text_in(driver, "#stat-connected", r"^([2-9]|\d\d+)$")
        t.shot("02-dashboard")
    t.step("the device connection shows on the dashboard", connection_on_dashboard)

    def presence_event():
        if state.get("sub") is None:
            raise Blocked("no device connection (see the mosquitto step)")
        go(driver, gw, "events")
        text_in(driver, "#events", r"%s connected" % THING)
        t.shot("08-events")
    t.step("the device's presence event shows in the live feed", presence_event)

    def rule_error():
        go(driver, gw, "rules")
        set_value(driver.find_element(By.ID, "rule-name"), "broken_rule")
        set_value(driver.find_element(By.ID, "rule-sql"), "SELECT temp FROM 'sensors/+' WHERE temp >")
        driver.find_element(By.ID, "rule-save").click()
        box = text_in(driver, "#rule-error", r"line 1, column \d+")
        col = int(re.search(r"column (\d+)", box).group(1))
        assert col >= 40, box  # the end of the SQL, where an operand is missing
        mark = driver.find_element(By.CSS_SELECTOR, "#rule-error mark.error-mark")
        assert mark.is_displayed()
        sel = driver.execute_script("const e=document.getElementById('rule-sql'); return [e.selectionStart, document.activeElement===e]")
        assert sel[1] and sel[0] == col - 1, (sel, col)
        t.shot("05-rules-error")
        # A good one saves, and its metrics show.
        set_value(driver.find_element(By.ID, "rule-name"), "copy_rule")
        set_value(driver.find_element(By.ID, "rule-sql"), "SELECT * FROM 'devices/+/hello'")
        driver.find_element(By.ID, "rule-save").click()
        visible(driver, "#rules-list a[href='#/rules/copy_rule']")
        visible(driver, "#rule-metrics-table")
        t.shot("05-rules")
    t.step("a rule with a syntax error shows the position; a good rule saves", rule_error)

    def rule_enable():
        gw.require("POST", "/rules/copy_rule/disable")
        go(driver, gw, "rules/copy_rule")
        wait(driver, lambda d: d.find_element(By.ID, "rule-sql").get_attribute("value").startswith("SELECT"))
        driver.find_element(By.ID, "rule-disable").click()
        text_in(driver, "#rule-state", "disabled")
        driver.find_element(By.ID, "rule-enable").click()
        text_in(driver, "#rule-state", "enabled")
    t.step("rule SQL shown, disable / enable", rule_enable)

    def policy_error():
        go(driver, gw, "policies")
        set_value(driver.find_element(By.ID, "policy-name"), "console-test")
        driver.find_element(By.ID, "policy-save").click()  # the template: a valid document
        visible(driver, "#policies-list a[href='#/policies/console-test']")
        set_value(driver.find_element(By.ID, "policy-name"), "broken")
        set_value(driver.find_element(By.ID, "policy-document"), '{"Version":"2012-10-17",\n "Statement": [}')
        driver.find_element(By.ID, "policy-save").click()
        text_in(driver, "#policy-error", r"line 2, column 16")
        t.shot("04-policies")
    t.step("policies: list, a bad document shows its position", policy_error)

    def pages():
        for n, view, css in (("03-things", "things", "#things-table"),
                             ("03-certificates", "certificates", "#certificates-table"),
                             ("03-cas", "cas", "#cas-table")):
            gw.require("GET", "/" + view)
            go(driver, gw, view)
            visible(driver, css)
            if view == "things":
                text_in(driver, css, THING)
            if view == "certificates":
                text_in(driver, css, "ACTIVE")
            t.shot(n)
        text_in(driver, "#registration-code-value", r"^\S{8,}$")
    t.step("things, certificates and CAs pages list their objects", pages)

    def groups_page():
        for path, body in (("/iot/thing-groups/site", {}),
                           ("/iot/thing-groups/floor-1", {"parentGroupName": "site"})):
            status, text = gw.require("POST", path, json.dumps(body))
            assert status == 200, (path, status, text)
        status, text = gw.require("PUT", "/iot/thing-groups/addThingToThingGroup",
                                  json.dumps({"thingGroupName": "floor-1", "thingName": THING}))
        assert status == 200, text
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]}
        status, text = gw.require("PUT", "/policies/floor-policy", json.dumps(doc))
        assert status == 200, text
        status, text = gw.require("POST", "/policies/floor-policy/attach",
                                  json.dumps({"principal": "thinggroup/floor-1"}))
        assert status == 200, text
        go(driver, gw, "groups")
        link = visible(driver, 'a.group-link[data-group="floor-1"]')
        # floor-1 is drawn inside site's list (the hierarchy)
        assert driver.find_element(By.CSS_SELECTOR, "#groups-tree ul.tree li ul.tree a").text == "floor-1"
        link.click()
        text_in(driver, "#group-card", r"site / floor-1")
        text_in(driver, "#group-things", THING + r"\s+direct")
        text_in(driver, "#group-policies", r"floor-policy")
        driver.find_element(By.CSS_SELECTOR, 'a.group-link[data-group="site"]').click()
        text_in(driver, "#group-things", THING + r"\s+through a child group")
        t.shot("05-groups")
    t.step("groups: hierarchy, members (direct and through a child), attached policies",
           groups_page)

    def jobs_page():
        status, text = gw.require("GET", "/iot/thing-groups/floor-1")
        arn = json.loads(text)["thingGroupArn"]
        status, text = gw.require("PUT", "/iot/jobs/console-job", json.dumps(
            {"targets": [arn], "document": json.dumps({"operation": "reboot"})}))
        assert status == 200, text
        go(driver, gw, "jobs")
        text_in(driver, "#jobs-table", r"console-job\s+IN_PROGRESS\s+SNAPSHOT\s+1 queued")
        driver.find_element(By.CSS_SELECTOR, 'a.job-link[data-job="console-job"]').click()
        text_in(driver, "#job-executions", THING + r"\s+QUEUED")
        t.shot("06-job")
        driver.find_element(By.ID, "job-force-cancel").click()
        wait(driver, EC.alert_is_present()).accept()
        text_in(driver, "#job-status", r"CANCELED")
        text_in(driver, "#job-executions", THING + r"\s+CANCELED")
        text_in(driver, "#jobs-table", r"console-job\s+CANCELED\s+SNAPSHOT\s+1 canceled")
        status, text = gw.require("GET", "/iot/jobs/console-job/things")
        assert json.loads(text)["executionSummaries"][0]["jobExecutionSummary"]["status"] == "CANCELED"
        t.shot("06-job-canceled")
    t.step("jobs: list with status counts, per-thing executions, cancel", jobs_page)

    return state.get("sub")
