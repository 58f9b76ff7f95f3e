# SPDX-License-Identifier: MIT
"""Dynamic thing groups with boto3 and the AWS CLI: create, update and
delete with versions, what DescribeThingGroup and ListThingGroups show of
them, and AWS's rules as clients see them: the query must parse
(InvalidQueryException), only AWS_Things and 2017-09-30, no hierarchy, no
manual membership, and the static and dynamic operations each refuse the
other kind; and membership: it follows attributes, shadows, connectivity
and Detect violations within one window of the manual clock, Detect judges
exactly a targeted dynamic group's members and invalidates the violations
of a thing that leaves, and overrideDynamicGroups makes room."""
import json
import os

import paho.mqtt.client as mqtt
import pytest
from botocore.exceptions import ClientError

from conftest import ROOT, cli_error, reset, wait_for

GARN = "arn:aws:iot:us-east-1:123456789012:thinggroup/"
QUERY = "attributes.fw:1.2"
EVERYTHING = {"thingIndexingMode": "REGISTRY_AND_SHADOW",
              "thingConnectivityIndexingMode": "STATUS",
              "deviceDefenderIndexingMode": "VIOLATIONS"}


@pytest.fixture
def iot(emu):
    """This module's client: reset, with every thing index source on, as
    dynamic groups need the index."""
    client = reset(emu)
    client.update_indexing_configuration(thingIndexingConfiguration=EVERYTHING)
    return client


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


def test_no_policy_on_a_dynamic_group(emu, iot):
    """AWS: dynamic thing groups can't have policies applied to them."""
    doc = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})
    iot.create_policy(policyName="p", policyDocument=doc)
    iot.create_dynamic_thing_group(thingGroupName="dyn", queryString=QUERY)
    iot.create_thing_group(thingGroupName="stat")
    with pytest.raises(ClientError) as e:
        iot.attach_policy(policyName="p", target=GARN + "dyn")
    assert code(e) == "InvalidRequestException"
    assert message(e) == ("This operation does not support dynamic thing groups. "
                          "Thing group arn: " + GARN + "dyn")
    assert iot.list_attached_policies(target=GARN + "dyn")["policies"] == []
    assert iot.list_targets_for_policy(policyName="p")["targets"] == []
    iot.attach_policy(policyName="p", target=GARN + "stat")  # a static group takes it
    assert iot.list_targets_for_policy(policyName="p")["targets"] == [GARN + "stat"]
    with pytest.raises(ClientError) as e:  # a missing group is still not found
        iot.attach_policy(policyName="p", target=GARN + "nope")
    assert code(e) == "ResourceNotFoundException"
    err = cli_error(emu, "iot", "attach-policy", "--policy-name", "p", "--target", GARN + "dyn")
    assert "(InvalidRequestException)" in err and "dynamic thing groups" in err


def test_at_most_100_dynamic_groups(emu, iot):
    for i in range(100):
        iot.create_dynamic_thing_group(thingGroupName="g%d" % i, queryString=QUERY)
    iot.create_thing_group(thingGroupName="static-ok")  # static groups do not count
    with pytest.raises(ClientError) as e:
        iot.create_dynamic_thing_group(thingGroupName="g100", queryString=QUERY)
    assert code(e) == "LimitExceededException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert "100 dynamic thing groups" in message(e)
    with pytest.raises(ClientError) as e:
        iot.describe_thing_group(thingGroupName="g100")
    assert code(e) == "ResourceNotFoundException"
    # repeating a create of an existing group answers it, as below the quota
    assert iot.create_dynamic_thing_group(thingGroupName="g7", queryString=QUERY)[
        "thingGroupName"] == "g7"
    err = cli_error(emu, "iot", "create-dynamic-thing-group", "--thing-group-name", "g100",
                    "--query-string", QUERY)
    assert "(LimitExceededException)" in err
    iot.delete_dynamic_thing_group(thingGroupName="g0")
    iot.create_dynamic_thing_group(thingGroupName="g100", queryString=QUERY)


