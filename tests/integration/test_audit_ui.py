# SPDX-License-Identifier: MIT
"""The emulator's view behind the dashboard's Audit page:
GET /_ddlocal/audit/checks lists every check AWS has, with its severity,
the type of resource it finds and its rule in plain words, and agrees
with what the AWS API reports."""
import json

from conftest import http, wait_for

OPEN = json.dumps({"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def checks(emu):
    status, headers, body = http("GET", emu.endpoint + "/_ddlocal/audit/checks")
    assert status == 200, body
    assert headers["Content-Type"].startswith("application/json")
    return {c["checkName"]: c for c in json.loads(body)["checks"]}


def test_checks_match_the_aws_api(emu, iot):
    table = checks(emu)
    configured = iot.describe_account_audit_configuration()["auditCheckConfigurations"]
    assert sorted(table) == sorted(configured)
    for c in table.values():
        assert c["severity"] in ("CRITICAL", "HIGH", "MEDIUM", "LOW")
        assert len(c["words"]) > 20 and c["words"].endswith(".")
    assert table["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["resourceType"] == "IOT_POLICY"
    assert "other devices" in table["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["words"]
    assert table["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["resourceType"] == "DEVICE_CERTIFICATE"

    # A real finding has the severity and resource type the view shows.
    iot.update_account_audit_configuration(
        roleArn="arn:aws:iam::123456789012:role/AuditRole",
        auditCheckConfigurations={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": {"enabled": True}})
    iot.create_policy(policyName="open", policyDocument=OPEN)
    task_id = iot.start_on_demand_audit_task(
        targetCheckNames=["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"])["taskId"]
    assert wait_for(lambda: iot.describe_audit_task(taskId=task_id)["taskStatus"] == "COMPLETED")
    f = iot.list_audit_findings(taskId=task_id)["findings"][0]
    row = table[f["checkName"]]
    assert (row["severity"], row["resourceType"]) == (
        f["severity"], f["nonCompliantResource"]["resourceType"])


def test_checks_errors(emu, iot):
    status, headers, body = http("DELETE", emu.endpoint + "/_ddlocal/audit/checks")
    assert status in (404, 405), body
    assert headers["x-amzn-ErrorType"]
    status, _, _ = http("GET", emu.endpoint + "/_ddlocal/audit/checks/x")
    assert status == 404
