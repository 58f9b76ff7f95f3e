# SPDX-License-Identifier: MIT
"""Detect end to end: real MQTT clients, the manual clock, and the iot API.

Each test creates its profiles through boto3, drives devices with paho,
advances the clock by whole 5-minute buckets, and reads what Detect
recorded through ListActiveViolations / ListViolationEvents, the
/_ddlocal/datapoints view and the alert outbox."""
import json
import os
import sqlite3
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import Emulator

ALL_THINGS = "arn:aws:iot:us-east-1:123456789012:all/things"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:DDD_Alerts"
ROLE_ARN = "arn:aws:iam::123456789012:role/DDDtoSNSRole"


class Device:
    """A paho MQTT 3.1.1 client that waits for every QoS 1 PUBACK, so its
    messages are counted before the test advances the clock."""

    def __init__(self, emulator, client_id, clean=True):
        self.id = client_id
        self.received = []
        self.client = mqtt.Client(client_id=client_id, clean_session=clean,
                                  protocol=mqtt.MQTTv311)
        self.disconnects = 0
        self.client.on_message = lambda c, u, m: self.received.append((m.topic, m.payload))
        self.client.on_disconnect = lambda c, u, rc: setattr(self, "disconnects",
                                                             self.disconnects + 1)
        emulator.mqtt_start(self.client)

    def publish(self, topic, payload=b"x", count=1, qos=1):
        for _ in range(count):
            self.client.publish(topic, payload, qos=qos).wait_for_publish(timeout=5)

    def subscribe(self, topic, qos=1):
        """Subscribe and wait for the SUBACK; returns its granted QoS (128 when
        the broker refused the subscription)."""
        acks = {}
        self.client.on_subscribe = lambda c, u, mid, granted: acks.setdefault(mid, granted)
        result, mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        deadline = time.monotonic() + 5
        while mid not in acks:
            assert time.monotonic() < deadline, "no SUBACK"
            time.sleep(0.01)
        return acks[mid][0]

    def wait_disconnected(self, timeout=5):
        """Wait until the broker has closed the connection at least once."""
        deadline = time.monotonic() + timeout
        while not self.disconnects:
            assert time.monotonic() < deadline, "the broker kept the connection"
            time.sleep(0.01)

    def wait_received(self, n, timeout=5):
        deadline = time.monotonic() + timeout
        while len(self.received) < n:
            assert time.monotonic() < deadline, "got %d of %d messages" % (len(self.received), n)
            time.sleep(0.01)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def iot(emulator):
    return emulator.client("iot")


def profile(emulator, iot, name, behaviors, targets=(ALL_THINGS,), alerts=True):
    args = {"securityProfileName": name, "behaviors": behaviors}
    if alerts:
        args["alertTargets"] = {"SNS": {"alertTargetArn": TOPIC_ARN, "roleArn": ROLE_ARN}}
    iot.create_security_profile(**args)
    for target in targets:
        iot.attach_security_profile(securityProfileName=name, securityProfileTargetArn=target)
    emulator.sync()


def behavior(name, metric, op, value, duration=300, to_alarm=None, to_clear=None, **extra):
    criteria = {"comparisonOperator": op, "value": value}
    if duration:
        criteria["durationSeconds"] = duration
    if to_alarm:
        criteria["consecutiveDatapointsToAlarm"] = to_alarm
    if to_clear:
        criteria["consecutiveDatapointsToClear"] = to_clear
    b = {"name": name, "metric": metric, "criteria": criteria}
    b.update(extra)
    return b


