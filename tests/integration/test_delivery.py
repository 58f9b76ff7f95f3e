# SPDX-License-Identifier: MIT
"""Delivery guarantees of the alert outbox: SNS's HTTP retry policy (5xx,
timeouts and refused connections retried up to the attempt limit, other
statuses not retried), the same MessageId on every retry, order per
subscription, a hanging receiver that delays nobody else, the --webhook
shortcut, and SIGKILL of the broker with undelivered alerts followed by a
restart (each alert delivered exactly once, none lost).

Retries wait real time; the emulators here use --retry-delay-ms 200 (SNS's
default is 20 s)."""
import json
import os
import signal
import time

import pytest
from conftest import free_port
from test_sns import (ACCOUNT, DEVICE, TOPIC, TOPIC_ARN, Receiver, connect,
                      create_alarm_profile, verify_signature, violate, wait_alert_state)

DELAY_MS = 200


@pytest.fixture
def fast(make_emulator):
    """An emulator on the manual clock with 200 ms between retries."""
    return make_emulator("--manual-clock", "--retry-delay-ms", str(DELAY_MS)).start()


def subscribe_confirmed(emulator, url):
    """An http subscription confirmed through the API with the token the
    receiver got."""
    sns = emulator.client("sns")
    sns.create_topic(Name=TOPIC)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=url)
    return sns


def confirm(emulator, receiver):
    conf = json.loads(receiver.wait(1, kind="SubscriptionConfirmation")[0]["body"])
    return emulator.client("sns").confirm_subscription(
        TopicArn=TOPIC_ARN, Token=conf["Token"])["SubscriptionArn"]


def delivery_of(view):
    assert len(view) == 1 and len(view[0]["deliveries"]) == 1, view
    return view[0]["deliveries"][0]


def settled(view):
    return view and view[0]["deliveries"] and all(d["status"] != "pending"
                                                  for d in view[0]["deliveries"])


def test_5xx_gets_the_policy_attempts_and_no_more(fast):
    r = Receiver(lambda req, n: 200 if req["headers"]["x-amz-sns-message-type"]
                 == "SubscriptionConfirmation" else 500)
    try:
        subscribe_confirmed(fast, r.url)
        confirm(fast, r)
        create_alarm_profile(fast)
        violate(fast)
        got = r.wait(4, kind="Notification")
        view = wait_alert_state(fast, settled)
        time.sleep(5 * DELAY_MS / 1000)
        assert len(r.of("Notification")) == 4
    finally:
        r.close()
    ids = {req["headers"]["x-amz-sns-message-id"] for req in got}
    bodies = {req["body"] for req in got}
    assert len(ids) == 1 and len(bodies) == 1  # same MessageId, same signed body
    gaps = [b["time"] - a["time"] for a, b in zip(got, got[1:])]
    assert all(g >= DELAY_MS / 1000 * 0.9 for g in gaps), gaps
    d = delivery_of(view)
    assert d["status"] == "failed" and d["attempts"] == 4 and d["lastHttpStatus"] == 500
    assert d["lastError"] == "HTTP 500" and d["doneTime"] is not None
    assert view[0]["messageId"] in ids


@pytest.mark.parametrize("status", [400, 404, 302])
def test_other_statuses_are_not_retried(fast, status):
    r = Receiver(lambda req, n: 200 if req["headers"]["x-amz-sns-message-type"]
                 == "SubscriptionConfirmation" else status)
    try:
        subscribe_confirmed(fast, r.url)
        confirm(fast, r)
        create_alarm_profile(fast)
        violate(fast)
        r.wait(1, kind="Notification")
        view = wait_alert_state(fast, settled)
        time.sleep(5 * DELAY_MS / 1000)
        assert len(r.of("Notification")) == 1
    finally:
        r.close()
    d = delivery_of(view)
    assert d["status"] == "failed" and d["attempts"] == 1 and d["lastHttpStatus"] == status


def test_refused_connections_are_retried_then_kept_as_failed(make_emulator):
    port = free_port()  # nothing listens there
    emu = make_emulator("--manual-clock", "--retry-delay-ms", "100", "--delivery-attempts", "3",
                        "--webhook", "http://127.0.0.1:%d/down" % port,
                        "--webhook-format", "sns").start()
    create_alarm_profile(emu)
    violate(emu)
    view = wait_alert_state(emu, settled)
    d = delivery_of(view)
    assert d["status"] == "failed" and d["attempts"] == 3
    assert d["lastHttpStatus"] is None and d["lastError"]


def test_order_per_subscription_holds_through_retries(fast):
    r = Receiver(lambda req, n: 500 if req["headers"]["x-amz-sns-message-type"]
                 == "Notification" and n < 2 else 200)
    try:
        sns = subscribe_confirmed(fast, r.url)
        confirm(fast, r)
        sent = [sns.publish(TopicArn=TOPIC_ARN, Message="m%d" % i)["MessageId"] for i in range(3)]
        got = r.wait(5, kind="Notification")
    finally:
        r.close()
    order = [req["headers"]["x-amz-sns-message-id"] for req in got]
    assert order == [sent[0], sent[0], sent[0], sent[1], sent[2]]


