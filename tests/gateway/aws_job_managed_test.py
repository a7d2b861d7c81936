#!/usr/bin/python3
"""AWS managed job templates through the gateway binary with the AWS CLI (Debian's awscli):

- list-managed-job-templates (all, by --template-name, paged) and
  describe-managed-job-template (documentParameters, document; another version is 404);
- create-job --job-template-arn arn:aws:iot:<region>::jobtemplate/AWS-Download-File:1.0
  --document-parameters: get-job-document is the template's document with the values
  substituted (JSON-escaped; optional parameters not given empty), with beforeSubstitution
  the template's document with its placeholders, describe-job shows the
  template's ARN, documentParameters and description; a device reads the same document
  through iot-jobs-data; after a restart describe-job still shows them;
- refusals as InvalidRequestException: a required parameter missing, an unknown one, a value
  not matching the parameter's regex or with a control character, documentParameters with a
  plain document or with a custom job template, a document beside a managed template; an
  unknown managed template is ResourceNotFoundException.

  tests/gateway/aws_job_managed_test.py build/<dir>/apps/iotblocks/iotblocks
"""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aws_cli_test as base  # noqa: E402
import aws_jobs_test as jobs_test  # noqa: E402  (clients, call, thing_arn, error_type)

from aws_cli_test import aws, check  # noqa: E402

call, thing_arn, error_type = jobs_test.call, jobs_test.thing_arn, jobs_test.error_type
MANAGED = "arn:aws:iot:%s::jobtemplate/" % base.REGION
NAMES = ["AWS-Download-File", "AWS-Install-Application", "AWS-Reboot", "AWS-Remove-Application",
         "AWS-Restart-Application", "AWS-Run-Command", "AWS-Start-Application",
         "AWS-Stop-Application"]


def catalogue(gw):
    rc, out, err = aws(gw, "iot", "list-managed-job-templates")
    got = [t["templateName"] for t in (out or {}).get("managedJobTemplates", [])]
    check(rc == 0 and got == NAMES, "list-managed-job-templates %s %s" % (got, err))
    reboot = [t for t in (out or {}).get("managedJobTemplates", [])
              if t["templateName"] == "AWS-Reboot"]
    check(reboot == [{"templateArn": MANAGED + "AWS-Reboot:1.0", "templateName": "AWS-Reboot",
                      "description": "A managed job template for rebooting the device.",
                      "environments": ["LINUX"], "templateVersion": "1.0"}],
          "AWS-Reboot's summary %s" % reboot)
    rc, out, err = aws(gw, "iot", "list-managed-job-templates", "--template-name", "AWS-Reboot")
    check(rc == 0 and [t["templateName"] for t in (out or {}).get("managedJobTemplates", [])]
          == ["AWS-Reboot"],
          "list-managed-job-templates --template-name %s %s" % (out, err))
    iot, _ = jobs_test.clients(gw)
    page, code = call(iot, "list_managed_job_templates", maxResults=3)
    rest, code2 = call(iot, "list_managed_job_templates", maxResults=250,
                       nextToken=page.get("nextToken", ""))
    check(code is None and code2 is None and
          [t["templateName"] for t in page.get("managedJobTemplates", []) +
           rest.get("managedJobTemplates", [])]
          == NAMES and "nextToken" not in rest, "paged by 3 %s %s" % (code, code2))

    rc, out, err = aws(gw, "iot", "describe-managed-job-template", "--template-name",
                       "AWS-Download-File")
    params = {p["key"]: p for p in (out or {}).get("documentParameters", [])}
    check(rc == 0 and out["templateArn"] == MANAGED + "AWS-Download-File:1.0"
          and out["templateVersion"] == "1.0" and out["environments"] == ["LINUX"]
          and sorted(params) == ["downloadUrl", "filePath", "pathToHandler", "runAsUser"]
          and params["runAsUser"]["regex"] == "(.){0,256}" and params["runAsUser"]["optional"]
          and not params["downloadUrl"]["optional"],
          "describe-managed-job-template AWS-Download-File %s %s" % (out, err))
    doc = json.loads(out["document"]) if rc == 0 else {}
    check(doc.get("steps", [{}])[0].get("action", {}).get("input", {}).get("args")
          == ["${aws:iot:parameter:downloadUrl}", "${aws:iot:parameter:filePath}"],
          "its document has the placeholders %s" % doc)
    rc, out, err = aws(gw, "iot", "describe-managed-job-template", "--template-name",
                       "AWS-Reboot", "--template-version", "2.0")
    check(rc != 0 and error_type(err) == "ResourceNotFoundException",
          "another version -> ResourceNotFoundException %s" % err.strip())