def publish_past(emulator, iot, name, target, thing, limit):
    """Profile name, attached to target, alarms when a thing sends limit
    messages or more in a bucket; thing sends limit + 1 and the bucket closes.
    Returns the still connected Device."""
    profile(emulator, iot, name,
            [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": limit})],
            targets=(target,))
    dev = Device(emulator, thing)
    dev.publish("t", count=limit + 1)
    emulator.advance(300)
    return dev


def active(iot, **filters):
    return iot.list_active_violations(**filters)["activeViolations"]


def alerts(emulator):
    db = sqlite3.connect(os.path.join(emulator.data_dir, "ddlocal.db"))
    try:
        rows = db.execute("SELECT topic_arn, message FROM alerts ORDER BY id").fetchall()
    finally:
        db.close()
    return [(topic, json.loads(message)) for topic, message in rows]


def datapoints(emulator, thing, profile_name=None, behavior_name=None):
    q = "/_ddlocal/datapoints?thingName=" + thing
    if profile_name:
        q += "&securityProfileName=" + profile_name
    if behavior_name:
        q += "&behaviorName=" + behavior_name
    status, doc = emulator.get(q)
    assert status == 200, doc
    return doc["datapoints"]


def test_seed_scenario_raises_the_lab_violation_and_alert(emulator, iot):
    profile(emulator, iot, "MsgSentSecProfile",
            [behavior("MsgSentBehavior", "aws:num-messages-sent", "less-than", {"count": 5},
                      to_alarm=1, to_clear=1)])
    dev = Device(emulator, "dev-XBHY")
    dev.publish("dt/dev-XBHY/telemetry", b'{"temperature": 21}', count=30)
    bucket_end = emulator.advance(300)["now"]

    violations = active(iot)
    assert len(violations) == 1
    v = violations[0]
    assert v["thingName"] == "dev-XBHY"
    assert v["securityProfileName"] == "MsgSentSecProfile"
    assert v["behavior"] == {
        "name": "MsgSentBehavior",
        "metric": "aws:num-messages-sent",
        "criteria": {"comparisonOperator": "less-than", "value": {"count": 5},
                     "durationSeconds": 300, "consecutiveDatapointsToAlarm": 1,
                     "consecutiveDatapointsToClear": 1},
    }
    assert v["lastViolationValue"] == {"count": 30}
    assert v["lastViolationTime"].timestamp() == bucket_end
    assert v["violationStartTime"].timestamp() == bucket_end
    assert len(v["violationId"]) == 32 and int(v["violationId"], 16) >= 0

    [(topic, message)] = alerts(emulator)
    assert topic == TOPIC_ARN
    assert list(message) == ["violationEventTime", "thingName", "behavior",
                             "violationEventType", "metricValue", "violationId",
                             "securityProfileName"]
    assert message["violationEventTime"] == bucket_end * 1000
    assert message["thingName"] == "dev-XBHY"
    assert list(message["behavior"]) == ["criteria", "name", "metric"]
    assert list(message["behavior"]["criteria"]) == [
        "consecutiveDatapointsToClear", "value", "durationSeconds",
        "consecutiveDatapointsToAlarm", "comparisonOperator"]
    assert message["violationEventType"] == "in-alarm"
    assert message["metricValue"] == {"count": 30}
    assert message["violationId"] == v["violationId"]
    assert message["securityProfileName"] == "MsgSentSecProfile"
    dev.close()


def test_alarm_after_n_and_clear_after_m_datapoints(emulator, iot):
    profile(emulator, iot, "Streaks", [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 5},
                                      to_alarm=3, to_clear=2)])
    dev = Device(emulator, "dev-STRK")
    for _ in range(2):
        dev.publish("t", count=6)
        emulator.advance(300)
        assert active(iot) == []
    dev.publish("t", count=6)
    emulator.advance(300)
    [v] = active(iot)
    assert v["lastViolationValue"] == {"count": 6}
    # One compliant bucket is not enough to clear with consecutiveDatapointsToClear 2.
    emulator.advance(300)
    assert len(active(iot)) == 1
    dev.publish("t", count=7)  # a violating datapoint resets the clear streak
    emulator.advance(300)
    assert active(iot)[0]["lastViolationValue"] == {"count": 7}
    emulator.advance(300)
    assert len(active(iot)) == 1
    end = emulator.advance(300)["now"]
    assert active(iot) == []

    points = datapoints(emulator, "dev-STRK", "Streaks", "Pub")
    assert [p["verdict"] for p in points] == ["violating"] * 3 + [
        "compliant", "violating", "compliant", "compliant"]
    assert [p["consecutiveViolating"] for p in points[:2]] == [1, 2]
    assert [p["event"] for p in points] == [None, None, "in-alarm", None, None, None,
                                            "alarm-cleared"]
    events = iot.list_violation_events(startTime=end - 3600, endTime=end + 1)["violationEvents"]
    assert [e["violationEventType"] for e in events] == ["in-alarm", "alarm-cleared"]
    assert events[1]["metricValue"] == {"count": 0}
    assert [a["violationEventType"] for _, a in alerts(emulator)] == ["in-alarm",
                                                                       "alarm-cleared"]
    dev.close()


