# SPDX-License-Identifier: MIT
"""Policies at the broker: a deny policy on the Quarantine group has effect,
denials count as aws:num-authorization-failures, --authz aws needs an Allow,
and policy variables confine a device to its own topics."""
import os
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest

from test_detect import ALL_THINGS, Device, active, behavior

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "policies")


def policy_doc(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def quarantine(emulator, iot, thing, policy="quarantine-deny-all.json"):
    iot.create_thing_group(thingGroupName="Quarantine")
    iot.create_policy(policyName="QuarantinePolicy", policyDocument=policy_doc(policy))
    iot.attach_policy(policyName="QuarantinePolicy",
                      target="arn:aws:iot:us-east-1:123456789012:thinggroup/Quarantine")
    iot.update_thing_groups_for_thing(thingName=thing, thingGroupsToAdd=["Quarantine"])
    emulator.sync()


def watched_thing(emulator, thing):
    """Register thing under a profile that alarms on any authorization
    failure; return the iot client."""
    iot = emulator.client("iot")
    iot.create_thing(thingName=thing)
    iot.create_security_profile(securityProfileName="Authz", behaviors=[
        behavior("Failures", "aws:num-authorization-failures", "less-than", {"count": 1})])
    iot.attach_security_profile(securityProfileName="Authz", securityProfileTargetArn=ALL_THINGS)
    return iot


def can_connect(emulator, client_id):
    """True when the broker accepts a CONNECT from client_id."""
    result = {}
    c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
    c.on_connect = lambda cl, u, f, rc: result.setdefault("rc", rc)
    c.connect("127.0.0.1", emulator.mqtt_port, keepalive=10)
    c.loop_start()
    deadline = time.monotonic() + 5
    while "rc" not in result and time.monotonic() < deadline:
        time.sleep(0.01)
    c.disconnect()
    c.loop_stop()
    return result.get("rc") == 0


def mosquitto_sub(emulator, client_id, topic, count=1, timeout=2):
    return subprocess.run(
        ["mosquitto_sub", "-p", str(emulator.mqtt_port), "-i", client_id, "-t", topic,
         "-C", str(count), "-W", str(timeout)], capture_output=True, text=True)


def test_quarantine_cuts_a_device_off_and_counts_failures(emulator):
    iot = watched_thing(emulator, "dev-Q")
    watcher = Device(emulator, "watcher")
    watcher.subscribe("dt/#")

    dev = Device(emulator, "dev-Q")
    dev.publish("dt/dev-Q", b"before")
    watcher.wait_received(1)

    quarantine(emulator, iot, "dev-Q")
    # The open connection is not re-checked; its next publish is denied and,
    # as AWS does for MQTT 3.1.1, the connection is closed.
    dev.client.publish("dt/dev-Q", b"after", qos=0)
    dev.wait_disconnected()
    dev.client.loop_stop()
    assert not can_connect(emulator, "dev-Q")
    time.sleep(0.2)
    assert watcher.received == [("dt/dev-Q", b"before")]

    emulator.advance(300)
    [v] = active(iot, thingName="dev-Q")
    # the denied publish and each refused reconnect (paho retries on its own)
    assert v["lastViolationValue"]["count"] >= 2

    iot.update_thing_groups_for_thing(thingName="dev-Q", thingGroupsToRemove=["Quarantine"])
    emulator.sync()
    dev = Device(emulator, "dev-Q")
    dev.publish("dt/dev-Q", b"released")
    watcher.wait_received(2)
    dev.close()
    watcher.close()


def test_subscribe_and_receive_are_denied_and_counted(emulator):
    iot = watched_thing(emulator, "dev-R")
    listener = Device(emulator, "dev-R")
    listener.subscribe("alerts/#")
    quarantine(emulator, iot, "dev-R", "quarantine-keep-shadow-and-metrics.json")
    # Receive is checked per delivery: the existing subscription goes quiet.
    sender = Device(emulator, "sender")
    sender.publish("alerts/a")
    time.sleep(0.3)
    assert listener.received == []
    # Its shadow topics stay open under this policy.
    listener.subscribe("$aws/things/dev-R/shadow/update/accepted")
    listener.publish("$aws/things/dev-R/shadow/update",
                     b'{"state":{"reported":{"quarantine":true}}}')
    listener.wait_received(1)
    assert listener.received[0][0] == "$aws/things/dev-R/shadow/update/accepted"
    # A new subscription outside them is refused (SUBACK 0x80) and counted.
    assert listener.subscribe("telemetry/#") == 128
    emulator.advance(300)
    [v] = active(iot, thingName="dev-R")
    assert v["lastViolationValue"]["count"] >= 2
    sender.close()


def test_authz_aws_denies_without_policies(make_emulator):
    emu = make_emulator("--manual-clock", "--authz", "aws").start()
    assert not can_connect(emu, "dev-NOPOLICY")
    iot = emu.client("iot")
    iot.create_thing(thingName="dev-OWN")
    iot.create_thing_group(thingGroupName="Fleet")
    iot.create_policy(policyName="OwnTopics", policyDocument=policy_doc("device-own-topics.json"))
    iot.attach_policy(policyName="OwnTopics",
                      target="arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet")
    iot.add_thing_to_thing_group(thingGroupName="Fleet", thingName="dev-OWN")
    emu.sync()
    dev = Device(emu, "dev-OWN")
    dev.subscribe("devices/dev-OWN/#")
    dev.publish("devices/dev-OWN/telemetry", b"mine")
    dev.wait_received(1)
    assert dev.received == [("devices/dev-OWN/telemetry", b"mine")]
    # Another device's topic is outside its policy variables: denied.
    dev.client.publish("devices/dev-OTHER/telemetry", b"theirs", qos=0)
    dev.wait_disconnected()
    dev.client.loop_stop()


def test_deny_action_drop_keeps_the_connection(make_emulator):
    emu = make_emulator("--manual-clock", "--deny-action", "drop").start()
    iot = emu.client("iot")
    iot.create_thing(thingName="dev-D")
    watcher = Device(emu, "watcher")
    watcher.subscribe("dt/#")
    dev = Device(emu, "dev-D")
    quarantine(emu, iot, "dev-D")
    dev.publish("dt/dev-D", b"dropped")  # QoS 1 on 3.1.1: acknowledged, not delivered
    time.sleep(0.2)
    assert dev.disconnects == 0
    assert watcher.received == []
    dev.close()
    watcher.close()


@pytest.mark.parametrize("flag,value", [("--authz", "closed"), ("--deny-action", "explode")])
def test_bad_authz_flags_are_refused(make_emulator, flag, value):
    emu = make_emulator(flag, value)
    p = emu.run_to_end()
    assert p.returncode != 0
    assert flag in p.stderr


ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}'


