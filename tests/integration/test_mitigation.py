# SPDX-License-Identifier: MIT
"""Mitigation actions and Detect mitigation actions tasks through boto3 and
the AWS CLI: action CRUD and validation, tasks over real violations (paho
devices, the manual clock) that put the violating things into a Quarantine
group, executions, Audit-only action types skipped, refused memberships
failing their execution without leaving anything behind, idempotent starts,
TaskAlreadyExistsException, violationIds targets and suppressed alerts."""
import json
import re
import time

import botocore.exceptions
import pytest

from conftest import all_pages, cli_error, reset
from test_detect import Device, behavior

ALL_THINGS = "arn:aws:iot:us-east-1:123456789012:all/things"
ROLE = "arn:aws:iam::123456789012:role/DDMitigationRole"
AARN = "arn:aws:iot:us-east-1:123456789012:mitigationaction/"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
QUARANTINE = {"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine"],
                                              "overrideDynamicGroups": True}}
DEACTIVATE = {"updateDeviceCertificateParams": {"action": "DEACTIVATE"}}


@pytest.fixture
def api(emu):
    """An iot client of the shared emulator (iot is taken below: the
    function-scoped emulator's client)."""
    return reset(emu)


def error(call, code, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(**kwargs)
    assert e.value.response["Error"]["Code"] == code, e.value.response
    return e.value.response


# ---- actions ----------------------------------------------------------------

def test_action_create_describe_update_delete(emu, api):
    before = emu.clock()["now"]
    out = api.create_mitigation_action(actionName="QuarantineAction", roleArn=ROLE,
                                       actionParams=QUARANTINE,
                                       tags=[{"Key": "team", "Value": "sec"}])
    assert out["actionArn"] == AARN + "QuarantineAction"
    assert UUID.match(out["actionId"])
    d = api.describe_mitigation_action(actionName="QuarantineAction")
    assert d["actionName"] == "QuarantineAction"
    assert d["actionType"] == "ADD_THINGS_TO_THING_GROUP"
    assert d["actionArn"] == out["actionArn"] and d["actionId"] == out["actionId"]
    assert d["roleArn"] == ROLE
    assert d["actionParams"] == QUARANTINE
    assert d["creationDate"].timestamp() >= before
    assert d["lastModifiedDate"] == d["creationDate"]

    e = error(api.create_mitigation_action, "ResourceAlreadyExistsException",
              actionName="QuarantineAction", roleArn=ROLE, actionParams=QUARANTINE)
    assert e["resourceId"] == out["actionId"]
    assert e["resourceArn"] == out["actionArn"]

    # Same type: roleArn and parameters change, the id stays.
    emu.advance(60)
    up = api.update_mitigation_action(
        actionName="QuarantineAction", roleArn=ROLE + "2",
        actionParams={"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine", "Q2"]}})
    assert up == {"actionArn": out["actionArn"], "actionId": out["actionId"],
                  "ResponseMetadata": up["ResponseMetadata"]}
    d2 = api.describe_mitigation_action(actionName="QuarantineAction")
    assert d2["roleArn"] == ROLE + "2"
    assert d2["actionParams"] == {"addThingsToThingGroupParams": {
        "thingGroupNames": ["Quarantine", "Q2"]}}
    assert d2["lastModifiedDate"] > d2["creationDate"]
    # The type cannot change.
    error(api.update_mitigation_action, "InvalidRequestException",
          actionName="QuarantineAction", actionParams=DEACTIVATE)
    error(api.update_mitigation_action, "ResourceNotFoundException",
          actionName="Missing", roleArn=ROLE)

    api.delete_mitigation_action(actionName="QuarantineAction")
    api.delete_mitigation_action(actionName="QuarantineAction")  # missing is fine
    error(api.describe_mitigation_action, "ResourceNotFoundException",
          actionName="QuarantineAction")