def test_connected_idle_device_gets_zero_datapoints_offline_gets_none(emulator, iot):
    profile(emulator, iot, "Minimum", [behavior("AtLeastOne", "aws:num-messages-sent", "greater-than",
                                      {"count": 0})])
    idle = Device(emulator, "dev-IDLE")
    gone = Device(emulator, "dev-GONE")
    gone.close()
    emulator.advance(300)  # dev-GONE had a session in this bucket
    emulator.advance(300)  # and none in this one
    assert [p["value"] for p in datapoints(emulator, "dev-IDLE")] == [{"count": 0}] * 2
    assert len(datapoints(emulator, "dev-GONE")) == 1
    assert {v["thingName"] for v in active(iot)} == {"dev-IDLE", "dev-GONE"}
    # One jump over three buckets: a datapoint in each, under the right name.
    emulator.advance(900)
    assert [p["value"] for p in datapoints(emulator, "dev-IDLE")] == [{"count": 0}] * 5
    status, fleet = emulator.get("/_ddlocal/fleet")
    assert status == 200
    assert {t["thingName"] for t in fleet["things"]} == {"dev-IDLE", "dev-GONE"}
    idle.close()


def test_cloud_side_metrics(emulator, iot):
    profile(emulator, iot, "Cloud", [
        behavior("Recv", "aws:num-messages-received", "less-than", {"count": 3}),
        behavior("Attempts", "aws:num-connection-attempts", "less-than", {"count": 2}),
        behavior("Disc", "aws:num-disconnects", "less-than", {"count": 2}),
        behavior("Size", "aws:message-byte-size", "less-than", {"count": 1000}, duration=None),
        behavior("Ip", "aws:source-ip-address", "in-cidr-set", {"cidrs": ["10.0.0.0/8"]},
                 duration=None),
    ])
    sub = Device(emulator, "dev-SUB")
    sub.subscribe("fleet/#")
    pub = Device(emulator, "dev-PUB")
    pub.publish("fleet/a", b"x" * 2000)
    pub.publish("fleet/b", b"y", count=3)
    sub.wait_received(4)
    for _ in range(2):
        Device(emulator, "dev-FLAP").close()
    emulator.advance(300)
    by = {}
    for v in active(iot):
        by.setdefault(v["thingName"], {})[v["behavior"]["name"]] = v["lastViolationValue"]
    assert by["dev-SUB"]["Recv"] == {"count": 4}
    assert by["dev-FLAP"]["Attempts"] == {"count": 2}
    assert by["dev-FLAP"]["Disc"] == {"count": 2}
    assert by["dev-PUB"]["Size"] == {"count": 2000}
    assert by["dev-PUB"]["Ip"] == {"cidrs": ["127.0.0.1"]}
    assert "Recv" not in by.get("dev-PUB", {})
    sub.close()
    pub.close()