def create(gw, job, *args):
    return aws(gw, "iot", "create-job", "--job-id", job, "--targets", thing_arn("lamp"), *args)


def jobs_from_templates(gw):
    url = 'https://example.com/fw "2".bin'
    rc, out, err = create(gw, "dl-1", "--job-template-arn", MANAGED + "AWS-Download-File:1.0",
                          "--document-parameters",
                          json.dumps({"downloadUrl": url, "filePath": "/tmp/fw.bin"}))
    check(rc == 0 and out == {"jobArn": "arn:aws:iot:%s:000000000000:job/dl-1" % base.REGION,
                              "jobId": "dl-1",
                              "description": "A managed job template for downloading a file."},
          "create-job from AWS-Download-File %s %s" % (out, err))
    rc, out, err = aws(gw, "iot", "get-job-document", "--job-id", "dl-1")
    doc = json.loads(out["document"]) if rc == 0 else {}
    action = doc.get("steps", [{}])[0].get("action", {})
    check(action.get("input", {}).get("args") == [url, "/tmp/fw.bin"]
          and action["input"]["path"] == "" and action["runAsUser"] == ""
          and "${" not in out["document"],
          "get-job-document: the parameters substituted %s %s" % (out, err))
    # beforeSubstitution (not in Debian's botocore model): the template's placeholders.
    status, _, before = base.signed(gw, "GET", "/jobs/dl-1/job-document?beforeSubstitution=true")
    template = json.loads(before.get("document", "{}"))
    args = template.get("steps", [{}])[0].get("action", {}).get("input", {}).get("args")
    check(status == 200 and args == ["${aws:iot:parameter:downloadUrl}",
                                     "${aws:iot:parameter:filePath}"] and url not in before["document"],
          "get-job-document beforeSubstitution=true: the placeholders %s %s" % (status, before))
    status, _, after = base.signed(gw, "GET", "/jobs/dl-1/job-document?beforeSubstitution=false")
    check(status == 200 and json.loads(after.get("document", "{}")) == doc,
          "beforeSubstitution=false: the substituted document %s" % status)
    base.expect_error(gw, "beforeSubstitution=yes", 400, "InvalidRequestException", "GET",
                      "/jobs/dl-1/job-document?beforeSubstitution=yes")
    status, _, described = base.signed(gw, "GET", "/jobs/dl-1?beforeSubstitution=true")
    check(status == 200 and described.get("job", {}).get("documentParameters")
          == {"downloadUrl": url, "filePath": "/tmp/fw.bin"},
          "describe-job beforeSubstitution=true %s %s" % (status, described))
    rc, out, err = aws(gw, "iot", "describe-job", "--job-id", "dl-1")
    job = (out or {}).get("job", {})
    check(rc == 0 and job.get("jobTemplateArn") == MANAGED + "AWS-Download-File:1.0"
          and job.get("documentParameters") == {"downloadUrl": url, "filePath": "/tmp/fw.bin"},
          "describe-job: jobTemplateArn and documentParameters %s %s" % (job, err))
    _, data = jobs_test.clients(gw)
    out, code = call(data, "describe_job_execution", jobId="dl-1", thingName="lamp",
                     includeJobDocument=True)
    check(code is None and json.loads(out["execution"]["jobDocument"]) == doc,
          "the device reads the substituted document %s" % code)

    rc, out, err = create(gw, "reboot-1", "--job-template-arn", MANAGED + "AWS-Reboot:1.0",
                          "--document-parameters", "runAsUser=root,pathToHandler=/opt/jobs")
    rc2, doc, _ = aws(gw, "iot", "get-job-document", "--job-id", "reboot-1")
    action = json.loads(doc["document"])["steps"][0]["action"] if rc2 == 0 else {}
    check(rc == 0 and action.get("runAsUser") == "root"
          and action["input"] == {"handler": "reboot.sh", "path": "/opt/jobs"},
          "create-job from AWS-Reboot with its optional parameters %s %s" % (action, err))
    rc, out, err = create(gw, "reboot-2", "--job-template-arn", MANAGED + "AWS-Reboot:1.0")
    check(rc == 0, "AWS-Reboot without parameters %s" % err.strip())


