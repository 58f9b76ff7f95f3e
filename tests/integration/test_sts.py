# SPDX-License-Identifier: MIT
"""STS GetCallerIdentity on the emulator's one HTTP port: boto3 and the AWS
CLI (query protocol), a GET, the JSON protocol, AWS's errors for missing
and unknown actions, and the partition taken from the region."""
import json
import re
import subprocess
import xml.etree.ElementTree as ET

import boto3
import botocore.config
import pytest

from conftest import aws_env, http

ACCOUNT = "123456789012"  # the launcher's default --account
ROOT_ARN = "arn:aws:iam::%s:root" % ACCOUNT
STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
TARGET = "AWSSecurityTokenServiceV20110615."


def sts(emu, key="test", region="us-east-1"):
    return boto3.client("sts", endpoint_url=emu.endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key="test",
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def cli(emu, key="test"):
    env = dict(aws_env(emu.data_dir), AWS_ACCESS_KEY_ID=key)
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", emu.endpoint, "--output", "json",
                        "sts", "get-caller-identity"], capture_output=True, text=True,
                       timeout=60, env=env)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def xml_error(body):
    doc = ET.fromstring(body)
    assert doc.tag == STS_NS + "ErrorResponse"
    err = doc.find(STS_NS + "Error")
    assert UUID.match(doc.find(STS_NS + "RequestId").text)
    return (err.find(STS_NS + "Type").text, err.find(STS_NS + "Code").text,
            err.find(STS_NS + "Message").text)


def test_boto3_any_key_is_the_default_account(emu):
    out = sts(emu).get_caller_identity()
    assert {k: out[k] for k in ("Account", "Arn", "UserId")} == {
        "Account": ACCOUNT, "Arn": ROOT_ARN, "UserId": ACCOUNT}
    assert UUID.match(out["ResponseMetadata"]["RequestId"])
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_cli_any_key(emu):
    assert cli(emu, "AKIAIOSFODNN7EXAMPLE") == {
        "UserId": ACCOUNT, "Account": ACCOUNT, "Arn": ROOT_ARN}


def test_boto3_twelve_digit_key_is_the_account(emu):
    out = sts(emu, key="210987654321").get_caller_identity()
    assert (out["Account"], out["Arn"], out["UserId"]) == (
        "210987654321", "arn:aws:iam::210987654321:root", "210987654321")


def test_cli_twelve_digit_key_is_the_account(emu):
    assert cli(emu, "210987654321")["Account"] == "210987654321"


def test_query_get_and_raw_post(emu):
    for status, _, body in (
            http("GET", emu.endpoint + "/?Action=GetCallerIdentity&Version=2011-06-15"),
            http("POST", emu.endpoint + "/", "Action=GetCallerIdentity&Version=2011-06-15",
                 FORM)):
        assert status == 200, body
        doc = ET.fromstring(body)
        assert doc.tag == STS_NS + "GetCallerIdentityResponse"
        result = doc.find(STS_NS + "GetCallerIdentityResult")
        assert result.find(STS_NS + "Account").text == ACCOUNT
        assert result.find(STS_NS + "Arn").text == ROOT_ARN
        assert UUID.match(doc.find(STS_NS + "ResponseMetadata/" + STS_NS + "RequestId").text)


def test_query_errors(emu):
    status, headers, body = http("POST", emu.endpoint + "/",
                                 "Action=AssumeRole&Version=2011-06-15&RoleArn=x", FORM)
    assert status == 400
    assert headers["Content-Type"] == "text/xml"
    assert xml_error(body) == ("Sender", "InvalidAction",
                               "Could not find operation AssumeRole for version 2011-06-15")
    status, _, body = http("POST", emu.endpoint + "/", "Version=2011-06-15", FORM)
    assert status == 400
    assert xml_error(body)[1] == "MissingAction"
    # SNS's version does not reach STS, nor STS's version SNS.
    status, _, body = http("POST", emu.endpoint + "/",
                           "Action=GetCallerIdentity&Version=2010-03-31", FORM)
    assert status == 400 and b"InvalidAction" in body and b"sns.amazonaws.com" in body
    status, _, body = http("POST", emu.endpoint + "/", "Action=ListTopics&Version=2011-06-15",
                           FORM)
    assert status == 400 and b"InvalidAction" in body and b"sts.amazonaws.com" in body


@pytest.mark.parametrize("content_type", ["application/x-amz-json-1.0",
                                          "application/x-amz-json-1.1"])
def test_json_protocol(emu, content_type):
    status, headers, body = http("POST", emu.endpoint + "/", "{}", {
        "Content-Type": content_type, "X-Amz-Target": TARGET + "GetCallerIdentity"})
    assert status == 200, body
    assert headers["Content-Type"] == content_type
    assert UUID.match(headers["x-amzn-RequestId"])
    assert json.loads(body) == {"UserId": ACCOUNT, "Account": ACCOUNT, "Arn": ROOT_ARN}
    status, headers, body = http("POST", emu.endpoint + "/", "{}", {
        "Content-Type": content_type, "X-Amz-Target": TARGET + "AssumeRole"})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    status, headers, _ = http("POST", emu.endpoint + "/", "{}", {
        "Content-Type": content_type, "X-Amz-Target": "NoSuchService.Op"})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"


def test_partition_follows_the_region(make_emulator):
    emu = make_emulator("--region", "cn-north-1", "--account", "111122223333").start()
    out = sts(emu, region="cn-north-1").get_caller_identity()
    assert (out["Account"], out["Arn"], out["UserId"]) == (
        "111122223333", "arn:aws-cn:iam::111122223333:root", "111122223333")
