# SPDX-License-Identifier: MIT
"""SNS subscriptions as integration tests use them: subscription attributes
(Get/Set, Subscribe's Attributes, idempotent Subscribe), the `sqs` protocol
delivering to ddlocal's own queues wrapped or raw, filter policies, and
--sqs-endpoint sending to another SQS engine. boto3 and the AWS CLI v2."""
import hashlib
import json
import os
import re
import sqlite3
import time

import botocore.exceptions
import pytest

from conftest import cli_error, reset
from test_sns import (DEVICE, Receiver, create_alarm_profile, verify_signature, violate,
                      wait_alert_state)

ACCOUNT = "123456789012"
TOPIC_ARN = "arn:aws:sns:us-east-1:%s:Alerts" % ACCOUNT
QUEUE_ARN = "arn:aws:sqs:us-east-1:%s:inbox" % ACCOUNT
LAMBDA_ARN = "arn:aws:lambda:us-east-1:%s:function:f" % ACCOUNT


def error(call, **kwargs):
    """The (Code, Message, HTTP status) of a call that must fail."""
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    err = e.value.response["Error"]
    return err["Code"], err["Message"], e.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture
def sns(emu):
    reset(emu)
    client = emu.client("sns")
    client.create_topic(Name="Alerts")
    return client


def attrs_of(sns, arn):
    return sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]


def test_sqs_subscription_is_confirmed_at_once(sns):
    arn = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN)["SubscriptionArn"]
    assert arn.startswith(TOPIC_ARN + ":")
    assert attrs_of(sns, arn) == {
        "SubscriptionArn": arn, "TopicArn": TOPIC_ARN, "Owner": ACCOUNT, "Protocol": "sqs",
        "Endpoint": QUEUE_ARN, "PendingConfirmation": "false",
        "ConfirmationWasAuthenticated": "true", "RawMessageDelivery": "false"}
    subs = sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == [arn]


def test_set_and_get_attributes(sns):
    arn = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN)["SubscriptionArn"]
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery",
                                    AttributeValue="TrUe")
    assert attrs_of(sns, arn)["RawMessageDelivery"] == "true"
    # the scope alone does not show; with a policy it does, default MessageAttributes
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicyScope",
                                    AttributeValue="MessageBody")
    assert "FilterPolicyScope" not in attrs_of(sns, arn)
    policy = json.dumps({"violationEventType": ["in-alarm"]})
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue=policy)
    got = attrs_of(sns, arn)
    assert (got["FilterPolicy"], got["FilterPolicyScope"]) == (policy, "MessageBody")
    redrive = json.dumps({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:%s:dlq" % ACCOUNT})
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RedrivePolicy",
                                    AttributeValue=redrive)
    assert attrs_of(sns, arn)["RedrivePolicy"] == redrive
    # "" removes a policy, and the scope goes out of sight with it
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                    AttributeValue="")
    got = attrs_of(sns, arn)
    assert "FilterPolicy" not in got and "FilterPolicyScope" not in got


def test_attribute_errors(sns):
    arn = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN)["SubscriptionArn"]
    lam = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="lambda",
                        Endpoint=LAMBDA_ARN)["SubscriptionArn"]
    cases = [
        (arn, "RawMessageDelivery", "test-ValUe",
         "Invalid parameter: RawMessageDelivery: Invalid value [test-ValUe]. "
         "Must be true or false."),
        (arn, "RawMessageDelivery", "", "Invalid parameter: RawMessageDelivery: Invalid value []. "
         "Must be true or false."),
        (arn, "FilterPolicyScope", "RandomValue",
         "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either "
         "MessageBody or MessageAttributes"),
        (arn, "RedrivePolicy", json.dumps({"deadLetterTargetArn": "not-an-arn"}),
         "Invalid parameter: RedrivePolicy: deadLetterTargetArn is an invalid arn"),
        (arn, "Owner", "x", "Invalid parameter: AttributeName"),
        (lam, "RawMessageDelivery", "true",
         "Invalid parameter: Delivery protocol [lambda] does not support raw message delivery."),
    ]
    for sub, name, value, message in cases:
        assert error(sns.set_subscription_attributes, SubscriptionArn=sub, AttributeName=name,
                     AttributeValue=value) == ("InvalidParameter", message, 400), name
    assert error(sns.get_subscription_attributes,
                 SubscriptionArn=TOPIC_ARN + ":0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b") == (
        "NotFound", "Subscription does not exist", 404)
    assert error(sns.set_subscription_attributes,
                 SubscriptionArn=TOPIC_ARN + ":0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                 AttributeName="RawMessageDelivery", AttributeValue="true") == (
        "NotFound", "Subscription does not exist", 404)
    assert attrs_of(sns, arn)["RawMessageDelivery"] == "false"  # nothing changed