def test_a_hanging_receiver_slows_nobody_else(fast):
    slow = Receiver(delay=3)
    quick = Receiver()
    try:
        sns = fast.client("sns")
        sns.create_topic(Name=TOPIC)
        for r in (slow, quick):
            sns.subscribe(TopicArn=TOPIC_ARN, Protocol="http", Endpoint=r.url)
            confirm(fast, r)
        t0 = time.time()
        sns.publish(TopicArn=TOPIC_ARN, Message="hello")
        note = quick.wait(1, kind="Notification")[0]
        assert note["time"] - t0 < 1.0
        # The broker and the server answer while the slow receiver holds its request.
        c = connect(fast, "bystander")
        try:
            c.publish("x/y", b"1", qos=1).wait_for_publish(timeout=2)
        finally:
            c.disconnect()
            c.loop_stop()
        assert time.time() - t0 < 2.0
        slow.wait(1, kind="Notification", timeout=10)
    finally:
        slow.close()
        quick.close()


def test_webhook_shortcut_delivers_the_lambda_shape(make_emulator):
    r = Receiver()
    try:
        emu = make_emulator("--manual-clock", "--webhook", r.url).start()
        create_alarm_profile(emu)
        violate(emu)
        t1 = time.time()
        req = r.wait(1)[0]
        print("\nwebhook latency after the clock barrier returned: %.1f ms" % (
            1000 * (req["time"] - t1)))
    finally:
        r.close()
    event = json.loads(req["body"])
    assert req["headers"]["content-type"] == "application/json"
    [record] = event["Records"]
    assert record["EventSource"] == "aws:sns" and record["EventVersion"] == "1.0"
    sns = record["Sns"]
    assert sns["Type"] == "Notification" and sns["TopicArn"] == TOPIC_ARN
    assert sns["Subject"] is None and sns["MessageAttributes"] == {}
    assert json.loads(sns["Message"])["thingName"] == DEVICE
    assert record["EventSubscriptionArn"].startswith(TOPIC_ARN + ":")
    # Validators check a Lambda record after renaming the keys back.
    sns["SigningCertURL"] = sns.pop("SigningCertUrl")
    verify_signature(sns)
    # The topic was created on first use, and the webhook is a visible subscription.
    subs = emu.client("sns").list_subscriptions()["Subscriptions"]
    assert [(s["Protocol"], s["TopicArn"]) for s in subs] == [("lambda", TOPIC_ARN)]
    assert subs[0]["Endpoint"] == "arn:aws:lambda:us-east-1:%s:function:ddlocal-webhook" % ACCOUNT


def test_sigkill_with_undelivered_alerts_loses_nothing(make_emulator, tmp_path):
    port = free_port()  # the receiver is down until after the restart
    args = ("--manual-clock", "--retry-delay-ms", "1000", "--delivery-attempts", "20", "--webhook",
            "http://127.0.0.1:%d/hook" % port, "--webhook-format", "sns")
    emu = make_emulator(*args, data_dir=tmp_path / "kill").start()
    create_alarm_profile(emu)
    devices = ["dev-%d" % i for i in range(5)]
    for d in devices:
        c = connect(emu, d)
        for _ in range(30):
            c.publish("dd/telemetry", b"x", qos=1).wait_for_publish(timeout=5)
        c.disconnect()
        c.loop_stop()
    emu.advance(300)
    # Every alert is fanned out; the oldest has had a refused attempt and waits
    # for its retry, holding the others back (order per subscription).
    wait_alert_state(emu, lambda v: len(v) == 5 and all(a["deliveries"] for a in v) and
                     v[-1]["deliveries"][0]["attempts"] >= 1)
    os.kill(emu.mosquitto_pid(), signal.SIGKILL)
    emu.proc.wait(timeout=10)  # the launcher goes down with its broker
    emu.stop()

    r = Receiver(port=port)
    try:
        emu.start()
        got = r.wait(5, kind="Notification", timeout=20)
        view = wait_alert_state(emu, lambda v: all(settled([a]) for a in v))
        time.sleep(1)
        got = r.of("Notification")
    finally:
        r.close()
    things = sorted(json.loads(json.loads(g["body"])["Message"])["thingName"] for g in got)
    assert things == devices  # each alert exactly once: 0 lost, 0 duplicated
    assert all(a["deliveries"][0]["status"] == "delivered" for a in view)
    assert len({g["headers"]["x-amz-sns-message-id"] for g in got}) == 5


def test_pending_confirmation_gets_no_notifications(fast):
    r = Receiver(lambda req, n: 200)
    try:
        subscribe_confirmed(fast, r.url)
        r.wait(1, kind="SubscriptionConfirmation")
        create_alarm_profile(fast)
        violate(fast)
        view = wait_alert_state(fast, lambda v: v and v[0]["messageId"])
        assert len(view) == 1 and view[0]["deliveries"] == []
        time.sleep(0.3)
        assert r.of("Notification") == []
    finally:
        r.close()


def test_lambda_without_a_mapping_is_retried_then_failed(fast):
    sns = fast.client("sns")
    sns.create_topic(Name=TOPIC)
    sns.subscribe(TopicArn=TOPIC_ARN, Protocol="lambda",
                  Endpoint="arn:aws:lambda:us-east-1:%s:function:Unmapped" % ACCOUNT)
    create_alarm_profile(fast)
    violate(fast)
    d = delivery_of(wait_alert_state(fast, settled))
    assert d["status"] == "failed" and d["attempts"] == 4 and "no URL is mapped" in d["lastError"]
    status, _, doc = fast.post("/_ddlocal/lambda", {"functionArn": "nope", "url": "http://x/"})
    assert status == 400


def test_launcher_rejects_bad_delivery_flags(make_emulator):
    for args in (["--webhook", "ftp://x"], ["--webhook-format", "xml"],
                 ["--lambda", "notanarn"], ["--retry-delay-ms", "soon"]):
        emu = make_emulator(*args)
        with pytest.raises(RuntimeError):
            emu.start()