def refusals(gw):
    """botocore in process (the CLI's own library and service model; a CLI run costs seconds
    of start-up)."""
    iot, _ = jobs_test.clients(gw)
    dl, reboot = MANAGED + "AWS-Download-File:1.0", MANAGED + "AWS-Reboot:1.0"
    cases = [
        ("a required parameter missing", "filePath is required",
         {"jobTemplateArn": dl, "documentParameters": {"downloadUrl": "https://e.com/a"}}),
        ("an unknown parameter", "x is not a parameter",
         {"jobTemplateArn": dl, "documentParameters": {"downloadUrl": "u", "filePath": "f",
                                                       "x": "1"}}),
        ("runAsUser over its regex's 256", "does not match (.){0,256}",
         {"jobTemplateArn": reboot, "documentParameters": {"runAsUser": "u" * 257}}),
        ("a control character", "without control characters",
         {"jobTemplateArn": dl, "documentParameters": {"downloadUrl": "a\nb", "filePath": "f"}}),
        ("documentParameters with a document", "only be used when creating jobs from AWS managed",
         {"document": '{"a":1}', "documentParameters": {"filePath": "f"}}),
        ("documentParameters with a custom template",
         "only be used when creating jobs from AWS managed",
         {"jobTemplateArn": "arn:aws:iot:%s:000000000000:jobtemplate/custom" % base.REGION,
          "documentParameters": {"filePath": "f"}}),
        ("a document beside a managed template", "takes its document from the template",
         {"jobTemplateArn": reboot, "document": '{"a":1}'}),
    ]
    _, code = call(iot, "create_job_template", jobTemplateId="custom", document='{"op":"x"}',
                   description="custom")
    check(code is None, "create-job-template custom %s" % code)
    for i, (what, says, kw) in enumerate(cases):
        try:
            iot.create_job(jobId="bad-%d" % i, targets=[thing_arn("lamp")], **kw)
            got = ("accepted", "")
        except jobs_test.ClientError as e:
            got = (e.response["Error"]["Code"], e.response["Error"]["Message"])
        check(got[0] == "InvalidRequestException" and says in got[1],
              "%s -> InvalidRequestException %s" % (what, got))
    rc, out, err = create(gw, "bad-x", "--job-template-arn", MANAGED + "AWS-Fly:1.0")
    check(rc != 0 and error_type(err) == "ResourceNotFoundException",
          "an unknown managed template -> ResourceNotFoundException %s" % err.strip())
    out, code = call(iot, "list_jobs")
    check(code is None and [j["jobId"] for j in out["jobs"]] == ["dl-1", "reboot-1", "reboot-2"],
          "nothing created by a refused request %s" % out)


def main():
    binary = sys.argv[1]
    d = tempfile.mkdtemp(prefix="iotblocks-managed-")
    try:
        config = {
            "data_dir": os.path.join(d, "data"),
            "listeners": [{"type": "http", "port": 0}],
            "aws_access_keys": [{"access_key_id": base.KEY, "secret_access_key": base.SECRET}],
            "aws": {"region": base.REGION},
        }
        gw = base.Gateway(binary, d, config)
        gw.start()
        try:
            rc, _, err = aws(gw, "iot", "create-thing", "--thing-name", "lamp")
            check(rc == 0, "create-thing lamp %s" % err.strip())
            catalogue(gw)
            jobs_from_templates(gw)
            refusals(gw)
            gw.stop()
            gw.start()
            rc, out, err = aws(gw, "iot", "describe-job", "--job-id", "dl-1")
            job = (out or {}).get("job", {})
            check(job.get("documentParameters", {}).get("filePath") == "/tmp/fw.bin"
                  and job.get("jobTemplateArn") == MANAGED + "AWS-Download-File:1.0",
                  "after a restart describe-job %s %s" % (job, err))
        finally:
            gw.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if base.failures:
        print("%d failure(s)" % len(base.failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