def test_filter_policy_errors(sns):
    arn = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN)["SubscriptionArn"]
    flat = json.dumps({"key_a": "value_one"})
    nested = json.dumps({"detail": {"behavior": ["b1"]}})
    assert error(sns.set_subscription_attributes, SubscriptionArn=arn,
                 AttributeName="FilterPolicy", AttributeValue=flat) == (
        "InvalidParameter", 'Invalid parameter: FilterPolicy: "key_a" must be an object or an '
        "array", 400)
    assert error(sns.set_subscription_attributes, SubscriptionArn=arn,
                 AttributeName="FilterPolicy", AttributeValue=nested) == (
        "InvalidParameter", "Invalid parameter: Filter policy scope MessageAttributes does not "
        "support nested filter policy", 400)
    assert error(sns.subscribe, TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "x",
                 Attributes={"FilterPolicy": flat}) == (
        "InvalidParameter", 'Invalid parameter: Attributes Reason: FilterPolicy: "key_a" must '
        "be an object or an array", 400)
    # the scope is applied first, so a nested policy is fine with MessageBody
    body = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "b",
                         Attributes={"FilterPolicy": nested,
                                     "FilterPolicyScope": "MessageBody"})["SubscriptionArn"]
    # and cannot go back to the attribute scope while the policy is nested
    assert error(sns.set_subscription_attributes, SubscriptionArn=body,
                 AttributeName="FilterPolicyScope", AttributeValue="MessageAttributes") == (
        "InvalidParameter", "Invalid parameter: Filter policy scope MessageAttributes does not "
        "support nested filter policy", 400)
    assert attrs_of(sns, body)["FilterPolicyScope"] == "MessageBody"


def test_subscribe_attributes_and_idempotency(sns):
    given = {"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
             "FilterPolicy": json.dumps({"violationEventType": ["in-alarm"]})}
    arn = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN,
                        Attributes=given)["SubscriptionArn"]
    got = attrs_of(sns, arn)
    assert {k: got[k] for k in given} == given
    # the same, a subset, nothing: the same ARN
    for again in (given, {"RawMessageDelivery": "true"}, {}):
        assert sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN,
                             Attributes=again)["SubscriptionArn"] == arn
    assert error(sns.subscribe, TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN,
                 Attributes={"RawMessageDelivery": "false"}) == (
        "InvalidParameter", "Invalid parameter: Attributes Reason: Subscription already exists "
        "with different attributes", 400)
    # a default value equals an attribute never set
    other = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "2")
    assert sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "2",
                         Attributes={"FilterPolicyScope": "MessageAttributes",
                                     "RawMessageDelivery": "false"}
                         )["SubscriptionArn"] == other["SubscriptionArn"]
    assert error(sns.subscribe, TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "3",
                 Attributes={"RawMessageDelivery": "maybe"}) == (
        "InvalidParameter", "Invalid parameter: Attributes Reason: RawMessageDelivery: "
        "Invalid value [maybe]. Must be true or false.", 400)
    assert error(sns.subscribe, TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "3",
                 Attributes={"Nope": "1"}) == (
        "InvalidParameter", "Invalid parameter: Attributes Reason: AttributeName", 400)
    endpoints = [s["Endpoint"] for s in
                 sns.list_subscriptions_by_topic(TopicArn=TOPIC_ARN)["Subscriptions"]]
    assert sorted(endpoints) == [QUEUE_ARN, QUEUE_ARN + "2"]  # refused ones left nothing


def test_sqs_endpoint_rules(sns):
    for endpoint in ("http://127.0.0.1:4566/%s/inbox" % ACCOUNT, "unknown",
                     "arn:aws:sqs:us-east-1:%s" % ACCOUNT):
        assert error(sns.subscribe, TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=endpoint) == (
            "InvalidParameter", "Invalid parameter: SQS endpoint ARN", 400)
    assert error(sns.subscribe, TopicArn=TOPIC_ARN, Protocol="sqs",
                 Endpoint=QUEUE_ARN + ".fifo") == (
        "InvalidParameter", "Invalid parameter: Invalid parameter: Endpoint Reason: FIFO SQS "
        "Queues can not be subscribed to standard SNS topics", 400)


