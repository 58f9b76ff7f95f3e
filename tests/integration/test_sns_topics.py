# SPDX-License-Identifier: MIT
"""SNS topics and publishing through boto3 and the AWS CLI v2: CreateTopic's
attributes, idempotency and name rules, Get/SetTopicAttributes with AWS's
full set, DeleteTopic, paging of the three list calls, Publish's rules
(Subject, size, MessageStructure, message attributes, targets) and
PublishBatch, each with the error AWS answers (reference/sns-more.md 5 and
6). Tags are in test_tags.py."""
import json
import time

import botocore.exceptions
import pytest

from conftest import cli_error, reset

ACCOUNT = "123456789012"
ARN = "arn:aws:sns:us-east-1:%s:" % ACCOUNT


@pytest.fixture
def sns(emu):
    return reset(emu, "sns")


def error(excinfo):
    """(HTTP status, code, message) of a ClientError."""
    r = excinfo.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"], r["Error"]["Message"]


def refused(call, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    return error(e)


def invalid(text):
    return 400, "InvalidParameter", "Invalid parameter: " + text


# ---- topics ---------------------------------------------------------------

def test_topic_attributes_default_set(emu, sns):
    arn = sns.create_topic(Name="alerts", Attributes={"DisplayName": "Alerts"})["TopicArn"]
    assert arn == ARN + "alerts"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert sorted(attrs) == ["DisplayName", "EffectiveDeliveryPolicy", "Owner", "Policy",
                             "SubscriptionsConfirmed", "SubscriptionsDeleted",
                             "SubscriptionsPending", "TopicArn"]
    assert attrs["DisplayName"] == "Alerts" and attrs["Owner"] == ACCOUNT
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"],
            attrs["SubscriptionsDeleted"]) == ("0", "0", "0")
    policy = json.loads(attrs["Policy"])
    assert policy["Version"] == "2008-10-17" and policy["Id"] == "__default_policy_ID"
    [st] = policy["Statement"]
    assert st["Sid"] == "__default_statement_ID" and st["Principal"] == {"AWS": "*"}
    assert st["Resource"] == arn and "SNS:Publish" in st["Action"] and len(st["Action"]) == 8
    assert st["Condition"] == {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
    eff = json.loads(attrs["EffectiveDeliveryPolicy"])
    assert eff["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 3
    assert eff["http"]["defaultRequestPolicy"] == {"headerContentType":
                                                   "text/plain; charset=UTF-8"}
    sns.subscribe(TopicArn=arn, Protocol="lambda",
                  Endpoint="arn:aws:lambda:us-east-1:%s:function:f" % ACCOUNT)
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/x")
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["SubscriptionsConfirmed"], attrs["SubscriptionsPending"]) == ("1", "1")


def test_set_topic_attributes(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    delivery = {"http": {"defaultHealthyRetryPolicy": {"numRetries": 7}}}
    for name, value in (("DeliveryPolicy", json.dumps(delivery)), ("SignatureVersion", "2"),
                        ("TracingConfig", "Active"), ("KmsMasterKeyId", "alias/aws/sns"),
                        ("MaximumMessageSize", "1048576"), ("DisplayName", "D"),
                        ("Policy", '{"Version":"2012-10-17","Statement":[]}'),
                        ("HTTPSuccessFeedbackSampleRate", "50")):
        sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attrs["DeliveryPolicy"]) == delivery
    eff = json.loads(attrs["EffectiveDeliveryPolicy"])["http"]
    assert eff["defaultHealthyRetryPolicy"] == {"numRetries": 7}
    assert eff["disableSubscriptionOverrides"] is False  # filled from the default
    assert (attrs["SignatureVersion"], attrs["TracingConfig"], attrs["KmsMasterKeyId"],
            attrs["MaximumMessageSize"], attrs["DisplayName"]) == (
        "2", "Active", "alias/aws/sns", "1048576", "D")
    assert json.loads(attrs["Policy"])["Statement"] == []
    assert attrs["HTTPSuccessFeedbackSampleRate"] == "50"

    set_ = sns.set_topic_attributes
    for name, value, message in (
            ("FifoTopic", "true", "AttributeName"), ("Colour", "x", "AttributeName"),
            ("SignatureVersion", "3", "SignatureVersion must be 1 or 2"),
            ("TracingConfig", "On", "TracingConfig: Invalid value [On]. Must be PassThrough "
                                    "or Active"),
            ("MaximumMessageSize", "1048577", "MaximumMessageSize: Invalid value [1048577]. "
                                              "Must be an integer from 1024 to 1048576"),
            ("MaximumMessageSize", "1023", "MaximumMessageSize: Invalid value [1023]. "
                                           "Must be an integer from 1024 to 1048576"),
            ("Policy", "{not json", "Policy: failed to parse JSON"),
            ("DeliveryPolicy", "[]", "DeliveryPolicy: failed to parse JSON")):
        assert refused(set_, TopicArn=arn, AttributeName=name, AttributeValue=value) == \
            invalid(message), name
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SignatureVersion"] == "2"
    assert refused(set_, TopicArn=ARN + "nope", AttributeName="DisplayName",
                   AttributeValue="x") == (404, "NotFound", "Topic does not exist")
    # A topic ARN of another region, or one that is not an ARN.
    for call in (sns.get_topic_attributes, sns.delete_topic):
        assert refused(call, TopicArn=arn.replace("us-east-1", "eu-west-1")) == \
            invalid("TopicArn")
        assert refused(call, TopicArn="test-topic") == \
            invalid("TopicArn Reason: An ARN must have at least 6 elements, not 1")
    err = cli_error(emu, "sns", "set-topic-attributes", "--topic-arn", arn,
                    "--attribute-name", "TracingConfig", "--attribute-value", "Off")
    assert "(InvalidParameter)" in err and "TracingConfig: Invalid value [Off]" in err
    emu.aws("sns", "set-topic-attributes", "--topic-arn", arn,
            "--attribute-name", "DisplayName", "--attribute-value", "From the CLI")
    out = emu.aws_json("sns", "get-topic-attributes", "--topic-arn", arn)
    assert out["Attributes"]["DisplayName"] == "From the CLI"


def test_create_topic_idempotency_and_names(emu, sns):
    given = {"DisplayName": "X", "SignatureVersion": "2"}
    arn = sns.create_topic(Name="t", Attributes=given)["TopicArn"]
    # The same attributes, a subset, none, or FifoTopic=false: the same topic.
    for attrs in (given, {"DisplayName": "X"}, {}, {"FifoTopic": "false"}):
        assert sns.create_topic(Name="t", Attributes=attrs)["TopicArn"] == arn
    for attrs in ({"DisplayName": "Y"}, {"TracingConfig": "Active"}):
        assert refused(sns.create_topic, Name="t", Attributes=attrs) == invalid(
            "Attributes Reason: Topic already exists with different attributes")
    assert "FifoTopic" not in sns.get_topic_attributes(TopicArn=arn)["Attributes"]

    assert sns.create_topic(Name="a" * 256)["TopicArn"] == ARN + "a" * 256
    for name in ("a" * 257, "", "with space", "semi;colon", "d.ot"):
        assert refused(sns.create_topic, Name=name) == invalid("Topic Name"), name
    # A FIFO topic's name ends in .fifo, and only a FIFO topic's does.
    for name, attrs in (("q.fifo", {}), ("q", {"FifoTopic": "true"}),
                        ("q.b.fifo", {"FifoTopic": "true"})):
        assert refused(sns.create_topic, Name=name, Attributes=attrs) == invalid("Topic Name")
    assert refused(sns.create_topic, Name="q", Attributes={"ContentBasedDeduplication": "true"}) \
        == invalid("Attributes Reason: ContentBasedDeduplication is only valid for FIFO topics")
    assert refused(sns.create_topic, Name="q", Attributes={"SignatureVersion": "9"}) == \
        invalid("SignatureVersion must be 1 or 2")
    assert sorted(t["TopicArn"] for t in sns.list_topics()["Topics"]) == [ARN + "a" * 256, arn]

    # Deleting is idempotent; a deleted topic's attributes go with it.
    sns.delete_topic(TopicArn=arn)
    sns.delete_topic(TopicArn=arn)
    assert refused(sns.get_topic_attributes, TopicArn=arn) == \
        (404, "NotFound", "Topic does not exist")
    assert sns.create_topic(Name="t", Attributes={"DisplayName": "Y"})["TopicArn"] == arn

    out = emu.aws_json("sns", "create-topic", "--name", "cli",
                       "--attributes", "DisplayName=Cli,SignatureVersion=2")
    assert out == {"TopicArn": ARN + "cli"}
    err = cli_error(emu, "sns", "create-topic", "--name", "cli", "--attributes", "DisplayName=No")
    assert "Topic already exists with different attributes" in err
    err = cli_error(emu, "sns", "create-topic", "--name", "x.fifo")
    assert "(InvalidParameter)" in err and "Invalid parameter: Topic Name" in err


def test_fifo_topics(emu, sns):
    arn = sns.create_topic(Name="q.fifo", Attributes={"FifoTopic": "true"})["TopicArn"]
    assert arn == ARN + "q.fifo"
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    assert (attrs["FifoTopic"], attrs["ContentBasedDeduplication"]) == ("true", "false")
    assert sns.create_topic(Name="q.fifo", Attributes={"FifoTopic": "True"})["TopicArn"] == arn
    sns.set_topic_attributes(TopicArn=arn, AttributeName="FifoThroughputScope",
                             AttributeValue="MessageGroup")
    assert refused(sns.set_topic_attributes, TopicArn=arn, AttributeName="FifoTopic",
                   AttributeValue="false") == invalid("AttributeName")
    assert refused(sns.set_topic_attributes, TopicArn=arn,
                   AttributeName="ContentBasedDeduplication", AttributeValue="yes") == invalid(
        "ContentBasedDeduplication: Invalid value [yes]. Must be true or false")

    pub = sns.publish
    assert refused(pub, TopicArn=arn, Message="m") == invalid(
        "The MessageGroupId parameter is required for FIFO topics")
    assert refused(pub, TopicArn=arn, Message="m", MessageGroupId="g") == invalid(
        "The topic should either have ContentBasedDeduplication enabled or "
        "MessageDeduplicationId provided explicitly")
    # A deduplication id seen within 5 minutes answers the first message.
    first = pub(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    assert len(first["SequenceNumber"]) == 20
    again = pub(TopicArn=arn, Message="other", MessageGroupId="g", MessageDeduplicationId="d1")
    assert (again["MessageId"], again["SequenceNumber"]) == \
        (first["MessageId"], first["SequenceNumber"])
    second = pub(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d2")
    assert int(second["SequenceNumber"]) == int(first["SequenceNumber"]) + 1
    emu.advance(301)
    later = pub(TopicArn=arn, Message="m", MessageGroupId="g", MessageDeduplicationId="d1")
    assert later["MessageId"] != first["MessageId"]
    assert int(later["SequenceNumber"]) == int(second["SequenceNumber"]) + 1
    # With content-based deduplication the text is the key.
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication",
                             AttributeValue="true")
    a = pub(TopicArn=arn, Message="same", MessageGroupId="g")
    assert pub(TopicArn=arn, Message="same", MessageGroupId="h")["MessageId"] == a["MessageId"]
    assert pub(TopicArn=arn, Message="not same", MessageGroupId="g")["MessageId"] != \
        a["MessageId"]

    out = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=[
        {"Id": "a", "Message": "b1", "MessageGroupId": "g"},
        {"Id": "b", "Message": "b2", "MessageGroupId": "g"}])
    seqs = [int(e["SequenceNumber"]) for e in out["Successful"]]
    assert seqs[1] == seqs[0] + 1
    assert refused(sns.publish_batch, TopicArn=arn,
                   PublishBatchRequestEntries=[{"Id": "a", "Message": "1"}]) == invalid(
        "The MessageGroupId parameter is required for FIFO topics")
    # Booleans in any case, as Python's str(False) sends them.
    other = sns.create_topic(Name="b.fifo", Attributes={
        "FifoTopic": "True", "ContentBasedDeduplication": "False"})["TopicArn"]
    assert refused(pub, TopicArn=other, Message="m", MessageGroupId="g")[2].endswith(
        "MessageDeduplicationId provided explicitly")
    out = emu.aws_json("sns", "publish", "--topic-arn", arn, "--message", "cli",
                       "--message-group-id", "g", "--message-deduplication-id", "c1")
    assert out["SequenceNumber"] and out["MessageId"]


def test_add_and_remove_permission(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    sns.add_permission(TopicArn=arn, Label="one", AWSAccountId=["999999999999"],
                       ActionName=["Publish"])
    sns.add_permission(TopicArn=arn, Label="two", AWSAccountId=["888888888888", "999999999999"],
                       ActionName=["Publish", "Subscribe"])
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    default, one, two = policy["Statement"]
    assert default["Sid"] == "__default_statement_ID"
    assert one == {"Sid": "one", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                   "Action": "SNS:Publish", "Resource": arn}
    assert two["Principal"] == {"AWS": ["arn:aws:iam::888888888888:root",
                                        "arn:aws:iam::999999999999:root"]}
    assert two["Action"] == ["SNS:Publish", "SNS:Subscribe"]
    assert refused(sns.add_permission, TopicArn=arn, Label="one", AWSAccountId=["1" * 12],
                   ActionName=["Publish"]) == (400, "InvalidParameter", "Statement already exists")
    assert refused(sns.add_permission, TopicArn=arn, Label="x", AWSAccountId=["1" * 12],
                   ActionName=["Fly"]) == (400, "InvalidParameter",
                                           "Policy statement action out of service scope!")
    assert refused(sns.add_permission, TopicArn=ARN + "nope", Label="x", AWSAccountId=["1" * 12],
                   ActionName=["Publish"]) == (404, "NotFound", "Topic does not exist")
    sns.remove_permission(TopicArn=arn, Label="one")
    sns.remove_permission(TopicArn=arn, Label="not-there")  # not an error
    emu.aws("sns", "remove-permission", "--topic-arn", arn, "--label", "two")
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert [st["Sid"] for st in policy["Statement"]] == ["__default_statement_ID"]
    assert refused(sns.remove_permission, TopicArn=ARN + "nope", Label="one") == \
        (404, "NotFound", "Topic does not exist")
    emu.aws("sns", "add-permission", "--topic-arn", arn, "--label", "cli",
            "--aws-account-id", "777777777777", "--action-name", "Subscribe")
    policy = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    assert policy["Statement"][1]["Sid"] == "cli"


def test_paging_of_the_three_lists(emu, sns):
    for i in range(150):
        sns.create_topic(Name="t%03d" % i)
    first = sns.list_topics()
    assert len(first["Topics"]) == 100 and first["NextToken"]
    second = sns.list_topics(NextToken=first["NextToken"])
    assert len(second["Topics"]) == 50 and "NextToken" not in second
    assert len({t["TopicArn"] for t in first["Topics"] + second["Topics"]}) == 150
    topic = ARN + "t000"
    for i in range(120):
        sns.subscribe(TopicArn=topic if i < 110 else ARN + "t001", Protocol="lambda",
                      Endpoint="arn:aws:lambda:us-east-1:%s:function:f%d" % (ACCOUNT, i))
    for call, kwargs, sizes in ((sns.list_subscriptions, {}, [100, 20]),
                                (sns.list_subscriptions_by_topic, {"TopicArn": topic},
                                 [100, 10])):
        page = call(**kwargs)
        assert len(page["Subscriptions"]) == sizes[0] and page["NextToken"]
        rest = call(NextToken=page["NextToken"], **kwargs)
        assert len(rest["Subscriptions"]) == sizes[1] and "NextToken" not in rest
        # A token is bound to the call that made it, and garbage is refused.
        for bad in ("garbage", first["NextToken"]):
            assert refused(call, NextToken=bad, **kwargs) == invalid("NextToken")
    assert refused(sns.list_topics, NextToken=page["NextToken"]) == invalid("NextToken")
    # The CLI follows NextToken by itself.
    assert len(emu.aws_json("sns", "list-topics")["Topics"]) == 150
    out = emu.aws_json("sns", "list-subscriptions-by-topic", "--topic-arn", topic)
    assert len(out["Subscriptions"]) == 110


# ---- Publish --------------------------------------------------------------

def sink_messages(emu, name, n, timeout=10):
    """The first n Notification bodies the built-in sink name received."""
    deadline = time.monotonic() + timeout
    while True:
        status, doc = emu.get("/_ddlocal/sink/" + name)
        assert status == 200
        got = [json.loads(m["body"]) for m in doc["messages"]
               if m["headers"]["x-amz-sns-message-type"] == "Notification"]
        if len(got) >= n:
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.05)


def subscribe_sink(emu, sns, arn, name):
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=emu.endpoint + "/_ddlocal/sink/" + name)
    deadline = time.monotonic() + 10
    while sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsConfirmed"] != "1":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_publish_rules(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    pub = sns.publish
    assert pub(TopicArn=arn, Message="m", Subject="s" * 99)["MessageId"]
    assert pub(TargetArn=arn, Message="via TargetArn")["MessageId"]
    for subject, want in (("", invalid("Subject")), ("line\nbreak", invalid("Subject")),
                          (" leading", invalid("Subject")),
                          ("s" * 100, (400, "InvalidParameter",
                                       "Subject must be less than 100 characters"))):
        assert refused(pub, TopicArn=arn, Message="m", Subject=subject) == want
    assert refused(pub, TopicArn=arn, Message="") == invalid("Empty message")
    # MessageGroupId is allowed on a standard topic; a deduplication id is not.
    assert pub(TopicArn=arn, Message="m", MessageGroupId="g-1")["MessageId"]
    assert refused(pub, TopicArn=arn, Message="m", MessageGroupId="a b") == invalid(
        "MessageGroupId Reason: 1 to 128 ASCII letters, digits and punctuation")
    assert refused(pub, TopicArn=arn, Message="m", MessageDeduplicationId="d") == invalid(
        "MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter "
        "that is not valid for this topic type")
    # 256 KiB by default, message and attributes together; what the topic's
    # MaximumMessageSize says, up to 1 MiB.
    assert pub(TopicArn=arn, Message="." * 262144)["MessageId"]
    assert refused(pub, TopicArn=arn, Message="." * 262145) == invalid("Message too long")
    attr = {"k": {"DataType": "String", "StringValue": "v"}}  # 1 + 6 + 1 bytes
    assert refused(pub, TopicArn=arn, Message="." * 262137, MessageAttributes=attr) == \
        invalid("Message too long")
    assert pub(TopicArn=arn, Message="." * 262136, MessageAttributes=attr)["MessageId"]
    for size in (500000, 1024):
        sns.set_topic_attributes(TopicArn=arn, AttributeName="MaximumMessageSize",
                                 AttributeValue=str(size))
        assert pub(TopicArn=arn, Message="." * size)["MessageId"]
        assert refused(pub, TopicArn=arn, Message="." * (size + 1)) == invalid("Message too long")

    # 1 MiB: "\u00e9" is two bytes of UTF-8 and each is sent as three in the
    # form encoding (%C3%A9), so the request is over 3 MiB; SNS still sees it
    # and answers its own error one byte over.
    sns.set_topic_attributes(TopicArn=arn, AttributeName="MaximumMessageSize",
                             AttributeValue="1048576")
    at_limit = "\u00e9" * (1 << 19)
    assert pub(TopicArn=arn, Message=at_limit)["MessageId"]
    assert refused(pub, TopicArn=arn, Message=at_limit + ".") == invalid("Message too long")

    # Targets: a phone number or a platform endpoint is refused; an unknown
    # topic is NotFound, one of another region or no target InvalidParameter.
    assert refused(pub, PhoneNumber="+15551234567", Message="m") == \
        invalid("PhoneNumber Reason: ddlocal does not send SMS messages")
    assert refused(pub, TargetArn=ARN + "endpoint/GCM/app/0f1e", Message="m") == \
        invalid("TargetArn Reason: No endpoint found for the target arn specified")
    assert refused(pub, TopicArn=ARN + "nope", Message="m") == \
        (404, "NotFound", "Topic does not exist")
    assert refused(pub, TopicArn=arn.replace("us-east-1", "eu-west-1"), Message="m") == \
        invalid("TopicArn")
    err = cli_error(emu, "sns", "publish", "--topic-arn", arn, "--message", "m",
                    "--subject", "x" * 120)
    assert "(InvalidParameter)" in err and "Subject must be less than 100 characters" in err


