# SPDX-License-Identifier: MIT
"""Detect's HTTP half through real clients (boto3 and Debian's AWS CLI v2):
security profiles, targets, behavior validation, violations, violation
events, verification states and the /_ddlocal/datapoints view, with each
error as the client reports it.

Violations and datapoints are written straight into the database file, as
the broker's engine would; the engine's own tests cover real evaluation."""
import contextlib
import datetime
import json
import sqlite3

import pytest
from botocore.exceptions import ClientError

from conftest import all_pages, http

ACCOUNT = "123456789012"
REGION = "us-east-1"
ALL_THINGS = "arn:aws:iot:%s:%s:all/things" % (REGION, ACCOUNT)
REGISTERED = "arn:aws:iot:%s:%s:all/registered-things" % (REGION, ACCOUNT)
UNREGISTERED = "arn:aws:iot:%s:%s:all/unregistered-things" % (REGION, ACCOUNT)


def group_arn(name):
    return "arn:aws:iot:%s:%s:thinggroup/%s" % (REGION, ACCOUNT, name)


def profile_arn(name):
    return "arn:aws:iot:%s:%s:securityprofile/%s" % (REGION, ACCOUNT, name)


MSGS = {"name": "MsgSent", "metric": "aws:num-messages-sent",
        "criteria": {"comparisonOperator": "less-than", "value": {"count": 5},
                     "durationSeconds": 300, "consecutiveDatapointsToAlarm": 1,
                     "consecutiveDatapointsToClear": 1}}
SRC_IP = {"name": "SrcIp", "metric": "aws:source-ip-address",
          "criteria": {"comparisonOperator": "not-in-cidr-set", "value": {"cidrs": ["10.0.0.0/8"]}}}
ML = {"name": "MlMsgSize", "metric": "aws:message-byte-size",
      "criteria": {"mlDetectionConfig": {"confidenceLevel": "HIGH"}}}
STAT = {"name": "AuthFail", "metric": "aws:num-authorization-failures",
        "criteria": {"comparisonOperator": "greater-than", "statisticalThreshold": {"statistic": "p90"},
                     "durationSeconds": 300, "consecutiveDatapointsToAlarm": 2,
                     "consecutiveDatapointsToClear": 2}, "suppressAlerts": False}
SNS = {"SNS": {"alertTargetArn": "arn:aws:sns:us-east-1:123456789012:DDAlerts",
               "roleArn": "arn:aws:iam::123456789012:role/DDSnsRole"}}
BAD_COUNT = {"name": "TooMany", "metric": "aws:num-messages-sent",
             "criteria": {"comparisonOperator": "less-than", "value": {"count": 5},
                          "durationSeconds": 300, "consecutiveDatapointsToAlarm": 11}}


@pytest.fixture(autouse=True)
def fresh(emu):
    status, _, _ = emu.post("/_ddlocal/reset")
    assert status == 200


@pytest.fixture
def iot(emu):
    return emu.client("iot")


@contextlib.contextmanager
def db(emu):
    conn = sqlite3.connect(emu.data_dir + "/ddlocal.db", timeout=10)
    try:
        yield conn
        conn.commit()
    finally:
        conn.close()


def client_error(exc_info, code):
    err = exc_info.value.response["Error"]
    assert err["Code"] == code, err
    return err["Message"]


def cli_error(emu, code, operation, *args):
    p = emu.aws("iot", *args, check=False)
    assert p.returncode == 254, (p.returncode, p.stdout, p.stderr)
    line = "An error occurred (%s) when calling the %s operation" % (code, operation)
    assert line in p.stderr, p.stderr
    assert p.stdout == ""
    return p.stderr


# ---- CreateSecurityProfile / DescribeSecurityProfile -------------------------