@pytest.mark.parametrize("args", [(), ("--authz", "aws")])
def test_service_only_topics_are_refused_in_every_mode(make_emulator, args):
    """A client cannot publish what only the service publishes (another
    thing's shadow answers, Defender's report answers, lifecycle events),
    even under a policy that allows everything; each attempt is an
    authorization failure and, for MQTT 3.1.1, closes the connection."""
    emulator = make_emulator("--manual-clock", *args).start()
    iot = watched_thing(emulator, "dev-F")
    iot.create_thing(thingName="dev-V")
    iot.create_policy(policyName="AllowAll", policyDocument=ALLOW_ALL)
    iot.create_thing_group(thingGroupName="Fleet")
    iot.attach_policy(policyName="AllowAll",
                      target="arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet")
    for thing in ("dev-F", "dev-V"):
        iot.add_thing_to_thing_group(thingGroupName="Fleet", thingName=thing)
    emulator.sync()
    watcher = Device(emulator, "dev-V")
    watcher.subscribe("$aws/things/dev-V/shadow/update/accepted")
    watcher.subscribe("$aws/things/dev-V/defender/metrics/json/accepted")
    watcher.subscribe("$aws/events/#")
    for topic in ("$aws/things/dev-V/shadow/update/accepted",
                  "$aws/things/dev-V/defender/metrics/json/accepted",
                  "$aws/events/presence/connected/dev-V"):
        forger = Device(emulator, "dev-F")
        forger.client.publish(topic, b'{"forged":true}', qos=0)
        forger.wait_disconnected()
        forger.client.loop_stop()
    # The service itself still answers on the same topic.
    watcher.publish("$aws/things/dev-V/shadow/update", b'{"state":{"reported":{"fw":"1.2"}}}')
    deadline = time.monotonic() + 5
    while not any(t.startswith("$aws/things/") for t, _ in watcher.received):
        assert time.monotonic() < deadline, "no shadow answer"
        time.sleep(0.01)
    time.sleep(0.2)
    # The broker's own lifecycle events (connects, subscriptions) are no forgeries.
    assert [t for t, _ in watcher.received
            if not t.startswith("$aws/events/")] == [
        "$aws/things/dev-V/shadow/update/accepted"]
    assert not [p for _, p in watcher.received if b"forged" in p]
    emulator.advance(300)
    [v] = active(iot, thingName="dev-F")
    assert v["lastViolationValue"]["count"] >= 3
    watcher.close()