def test_message_structure_and_attributes(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    pub = sns.publish
    for message, text in (
            ("not json", "Message Structure - JSON message body failed to parse"),
            ('["default"]', "Message Structure - JSON message body failed to parse"),
            ('{"email": "e"}', "Message Structure - No default entry in JSON message body"),
            ('{"default": 1}', "Message Structure - No default entry in JSON message body")):
        assert refused(pub, TopicArn=arn, Message=message, MessageStructure="json") == \
            invalid(text)
    assert refused(pub, TopicArn=arn, Message="{}", MessageStructure="xml") == \
        invalid("MessageStructure")

    def attrs(**kw):
        return refused(pub, TopicArn=arn, Message="m", MessageAttributes=kw)

    pvi = "ParameterValueInvalid"
    assert attrs(a={"DataType": "Strin", "StringValue": "v"}) == (
        400, pvi, "The message attribute 'a' has an invalid message attribute type, the set of "
                  "supported type prefixes is Binary, Number, and String.")
    assert attrs(a={"DataType": "String.", "StringValue": "v"})[1] == pvi
    assert attrs(a={"DataType": "String", "StringValue": ""}) == (
        400, pvi, "The message attribute 'a' must contain non-empty message attribute value "
                  "for message attribute type 'String'.")
    assert attrs(a={"DataType": "String", "BinaryValue": b"x"}) == (
        400, pvi, "The message attribute 'a' with type 'String' must use field 'String'.")
    assert attrs(a={"DataType": "Binary", "StringValue": "x"}) == (
        400, pvi, "The message attribute 'a' with type 'Binary' must use field 'Binary'.")
    assert attrs(a={"DataType": "Number", "StringValue": "ten"}) == (
        400, pvi, "Could not cast message attribute 'a' value to number.")
    assert attrs(**{"a^b": {"DataType": "String", "StringValue": "v"}}) == (
        400, pvi, "Invalid non-alphanumeric character '#x5E' was found in the message attribute "
                  "name. Can only include alphanumeric characters, hyphens, underscores, or "
                  "dots.")
    assert attrs(**{".a": {"DataType": "String", "StringValue": "v"}}) == (
        400, pvi, "Invalid message attribute name starting with character '.' was found.")
    assert attrs(**{"a..b": {"DataType": "String", "StringValue": "v"}}) == (
        400, pvi, "Message attribute name can not have successive '.' character.")
    assert attrs(**{"a" * 257: {"DataType": "String", "StringValue": "v"}}) == (
        400, pvi, "Length of message attribute name must be less than 256 bytes.")
    assert attrs(**{"AWS.x": {"DataType": "String", "StringValue": "v"}})[1] == pvi
    eleven = {"a%d" % i: {"DataType": "String", "StringValue": "v"} for i in range(11)}
    assert attrs(**eleven) == invalid("MessageAttributes Reason: at most 10 message attributes")
    ten = dict(list(eleven.items())[:10])
    ten["a0"] = {"DataType": "Number.java.lang.Long", "StringValue": "-12.5e2"}
    ten["a1"] = {"DataType": "Binary", "BinaryValue": b"\x00\x01"}
    ten["a2"] = {"DataType": "String.Array", "StringValue": '["x", 1]'}
    assert pub(TopicArn=arn, Message="m", MessageAttributes=ten)["MessageId"]
    # The CLI's shorthand; the DataType left out is boto's ValidationError.
    emu.aws("sns", "publish", "--topic-arn", arn, "--message", "m", "--message-attributes",
            '{"n": {"DataType": "Number", "StringValue": "5"}}')
    err = cli_error(emu, "sns", "publish", "--topic-arn", arn, "--message", "m",
                    "--message-attributes", '{"n": {"DataType": "Numbr", "StringValue": "5"}}')
    assert "(ParameterValueInvalid)" in err and "invalid message attribute type" in err


def test_message_structure_picks_the_protocol_entry(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    subscribe_sink(emu, sns, arn, "structured")
    sns.publish(TopicArn=arn, MessageStructure="json",
                Message=json.dumps({"default": "for all", "http": "for http", "email": "mail"}))
    sns.publish(TopicArn=arn, MessageStructure="json",
                Message=json.dumps({"default": "fallback", "https": "not http"}))
    sns.publish(TopicArn=arn, Message=json.dumps({"default": "kept whole"}))
    got = sink_messages(emu, "structured", 3)
    assert [m["Message"] for m in got] == ["for http", "fallback", '{"default": "kept whole"}']


# ---- PublishBatch ---------------------------------------------------------

def entries(n, **extra):
    return [dict({"Id": "e%d" % i, "Message": "m%d" % i}, **extra) for i in range(n)]


def test_publish_batch(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    subscribe_sink(emu, sns, arn, "batch")
    batch = entries(3) + [{"Id": "empty", "Message": ""},
                          {"Id": "subj", "Message": "m", "Subject": "a\nb"}]
    batch[1]["MessageAttributes"] = {"k": {"DataType": "String", "StringValue": "v"}}
    out = sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=batch)
    assert [s["Id"] for s in out["Successful"]] == ["e0", "e1", "e2"]
    assert len({s["MessageId"] for s in out["Successful"]}) == 3
    assert sorted((f["Id"], f["Code"], f["Message"], f["SenderFault"]) for f in out["Failed"]) \
        == [("empty", "InvalidParameter", "Invalid parameter: Empty message", True),
            ("subj", "InvalidParameter", "Invalid parameter: Subject", True)]
    got = sink_messages(emu, "batch", 3)
    assert sorted(m["Message"] for m in got) == ["m0", "m1", "m2"]
    assert sorted(m["MessageId"] for m in got) == sorted(s["MessageId"] for s in out["Successful"])

    pb = sns.publish_batch
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=[]) == (
        400, "EmptyBatchRequest", "The batch request doesn't contain any entries.")
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=entries(11)) == (
        400, "TooManyEntriesInBatchRequest",
        "The batch request contains more entries than permissible.")
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=entries(2, Id="same")) == (
        400, "BatchEntryIdsNotDistinct",
        "Two or more batch entries in the request have the same Id.")
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=entries(1, Id="a" * 81)) == (
        400, "InvalidBatchEntryId",
        "The Id of a batch entry in the batch request is too long: " + "a" * 81)
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=entries(1, Id="a.b")) == (
        400, "InvalidBatchEntryId",
        "The Id of a batch entry in the batch request contains an impermissible character: a.b")
    big = [{"Id": "a", "Message": "." * 200000}, {"Id": "b", "Message": "." * 62145}]
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=big) == (
        400, "BatchRequestTooLong",
        "The length of all the messages put together is more than the limit.")
    bad_attr = entries(2)
    bad_attr[1]["MessageAttributes"] = {"k": {"DataType": "Bad", "StringValue": "v"}}
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=bad_attr)[1] == \
        "ParameterValueInvalid"
    assert refused(pb, TopicArn=arn,
                   PublishBatchRequestEntries=entries(2, MessageDeduplicationId="d"))[2] \
        .endswith("not valid for this topic type")
    with_group = entries(2)
    with_group[1]["MessageGroupId"] = "g"
    assert len(pb(TopicArn=arn, PublishBatchRequestEntries=with_group)["Successful"]) == 2
    bad_json = entries(1, MessageStructure="json")
    assert refused(pb, TopicArn=arn, PublishBatchRequestEntries=bad_json) == \
        invalid("Message Structure - JSON message body failed to parse")
    assert refused(pb, TopicArn=ARN + "nope", PublishBatchRequestEntries=entries(1)) == \
        (404, "NotFound", "Topic does not exist")
    assert refused(pb, TopicArn=arn.replace("us-east-1", "eu-west-1"),
                   PublishBatchRequestEntries=entries(1)) == invalid("TopicArn")
    # Nothing of a refused batch was published: the sink holds only the
    # accepted ones (with_group's m0 and m1 among them).
    out = emu.aws_json("sns", "publish-batch", "--topic-arn", arn,
                       "--publish-batch-request-entries", "Id=c1,Message=cli1",
                       "Id=c2,Message=cli2")
    assert [s["Id"] for s in out["Successful"]] == ["c1", "c2"] and out["Failed"] == []
    got = sink_messages(emu, "batch", 7)
    assert sorted(m["Message"] for m in got) == ["cli1", "cli2", "m0", "m0", "m1", "m1", "m2"]
    err = cli_error(emu, "sns", "publish-batch", "--topic-arn", arn,
                    "--publish-batch-request-entries", "Id=x,Message=1", "Id=x,Message=2")
    assert "(BatchEntryIdsNotDistinct)" in err