def test_fifo_topic_takes_only_queues(emu, sns):
    """A FIFO topic delivers to SQS queues only (FIFO or standard); AWS
    refuses every other protocol naming it."""
    fifo = sns.create_topic(Name="orders.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    for protocol, endpoint in (("http", "http://127.0.0.1:9/hook"),
                               ("https", "https://127.0.0.1:9/hook"),
                               ("email", "ops@example.com"), ("lambda", LAMBDA_ARN)):
        assert error(sns.subscribe, TopicArn=fifo, Protocol=protocol, Endpoint=endpoint) == (
            "InvalidParameter", "Invalid parameter: Invalid protocol type: " + protocol, 400)
    assert sns.list_subscriptions_by_topic(TopicArn=fifo)["Subscriptions"] == []
    for queue_arn in (QUEUE_ARN, QUEUE_ARN + ".fifo"):
        sub = sns.subscribe(TopicArn=fifo, Protocol="sqs", Endpoint=queue_arn)
        assert sub["SubscriptionArn"].startswith(fifo + ":")
    err = cli_error(emu, "sns", "subscribe", "--topic-arn", fifo, "--protocol", "email-json",
                    "--notification-endpoint", "ops@example.com")
    assert "(InvalidParameter)" in err and "Invalid protocol type: email-json" in err


def test_http_subscription_attributes(sns):
    url = "http://127.0.0.1:9/hook"
    assert sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http",
                         Endpoint=url)["SubscriptionArn"] == "pending confirmation"
    arn = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=url,
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert arn.startswith(TOPIC_ARN + ":")
    got = attrs_of(sns, arn)
    assert (got["PendingConfirmation"], got["ConfirmationWasAuthenticated"]) == ("true", "false")
    effective = json.loads(got["EffectiveDeliveryPolicy"])
    assert effective["healthyRetryPolicy"]["numRetries"] == 3
    assert effective["requestPolicy"] == {"headerContentType": "text/plain; charset=UTF-8"}
    policy = json.dumps({"healthyRetryPolicy": {"numRetries": 5, "minDelayTarget": 1,
                                                "maxDelayTarget": 2}})
    sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="DeliveryPolicy",
                                    AttributeValue=policy)
    got = attrs_of(sns, arn)
    assert got["DeliveryPolicy"] == policy
    assert json.loads(got["EffectiveDeliveryPolicy"])["healthyRetryPolicy"]["numRetries"] == 5


def test_attributes_with_the_cli(emu, sns):
    arn = emu.aws_json("sns", "subscribe", "--topic-arn", TOPIC_ARN, "--protocol", "sqs",
                       "--notification-endpoint", QUEUE_ARN,
                       "--attributes", "RawMessageDelivery=true")["SubscriptionArn"]
    emu.aws("sns", "set-subscription-attributes", "--subscription-arn", arn,
            "--attribute-name", "FilterPolicy", "--attribute-value", '{"k":["v"]}')
    got = emu.aws_json("sns", "get-subscription-attributes", "--subscription-arn", arn)
    assert got["Attributes"]["RawMessageDelivery"] == "true"
    assert got["Attributes"]["FilterPolicy"] == '{"k":["v"]}'
    p = emu.aws("sns", "set-subscription-attributes", "--subscription-arn", arn,
                "--attribute-name", "RawMessageDelivery", "--attribute-value", "yes",
                check=False)
    assert p.returncode == 254 and "(InvalidParameter)" in p.stderr
    assert "Invalid value [yes]" in p.stderr


# ---- deliveries to queues -------------------------------------------------

