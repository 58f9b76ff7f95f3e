# SPDX-License-Identifier: MIT
"""SQS FIFO queues through boto3 1.26 and the AWS CLI v2 (query protocol)
and the JSON protocol: .fifo names and the FIFO attributes, MessageGroupId
and deduplication ids with AWS's errors, the five-minute deduplication
interval on the manual clock, SequenceNumber, order within a group and one
in-flight batch per group."""
import hashlib
import json

import botocore.exceptions
import pytest

from conftest import http, reset

JSON = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"}
BAD_NAME = ("The name of a FIFO queue can only include alphanumeric characters, hyphens, or "
            "underscores, must end with .fifo suffix and be 1 to 80 in length.")
NO_DEDUP = ("The queue should either have ContentBasedDeduplication enabled or "
            "MessageDeduplicationId provided explicitly")


@pytest.fixture
def sqs(emu):
    reset(emu)
    return emu.client("sqs")


def error(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    err = e.value.response["Error"]
    return err["Code"], err["Message"]


def fifo(sqs, name="q.fifo", **attrs):
    return sqs.create_queue(QueueName=name, Attributes=dict({"FifoQueue": "true"}, **attrs))[
        "QueueUrl"]


def bodies(sqs, url, n=10, **kwargs):
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=n, **kwargs)
    return [m["Body"] for m in out.get("Messages", [])], out.get("Messages", [])


def test_create_and_attributes(sqs):
    url = fifo(sqs)
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert {k: attrs[k] for k in ("FifoQueue", "ContentBasedDeduplication",
                                  "DeduplicationScope", "FifoThroughputLimit")} == {
        "FifoQueue": "true", "ContentBasedDeduplication": "false",
        "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"}
    assert fifo(sqs) == url  # idempotent
    std = sqs.create_queue(QueueName="std")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=std, AttributeNames=["All"])["Attributes"]
    assert not {"FifoQueue", "ContentBasedDeduplication"} & set(attrs)
    for name in ("q", "q.fifo.x", "a" * 76 + ".fifo", "my/q.fifo"):
        assert error(sqs.create_queue, QueueName=name,
                     Attributes={"FifoQueue": "true"}) == ("InvalidParameterValue", BAD_NAME)
    assert error(sqs.create_queue, QueueName="x.fifo")[0] == "InvalidParameterValue"
    assert error(sqs.create_queue, QueueName="x", Attributes={"FifoQueue": "false"}) == (
        "InvalidAttributeName", "Unknown Attribute FifoQueue.")
    assert error(sqs.create_queue, QueueName="x",
                 Attributes={"ContentBasedDeduplication": "true"}) == (
        "InvalidAttributeName", "Unknown Attribute ContentBasedDeduplication.")
    assert error(sqs.set_queue_attributes, QueueUrl=std,
                 Attributes={"DeduplicationScope": "queue"}) == (
        "InvalidAttributeName",
        "You can specify the DeduplicationScope only when FifoQueue is set to true.")
    assert error(sqs.set_queue_attributes, QueueUrl=url, Attributes={"FifoQueue": "false"}) == (
        "InvalidAttributeValue", "Invalid value for the parameter FifoQueue. Reason: Modifying "
        "queue type is not supported.")
    assert error(sqs.set_queue_attributes, QueueUrl=url,
                 Attributes={"DeduplicationScope": "message"}) == (
        "InvalidAttributeValue", "Invalid value for the parameter DeduplicationScope.")
    sqs.set_queue_attributes(QueueUrl=url, Attributes={
        "ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup",
        "FifoThroughputLimit": "perMessageGroupId"})
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication",
                                                                   "FifoThroughputLimit"])
    assert attrs["Attributes"] == {"ContentBasedDeduplication": "true",
                                   "FifoThroughputLimit": "perMessageGroupId"}


