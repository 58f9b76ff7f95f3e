# SPDX-License-Identifier: MIT
"""SQS on the emulator's one HTTP port: boto3 1.26 and the AWS CLI v2 2.9
(both send the query protocol), the JSON protocol by plain HTTP (as current
SDKs send it), and AWS's errors in both forms. Delays and visibility
timeouts run on the manual clock; messages survive a restart."""
import hashlib
import json
import re
import xml.etree.ElementTree as ET

import botocore.exceptions
import pytest

from conftest import http, reset

ACCOUNT = "123456789012"
NS = "{http://queue.amazonaws.com/doc/2012-11-05/}"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
JSON = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture
def sqs(emu):
    reset(emu)
    return emu.client("sqs")


def url_of(emu, name):
    return "http://127.0.0.1:%d/%s/%s" % (emu.http_port, ACCOUNT, name)


def error(call, **kwargs):
    """The (Code, Message, HTTP status) of a call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    err = e.value.response["Error"]
    return err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


def json_call(emu, op, doc):
    status, headers, body = http("POST", emu.endpoint + "/", json.dumps(doc),
                                 dict(JSON, **{"X-Amz-Target": "AmazonSQS." + op}))
    return status, headers, json.loads(body) if body else None


def test_create_get_list_delete(emu, sqs):
    url = sqs.create_queue(QueueName="q1")["QueueUrl"]
    assert url == url_of(emu, "q1")
    # idempotent: no attributes, equal ones, a subset
    assert sqs.create_queue(QueueName="q1")["QueueUrl"] == url
    assert sqs.create_queue(QueueName="q1", Attributes={"VisibilityTimeout": "30"})[
        "QueueUrl"] == url
    assert error(sqs.create_queue, QueueName="q1", Attributes={"DelaySeconds": "5"}) == (
        "QueueAlreadyExists", "A queue already exists with the same name and a different "
        "value for attribute DelaySeconds", 400)
    assert sqs.get_queue_url(QueueName="q1")["QueueUrl"] == url
    for name in ("q2", "other"):
        sqs.create_queue(QueueName=name)
    assert sqs.list_queues()["QueueUrls"] == [url_of(emu, n) for n in ("other", "q1", "q2")]
    assert sqs.list_queues(QueueNamePrefix="q")["QueueUrls"] == [url, url_of(emu, "q2")]
    page = sqs.list_queues(MaxResults=2)
    assert page["QueueUrls"] == [url_of(emu, "other"), url]
    page = sqs.list_queues(MaxResults=2, NextToken=page["NextToken"])
    assert page["QueueUrls"] == [url_of(emu, "q2")] and "NextToken" not in page
    assert "QueueUrls" not in sqs.list_queues(QueueNamePrefix="zzz")
    sqs.delete_queue(QueueUrl=url)
    code, msg, status = error(sqs.get_queue_url, QueueName="q1")
    assert (code, status) == ("AWS.SimpleQueueService.NonExistentQueue", 400)
    assert msg == "The specified queue does not exist for this wsdl version."
    assert error(sqs.delete_queue, QueueUrl=url)[0] == "AWS.SimpleQueueService.NonExistentQueue"


def test_create_errors(sqs):
    text = "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"
    for bad in ("", "my/test", "a" * 81, "x y"):
        assert error(sqs.create_queue, QueueName=bad) == ("InvalidParameterValue", text, 400)
    assert error(sqs.create_queue, QueueName="q", Attributes={"Foobar": "1"}) == (
        "InvalidAttributeName", "Unknown Attribute Foobar.", 400)
    assert error(sqs.create_queue, QueueName="q", Attributes={"VisibilityTimeout": "43201"}) == (
        "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout.", 400)
    # a .fifo name is a FIFO queue's only (FIFO queues: test_sqs_fifo.py)
    assert error(sqs.create_queue, QueueName="q.fifo") == ("InvalidParameterValue", text, 400)
    assert "QueueUrls" not in sqs.list_queues()


def test_queue_attributes(emu, sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"DelaySeconds": "2"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs == {
        "ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0",
        "ApproximateNumberOfMessagesDelayed": "0", "CreatedTimestamp": attrs["CreatedTimestamp"],
        "LastModifiedTimestamp": attrs["CreatedTimestamp"], "DelaySeconds": "2",
        "MaximumMessageSize": "1048576", "MessageRetentionPeriod": "345600",
        "QueueArn": "arn:aws:sqs:us-east-1:%s:q" % ACCOUNT,
        "ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true",
        "VisibilityTimeout": "30"}
    created = int(attrs["CreatedTimestamp"])
    assert abs(created - emu.clock()["now"]) <= 1
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url)
    emu.advance(100)
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5",
                                                       "Policy": policy})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "VisibilityTimeout", "Policy", "LastModifiedTimestamp"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "5" and attrs["Policy"] == policy
    assert int(attrs["LastModifiedTimestamp"]) >= created + 100
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    assert error(sqs.get_queue_attributes, QueueUrl=url, AttributeNames=["Foobar"]) == (
        "InvalidAttributeName", "Unknown Attribute Foobar.", 400)
    assert error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"QueueArn": "x"}) == (
        "InvalidAttributeName", "Unknown Attribute QueueArn.", 400)
    assert error(sqs.set_queue_attributes, QueueUrl=url,
                 Attributes={"MessageRetentionPeriod": "59"})[0] == "InvalidAttributeValue"
    # a bare name works as a QueueUrl; another account's URL does not
    assert sqs.get_queue_attributes(QueueUrl="q", AttributeNames=["DelaySeconds"])[
        "Attributes"] == {"DelaySeconds": "2"}
    assert error(sqs.get_queue_attributes, QueueUrl="http://x/210987654321/q",
                 AttributeNames=["All"])[0] == "AWS.SimpleQueueService.NonExistentQueue"


def test_kms_attributes(sqs):
    url = sqs.create_queue(QueueName="enc", Attributes={
        "KmsMasterKeyId": "master-key-id", "KmsDataKeyReusePeriodSeconds": "600"})["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attrs["KmsMasterKeyId"], attrs["KmsDataKeyReusePeriodSeconds"],
            attrs["SqsManagedSseEnabled"]) == ("master-key-id", "600", "false")
    plain = sqs.create_queue(QueueName="plain")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["All"])["Attributes"]
    assert "KmsMasterKeyId" not in attrs and attrs["SqsManagedSseEnabled"] == "true"
    assert error(sqs.set_queue_attributes, QueueUrl=plain, Attributes={
        "KmsMasterKeyId": "k", "SqsManagedSseEnabled": "true"}) == (
        "InvalidAttributeName", "You can use one type of server-side encryption (SSE) at one "
        "time. You can either enable KMS SSE or SQS SSE.", 400)
    assert error(sqs.set_queue_attributes, QueueUrl=plain, Attributes={
        "KmsDataKeyReusePeriodSeconds": "59"}) == (
        "InvalidAttributeValue", "Invalid value for the parameter KmsDataKeyReusePeriodSeconds.",
        400)


def test_trace_header(sqs):
    url = sqs.create_queue(QueueName="traced")["QueueUrl"]
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    out = sqs.send_message(QueueUrl=url, MessageBody="x", MessageSystemAttributes={
        "AWSTraceHeader": {"DataType": "String", "StringValue": trace}})
    assert out["MD5OfMessageSystemAttributes"] == "5ae4d5d7636402d80f4eb6d213245a88"
    assert "MD5OfMessageSystemAttributes" not in sqs.send_message(QueueUrl=url, MessageBody="y")
    msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                               AttributeNames=["AWSTraceHeader"])["Messages"]
    assert [m.get("Attributes") for m in msgs] == [{"AWSTraceHeader": trace}, None]
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageSystemAttributes={
        "Other": {"DataType": "String", "StringValue": "v"}}) == (
        "InvalidParameterValue", "Message system attribute name 'Other' is invalid.", 400)


def test_send_receive_delete(emu, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    body = 'hello <&> "x"\r\nünï'
    out = sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
        "color": {"DataType": "String", "StringValue": "red"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02\x03"}})
    assert out["MD5OfMessageBody"] == hashlib.md5(body.encode()).hexdigest()
    assert out["MD5OfMessageAttributes"] == "a9ec460c795f41eb31e9264dde986868"
    assert UUID.match(out["MessageId"])
    plain = sqs.send_message(QueueUrl=url, MessageBody="derp")
    assert plain["MD5OfMessageBody"] == "58fd9edd83341c29f1aebba81c31e257"
    assert "MD5OfMessageAttributes" not in plain

    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"],
                              MessageAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == [body, "derp"]
    first = got[0]
    assert first["MessageId"] == out["MessageId"]
    assert first["MD5OfBody"] == out["MD5OfMessageBody"]
    assert first["MessageAttributes"] == {
        "color": {"DataType": "String", "StringValue": "red"},
        "blob": {"DataType": "Binary", "BinaryValue": b"\x01\x02\x03"}}
    assert first["MD5OfMessageAttributes"] == "a9ec460c795f41eb31e9264dde986868"
    sys_attrs = first["Attributes"]
    assert set(sys_attrs) == {"SenderId", "SentTimestamp", "ApproximateReceiveCount",
                              "ApproximateFirstReceiveTimestamp"}
    assert sys_attrs["ApproximateReceiveCount"] == "1" and sys_attrs["SenderId"] == ACCOUNT
    assert "MessageAttributes" not in got[1]
    counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    assert counts == {"ApproximateNumberOfMessages": "0",
                      "ApproximateNumberOfMessagesNotVisible": "2"}
    assert "Messages" not in sqs.receive_message(QueueUrl=url)

    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])  # twice is fine
    emu.advance(30)  # the default visibility timeout
    again = sqs.receive_message(QueueUrl=url, AttributeNames=["ApproximateReceiveCount"],
                                MessageAttributeNames=["col.*"])["Messages"]
    assert [m["Body"] for m in again] == ["derp"]
    assert again[0]["Attributes"] == {"ApproximateReceiveCount": "2"}
    assert again[0]["ReceiptHandle"] != got[1]["ReceiptHandle"]


def test_attribute_filter_and_digest(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageAttributes={
        "Foo": {"DataType": "String", "StringValue": "Bar"},
        "Other": {"DataType": "Number", "StringValue": "7"}})
    m = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["Foo"])["Messages"][0]
    assert m["MessageAttributes"] == {"Foo": {"DataType": "String", "StringValue": "Bar"}}
    assert m["MD5OfMessageAttributes"] == "ae7155c6026991b6d54b11589678bf9c"


def test_delay_and_visibility_on_the_clock(emu, sqs):
    url = sqs.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "10"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=5)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessagesDelayed"] == "1"
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    emu.advance(5)
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    emu.advance(10)
    m = sqs.receive_message(QueueUrl=url, VisibilityTimeout=100)["Messages"][0]
    emu.advance(50)
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                  VisibilityTimeout=0)
    m = sqs.receive_message(QueueUrl=url)["Messages"][0]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    code, msg, _ = error(sqs.change_message_visibility, QueueUrl=url,
                         ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=5)
    assert code == "InvalidParameterValue"
    assert msg.endswith("Reason: Message does not exist or is not available for visibility "
                        "timeout change.")


def test_message_errors(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert error(sqs.send_message, QueueUrl=url, MessageBody="") == (
        "MissingParameter", "The request must contain the parameter MessageBody.", 400)
    assert error(sqs.send_message, QueueUrl=url, MessageBody="a\x01b")[0] == \
        "InvalidMessageContents"
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", DelaySeconds=901)[1] == (
        "Value 901 for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 "
        "and <= 900.")
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageAttributes={
        "ErrorDetails": {"DataType": "String", "StringValue": ""}})[1] == (
        "Message (user) attribute 'ErrorDetails' must contain a non-empty value of type "
        "'String'.")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"MaximumMessageSize": "1024"})
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x" * 1025)[1] == (
        "One or more parameters are invalid. Reason: Message must be shorter than 1024 bytes.")
    sqs.send_message(QueueUrl=url, MessageBody="x" * 1024)
    assert error(sqs.receive_message, QueueUrl=url, MaxNumberOfMessages=11)[1] == (
        "Value 11 for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and "
        "10, if provided.")
    assert error(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=21)[1] == (
        "Value 21 for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if "
        "provided.")
    assert error(sqs.delete_message, QueueUrl=url, ReceiptHandle="garbage") == (
        "ReceiptHandleIsInvalid",
        'The input receipt handle "garbage" is not a valid receipt handle.', 400)
    missing = url.replace("/q", "/nope")
    for call, kw in ((sqs.send_message, {"MessageBody": "x"}), (sqs.receive_message, {}),
                     (sqs.purge_queue, {}),
                     (sqs.delete_message, {"ReceiptHandle": "garbage"})):
        assert error(call, QueueUrl=missing, **kw)[0] == "AWS.SimpleQueueService.NonExistentQueue"


def test_message_at_the_1_mib_limit(emu, sqs):
    """A 1 MiB message reaches SQS in the query protocol's form encoding,
    where each byte of "\u00e9" is sent as three (%C3%A9): it is taken at
    the limit and refused one byte over with SQS's own error, not the
    HTTP edge's 413. The JSON protocol takes the same message."""
    url = sqs.create_queue(QueueName="big")["QueueUrl"]
    at_limit = "\u00e9" * (1 << 19)  # 1048576 bytes of UTF-8
    sent = sqs.send_message(QueueUrl=url, MessageBody=at_limit)
    assert sent["MD5OfMessageBody"] == hashlib.md5(at_limit.encode()).hexdigest()
    assert error(sqs.send_message, QueueUrl=url, MessageBody=at_limit + "x") == (
        "InvalidParameterValue",
        "One or more parameters are invalid. Reason: Message must be shorter than 1048576 "
        "bytes.", 400)
    got = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in got] == [at_limit]
    status, _, out = json_call(emu, "SendMessage", {"QueueUrl": url, "MessageBody": at_limit})
    assert status == 200 and out["MD5OfMessageBody"] == sent["MD5OfMessageBody"]


