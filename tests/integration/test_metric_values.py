# SPDX-License-Identifier: MIT
"""Retained metric values and ListMetricValues, with the manual clock:
every metric a profile's behaviors use and every additionalMetricsToRetain
(V2) entry is retained per thing and window, judged or not, with its
dimension; boto3 and the AWS CLI v2 read them back (value kinds, time
range, paging, retention) and get AWS's errors."""
import json
import time

import pytest

from conftest import cli_error, http
from test_detect import ALL_THINGS, Device, behavior


def setup_profile(emu, iot, **extra):
    """A profile that judges messages sent and also retains messages
    received, message sizes, the sent messages on topics of the dimension
    Alarms (IN) and outside it (NOT_IN), and source IPs."""
    iot.create_dimension(name="Alarms", type="TOPIC_FILTER", stringValues=["alarm/#"])
    args = dict(
        securityProfileName="Retain",
        behaviors=[behavior("Sent", "aws:num-messages-sent", "less-than", {"count": 100})],
        additionalMetricsToRetainV2=[
            {"metric": "aws:num-messages-received"},
            {"metric": "aws:message-byte-size"},
            {"metric": "aws:num-messages-sent",
             "metricDimension": {"dimensionName": "Alarms"}},
            {"metric": "aws:num-messages-sent",
             "metricDimension": {"dimensionName": "Alarms", "operator": "NOT_IN"}},
        ],
        additionalMetricsToRetain=["aws:source-ip-address"])
    args.update(extra)
    iot.create_security_profile(**args)
    iot.attach_security_profile(securityProfileName="Retain",
                                securityProfileTargetArn=ALL_THINGS)
    emu.sync()


def values(iot, metric, start, end, **kw):
    out = iot.list_metric_values(thingName="dev-1", metricName=metric, startTime=start,
                                 endTime=end, **kw)
    return [(int(d["timestamp"].timestamp()), d["value"]) for d in out["metricDatumList"]]


