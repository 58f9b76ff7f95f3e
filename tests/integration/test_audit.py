# SPDX-License-Identifier: MIT
"""Device Defender Audit through boto3 and the AWS CLI: the account's audit
configuration, on-demand audit tasks run by the server's worker, the
findings of each check (a compliant and a non-compliant case), and AWS's
errors."""
import json

import pytest

from conftest import cli_error, http, wait_for

ROLE = "arn:aws:iam::123456789012:role/AuditRole"
TOPIC = "arn:aws:sns:us-east-1:123456789012:audit"


def http_json(emu, method, path, doc=None):
    """A raw rest-json request (for members Debian's clients cannot send)."""
    status, headers, body = http(method, emu.endpoint + path,
                                 json.dumps(doc) if doc is not None else None,
                                 {"Content-Type": "application/json"})
    return status, headers, json.loads(body) if body else None


def enable(iot, *checks, **config):
    """Enable checks (with the configuration maps of config, keyed by check)."""
    iot.update_account_audit_configuration(
        roleArn=ROLE,
        auditCheckConfigurations={c: dict({"enabled": True}, **(
            {"configuration": config[c]} if c in config else {})) for c in checks})


# ---- configuration ----

def test_config_defaults_and_merge(iot):
    d = iot.describe_account_audit_configuration()
    checks = d["auditCheckConfigurations"]
    assert len(checks) == 17
    assert not any(c["enabled"] for c in checks.values())
    assert "roleArn" not in d

    iot.update_account_audit_configuration(
        roleArn=ROLE,
        auditNotificationTargetConfigurations={
            "SNS": {"targetArn": TOPIC, "roleArn": ROLE, "enabled": True}},
        auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": True}})
    # A second update names one other check: the first stays enabled.
    iot.update_account_audit_configuration(
        auditCheckConfigurations={"DEVICE_CERTIFICATE_EXPIRING_CHECK": {"enabled": True}})
    d = iot.describe_account_audit_configuration()
    assert d["roleArn"] == ROLE
    assert d["auditNotificationTargetConfigurations"]["SNS"] == {
        "targetArn": TOPIC, "roleArn": ROLE, "enabled": True}
    on = sorted(k for k, v in d["auditCheckConfigurations"].items() if v["enabled"])
    assert on == ["DEVICE_CERTIFICATE_EXPIRING_CHECK", "LOGGING_DISABLED_CHECK"]

    iot.update_account_audit_configuration(
        auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": False}})
    d = iot.describe_account_audit_configuration()
    assert not d["auditCheckConfigurations"]["LOGGING_DISABLED_CHECK"]["enabled"]


def test_config_errors(emu, iot):
    # The first configuration must enable a check.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_account_audit_configuration(
            roleArn=ROLE,
            auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": False}})
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.update_account_audit_configuration(
            roleArn=ROLE, auditCheckConfigurations={"NO_SUCH_CHECK": {"enabled": True}})
    assert "invalid Audit Check Name" in str(e.value)
    # The legacy names are refused too.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_account_audit_configuration(
            roleArn=ROLE,
            auditCheckConfigurations={"REVOKED_DEVICE_CERT_CHECK": {"enabled": True}})
    # A client that skips validation meets the server's (boto3 checks lengths).
    status, headers, _ = http_json(emu, "PATCH", "/audit/configuration", {
        "roleArn": "short", "auditCheckConfigurations": {"LOGGING_DISABLED_CHECK": {"enabled": True}}})
    assert status == 400 and headers["x-amzn-ErrorType"].startswith("InvalidRequestException")
    # Nothing was stored by the failures.
    assert "roleArn" not in iot.describe_account_audit_configuration()
    # Deleting what was never configured.
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_account_audit_configuration()


def test_config_thresholds_cli(emu, iot):
    emu.aws("iot", "update-account-audit-configuration", "--role-arn", ROLE,
            "--audit-check-configurations",
            '{"DEVICE_CERTIFICATE_EXPIRING_CHECK":{"enabled":true}}')
    d = emu.aws_json("iot", "describe-account-audit-configuration")
    assert d["auditCheckConfigurations"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"] == {"enabled": True}
    # Thresholds go through raw HTTP: Debian's clients predate `configuration`.
    status, _, body = http_json(emu, 
        "PATCH", "/audit/configuration",
        {"auditCheckConfigurations": {"DEVICE_CERTIFICATE_AGE_CHECK": {
            "enabled": True, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "90"}}}})
    assert status == 200, body
    status, _, body = http_json(emu, "GET", "/audit/configuration")
    assert body["auditCheckConfigurations"]["DEVICE_CERTIFICATE_AGE_CHECK"] == {
        "enabled": True, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "90"}}
    for bad in ({"CERT_AGE_THRESHOLD_IN_DAYS": "29"}, {"CERT_AGE_THRESHOLD_IN_DAYS": "x"},
                {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "60"}):
        status, headers, body = http_json(
            emu, "PATCH", "/audit/configuration",
            {"auditCheckConfigurations": {"DEVICE_CERTIFICATE_AGE_CHECK": {
                "enabled": True, "configuration": bad}}})
        assert status == 400 and headers["x-amzn-ErrorType"].startswith("InvalidRequest")
    err = cli_error(emu, "iot", "update-account-audit-configuration",
                    "--audit-check-configurations", '{"BOGUS_CHECK":{"enabled":true}}')
    assert "InvalidRequestException" in err

    emu.aws("iot", "delete-account-audit-configuration")
    d = emu.aws_json("iot", "describe-account-audit-configuration")
    assert not any(c["enabled"] for c in d["auditCheckConfigurations"].values())
    assert "ResourceNotFoundException" in cli_error(
        emu, "iot", "delete-account-audit-configuration")


# ---- tasks ----

OPEN = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})
TIGHT = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect",
     "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}",
     "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": "arn:aws:iot:us-east-1:123456789012:topic/"
                 "$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"}]})


