# SPDX-License-Identifier: MIT
"""The datapoint budget (docs/performance.md, "A million things"): with
--datapoint-budget 1, a fleet of three things keeps judged datapoints only
for a watched thing, a thing lately inspected and a thing whose datapoint
matters to a violation, while violations and ListMetricValues (boto3 and
the AWS CLI) stay whole; the watch route's answers and errors."""
import json
import os
import sqlite3

from conftest import http
from test_detect import ALL_THINGS, Device, behavior

EMULATOR_ARGS = ("--datapoint-budget", "1")


def judged(emu, thing):
    """The judged datapoints of thing, read from the database (the
    teaching views would mark the thing as inspected)."""
    db = sqlite3.connect(os.path.join(emu.data_dir, "ddlocal.db"), timeout=10)
    try:
        return [r[0] for r in db.execute(
            "SELECT d.time_ms / 1000 FROM datapoints d JOIN datapoint_series s "
            "ON s.id = d.series_id WHERE s.thing_name = ? AND s.behavior_name = 'Sent' "
            "ORDER BY d.time_ms", (thing,))]
    finally:
        db.close()


def call(emu, method, path):
    status, headers, body = http(method, emu.endpoint + path)
    return status, headers, json.loads(body) if body else None


def sent_values(iot, thing, start, end):
    out = iot.list_metric_values(thingName=thing, metricName="aws:num-messages-sent",
                                 startTime=start, endTime=end)
    return [(int(d["timestamp"].timestamp()), d["value"]["count"])
            for d in out["metricDatumList"]]


def test_budget_keeps_watched_inspected_and_violating(emu, iot):
    iot.create_security_profile(
        securityProfileName="Budget",
        behaviors=[behavior("Sent", "aws:num-messages-sent", "less-than", {"count": 100})])
    iot.attach_security_profile(securityProfileName="Budget",
                                securityProfileTargetArn=ALL_THINGS)
    emu.sync()
    status, _, doc = call(emu, "PUT", "/_ddlocal/watch/w-watched")
    assert (status, doc) == (200, {"thingName": "w-watched", "watched": True})
    devices = {name: Device(emu, name) for name in ("w-watched", "w-quiet", "w-loud")}
    start = emu.clock()["now"]
    t1 = (start // 300 + 1) * 300

    # Window 1: all compliant. Only the watched thing keeps its datapoint.
    for d in devices.values():
        d.publish("t/x", count=1)
    emu.advance(300)
    assert judged(emu, "w-watched") == [t1]
    assert judged(emu, "w-quiet") == []
    assert judged(emu, "w-loud") == []

    # Window 2: w-loud violates: its datapoint and its violation are kept.
    devices["w-loud"].publish("t/x", count=120)
    emu.advance(300)
    assert judged(emu, "w-loud") == [t1 + 300]
    active = iot.list_active_violations(securityProfileName="Budget")["activeViolations"]
    assert [v["thingName"] for v in active] == ["w-loud"]
    assert judged(emu, "w-quiet") == []

    # ListMetricValues has every window of every thing, kept or not; reading
    # w-quiet's marks it inspected, so its next datapoint is kept.
    end = emu.clock()["now"]
    assert sent_values(iot, "w-quiet", start, end) == [(t1, 1), (t1 + 300, 0)]
    assert sent_values(iot, "w-loud", start, end) == [(t1, 1), (t1 + 300, 120)]
    out = emu.aws_json("iot", "list-metric-values", "--thing-name", "w-loud",
                       "--metric-name", "aws:num-messages-sent", "--start-time", str(start),
                       "--end-time", str(end))
    assert [d["value"]["count"] for d in out["metricDatumList"]] == [1, 120]
    emu.advance(300)
    assert judged(emu, "w-quiet") == [t1 + 600]
    # w-loud cleared its alarm with that compliant datapoint: kept too.
    assert judged(emu, "w-loud") == [t1 + 300, t1 + 600]
    assert iot.list_active_violations(securityProfileName="Budget")["activeViolations"] == []

    # The dashboard's fleet view marks nobody; the datapoints view does.
    assert emu.get("/_ddlocal/fleet")[0] == 200
    status, doc = emu.get("/_ddlocal/datapoints?thingName=w-loud")
    assert status == 200 and len(doc["datapoints"]) == 2
    emu.advance(300)
    assert judged(emu, "w-loud")[-1] == t1 + 900
    assert len(judged(emu, "w-watched")) == 4

    # Unwatched (and never inspected), a compliant thing keeps nothing more.
    status, _, doc = call(emu, "GET", "/_ddlocal/watch")
    assert status == 200
    assert [t["thingName"] for t in doc["things"]] == ["w-watched"]
    assert isinstance(doc["things"][0]["watchedSince"], (int, float))
    assert call(emu, "DELETE", "/_ddlocal/watch/w-watched")[0] == 200
    emu.advance(300)
    assert len(judged(emu, "w-watched")) == 4
    assert call(emu, "GET", "/_ddlocal/watch")[2] == {"things": []}


def test_watch_errors(emu):
    status, headers, doc = call(emu, "DELETE", "/_ddlocal/watch/nobody")
    assert status == 404
    assert headers["x-amzn-ErrorType"].startswith("ResourceNotFoundException")
    assert doc["message"] == "Thing nobody is not watched."
    status, headers, doc = call(emu, "PUT", "/_ddlocal/watch/" + "x" * 129)
    assert status == 400
    assert headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    assert "thingName" in doc["message"]
    # Watching twice is fine and lists the thing once.
    assert call(emu, "PUT", "/_ddlocal/watch/twice")[0] == 200
    assert call(emu, "PUT", "/_ddlocal/watch/twice")[0] == 200
    assert [t["thingName"] for t in call(emu, "GET", "/_ddlocal/watch")[2]["things"]] == \
        ["twice"]


def test_budget_option_is_checked(make_emulator):
    emu = make_emulator("--datapoint-budget", "lots")
    p = emu.run_to_end()
    assert p.returncode != 0
    assert "--datapoint-budget is a number of things" in p.stderr