def test_disconnect_duration_counts_minutes_and_clears_on_reconnect(emulator, iot):
    profile(emulator, iot, "Offline", [behavior("Gone", "aws:disconnect-duration", "less-than",
                                      {"count": 8}, duration=None)])
    Device(emulator, "dev-OFF").close()
    emulator.advance(300)
    emulator.advance(300)
    [v] = active(iot, thingName="dev-OFF")
    assert v["lastViolationValue"]["count"] >= 8
    back = Device(emulator, "dev-OFF")
    emulator.advance(300)
    assert active(iot, thingName="dev-OFF") == []
    back.close()


def test_duration_sums_the_last_buckets(emulator, iot):
    profile(emulator, iot, "Window", [behavior("TenMin", "aws:num-messages-sent", "less-than",
                                     {"count": 10}, duration=600)])
    dev = Device(emulator, "dev-WIN")
    dev.publish("t", count=6)
    emulator.advance(300)
    assert active(iot) == []
    dev.publish("t", count=6)
    emulator.advance(300)
    assert active(iot)[0]["lastViolationValue"] == {"count": 12}
    dev.close()


def test_statistical_threshold_flags_the_outlier(emulator, iot):
    profile(emulator, iot, "Stats", [{
        "name": "P90", "metric": "aws:num-messages-sent",
        "criteria": {"comparisonOperator": "less-than-equals",
                     "statisticalThreshold": {"statistic": "p90"}, "durationSeconds": 300},
    }])
    fleet = [Device(emulator, "dev-S%d" % i) for i in range(5)]
    for i, dev in enumerate(fleet):
        dev.publish("t", count=2 + (20 if i == 4 else i % 2))
    emulator.advance(300)
    assert [v["thingName"] for v in active(iot)] == ["dev-S4"]
    points = datapoints(emulator, "dev-S4")
    assert points[0]["threshold"] == 3
    for dev in fleet:
        dev.close()


def test_suppressed_alerts_keep_the_violation_but_send_nothing(emulator, iot):
    profile(emulator, iot, "Quiet", [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 1},
                                    suppressAlerts=True)])
    dev = Device(emulator, "dev-QUIET")
    dev.publish("t", count=2)
    emulator.advance(300)
    assert len(active(iot)) == 1
    assert active(iot, listSuppressedAlerts=True)[0]["thingName"] == "dev-QUIET"
    assert alerts(emulator) == []
    dev.close()


def _alarmed(emulator, iot, name):
    profile(emulator, iot, name, [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 1}),
                        behavior("Other", "aws:num-disconnects", "less-than", {"count": 5})])
    dev = Device(emulator, "dev-INV")
    dev.publish("t", count=2)
    emulator.advance(300)
    [v] = active(iot)
    return dev, v


def _invalidated(emulator, iot, v):
    end = emulator.advance(300)["now"]
    assert active(iot) == []
    events = iot.list_violation_events(startTime=end - 3600, endTime=end + 1)["violationEvents"]
    last = [e for e in events if e["violationId"] == v["violationId"]][-1]
    assert last["violationEventType"] == "alarm-invalidated"
    assert "metricValue" not in last
    assert alerts(emulator)[-1][1]["violationEventType"] == "alarm-invalidated"


def test_detach_invalidates(emulator, iot):
    dev, v = _alarmed(emulator, iot, "Detach")
    iot.detach_security_profile(securityProfileName="Detach", securityProfileTargetArn=ALL_THINGS)
    _invalidated(emulator, iot, v)
    dev.close()


def test_behavior_removed_invalidates(emulator, iot):
    dev, v = _alarmed(emulator, iot, "Update")
    iot.update_security_profile(securityProfileName="Update", behaviors=[
        behavior("Other", "aws:num-disconnects", "less-than", {"count": 5})])
    emulator.sync()
    _invalidated(emulator, iot, v)
    dev.close()


