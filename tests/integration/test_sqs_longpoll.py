# SPDX-License-Identifier: MIT
"""SQS long polling (ReceiveMessage's WaitTimeSeconds and the queue's
ReceiveMessageWaitTimeSeconds): a waiting receive holds no server thread, a
send wakes it at once, it ends empty at its real-time end or when the
manual clock is advanced past it, many waits leave other requests prompt,
and the broker wakes them when it puts an alert in a queue. boto3 1.26 and the AWS CLI v2 send the query protocol; the
concurrent waits use the JSON protocol by plain HTTP."""
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from conftest import http, reset

JSON = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-query-mode": "true"}


@pytest.fixture
def sqs(emu):
    reset(emu)
    return emu.client("sqs")


def json_call(emu, op, doc, timeout=30):
    status, _, body = http("POST", emu.endpoint + "/", json.dumps(doc),
                           dict(JSON, **{"X-Amz-Target": "AmazonSQS." + op}), timeout=timeout)
    return status, json.loads(body) if body else None


class Receive(threading.Thread):
    """A receive on its own client and thread; .out, .error and .seconds
    (how long the call took) once joined."""

    def __init__(self, emu, url, **kwargs):
        super().__init__(daemon=True)
        self.client = emu.client("sqs")
        self.url, self.kwargs = url, kwargs
        self.out = self.error = self.ended = None

    def run(self):
        start = time.monotonic()
        try:
            self.out = self.client.receive_message(QueueUrl=self.url, **self.kwargs)
        except Exception as e:  # reported by the test
            self.error = e
        self.ended = time.monotonic()
        self.seconds = self.ended - start


def test_a_send_wakes_a_waiting_receive(emu, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    r = Receive(emu, url, WaitTimeSeconds=20)
    r.start()
    time.sleep(0.5)  # real time: the receive must be waiting, not answered
    assert r.is_alive()
    sent = time.monotonic()
    emu.client("sqs").send_message(QueueUrl=url, MessageBody="wake up")
    after_send = time.monotonic()
    r.join(10)
    assert not r.is_alive() and r.error is None
    assert [m["Body"] for m in r.out["Messages"]] == ["wake up"]
    latency = r.ended - sent
    print("long poll wake-up: the receive returned %.1f ms after the send began "
          "(the send itself took %.1f ms)" % (latency * 1000, (after_send - sent) * 1000))
    # a few milliseconds when the machine is idle; the bound leaves room for
    # a loaded one (sanitizer builds, parallel suites)
    assert latency < 1.0


def test_a_wait_ends_empty_in_real_time(emu, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    start = time.monotonic()
    out = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
    took = time.monotonic() - start
    assert "Messages" not in out
    assert 1.9 <= took < 3.5, took
    # the queue's ReceiveMessageWaitTimeSeconds when the call gives none
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"ReceiveMessageWaitTimeSeconds": "1"})
    start = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url)
    assert 0.9 <= time.monotonic() - start < 2.5
    # WaitTimeSeconds=0 overrides it: at once
    start = time.monotonic()
    assert "Messages" not in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=0)
    assert time.monotonic() - start < 0.5


