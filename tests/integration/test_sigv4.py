# SPDX-License-Identifier: MIT
"""Strict mode (--verify-signatures --credentials KEY:SECRET): boto3 and the
AWS CLI signing with a configured key get through; a wrong secret, an unknown
key, no signature, an old or future X-Amz-Date and a tampered presigned URL
each get AWS's error in the request's protocol; the emulator's own paths and
the SNS links stay open; and without the option unsigned requests work."""
import datetime
import json
import urllib.parse
from unittest import mock

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.exceptions import ClientError

from conftest import http, reset

KEY, SECRET = "AKIDSTRICT", "s3cret/with+chars"
EMULATOR_ARGS = ["--verify-signatures", "--credentials", "%s:%s" % (KEY, SECRET),
                 "--credentials", "test:test"]
MISMATCH = ("The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method. Consult the service "
            "documentation for details.")
BAD_TOKEN = "The security token included in the request is invalid."


def error_of(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response
    return err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"]


def signed(emu, method, path, service, body=b"", headers=None, when=None, secret=SECRET):
    """Sign a request with botocore's SigV4 at the time when (default now)
    and send it; returns (status, headers, body)."""
    url = emu.endpoint + path
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers=dict(headers or {}))
    creds = botocore.credentials.Credentials(KEY, secret)
    if when is None:
        botocore.auth.SigV4Auth(creds, service, "us-east-1").add_auth(req)
    else:
        class Frozen(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when

        with mock.patch.object(botocore.auth.datetime, "datetime", Frozen):
            botocore.auth.SigV4Auth(creds, service, "us-east-1").add_auth(req)
    return http(method, url, body, dict(req.headers))


def utcnow():
    return datetime.datetime.utcnow().replace(microsecond=0)


def json_error(status, headers, body):
    return status, headers["x-amzn-ErrorType"], json.loads(body)["message"]


def xml_error(body):
    text = body.decode()
    assert text.startswith('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'), text
    code = text.split("<Code>")[1].split("</Code>")[0]
    message = text.split("<Message>")[1].split("</Message>")[0]
    return code, message


def test_boto3_signed_iot_calls(emu):
    reset(emu)
    iot = emu.client("iot", key=KEY, secret=SECRET)
    # A POST with a JSON body, and a name whose ':' is percent-encoded in the path.
    iot.create_thing(thingName="room:1", attributePayload={"attributes": {"floor": "2"}})
    iot.create_thing(thingName="room-2")
    assert iot.describe_thing(thingName="room:1")["attributes"] == {"floor": "2"}
    iot.update_thing(thingName="room:1",
                     attributePayload={"attributes": {"floor": "3"}, "merge": True})
    # A GET with several query arguments.
    things = iot.list_things(maxResults=10, attributeName="floor", attributeValue="3")["things"]
    assert [t["thingName"] for t in things] == ["room:1"]
    assert len(iot.list_things(maxResults=1)["things"]) == 1
    iot.delete_thing(thingName="room-2")


def test_boto3_signed_iot_data_and_sns(emu):
    reset(emu).create_thing(thingName="lamp")
    data = emu.client("iot-data", key=KEY, secret=SECRET)
    data.update_thing_shadow(thingName="lamp", payload=b'{"state":{"desired":{"on":true}}}')
    doc = json.loads(data.get_thing_shadow(thingName="lamp")["payload"].read())
    assert doc["state"]["desired"] == {"on": True}
    sns = emu.client("sns", key=KEY, secret=SECRET)
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    assert arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert sns.publish(TopicArn=arn, Message="héllo & <you>", Subject="s p")["MessageId"]


def test_wrong_secret(emu):
    reset(emu)
    status, code, message = error_of(emu.client("iot", key=KEY, secret="nope").list_things)
    assert (status, code, message) == (403, "InvalidSignatureException", MISMATCH)
    status, code, message = error_of(
        emu.client("iot-data", key=KEY, secret="nope").get_thing_shadow, thingName="x")
    assert (status, code) == (403, "InvalidSignatureException")
    status, code, message = error_of(emu.client("sns", key=KEY, secret="nope").list_topics)
    assert (status, code, message) == (403, "SignatureDoesNotMatch", MISMATCH)
    # The same signed POST, with its body as signed and then one byte changed.
    for body, want in ((b'{"attributePayload":{}}', 200), (b'{"attributePayload":{ }}', 403)):
        req = botocore.awsrequest.AWSRequest(method="POST", url=emu.endpoint + "/things/t2",
                                             data=b'{"attributePayload":{}}',
                                             headers={"Content-Type": "application/json"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(KEY, SECRET), "iot",
                                "us-east-1").add_auth(req)
        status, headers, out = http("POST", req.url, body, dict(req.headers))
        assert status == want, out
    assert json_error(status, headers, out) == (403, "InvalidSignatureException", MISMATCH)


def test_unknown_key(emu):
    status, code, message = error_of(emu.client("iot", key="AKIDNOBODY", secret="x").list_things)
    assert (status, code, message) == (403, "UnrecognizedClientException", BAD_TOKEN)
    status, code, message = error_of(emu.client("sns", key="AKIDNOBODY", secret="x").list_topics)
    assert (status, code, message) == (403, "InvalidClientTokenId", BAD_TOKEN)


def test_no_signature(emu):
    status, headers, body = http("GET", emu.endpoint + "/things")
    assert json_error(status, headers, body) == (
        403, "MissingAuthenticationTokenException", "Missing Authentication Token")
    unsigned = emu.client("iot", signature_version=botocore.UNSIGNED)
    assert error_of(unsigned.list_things)[:2] == (403, "MissingAuthenticationTokenException")
    status, _, body = http("POST", emu.endpoint + "/", "Action=ListTopics&Version=2010-03-31",
                           {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 403
    assert xml_error(body) == ("MissingAuthenticationToken",
                               "Request is missing Authentication Token")
    unsigned = emu.client("sns", signature_version=botocore.UNSIGNED)
    assert error_of(unsigned.list_topics)[:2] == (403, "MissingAuthenticationToken")


def test_old_and_future_dates(emu):
    now = utcnow()
    # rest-json services allow 5 minutes either way.
    status, headers, body = signed(emu, "GET", "/things", "iot", when=now - datetime.timedelta(
        minutes=10))
    status, kind, message = json_error(status, headers, body)
    assert (status, kind) == (400, "InvalidSignatureException")
    signed_at = (now - datetime.timedelta(minutes=10)).strftime("%Y%m%dT%H%M%SZ")
    assert message.startswith("Signature expired: %s is now earlier than " % signed_at), message
    assert message.endswith(" - 5 min.)"), message
    status, headers, body = signed(emu, "GET", "/things", "iot",
                                   when=now + datetime.timedelta(minutes=10))
    status, kind, message = json_error(status, headers, body)
    assert (status, kind) == (400, "InvalidSignatureException")
    assert message.startswith("Signature not yet current: "), message
    status, _, body = signed(emu, "GET", "/things", "iot", when=now - datetime.timedelta(minutes=2))
    assert status == 200, body
    # SNS allows 15.
    form = b"Action=ListTopics&Version=2010-03-31"
    ctype = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    status, _, body = signed(emu, "POST", "/", "sns", form, ctype,
                             when=now - datetime.timedelta(minutes=10))
    assert status == 200, body
    status, _, body = signed(emu, "POST", "/", "sns", form, ctype,
                             when=now - datetime.timedelta(minutes=20))
    assert status == 403
    code, message = xml_error(body)
    assert code == "SignatureDoesNotMatch"
    assert message.startswith("Signature expired: ") and message.endswith(" - 15 min.)"), message


def test_presigned_url(emu):
    iot = reset(emu)
    iot.create_thing(thingName="p1")
    iot.create_thing(thingName="p2")
    url = emu.client("iot", key=KEY, secret=SECRET).generate_presigned_url(
        "list_things", Params={"maxResults": 1}, ExpiresIn=60)
    assert "X-Amz-Signature=" in url and "X-Amz-Credential=" in url
    status, _, body = http("GET", url)
    assert status == 200, body
    assert len(json.loads(body)["things"]) == 1
    status, headers, body = http("GET", url.replace("maxResults=1", "maxResults=2"))
    assert json_error(status, headers, body) == (403, "InvalidSignatureException", MISMATCH)
    wrong = emu.client("iot", key=KEY, secret="nope").generate_presigned_url(
        "describe_thing", Params={"thingName": "p1"})
    status, headers, body = http("GET", wrong)
    assert json_error(status, headers, body) == (403, "InvalidSignatureException", MISMATCH)


def test_aws_cli(emu):
    reset(emu).create_thing(thingName="cli-thing")
    good = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET}
    out = json.loads(emu.aws("iot", "list-things", "--max-items", "5", env=good).stdout)
    assert [t["thingName"] for t in out["things"]] == ["cli-thing"]
    arn = json.loads(emu.aws("sns", "create-topic", "--name", "cli", env=good).stdout)["TopicArn"]
    assert arn.endswith(":cli")
    bad = {"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": "nope"}
    p = emu.aws("iot", "describe-thing", "--thing-name", "cli-thing", env=bad, check=False)
    assert p.returncode == 254, p.stderr
    assert "(InvalidSignatureException) when calling the DescribeThing operation" in p.stderr
    p = emu.aws("sns", "list-topics", env=bad, check=False)
    assert p.returncode == 254, p.stderr
    assert "(SignatureDoesNotMatch) when calling the ListTopics operation" in p.stderr
    p = emu.aws("iot", "list-things", "--no-sign-request", check=False)
    assert p.returncode == 254, p.stderr
    assert "(MissingAuthenticationTokenException)" in p.stderr


def test_exempt_paths(emu):
    """The emulator's own API, the dashboard, the signing certificate path
    and the SNS SubscribeURL / UnsubscribeURL links need no signature."""
    assert emu.get("/_ddlocal/health")[0] == 200
    assert http("GET", emu.endpoint + "/_ddlocal/ui/")[0] == 200
    status, headers, _ = http("GET", emu.endpoint + "/_ddlocal/sns/SimpleNotificationService-0.pem")
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    sns = emu.client("sns", key=KEY, secret=SECRET)
    arn = sns.create_topic(Name="links")["TopicArn"]
    sub = sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/x",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    status, _, body = http("GET", emu.endpoint + "/?" + urllib.parse.urlencode(
        {"Action": "ConfirmSubscription", "TopicArn": arn, "Token": "not-the-token"}))
    assert status != 403 and b"MissingAuthenticationToken" not in body, body
    status, _, body = http("GET", emu.endpoint + "/?" + urllib.parse.urlencode(
        {"Action": "Unsubscribe", "SubscriptionArn": sub}))
    assert status == 200, body
    assert b"<UnsubscribeResponse" in body
    # Any other GET / still needs a signature.
    status, _, body = http("GET", emu.endpoint + "/?Action=ListTopics&Version=2010-03-31")
    assert status == 403 and xml_error(body)[0] == "MissingAuthenticationToken"


def test_off_by_default(make_emulator):
    emu = make_emulator("--manual-clock").start()
    status, _, body = http("GET", emu.endpoint + "/things")
    assert status == 200, body
    assert emu.client("iot", key="anyone", secret="anything").list_things()["things"] == []


def test_launcher_needs_credentials(make_emulator):
    p = make_emulator("--verify-signatures").run_to_end()
    assert p.returncode != 0
    assert "--verify-signatures needs at least one --credentials KEY:SECRET" in p.stderr
    p = make_emulator("--verify-signatures", "--credentials", "nocolon").run_to_end()
    assert p.returncode != 0
    assert "--credentials needs KEY:SECRET, not 'nocolon'" in p.stderr