def test_action_params_every_type_and_list(api):
    params = {
        "Deactivate": DEACTIVATE,
        "DeactivateCA": {"updateCACertificateParams": {"action": "DEACTIVATE"}},
        "Quarantine": QUARANTINE,
        "Blank": {"replaceDefaultPolicyVersionParams": {"templateName": "BLANK_POLICY"}},
        "Logging": {"enableIoTLoggingParams": {"roleArnForLogging": ROLE, "logLevel": "WARN"}},
        "Publish": {"publishFindingToSnsParams": {
            "topicArn": "arn:aws:sns:us-east-1:123456789012:findings"}},
    }
    types = {"Deactivate": "UPDATE_DEVICE_CERTIFICATE", "DeactivateCA": "UPDATE_CA_CERTIFICATE",
             "Quarantine": "ADD_THINGS_TO_THING_GROUP", "Blank": "REPLACE_DEFAULT_POLICY_VERSION",
             "Logging": "ENABLE_IOT_LOGGING", "Publish": "PUBLISH_FINDING_TO_SNS"}
    for name, p in params.items():
        api.create_mitigation_action(actionName=name, roleArn=ROLE, actionParams=p)
        d = api.describe_mitigation_action(actionName=name)
        assert d["actionType"] == types[name]
        assert d["actionParams"] == p

    listed, pages = all_pages(api.list_mitigation_actions, "actionIdentifiers", maxResults=4)
    names = [a["actionName"] for a in listed]
    for a in listed:
        assert a["actionArn"] == AARN + a["actionName"]
        assert "creationDate" in a
    assert pages == 2
    assert names == sorted(params)
    page = api.list_mitigation_actions(actionType="ADD_THINGS_TO_THING_GROUP")
    assert [a["actionName"] for a in page["actionIdentifiers"]] == ["Quarantine"]
    assert "nextToken" not in page
    error(api.list_mitigation_actions, "InvalidRequestException", actionType="REBOOT")
    error(api.list_mitigation_actions, "InvalidRequestException", maxResults=251)


@pytest.mark.parametrize("name,role,params", [
    ("bad:name", ROLE, QUARANTINE),                                   # ':' not allowed
    ("x" * 129, ROLE, QUARANTINE),
    ("Ok", "arn:" + "r" * 2048, QUARANTINE),                          # roleArn over 2048
    ("Ok", ROLE, {}),                                                 # no member
    ("Ok", ROLE, dict(QUARANTINE, **DEACTIVATE)),                     # two members
    ("Ok", ROLE, {"addThingsToThingGroupParams": {
        "thingGroupNames": ["g%d" % i for i in range(11)]}}),          # 11 groups
    ("Ok", ROLE, {"addThingsToThingGroupParams": {"thingGroupNames": ["bad group"]}}),
    ("Ok", ROLE, {"updateDeviceCertificateParams": {"action": "REVOKE"}}),
    ("Ok", ROLE, {"enableIoTLoggingParams": {"roleArnForLogging": ROLE, "logLevel": "TRACE"}}),
    ("Ok", ROLE, {"publishFindingToSnsParams": {"topicArn": "t" * 351}}),
])
def test_action_validation(api, name, role, params):
    error(api.create_mitigation_action, "InvalidRequestException",
          actionName=name, roleArn=role, actionParams=params)
    assert api.list_mitigation_actions()["actionIdentifiers"] == []


def test_actions_through_the_cli(emu, api):
    out = emu.aws_json("iot", "create-mitigation-action", "--action-name", "QuarantineAction",
                       "--role-arn", ROLE, "--action-params", json.dumps(QUARANTINE))
    assert out["actionArn"] == AARN + "QuarantineAction"
    d = emu.aws_json("iot", "describe-mitigation-action", "--action-name", "QuarantineAction")
    assert d["actionType"] == "ADD_THINGS_TO_THING_GROUP"
    assert d["actionParams"] == QUARANTINE
    assert d["creationDate"].endswith("+00:00")
    listed = emu.aws_json("iot", "list-mitigation-actions",
                          "--action-type", "ADD_THINGS_TO_THING_GROUP")
    assert [a["actionName"] for a in listed["actionIdentifiers"]] == ["QuarantineAction"]
    emu.aws_json("iot", "update-mitigation-action", "--action-name", "QuarantineAction",
                 "--role-arn", ROLE + "-v2")
    assert api.describe_mitigation_action(actionName="QuarantineAction")["roleArn"] == ROLE + "-v2"
    err = cli_error(emu, "iot", "update-mitigation-action", "--action-name", "QuarantineAction",
                    "--action-params", json.dumps(DEACTIVATE))
    assert "(InvalidRequestException)" in err and "cannot be changed" in err
    err = cli_error(emu, "iot", "create-mitigation-action", "--action-name", "QuarantineAction",
                    "--role-arn", ROLE, "--action-params", json.dumps(QUARANTINE))
    assert "(ResourceAlreadyExistsException)" in err
    emu.aws("iot", "delete-mitigation-action", "--action-name", "QuarantineAction")
    err = cli_error(emu, "iot", "describe-mitigation-action", "--action-name", "QuarantineAction")
    assert "(ResourceNotFoundException)" in err