def receive_all(sqs, url, n, timeout=10):
    """Receive until n messages came (each deleted), then check no more does."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n:
        assert time.monotonic() < deadline, "got %d of %d messages" % (len(got), n)
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"]).get("Messages", [])
        for m in out:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        got += out
        if not out:
            time.sleep(0.05)
    return got


def queue(emu, name="inbox"):
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"]
    return sqs, url, arn


def test_publish_reaches_a_queue_wrapped_and_raw(emu, sns):
    sqs, url, arn = queue(emu)
    _, raw_url, raw_arn = queue(emu, "raw")
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=arn)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=raw_arn,
                  Attributes={"RawMessageDelivery": "true"})
    message_id = sns.publish(TopicArn=TOPIC_ARN, Message='{"hello": 1}',
                             Subject="greeting")["MessageId"]
    [m] = receive_all(sqs, url, 1)
    body = json.loads(m["Body"])
    assert list(body) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                          "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"]
    assert (body["Type"], body["MessageId"], body["TopicArn"], body["Subject"],
            body["Message"]) == ("Notification", message_id, TOPIC_ARN, "greeting",
                                 '{"hello": 1}')
    assert m["MD5OfBody"] == hashlib.md5(m["Body"].encode()).hexdigest()
    verify_signature(body)
    [r] = receive_all(sqs, raw_url, 1)
    assert r["Body"] == '{"hello": 1}'


def test_fifo_topic_to_fifo_queue_carries_group_dedup_and_sequence(emu, sns):
    sqs = emu.client("sqs")
    topic = sns.create_topic(Name="orders.fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    urls, arns = {}, {}
    for name, attrs in (("f.fifo", {"FifoQueue": "true"}), ("fraw.fifo", {"FifoQueue": "true"}),
                        ("plain", {})):
        urls[name] = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
        arns[name] = "arn:aws:sqs:us-east-1:%s:%s" % (ACCOUNT, name)
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["f.fifo"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["fraw.fifo"],
                  Attributes={"RawMessageDelivery": "true"})
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arns["plain"])
    first = sns.publish(TopicArn=topic, Message="Test", MessageGroupId="g1")
    second = sns.publish(TopicArn=topic, Message="two", MessageGroupId="g2",
                         MessageDeduplicationId="d2")
    names = ["MessageGroupId", "MessageDeduplicationId", "SequenceNumber"]
    got = sqs.receive_message(QueueUrl=urls["f.fifo"], MaxNumberOfMessages=10,
                              AttributeNames=names)["Messages"]
    assert len(got) == 2
    bodies = [json.loads(m["Body"]) for m in got]
    assert [list(b)[:3] for b in bodies] == [["Type", "MessageId", "SequenceNumber"]] * 2
    assert [(b["MessageId"], b["SequenceNumber"], b["Message"]) for b in bodies] == [
        (first["MessageId"], first["SequenceNumber"], "Test"),
        (second["MessageId"], second["SequenceNumber"], "two")]
    assert not any(k in bodies[0] for k in ("Signature", "SignatureVersion", "SigningCertURL"))
    assert "UnsubscribeURL" in bodies[0]
    sha = "532eaabd9574880dbf76b9b8cc00832c20a6ec113d682299550d7a6e0f345e25"
    assert [(m["Attributes"]["MessageGroupId"], m["Attributes"]["MessageDeduplicationId"])
            for m in got] == [("g1", sha), ("g2", "d2")]
    seqs = [int(m["Attributes"]["SequenceNumber"]) for m in got]
    assert seqs[0] < seqs[1]
    raw = sqs.receive_message(QueueUrl=urls["fraw.fifo"], MaxNumberOfMessages=10,
                              AttributeNames=names)["Messages"]
    assert [(m["Body"], m["Attributes"]["MessageGroupId"]) for m in raw] == [
        ("Test", "g1"), ("two", "g2")]
    # a standard queue gets no group id
    [plain, _] = sqs.receive_message(QueueUrl=urls["plain"], MaxNumberOfMessages=10,
                                     AttributeNames=["All"])["Messages"]
    assert "MessageGroupId" not in plain["Attributes"]
    assert json.loads(plain["Body"])["SequenceNumber"] == first["SequenceNumber"]


def drain(sqs, url, n):
    """One receive (no wait) that must give exactly n messages, deleted."""
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    assert len(got) == n
    sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    return got


def test_publish_answers_once_its_messages_are_in_the_queues(emu, sns):
    """Publish and PublishBatch answer after the broker has put their
    messages into the emulator's own queues, so one receive right after
    them (no waiting, no retry) finds every message, as a CI suite expects."""
    sqs, url, arn = queue(emu)
    _, raw_url, raw_arn = queue(emu, "raw")
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=arn)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=raw_arn,
                  Attributes={"RawMessageDelivery": "true"})
    for round in range(3):
        sns.publish(TopicArn=TOPIC_ARN, Message="one %d" % round)
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  VisibilityTimeout=0)["Messages"]
        assert [json.loads(m["Body"])["Message"] for m in got] == ["one %d" % round]
        drain(sqs, url, 1)
        drain(sqs, raw_url, 1)
        sns.publish_batch(TopicArn=TOPIC_ARN, PublishBatchRequestEntries=[
            {"Id": "e%d" % i, "Message": "m%d" % i} for i in range(10)])
        got = drain(sqs, raw_url, 10)
        assert sorted(m["Body"] for m in got) == sorted("m%d" % i for i in range(10))
        drain(sqs, url, 10)


def test_body_filter_keeps_messages_back(emu, sns):
    sqs, url, arn = queue(emu)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true", "FilterPolicyScope": "MessageBody",
                              "FilterPolicy": json.dumps({"violationEventType": ["in-alarm"]})})
    for kind in ("alarm-cleared", "in-alarm", "nothing", "in-alarm"):
        sns.publish(TopicArn=TOPIC_ARN, Message=json.dumps({"violationEventType": kind}))
    sns.publish(TopicArn=TOPIC_ARN, Message="not json")
    got = receive_all(sqs, url, 2)
    assert [json.loads(m["Body"])["violationEventType"] for m in got] == ["in-alarm"] * 2
    # delivery keeps order per subscription: a later message that passes
    # arrives after every one before it was judged
    sns.publish(TopicArn=TOPIC_ARN, Message=json.dumps({"violationEventType": "in-alarm",
                                                        "last": True}))
    [last] = receive_all(sqs, url, 1)
    assert json.loads(last["Body"])["last"] is True


def test_raw_and_filtered_http_delivery(emu, sns):
    r = Receiver()
    try:
        sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=r.url)
        conf = json.loads(r.wait(1, kind="SubscriptionConfirmation")[0]["body"])
        arn = sns.confirm_subscription(TopicArn=TOPIC_ARN, Token=conf["Token"])["SubscriptionArn"]
        for name, value in (("RawMessageDelivery", "true"), ("FilterPolicyScope", "MessageBody"),
                            ("FilterPolicy", json.dumps({"k": [{"prefix": "keep"}]}))):
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName=name,
                                            AttributeValue=value)
        for v in ("drop-1", "keep-1", "drop-2", "keep-2", "drop-3", "keep-3"):
            sns.publish(TopicArn=TOPIC_ARN, Message=json.dumps({"k": v}))
        # in order per subscription: once keep-3 is in, every drop was judged
        r.wait(3, kind="Notification")
        got = r.of("Notification")
        assert [json.loads(g["body"])["k"] for g in got] == ["keep-1", "keep-2", "keep-3"]
        h = got[0]["headers"]
        assert h["x-amz-sns-rawdelivery"] == "true"
        assert h["x-amz-sns-subscription-arn"] == arn
        assert h["content-type"] == "text/plain; charset=UTF-8"
    finally:
        r.close()


def test_detect_alert_reaches_queues_wrapped_raw_and_filtered(emu, sns):
    sqs, url, arn = queue(emu)
    _, raw_url, raw_arn = queue(emu, "raw")
    _, cleared_url, cleared_arn = queue(emu, "cleared")
    wrapped = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=arn)["SubscriptionArn"]
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=raw_arn,
                  Attributes={"RawMessageDelivery": "true"})
    cleared = sns.subscribe(
        TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=cleared_arn,
        Attributes={"FilterPolicyScope": "MessageBody",
                    "FilterPolicy": json.dumps({"violationEventType": ["alarm-cleared"]})}
    )["SubscriptionArn"]
    create_alarm_profile(emu, topic_arn=TOPIC_ARN)
    emu.sync()
    violate(emu)
    [m] = receive_all(sqs, url, 1)
    body = json.loads(m["Body"])
    assert body["Type"] == "Notification" and body["TopicArn"] == TOPIC_ARN
    alert = json.loads(body["Message"])
    assert alert["violationEventType"] == "in-alarm" and alert["thingName"] == DEVICE
    verify_signature(body)
    [r] = receive_all(sqs, raw_url, 1)
    assert json.loads(r["Body"]) == alert
    view = wait_alert_state(emu, lambda a: a and len(a[0]["deliveries"]) == 3 and all(
        d["status"] != "pending" for d in a[0]["deliveries"]))
    status = {d["subscriptionArn"]: d["status"] for d in view[0]["deliveries"]}
    assert status[wrapped] == "delivered" and status[cleared] == "filtered"
    assert sqs.receive_message(QueueUrl=cleared_url).get("Messages", []) == []


def alert_to_missing_queue(make_emulator, *args):
    """An emulator whose Detect alert goes to an sqs subscription of a queue
    that does not exist (yet)."""
    emu = make_emulator("--manual-clock", *args).start()
    sns = emu.client("sns")
    sns.create_topic(Name="Alerts")
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN)
    create_alarm_profile(emu, topic_arn=TOPIC_ARN)
    emu.sync()
    violate(emu)
    return emu


def test_missing_queue_is_retried_then_delivered(make_emulator):
    emu = alert_to_missing_queue(make_emulator, "--retry-delay-ms", "100",
                                 "--delivery-attempts", "100")
    view = wait_alert_state(emu, lambda a: a and a[0]["deliveries"] and
                            a[0]["deliveries"][0]["attempts"] >= 2)
    d = view[0]["deliveries"][0]
    assert d["status"] == "pending"
    assert d["lastError"] == "queue %s does not exist" % QUEUE_ARN
    sqs, url, arn = queue(emu)
    [m] = receive_all(sqs, url, 1)
    assert json.loads(json.loads(m["Body"])["Message"])["violationEventType"] == "in-alarm"
    d = wait_alert_state(emu, lambda a: a[0]["deliveries"][0]["status"] == "delivered")[0][
        "deliveries"][0]
    assert d["lastError"] is None and d["attempts"] >= 3


def test_missing_queue_fails_after_the_attempts(make_emulator):
    emu = alert_to_missing_queue(make_emulator, "--retry-delay-ms", "50",
                                 "--delivery-attempts", "3")
    d = wait_alert_state(emu, lambda a: a and a[0]["deliveries"] and
                         a[0]["deliveries"][0]["status"] == "failed")[0]["deliveries"][0]
    assert d["attempts"] == 3
    assert d["lastError"] == "queue %s does not exist" % QUEUE_ARN


def test_sqs_endpoint_sends_to_another_engine(make_emulator):
    engine = make_emulator("--manual-clock").start()
    emu = make_emulator("--manual-clock", "--sqs-endpoint", engine.endpoint,
                        "--retry-delay-ms", "100", "--delivery-attempts", "100").start()
    sns = emu.client("sns")
    sns.create_topic(Name="Alerts")
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint=QUEUE_ARN + "-raw",
                  Attributes={"RawMessageDelivery": "true"})
    create_alarm_profile(emu, topic_arn=TOPIC_ARN)
    emu.sync()
    violate(emu)
    # the engine has no queue yet: retried, never lost
    view = wait_alert_state(emu, lambda a: a and len(a[0]["deliveries"]) == 2 and all(
        d["attempts"] >= 1 for d in a[0]["deliveries"]))
    assert all(d["status"] == "pending" and d["lastHttpStatus"] == 400
               for d in view[0]["deliveries"])
    sqs, url, _ = queue(engine)
    _, raw_url, _ = queue(engine, "inbox-raw")
    [m] = receive_all(sqs, url, 1)
    body = json.loads(m["Body"])
    assert body["TopicArn"] == TOPIC_ARN
    assert json.loads(body["Message"])["violationEventType"] == "in-alarm"
    verify_signature(body)
    [r] = receive_all(sqs, raw_url, 1)
    assert r["Body"] == body["Message"]
    wait_alert_state(emu, lambda a: all(d["status"] == "delivered"
                                        for d in a[0]["deliveries"]))
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    # nothing landed in the sender's own SQS
    assert emu.client("sqs").list_queues().get("QueueUrls", []) == []


def test_sqs_endpoint_gets_attributes_and_fifo_ids(make_emulator):
    engine = make_emulator("--manual-clock").start()
    emu = make_emulator("--manual-clock", "--sqs-endpoint", engine.endpoint).start()
    sqs = engine.client("sqs")
    fifo_url = sqs.create_queue(QueueName="q.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    raw_url = sqs.create_queue(QueueName="raw")["QueueUrl"]
    sns = emu.client("sns")
    topic = sns.create_topic(Name="t.fifo", Attributes={
        "FifoTopic": "true", "ContentBasedDeduplication": "true"})["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:%s:q.fifo" %
                  ACCOUNT, Attributes={"RawMessageDelivery": "true"})
    sns.create_topic(Name="Alerts")
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs", Endpoint="arn:aws:sqs:us-east-1:%s:raw" %
                  ACCOUNT, Attributes={"RawMessageDelivery": "true"})
    sns.publish(TopicArn=topic, Message="Test", MessageGroupId="g")
    sns.publish(TopicArn=TOPIC_ARN, Message="m", MessageAttributes={
        "k": {"DataType": "String", "StringValue": "v"}})
    [f] = sqs.receive_message(QueueUrl=fifo_url, AttributeNames=["All"],
                              WaitTimeSeconds=5)["Messages"]
    assert f["Body"] == "Test"
    assert (f["Attributes"]["MessageGroupId"], f["Attributes"]["MessageDeduplicationId"]) == (
        "g", "532eaabd9574880dbf76b9b8cc00832c20a6ec113d682299550d7a6e0f345e25")
    [r] = receive_all(sqs, raw_url, 1)
    assert (r["Body"], r["MessageAttributes"]) == (
        "m", {"k": {"DataType": "String", "StringValue": "v"}})


def sink_messages(emu, name, n, timeout=10):
    """The sink's messages once it holds n (each body parsed)."""
    deadline = time.monotonic() + timeout
    while True:
        status, doc = emu.get("/_ddlocal/sink/" + name)
        assert status == 200
        if len(doc["messages"]) >= n:
            return [json.loads(m["body"]) for m in doc["messages"]]
        assert time.monotonic() < deadline, doc["messages"]
        time.sleep(0.05)


