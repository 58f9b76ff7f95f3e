"""State per account and region: the region of a request's SigV4 scope and
a 12-digit access key choose its partition; ARNs carry both, and one
partition never sees another's things, groups, policies, profiles, shadows
or topics. The broker's partition (--account/--region) is the home one."""
import json
import os

import botocore.exceptions
import pytest

from conftest import http, reset

OTHER_ACCOUNT = "111122223333"


def test_arns_carry_the_region_and_account_of_the_request(emu):
    reset(emu)
    eu = emu.client("iot", region="eu-west-1")
    assert eu.create_thing(thingName="t1")["thingArn"] == \
        "arn:aws:iot:eu-west-1:123456789012:thing/t1"
    other = emu.client("iot", region="eu-west-1", key=OTHER_ACCOUNT)
    assert other.create_thing(thingName="t1")["thingArn"] == \
        "arn:aws:iot:eu-west-1:%s:thing/t1" % OTHER_ACCOUNT
    group = other.create_thing_group(thingGroupName="g")
    assert group["thingGroupArn"] == "arn:aws:iot:eu-west-1:%s:thinggroup/g" % OTHER_ACCOUNT
    sns = emu.client("sns", region="ap-south-1", key=OTHER_ACCOUNT)
    assert sns.create_topic(Name="alerts")["TopicArn"] == \
        "arn:aws:sns:ap-south-1:%s:alerts" % OTHER_ACCOUNT


def test_partitions_do_not_see_each_other(emu):
    reset(emu)
    home = emu.client("iot")
    eu = emu.client("iot", region="eu-west-1")
    other = emu.client("iot", region="eu-west-1", key=OTHER_ACCOUNT)
    eu.create_thing(thingName="only-in-eu")
    other.create_policy(policyName="p", policyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}))
    other.create_security_profile(securityProfileName="sp")
    other.create_thing(thingName="only-in-eu")  # the same name, another account

    assert [t["thingName"] for t in eu.list_things()["things"]] == ["only-in-eu"]
    assert home.list_things()["things"] == []
    with pytest.raises(botocore.exceptions.ClientError) as e:
        home.describe_thing(thingName="only-in-eu")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert [p["policyName"] for p in other.list_policies()["policies"]] == ["p"]
    assert eu.list_policies()["policies"] == []
    assert home.list_policies()["policies"] == []
    assert [p["name"] for p in other.list_security_profiles()["securityProfileIdentifiers"]] \
        == ["sp"]
    assert eu.list_security_profiles()["securityProfileIdentifiers"] == []
    # Deleting in one partition leaves the namesake in the other.
    other.delete_thing(thingName="only-in-eu")
    assert eu.describe_thing(thingName="only-in-eu")["thingName"] == "only-in-eu"


def test_shadows_and_topics_are_per_partition(emu):
    reset(emu)
    doc = json.dumps({"state": {"reported": {"fw": "1.2"}}}).encode()
    emu.client("iot-data", region="eu-west-1").update_thing_shadow(thingName="dev", payload=doc)
    got = json.loads(emu.client("iot-data", region="eu-west-1")
                     .get_thing_shadow(thingName="dev")["payload"].read())
    assert got["state"]["reported"] == {"fw": "1.2"}
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emu.client("iot-data").get_thing_shadow(thingName="dev")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"

    emu.client("sns", region="eu-west-1").create_topic(Name="t")
    assert emu.client("sns").list_topics()["Topics"] == []
    assert [t["TopicArn"] for t in emu.client("sns", region="eu-west-1").list_topics()["Topics"]] \
        == ["arn:aws:sns:eu-west-1:123456789012:t"]


def test_the_cli_region_flag_chooses_the_partition(emu):
    reset(emu)
    out = emu.aws_json("iot", "create-thing", "--thing-name", "cli-thing", "--region", "eu-north-1")
    assert out["thingArn"] == "arn:aws:iot:eu-north-1:123456789012:thing/cli-thing"
    listed = emu.aws_json("iot", "list-things", "--region", "eu-north-1")
    assert [t["thingName"] for t in listed["things"]] == ["cli-thing"]
    assert emu.aws_json("iot", "list-things")["things"] == []
    # An unsigned request is the default partition's.
    unsigned = emu.aws_json("iot", "list-things", "--region", "eu-north-1", "--no-sign-request")
    assert unsigned["things"] == []


def test_health_names_the_brokers_partition_and_reset_empties_all(emu):
    reset(emu)
    emu.client("iot", region="eu-west-1").create_thing(thingName="a")
    emu.client("iot", region="us-west-2", key=OTHER_ACCOUNT).create_thing(thingName="b")
    status, health = emu.get("/_ddlocal/health")
    assert status == 200
    assert (health["account"], health["region"]) == ("123456789012", "us-east-1")
    # The emulator's own paths are the broker's, whatever a request signs.
    status, _, _ = http("GET", emu.endpoint + "/_ddlocal/health", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20261206/eu-west-1/iot/aws4_request, "
                         "SignedHeaders=host, Signature=00" % OTHER_ACCOUNT})
    assert status == 200
    reset(emu)
    assert emu.client("iot", region="eu-west-1").list_things()["things"] == []
    assert emu.client("iot", region="us-west-2", key=OTHER_ACCOUNT).list_things()["things"] == []


def test_a_bad_region_in_the_scope_is_refused(emu):
    status, headers, body = http("GET", emu.endpoint + "/things", headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20261206/EU_WEST/iot/aws4_request, "
                         "SignedHeaders=host, Signature=00"})
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert "EU_WEST" in json.loads(body)["message"]


def test_partitions_survive_a_restart(make_emulator, tmp_path):
    data = tmp_path / "keep"
    emu = make_emulator("--manual-clock", data_dir=data).start()
    emu.client("iot", region="eu-west-1", key=OTHER_ACCOUNT).create_thing(thingName="kept")
    emu.stop()
    files = sorted(f for f in os.listdir(data) if f.endswith(".db"))
    assert files == ["ddlocal-%s-eu-west-1.db" % OTHER_ACCOUNT, "ddlocal.db"]
    emu = make_emulator("--manual-clock", data_dir=data).start()
    eu = emu.client("iot", region="eu-west-1", key=OTHER_ACCOUNT)
    assert [t["thingName"] for t in eu.list_things()["things"]] == ["kept"]
    # A reset after the restart reaches the partition found on disk.
    reset(emu)
    assert eu.list_things()["things"] == []


def test_the_number_of_partitions_is_bounded(make_emulator):
    emu = make_emulator("--manual-clock").start()
    # The home partition and 63 others fill the registry.
    for i in range(63):
        emu.client("iot", region="test-%d" % i).list_things()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        emu.client("iot", region="test-63").list_things()
    assert e.value.response["Error"]["Code"] == "LimitExceededException"
    assert "at most 64" in e.value.response["Error"]["Message"]
    # The partitions that exist keep working.
    assert emu.client("iot", region="test-5").list_things()["things"] == []