def test_task_request_validation(emu, api):
    api.create_mitigation_action(actionName="Q", roleArn=ROLE, actionParams=QUARANTINE)
    api.create_security_profile(securityProfileName="P", behaviors=[])
    ok = {"target": {"securityProfileName": "P"}, "actions": ["Q"]}
    rows = [
        ({"target": {"securityProfileName": "P", "violationIds": ["a1"]}}, "either"),
        ({"target": {"behaviorName": "B"}}, "either"),
        ({"target": {"securityProfileName": "Nope"}}, "does not exist"),
        ({"target": {"violationIds": ["0123abcd"]}}, "does not exist"),
        ({"target": {"violationIds": ["v%d" % i for i in range(26)]}}, "less than or equal to 25"),
        ({"target": {"violationIds": ["bad_id"]}}, "regular expression"),
        ({"actions": ["Missing"]}, "does not exist"),
        ({"actions": ["Q", "Q"]}, "twice"),
        ({"actions": ["A", "B", "C", "D", "E", "F"]}, "less than or equal to 5"),
        ({"violationEventOccurrenceRange": {"startTime": 200, "endTime": 100}}, "later"),
        ({"clientRequestToken": "bad token"}, "regular expression"),
    ]
    for change, text in rows:
        req = dict(ok, **change)
        e = error(api.start_detect_mitigation_actions_task, "InvalidRequestException",
                  taskId="t1", **req)
        assert text in e["Error"]["Message"], (change, e["Error"]["Message"])
    error(api.start_detect_mitigation_actions_task, "InvalidRequestException",
          taskId="bad:id", **ok)
    # Nothing was written by any refused request.
    now = emu.clock()["now"]
    assert api.list_detect_mitigation_actions_tasks(
        startTime=now - 3600, endTime=now + 3600)["tasks"] == []
    error(api.describe_detect_mitigation_actions_task, "ResourceNotFoundException", taskId="t1")
    error(api.cancel_detect_mitigation_actions_task, "ResourceNotFoundException", taskId="t1")
    error(api.list_detect_mitigation_actions_executions, "InvalidRequestException")
    error(api.list_detect_mitigation_actions_executions, "InvalidRequestException",
          startTime=now)


# ---- tasks over real violations ---------------------------------------------

@pytest.fixture
def iot(emulator):
    return emulator.client("iot")


def chatty_profile(emulator, iot, name="MsgSentSecProfile", suppress=False):
    """A profile whose behavior MsgSentBehavior alarms on more than 5 messages
    sent in 5 minutes, attached to all things."""
    b = behavior("MsgSentBehavior", "aws:num-messages-sent", "less-than", {"count": 5},
                 to_alarm=1, to_clear=1)
    if suppress:
        b["suppressAlerts"] = True
    iot.create_security_profile(securityProfileName=name, behaviors=[b])
    iot.attach_security_profile(securityProfileName=name, securityProfileTargetArn=ALL_THINGS)
    emulator.sync()


def violate(emulator, *client_ids, count=30):
    """Connect a device per client id, publish count messages each and close
    the 5-minute window; returns the window end."""
    devices = [Device(emulator, c) for c in client_ids]
    try:
        for d in devices:
            d.publish("dt/%s/telemetry" % d.id, b'{"t": 1}', count=count)
        return emulator.advance(300)["now"]
    finally:
        for d in devices:
            d.close()