def test_other_partitions_deliver_too(make_emulator):
    """Topics of two other accounts (and another region) deliver as the
    broker's own do: http confirmations and notifications, built-in
    queues, and a queue retried until it exists."""
    emu = make_emulator("--manual-clock", "--retry-delay-ms", "100").start()
    for account, region in (("111122223333", "us-east-1"), ("444455556666", "eu-west-1")):
        sns = emu.client("sns", region=region, key=account)
        sqs = emu.client("sqs", region=region, key=account)
        topic = sns.create_topic(Name="Alerts")["TopicArn"]
        assert topic == "arn:aws:sns:%s:%s:Alerts" % (region, account)
        sink = "sink-%s" % account
        sns.subscribe(TopicArn=topic, Protocol="http",
                      Endpoint=emu.endpoint + "/_ddlocal/sink/" + sink)
        [confirm] = sink_messages(emu, sink, 1)
        assert (confirm["Type"], confirm["TopicArn"]) == ("SubscriptionConfirmation", topic)
        deadline = time.monotonic() + 10
        while sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"][0][
                "SubscriptionArn"] == "PendingConfirmation":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        queue_arn = "arn:aws:sqs:%s:%s:inbox" % (region, account)
        later_arn = "arn:aws:sqs:%s:%s:later" % (region, account)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=later_arn,
                      Attributes={"RawMessageDelivery": "true"})
        message_id = sns.publish(TopicArn=topic, Message="hello " + account)["MessageId"]
        note = sink_messages(emu, sink, 2)[1]
        assert (note["Type"], note["MessageId"], note["Message"]) == (
            "Notification", message_id, "hello " + account)
        verify_signature(note)
        [m] = sqs.receive_message(QueueUrl=url)["Messages"]
        assert json.loads(m["Body"])["Message"] == "hello " + account
        later = sqs.create_queue(QueueName="later")["QueueUrl"]
        [r] = receive_all(sqs, later, 1)
        assert r["Body"] == "hello " + account
    # the broker's own partition saw none of it
    assert emu.client("sns").list_topics()["Topics"] == []


