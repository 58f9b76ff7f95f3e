# SPDX-License-Identifier: MIT
"""Dynamic thing groups with boto3 and the AWS CLI: create, update and
delete with versions, what DescribeThingGroup and ListThingGroups show of
them, and AWS's rules as clients see them: the query must parse
(InvalidQueryException), only AWS_Things and 2017-09-30, no hierarchy, no
manual membership, and the static and dynamic operations each refuse the
other kind."""
import pytest
from botocore.exceptions import ClientError

from conftest import cli_error

GARN = "arn:aws:iot:us-east-1:123456789012:thinggroup/"
QUERY = "attributes.fw:1.2"


def code(e):
    return e.value.response["Error"]["Code"]


def message(e):
    return e.value.response["Error"]["Message"]


def test_create_describe_list(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_dynamic_thing_group(
        thingGroupName="fw12", queryString=QUERY,
        thingGroupProperties={"thingGroupDescription": "firmware 1.2",
                              "attributePayload": {"attributes": {"k": "v"}}},
        tags=[{"Key": "team", "Value": "sec"}])
    assert out["thingGroupName"] == "fw12"
    assert out["thingGroupArn"] == GARN + "fw12"
    assert out["indexName"] == "AWS_Things"
    assert out["queryString"] == QUERY
    assert out["queryVersion"] == "2017-09-30"
    d = iot.describe_thing_group(thingGroupName="fw12")
    assert d["thingGroupId"] == out["thingGroupId"]
    assert d["queryString"] == QUERY
    assert d["indexName"] == "AWS_Things"
    assert d["queryVersion"] == "2017-09-30"
    assert d["status"] in ("ACTIVE", "BUILDING")
    assert d["version"] == 1
    assert d["thingGroupProperties"]["thingGroupDescription"] == "firmware 1.2"
    meta = d["thingGroupMetadata"]
    assert "parentGroupName" not in meta and "rootToParentThingGroups" not in meta
    assert meta["creationDate"].timestamp() == pytest.approx(now, abs=1)
    tags = iot.list_tags_for_resource(resourceArn=GARN + "fw12")["tags"]
    assert tags == [{"Key": "team", "Value": "sec"}]
    # Listed with the static groups, as AWS does; the CLI sees the same.
    iot.create_thing_group(thingGroupName="Fleet")
    names = [g["groupName"] for g in iot.list_thing_groups()["thingGroups"]]
    assert names == ["Fleet", "fw12"]
    d = emu.aws_json("iot", "describe-thing-group", "--thing-group-name", "fw12")
    assert d["queryString"] == QUERY and d["indexName"] == "AWS_Things"
    # A static group shows none of the dynamic members.
    d = iot.describe_thing_group(thingGroupName="Fleet")
    assert not {"queryString", "indexName", "queryVersion", "status"} & set(d)


def test_create_is_idempotent_and_names_are_shared(iot):
    a = iot.create_dynamic_thing_group(thingGroupName="g", queryString=QUERY)
    b = iot.create_dynamic_thing_group(thingGroupName="g", queryString=QUERY)
    assert a["thingGroupId"] == b["thingGroupId"]
    with pytest.raises(ClientError) as e:
        iot.create_dynamic_thing_group(thingGroupName="g", queryString="thingName:x")
    assert code(e) == "ResourceAlreadyExistsException"
    # One name space with static groups, both ways.
    with pytest.raises(ClientError) as e:
        iot.create_thing_group(thingGroupName="g")
    assert code(e) == "ResourceAlreadyExistsException"
    iot.create_thing_group(thingGroupName="s")
    with pytest.raises(ClientError) as e:
        iot.create_dynamic_thing_group(thingGroupName="s", queryString=QUERY)
    assert code(e) == "ResourceAlreadyExistsException"


@pytest.mark.parametrize("kwargs,error,text", [
    ({"queryString": "thingName:(a"}, "InvalidQueryException", "expected )"),
    ({"queryString": "thingNam:x"}, "InvalidQueryException", "invalid field name"),
    ({"queryString": "thingGroupNames:a"}, "InvalidQueryException", "thingGroupNames"),
    ({"queryString": "deviceDefender.P.B.inViolation:false"}, "InvalidQueryException", ""),
    ({"queryString": QUERY, "indexName": "AWS_ThingGroups"}, "InvalidRequestException",
     "AWS_Things"),
    ({"queryString": QUERY, "queryVersion": "2020-01-01"}, "InvalidRequestException",
     "2017-09-30"),
    ({"queryString": QUERY, "thingGroupProperties": {"thingGroupDescription": "x" * 2100}},
     "InvalidRequestException", ""),
])
def test_create_refusals(iot, kwargs, error, text):
    with pytest.raises(ClientError) as e:
        iot.create_dynamic_thing_group(thingGroupName="bad", **kwargs)
    assert code(e) == error
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert text in message(e)
    with pytest.raises(ClientError) as e:
        iot.describe_thing_group(thingGroupName="bad")
    assert code(e) == "ResourceNotFoundException"


def test_update_with_versions(iot):
    iot.create_dynamic_thing_group(thingGroupName="g", queryString=QUERY)
    out = iot.update_dynamic_thing_group(
        thingGroupName="g", queryString="attributes.fw:1.3",
        thingGroupProperties={"thingGroupDescription": "now 1.3"}, expectedVersion=1)
    assert out["version"] == 2
    d = iot.describe_thing_group(thingGroupName="g")
    assert d["queryString"] == "attributes.fw:1.3"
    assert d["status"] in ("ACTIVE", "REBUILDING")
    assert d["thingGroupProperties"]["thingGroupDescription"] == "now 1.3"
    # Properties alone keep the query.
    assert iot.update_dynamic_thing_group(
        thingGroupName="g", thingGroupProperties={})["version"] == 3
    assert iot.describe_thing_group(thingGroupName="g")["queryString"] == "attributes.fw:1.3"
    with pytest.raises(ClientError) as e:
        iot.update_dynamic_thing_group(thingGroupName="g", thingGroupProperties={},
                                       expectedVersion=1)
    assert code(e) == "VersionConflictException"
    with pytest.raises(ClientError) as e:
        iot.update_dynamic_thing_group(thingGroupName="g", thingGroupProperties={},
                                       queryString="thingName:(")
    assert code(e) == "InvalidQueryException"
    with pytest.raises(ClientError) as e:
        iot.update_dynamic_thing_group(thingGroupName="nope", thingGroupProperties={})
    assert code(e) == "ResourceNotFoundException"
    assert iot.describe_thing_group(thingGroupName="g")["version"] == 3


def test_delete(emu, iot):
    iot.create_dynamic_thing_group(thingGroupName="g", queryString=QUERY)
    with pytest.raises(ClientError) as e:
        iot.delete_dynamic_thing_group(thingGroupName="g", expectedVersion=7)
    assert code(e) == "VersionConflictException"
    iot.delete_dynamic_thing_group(thingGroupName="g", expectedVersion=1)
    with pytest.raises(ClientError) as e:
        iot.describe_thing_group(thingGroupName="g")
    assert code(e) == "ResourceNotFoundException"
    # Deleting a missing group succeeds, as in AWS.
    iot.delete_dynamic_thing_group(thingGroupName="g")
    emu.aws("iot", "create-dynamic-thing-group", "--thing-group-name", "c",
            "--query-string", QUERY)
    emu.aws("iot", "delete-dynamic-thing-group", "--thing-group-name", "c")
    assert [g["groupName"] for g in iot.list_thing_groups()["thingGroups"]] == []


def test_kinds_refuse_each_other(emu, iot):
    iot.create_dynamic_thing_group(thingGroupName="dyn", queryString=QUERY)
    iot.create_thing_group(thingGroupName="stat")
    iot.create_thing(thingName="t1")
    dyn_text = "This operation does not support dynamic thing groups. Thing group arn: " \
        + GARN + "dyn"
    calls = [
        lambda: iot.update_thing_group(thingGroupName="dyn", thingGroupProperties={}),
        lambda: iot.delete_thing_group(thingGroupName="dyn"),
        lambda: iot.add_thing_to_thing_group(thingGroupName="dyn", thingName="t1"),
        lambda: iot.remove_thing_from_thing_group(thingGroupName="dyn", thingName="t1"),
        lambda: iot.update_thing_groups_for_thing(thingName="t1", thingGroupsToAdd=["dyn"]),
    ]
    for call in calls:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "InvalidRequestException"
        assert message(e) == dyn_text
    stat_text = "This operation does not support static thing groups. Thing group arn: " \
        + GARN + "stat"
    for call in [
        lambda: iot.update_dynamic_thing_group(thingGroupName="stat", thingGroupProperties={}),
        lambda: iot.delete_dynamic_thing_group(thingGroupName="stat"),
    ]:
        with pytest.raises(ClientError) as e:
            call()
        assert code(e) == "InvalidRequestException"
        assert message(e) == stat_text
    # No hierarchy: a dynamic group is nobody's parent.
    with pytest.raises(ClientError) as e:
        iot.create_thing_group(thingGroupName="child", parentGroupName="dyn")
    assert code(e) == "InvalidRequestException"
    # Both groups are still there, unchanged.
    assert iot.describe_thing_group(thingGroupName="dyn")["version"] == 1
    assert iot.describe_thing_group(thingGroupName="stat")["version"] == 1
    err = cli_error(emu, "iot", "delete-thing-group", "--thing-group-name", "dyn")
    assert "(InvalidRequestException)" in err and "dynamic thing groups" in err
    err = cli_error(emu, "iot", "create-dynamic-thing-group", "--thing-group-name", "x",
                    "--query-string", "thingName:(")
    assert "(InvalidQueryException)" in err