def groups_of(iot, thing):
    return [g["groupName"] for g in iot.list_thing_groups_for_thing(thingName=thing)["thingGroups"]]


def executions(iot, **filters):
    return all_pages(iot.list_detect_mitigation_actions_executions, "actionsExecutions",
                     maxResults=2, **filters)[0]


def task_summary(iot, task_id):
    return iot.describe_detect_mitigation_actions_task(taskId=task_id)["taskSummary"]


def wait_task(iot, task_id, done, timeout=10):
    """Poll the task until done(summary) holds: the worker thread applies
    due executions within a few tens of milliseconds of real time."""
    deadline = time.monotonic() + timeout
    while True:
        s = task_summary(iot, task_id)
        if done(s) or time.monotonic() > deadline:
            return s
        time.sleep(0.02)


def run_task(emulator, iot, task_id, seconds=10):
    """Move the manual clock past a task's executions (one per emulated
    second by default) and wait for the task to end."""
    emulator.advance(seconds)
    s = wait_task(iot, task_id, lambda s: s["taskStatus"] != "IN_PROGRESS")
    assert s["taskStatus"] != "IN_PROGRESS", s
    return s


def test_task_quarantines_the_violating_things(emulator, iot):
    iot.create_thing_group(thingGroupName="Quarantine")
    for thing in ("dev-A", "dev-B", "dev-C"):
        iot.create_thing(thingName=thing)
    iot.create_mitigation_action(actionName="QuarantineAction", roleArn=ROLE,
                                 actionParams=QUARANTINE)
    iot.create_mitigation_action(actionName="DeactivateCert", roleArn=ROLE,
                                 actionParams=DEACTIVATE)
    chatty_profile(emulator, iot)
    start = emulator.clock()["now"]
    window_end = violate(emulator, "dev-A", "dev-B")
    Device(emulator, "dev-C").close()  # connected, quiet: no violation
    violations = {v["thingName"]: v["violationId"]
                  for v in iot.list_active_violations()["activeViolations"]}
    assert sorted(violations) == ["dev-A", "dev-B"]
    assert groups_of(iot, "dev-A") == []

    request = dict(
        taskId="task-001",
        target={"securityProfileName": "MsgSentSecProfile", "behaviorName": "MsgSentBehavior"},
        actions=["QuarantineAction", "DeactivateCert"],
        violationEventOccurrenceRange={"startTime": start, "endTime": window_end + 1},
        includeOnlyActiveViolations=True, clientRequestToken="tok-001")
    out = iot.start_detect_mitigation_actions_task(**request)
    assert out["taskId"] == "task-001"
    run_task(emulator, iot, "task-001")

    assert groups_of(iot, "dev-A") == ["Quarantine"]
    assert groups_of(iot, "dev-B") == ["Quarantine"]
    assert groups_of(iot, "dev-C") == []
    things = iot.list_things_in_thing_group(thingGroupName="Quarantine")["things"]
    assert sorted(things) == ["dev-A", "dev-B"]

    s = iot.describe_detect_mitigation_actions_task(taskId="task-001")["taskSummary"]
    assert s["taskStatus"] == "SUCCESSFUL"
    assert s["taskStatistics"] == {"actionsExecuted": 2, "actionsSkipped": 2, "actionsFailed": 0}
    assert s["target"] == {"securityProfileName": "MsgSentSecProfile",
                           "behaviorName": "MsgSentBehavior"}
    assert s["onlyActiveViolationsIncluded"] is True
    assert s["suppressedAlertsIncluded"] is False
    assert s["violationEventOccurrenceRange"]["startTime"].timestamp() == start
    assert s["taskStartTime"].timestamp() == window_end
    assert s["taskEndTime"].timestamp() == window_end + 3  # the third execution, at 1 s each
    defs = {a["name"]: a for a in s["actionsDefinition"]}
    assert list(defs) == ["QuarantineAction", "DeactivateCert"]
    assert defs["QuarantineAction"]["actionParams"] == QUARANTINE
    assert defs["QuarantineAction"]["roleArn"] == ROLE
    assert UUID.match(defs["QuarantineAction"]["id"])

    runs = executions(iot, taskId="task-001")
    assert len(runs) == 4
    by = {(r["thingName"], r["actionName"]): r for r in runs}
    for thing in ("dev-A", "dev-B"):
        q = by[(thing, "QuarantineAction")]
        assert q["status"] == "SUCCESSFUL"
        assert q["violationId"] == violations[thing]
        assert q["taskId"] == "task-001"
        assert q["executionStartDate"].timestamp() == window_end
        assert "errorCode" not in q
        skipped = by[(thing, "DeactivateCert")]
        assert skipped["status"] == "SKIPPED"
        assert "UPDATE_DEVICE_CERTIFICATE" in skipped["message"]
        assert "Audit" in skipped["message"]
    assert [r["thingName"] for r in executions(iot, taskId="task-001", thingName="dev-B")] == [
        "dev-B", "dev-B"]
    assert len(executions(iot, violationId=violations["dev-A"],
                          startTime=window_end - 1, endTime=window_end + 1)) == 2
    assert executions(iot, startTime=window_end + 10, endTime=window_end + 20) == []

    tasks = iot.list_detect_mitigation_actions_tasks(startTime=start, endTime=window_end + 1)
    assert [t["taskId"] for t in tasks["tasks"]] == ["task-001"]

    # A retry (same id, token and request) answers the id and runs nothing.
    again = iot.start_detect_mitigation_actions_task(**request)
    assert again["taskId"] == "task-001"
    assert len(executions(iot, taskId="task-001")) == 4
    # The same id with another token, or the token with another id.
    e = error(iot.start_detect_mitigation_actions_task, "TaskAlreadyExistsException",
              taskId="task-001", target={"securityProfileName": "MsgSentSecProfile"},
              actions=["QuarantineAction"])
    assert e["ResponseMetadata"]["HTTPStatusCode"] == 400
    error(iot.start_detect_mitigation_actions_task, "TaskAlreadyExistsException",
          taskId="task-002", target={"securityProfileName": "MsgSentSecProfile"},
          actions=["QuarantineAction"], clientRequestToken="tok-001")
    # Finished tasks cannot be canceled.
    e = error(iot.cancel_detect_mitigation_actions_task, "InvalidRequestException",
              taskId="task-001")
    assert "not in progress" in e["Error"]["Message"]

    # Deleting the action leaves the task's copy of it.
    iot.delete_mitigation_action(actionName="QuarantineAction")
    s = iot.describe_detect_mitigation_actions_task(taskId="task-001")["taskSummary"]
    assert [a["name"] for a in s["actionsDefinition"]] == ["QuarantineAction", "DeactivateCert"]