def test_publish_reaches_queues_of_other_partitions(emu):
    """A topic in us-west-1 delivers to queues in us-west-2, of its own
    account and of another one, before Publish and PublishBatch answer:
    wrapped, raw with attributes, and filtered out."""
    reset(emu)
    sns = emu.client("sns", region="us-west-1")
    topic = sns.create_topic(Name="Alerts")["TopicArn"]
    assert topic == "arn:aws:sns:us-west-1:%s:Alerts" % ACCOUNT
    queues = {}
    for account, key in ((ACCOUNT, "test"), ("210987654321", "210987654321")):
        sqs = emu.client("sqs", region="us-west-2", key=key)
        for name in ("inbox", "raw", "filtered"):
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = "arn:aws:sqs:us-west-2:%s:%s" % (account, name)
            queues[account, name] = (sqs, url)
            attrs = {"RawMessageDelivery": "true"} if name == "raw" else {}
            if name == "filtered":
                attrs = {"FilterPolicy": json.dumps({"kind": ["other"]})}
            sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attrs)
    message_id = sns.publish(TopicArn=topic, Message="hello", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "alert"}})["MessageId"]
    batch = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "second"}])
    assert [e["Id"] for e in batch["Successful"]] == ["a"] and batch["Failed"] == []
    for account in (ACCOUNT, "210987654321"):
        sqs, url = queues[account, "inbox"]
        # at once: no wait for the delivery thread
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        bodies = [json.loads(m["Body"]) for m in got]
        assert sorted(b["Message"] for b in bodies) == ["hello", "second"]
        first = [b for b in bodies if b["Message"] == "hello"][0]
        assert (first["MessageId"], first["TopicArn"]) == (message_id, topic)
        verify_signature(first)
        sqs, url = queues[account, "raw"]
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                  MessageAttributeNames=["All"])["Messages"]
        assert sorted(m["Body"] for m in got) == ["hello", "second"]
        [hello] = [m for m in got if m["Body"] == "hello"]
        assert hello["MessageAttributes"] == {
            "kind": {"DataType": "String", "StringValue": "alert"}}
        sqs, url = queues[account, "filtered"]
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    # the topic's own partition has no such queues, and nothing leaked there
    home = emu.client("sqs", region="us-west-1")
    assert home.list_queues().get("QueueUrls", []) == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        home.get_queue_url(QueueName="inbox")
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"


