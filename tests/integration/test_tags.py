# SPDX-License-Identifier: MIT
"""Resource tags through real clients: IoT TagResource, UntagResource and
ListTagsForResource on every taggable resource kind, create-time tags,
tags dropped with their resource, AWS's limits (50 tags, key and value
lengths, the reserved aws: prefix, duplicate keys) and errors; SNS's own
tag actions and CreateTopic's Tags, with SNS's errors."""
import json

import botocore.exceptions
import pytest

from conftest import cli_error, http, reset

PREFIX = "arn:aws:iot:us-east-1:123456789012:"
ALLOW = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}'
ROLE = "arn:aws:iam::123456789012:role/DDMitigationRole"
PUBLISH = {"publishFindingToSnsParams": {
    "topicArn": "arn:aws:sns:us-east-1:123456789012:findings"}}
TAGS = [{"Key": "team", "Value": "sec"}, {"Key": "cost", "Value": ""}]


def tags_of(iot, arn):
    return sorted((t["Key"], t["Value"]) for t in
                  iot.list_tags_for_resource(resourceArn=arn)["tags"])


def error_code(excinfo):
    return excinfo.value.response["Error"]["Code"]


# Each taggable kind: how to create one with tags, its ARN, and how to
# delete it.
KINDS = {
    "thinggroup": (lambda iot, n: iot.create_thing_group(thingGroupName=n, tags=TAGS),
                   lambda iot, n: iot.delete_thing_group(thingGroupName=n)),
    "policy": (lambda iot, n: iot.create_policy(policyName=n, policyDocument=ALLOW, tags=TAGS),
               lambda iot, n: iot.delete_policy(policyName=n)),
    "securityprofile": (lambda iot, n: iot.create_security_profile(securityProfileName=n,
                                                                   tags=TAGS),
                        lambda iot, n: iot.delete_security_profile(securityProfileName=n)),
    "mitigationaction": (lambda iot, n: iot.create_mitigation_action(
        actionName=n, roleArn=ROLE, actionParams=PUBLISH, tags=TAGS),
        lambda iot, n: iot.delete_mitigation_action(actionName=n)),
    "dimension": (lambda iot, n: iot.create_dimension(name=n, type="TOPIC_FILTER",
                                                      stringValues=["a/#"], tags=TAGS),
                  lambda iot, n: iot.delete_dimension(name=n)),
    "custommetric": (lambda iot, n: iot.create_custom_metric(metricName=n, metricType="number",
                                                             tags=TAGS),
                     lambda iot, n: iot.delete_custom_metric(metricName=n)),
    "thingtype": (lambda iot, n: iot.create_thing_type(thingTypeName=n, tags=TAGS),
                  lambda iot, n: delete_thing_type(iot, n)),
    "billinggroup": (lambda iot, n: iot.create_billing_group(billingGroupName=n, tags=TAGS),
                     lambda iot, n: iot.delete_billing_group(billingGroupName=n)),
}


