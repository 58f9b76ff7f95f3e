# SPDX-License-Identifier: MIT
"""Things over HTTP with boto3 and the AWS CLI: CreateThing (idempotent for
an identical request), DescribeThing, UpdateThing (merge, removal, versions),
DeleteThing, ListThings (filters, pagination), DescribeEndpoint, and every
failure as the clients report it."""
import concurrent.futures
import json
import os

import pytest

from conftest import all_pages, cli_error, wait_for

ARN = "arn:aws:iot:us-east-1:123456789012:thing/"


def test_create_describe_with_boto3(iot):
    iot.create_thing_type(thingTypeName="sensor")
    out = iot.create_thing(thingName="dev-1", thingTypeName="sensor",
                           attributePayload={"attributes": {"site": "lab-1", "fw": "1.0.3"}})
    assert out["thingName"] == "dev-1"
    assert out["thingArn"] == ARN + "dev-1"
    assert len(out["thingId"]) == 36
    d = iot.describe_thing(thingName="dev-1")
    assert d["thingName"] == "dev-1"
    assert d["defaultClientId"] == "dev-1"
    assert d["thingId"] == out["thingId"]
    assert d["thingArn"] == ARN + "dev-1"
    assert d["thingTypeName"] == "sensor"
    assert d["attributes"] == {"site": "lab-1", "fw": "1.0.3"}
    assert d["version"] == 1


def test_create_is_idempotent_for_an_identical_request(iot):
    first = iot.create_thing(thingName="dev-1", attributePayload={"attributes": {"a": "1", "b": "2"}})
    again = iot.create_thing(thingName="dev-1", attributePayload={"attributes": {"b": "2", "a": "1"}})
    assert again["thingId"] == first["thingId"]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
        iot.create_thing(thingName="dev-1", attributePayload={"attributes": {"a": "9"}})
    err = e.value.response
    assert err["Error"]["Message"] == "Thing dev-1 already exists in account with different attributes"
    assert err["resourceId"] == first["thingId"]
    assert err["resourceArn"] == ARN + "dev-1"
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_thing(thingName="dev-1", thingTypeName="other",
                         attributePayload={"attributes": {"a": "1", "b": "2"}})
    assert iot.describe_thing(thingName="dev-1")["attributes"] == {"a": "1", "b": "2"}


def test_cli_create_describe_and_errors(emu, iot):
    iot.create_thing_type(thingTypeName="sensor")
    out = emu.aws_json("iot", "create-thing", "--thing-name", "dev-XBHY", "--thing-type-name",
                       "sensor", "--attribute-payload",
                       '{"attributes":{"site":"lab-1","fw":"1.0.3"},"merge":false}')
    assert out["thingArn"] == ARN + "dev-XBHY"
    d = emu.aws_json("iot", "describe-thing", "--thing-name", "dev-XBHY")
    assert d["attributes"] == {"site": "lab-1", "fw": "1.0.3"}
    err = cli_error(emu, "iot", "describe-thing", "--thing-name", "NOTFOUND")
    assert err == ("\nAn error occurred (ResourceNotFoundException) when calling the "
                   "DescribeThing operation: Thing NOTFOUND cannot be found.\n")
    err = cli_error(emu, "iot", "create-thing", "--thing-name", "dev-XBHY")
    assert "(ResourceAlreadyExistsException) when calling the CreateThing operation" in err
    err = cli_error(emu, "iot", "describe-thing", "--thing-name", "bad name!")
    assert "(InvalidRequestException) when calling the DescribeThing operation" in err
    assert "at 'thingName' failed to satisfy constraint" in err


@pytest.mark.parametrize("kwargs,field", [
    ({"thingName": "bad name!"}, "thingName"),
    ({"thingName": "x" * 129}, "thingName"),
    ({"thingName": "ok", "thingTypeName": "bad/type"}, "thingTypeName"),
    ({"thingName": "ok", "billingGroupName": "b" * 200}, "billingGroupName"),
    ({"thingName": "ok", "attributePayload": {"attributes": {"bad key": "v"}}},
     "attributePayload.attributes"),
    ({"thingName": "ok", "attributePayload": {"attributes": {"k": "v" * 801}}},
     "attributePayload.attributes"),
    ({"thingName": "ok", "attributePayload": {"attributes": {"k": "no spaces"}}},
     "attributePayload.attributes"),
])
def test_create_rejects_bad_members_naming_the_field(iot, kwargs, field):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_thing(**kwargs)
    assert "at '%s'" % field in e.value.response["Error"]["Message"]
    assert iot.list_things()["things"] == []