def test_delivery_thread_reaches_queues_of_other_partitions(make_emulator):
    """A queue of another partition that does not exist yet at Publish is
    retried by the delivery thread until it does."""
    emu = make_emulator("--manual-clock", "--retry-delay-ms", "100").start()
    sns = emu.client("sns", region="us-west-1")
    topic = sns.create_topic(Name="Alerts")["TopicArn"]
    sqs = emu.client("sqs", region="us-west-2", key="210987654321")
    sqs.create_queue(QueueName="other")  # the partition's database exists
    sns.subscribe(TopicArn=topic, Protocol="sqs",
                  Endpoint="arn:aws:sqs:us-west-2:210987654321:later")
    message_id = sns.publish(TopicArn=topic, Message="late")["MessageId"]
    url = sqs.create_queue(QueueName="later")["QueueUrl"]
    [m] = receive_all(sqs, url, 1)
    assert (json.loads(m["Body"])["MessageId"], json.loads(m["Body"])["Message"]) == (
        message_id, "late")


def wait_attempts(emu, n, timeout=10):
    """Wait until the plugin has recorded n attempts of the one delivery."""
    db = sqlite3.connect(os.path.join(emu.data_dir, "ddlocal.db"), timeout=5)
    deadline = time.monotonic() + timeout
    try:
        while db.execute("SELECT max(attempts) FROM sns_deliveries").fetchone()[0] != n:
            assert time.monotonic() < deadline, "the plugin did not record %d attempts" % n
            time.sleep(0.01)
    finally:
        db.close()


