# SPDX-License-Identifier: MIT
"""Device Defender dimensions and custom metrics over HTTP with boto3 and
the AWS CLI: create (idempotent per clientRequestToken), describe, update,
delete, list with nextToken paging, server-side validation of every
length, pattern and enum, and failures as the clients report them."""
import pytest

from conftest import cli_error

PREFIX = "arn:aws:iot:us-east-1:123456789012:"


# ---- dimensions ----

def test_dimension_lifecycle_boto3(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_dimension(name="TopicFilterDim", type="TOPIC_FILTER",
                               stringValues=["dt/+/telemetry", "cmd/#"],
                               clientRequestToken="tok-1")
    assert out["name"] == "TopicFilterDim"
    assert out["arn"] == PREFIX + "dimension/TopicFilterDim"
    d = iot.describe_dimension(name="TopicFilterDim")
    assert d["type"] == "TOPIC_FILTER"
    assert d["stringValues"] == ["dt/+/telemetry", "cmd/#"]
    assert abs(d["creationDate"].timestamp() - now) < 5
    # A retry with the same token and content answers with the same dimension.
    again = iot.create_dimension(name="TopicFilterDim", type="TOPIC_FILTER",
                                 stringValues=["dt/+/telemetry", "cmd/#"],
                                 clientRequestToken="tok-1")
    assert again["arn"] == out["arn"]
    # Another token (or other values) is a second create of a taken name.
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_dimension(name="TopicFilterDim", type="TOPIC_FILTER",
                             stringValues=["dt/+/telemetry", "cmd/#"])
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_dimension(name="TopicFilterDim", type="TOPIC_FILTER",
                             stringValues=["other/#"], clientRequestToken="tok-1")

    emu.advance(60)
    up = iot.update_dimension(name="TopicFilterDim", stringValues=["a/${iot:ClientId}/#"])
    assert up["stringValues"] == ["a/${iot:ClientId}/#"]
    assert up["lastModifiedDate"] > up["creationDate"]
    assert iot.describe_dimension(name="TopicFilterDim")["stringValues"] == ["a/${iot:ClientId}/#"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_dimension(name="Nope", stringValues=["x"])

    iot.delete_dimension(name="TopicFilterDim")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_dimension(name="TopicFilterDim")
    iot.delete_dimension(name="TopicFilterDim")  # missing: still succeeds


def test_dimension_lifecycle_cli(emu, iot):
    out = emu.aws_json("iot", "create-dimension", "--name", "D", "--type", "TOPIC_FILTER",
                       "--string-values", "dt/+/telemetry", "cmd/#",
                       "--tags", "Key=team,Value=sec")
    assert out["arn"] == PREFIX + "dimension/D"
    d = emu.aws_json("iot", "describe-dimension", "--name", "D")
    assert d["stringValues"] == ["dt/+/telemetry", "cmd/#"]
    assert d["creationDate"].endswith("+00:00")
    # The CLI fills in a fresh token, so a repeated command is a conflict.
    err = cli_error(emu, "iot", "create-dimension", "--name", "D", "--type", "TOPIC_FILTER",
                    "--string-values", "dt/+/telemetry", "cmd/#", "--tags", "Key=team,Value=sec")
    assert "An error occurred (ResourceAlreadyExistsException) when calling the " \
        "CreateDimension operation: The dimension D already exists." in err
    d = emu.aws_json("iot", "update-dimension", "--name", "D", "--string-values", "x/#")
    assert d["stringValues"] == ["x/#"]
    err = cli_error(emu, "iot", "describe-dimension", "--name", "Nope")
    assert "(ResourceNotFoundException) when calling the DescribeDimension operation" in err
    emu.aws("iot", "delete-dimension", "--name", "D")
    emu.aws("iot", "delete-dimension", "--name", "D")
    assert emu.aws_json("iot", "list-dimensions")["dimensionNames"] == []


@pytest.mark.parametrize("kwargs,field", [
    ({"name": "bad name"}, "name"),
    ({"name": "x" * 129}, "name"),
    ({"type": "TOPIC"}, "type"),
    ({"stringValues": []}, "stringValues"),
    ({"stringValues": ["v%d" % i for i in range(101)]}, "stringValues"),
    ({"stringValues": ["x" * 257]}, "stringValues"),
    ({"stringValues": [""]}, "stringValues"),
    ({"clientRequestToken": "bad token!"}, "clientRequestToken"),
    ({"clientRequestToken": "t" * 65}, "clientRequestToken"),
    ({"tags": [{"Key": "", "Value": "v"}]}, "Key"),
    ({"tags": [{"Key": "k", "Value": "v" * 257}]}, "Value"),
])
def test_dimension_validation(emu, iot, kwargs, field):
    args = {"name": "D", "type": "TOPIC_FILTER", "stringValues": ["a/#"],
            "clientRequestToken": "tok"}
    args.update(kwargs)
    # boto3 itself checks minimums; send what passes it and check the rest.
    try:
        iot.create_dimension(**args)
    except iot.exceptions.InvalidRequestException as e:
        assert field in e.response["Error"]["Message"]
    except Exception as e:  # the client's own min-length check
        assert "ParamValidationError" in type(e).__name__
    else:
        pytest.fail("accepted %r" % kwargs)
    assert iot.list_dimensions()["dimensionNames"] == []


def test_dimension_validation_cli(emu, iot):
    err = cli_error(emu, "iot", "create-dimension", "--name", "bad name", "--type",
                    "TOPIC_FILTER", "--string-values", "a")
    assert "(InvalidRequestException) when calling the CreateDimension operation" in err
    assert "'name'" in err
    err = cli_error(emu, "iot", "create-dimension", "--name", "D", "--type", "TOPICS",
                    "--string-values", "a")
    assert "enum value set: [TOPIC_FILTER]" in err
    err = cli_error(emu, "iot", "update-dimension", "--name", "D", "--string-values", "x" * 300)
    assert "(InvalidRequestException) when calling the UpdateDimension operation" in err


def test_list_dimensions_pages(emu, iot):
    names = ["dim-%d" % i for i in range(5)]
    for n in names:
        iot.create_dimension(name=n, type="TOPIC_FILTER", stringValues=["a"])
    page = iot.list_dimensions(maxResults=2)
    assert page["dimensionNames"] == names[:2]
    page = iot.list_dimensions(maxResults=2, nextToken=page["nextToken"])
    assert page["dimensionNames"] == names[2:4]
    page = iot.list_dimensions(maxResults=2, nextToken=page["nextToken"])
    assert page["dimensionNames"] == names[4:]
    assert "nextToken" not in page
    # The CLI follows nextToken by itself with a small --page-size.
    out = emu.aws_json("iot", "list-dimensions", "--page-size", "2")
    assert out["dimensionNames"] == names
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_dimensions(nextToken="garbage")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_dimensions(maxResults=251)


# ---- custom metrics ----

def test_custom_metric_lifecycle_boto3(emu, iot):
    out = iot.create_custom_metric(metricName="cpu_usage", displayName="CPU usage",
                                   metricType="number", clientRequestToken="t1")
    assert out["metricName"] == "cpu_usage"
    assert out["metricArn"] == PREFIX + "custommetric/cpu_usage"
    again = iot.create_custom_metric(metricName="cpu_usage", displayName="CPU usage",
                                     metricType="number", clientRequestToken="t1")
    assert again["metricArn"] == out["metricArn"]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_custom_metric(metricName="cpu_usage", metricType="number-list",
                                 clientRequestToken="t1")
    d = iot.describe_custom_metric(metricName="cpu_usage")
    assert d["metricType"] == "number"
    assert d["displayName"] == "CPU usage"
    emu.advance(30)
    up = iot.update_custom_metric(metricName="cpu_usage", displayName="Load")
    assert up["displayName"] == "Load"
    assert up["metricType"] == "number"
    assert up["lastModifiedDate"] > up["creationDate"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_custom_metric(metricName="nope", displayName="x")
    iot.delete_custom_metric(metricName="cpu_usage")
    iot.delete_custom_metric(metricName="cpu_usage")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_custom_metric(metricName="cpu_usage")


def test_custom_metric_lifecycle_cli(emu, iot):
    for name, mtype in [("cpu", "number"), ("ips", "ip-address-list"),
                        ("names", "string-list"), ("nums", "number-list")]:
        out = emu.aws_json("iot", "create-custom-metric", "--metric-name", name,
                           "--metric-type", mtype)
        assert out["metricArn"] == PREFIX + "custommetric/" + name
    d = emu.aws_json("iot", "describe-custom-metric", "--metric-name", "ips")
    assert d["metricType"] == "ip-address-list"
    assert "displayName" not in d
    d = emu.aws_json("iot", "update-custom-metric", "--metric-name", "ips",
                     "--display-name", "Remote IPs")
    assert d["displayName"] == "Remote IPs"
    err = cli_error(emu, "iot", "create-custom-metric", "--metric-name", "cpu",
                    "--metric-type", "number")
    assert "(ResourceAlreadyExistsException) when calling the CreateCustomMetric operation" in err
    err = cli_error(emu, "iot", "describe-custom-metric", "--metric-name", "nope")
    assert "(ResourceNotFoundException) when calling the DescribeCustomMetric operation" in err
    out = emu.aws_json("iot", "list-custom-metrics", "--page-size", "1")
    assert out["metricNames"] == ["cpu", "ips", "names", "nums"]
    page = iot.list_custom_metrics(maxResults=3)
    assert page["metricNames"] == ["cpu", "ips", "names"]
    page = iot.list_custom_metrics(maxResults=3, nextToken=page["nextToken"])
    assert page["metricNames"] == ["nums"] and "nextToken" not in page
    emu.aws("iot", "delete-custom-metric", "--metric-name", "cpu")
    assert emu.aws_json("iot", "list-custom-metrics")["metricNames"] == ["ips", "names", "nums"]


@pytest.mark.parametrize("args,field", [
    (["--metric-name", "aws:cpu", "--metric-type", "number"], "metricName"),
    (["--metric-name", "bad name", "--metric-type", "number"], "metricName"),
    (["--metric-name", "m" * 129, "--metric-type", "number"], "metricName"),
    (["--metric-name", "cpu", "--metric-type", "integer"], "metricType"),
    (["--metric-name", "cpu", "--metric-type", "number", "--display-name", "x" * 129],
     "displayName"),
    (["--metric-name", "cpu", "--metric-type", "number", "--display-name", "tab\there"],
     "displayName"),
    (["--metric-name", "cpu", "--metric-type", "number", "--client-request-token", "a b"],
     "clientRequestToken"),
])
def test_custom_metric_validation(emu, iot, args, field):
    err = cli_error(emu, "iot", "create-custom-metric", *args)
    assert "(InvalidRequestException) when calling the CreateCustomMetric operation" in err
    assert field in err
    assert iot.list_custom_metrics()["metricNames"] == []


def test_custom_metric_errors_boto3(emu, iot):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_custom_metric(metricName="aws:num-messages-sent", metricType="number")
    assert "metricName" in e.value.response["Error"]["Message"]
    iot.create_custom_metric(metricName="m", metricType="number")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_custom_metric(metricName="m", displayName="x" * 129)
    assert "displayName" not in iot.describe_custom_metric(metricName="m")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_custom_metrics(nextToken="nope")