def test_purge(sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    sqs.receive_message(QueueUrl=url)
    sqs.purge_queue(QueueUrl=url)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0"
    assert attrs["ApproximateNumberOfMessagesNotVisible"] == "0"


def test_query_xml_and_errors(emu, sqs):
    sqs.create_queue(QueueName="q")
    status, headers, body = http("POST", emu.endpoint + "/",
                                 "Action=GetQueueUrl&Version=2012-11-05&QueueName=q", FORM)
    assert status == 200
    doc = ET.fromstring(body)
    assert doc.tag == NS + "GetQueueUrlResponse"
    assert doc.find(NS + "GetQueueUrlResult/" + NS + "QueueUrl").text.endswith("/%s/q" % ACCOUNT)
    status, _, body = http("POST", emu.endpoint + "/",
                           "Action=GetQueueUrl&Version=2012-11-05&QueueName=nope", FORM)
    assert status == 400
    doc = ET.fromstring(body)
    assert doc.tag == NS + "ErrorResponse"
    assert doc.find(NS + "Error/" + NS + "Type").text == "Sender"
    assert doc.find(NS + "Error/" + NS + "Code").text == "AWS.SimpleQueueService.NonExistentQueue"
    status, _, body = http("POST", emu.endpoint + "/", "Action=FooBar&Version=2012-11-05", FORM)
    assert status == 400
    assert ET.fromstring(body).find(NS + "Error/" + NS + "Message").text == (
        "The action FooBar is not valid for this endpoint.")
    # A CR survives the XML (escaped), so the client's MD5 check holds.
    status, _, body = http("POST", emu.endpoint + "/", "Action=ReceiveMessage&Version=2012-11-05"
                           "&QueueUrl=q", FORM)
    assert status == 200 and b"<ReceiveMessageResult></ReceiveMessageResult>" in body


def test_json_protocol(emu, sqs):
    status, headers, out = json_call(emu, "CreateQueue", {"QueueName": "j", "Attributes": {
        "DelaySeconds": "0"}})
    assert status == 200 and headers["Content-Type"] == "application/x-amz-json-1.0"
    assert UUID.match(headers["x-amzn-RequestId"])
    url = out["QueueUrl"]
    assert url == url_of(emu, "j")
    status, _, out = json_call(emu, "SendMessage", {
        "QueueUrl": url, "MessageBody": "hello", "DelaySeconds": 0, "MessageAttributes": {
            "b": {"DataType": "Binary", "BinaryValue": "AQID"}}})
    assert status == 200 and out["MD5OfMessageBody"] == "5d41402abc4b2a76b9719d911017c592"
    status, _, out = json_call(emu, "ReceiveMessage", {
        "QueueUrl": url, "MaxNumberOfMessages": 10, "MessageAttributeNames": ["All"],
        "MessageSystemAttributeNames": ["SentTimestamp"]})
    assert status == 200
    (m,) = out["Messages"]
    assert m["Body"] == "hello" and set(m["Attributes"]) == {"SentTimestamp"}
    assert m["MessageAttributes"] == {"b": {"DataType": "Binary", "BinaryValue": "AQID"}}
    status, _, out = json_call(emu, "ReceiveMessage", {"QueueUrl": url})
    assert (status, out) == (200, {})
    status, _, out = json_call(emu, "DeleteMessage", {"QueueUrl": url,
                                                      "ReceiptHandle": m["ReceiptHandle"]})
    assert (status, out) == (200, {})
    status, _, out = json_call(emu, "ListQueues", {})
    assert out == {"QueueUrls": [url]}
    # errors: __type, x-amzn-query-error, the JSON wording
    status, headers, out = json_call(emu, "GetQueueUrl", {"QueueName": "nope"})
    assert status == 400
    assert out == {"__type": "com.amazonaws.sqs#QueueDoesNotExist",
                   "message": "The specified queue does not exist."}
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.NonExistentQueue;Sender"
    status, headers, out = json_call(emu, "ReceiveMessage", {"QueueUrl": url,
                                                             "MaxNumberOfMessages": 11})
    assert status == 400
    assert out["__type"] == "com.amazon.coral.service#InvalidParameterValueException"
    assert headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    status, headers, body = http("POST", emu.endpoint + "/", "not json",
                                 dict(JSON, **{"X-Amz-Target": "AmazonSQS.ListQueues"}))
    assert status == 400 and headers["x-amzn-query-error"] == "InvalidParameterValue;Sender"
    assert json.loads(body)["message"] == "The request body is not a JSON object."
    status, headers, out = json_call(emu, "FooBar", {})
    assert status == 400 and out["__type"].endswith("#UnknownOperationException")
    status, _, out = json_call(emu, "CreateQueue", {"QueueName": "j", "Attributes": {
        "DelaySeconds": "3"}})
    assert status == 400 and out["__type"] == "com.amazonaws.sqs#QueueNameExists"


def test_cli(emu, sqs):
    url = emu.aws_json("sqs", "create-queue", "--queue-name", "cli-q")["QueueUrl"]
    assert url == url_of(emu, "cli-q")
    sent = emu.aws_json("sqs", "send-message", "--queue-url", url, "--message-body", "hi",
                        "--message-attributes",
                        '{"k": {"DataType": "String", "StringValue": "v"}}')
    assert sent["MD5OfMessageBody"] == hashlib.md5(b"hi").hexdigest()
    got = emu.aws_json("sqs", "receive-message", "--queue-url", url,
                       "--message-attribute-names", "All", "--attribute-names", "All")
    (m,) = got["Messages"]
    assert m["Body"] == "hi" and m["MessageAttributes"]["k"]["StringValue"] == "v"
    emu.aws("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    p = emu.aws("sqs", "get-queue-url", "--queue-name", "nope", check=False)
    assert p.returncode == 254
    assert "AWS.SimpleQueueService.NonExistentQueue" in p.stderr
    emu.aws("sqs", "delete-queue", "--queue-url", url)


def test_messages_survive_a_restart(make_emulator):
    emu = make_emulator("--manual-clock").start()
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName="durable")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="kept")
    emu.stop()
    emu.start()
    sqs = emu.client("sqs")
    (m,) = sqs.receive_message(QueueUrl="durable")["Messages"]
    assert m["Body"] == "kept"


