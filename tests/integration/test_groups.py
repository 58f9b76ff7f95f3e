# SPDX-License-Identifier: MIT
"""Static thing groups over HTTP with boto3 and the AWS CLI: hierarchies,
describe metadata, updates with versions, deletes, listing (recursive,
prefix, paged), membership by name and ARN, UpdateThingGroupsForThing, the
ten-group and one-group-per-hierarchy rules, and failures as clients see
them."""
import pytest

from conftest import all_pages, cli_error, http

GARN = "arn:aws:iot:us-east-1:123456789012:thinggroup/"
TARN = "arn:aws:iot:us-east-1:123456789012:thing/"


def tree(iot):
    """Fleet > Site > Line, plus a separate root Quarantine."""
    iot.create_thing_group(thingGroupName="Fleet")
    iot.create_thing_group(thingGroupName="Site", parentGroupName="Fleet")
    iot.create_thing_group(thingGroupName="Line", parentGroupName="Site")
    iot.create_thing_group(thingGroupName="Quarantine")


def group_names(page):
    return [g["groupName"] for g in page["thingGroups"]]


def test_create_and_describe(emu, iot):
    now = emu.clock()["now"]
    iot.create_thing_group(thingGroupName="Fleet")
    out = iot.create_thing_group(
        thingGroupName="Quarantine", parentGroupName="Fleet",
        thingGroupProperties={"thingGroupDescription": "isolated devices",
                              "attributePayload": {"attributes": {"reason": "dd"}}},
        tags=[{"Key": "team", "Value": "sec"}])
    assert out["thingGroupName"] == "Quarantine"
    assert out["thingGroupArn"] == GARN + "Quarantine"
    d = iot.describe_thing_group(thingGroupName="Quarantine")
    assert d["thingGroupId"] == out["thingGroupId"]
    assert d["version"] == 1
    assert d["thingGroupProperties"] == {
        "thingGroupDescription": "isolated devices",
        "attributePayload": {"attributes": {"reason": "dd"}}}
    meta = d["thingGroupMetadata"]
    assert meta["parentGroupName"] == "Fleet"
    assert meta["rootToParentThingGroups"] == [{"groupName": "Fleet", "groupArn": GARN + "Fleet"}]
    assert meta["creationDate"].timestamp() == pytest.approx(now, abs=1)
    root = iot.describe_thing_group(thingGroupName="Fleet")["thingGroupMetadata"]
    assert "parentGroupName" not in root
    # The CLI prints the same, epoch seconds as ISO 8601.
    d = emu.aws_json("iot", "describe-thing-group", "--thing-group-name", "Quarantine")
    assert d["thingGroupMetadata"]["parentGroupName"] == "Fleet"
    assert d["thingGroupMetadata"]["creationDate"].endswith("+00:00")


def test_hierarchy_three_deep(iot):
    tree(iot)
    meta = iot.describe_thing_group(thingGroupName="Line")["thingGroupMetadata"]
    assert meta["parentGroupName"] == "Site"
    assert [g["groupName"] for g in meta["rootToParentThingGroups"]] == ["Fleet", "Site"]


def test_create_idempotent_and_conflicts(emu, iot):
    props = {"thingGroupDescription": "d", "attributePayload": {"attributes": {"a": "1"}}}
    first = iot.create_thing_group(thingGroupName="G", thingGroupProperties=props)
    again = iot.create_thing_group(thingGroupName="G", thingGroupProperties=props)
    assert again["thingGroupId"] == first["thingGroupId"]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
        iot.create_thing_group(thingGroupName="G")
    assert e.value.response["resourceId"] == first["thingGroupId"]
    assert e.value.response["resourceArn"] == GARN + "G"
    assert e.value.response["Error"]["Message"] == \
        "Thing Group G already exists in current account with different properties"
    err = cli_error(emu, "iot", "create-thing-group", "--thing-group-name", "G")
    assert "(ResourceAlreadyExistsException) when calling the CreateThingGroup operation" in err
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.create_thing_group(thingGroupName="H", parentGroupName="Missing")
    assert e.value.response["Error"]["Message"] == "ThingGroup Missing cannot be found."
    assert group_names(iot.list_thing_groups()) == ["G"]