def delete_thing_type(iot, name):
    """AWS deletes a type five minutes after its deprecation: move the
    manual clock past them."""
    iot.deprecate_thing_type(thingTypeName=name)
    status, _, body = http("POST", iot.meta.endpoint_url + "/_ddlocal/clock",
                           json.dumps({"advanceSeconds": 301}))
    assert status == 200, body
    iot.delete_thing_type(thingTypeName=name)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_create_tag_list_untag_delete(emu, iot, kind):
    create, delete = KINDS[kind]
    arn = PREFIX + kind + "/r1"
    create(iot, "r1")
    assert tags_of(iot, arn) == [("cost", ""), ("team", "sec")]

    iot.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "ops"},
                                            {"Key": "env"}])
    assert tags_of(iot, arn) == [("cost", ""), ("env", ""), ("team", "ops")]
    iot.untag_resource(resourceArn=arn, tagKeys=["cost", "not-there"])
    assert tags_of(iot, arn) == [("env", ""), ("team", "ops")]

    # The tags go with the resource: a new one of the same name has none.
    delete(iot, "r1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_tags_for_resource(resourceArn=arn)
    create(iot, "r1")
    assert tags_of(iot, arn) == [("cost", ""), ("team", "sec")]


def test_limits(emu, iot):
    iot.create_thing_group(thingGroupName="g")
    arn = PREFIX + "thinggroup/g"
    fifty = [{"Key": "k%02d" % i, "Value": "v"} for i in range(50)]
    iot.tag_resource(resourceArn=arn, tags=fifty[:45])
    # 51 in one request, or 45 + 6 new: LimitExceeded (410), nothing written.
    for tags in ([*fifty, {"Key": "x", "Value": "v"}],
                 fifty[40:] + [{"Key": "new", "Value": "v"}]):
        with pytest.raises(iot.exceptions.LimitExceededException) as e:
            iot.tag_resource(resourceArn=arn, tags=tags)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert len(tags_of(iot, arn)) == 45
    iot.tag_resource(resourceArn=arn, tags=fifty[40:])
    assert len(tags_of(iot, arn)) == 50

    bad = [
        ([{"Key": "k" * 129, "Value": "v"}], "Member must have length less than or equal to 128"),
        ([{"Key": "a*b", "Value": "v"}], "Member must satisfy regular expression pattern"),
        ([{"Key": "k", "Value": "v" * 257}], "Member must have length less than or equal to 256"),
        ([{"Key": "aws:owner", "Value": "v"}], "reserved"),
        ([{"Key": "AWS:owner", "Value": "v"}], "reserved"),
        ([{"Key": "d", "Value": "1"}, {"Key": "d", "Value": "2"}], "Duplicated keys"),
    ]
    for tags, message in bad:
        with pytest.raises(iot.exceptions.InvalidRequestException) as e:
            iot.tag_resource(resourceArn=arn, tags=tags)
        assert message in e.value.response["Error"]["Message"], tags
    # An empty key, which boto3 refuses to send, sent as it is.
    status, headers, body = emu.post("/tags", {"resourceArn": arn,
                                               "tags": [{"Key": "", "Value": "v"}]})
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestException")
    assert "Member must have length greater than or equal to 1" in body["message"]
    # Limits hold at the bounds: 128-character keys and 256-character values.
    iot.untag_resource(resourceArn=arn, tagKeys=["k00"])
    iot.tag_resource(resourceArn=arn, tags=[{"Key": "K" * 128, "Value": "v" * 256}])
    assert ("K" * 128, "v" * 256) in tags_of(iot, arn)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.untag_resource(resourceArn=arn, tagKeys=["aws:createdBy"])
    # Create calls apply the same rules and create nothing when they fail.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_dimension(name="d", type="TOPIC_FILTER", stringValues=["a"],
                             tags=[{"Key": "aws:x", "Value": "v"}])
    with pytest.raises(iot.exceptions.LimitExceededException):
        iot.create_policy(policyName="p", policyDocument=ALLOW,
                          tags=[*fifty, {"Key": "x", "Value": "v"}])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_security_profile(securityProfileName="sp", tags=TAGS + TAGS)
    assert iot.list_dimensions()["dimensionNames"] == []
    assert iot.list_policies()["policies"] == []
    assert iot.list_security_profiles()["securityProfileIdentifiers"] == []


def test_resource_errors(emu, iot):
    iot.create_thing(thingName="t")
    iot.create_thing_group(thingGroupName="g")
    # Things are not taggable in AWS; neither are certificates.
    cert = iot.create_keys_and_certificate(setAsActive=False)["certificateArn"]
    for arn in (PREFIX + "thing/t", cert):
        with pytest.raises(iot.exceptions.InvalidRequestException) as e:
            iot.tag_resource(resourceArn=arn, tags=TAGS)
        assert "not supported" in e.value.response["Error"]["Message"]
    # A resource that does not exist, and one of another region or account.
    for arn in (PREFIX + "thinggroup/nope", PREFIX + "policy/g",
                "arn:aws:iot:eu-west-1:123456789012:thinggroup/g",
                "arn:aws:iot:us-east-1:210987654321:thinggroup/g"):
        with pytest.raises(iot.exceptions.ResourceNotFoundException):
            iot.tag_resource(resourceArn=arn, tags=TAGS)
        with pytest.raises(iot.exceptions.ResourceNotFoundException):
            iot.untag_resource(resourceArn=arn, tagKeys=["team"])
        with pytest.raises(iot.exceptions.ResourceNotFoundException):
            iot.list_tags_for_resource(resourceArn=arn)
    for arn in ("not-an-arn", "arn:aws:iot:us-east-1:123456789012:widget/x"):
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.list_tags_for_resource(resourceArn=arn)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_tags_for_resource(resourceArn=PREFIX + "thinggroup/g", nextToken="bogus")
    assert tags_of(iot, PREFIX + "thinggroup/g") == []


def test_cli(emu, iot):
    arn = PREFIX + "securityprofile/sp"
    emu.aws("iot", "create-security-profile", "--security-profile-name", "sp",
            "--tags", "Key=team,Value=sec")
    emu.aws("iot", "tag-resource", "--resource-arn", arn,
            "--tags", "Key=env,Value=prod", "Key=owner,Value=")
    out = emu.aws_json("iot", "list-tags-for-resource", "--resource-arn", arn)
    assert sorted(out["tags"], key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": "prod"}, {"Key": "owner", "Value": ""},
        {"Key": "team", "Value": "sec"}]
    emu.aws("iot", "untag-resource", "--resource-arn", arn, "--tag-keys", "env", "team")
    out = emu.aws_json("iot", "list-tags-for-resource", "--resource-arn", arn)
    assert out["tags"] == [{"Key": "owner", "Value": ""}]
    err = cli_error(emu, "iot", "tag-resource", "--resource-arn", PREFIX + "thinggroup/none",
                    "--tags", "Key=a,Value=b")
    assert "(ResourceNotFoundException)" in err
    err = cli_error(emu, "iot", "tag-resource", "--resource-arn", arn,
                    "--tags", "Key=aws:x,Value=b")
    assert "(InvalidRequestException)" in err