def test_batches(emu, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": "a", "MessageBody": "one", "MessageAttributes": {
            "MyAttribute": {"DataType": "String", "StringValue": "foobar"}}},
        {"Id": "b", "MessageBody": "two", "DelaySeconds": 10},
        {"Id": "c", "MessageBody": "three", "DelaySeconds": 901}])
    ok = {e["Id"]: e for e in out["Successful"]}
    assert sorted(ok) == ["a", "b"]
    assert ok["a"]["MD5OfMessageBody"] == hashlib.md5(b"one").hexdigest()
    assert ok["a"]["MD5OfMessageAttributes"] == "adb59cd4678ea5a855436b949cd07ab6"
    assert "MD5OfMessageAttributes" not in ok["b"]
    (bad,) = out["Failed"]
    assert (bad["Id"], bad["SenderFault"], bad["Code"]) == ("c", True, "InvalidParameterValue")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["one"]
    emu.advance(10)
    got += sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in got] == ["one", "two"]

    out = sqs.change_message_visibility_batch(QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": got[0]["ReceiptHandle"], "VisibilityTimeout": 0},
        {"Id": "y", "ReceiptHandle": "garbage", "VisibilityTimeout": 0}])
    assert [e["Id"] for e in out["Successful"]] == ["x"]
    assert [(e["Id"], e["Code"]) for e in out["Failed"]] == [("y", "ReceiptHandleIsInvalid")]
    again = sqs.receive_message(QueueUrl=url)["Messages"]
    assert [m["Body"] for m in again] == ["one"]

    out = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": "x", "ReceiptHandle": again[0]["ReceiptHandle"]},
        {"Id": "y", "ReceiptHandle": got[1]["ReceiptHandle"]}])
    assert sorted(e["Id"] for e in out["Successful"]) == ["x", "y"] and "Failed" not in out
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == attrs[
        "ApproximateNumberOfMessagesNotVisible"] == "0"