def test_needs_the_index(emu, iot):
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "OFF"})
    with pytest.raises(ClientError) as e:
        iot.create_dynamic_thing_group(thingGroupName="g", queryString=QUERY)
    assert code(e) == "ResourceNotFoundException"
    assert message(e) == ("AWS IoT Fleet Indexing is not enabled. Please enable index by "
                          "calling UpdateIndexingConfiguration.")
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "REGISTRY"})
    iot.create_dynamic_thing_group(thingGroupName="g", queryString=QUERY)
    # The index cannot go while a dynamic group needs it.
    with pytest.raises(ClientError) as e:
        iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "OFF"})
    assert code(e) == "InvalidRequestException"
    assert "dynamic thing groups" in message(e)
    cfg = iot.get_indexing_configuration()["thingIndexingConfiguration"]
    assert cfg["thingIndexingMode"] == "REGISTRY"
    iot.delete_dynamic_thing_group(thingGroupName="g")
    iot.update_indexing_configuration(thingIndexingConfiguration={"thingIndexingMode": "OFF"})


def members(iot, group):
    return [t for t in iot.list_things_in_thing_group(thingGroupName=group)["things"]]


def groups_of(iot, thing):
    return [g["groupName"] for g in iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]]


def test_built_at_once_then_follows_attributes(emu, iot):
    iot.create_thing(thingName="a", attributePayload={"attributes": {"fw": "1.2"}})
    iot.create_thing(thingName="b", attributePayload={"attributes": {"fw": "1.1"}})
    iot.create_thing(thingName="c", attributePayload={"attributes": {"fw": "1.2"}})
    iot.create_dynamic_thing_group(thingGroupName="fw12", queryString=QUERY)
    emu.sync()
    assert iot.describe_thing_group(thingGroupName="fw12")["status"] == "ACTIVE"
    assert members(iot, "fw12") == ["a", "c"]
    assert groups_of(iot, "a") == ["fw12"] and groups_of(iot, "b") == []
    # The CLI lists the same members.
    out = emu.aws_json("iot", "list-things-in-thing-group", "--thing-group-name", "fw12")
    assert out["things"] == ["a", "c"]
    # A change is picked up at the next window close, not before.
    iot.update_thing(thingName="b", attributePayload={"attributes": {"fw": "1.2"}})
    iot.update_thing(thingName="a", attributePayload={"attributes": {"fw": "1.3"}})
    emu.sync()
    assert members(iot, "fw12") == ["a", "c"]
    emu.advance(300)
    assert members(iot, "fw12") == ["b", "c"]
    # A new query rebuilds the group at once.
    assert iot.update_dynamic_thing_group(thingGroupName="fw12", queryString="attributes.fw:1.3",
                                          thingGroupProperties={})["version"] == 2
    emu.sync()
    assert members(iot, "fw12") == ["a"]
    assert iot.describe_thing_group(thingGroupName="fw12")["status"] == "ACTIVE"
    iot.delete_thing(thingName="a")
    assert members(iot, "fw12") == []
    iot.delete_dynamic_thing_group(thingGroupName="fw12")
    assert groups_of(iot, "b") == []


def test_a_thing_created_later_joins_at_the_window_close(emu, iot):
    # Things created one after another are added to the engine's snapshots
    # without a rebuild; a dynamic group takes them in at the close.
    iot.create_dynamic_thing_group(thingGroupName="fw12", queryString=QUERY)
    emu.sync()
    iot.create_thing(thingName="late", attributePayload={"attributes": {"fw": "1.2"}})
    iot.create_thing(thingName="other", attributePayload={"attributes": {"fw": "1.1"}})
    emu.sync()
    assert members(iot, "fw12") == []
    emu.advance(300)
    assert members(iot, "fw12") == ["late"]
    iot.delete_dynamic_thing_group(thingGroupName="fw12")