@pytest.mark.parametrize("kwargs,field", [
    ({"thingGroupName": "bad name"}, "thingGroupName"),
    ({"thingGroupName": "G", "parentGroupName": "a/b"}, "parentGroupName"),
    ({"thingGroupName": "G", "thingGroupProperties": {"thingGroupDescription": "tab\there"}},
     "thingGroupDescription"),
    ({"thingGroupName": "G", "thingGroupProperties": {
        "attributePayload": {"attributes": {"k": "v v"}}}},
     "thingGroupProperties.attributePayload.attributes"),
])
def test_create_rejects_bad_names(iot, kwargs, field):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_thing_group(**kwargs)
    assert "at '%s'" % field in e.value.response["Error"]["Message"]
    assert iot.list_thing_groups()["thingGroups"] == []


# UpdateThingGroup's attributePayload on {"a": "1", "b": "2"}: the rules of
# UpdateThing (aws-fidelity.md 7.2); None is "no attributePayload".
GROUP_ATTRIBUTE_ROWS = [
    ({"attributes": {"c": "3"}}, {"c": "3"}),
    ({"attributes": {"c": "3", "d": ""}}, {"c": "3"}),
    ({"attributes": {"b": ""}}, None),
    ({"attributes": {}, "merge": False}, None),
    ({}, None),
    ({"attributes": {"b": "9", "c": "3"}, "merge": True}, {"a": "1", "b": "9", "c": "3"}),
    ({"attributes": {"a": ""}, "merge": True}, {"b": "2"}),
    ({"attributes": {"k9": ""}, "merge": True}, {"a": "1", "b": "2"}),
    (None, {"a": "1", "b": "2"}),
]


@pytest.mark.parametrize("payload,want", GROUP_ATTRIBUTE_ROWS)
def test_update_group_attribute_rules(iot, payload, want):
    iot.create_thing_group(thingGroupName="G", thingGroupProperties={
        "thingGroupDescription": "d", "attributePayload": {"attributes": {"a": "1", "b": "2"}}})
    props = {} if payload is None else {"attributePayload": payload}
    assert iot.update_thing_group(thingGroupName="G", thingGroupProperties=props)["version"] == 2
    d = iot.describe_thing_group(thingGroupName="G")
    # A group without attributes has no attributePayload, as on AWS.
    expect = {"thingGroupDescription": "d"}
    if want is not None:
        expect["attributePayload"] = {"attributes": want}
    assert d["thingGroupProperties"] == expect
    assert d["version"] == 2


def test_group_without_attributes(emu, iot):
    iot.create_thing_group(thingGroupName="G")
    assert iot.describe_thing_group(thingGroupName="G")["thingGroupProperties"] == {}
    iot.update_thing_group(thingGroupName="G", thingGroupProperties={
        "attributePayload": {"attributes": {}, "merge": False}})
    d = iot.describe_thing_group(thingGroupName="G")
    assert (d["thingGroupProperties"], d["version"]) == ({}, 2)
    emu.aws("iot", "update-thing-group", "--thing-group-name", "G", "--thing-group-properties",
            '{"attributePayload":{"attributes":{"k":"v"}}}')
    d = emu.aws_json("iot", "describe-thing-group", "--thing-group-name", "G")
    assert d["thingGroupProperties"] == {"attributePayload": {"attributes": {"k": "v"}}}
    assert d["version"] == 3


