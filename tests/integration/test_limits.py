# SPDX-License-Identifier: MIT
"""AWS IoT Core's message broker limits (issue 19, item 7; docs/devices.md,
"Limits"): each one just under passes and just over is refused the way the
docs say, with paho and mosquitto-clients, and each refusal is a log line
naming the client and the limit."""
import os
import socket
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest

CONNACK_NOT_AUTHORIZED = 5       # MQTT 3.1.1
CONNACK_IDENTIFIER_REJECTED = 2  # MQTT 3.1.1
SUBACK_FAILURE = 128


def log_text(emu):
    with open(os.path.join(emu.data_dir, "mosquitto.log"), errors="replace") as f:
        return f.read()


def wait_log(emu, needle, timeout=3):
    deadline = time.monotonic() + timeout
    while needle not in log_text(emu):
        assert time.monotonic() < deadline, "no log line with %r" % needle
        time.sleep(0.05)


def varint(n):
    out = b""
    while True:
        byte, n = n % 128, n // 128
        out += bytes([byte | (128 if n else 0)])
        if not n:
            return out


def connack(emu, client_id, level=4):
    """Send a clean-start CONNECT (MQTT 3.1.1 is level 4, MQTT 5 level 5)
    with client_id on a raw socket; returns the CONNACK's return or reason
    code. A raw socket, because paho replaces an empty id with its own."""
    cid = client_id.encode()
    body = (b"\x00\x04MQTT" + bytes([level, 0x02]) + b"\x00\x3c" +
            (b"\x00" if level == 5 else b"") + len(cid).to_bytes(2, "big") + cid)
    with socket.create_connection(("127.0.0.1", emu.mqtt_port), timeout=5) as s:
        s.sendall(b"\x10" + varint(len(body)) + body)
        answer = s.recv(16)
    assert answer[:1] == b"\x20", "no CONNACK for a client id of %d bytes: %r" % (
        len(cid), answer)
    return answer[3]


class Client:
    """A connected paho 3.1.1 client that records what it receives and
    whether the broker closed its connection."""

    def __init__(self, emu, client_id):
        self.received = []
        self.closed = False
        self.c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
        self.c.on_message = lambda c, u, m: self.received.append((m.topic, len(m.payload)))
        self.c.on_disconnect = lambda c, u, rc: setattr(self, "closed", rc != 0)
        emu.mqtt_start(self.c)

    def subscribe(self, topic):
        acks = {}
        self.c.on_subscribe = lambda c, u, mid, granted: acks.setdefault(mid, granted[0])
        _, mid = self.c.subscribe(topic, 1)
        deadline = time.monotonic() + 5
        while mid not in acks:
            assert time.monotonic() < deadline, "no SUBACK"
            time.sleep(0.01)
        return acks[mid]

    def wait(self, cond, timeout=3):
        deadline = time.monotonic() + timeout
        while not cond() and time.monotonic() < deadline:
            time.sleep(0.01)
        return cond()

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


@pytest.fixture
def watcher(emu):
    w = Client(emu, "limits-watcher")
    assert w.subscribe("#") == 1
    assert w.subscribe("$aws/rules/#") == 1
    yield w
    w.close()


def test_client_id_of_1_to_128_bytes_connects(emu):
    assert connack(emu, "a") == 0
    assert connack(emu, "c" * 128) == 0
    assert connack(emu, "c" * 128, 5) == 0


@pytest.mark.parametrize("size", [129, 2000, 65535])
def test_longer_client_id_is_refused_and_logged(emu, size):
    client_id = "%05d" % size + "x" * (size - 5)
    assert connack(emu, client_id) == CONNACK_NOT_AUTHORIZED
    assert connack(emu, client_id, 5) == 0x87
    wait_log(emu, "CONNECT refused from client '%s...'" % client_id[:64])
    line = [l for l in log_text(emu).splitlines() if client_id[:64] in l][-1]
    assert "a client id of %d bytes" % size in line and '"Client ID size" limit of 128' in line


def test_empty_client_id_is_refused(emu):
    # mosquitto would otherwise make one up; AWS needs 1-128 bytes. Refused
    # by mosquitto itself (allow_zero_length_clientid false), which answers
    # MQTT 5 with 0x80 (unspecified error) rather than 0x85.
    assert connack(emu, "") == CONNACK_IDENTIFIER_REJECTED
    assert connack(emu, "", 5) == 0x80