def test_update_merges_replaces_and_counts_versions(iot):
    iot.create_thing_type(thingTypeName="sensor")
    iot.create_thing(thingName="dev-1", attributePayload={"attributes": {"a": "1", "b": "2"}})
    iot.update_thing(thingName="dev-1",
                     attributePayload={"attributes": {"b": "", "c": "3"}, "merge": True})
    d = iot.describe_thing(thingName="dev-1")
    assert d["attributes"] == {"a": "1", "c": "3"}
    assert d["version"] == 2
    iot.update_thing(thingName="dev-1", attributePayload={"attributes": {"z": "26"}},
                     thingTypeName="sensor")
    d = iot.describe_thing(thingName="dev-1")
    assert d["attributes"] == {"z": "26"}
    assert d["thingTypeName"] == "sensor"
    assert d["version"] == 3
    iot.update_thing(thingName="dev-1", removeThingType=True, expectedVersion=3)
    d = iot.describe_thing(thingName="dev-1")
    assert "thingTypeName" not in d
    assert d["version"] == 4


# UpdateThing's attributePayload on {"a": "1", "b": "2"} (aws-fidelity.md 7.2).
ATTRIBUTE_ROWS = [
    ({"attributes": {"c": "3"}}, {"c": "3"}),
    ({"attributes": {"c": "3"}, "merge": False}, {"c": "3"}),
    ({"attributes": {"c": "3", "d": ""}}, {"c": "3"}),
    ({"attributes": {"b": ""}}, {}),
    ({"attributes": {}}, {}),
    ({}, {}),
    ({"merge": False}, {}),
    ({"attributes": {"b": "9", "c": "3"}, "merge": True}, {"a": "1", "b": "9", "c": "3"}),
    ({"attributes": {"a": ""}, "merge": True}, {"b": "2"}),
    ({"attributes": {"k9": ""}, "merge": True}, {"a": "1", "b": "2"}),
    ({"attributes": {}, "merge": True}, {"a": "1", "b": "2"}),
    ({"merge": True}, {"a": "1", "b": "2"}),
    (None, {"a": "1", "b": "2"}),
]


@pytest.mark.parametrize("payload,want", ATTRIBUTE_ROWS)
def test_update_attribute_rules(iot, payload, want):
    iot.create_thing(thingName="dev-1", attributePayload={"attributes": {"a": "1", "b": "2"}})
    kw = {} if payload is None else {"attributePayload": payload}
    iot.update_thing(thingName="dev-1", **kw)
    d = iot.describe_thing(thingName="dev-1")
    assert d["attributes"] == want
    assert d["version"] == 2  # every UpdateThing is a new version
    assert iot.list_things()["things"][0]["attributes"] == want


def test_update_attribute_rules_cli(emu, iot):
    emu.aws("iot", "create-thing", "--thing-name", "dev-1", "--attribute-payload",
            '{"attributes":{"a":"1","b":"2"}}')
    emu.aws("iot", "update-thing", "--thing-name", "dev-1", "--attribute-payload",
            '{"attributes":{"a":"","c":"3"},"merge":true}')
    assert emu.aws_json("iot", "describe-thing", "--thing-name", "dev-1")["attributes"] == \
        {"b": "2", "c": "3"}
    emu.aws("iot", "update-thing", "--thing-name", "dev-1", "--attribute-payload",
            '{"attributes":{"d":"4","b":""}}')
    d = emu.aws_json("iot", "describe-thing", "--thing-name", "dev-1")
    assert (d["attributes"], d["version"]) == ({"d": "4"}, 3)
    emu.aws("iot", "update-thing", "--thing-name", "dev-1", "--attribute-payload", "{}",
            "--expected-version", "3")
    d = emu.aws_json("iot", "describe-thing", "--thing-name", "dev-1")
    assert (d["attributes"], d["version"]) == ({}, 4)
    out = emu.aws_json("iot", "list-things")
    assert [(t["thingName"], t["version"]) for t in out["things"]] == [("dev-1", 4)]


def test_versions_count_updates_only(emu, iot):
    iot.create_thing(thingName="dev-1")
    iot.create_thing(thingName="dev-1")  # an identical create changes nothing
    iot.create_thing_group(thingGroupName="G")
    iot.add_thing_to_thing_group(thingGroupName="G", thingName="dev-1")
    iot.remove_thing_from_thing_group(thingGroupName="G", thingName="dev-1")
    assert iot.describe_thing(thingName="dev-1")["version"] == 1
    assert iot.describe_thing_group(thingGroupName="G")["version"] == 1
    iot.update_thing(thingName="dev-1")  # no change at all is still an update
    iot.update_thing(thingName="dev-1", expectedVersion=2,
                     attributePayload={"attributes": {"a": "1"}})
    assert iot.describe_thing(thingName="dev-1")["version"] == 3
    assert iot.list_things()["things"][0]["version"] == 3
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.update_thing(thingName="dev-1", expectedVersion=2)
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.delete_thing(thingName="dev-1", expectedVersion=2)
    assert iot.describe_thing(thingName="dev-1")["version"] == 3


