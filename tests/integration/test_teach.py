# SPDX-License-Identifier: MIT
"""The teaching views: GET /_ddlocal/behaviors/words, /_ddlocal/fleet,
/_ddlocal/explain (JSON and text), `bin/ddlocal explain`, and the
dashboard's files. Devices are paho clients; time moves only by whole
5-minute buckets on the manual clock."""
import json
import subprocess
import urllib.parse

from conftest import LAUNCHER, http
from test_detect import ALL_THINGS, Device, behavior, profile, publish_past

LAB = ("alarms when dev-XBHY sends 5 or more messages in a 5-minute period, once; "
       "clears after 1 period with fewer than 5")


def get(emulator, path, **query):
    q = urllib.parse.urlencode(query)
    status, headers, body = http("GET", emulator.endpoint + path + ("?" + q if q else ""))
    return status, headers, body


def get_json(emulator, path, **query):
    status, _, body = get(emulator, path, **query)
    assert status == 200, body
    return json.loads(body)


def lab(emulator, iot, **extra):
    profile(emulator, iot, "MsgSentSecProfile",
            [behavior("MsgSentBehavior", "aws:num-messages-sent", "less-than", {"count": 5},
                      to_alarm=1, to_clear=1, **extra)])


def timeline(emulator, thing, **query):
    doc = get_json(emulator, "/_ddlocal/explain", thingName=thing, **query)
    assert len(doc["timelines"]) == 1, doc
    return doc["timelines"][0]


def test_words_for_the_lab_behavior(emulator):
    iot = emulator.client("iot")
    lab(emulator, iot)
    doc = get_json(emulator, "/_ddlocal/behaviors/words", securityProfileName="MsgSentSecProfile",
                   thingName="dev-XBHY")
    assert doc == {"securityProfileName": "MsgSentSecProfile",
                   "behaviors": [{"behaviorName": "MsgSentBehavior", "words": LAB}]}
    doc = get_json(emulator, "/_ddlocal/behaviors/words", securityProfileName="MsgSentSecProfile",
                   behaviorName="MsgSentBehavior")
    assert doc["behaviors"][0]["words"] == LAB.replace("dev-XBHY", "a device")


def test_words_errors(emulator):
    iot = emulator.client("iot")
    lab(emulator, iot)
    status, headers, body = get(emulator, "/_ddlocal/behaviors/words", securityProfileName="Nope")
    assert status == 404 and headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert "Nope" in json.loads(body)["message"]
    status, _, _ = get(emulator, "/_ddlocal/behaviors/words", securityProfileName="MsgSentSecProfile",
                       behaviorName="Other")
    assert status == 404
    status, headers, _ = get(emulator, "/_ddlocal/behaviors/words")
    assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException"


def test_fleet_lists_things_groups_profiles_violations_and_alerts(emulator):
    iot = emulator.client("iot")
    iot.create_thing(thingName="dev-GRP")
    iot.create_thing(thingName="dev-IDLE")
    iot.create_thing_group(thingGroupName="Parent")
    iot.create_thing_group(thingGroupName="Lab", parentGroupName="Parent")
    iot.add_thing_to_thing_group(thingGroupName="Lab", thingName="dev-GRP")
    rogue = publish_past(emulator, iot, "ByGroup",
                         "arn:aws:iot:us-east-1:123456789012:thinggroup/Parent", "dev-GRP", 5)

    fleet = get_json(emulator, "/_ddlocal/fleet")
    things = {t["thingName"]: t for t in fleet["things"]}
    assert sorted(things) == ["dev-GRP", "dev-IDLE"]
    grp = things["dev-GRP"]
    assert grp["registered"] and grp["groups"] == ["Lab"]
    [p] = grp["profiles"]
    assert p["securityProfileName"] == "ByGroup" and p["targeted"]
    assert p["behaviors"][0]["reason"]["code"] == "in-alarm"
    [v] = grp["activeViolations"]
    assert v["behaviorName"] == "Pub" and v["lastViolationValue"] == {"count": 6}
    assert things["dev-IDLE"]["profiles"] == [] and things["dev-IDLE"]["activeViolations"] == []
    [alert] = fleet["alerts"]
    assert alert["message"]["violationEventType"] == "in-alarm"
    assert alert["message"]["thingName"] == "dev-GRP"
    assert fleet["now"] == emulator.clock()["now"]
    rogue.close()


def test_explain_timeline_counts_to_the_alarm_and_the_clear(emulator):
    iot = emulator.client("iot")
    profile(emulator, iot, "Streaks",
            [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 5}, to_alarm=3,
                      to_clear=2)])
    dev = Device(emulator, "dev-STRK")
    for _ in range(2):
        dev.publish("t", count=6)
        emulator.advance(300)
    tl = timeline(emulator, "dev-STRK")
    assert tl["reason"]["code"] == "streak-short"
    assert "longest streak was 2 in a row and consecutiveDatapointsToAlarm is 3" in tl["reason"]["text"]
    dev.publish("t", count=6)
    emulator.advance(300)
    tl = timeline(emulator, "dev-STRK")
    assert tl["reason"]["code"] == "in-alarm" and tl["inAlarm"]
    assert [d["verdict"] for d in tl["datapoints"]] == ["violating"] * 3
    assert [d["consecutiveViolating"] for d in tl["datapoints"][:2]] == [1, 2]
    assert tl["datapoints"][2]["event"] == "in-alarm"
    assert tl["threshold"] == 5
    assert (tl["consecutiveDatapointsToAlarm"], tl["consecutiveDatapointsToClear"]) == (3, 2)
    emulator.advance(300)
    emulator.advance(300)
    tl = timeline(emulator, "dev-STRK")
    assert tl["reason"]["code"] == "cleared" and not tl["inAlarm"]
    assert [e["type"] for e in tl["events"]] == ["in-alarm", "alarm-cleared"]
    assert tl["words"] == ("alarms when dev-STRK sends 5 or more messages in a 5-minute period, "
                           "3 periods in a row; clears after 2 periods with fewer than 5")
    dev.close()


