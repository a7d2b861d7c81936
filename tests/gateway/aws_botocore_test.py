#!/usr/bin/python3
"""The gateway's AWS-shaped API through botocore in this process (Debian's awscli service
models, no CLI start-up per call): per-access-key rate limits (ThrottlingException with
botocore's retries off; other keys unaffected); tags (tag-resource, untag-resource,
list-tags-for-resource with its paginator, `tags` on the create calls, AWS's limits, tags
deleted with their resource, kept across a restart).

  tests/gateway/aws_botocore_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from aws_cli_test import Gateway  # noqa: E402  (also puts Debian's botocore on sys.path)
import botocore.config  # noqa: E402
import botocore.session  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

KEY, SECRET, REGION = "AKIAIOTBLOCKSBOTO01", "botocore-test-secret", "eu-west-1"
SLOW_KEY, SLOW_SECRET = "AKIAIOTBLOCKSSLOW01", "slow-key-secret"
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def client(gw, service, key=KEY, secret=SECRET, validate=True):
    """A botocore client without retries (validate=False: no client-side checks of lengths)."""
    return botocore.session.get_session().create_client(
        service, region_name=REGION, endpoint_url=gw.url, aws_access_key_id=key,
        aws_secret_access_key=secret,
        config=botocore.config.Config(retries={"max_attempts": 1, "mode": "standard"},
                                      parameter_validation=validate))


def error_of(fn, **kw):
    """(code, message, HTTP status) of a call that fails; (None, "", 200) when it succeeds."""
    try:
        fn(**kw)
        return None, "", 200
    except ClientError as e:
        return (e.response["Error"]["Code"], e.response["Error"]["Message"],
                e.response["ResponseMetadata"]["HTTPStatusCode"])


def throttling(gw):
    # SLOW_KEY: a burst of 3 requests, then one every 100 s.
    slow_iot, slow_data = client(gw, "iot", SLOW_KEY, SLOW_SECRET), client(gw, "iot-data",
                                                                          SLOW_KEY, SLOW_SECRET)
    iot = client(gw, "iot")
    answers = [error_of(slow_iot.list_things) for _ in range(3)]
    check(all(a[0] is None for a in answers), "the slow key's first 3 requests pass %s" % answers)
    code, message, status = error_of(slow_iot.list_things)
    check(code == "ThrottlingException" and status == 400 and message == "Rate exceeded",
          "the 4th iot request is ThrottlingException, 400 as the iot model shapes it: %s %s %s"
          % (code, status, message))
    code, message, status = error_of(slow_data.publish, topic="lab/throttled", payload=b"x")
    check(code == "ThrottlingException" and status == 429,
          "an iot-data publish past the limit is ThrottlingException 429: %s %s" % (code, status))
    answers = [error_of(iot.list_things) for _ in range(10)]
    check(all(a[0] is None for a in answers), "another key is not throttled %s" % answers[-1:])


def tags(gw):
    iot = client(gw, "iot")
    iot.create_thing_group(thingGroupName="tagged", tags=[{"Key": "env", "Value": "lab"},
                                                          {"Key": "owner", "Value": "ops"}])
    group = iot.describe_thing_group(thingGroupName="tagged")["thingGroupArn"]
    out = iot.list_tags_for_resource(resourceArn=group)
    check(out["tags"] == [{"Key": "env", "Value": "lab"}, {"Key": "owner", "Value": "ops"}],
          "create-thing-group --tags are listed %s" % out["tags"])
    iot.tag_resource(resourceArn=group, tags=[{"Key": "env", "Value": "prod"},
                                              {"Key": "cost", "Value": ""}])
    iot.untag_resource(resourceArn=group, tagKeys=["owner", "absent"])
    out = iot.list_tags_for_resource(resourceArn=group)
    check(out["tags"] == [{"Key": "cost", "Value": ""}, {"Key": "env", "Value": "prod"}],
          "tag-resource replaces and adds, untag-resource removes %s" % out["tags"])

    # 40 tags on a thing type: two pages through botocore's paginator.
    many = [{"Key": "k%02d" % i, "Value": str(i)} for i in range(40)]
    thing_type = iot.create_thing_type(thingTypeName="Tagged", tags=many)["thingTypeArn"]
    pages = list(iot.get_paginator("list_tags_for_resource").paginate(resourceArn=thing_type))
    check(len(pages) == 2 and [t for p in pages for t in p["tags"]] == many,
          "list-tags-for-resource pages through 40 tags (%d pages)" % len(pages))

    # Limits and errors, each naming the field; nothing created when the tags are bad.
    raw = client(gw, "iot", validate=False)  # sends what botocore would refuse itself
    for bad, field in [({"Key": "aws:owner", "Value": "x"}, "tags[0].Key"),
                       ({"Key": "", "Value": "x"}, "tags[0].Key"),
                       ({"Key": "k" * 129, "Value": "x"}, "tags[0].Key"),
                       ({"Key": "hash#tag", "Value": "x"}, "tags[0].Key"),
                       ({"Key": "long", "Value": "v" * 257}, "tags[0].Value")]:
        code, message, status = error_of(raw.tag_resource, resourceArn=group, tags=[bad])
        check(code == "InvalidRequestException" and status == 400 and field in message,
              "tag %r is refused naming %s: %s %s" % (bad["Key"][:10], field, code, message))
    code, message, _ = error_of(raw.tag_resource, resourceArn=group,
                                tags=[{"Key": "t%d" % i, "Value": ""} for i in range(51)])
    check(code == "InvalidRequestException" and "50" in message, "51 tags at once: " + message)
    code, message, status = error_of(iot.tag_resource, resourceArn=thing_type,
                                     tags=[{"Key": "z%d" % i, "Value": ""} for i in range(11)])
    check(code == "LimitExceededException" and status == 410,
          "40 + 11 tags on one resource: %s %s %s" % (code, status, message))
    code, message, _ = error_of(iot.create_thing_group, thingGroupName="badly-tagged",
                                tags=[{"Key": "aws:x", "Value": "1"}])
    check(code == "InvalidRequestException" and "tags[0].Key" in message,
          "create-thing-group with a reserved tag key is refused: " + message)
    code, _, _ = error_of(iot.describe_thing_group, thingGroupName="badly-tagged")
    check(code == "ResourceNotFoundException", "and the group was not created")
    missing = group.replace(":thinggroup/tagged", ":thinggroup/no-such-group")
    code, _, status = error_of(iot.tag_resource, resourceArn=missing,
                               tags=[{"Key": "a", "Value": "b"}])
    check(code == "ResourceNotFoundException" and status == 404, "tagging a missing group: 404")
    code, message, _ = error_of(iot.list_tags_for_resource,
                                resourceArn="arn:aws:iot:eu-west-1:000000000000:thing/x")
    check(code == "InvalidRequestException" and "resourceArn" in message,
          "a thing is not taggable (as on AWS): " + message)

    # The other create calls that take tags; create-topic-rule sends them as x-amz-tagging.
    policy = iot.create_policy(policyName="tagged-policy", policyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Connect",
                                                 "Resource": "*"}]}),
        tags=[{"Key": "team", "Value": "a b/c"}])["policyArn"]
    check(iot.list_tags_for_resource(resourceArn=policy)["tags"] ==
          [{"Key": "team", "Value": "a b/c"}], "create-policy --tags")
    iot.create_policy_version(policyName="tagged-policy", policyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:Publish",
                                                 "Resource": "*"}]}))
    iot.delete_policy_version(policyName="tagged-policy", policyVersionId="2")
    check(iot.list_tags_for_resource(resourceArn=policy)["tags"] ==
          [{"Key": "team", "Value": "a b/c"}], "delete-policy-version keeps the policy's tags")
    iot.delete_policy(policyName="tagged-policy")
    code, _, _ = error_of(iot.list_tags_for_resource, resourceArn=policy)
    check(code == "ResourceNotFoundException", "a deleted policy's tags are not found")
    iot.create_topic_rule(ruleName="tagged_rule", tags="team=rules&stage=dev%2F1",
                          topicRulePayload={"sql": "SELECT * FROM 'lab/tags'", "actions": [
                              {"republish": {"topic": "lab/out", "roleArn":
                                             "arn:aws:iam::000000000000:role/r"}}]})
    rule = iot.get_topic_rule(ruleName="tagged_rule")["ruleArn"]
    check(iot.list_tags_for_resource(resourceArn=rule)["tags"] ==
          [{"Key": "stage", "Value": "dev/1"}, {"Key": "team", "Value": "rules"}],
          "create-topic-rule --tags (x-amz-tagging)")
    thing = iot.create_thing(thingName="tag-target")["thingArn"]
    job = iot.create_job(jobId="tagged-job", targets=[thing], document="{}",
                         tags=[{"Key": "rollout", "Value": "1"}])["jobArn"]
    check(iot.list_tags_for_resource(resourceArn=job)["tags"] == [{"Key": "rollout",
                                                                   "Value": "1"}],
          "create-job --tags")

    # Deleted with their resource: a group made again under the same name has none.
    iot.delete_thing_group(thingGroupName="tagged")
    iot.create_thing_group(thingGroupName="tagged")
    check(iot.list_tags_for_resource(resourceArn=group)["tags"] == [],
          "delete-thing-group deletes its tags")
    iot.delete_topic_rule(ruleName="tagged_rule")
    code, _, _ = error_of(iot.list_tags_for_resource, resourceArn=rule)
    check(code == "ResourceNotFoundException", "a deleted rule's tags are not found")
    return thing_type


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-aws-boto-")
    try:
        config = {
            "data_dir": os.path.join(d, "data"),
            "listeners": [{"type": "http", "port": 0}],
            "aws_access_keys": [
                {"access_key_id": KEY, "secret_access_key": SECRET},
                {"access_key_id": SLOW_KEY, "secret_access_key": SLOW_SECRET,
                 "rate_limit": {"requests_per_second": 0.01, "burst": 3}}],
        }
        gw = Gateway(binary, d, config)
        gw.start()
        try:
            throttling(gw)
            thing_type = tags(gw)
            gw.stop()
            gw.start()
            pages = client(gw, "iot").get_paginator("list_tags_for_resource").paginate(
                resourceArn=thing_type)
            check(sum(len(p["tags"]) for p in pages) == 40, "after a restart the 40 tags are kept")
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
