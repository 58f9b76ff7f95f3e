"""AWS IoT registry events beyond things, groups and memberships: thing type
events, thing type associations and the thing group hierarchy, published on
$aws/events/... with AWS's documents when the event configuration enables
them, and never for a change that fails."""
import uuid

import botocore.exceptions

from test_detect import Device
from test_lifecycle import events


def test_thing_type_and_association_events(emulator):
    iot = emulator.client("iot")
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/thingType/#")
    watcher.subscribe("$aws/events/thingTypeAssociation/#")
    # Off (the default): nothing is published.
    iot.create_thing_type(thingTypeName="quiet")
    iot.create_thing(thingName="q1", thingTypeName="quiet")

    emulator.aws("iot", "update-event-configurations", "--event-configurations",
                 '{"THING_TYPE": {"Enabled": true}, '
                 '"THING_TYPE_ASSOCIATION": {"Enabled": true}}')
    now_ms = round(emulator.clock()["now"] * 1000)
    lamp = iot.create_thing_type(thingTypeName="lamp", thingTypeProperties={
        "thingTypeDescription": "a lamp", "searchableAttributes": ["watts"]})
    emulator.aws("iot", "create-thing-type", "--thing-type-name", "plug")
    t1 = iot.create_thing(thingName="t1", thingTypeName="lamp")
    emulator.aws("iot", "update-thing", "--thing-name", "t1", "--thing-type-name", "plug")
    iot.update_thing(thingName="t1", thingTypeName="plug")  # the same type: no association
    # A refused change announces nothing.
    try:
        iot.deprecate_thing_type(thingTypeName="nope")
        raise AssertionError("deprecated a missing type")
    except iot.exceptions.ResourceNotFoundException as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    err = emulator.aws("iot", "delete-thing-type", "--thing-type-name", "lamp", check=False)
    assert err.returncode != 0 and "InvalidRequestException" in err.stderr
    emulator.aws("iot", "deprecate-thing-type", "--thing-type-name", "lamp")
    deprecated_ms = round(emulator.clock()["now"] * 1000)
    iot.deprecate_thing_type(thingTypeName="lamp", undoDeprecate=True)
    iot.deprecate_thing_type(thingTypeName="lamp")
    emulator.advance(301)
    iot.delete_thing_type(thingTypeName="lamp")
    got = events(watcher, "$aws/events/thingType", 9)
    assert [t for t, _ in got] == [
        "$aws/events/thingType/lamp/created",
        "$aws/events/thingType/plug/created",
        "$aws/events/thingTypeAssociation/thing/t1/lamp",
        "$aws/events/thingTypeAssociation/thing/t1/lamp",
        "$aws/events/thingTypeAssociation/thing/t1/plug",
        "$aws/events/thingType/lamp/updated",
        "$aws/events/thingType/lamp/updated",
        "$aws/events/thingType/lamp/updated",
        "$aws/events/thingType/lamp/deleted"]
    created, plug, added, removed, added2, dep, undep, dep2, deleted = [e for _, e in got]
    assert created == {"eventType": "THING_TYPE_EVENT", "eventId": created["eventId"],
                       "timestamp": now_ms, "operation": "CREATED",
                       "accountId": "123456789012", "thingTypeId": lamp["thingTypeId"],
                       "thingTypeName": "lamp", "isDeprecated": False,
                       "deprecationDate": None, "searchableAttributes": ["watts"],
                       "propagatingAttributes": [], "description": "a lamp"}
    uuid.UUID(created["eventId"])
    assert plug["description"] is None and plug["searchableAttributes"] == []
    assert added == {"eventId": added["eventId"], "eventType": "THING_TYPE_ASSOCIATION_EVENT",
                     "operation": "ADDED", "thingId": t1["thingId"], "thingName": "t1",
                     "thingTypeName": "lamp", "timestamp": now_ms}
    assert removed["operation"] == "REMOVED" and removed["thingTypeName"] == "lamp"
    assert added2["operation"] == "ADDED" and added2["thingTypeName"] == "plug"
    assert dep["operation"] == "UPDATED" and dep["isDeprecated"] is True
    assert dep["deprecationDate"] == deprecated_ms
    assert undep["isDeprecated"] is False and undep["deprecationDate"] is None
    assert dep2["isDeprecated"] is True
    assert deleted["operation"] == "DELETED" and deleted["timestamp"] == now_ms + 301000
    assert not [t for t, _ in watcher.received if "quiet" in t or "nope" in t]

    # Off again: a change publishes nothing more.
    iot.update_event_configurations(eventConfigurations={
        "THING_TYPE": {"Enabled": False}, "THING_TYPE_ASSOCIATION": {"Enabled": False}})
    iot.create_thing_type(thingTypeName="later")
    iot.create_thing(thingName="t2", thingTypeName="later")
    iot.update_event_configurations(eventConfigurations={"THING_TYPE": {"Enabled": True}})
    iot.create_thing_type(thingTypeName="last")
    events(watcher, "$aws/events/thingType/last/", 1)
    assert not [t for t, _ in watcher.received if "later" in t]
    assert len(watcher.received) == 10
    watcher.close()