def test_update_failures_change_nothing(emu, iot):
    iot.create_thing(thingName="dev-1", attributePayload={"attributes": {"a": "1"}})
    with pytest.raises(iot.exceptions.VersionConflictException) as e:
        iot.update_thing(thingName="dev-1", expectedVersion=7,
                         attributePayload={"attributes": {"a": "2"}})
    assert e.value.response["Error"]["Message"] == \
        "The version for thing dev-1 does not match the expected version."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_thing(thingName="dev-1", attributePayload={"attributes": {"a": "b c"}})
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_thing(thingName="dev-1", thingTypeName="t", removeThingType=True)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing(thingName="ghost", attributePayload={"attributes": {"a": "2"}})
    d = iot.describe_thing(thingName="dev-1")
    assert d["attributes"] == {"a": "1"}
    assert d["version"] == 1
    err = cli_error(emu, "iot", "update-thing", "--thing-name", "dev-1", "--expected-version",
                    "5")
    assert "(VersionConflictException) when calling the UpdateThing operation" in err
    emu.aws("iot", "update-thing", "--thing-name", "dev-1", "--expected-version", "1",
            "--attribute-payload", '{"attributes":{"b":"2"},"merge":true}')
    assert iot.describe_thing(thingName="dev-1")["attributes"] == {"a": "1", "b": "2"}


def test_concurrent_updates_refused_at_check_and_at_store(iot):
    """A write is checked on its HTTP worker and stored on the writer thread
    (docs/architecture.md): among concurrent updates, one refused by its
    check (a bad attribute value) and one refused by the store (a version
    conflict) each get their own AWS error, and every accepted one counts."""
    iot.create_thing(thingName="dev-c")

    def update(i):
        try:
            if i % 3 == 0:
                iot.update_thing(thingName="dev-c", attributePayload={"attributes": {"a": "b c"}})
            elif i % 3 == 1:
                iot.update_thing(thingName="dev-c", expectedVersion=10_000,
                                 attributePayload={"attributes": {"x%d" % i: "v"}})
            else:
                iot.update_thing(thingName="dev-c", attributePayload={
                    "attributes": {"k": str(i)}, "merge": True})
            return "ok"
        except iot.exceptions.InvalidRequestException:
            return "invalid"
        except iot.exceptions.VersionConflictException:
            return "conflict"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(update, range(60)))
    assert results == [("invalid", "conflict", "ok")[i % 3] for i in range(60)]
    d = iot.describe_thing(thingName="dev-c")
    assert d["version"] == 1 + 20
    assert d["attributes"]["k"] in {str(i) for i in range(2, 60, 3)}
    assert set(d["attributes"]) == {"k"}


def test_delete(emu, iot):
    iot.create_thing(thingName="dev-1")
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.delete_thing(thingName="dev-1", expectedVersion=2)
    iot.describe_thing(thingName="dev-1")
    iot.delete_thing(thingName="dev-1", expectedVersion=1)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing(thingName="dev-1")
    # AWS answers success for a thing that does not exist.
    iot.delete_thing(thingName="dev-1")
    emu.aws("iot", "create-thing", "--thing-name", "dev-2")
    emu.aws("iot", "delete-thing", "--thing-name", "dev-2")
    err = cli_error(emu, "iot", "delete-thing", "--thing-name", "bad!")
    assert "(InvalidRequestException) when calling the DeleteThing operation" in err


def test_list_filters(iot):
    iot.create_thing_type(thingTypeName="sensor")
    iot.create_thing(thingName="a1", thingTypeName="sensor",
                     attributePayload={"attributes": {"site": "lab-1"}})
    iot.create_thing(thingName="a2", attributePayload={"attributes": {"site": "lab-12"}})
    iot.create_thing(thingName="a3", attributePayload={"attributes": {"room": "lab-1"}})
    iot.create_thing(thingName="a4")

    def names(**kw):
        return [t["thingName"] for t in iot.list_things(**kw)["things"]]

    assert names() == ["a1", "a2", "a3", "a4"]
    assert names(attributeName="site", attributeValue="lab-1") == ["a1"]
    assert names(attributeName="site", attributeValue="lab-1",
                 usePrefixAttributeValue=True) == ["a1", "a2"]
    assert names(attributeName="site") == ["a1", "a2"]
    assert names(thingTypeName="sensor") == ["a1"]
    t = iot.list_things(thingTypeName="sensor")["things"][0]
    assert t == {"thingName": "a1", "thingTypeName": "sensor", "thingArn": ARN + "a1",
                 "attributes": {"site": "lab-1"}, "version": 1}
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_things(attributeValue="lab-1")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.list_things(maxResults=251)
    assert "maxResults" in e.value.response["Error"]["Message"]