def test_create_and_describe_echo_what_was_given(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_security_profile(
        securityProfileName="Full", securityProfileDescription="all criteria kinds",
        behaviors=[STAT, SRC_IP, ML, MSGS], alertTargets=SNS,
        additionalMetricsToRetainV2=[{"metric": "aws:num-connection-attempts"}],
        tags=[{"Key": "env", "Value": "test"}])
    assert out["securityProfileName"] == "Full"
    assert out["securityProfileArn"] == profile_arn("Full")
    d = iot.describe_security_profile(securityProfileName="Full")
    assert d["securityProfileArn"] == profile_arn("Full")
    assert d["securityProfileDescription"] == "all criteria kinds"
    assert d["behaviors"] == [STAT, SRC_IP, ML, MSGS]
    assert d["alertTargets"] == SNS
    assert d["additionalMetricsToRetainV2"] == [{"metric": "aws:num-connection-attempts"}]
    assert "additionalMetricsToRetain" not in d
    assert d["version"] == 1
    assert d["creationDate"] == d["lastModifiedDate"]
    assert d["creationDate"].timestamp() == pytest.approx(now, abs=5)


def test_create_through_the_cli_as_captured(emu):
    out = emu.aws_json("iot", "create-security-profile", "--security-profile-name",
                       "MsgSentSecProfile", "--behaviors", json.dumps([MSGS]),
                       "--alert-targets", json.dumps(SNS))
    assert out == {"securityProfileName": "MsgSentSecProfile",
                   "securityProfileArn": profile_arn("MsgSentSecProfile")}
    d = emu.aws_json("iot", "describe-security-profile", "--security-profile-name",
                     "MsgSentSecProfile")
    assert d["behaviors"] == [MSGS]
    assert d["version"] == 1
    # CLI v2 prints epoch-seconds timestamps as ISO 8601.
    assert d["creationDate"].endswith("+00:00")


def test_create_without_body_members(emu, iot):
    iot.create_security_profile(securityProfileName="Empty")
    d = iot.describe_security_profile(securityProfileName="Empty")
    assert d["behaviors"] == []
    assert "alertTargets" not in d and "securityProfileDescription" not in d


def test_create_twice_is_resource_already_exists(emu, iot):
    iot.create_security_profile(securityProfileName="Dup")
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
        iot.create_security_profile(securityProfileName="Dup")
    assert client_error(e, "ResourceAlreadyExistsException") == \
        "Security profile Dup already exists."
    err = cli_error(emu, "ResourceAlreadyExistsException", "CreateSecurityProfile",
                    "create-security-profile", "--security-profile-name", "Dup")
    assert "Security profile Dup already exists." in err


@pytest.mark.parametrize("kwargs, needle", [
    ({"securityProfileName": "bad name!"}, "at 'securityProfileName' failed to satisfy constraint"),
    ({"securityProfileName": "x" * 129}, "Member must have length less than or equal to 128"),
    ({"securityProfileName": "D", "securityProfileDescription": "x" * 1001},
     "securityProfileDescription"),
    ({"securityProfileName": "D", "securityProfileDescription": "tab\there"},
     "securityProfileDescription"),
    ({"securityProfileName": "D", "alertTargets": {"EMAIL": SNS["SNS"]}},
     "Member must satisfy enum value set: [SNS]"),
    ({"securityProfileName": "D",
      "alertTargets": {"SNS": {"alertTargetArn": "arn:x", "roleArn": "r" * 2049}}},
     "alertTargets.SNS.roleArn"),
    ({"securityProfileName": "D", "behaviors": [BAD_COUNT]},
     "Behavior TooMany is malformed. consecutiveDatapointsToAlarm 11 should be in range[1,10]"),
    ({"securityProfileName": "D", "behaviors": [MSGS, MSGS]}, "is used by more than one behavior"),
    ({"securityProfileName": "D",
      "behaviors": [{"name": "Cpu", "metric": "cpu_usage",
                     "criteria": {"comparisonOperator": "greater-than", "value": {"number": 85.5}}}]},
     "custom metric cpu_usage does not exist"),
    ({"securityProfileName": "D",
      "behaviors": [dict(MSGS, metricDimension={"dimensionName": "TopicFilterDim"})]},
     "dimension TopicFilterDim does not exist"),
    ({"securityProfileName": "D", "additionalMetricsToRetainV2": [{"metric": "aws:nope"}]},
     "additionalMetricsToRetainV2[0].metric: metric aws:nope is not supported"),
    ({"securityProfileName": "D", "additionalMetricsToRetain": ["aws:nope"]},
     "additionalMetricsToRetain[0]"),
    ({"securityProfileName": "D", "tags": [{"Key": "k" * 129, "Value": "v"}]}, "tags[0].Key"),
])
def test_create_rejects_bad_input_and_stores_nothing(emu, iot, kwargs, needle):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_security_profile(**kwargs)
    assert needle in client_error(e, "InvalidRequestException")
    assert iot.list_security_profiles()["securityProfileIdentifiers"] == []


def test_create_error_through_the_cli(emu):
    err = cli_error(emu, "InvalidRequestException", "CreateSecurityProfile",
                    "create-security-profile", "--security-profile-name", "D",
                    "--behaviors", json.dumps([BAD_COUNT]))
    assert "consecutiveDatapointsToAlarm 11 should be in range[1,10]" in err


def test_describe_missing_is_not_found(emu, iot):
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.describe_security_profile(securityProfileName="Nope")
    assert client_error(e, "ResourceNotFoundException") == "Security profile Nope cannot be found."
    cli_error(emu, "ResourceNotFoundException", "DescribeSecurityProfile",
              "describe-security-profile", "--security-profile-name", "Nope")


# ---- ValidateSecurityProfileBehaviors ---------------------------------------

def test_validate_reports_every_error_while_create_fails_with_the_first(emu, iot):
    assert iot.validate_security_profile_behaviors(behaviors=[MSGS, ML])["valid"] is True
    bad_op = dict(SRC_IP, name="BadOp", criteria={"comparisonOperator": "in-port-set",
                                                  "value": {"cidrs": ["10.0.0.0/8"]}})
    out = iot.validate_security_profile_behaviors(behaviors=[BAD_COUNT, MSGS, bad_op])
    assert out["valid"] is False
    messages = [e["errorMessage"] for e in out["validationErrors"]]
    assert len(messages) == 2
    assert messages[0] == ("Behavior TooMany is malformed. consecutiveDatapointsToAlarm 11 "
                           "should be in range[1,10]")
    assert messages[1].startswith("Behavior BadOp is malformed.")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_security_profile(securityProfileName="V", behaviors=[BAD_COUNT, MSGS, bad_op])
    assert client_error(e, "InvalidRequestException") == messages[0]
    cli = emu.aws_json("iot", "validate-security-profile-behaviors", "--behaviors",
                       json.dumps([BAD_COUNT]))
    assert cli == {"valid": False, "validationErrors": [{"errorMessage": messages[0]}]}
    ok = emu.aws_json("iot", "validate-security-profile-behaviors", "--behaviors", json.dumps([MSGS]))
    assert ok == {"valid": True, "validationErrors": []}


def test_validate_needs_behaviors(emu):
    status, headers, body = emu.post("/security-profile-behaviors/validate", {})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert "'behaviors'" in body["message"]
    status, _, _ = emu.post("/security-profile-behaviors/validate", raw="[1]")
    assert status == 400


# ---- UpdateSecurityProfile --------------------------------------------------

def test_update_replaces_members_and_bumps_the_version(emu, iot):
    iot.create_security_profile(securityProfileName="U", behaviors=[MSGS, SRC_IP],
                                alertTargets=SNS)
    emu.advance(60)
    tightened = dict(MSGS, criteria={"comparisonOperator": "less-than", "value": {"count": 3},
                                     "durationSeconds": 300})
    out = iot.update_security_profile(securityProfileName="U", securityProfileDescription="tightened",
                                      behaviors=[tightened], expectedVersion=1)
    assert out["version"] == 2
    assert out["behaviors"] == [tightened]  # the whole list is replaced
    assert out["alertTargets"] == SNS
    assert out["securityProfileDescription"] == "tightened"
    assert out["lastModifiedDate"] > out["creationDate"]
    d = iot.describe_security_profile(securityProfileName="U")
    assert d["version"] == 2 and d["behaviors"] == [tightened]
    # The captured delete-flags call clears them.
    out = emu.aws_json("iot", "update-security-profile", "--security-profile-name", "U",
                       "--delete-alert-targets", "--delete-behaviors",
                       "--delete-additional-metrics-to-retain")
    assert out["version"] == 3
    assert out["behaviors"] == []
    assert "alertTargets" not in out


def test_update_version_conflict_and_missing(emu, iot):
    iot.create_security_profile(securityProfileName="U")
    with pytest.raises(iot.exceptions.VersionConflictException) as e:
        iot.update_security_profile(securityProfileName="U", expectedVersion=7,
                                    securityProfileDescription="x")
    assert "not the expected version 7" in client_error(e, "VersionConflictException")
    cli_error(emu, "VersionConflictException", "UpdateSecurityProfile", "update-security-profile",
              "--security-profile-name", "U", "--expected-version", "3")
    assert iot.describe_security_profile(securityProfileName="U")["version"] == 1
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_security_profile(securityProfileName="Nope", securityProfileDescription="x")


@pytest.mark.parametrize("kwargs", [
    {"behaviors": [MSGS], "deleteBehaviors": True},
    {"alertTargets": SNS, "deleteAlertTargets": True},
    {"additionalMetricsToRetainV2": [{"metric": "aws:num-disconnects"}],
     "deleteAdditionalMetricsToRetain": True},
    {"additionalMetricsToRetain": ["aws:num-disconnects"], "deleteAdditionalMetricsToRetain": True},
])
def test_update_delete_flag_with_a_value_is_invalid(emu, iot, kwargs):
    iot.create_security_profile(securityProfileName="U", behaviors=[MSGS])
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.update_security_profile(securityProfileName="U", **kwargs)
    assert "Cannot specify both" in client_error(e, "InvalidRequestException")
    assert iot.describe_security_profile(securityProfileName="U")["version"] == 1


def test_update_with_a_delete_flag_false_keeps_the_value(emu, iot):
    iot.create_security_profile(securityProfileName="U")
    out = iot.update_security_profile(securityProfileName="U", behaviors=[MSGS],
                                      deleteBehaviors=False)
    assert out["behaviors"] == [MSGS]


# ---- DeleteSecurityProfile --------------------------------------------------

def test_delete(emu, iot):
    iot.create_security_profile(securityProfileName="Del")
    iot.attach_security_profile(securityProfileName="Del", securityProfileTargetArn=ALL_THINGS)
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.delete_security_profile(securityProfileName="Del", expectedVersion=2)
    cli_error(emu, "VersionConflictException", "DeleteSecurityProfile", "delete-security-profile",
              "--security-profile-name", "Del", "--expected-version", "5")
    emu.aws("iot", "delete-security-profile", "--security-profile-name", "Del",
            "--expected-version", "1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_security_profile(securityProfileName="Del")
    # A missing profile deletes fine (the model lists no not-found error).
    iot.delete_security_profile(securityProfileName="Del")
    mappings = iot.list_security_profiles_for_target(securityProfileTargetArn=ALL_THINGS)
    assert mappings["securityProfileTargetMappings"] == []


# ---- ListSecurityProfiles -----------------------------------------------------

def test_list_pages_and_filters(emu, iot):
    for name in ["E", "B", "D", "A", "C"]:
        iot.create_security_profile(securityProfileName=name,
                                    behaviors=[MSGS] if name in "BD" else [SRC_IP])
    listed, pages = all_pages(iot.list_security_profiles, "securityProfileIdentifiers",
                              maxResults=2)
    names = [p["name"] for p in listed]
    assert names == ["A", "B", "C", "D", "E"] and pages == 3
    first = iot.list_security_profiles(maxResults=5)
    assert "nextToken" not in first
    assert first["securityProfileIdentifiers"][0] == {"name": "A", "arn": profile_arn("A")}
    cli = emu.aws_json("iot", "list-security-profiles", "--page-size", "2")
    assert [p["name"] for p in cli["securityProfileIdentifiers"]] == names
    by_metric = iot.list_security_profiles(metricName="aws:num-messages-sent")
    assert [p["name"] for p in by_metric["securityProfileIdentifiers"]] == ["B", "D"]
    cli = emu.aws_json("iot", "list-security-profiles", "--metric-name", "aws:source-ip-address",
                       "--page-size", "1")
    assert [p["name"] for p in cli["securityProfileIdentifiers"]] == ["A", "C", "E"]
    assert iot.list_security_profiles(dimensionName="TopicFilterDim")[
        "securityProfileIdentifiers"] == []


@pytest.mark.parametrize("kwargs, needle", [
    ({"maxResults": 251}, "less than or equal to 250"),
    ({"maxResults": 0}, "greater than or equal to 1"),
    ({"nextToken": "forged"}, "Invalid nextToken"),
    ({"metricName": "bad metric"}, "metricName"),
    ({"metricName": "m", "dimensionName": "d"}, "Cannot specify both"),
])
def test_list_rejects_bad_parameters(emu, iot, kwargs, needle):
    if kwargs.get("maxResults") == 0:
        # boto3 checks the model minimum itself; send the request by hand.
        status, headers, body = http("GET", emu.endpoint + "/security-profiles?maxResults=0")
        assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException"
        assert needle in json.loads(body)["message"]
        return
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.list_security_profiles(**kwargs)
    assert needle in client_error(e, "InvalidRequestException")


def test_token_of_another_listing_is_refused(emu, iot):
    for name in "ABC":
        iot.create_security_profile(securityProfileName=name, behaviors=[MSGS])
    token = iot.list_security_profiles(maxResults=1)["nextToken"]
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_security_profiles(maxResults=1, nextToken=token, metricName="aws:num-messages-sent")


# ---- targets ----------------------------------------------------------------

def test_attach_list_and_detach(emu, iot):
    iot.create_security_profile(securityProfileName="T")
    for arn in [ALL_THINGS, REGISTERED, UNREGISTERED]:
        iot.attach_security_profile(securityProfileName="T", securityProfileTargetArn=arn)
    emu.aws("iot", "attach-security-profile", "--security-profile-name", "T",
            "--security-profile-target-arn", ALL_THINGS)  # again: no-op
    targets = iot.list_targets_for_security_profile(securityProfileName="T")
    assert targets["securityProfileTargets"] == [{"arn": a} for a in sorted(
        [ALL_THINGS, REGISTERED, UNREGISTERED])]
    page = iot.list_targets_for_security_profile(securityProfileName="T", maxResults=2)
    assert len(page["securityProfileTargets"]) == 2 and page["nextToken"]
    rest = iot.list_targets_for_security_profile(securityProfileName="T", maxResults=2,
                                                 nextToken=page["nextToken"])
    assert len(rest["securityProfileTargets"]) == 1 and "nextToken" not in rest
    cli = emu.aws_json("iot", "list-targets-for-security-profile", "--security-profile-name", "T",
                       "--page-size", "1")
    assert cli["securityProfileTargets"] == targets["securityProfileTargets"]
    mapping = iot.list_security_profiles_for_target(securityProfileTargetArn=REGISTERED)
    assert mapping["securityProfileTargetMappings"] == [
        {"securityProfileIdentifier": {"name": "T", "arn": profile_arn("T")},
         "target": {"arn": REGISTERED}}]
    emu.aws("iot", "detach-security-profile", "--security-profile-name", "T",
            "--security-profile-target-arn", ALL_THINGS)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.detach_security_profile(securityProfileName="T", securityProfileTargetArn=ALL_THINGS)
    assert "is not attached" in client_error(e, "ResourceNotFoundException")
    cli_error(emu, "ResourceNotFoundException", "DetachSecurityProfile", "detach-security-profile",
              "--security-profile-name", "T", "--security-profile-target-arn", ALL_THINGS)
    assert len(iot.list_targets_for_security_profile(securityProfileName="T")[
        "securityProfileTargets"]) == 2


def test_target_errors(emu, iot):
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_security_profile(securityProfileName="Nope", securityProfileTargetArn=ALL_THINGS)
    cli_error(emu, "ResourceNotFoundException", "AttachSecurityProfile", "attach-security-profile",
              "--security-profile-name", "Nope", "--security-profile-target-arn", ALL_THINGS)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_targets_for_security_profile(securityProfileName="Nope")
    iot.create_security_profile(securityProfileName="T")
    for arn in ["arn:aws:iot:us-east-1:123456789012:thing/dev1", "not-an-arn",
                "arn:aws:iot:eu-west-1:123456789012:all/things",
                "arn:aws:iot:us-east-1:999999999999:all/things",
                "arn:aws:iot:us-east-1:123456789012:all/nothing"]:
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.attach_security_profile(securityProfileName="T", securityProfileTargetArn=arn)
    cli_error(emu, "InvalidRequestException", "ListSecurityProfilesForTarget",
              "list-security-profiles-for-target", "--security-profile-target-arn", "arn:bad")


def test_five_profiles_per_target(emu, iot):
    for i in range(6):
        iot.create_security_profile(securityProfileName="L%d" % i)
    for i in range(5):
        iot.attach_security_profile(securityProfileName="L%d" % i, securityProfileTargetArn=ALL_THINGS)
    with pytest.raises(iot.exceptions.LimitExceededException) as e:
        iot.attach_security_profile(securityProfileName="L5", securityProfileTargetArn=ALL_THINGS)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410
    assert "already has 5 security profiles" in client_error(e, "LimitExceededException")
    # CLI v2 retries a 410 twice before it gives up.
    err = cli_error(emu, "LimitExceededException", "AttachSecurityProfile",
                    "attach-security-profile", "--security-profile-name", "L5",
                    "--security-profile-target-arn", ALL_THINGS)
    assert "(reached max retries: 2)" in err
    # Another target still takes it; a detach makes room.
    iot.attach_security_profile(securityProfileName="L5", securityProfileTargetArn=REGISTERED)
    iot.detach_security_profile(securityProfileName="L0", securityProfileTargetArn=ALL_THINGS)
    iot.attach_security_profile(securityProfileName="L5", securityProfileTargetArn=ALL_THINGS)


REGISTRY_SQL = """
CREATE TABLE IF NOT EXISTS things (name TEXT PRIMARY KEY, thing_id TEXT NOT NULL UNIQUE,
    type_name TEXT, billing_group TEXT, attributes TEXT NOT NULL DEFAULT '{}',
    version INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS thing_groups (name TEXT PRIMARY KEY, group_id TEXT NOT NULL UNIQUE,
    parent_name TEXT REFERENCES thing_groups (name), description TEXT,
    attributes TEXT NOT NULL DEFAULT '{}', version INTEGER NOT NULL, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS thing_group_members (
    thing_name TEXT NOT NULL REFERENCES things (name) ON DELETE CASCADE,
    group_name TEXT NOT NULL REFERENCES thing_groups (name) ON DELETE CASCADE,
    PRIMARY KEY (thing_name, group_name)) WITHOUT ROWID;
"""


def add_groups(emu, *rows):
    """Thing groups as the registry's schema holds them (created here when
    the registry's migration is not in this build yet)."""
    with db(emu) as conn:
        conn.executescript(REGISTRY_SQL)
        for i, (name, parent) in enumerate(rows):
            conn.execute("INSERT INTO thing_groups (name, group_id, parent_name, version, "
                         "created_ms) VALUES (?, ?, ?, 1, 0)", (name, "gid-%s" % name, parent))


def test_profiles_for_a_thing_group_recursive(emu, iot):
    add_groups(emu, ("Root", None), ("Mid", "Root"), ("Quarantine", "Mid"))
    for name in ["OnRoot", "OnLeaf", "OnAll"]:
        iot.create_security_profile(securityProfileName=name)
    iot.attach_security_profile(securityProfileName="OnRoot", securityProfileTargetArn=group_arn("Root"))
    emu.aws("iot", "attach-security-profile", "--security-profile-name", "OnLeaf",
            "--security-profile-target-arn", group_arn("Quarantine"))
    iot.attach_security_profile(securityProfileName="OnAll", securityProfileTargetArn=ALL_THINGS)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.attach_security_profile(securityProfileName="OnLeaf",
                                    securityProfileTargetArn=group_arn("Missing"))
    assert client_error(e, "ResourceNotFoundException") == "Thing group Missing cannot be found."
    direct = iot.list_security_profiles_for_target(securityProfileTargetArn=group_arn("Quarantine"))
    assert [(m["securityProfileIdentifier"]["name"], m["target"]["arn"])
            for m in direct["securityProfileTargetMappings"]] == [("OnLeaf", group_arn("Quarantine"))]
    rec = emu.aws_json("iot", "list-security-profiles-for-target", "--security-profile-target-arn",
                       group_arn("Quarantine"), "--recursive", "--page-size", "1")
    assert [(m["securityProfileIdentifier"]["name"], m["target"]["arn"])
            for m in rec["securityProfileTargetMappings"]] == [
        ("OnLeaf", group_arn("Quarantine")), ("OnRoot", group_arn("Root"))]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_security_profiles_for_target(securityProfileTargetArn=group_arn("Missing"))


# ---- violations ---------------------------------------------------------------

BEHAVIOR_ECHO = json.dumps(MSGS, separators=(",", ":"))
ML_ECHO = json.dumps(ML, separators=(",", ":"))


def add_violation(conn, vid, thing, profile="P", behavior=BEHAVIOR_ECHO, ctype="STATIC",
                  suppressed=0, confidence=None, start_ms=1700000000000, last_ms=None,
                  value='{"count":9}', end_ms=None, state=None, desc=None):
    name = json.loads(behavior)["name"]
    conn.execute(
        "INSERT INTO violations (violation_id, thing_name, profile_name, behavior_name, behavior, "
        "criteria_type, suppressed, confidence, start_ms, last_violation_ms, last_value, end_ms, "
        "end_type, verification_state, verification_description) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (vid, thing, profile, name, behavior, ctype, suppressed, confidence, start_ms,
         last_ms or start_ms, value, end_ms, "alarm-invalidated" if end_ms else None, state, desc))
    conn.execute("INSERT INTO violation_events (violation_id, event_type, time_ms, metric_value) "
                 "VALUES (?, 'in-alarm', ?, ?)", (vid, start_ms, value))
    if end_ms:
        conn.execute("INSERT INTO violation_events (violation_id, event_type, time_ms, "
                     "metric_value) VALUES (?, 'alarm-invalidated', ?, NULL)", (vid, end_ms))


@pytest.fixture
def violations(emu, iot):
    iot.create_security_profile(securityProfileName="P", behaviors=[MSGS, ML])
    iot.create_security_profile(securityProfileName="Q", behaviors=[MSGS])
    with db(emu) as conn:
        add_violation(conn, "a" * 32, "dev-1", start_ms=1700000000000, last_ms=1700000600123)
        add_violation(conn, "b" * 32, "dev-2", suppressed=1, start_ms=1700000300000)
        add_violation(conn, "c" * 32, "dev-1", behavior=ML_ECHO, ctype="MACHINE_LEARNING",
                      confidence="HIGH", start_ms=1700000300000, value='{"number":12.5}')
        add_violation(conn, "d" * 32, "dev-3", profile="Q", start_ms=1700000900000,
                      state="TRUE_POSITIVE", desc="seen it")
        add_violation(conn, "e" * 32, "dev-1", start_ms=1699990000000, end_ms=1700000100000)


def ids(items):
    return [v["violationId"][0] for v in items]


def test_list_active_violations(emu, iot, violations):
    out = iot.list_active_violations()["activeViolations"]
    assert ids(out) == ["a", "b", "c", "d"]
    a = out[0]
    assert a["thingName"] == "dev-1" and a["securityProfileName"] == "P"
    assert a["behavior"] == MSGS
    assert a["lastViolationValue"] == {"count": 9}
    assert a["violationStartTime"] == datetime.datetime.fromtimestamp(1700000000, datetime.timezone.utc)
    assert a["lastViolationTime"].timestamp() == pytest.approx(1700000600.123)
    assert "verificationState" not in a and "violationEventAdditionalInfo" not in a
    assert out[2]["violationEventAdditionalInfo"] == {"confidenceLevel": "HIGH"}
    assert out[2]["lastViolationValue"] == {"number": 12.5}
    assert out[3]["verificationState"] == "TRUE_POSITIVE"
    assert out[3]["verificationStateDescription"] == "seen it"
    # The wire form: epoch seconds with the fraction.
    status, _, body = http("GET", emu.endpoint + "/active-violations?thingName=dev-1")
    raw = json.loads(body)["activeViolations"]
    assert raw[0]["lastViolationTime"] == 1700000600.123
    assert raw[0]["violationStartTime"] == 1700000000


@pytest.mark.parametrize("args, want", [
    ({"thingName": "dev-1"}, ["a", "c"]),
    ({"securityProfileName": "Q"}, ["d"]),
    ({"behaviorCriteriaType": "MACHINE_LEARNING"}, ["c"]),
    ({"behaviorCriteriaType": "STATISTICAL"}, []),
    # listSuppressedAlerts: absent/false lists all, true only the suppressed.
    ({"listSuppressedAlerts": False}, ["a", "b", "c", "d"]),
    ({"listSuppressedAlerts": True}, ["b"]),
    # A state never set counts as UNKNOWN.
    ({"verificationState": "UNKNOWN"}, ["a", "b", "c"]),
    ({"verificationState": "TRUE_POSITIVE"}, ["d"]),
    ({"thingName": "dev-1", "behaviorCriteriaType": "STATIC"}, ["a"]),
])
def test_list_active_violations_filters(emu, iot, violations, args, want):
    assert ids(iot.list_active_violations(**args)["activeViolations"]) == want


def test_list_active_violations_pages(emu, iot, violations):
    page = iot.list_active_violations(maxResults=3)
    assert ids(page["activeViolations"]) == ["a", "b", "c"]
    rest = iot.list_active_violations(maxResults=3, nextToken=page["nextToken"])
    assert ids(rest["activeViolations"]) == ["d"] and "nextToken" not in rest
    cli = emu.aws_json("iot", "list-active-violations", "--page-size", "1")
    assert ids(cli["activeViolations"]) == ["a", "b", "c", "d"]
    cli = emu.aws_json("iot", "list-active-violations", "--thing-name", "dev-1",
                       "--behavior-criteria-type", "STATIC", "--no-list-suppressed-alerts",
                       "--verification-state", "UNKNOWN", "--max-results", "25")
    assert ids(cli["activeViolations"]) == ["a"]
    assert cli["activeViolations"][0]["violationStartTime"] == "2023-11-14T22:13:20+00:00"


def test_list_active_violations_errors(emu, iot, violations):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.list_active_violations(behaviorCriteriaType="FOO")
    assert "[STATIC, STATISTICAL, MACHINE_LEARNING]" in client_error(e, "InvalidRequestException")
    cli_error(emu, "InvalidRequestException", "ListActiveViolations", "list-active-violations",
              "--verification-state", "MAYBE")
    cli_error(emu, "InvalidRequestException", "ListActiveViolations", "list-active-violations",
              "--max-results", "1000")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_active_violations(securityProfileName="Nope")
    status, _, _ = http("GET", emu.endpoint + "/active-violations?listSuppressedAlerts=yes")
    assert status == 400


def test_list_violation_events(emu, iot, violations):
    start = datetime.datetime(2023, 11, 14, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(2023, 11, 15, tzinfo=datetime.timezone.utc)
    out = iot.list_violation_events(startTime=start, endTime=end)["violationEvents"]
    # In time order: e opened long before a, and was invalidated after a opened.
    assert [(v["violationId"][0], v["violationEventType"]) for v in out] == [
        ("e", "in-alarm"), ("a", "in-alarm"), ("e", "alarm-invalidated"), ("b", "in-alarm"),
        ("c", "in-alarm"), ("d", "in-alarm")]
    invalidated = out[2]
    assert "metricValue" not in invalidated
    assert invalidated["violationEventTime"].timestamp() == 1700000100
    assert out[1]["metricValue"] == {"count": 9} and out[1]["behavior"] == MSGS
    assert out[4]["violationEventAdditionalInfo"] == {"confidenceLevel": "HIGH"}
    assert out[5]["verificationState"] == "TRUE_POSITIVE"
    # The captured CLI call with epoch arguments and every filter.
    cli = emu.aws_json("iot", "list-violation-events", "--start-time", "1699920000",
                       "--end-time", "1700006400.5", "--thing-name", "dev-1",
                       "--security-profile-name", "P", "--behavior-criteria-type", "STATIC",
                       "--no-list-suppressed-alerts", "--verification-state", "UNKNOWN")
    assert [(v["violationId"][0], v["violationEventType"]) for v in cli["violationEvents"]] == [
        ("e", "in-alarm"), ("a", "in-alarm"), ("e", "alarm-invalidated")]
    # Narrow ranges and paging through the CLI.
    narrow = iot.list_violation_events(startTime=datetime.datetime.fromtimestamp(
        1700000300, datetime.timezone.utc), endTime=end, listSuppressedAlerts=True)
    assert ids(narrow["violationEvents"]) == ["b"]
    cli = emu.aws_json("iot", "list-violation-events", "--start-time", "2023-11-14T00:00:00Z",
                       "--end-time", "2023-11-15T00:00:00Z", "--page-size", "2")
    assert len(cli["violationEvents"]) == 6
    page = iot.list_violation_events(startTime=start, endTime=end, maxResults=4)
    rest = iot.list_violation_events(startTime=start, endTime=end, maxResults=4,
                                     nextToken=page["nextToken"])
    assert len(rest["violationEvents"]) == 2 and "nextToken" not in rest
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_violation_events(startTime=start, endTime=end, maxResults=4,
                                  nextToken=page["nextToken"], thingName="dev-1")


def test_list_violation_events_needs_times(emu):
    for query in ["", "?startTime=2023-11-14T00%3A00%3A00Z",
                  "?startTime=yesterday&endTime=2023-11-15T00%3A00%3A00Z"]:
        status, headers, body = http("GET", emu.endpoint + "/violation-events" + query)
        assert status == 400, query
        assert headers["x-amzn-ErrorType"] == "InvalidRequestException"


def test_put_verification_state(emu, iot, violations):
    iot.put_verification_state_on_violation(violationId="a" * 32, verificationState="BENIGN_POSITIVE",
                                            verificationStateDescription="expected burst")
    out = iot.list_active_violations(verificationState="BENIGN_POSITIVE")["activeViolations"]
    assert ids(out) == ["a"] and out[0]["verificationStateDescription"] == "expected burst"
    # Closed violations take one too; without a description it is cleared.
    emu.aws("iot", "put-verification-state-on-violation", "--violation-id", "e" * 32,
            "--verification-state", "FALSE_POSITIVE")
    emu.aws("iot", "put-verification-state-on-violation", "--violation-id", "d" * 32,
            "--verification-state", "UNKNOWN")
    d = iot.list_active_violations(securityProfileName="Q")["activeViolations"][0]
    assert d["verificationState"] == "UNKNOWN" and "verificationStateDescription" not in d
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.put_verification_state_on_violation(violationId="f" * 32, verificationState="UNKNOWN")
    assert client_error(e, "InvalidRequestException") == "Violation %s cannot be found." % ("f" * 32)
    err = cli_error(emu, "InvalidRequestException", "PutVerificationStateOnViolation",
                    "put-verification-state-on-violation", "--violation-id", "a" * 32,
                    "--verification-state", "MAYBE")
    assert "verificationState" in err
    for kwargs in [{"verificationStateDescription": "x" * 1001},
                   {"verificationStateDescription": "line\nbreak"}]:
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.put_verification_state_on_violation(violationId="a" * 32,
                                                    verificationState="UNKNOWN", **kwargs)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.put_verification_state_on_violation(violationId="bad_id", verificationState="UNKNOWN")
    a = iot.list_active_violations(thingName="dev-1")["activeViolations"][0]
    assert a["verificationState"] == "BENIGN_POSITIVE"


# ---- /_ddlocal/datapoints -----------------------------------------------------

def test_datapoints_view(emu, iot):
    rows = [
        ("dev-1", "P", "MsgSent", 1700000600000, '{"count":9}', None, "violating", 1, 0, "in-alarm"),
        ("dev-1", "P", "MsgSent", 1700000300000, '{"count":2}', None, "compliant", 0, 1, None),
        ("dev-1", "P", "Stat", 1700000600000, '{"count":4}', 3.5, "no-verdict", 0, 0, None),
        ("dev-2", "P", "MsgSent", 1700000600000, '{"count":1}', None, "compliant", 0, 1, None),
    ]
    with db(emu) as conn:
        for row in rows:
            conn.execute("INSERT OR IGNORE INTO datapoint_series (thing_name, profile_name, "
                         "behavior_name) VALUES (?, ?, ?)", row[:3])
            conn.execute(
                "INSERT INTO datapoints (series_id, time_ms, value, threshold, verdict, "
                "streak_violating, streak_compliant, event) SELECT id, ?, ?, ?, ?, ?, ?, ? "
                "FROM datapoint_series WHERE thing_name = ? AND profile_name = ? "
                "AND behavior_name = ?", row[3:] + row[:3])
    status, doc = emu.get("/_ddlocal/datapoints?thingName=dev-1&securityProfileName=P"
                          "&behaviorName=MsgSent")
    assert status == 200
    assert doc["datapoints"] == [
        {"securityProfileName": "P", "behaviorName": "MsgSent", "time": 1700000300,
         "value": {"count": 2}, "threshold": None, "band": None, "verdict": "compliant",
         "consecutiveViolating": 0, "consecutiveCompliant": 1, "event": None},
        {"securityProfileName": "P", "behaviorName": "MsgSent", "time": 1700000600,
         "value": {"count": 9}, "threshold": None, "band": None, "verdict": "violating",
         "consecutiveViolating": 1, "consecutiveCompliant": 0, "event": "in-alarm"}]
    status, doc = emu.get("/_ddlocal/datapoints?thingName=dev-1")
    assert [(d["behaviorName"], d["time"], d["threshold"]) for d in doc["datapoints"]] == [
        ("MsgSent", 1700000300, None), ("MsgSent", 1700000600, None), ("Stat", 1700000600, 3.5)]
    status, doc = emu.get("/_ddlocal/datapoints?thingName=nobody")
    assert status == 200 and doc == {"datapoints": []}
    for query in ["", "?securityProfileName=P", "?thingName=dev-1&behaviorName=bad%20name"]:
        status, doc = emu.get("/_ddlocal/datapoints" + query)
        assert status == 400, query
