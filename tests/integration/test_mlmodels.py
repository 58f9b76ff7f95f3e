# SPDX-License-Identifier: MIT
"""ML Detect models: GetBehaviorModelTrainingSummaries through boto3 and the
AWS CLI, the lifecycle on the manual clock (PENDING_BUILD with a growing
collection percentage and no verdicts, ACTIVE once the training period and
the minimum of datapoints are met, EXPIRED when data stops), the teaching
view's model state and the band of an ML verdict, and the errors.

The lifecycle runs on short settings: a training period of an hour (12
buckets), 10 datapoints, a check every 15 minutes and expiry after 30
minutes without a successful build."""
import botocore.exceptions
import pytest

from conftest import cli_error
from test_detect import Device, active, datapoints, profile, steady_then_burst
from test_teach import timeline

EMULATOR_ARGS = ("--ml-training-seconds", "3600", "--ml-min-datapoints", "10",
                 "--ml-refresh-seconds", "900", "--ml-expiry-seconds", "1800")


def ml(name, level="HIGH", metric="aws:num-messages-sent"):
    return {"name": name, "metric": metric,
            "criteria": {"mlDetectionConfig": {"confidenceLevel": level}}}


def summaries(iot, **kwargs):
    return iot.get_behavior_model_training_summaries(**kwargs)["summaries"]


def test_lifecycle_from_pending_build_to_active_to_expired(emu, iot):
    profile(emu, iot, "MlLife", [ml("MlSent")])
    # Before any datapoint: PENDING_BUILD at 0%, no dates.
    assert summaries(iot, securityProfileName="MlLife") == [
        {"securityProfileName": "MlLife", "behaviorName": "MlSent",
         "modelStatus": "PENDING_BUILD", "datapointsCollectionPercentage": 0.0}]
    dev = Device(emu, "dev-MLLIFE")
    first = None
    for i in range(12):
        dev.publish("t", count=5)
        now = emu.advance(300)["now"]
        first = first or now
        [s] = summaries(iot, securityProfileName="MlLife")
        assert s["modelStatus"] == "PENDING_BUILD", (i, s)
        assert s["datapointsCollectionPercentage"] == min(100.0, (i + 1) * 10.0)
        assert s["trainingDataCollectionStartDate"].timestamp() == first
        assert "lastModelRefreshDate" not in s
    # No verdict while the model is building, however odd the value.
    assert {p["verdict"] for p in datapoints(emu, "dev-MLLIFE")} == {"no-verdict"}
    tl = timeline(emu, "dev-MLLIFE", securityProfileName="MlLife")
    assert tl["model"]["modelStatus"] == "PENDING_BUILD"
    # The training period ends at the 13th datapoint: the model is built
    # from the 12 before it, and that datapoint is judged.
    dev.publish("t", count=500)
    built = emu.advance(300)["now"]
    assert built == first + 3600
    [s] = summaries(iot)
    assert s["modelStatus"] == "ACTIVE"
    assert s["lastModelRefreshDate"].timestamp() == built
    assert s["datapointsCollectionPercentage"] == 100.0
    points = datapoints(emu, "dev-MLLIFE")
    assert points[-1]["verdict"] == "violating"
    assert points[-1]["band"] == {"low": 5, "high": 5}
    assert all(p["band"] is None for p in points[:-1])
    [v] = active(iot, securityProfileName="MlLife")
    assert v["behavior"]["name"] == "MlSent"
    tl = timeline(emu, "dev-MLLIFE", securityProfileName="MlLife")
    assert tl["model"]["modelStatus"] == "ACTIVE"
    assert tl["datapoints"][-1]["band"] == {"low": 5, "high": 5}
    # Data stops (the device leaves): no successful build for 30 minutes
    # once the trailing hour holds fewer than 10 datapoints.
    dev.close()
    emu.advance(3 * 3600)
    doc = emu.aws_json("iot", "get-behavior-model-training-summaries",
                            "--security-profile-name", "MlLife")
    [s] = doc["summaries"]
    assert s["modelStatus"] == "EXPIRED"
    assert s["datapointsCollectionPercentage"] == 0.0
    assert "lastModelRefreshDate" in s and "trainingDataCollectionStartDate" in s


def test_default_settings_give_no_ml_verdicts_for_14_days(make_emulator):
    emu = make_emulator("--manual-clock").start()
    iot = emu.client("iot")
    profile(emu, iot, "MlAws", [ml("MlSent")])
    dev = steady_then_burst(emu, "dev-MLAWS")
    assert {p["verdict"] for p in datapoints(emu, "dev-MLAWS")} == {"no-verdict"}
    assert active(iot) == []
    [s] = summaries(iot)
    assert s["modelStatus"] == "PENDING_BUILD"
    assert s["datapointsCollectionPercentage"] == 15 * 100.0 / 25000
    dev.close()


def test_paging_and_the_profile_filter(emu, iot):
    profile(emu, iot, "MlPageA", [ml("A1"), ml("A2", "LOW"),
                                       {"name": "Static", "metric": "aws:num-messages-sent",
                                        "criteria": {"comparisonOperator": "less-than",
                                                     "value": {"count": 5}, "durationSeconds": 300}}])
    profile(emu, iot, "MlPageB", [ml("B1", "MEDIUM")])
    seen, token = [], None
    while True:
        page = iot.get_behavior_model_training_summaries(
            maxResults=1, **({"nextToken": token} if token else {}))
        assert len(page["summaries"]) <= 1
        seen += [(s["securityProfileName"], s["behaviorName"]) for s in page["summaries"]]
        token = page.get("nextToken")
        if not token:
            break
    mine = [p for p in seen if p[0].startswith("MlPage")]
    assert mine == [("MlPageA", "A1"), ("MlPageA", "A2"), ("MlPageB", "B1")]
    assert [s["behaviorName"] for s in summaries(iot, securityProfileName="MlPageA")] == \
        ["A1", "A2"]
    doc = emu.aws_json("iot", "get-behavior-model-training-summaries",
                            "--security-profile-name", "MlPageB")
    assert [s["behaviorName"] for s in doc["summaries"]] == ["B1"]


def test_errors(emu, iot):
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_behavior_model_training_summaries(securityProfileName="NoSuchProfile")
    for bad in ({"maxResults": 11}, {"nextToken": "garbage"},
                {"securityProfileName": "bad name!"}):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            iot.get_behavior_model_training_summaries(**bad)
        assert e.value.response["Error"]["Code"] == "InvalidRequestException", bad
    assert "ResourceNotFoundException" in cli_error(
        emu, "iot", "get-behavior-model-training-summaries",
        "--security-profile-name", "NoSuchProfile")
