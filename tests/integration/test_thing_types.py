# SPDX-License-Identifier: MIT
"""Thing types over HTTP with boto3 and the AWS CLI: CreateThingType
(idempotent for the same properties), DescribeThingType, ListThingTypes
(name prefix, creation order, paging), UpdateThingType, DeprecateThingType
(and undo), DeleteThingType (deprecated, five emulated minutes, no things),
what a type means for CreateThing / UpdateThing / ListThings, and every
failure as the clients report it."""
import json

import pytest

from conftest import all_pages, cli_error, http

ARN = "arn:aws:iot:us-east-1:123456789012:thingtype/"
PROPS = {"thingTypeDescription": "Smart lamps, v2",
         "searchableAttributes": ["site", "model"]}


def error_of(e):
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def raw(emu, method, path, doc):
    """A request as a newer client sends it (Debian's boto3 1.26 and AWS CLI
    predate UpdateThingType and mqtt5Configuration): (status, error type or
    None, the JSON answer)."""
    status, headers, body = http(method, emu.endpoint + path, json.dumps(doc),
                                 {"Content-Type": "application/json"})
    return status, headers.get("x-amzn-ErrorType"), json.loads(body) if body else None


def test_create_describe_idempotent_boto3(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_thing_type(thingTypeName="Lamp", thingTypeProperties=PROPS,
                                tags=[{"Key": "team", "Value": "lights"}])
    assert out["thingTypeName"] == "Lamp"
    assert out["thingTypeArn"] == ARN + "Lamp"
    assert len(out["thingTypeId"]) == 36
    d = iot.describe_thing_type(thingTypeName="Lamp")
    assert d["thingTypeName"] == "Lamp"
    assert d["thingTypeId"] == out["thingTypeId"]
    assert d["thingTypeArn"] == ARN + "Lamp"
    assert d["thingTypeProperties"] == PROPS
    assert d["thingTypeMetadata"]["deprecated"] is False
    assert "deprecationDate" not in d["thingTypeMetadata"]
    assert abs(d["thingTypeMetadata"]["creationDate"].timestamp() - now) < 5

    # The same properties (searchable attributes in any order): the same type.
    again = iot.create_thing_type(thingTypeName="Lamp", thingTypeProperties={
        "searchableAttributes": ["model", "site"], "thingTypeDescription": "Smart lamps, v2"})
    assert again["thingTypeId"] == out["thingTypeId"]
    # Other properties: ResourceAlreadyExists with the stored id and ARN.
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
        iot.create_thing_type(thingTypeName="Lamp")
    assert error_of(e) == ("ResourceAlreadyExistsException",
                           "Thing type Lamp already exists in account with different properties")
    assert e.value.response["resourceId"] == out["thingTypeId"]
    assert e.value.response["resourceArn"] == ARN + "Lamp"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409

    # No properties describe as an empty object.
    iot.create_thing_type(thingTypeName="Bare")
    assert iot.describe_thing_type(thingTypeName="Bare")["thingTypeProperties"] == {}
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.describe_thing_type(thingTypeName="Nope")
    assert error_of(e) == ("ResourceNotFoundException", "ThingType Nope cannot be found.")


def test_update_and_deprecate_boto3(emu, iot):
    iot.create_thing_type(thingTypeName="Lamp", thingTypeProperties=PROPS)
    mqtt5 = {"propagatingAttributes": [
        {"userPropertyKey": "site", "thingAttribute": "site"},
        {"userPropertyKey": "client", "connectionAttribute": "iot:ClientId"}]}
    status, err, _ = raw(emu, "PATCH", "/thing-types/Lamp", {"thingTypeProperties": {
        "thingTypeDescription": "Smart lamps, v3", "mqtt5Configuration": mqtt5}})
    assert (status, err) == (200, None)
    d = iot.describe_thing_type(thingTypeName="Lamp")
    assert d["thingTypeProperties"] == {"thingTypeDescription": "Smart lamps, v3",
                                        "searchableAttributes": ["site", "model"]}
    status, _, d = raw(emu, "GET", "/thing-types/Lamp", None)
    assert d["thingTypeProperties"]["mqtt5Configuration"] == mqtt5
    status, err, body = raw(emu, "PATCH", "/thing-types/Nope", {"thingTypeProperties": PROPS})
    assert (status, err) == (404, "ResourceNotFoundException")
    assert body["message"] == "ThingType Nope cannot be found."
    status, err, body = raw(emu, "PATCH", "/thing-types/Lamp", {"thingTypeProperties": {
        "searchableAttributes": ["a", "b", "c", "d"]}})
    assert (status, err) == (400, "InvalidRequestException")
    assert "at most 3 searchable attributes" in body["message"]
    assert iot.describe_thing_type(thingTypeName="Lamp")["thingTypeProperties"][
        "searchableAttributes"] == ["site", "model"]

    emu.advance(60)
    when = emu.clock()["now"]
    iot.deprecate_thing_type(thingTypeName="Lamp")
    meta = iot.describe_thing_type(thingTypeName="Lamp")["thingTypeMetadata"]
    assert meta["deprecated"] is True
    assert abs(meta["deprecationDate"].timestamp() - when) < 5
    assert meta["deprecationDate"] > meta["creationDate"]
    iot.deprecate_thing_type(thingTypeName="Lamp", undoDeprecate=True)
    meta = iot.describe_thing_type(thingTypeName="Lamp")["thingTypeMetadata"]
    assert meta["deprecated"] is False
    assert "deprecationDate" not in meta
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.deprecate_thing_type(thingTypeName="Nope")
    assert error_of(e)[1] == "ThingType Nope cannot be found."


def test_delete_waits_five_minutes_and_for_things(emu, iot):
    iot.create_thing_type(thingTypeName="Lamp")
    iot.create_thing(thingName="lamp-1", thingTypeName="Lamp")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.delete_thing_type(thingTypeName="Lamp")
    assert error_of(e)[1].startswith("Thing type Lamp is not deprecated")
    iot.deprecate_thing_type(thingTypeName="Lamp")
    emu.advance(240)
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.delete_thing_type(thingTypeName="Lamp")
    assert error_of(e)[1] == ("Thing type Lamp was deprecated less than 5 minutes ago: "
                              "it can be deleted in 60 seconds.")
    # Deprecating again does not restart the five minutes.
    iot.deprecate_thing_type(thingTypeName="Lamp")
    emu.advance(60)
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.delete_thing_type(thingTypeName="Lamp")
    assert error_of(e)[1].startswith("Thing type Lamp is still associated with things")
    iot.update_thing(thingName="lamp-1", removeThingType=True)
    iot.delete_thing_type(thingTypeName="Lamp")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing_type(thingTypeName="Lamp")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_thing_type(thingTypeName="Lamp")
    assert iot.list_thing_types()["thingTypes"] == []


def test_list_prefix_order_and_pages(iot):
    names = ["thing", "zeta", "thingType", "thingTypeName", "alpha"]
    for n in names:
        iot.create_thing_type(thingTypeName=n, thingTypeProperties={"searchableAttributes": ["a"]})
    iot.deprecate_thing_type(thingTypeName="zeta")
    listed = iot.list_thing_types()["thingTypes"]
    assert [t["thingTypeName"] for t in listed] == names  # creation order
    assert listed[0] == {
        "thingTypeName": "thing", "thingTypeArn": ARN + "thing",
        "thingTypeProperties": {"searchableAttributes": ["a"]},
        "thingTypeMetadata": {"deprecated": False,
                              "creationDate": listed[0]["thingTypeMetadata"]["creationDate"]}}
    assert listed[1]["thingTypeMetadata"]["deprecated"] is True
    assert [t["thingTypeName"] for t in iot.list_thing_types(thingTypeName="thingT")[
        "thingTypes"]] == ["thingType", "thingTypeName"]
    assert iot.list_thing_types(thingTypeName="nothing")["thingTypes"] == []

    items, pages = all_pages(iot.list_thing_types, "thingTypes", maxResults=2)
    assert [t["thingTypeName"] for t in items] == names
    assert pages == 3
    page = iot.list_thing_types(maxResults=2, thingTypeName="thing")
    assert [t["thingTypeName"] for t in page["thingTypes"]] == ["thing", "thingType"]
    rest = iot.list_thing_types(maxResults=2, thingTypeName="thing", nextToken=page["nextToken"])
    assert [t["thingTypeName"] for t in rest["thingTypes"]] == ["thingTypeName"]
    assert "nextToken" not in rest
    # A token is bound to its filter.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_thing_types(maxResults=2, nextToken=page["nextToken"])
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.list_thing_types(maxResults=251)
    assert "maxResults" in error_of(e)[1]


def test_list_default_page_is_fifty(iot):
    for i in range(51):
        iot.create_thing_type(thingTypeName=str(i + 1))
    page = iot.list_thing_types()
    assert [t["thingTypeName"] for t in page["thingTypes"]] == [str(i + 1) for i in range(50)]
    rest = iot.list_thing_types(nextToken=page["nextToken"])
    assert [t["thingTypeName"] for t in rest["thingTypes"]] == ["51"]


@pytest.mark.parametrize("kwargs,text", [
    ({"thingTypeName": "bad name"}, "at 'thingTypeName'"),
    ({"thingTypeName": "x" * 129}, "at 'thingTypeName'"),
    ({"thingTypeProperties": {"thingTypeDescription": "d" * 2029}},
     "at 'thingTypeProperties.thingTypeDescription'"),
    ({"thingTypeProperties": {"thingTypeDescription": "line\nbreak"}},
     "at 'thingTypeProperties.thingTypeDescription'"),
    ({"thingTypeProperties": {"searchableAttributes": ["a", "b", "c", "d"]}},
     "at most 3 searchable attributes"),
    ({"thingTypeProperties": {"searchableAttributes": ["no spaces"]}},
     "at 'thingTypeProperties.searchableAttributes.member'"),
    ({"tags": [{"Key": "k" * 129, "Value": "v"}]}, "Key"),
    ({"tags": [{"Key": "k", "Value": "v" * 257}]}, "Value"),
])
def test_create_validation(iot, kwargs, text):
    args = {"thingTypeName": "Lamp"}
    args.update(kwargs)
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_thing_type(**args)
    assert text in error_of(e)[1]
    assert iot.list_thing_types()["thingTypes"] == []


@pytest.mark.parametrize("props,text", [
    ({"mqtt5Configuration": {"propagatingAttributes": [
        {"userPropertyKey": "k", "thingAttribute": "bad attr"}]}},
     "at 'thingTypeProperties.mqtt5Configuration.propagatingAttributes.member.thingAttribute'"),
    ({"mqtt5Configuration": {"propagatingAttributes": [{"userPropertyKey": "k" * 129}]}},
     "at 'thingTypeProperties.mqtt5Configuration.propagatingAttributes.member.userPropertyKey'"),
    ({"mqtt5Configuration": {"propagatingAttributes": [{"connectionAttribute": "c" * 129}]}},
     "Member must have length less than or equal to 128"),
    ({"mqtt5Configuration": []}, "mqtt5Configuration must be an object"),
    ({"searchableAttributes": "a"}, "searchableAttributes must be a list of strings"),
])
def test_mqtt5_and_shape_validation(emu, iot, props, text):
    status, err, body = raw(emu, "POST", "/thing-types/Lamp", {"thingTypeProperties": props})
    assert (status, err) == (400, "InvalidRequestException")
    assert text in body["message"]
    assert iot.list_thing_types()["thingTypes"] == []


def test_things_follow_their_type(iot):
    iot.create_thing_type(thingTypeName="Lamp")
    iot.create_thing_type(thingTypeName="Old")
    iot.deprecate_thing_type(thingTypeName="Old")
    four = {"attributes": {"a": "1", "b": "2", "c": "3", "d": "4"}}

    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.create_thing(thingName="t1", thingTypeName="Nope")
    assert error_of(e)[1] == "ThingType Nope cannot be found."
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_thing(thingName="t1", thingTypeName="Old")
    assert error_of(e)[1] == "Can not create new thing with depreated thing type:Old"
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_thing(thingName="t1", attributePayload=four)
    assert error_of(e)[1] == ("A thing without a thing type can have at most 3 attributes; "
                              "this request gives it 4.")
    assert iot.list_things()["things"] == []

    iot.create_thing(thingName="t1", thingTypeName="Lamp", attributePayload=four)
    iot.create_thing(thingName="t2", attributePayload={"attributes": {"a": "1"}})
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.update_thing(thingName="t2", thingTypeName="Old")
    assert error_of(e)[1] == "Can not update a thing to use deprecated thing type: Old"
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing(thingName="t2", thingTypeName="Nope")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_thing(thingName="t1", removeThingType=True)  # 4 attributes stay
    # A thing keeps a type deprecated after it got it.
    iot.deprecate_thing_type(thingTypeName="Lamp")
    iot.update_thing(thingName="t1", thingTypeName="Lamp",
                     attributePayload={"attributes": {"e": "5"}, "merge": True})
    d = iot.describe_thing(thingName="t1")
    assert d["thingTypeName"] == "Lamp"
    assert d["version"] == 2
    assert iot.describe_thing(thingName="t2")["version"] == 1

    things = iot.list_things(thingTypeName="Lamp")["things"]
    assert [t["thingName"] for t in things] == ["t1"]
    assert things[0]["thingTypeName"] == "Lamp"
    assert [t["thingName"] for t in iot.list_things(
        attributeName="a", attributeValue="1")["things"]] == ["t1", "t2"]
    assert [t["thingName"] for t in iot.list_things(
        thingTypeName="Lamp", attributeName="e", attributeValue="5")["things"]] == ["t1"]


def test_cli(emu, iot):
    out = emu.aws_json("iot", "create-thing-type", "--thing-type-name", "Lamp",
                       "--thing-type-properties",
                       "thingTypeDescription=Lamps,searchableAttributes=site,model",
                       "--tags", "Key=team,Value=lights")
    assert out["thingTypeArn"] == ARN + "Lamp"
    d = emu.aws_json("iot", "describe-thing-type", "--thing-type-name", "Lamp")
    assert d["thingTypeProperties"] == {"thingTypeDescription": "Lamps",
                                        "searchableAttributes": ["site", "model"]}
    assert d["thingTypeMetadata"]["creationDate"].endswith("+00:00")
    raw(emu, "PATCH", "/thing-types/Lamp", {"thingTypeProperties": {
        "thingTypeDescription": "Lamps2"}})
    listed = emu.aws_json("iot", "list-thing-types", "--thing-type-name", "La")
    assert [t["thingTypeName"] for t in listed["thingTypes"]] == ["Lamp"]
    assert listed["thingTypes"][0]["thingTypeProperties"]["thingTypeDescription"] == "Lamps2"
    emu.aws("iot", "create-thing", "--thing-name", "lamp-1", "--thing-type-name", "Lamp")
    emu.aws("iot", "deprecate-thing-type", "--thing-type-name", "Lamp")
    err = cli_error(emu, "iot", "create-thing", "--thing-name", "lamp-2", "--thing-type-name",
                    "Lamp")
    assert err == ("\nAn error occurred (InvalidRequestException) when calling the CreateThing "
                   "operation: Can not create new thing with depreated thing type:Lamp\n")
    err = cli_error(emu, "iot", "delete-thing-type", "--thing-type-name", "Lamp")
    assert "(InvalidRequestException) when calling the DeleteThingType operation: Thing type " \
        "Lamp was deprecated less than 5 minutes ago" in err
    emu.aws("iot", "deprecate-thing-type", "--thing-type-name", "Lamp", "--undo-deprecate")
    emu.aws("iot", "create-thing", "--thing-name", "lamp-2", "--thing-type-name", "Lamp")
    err = cli_error(emu, "iot", "describe-thing-type", "--thing-type-name", "Nope")
    assert err == ("\nAn error occurred (ResourceNotFoundException) when calling the "
                   "DescribeThingType operation: ThingType Nope cannot be found.\n")
    err = cli_error(emu, "iot", "create-thing-type", "--thing-type-name", "Lamp")
    assert "(ResourceAlreadyExistsException) when calling the CreateThingType operation" in err
    err = cli_error(emu, "iot", "delete-thing-type", "--thing-type-name", "bad!")
    assert "(InvalidRequestException) when calling the DeleteThingType operation" in err
