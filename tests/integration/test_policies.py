# SPDX-License-Identifier: MIT
"""IoT policies over HTTP with boto3 and the AWS CLI: create/get/list/delete,
versions and their limit, attachments to thing groups and certificates,
recursive ListAttachedPolicies on nested groups, GetEffectivePolicies for a
thing in a nested group, marker pagination, and every failure as the
clients report it (boto3 exception class; CLI exit 254 and its stderr)."""
import json

import pytest

from conftest import cli_error

PREFIX = "arn:aws:iot:us-east-1:123456789012:"
GARN = PREFIX + "thinggroup/"
CERT = "0123456789abcdef" * 4
CARN = PREFIX + "cert/" + CERT
ALLOW = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
DENY = json.dumps({"Version": "2012-10-17",
                   "Statement": [{"Effect": "Deny", "Action": "iot:*", "Resource": "*"}]})


def nested(iot):
    """Fleet > Site > Line with thing dev-1 in Line, and Other with dev-2."""
    iot.create_thing_group(thingGroupName="Fleet")
    iot.create_thing_group(thingGroupName="Site", parentGroupName="Fleet")
    iot.create_thing_group(thingGroupName="Line", parentGroupName="Site")
    iot.create_thing_group(thingGroupName="Other")
    iot.create_thing(thingName="dev-1")
    iot.create_thing(thingName="dev-2")
    iot.add_thing_to_thing_group(thingGroupName="Line", thingName="dev-1")
    iot.add_thing_to_thing_group(thingGroupName="Other", thingName="dev-2")


def names(policies):
    return [p["policyName"] for p in policies]


def test_create_get_delete_with_boto3(emu, iot):
    now = emu.clock()["now"]
    out = iot.create_policy(policyName="Quarantine.v1", policyDocument=DENY)
    assert out["policyName"] == "Quarantine.v1"
    assert out["policyArn"] == PREFIX + "policy/Quarantine.v1"
    assert out["policyDocument"] == DENY
    assert out["policyVersionId"] == "1"
    got = iot.get_policy(policyName="Quarantine.v1")
    assert got["policyDocument"] == DENY
    assert got["defaultVersionId"] == "1"
    assert got["generationId"]
    assert abs(got["creationDate"].timestamp() - now) < 5
    assert got["lastModifiedDate"] == got["creationDate"]
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_policy(policyName="Quarantine.v1", policyDocument=ALLOW)
    assert iot.get_policy(policyName="Quarantine.v1")["policyDocument"] == DENY
    iot.delete_policy(policyName="Quarantine.v1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_policy(policyName="Quarantine.v1")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_policy(policyName="Quarantine.v1")


def test_create_get_delete_with_cli(emu, iot):
    out = emu.aws_json("iot", "create-policy", "--policy-name", "Q", "--policy-document", DENY)
    assert out["policyVersionId"] == "1"
    got = emu.aws_json("iot", "get-policy", "--policy-name", "Q")
    assert got["policyArn"] == PREFIX + "policy/Q"
    assert got["creationDate"].endswith("+00:00")
    err = cli_error(emu, "iot", "create-policy", "--policy-name", "Q", "--policy-document", DENY)
    assert "An error occurred (ResourceAlreadyExistsException) when calling the CreatePolicy " \
        "operation: Policy cannot be created - name already exists (name=Q)" in err
    emu.aws("iot", "delete-policy", "--policy-name", "Q")
    err = cli_error(emu, "iot", "get-policy", "--policy-name", "Q")
    assert "(ResourceNotFoundException) when calling the GetPolicy operation" in err


def test_action_with_a_space_accepted_as_aws_does(emu, iot):
    # AWS created "iot: *" in moto issue #1908's scenario; it is kept as written.
    doc = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
           '"Action": ["iot: *"], "Resource": "*"}]}')
    out = iot.create_policy(policyName="spaced", policyDocument=doc)
    assert out["policyVersionId"] == "1"
    assert iot.get_policy(policyName="spaced")["policyDocument"] == doc
    cli = emu.aws_json("iot", "create-policy", "--policy-name", "spaced-cli",
                       "--policy-document", doc)
    assert cli["policyArn"] == PREFIX + "policy/spaced-cli"
    # Spaces alone are no action name, and a document that is not JSON stays refused.
    for bad, fragment in [(doc.replace("iot: *", "iot:  "), "is not an action name"),
                          ("doc", "not valid JSON")]:
        with pytest.raises(iot.exceptions.MalformedPolicyException) as e:
            iot.create_policy(policyName="bad", policyDocument=bad)
        assert fragment in e.value.response["Error"]["Message"]
        err = cli_error(emu, "iot", "create-policy", "--policy-name", "bad",
                        "--policy-document", bad)
        assert "(MalformedPolicyException) when calling the CreatePolicy operation" in err
    assert sorted(p["policyName"] for p in iot.list_policies()["policies"]) == [
        "spaced", "spaced-cli"]