def test_follows_the_shadow(emu, iot):
    data = emu.client("iot-data")
    for name in ("p1", "p2"):
        iot.create_thing(thingName=name)
    iot.create_dynamic_thing_group(thingGroupName="low",
                                   queryString="shadow.reported.battery<20")
    data.update_thing_shadow(thingName="p1", payload=json.dumps(
        {"state": {"reported": {"battery": 10}}}))
    emu.advance(300)
    assert members(iot, "low") == ["p1"]
    data.update_thing_shadow(thingName="p1", payload=json.dumps(
        {"state": {"reported": {"battery": 90}}}))
    data.update_thing_shadow(thingName="p2", payload=json.dumps(
        {"state": {"reported": {"battery": 5}}}))
    emu.advance(300)
    assert members(iot, "low") == ["p2"]


def test_follows_connectivity(emu, iot):
    for name in ("d1", "d2"):
        iot.create_thing(thingName=name)
    iot.create_dynamic_thing_group(thingGroupName="online",
                                   queryString="connectivity.connected:true")
    emu.sync()
    assert members(iot, "online") == []
    c = emu.mqtt_start(mqtt.Client(client_id="d1", protocol=mqtt.MQTTv311))
    try:
        assert wait_for(lambda: iot.search_index(
            queryString="connectivity.connected:true")["things"])
        emu.advance(300)
        assert members(iot, "online") == ["d1"]
    finally:
        c.disconnect()
        c.loop_stop()
    assert wait_for(lambda: not iot.search_index(
        queryString="connectivity.connected:true")["things"])
    emu.advance(300)
    assert members(iot, "online") == []


def msg_profile(iot, name, target):
    iot.create_security_profile(securityProfileName=name, behaviors=[{
        "name": "msgs", "metric": "aws:num-messages-sent",
        "criteria": {"comparisonOperator": "less-than", "value": {"count": 2},
                     "durationSeconds": 300}}])
    iot.attach_security_profile(securityProfileName=name, securityProfileTargetArn=target)


def publish(emu, client_id, n):
    dev = emu.mqtt_start(mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311))
    try:
        for _ in range(n):
            dev.publish("t", b"x", qos=1).wait_for_publish(timeout=5)
    finally:
        dev.disconnect()
        dev.loop_stop()


def test_follows_violations_and_detect_judges_its_members(emu, iot):
    """SP1 on every thing fills the dynamic group `alarming`; SP2 targets
    that group, so it judges exactly its members; a thing that leaves has
    its SP2 violation invalidated."""
    for name in ("r1", "r2"):
        iot.create_thing(thingName=name)
    msg_profile(iot, "SP1", "arn:aws:iot:us-east-1:123456789012:all/things")
    iot.create_dynamic_thing_group(
        thingGroupName="alarming", queryString="deviceDefender.SP1.msgs.inViolation:true")
    msg_profile(iot, "SP2", GARN + "alarming")
    emu.sync()
    assert members(iot, "alarming") == []
    publish(emu, "r1", 3)
    emu.advance(300)
    assert members(iot, "alarming") == ["r1"]
    active = iot.list_active_violations()["activeViolations"]
    assert sorted((v["thingName"], v["securityProfileName"]) for v in active) == [("r1", "SP1")]
    # r1 is now a member: SP2 judges it in the next window, r2 (no member) never.
    publish(emu, "r1", 3)
    publish(emu, "r2", 1)
    emu.advance(300)
    active = iot.list_active_violations()["activeViolations"]
    assert sorted((v["thingName"], v["securityProfileName"]) for v in active) == [
        ("r1", "SP1"), ("r1", "SP2")]
    assert iot.list_targets_for_security_profile(securityProfileName="SP2")[
        "securityProfileTargets"] == [{"arn": GARN + "alarming"}]
    # r1 leaves the group (a query it no longer matches): its SP2 violation
    # is invalidated, SP1's stays.
    iot.update_dynamic_thing_group(
        thingGroupName="alarming", thingGroupProperties={},
        queryString="deviceDefender.SP1.msgs.inViolation:true AND thingName:r2")
    emu.sync()
    assert members(iot, "alarming") == []
    active = iot.list_active_violations()["activeViolations"]
    assert [(v["thingName"], v["securityProfileName"]) for v in active] == [("r1", "SP1")]
    events = iot.list_violation_events(
        startTime=0, endTime=emu.clock()["now"] + 1, securityProfileName="SP2")["violationEvents"]
    assert [e["violationEventType"] for e in events if e["thingName"] == "r1"] == [
        "in-alarm", "alarm-invalidated"]
    # Back on the first query r1 is in again; once SP1 clears, it leaves.
    iot.update_dynamic_thing_group(
        thingGroupName="alarming", thingGroupProperties={},
        queryString="deviceDefender.SP1.msgs.inViolation:true")
    emu.sync()
    assert members(iot, "alarming") == ["r1"]
    publish(emu, "r1", 1)
    emu.advance(300)
    assert members(iot, "alarming") == []