def test_behavior_changed_invalidates_an_unchanged_one_stays(emulator, iot):
    dev, v = _alarmed(emulator, iot, "Change")
    same = [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 1}),
            behavior("Other", "aws:num-disconnects", "less-than", {"count": 5})]
    iot.update_security_profile(securityProfileName="Change",
                                securityProfileDescription="resubmitted",
                                behaviors=same)
    emulator.sync()
    assert [x["violationId"] for x in active(iot)] == [v["violationId"]]
    same[0]["criteria"]["value"] = {"count": 100}
    iot.update_security_profile(securityProfileName="Change", behaviors=same)
    emulator.sync()
    _invalidated(emulator, iot, v)
    # The alert echoes the behavior the violation was opened with.
    assert alerts(emulator)[-1][1]["behavior"]["criteria"]["value"] == {"count": 1}
    dev.close()


def test_no_data_for_two_days_invalidates(emulator, iot):
    profile(emulator, iot, "Stale", [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 1})])
    dev = Device(emulator, "dev-INV")
    dev.publish("t", count=2)
    dev.close()  # offline from now on: no more datapoints
    emulator.advance(300)
    assert len(active(iot)) == 1
    emulator.advance(2 * 24 * 3600)
    assert len(active(iot)) == 1  # exactly two days is not more than two days
    end = emulator.advance(300)["now"]
    assert active(iot) == []
    events = iot.list_violation_events(startTime=end - 3 * 86400,
                                       endTime=end + 1)["violationEvents"]
    assert events[-1]["violationEventType"] == "alarm-invalidated"


def test_device_side_report_accepted_and_evaluated(emulator, iot):
    profile(emulator, iot, "Ports", [behavior("Tcp", "aws:listening-tcp-ports", "in-port-set",
                                    {"ports": [443, 8883]}, duration=None)])
    dev = Device(emulator, "dev-SCAN")
    dev.subscribe("$aws/things/dev-SCAN/defender/metrics/json/+")
    report = {"header": {"report_id": 1700000000, "version": "1.0"},
              "metrics": {"listening_tcp_ports": {"ports": [{"port": 23}, {"port": 443}],
                                                  "total": 2}}}
    dev.publish("$aws/things/dev-SCAN/defender/metrics/json", json.dumps(report))
    dev.wait_received(1)
    topic, payload = dev.received[0]
    assert topic.endswith("/accepted")
    reply = json.loads(payload)
    assert reply["thingName"] == "dev-SCAN" and reply["reportId"] == 1700000000
    assert reply["status"] == "ACCEPTED"
    [v] = active(iot)
    assert v["lastViolationValue"] == {"ports": [23, 443]}
    dev.close()


@pytest.mark.parametrize("payload", [
    b"not json",
    json.dumps({"metrics": {}}).encode(),
    json.dumps({"header": {"report_id": 1, "version": "1.0"}}).encode(),
    json.dumps({"header": {"report_id": 1, "version": "1.0"},
                "metrics": {"listening_tcp_ports": {"ports": [{"port": 70000}]}}}).encode(),
])
def test_device_side_report_rejected(emulator, payload):
    dev = Device(emulator, "dev-BAD")
    dev.subscribe("$aws/things/dev-BAD/defender/metrics/json/+")
    dev.publish("$aws/things/dev-BAD/defender/metrics/json", payload)
    dev.wait_received(1)
    topic, body = dev.received[0]
    assert topic.endswith("/rejected")
    reply = json.loads(body)
    assert reply["status"] == "REJECTED"
    assert reply["statusDetails"] == {"ErrorCode": "InvalidPayload",
                                      "ErrorMessage": "Malformed metrics report"}
    dev.close()


