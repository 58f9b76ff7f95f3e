# SPDX-License-Identifier: MIT
"""Device shadows through both doors: the iot-data REST API (boto3 and the
AWS CLI) and the reserved MQTT topics (paho devices), plus iot-data Publish.

One emulator serves the module; every test uses its own thing names. Replies
to REST requests reach devices through the MQTT outbox the plugin's engine
drains; requests over MQTT go through shadow_mqtt_handle() on that thread."""
import concurrent.futures
import json
import os
import threading
import time

import botocore.exceptions
import paho.mqtt.client as mqtt
import pytest

from conftest import http

WAIT_S = 10


@pytest.fixture(scope="module")
def data(emu):
    return emu.client("iot-data")


def now_s(emu):
    return int(emu.clock()["now"])


class Device:
    """A paho MQTT client that records every message it receives."""

    def __init__(self, emu, client_id, protocol=mqtt.MQTTv311):
        self.cond = threading.Condition()
        self.msgs = []
        self.acks = set()
        self.connected = False
        kwargs = {"client_id": client_id, "protocol": protocol}
        self.c = mqtt.Client(**kwargs)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = self._on_subscribe
        self.c.connect("127.0.0.1", emu.mqtt_port)
        self.c.loop_start()
        self._wait(lambda: self.connected, "CONNACK")

    def _on_connect(self, c, userdata, flags, rc, properties=None):
        with self.cond:
            self.connected = True
            self.cond.notify_all()

    def _on_message(self, c, userdata, m):
        with self.cond:
            self.msgs.append(m)
            self.cond.notify_all()

    def _on_subscribe(self, c, userdata, mid, granted, properties=None):
        with self.cond:
            self.acks.add(mid)
            self.cond.notify_all()

    def _wait(self, pred, what, timeout=WAIT_S):
        with self.cond:
            if not self.cond.wait_for(pred, timeout):
                raise AssertionError("timed out waiting for %s" % what)

    def subscribe(self, *topics, qos=1):
        rc, mid = self.c.subscribe([(t, qos) for t in topics])
        assert rc == mqtt.MQTT_ERR_SUCCESS
        self._wait(lambda: mid in self.acks, "SUBACK")

    def publish(self, topic, payload, qos=1, retain=False):
        info = self.c.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish()

    def take(self, topic, timeout=WAIT_S):
        """The first unread message on topic (removed from the list)."""
        found = []

        def pred():
            for m in self.msgs:
                if m.topic == topic:
                    found.append(m)
                    self.msgs.remove(m)
                    return True
            return False

        self._wait(pred, "a message on " + topic, timeout)
        return found[0]

    def take_json(self, topic, timeout=WAIT_S):
        return json.loads(self.take(topic, timeout).payload)

    def topics(self):
        with self.cond:
            return [m.topic for m in self.msgs]

    def stop(self):
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def device(emu, request):
    made = []

    def make(client_id, protocol=mqtt.MQTTv311):
        d = Device(emu, client_id, protocol)
        made.append(d)
        return d

    yield make
    for d in made:
        d.stop()


def body(resp):
    return json.loads(resp["payload"].read())


def update(data, thing, doc, name=None):
    kwargs = {"thingName": thing, "payload": json.dumps(doc).encode()}
    if name:
        kwargs["shadowName"] = name
    return body(data.update_thing_shadow(**kwargs))