def test_delivery_policy_and_dead_letter_queue(make_emulator):
    """A subscription's DeliveryPolicy spaces its retries on the emulator's
    clock (not --retry-delay-ms), and its RedrivePolicy takes the message
    once they are over."""
    emu = make_emulator("--manual-clock", "--retry-delay-ms", "3600000").start()
    receiver = Receiver(lambda req, n: 200 if req["headers"].get(
        "x-amz-sns-message-type") == "SubscriptionConfirmation" else 500)
    try:
        sns = emu.client("sns")
        sns.create_topic(Name="Alerts")
        sqs, dlq_url, dlq_arn = queue(emu, "dlq")
        policy = {"healthyRetryPolicy": {"numRetries": 3, "numNoDelayRetries": 1,
                                         "minDelayTarget": 10, "maxDelayTarget": 30,
                                         "backoffFunction": "linear"}}
        sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=receiver.url, Attributes={
            "DeliveryPolicy": json.dumps(policy),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn})})
        [confirm] = receiver.wait(1, kind="SubscriptionConfirmation")
        sns.confirm_subscription(TopicArn=TOPIC_ARN,
                                 Token=json.loads(confirm["body"])["Token"])
        message_id = sns.publish(TopicArn=TOPIC_ARN, Message="boom")["MessageId"]
        # the first attempt, then the no-delay retry at once
        receiver.wait(2, kind="Notification")
        # The receiver counts a request before it answers 500: the clock
        # moves only once the plugin has recorded that attempt, or the
        # retry would be spaced from the moved clock (the clock's barrier
        # waits for evaluation, not for deliveries in flight).
        wait_attempts(emu, 2)
        # the backoff phase: 2 retries from 10 to 30 s, linear: 20 s, then 30 s
        emu.advance(19)
        time.sleep(0.5)
        assert len(receiver.of("Notification")) == 2
        emu.advance(1)
        receiver.wait(3, kind="Notification")
        assert sqs.receive_message(QueueUrl=dlq_url).get("Messages", []) == []
        emu.advance(30)
        receiver.wait(4, kind="Notification")
        [m] = receive_all(sqs, dlq_url, 1)
        body = json.loads(m["Body"])
        assert (body["Type"], body["MessageId"], body["Message"]) == (
            "Notification", message_id, "boom")
        # AWS's three attributes say why (boto3 checked their MD5)
        attrs = m["MessageAttributes"]
        assert sorted(attrs) == ["ErrorCode", "ErrorMessage", "RequestID"]
        assert attrs["ErrorCode"] == {"DataType": "String", "StringValue": "500"}
        assert attrs["ErrorMessage"]["DataType"] == "String"
        assert attrs["ErrorMessage"]["StringValue"]
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            attrs["RequestID"]["StringValue"])
        time.sleep(0.3)
        assert len(receiver.of("Notification")) == 4
    finally:
        receiver.close()


def test_launcher_refuses_a_bad_sqs_endpoint(make_emulator):
    p = make_emulator("--sqs-endpoint", "ftp://x").run_to_end()
    assert p.returncode != 0 and "--sqs-endpoint must be an http(s) URL" in p.stderr
