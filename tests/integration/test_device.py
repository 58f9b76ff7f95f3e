# SPDX-License-Identifier: MIT
"""The virtual device factory (`bin/ddlocal device`) against a real emulator
on the manual clock: registration, the profiles' cadence on emulated time,
the shadow delta and quarantine, SIGTERM, --count, and the one-line reasons
when the emulator cannot be reached.

Messages are counted by a paho subscriber; the device's own event lines
(read from its stdout as they are flushed) tell the test when a burst has
been acknowledged by the broker, so no test sleeps to wait for the device."""
import json
import os
import re
import signal
import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import LAUNCHER, ROOT, free_port

WAIT_S = 10
# The REST shadow API (UpdateThingShadow) and the broker's MQTT shadow door.
SHADOW_API = os.path.exists(os.path.join(ROOT, "server", "api_shadow.c"))
needs_shadow_api = pytest.mark.skipif(not SHADOW_API, reason="the shadow API is not merged yet")


class DeviceProc:
    """A running `bin/ddlocal device`; a thread collects its event lines."""

    def __init__(self, emu, *args, http_port=None, mqtt_port=None):
        cmd = [LAUNCHER, "device"] + list(args) + [
            "--mqtt-port", str(mqtt_port or emu.mqtt_port),
            "--http-port", str(http_port or emu.http_port)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self.cond = threading.Condition()
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def matching(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return [line for line in self.lines if rx.search(line)]

    def wait_for(self, pattern, count=1, timeout=WAIT_S):
        """Wait until `count` lines match; returns them."""
        rx = re.compile(pattern)

        def enough():
            return len([line for line in self.lines if rx.search(line)]) >= count

        with self.cond:
            if not self.cond.wait_for(enough, timeout):
                raise AssertionError("no %d line(s) matching %r; got:\n%s\nstderr: %s" % (
                    count, pattern, "\n".join(self.lines), self._stderr()))
            return [line for line in self.lines if rx.search(line)]

    def _stderr(self):
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.reader.join(timeout=WAIT_S)
        return rc

    def close(self):
        self.stop()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture
def devices():
    """Start devices with devices(emu, args...); each is stopped after the test."""
    started = []

    def start(emu, *args, **kwargs):
        d = DeviceProc(emu, *args, **kwargs)
        started.append(d)
        return d

    yield start
    for d in started:
        d.close()


class Counter:
    """A paho subscriber that records the messages on one topic filter."""

    def __init__(self, emu, topic):
        self.cond = threading.Condition()
        self.msgs = []
        self.ready = False
        self.c = mqtt.Client(client_id="counter-%d" % os.getpid(), protocol=mqtt.MQTTv311)
        self.c.on_connect = lambda c, u, f, rc: c.subscribe(topic, qos=1)
        self.c.on_subscribe = self._on_subscribe
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1", emu.mqtt_port)
        self.c.loop_start()
        with self.cond:
            assert self.cond.wait_for(lambda: self.ready, WAIT_S), "no SUBACK"

    def _on_subscribe(self, c, userdata, mid, granted):
        with self.cond:
            self.ready = True
            self.cond.notify_all()

    def _on_message(self, c, userdata, m):
        with self.cond:
            self.msgs.append(m)
            self.cond.notify_all()

    def wait_count(self, n):
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.msgs) >= n, WAIT_S), \
                "%d messages, wanted %d" % (len(self.msgs), n)
        # Anything more would arrive right behind the burst.
        time.sleep(0.3)
        with self.cond:
            return len(self.msgs)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


@pytest.fixture
def counter():
    made = []

    def make(emu, topic):
        c = Counter(emu, topic)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def update_desired(emu, thing, doc):
    emu.client("iot-data").update_thing_shadow(
        thingName=thing, payload=json.dumps({"state": {"desired": doc}}))


def shadow(emu, thing):
    out = emu.client("iot-data").get_thing_shadow(thingName=thing)
    return json.loads(out["payload"].read())


