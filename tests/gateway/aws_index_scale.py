#!/usr/bin/python3
"""What a search-index costs: N things (every tenth with a classic shadow) made through
botocore, thing indexing REGISTRY_AND_SHADOW, then four queries five times each (medians of the
round trip, client included). Not run by ctest.

  tests/gateway/aws_index_scale.py build/<dir>/apps/iotblocks/iotblocks 10000
"""
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_cli_test import Gateway, KEY, SECRET, REGION, make_server_tls  # noqa: E402
import botocore.session  # noqa: E402
N = int(sys.argv[2])
d = tempfile.mkdtemp(prefix="iotblocks-measure-")
_, cert, key = make_server_tls(d)
gw = Gateway(sys.argv[1], d, {"data_dir": os.path.join(d, "data"), "listeners": [
    {"type": "mqtts", "port": 0, "tls": {"cert_file": cert, "key_file": key, "require_client_cert": True}},
    {"type": "http", "port": 0}], "aws_access_keys": [{"access_key_id": KEY, "secret_access_key": SECRET}]})
gw.start()
try:
    iot = botocore.session.get_session().create_client("iot", region_name=REGION, endpoint_url=gw.url,
        aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    data = botocore.session.get_session().create_client("iot-data", region_name=REGION, endpoint_url=gw.url,
        aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    for i in range(N):
        iot.create_thing(thingName="t%05d" % i, attributePayload={"attributes": {"n": str(i)}})
        if i % 10 == 0:
            data.update_thing_shadow(thingName="t%05d" % i, payload=json.dumps({"state": {"reported": {"v": i}}}))
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY_AND_SHADOW"})
    for q in ["attributes.n:[100 TO 199]", "thingName:t0001*", "shadow.reported.v>500", "shadow.reported.v:-1"]:
        times = []
        for _ in range(5):
            t0 = time.perf_counter(); out = iot.search_index(queryString=q, maxResults=100); times.append(time.perf_counter() - t0)
        print("%d things, %-28s %3d results, median %.1f ms" % (N, q, len(out["things"]), statistics.median(times) * 1000))
finally:
    gw.stop(); shutil.rmtree(d, ignore_errors=True)
