# SPDX-License-Identifier: MIT
"""The dashboard's Audit page in headless Chromium: an audit that finds an
over-permissive policy and clean logging, one finding suppressed; the page
shows the task with its counts, each check's verdict, each finding with
its resource and its rule in plain words, and the suppression; a second
task appears on top and can be selected. The screenshot lands in
build/e2e/audit.png."""
import json
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHOT = os.path.join(ROOT, "build", "e2e", "audit.png")
ROLE = "arn:aws:iam::123456789012:role/AuditRole"
OPEN = json.dumps({"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
CHECKS = ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK"]


def text_of(selector):
    return "Array.from(document.querySelectorAll(%s)).map(e => e.textContent).join('\\n')" % (
        json.dumps(selector))


def audit(iot):
    task_id = iot.start_on_demand_audit_task(targetCheckNames=CHECKS)["taskId"]
    for _ in range(500):
        if iot.describe_audit_task(taskId=task_id)["taskStatus"] == "COMPLETED":
            return task_id
    raise AssertionError("the audit did not finish")


def test_audit_page(emulator, browser):
    iot = emulator.client("iot")
    iot.update_account_audit_configuration(
        roleArn=ROLE, auditCheckConfigurations={c: {"enabled": True} for c in CHECKS})
    iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="INFO")
    iot.create_policy(policyName="open", policyDocument=OPEN)
    iot.create_policy(policyName="open-too", policyDocument=OPEN)
    iot.create_audit_suppression(
        checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        resourceIdentifier={"policyVersionIdentifier": {"policyName": "open-too",
                                                        "policyVersionId": "1"}},
        suppressIndefinitely=True, description="a known lab policy", clientRequestToken="t1")
    first = audit(iot)

    browser.goto(emulator.endpoint + "/_ddlocal/ui/")
    browser.wait_for("!!document.querySelector('tr.audit-task-row.selected[data-task=\"%s\"]')"
                     % first, what="the audit task, selected")
    row = browser.evaluate(text_of("tr.audit-task-row.selected"))
    assert "COMPLETED" in row and "on demand" in row
    browser.wait_for("!!document.querySelector('#audit-checks "
                     "tr[data-check=\"IOT_POLICY_OVERLY_PERMISSIVE_CHECK\"] "
                     ".verdict-badge.non-compliant')", what="the policy check non-compliant")
    assert browser.evaluate("!!document.querySelector('#audit-checks "
                            "tr[data-check=\"LOGGING_DISABLED_CHECK\"] .verdict-badge.compliant')")
    checks = browser.evaluate(text_of("#audit-checks tr[data-check]"))
    assert "2 of 2 (1 suppressed)" in checks
    assert "other devices" in checks

    findings = browser.evaluate(text_of("#audit-findings .finding"))
    assert "policy open version 1" in findings
    assert "lets a device act on other devices' resources" in findings
    assert "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS" in findings
    assert browser.evaluate("document.querySelectorAll('#audit-findings .finding.suppressed')"
                            ".length") == 1
    sup = browser.evaluate(text_of("#audit-suppression-list tbody tr"))
    assert "policy open-too version 1" in sup and "indefinitely" in sup
    assert "a known lab policy" in sup

    # Fix the policy, audit again: the new task is on top and clean.
    iot.delete_policy(policyName="open")
    emulator.advance(60)
    second = audit(iot)
    browser.wait_for("document.querySelector('tr.audit-task-row').dataset.task === %s"
                     % json.dumps(second), what="the second task on top")
    browser.click('tr.audit-task-row[data-task="%s"]' % second)
    browser.wait_for("!!document.querySelector('tr.audit-task-row.selected[data-task=\"%s\"]')"
                     % second, what="the second task selected")
    browser.wait_for("document.querySelectorAll('#audit-findings .finding:not(.suppressed)')"
                     ".length === 0", what="no open finding in the second audit")
    browser.screenshot(SHOT)
    assert os.path.getsize(SHOT) > 10000
    assert browser.errors == []