def test_send_errors(emu, sqs):
    url = fifo(sqs)
    std = sqs.create_queue(QueueName="std")["QueueUrl"]
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x",
                 MessageDeduplicationId="d") == (
        "MissingParameter", "The request must contain the parameter MessageGroupId.")
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="group 123",
                 MessageDeduplicationId="d") == (
        "InvalidParameterValue", "Value group 123 for parameter MessageGroupId is invalid. "
        "Reason: MessageGroupId can only include alphanumeric and punctuation characters. "
        "1 to 128 in length.")
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g",
                 MessageDeduplicationId="d" * 129)[1].endswith(
        "Reason: MessageDeduplicationId can only include alphanumeric and punctuation "
        "characters. 1 to 128 in length.")
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g") == (
        "InvalidParameterValue", NO_DEDUP)
    assert error(sqs.send_message, QueueUrl=url, MessageBody="x", MessageGroupId="g",
                 MessageDeduplicationId="d", DelaySeconds=2) == (
        "InvalidParameterValue", "Value 2 for parameter DelaySeconds is invalid. Reason: The "
        "request include parameter that is not valid for this queue type.")
    assert error(sqs.send_message, QueueUrl=std, MessageBody="x",
                 MessageDeduplicationId="d") == (
        "InvalidParameterValue", "Value d for parameter MessageDeduplicationId is invalid. "
        "Reason: The request includes a parameter that is not valid for this queue type.")
    # a batch entry without a group fails the whole batch, nothing is sent
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "a", "MessageGroupId": "g", "MessageDeduplicationId": "1"},
        {"Id": "2", "MessageBody": "b", "MessageDeduplicationId": "2"}])[0] == "MissingParameter"
    assert error(sqs.send_message_batch, QueueUrl=url, Entries=[
        {"Id": "1", "MessageBody": "a", "MessageGroupId": "g"}]) == (
        "InvalidParameterValue", NO_DEDUP)
    assert bodies(sqs, url)[0] == []
    # the JSON protocol's form of the same
    status, headers, body = http("POST", emu.endpoint + "/", json.dumps(
        {"QueueUrl": url, "MessageBody": "x"}),
        dict(JSON, **{"X-Amz-Target": "AmazonSQS.SendMessage"}))
    assert status == 400
    assert headers["x-amzn-query-error"] == "MissingParameter;Sender"
    assert json.loads(body)["message"] == "The request must contain the parameter MessageGroupId."
    # DelaySeconds 0 means the queue's delay
    sqs.send_message(QueueUrl=url, MessageBody="x", MessageGroupId="g",
                     MessageDeduplicationId="d", DelaySeconds=0)
    assert bodies(sqs, url)[0] == ["x"]


def test_order_and_group_blocking(emu, sqs):
    url = fifo(sqs, VisibilityTimeout="30")
    seqs = []
    for body in ("a1", "b1", "a2", "b2", "a3"):
        out = sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=body[0],
                               MessageDeduplicationId=body)
        assert len(out["SequenceNumber"]) == 20 and out["SequenceNumber"].isdigit()
        seqs.append(int(out["SequenceNumber"]))
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    # a group's messages together, in order; then the other group
    got, msgs = bodies(sqs, url, 4)
    assert got == ["a1", "a2", "a3", "b1"]
    # every group has a message in flight: nothing more
    assert bodies(sqs, url)[0] == []
    # b1 deleted: b2 comes
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[3]["ReceiptHandle"])
    got, more = bodies(sqs, url)
    assert got == ["b2"]
    # a2 made visible alone waits behind a1, still in flight
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msgs[1]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert bodies(sqs, url)[0] == []
    # a1 visible again too: a1 and a2 come, a3 (in flight) stays
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"],
                                  VisibilityTimeout=0)
    assert bodies(sqs, url)[0] == ["a1", "a2"]
    # past the visibility timeout every message is back, in order
    emu.advance(31)
    got, msgs = bodies(sqs, url, AttributeNames=["All"])
    assert got == ["a1", "a2", "a3", "b2"]
    a = msgs[0]["Attributes"]
    assert (a["MessageGroupId"], a["MessageDeduplicationId"]) == ("a", "a1")
    assert int(a["SequenceNumber"]) == seqs[0] and a["ApproximateReceiveCount"] == "3"
    assert "SequenceNumber" not in sqs.send_message(
        QueueUrl=sqs.create_queue(QueueName="std")["QueueUrl"], MessageBody="x")