# ---- email and email-json -------------------------------------------------

def emails(emu, address):
    status, doc = emu.get("/_ddlocal/email?address=" + address)
    assert status == 200, doc
    return doc["messages"]


def test_email_subscriptions_are_recorded(emu, sns):
    arn = sns.create_topic(Name="t")["TopicArn"]
    out = sns.subscribe(TopicArn=arn, Protocol="email", Endpoint="ops@example.com")
    assert out["SubscriptionArn"] == "pending confirmation"
    sub = sns.subscribe(TopicArn=arn, Protocol="email-json", Endpoint="bot@example.com",
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    assert sub.startswith(arn + ":")
    listed = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted((s["Protocol"], s["SubscriptionArn"]) for s in listed) == [
        ("email", "PendingConfirmation"), ("email-json", "PendingConfirmation")]
    assert sns.get_topic_attributes(TopicArn=arn)["Attributes"]["SubscriptionsPending"] == "2"
    assert refused(sns.subscribe, TopicArn=arn, Protocol="email", Endpoint="nobody") == \
        invalid("Email address")

    # The confirmation request is recorded with its token; confirming it
    # makes the next messages arrive.
    [confirm] = emails(emu, "ops@example.com")
    assert confirm["type"] == "SubscriptionConfirmation" and confirm["protocol"] == "email"
    assert "You have chosen to subscribe to the topic" in confirm["body"]
    sns.confirm_subscription(TopicArn=arn, Token=confirm["token"])
    [confirm] = emails(emu, "bot@example.com")
    assert json.loads(confirm["body"])["Token"] == confirm["token"]
    emu.aws("sns", "confirm-subscription", "--topic-arn", arn, "--token", confirm["token"])
    sns.publish(TopicArn=arn, Message="plain", Subject="Hello")
    sns.publish(TopicArn=arn, MessageStructure="json",
                Message=json.dumps({"default": "d", "email": "for mail"}))
    got = emails(emu, "ops@example.com")[1:]
    assert [(m["type"], m["subject"], m["body"]) for m in got] == [
        ("Notification", "Hello", "plain"), ("Notification", None, "for mail")]
    got = [json.loads(m["body"]) for m in emails(emu, "bot@example.com")[1:]]
    assert [(m["Type"], m.get("Subject"), m["Message"], m["TopicArn"]) for m in got] == [
        ("Notification", "Hello", "plain", arn), ("Notification", None, "d", arn)]
    assert got[0]["MessageId"] != got[1]["MessageId"]
    assert emails(emu, "else@example.com") == []
    status, _ = emu.get("/_ddlocal/email")
    assert status == 400
