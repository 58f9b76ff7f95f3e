# SPDX-License-Identifier: MIT
"""Metrics export with the manual clock: metricsExportConfig on Create /
Update / DescribeSecurityProfile (and deleteMetricsExportConfig),
exportMetric on behaviors and additionalMetricsToRetainV2 entries, and the
export documents a paho subscriber receives on the configured topic after
each window, with AWS's aggregation (counts summed, message size as min /
max / total, disconnect duration in seconds).

Debian's boto3 1.26 predates these members, so the tests give boto3 the
newer model's members (a copy of its iot model with them added, on the
session's data path), and send what boto3 would refuse before sending raw."""
import copy
import json

import boto3
import botocore.config
import botocore.session
import pytest

from conftest import http
from test_detect import ALL_THINGS, Device, behavior

ROLE = "arn:aws:iam::123456789012:role/DefenderExport"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A data path holding the iot model with the metrics export members."""
    data = copy.deepcopy(botocore.session.get_session().get_service_data("iot"))
    shapes = data["shapes"]
    shapes["MqttTopic"] = {"type": "string", "min": 1, "max": 512}
    shapes["ExportMetric"] = {"type": "boolean"}
    shapes["DeleteMetricsExportConfig"] = {"type": "boolean"}
    shapes["MetricsExportConfig"] = {
        "type": "structure", "required": ["mqttTopic", "roleArn"],
        "members": {"mqttTopic": {"shape": "MqttTopic"}, "roleArn": {"shape": "RoleArn"}}}
    shapes["Behavior"]["members"]["exportMetric"] = {"shape": "ExportMetric"}
    shapes["MetricToRetain"]["members"]["exportMetric"] = {"shape": "ExportMetric"}
    for name in ("CreateSecurityProfileRequest", "UpdateSecurityProfileRequest",
                 "UpdateSecurityProfileResponse", "DescribeSecurityProfileResponse"):
        shapes[name]["members"]["metricsExportConfig"] = {"shape": "MetricsExportConfig"}
    shapes["UpdateSecurityProfileRequest"]["members"]["deleteMetricsExportConfig"] = {
        "shape": "DeleteMetricsExportConfig"}
    root = tmp_path_factory.mktemp("models")
    folder = root / "iot" / "2015-05-28"
    folder.mkdir(parents=True)
    (folder / "service-2.json").write_text(json.dumps(data))
    return str(root)


@pytest.fixture
def newer(emu, iot, models):
    """An iot client of the module's emulator that knows metrics export."""
    session = botocore.session.Session()
    session.set_config_variable("data_path", models)
    return boto3.Session(botocore_session=session).client(
        "iot", endpoint_url=emu.endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test",
        config=botocore.config.Config(retries={"max_attempts": 1}))


class Subscriber(Device):
    """A Device (test_detect) subscribed to one topic, keeping every
    payload as JSON in docs."""

    def __init__(self, emu, topic):
        super().__init__(emu, "export-reader")
        self.subscribe(topic)

    @property
    def docs(self):
        return [(t, json.loads(p)) for t, p in self.received]

    def wait(self, n):
        self.wait_received(n, timeout=10)


def create(newer, emu, **extra):
    newer.create_dimension(name="Alarms", type="TOPIC_FILTER", stringValues=["alarm/#"])
    args = dict(
        securityProfileName="Export",
        behaviors=[behavior("Sent", "aws:num-messages-sent", "less-than", {"count": 100},
                            exportMetric=True),
                   behavior("Bytes", "aws:message-byte-size", "less-than", {"count": 1000},
                            duration=None)],
        additionalMetricsToRetainV2=[
            {"metric": "aws:num-messages-received", "exportMetric": True},
            {"metric": "aws:message-byte-size", "exportMetric": True},
            {"metric": "aws:num-messages-sent", "exportMetric": True,
             "metricDimension": {"dimensionName": "Alarms", "operator": "NOT_IN"}},
            {"metric": "aws:num-disconnects"}],
        metricsExportConfig={"mqttTopic": "dd/export", "roleArn": ROLE})
    args.update(extra)
    out = newer.create_security_profile(**args)
    newer.attach_security_profile(securityProfileName="Export",
                                  securityProfileTargetArn=ALL_THINGS)
    emu.sync()
    return out


def entries(docs, thing):
    return sorted((((m["name"], json.dumps(m.get("dimension"), sort_keys=True)), m)
                   for _, d in docs for m in d["metrics"] if m["thing"] == thing),
                  key=lambda e: e[0])


