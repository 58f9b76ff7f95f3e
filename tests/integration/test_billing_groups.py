# SPDX-License-Identifier: MIT
"""Billing groups over HTTP with boto3 and the AWS CLI: create (duplicates
refused, tags checked), describe, update and delete with versions, list
with a name prefix and paging, things added and removed by name or ARN,
one billing group per thing (a second add moves it), DescribeThing's
billingGroupName, and the clean-up when a thing or a group is deleted."""
import json

import pytest

from conftest import cli_error, http

BARN = "arn:aws:iot:us-east-1:123456789012:billinggroup/"
TARN = "arn:aws:iot:us-east-1:123456789012:thing/"


def names(page):
    return [g["groupName"] for g in page["billingGroups"]]


def test_create_describe_and_duplicates(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_billing_group(
        billingGroupName="Cost-A",
        billingGroupProperties={"billingGroupDescription": "lab devices"},
        tags=[{"Key": "cost-center", "Value": "42"}])
    assert out["billingGroupName"] == "Cost-A"
    assert out["billingGroupArn"] == BARN + "Cost-A"
    assert len(out["billingGroupId"]) == 36
    d = iot.describe_billing_group(billingGroupName="Cost-A")
    assert d["billingGroupName"] == "Cost-A"
    assert d["billingGroupArn"] == BARN + "Cost-A"
    assert d["billingGroupId"] == out["billingGroupId"]
    assert d["version"] == 1
    assert d["billingGroupProperties"] == {"billingGroupDescription": "lab devices"}
    assert d["billingGroupMetadata"]["creationDate"].timestamp() == pytest.approx(now, abs=1)
    # Without properties the answer carries an empty properties object.
    iot.create_billing_group(billingGroupName="Bare")
    assert iot.describe_billing_group(billingGroupName="Bare")["billingGroupProperties"] == {}

    # A second create of the name is refused, even with the same properties.
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
        iot.create_billing_group(
            billingGroupName="Cost-A",
            billingGroupProperties={"billingGroupDescription": "lab devices"})
    assert e.value.response["resourceId"] == out["billingGroupId"]
    assert e.value.response["resourceArn"] == BARN + "Cost-A"
    assert e.value.response["Error"]["Message"] == \
        "Billing Group Cost-A already exists in current account."
    err = cli_error(emu, "iot", "create-billing-group", "--billing-group-name", "Cost-A")
    assert "(ResourceAlreadyExistsException) when calling the CreateBillingGroup operation" in err

    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.describe_billing_group(billingGroupName="Nope")
    assert e.value.response["Error"]["Message"] == "BillingGroup Nope cannot be found."
    err = cli_error(emu, "iot", "describe-billing-group", "--billing-group-name", "Nope")
    assert "(ResourceNotFoundException) when calling the DescribeBillingGroup operation" in err

    # The CLI: create with a description and tags, describe.
    out = emu.aws_json("iot", "create-billing-group", "--billing-group-name", "Cli",
                       "--billing-group-properties", "billingGroupDescription=from the cli",
                       "--tags", "Key=team,Value=ops")
    assert out["billingGroupArn"] == BARN + "Cli"
    d = emu.aws_json("iot", "describe-billing-group", "--billing-group-name", "Cli")
    assert d["billingGroupProperties"] == {"billingGroupDescription": "from the cli"}
    assert d["version"] == 1
    assert d["billingGroupMetadata"]["creationDate"].endswith("+00:00")


@pytest.mark.parametrize("body,field", [
    ({"billingGroupProperties": {"billingGroupDescription": "x" * 2029}},
     "billingGroupProperties.billingGroupDescription"),
    ({"billingGroupProperties": {"billingGroupDescription": "tab\there"}},
     "billingGroupProperties.billingGroupDescription"),
    ({"billingGroupProperties": {"billingGroupDescription": 7}},
     "billingGroupProperties.billingGroupDescription must be a string"),
    ({"billingGroupProperties": "text"}, "billingGroupProperties must be an object"),
    ({"tags": [{"Key": "k" * 129, "Value": "v"}]}, "Key"),
    ({"tags": [{"Key": "bad<key>", "Value": "v"}]}, "Key"),
    ({"tags": [{"Key": "k", "Value": "v" * 257}]}, "Value"),
    ({"tags": [{"Value": "v"}]}, "Key"),
    ({"tags": {"Key": "k"}}, "tags"),
])
def test_create_checks_members_with_aws_errors(emu, iot, body, field):
    status, headers, text = http("POST", emu.endpoint + "/billing-groups/Bad",
                                 json.dumps(body))
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert field in json.loads(text)["message"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_billing_group(billingGroupName="Bad")


def test_create_refuses_a_bad_name(emu, iot):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_billing_group(billingGroupName="no spaces")
    assert "billingGroupName" in e.value.response["Error"]["Message"]
    err = cli_error(emu, "iot", "create-billing-group", "--billing-group-name", "a!b")
    assert "(InvalidRequestException) when calling the CreateBillingGroup operation" in err
    assert "billingGroupName" in err
    assert iot.list_billing_groups()["billingGroups"] == []


def test_update_and_versions(emu, iot):
    iot.create_billing_group(billingGroupName="G",
                             billingGroupProperties={"billingGroupDescription": "one"})
    out = iot.update_billing_group(billingGroupName="G",
                                   billingGroupProperties={"billingGroupDescription": "two"})
    assert out == {"version": 2, "ResponseMetadata": out["ResponseMetadata"]}
    d = iot.describe_billing_group(billingGroupName="G")
    assert (d["version"], d["billingGroupProperties"]) == \
        (2, {"billingGroupDescription": "two"})
    # expectedVersion is checked; a conflict changes nothing.
    with pytest.raises(iot.exceptions.VersionConflictException) as e:
        iot.update_billing_group(billingGroupName="G", expectedVersion=1,
                                 billingGroupProperties={"billingGroupDescription": "three"})
    assert e.value.response["Error"]["Message"] == \
        "The version for billing group G does not match the expected version."
    assert iot.describe_billing_group(billingGroupName="G")["billingGroupProperties"] == \
        {"billingGroupDescription": "two"}
    out = iot.update_billing_group(billingGroupName="G", expectedVersion=2,
                                   billingGroupProperties={"billingGroupDescription": "three"})
    assert out["version"] == 3
    # An absent description keeps the stored one; an empty one removes it.
    assert iot.update_billing_group(billingGroupName="G", billingGroupProperties={})["version"] == 4
    d = iot.describe_billing_group(billingGroupName="G")
    assert d["billingGroupProperties"] == {"billingGroupDescription": "three"}
    out = emu.aws_json("iot", "update-billing-group", "--billing-group-name", "G",
                       "--billing-group-properties", "billingGroupDescription=",
                       "--expected-version", "4")
    assert out == {"version": 5}
    assert iot.describe_billing_group(billingGroupName="G")["billingGroupProperties"] == {}
    err = cli_error(emu, "iot", "update-billing-group", "--billing-group-name", "G",
                    "--billing-group-properties", "billingGroupDescription=x",
                    "--expected-version", "1")
    assert "(VersionConflictException) when calling the UpdateBillingGroup operation" in err
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_billing_group(billingGroupName="Nope",
                                 billingGroupProperties={"billingGroupDescription": "x"})
    # billingGroupProperties is required (clients check it too: send it raw).
    status, headers, _ = http("PATCH", emu.endpoint + "/billing-groups/G", "{}")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestException")
    assert iot.describe_billing_group(billingGroupName="G")["version"] == 5


def test_delete(emu, iot):
    iot.create_billing_group(billingGroupName="G")
    iot.create_thing(thingName="dev-1", billingGroupName="G")
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.delete_billing_group(billingGroupName="G", expectedVersion=2)
    err = cli_error(emu, "iot", "delete-billing-group", "--billing-group-name", "G",
                    "--expected-version", "7")
    assert "(VersionConflictException) when calling the DeleteBillingGroup operation" in err
    assert iot.describe_thing(thingName="dev-1")["billingGroupName"] == "G"
    iot.delete_billing_group(billingGroupName="G", expectedVersion=1)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_billing_group(billingGroupName="G")
    # Its things are in no billing group any more.
    assert "billingGroupName" not in iot.describe_thing(thingName="dev-1")
    # Deleting a missing group succeeds (the model has no ResourceNotFound).
    iot.delete_billing_group(billingGroupName="G")
    emu.aws("iot", "delete-billing-group", "--billing-group-name", "G")
    # A new group of the same name starts empty.
    iot.create_billing_group(billingGroupName="G")
    assert iot.list_things_in_billing_group(billingGroupName="G")["things"] == []


def test_list_prefix_and_paging(emu, iot):
    for n in ["cost-b", "cost-a", "lab-1", "cost-c", "lab-2"]:
        iot.create_billing_group(billingGroupName=n)
    assert names(iot.list_billing_groups()) == ["cost-a", "cost-b", "cost-c", "lab-1", "lab-2"]
    assert iot.list_billing_groups()["billingGroups"][0] == \
        {"groupName": "cost-a", "groupArn": BARN + "cost-a"}
    assert names(iot.list_billing_groups(namePrefixFilter="lab-")) == ["lab-1", "lab-2"]
    assert names(iot.list_billing_groups(namePrefixFilter="none")) == []
    page = iot.list_billing_groups(maxResults=2)
    assert names(page) == ["cost-a", "cost-b"]
    page = iot.list_billing_groups(maxResults=2, nextToken=page["nextToken"])
    assert names(page) == ["cost-c", "lab-1"]
    page = iot.list_billing_groups(maxResults=2, nextToken=page["nextToken"])
    assert names(page) == ["lab-2"] and "nextToken" not in page
    pages = list(iot.get_paginator("list_billing_groups").paginate(
        namePrefixFilter="cost", PaginationConfig={"PageSize": 2}))
    assert [names(p) for p in pages] == [["cost-a", "cost-b"], ["cost-c"]]
    out = emu.aws_json("iot", "list-billing-groups", "--name-prefix-filter", "cost",
                       "--page-size", "1")
    assert names(out) == ["cost-a", "cost-b", "cost-c"]
    # A token is for the filter it was made under.
    token = iot.list_billing_groups(maxResults=1)["nextToken"]
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_billing_groups(namePrefixFilter="lab", nextToken=token)
    for bad in [{"maxResults": 0}, {"maxResults": 251}, {"namePrefixFilter": "a b"}]:
        with pytest.raises((iot.exceptions.InvalidRequestException,
                            __import__("botocore").exceptions.ParamValidationError)):
            iot.list_billing_groups(**bad)
    status, headers, _ = http("GET", emu.endpoint + "/billing-groups?maxResults=251")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestException")


def test_things_by_name_and_arn(emu, iot):
    iot.create_billing_group(billingGroupName="A")
    iot.create_billing_group(billingGroupName="B")
    for n in ["t3", "t1", "t2"]:
        iot.create_thing(thingName=n)
    iot.add_thing_to_billing_group(billingGroupName="A", thingName="t1")
    iot.add_thing_to_billing_group(billingGroupArn=BARN + "A", thingArn=TARN + "t2")
    emu.aws("iot", "add-thing-to-billing-group", "--billing-group-name", "A",
            "--thing-name", "t3")
    iot.add_thing_to_billing_group(billingGroupName="A", thingName="t3")  # already there
    assert iot.list_things_in_billing_group(billingGroupName="A")["things"] == ["t1", "t2", "t3"]
    assert iot.describe_thing(thingName="t2")["billingGroupName"] == "A"
    assert iot.describe_thing(thingName="t2")["version"] == 1  # membership is not an update

    # A thing is in one billing group at most: adding it to B moves it.
    iot.add_thing_to_billing_group(billingGroupName="B", thingName="t2")
    assert iot.list_things_in_billing_group(billingGroupName="A")["things"] == ["t1", "t3"]
    assert iot.list_things_in_billing_group(billingGroupName="B")["things"] == ["t2"]
    assert iot.describe_thing(thingName="t2")["billingGroupName"] == "B"

    # Paging, with boto3 and the CLI.
    page = iot.list_things_in_billing_group(billingGroupName="A", maxResults=1)
    assert page["things"] == ["t1"]
    page = iot.list_things_in_billing_group(billingGroupName="A", maxResults=1,
                                            nextToken=page["nextToken"])
    assert page["things"] == ["t3"] and "nextToken" not in page
    out = emu.aws_json("iot", "list-things-in-billing-group", "--billing-group-name", "A",
                       "--page-size", "1")
    assert out["things"] == ["t1", "t3"]

    # Removing from a group the thing is not in leaves it alone.
    iot.remove_thing_from_billing_group(billingGroupName="A", thingName="t2")
    assert iot.describe_thing(thingName="t2")["billingGroupName"] == "B"
    iot.remove_thing_from_billing_group(billingGroupArn=BARN + "B", thingArn=TARN + "t2")
    assert "billingGroupName" not in iot.describe_thing(thingName="t2")
    emu.aws("iot", "remove-thing-from-billing-group", "--billing-group-name", "A",
            "--thing-arn", TARN + "t1")
    assert iot.list_things_in_billing_group(billingGroupName="A")["things"] == ["t3"]

    # Deleting a thing takes it out of its group.
    iot.delete_thing(thingName="t3")
    assert iot.list_things_in_billing_group(billingGroupName="A")["things"] == []


def test_membership_failures(emu, iot):
    iot.create_billing_group(billingGroupName="A")
    iot.create_thing(thingName="dev-1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.add_thing_to_billing_group(billingGroupName="A", thingName="ghost")
    assert e.value.response["Error"]["Message"] == "Thing ghost cannot be found."
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.add_thing_to_billing_group(billingGroupName="Nope", thingName="dev-1")
    assert e.value.response["Error"]["Message"] == "BillingGroup Nope cannot be found."
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.remove_thing_from_billing_group(billingGroupName="Nope", thingName="dev-1")
    err = cli_error(emu, "iot", "add-thing-to-billing-group", "--billing-group-name", "A",
                    "--thing-name", "ghost")
    assert "(ResourceNotFoundException) when calling the AddThingToBillingGroup operation" in err
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.add_thing_to_billing_group(thingName="dev-1")
    assert e.value.response["Error"]["Message"] == \
        "Either billingGroupName or billingGroupArn must be given."
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.add_thing_to_billing_group(billingGroupName="A")
    assert "thingName" in e.value.response["Error"]["Message"]
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.add_thing_to_billing_group(
            billingGroupArn="arn:aws:iot:us-east-1:123456789012:thinggroup/A", thingName="dev-1")
    assert "is not the ARN of a billing group" in e.value.response["Error"]["Message"]
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_billing_group(billingGroupName="A", thingArn="thing/dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_billing_group(billingGroupName="A b", thingName="dev-1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_things_in_billing_group(billingGroupName="Nope")
    assert "billingGroupName" not in iot.describe_thing(thingName="dev-1")


def test_create_thing_in_a_billing_group(emu, iot):
    iot.create_billing_group(billingGroupName="A")
    out = iot.create_thing(thingName="dev-1", billingGroupName="A")
    d = iot.describe_thing(thingName="dev-1")
    assert d["billingGroupName"] == "A"
    assert iot.list_things_in_billing_group(billingGroupName="A")["things"] == ["dev-1"]
    # The same create again is the same thing; another billing group is a clash.
    assert iot.create_thing(thingName="dev-1", billingGroupName="A")["thingId"] == out["thingId"]
    iot.create_billing_group(billingGroupName="B")
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_thing(thingName="dev-1", billingGroupName="B")
    # A missing billing group is refused and creates nothing.
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.create_thing(thingName="dev-2", billingGroupName="Nope")
    assert e.value.response["Error"]["Message"] == "BillingGroup Nope cannot be found."
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing(thingName="dev-2")
    out = emu.aws_json("iot", "create-thing", "--thing-name", "dev-3",
                       "--billing-group-name", "B")
    d = emu.aws_json("iot", "describe-thing", "--thing-name", "dev-3")
    assert d["billingGroupName"] == "B"
    # Reset empties billing groups too.
    emu.post("/_ddlocal/reset")
    assert iot.list_billing_groups()["billingGroups"] == []