# ---- SNS ----

@pytest.fixture
def sns(emu):
    return reset(emu, "sns")


def sns_tags(sns, arn):
    return sorted((t["Key"], t["Value"]) for t in
                  sns.list_tags_for_resource(ResourceArn=arn)["Tags"])


def sns_error(excinfo):
    err = excinfo.value.response["Error"]
    return excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"], err["Code"], \
        err["Message"]


def test_sns_tags(emu, sns):
    arn = sns.create_topic(Name="t", Tags=[{"Key": "team", "Value": "sec"}])["TopicArn"]
    assert sns_tags(sns, arn) == [("team", "sec")]
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "ops"},
                                            {"Key": "env", "Value": ""}])
    assert sns_tags(sns, arn) == [("env", ""), ("team", "ops")]
    sns.untag_resource(ResourceArn=arn, TagKeys=["env", "missing"])
    assert sns_tags(sns, arn) == [("team", "ops")]

    # CreateTopic again: the same tags, a subset or none answer the same
    # topic; a tag it does not carry is refused.
    for tags in ([{"Key": "team", "Value": "ops"}], []):
        assert sns.create_topic(Name="t", Tags=tags)["TopicArn"] == arn
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.create_topic(Name="t", Tags=[{"Key": "team", "Value": "x"}])
    assert sns_error(e) == (400, "InvalidParameter", "Invalid parameter: Tags Reason: "
                            "Topic already exists with different tags")

    # 50 tags at most; over it nothing changes.
    fifty = [{"Key": "k%02d" % i, "Value": "v"} for i in range(50)]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.tag_resource(ResourceArn=arn, Tags=fifty)
    assert sns_error(e) == (400, "TagLimitExceeded",
                            "Could not complete request: tag quota of per resource exceeded")
    assert sns_tags(sns, arn) == [("team", "ops")]
    with pytest.raises(sns.exceptions.TagLimitExceededException):
        sns.create_topic(Name="t2", Tags=[*fifty, {"Key": "x", "Value": "v"}])
    sns.tag_resource(ResourceArn=arn, Tags=fifty[:49])
    assert len(sns_tags(sns, arn)) == 50

    with pytest.raises(botocore.exceptions.ClientError) as e:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "d", "Value": "1"},
                                                {"Key": "d", "Value": "2"}])
    assert sns_error(e) == (400, "InvalidParameter",
                            "Invalid parameter: Duplicated keys are not allowed.")
    for tags in ([{"Key": "aws:x", "Value": "v"}], [{"Key": "k" * 129, "Value": "v"}],
                 [{"Key": "k", "Value": "v" * 257}]):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            sns.create_topic(Name="t3", Tags=tags)
        assert sns_error(e)[0] == 400
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"]] == [arn]

    # Unknown, malformed and other-account ARNs are ResourceNotFound; a
    # topic of another region is the InvalidParameter every topic action
    # answers.
    other = arn.replace(":t", ":nope")
    for bad in (other, "test-topic", arn.replace("123456789012", "210987654321")):
        with pytest.raises(sns.exceptions.ResourceNotFoundException) as e:
            sns.list_tags_for_resource(ResourceArn=bad)
        assert sns_error(e) == (404, "ResourceNotFound", "Resource does not exist")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.tag_resource(ResourceArn=arn.replace("us-east-1", "eu-west-1"), Tags=fifty[:1])

    # DeleteTopic drops the tags: a new topic of that name has none.
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(sns.exceptions.ResourceNotFoundException):
        sns.list_tags_for_resource(ResourceArn=arn)
    assert sns.create_topic(Name="t")["TopicArn"] == arn
    assert sns_tags(sns, arn) == []


def test_sns_tags_cli(emu, sns):
    arn = emu.aws_json("sns", "create-topic", "--name", "c",
                       "--tags", "Key=team,Value=sec")["TopicArn"]
    emu.aws("sns", "tag-resource", "--resource-arn", arn, "--tags", "Key=env,Value=prod")
    out = emu.aws_json("sns", "list-tags-for-resource", "--resource-arn", arn)
    assert sorted(out["Tags"], key=lambda t: t["Key"]) == [
        {"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "sec"}]
    emu.aws("sns", "untag-resource", "--resource-arn", arn, "--tag-keys", "team")
    out = emu.aws_json("sns", "list-tags-for-resource", "--resource-arn", arn)
    assert out["Tags"] == [{"Key": "env", "Value": "prod"}]
    err = cli_error(emu, "sns", "tag-resource", "--resource-arn", arn,
                    "--tags", "Key=a,Value=1", "Key=a,Value=2")
    assert "(InvalidParameter)" in err and "Duplicated keys are not allowed." in err