def run_audit(iot, *checks):
    """Start an on-demand audit of checks and return (taskId, the finished
    DescribeAuditTask answer)."""
    task_id = iot.start_on_demand_audit_task(targetCheckNames=list(checks))["taskId"]
    done = wait_for(lambda: (lambda d: d if d["taskStatus"] != "IN_PROGRESS" else None)(
        iot.describe_audit_task(taskId=task_id)))
    assert done, "the audit did not finish"
    return task_id, done


def test_task_lifecycle(emu, iot):
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK",
           "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK")
    iot.create_policy(policyName="open", policyDocument=OPEN)
    iot.create_policy(policyName="tight", policyDocument=TIGHT)
    start = emu.clock()["now"]
    task_id, d = run_audit(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
                           "UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK")
    assert len(task_id) == 32
    assert d["taskStatus"] == "COMPLETED"
    assert d["taskType"] == "ON_DEMAND_AUDIT_TASK"
    assert abs(d["taskStartTime"].timestamp() - start) < 2
    assert d["taskStatistics"] == {
        "totalChecks": 2, "inProgressChecks": 0, "waitingForDataCollectionChecks": 0,
        "compliantChecks": 1, "nonCompliantChecks": 1, "failedChecks": 0, "canceledChecks": 0}
    assert d["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"] == {
        "checkRunStatus": "COMPLETED_NON_COMPLIANT", "checkCompliant": False,
        "totalResourcesCount": 2, "nonCompliantResourcesCount": 1}
    assert d["auditDetails"]["UNAUTHENTICATED_COGNITO_ROLE_OVERLY_PERMISSIVE_CHECK"] == {
        "checkRunStatus": "COMPLETED_COMPLIANT", "checkCompliant": True,
        "totalResourcesCount": 0, "nonCompliantResourcesCount": 0}

    emu.advance(60)
    second, _ = run_audit(iot, "LOGGING_DISABLED_CHECK")
    from datetime import datetime, timezone, timedelta
    t0 = datetime.fromtimestamp(start - 10, timezone.utc)
    t1 = t0 + timedelta(hours=1)
    tasks = iot.list_audit_tasks(startTime=t0, endTime=t1)["tasks"]
    assert [t["taskId"] for t in tasks] == [task_id, second]
    assert tasks[0] == {"taskId": task_id, "taskStatus": "COMPLETED",
                        "taskType": "ON_DEMAND_AUDIT_TASK"}
    page = iot.list_audit_tasks(startTime=t0, endTime=t1, maxResults=1)
    assert [t["taskId"] for t in page["tasks"]] == [task_id]
    page = iot.list_audit_tasks(startTime=t0, endTime=t1, maxResults=1,
                                nextToken=page["nextToken"])
    assert [t["taskId"] for t in page["tasks"]] == [second] and "nextToken" not in page
    assert iot.list_audit_tasks(startTime=t0, endTime=t1, taskStatus="CANCELED")["tasks"] == []
    assert iot.list_audit_tasks(startTime=t1, endTime=t1 + timedelta(hours=1))["tasks"] == []

    # Errors: a check not enabled, an unknown one, a finished or unknown task.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.start_on_demand_audit_task(targetCheckNames=["DEVICE_CERTIFICATE_AGE_CHECK"])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.start_on_demand_audit_task(targetCheckNames=["NOT_A_CHECK"])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.cancel_audit_task(taskId=task_id)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.cancel_audit_task(taskId="0" * 32)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_audit_task(taskId="0" * 32)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_audit_tasks(startTime=t0, endTime=t1, taskType="NIGHTLY")


