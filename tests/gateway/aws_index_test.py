#!/usr/bin/python3
"""Fleet indexing through Debian's AWS CLI (/usr/bin/aws) with --endpoint-url:
update/get-indexing-configuration (kept across a restart), describe-index, list-indices,
search-index over things with types, attributes, groups, classic and named shadows and
connectivity (a mosquitto_sub client connected as a thing), several query shapes (a range, a
comparison, NOT, OR, field grouping), pagination with nextToken, the AWS_ThingGroups index,
an invalid query's InvalidQueryException (400, with the position), a search on an OFF index
refused; dynamic thing groups (attributes, and shadow and connectivity fields followed as
they change). The things, groups and shadows are made through botocore in this process (the same
service models, no CLI start-up per call).

  tests/gateway/aws_index_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_cli_test import (Gateway, KEY, SECRET, REGION, aws, check, failures,  # noqa: E402
                          make_server_tls, signed, stop_process)
import botocore.exceptions  # noqa: E402
import botocore.session  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client(gw, service):
    return botocore.session.get_session().create_client(
        service, region_name=REGION, endpoint_url=gw.url, aws_access_key_id=KEY,
        aws_secret_access_key=SECRET)


def search(gw, query, *extra):
    rc, out, err = aws(gw, "iot", "search-index", "--query-string", query, *extra)
    return rc, out, err


def search_boto(gw, query, **kw):
    """search-index through botocore in process: (0, out, "") or (1, None, error)."""
    try:
        return 0, client(gw, "iot").search_index(queryString=query, **kw), ""
    except botocore.exceptions.ClientError as e:
        return 1, None, "%s: %s" % (e.response["Error"]["Code"], e.response["Error"]["Message"])


def names(out):
    return sorted(t["thingName"] for t in (out or {}).get("things", []))


def setup_fleet(gw):
    iot, data = client(gw, "iot"), client(gw, "iot-data")
    iot.create_thing_type(thingTypeName="Light")
    iot.create_thing_type(thingTypeName="Pump")
    iot.create_thing_group(thingGroupName="building")
    iot.create_thing_group(thingGroupName="floor-1", parentGroupName="building",
                           thingGroupProperties={"thingGroupDescription": "first floor"})
    things = {"lamp-1": ("Light", {"watts": "40", "serial": "abcd"}, "floor-1"),
              "lamp-2": ("Light", {"watts": "60", "serial": "abce"}, "floor-1"),
              "pump-7": ("Pump", {"watts": "750", "serial": "abcf"}, "building"),
              "tv-plasma": (None, {"watts": "100"}, None)}
    for i in range(5):
        things["bulk-%02d" % i] = (None, {"watts": "5"}, None)
    for name, (ttype, attrs, group) in things.items():
        kw = {"thingTypeName": ttype} if ttype else {}
        iot.create_thing(thingName=name, attributePayload={"attributes": attrs}, **kw)
        if group:
            iot.add_thing_to_thing_group(thingGroupName=group, thingName=name)
    data.update_thing_shadow(thingName="lamp-1", payload=json.dumps(
        {"state": {"reported": {"temp": 21.5, "on": True}, "desired": {"on": True}}}))
    data.update_thing_shadow(thingName="lamp-2", payload=json.dumps(
        {"state": {"reported": {"temp": 30, "on": False}}}))
    data.update_thing_shadow(thingName="pump-7", shadowName="cfg", payload=json.dumps(
        {"state": {"desired": {"mode": "eco"}}}))


def off_refused(gw, what, cli=True):
    rc, _, err = (search if cli else search_boto)(gw, "thingName:lamp-1")
    check(rc != 0 and "ResourceNotFoundException" in err, "%s: search-index refused: %s"
          % (what, err.strip()[-120:]))
    code, headers, doc = signed(gw, "POST", "/indices/search",
                                json.dumps({"queryString": "*"}).encode())
    check(code == 404 and headers.get("x-amzn-ErrorType") == "ResourceNotFoundException",
          "%s: search-index is 404 ResourceNotFoundException (%d %s)" % (what, code, doc))


def configuration(gw):
    off_refused(gw, "indexing OFF (the default)")
    iot = client(gw, "iot")
    out = iot.list_indices()
    check(out["indexNames"] == [], "list-indices with indexing OFF %s" % out)
    try:
        iot.describe_index(indexName="AWS_Things")
        check(False, "describe-index of an OFF index is refused")
    except botocore.exceptions.ClientError as e:
        check(e.response["Error"]["Code"] == "ResourceNotFoundException",
              "describe-index of an OFF index: %s" % e.response["Error"])
    for bad, field in [({"thingIndexingMode": "OFF", "thingConnectivityIndexingMode": "STATUS"},
                        "thingConnectivityIndexingMode"),
                       ({"thingIndexingMode": "REGISTRY", "namedShadowIndexingMode": "ON"},
                        "namedShadowIndexingMode"),
                       ({"thingIndexingMode": "EVERYTHING"}, "thingIndexingMode")]:
        code, headers, doc = signed(gw, "POST", "/indexing/config", json.dumps(
            {"thingIndexingConfiguration": bad}).encode())
        check(code == 400 and headers.get("x-amzn-ErrorType") == "InvalidRequestException"
              and field in doc.get("message", ""),
              "configuration %s refused naming %s: %d %s" % (bad, field, code, doc))
    rc, _, err = aws(
        gw, "iot", "update-indexing-configuration", "--thing-indexing-configuration",
        "thingIndexingMode=REGISTRY_AND_SHADOW,thingConnectivityIndexingMode=STATUS,"
        "namedShadowIndexingMode=ON,filter={namedShadowNames=[cfg]}",
        "--thing-group-indexing-configuration", "thingGroupIndexingMode=ON")
    check(rc == 0, "update-indexing-configuration " + err)
    rc, out, err = aws(gw, "iot", "get-indexing-configuration")
    t = (out or {}).get("thingIndexingConfiguration", {})
    check(rc == 0 and t.get("thingIndexingMode") == "REGISTRY_AND_SHADOW"
          and t.get("thingConnectivityIndexingMode") == "STATUS"
          and t.get("filter") == {"namedShadowNames": ["cfg"]}
          and out["thingGroupIndexingConfiguration"] == {"thingGroupIndexingMode": "ON"},
          "get-indexing-configuration returns what was set %s %s" % (out, err))
    rc, out, err = aws(gw, "iot", "describe-index", "--index-name", "AWS_Things")
    check(rc == 0 and out["indexStatus"] == "ACTIVE" and out["schema"] == "MULTI_INDEXING_MODE",
          "describe-index AWS_Things %s %s" % (out, err))
    rc, out, err = aws(gw, "iot", "list-indices")
    check(rc == 0 and out["indexNames"] == ["AWS_ThingGroups", "AWS_Things"],
          "list-indices %s %s" % (out, err))


def queries(gw):
    for n, (query, want) in enumerate([
            ("thingTypeName:Light", ["lamp-1", "lamp-2"]),
            ("attributes.watts:[40 TO 100]", ["lamp-1", "lamp-2", "tv-plasma"]),
            ("attributes.watts:{40 TO 100}", ["lamp-2"]),
            ("attributes.watts>100 OR thingName:tv*", ["pump-7", "tv-plasma"]),
            ("thingGroupNames:floor-1 AND NOT shadow.reported.temp>25", ["lamp-1"]),
            ("thingGroupNames:(floor-1 OR building) -thingTypeName:Light", ["pump-7"]),
            ("shadow.name.cfg.desired.mode:eco", ["pump-7"]),
            ("attributes.serial:[\"abcd\" TO \"abce\"]", ["lamp-1", "lamp-2"]),
            ("thingName:lamp-? shadow.reported.on:false", ["lamp-2"])]):
        # The first four with the CLI, the rest through botocore (the same request).
        rc, out, err = (search if n < 4 else search_boto)(gw, query)
        check(rc == 0 and names(out) == want, "search-index %r -> %s (got %s %s)"
              % (query, want, names(out), err.strip()[-200:]))

    rc, out, err = search_boto(gw, "thingName:lamp-1")
    doc = (out or {}).get("things", [{}])[0]
    shadow = json.loads(doc.get("shadow", "{}"))
    check(rc == 0 and doc.get("thingTypeName") == "Light" and doc.get("thingGroupNames") ==
          ["floor-1"] and doc.get("attributes") == {"watts": "40", "serial": "abcd"}
          and len(doc.get("thingId", "")) == 36
          and shadow.get("reported") == {"temp": 21.5, "on": True}
          and doc.get("connectivity", {}).get("connected") is False,
          "the thing document of lamp-1 %s %s" % (doc, err))
    rc, out, err = search_boto(gw, "thingName:pump-7")
    shadow = json.loads(((out or {}).get("things") or [{}])[0].get("shadow", "{}"))
    check(shadow.get("name", {}).get("cfg", {}).get("desired") == {"mode": "eco"},
          "pump-7's named shadow cfg is in its document %s" % shadow)

    # Pagination: five bulk things, two a page.
    seen, token, pages = [], None, 0
    while True:
        extra = ["--max-results", "2"] + (["--next-token", token] if token else [])
        rc, out, err = search(gw, "attributes.watts<10", *extra)
        if rc != 0:
            check(False, "search-index page " + err)
            break
        pages += 1
        seen += names(out)
        token = out.get("nextToken")
        if not token or pages > 5:
            break
    check(pages == 3 and seen == ["bulk-%02d" % i for i in range(5)],
          "search-index pages through 5 things 2 at a time (%d pages: %s)" % (pages, seen))

    # Invalid queries: InvalidQueryException, 400, with the position.
    rc, _, err = search(gw, "thingName:(lamp")
    check(rc != 0 and "InvalidQueryException" in err and "1:16" in err,
          "the CLI shows InvalidQueryException with the position: " + err.strip()[-160:])
    for body, says in [({"queryString": "thingName:(lamp"}, "1:16"),
                       ({"queryString": "colour:red"}, "unknown field 'colour'"),
                       ({"queryString": "thingName:a@b"}, "'@'")]:
        code, headers, doc = signed(gw, "POST", "/indices/search", json.dumps(body).encode())
        check(code == 400 and headers.get("x-amzn-ErrorType") == "InvalidQueryException"
              and says in doc.get("message", ""),
              "%r -> 400 InvalidQueryException naming %r (%d %s)" % (body["queryString"], says,
                                                                     code, doc))

    rc, out, err = search_boto(gw, "parentGroupNames:building", indexName="AWS_ThingGroups")
    groups = [g["thingGroupName"] for g in (out or {}).get("thingGroups", [])]
    check(rc == 0 and groups == ["floor-1"]
          and out["thingGroups"][0].get("thingGroupDescription") == "first floor",
          "search-index AWS_ThingGroups %s %s" % (out, err))


def dynamic_groups(gw):
    iot = client(gw, "iot")

    def things_in(group):
        return sorted(iot.list_things_in_thing_group(thingGroupName=group)["things"])

    def error_code(fn, **kw):
        try:
            fn(**kw)
            return None
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]

    rc, out, err = aws(gw, "iot", "create-dynamic-thing-group", "--thing-group-name", "big",
                       "--query-string", "attributes.watts>=100", "--tags", "Key=team,Value=ops")
    check(rc == 0 and out["queryString"] == "attributes.watts>=100"
          and out["indexName"] == "AWS_Things" and out["thingGroupArn"].endswith(":thinggroup/big"),
          "create-dynamic-thing-group %s %s" % (out, err))
    check(things_in("big") == ["pump-7", "tv-plasma"],
          "the dynamic group has the things its query matches %s" % things_in("big"))
    out = iot.describe_thing_group(thingGroupName="big")
    check(out.get("queryString") == "attributes.watts>=100" and out.get("status") == "ACTIVE",
          "describe-thing-group of a dynamic group %s" % out)
    tags = iot.list_tags_for_resource(resourceArn=out["thingGroupArn"])["tags"]
    check(tags == [{"Key": "team", "Value": "ops"}], "create-dynamic-thing-group --tags %s" % tags)
    rc, out, _ = search_boto(gw, "thingGroupNames:big")
    check(names(out) == ["pump-7", "tv-plasma"], "search-index thingGroupNames:big %s" % names(out))

    # A continuous job on the dynamic group reaches a thing that joins it.
    arn = iot.describe_thing_group(thingGroupName="big")["thingGroupArn"]
    iot.create_job(jobId="dyn-job", targets=[arn], document="{}", targetSelection="CONTINUOUS")
    iot.update_thing(thingName="lamp-2", attributePayload={"attributes": {"watts": "150"},
                                                           "merge": True})
    iot.update_thing(thingName="tv-plasma", attributePayload={"attributes": {"watts": "50"},
                                                              "merge": True})
    iot.create_thing(thingName="lamp-9", attributePayload={"attributes": {"watts": "300"}})
    check(things_in("big") == ["lamp-2", "lamp-9", "pump-7"],
          "update-thing and create-thing move things in and out %s" % things_in("big"))
    jobs = [e["jobId"] for e in
            iot.list_job_executions_for_thing(thingName="lamp-9")["executionSummaries"]]
    check(jobs == ["dyn-job"], "a thing that joined the dynamic group got its job %s" % jobs)
    check(error_code(iot.add_thing_to_thing_group, thingGroupName="big", thingName="lamp-1") ==
          ("InvalidRequestException", 400), "add-thing-to-thing-group to a dynamic group is 400")
    check(error_code(iot.create_dynamic_thing_group, thingGroupName="bad",
                     queryString="thingName:(x") == ("InvalidQueryException", 400),
          "create-dynamic-thing-group with a bad query is InvalidQueryException")
    check(error_code(iot.create_dynamic_thing_group, thingGroupName="big",
                     queryString="thingName:x") == ("ResourceAlreadyExistsException", 409),
          "create-dynamic-thing-group of an existing group is 409")

    rc, out, err = aws(gw, "iot", "update-dynamic-thing-group", "--thing-group-name", "big",
                       "--thing-group-properties", "{}", "--query-string", "thingTypeName:Pump")
    check(rc == 0 and out.get("version") == 1 and things_in("big") == ["pump-7"],
          "update-dynamic-thing-group re-evaluates %s %s %s" % (out, things_in("big"), err))
    rc, _, err = aws(gw, "iot", "delete-dynamic-thing-group", "--thing-group-name", "big")
    check(rc == 0 and error_code(iot.describe_thing_group, thingGroupName="big") ==
          ("ResourceNotFoundException", 404) and "big" not in
          [g["groupName"] for g in iot.list_thing_groups_for_thing(thingName="pump-7")["thingGroups"]],
          "delete-dynamic-thing-group " + err)


def wait_for(gw, query, want, seconds=10):
    """Searches until `want` is the answer (connectivity follows the MQTT connection)."""
    iot = client(gw, "iot")
    deadline = time.time() + seconds
    got = None
    while time.time() < deadline:
        got = sorted(t["thingName"] for t in iot.search_index(queryString=query)["things"])
        if got == want:
            return True, got
        time.sleep(0.05)
    return False, got


def connectivity(gw, mqtt_port):
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mqtt_port),
                            "-i", "lamp-2", "-t", "lab/never"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        ok, got = wait_for(gw, "connectivity.connected:true", ["lamp-2"])
        check(ok, "lamp-2 connected is found by connectivity.connected:true %s" % got)
        rc, out, err = search_boto(gw, "thingName:lamp-2")
        conn = ((out or {}).get("things") or [{}])[0].get("connectivity", {})
        check(rc == 0 and conn.get("connected") is True and conn.get("timestamp", 0) > 0,
              "lamp-2's connectivity %s %s" % (conn, err))
    finally:
        stop_process(sub)
    ok, got = wait_for(gw, "connectivity.connected:true", [])
    check(ok, "after mosquitto_sub ended nothing is connected %s" % got)
    out = client(gw, "iot").search_index(queryString="thingName:lamp-2")["things"][0]
    check(out["connectivity"]["connected"] is False and out["connectivity"].get("disconnectReason"),
          "lamp-2's disconnectReason %s" % out["connectivity"])


def dynamic_groups_follow(gw, mqtt_port):
    """Dynamic groups on shadow.* and connectivity.* follow shadow updates (HTTP and MQTT),
    shadow deletes and connections, without an update of the thing."""
    iot, data = client(gw, "iot"), client(gw, "iot-data")

    def things_in(group, want):
        deadline = time.time() + 10
        while True:
            got = sorted(iot.list_things_in_thing_group(thingGroupName=group)["things"])
            if got == want or time.time() > deadline:
                return got

    iot.create_dynamic_thing_group(thingGroupName="hot", queryString="shadow.reported.temp>28")
    iot.create_dynamic_thing_group(thingGroupName="online",
                                   queryString="connectivity.connected:true")
    check(things_in("hot", ["lamp-2"]) == ["lamp-2"], "hot at creation: lamp-2 (30)")
    arn = iot.describe_thing_group(thingGroupName="hot")["thingGroupArn"]
    iot.create_job(jobId="cool-down", targets=[arn], document="{}", targetSelection="CONTINUOUS")
    data.update_thing_shadow(thingName="lamp-1", payload=json.dumps(
        {"state": {"reported": {"temp": 35}}}))
    got = things_in("hot", ["lamp-1", "lamp-2"])
    check(got == ["lamp-1", "lamp-2"], "an update-thing-shadow moves lamp-1 into hot %s" % got)
    jobs = [e["jobId"] for e in
            iot.list_job_executions_for_thing(thingName="lamp-1")["executionSummaries"]]
    check("cool-down" in jobs, "lamp-1 got hot's continuous job when it joined %s" % jobs)
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(mqtt_port), "-i", "sensor",
                    "-t", "$aws/things/lamp-2/shadow/update", "-q", "1",
                    "-m", json.dumps({"state": {"reported": {"temp": 20}}})], check=True)
    got = things_in("hot", ["lamp-1"])
    check(got == ["lamp-1"], "a shadow update over MQTT moves lamp-2 out of hot %s" % got)
    data.delete_thing_shadow(thingName="lamp-1")
    got = things_in("hot", [])
    check(got == [], "delete-thing-shadow moves lamp-1 out of hot %s" % got)

    check(things_in("online", []) == [], "online at creation: nobody")
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(mqtt_port),
                            "-i", "pump-7", "-t", "lab/never"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        got = things_in("online", ["pump-7"])
        check(got == ["pump-7"], "pump-7 connecting joins online %s" % got)
    finally:
        # SIGKILL: mosquitto_sub's SIGTERM handler can deadlock on its own lock right after
        # connecting; a connection lost counts as a disconnection alike.
        sub.kill()
        sub.wait(timeout=10)
    got = things_in("online", [])
    check(got == [], "pump-7 disconnecting leaves online %s" % got)
    for group in ("hot", "online"):
        iot.delete_dynamic_thing_group(thingGroupName=group)


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-aws-index-")
    try:
        _, cert, key = make_server_tls(d)
        mqtt_port = free_port()
        config = {
            "data_dir": os.path.join(d, "data"),
            "listeners": [
                {"type": "mqtts", "port": 0, "tls": {"cert_file": cert, "key_file": key,
                                                      "require_client_cert": True}},
                {"type": "mqtt", "port": mqtt_port},
                {"type": "http", "port": 0},
            ],
            "aws_access_keys": [{"access_key_id": KEY, "secret_access_key": SECRET}],
        }
        gw = Gateway(binary, d, config)
        gw.start()
        try:
            setup_fleet(gw)
            configuration(gw)
            queries(gw)
            dynamic_groups(gw)
            connectivity(gw, mqtt_port)
            dynamic_groups_follow(gw, mqtt_port)
            gw.stop()
            gw.start()
            iot = client(gw, "iot")
            out = iot.get_indexing_configuration()
            check(out["thingIndexingConfiguration"]["thingIndexingMode"] == "REGISTRY_AND_SHADOW",
                  "after a restart the configuration is kept %s" % out)
            rc, out, err = search_boto(gw, "thingTypeName:Pump")
            check(rc == 0 and names(out) == ["pump-7"], "after a restart search-index works")
            iot.update_indexing_configuration(
                thingIndexingConfiguration={"thingIndexingMode": "OFF"})
            off_refused(gw, "indexing set OFF", cli=False)
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
