# SPDX-License-Identifier: MIT
"""The dashboard in headless Chromium: the lab scenario on the manual clock
(MsgSentSecProfile, dev-XBHY publishing 30 messages, one bucket closed),
then what a student sees: the thing, the violating datapoint, the in-alarm
event and the behavior in words, with no console error; then the advance
button on the page closes the next bucket and alarm-cleared appears. The
screenshot lands in build/e2e/dashboard.png."""
import json
import os

import paho.mqtt.client as mqtt

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOT = os.path.join(ROOT, "build", "e2e", "dashboard.png")
ALL_THINGS = "arn:aws:iot:us-east-1:123456789012:all/things"
SENTENCE = ("alarms when dev-XBHY sends 5 or more messages in a 5-minute period, once; "
            "clears after 1 period with fewer than 5")


def lab_profile(iot):
    iot.create_security_profile(
        securityProfileName="MsgSentSecProfile",
        behaviors=[{"name": "MsgSentBehavior", "metric": "aws:num-messages-sent",
                    "criteria": {"comparisonOperator": "less-than", "value": {"count": 5},
                                 "durationSeconds": 300, "consecutiveDatapointsToAlarm": 1,
                                 "consecutiveDatapointsToClear": 1}}],
        alertTargets={"SNS": {"alertTargetArn": "arn:aws:sns:us-east-1:123456789012:DDD_Alerts",
                              "roleArn": "arn:aws:iam::123456789012:role/DDDtoSNSRole"}})
    iot.attach_security_profile(securityProfileName="MsgSentSecProfile",
                                securityProfileTargetArn=ALL_THINGS)


def device(emulator, name):
    c = mqtt.Client(client_id=name, clean_session=True, protocol=mqtt.MQTTv311)
    return emulator.mqtt_start(c)


def text_of(selector):
    return "Array.from(document.querySelectorAll(%s)).map(e => e.textContent).join('\\n')" % (
        json.dumps(selector))


def test_lab_scenario_in_the_dashboard(emulator, browser):
    lab_profile(emulator.client("iot"))
    emulator.sync()
    dev = device(emulator, "dev-XBHY")
    try:
        for _ in range(30):
            dev.publish("dt/dev-XBHY/telemetry", b'{"temperature": 21}', qos=1).wait_for_publish(5)
        emulator.advance(300)

        browser.goto(emulator.endpoint + "/_ddlocal/ui/")
        browser.wait_for("!!document.querySelector('.thing[data-thing=\"dev-XBHY\"]')",
                         what="dev-XBHY in the fleet")
        browser.wait_for("!!document.querySelector('.thing.selected .badge.alarm')",
                         what="dev-XBHY marked in alarm")
        browser.wait_for("document.querySelectorAll('.chart .dp.violating').length === 1",
                         what="one violating datapoint in the chart")
        browser.wait_for("!!document.querySelector('.chart .event-label.in-alarm')",
                         what="the in-alarm event in the chart")
        assert SENTENCE in browser.evaluate(text_of(".sentence"))
        assert "30" in browser.evaluate(text_of("table.points tr.violating"))
        assert browser.evaluate("!!document.querySelector('.reason.in-alarm')")
        assert "manual clock" in browser.evaluate(text_of("#clock"))
        assert "in-alarm" in browser.evaluate(text_of("#alerts"))

        before = emulator.clock()["now"]
        browser.click("#advance")
        browser.wait_for("!!document.querySelector('.chart .event-label.alarm-cleared')",
                         what="the alarm-cleared event after advancing")
        assert emulator.clock()["now"] == before + 300
        browser.wait_for("!!document.querySelector('.thing.selected .badge.ok')",
                         what="dev-XBHY no longer in alarm")
        assert browser.evaluate("document.querySelectorAll('.chart .dp.compliant').length") == 1
        browser.screenshot(SHOT)
        assert os.path.getsize(SHOT) > 10000
    finally:
        dev.disconnect()
        dev.loop_stop()
    assert browser.errors == []