def error_of(fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as ei:
        fn(*args, **kwargs)
    return ei.value.response


# --- REST ---------------------------------------------------------------------


def test_seed_scenario_document(emu, data):
    """The workshop: desired.debug first, then the mitigation Lambda's
    desired.quarantine; the CLI shows the seed's document."""
    t1 = now_s(emu)
    acc = update(data, "dev-XBHY", {"state": {"desired": {"debug": "off"}}})
    assert acc == {"state": {"desired": {"debug": "off"}},
                   "metadata": {"desired": {"debug": {"timestamp": t1}}},
                   "version": 1, "timestamp": t1}
    emu.advance(2779)
    t2 = now_s(emu)
    resp = data.update_thing_shadow(
        thingName="dev-XBHY", payload=json.dumps({'state': {'desired': {'quarantine': True}}}))
    acc = json.loads(resp["payload"].read())
    assert acc == {"state": {"desired": {"quarantine": True}},
                   "metadata": {"desired": {"quarantine": {"timestamp": t2}}},
                   "version": 2, "timestamp": t2}
    assert resp["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/json"
    emu.advance(1575)
    t3 = now_s(emu)
    out = os.path.join(emu.data_dir, "shadow_output")
    emu.aws("iot-data", "get-thing-shadow", "--thing-name", "dev-XBHY", out)
    with open(out) as f:
        doc = json.load(f)
    assert doc == {
        "state": {"desired": {"debug": "off", "quarantine": True},
                  "delta": {"debug": "off", "quarantine": True}},
        "metadata": {"desired": {"debug": {"timestamp": t1},
                                 "quarantine": {"timestamp": t2}}},
        "version": 2,
        "timestamp": t3,
    }
    assert t2 - t1 == 2779 and t3 - t2 == 1575


def test_cli_update_and_named_shadow(emu, data):
    out = os.path.join(emu.data_dir, "out.json")
    emu.aws("iot-data", "update-thing-shadow", "--thing-name", "cli-1", "--shadow-name",
            "quarantine", "--cli-binary-format", "raw-in-base64-out",
            "--payload", '{"state":{"reported":{"quarantine":true}}}', out)
    with open(out) as f:
        assert json.load(f)["version"] == 1
    # The named shadow is its own document; the classic one does not exist.
    doc = body(data.get_thing_shadow(thingName="cli-1", shadowName="quarantine"))
    assert doc["state"] == {"reported": {"quarantine": True}}
    err = error_of(data.get_thing_shadow, thingName="cli-1")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    p = emu.aws("iot-data", "get-thing-shadow", "--thing-name", "cli-1", out, check=False)
    assert p.returncode == 254
    assert "(ResourceNotFoundException) when calling the GetThingShadow operation: " \
           "No shadow exists with name: 'cli-1'" in p.stderr


def test_delete_then_get_404(emu, data):
    update(data, "del-1", {"state": {"reported": {"a": 1}}})
    update(data, "del-1", {"state": {"reported": {"a": 2}}})
    t = now_s(emu)
    assert body(data.delete_thing_shadow(thingName="del-1")) == {"version": 2, "timestamp": t}
    err = error_of(data.get_thing_shadow, thingName="del-1")
    assert err["Error"] == {"Code": "ResourceNotFoundException",
                            "Message": "No shadow exists with name: 'del-1'"}
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    err = error_of(data.delete_thing_shadow, thingName="del-1")
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    # Re-creating continues the version sequence.
    assert update(data, "del-1", {"state": {"reported": {"a": 3}}})["version"] == 3
    p = emu.aws("iot-data", "delete-thing-shadow", "--thing-name", "del-1", "--shadow-name", "nope",
                os.path.join(emu.data_dir, "o.json"), check=False)
    assert p.returncode == 254
    assert "No shadow exists with name: 'del-1~nope'" in p.stderr


def test_version_conflict_rest(emu, data):
    update(data, "ver-1", {"state": {"desired": {"a": 1}}})
    err = error_of(data.update_thing_shadow, thingName="ver-1",
                   payload=b'{"state":{"desired":{"a":2}},"version":7}')
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert err["Error"] == {"Code": "ConflictException", "Message": "Version conflict"}
    acc = update(data, "ver-1", {"state": {"desired": {"a": 2}}, "version": 1})
    assert acc["version"] == 2


def test_rejected_documents_store_nothing(emu, data):
    big = {"state": {"desired": {"k": "x" * 8200}}}
    err = error_of(data.update_thing_shadow, thingName="big-1", payload=json.dumps(big))
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert err["Error"] == {"Code": "RequestEntityTooLargeException",
                            "Message": "The payload exceeds the maximum size allowed"}
    deep = {"state": {"reported": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}
    err = error_of(data.update_thing_shadow, thingName="big-1", payload=json.dumps(deep))
    assert err["Error"] == {"Code": "InvalidRequestException",
                            "Message": "JSON contains too many levels of nesting; maximum is 6"}
    err = error_of(data.update_thing_shadow, thingName="big-1", payload=b"\xff\xfe")
    assert err["Error"]["Code"] == "UnsupportedDocumentEncodingException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 415
    for raw in (b"{", b"", b'{"state":{"color":1}}'):
        status, headers, out = http("POST", emu.endpoint + "/things/big-1/shadow", raw)
        assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException", out
    assert error_of(data.get_thing_shadow, thingName="big-1")["Error"]["Code"] == \
        "ResourceNotFoundException"
    # Six levels are fine.
    ok = {"state": {"reported": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}}
    assert update(data, "big-1", ok)["version"] == 1


def test_bad_names(emu, data):
    status, headers, out = http("GET", emu.endpoint + "/things/bad%20name/shadow")
    assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException"
    status, headers, out = http("GET", emu.endpoint + "/things/ok/shadow?name=%24package")
    assert status == 400 and b"shadowName" in out


def test_list_named_shadows_paging(emu, data):
    names = ["n%02d" % i for i in range(7)]
    for n in reversed(names):
        update(data, "lister", {"state": {"reported": {"on": True}}}, name=n)
    update(data, "lister", {"state": {"reported": {"classic": True}}})
    data.delete_thing_shadow(thingName="lister", shadowName="n03")
    expected = [n for n in names if n != "n03"]
    got, token, pages = [], None, 0
    while True:
        kwargs = {"thingName": "lister", "pageSize": 2}
        if token:
            kwargs["nextToken"] = token
        page = data.list_named_shadows_for_thing(**kwargs)
        pages += 1
        assert page["timestamp"] == now_s(emu)
        got += page["results"]
        token = page.get("nextToken")
        if not token:
            break
    assert got == expected and pages == 3
    # Unknown thing: an empty list, not 404; the CLI sends pageSize.
    out = emu.aws_json("iot-data", "list-named-shadows-for-thing", "--thing-name", "nobody",
                       "--page-size", "10")
    assert out["results"] == [] and "nextToken" not in out
    all_ = data.list_named_shadows_for_thing(thingName="lister")
    assert all_["results"] == expected and "nextToken" not in all_
    base = emu.endpoint + "/api/things/shadow/ListNamedShadowsForThing/lister"
    for q in ("?pageSize=101", "?pageSize=0", "?pageSize=x", "?nextToken=garbage"):
        status, headers, _ = http("GET", base + q)
        assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException", q


def test_publish_validation(emu):
    for path in ("/topics/a%2F%23", "/topics/a%2F%2B%2Fb", "/topics/" + "x" * 257,
                 "/topics/a%2Fb%2Fc%2Fd%2Fe%2Ff%2Fg%2Fh%2Fi", "/topics/a?qos=2",
                 "/topics/a?retain=yes", "/topics/a?messageExpiry=-1",
                 "/topics/a?responseTopic=r%2F%23"):
        status, headers, out = http("POST", emu.endpoint + path, b"x")
        assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException", path
    status, _, out = http("POST", emu.endpoint + "/topics/a",
                          b"x", {"x-amz-mqtt5-payload-format-indicator": "TEXT"})
    assert status == 400
    status, _, out = http("POST", emu.endpoint + "/topics/a",
                          b"x", {"x-amz-mqtt5-user-properties": "!!"})
    assert status == 400


# --- both doors (need the engine to serve MQTT) ------------------------------


def test_rest_update_reaches_device(emu, data, device):
    dev = device("dev-delta")
    p = "$aws/things/dev-delta/shadow/"
    dev.subscribe(p + "update/delta", p + "update/accepted", p + "update/documents",
                  p + "update/rejected")
    t = now_s(emu)
    update(data, "dev-delta", {"state": {"desired": {"quarantine": True}}})
    delta = dev.take_json(p + "update/delta")
    assert delta == {"state": {"quarantine": True},
                     "metadata": {"quarantine": {"timestamp": t}},
                     "version": 1, "timestamp": t}
    acc = dev.take_json(p + "update/accepted")
    assert acc["version"] == 1 and acc["state"] == {"desired": {"quarantine": True}}
    docs = dev.take_json(p + "update/documents")
    assert docs["previous"] is None and docs["current"]["version"] == 1
    # The device reports it: no delta any more, so no delta message.
    dev.publish(p + "update", json.dumps({"state": {"reported": {"quarantine": True}},
                                          "clientToken": "dev-2"}))
    acc = dev.take_json(p + "update/accepted")
    assert acc["version"] == 2 and acc["clientToken"] == "dev-2"
    dev.take_json(p + "update/documents")
    # A failed REST request publishes nothing on /rejected.
    error_of(data.update_thing_shadow, thingName="dev-delta", payload=b"{")
    time.sleep(0.5)
    assert p + "update/delta" not in dev.topics()
    assert p + "update/rejected" not in dev.topics()


def test_mqtt_update_then_rest_get(emu, data, device):
    dev = device("dev-mq")
    p = "$aws/things/dev-mq/shadow/"
    dev.subscribe(p + "update/accepted", p + "update/rejected")
    t = now_s(emu)
    dev.publish(p + "update", json.dumps({"state": {"reported": {"fw": "1.0.3"}},
                                          "clientToken": "c1"}))
    acc = dev.take_json(p + "update/accepted")
    assert acc == {"state": {"reported": {"fw": "1.0.3"}},
                   "metadata": {"reported": {"fw": {"timestamp": t}}},
                   "version": 1, "timestamp": t, "clientToken": "c1"}
    doc = body(data.get_thing_shadow(thingName="dev-mq"))
    assert doc["state"] == {"reported": {"fw": "1.0.3"}} and doc["version"] == 1


def test_mqtt_get_delete_with_client_token(emu, data, device):
    dev = device("dev-gd")
    p = "$aws/things/dev-gd/shadow/"
    dev.subscribe(p + "get/accepted", p + "get/rejected", p + "delete/accepted",
                  p + "delete/rejected")
    dev.publish(p + "get", json.dumps({"clientToken": "g0"}))
    rej = dev.take_json(p + "get/rejected")
    assert rej == {"code": 404, "message": "No shadow exists with name: 'dev-gd'",
                   "clientToken": "g0"}
    update(data, "dev-gd", {"state": {"desired": {"color": "red"}}})
    t = now_s(emu)
    dev.publish(p + "get", json.dumps({"clientToken": "g1"}))
    doc = dev.take_json(p + "get/accepted")
    assert doc == {"state": {"desired": {"color": "red"}, "delta": {"color": "red"}},
                   "metadata": {"desired": {"color": {"timestamp": t}}},
                   "version": 1, "timestamp": t, "clientToken": "g1"}
    dev.publish(p + "get", b"")
    assert "clientToken" not in dev.take_json(p + "get/accepted")
    dev.publish(p + "delete", json.dumps({"clientToken": "d1"}))
    assert dev.take_json(p + "delete/accepted") == {"version": 1, "timestamp": t,
                                                    "clientToken": "d1"}
    dev.publish(p + "delete", b"")
    assert dev.take_json(p + "delete/rejected")["code"] == 404
    assert error_of(data.get_thing_shadow, thingName="dev-gd")["Error"]["Code"] == \
        "ResourceNotFoundException"


def test_mqtt_named_shadow(emu, data, device):
    dev = device("dev-named")
    p = "$aws/things/dev-named/shadow/name/cfg/"
    dev.subscribe(p + "update/accepted", p + "update/delta", p + "get/accepted")
    dev.publish(p + "update", json.dumps({"state": {"reported": {"mode": "eco"}}}))
    assert dev.take_json(p + "update/accepted")["version"] == 1
    update(data, "dev-named", {"state": {"desired": {"mode": "max"}}}, name="cfg")
    assert dev.take_json(p + "update/delta")["state"] == {"mode": "max"}
    assert data.list_named_shadows_for_thing(thingName="dev-named")["results"] == ["cfg"]
    assert error_of(data.get_thing_shadow, thingName="dev-named")["Error"]["Code"] == \
        "ResourceNotFoundException"


def test_mqtt_rejections(emu, data, device):
    dev = device("dev-rej")
    p = "$aws/things/dev-rej/shadow/"
    dev.subscribe(p + "update/accepted", p + "update/rejected")
    dev.publish(p + "update", b'{"state":{"reported":')
    t = now_s(emu)
    assert dev.take_json(p + "update/rejected") == {"code": 400, "message": "Invalid JSON",
                                                    "timestamp": t}
    dev.publish(p + "update", json.dumps({"state": {"reported": {"a": 1}}}))
    dev.take_json(p + "update/accepted")
    dev.publish(p + "update", json.dumps({"state": {"reported": {"a": 2}}, "version": 5,
                                          "clientToken": "v5"}))
    assert dev.take_json(p + "update/rejected") == {"code": 409, "message": "Version conflict",
                                                    "clientToken": "v5"}
    deep = {"state": {"reported": {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}}
    dev.publish(p + "update", json.dumps(deep))
    assert dev.take_json(p + "update/rejected")["code"] == 400
    dev.publish(p + "update", json.dumps({"state": {"reported": {"k": "x" * 8200}}}))
    assert dev.take_json(p + "update/rejected")["code"] == 413
    doc = body(data.get_thing_shadow(thingName="dev-rej"))
    assert doc["version"] == 1 and doc["state"] == {"reported": {"a": 1}}


def test_publish_reaches_subscriber(emu, data, device):
    dev = device("sub-1", protocol=mqtt.MQTTv5)
    dev.subscribe("cmd/dev-XBHY/#", qos=1)
    data.publish(topic="cmd/dev-XBHY/alerts", qos=1, payload=b'{"alert":"quarantined"}')
    m = dev.take("cmd/dev-XBHY/alerts")
    assert m.payload == b'{"alert":"quarantined"}' and m.qos == 1 and not m.retain
    # MQTT 5 fields as the CLI sends them.
    emu.aws("iot-data", "publish", "--topic", "cmd/dev-XBHY/quarantine", "--qos", "1",
            "--cli-binary-format", "raw-in-base64-out", "--payload", '{"q":1}',
            "--user-properties", '[{"deviceName":"alpha"}]', "--content-type",
            "application/json", "--response-topic", "resp/dev-XBHY", "--message-expiry", "60")
    m = dev.take("cmd/dev-XBHY/quarantine")
    assert m.payload == b'{"q":1}'
    props = m.properties
    assert props.ContentType == "application/json"
    assert props.ResponseTopic == "resp/dev-XBHY"
    assert ("deviceName", "alpha") in props.UserProperty
    # Retained: a later subscriber receives it.
    dev.subscribe("cfg/dev-XBHY", qos=1)
    data.publish(topic="cfg/dev-XBHY", qos=1, retain=True, payload=b"keep")
    dev.take("cfg/dev-XBHY")  # the broker has it now
    late = device("sub-2")
    late.subscribe("cfg/dev-XBHY")
    m = late.take("cfg/dev-XBHY")
    assert m.payload == b"keep" and m.retain


def test_concurrent_updates_rest_and_mqtt(emu, data, device):
    """200 updates, half REST from threads and half MQTT, end at version 200
    with every key present."""
    thing = "race-1"
    dev = device("racer")
    p = "$aws/things/%s/shadow/" % thing
    dev.subscribe(p + "update/rejected")

    def rest(i):
        c = http("POST", emu.endpoint + "/things/%s/shadow" % thing,
                 json.dumps({"state": {"reported": {"r%03d" % i: i}}}))
        assert c[0] == 200, c
        return json.loads(c[2])["version"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(rest, i) for i in range(100)]
        for i in range(100):
            dev.c.publish(p + "update", json.dumps({"state": {"reported": {"m%03d" % i: i}}}),
                          qos=1)
        rest_versions = [f.result() for f in futures]
    assert len(set(rest_versions)) == 100
    deadline = time.monotonic() + 30
    while True:
        doc = body(data.get_thing_shadow(thingName=thing))
        if doc["version"] >= 200 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert doc["version"] == 200
    reported = doc["state"]["reported"]
    assert len(reported) == 200
    assert all(reported["r%03d" % i] == i and reported["m%03d" % i] == i for i in range(100))
    assert p + "update/rejected" not in dev.topics()


def test_refused_writes_among_concurrent_ones(emu, data):
    """Writes are committed in groups (docs/performance.md, "The write
    path"): a refused update that shares a group commit with accepted ones
    undoes nothing of theirs, and gets its own AWS error."""
    thing = "group-1"
    update(data, thing, {"state": {"reported": {"start": 0}}})
    client_lock = threading.Lock()

    def good(i):
        with client_lock:  # making a boto3 client is not thread-safe
            c = emu.client("iot-data")
        r = body(c.update_thing_shadow(
            thingName=thing, payload=json.dumps({"state": {"reported": {"g%03d" % i: i}}})))
        return r["version"]

    def conflicting(i):
        with client_lock:
            c = emu.client("iot-data")
        return error_of(c.update_thing_shadow, thingName=thing,
                        payload=json.dumps({"state": {"reported": {"bad%03d" % i: i}},
                                            "version": 1000000 + i}).encode())

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        goods = [pool.submit(good, i) for i in range(60)]
        bads = [pool.submit(conflicting, i) for i in range(30)]
        versions = [f.result() for f in goods]
        errors = [f.result() for f in bads]
    assert len(set(versions)) == 60
    for err in errors:
        assert err["ResponseMetadata"]["HTTPStatusCode"] == 409
        assert err["Error"] == {"Code": "ConflictException", "Message": "Version conflict"}
    doc = body(data.get_thing_shadow(thingName=thing))
    assert doc["version"] == 61
    reported = doc["state"]["reported"]
    assert all(reported["g%03d" % i] == i for i in range(60))
    assert not any(k.startswith("bad") for k in reported)
