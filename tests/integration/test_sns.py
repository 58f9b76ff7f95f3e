# SPDX-License-Identifier: MIT
"""SNS through the AWS CLI and boto3, the HTTP subscription handshake, signed
Detect alerts, and the workshop's mitigation loop through a `lambda`
subscription served by fixtures/mitigation/runner.py.

Violations come from real MQTT traffic: a profile that alarms when a device
sends more than 10 messages in 5 minutes, 30 QoS 1 messages from dev-XBHY,
then the manual clock is advanced by one bucket. test_delivery.py imports
the helpers defined here."""
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNER = os.path.join(ROOT, "fixtures", "mitigation", "runner.py")
ACCOUNT = "123456789012"
TOPIC = "DDAlerts"
TOPIC_ARN = "arn:aws:sns:us-east-1:%s:%s" % (ACCOUNT, TOPIC)
ROLE_ARN = "arn:aws:iam::%s:role/DDtoSNS" % ACCOUNT
ALL_THINGS = "arn:aws:iot:us-east-1:%s:all/things" % ACCOUNT
DEVICE = "dev-XBHY"


class Receiver:
    """An HTTP endpoint in a thread that records every POST (headers, body,
    arrival time) and answers with the status status_for(request, n) gives
    (200 by default), where n counts earlier requests of the same
    x-amz-sns-message-type. port 0 picks a free port."""

    def __init__(self, status_for=None, port=0, delay=0):
        self.requests = []
        self.cond = threading.Condition()
        self.status_for = status_for or (lambda req, n: 200)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                req = {"headers": {k.lower(): v for k, v in self.headers.items()},
                       "body": body.decode(), "time": time.time(), "path": self.path}
                with outer.cond:
                    n = len(outer.of(req["headers"].get("x-amz-sns-message-type")))
                    outer.requests.append(req)
                    outer.cond.notify_all()
                if delay:
                    time.sleep(delay)
                self.send_response(outer.status_for(req, n))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, n, timeout=10, kind=None):
        """Wait for n requests (of x-amz-sns-message-type kind, if given)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.of(kind)) < n:
                left = deadline - time.monotonic()
                assert left > 0, "got %d of %d requests" % (len(self.of(kind)), n)
                self.cond.wait(left)
            return self.of(kind)

    def of(self, kind):
        return [r for r in self.requests
                if kind is None or r["headers"].get("x-amz-sns-message-type") == kind]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def string_to_sign(msg):
    """sns.md 3.2, written independently of the emulator."""
    if msg["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join("%s\n%s\n" % (k, msg[k]) for k in keys if msg.get(k) is not None).encode()


def verify_signature(msg, cert_key="SigningCertURL"):
    """Fetch the certificate the message names and verify its signature."""
    with urllib.request.urlopen(msg[cert_key], timeout=10) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    digest = hashes.SHA256() if msg["SignatureVersion"] == "2" else hashes.SHA1()
    cert.public_key().verify(base64.b64decode(msg["Signature"]), string_to_sign(msg),
                             padding.PKCS1v15(), digest)


def create_alarm_profile(emulator, name="TooChatty", topic_arn=TOPIC_ARN):
    iot = emulator.client("iot")
    iot.create_security_profile(
        securityProfileName=name,
        behaviors=[{"name": "MsgsSent", "metric": "aws:num-messages-sent",
                    "criteria": {"comparisonOperator": "less-than", "value": {"count": 10},
                                 "durationSeconds": 300, "consecutiveDatapointsToAlarm": 1,
                                 "consecutiveDatapointsToClear": 1}}],
        alertTargets={"SNS": {"alertTargetArn": topic_arn, "roleArn": ROLE_ARN}})
    iot.attach_security_profile(securityProfileName=name, securityProfileTargetArn=ALL_THINGS)


def connect(emulator, client_id=DEVICE, on_message=None):
    c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
    if on_message:
        c.on_message = on_message
    return emulator.mqtt_start(c)


def violate(emulator, client_id=DEVICE, count=30):
    """Publish count QoS 1 messages as client_id, then close the window. Returns
    the wall time just before the clock advance."""
    c = connect(emulator, client_id)
    try:
        for _ in range(count):
            c.publish("dd/telemetry", b"x", qos=1).wait_for_publish(timeout=5)
    finally:
        c.disconnect()
        c.loop_stop()
    t0 = time.time()
    emulator.advance(300)
    return t0


def alerts(emulator):
    status, doc = emulator.get("/_ddlocal/alerts")
    assert status == 200, doc
    return doc["alerts"]


def wait_alert_state(emulator, predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        got = alerts(emulator)
        if predicate(got):
            return got
        assert time.monotonic() < deadline, json.dumps(got, indent=1)
        time.sleep(0.05)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


# ---- the SNS API ----------------------------------------------------------

def test_topic_lifecycle_with_the_cli(emulator):
    out = emulator.aws_json("sns", "create-topic", "--name", TOPIC)
    assert out == {"TopicArn": TOPIC_ARN}
    assert emulator.aws_json("sns", "create-topic", "--name", TOPIC) == out  # idempotent
    emulator.aws("sns", "create-topic", "--name", "Other")
    topics = emulator.aws_json("sns", "list-topics")["Topics"]
    assert [t["TopicArn"] for t in topics] == [
        "arn:aws:sns:us-east-1:%s:DDAlerts" % ACCOUNT, "arn:aws:sns:us-east-1:%s:Other" % ACCOUNT]
    attrs = emulator.aws_json("sns", "get-topic-attributes", "--topic-arn", TOPIC_ARN)["Attributes"]
    assert attrs["TopicArn"] == TOPIC_ARN and attrs["Owner"] == ACCOUNT
    assert attrs["SubscriptionsConfirmed"] == "0"
    emulator.aws("sns", "set-topic-attributes", "--topic-arn", TOPIC_ARN,
                 "--attribute-name", "SignatureVersion", "--attribute-value", "2")
    attrs = emulator.aws_json("sns", "get-topic-attributes", "--topic-arn", TOPIC_ARN)["Attributes"]
    assert attrs["SignatureVersion"] == "2"
    emulator.aws("sns", "delete-topic", "--topic-arn", TOPIC_ARN)
    emulator.aws("sns", "delete-topic", "--topic-arn", TOPIC_ARN)  # idempotent too
    p = emulator.aws("sns", "get-topic-attributes", "--topic-arn", TOPIC_ARN, check=False)
    assert p.returncode == 254 and "NotFound" in p.stderr and "Topic does not exist" in p.stderr


def test_errors_are_sns_xml(emulator):
    sns = emulator.client("sns")
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint="http://127.0.0.1:9/x")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.create_topic(Name="bad name!")
    sns.create_topic(Name=TOPIC)
    for protocol, endpoint in [("email", "no-at-sign"), ("http", "https://x/"),
                               ("lambda", "nope")]:
        with pytest.raises(sns.exceptions.InvalidParameterException):
            sns.subscribe(TopicArn=TOPIC_ARN, Protocol=protocol, Endpoint=endpoint)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.confirm_subscription(TopicArn=TOPIC_ARN, Token="0" * 64)
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.unsubscribe(SubscriptionArn=TOPIC_ARN + ":0b7e4b63-1c2d-4e5f-8a9b-0c1d2e3f4a5b")
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.publish(TopicArn=TOPIC_ARN, Message="")
    p = emulator.aws("sns", "subscribe", "--topic-arn", TOPIC_ARN + "x", "--protocol", "http",
                     "--notification-endpoint", "http://127.0.0.1:9/", check=False)
    assert p.returncode == 254 and "(NotFound)" in p.stderr


def test_pagination_of_topics_and_subscriptions(emulator):
    sns = emulator.client("sns")
    for i in range(105):
        sns.create_topic(Name="t%03d" % i)
    pages = list(sns.get_paginator("list_topics").paginate())
    assert [len(p["Topics"]) for p in pages] == [100, 5]
    arn = "arn:aws:sns:us-east-1:%s:t000" % ACCOUNT
    for i in range(3):
        sns.subscribe(TopicArn=arn, Protocol="lambda",
                      Endpoint="arn:aws:lambda:us-east-1:%s:function:f%d" % (ACCOUNT, i))
    subs = sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    assert sorted(s["Endpoint"][-2:] for s in subs) == ["f0", "f1", "f2"]
    assert all(s["SubscriptionArn"].startswith(arn + ":") for s in subs)
    with pytest.raises(sns.exceptions.InvalidParameterException):
        sns.list_topics(NextToken="garbage")


def test_http_subscription_handshake_and_signed_alert(emulator, receiver):
    emulator.aws("sns", "create-topic", "--name", TOPIC)
    out = emulator.aws_json("sns", "subscribe", "--topic-arn", TOPIC_ARN, "--protocol", "http",
                            "--notification-endpoint", receiver.url)
    assert out == {"SubscriptionArn": "pending confirmation"}

    conf = receiver.wait(1, kind="SubscriptionConfirmation")[0]
    h, msg = conf["headers"], json.loads(conf["body"])
    assert h["content-type"] == "text/plain; charset=UTF-8"
    assert h["user-agent"] == "Amazon Simple Notification Service Agent"
    assert h["x-amz-sns-topic-arn"] == TOPIC_ARN
    assert h["x-amz-sns-message-id"] == msg["MessageId"]
    assert "x-amz-sns-subscription-arn" not in h
    assert msg["Type"] == "SubscriptionConfirmation" and msg["TopicArn"] == TOPIC_ARN
    assert msg["Message"].startswith("You have chosen to subscribe to the topic " + TOPIC_ARN)
    verify_signature(msg)
    subs = emulator.aws_json("sns", "list-subscriptions")["Subscriptions"]
    assert [s["SubscriptionArn"] for s in subs] == ["PendingConfirmation"]

    # The receiver confirms by visiting SubscribeURL, as real receivers do.
    with urllib.request.urlopen(msg["SubscribeURL"], timeout=10) as r:
        xml = r.read().decode()
    assert "<ConfirmSubscriptionResponse" in xml
    sub_arn = xml.split("<SubscriptionArn>")[1].split("</SubscriptionArn>")[0]
    assert sub_arn.startswith(TOPIC_ARN + ":")
    subs = emulator.aws_json("sns", "list-subscriptions-by-topic", "--topic-arn", TOPIC_ARN)
    assert [s["SubscriptionArn"] for s in subs["Subscriptions"]] == [sub_arn]

    create_alarm_profile(emulator)
    t0 = violate(emulator)
    note = receiver.wait(1, kind="Notification")[0]
    print("\nalert latency, clock advance to receiver POST: %.1f ms" % (1000 * (note["time"] - t0)))
    h, msg = note["headers"], json.loads(note["body"])
    assert h["x-amz-sns-subscription-arn"] == sub_arn
    assert h["x-amz-sns-message-id"] == msg["MessageId"]
    assert msg["TopicArn"] == TOPIC_ARN and "Subject" not in msg
    assert msg["SignatureVersion"] == "1"
    assert msg["Timestamp"].endswith("Z") and len(msg["Timestamp"]) == 24
    assert msg["UnsubscribeURL"].endswith("SubscriptionArn=" + sub_arn)
    verify_signature(msg)
    alert = json.loads(msg["Message"])
    assert alert["thingName"] == DEVICE and alert["violationEventType"] == "in-alarm"
    assert alert["securityProfileName"] == "TooChatty"
    assert alert["behavior"]["name"] == "MsgsSent" and alert["metricValue"] == {"count": 30}

    view = wait_alert_state(emulator, lambda a: a and a[0]["deliveries"] and
                            a[0]["deliveries"][0]["status"] == "delivered")
    assert view[0]["messageId"] == msg["MessageId"]
    d = view[0]["deliveries"][0]
    assert d["attempts"] == 1 and d["lastHttpStatus"] == 200 and d["subscriptionArn"] == sub_arn

    # Unsubscribe through the message's own link.
    with urllib.request.urlopen(msg["UnsubscribeURL"], timeout=10) as r:
        assert "<UnsubscribeResponse" in r.read().decode()
    assert emulator.aws_json("sns", "list-subscriptions")["Subscriptions"] == []


def test_signature_version_2_and_publish_from_the_cli(emulator, receiver):
    sns = emulator.client("sns")
    sns.create_topic(Name=TOPIC, Attributes={"SignatureVersion": "2"})
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=receiver.url)
    conf = json.loads(receiver.wait(1, kind="SubscriptionConfirmation")[0]["body"])
    assert conf["SignatureVersion"] == "2"
    verify_signature(conf)
    arn = emulator.aws_json("sns", "confirm-subscription", "--topic-arn", TOPIC_ARN,
                            "--token", conf["Token"])["SubscriptionArn"]
    out = emulator.aws_json("sns", "publish", "--topic-arn", TOPIC_ARN, "--message",
                            '{"hello": "world"}', "--subject", "Device Defender alarm")
    note = receiver.wait(1, kind="Notification")[0]
    msg = json.loads(note["body"])
    assert msg["MessageId"] == out["MessageId"] and msg["Subject"] == "Device Defender alarm"
    assert msg["Message"] == '{"hello": "world"}' and msg["SignatureVersion"] == "2"
    assert note["headers"]["x-amz-sns-subscription-arn"] == arn
    verify_signature(msg)


def test_certificate_is_served_only_under_its_name(emulator, receiver):
    sns = emulator.client("sns")
    sns.create_topic(Name=TOPIC)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=receiver.url)
    url = json.loads(receiver.wait(1)[0]["body"])["SigningCertURL"]
    assert url.startswith(emulator.endpoint + "/_ddlocal/sns/SimpleNotificationService-")
    status, headers, body = http_get(url)
    assert status == 200 and body.startswith(b"-----BEGIN CERTIFICATE-----")
    status, _, _ = http_get(emulator.endpoint + "/_ddlocal/sns/SimpleNotificationService-"
                            + "0" * 32 + ".pem")
    assert status == 404


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def test_sink_receives_and_confirms_by_itself(emulator):
    sns = emulator.client("sns")
    sns.create_topic(Name=TOPIC)
    sink = emulator.endpoint + "/_ddlocal/sink/demo"
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=sink)
    deadline = time.monotonic() + 10
    while sns.list_subscriptions()["Subscriptions"][0]["SubscriptionArn"] == "PendingConfirmation":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    create_alarm_profile(emulator)
    violate(emulator)
    deadline = time.monotonic() + 10
    while True:
        status, doc = emulator.get("/_ddlocal/sink/demo")
        assert status == 200
        kinds = [m["headers"]["x-amz-sns-message-type"] for m in doc["messages"]]
        if kinds == ["SubscriptionConfirmation", "Notification"]:
            break
        assert time.monotonic() < deadline, kinds
        time.sleep(0.05)
    alert = json.loads(json.loads(doc["messages"][1]["body"])["Message"])
    assert alert["thingName"] == DEVICE
    status, doc = emulator.get("/_ddlocal/sink/nothing-here")
    assert status == 200 and doc == {"messages": []}
    status, _, _ = emulator.post("/_ddlocal/sink/bad%20name", raw=b"x")
    assert status == 400


# ---- the mitigation loop --------------------------------------------------

@pytest.fixture
def runner_proc(emulator):
    p = subprocess.Popen([sys.executable, RUNNER, "--port", "0", "--endpoint", emulator.endpoint],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert "listening on" in line, line + p.stderr.read()
    url = line.split("listening on ")[1].split(" ")[0]
    yield url
    p.terminate()
    p.wait(timeout=10)
    p.stdout.close()
    p.stderr.close()


def test_lambda_subscription_runs_the_workshop_handler(emulator, runner_proc):
    iot = emulator.client("iot")
    iot.create_thing(thingName=DEVICE)
    iot.create_thing_group(thingGroupName="Quarantine")
    function = "arn:aws:lambda:us-east-1:%s:function:DeviceDefenderQuarantine" % ACCOUNT
    status, _, doc = emulator.post("/_ddlocal/lambda", {"functionArn": function, "url": runner_proc})
    assert status == 200, doc
    sns = emulator.client("sns")
    sns.create_topic(Name=TOPIC)
    sub = sns.subscribe(TopicArn=TOPIC_ARN, Protocol="lambda", Endpoint=function)
    assert sub["SubscriptionArn"].startswith(TOPIC_ARN + ":")  # no handshake for Lambda
    create_alarm_profile(emulator)

    deltas = []
    device = connect(emulator, DEVICE, lambda c, u, m: deltas.append(json.loads(m.payload)))
    device.subscribe("$aws/things/%s/shadow/update/delta" % DEVICE, 1)
    try:
        for _ in range(30):
            device.publish("dd/telemetry", b"x", qos=1).wait_for_publish(timeout=5)
        emulator.advance(300)
        view = wait_alert_state(emulator, lambda a: a and a[0]["deliveries"] and
                                a[0]["deliveries"][0]["status"] != "pending")
        assert view[0]["deliveries"][0]["status"] == "delivered", view
        deadline = time.monotonic() + 10
        while not deltas:
            assert time.monotonic() < deadline, "no shadow delta reached the device"
            time.sleep(0.05)
    finally:
        device.disconnect()
        device.loop_stop()
    assert deltas[0]["state"] == {"quarantine": True}
    groups = iot.list_thing_groups_for_thing(thingName=DEVICE)["thingGroups"]
    assert [g["groupName"] for g in groups] == ["Quarantine"]
    shadow = json.loads(emulator.client("iot-data").get_thing_shadow(thingName=DEVICE)["payload"]
                        .read())
    assert shadow["state"]["desired"] == {"quarantine": True}