def test_refused_membership_fails_the_execution(emulator, iot):
    """A thing already in a group of the target group's hierarchy, a thing at
    its ten-group limit and an unregistered client: each execution FAILED,
    with none of its memberships left behind, and the task FAILED."""
    iot.create_thing_group(thingGroupName="Quarantine")
    iot.create_thing_group(thingGroupName="Fleet")
    iot.create_thing_group(thingGroupName="SiteA", parentGroupName="Fleet")
    iot.create_thing_group(thingGroupName="SiteB", parentGroupName="Fleet")
    for thing in ("dev-H", "dev-L", "dev-OK"):
        iot.create_thing(thingName=thing)
    iot.add_thing_to_thing_group(thingGroupName="SiteA", thingName="dev-H")
    for i in range(10):
        iot.create_thing_group(thingGroupName="G%d" % i)
        iot.add_thing_to_thing_group(thingGroupName="G%d" % i, thingName="dev-L")
    iot.create_mitigation_action(
        actionName="Isolate", roleArn=ROLE,
        actionParams={"addThingsToThingGroupParams": {"thingGroupNames": ["Quarantine",
                                                                          "SiteB"]}})
    chatty_profile(emulator, iot)
    violate(emulator, "dev-H", "dev-L", "dev-OK", "unregistered-1")
    iot.start_detect_mitigation_actions_task(
        taskId="t", target={"securityProfileName": "MsgSentSecProfile"}, actions=["Isolate"])

    s = run_task(emulator, iot, "t")
    assert s["taskStatus"] == "FAILED"
    assert s["taskStatistics"] == {"actionsExecuted": 1, "actionsSkipped": 0, "actionsFailed": 3}
    runs = {r["thingName"]: r for r in executions(iot, taskId="t")}
    assert runs["dev-OK"]["status"] == "SUCCESSFUL"
    assert sorted(groups_of(iot, "dev-OK")) == ["Quarantine", "SiteB"]
    h = runs["dev-H"]
    assert h["status"] == "FAILED" and h["errorCode"] == "InvalidRequestException"
    assert "SiteA" in h["message"] and "hierarchy" in h["message"]
    assert groups_of(iot, "dev-H") == ["SiteA"]  # Quarantine was rolled back too
    low = runs["dev-L"]
    assert low["status"] == "FAILED" and low["errorCode"] == "InvalidRequestException"
    assert "10 thing groups" in low["message"]
    assert "Quarantine" not in groups_of(iot, "dev-L")
    u = runs["unregistered-1"]
    assert u["status"] == "FAILED" and u["errorCode"] == "ResourceNotFoundException"
    assert iot.list_things_in_thing_group(thingGroupName="Quarantine")["things"] == ["dev-OK"]