def test_deduplication_interval_on_the_clock(emu, sqs):
    url = fifo(sqs)
    first = sqs.send_message(QueueUrl=url, MessageBody="one", MessageGroupId="g",
                             MessageDeduplicationId="same")
    again = sqs.send_message(QueueUrl=url, MessageBody="two", MessageGroupId="g",
                             MessageDeduplicationId="same")
    assert (again["MessageId"], again["SequenceNumber"]) == (first["MessageId"],
                                                             first["SequenceNumber"])
    got, msgs = bodies(sqs, url)
    assert got == ["one"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=msgs[0]["ReceiptHandle"])
    emu.advance(299)  # still within five minutes, even with the message gone
    sqs.send_message(QueueUrl=url, MessageBody="three", MessageGroupId="g",
                     MessageDeduplicationId="same")
    assert bodies(sqs, url)[0] == []
    emu.advance(1)
    later = sqs.send_message(QueueUrl=url, MessageBody="four", MessageGroupId="g",
                             MessageDeduplicationId="same")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) > int(first["SequenceNumber"])
    assert bodies(sqs, url)[0] == ["four"]


def test_content_based_and_group_scope(sqs):
    url = fifo(sqs, "cbd.fifo", ContentBasedDeduplication="true")
    a = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="g")
    b = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="h")
    assert a["MessageId"] == b["MessageId"]  # the queue is the scope
    got, msgs = bodies(sqs, url, AttributeNames=["MessageDeduplicationId"])
    assert got == ["hello"]
    assert msgs[0]["Attributes"]["MessageDeduplicationId"] == hashlib.sha256(
        b"hello").hexdigest()
    # an explicit id wins over the content's
    sqs.send_message(QueueUrl=url, MessageBody="hello", MessageGroupId="g",
                     MessageDeduplicationId="mine")
    # per group: the same id in two groups is two messages
    url = fifo(sqs, "grp.fifo", DeduplicationScope="messageGroup",
               FifoThroughputLimit="perMessageGroupId")
    ids = {sqs.send_message(QueueUrl=url, MessageBody=g, MessageGroupId=g,
                            MessageDeduplicationId="d")["MessageId"] for g in "ghg"}
    assert len(ids) == 2
    assert sorted(bodies(sqs, url)[0]) == ["g", "h"]


def test_batch_in_order(sqs):
    url = fifo(sqs)
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "MessageBody": "m%d" % i, "MessageGroupId": "g",
         "MessageDeduplicationId": "d%d" % i} for i in range(5)] + [
        {"Id": "late", "MessageBody": "x", "MessageGroupId": "g",
         "MessageDeduplicationId": "x", "DelaySeconds": 5}])
    assert [e["Id"] for e in out["Successful"]] == ["0", "1", "2", "3", "4"]
    seqs = [int(e["SequenceNumber"]) for e in out["Successful"]]
    assert seqs == sorted(seqs)
    assert out["Failed"][0]["Id"] == "late" and out["Failed"][0]["SenderFault"]
    # ReceiveRequestAttemptId is accepted (and not remembered)
    assert bodies(sqs, url, ReceiveRequestAttemptId="attempt-1")[0] == [
        "m0", "m1", "m2", "m3", "m4"]


def test_cli(emu, sqs):
    url = fifo(sqs, "cli.fifo")
    out = emu.aws_json("sqs", "send-message", "--queue-url", url, "--message-body", "hi",
                       "--message-group-id", "g", "--message-deduplication-id", "1")
    assert len(out["SequenceNumber"]) == 20
    p = emu.aws("sqs", "send-message", "--queue-url", url, "--message-body", "hi", check=False)
    assert p.returncode == 254
    assert "(MissingParameter)" in p.stderr and "MessageGroupId" in p.stderr
    out = emu.aws_json("sqs", "receive-message", "--queue-url", url, "--attribute-names", "All")
    assert out["Messages"][0]["Attributes"]["MessageGroupId"] == "g"