def test_batch_errors(emu, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=[]) == (
        "AWS.SimpleQueueService.EmptyBatchRequest",
        "There should be at least one SendMessageBatchRequestEntry in the request.", 400)
    assert error(sqs.delete_message_batch, QueueUrl=url, Entries=[])[1] == (
        "There should be at least one DeleteMessageBatchRequestEntry in the request.")
    many = [{"Id": "m%d" % i, "MessageBody": "x"} for i in range(11)]
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=many) == (
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
        "Maximum number of entries per request are 10. You have sent 11.", 400)
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "bad id", "MessageBody": "x"}])[0] == "AWS.SimpleQueueService.InvalidBatchEntryId"
    assert error(sqs.delete_message_batch, QueueUrl=url, Entries=[
        {"Id": "a", "ReceiptHandle": "h"}, {"Id": "a", "ReceiptHandle": "h"}]) == (
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id a repeated.", 400)
    assert "QueueUrls" in sqs.list_queues()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert error(sqs.send_message_batch, QueueUrl=url + "x", Entries=many[:1])[0] == \
        "AWS.SimpleQueueService.NonExistentQueue"
    # the JSON protocol: Entries as a list, the same checks
    status, headers, out = json_call(emu, "SendMessageBatch", {"QueueUrl": url, "Entries": [
        {"Id": "j1", "MessageBody": "hi"}, {"Id": "j2", "MessageBody": ""}]})
    assert status == 200
    assert [e["Id"] for e in out["Successful"]] == ["j1"]
    assert out["Failed"] == [{"Id": "j2", "SenderFault": True, "Code": "MissingParameter",
                              "Message": "The request must contain the parameter MessageBody."}]
    status, headers, out = json_call(emu, "DeleteMessageBatch", {"QueueUrl": url, "Entries": []})
    assert status == 400 and out["__type"] == "com.amazonaws.sqs#EmptyBatchRequest"
    assert headers["x-amzn-query-error"] == "AWS.SimpleQueueService.EmptyBatchRequest;Sender"


def test_dead_letter_queue(emu, sqs):
    dlq_url = sqs.create_queue(QueueName="dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    src_url = sqs.create_queue(QueueName="src", Attributes={
        "VisibilityTimeout": "0",
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "1"})})[
        "QueueUrl"]
    policy = sqs.get_queue_attributes(QueueUrl=src_url, AttributeNames=["RedrivePolicy"])[
        "Attributes"]["RedrivePolicy"]
    assert json.loads(policy) == {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1}
    # the same policy in another spelling is the same queue
    assert sqs.create_queue(QueueName="src", Attributes={"RedrivePolicy": json.dumps(
        {"maxReceiveCount": 1, "deadLetterTargetArn": dlq_arn})})["QueueUrl"] == src_url
    sent = sqs.send_message(QueueUrl=src_url, MessageBody="poison")
    (first,) = sqs.receive_message(QueueUrl=src_url)["Messages"]
    assert first["MessageId"] == sent["MessageId"]
    assert "Messages" not in sqs.receive_message(QueueUrl=src_url)  # moved, not returned
    (moved,) = sqs.receive_message(QueueUrl=dlq_url, AttributeNames=["All"])["Messages"]
    assert (moved["MessageId"], moved["Body"]) == (sent["MessageId"], "poison")
    assert moved["Attributes"]["DeadLetterQueueSourceArn"] == dlq_arn.replace(":dlq", ":src")
    assert moved["Attributes"]["ApproximateReceiveCount"] == "2"

    other = sqs.create_queue(QueueName="another", Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq_url)["queueUrls"] == [other, src_url]
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url, MaxResults=1)
    assert page["queueUrls"] == [other]
    page = sqs.list_dead_letter_source_queues(QueueUrl=dlq_url, MaxResults=1,
                                              NextToken=page["NextToken"])
    assert page["queueUrls"] == [src_url] and "NextToken" not in page
    assert "queueUrls" not in sqs.list_dead_letter_source_queues(QueueUrl=src_url)
    status, _, out = json_call(emu, "ListDeadLetterSourceQueues", {"QueueUrl": dlq_url})
    assert (status, out) == (200, {"queueUrls": [other, src_url]})
    assert error(sqs.list_dead_letter_source_queues, QueueUrl=dlq_url + "x")[0] == \
        "AWS.SimpleQueueService.NonExistentQueue"
    bad = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1001})
    assert error(sqs.set_queue_attributes, QueueUrl=src_url, Attributes={
        "RedrivePolicy": bad}) == (
        "InvalidParameterValue", "Value %s for parameter RedrivePolicy is invalid. Reason: "
        "Invalid value for maxReceiveCount: 1001, valid values are from 1 to 1000 both "
        "inclusive." % bad, 400)
    missing = dlq_arn.replace(":dlq", ":nope")
    assert error(sqs.set_queue_attributes, QueueUrl=src_url, Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": missing, "maxReceiveCount": 2})}) == (
        "AWS.SimpleQueueService.NonExistentQueue", "Could not find DLQ for " + missing, 400)
    sqs.set_queue_attributes(QueueUrl=src_url, Attributes={"RedrivePolicy": ""})
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=src_url,
                                                        AttributeNames=["RedrivePolicy"])