def test_task_by_violation_ids_through_the_cli(emulator, iot):
    emulator.aws("iot", "create-thing-group", "--thing-group-name", "Quarantine")
    for thing in ("dev-X", "dev-Y"):
        emulator.aws("iot", "create-thing", "--thing-name", thing)
    emulator.aws("iot", "create-mitigation-action", "--action-name", "QuarantineAction",
                 "--role-arn", ROLE, "--action-params", json.dumps(QUARANTINE))
    chatty_profile(emulator, iot)
    window_end = violate(emulator, "dev-X", "dev-Y")
    ids = {v["thingName"]: v["violationId"]
           for v in iot.list_active_violations()["activeViolations"]}

    out = emulator.aws_json(
        "iot", "start-detect-mitigation-actions-task", "--task-id", "by-ids",
        "--target", json.dumps({"violationIds": [ids["dev-Y"]]}),
        "--actions", "QuarantineAction", "--include-only-active-violations")
    assert out == {"taskId": "by-ids"}
    run_task(emulator, iot, "by-ids")
    assert groups_of(iot, "dev-Y") == ["Quarantine"]
    assert groups_of(iot, "dev-X") == []

    d = emulator.aws_json("iot", "describe-detect-mitigation-actions-task", "--task-id", "by-ids")
    s = d["taskSummary"]
    assert s["taskStatus"] == "SUCCESSFUL"
    assert s["target"] == {"violationIds": [ids["dev-Y"]]}
    assert s["taskStatistics"]["actionsExecuted"] == 1
    runs = emulator.aws_json("iot", "list-detect-mitigation-actions-executions",
                             "--task-id", "by-ids")["actionsExecutions"]
    assert [(r["thingName"], r["status"]) for r in runs] == [("dev-Y", "SUCCESSFUL")]
    tasks = emulator.aws_json("iot", "list-detect-mitigation-actions-tasks",
                              "--start-time", str(window_end - 60),
                              "--end-time", str(window_end + 60))["tasks"]
    assert [t["taskId"] for t in tasks] == ["by-ids"]

    err = cli_error(emulator, "iot", "start-detect-mitigation-actions-task", "--task-id", "by-ids",
                    "--target", json.dumps({"violationIds": [ids["dev-X"]]}),
                    "--actions", "QuarantineAction")
    assert "(TaskAlreadyExistsException)" in err
    err = cli_error(emulator, "iot", "cancel-detect-mitigation-actions-task",
                    "--task-id", "by-ids")
    assert "(InvalidRequestException)" in err

    # The violation of dev-X cleared: an active-only task skips it, another
    # task over every violation of the profile takes it.
    emulator.advance(290)  # to the next window close, 10 s were spent on the task
    assert iot.list_active_violations()["activeViolations"] == []
    iot.start_detect_mitigation_actions_task(
        taskId="active-only", target={"violationIds": [ids["dev-X"]]},
        actions=["QuarantineAction"], includeOnlyActiveViolations=True)
    s = iot.describe_detect_mitigation_actions_task(taskId="active-only")["taskSummary"]
    assert s["taskStatistics"] == {"actionsExecuted": 0, "actionsSkipped": 0, "actionsFailed": 0}
    assert groups_of(iot, "dev-X") == []
    iot.start_detect_mitigation_actions_task(
        taskId="history", target={"violationIds": [ids["dev-X"]]}, actions=["QuarantineAction"])
    run_task(emulator, iot, "history")
    assert groups_of(iot, "dev-X") == ["Quarantine"]


