"""AWS IoT lifecycle events: the broker publishes presence and subscription
events on $aws/events/... with AWS's documents; clients may subscribe to them
(as the policy says) but never publish there."""
import json
import time
import uuid

import paho.mqtt.client as mqtt

from conftest import http
from test_detect import Device

UUID_LEN = 36


def events(watcher, prefix, n, client_id=None, timeout=5):
    """The documents of the first n messages on topics starting with prefix
    (and ending with client_id when given)."""
    deadline = time.monotonic() + timeout
    while True:
        got = [(t, json.loads(p)) for t, p in watcher.received
               if t.startswith(prefix) and (not client_id or t.endswith("/" + client_id))]
        if len(got) >= n:
            return got
        assert time.monotonic() < deadline, "got %d of %d events on %s: %r" % (
            len(got), n, prefix, watcher.received)
        time.sleep(0.01)


def test_connect_subscribe_unsubscribe_disconnect(emulator):
    now_ms = round(emulator.clock()["now"] * 1000)
    watcher = Device(emulator, "watcher")
    assert watcher.subscribe("$aws/events/#") == 1
    dev = Device(emulator, "dev-1")
    [(topic, c)] = events(watcher, "$aws/events/presence/connected/", 1)
    assert topic == "$aws/events/presence/connected/dev-1"
    assert set(c) == {"clientId", "timestamp", "eventType", "sessionIdentifier",
                      "principalIdentifier", "ipAddress", "versionNumber"}
    assert c["clientId"] == "dev-1" and c["eventType"] == "connected"
    assert c["principalIdentifier"] == "dev-1"
    assert c["ipAddress"] == "127.0.0.1"
    assert c["versionNumber"] == 1
    uuid.UUID(c["sessionIdentifier"])
    assert c["timestamp"] == now_ms  # the manual clock, not the wall clock

    # The watcher hears its own subscription too.
    [(_, own)] = events(watcher, "$aws/events/subscriptions/subscribed/watcher", 1)
    assert own["topics"] == ["$aws/events/#"]
    assert dev.subscribe("a/b") == 1
    dev.client.unsubscribe("a/b")
    [(t1, s), (t2, u)] = events(watcher, "$aws/events/subscriptions/", 2, "dev-1")
    assert t1 == "$aws/events/subscriptions/subscribed/dev-1"
    assert t2 == "$aws/events/subscriptions/unsubscribed/dev-1"
    assert s == {"clientId": "dev-1", "timestamp": s["timestamp"], "eventType": "subscribed",
                 "sessionIdentifier": c["sessionIdentifier"], "principalIdentifier": "dev-1",
                 "topics": ["a/b"]}
    assert u["eventType"] == "unsubscribed" and u["topics"] == ["a/b"]
    assert u["sessionIdentifier"] == c["sessionIdentifier"]

    dev.close()
    [(topic, d)] = events(watcher, "$aws/events/presence/disconnected/", 1)
    assert topic == "$aws/events/presence/disconnected/dev-1"
    assert d["eventType"] == "disconnected"
    assert d["clientInitiatedDisconnect"] is True
    assert d["disconnectReason"] == "CLIENT_INITIATED_DISCONNECT"
    assert d["sessionIdentifier"] == c["sessionIdentifier"]
    assert d["versionNumber"] == 1 and "ipAddress" not in d

    # A new connection of the same client id: a new session, the next version.
    again = Device(emulator, "dev-1")
    connects = events(watcher, "$aws/events/presence/connected/dev-1", 2)
    assert connects[1][1]["versionNumber"] == 2
    assert connects[1][1]["sessionIdentifier"] != c["sessionIdentifier"]
    again.close()
    watcher.close()


def test_takeover_is_a_duplicate_client_id(emulator):
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/presence/#")
    first = Device(emulator, "dup")
    events(watcher, "$aws/events/presence/connected/dup", 1)
    second = Device(emulator, "dup")
    got = events(watcher, "$aws/events/presence/", 3)
    [d] = [e for t, e in got if e["eventType"] == "disconnected"]
    connects = [e for t, e in got if e["eventType"] == "connected"]
    assert d["disconnectReason"] == "DUPLICATE_CLIENTID"
    assert d["clientInitiatedDisconnect"] is False
    assert d["sessionIdentifier"] == connects[0]["sessionIdentifier"]
    assert [e["versionNumber"] for e in connects] == [1, 2]
    first.client.loop_stop()
    second.close()
    watcher.close()


