"""AWS IoT lifecycle events: the broker publishes presence and subscription
events on $aws/events/... with AWS's documents; clients may subscribe to them
(as the policy says) but never publish there."""
import json
import time
import uuid

import paho.mqtt.client as mqtt

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
    emulator.args.append("--manual-clock")
    emulator.start()
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
    emulator.start()
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
    emulator.start()
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
    emulator.start()
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
