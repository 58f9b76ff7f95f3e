# SPDX-License-Identifier: MIT
"""AWS IoT role aliases with boto3 and the AWS CLI: create (with tags),
describe, update, delete, list with marker paging in both orders, the
model's bounds (credentialDurationSeconds 900-43200, the alias pattern, the
role ARN length) and AWS's errors."""
import pytest

from conftest import cli_error

PREFIX = "arn:aws:iot:us-east-1:123456789012:rolealias/"
ROLE = "arn:aws:iam::123456789012:role/DeviceRole"


def test_role_alias_lifecycle(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_role_alias(roleAlias="cam-alias", roleArn=ROLE,
                                tags=[{"Key": "team", "Value": "lab"}])
    assert out == {"roleAlias": "cam-alias", "roleAliasArn": PREFIX + "cam-alias",
                   "ResponseMetadata": out["ResponseMetadata"]}
    d = iot.describe_role_alias(roleAlias="cam-alias")["roleAliasDescription"]
    assert d["roleArn"] == ROLE
    assert d["roleAliasArn"] == PREFIX + "cam-alias"
    assert d["owner"] == "123456789012"
    assert d["credentialDurationSeconds"] == 3600  # AWS's default
    assert abs(d["creationDate"].timestamp() - now) < 5
    tags = iot.list_tags_for_resource(resourceArn=PREFIX + "cam-alias")["tags"]
    assert tags == [{"Key": "team", "Value": "lab"}]

    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_role_alias(roleAlias="cam-alias", roleArn=ROLE)

    emu.advance(60)
    up = iot.update_role_alias(roleAlias="cam-alias", credentialDurationSeconds=900)
    assert up["roleAliasArn"] == PREFIX + "cam-alias"
    d = iot.describe_role_alias(roleAlias="cam-alias")["roleAliasDescription"]
    assert (d["roleArn"], d["credentialDurationSeconds"]) == (ROLE, 900)
    assert d["lastModifiedDate"] > d["creationDate"]
    other = ROLE + "2"
    iot.update_role_alias(roleAlias="cam-alias", roleArn=other)
    d = iot.describe_role_alias(roleAlias="cam-alias")["roleAliasDescription"]
    assert (d["roleArn"], d["credentialDurationSeconds"]) == (other, 900)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_role_alias(roleAlias="nope", roleArn=ROLE)

    iot.delete_role_alias(roleAlias="cam-alias")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_role_alias(roleAlias="cam-alias")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_role_alias(roleAlias="cam-alias")
    # Its tags went with it: a new alias of that name starts bare.
    iot.create_role_alias(roleAlias="cam-alias", roleArn=ROLE)
    assert iot.list_tags_for_resource(resourceArn=PREFIX + "cam-alias")["tags"] == []


@pytest.mark.parametrize("kwargs, words", [
    ({"roleAlias": "a", "roleArn": ROLE, "credentialDurationSeconds": 899},
     "greater than or equal to 900"),
    ({"roleAlias": "a", "roleArn": ROLE, "credentialDurationSeconds": 43201},
     "less than or equal to 43200"),
    ({"roleAlias": "bad.name", "roleArn": ROLE}, "roleAlias"),
    ({"roleAlias": "a" * 129, "roleArn": ROLE}, "roleAlias"),
    ({"roleAlias": "a", "roleArn": "arn:short"}, "roleArn"),
])
def test_create_validation(emu, iot, kwargs, words):
    raw = emu.client("iot", parameter_validation=False)  # the server's checks, not boto3's
    with pytest.raises(raw.exceptions.InvalidRequestException) as e:
        raw.create_role_alias(**kwargs)
    assert words in str(e.value)
    assert iot.list_role_aliases()["roleAliases"] == []


def test_list_paging_and_order(iot):
    for n in ("b", "d", "a", "c", "e"):
        iot.create_role_alias(roleAlias=n, roleArn=ROLE)
    for asc, want in ((True, list("abcde")), (False, list("edcba"))):
        got, marker = [], None
        while True:
            kw = {"pageSize": 2, "ascendingOrder": asc}
            if marker:
                kw["marker"] = marker
            page = iot.list_role_aliases(**kw)
            got += page["roleAliases"]
            marker = page.get("nextMarker")
            if not marker:
                break
        assert got == want
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_role_aliases(marker="not-a-marker")


def test_role_alias_cli(emu, iot):
    out = emu.aws_json("iot", "create-role-alias", "--role-alias", "gw", "--role-arn", ROLE,
                       "--credential-duration-seconds", "7200")
    assert out == {"roleAlias": "gw", "roleAliasArn": PREFIX + "gw"}
    d = emu.aws_json("iot", "describe-role-alias", "--role-alias", "gw")["roleAliasDescription"]
    assert d["credentialDurationSeconds"] == 7200
    assert emu.aws_json("iot", "list-role-aliases")["roleAliases"] == ["gw"]
    err = cli_error(emu, "iot", "describe-role-alias", "--role-alias", "nope")
    assert "(ResourceNotFoundException)" in err
    err = cli_error(emu, "iot", "create-role-alias", "--role-alias", "gw", "--role-arn", ROLE)
    assert "(ResourceAlreadyExistsException)" in err
    emu.aws("iot", "delete-role-alias", "--role-alias", "gw")
    assert emu.aws_json("iot", "list-role-aliases")["roleAliases"] == []