def test_publishing_to_events_is_denied(emulator):
    """A forged lifecycle event never reaches subscribers, and the MQTT 3.1.1
    publisher is disconnected as for any denied publish."""
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/#")
    forger = Device(emulator, "forger")
    events(watcher, "$aws/events/presence/connected/forger", 1)
    forger.client.publish("$aws/events/presence/connected/someone", b'{"forged":true}', qos=0)
    forger.wait_disconnected()
    forger.client.loop_stop()
    [(_, d)] = events(watcher, "$aws/events/presence/disconnected/forger", 1)
    assert d["clientInitiatedDisconnect"] is False
    time.sleep(0.2)
    assert not [t for t, _ in watcher.received if t.endswith("/someone")]
    watcher.close()


def test_client_ids_with_wildcards_get_no_events(emulator):
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/#")
    odd = Device(emulator, "odd+id")
    plain = Device(emulator, "plain")
    events(watcher, "$aws/events/presence/connected/plain", 1)
    odd.close()
    plain.close()
    events(watcher, "$aws/events/presence/disconnected/plain", 1)
    assert not [t for t, _ in watcher.received if "odd" in t]
    watcher.close()


ALL_TYPES = ["THING", "THING_GROUP", "THING_TYPE", "THING_GROUP_MEMBERSHIP",
             "THING_GROUP_HIERARCHY", "THING_TYPE_ASSOCIATION", "JOB", "JOB_EXECUTION",
             "POLICY", "CERTIFICATE", "CA_CERTIFICATE"]


def test_event_configurations(emulator):
    iot = emulator.client("iot")
    fresh = iot.describe_event_configurations()
    assert fresh["eventConfigurations"] == {t: {"Enabled": False} for t in ALL_TYPES}
    assert "creationDate" not in fresh
    iot.update_event_configurations(eventConfigurations={"THING": {"Enabled": True}})
    emulator.advance(60)
    out = emulator.aws_json("iot", "update-event-configurations", "--event-configurations",
                            '{"THING_GROUP_MEMBERSHIP": {"Enabled": true}}')
    assert out in (None, {})
    got = emulator.aws_json("iot", "describe-event-configurations")
    assert got["eventConfigurations"]["THING"] == {"Enabled": True}
    assert got["eventConfigurations"]["THING_GROUP_MEMBERSHIP"] == {"Enabled": True}
    assert got["eventConfigurations"]["POLICY"] == {"Enabled": False}
    assert got["creationDate"] and got["lastModifiedDate"]
    dates = iot.describe_event_configurations()
    assert (dates["lastModifiedDate"] - dates["creationDate"]).total_seconds() == 60
    # An unknown type or a value that is not {"Enabled": bool} changes nothing.
    try:
        iot.update_event_configurations(eventConfigurations={"THINGS": {"Enabled": True}})
        raise AssertionError("accepted THINGS")
    except iot.exceptions.InvalidRequestException as e:
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "THINGS" in e.response["Error"]["Message"]
    # What SDKs refuse to send, a raw request tries.
    status, headers, body = http("PATCH", emulator.endpoint + "/event-configurations",
                                 json.dumps({"eventConfigurations": {
                                     "THING": {"Enabled": "yes"}}}).encode())
    assert status == 400 and headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    err = emulator.aws("iot", "update-event-configurations", "--event-configurations",
                       '{"NOPE": {"Enabled": true}}', check=False)
    assert err.returncode != 0 and "InvalidRequestException" in err.stderr
    assert iot.describe_event_configurations()["eventConfigurations"]["THING"]["Enabled"]