def test_suppressed_violations_only_when_included(emulator, iot):
    iot.create_thing_group(thingGroupName="Quarantine")
    iot.create_thing(thingName="dev-S")
    iot.create_mitigation_action(actionName="QuarantineAction", roleArn=ROLE,
                                 actionParams=QUARANTINE)
    chatty_profile(emulator, iot, name="Quiet", suppress=True)
    violate(emulator, "dev-S")
    [v] = iot.list_active_violations(listSuppressedAlerts=True)["activeViolations"]
    assert v["thingName"] == "dev-S"

    iot.start_detect_mitigation_actions_task(
        taskId="plain", target={"securityProfileName": "Quiet"}, actions=["QuarantineAction"])
    s = iot.describe_detect_mitigation_actions_task(taskId="plain")["taskSummary"]
    assert s["taskStatistics"]["actionsExecuted"] == 0
    assert executions(iot, taskId="plain") == []
    assert groups_of(iot, "dev-S") == []

    iot.start_detect_mitigation_actions_task(
        taskId="with-suppressed", target={"securityProfileName": "Quiet"},
        actions=["QuarantineAction"], includeSuppressedAlerts=True)
    s = run_task(emulator, iot, "with-suppressed")
    assert s["suppressedAlertsIncluded"] is True
    assert s["taskStatistics"]["actionsExecuted"] == 1
    assert groups_of(iot, "dev-S") == ["Quarantine"]


def quarantine_task(emulator, iot, things, task_id):
    """Things each with a violation of MsgSentSecProfile, and task_id
    started over them with QuarantineAction: one queued execution each."""
    iot.create_thing_group(thingGroupName="Quarantine")
    for thing in things:
        iot.create_thing(thingName=thing)
    iot.create_mitigation_action(actionName="QuarantineAction", roleArn=ROLE,
                                 actionParams=QUARANTINE)
    chatty_profile(emulator, iot)
    violate(emulator, *things)
    iot.start_detect_mitigation_actions_task(
        taskId=task_id, target={"securityProfileName": "MsgSentSecProfile"},
        actions=["QuarantineAction"])


