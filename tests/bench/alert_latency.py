# SPDX-License-Identifier: MIT
"""Alert latency (`make bench`, docs/performance.md "Alert latency"): from
the close of a bucket to the alert at a webhook receiver and in a queue.

An emulator on the manual clock (`--webhook` to a receiver in this process)
with one security profile on all things: thing lat-0 in alarm when it sent
a message in the bucket, cleared when it did not. The alert topic has an
`sqs` subscription to the emulator's own queue lat-alerts. Each round the
device sends one message or none and the clock advances 300 s: exactly one
alert (in-alarm, then alarm-cleared, in turn). The latency of a round runs
from just before POST /_ddlocal/clock (the bucket closes inside it) to the
receiver's timestamp of the webhook POST, and to the return of a long-poll
ReceiveMessage that got the queue's copy: a consumer thread keeps one long
poll waiting, as a queue's reader does, so the copy is seen when the
server learns of it, not when this script asks; the answer of the clock
POST (the evaluation done) is stamped too, to show where the time goes.
Prints p50 and p99 of each, and a `json:` line.

Usage: alert_latency.py [ALERTS] (default 1000; BENCH_ALERTS in make bench)."""
import http.server
import json
import os
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import paho.mqtt.client as mqtt  # noqa: E402

from conftest import Emulator, free_port  # noqa: E402

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:LatAlerts"
ROLE_ARN = "arn:aws:iam::123456789012:role/Lat"
ALL_THINGS = "arn:aws:iot:us-east-1:123456789012:all/things"


class Receiver(http.server.BaseHTTPRequestHandler):
    """The webhook: stamps every POST with the wall clock as it arrives."""
    got = []
    cond = threading.Condition()

    def do_POST(self):
        t = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
        with Receiver.cond:
            Receiver.got.append((t, body))
            Receiver.cond.notify_all()

    def log_message(self, *args):
        pass


class Consumer(threading.Thread):
    """Long-polls the queue without pause, stamping each message with the
    wall clock as its ReceiveMessage returns, and deletes it."""

    def __init__(self, sqs, url):
        super().__init__(daemon=True)
        self.sqs, self.url = sqs, url
        self.got = []
        self.cond = threading.Condition()
        self.stop = False

    def run(self):
        while not self.stop:
            msgs = self.sqs.receive_message(QueueUrl=self.url,
                                            WaitTimeSeconds=2).get("Messages", [])
            t = time.time()
            for m in msgs:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
            with self.cond:
                self.got.extend(t for _ in msgs)
                self.cond.notify_all()


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def main():
    alerts = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp()
    emu = Emulator(os.path.join(tmp, "data"),
                   ["--manual-clock", "--webhook", "http://127.0.0.1:%d/" % port]).start()
    dev = None
    try:
        iot, sqs, sns = emu.client("iot"), emu.client("sqs"), emu.client("sns")
        sns.create_topic(Name="LatAlerts")
        url = sqs.create_queue(QueueName="lat-alerts")["QueueUrl"]
        sns.subscribe(TopicArn=TOPIC_ARN, Protocol="sqs",
                      Endpoint="arn:aws:sqs:us-east-1:123456789012:lat-alerts")
        iot.create_thing(thingName="lat-0")
        iot.create_security_profile(
            securityProfileName="Lat",
            behaviors=[{"name": "Sent", "metric": "aws:num-messages-sent",
                        "criteria": {"comparisonOperator": "less-than", "value": {"count": 1},
                                     "durationSeconds": 300,
                                     "consecutiveDatapointsToAlarm": 1,
                                     "consecutiveDatapointsToClear": 1}}],
            alertTargets={"SNS": {"alertTargetArn": TOPIC_ARN, "roleArn": ROLE_ARN}})
        iot.attach_security_profile(securityProfileName="Lat",
                                    securityProfileTargetArn=ALL_THINGS)
        emu.sync()
        dev = mqtt.Client(client_id="lat-0", protocol=mqtt.MQTTv311)
        emu.mqtt_start(dev)
        consumer = Consumer(emu.client("sqs"), url)
        consumer.start()
        hook, queue, post = [], [], []
        sent = 0
        for i in range(alerts):
            if i % 2 == 0:
                dev.publish("lat/0", b"x", qos=1).wait_for_publish(timeout=5)
                sent += 1
            with Receiver.cond:
                before = len(Receiver.got)
            with consumer.cond:
                queued_before = len(consumer.got)
            t0 = time.time()
            emu.advance(300)
            post.append((time.time() - t0) * 1000.0)
            with Receiver.cond:
                if not Receiver.cond.wait_for(lambda: len(Receiver.got) > before, timeout=10):
                    raise RuntimeError("round %d: no webhook alert within 10 s" % i)
                hook.append((Receiver.got[before][0] - t0) * 1000.0)
            with consumer.cond:
                if not consumer.cond.wait_for(lambda: len(consumer.got) > queued_before,
                                              timeout=10):
                    raise RuntimeError("round %d: no queued alert within 10 s" % i)
                queue.append((consumer.got[queued_before] - t0) * 1000.0)
            if i % 100 == 99:
                sys.stdout.write(".")
                sys.stdout.flush()
        print()
        kinds = {json.loads(json.loads(b)["Records"][0]["Sns"]["Message"])["violationEventType"]
                 for _, b in Receiver.got}
        assert kinds == {"in-alarm", "alarm-cleared"}, kinds
        consumer.stop = True
        consumer.join()
    finally:
        if dev:
            dev.disconnect()
        emu.stop()
        server.shutdown()
    print("Alert latency over %d alerts, from the bucket close (POST /_ddlocal/clock) to" % alerts)
    print("  %-30s %10s %10s %10s   %s" % ("", "p50 ms", "p99 ms", "max ms", "target"))
    out = {}
    for name, v, target in (("clock POST answered", post, ""),
                            ("webhook receiver", hook, "p99 < 50 ms"),
                            ("queue (a long poll waiting)", queue, "p99 < 50 ms")):
        print("  %-30s %10.1f %10.1f %10.1f   %s" % (name, statistics.median(v), pct(v, 99),
                                                    max(v), target))
        out[name.split()[0]] = {"p50_ms": round(statistics.median(v), 1),
                                "p99_ms": round(pct(v, 99), 1)}
    print("json: " + json.dumps(out))


if __name__ == "__main__":
    main()
