# SPDX-License-Identifier: MIT
"""Audit mitigation actions tasks through boto3 and the AWS CLI: each
action type applied to the findings of an audit, the task lifecycle on the
manual clock (IN_PROGRESS until the clock moves, cancel), the listings and
AWS's errors."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from conftest import cli_error, wait_for
from test_audit import OPEN, ROLE, enable, register, run_audit, topic_to_queue

LOG_ROLE = "arn:aws:iam::123456789012:role/LogRole"


def action(iot, name, params):
    iot.create_mitigation_action(actionName=name, roleArn=ROLE, actionParams=params)


def finished(iot, task_id):
    """Wait for the task to leave IN_PROGRESS and return its description."""
    return wait_for(lambda: (lambda d: d if d["taskStatus"] != "IN_PROGRESS" else None)(
        iot.describe_audit_mitigation_actions_task(taskId=task_id)))


def window(emu):
    t0 = datetime.fromtimestamp(emu.clock()["now"] - 60, timezone.utc)
    return t0, t0 + timedelta(hours=1)


def test_policy_logging_and_sns(emu, iot):
    sqs, topic, url = topic_to_queue(emu, "findings", "findings")
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK")
    iot.create_policy(policyName="open", policyDocument=OPEN)
    audit_id, _ = run_audit(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK")
    policy_finding, = iot.list_audit_findings(
        taskId=audit_id, checkName="IOT_POLICY_OVERLY_PERMISSIVE_CHECK")["findings"]
    action(iot, "blank", {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}})
    action(iot, "logs", {"enableIoTLoggingParams": {"roleArnForLogging": LOG_ROLE,
                                                    "logLevel": "WARN"}})
    action(iot, "tell", {"publishFindingToSnsParams": {"topicArn": topic}})

    iot.start_audit_mitigation_actions_task(
        taskId="fix-1", target={"auditTaskId": audit_id},
        auditCheckToActionsMapping={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["tell", "blank"],
                                    "LOGGING_DISABLED_CHECK": ["logs"]},
        clientRequestToken="tok-1")
    # Nothing is applied until the emulated clock reaches the executions.
    d = iot.describe_audit_mitigation_actions_task(taskId="fix-1")
    assert d["taskStatus"] == "IN_PROGRESS" and "endTime" not in d
    assert iot.get_policy(policyName="open")["defaultVersionId"] == "1"
    emu.advance(10)
    d = finished(iot, "fix-1")
    assert d["taskStatus"] == "COMPLETED"
    assert d["target"] == {"auditTaskId": audit_id}
    assert d["auditCheckToActionsMapping"]["LOGGING_DISABLED_CHECK"] == ["logs"]
    assert sorted(a["name"] for a in d["actionsDefinition"]) == ["blank", "logs", "tell"]
    assert {a["name"]: a for a in d["actionsDefinition"]}["logs"]["actionParams"] == {
        "enableIoTLoggingParams": {"roleArnForLogging": LOG_ROLE, "logLevel": "WARN"}}
    assert d["taskStatistics"] == {
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK": {
            "totalFindingsCount": 1, "failedFindingsCount": 0, "succeededFindingsCount": 1,
            "skippedFindingsCount": 0, "canceledFindingsCount": 0},
        "LOGGING_DISABLED_CHECK": {
            "totalFindingsCount": 1, "failedFindingsCount": 0, "succeededFindingsCount": 1,
            "skippedFindingsCount": 0, "canceledFindingsCount": 0}}

    # REPLACE_DEFAULT_POLICY_VERSION: a new default version that denies all.
    p = iot.get_policy(policyName="open")
    assert p["defaultVersionId"] == "2"
    assert json.loads(p["policyDocument"])["Statement"] == [
        {"Effect": "Deny", "Action": "iot:*", "Resource": "*"}]
    # ENABLE_IOT_LOGGING
    logging = iot.get_v2_logging_options()
    assert (logging["roleArn"], logging["defaultLogLevel"]) == (LOG_ROLE, "WARN")
    # PUBLISH_FINDING_TO_SNS: the finding, times in epoch milliseconds.
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url).get("Messages"))
    note = json.loads(messages[0]["Body"])
    assert list(note) == ["findingId", "findingTime", "severity", "taskStartTime",
                          "nonCompliantResource", "taskId", "checkName",
                          "reasonForNonComplianceCode", "reasonForNonCompliance"]
    assert (note["findingId"], note["taskId"], note["severity"]) == (
        policy_finding["findingId"], audit_id, "CRITICAL")
    assert note["findingTime"] == int(policy_finding["findingTime"].timestamp() * 1000)

    execs = iot.list_audit_mitigation_actions_executions(
        taskId="fix-1", findingId=policy_finding["findingId"])["actionsExecutions"]
    assert [(e["actionName"], e["status"]) for e in execs] == [
        ("tell", "COMPLETED"), ("blank", "COMPLETED")]
    assert all(e["taskId"] == "fix-1" and e["endTime"] >= e["startTime"] for e in execs)
    page = iot.list_audit_mitigation_actions_executions(
        taskId="fix-1", findingId=policy_finding["findingId"], maxResults=1)
    assert [e["actionName"] for e in page["actionsExecutions"]] == ["tell"]
    page = iot.list_audit_mitigation_actions_executions(
        taskId="fix-1", findingId=policy_finding["findingId"], maxResults=1,
        nextToken=page["nextToken"])
    assert [e["actionName"] for e in page["actionsExecutions"]] == ["blank"]
    assert "nextToken" not in page

    # A retry with the same token and request changes nothing.
    iot.start_audit_mitigation_actions_task(
        taskId="fix-1", target={"auditTaskId": audit_id},
        auditCheckToActionsMapping={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["tell", "blank"],
                                    "LOGGING_DISABLED_CHECK": ["logs"]},
        clientRequestToken="tok-1")
    assert iot.describe_audit_mitigation_actions_task(taskId="fix-1")["taskStatus"] == "COMPLETED"
    # ... the same id for another request is taken.
    with pytest.raises(iot.exceptions.TaskAlreadyExistsException):
        iot.start_audit_mitigation_actions_task(
            taskId="fix-1", target={"auditTaskId": audit_id},
            auditCheckToActionsMapping={"LOGGING_DISABLED_CHECK": ["logs"]},
            clientRequestToken="tok-2")

    # ... and so is the token, for another task id.
    with pytest.raises(iot.exceptions.TaskAlreadyExistsException):
        iot.start_audit_mitigation_actions_task(
            taskId="fix-9", target={"auditTaskId": audit_id},
            auditCheckToActionsMapping={"LOGGING_DISABLED_CHECK": ["logs"]},
            clientRequestToken="tok-1")

    # A finding-id target, and the listing's filters and pages.
    emu.advance(60)
    iot.start_audit_mitigation_actions_task(
        taskId="fix-2", target={"findingIds": [policy_finding["findingId"]]},
        auditCheckToActionsMapping={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["tell"]},
        clientRequestToken="tok-3")
    emu.advance(10)
    assert finished(iot, "fix-2")["taskStatus"] == "COMPLETED"
    t0, t1 = window(emu)
    t0 -= timedelta(hours=1)
    tasks = iot.list_audit_mitigation_actions_tasks(startTime=t0, endTime=t1)["tasks"]
    assert [t["taskId"] for t in tasks] == ["fix-1", "fix-2"]
    assert tasks[0]["taskStatus"] == "COMPLETED"
    page = iot.list_audit_mitigation_actions_tasks(startTime=t0, endTime=t1, maxResults=1)
    assert [t["taskId"] for t in page["tasks"]] == ["fix-1"]
    page = iot.list_audit_mitigation_actions_tasks(startTime=t0, endTime=t1, maxResults=1,
                                                   nextToken=page["nextToken"])
    assert [t["taskId"] for t in page["tasks"]] == ["fix-2"] and "nextToken" not in page
    assert [t["taskId"] for t in iot.list_audit_mitigation_actions_tasks(
        startTime=t0, endTime=t1, auditTaskId=audit_id)["tasks"]] == ["fix-1", "fix-2"]
    assert iot.list_audit_mitigation_actions_tasks(
        startTime=t0, endTime=t1, findingId="nope")["tasks"] == []
    assert iot.list_audit_mitigation_actions_tasks(
        startTime=t0, endTime=t1, taskStatus="CANCELED")["tasks"] == []
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_audit_mitigation_actions_tasks(startTime=t0, endTime=t1, taskStatus="DONE")


def test_certificates_and_groups(emu, iot):
    enable(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    cert = register(emu, iot, 10)
    arn = iot.describe_certificate(certificateId=cert)["certificateDescription"]["certificateArn"]
    iot.create_thing(thingName="dev-1")
    iot.attach_thing_principal(thingName="dev-1", principal=arn)
    iot.create_thing_group(thingGroupName="quarantine")
    audit_id, _ = run_audit(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    action(iot, "isolate", {"addThingsToThingGroupParams": {"thingGroupNames": ["quarantine"]}})
    action(iot, "off", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
    action(iot, "nowhere", {"addThingsToThingGroupParams": {"thingGroupNames": ["missing"]}})
    iot.start_audit_mitigation_actions_task(
        taskId="cert-1", target={"auditTaskId": audit_id},
        auditCheckToActionsMapping={"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["isolate", "off"]},
        clientRequestToken="c1")
    emu.advance(10)
    assert finished(iot, "cert-1")["taskStatus"] == "COMPLETED"
    groups = iot.list_thing_groups_for_thing(thingName="dev-1")["thingGroups"]
    assert [g["groupName"] for g in groups] == ["quarantine"]
    assert iot.describe_certificate(certificateId=cert)["certificateDescription"][
        "status"] == "INACTIVE"

    # A failing action fails the finding and skips its later actions.
    iot.update_certificate(certificateId=cert, newStatus="ACTIVE")
    iot.start_audit_mitigation_actions_task(
        taskId="cert-2", target={"auditTaskId": audit_id},
        auditCheckToActionsMapping={"DEVICE_CERTIFICATE_EXPIRING_CHECK": ["nowhere", "off"]},
        clientRequestToken="c2")
    emu.advance(10)
    d = finished(iot, "cert-2")
    assert d["taskStatus"] == "FAILED"
    assert d["taskStatistics"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"]["failedFindingsCount"] == 1
    finding, = iot.list_audit_findings(taskId=audit_id)["findings"]
    execs = iot.list_audit_mitigation_actions_executions(
        taskId="cert-2", findingId=finding["findingId"])["actionsExecutions"]
    assert [(e["actionName"], e["status"]) for e in execs] == [
        ("nowhere", "FAILED"), ("off", "SKIPPED")]
    assert execs[0]["errorCode"] == "ResourceNotFoundException"
    assert iot.describe_certificate(certificateId=cert)["certificateDescription"][
        "status"] == "ACTIVE"
    failed = iot.list_audit_mitigation_actions_executions(
        taskId="cert-2", findingId=finding["findingId"], actionStatus="FAILED")
    assert [e["actionName"] for e in failed["actionsExecutions"]] == ["nowhere"]


def test_cancel_and_errors(emu, iot):
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK")
    iot.create_policy(policyName="open", policyDocument=OPEN)
    audit_id, _ = run_audit(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK")
    action(iot, "blank", {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}})
    action(iot, "off", {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}})
    mapping = {"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["blank"]}

    iot.start_audit_mitigation_actions_task(taskId="c", target={"auditTaskId": audit_id},
                                            auditCheckToActionsMapping=mapping,
                                            clientRequestToken="t")
    iot.cancel_audit_mitigation_actions_task(taskId="c")
    emu.advance(10)
    d = iot.describe_audit_mitigation_actions_task(taskId="c")
    assert d["taskStatus"] == "CANCELED" and "endTime" in d
    assert d["taskStatistics"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["canceledFindingsCount"] == 1
    assert iot.get_policy(policyName="open")["defaultVersionId"] == "1"
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.cancel_audit_mitigation_actions_task(taskId="c")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.cancel_audit_mitigation_actions_task(taskId="nope")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_audit_mitigation_actions_task(taskId="nope")

    def refused(**kw):
        args = dict(taskId="bad", target={"auditTaskId": audit_id},
                    auditCheckToActionsMapping=mapping, clientRequestToken="t-bad")
        args.update(kw)
        with pytest.raises(iot.exceptions.InvalidRequestException) as e:
            iot.start_audit_mitigation_actions_task(**args)
        return str(e.value)
    # An action that does not fit the check, or does not exist.
    assert "cannot be applied" in refused(
        auditCheckToActionsMapping={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["off"]})
    assert "does not exist" in refused(
        auditCheckToActionsMapping={"LOGGING_DISABLED_CHECK": ["ghost"]})
    assert "invalid Audit Check Name" in refused(auditCheckToActionsMapping={"NOPE": ["blank"]})
    assert "does not exist" in refused(target={"auditTaskId": "f" * 32})
    assert "does not exist" in refused(target={"findingIds": ["ghost"]})
    refused(target={})
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_audit_mitigation_actions_task(taskId="bad")


def test_cli(emu, iot):
    enable(iot, "LOGGING_DISABLED_CHECK")
    audit_id, _ = run_audit(iot, "LOGGING_DISABLED_CHECK")
    emu.aws("iot", "create-mitigation-action", "--action-name", "logs", "--role-arn", ROLE,
            "--action-params",
            json.dumps({"enableIoTLoggingParams": {"roleArnForLogging": LOG_ROLE,
                                                   "logLevel": "ERROR"}}))
    out = emu.aws_json("iot", "start-audit-mitigation-actions-task", "--task-id", "cli-1",
                       "--target", json.dumps({"auditTaskId": audit_id}),
                       "--audit-check-to-actions-mapping",
                       json.dumps({"LOGGING_DISABLED_CHECK": ["logs"]}),
                       "--client-request-token", "cli")
    assert out == {"taskId": "cli-1"}
    assert emu.aws_json("iot", "describe-audit-mitigation-actions-task", "--task-id",
                        "cli-1")["taskStatus"] == "IN_PROGRESS"
    emu.advance(5)
    assert finished(iot, "cli-1")["taskStatus"] == "COMPLETED"
    assert iot.get_v2_logging_options()["defaultLogLevel"] == "ERROR"
    finding, = iot.list_audit_findings(taskId=audit_id)["findings"]
    execs = emu.aws_json("iot", "list-audit-mitigation-actions-executions", "--task-id",
                         "cli-1", "--finding-id", finding["findingId"])["actionsExecutions"]
    assert [(e["actionName"], e["status"]) for e in execs] == [("logs", "COMPLETED")]
    assert "ResourceNotFoundException" in cli_error(
        emu, "iot", "cancel-audit-mitigation-actions-task", "--task-id", "cli-1x")
    assert "InvalidRequestException" in cli_error(
        emu, "iot", "cancel-audit-mitigation-actions-task", "--task-id", "cli-1")


def test_ca_certificate(emu, iot):
    import datetime
    from test_cacerts import make_ca, register as register_ca
    enable(iot, "CA_CERTIFICATE_EXPIRING_CHECK")
    root = make_ca("Mitigation Root")
    ca_id = register_ca(iot, root, setAsActive=True)["certificateId"]
    end = root[0].not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
    emu.advance(end - 20 * 86400 - emu.clock()["now"])
    audit_id, _ = run_audit(iot, "CA_CERTIFICATE_EXPIRING_CHECK")
    finding, = iot.list_audit_findings(taskId=audit_id)["findings"]
    action(iot, "ca-off", {"updateCACertificateParams": {"action": "DEACTIVATE"}})
    iot.start_audit_mitigation_actions_task(
        taskId="ca-1", target={"auditCheckToReasonCodeFilter": {
            "CA_CERTIFICATE_EXPIRING_CHECK": ["CERTIFICATE_PAST_EXPIRATION"]}},
        auditCheckToActionsMapping={"CA_CERTIFICATE_EXPIRING_CHECK": ["ca-off"]},
        clientRequestToken="ca")
    emu.advance(5)
    # The reason code filter matches no finding: nothing to do.
    assert finished(iot, "ca-1")["taskStatistics"] == {}
    assert iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"][
        "status"] == "ACTIVE"
    iot.start_audit_mitigation_actions_task(
        taskId="ca-2", target={"auditTaskId": audit_id, "auditCheckToReasonCodeFilter": {
            "CA_CERTIFICATE_EXPIRING_CHECK": ["CERTIFICATE_APPROACHING_EXPIRATION"]}},
        auditCheckToActionsMapping={"CA_CERTIFICATE_EXPIRING_CHECK": ["ca-off"]},
        clientRequestToken="ca-2")
    emu.advance(5)
    d = finished(iot, "ca-2")
    assert d["taskStatus"] == "COMPLETED"
    assert d["taskStatistics"]["CA_CERTIFICATE_EXPIRING_CHECK"]["succeededFindingsCount"] == 1
    assert iot.describe_ca_certificate(certificateId=ca_id)["certificateDescription"][
        "status"] == "INACTIVE"
    execs = iot.list_audit_mitigation_actions_executions(
        taskId="ca-2", findingId=finding["findingId"])["actionsExecutions"]
    assert [(e["actionName"], e["status"]) for e in execs] == [("ca-off", "COMPLETED")]


def test_restart_resumes_the_task(make_emulator):
    emu = make_emulator("--manual-clock").start()
    iot = emu.client("iot")
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    for name in ("open-1", "open-2"):
        iot.create_policy(policyName=name, policyDocument=OPEN)
    audit_id, _ = run_audit(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    action(iot, "blank", {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}})
    iot.start_audit_mitigation_actions_task(
        taskId="resume", target={"auditTaskId": audit_id},
        auditCheckToActionsMapping={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": ["blank"]},
        clientRequestToken="r")
    emu.advance(1)  # the first of the two executions falls due

    def stats():
        return iot.describe_audit_mitigation_actions_task(taskId="resume")["taskStatistics"][
            "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
    assert wait_for(lambda: stats()["succeededFindingsCount"] == 1 or None)
    emu.stop()
    emu.start()
    iot = emu.client("iot")
    d = iot.describe_audit_mitigation_actions_task(taskId="resume")
    assert d["taskStatus"] == "IN_PROGRESS"
    emu.advance(2)
    d = finished(iot, "resume")
    assert d["taskStatus"] == "COMPLETED"
    assert stats()["succeededFindingsCount"] == 2
    assert [iot.get_policy(policyName=n)["defaultVersionId"] for n in ("open-1", "open-2")] == [
        "2", "2"]