def test_advancing_the_manual_clock_ends_a_wait(emu, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    r = Receive(emu, url, WaitTimeSeconds=20)
    r.start()
    time.sleep(0.3)
    assert r.is_alive()
    emu.advance(10)  # not yet past the wait's emulated end
    time.sleep(0.3)
    assert r.is_alive()
    emu.advance(10)
    r.join(5)
    assert not r.is_alive() and r.error is None
    assert "Messages" not in r.out and r.seconds < 5


def test_a_delayed_message_arrives_during_a_wait(emu, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=5)
    r = Receive(emu, url, WaitTimeSeconds=20)
    r.start()
    time.sleep(0.3)
    assert r.is_alive()
    emu.advance(5)  # the delay ends on the emulated clock, the wait does not
    r.join(5)
    assert [m["Body"] for m in r.out["Messages"]] == ["later"]


def test_a_message_made_visible_without_a_wake_is_found_by_the_recheck(emu, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="again")
    handle = sqs.receive_message(QueueUrl=url)["Messages"][0]["ReceiptHandle"]
    r = Receive(emu, url, WaitTimeSeconds=20)
    r.start()
    time.sleep(0.3)
    assert r.is_alive()
    changed = time.monotonic()
    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    r.join(5)
    assert [m["Body"] for m in r.out["Messages"]] == ["again"]
    assert r.ended - changed < 1.0


def test_wait_errors(emu, sqs):
    url = sqs.create_queue(QueueName="lp")["QueueUrl"]
    for bad in (21, -1):
        status, doc = json_call(emu, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": bad})
        assert status == 400
        assert doc["message"] == ("Value %d for parameter WaitTimeSeconds is invalid. Reason: "
                                  "Must be >= 0 and <= 20, if provided." % bad)
    status, doc = json_call(emu, "ReceiveMessage", {"QueueUrl": url + "-gone",
                                                   "WaitTimeSeconds": 5})
    assert status == 400 and doc["__type"] == "com.amazonaws.sqs#QueueDoesNotExist"


def test_fifty_waits_hold_no_thread(emu, sqs):
    url = sqs.create_queue(QueueName="many")["QueueUrl"]
    got, errors = [], []

    def wait():
        try:
            status, doc = json_call(emu, "ReceiveMessage", {"QueueUrl": url,
                                                           "WaitTimeSeconds": 20})
            assert status == 200, doc
            got.extend(m["Body"] for m in doc.get("Messages", []))
        except Exception as e:
            errors.append(e)

    threads = [threading.Thread(target=wait, daemon=True) for _ in range(50)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    assert all(t.is_alive() for t in threads)
    # with 50 receives waiting (more than the server's worker threads),
    # other requests are answered at once
    slowest = 0.0
    for _ in range(20):
        start = time.monotonic()
        assert sqs.list_queues()["QueueUrls"] == [url]
        status, _ = emu.get("/_ddlocal/health")
        assert status == 200
        slowest = max(slowest, time.monotonic() - start)
    print("slowest of 20 requests beside 50 waits: %.1f ms" % (slowest * 1000))
    assert slowest < 1.0  # a few ms when idle; waits holding threads would block these 20 s
    start = time.monotonic()
    for i in range(50):
        sqs.send_message(QueueUrl=url, MessageBody="m%d" % i)
    for t in threads:
        t.join(10)
    print("50 waits served 50 messages in %.2f s" % (time.monotonic() - start))
    assert not errors and not any(t.is_alive() for t in threads)
    assert sorted(got) == sorted("m%d" % i for i in range(50))


def test_cli_long_poll(emu, sqs):
    url = sqs.create_queue(QueueName="cli-lp")["QueueUrl"]
    start = time.monotonic()
    p = emu.aws("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "1")
    assert p.stdout.strip() == "" and time.monotonic() - start >= 0.9
    sender = threading.Timer(0.5, lambda: emu.client("sqs").send_message(
        QueueUrl=url, MessageBody="from the cli"))
    sender.start()
    out = emu.aws_json("sqs", "receive-message", "--queue-url", url, "--wait-time-seconds", "20")
    sender.join()
    assert [m["Body"] for m in out["Messages"]] == ["from the cli"]


def test_stopping_the_server_answers_the_waits(make_emulator):
    emu = make_emulator("--manual-clock").start()
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName="stop")["QueueUrl"]
    r = Receive(emu, url, WaitTimeSeconds=20)
    r.start()
    time.sleep(0.3)
    start = time.monotonic()
    emu.stop()
    assert time.monotonic() - start < 5
    r.join(5)
    assert not r.is_alive()
    assert r.error is None and "Messages" not in r.out


def test_a_scaled_clock_shortens_the_wait(make_emulator):
    emu = make_emulator("--time-scale", "60").start()
    sqs = emu.client("sqs")
    url = sqs.create_queue(QueueName="fast")["QueueUrl"]
    start = time.monotonic()
    out = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)
    took = time.monotonic() - start
    print("a 20-second wait at --time-scale 60 took %.2f real seconds" % took)
    # 20 emulated seconds are a third of a real one; the re-check adds at most a quarter
    assert "Messages" not in out and 0.3 <= took < 1.5


def server_threads(emu):
    """The number of threads of this emulator's ddlocal-server."""
    want = ("--port", str(emu.http_port))
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                args = f.read().decode(errors="replace").split("\0")
        except OSError:
            continue
        if args and args[0].endswith("ddlocal-server") and any(
                args[i:i + 2] == list(want) for i in range(len(args))):
            return len(os.listdir("/proc/%s/task" % pid))
    raise AssertionError("ddlocal-server is not running")


def test_two_hundred_waits_cost_no_thread(emu, sqs):
    url = sqs.create_queue(QueueName="crowd")["QueueUrl"]
    before = server_threads(emu)
    done = []

    def wait():
        status, doc = json_call(emu, "ReceiveMessage", {"QueueUrl": url, "WaitTimeSeconds": 20})
        done.append((status, doc))

    threads = [threading.Thread(target=wait, daemon=True) for _ in range(200)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    during = server_threads(emu)
    print("server threads: %d before, %d with 200 receives waiting" % (before, during))
    assert not done and during == before
    emu.advance(20)  # the clock passes every wait's end
    for t in threads:
        t.join(10)
    assert len(done) == 200 and all(d == (200, {}) for d in done)


# A process that says "ready", then waits for one SIGURG and says so.
SIGURG_WAITER = ("import signal; signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGURG]); "
                 "print('ready', flush=True); signal.sigwait([signal.SIGURG]); "
                 "print('SIGURG', flush=True)")


def test_the_broker_wakes_the_server_after_an_alert_to_a_queue(make_emulator):
    # The server records its pid for the broker, whose delivery thread
    # sends it SIGURG once it has put an alert in a queue: another
    # process's write wakes no long poll otherwise. A stand-in takes the
    # server's place in the record to see the signal.
    emu = make_emulator("--manual-clock").start()
    db = sqlite3.connect(os.path.join(emu.data_dir, "ddlocal.db"))
    try:
        [(pid,)] = db.execute("SELECT server_pid FROM emulator_state").fetchall()
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            assert f.read().split(b"\0")[0].endswith(b"ddlocal-server")
        standin = subprocess.Popen([sys.executable, "-c", SIGURG_WAITER], stdout=subprocess.PIPE)
        try:
            assert standin.stdout.readline() == b"ready\n"
            db.execute("UPDATE emulator_state SET server_pid = ?", (standin.pid,))
            db.commit()
            iot, sns, sqs = emu.client("iot"), emu.client("sns"), emu.client("sqs")
            topic = sns.create_topic(Name="Alerts")["TopicArn"]
            sqs.create_queue(QueueName="alerts")
            sns.subscribe(TopicArn=topic, Protocol="sqs",
                          Endpoint="arn:aws:sqs:us-east-1:123456789012:alerts")
            iot.create_security_profile(
                securityProfileName="Any",
                behaviors=[{"name": "Sent", "metric": "aws:num-messages-sent",
                            "criteria": {"comparisonOperator": "less-than",
                                         "value": {"count": 1}, "durationSeconds": 300}}],
                alertTargets={"SNS": {"alertTargetArn": topic,
                                      "roleArn": "arn:aws:iam::123456789012:role/R"}})
            iot.attach_security_profile(
                securityProfileName="Any",
                securityProfileTargetArn="arn:aws:iot:us-east-1:123456789012:all/things")
            emu.sync()
            subprocess.run(["mosquitto_pub", "-p", str(emu.mqtt_port), "-i", "dev-1", "-q", "1",
                            "-t", "t", "-m", "x"], check=True, timeout=10)
            emu.advance(300)
            assert standin.wait(timeout=10) == 0
            assert standin.stdout.read() == b"SIGURG\n"
        finally:
            if standin.poll() is None:
                standin.kill()
                standin.wait()
    finally:
        db.close()