def test_export_after_each_window(emu, newer):
    create(newer, emu)
    d = newer.describe_security_profile(securityProfileName="Export")
    assert d["metricsExportConfig"] == {"mqttTopic": "dd/export", "roleArn": ROLE}
    assert d["behaviors"][0]["exportMetric"] is True
    assert "exportMetric" not in d["behaviors"][1]
    assert d["additionalMetricsToRetainV2"][0] == {"metric": "aws:num-messages-received",
                                                   "exportMetric": True}
    reader = Subscriber(emu, "dd/export")
    start = emu.clock()["now"]
    end = (start // 300 + 1) * 300
    dev = Device(emu, "dev-1")
    dev.publish("alarm/fire", b"x" * 10, count=2)
    dev.publish("status", b"y" * 30, count=3)
    emu.advance(300)
    reader.wait(1)
    topic, doc = reader.docs[0]
    assert topic == "dd/export"
    assert doc["version"] == "1.0"
    got = entries(reader.docs, "dev-1")
    # Exported: the behavior marked exportMetric and the V2 entries marked
    # so; not the other behavior nor the entry without the flag.
    assert [k for k, _ in got] == [
        ("aws:message-byte-size", "null"),
        ("aws:num-messages-received", "null"),
        ("aws:num-messages-sent", "null"),
        ("aws:num-messages-sent", '{"name": "Alarms", "operator": "NOT_IN"}')]
    by = dict(got)
    for _, m in got:
        assert m["timestamp"] == end * 1000 and m["version"] == 1
    assert by[("aws:message-byte-size", "null")]["value"] == {"numbers": [10, 30, 110]}
    assert by[("aws:num-messages-received", "null")]["value"] == {"count": 0}
    assert by[("aws:num-messages-sent", "null")]["value"] == {"count": 5}
    assert by[("aws:num-messages-sent",
               '{"name": "Alarms", "operator": "NOT_IN"}')]["value"] == {"count": 3}

    # Disconnect duration is exported in seconds.
    newer.update_security_profile(
        securityProfileName="Export",
        additionalMetricsToRetainV2=[{"metric": "aws:disconnect-duration", "exportMetric": True}])
    emu.sync()
    closed = emu.clock()["now"]
    dev.close()
    reader.received.clear()
    emu.advance(600)  # one window close: both buckets in one batch
    reader.wait(1)
    durations = [(m["timestamp"], m["value"]["count"]) for _, m in entries(reader.docs, "dev-1")
                 if m["name"] == "aws:disconnect-duration"]
    assert [t for t, _ in durations] == [(end + 300) * 1000, (end + 600) * 1000]
    for t, seconds in durations:
        assert abs(seconds - (t / 1000 - closed)) <= 1
    reader.close()


def test_delete_config_stops_export(emu, newer):
    create(newer, emu)
    reader = Subscriber(emu, "dd/export")
    dev = Device(emu, "dev-1")
    dev.publish("status", count=2)
    emu.advance(300)
    reader.wait(1)
    out = newer.update_security_profile(securityProfileName="Export",
                                        deleteMetricsExportConfig=True)
    assert "metricsExportConfig" not in out
    assert "metricsExportConfig" not in newer.describe_security_profile(
        securityProfileName="Export")
    emu.sync()
    n = len(reader.docs)
    dev.publish("status")
    emu.advance(300)
    # A new topic: its first document comes after anything the window
    # without a configuration could have sent on the old one.
    reader.subscribe("dd/again")
    newer.update_security_profile(securityProfileName="Export",
                                  metricsExportConfig={"mqttTopic": "dd/again", "roleArn": ROLE})
    emu.sync()
    dev.publish("status")
    emu.advance(300)
    reader.wait(n + 1)
    assert [t for t, _ in reader.docs[n:]] == ["dd/again"] * (len(reader.docs) - n)
    dev.close()
    reader.close()


def raw(emu, method, path, doc):
    status, headers, body = http(method, emu.endpoint + path, json.dumps(doc),
                                 {"Content-Type": "application/json"})
    return status, headers.get("x-amzn-ErrorType"), json.loads(body) if body else None


@pytest.mark.parametrize("config, message", [
    ({"roleArn": ROLE}, "metricsExportConfig.mqttTopic"),
    ({"mqttTopic": "dd/x"}, "metricsExportConfig.roleArn"),
    ({"mqttTopic": "dd/x", "roleArn": "arn:short"}, "metricsExportConfig.roleArn"),
    ({"mqttTopic": "t" * 513, "roleArn": ROLE}, "metricsExportConfig.mqttTopic"),
    ({"mqttTopic": "dd/+/x", "roleArn": ROLE}, "wildcards and reserved topics"),
    ({"mqttTopic": "$aws/things/x", "roleArn": ROLE}, "wildcards and reserved topics"),
    ("dd/x", "metricsExportConfig must be a MetricsExportConfig object."),
])
def test_invalid_config(emu, iot, config, message):
    status, kind, body = raw(emu, "POST", "/security-profiles/Bad",
                             {"metricsExportConfig": config})
    assert (status, kind) == (400, "InvalidRequestException")
    assert message in body["message"]
    # Nothing was created.
    status, kind, _ = raw(emu, "GET", "/security-profiles/Bad", None)
    assert (status, kind) == (404, "ResourceNotFoundException")


def test_update_errors(emu, newer):
    create(newer, emu)
    status, kind, body = raw(emu, "PATCH", "/security-profiles/Export", {
        "deleteMetricsExportConfig": True,
        "metricsExportConfig": {"mqttTopic": "dd/x", "roleArn": ROLE}})
    assert (status, kind) == (400, "InvalidRequestException")
    assert body["message"] == ("Cannot specify both deleteMetricsExportConfig and "
                               "metricsExportConfig in one request.")
    status, kind, body = raw(emu, "PATCH", "/security-profiles/Export",
                             {"deleteMetricsExportConfig": "yes"})
    assert (status, kind, body["message"]) == (
        400, "InvalidRequestException", "deleteMetricsExportConfig must be a boolean.")
    status, kind, body = raw(emu, "POST", "/security-profiles/Other", {
        "additionalMetricsToRetainV2": [{"metric": "aws:num-messages-sent",
                                         "exportMetric": "yes"}]})
    assert (status, kind, body["message"]) == (
        400, "InvalidRequestException",
        "additionalMetricsToRetainV2[0].exportMetric must be a boolean.")
    # The stored configuration is unchanged by the refused updates.
    d = newer.describe_security_profile(securityProfileName="Export")
    assert d["metricsExportConfig"] == {"mqttTopic": "dd/export", "roleArn": ROLE}
    assert d["version"] == 1