def test_retained_per_window_with_value_kinds_and_dimensions(emu, iot):
    setup_profile(emu, iot)
    start = emu.clock()["now"]
    dev = Device(emu, "dev-1")
    dev.publish("alarm/fire", b"x" * 10, count=2)
    dev.publish("status", b"y" * 30, count=3)
    dev.subscribe("echo")
    dev.publish("echo", b"z" * 5)
    dev.wait_received(1)
    emu.advance(300)
    dev.publish("status", b"y", count=1)
    emu.advance(300)
    end = emu.clock()["now"]
    t1 = (start // 300 + 1) * 300
    t2 = t1 + 300

    # The judged metric, one datapoint per window, with the counts of each.
    assert values(iot, "aws:num-messages-sent", start, end) == [
        (t1, {"count": 6}), (t2, {"count": 1})]
    # Retained without a behavior: received, and sizes as the largest message.
    assert values(iot, "aws:num-messages-received", start, end) == [
        (t1, {"count": 1}), (t2, {"count": 0})]
    assert values(iot, "aws:message-byte-size", start, end) == [
        (t1, {"count": 30}), (t2, {"count": 1})]
    # The dimension's two sides, IN being the default operator.
    assert values(iot, "aws:num-messages-sent", start, end, dimensionName="Alarms") == [
        (t1, {"count": 2}), (t2, {"count": 0})]
    assert values(iot, "aws:num-messages-sent", start, end, dimensionName="Alarms",
                  dimensionValueOperator="IN") == [(t1, {"count": 2}), (t2, {"count": 0})]
    assert values(iot, "aws:num-messages-sent", start, end, dimensionName="Alarms",
                  dimensionValueOperator="NOT_IN") == [(t1, {"count": 4}), (t2, {"count": 1})]
    # The deprecated list retains too: source IPs as cidrs.
    assert values(iot, "aws:source-ip-address", start, end) == [(t1, {"cidrs": ["127.0.0.1"]})]
    # A metric nobody retains, and another thing: nothing.
    assert values(iot, "aws:num-disconnects", start, end) == []
    assert iot.list_metric_values(thingName="nobody", metricName="aws:num-messages-sent",
                                  startTime=start, endTime=end)["metricDatumList"] == []
    # The time range is inclusive at both ends.
    assert values(iot, "aws:num-messages-sent", t2, t2) == [(t2, {"count": 1})]
    assert values(iot, "aws:num-messages-sent", start, t1 - 1) == []
    dev.close()


def test_paging_and_retention(emu, iot):
    setup_profile(emu, iot)
    start = emu.clock()["now"]
    dev = Device(emu, "dev-1")
    for i in range(5):
        dev.publish("status", count=i + 1)
        emu.advance(300)
    end = emu.clock()["now"]
    page = iot.list_metric_values(thingName="dev-1", metricName="aws:num-messages-sent",
                                  startTime=start, endTime=end, maxResults=2)
    assert [d["value"]["count"] for d in page["metricDatumList"]] == [1, 2]
    counts, token = [], page["nextToken"]
    while token:
        page = iot.list_metric_values(thingName="dev-1", metricName="aws:num-messages-sent",
                                      startTime=start, endTime=end, maxResults=2,
                                      nextToken=token)
        counts += [d["value"]["count"] for d in page["metricDatumList"]]
        token = page.get("nextToken")
    assert counts == [3, 4, 5]
    # A token of another query is refused.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_metric_values(thingName="dev-1", metricName="aws:num-messages-received",
                               startTime=start, endTime=end, nextToken=page_token(iot, start,
                                                                                  end))
    # Retention (14 days by default, the emulated clock): the values older
    # than 14 days before a window close are pruned at that close.
    t1 = (start // 300 + 1) * 300
    emu.advance(14 * 24 * 3600 - 5 * 300)
    dev.publish("status")
    emu.advance(300)
    emu.advance(300)
    assert values(iot, "aws:num-messages-sent", start, end) == [
        (t1 + k * 300, {"count": k + 1}) for k in range(1, 5)]
    emu.advance(300)
    assert values(iot, "aws:num-messages-sent", start, end) == [
        (t1 + k * 300, {"count": k + 1}) for k in range(2, 5)]
    dev.close()


def test_judged_counters_answer_bucket_totals(emu, iot):
    """A counter a behavior judges is answered from the behavior's
    datapoints (they carry the bucket's total): per window, never the
    judged value over a longer duration, once even when two profiles judge
    it, and next to the retained values of metrics nobody judges."""
    iot.create_security_profile(
        securityProfileName="Long",
        behaviors=[behavior("Sent10", "aws:num-messages-sent", "less-than", {"count": 100},
                            duration=600)],
        additionalMetricsToRetainV2=[{"metric": "aws:num-messages-received"}])
    iot.create_security_profile(
        securityProfileName="Short",
        behaviors=[behavior("Sent5", "aws:num-messages-sent", "less-than", {"count": 100})])
    for name in ("Long", "Short"):
        iot.attach_security_profile(securityProfileName=name,
                                    securityProfileTargetArn=ALL_THINGS)
    emu.sync()
    start = emu.clock()["now"]
    dev = Device(emu, "dev-1")
    dev.publish("status", count=2)
    emu.advance(300)
    dev.publish("status", count=3)
    emu.advance(300)
    end = emu.clock()["now"]
    t1 = (start // 300 + 1) * 300
    assert values(iot, "aws:num-messages-sent", start, end) == [
        (t1, {"count": 2}), (t1 + 300, {"count": 3})]
    assert values(iot, "aws:num-messages-received", start, end) == [
        (t1, {"count": 0}), (t1 + 300, {"count": 0})]
    # The judged values are over ten minutes: 2, then 5.
    status, doc = emu.get("/_ddlocal/datapoints?thingName=dev-1")
    assert status == 200
    assert [d["value"] for d in doc["datapoints"] if d["behaviorName"] == "Sent10"] == [
        {"count": 2}, {"count": 5}]
    # Paging walks the carried totals as it walks retained rows.
    page = iot.list_metric_values(thingName="dev-1", metricName="aws:num-messages-sent",
                                  startTime=start, endTime=end, maxResults=1)
    assert [d["value"] for d in page["metricDatumList"]] == [{"count": 2}]
    page = iot.list_metric_values(thingName="dev-1", metricName="aws:num-messages-sent",
                                  startTime=start, endTime=end, maxResults=1,
                                  nextToken=page["nextToken"])
    assert [d["value"] for d in page["metricDatumList"]] == [{"count": 3}]
    assert "nextToken" not in page
    dev.close()


def page_token(iot, start, end):
    return iot.list_metric_values(thingName="dev-1", metricName="aws:num-messages-sent",
                                  startTime=start, endTime=end, maxResults=1)["nextToken"]


def test_errors_boto3(emu, iot):
    setup_profile(emu, iot)
    now = emu.clock()["now"]

    def error(**kw):
        args = dict(thingName="dev-1", metricName="aws:num-messages-sent", startTime=now - 600,
                    endTime=now)
        args.update(kw)
        with pytest.raises(iot.exceptions.ClientError) as e:
            iot.list_metric_values(**args)
        return (e.value.response["Error"]["Code"], e.value.response["Error"]["Message"],
                e.value.response["ResponseMetadata"]["HTTPStatusCode"])

    assert error(metricName="aws:no-such-metric") == (
        "InvalidRequestException", "Metric aws:no-such-metric is not supported.", 400)
    assert error(dimensionName="Nope") == (
        "ResourceNotFoundException", "The dimension Nope does not exist.", 404)
    assert error(startTime=now, endTime=now - 600)[:2] == (
        "InvalidRequestException", "startTime must not be after endTime.")
    assert error(dimensionValueOperator="IN")[0] == "InvalidRequestException"
    assert error(nextToken="garbage")[:2] == ("InvalidRequestException", "Invalid nextToken")


def test_cli_v2(emu, iot):
    setup_profile(emu, iot)
    start = emu.clock()["now"]
    dev = Device(emu, "dev-1")
    dev.publish("alarm/x", count=3)
    emu.advance(300)
    dev.close()
    out = emu.aws_json("iot", "list-metric-values", "--thing-name", "dev-1",
                       "--metric-name", "aws:num-messages-sent", "--dimension-name", "Alarms",
                       "--start-time", str(start), "--end-time", str(start + 600))
    assert [d["value"] for d in out["metricDatumList"]] == [{"count": 3}]
    err = cli_error(emu, "iot", "list-metric-values", "--thing-name", "dev-1",
                    "--metric-name", "aws:num-messages-sent", "--dimension-name", "Gone",
                    "--start-time", str(start), "--end-time", str(start + 600))
    assert "(ResourceNotFoundException)" in err and "The dimension Gone does not exist." in err
    # The teaching view of judged datapoints does not list the retained rows.
    status, doc = emu.get("/_ddlocal/datapoints?thingName=dev-1")
    assert status == 200
    assert {d["securityProfileName"] for d in doc["datapoints"]} == {"Retain"}


def test_device_side_values_retained_as_reported(emu, iot):
    """A device report's values, at the time it arrived: the port list of a
    behavior, and the number of listening ports kept by
    additionalMetricsToRetainV2 without a behavior."""
    iot.create_security_profile(
        securityProfileName="Ports",
        behaviors=[behavior("Tcp", "aws:listening-tcp-ports", "in-port-set",
                            {"ports": [443]}, duration=None)],
        additionalMetricsToRetainV2=[{"metric": "aws:num-listening-tcp-ports"}])
    iot.attach_security_profile(securityProfileName="Ports", securityProfileTargetArn=ALL_THINGS)
    emu.sync()
    now = emu.clock()["now"]
    dev = Device(emu, "dev-1")
    dev.subscribe("$aws/things/dev-1/defender/metrics/json/+")
    report = {"header": {"report_id": 1, "version": "1.0"},
              "metrics": {"listening_tcp_ports": {"ports": [{"port": 23}, {"port": 443}],
                                                  "total": 2}}}
    dev.publish("$aws/things/dev-1/defender/metrics/json", json.dumps(report))
    dev.wait_received(1)
    emu.sync()
    assert values(iot, "aws:listening-tcp-ports", now - 1, now + 1) == [
        (int(now), {"ports": [23, 443]})]
    assert values(iot, "aws:num-listening-tcp-ports", now - 1, now + 1) == [
        (int(now), {"count": 2})]
    dev.close()


def test_dashboard_plots_retained_values(emu, iot):
    """The dashboard's retained-values panel asks ListMetricValues as the
    page does (unsigned, ISO times with milliseconds) and gets the values."""
    status, _, page = http("GET", emu.endpoint + "/_ddlocal/ui/")
    assert status == 200 and b'id="retained-metric"' in page
    status, _, script = http("GET", emu.endpoint + "/_ddlocal/ui/app.js")
    assert status == 200 and b"'/metric-values?thingName='" in script
    setup_profile(emu, iot)
    dev = Device(emu, "dev-dash")
    dev.publish("status", count=4)
    emu.advance(300)
    dev.close()
    now = emu.clock()["now"]
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(t))
    status, _, body = http("GET", emu.endpoint + "/metric-values?thingName=dev-dash&metricName="
                           "aws%3Anum-messages-sent&startTime=" + iso(now - 12 * 3600) +
                           "&endTime=" + iso(now) + "&maxResults=250")
    assert status == 200, body
    assert [d["value"] for d in json.loads(body)["metricDatumList"]] == [{"count": 4}]