def test_topic_filter_dimensions_in_and_not_in(emulator, iot):
    iot.create_dimension(name="Alarms", type="TOPIC_FILTER",
                         stringValues=["alarms/#", "devices/${iot:ClientId}/alarm"])
    profile(emulator, iot, "Dims", [
        behavior("AlarmTopics", "aws:num-messages-sent", "less-than", {"count": 3},
                 metricDimension={"dimensionName": "Alarms"}),
        behavior("OtherTopics", "aws:num-messages-sent", "less-than", {"count": 2},
                 metricDimension={"dimensionName": "Alarms", "operator": "NOT_IN"}),
        behavior("Bigger", "aws:message-byte-size", "less-than", {"count": 100}, duration=None,
                 metricDimension={"dimensionName": "Alarms"}),
    ])
    dev = Device(emulator, "dev-DIM")
    dev.publish("alarms/fire", b"x" * 500)
    dev.publish("devices/dev-DIM/alarm", count=2)
    dev.publish("devices/other/alarm")  # another client's topic: NOT_IN
    dev.publish("telemetry", count=1)
    emulator.advance(300)
    by = {v["behavior"]["name"]: v["lastViolationValue"] for v in active(iot)}
    assert by == {"AlarmTopics": {"count": 3}, "OtherTopics": {"count": 2},
                  "Bigger": {"count": 500}}
    # The dimension is in use: deleting it is refused and keeps it.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.delete_dimension(name="Alarms")
    assert iot.describe_dimension(name="Alarms")["name"] == "Alarms"
    dev.close()


def test_custom_metrics_from_device_reports(emulator, iot):
    iot.create_custom_metric(metricName="fan_rpm", metricType="number")
    iot.create_custom_metric(metricName="services", metricType="string-list")
    profile(emulator, iot, "Custom", [
        {"name": "Fan", "metric": "fan_rpm",
         "criteria": {"comparisonOperator": "less-than", "value": {"number": 3000}}},
        {"name": "Services", "metric": "services",
         "criteria": {"comparisonOperator": "in-set", "value": {"strings": ["ssh", "mqtt"]}}},
    ])
    dev = Device(emulator, "dev-FAN")
    dev.subscribe("$aws/things/dev-FAN/defender/metrics/json/+")
    report = {"header": {"report_id": 1, "version": "1.0"},
              "custom_metrics": {"fan_rpm": [{"number": 4200}],
                                 "services": [{"string_list": ["ssh", "telnet"]}]}}
    dev.publish("$aws/things/dev-FAN/defender/metrics/json", json.dumps(report))
    dev.wait_received(1)
    assert dev.received[0][0].endswith("/accepted")
    by = {v["behavior"]["name"]: v["lastViolationValue"] for v in active(iot)}
    assert by == {"Fan": {"number": 4200}, "Services": {"strings": ["ssh", "telnet"]}}
    dev.close()


def steady_then_burst(emulator, thing):
    """A Device for thing that sends 5 messages in each of 14 windows, then
    500 in a 15th; returns it, still connected."""
    dev = Device(emulator, thing)
    for _ in range(14):
        dev.publish("t", count=5)
        emulator.advance(300)
    dev.publish("t", count=500)
    emulator.advance(300)
    return dev


def test_ml_behavior_has_no_verdict_until_it_has_history(make_emulator):
    # A model built after 15 minutes (test_mlmodels.py covers the model's
    # lifecycle): the stand-in's own history of 12 values is what waits here.
    emulator = make_emulator("--manual-clock", "--ml-training-seconds", "900",
                             "--ml-min-datapoints", "1", "--ml-refresh-seconds", "300").start()
    iot = emulator.client("iot")
    profile(emulator, iot, "Ml", [{"name": "MlSent", "metric": "aws:num-messages-sent",
                         "criteria": {"mlDetectionConfig": {"confidenceLevel": "HIGH"}}}])
    dev = steady_then_burst(emulator, "dev-ML")
    verdicts = [p["verdict"] for p in datapoints(emulator, "dev-ML")]
    assert verdicts[:12] == ["no-verdict"] * 12
    assert verdicts[12:14] == ["compliant", "compliant"]
    assert verdicts[14] == "violating"
    [v] = active(iot)
    assert v["violationEventAdditionalInfo"] == {"confidenceLevel": "HIGH"}
    dev.close()


