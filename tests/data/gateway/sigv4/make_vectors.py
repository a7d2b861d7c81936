#!/usr/bin/python3
"""Writes vectors.json: SigV4-signed requests as the AWS CLI's botocore (Debian's awscli
package) sends them, captured before they leave, plus two cases of AWS's published
SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case) signed the same way.

  /usr/bin/python3 tests/data/gateway/sigv4/make_vectors.py > tests/data/gateway/sigv4/vectors.json
"""
import datetime
import json
import sys
from unittest import mock

sys.path.insert(0, "/usr/lib/python3/dist-packages/awscli")
import botocore.session  # noqa: E402
from botocore.auth import SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest, AWSResponse  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime.datetime(2015, 8, 30, 12, 36, 0)
cases = []


def record(name, req, service, now):
    split = req.url.split("://", 1)[1]
    headers = [[k, v.decode() if isinstance(v, bytes) else v] for k, v in req.headers.items()]
    if not any(k.lower() == "host" for k, _ in headers):  # added by urllib3 when it sends
        headers.insert(0, ["Host", split.split("/", 1)[0]])
    target = split[split.index("/"):] if "/" in split else "/"
    path, _, query = target.partition("?")
    body = req.body or b""
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    cases.append({
        "name": name, "service": service, "now": now, "method": req.method,
        "path": path, "query": query,
        "headers": headers,
        "body": body.decode(), "key_id": KEY, "secret": SECRET,
    })


def suite(name, url, sig_service="service"):
    req = AWSRequest(method="GET", url=url, headers={"Host": "example.amazonaws.com"})
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = NOW
        dt.datetime.now.return_value = NOW
        SigV4Auth(Credentials(KEY, SECRET), sig_service, "us-east-1").add_auth(req)
    record(name, req.prepare(), sig_service, int(NOW.replace(tzinfo=datetime.timezone.utc).timestamp()))


suite("aws-suite get-vanilla", "https://example.amazonaws.com/")
suite("aws-suite get-vanilla-query-order-key-case",
      "https://example.amazonaws.com/?Param2=value2&Param1=value1")

session = botocore.session.get_session()


def capture(service, op, **params):
    client = session.create_client(service, region_name="eu-west-1", aws_access_key_id=KEY,
                                   aws_secret_access_key=SECRET,
                                   endpoint_url="http://127.0.0.1:8080")
    seen = {}

    def before_send(request, **_):
        seen["req"] = request
        resp = AWSResponse(request.url, 200, {}, None)
        resp._content = b"{}"
        return resp

    client.meta.events.register("before-send", before_send)
    with mock.patch("botocore.auth.datetime") as dt:
        dt.datetime.utcnow.return_value = NOW
        dt.datetime.now.return_value = NOW
        try:
            getattr(client, op)(**params)
        except Exception:
            pass
    sig = client.meta.service_model.signing_name
    record(f"{service} {op}", seen["req"], sig,
           int(NOW.replace(tzinfo=datetime.timezone.utc).timestamp()))


capture("iot-data", "publish", topic="dev/1/temp", qos=1, retain=True, payload=b'{"t":21.5}')
capture("iot-data", "update_thing_shadow", thingName="lamp", shadowName="my shadow",
        payload=b'{"state":{"desired":{"on":true}}}')
capture("iot", "list_things", maxResults=7, nextToken="a+b/c=d", attributeName="room",
        attributeValue="kitchen & hall")
capture("iot", "create_thing", thingName="sensor-1",
        attributePayload={"attributes": {"room": "k\u00fcche"}})
capture("iot", "list_principal_things",
        principal="arn:aws:iot:eu-west-1:000000000000:cert/ab12")
json.dump(cases, sys.stdout, indent=1, ensure_ascii=False)
print()