@pytest.mark.parametrize("doc,fragment", [
    ("{not json", "JSON"),
    ("[]", ""),
    (json.dumps({"Version": "2012-10-17"}), "Statement"),
    (json.dumps({"Version": "2012-10-17",
                 "Statement": [{"Effect": "Maybe", "Action": "iot:*", "Resource": "*"}]}),
     "Effect"),
    (json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:Publish", "Resource": "x" * 2100}]}), ""),
])
def test_malformed_policy_rejected_and_nothing_stored(emu, iot, doc, fragment):
    with pytest.raises(iot.exceptions.MalformedPolicyException) as e:
        iot.create_policy(policyName="bad", policyDocument=doc)
    assert fragment in e.value.response["Error"]["Message"]
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert iot.list_policies()["policies"] == []
    err = cli_error(emu, "iot", "create-policy", "--policy-name", "bad", "--policy-document", doc)
    assert "(MalformedPolicyException) when calling the CreatePolicy operation" in err
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_policy(policyName="bad")


@pytest.mark.parametrize("name", ["bad name", "a/b", "x" * 129, "caf\u00e9"])
def test_bad_policy_names(emu, iot, name):
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.create_policy(policyName=name, policyDocument=ALLOW)
    assert "policyName" in e.value.response["Error"]["Message"]
    err = cli_error(emu, "iot", "get-policy", "--policy-name", name)
    assert "(InvalidRequestException)" in err and "policyName" in err


def test_versions(emu, iot):
    iot.create_policy(policyName="P", policyDocument=ALLOW)
    v2 = iot.create_policy_version(policyName="P", policyDocument=DENY)
    assert v2["policyVersionId"] == "2"
    assert v2["isDefaultVersion"] is False
    assert iot.get_policy(policyName="P")["policyDocument"] == ALLOW
    gen1 = iot.get_policy(policyName="P")["generationId"]
    v3 = emu.aws_json("iot", "create-policy-version", "--policy-name", "P",
                      "--policy-document", DENY, "--set-as-default")
    assert v3["policyVersionId"] == "3" and v3["isDefaultVersion"] is True
    p = iot.get_policy(policyName="P")
    assert p["defaultVersionId"] == "3"
    assert p["policyDocument"] == DENY
    assert p["generationId"] != gen1
    for _ in range(2):
        iot.create_policy_version(policyName="P", policyDocument=ALLOW)
    # A sixth version is refused with the model's own exception (409).
    with pytest.raises(iot.exceptions.VersionsLimitExceededException) as e:
        iot.create_policy_version(policyName="P", policyDocument=ALLOW)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    err = cli_error(emu, "iot", "create-policy-version", "--policy-name", "P",
                    "--policy-document", ALLOW)
    assert "(VersionsLimitExceededException) when calling the CreatePolicyVersion" in err
    with pytest.raises(iot.exceptions.MalformedPolicyException):
        iot.create_policy_version(policyName="P", policyDocument="{")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.create_policy_version(policyName="nope", policyDocument=ALLOW)

    listed = iot.list_policy_versions(policyName="P")["policyVersions"]
    assert [v["versionId"] for v in listed] == ["5", "4", "3", "2", "1"]
    assert [v["isDefaultVersion"] for v in listed] == [False, False, True, False, False]
    got = iot.get_policy_version(policyName="P", policyVersionId="2")
    assert got["policyDocument"] == DENY
    assert got["policyName"] == "P"
    assert got["isDefaultVersion"] is False
    assert got["creationDate"]
    got = emu.aws_json("iot", "get-policy-version", "--policy-name", "P",
                       "--policy-version-id", "3")
    assert got["isDefaultVersion"] is True

    # The default cannot be deleted; another can, and its id is not reused.
    with pytest.raises(iot.exceptions.DeleteConflictException):
        iot.delete_policy_version(policyName="P", policyVersionId="3")
    err = cli_error(emu, "iot", "delete-policy-version", "--policy-name", "P",
                    "--policy-version-id", "3")
    assert "(DeleteConflictException) when calling the DeletePolicyVersion" in err
    emu.aws("iot", "delete-policy-version", "--policy-name", "P", "--policy-version-id", "5")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_policy_version(policyName="P", policyVersionId="5")
    assert iot.create_policy_version(policyName="P", policyDocument=ALLOW)["policyVersionId"] == "6"

    iot.set_default_policy_version(policyName="P", policyVersionId="1")
    emu.aws("iot", "set-default-policy-version", "--policy-name", "P", "--policy-version-id", "1")
    assert iot.get_policy(policyName="P")["defaultVersionId"] == "1"
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.set_default_policy_version(policyName="P", policyVersionId="42")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.get_policy_version(policyName="P", policyVersionId="x1")

    # DeletePolicy is refused while versions besides the default remain.
    with pytest.raises(iot.exceptions.DeleteConflictException) as e:
        iot.delete_policy(policyName="P")
    assert "versions" in e.value.response["Error"]["Message"]
    for v in ("2", "3", "4", "6"):
        iot.delete_policy_version(policyName="P", policyVersionId=v)
    iot.delete_policy(policyName="P")


def test_list_policies_pages_with_small_page_size(emu, iot):
    created = ["pol-%02d" % i for i in range(7)]
    for name in created:
        iot.create_policy(policyName=name, policyDocument=ALLOW)
    page = iot.list_policies(pageSize=3, ascendingOrder=True)
    assert names(page["policies"]) == created[:3]
    page = iot.list_policies(pageSize=3, ascendingOrder=True, marker=page["nextMarker"])
    assert names(page["policies"]) == created[3:6]
    page = iot.list_policies(pageSize=3, ascendingOrder=True, marker=page["nextMarker"])
    assert names(page["policies"]) == created[6:]
    assert "nextMarker" not in page
    # Newest first without ascendingOrder. For this operation --page-size is
    # the model's own pageSize, so giving it turns the CLI's automatic paging
    # off: it prints one page and nextMarker, and --marker continues.
    out = emu.aws_json("iot", "list-policies", "--page-size", "4")
    assert names(out["policies"]) == created[:2:-1]
    out = emu.aws_json("iot", "list-policies", "--page-size", "4", "--marker", out["nextMarker"])
    assert names(out["policies"]) == created[2::-1]
    assert "nextMarker" not in out
    out = emu.aws_json("iot", "list-policies", "--ascending-order")
    assert names(out["policies"]) == created
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_policies(marker="AAAA")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_policies(pageSize=251)
    err = cli_error(emu, "iot", "list-policies", "--page-size", "500")
    assert "pageSize" in err


def test_attach_detach_and_delete_refused_while_attached(emu, iot):
    nested(iot)
    iot.create_policy(policyName="Q", policyDocument=DENY)
    iot.attach_policy(policyName="Q", target=GARN + "Line")
    emu.aws("iot", "attach-policy", "--policy-name", "Q", "--target", CARN)
    iot.attach_policy(policyName="Q", target=GARN + "Line")  # again: no change
    out = emu.aws_json("iot", "list-targets-for-policy", "--policy-name", "Q")
    assert out["targets"] == [CARN, GARN + "Line"]

    with pytest.raises(iot.exceptions.DeleteConflictException):
        iot.delete_policy(policyName="Q")
    err = cli_error(emu, "iot", "delete-policy", "--policy-name", "Q")
    assert "(DeleteConflictException) when calling the DeletePolicy operation" in err
    assert "attached" in err

    iot.detach_policy(policyName="Q", target=GARN + "Line")
    emu.aws("iot", "detach-policy", "--policy-name", "Q", "--target", CARN)
    iot.detach_policy(policyName="Q", target=CARN)  # not attached: fine
    assert iot.list_targets_for_policy(policyName="Q")["targets"] == []
    iot.delete_policy(policyName="Q")


def test_principal_policy_operations(emu, iot):
    # The deprecated AttachPrincipalPolicy, ListPrincipalPolicies and
    # DetachPrincipalPolicy: the principal travels in a header.
    iot.create_policy(policyName="P1", policyDocument=ALLOW)
    iot.create_policy(policyName="P2", policyDocument=DENY)
    cert = iot.create_keys_and_certificate()["certificateArn"]
    iot.attach_principal_policy(policyName="P2", principal=cert)
    emu.aws("iot", "attach-principal-policy", "--policy-name", "P1", "--principal", cert)
    got = iot.list_principal_policies(principal=cert)["policies"]
    assert got == [{"policyName": "P1", "policyArn": PREFIX + "policy/P1"},
                   {"policyName": "P2", "policyArn": PREFIX + "policy/P2"}]
    # The same attachments as AttachPolicy's.
    assert iot.list_targets_for_policy(policyName="P1")["targets"] == [cert]
    assert names(iot.list_attached_policies(target=cert)["policies"]) == ["P1", "P2"]
    page = iot.list_principal_policies(principal=cert, pageSize=1)
    assert names(page["policies"]) == ["P1"]
    page = iot.list_principal_policies(principal=cert, pageSize=1, marker=page["nextMarker"])
    assert names(page["policies"]) == ["P2"] and "nextMarker" not in page
    out = emu.aws_json("iot", "list-principal-policies", "--principal", cert)
    assert names(out["policies"]) == ["P1", "P2"]
    # ListPolicyPrincipals: the certificates only, not the thing groups.
    nested(iot)
    iot.attach_policy(policyName="P1", target=GARN + "Line")
    cert2 = iot.create_keys_and_certificate()["certificateArn"]
    iot.attach_principal_policy(policyName="P1", principal=cert2)
    assert sorted(iot.list_policy_principals(policyName="P1")["principals"]) == sorted(
        [cert, cert2])
    page = iot.list_policy_principals(policyName="P1", pageSize=1)
    assert len(page["principals"]) == 1
    page2 = iot.list_policy_principals(policyName="P1", pageSize=1, marker=page["nextMarker"])
    assert sorted(page["principals"] + page2["principals"]) == sorted([cert, cert2])
    assert "nextMarker" not in page2
    out = emu.aws_json("iot", "list-policy-principals", "--policy-name", "P1")
    assert sorted(out["principals"]) == sorted([cert, cert2])
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_policy_principals(policyName="nope")
    iot.detach_policy(policyName="P1", target=GARN + "Line")
    iot.detach_principal_policy(policyName="P1", principal=cert2)

    with pytest.raises(iot.exceptions.DeleteConflictException):
        iot.delete_policy(policyName="P2")
    iot.detach_principal_policy(policyName="P2", principal=cert)
    emu.aws("iot", "detach-principal-policy", "--policy-name", "P1", "--principal", cert)
    assert iot.list_principal_policies(principal=cert)["policies"] == []
    iot.delete_policy(policyName="P2")

    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_principal_policy(policyName="nope", principal=cert)
    for bad in [GARN + "Line", "garbage"]:
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.attach_principal_policy(policyName="P1", principal=bad)
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.list_principal_policies(principal=bad)
    err = cli_error(emu, "iot", "attach-principal-policy", "--policy-name", "P1",
                    "--principal", GARN + "Line")
    assert "(InvalidRequestException) when calling the AttachPrincipalPolicy operation: " \
        "principal must be a certificate ARN" in err
    assert iot.list_principal_policies(principal=cert)["policies"] == []


def test_attach_errors(emu, iot):
    nested(iot)
    iot.create_policy(policyName="Q", policyDocument=DENY)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.attach_policy(policyName="Q", target=GARN + "Ghost")
    assert "Ghost" in e.value.response["Error"]["Message"]
    err = cli_error(emu, "iot", "attach-policy", "--policy-name", "Nope", "--target", GARN + "Line")
    assert "(ResourceNotFoundException) when calling the AttachPolicy operation" in err
    for target in ["not-an-arn", PREFIX + "thing/dev-1", PREFIX + "cert/xyz",
                   "arn:aws:iot:eu-west-1:123456789012:thinggroup/Line"]:
        with pytest.raises(iot.exceptions.InvalidRequestException) as e:
            iot.attach_policy(policyName="Q", target=target)
        assert "target" in e.value.response["Error"]["Message"]
    err = cli_error(emu, "iot", "attach-policy", "--policy-name", "Q", "--target", "nope")
    assert "(InvalidRequestException) when calling the AttachPolicy operation" in err
    assert iot.list_targets_for_policy(policyName="Q")["targets"] == []
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_targets_for_policy(policyName="Nope")


def test_list_attached_policies_recursive_on_nested_groups(emu, iot):
    nested(iot)
    for name, group in [("a-fleet", "Fleet"), ("b-site", "Site"), ("c-line", "Line"),
                        ("d-other", "Other")]:
        iot.create_policy(policyName=name, policyDocument=ALLOW)
        iot.attach_policy(policyName=name, target=GARN + group)
    iot.attach_policy(policyName="a-fleet", target=GARN + "Line")

    direct = iot.list_attached_policies(target=GARN + "Line")
    assert names(direct["policies"]) == ["a-fleet", "c-line"]
    assert direct["policies"][0]["policyArn"] == PREFIX + "policy/a-fleet"
    rec = iot.list_attached_policies(target=GARN + "Line", recursive=True)
    assert names(rec["policies"]) == ["a-fleet", "b-site", "c-line"]
    assert "nextMarker" not in rec
    # The ARN travels in the path with its slashes (as %2F).
    out = emu.aws_json("iot", "list-attached-policies", "--target", GARN + "Line",
                       "--recursive", "--page-size", "1")
    assert names(out["policies"]) == ["a-fleet"]
    out = emu.aws_json("iot", "list-attached-policies", "--target", GARN + "Line",
                       "--recursive", "--page-size", "2", "--marker", out["nextMarker"])
    assert names(out["policies"]) == ["b-site", "c-line"]
    assert "nextMarker" not in out
    page = iot.list_attached_policies(target=GARN + "Line", recursive=True, pageSize=2)
    assert names(page["policies"]) == ["a-fleet", "b-site"]
    page = iot.list_attached_policies(target=GARN + "Line", recursive=True, pageSize=2,
                                      marker=page["nextMarker"])
    assert names(page["policies"]) == ["c-line"]
    assert "nextMarker" not in page
    assert names(iot.list_attached_policies(target=GARN + "Site", recursive=True)["policies"]) \
        == ["a-fleet", "b-site"]
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_attached_policies(target=GARN + "Ghost")
    err = cli_error(emu, "iot", "list-attached-policies", "--target", "bogus")
    assert "(InvalidRequestException) when calling the ListAttachedPolicies operation" in err

    # Deleting a group takes its attachments away.
    iot.delete_thing_group(thingGroupName="Other")
    assert iot.list_targets_for_policy(policyName="d-other")["targets"] == []
    iot.delete_policy(policyName="d-other")


def test_list_targets_pages(emu, iot):
    iot.create_policy(policyName="Q", policyDocument=DENY)
    groups = ["g%d" % i for i in range(5)]
    for g in groups:
        iot.create_thing_group(thingGroupName=g)
        iot.attach_policy(policyName="Q", target=GARN + g)
    page = iot.list_targets_for_policy(policyName="Q", pageSize=2)
    assert page["targets"] == [GARN + g for g in groups[:2]]
    out = emu.aws_json("iot", "list-targets-for-policy", "--policy-name", "Q", "--page-size", "2",
                       "--marker", page["nextMarker"])
    assert out["targets"] == [GARN + g for g in groups[2:4]]
    out = emu.aws_json("iot", "list-targets-for-policy", "--policy-name", "Q", "--page-size", "2",
                       "--marker", out["nextMarker"])
    assert out["targets"] == [GARN + groups[4]]
    assert "nextMarker" not in out
    # Without --page-size the CLI follows markers itself (one page here).
    out = emu.aws_json("iot", "list-targets-for-policy", "--policy-name", "Q")
    assert out["targets"] == [GARN + g for g in groups]


def test_effective_policies_for_a_thing_in_a_nested_group(emu, iot):
    nested(iot)
    for name, group in [("a-fleet", "Fleet"), ("b-site", "Site"), ("c-line", "Line"),
                        ("d-other", "Other")]:
        iot.create_policy(policyName=name, policyDocument=DENY if name == "c-line" else ALLOW)
        iot.attach_policy(policyName=name, target=GARN + group)
    iot.create_policy(policyName="e-cert", policyDocument=ALLOW)
    iot.attach_policy(policyName="e-cert", target=CARN)

    eff = iot.get_effective_policies(thingName="dev-1")["effectivePolicies"]
    assert names(eff) == ["a-fleet", "b-site", "c-line"]
    assert eff[2]["policyDocument"] == DENY
    assert eff[0]["policyArn"] == PREFIX + "policy/a-fleet"
    out = emu.aws_json("iot", "get-effective-policies", "--thing-name", "dev-1",
                       "--principal", CARN)
    assert names(out["effectivePolicies"]) == ["a-fleet", "b-site", "c-line", "e-cert"]
    # A new default version is what takes effect.
    iot.create_policy_version(policyName="a-fleet", policyDocument=DENY, setAsDefault=True)
    eff = iot.get_effective_policies(thingName="dev-1")["effectivePolicies"]
    assert eff[0]["policyDocument"] == DENY
    # Leaving the group takes its policies and its ancestors' away.
    iot.remove_thing_from_thing_group(thingGroupName="Line", thingName="dev-1")
    assert iot.get_effective_policies(thingName="dev-1")["effectivePolicies"] == []

    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.get_effective_policies(thingName="ghost")
    err = cli_error(emu, "iot", "get-effective-policies", "--thing-name", "bad name")
    assert "(InvalidRequestException) when calling the GetEffectivePolicies operation" in err
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.get_effective_policies()