def test_profile_deleted_invalidates(emulator, iot):
    dev, v = _alarmed(emulator, iot, "Deleted")
    iot.delete_security_profile(securityProfileName="Deleted")
    emulator.sync()
    end = emulator.advance(300)["now"]
    assert active(iot) == []
    events = iot.list_violation_events(startTime=end - 3600, endTime=end + 1)["violationEvents"]
    assert events[-1]["violationId"] == v["violationId"]
    assert events[-1]["violationEventType"] == "alarm-invalidated"
    # The alert echoes the behavior as it was; the profile's topic is gone.
    topic, message = alerts(emulator)[-1]
    assert message["violationEventType"] == "alarm-invalidated"
    assert message["behavior"]["name"] == "Pub"
    assert topic is None
    dev.close()


def assert_invalidated(emulator, iot, v):
    """Once the broker has the registry change, violation v is the last
    event, invalidated, and nothing is active."""
    emulator.sync()
    assert active(iot) == []
    end = emulator.clock()["now"]
    events = iot.list_violation_events(startTime=end - 3600, endTime=end + 1)["violationEvents"]
    assert events[-1]["violationEventType"] == "alarm-invalidated"
    assert events[-1]["violationId"] == v["violationId"]


def test_thing_deleted_invalidates_when_it_was_targeted_as_registered(emulator, iot):
    iot.create_thing(thingName="dev-REG")
    dev = publish_past(emulator, iot, "Registered",
                       "arn:aws:iot:us-east-1:123456789012:all/registered-things", "dev-REG", 1)
    [v] = active(iot)
    iot.delete_thing(thingName="dev-REG")
    assert_invalidated(emulator, iot, v)
    dev.close()


def test_a_thing_created_after_its_profile_is_judged_as_registered(emulator, iot):
    # Only things inserted since the engine's last build: it adds them to
    # its snapshots instead of building them again (docs/performance.md).
    dev = publish_past(emulator, iot, "Registered",
                       "arn:aws:iot:us-east-1:123456789012:all/registered-things", "dev-NEW", 1)
    assert active(iot) == []
    iot.create_thing(thingName="dev-NEW")
    iot.create_thing(thingName="dev-OTHER")
    emulator.sync()
    dev.publish("t", count=2)
    emulator.advance(300)
    [v] = active(iot)
    assert (v["thingName"], v["securityProfileName"]) == ("dev-NEW", "Registered")
    dev.close()


def test_registering_a_thing_invalidates_its_unregistered_alarm(emulator, iot):
    dev = publish_past(emulator, iot, "Unregistered",
                       "arn:aws:iot:us-east-1:123456789012:all/unregistered-things", "dev-LATE", 1)
    [v] = active(iot)
    iot.create_thing(thingName="dev-LATE")
    assert_invalidated(emulator, iot, v)
    dev.close()


def test_datapoints_are_kept_for_the_retention_setting(make_emulator):
    # Each advance prunes what is older than the retention before the first
    # bucket it closes; a connected device has a datapoint in every bucket.
    for days, kept in ((14, True), (1, False)):
        emu = make_emulator("--manual-clock", "--datapoint-retention-days", str(days)).start()
        profile(emu, emu.client("iot"), "Keep",
                [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 100})])
        dev = Device(emu, "dev-OLD")
        first = emu.advance(300)["now"]
        emu.advance(86400)
        last = emu.advance(300)["now"]
        times = [d["time"] for d in datapoints(emu, "dev-OLD")]
        dev.close()
        assert times[-1] == last
        assert times[0] == (first if kept else first + 300), days
        assert len(times) == (290 if kept else 289)


@pytest.mark.parametrize("days", ["0", "3651", "two", ""])
def test_launcher_rejects_a_bad_retention(tmp_path, days):
    p = Emulator(tmp_path / "data", ["--datapoint-retention-days", days]).run_to_end()
    assert p.returncode != 0
    assert p.stderr.strip() == \
        "ddlocal: --datapoint-retention-days is a number of days from 1 to 3650"
