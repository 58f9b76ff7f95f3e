# SPDX-License-Identifier: MIT
"""SNS subscriptions as integration tests use them: subscription attributes
(Get/Set, Subscribe's Attributes, idempotent Subscribe), the `sqs` protocol
delivering to ddlocal's own queues wrapped or raw, filter policies, and
--sqs-endpoint sending to another SQS engine. boto3 and the AWS CLI v2."""
import json

import botocore.exceptions
import pytest

from conftest import reset

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