def test_mosquitto_pub_with_a_long_client_id_is_refused(emu):
    ok = subprocess.run(["mosquitto_pub", "-p", str(emu.mqtt_port), "-i", "p" * 128,
                         "-t", "limits/pub", "-m", "x"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(["mosquitto_pub", "-p", str(emu.mqtt_port), "-i", "p" * 129,
                          "-t", "limits/pub", "-m", "x"], capture_output=True, text=True)
    assert bad.returncode != 0
    assert "not authori" in bad.stderr.lower(), bad.stderr


def publish_and_see(emu, watcher, client_id, topic, payload_len=1):
    """Publish once at QoS 1; returns (delivered to the watcher, publisher
    disconnected by the broker)."""
    pub = Client(emu, client_id)
    before = len(watcher.received)
    pub.c.publish(topic, b"p" * payload_len, qos=1)
    closed = pub.wait(lambda: pub.closed, timeout=2)
    got = watcher.wait(lambda: len(watcher.received) > before, timeout=0.5 if closed else 3)
    pub.close()
    return got, closed


def test_topic_of_256_bytes_passes_257_disconnects(emu, watcher):
    topic = "limits/" + "t" * 249
    assert publish_and_see(emu, watcher, "topic-ok", topic) == (True, False)
    assert watcher.received[-1] == (topic, 1)
    assert publish_and_see(emu, watcher, "topic-long", topic + "t") == (False, True)
    wait_log(emu, "PUBLISH refused, client disconnected from client 'topic-long'")
    assert 'a topic of 257 bytes is over AWS\'s "Topic size" limit of 256 bytes' in log_text(emu)


def test_topic_with_7_slashes_passes_8_disconnects(emu, watcher):
    assert publish_and_see(emu, watcher, "depth-ok", "l/1/2/3/4/5/6/7") == (True, False)
    assert publish_and_see(emu, watcher, "depth-over", "l/1/2/3/4/5/6/7/8") == (False, True)
    wait_log(emu, "PUBLISH refused, client disconnected from client 'depth-over'")
    assert "a topic of 8 slashes is over AWS's" in log_text(emu)


def test_basic_ingest_prefix_does_not_count(emu, watcher):
    topic = "$aws/rules/my_rule/1/2/3/4/5/6/7/" + "t" * 241  # 256 bytes after the prefix
    assert publish_and_see(emu, watcher, "ingest-ok", topic) == (True, False)
    assert publish_and_see(emu, watcher, "ingest-over", topic + "/x") == (False, True)


def test_subscribe_over_the_topic_limits_is_refused(emu):
    c = Client(emu, "sub-limits")
    try:
        assert c.subscribe("l/1/2/3/4/5/6/+") == 1
        assert c.subscribe("l/1/2/3/4/5/6/7/#") == SUBACK_FAILURE
        assert c.subscribe("s" * 256) == 1
        assert c.subscribe("s" * 257) == SUBACK_FAILURE
        assert not c.closed
    finally:
        c.close()
    wait_log(emu, "SUBSCRIBE refused from client 'sub-limits'")


def test_mosquitto_sub_over_the_depth_limit_is_refused(emu):
    def sub(topic):
        return subprocess.run(["mosquitto_sub", "-p", str(emu.mqtt_port), "-i", "sub-deep",
                               "-t", topic, "-C", "1", "-W", "1"], capture_output=True, text=True)

    assert "denied" not in sub("a/b/c/d/e/f/g/h").stderr
    assert "All subscription requests were denied" in sub("a/b/c/d/e/f/g/h/i").stderr


def test_payload_of_128_kb_passes_one_byte_more_disconnects(emu, watcher):
    assert publish_and_see(emu, watcher, "payload-ok", "limits/payload", 131072) == (True, False)
    assert watcher.received[-1] == ("limits/payload", 131072)
    assert publish_and_see(emu, watcher, "payload-over", "limits/payload", 131073) == (False, True)
    wait_log(emu, "PUBLISH refused, client disconnected from client 'payload-over'")
    assert 'a payload of 131073 bytes is over AWS\'s "Message size" limit' in log_text(emu)
    # Far over: mosquitto closes the connection before reading it all.
    assert publish_and_see(emu, watcher, "payload-huge", "limits/payload",
                           1024 * 1024) == (False, True)


def test_mosquitto_pub_over_the_payload_limit_is_disconnected(emu):
    ok = subprocess.run(["mosquitto_pub", "-p", str(emu.mqtt_port), "-i", "pub-128k", "-q", "1",
                         "-t", "limits/pub", "-s"], input=b"x" * 131072, capture_output=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(["mosquitto_pub", "-p", str(emu.mqtt_port), "-i", "pub-over", "-q", "1",
                          "-t", "limits/pub", "-s"], input=b"x" * 131073, capture_output=True)
    assert bad.returncode != 0


def test_fifty_subscriptions_per_connection(emu):
    c = Client(emu, "many-subs")
    try:
        for i in range(50):
            assert c.subscribe("limits/subs/%d" % i) == 1, i
        assert c.subscribe("limits/subs/50") == SUBACK_FAILURE
        assert not c.closed
    finally:
        c.close()
    wait_log(emu, "a connection of 51 subscriptions is over AWS's \"Subscriptions per connection\"")


def test_no_publish_rate_limit_by_default(emu, watcher):
    pub = Client(emu, "fast-default")
    before = len(watcher.received)
    for i in range(300):
        pub.c.publish("limits/fast", b"m", qos=0)
    assert watcher.wait(lambda: len(watcher.received) - before == 300, timeout=10)
    assert not pub.closed
    pub.close()


def test_publish_rate_limit_drops_the_rest_of_the_second(make_emulator):
    emu = make_emulator("--publish-rate-limit", "10").start()
    w = Client(emu, "rate-watcher")
    assert w.subscribe("rate/#") == 1
    pub = Client(emu, "rate-fast")
    for i in range(60):
        pub.c.publish("rate/paho", b"m", qos=0)
    time.sleep(1.5)
    paho = len(w.received)
    # 10 a second: one second's worth, or two when the burst straddled a
    # second's end; the publisher stays connected.
    assert 10 <= paho <= 20, paho
    assert not pub.closed
    time.sleep(1.0)
    pub.c.publish("rate/paho", b"again", qos=0)
    assert w.wait(lambda: len(w.received) == paho + 1)
    pub.close()
    wait_log(emu, "PUBLISH dropped (and the rest of this second's) from client 'rate-fast'")
    assert 'over AWS\'s "Publish requests per second per connection" limit of 10' in log_text(emu)

    lines = "".join("m%d\n" % i for i in range(60))
    p = subprocess.run(["mosquitto_pub", "-p", str(emu.mqtt_port), "-i", "rate-cli",
                        "-t", "rate/cli", "-l"], input=lines, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    time.sleep(1.0)
    assert 10 <= len(w.received) - paho - 1 <= 20
    w.close()