def test_task_runs_over_time_and_cancels(emulator, iot):
    """One execution per emulated second: the task is IN_PROGRESS with its
    statistics moving; a cancel keeps what was applied and skips the rest."""
    quarantine_task(emulator, iot, ["dev-T1", "dev-T2", "dev-T3"], "slow")
    s = task_summary(iot, "slow")
    assert s["taskStatus"] == "IN_PROGRESS"
    assert "taskEndTime" not in s
    assert s["taskStatistics"] == {"actionsExecuted": 0, "actionsSkipped": 0, "actionsFailed": 0}
    assert [r["status"] for r in executions(iot, taskId="slow")] == ["IN_PROGRESS"] * 3
    assert all("executionEndDate" not in r for r in executions(iot, taskId="slow"))
    assert iot.list_things_in_thing_group(thingGroupName="Quarantine")["things"] == []

    emulator.advance(1)
    s = wait_task(iot, "slow", lambda s: s["taskStatistics"]["actionsExecuted"] == 1)
    assert s["taskStatus"] == "IN_PROGRESS"
    assert s["taskStatistics"] == {"actionsExecuted": 1, "actionsSkipped": 0, "actionsFailed": 0}
    first = [r for r in executions(iot, taskId="slow") if r["status"] == "SUCCESSFUL"]
    assert len(first) == 1
    applied = first[0]["thingName"]
    assert groups_of(iot, applied) == ["Quarantine"]

    # The answer is empty, which the CLI prints as nothing.
    assert emulator.aws("iot", "cancel-detect-mitigation-actions-task",
                        "--task-id", "slow").stdout.strip() == ""
    s = task_summary(iot, "slow")
    assert s["taskStatus"] == "CANCELED"
    assert s["taskStatistics"] == {"actionsExecuted": 1, "actionsSkipped": 2, "actionsFailed": 0}
    emulator.advance(10)
    time.sleep(0.1)  # a worker round that must find nothing to run
    runs = {r["thingName"]: r for r in executions(iot, taskId="slow")}
    assert runs[applied]["status"] == "SUCCESSFUL"
    others = [t for t in runs if t != applied]
    for t in others:
        assert runs[t]["status"] == "SKIPPED"
        assert "canceled" in runs[t]["message"]
        assert groups_of(iot, t) == []
    assert groups_of(iot, applied) == ["Quarantine"]  # not rolled back
    assert task_summary(iot, "slow")["taskStatus"] == "CANCELED"
    # A finished task cannot be canceled; a missing one is not found.
    assert "(InvalidRequestException)" in cli_error(
        emulator, "iot", "cancel-detect-mitigation-actions-task", "--task-id", "slow")
    error(iot.cancel_detect_mitigation_actions_task, "ResourceNotFoundException",
          taskId="no-such-task")


def test_the_effect_reaches_the_broker_while_the_task_runs(emulator, iot):
    """The first execution's group denies publishing at once, as the
    synchronous task did: the quarantined device is cut off while the task
    is still IN_PROGRESS."""
    iot.create_policy(policyName="DenyAll", policyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iot:*", "Resource": "*"}]}))
    quarantine_task(emulator, iot, ["dev-E1", "dev-E2"], "effect")
    iot.attach_policy(policyName="DenyAll", target=iot.describe_thing_group(
        thingGroupName="Quarantine")["thingGroupArn"])
    emulator.sync()
    devices = {t: Device(emulator, t) for t in ("dev-E1", "dev-E2")}
    emulator.advance(1)
    s = wait_task(iot, "effect", lambda s: s["taskStatistics"]["actionsExecuted"] == 1)
    assert s["taskStatus"] == "IN_PROGRESS"
    [done] = [r["thingName"] for r in executions(iot, taskId="effect")
              if r["status"] == "SUCCESSFUL"]
    [waiting] = [t for t in devices if t != done]
    emulator.sync()
    devices[done].client.publish("t", b"x", qos=0)
    devices[done].wait_disconnected()
    devices[waiting].publish("t")  # not in the group yet: its PUBACK comes
    assert devices[waiting].disconnects == 0
    for d in devices.values():
        d.close()


def test_restart_in_the_middle_resumes_the_task(make_emulator):
    emu = make_emulator("--manual-clock").start()
    iot = emu.client("iot")
    quarantine_task(emu, iot, ["dev-R1", "dev-R2", "dev-R3"], "resume")
    emu.advance(1)
    wait_task(iot, "resume", lambda s: s["taskStatistics"]["actionsExecuted"] == 1)
    emu.stop()
    emu.start()
    iot = emu.client("iot")
    s = task_summary(iot, "resume")
    assert s["taskStatus"] == "IN_PROGRESS"
    assert s["taskStatistics"]["actionsExecuted"] == 1
    s = run_task(emu, iot, "resume", seconds=2)
    assert s["taskStatus"] == "SUCCESSFUL"
    assert s["taskStatistics"] == {"actionsExecuted": 3, "actionsSkipped": 0, "actionsFailed": 0}
    assert sorted(iot.list_things_in_thing_group(thingGroupName="Quarantine")["things"]) == [
        "dev-R1", "dev-R2", "dev-R3"]