def test_update_group(emu, iot):
    iot.create_thing_group(thingGroupName="G", thingGroupProperties={
        "thingGroupDescription": "one", "attributePayload": {"attributes": {"a": "1", "b": "2"}}})
    out = iot.update_thing_group(thingGroupName="G", thingGroupProperties={
        "attributePayload": {"attributes": {"a": "", "c": "3"}, "merge": True}})
    assert out["version"] == 2
    d = iot.describe_thing_group(thingGroupName="G")
    assert d["thingGroupProperties"] == {"thingGroupDescription": "one",
                                         "attributePayload": {"attributes": {"b": "2", "c": "3"}}}
    out = iot.update_thing_group(thingGroupName="G", expectedVersion=2, thingGroupProperties={
        "thingGroupDescription": "two", "attributePayload": {"attributes": {"z": "1"}}})
    assert out["version"] == 3
    d = iot.describe_thing_group(thingGroupName="G")
    assert d["thingGroupProperties"]["attributePayload"]["attributes"] == {"z": "1"}
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.update_thing_group(thingGroupName="G", expectedVersion=1,
                               thingGroupProperties={"thingGroupDescription": "x"})
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing_group(thingGroupName="Nope", thingGroupProperties={})
    out = emu.aws_json("iot", "update-thing-group", "--thing-group-name", "G",
                       "--thing-group-properties", '{"thingGroupDescription":"cli"}')
    assert out == {"version": 4}
    err = cli_error(emu, "iot", "update-thing-group", "--thing-group-name", "G",
                    "--thing-group-properties", '{"thingGroupDescription":"x"}',
                    "--expected-version", "1")
    assert "(VersionConflictException) when calling the UpdateThingGroup operation" in err
    assert iot.describe_thing_group(thingGroupName="G")["thingGroupProperties"][
        "thingGroupDescription"] == "cli"