def test_explain_why_nothing_happened(emulator):
    iot = emulator.client("iot")
    iot.create_thing(thingName="dev-OFF")
    profile(emulator, iot, "Quiet",
            [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 5})])
    profile(emulator, iot, "Muted",
            [behavior("Loud", "aws:num-messages-sent", "less-than", {"count": 5},
                      suppressAlerts=True)])
    profile(emulator, iot, "Elsewhere",
            [behavior("Pub", "aws:num-messages-sent", "less-than", {"count": 5})], targets=())
    calm = Device(emulator, "dev-CALM")
    calm.publish("t", count=2)
    loud = Device(emulator, "dev-LOUD")
    loud.publish("t", count=9)
    emulator.advance(300)

    assert timeline(emulator, "dev-OFF", securityProfileName="Quiet")["reason"]["code"] == "no-datapoint"
    assert "was offline" in timeline(emulator, "dev-OFF", securityProfileName="Quiet")["reason"]["text"]
    assert timeline(emulator, "dev-CALM", securityProfileName="Quiet")["reason"]["code"] == "compliant"
    muted = timeline(emulator, "dev-LOUD", securityProfileName="Muted")
    assert muted["reason"]["code"] == "suppressed"
    assert muted["words"].endswith("alerts are suppressed (violations are still recorded)")
    other = timeline(emulator, "dev-CALM", securityProfileName="Elsewhere")
    assert other["reason"]["code"] == "not-targeted" and not other["targeted"]
    # Without a profile filter only the profiles that apply are explained.
    doc = get_json(emulator, "/_ddlocal/explain", thingName="dev-CALM")
    assert sorted(t["securityProfileName"] for t in doc["timelines"]) == ["Muted", "Quiet"]
    calm.close()
    loud.close()


def test_explain_errors(emulator):
    iot = emulator.client("iot")
    lab(emulator, iot)
    iot.create_thing(thingName="dev-A")
    for query, status in [({}, 400), ({"thingName": "ghost"}, 404),
                          ({"thingName": "dev-A", "securityProfileName": "Nope"}, 404),
                          ({"thingName": "dev-A", "behaviorName": "Nope"}, 404),
                          ({"thingName": "dev-A", "format": "xml"}, 400)]:
        got, _, body = get(emulator, "/_ddlocal/explain", **query)
        assert got == status, (query, body)


def test_explain_text_and_the_cli(emulator):
    iot = emulator.client("iot")
    lab(emulator, iot)
    dev = Device(emulator, "dev-XBHY")
    dev.publish("dt/dev-XBHY/telemetry", count=30)
    emulator.advance(300)
    emulator.advance(300)
    status, headers, body = get(emulator, "/_ddlocal/explain", thingName="dev-XBHY", format="text")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    p = subprocess.run([LAUNCHER, "explain", "--thing", "dev-XBHY", "--http-port",
                        str(emulator.http_port)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == body.decode()
    lines = p.stdout.splitlines()
    assert lines[0].startswith("dev-XBHY at ")
    assert "MsgSentSecProfile / MsgSentBehavior (aws:num-messages-sent)" in lines
    assert "  " + LAB in lines
    rows = [l.split() for l in lines if l.startswith("  20")]
    assert [r[1:] for r in rows] == [['{"count":30}', "5", "violating", "0", "0", "in-alarm"],
                                     ['{"count":0}', "5", "compliant", "0", "0", "alarm-cleared"]]
    assert lines[-1].startswith("  why: It alarmed and has cleared since")
    p = subprocess.run([LAUNCHER, "explain", "--thing", "dev-XBHY", "--behavior", "MsgSentBehavior",
                        "--profile", "MsgSentSecProfile", "--http-port", str(emulator.http_port)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout == body.decode()
    p = subprocess.run([LAUNCHER, "explain", "--thing", "ghost", "--http-port",
                        str(emulator.http_port)], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert p.stderr.startswith("ddlocal: Thing ghost cannot be found")
    p = subprocess.run([LAUNCHER, "explain"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "needs --thing" in p.stderr
    dev.close()


def test_dashboard_files(emulator):
    status, headers, body = get(emulator, "/_ddlocal/ui/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert b'<script src="app.js">' in body
    for name, kind in [("app.js", "text/javascript"), ("app.css", "text/css"),
                       ("icon.svg", "image/svg+xml")]:
        status, headers, body = get(emulator, "/_ddlocal/ui/" + name)
        assert status == 200 and headers["Content-Type"].startswith(kind) and body
    # Nothing the page loads comes from elsewhere.
    for name in ("index.html", "app.js", "app.css"):
        _, _, body = get(emulator, "/_ddlocal/ui/" + name)
        body = body.replace(b"http://www.w3.org/2000/svg", b"")
        assert b"http://" not in body and b"https://" not in body
    status, _, _ = get(emulator, "/_ddlocal/ui/missing.js")
    assert status == 404
    status, headers, _ = http("GET", emulator.endpoint + "/_ddlocal/ui")  # follows the redirect
    assert status == 200