def test_thing_group_hierarchy_events(emulator):
    iot = emulator.client("iot")
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/thingGroupHierarchy/#")
    iot.create_thing_group(thingGroupName="old")
    iot.create_thing_group(thingGroupName="older", parentGroupName="old")

    iot.update_event_configurations(eventConfigurations={
        "THING_GROUP_HIERARCHY": {"Enabled": True}})
    site = iot.create_thing_group(thingGroupName="site")
    floor = emulator.aws_json("iot", "create-thing-group", "--thing-group-name", "floor",
                              "--parent-group-name", "site")
    # A parent that does not exist: refused, and nothing announced.
    try:
        iot.create_thing_group(thingGroupName="room", parentGroupName="nope")
        raise AssertionError("created under a missing parent")
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] in ("ResourceNotFoundException",
                                               "InvalidRequestException")
    err = emulator.aws("iot", "delete-thing-group", "--thing-group-name", "site", check=False)
    assert err.returncode != 0 and "InvalidRequestException" in err.stderr
    iot.delete_thing_group(thingGroupName="floor")
    got = events(watcher, "$aws/events/thingGroupHierarchy/", 2)
    prefix = "$aws/events/thingGroupHierarchy/thingGroup/site/childThingGroup/floor/"
    assert [t for t, _ in got] == [prefix + "added", prefix + "removed"]
    added, removed = [e for _, e in got]
    assert added == {"eventType": "THING_GROUP_HIERARCHY_EVENT", "eventId": added["eventId"],
                     "timestamp": added["timestamp"], "operation": "ADDED",
                     "accountId": "123456789012", "thingGroupId": site["thingGroupId"],
                     "thingGroupName": "site", "childGroupId": floor["thingGroupId"],
                     "childGroupName": "floor"}
    assert removed["operation"] == "REMOVED" and removed["eventId"] != added["eventId"]
    # Off again.
    emulator.aws("iot", "update-event-configurations", "--event-configurations",
                 '{"THING_GROUP_HIERARCHY": {"Enabled": false}}')
    iot.create_thing_group(thingGroupName="attic", parentGroupName="site")
    iot.delete_thing_group(thingGroupName="attic")
    iot.update_event_configurations(eventConfigurations={
        "THING_GROUP_HIERARCHY": {"Enabled": True}})
    iot.create_thing_group(thingGroupName="cellar", parentGroupName="site")
    events(watcher, "$aws/events/thingGroupHierarchy/thingGroup/site/childThingGroup/cellar/", 1)
    assert len(watcher.received) == 3
    assert not [t for t, _ in watcher.received if "old" in t or "attic" in t or "room" in t]
    watcher.close()