def test_pagination_boto3_and_cli(emu, iot):
    names = ["dev-%02d" % i for i in range(23)]
    for n in reversed(names):
        iot.create_thing(thingName=n)
    page = iot.list_things(maxResults=5)
    assert [t["thingName"] for t in page["things"]] == names[:5]
    token = page["nextToken"]
    assert token.isalnum()
    # A token stays valid when things are added before its position.
    iot.create_thing(thingName="dev-00a")
    page2 = iot.list_things(maxResults=5, nextToken=token)
    assert page2["things"][0]["thingName"] == "dev-05"
    iot.delete_thing(thingName="dev-00a")

    seen = []
    pages = 0
    for p in iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 5}):
        seen += [t["thingName"] for t in p["things"]]
        pages += 1
    assert seen == names
    assert pages == 5
    out = emu.aws_json("iot", "list-things", "--page-size", "4")
    assert [t["thingName"] for t in out["things"]] == names
    out = emu.aws_json("iot", "list-things", "--page-size", "4", "--attribute-name", "x")
    assert out["things"] == []
    # A token is bound to its listing and its filters.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_things(maxResults=5, nextToken=token, thingTypeName="sensor")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_things(nextToken="garbage")


def test_describe_endpoint(emu, iot):
    # The data endpoints are the TLS listener (test_endpoint.py has the rest).
    host = "127.0.0.1:%d" % emu.mqtts_port
    for t in ["iot:Data", "iot:Data-ATS"]:
        assert iot.describe_endpoint(endpointType=t)["endpointAddress"] == host
    assert iot.describe_endpoint()["endpointAddress"] == host
    out = emu.aws_json("iot", "describe-endpoint", "--endpoint-type", "iot:Data-ATS")
    assert out == {"endpointAddress": host}
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.describe_endpoint(endpointType="iot:Nope")
    err = cli_error(emu, "iot", "describe-endpoint", "--endpoint-type", "nope")
    assert "(InvalidRequestException) when calling the DescribeEndpoint operation" in err


@pytest.mark.parametrize("path,body,describe", [
    ("/things/dev-1", "{not json", "describe_thing"),
    # One value and then more: cJSON alone would take the first value.
    ("/things/dev-1", '{"attributePayload":{"attributes":{"a":"1"}}}garbage', "describe_thing"),
    ("/thing-groups/grp-1", '{}{"second":1}', "describe_thing_group"),
    ("/thing-groups/grp-1", '{"thingGroupProperties":{}} ,', "describe_thing_group"),
])
def test_body_that_is_not_one_json_value_is_refused(emu, iot, path, body, describe):
    from conftest import http
    status, headers, text = http("POST", emu.endpoint + path, body)
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "SerializationException"
    assert "not well-formed JSON" in json.loads(text)["message"]
    name = path.rsplit("/", 1)[1]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        getattr(iot, describe)(**{"thingName" if describe == "describe_thing"
                                  else "thingGroupName": name})


def test_malformed_body_is_refused(emu, iot):
    from conftest import http
    status, headers, body = http("POST", emu.endpoint + "/things/dev-1", "[1, 2]")
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidRequestException"
    status, _, _ = http("POST", emu.endpoint + "/things/dev-1",
                        json.dumps({"attributePayload": {"attributes": {"a": 1}}}))
    assert status == 400
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_thing(thingName="dev-1")


def test_writes_are_checkpointed_while_the_server_runs(emulator):
    """Group commits leave the WAL to the writer's checkpointer thread: once
    writes pass 1,000 WAL frames, their pages are copied into the database
    file while the server runs, and the WAL is restarted instead of growing
    with every write (docs/performance.md, "The tail of a write")."""
    iot = emulator.client("iot")
    db = os.path.join(emulator.data_dir, "ddlocal.db")
    before = os.path.getsize(db)
    big = "x" * 800
    for i in range(600):
        iot.create_thing(thingName="cp-%d" % i,
                         attributePayload={"attributes": {"a": big, "b": big, "c": big}})
    assert wait_for(lambda: os.path.getsize(db) > before + 1000000, timeout=10)
    # The writes put about 5,400 frames (22 MB) in the WAL: a WAL never
    # restarted would hold them all. Readers (the broker's engine rereads
    # the registry after each write) may keep a restart waiting a while.
    assert os.path.getsize(db + "-wal") < 16000000
    assert len(all_pages(iot.list_things, "things")[0]) == 600