def test_delete_group(emu, iot):
    tree(iot)
    iot.create_thing(thingName="dev-1")
    iot.add_thing_to_thing_group(thingGroupName="Line", thingName="dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.delete_thing_group(thingGroupName="Site")
    assert e.value.response["Error"]["Message"] == \
        "Cannot delete thing group : Site when there are still child groups attached to it."
    err = cli_error(emu, "iot", "delete-thing-group", "--thing-group-name", "Fleet")
    assert "(InvalidRequestException) when calling the DeleteThingGroup operation" in err
    with pytest.raises(iot.exceptions.VersionConflictException):
        iot.delete_thing_group(thingGroupName="Line", expectedVersion=4)
    iot.delete_thing_group(thingGroupName="Line", expectedVersion=1)
    assert iot.list_thing_groups_for_thing(thingName="dev-1")["thingGroups"] == []
    iot.delete_thing_group(thingGroupName="Line")  # missing: success, as the model says
    emu.aws("iot", "delete-thing-group", "--thing-group-name", "Site")
    assert group_names(iot.list_thing_groups()) == ["Fleet", "Quarantine"]


def test_list_groups(emu, iot):
    tree(iot)
    iot.create_thing_group(thingGroupName="Site2", parentGroupName="Fleet")
    assert group_names(iot.list_thing_groups()) == ["Fleet", "Line", "Quarantine", "Site", "Site2"]
    # With a parent: every descendant unless recursive=false (the children).
    # Descendants come level by level, as AWS lists them.
    assert group_names(iot.list_thing_groups(parentGroup="Fleet")) == ["Site", "Site2", "Line"]
    assert group_names(iot.list_thing_groups(parentGroup="Fleet", recursive=False)) == \
        ["Site", "Site2"]
    assert group_names(iot.list_thing_groups(parentGroup="Fleet", recursive=True)) == \
        ["Site", "Site2", "Line"]
    assert group_names(iot.list_thing_groups(parentGroup="Fleet", recursive=True,
                                             namePrefixFilter="Si")) == ["Site", "Site2"]
    assert group_names(iot.list_thing_groups(namePrefixFilter="Q")) == ["Quarantine"]
    assert iot.list_thing_groups()["thingGroups"][0] == {"groupName": "Fleet",
                                                         "groupArn": GARN + "Fleet"}
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_thing_groups(parentGroup="Nope")
    out = emu.aws_json("iot", "list-thing-groups", "--parent-group", "Fleet", "--recursive",
                       "--page-size", "1")
    assert group_names(out) == ["Site", "Site2", "Line"]
    out = emu.aws_json("iot", "list-thing-groups", "--parent-group", "Fleet", "--no-recursive",
                       "--page-size", "1")
    assert group_names(out) == ["Site", "Site2"]
    pages = list(iot.get_paginator("list_thing_groups").paginate(
        PaginationConfig={"PageSize": 2}))
    assert [group_names(p) for p in pages] == [["Fleet", "Line"], ["Quarantine", "Site"],
                                               ["Site2"]]


def big_tree(iot):
    """An eight-group forest: X > X1 > X11 > X111, X > X2, X1 > X12; Y > Y1; Z."""
    for name, parent in [("X", None), ("X1", "X"), ("X2", "X"), ("X11", "X1"), ("X12", "X1"),
                         ("X111", "X11"), ("Y", None), ("Y1", "Y"), ("Z", None)]:
        kw = {"parentGroupName": parent} if parent else {}
        iot.create_thing_group(thingGroupName=name, **kw)


@pytest.mark.parametrize("kwargs,want", [
    ({}, ["X", "X1", "X11", "X111", "X12", "X2", "Y", "Y1", "Z"]),
    ({"recursive": True}, ["X", "X1", "X11", "X111", "X12", "X2", "Y", "Y1", "Z"]),
    ({"recursive": False}, ["X", "Y", "Z"]),
    ({"parentGroup": "X"}, ["X1", "X2", "X11", "X12", "X111"]),
    ({"parentGroup": "X", "recursive": True}, ["X1", "X2", "X11", "X12", "X111"]),
    ({"parentGroup": "X", "recursive": False}, ["X1", "X2"]),
    ({"parentGroup": "X1", "recursive": False}, ["X11", "X12"]),
    ({"parentGroup": "X111"}, []),
    ({"namePrefixFilter": "X1"}, ["X1", "X11", "X111", "X12"]),
    ({"namePrefixFilter": "X1", "recursive": False}, []),
    ({"namePrefixFilter": "Y", "recursive": False}, ["Y"]),
    ({"parentGroup": "X", "namePrefixFilter": "X11"}, ["X11", "X111"]),
    ({"parentGroup": "X", "namePrefixFilter": "X1", "recursive": False}, ["X1"]),
    ({"parentGroup": "Y", "namePrefixFilter": "X"}, []),
])
def test_list_groups_matrix(iot, kwargs, want):
    big_tree(iot)
    items, _ = all_pages(iot.list_thing_groups, "thingGroups", maxResults=2, **kwargs)
    assert [g["groupName"] for g in items] == want


def test_list_groups_cli_flags(emu, iot):
    big_tree(iot)
    out = emu.aws_json("iot", "list-thing-groups", "--no-recursive")
    assert group_names(out) == ["X", "Y", "Z"]
    out = emu.aws_json("iot", "list-thing-groups", "--parent-group", "X1", "--page-size", "1")
    assert group_names(out) == ["X11", "X12", "X111"]
    out = emu.aws_json("iot", "list-thing-groups", "--parent-group", "X1", "--no-recursive",
                       "--name-prefix-filter", "X12")
    assert group_names(out) == ["X12"]
    err = cli_error(emu, "iot", "list-thing-groups", "--parent-group", "Nope", "--no-recursive")
    assert "(ResourceNotFoundException) when calling the ListThingGroups operation" in err
    status, headers, _ = http("GET", emu.endpoint + "/thing-groups?recursive=maybe")
    assert (status, headers["x-amzn-ErrorType"]) == (400, "InvalidRequestException")


def test_groups_for_thing_and_things_in_group(emu, iot):
    big_tree(iot)
    for n in ["a", "b", "c"]:
        iot.create_thing(thingName=n)
    iot.add_thing_to_thing_group(thingGroupName="X", thingName="a")
    iot.add_thing_to_thing_group(thingGroupName="X111", thingName="b")
    iot.add_thing_to_thing_group(thingGroupName="Y1", thingName="b")
    iot.add_thing_to_thing_group(thingGroupName="X2", thingName="c")
    # ListThingsInThingGroup: the group's own things unless recursive.
    assert iot.list_things_in_thing_group(thingGroupName="X")["things"] == ["a"]
    assert iot.list_things_in_thing_group(thingGroupName="X", recursive=False)["things"] == ["a"]
    assert iot.list_things_in_thing_group(thingGroupName="X", recursive=True)["things"] == \
        ["a", "b", "c"]
    assert iot.list_things_in_thing_group(thingGroupName="X1", recursive=True)["things"] == ["b"]
    out = emu.aws_json("iot", "list-things-in-thing-group", "--thing-group-name", "X",
                       "--no-recursive")
    assert out["things"] == ["a"]
    # ListThingGroupsForThing: the groups the thing is directly in.
    assert group_names(iot.list_thing_groups_for_thing(thingName="b")) == ["X111", "Y1"]
    assert group_names(iot.list_thing_groups_for_thing(thingName="a")) == ["X"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_thing_groups_for_thing(thingName="ghost")


def test_membership_and_recursive_listing(emu, iot):
    tree(iot)
    for n in ["t-root", "t-site", "t-line", "t-q"]:
        iot.create_thing(thingName=n)
    iot.add_thing_to_thing_group(thingGroupName="Fleet", thingName="t-root")
    iot.add_thing_to_thing_group(thingGroupArn=GARN + "Site", thingArn=TARN + "t-site")
    emu.aws("iot", "add-thing-to-thing-group", "--thing-group-name", "Line", "--thing-name",
            "t-line")
    iot.add_thing_to_thing_group(thingGroupName="Quarantine", thingName="t-line")
    iot.add_thing_to_thing_group(thingGroupName="Quarantine", thingName="t-line")  # no-op
    iot.add_thing_to_thing_group(thingGroupName="Quarantine", thingName="t-q")

    def things(group, **kw):
        return iot.list_things_in_thing_group(thingGroupName=group, **kw)["things"]

    assert things("Fleet") == ["t-root"]
    assert things("Fleet", recursive=True) == ["t-line", "t-root", "t-site"]
    assert things("Site", recursive=True) == ["t-line", "t-site"]
    assert things("Quarantine") == ["t-line", "t-q"]
    out = emu.aws_json("iot", "list-things-in-thing-group", "--thing-group-name", "Fleet",
                       "--recursive", "--page-size", "1")
    assert out["things"] == ["t-line", "t-root", "t-site"]
    pages = list(iot.get_paginator("list_things_in_thing_group").paginate(
        thingGroupName="Fleet", recursive=True, PaginationConfig={"PageSize": 2}))
    assert [p["things"] for p in pages] == [["t-line", "t-root"], ["t-site"]]
    assert group_names(iot.list_thing_groups_for_thing(thingName="t-line")) == \
        ["Line", "Quarantine"]
    out = emu.aws_json("iot", "list-thing-groups-for-thing", "--thing-name", "t-line",
                       "--page-size", "1")
    assert group_names(out) == ["Line", "Quarantine"]

    iot.remove_thing_from_thing_group(thingGroupName="Quarantine", thingName="t-line")
    emu.aws("iot", "remove-thing-from-thing-group", "--thing-group-arn", GARN + "Quarantine",
            "--thing-arn", TARN + "t-q")
    assert things("Quarantine") == []
    # Deleting a thing takes it out of its groups.
    iot.delete_thing(thingName="t-line")
    assert things("Fleet", recursive=True) == ["t-root", "t-site"]


def test_membership_failures(emu, iot):
    tree(iot)
    iot.create_thing(thingName="dev-1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.add_thing_to_thing_group(thingGroupName="Fleet", thingName="ghost")
    assert e.value.response["Error"]["Message"] == "Thing ghost cannot be found."
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.add_thing_to_thing_group(thingGroupName="Nope", thingName="dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_thing_group(thingName="dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_thing_group(thingGroupArn=TARN + "dev-1", thingName="dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.add_thing_to_thing_group(thingGroupName="bad name", thingName="dev-1")
    assert "at 'thingGroupName'" in e.value.response["Error"]["Message"]
    err = cli_error(emu, "iot", "add-thing-to-thing-group", "--thing-group-name", "Nope",
                    "--thing-name", "dev-1")
    assert "(ResourceNotFoundException) when calling the AddThingToThingGroup operation: " \
        "ThingGroup Nope cannot be found." in err
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_things_in_thing_group(thingGroupName="Nope")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_thing_groups_for_thing(thingName="ghost")

    # One group per hierarchy: Line and Fleet share the root Fleet.
    iot.add_thing_to_thing_group(thingGroupName="Line", thingName="dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.add_thing_to_thing_group(thingGroupName="Fleet", thingName="dev-1")
    assert "same hierarchy" in e.value.response["Error"]["Message"]
    iot.create_thing_group(thingGroupName="Site2", parentGroupName="Fleet")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.add_thing_to_thing_group(thingGroupName="Site2", thingName="dev-1")
    assert group_names(iot.list_thing_groups_for_thing(thingName="dev-1")) == ["Line"]


def test_at_most_ten_groups(iot):
    iot.create_thing(thingName="dev-1")
    for i in range(11):
        iot.create_thing_group(thingGroupName="g%02d" % i)
    for i in range(10):
        iot.add_thing_to_thing_group(thingGroupName="g%02d" % i, thingName="dev-1")
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.add_thing_to_thing_group(thingGroupName="g10", thingName="dev-1")
    assert "at most 10" in e.value.response["Error"]["Message"]
    # Removing one in the same request makes room.
    iot.update_thing_groups_for_thing(thingName="dev-1", thingGroupsToAdd=["g10"],
                                      thingGroupsToRemove=["g00"])
    assert len(iot.list_thing_groups_for_thing(thingName="dev-1")["thingGroups"]) == 10


def test_update_thing_groups_for_thing_moves_in_one_transaction(emu, iot):
    tree(iot)
    iot.create_thing_group(thingGroupName="Site2", parentGroupName="Fleet")
    iot.create_thing(thingName="dev-1")
    iot.add_thing_to_thing_group(thingGroupName="Line", thingName="dev-1")
    # Move Line -> Site2 (same hierarchy) and join Quarantine, all at once.
    iot.update_thing_groups_for_thing(thingName="dev-1", thingGroupsToAdd=["Site2", "Quarantine"],
                                      thingGroupsToRemove=["Line"])
    assert group_names(iot.list_thing_groups_for_thing(thingName="dev-1")) == \
        ["Quarantine", "Site2"]
    # A failing request changes nothing: the removal is undone with it.
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing_groups_for_thing(thingName="dev-1", thingGroupsToAdd=["Nope"],
                                          thingGroupsToRemove=["Quarantine"])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_thing_groups_for_thing(thingName="dev-1", thingGroupsToAdd=["Line"],
                                          thingGroupsToRemove=["Quarantine"])
    assert group_names(iot.list_thing_groups_for_thing(thingName="dev-1")) == \
        ["Quarantine", "Site2"]
    emu.aws("iot", "update-thing-groups-for-thing", "--thing-name", "dev-1",
            "--thing-groups-to-add", "Line", "--thing-groups-to-remove", "Site2", "Quarantine")
    assert group_names(iot.list_thing_groups_for_thing(thingName="dev-1")) == ["Line"]
    err = cli_error(emu, "iot", "update-thing-groups-for-thing", "--thing-name", "dev-1",
                    "--thing-groups-to-add", "bad name")
    assert "(InvalidRequestException) when calling the UpdateThingGroupsForThing " \
        "operation" in err
    assert "at 'thingGroupsToAdd'" in err
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_thing_groups_for_thing(thingName="ghost", thingGroupsToAdd=["Line"])