def test_dynamic_group_membership_events(emulator):
    iot = emulator.client("iot")
    iot.update_indexing_configuration(thingIndexingConfiguration={
        "thingIndexingMode": "REGISTRY"})
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/thingGroupMembership/#")
    iot.create_thing(thingName="a", attributePayload={"attributes": {"fw": "1.2"}})
    iot.create_thing(thingName="b", attributePayload={"attributes": {"fw": "1.1"}})
    # Off: the engine's first build announces nothing.
    iot.create_dynamic_thing_group(thingGroupName="old", queryString="attributes.fw:1.2")
    emulator.sync()

    emulator.aws("iot", "update-event-configurations", "--event-configurations",
                 '{"THING_GROUP_MEMBERSHIP": {"Enabled": true}}')
    g = iot.create_dynamic_thing_group(thingGroupName="fw12", queryString="attributes.fw:1.2")
    emulator.sync()
    built_ms = round(emulator.clock()["now"] * 1000)
    # The engine picks attribute changes up at the next window close.
    iot.update_thing(thingName="a", attributePayload={"attributes": {"fw": "1.3"}})
    iot.update_thing(thingName="b", attributePayload={"attributes": {"fw": "1.2"}})
    emulator.advance(300)
    got = events(watcher, "$aws/events/thingGroupMembership/thingGroup/fw12/", 3)
    assert sorted(t for t, _ in got) == [
        "$aws/events/thingGroupMembership/thingGroup/fw12/thing/a/added",
        "$aws/events/thingGroupMembership/thingGroup/fw12/thing/a/removed",
        "$aws/events/thingGroupMembership/thingGroup/fw12/thing/b/added"]
    first = got[0][1]
    assert got[0][0].endswith("/a/added")
    assert first == {"eventType": "THING_GROUP_MEMBERSHIP_EVENT", "eventId": first["eventId"],
                     "timestamp": built_ms, "operation": "ADDED",
                     "accountId": "123456789012", "groupArn": g["thingGroupArn"],
                     "groupId": g["thingGroupId"],
                     "thingArn": "arn:aws:iot:us-east-1:123456789012:thing/a",
                     "thingId": iot.describe_thing(thingName="a")["thingId"],
                     "membershipId": first["membershipId"]}
    # The window's close is the time of the changes it found.
    assert all(e["timestamp"] > built_ms for _, e in got[1:])
    assert all(e["timestamp"] % 300000 == 0 for _, e in got[1:])
    # old was built while events were off; it announces its later changes.
    topics = [t for t, _ in watcher.received]
    assert "$aws/events/thingGroupMembership/thingGroup/old/thing/a/added" not in topics
    assert "$aws/events/thingGroupMembership/thingGroup/old/thing/b/added" in topics
    watcher.close()


def test_mitigation_membership_events(emulator):
    from test_mitigation import QUARANTINE, ROLE, chatty_profile, run_task, violate

    iot = emulator.client("iot")
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/thingGroupMembership/#")
    q = iot.create_thing_group(thingGroupName="Quarantine")
    for thing in ("dev-A", "dev-B"):
        iot.create_thing(thingName=thing)
    iot.create_mitigation_action(actionName="QuarantineAction", roleArn=ROLE,
                                 actionParams=QUARANTINE)
    emulator.aws("iot", "update-event-configurations", "--event-configurations",
                 '{"THING_GROUP_MEMBERSHIP": {"Enabled": true}}')
    chatty_profile(emulator, iot)
    start = emulator.clock()["now"]
    window_end = violate(emulator, "dev-A")
    iot.start_detect_mitigation_actions_task(
        taskId="t1", target={"securityProfileName": "MsgSentSecProfile"},
        actions=["QuarantineAction"],
        violationEventOccurrenceRange={"startTime": start, "endTime": window_end + 1},
        clientRequestToken="tok-1")
    assert run_task(emulator, iot, "t1")["taskStatus"] == "SUCCESSFUL"
    got = events(watcher, "$aws/events/thingGroupMembership/", 1)
    assert [t for t, _ in got] == [
        "$aws/events/thingGroupMembership/thingGroup/Quarantine/thing/dev-A/added"]
    ev = got[0][1]
    assert ev["operation"] == "ADDED" and ev["accountId"] == "123456789012"
    assert ev["groupArn"] == q["thingGroupArn"] and ev["groupId"] == q["thingGroupId"]
    assert ev["thingArn"] == "arn:aws:iot:us-east-1:123456789012:thing/dev-A"
    # The task's emulated time, not the time of an earlier request.
    assert window_end * 1000 <= ev["timestamp"] <= (window_end + 10) * 1000
    assert len(watcher.received) == 1
    watcher.close()
