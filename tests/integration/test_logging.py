# SPDX-License-Identifier: MIT
"""AWS IoT logging options with boto3 and the AWS CLI: v1 Set/GetLoggingOptions,
v2 Set/GetV2LoggingOptions, SetV2LoggingLevel / ListV2LoggingLevels /
DeleteV2LoggingLevel; NotConfiguredException before v2 options are set, and
validation errors as the clients report them."""
import pytest

from conftest import all_pages, cli_error

ROLE = "arn:aws:iam::123456789012:role/IoTLogging"


def test_v2_options_not_configured_then_set(iot):
    with pytest.raises(iot.exceptions.NotConfiguredException) as e:
        iot.get_v2_logging_options()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(iot.exceptions.NotConfiguredException):
        iot.list_v2_logging_levels()
    with pytest.raises(iot.exceptions.NotConfiguredException):
        iot.set_v2_logging_level(logTarget={"targetType": "DEFAULT"}, logLevel="INFO")

    iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="WARN")
    got = iot.get_v2_logging_options()
    assert (got["roleArn"], got["defaultLogLevel"], got["disableAllLogs"]) == (ROLE, "WARN", False)

    iot.set_v2_logging_options(defaultLogLevel="DISABLED", disableAllLogs=True)
    got = iot.get_v2_logging_options()
    assert "roleArn" not in got  # a Set replaces the options whole
    assert (got["defaultLogLevel"], got["disableAllLogs"]) == ("DISABLED", True)


def test_v1_options(iot):
    assert "logLevel" not in iot.get_logging_options()  # never set: empty
    iot.set_logging_options(loggingOptionsPayload={"roleArn": ROLE, "logLevel": "ERROR"})
    got = iot.get_logging_options()
    assert (got["roleArn"], got["logLevel"]) == (ROLE, "ERROR")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.set_logging_options(loggingOptionsPayload={"roleArn": ROLE, "logLevel": "LOUD"})
    assert "enum value set" in str(e.value)
    assert iot.get_logging_options()["logLevel"] == "ERROR"  # the refused call changed nothing


def test_v2_levels(emu, iot):
    iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="ERROR")
    iot.set_v2_logging_level(logTarget={"targetType": "DEFAULT"}, logLevel="INFO")
    for i in range(5):
        iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": f"g{i}"},
                                 logLevel="DEBUG")
    iot.set_v2_logging_level(logTarget={"targetType": "CLIENT_ID", "targetName": "dev-1"},
                             logLevel="WARN")
    # A second set of one target replaces its level.
    iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP", "targetName": "g0"},
                             logLevel="ERROR")

    items, pages = all_pages(iot.list_v2_logging_levels, "logTargetConfigurations",
                             maxResults=2)
    assert pages == 4
    got = [(c["logTarget"]["targetType"], c["logTarget"].get("targetName"), c["logLevel"])
           for c in items]
    assert got == [("CLIENT_ID", "dev-1", "WARN"), ("DEFAULT", None, "INFO"),
                   ("THING_GROUP", "g0", "ERROR"), ("THING_GROUP", "g1", "DEBUG"),
                   ("THING_GROUP", "g2", "DEBUG"), ("THING_GROUP", "g3", "DEBUG"),
                   ("THING_GROUP", "g4", "DEBUG")]
    only = iot.list_v2_logging_levels(targetType="CLIENT_ID")["logTargetConfigurations"]
    assert [c["logTarget"]["targetName"] for c in only] == ["dev-1"]

    iot.delete_v2_logging_level(targetType="THING_GROUP", targetName="g0")
    iot.delete_v2_logging_level(targetType="THING_GROUP", targetName="g0")  # missing: fine
    names = [c["logTarget"].get("targetName")
             for c in iot.list_v2_logging_levels(targetType="THING_GROUP")[
                 "logTargetConfigurations"]]
    assert names == ["g1", "g2", "g3", "g4"]

    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.set_v2_logging_level(logTarget={"targetType": "THING_GROUP"}, logLevel="INFO")
    assert "logTarget.targetName" in str(e.value)
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.set_v2_logging_level(logTarget={"targetType": "THING"}, logLevel="INFO")
    assert "enum value set" in str(e.value)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_v2_logging_levels(targetType="NOPE")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        emu.client("iot", parameter_validation=False).list_v2_logging_levels(maxResults=251)


def test_logging_cli(emu, iot):
    err = cli_error(emu, "iot", "get-v2-logging-options")
    assert "(NotConfiguredException)" in err
    emu.aws("iot", "set-v2-logging-options", "--role-arn", ROLE, "--default-log-level", "INFO")
    got = emu.aws_json("iot", "get-v2-logging-options")
    assert got == {"roleArn": ROLE, "defaultLogLevel": "INFO", "disableAllLogs": False}
    emu.aws("iot", "set-v2-logging-level", "--log-target", "targetType=THING_GROUP,targetName=lab",
            "--log-level", "DEBUG")
    got = emu.aws_json("iot", "list-v2-logging-levels")
    assert got["logTargetConfigurations"] == [
        {"logTarget": {"targetType": "THING_GROUP", "targetName": "lab"}, "logLevel": "DEBUG"}]
    emu.aws("iot", "delete-v2-logging-level", "--target-type", "THING_GROUP",
            "--target-name", "lab")
    assert emu.aws_json("iot", "list-v2-logging-levels")["logTargetConfigurations"] == []
    emu.aws("iot", "set-logging-options", "--logging-options-payload",
            f"roleArn={ROLE},logLevel=WARN")
    assert emu.aws_json("iot", "get-logging-options") == {"roleArn": ROLE, "logLevel": "WARN"}
    err = cli_error(emu, "iot", "set-v2-logging-options", "--default-log-level", "LOUD")
    assert "(InvalidRequestException)" in err