def test_tags(emu, sqs):
    url = sqs.create_queue(QueueName="q", tags={"team": "sec", "env": ""})["QueueUrl"]
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "sec", "env": ""}
    sqs.tag_queue(QueueUrl=url, Tags={"team": "ops", "new": "1"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "ops", "env": "", "new": "1"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["env", "absent"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "ops", "new": "1"}
    assert error(sqs.tag_queue, QueueUrl=url, Tags={}) == (
        "MissingParameter", "The request must contain the parameter Tags.", 400)
    many = {"k%d" % i: "v" for i in range(49)}
    assert error(sqs.tag_queue, QueueUrl=url, Tags=many) == (
        "InvalidParameterValue", "Too many tags added for queue q.", 400)
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "ops", "new": "1"}
    assert error(sqs.list_queue_tags, QueueUrl=url + "x")[0] == \
        "AWS.SimpleQueueService.NonExistentQueue"
    # a topic of the same name keeps its tags when the queue goes
    sns = emu.client("sns")
    topic = sns.create_topic(Name="q", Tags=[{"Key": "t", "Value": "1"}])["TopicArn"]
    sqs.delete_queue(QueueUrl=url)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    assert sns.list_tags_for_resource(ResourceArn=topic)["Tags"] == [{"Key": "t", "Value": "1"}]
    status, _, out = json_call(emu, "ListQueueTags", {"QueueUrl": url})
    assert (status, out) == (200, {})
    status, _, out = json_call(emu, "TagQueue", {"QueueUrl": url, "Tags": {"a": "b"}})
    assert status == 200
    status, _, out = json_call(emu, "ListQueueTags", {"QueueUrl": url})
    assert out == {"Tags": {"a": "b"}}


def test_permissions(emu, sqs):
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = "arn:aws:sqs:us-east-1:%s:q" % ACCOUNT
    sqs.add_permission(QueueUrl=url, Label="one", AWSAccountIds=["111111111111"],
                       Actions=["SendMessage"])
    sqs.add_permission(QueueUrl=url, Label="two", AWSAccountIds=["111111111111",
                                                                 "222222222222"],
                       Actions=["ReceiveMessage", "DeleteMessage"])
    policy = json.loads(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])[
        "Attributes"]["Policy"])
    assert policy == {"Version": "2012-10-17", "Id": arn + "/SQSDefaultPolicy", "Statement": [
        {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": "SQS:SendMessage", "Resource": arn},
        {"Sid": "two", "Effect": "Allow", "Principal": {"AWS": [
            "arn:aws:iam::111111111111:root", "arn:aws:iam::222222222222:root"]},
         "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"], "Resource": arn}]}
    assert error(sqs.add_permission, QueueUrl=url, Label="one", AWSAccountIds=["1"],
                 Actions=["SendMessage"]) == (
        "InvalidParameterValue", "Value one for parameter Label is invalid. Reason: Already "
        "exists.", 400)
    assert error(sqs.add_permission, QueueUrl=url, Label="x", AWSAccountIds=["1"],
                 Actions=["A%d" % i for i in range(8)]) == (
        "OverLimit", "8 Actions were found, maximum allowed is 7.", 403)
    sqs.remove_permission(QueueUrl=url, Label="one")
    assert error(sqs.remove_permission, QueueUrl=url, Label="one") == (
        "InvalidParameterValue", "Value one for parameter Label is invalid. Reason: can't find "
        "label.", 400)
    sqs.remove_permission(QueueUrl=url, Label="two")
    assert "Attributes" not in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["Policy"])
    status, headers, out = json_call(emu, "AddPermission", {
        "QueueUrl": url, "Label": "j", "AWSAccountIds": ["333333333333"], "Actions": ["*"]})
    assert (status, out) == (200, {})
    status, headers, out = json_call(emu, "AddPermission", {
        "QueueUrl": url, "Label": "k", "AWSAccountIds": ["3"], "Actions": ["A"] * 8})
    assert status == 403 and out["__type"] == "com.amazonaws.sqs#OverLimit"
    assert headers["x-amzn-query-error"] == "OverLimit;Sender"