def test_registry_events(emulator):
    iot = emulator.client("iot")
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/thing/#")
    watcher.subscribe("$aws/events/thingGroupMembership/#")
    # Off (the default): nothing is published.
    iot.create_thing(thingName="quiet")
    iot.delete_thing(thingName="quiet")

    iot.update_event_configurations(eventConfigurations={
        "THING": {"Enabled": True}, "THING_GROUP_MEMBERSHIP": {"Enabled": True}})
    now_ms = round(emulator.clock()["now"] * 1000)
    made = iot.create_thing(thingName="t1", attributePayload={"attributes": {"color": "red"}})
    iot.update_thing(thingName="t1", attributePayload={"attributes": {"size": "L"},
                                                        "merge": True})
    g = iot.create_thing_group(thingGroupName="fleet")
    emulator.aws("iot", "add-thing-to-thing-group", "--thing-group-name", "fleet",
                 "--thing-name", "t1")
    iot.remove_thing_from_thing_group(thingGroupName="fleet", thingName="t1")
    emulator.aws("iot", "delete-thing", "--thing-name", "t1")
    got = events(watcher, "$aws/events/", 5)
    topics = [t for t, _ in got]
    assert topics == ["$aws/events/thing/t1/created", "$aws/events/thing/t1/updated",
                      "$aws/events/thingGroupMembership/thingGroup/fleet/thing/t1/added",
                      "$aws/events/thingGroupMembership/thingGroup/fleet/thing/t1/removed",
                      "$aws/events/thing/t1/deleted"]
    created, updated, added, removed, deleted = [e for _, e in got]
    assert created == {"eventType": "THING_EVENT", "eventId": created["eventId"],
                       "timestamp": now_ms, "operation": "CREATED",
                       "accountId": "123456789012", "thingId": made["thingId"],
                       "thingName": "t1", "versionNumber": 1, "thingTypeName": None,
                       "attributes": {"color": "red"}}
    uuid.UUID(created["eventId"])
    assert updated["operation"] == "UPDATED" and updated["versionNumber"] == 2
    assert updated["attributes"] == {"color": "red", "size": "L"}
    assert deleted["operation"] == "DELETED" and deleted["versionNumber"] == 2
    assert len({created["eventId"], updated["eventId"], deleted["eventId"]}) == 3
    assert added == {"eventType": "THING_GROUP_MEMBERSHIP_EVENT", "eventId": added["eventId"],
                     "timestamp": now_ms, "operation": "ADDED", "accountId": "123456789012",
                     "groupArn": g["thingGroupArn"], "groupId": g["thingGroupId"],
                     "thingArn": made["thingArn"], "thingId": made["thingId"],
                     "membershipId": added["membershipId"]}
    assert removed["operation"] == "REMOVED"
    assert not [t for t, _ in watcher.received if "quiet" in t]

    # Off again: a change publishes nothing more.
    emulator.aws("iot", "update-event-configurations", "--event-configurations",
                 '{"THING": {"Enabled": false}}')
    iot.create_thing(thingName="t2")
    iot.create_thing(thingName="t3")
    iot.add_thing_to_thing_group(thingGroupName="fleet", thingName="t3")
    events(watcher, "$aws/events/thingGroupMembership/", 3)
    assert not [t for t, _ in watcher.received if t.startswith("$aws/events/thing/t2")]
    watcher.close()


def test_thing_group_events(emulator):
    iot = emulator.client("iot")
    watcher = Device(emulator, "watcher")
    watcher.subscribe("$aws/events/thingGroup/#")
    emulator.aws("iot", "update-event-configurations", "--event-configurations",
                 '{"THING_GROUP": {"Enabled": true}}')
    root = iot.create_thing_group(thingGroupName="site")
    child = iot.create_thing_group(thingGroupName="floor", parentGroupName="site",
                                   thingGroupProperties={
                                       "thingGroupDescription": "first floor",
                                       "attributePayload": {"attributes": {"n": "1"}}})
    iot.update_thing_group(thingGroupName="floor",
                           thingGroupProperties={"thingGroupDescription": "ground floor"})
    emulator.aws("iot", "delete-thing-group", "--thing-group-name", "floor")
    got = events(watcher, "$aws/events/thingGroup/", 4)
    assert [t for t, _ in got] == ["$aws/events/thingGroup/site/created",
                                   "$aws/events/thingGroup/floor/created",
                                   "$aws/events/thingGroup/floor/updated",
                                   "$aws/events/thingGroup/floor/deleted"]
    site, floor, updated, deleted = [e for _, e in got]
    assert site["parentGroupName"] is None and site["rootToParentThingGroups"] == []
    assert floor == {"eventType": "THING_GROUP_EVENT", "eventId": floor["eventId"],
                     "timestamp": floor["timestamp"], "operation": "CREATED",
                     "accountId": "123456789012", "thingGroupId": child["thingGroupId"],
                     "thingGroupName": "floor", "versionNumber": 1,
                     "parentGroupName": "site", "parentGroupId": root["thingGroupId"],
                     "description": "first floor",
                     "rootToParentThingGroups": [{"groupArn": root["thingGroupArn"],
                                                  "groupId": root["thingGroupId"]}],
                     "attributes": {"n": "1"}, "dynamicGroupMappingId": None}
    assert updated["description"] == "ground floor" and updated["versionNumber"] == 2
    assert deleted["operation"] == "DELETED"
    watcher.close()