def wait_until(pred, what, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def test_generic_publishes_30_per_five_emulated_minutes(emulator, devices, counter):
    msgs = counter(emulator, "telemetry/rogue-1")
    dev = devices(emulator, "--profile", "generic", "--name", "rogue-1")
    dev.wait_for(r" rogue-1 published 30 messages to telemetry/rogue-1$")
    assert msgs.wait_count(30) == 30

    for burst in (2, 3):
        emulator.advance(300)
        dev.wait_for(r"published 30 messages", count=burst)
        assert msgs.wait_count(30 * burst) == 30 * burst

    # Less than the period: nothing is due.
    emulator.advance(299)
    time.sleep(0.6)
    assert len(dev.matching("published")) == 3
    assert len(msgs.msgs) == 90
    body = json.loads(msgs.msgs[0].payload)
    assert body["thing"] == "rogue-1" and body["seq"] == 1


def test_event_lines_carry_emulated_time_and_name(emulator, devices):
    now = emulator.clock()["now"]
    dev = devices(emulator, "--profile", "normal", "--name", "calm-1")
    want = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    line = dev.wait_for(r" calm-1 connected$")[0]
    assert line == "%s calm-1 connected" % want
    assert dev.wait_for(r"published 2 messages")[0].startswith(want + " calm-1 ")


def test_the_device_registers_its_thing(emulator, devices):
    dev = devices(emulator, "--profile", "normal", "--name", "reg-1")
    dev.wait_for(r" reg-1 registered \(CreateThing\)$")
    dev.wait_for(r" reg-1 connected$")
    thing = emulator.client("iot").describe_thing(thingName="reg-1")
    assert thing["thingName"] == "reg-1"
    assert dev.stop() == 0

    # An existing thing is fine (CreateThing is idempotent for the same
    # attributes; a 409 would be accepted as well).
    again = devices(emulator, "--profile", "normal", "--name", "reg-1")
    again.wait_for(r" reg-1 (already )?registered")
    again.wait_for(r" reg-1 connected$")


@needs_shadow_api
def test_quarantine_stops_publishing_and_is_reported(emulator, devices, counter):
    msgs = counter(emulator, "telemetry/rogue-2")
    dev = devices(emulator, "--profile", "generic", "--name", "rogue-2")
    dev.wait_for(r"published 30 messages")
    assert msgs.wait_count(30) == 30

    update_desired(emulator, "rogue-2", {"quarantine": True})
    delta = dev.wait_for(r" rogue-2 delta received ")[0]
    doc = json.loads(delta.split(" delta received ", 1)[1])
    assert doc["state"] == {"quarantine": True}
    dev.wait_for(r" rogue-2 quarantined: publishing stops")
    wait_until(lambda: shadow(emulator, "rogue-2")["state"].get("reported") == {"quarantine": True},
               "reported.quarantine")
    assert "delta" not in shadow(emulator, "rogue-2")["state"]

    emulator.advance(300)
    dev.wait_for(r" rogue-2 quarantined: held back 30 messages$")
    time.sleep(0.5)
    assert len(msgs.msgs) == 30
    assert len(dev.matching("published")) == 1

    # Released: it resumes at its next due time.
    update_desired(emulator, "rogue-2", {"quarantine": False})
    dev.wait_for(r" rogue-2 released from quarantine: publishing resumes$")
    wait_until(lambda: shadow(emulator, "rogue-2")["state"]["reported"] == {"quarantine": False},
               "reported.quarantine false")
    emulator.advance(300)
    dev.wait_for(r"published 30 messages", count=2)
    assert msgs.wait_count(60) == 60


def test_sigterm_disconnects_and_exits_zero(emulator, devices):
    dev = devices(emulator, "--profile", "normal", "--name", "term-1")
    dev.wait_for(r" term-1 connected$")
    assert dev.stop() == 0
    assert dev.matching(r" term-1 disconnected$")


def test_sigint_exits_zero(emulator, devices):
    dev = devices(emulator, "--profile", "normal", "--name", "int-1")
    dev.wait_for(r" int-1 connected$")
    dev.proc.send_signal(signal.SIGINT)
    assert dev.proc.wait(timeout=WAIT_S) == 0


def test_count_runs_devices_with_distinct_generated_names(emulator, devices):
    dev = devices(emulator, "--profile", "normal", "--count", "3")
    lines = dev.wait_for(r" connected$", count=3)
    names = [line.split()[1] for line in lines]
    assert len(set(names)) == 3
    for name in names:
        assert re.fullmatch(r"dev-[A-Z0-9]{4}", name), name
        assert emulator.client("iot").describe_thing(thingName=name)["thingName"] == name
    dev.wait_for(r"published 2 messages", count=3)
    assert dev.stop() == 0
    assert len(dev.matching(r" disconnected$")) == 3


def test_count_with_a_name_numbers_the_things(emulator, devices):
    dev = devices(emulator, "--profile", "normal", "--name", "fleet", "--count", "3")
    lines = dev.wait_for(r" connected$", count=3)
    assert sorted(line.split()[1] for line in lines) == ["fleet-1", "fleet-2", "fleet-3"]


@needs_shadow_api
def test_every_device_of_a_count_obeys_its_own_shadow(emulator, devices):
    dev = devices(emulator, "--profile", "normal", "--name", "pack", "--count", "2")
    dev.wait_for(r"published 2 messages", count=2)
    update_desired(emulator, "pack-2", {"quarantine": True})
    dev.wait_for(r" pack-2 quarantined")
    emulator.advance(300)
    dev.wait_for(r" pack-2 quarantined: held back 2 messages$")
    dev.wait_for(r" pack-1 published 2 messages", count=2)
    assert not dev.matching(r" pack-1 quarantined")


def test_scanner_reports_unexpected_ports_and_logs_the_reply(emulator, devices):
    reports = []
    c = mqtt.Client(client_id="spy-scan", protocol=mqtt.MQTTv311)
    c.on_message = lambda cl, u, m: reports.append(json.loads(m.payload))
    c.connect("127.0.0.1", emulator.mqtt_port)
    c.subscribe("$aws/things/scan-1/defender/metrics/json/accepted", qos=1)
    c.loop_start()
    try:
        dev = devices(emulator, "--profile", "scanner", "--name", "scan-1")
        line = dev.wait_for(r" scan-1 report accepted ")[0]
        reply = json.loads(line.split(" report accepted ", 1)[1])
        assert reply["status"] == "ACCEPTED" and reply["thingName"] == "scan-1"
        first = reply["reportId"]
        emulator.advance(300)
        line = dev.wait_for(r" scan-1 report accepted ", count=2)[1]
        assert json.loads(line.split(" report accepted ", 1)[1])["reportId"] > first
        assert dev.matching(r"listening TCP ports 22, 23, 4444\) to "
                            r"\$aws/things/scan-1/defender/metrics/json$")
    finally:
        c.loop_stop()
        c.disconnect()


def test_flapping_reconnects_every_emulated_minute(emulator, devices):
    dev = devices(emulator, "--profile", "flapping", "--name", "flap-1")
    dev.wait_for(r" flap-1 connected$")
    time.sleep(0.5)
    assert not dev.matching("disconnected")  # its first connect is its first action
    for n in (1, 2):
        emulator.advance(60)
        dev.wait_for(r" flap-1 disconnected$", count=n)
        dev.wait_for(r" flap-1 connected$", count=n + 1)
    assert not dev.matching("published")


def test_big_payload_sends_100_kb_messages(emulator, devices, counter):
    msgs = counter(emulator, "telemetry/big-1")
    dev = devices(emulator, "--profile", "big-payload", "--name", "big-1")
    dev.wait_for(r" big-1 published 2 messages of 102400 bytes to telemetry/big-1$")
    assert msgs.wait_count(2) == 2
    assert [len(m.payload) for m in msgs.msgs] == [102400, 102400]
    assert json.loads(msgs.msgs[0].payload)["thing"] == "big-1"


def test_auth_failure_publishes_to_its_forbidden_topic(emulator, devices, counter):
    # No deny policy here: the topic is reachable, which shows where it publishes.
    msgs = counter(emulator, "forbidden/#")
    dev = devices(emulator, "--profile", "auth-failure", "--name", "bad-1")
    dev.wait_for(r" bad-1 published 3 messages to forbidden/bad-1 \(QoS 0")
    assert msgs.wait_count(3) == 3


def test_unreachable_http_api_fails_with_one_line(emulator, devices):
    dev = devices(emulator, "--profile", "generic", http_port=free_port())
    assert dev.proc.wait(timeout=WAIT_S) == 1
    err = dev.proc.stderr.read()
    assert err.count("\n") == 1
    assert err.startswith("ddlocal-device: cannot reach the HTTP API at http://127.0.0.1:")


def test_unreachable_broker_fails_with_one_line(emulator, devices):
    dev = devices(emulator, "--profile", "generic", "--name", "lonely", mqtt_port=free_port())
    assert dev.proc.wait(timeout=WAIT_S) == 1
    err = dev.proc.stderr.read()
    assert err.count("\n") == 1
    assert err.startswith("ddlocal-device: cannot reach the MQTT broker at 127.0.0.1:")


@pytest.mark.parametrize("args, message", [
    ([], "--profile is required"),
    (["--profile", "chatty"], "unknown profile 'chatty'"),
    (["--profile", "generic", "--count", "0"], "--count takes a number from 1 to 1000"),
    (["--profile", "generic", "--name", "bad name"], "is not a thing name"),
    (["--profile", "generic", "--bogus"], "unknown option"),
])
def test_bad_options_fail_with_one_line(args, message):
    p = subprocess.run([LAUNCHER, "device"] + args, capture_output=True, text=True, timeout=WAIT_S)
    assert p.returncode == 1
    assert p.stderr.count("\n") == 1 and message in p.stderr, p.stderr


def test_help_lists_every_profile():
    p = subprocess.run([LAUNCHER, "device", "--help"], capture_output=True, text=True,
                       timeout=WAIT_S)
    assert p.returncode == 0
    for profile in ("generic", "normal", "auth-failure", "flapping", "big-payload", "scanner"):
        assert "\n  %s " % profile in p.stdout