def test_task_cli(emu, iot):
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    task_id = emu.aws_json("iot", "start-on-demand-audit-task", "--target-check-names",
                           "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")["taskId"]
    d = wait_for(lambda: (lambda d: d if d["taskStatus"] == "COMPLETED" else None)(
        emu.aws_json("iot", "describe-audit-task", "--task-id", task_id)))
    assert d["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["checkCompliant"] is True
    assert "ResourceNotFoundException" in cli_error(
        emu, "iot", "describe-audit-task", "--task-id", "f" * 32)
    assert "InvalidRequestException" in cli_error(
        emu, "iot", "start-on-demand-audit-task", "--target-check-names", "LOGGING_DISABLED_CHECK")


# ---- findings ----

def test_findings(emu, iot):
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    for name in ("open-a", "open-b", "open-c"):
        iot.create_policy(policyName=name, policyDocument=OPEN)
    iot.create_policy_version(policyName="open-a", policyDocument=TIGHT, setAsDefault=True)
    iot.create_policy(policyName="tight", policyDocument=TIGHT)
    task_id, d = run_audit(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    # Every version counts: open-a's first version is still there.
    assert d["auditDetails"]["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]["totalResourcesCount"] == 5
    findings = iot.list_audit_findings(taskId=task_id)["findings"]
    assert [f["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"]
            for f in findings] == [{"policyName": n, "policyVersionId": "1"}
                                   for n in ("open-a", "open-b", "open-c")]
    f = findings[0]
    assert f["taskId"] == task_id
    assert f["checkName"] == "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
    assert f["severity"] == "CRITICAL"
    assert f["nonCompliantResource"]["resourceType"] == "IOT_POLICY"
    assert f["reasonForNonComplianceCode"] == "ALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS"
    assert f["reasonForNonCompliance"].startswith(
        "Policy allows broad access to IoT data plane actions: [iot:Subscribe, iot:Connect, "
        "iot:GetThingShadow, iot:DeleteThingShadow, iot:UpdateThingShadow, iot:Publish")
    assert f["isSuppressed"] is False
    assert f["findingTime"] >= f["taskStartTime"]

    assert iot.describe_audit_finding(findingId=f["findingId"])["finding"] == f
    assert iot.list_related_resources_for_audit_finding(
        findingId=f["findingId"])["relatedResources"] == []

    by_res = iot.list_audit_findings(taskId=task_id, resourceIdentifier={
        "policyVersionIdentifier": {"policyName": "open-b", "policyVersionId": "1"}})["findings"]
    assert [x["findingId"] for x in by_res] == [findings[1]["findingId"]]
    assert iot.list_audit_findings(
        taskId=task_id, checkName="DEVICE_CERTIFICATE_EXPIRING_CHECK")["findings"] == []
    assert iot.list_audit_findings(taskId=task_id, listSuppressedFindings=True)["findings"] == []
    assert len(iot.list_audit_findings(taskId=task_id,
                                       listSuppressedFindings=False)["findings"]) == 3
    t = f["findingTime"]
    from datetime import timedelta
    assert len(iot.list_audit_findings(startTime=t - timedelta(seconds=1),
                                       endTime=t + timedelta(seconds=1))["findings"]) == 3
    assert iot.list_audit_findings(startTime=t + timedelta(seconds=1),
                                   endTime=t + timedelta(seconds=9))["findings"] == []
    page = iot.list_audit_findings(taskId=task_id, maxResults=2)
    assert len(page["findings"]) == 2
    rest = iot.list_audit_findings(taskId=task_id, maxResults=2, nextToken=page["nextToken"])
    assert [x["findingId"] for x in page["findings"] + rest["findings"]] == [
        x["findingId"] for x in findings]
    assert "nextToken" not in rest

    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_audit_findings()
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_audit_findings(taskId=task_id, startTime=t, endTime=t)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_audit_findings(taskId=task_id, nextToken="bogus")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_audit_finding(findingId="no-such-finding")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_related_resources_for_audit_finding(findingId="no-such-finding")
    out = emu.aws_json("iot", "list-audit-findings", "--task-id", task_id,
                       "--check-name", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    assert len(out["findings"]) == 3
    assert "ResourceNotFoundException" in cli_error(
        emu, "iot", "describe-audit-finding", "--finding-id", "nope")


# ---- device certificate checks ----

# Two 1024-bit primes of the form k * M + (65537^a mod M), M the product of
# the primes up to 167: how Infineon's RSALib made them (CVE-2017-15361).
# Generated once with Python for these tests.
ROCA_P = int(
    "c4ba50e2fe7bce862cc367a03b94f1210e958e0436c487dd2704ef8544f817d2"
    "2a59c454883658100ce39fb3b761439afe6268aa24675c85780f0e5de109de47"
    "8198f67bce6bb39b839824f7b988f6bb8b87771de4aa97eccc093babc488c0fd"
    "2f0b1916f1107d3ee82a447959076997fe9429bf73d06f6427277cfc7a277c45", 16)
ROCA_Q = int(
    "feb18d3bf442e9c4cd4dfd1654ec0925facccadaaa8c6f08f802abcb64a18581"
    "473a5929739b0b9a84676ab4c1358ea4f44e67197a3726c9d817cc03d45fdb9d"
    "4bd0c3ec1847cb63b37fb5dc2540ec874458c50346de31348a697a0250a1d18a"
    "51ce4efb12fb69ec9401184136368569977051822e58f2cc14067656bd3ddb0b", 16)


def rsa_from(p, q):
    from cryptography.hazmat.primitives.asymmetric import rsa
    e = 65537
    d = pow(e, -1, (p - 1) * (q - 1))
    return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p),
                                 rsa.RSAPublicNumbers(e, p * q)).private_key()


def self_signed(emu, days, key=None, cn="device"):
    """A self-signed certificate valid from now (the emulated clock) for days."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.utcfromtimestamp(emu.clock()["now"])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def register(emu, iot, days, key=None, status="ACTIVE"):
    return iot.register_certificate_without_ca(
        certificatePem=self_signed(emu, days, key), status=status)["certificateId"]


def cert_findings(iot, task_id, check):
    return {f["nonCompliantResource"]["resourceIdentifier"]["deviceCertificateId"]: f
            for f in iot.list_audit_findings(taskId=task_id, checkName=check)["findings"]}


def test_certificate_expiring(emu, iot):
    enable(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    soon = register(emu, iot, 10)
    later = register(emu, iot, 400)
    register(emu, iot, 5, status="INACTIVE")  # not inspected
    task_id, d = run_audit(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert d["auditDetails"]["DEVICE_CERTIFICATE_EXPIRING_CHECK"] == {
        "checkRunStatus": "COMPLETED_NON_COMPLIANT", "checkCompliant": False,
        "totalResourcesCount": 2, "nonCompliantResourcesCount": 1}
    found = cert_findings(iot, task_id, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert list(found) == [soon]
    f = found[soon]
    assert f["severity"] == "MEDIUM"
    assert f["reasonForNonComplianceCode"] == "CERTIFICATE_APPROACHING_EXPIRATION"
    assert f["nonCompliantResource"]["resourceType"] == "DEVICE_CERTIFICATE"
    info = f["nonCompliantResource"]["additionalInfo"]
    assert abs(int(info["EXPIRATION_TIME"]) / 1000 - (emu.clock()["now"] + 10 * 86400)) < 120

    # A threshold of 500 days (raw HTTP: Debian's clients cannot send it)
    # makes the 400-day certificate approach its expiry too.
    status, _, _ = http_json(emu, "PATCH", "/audit/configuration", {"auditCheckConfigurations": {
        "DEVICE_CERTIFICATE_EXPIRING_CHECK": {
            "enabled": True, "configuration": {"CERT_EXPIRATION_THRESHOLD_IN_DAYS": "500"}}}})
    assert status == 200
    task_id, d = run_audit(iot, "DEVICE_CERTIFICATE_EXPIRING_CHECK")
    assert sorted(cert_findings(iot, task_id, "DEVICE_CERTIFICATE_EXPIRING_CHECK")) == sorted(
        [soon, later])


def test_certificate_age(emu, iot):
    status, _, _ = http_json(emu, "PATCH", "/audit/configuration", {
        "roleArn": ROLE, "auditCheckConfigurations": {"DEVICE_CERTIFICATE_AGE_CHECK": {
            "enabled": True, "configuration": {"CERT_AGE_THRESHOLD_IN_DAYS": "30"}}}})
    assert status == 200
    old = register(emu, iot, 3650)
    task_id, d = run_audit(iot, "DEVICE_CERTIFICATE_AGE_CHECK")
    assert d["auditDetails"]["DEVICE_CERTIFICATE_AGE_CHECK"]["checkCompliant"] is True
    emu.advance(20 * 86400)
    young = register(emu, iot, 3650)
    emu.advance(10 * 86400)
    task_id, d = run_audit(iot, "DEVICE_CERTIFICATE_AGE_CHECK")
    assert d["auditDetails"]["DEVICE_CERTIFICATE_AGE_CHECK"]["nonCompliantResourcesCount"] == 1
    found = cert_findings(iot, task_id, "DEVICE_CERTIFICATE_AGE_CHECK")
    assert list(found) == [old] and young not in found
    assert found[old]["reasonForNonComplianceCode"] == "CERTIFICATE_PAST_AGE_THRESHOLD"
    assert found[old]["severity"] == "LOW"


def test_certificate_key_quality(emu, iot):
    from cryptography.hazmat.primitives.asymmetric import rsa
    enable(iot, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")
    weak = register(emu, iot, 365, key=rsa_from(ROCA_P, ROCA_Q))
    good = register(emu, iot, 365, key=rsa.generate_private_key(65537, 2048))
    register(emu, iot, 365)  # EC: no modulus to test
    task_id, d = run_audit(iot, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")
    assert d["auditDetails"]["DEVICE_CERTIFICATE_KEY_QUALITY_CHECK"] == {
        "checkRunStatus": "COMPLETED_NON_COMPLIANT", "checkCompliant": False,
        "totalResourcesCount": 3, "nonCompliantResourcesCount": 1}
    found = cert_findings(iot, task_id, "DEVICE_CERTIFICATE_KEY_QUALITY_CHECK")
    assert list(found) == [weak] and good not in found
    assert found[weak]["reasonForNonComplianceCode"] == \
        "CERTIFICATE_KEY_VULNERABILITY_CVE-2017-15361"
    assert found[weak]["severity"] == "CRITICAL"


def test_policy_misconfiguration(emu, iot):
    enable(iot, "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK")
    arn = "arn:aws:iot:us-east-1:123456789012:"
    iot.create_policy(policyName="wildcard-deny", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": arn + "topicfilter/building/*"},
            {"Effect": "Deny", "Action": "iot:Subscribe",
             "Resource": arn + "topicfilter/building/control_room/#"}]}))
    iot.create_policy(policyName="leaky-receive", policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": arn + "topicfilter/building/*"},
            {"Effect": "Allow", "Action": "iot:Receive", "Resource": arn + "topic/building/*"},
            {"Effect": "Deny", "Action": "iot:Subscribe",
             "Resource": arn + "topicfilter/building/control_room/*"}]}))
    iot.create_policy(policyName="tight", policyDocument=TIGHT)
    task_id, d = run_audit(iot, "IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK")
    assert d["auditDetails"]["IOT_POLICY_POTENTIAL_MISCONFIGURATION_CHECK"] == {
        "checkRunStatus": "COMPLETED_NON_COMPLIANT", "checkCompliant": False,
        "totalResourcesCount": 3, "nonCompliantResourcesCount": 2}
    found = {f["nonCompliantResource"]["resourceIdentifier"]["policyVersionIdentifier"][
        "policyName"]: f for f in iot.list_audit_findings(taskId=task_id)["findings"]}
    assert sorted(found) == ["leaky-receive", "wildcard-deny"]
    assert found["wildcard-deny"]["reasonForNonComplianceCode"] == \
        "POLICY_CONTAINS_MQTT_WILDCARDS_IN_DENY_STATEMENT"
    assert found["leaky-receive"]["reasonForNonComplianceCode"] == \
        "TOPIC_FILTERS_INTENDED_TO_DENY_ALLOWED_USING_WILDCARDS"
    assert found["leaky-receive"]["severity"] == "MEDIUM"


# ---- suppressions ----

def test_suppressions(emu, iot):
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    iot.create_policy(policyName="open", policyDocument=OPEN)
    ident = {"policyVersionIdentifier": {"policyName": "open", "policyVersionId": "1"}}
    check = "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"
    from datetime import datetime, timezone
    until = datetime.fromtimestamp(emu.clock()["now"] + 7 * 86400, timezone.utc)
    iot.create_audit_suppression(checkName=check, resourceIdentifier=ident, expirationDate=until,
                                 description="known; fixed next sprint")
    d = iot.describe_audit_suppression(checkName=check, resourceIdentifier=ident)
    assert d["resourceIdentifier"] == ident and d["suppressIndefinitely"] is False
    assert d["expirationDate"] == until and d["description"] == "known; fixed next sprint"
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_audit_suppression(checkName=check, resourceIdentifier=ident,
                                     suppressIndefinitely=True)

    # The finding is still made, flagged, counted, and the check is compliant.
    task_id, d = run_audit(iot, check)
    assert d["auditDetails"][check] == {
        "checkRunStatus": "COMPLETED_COMPLIANT", "checkCompliant": True,
        "totalResourcesCount": 1, "nonCompliantResourcesCount": 1,
        "suppressedNonCompliantResourcesCount": 1}
    f, = iot.list_audit_findings(taskId=task_id)["findings"]
    assert f["isSuppressed"] is True
    assert iot.list_audit_findings(taskId=task_id, listSuppressedFindings=False)["findings"] == []

    listed = iot.list_audit_suppressions()["suppressions"]
    assert [(s["checkName"], s["resourceIdentifier"]) for s in listed] == [(check, ident)]
    # Past its expiration on the emulator's clock it no longer applies nor lists.
    emu.advance(8 * 86400)
    assert iot.list_audit_suppressions()["suppressions"] == []
    task_id, d = run_audit(iot, check)
    assert d["auditDetails"][check]["checkCompliant"] is False
    assert "suppressedNonCompliantResourcesCount" not in d["auditDetails"][check]

    iot.update_audit_suppression(checkName=check, resourceIdentifier=ident,
                                 suppressIndefinitely=True)
    d = iot.describe_audit_suppression(checkName=check, resourceIdentifier=ident)
    assert d["suppressIndefinitely"] is True and "expirationDate" not in d
    assert len(iot.list_audit_suppressions(checkName=check)["suppressions"]) == 1
    assert iot.list_audit_suppressions(
        checkName="DEVICE_CERTIFICATE_AGE_CHECK")["suppressions"] == []
    iot.delete_audit_suppression(checkName=check, resourceIdentifier=ident)
    iot.delete_audit_suppression(checkName=check, resourceIdentifier=ident)  # idempotent
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_audit_suppression(checkName=check, resourceIdentifier=ident)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_audit_suppression(checkName=check, resourceIdentifier=ident,
                                     suppressIndefinitely=True)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_audit_suppression(checkName="NOPE_CHECK", resourceIdentifier=ident,
                                     suppressIndefinitely=True)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_audit_suppression(checkName=check, resourceIdentifier={}, suppressIndefinitely=True)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_audit_suppression(checkName=check, resourceIdentifier=ident)


def test_suppressions_cli(emu, iot):
    ident = '{"deviceCertificateId":"' + "a" * 64 + '"}'
    for i, cert in enumerate("abc"):
        emu.aws("iot", "create-audit-suppression", "--check-name",
                "DEVICE_CERTIFICATE_EXPIRING_CHECK", "--resource-identifier",
                '{"deviceCertificateId":"' + cert * 64 + '"}', "--suppress-indefinitely")
    out = emu.aws_json("iot", "list-audit-suppressions", "--max-items", "2")
    assert len(out["suppressions"]) == 2 and out.get("NextToken")
    out = emu.aws_json("iot", "describe-audit-suppression", "--check-name",
                       "DEVICE_CERTIFICATE_EXPIRING_CHECK", "--resource-identifier", ident)
    assert out["suppressIndefinitely"] is True
    assert "ResourceAlreadyExistsException" in cli_error(
        emu, "iot", "create-audit-suppression", "--check-name",
        "DEVICE_CERTIFICATE_EXPIRING_CHECK", "--resource-identifier", ident,
        "--suppress-indefinitely")


# ---- scheduled audits ----

def test_scheduled_audits(emu, iot):
    enable(iot, "LOGGING_DISABLED_CHECK", "IOT_POLICY_OVERLY_PERMISSIVE_CHECK")
    arn = iot.create_scheduled_audit(scheduledAuditName="nightly", frequency="DAILY",
                                     targetCheckNames=["LOGGING_DISABLED_CHECK"])[
        "scheduledAuditArn"]
    assert arn == "arn:aws:iot:us-east-1:123456789012:scheduledaudit/nightly"
    iot.create_scheduled_audit(scheduledAuditName="weekly", frequency="WEEKLY", dayOfWeek="MON",
                               targetCheckNames=["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"])
    d = iot.describe_scheduled_audit(scheduledAuditName="weekly")
    assert d["frequency"] == "WEEKLY" and d["dayOfWeek"] == "MON" and "dayOfMonth" not in d
    assert d["targetCheckNames"] == ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK"]
    listed = iot.list_scheduled_audits()["scheduledAudits"]
    assert [(a["scheduledAuditName"], a["frequency"]) for a in listed] == [
        ("nightly", "DAILY"), ("weekly", "WEEKLY")]
    iot.update_scheduled_audit(scheduledAuditName="weekly", frequency="MONTHLY", dayOfMonth="LAST")
    d = iot.describe_scheduled_audit(scheduledAuditName="weekly")
    assert d["frequency"] == "MONTHLY" and d["dayOfMonth"] == "LAST" and "dayOfWeek" not in d

    # A week of emulated time runs seven nightly audits, each starting at its midnight.
    from datetime import datetime, timezone, timedelta
    t0 = datetime.fromtimestamp(emu.clock()["now"], timezone.utc)
    emu.advance(7 * 86400)
    def scheduled():
        tasks = iot.list_audit_tasks(startTime=t0, endTime=t0 + timedelta(days=8),
                                     taskType="SCHEDULED_AUDIT_TASK")["tasks"]
        return tasks if len(tasks) >= 7 and all(
            t["taskStatus"] == "COMPLETED" for t in tasks) else None
    tasks = wait_for(scheduled)
    assert tasks and len(tasks) == 7
    d = iot.describe_audit_task(taskId=tasks[0]["taskId"])
    assert d["taskType"] == "SCHEDULED_AUDIT_TASK" and d["scheduledAuditName"] == "nightly"
    start = d["taskStartTime"]
    assert start.hour == 0 and start.minute == 0 and start > t0
    assert list(d["auditDetails"]) == ["LOGGING_DISABLED_CHECK"]

    # Errors.
    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        iot.create_scheduled_audit(scheduledAuditName="nightly", frequency="DAILY",
                                   targetCheckNames=["LOGGING_DISABLED_CHECK"])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_scheduled_audit(scheduledAuditName="w2", frequency="WEEKLY",
                                   targetCheckNames=["LOGGING_DISABLED_CHECK"])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.create_scheduled_audit(scheduledAuditName="d2", frequency="DAILY",
                                   targetCheckNames=["DEVICE_CERTIFICATE_AGE_CHECK"])
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_scheduled_audit(scheduledAuditName="nope")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_scheduled_audit(scheduledAuditName="nope")
    # A check a scheduled audit runs cannot be disabled, nor the configuration deleted.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_account_audit_configuration(
            auditCheckConfigurations={"LOGGING_DISABLED_CHECK": {"enabled": False}})
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.delete_account_audit_configuration()
    for i in range(3):
        iot.create_scheduled_audit(scheduledAuditName="d%d" % i, frequency="DAILY",
                                   targetCheckNames=["LOGGING_DISABLED_CHECK"])
    with pytest.raises(iot.exceptions.LimitExceededException):
        iot.create_scheduled_audit(scheduledAuditName="sixth", frequency="DAILY",
                                   targetCheckNames=["LOGGING_DISABLED_CHECK"])
    iot.delete_scheduled_audit(scheduledAuditName="d0")
    iot.delete_account_audit_configuration(deleteScheduledAudits=True)
    assert iot.list_scheduled_audits()["scheduledAudits"] == []


def test_scheduled_audits_cli(emu, iot):
    enable(iot, "LOGGING_DISABLED_CHECK")
    out = emu.aws_json("iot", "create-scheduled-audit", "--scheduled-audit-name", "bi",
                       "--frequency", "BIWEEKLY", "--day-of-week", "FRI",
                       "--target-check-names", "LOGGING_DISABLED_CHECK")
    assert out["scheduledAuditArn"].endswith(":scheduledaudit/bi")
    d = emu.aws_json("iot", "describe-scheduled-audit", "--scheduled-audit-name", "bi")
    assert d["frequency"] == "BIWEEKLY" and d["dayOfWeek"] == "FRI"
    assert "InvalidRequestException" in cli_error(
        emu, "iot", "create-scheduled-audit", "--scheduled-audit-name", "m",
        "--frequency", "MONTHLY", "--target-check-names", "LOGGING_DISABLED_CHECK")
    emu.aws("iot", "delete-scheduled-audit", "--scheduled-audit-name", "bi")
    assert emu.aws_json("iot", "list-scheduled-audits")["scheduledAudits"] == []


# ---- the completion notification ----

def topic_to_queue(emu, topic_name, queue_name):
    """A topic with a queue subscribed (raw delivery): (sqs client, topic
    ARN, queue URL)."""
    sns, sqs = emu.client("sns"), emu.client("sqs")
    topic = sns.create_topic(Name=topic_name)["TopicArn"]
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn,
                  Attributes={"RawMessageDelivery": "true"})
    return sqs, topic, url


def test_completion_notification(emu, iot):
    sqs, topic, url = topic_to_queue(emu, "audit", "audit-results")
    iot.update_account_audit_configuration(
        roleArn=ROLE,
        auditNotificationTargetConfigurations={
            "SNS": {"targetArn": topic, "roleArn": ROLE, "enabled": True}},
        auditCheckConfigurations={"IOT_POLICY_OVERLY_PERMISSIVE_CHECK": {"enabled": True},
                                  "LOGGING_DISABLED_CHECK": {"enabled": True}})
    iot.create_policy(policyName="open", policyDocument=OPEN)
    iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="INFO")
    task_id, d = run_audit(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK")

    def received():
        return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
    messages = wait_for(received)
    assert messages and len(messages) == 1
    note = json.loads(messages[0]["Body"])
    assert list(note) == ["accountId", "taskId", "taskStatus", "taskType", "failedChecksCount",
                          "canceledChecksCount", "nonCompliantChecksCount",
                          "compliantChecksCount", "totalChecksCount", "taskStartTime",
                          "auditDetails"]
    assert (note["accountId"], note["taskId"], note["taskStatus"], note["taskType"]) == (
        "123456789012", task_id, "COMPLETED", "ON_DEMAND_AUDIT_TASK")
    assert (note["nonCompliantChecksCount"], note["compliantChecksCount"],
            note["totalChecksCount"]) == (1, 1, 2)
    assert note["taskStartTime"] == int(d["taskStartTime"].timestamp() * 1000)
    assert {c["checkName"]: c for c in note["auditDetails"]}[
        "IOT_POLICY_OVERLY_PERMISSIVE_CHECK"] == {
        "checkName": "IOT_POLICY_OVERLY_PERMISSIVE_CHECK",
        "checkRunStatus": "COMPLETED_NON_COMPLIANT", "nonCompliantResourcesCount": 1,
        "totalResourcesCount": 1}

    # A disabled target sends nothing.
    iot.update_account_audit_configuration(auditNotificationTargetConfigurations={
        "SNS": {"targetArn": topic, "roleArn": ROLE, "enabled": False}})
    sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    run_audit(iot, "LOGGING_DISABLED_CHECK")
    assert wait_for(received, timeout=1) is None


# ---- ddlocal audit ----

def test_launcher_audit(emu, iot):
    import subprocess
    from conftest import LAUNCHER
    run = lambda: subprocess.run([LAUNCHER, "audit", "--http-port", str(emu.http_port)],
                                 capture_output=True, text=True, timeout=60)
    p = run()
    assert p.returncode == 1 and "No audit check is enabled" in p.stderr
    enable(iot, "IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "LOGGING_DISABLED_CHECK")
    iot.create_policy(policyName="open", policyDocument=OPEN)
    iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="INFO")
    p = run()
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("audit task ") and ": COMPLETED (ON_DEMAND_AUDIT_TASK" in lines[0]
    assert any(l.startswith("IOT_POLICY_OVERLY_PERMISSIVE_CHECK") and "COMPLETED_NON_COMPLIANT"
               in l for l in lines)
    assert any(l.startswith("LOGGING_DISABLED_CHECK") and "COMPLETED_COMPLIANT" in l
               for l in lines)
    assert "  CRITICAL IOT_POLICY_OVERLY_PERMISSIVE_CHECK policyVersionIdentifier=open/1" in lines
    task_id = lines[0].split()[2].rstrip(":")
    assert iot.describe_audit_task(taskId=task_id)["taskStatus"] == "COMPLETED"


# ---- logging, revocation at the issuer, CA certificates ----

def test_logging_disabled(emu, iot):
    enable(iot, "LOGGING_DISABLED_CHECK")
    task_id, d = run_audit(iot, "LOGGING_DISABLED_CHECK")
    assert d["auditDetails"]["LOGGING_DISABLED_CHECK"] == {
        "checkRunStatus": "COMPLETED_NON_COMPLIANT", "checkCompliant": False,
        "totalResourcesCount": 1, "nonCompliantResourcesCount": 1}
    f, = iot.list_audit_findings(taskId=task_id)["findings"]
    assert f["nonCompliantResource"] == {"resourceType": "ACCOUNT_SETTINGS",
                                         "resourceIdentifier": {"account": "123456789012"}}
    assert (f["severity"], f["reasonForNonComplianceCode"]) == ("LOW", "LOGGING_DISABLED")
    iot.set_v2_logging_options(roleArn=ROLE, defaultLogLevel="INFO")
    _, d = run_audit(iot, "LOGGING_DISABLED_CHECK")
    assert d["auditDetails"]["LOGGING_DISABLED_CHECK"]["checkCompliant"] is True


def test_revoked_device_certificate(emu, iot):
    from test_cacerts import post
    enable(iot, "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK")
    a = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    b = iot.create_keys_and_certificate(setAsActive=True)["certificateId"]
    check = "REVOKED_DEVICE_CERTIFICATE_STILL_ACTIVE_CHECK"
    _, d = run_audit(iot, check)
    assert d["auditDetails"][check]["checkCompliant"] is True
    status, _ = post(emu, "/_ddlocal/ca/revoke", {"certificateId": a})
    assert status == 200
    task_id, d = run_audit(iot, check)
    assert d["auditDetails"][check]["nonCompliantResourcesCount"] == 1
    found = cert_findings(iot, task_id, check)
    assert list(found) == [a] and b not in found
    assert found[a]["reasonForNonComplianceCode"] == "CERTIFICATE_REVOKED_BY_ISSUER"
    assert found[a]["severity"] == "MEDIUM"
    # Deactivated in IoT, it is no longer a finding.
    iot.update_certificate(certificateId=a, newStatus="INACTIVE")
    _, d = run_audit(iot, check)
    assert d["auditDetails"][check]["checkCompliant"] is True


def revoke_by(emu, ca, ca_id, cert):
    """ca = (cert, key), registered as ca_id, revokes cert: its CRL is uploaded."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from test_cacerts import post
    now = datetime.datetime.utcnow()
    crl = (x509.CertificateRevocationListBuilder().issuer_name(ca[0].subject)
           .last_update(now).next_update(now + datetime.timedelta(days=1))
           .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                    .serial_number(cert[0].serial_number)
                                    .revocation_date(now).build())
           .sign(ca[1], hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())
    status, _ = post(emu, "/_ddlocal/ca/crl", {"caCertificateId": ca_id, "crl": crl})
    assert status == 200


def test_ca_certificate_checks(emu, iot):
    import datetime
    from test_cacerts import make_ca, register
    checks = ("CA_CERTIFICATE_EXPIRING_CHECK", "CA_CERTIFICATE_KEY_QUALITY_CHECK",
              "REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK")
    enable(iot, *checks)
    root = make_ca("Audit Root")
    inter = make_ca("Audit Intermediate", issuer=root)
    root_id = register(iot, root, setAsActive=True)["certificateId"]
    inter_id = register(iot, inter, setAsActive=True)["certificateId"]
    _, d = run_audit(iot, *checks)
    for c in checks:
        assert d["auditDetails"][c] == {
            "checkRunStatus": "COMPLETED_COMPLIANT", "checkCompliant": True,
            "totalResourcesCount": 2, "nonCompliantResourcesCount": 0}, c
    # The root revokes the intermediate: its CRL is uploaded.
    revoke_by(emu, root, root_id, inter)
    # 20 days before the end of their year, both CAs approach their expiry.
    end = root[0].not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
    emu.advance(end - 20 * 86400 - emu.clock()["now"])
    task_id, d = run_audit(iot, *checks)
    findings = iot.list_audit_findings(taskId=task_id)["findings"]
    got = sorted((f["checkName"], f["nonCompliantResource"]["resourceIdentifier"][
        "caCertificateId"], f["reasonForNonComplianceCode"]) for f in findings)
    assert got == sorted([
        ("CA_CERTIFICATE_EXPIRING_CHECK", root_id, "CERTIFICATE_APPROACHING_EXPIRATION"),
        ("CA_CERTIFICATE_EXPIRING_CHECK", inter_id, "CERTIFICATE_APPROACHING_EXPIRATION"),
        ("REVOKED_CA_CERTIFICATE_STILL_ACTIVE_CHECK", inter_id, "CERTIFICATE_REVOKED_BY_ISSUER")])
    assert d["auditDetails"]["CA_CERTIFICATE_KEY_QUALITY_CHECK"]["checkCompliant"] is True


def test_intermediate_ca_revoked(emu, iot):
    from test_cacerts import leaf, make_ca, pem, register
    check = "INTERMEDIATE_CA_REVOKED_FOR_ACTIVE_DEVICE_CERTIFICATES_CHECK"
    enable(iot, check)
    root = make_ca("Audit Root")
    inter = make_ca("Audit Intermediate", issuer=root)
    root_id = register(iot, root, setAsActive=True)["certificateId"]
    inter_id = register(iot, inter, setAsActive=True)["certificateId"]
    device_id = iot.register_certificate(certificatePem=pem(leaf(inter, "cam-1")),
                                         caCertificatePem=pem(inter[0]),
                                         status="ACTIVE")["certificateId"]
    # Compliant: the intermediate (the root is not one) is not revoked.
    audit_counts(iot, check, "COMPLETED_COMPLIANT", 1, 0)
    revoke_by(emu, root, root_id, inter)
    # Non-compliant: revoked by the root with an active device certificate.
    task_id = audit_counts(iot, check, "COMPLETED_NON_COMPLIANT", 1, 1)
    f = iot.list_audit_findings(taskId=task_id, checkName=check)["findings"][0]
    assert f["severity"] == "CRITICAL"
    assert f["reasonForNonComplianceCode"] == "INTERMEDIATE_CA_REVOKED_BY_ISSUER"
    assert f["nonCompliantResource"]["resourceType"] == "ISSUER_CERTIFICATE"
    ident = f["nonCompliantResource"]["resourceIdentifier"]["issuerCertificateIdentifier"]
    assert ident["issuerId"] == inter_id
    assert int(ident["issuerCertificateSerialNumber"], 16) == inter[0].serial_number
    assert "Audit Intermediate" in ident["issuerCertificateSubject"]
    # Its device certificate inactive, nothing is at risk any more.
    iot.update_certificate(certificateId=device_id, newStatus="INACTIVE")
    audit_counts(iot, check, "COMPLETED_COMPLIANT", 1, 0)


# ---- the broker's connection history ----

def hang_up(client):
    client.disconnect()
    client.loop_stop()


def audit_counts(iot, check, status, total, non_compliant):
    """Run check alone, assert its verdict and counts; return the task id."""
    task_id, done = run_audit(iot, check)
    d = done["auditDetails"][check]
    assert d["checkRunStatus"] == status
    assert (d["totalResourcesCount"], d["nonCompliantResourcesCount"]) == (total, non_compliant)
    return task_id


def connected(emu, ca, client_id, cert, key):
    """A paho client connected over TLS as client_id with cert."""
    from test_certs import try_connect
    c, why = try_connect(emu, ca, client_id, cert, key)
    assert c, why
    return c


def connection_findings(iot, task_id, check, member):
    return {f["nonCompliantResource"]["resourceIdentifier"][member]: f
            for f in iot.list_audit_findings(taskId=task_id, checkName=check)["findings"]}


def test_conflicting_client_ids(emu, iot, tmp_path):
    from test_certs import device
    enable(iot, "CONFLICTING_CLIENT_IDS_CHECK")
    out, ca, cert, key = device(iot, tmp_path, emu, "door-1")
    # Compliant: door-1 connects, leaves, and connects again.
    hang_up(connected(emu, ca, "door-1", cert, key))
    again = connected(emu, ca, "door-1", cert, key)
    try:
        emu.sync()
        task_id = audit_counts(iot, "CONFLICTING_CLIENT_IDS_CHECK", "COMPLETED_COMPLIANT", 1, 0)
        assert connection_findings(iot, task_id, "CONFLICTING_CLIENT_IDS_CHECK", "clientId") == {}
        # Non-compliant: a second connection with door-1's client id knocks
        # the first off.
        hang_up(connected(emu, ca, "door-1", cert, key))
    finally:
        hang_up(again)
    emu.sync()
    task_id = audit_counts(iot, "CONFLICTING_CLIENT_IDS_CHECK", "COMPLETED_NON_COMPLIANT", 1, 1)
    f = connection_findings(iot, task_id, "CONFLICTING_CLIENT_IDS_CHECK", "clientId")["door-1"]
    assert f["severity"] == "HIGH"
    assert f["nonCompliantResource"]["resourceType"] == "CLIENT_ID"
    assert f["reasonForNonComplianceCode"] == "DUPLICATE_CLIENT_ID_ACROSS_CONNECTIONS"
    related = iot.list_related_resources_for_audit_finding(
        findingId=f["findingId"])["relatedResources"]
    assert len(related) == 3
    assert {r["resourceType"] for r in related} == {"DEVICE_CERTIFICATE"}
    assert {r["resourceIdentifier"]["deviceCertificateId"] for r in related} == {
        out["certificateId"]}
    # Most recent first; the taken-over connection has both times.
    times = [int(r["additionalInfo"]["CONNECTION_TIME"]) for r in related]
    assert times == sorted(times, reverse=True)
    assert all("DISCONNECTION_TIME" in r["additionalInfo"] for r in related)


def test_device_certificate_shared(emu, iot, tmp_path):
    from test_certs import device
    enable(iot, "DEVICE_CERTIFICATE_SHARED_CHECK")
    out, ca, cert, key = device(iot, tmp_path, emu, "meter-1")
    # Compliant: two client ids use the certificate one after the other.
    hang_up(connected(emu, ca, "meter-1", cert, key))
    emu.sync()
    b = connected(emu, ca, "meter-1b", cert, key)
    try:
        emu.sync()
        audit_counts(iot, "DEVICE_CERTIFICATE_SHARED_CHECK", "COMPLETED_COMPLIANT", 1, 0)
        # Non-compliant: a second device connects with it at the same time.
        hang_up(connected(emu, ca, "meter-2", cert, key))
    finally:
        hang_up(b)
    emu.sync()
    task_id = audit_counts(iot, "DEVICE_CERTIFICATE_SHARED_CHECK", "COMPLETED_NON_COMPLIANT", 1, 1)
    f = connection_findings(iot, task_id, "DEVICE_CERTIFICATE_SHARED_CHECK",
                            "deviceCertificateId")[out["certificateId"]]
    assert f["severity"] == "CRITICAL"
    assert f["reasonForNonComplianceCode"] == "CERTIFICATE_SHARED_BY_MULTIPLE_DEVICES"
    assert f["reasonForNonCompliance"] == "Certificate shared by one or more devices."
    related = iot.list_related_resources_for_audit_finding(
        findingId=f["findingId"])["relatedResources"]
    assert [r["resourceIdentifier"]["clientId"] for r in related] == [
        "meter-2", "meter-1b", "meter-1"]
    assert {r["resourceType"] for r in related} == {"CLIENT_ID"}
    # Through the AWS CLI too.
    listed = emu.aws_json("iot", "list-audit-findings", "--task-id", task_id,
                          "--check-name", "DEVICE_CERTIFICATE_SHARED_CHECK")
    assert listed["findings"][0]["nonCompliantResource"]["resourceIdentifier"] == {
        "deviceCertificateId": out["certificateId"]}
    assert "InvalidRequestException" in cli_error(
        emu, "iot", "list-audit-findings", "--task-id", task_id,
        "--check-name", "DEVICE_CERTIFICATE_SHARED")


def test_role_alias_checks(emu, iot):
    checks = ("IOT_ROLE_ALIAS_OVERLY_PERMISSIVE_CHECK",
              "IOT_ROLE_ALIAS_ALLOWS_ACCESS_TO_UNUSED_SERVICES_CHECK")
    enable(iot, *checks)
    for check in checks:
        audit_counts(iot, check, "COMPLETED_COMPLIANT", 0, 0)
    for name in ("cam-alias", "door-alias"):
        iot.create_role_alias(roleAlias=name, roleArn=ROLE)
    # The role behind an alias is IAM's, which ddlocal does not have: each
    # alias is counted and found compliant.
    for check in checks:
        task_id = audit_counts(iot, check, "COMPLETED_COMPLIANT", 2, 0)
        assert iot.list_audit_findings(taskId=task_id, checkName=check)["findings"] == []