def test_override_dynamic_groups(emu, iot):
    iot.create_thing(thingName="t", attributePayload={"attributes": {"fw": "1.2"}})
    iot.create_dynamic_thing_group(thingGroupName="d-old", queryString=QUERY)
    iot.create_dynamic_thing_group(thingGroupName="d-new", queryString="thingName:t")
    for i in range(8):
        iot.create_thing_group(thingGroupName="s%d" % i)
        iot.add_thing_to_thing_group(thingGroupName="s%d" % i, thingName="t")
    emu.sync()
    assert len(groups_of(iot, "t")) == 10
    iot.create_thing_group(thingGroupName="s8")
    with pytest.raises(ClientError) as e:
        iot.add_thing_to_thing_group(thingGroupName="s8", thingName="t")
    assert code(e) == "InvalidRequestException"
    iot.add_thing_to_thing_group(thingGroupName="s8", thingName="t", overrideDynamicGroups=True)
    got = groups_of(iot, "t")
    assert "d-new" not in got and "d-old" in got and "s8" in got
    # Full, the thing stays out of the group it matches at the next window.
    emu.advance(300)
    assert "d-new" not in groups_of(iot, "t")


def workshop_json(name):
    with open(os.path.join(ROOT, "fixtures", "workshop", name), encoding="utf-8") as f:
        return json.load(f)


def test_the_lab_fills_a_dynamic_group(emu, iot):
    """The workshop's profile (MsgSentSecProfile, fewer than 5 messages in 5
    minutes) on all things: the rogue device's 30 messages put it in the
    group of devices in alarm at that window close, and a quiet window takes
    it out again."""
    iot.create_thing(thingName="dev-XBHY")
    iot.create_thing(thingName="dev-calm")
    iot.create_dynamic_thing_group(
        thingGroupName="msg-sent-violators",
        queryString="deviceDefender.MsgSentSecProfile.MsgSentBehavior.inViolation:true")
    emu.client("sns").create_topic(Name="DDD_Alerts")
    iot.create_security_profile(**workshop_json("security-profile.json"))
    iot.attach_security_profile(**workshop_json("attach-security-profile.json"))
    emu.sync()
    publish(emu, "dev-XBHY", 30)
    publish(emu, "dev-calm", 1)
    assert members(iot, "msg-sent-violators") == []
    emu.advance(300)
    assert members(iot, "msg-sent-violators") == ["dev-XBHY"]
    out = emu.aws_json("iot", "list-thing-groups-for-thing", "--thing-name", "dev-XBHY")
    assert [g["groupName"] for g in out["thingGroups"]] == ["msg-sent-violators"]
    publish(emu, "dev-XBHY", 1)
    emu.advance(300)
    assert members(iot, "msg-sent-violators") == []
