# SPDX-License-Identifier: MIT
"""Certificates and the TLS listener: every certificate operation through
boto3 and the AWS CLI (shapes, paging, the exact errors), thing principals,
certificates as policy targets, and devices that connect over TLS with the
files CreateKeysAndCertificate returned.

The broker refuses INACTIVE, REVOKED and unknown certificates at CONNECT."""
import datetime
import hashlib
import json
import os
import re
import socket
import ssl
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import http

PREFIX = "arn:aws:iot:us-east-1:123456789012:"
ALLOW = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def code(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"][
        "HTTPStatusCode"]


def der_id(pem):
    cert = x509.load_pem_x509_certificate(pem.encode())
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def served_ca(emu):
    status, headers, body = http("GET", emu.endpoint + "/_ddlocal/ca.pem")
    assert status == 200
    return body.decode()


def files(tmp_path, name, cert_pem, key_pem):
    cert = tmp_path / (name + ".pem")
    key = tmp_path / (name + ".key")
    cert.write_text(cert_pem)
    key.write_text(key_pem)
    return str(cert), str(key)


def self_signed(cn="outsider"):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def csr_for(key, cn="sensor-7"):
    return (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode())


def damaged(pem):
    """pem with one base64 character of its body changed (the signature no
    longer verifies)."""
    lines = pem.splitlines()
    line = lines[2]
    lines[2] = line[:20] + ("A" if line[20] != "A" else "B") + line[21:]
    return "\n".join(lines) + "\n"


# ---- TLS clients -----------------------------------------------------------

def tls_client(emu, ca_file, client_id, cert=None, key=None):
    c = mqtt.Client(client_id=client_id, protocol=mqtt.MQTTv311)
    c.tls_set(ca_certs=ca_file, certfile=cert, keyfile=key, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    return c


def try_connect(emu, ca_file, client_id, cert=None, key=None, timeout=5):
    """Connect over TLS. Returns (client, None) when CONNACK 0 arrived, else
    (None, reason): the exception or CONNACK code that ended it."""
    c = tls_client(emu, ca_file, client_id, cert, key)
    result = {}
    c.on_connect = lambda cl, u, f, rc: result.setdefault("rc", rc)
    c.on_disconnect = lambda cl, u, rc: result.setdefault("gone", rc)
    c.received = []
    c.on_message = lambda cl, u, m: c.received.append((m.topic, m.payload))
    # The loop runs on this thread until CONNACK, so a TLS alert (with TLS
    # 1.3 a refused certificate is reported after the handshake) surfaces
    # here; a connected client then gets paho's background thread.
    deadline = time.monotonic() + timeout
    try:
        c.connect("127.0.0.1", emu.mqtts_port, keepalive=30)
        while time.monotonic() < deadline and "rc" not in result and "gone" not in result:
            if c.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                break
    except (ssl.SSLError, OSError) as e:
        return None, e
    if result.get("rc") == 0 and "gone" not in result:
        c.loop_start()
        return c, None
    c.disconnect()
    return None, result or "no CONNACK"


def device(iot, tmp_path, emu, thing, active=True):
    """A thing with a certificate from CreateKeysAndCertificate, attached;
    returns (certificate response, ca path, cert path, key path)."""
    iot.create_thing(thingName=thing)
    out = iot.create_keys_and_certificate(setAsActive=active)
    iot.attach_thing_principal(thingName=thing, principal=out["certificateArn"])
    ca = tmp_path / "ca.pem"
    ca.write_text(served_ca(emu))
    cert, key = files(tmp_path, thing, out["certificatePem"], out["keyPair"]["PrivateKey"])
    emu.sync()  # the broker runs with the new certificate from here on
    return out, str(ca), cert, key


# ---- the CA ------------------------------------------------------------------

def test_ca_is_served_and_kept_across_reset(emu, iot, tmp_path):
    ca = served_ca(emu)
    cert = x509.load_pem_x509_certificate(ca.encode())
    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert bc.ca is True
    assert cert.issuer == cert.subject
    years = (cert.not_valid_after - cert.not_valid_before).days / 365
    assert 9.9 < years < 10.1
    # The TLS listener's files use the same CA.
    assert open(os.path.join(emu.data_dir, "tls", "ca.pem")).read() == ca
    emu.post("/_ddlocal/reset")
    assert served_ca(emu) == ca


def test_create_keys_and_certificate(emu, iot, tmp_path):
    out = iot.create_keys_and_certificate(setAsActive=True)
    cid = out["certificateId"]
    assert re.fullmatch(r"[0-9a-f]{64}", cid)
    assert cid == der_id(out["certificatePem"])
    assert out["certificateArn"] == PREFIX + "cert/" + cid
    assert out["keyPair"]["PrivateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert out["keyPair"]["PublicKey"].startswith("-----BEGIN PUBLIC KEY-----")
    key = serialization.load_pem_private_key(out["keyPair"]["PrivateKey"].encode(), None)
    assert key.key_size == 2048
    cert = x509.load_pem_x509_certificate(out["certificatePem"].encode())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    # Signed by the served CA.
    ca = tmp_path / "ca.pem"
    ca.write_text(served_ca(emu))
    pem = tmp_path / "c.pem"
    pem.write_text(out["certificatePem"])
    v = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(pem)], capture_output=True)
    assert v.returncode == 0, v.stdout + v.stderr

    d = iot.describe_certificate(certificateId=cid)["certificateDescription"]
    assert d["certificateArn"] == out["certificateArn"]
    assert d["certificateId"] == cid
    assert d["status"] == "ACTIVE"
    assert d["certificatePem"] == out["certificatePem"]
    assert d["ownedBy"] == "123456789012"
    assert d["certificateMode"] == "DEFAULT"
    assert d["creationDate"] == d["lastModifiedDate"]
    assert d["validity"]["notAfter"].year == 2049
    assert d["validity"]["notBefore"] < d["validity"]["notAfter"]

    # Without setAsActive a certificate is INACTIVE.
    other = iot.create_keys_and_certificate()
    assert other["certificateId"] != cid
    assert iot.describe_certificate(certificateId=other["certificateId"])[
        "certificateDescription"]["status"] == "INACTIVE"


def test_create_certificate_from_csr(emu, iot):
    key = ec.generate_private_key(ec.SECP256R1())
    out = iot.create_certificate_from_csr(certificateSigningRequest=csr_for(key),
                                          setAsActive=True)
    assert "keyPair" not in out
    assert out["certificateId"] == der_id(out["certificatePem"])
    cert = x509.load_pem_x509_certificate(out["certificatePem"].encode())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "sensor-7"
    assert iot.describe_certificate(certificateId=out["certificateId"])[
        "certificateDescription"]["status"] == "ACTIVE"
    # The same CSR again gives a distinct certificate (AWS documents this).
    again = iot.create_certificate_from_csr(certificateSigningRequest=csr_for(key))
    assert again["certificateId"] != out["certificateId"]

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert iot.create_certificate_from_csr(certificateSigningRequest=csr_for(rsa_key))

    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    k1 = ec.generate_private_key(ec.SECP256K1())
    for bad in ["not a csr", csr_for(small), csr_for(k1),
                damaged(csr_for(key))]:
        with pytest.raises(iot.exceptions.InvalidRequestException) as e:
            iot.create_certificate_from_csr(certificateSigningRequest=bad)
        assert code(e) == ("InvalidRequestException", 400)
    assert len(iot.list_certificates()["certificates"]) == 3


def test_register_certificate_without_ca(emu, iot):
    pem, _ = self_signed()
    out = iot.register_certificate_without_ca(certificatePem=pem)
    assert set(out) - {"ResponseMetadata"} == {"certificateArn", "certificateId"}
    assert out["certificateId"] == der_id(pem)
    d = iot.describe_certificate(certificateId=out["certificateId"])["certificateDescription"]
    assert d["status"] == "INACTIVE"
    assert x509.load_pem_x509_certificate(d["certificatePem"].encode()) == \
        x509.load_pem_x509_certificate(pem.encode())

    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
        iot.register_certificate_without_ca(certificatePem=pem)
    assert code(e) == ("ResourceAlreadyExistsException", 409)
    assert e.value.response["resourceId"] == out["certificateId"]
    assert e.value.response["resourceArn"] == out["certificateArn"]

    pem2, _ = self_signed("second")
    out2 = iot.register_certificate_without_ca(certificatePem=pem2, status="ACTIVE")
    assert iot.describe_certificate(certificateId=out2["certificateId"])[
        "certificateDescription"]["status"] == "ACTIVE"

    with pytest.raises(iot.exceptions.CertificateValidationException) as e:
        iot.register_certificate_without_ca(certificatePem="-----BEGIN CERTIFICATE-----\nxx\n")
    assert code(e) == ("CertificateValidationException", 400)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.register_certificate_without_ca(certificatePem=pem2, status="BOGUS")
    assert len(iot.list_certificates()["certificates"]) == 2


def signed_by(ca_pem, ca_key_pem, cn="device-9"):
    """A certificate for a new EC key, issued by the CA (ca_pem, ca_key_pem)."""
    ca = x509.load_pem_x509_certificate(ca_pem.encode())
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode(), None)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_register_certificate(emu, iot, tmp_path):
    # The PEM of a certificate ddlocal issued, deleted, then brought back:
    # the same DER, so the same certificateId (and ARN), as AWS computes it.
    first = iot.create_keys_and_certificate(setAsActive=False)
    iot.delete_certificate(certificateId=first["certificateId"])
    out = iot.register_certificate(certificatePem=first["certificatePem"], setAsActive=False)
    assert set(out) - {"ResponseMetadata"} == {"certificateArn", "certificateId"}
    assert out["certificateId"] == first["certificateId"] == der_id(first["certificatePem"])
    assert out["certificateArn"] == first["certificateArn"]
    d = iot.describe_certificate(certificateId=out["certificateId"])["certificateDescription"]
    assert d["status"] == "INACTIVE" and "caCertificateId" not in d

    # Registered twice: AWS's message, with the resource's id and ARN.
    for call in (lambda: iot.register_certificate(certificatePem=first["certificatePem"]),
                 lambda: iot.register_certificate_without_ca(
                     certificatePem=first["certificatePem"], status="ACTIVE")):
        with pytest.raises(iot.exceptions.ResourceAlreadyExistsException) as e:
            call()
        assert code(e) == ("ResourceAlreadyExistsException", 409)
        assert e.value.response["Error"]["Message"] == (
            "The certificate is already provisioned or registered")
        assert e.value.response["resourceId"] == out["certificateId"]
        assert e.value.response["resourceArn"] == out["certificateArn"]

    # With its CA's PEM: the CA must be registered, then ACTIVE.
    ca_pem, ca_key = self_signed("my-ca")
    dev = signed_by(ca_pem, ca_key)
    with pytest.raises(iot.exceptions.CertificateValidationException) as e:
        iot.register_certificate(certificatePem=dev, caCertificatePem=ca_pem)
    assert "is not registered" in str(e.value)
    ca_id = iot.register_ca_certificate(caCertificate=ca_pem,
                                        certificateMode="SNI_ONLY")["certificateId"]
    with pytest.raises(iot.exceptions.CertificateStateException) as e:
        iot.register_certificate(certificatePem=dev, caCertificatePem=ca_pem)
    assert code(e) == ("CertificateStateException", 406)
    iot.update_ca_certificate(certificateId=ca_id, newStatus="ACTIVE")
    # Checked against it, and the CA's id is kept.
    out = iot.register_certificate(certificatePem=dev, caCertificatePem=ca_pem, setAsActive=True)
    d = iot.describe_certificate(certificateId=out["certificateId"])["certificateDescription"]
    assert d["status"] == "ACTIVE"
    assert d["caCertificateId"] == der_id(ca_pem)
    assert out["certificateId"] == der_id(dev)
    # status in the body when setAsActive is not given.
    dev2 = signed_by(ca_pem, ca_key, "device-10")
    out2 = iot.register_certificate(certificatePem=dev2, caCertificatePem=ca_pem, status="REVOKED")
    assert iot.describe_certificate(certificateId=out2["certificateId"])[
        "certificateDescription"]["status"] == "REVOKED"

    # Errors, each storing nothing.
    n = len(iot.list_certificates()["certificates"])
    other_ca, _ = self_signed("other-ca")
    bad = [({"certificatePem": signed_by(ca_pem, ca_key, "d3"), "caCertificatePem": other_ca},
            "CertificateValidationException",
            "The certificate is not signed by the given CA certificate."),
           ({"certificatePem": "-----BEGIN CERTIFICATE-----\nxx\n"},
            "CertificateValidationException",
            "The certificate is not a valid PEM-encoded X.509 certificate."),
           ({"certificatePem": dev2 + "x", "caCertificatePem": "not a pem"},
            "CertificateValidationException",
            "The CA certificate is not a valid PEM-encoded X.509 certificate."),
           ({"certificatePem": signed_by(ca_pem, ca_key, "d4"), "status": "BOGUS"},
            "InvalidRequestException", None)]
    for kwargs, err, msg in bad:
        with pytest.raises(iot.exceptions.ClientError) as e:
            iot.register_certificate(**kwargs)
        assert code(e) == (err, 400)
        if msg:
            assert e.value.response["Error"]["Message"] == msg
    assert len(iot.list_certificates()["certificates"]) == n

    # The AWS CLI: register-certificate with --ca-certificate-pem and an error.
    dev_file, ca_file = tmp_path / "dev.pem", tmp_path / "ca.pem"
    dev_file.write_text(signed_by(ca_pem, ca_key, "cli-device"))
    ca_file.write_text(ca_pem)
    cli = emu.aws_json("iot", "register-certificate", "--certificate-pem",
                       "file://" + str(dev_file), "--ca-certificate-pem", "file://" + str(ca_file),
                       "--status", "ACTIVE")
    assert cli["certificateId"] == der_id(dev_file.read_text())
    assert cli["certificateArn"] == PREFIX + "cert/" + cli["certificateId"]
    p = emu.aws("iot", "register-certificate", "--certificate-pem", "file://" + str(dev_file),
                check=False)
    assert p.returncode == 254
    assert "An error occurred (ResourceAlreadyExistsException) when calling the " \
        "RegisterCertificate operation: The certificate is already provisioned or registered" \
        in p.stderr
    ca_file.write_text(other_ca)
    dev_file.write_text(signed_by(ca_pem, ca_key, "cli-device-2"))
    p = emu.aws("iot", "register-certificate", "--certificate-pem", "file://" + str(dev_file),
                "--ca-certificate-pem", "file://" + str(ca_file), check=False)
    assert p.returncode == 254
    assert "(CertificateValidationException) when calling the RegisterCertificate operation: " \
        "The certificate is not signed by the given CA certificate." in p.stderr


def test_list_certificates_order_and_paging(emu, iot):
    ids = [iot.create_keys_and_certificate()["certificateId"] for _ in range(5)]
    newest_first = [c["certificateId"] for c in iot.list_certificates()["certificates"]]
    assert newest_first == ids[::-1]
    asc = iot.list_certificates(ascendingOrder=True)["certificates"]
    assert [c["certificateId"] for c in asc] == ids
    assert set(asc[0]) == {"certificateArn", "certificateId", "status", "certificateMode",
                           "creationDate"}

    seen, marker = [], None
    while True:
        args = {"pageSize": 2, "ascendingOrder": True}
        if marker:
            args["marker"] = marker
        page = iot.list_certificates(**args)
        seen += [c["certificateId"] for c in page["certificates"]]
        marker = page.get("nextMarker")
        if not marker:
            break
    assert seen == ids
    # A marker from the other order is refused.
    first = iot.list_certificates(pageSize=2)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_certificates(pageSize=2, ascendingOrder=True, marker=first["nextMarker"])
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.list_certificates(pageSize=251)

    # --page-size is the model's own pageSize here, so the CLI prints one
    # page and its nextMarker; --marker continues.
    out = emu.aws_json("iot", "list-certificates", "--page-size", "3")
    assert [c["certificateId"] for c in out["certificates"]] == ids[:1:-1]
    out = emu.aws_json("iot", "list-certificates", "--page-size", "3", "--marker",
                       out["nextMarker"])
    assert [c["certificateId"] for c in out["certificates"]] == ids[1::-1]
    assert "nextMarker" not in out
    out = emu.aws_json("iot", "list-certificates", "--ascending-order")
    assert [c["certificateId"] for c in out["certificates"]] == ids


def test_update_certificate(emu, iot):
    cid = iot.create_keys_and_certificate()["certificateId"]
    for status in ["ACTIVE", "ACTIVE", "INACTIVE", "ACTIVE", "REGISTER_INACTIVE"]:
        iot.update_certificate(certificateId=cid, newStatus=status)
        assert iot.describe_certificate(certificateId=cid)["certificateDescription"][
            "status"] == status
    for status in ["PENDING_TRANSFER", "PENDING_ACTIVATION", "ENABLED"]:
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.update_certificate(certificateId=cid, newStatus=status)

    iot.update_certificate(certificateId=cid, newStatus="REVOKED")
    iot.update_certificate(certificateId=cid, newStatus="REVOKED")
    for status in ["ACTIVE", "INACTIVE"]:
        with pytest.raises(iot.exceptions.CertificateStateException) as e:
            iot.update_certificate(certificateId=cid, newStatus=status)
        assert code(e) == ("CertificateStateException", 406)
    d = iot.describe_certificate(certificateId=cid)["certificateDescription"]
    assert d["status"] == "REVOKED"

    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_certificate(certificateId="ab" * 32, newStatus="ACTIVE")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_certificate(certificateId="xy" * 32, newStatus="ACTIVE")
    # Clients check only the minimum length; the server checks the rest.
    for bad in ["ab" * 31, "ab" * 33]:
        status, headers, body = http("PUT", emu.endpoint + "/certificates/%s?newStatus=ACTIVE"
                                     % bad, b"")
        assert status == 400 and headers["x-amzn-ErrorType"] == "InvalidRequestException"
    # Upper-case hex names the same certificate.
    assert iot.describe_certificate(certificateId=cid.upper())["certificateDescription"][
        "certificateId"] == cid


def test_delete_certificate_rules(emu, iot):
    iot.create_thing(thingName="lamp-1")
    iot.create_policy(policyName="p1", policyDocument=ALLOW)
    out = iot.create_keys_and_certificate(setAsActive=True)
    cid, arn = out["certificateId"], out["certificateArn"]

    for force in (False, True):
        with pytest.raises(iot.exceptions.CertificateStateException) as e:
            iot.delete_certificate(certificateId=cid, forceDelete=force)
        assert code(e) == ("CertificateStateException", 406)
        assert e.value.response["Error"]["Message"] == (
            "Certificate must be deactivated (not ACTIVE) before deletion. Id: " + cid)

    iot.update_certificate(certificateId=cid, newStatus="INACTIVE")
    iot.attach_thing_principal(thingName="lamp-1", principal=arn)
    iot.attach_policy(policyName="p1", target=arn)
    for force in (False, True):
        with pytest.raises(iot.exceptions.DeleteConflictException) as e:
            iot.delete_certificate(certificateId=cid, forceDelete=force)
        assert code(e) == ("DeleteConflictException", 409)
        assert e.value.response["Error"]["Message"] == (
            "Things must be detached before deletion (arn: %s)" % arn)
    iot.detach_thing_principal(thingName="lamp-1", principal=arn)
    with pytest.raises(iot.exceptions.DeleteConflictException) as e:
        iot.delete_certificate(certificateId=cid)
    assert e.value.response["Error"]["Message"] == (
        "Certificate policies must be detached before deletion (arn: %s)" % arn)
    p = emu.aws("iot", "delete-certificate", "--certificate-id", cid, check=False)
    assert p.returncode != 0
    assert "(DeleteConflictException) when calling the DeleteCertificate operation: " \
        "Certificate policies must be detached before deletion (arn: %s)" % arn in p.stderr
    # forceDelete takes the policy attachments with it.
    iot.delete_certificate(certificateId=cid, forceDelete=True)
    assert iot.list_targets_for_policy(policyName="p1")["targets"] == []
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_certificate(certificateId=cid)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_certificate(certificateId=cid)

    # Detached, inactive and without policies it simply goes.
    other = iot.create_keys_and_certificate()["certificateId"]
    iot.update_certificate(certificateId=other, newStatus="REVOKED")
    iot.delete_certificate(certificateId=other)
    assert iot.list_certificates()["certificates"] == []


def test_thing_principals(emu, iot):
    for t in ["t-a", "t-b", "t-c"]:
        iot.create_thing(thingName=t)
    c1 = iot.create_keys_and_certificate()["certificateArn"]
    c2 = iot.create_keys_and_certificate()["certificateArn"]
    for t in ["t-c", "t-a", "t-b"]:
        iot.attach_thing_principal(thingName=t, principal=c1)
    iot.attach_thing_principal(thingName="t-a", principal=c1)  # idempotent
    iot.attach_thing_principal(thingName="t-a", principal=c2)

    assert sorted(iot.list_thing_principals(thingName="t-a")["principals"]) == sorted([c1, c2])
    assert iot.list_principal_things(principal=c1)["things"] == ["t-a", "t-b", "t-c"]
    page = iot.list_principal_things(principal=c1, maxResults=2)
    assert page["things"] == ["t-a", "t-b"]
    rest = iot.list_principal_things(principal=c1, maxResults=2, nextToken=page["nextToken"])
    assert rest["things"] == ["t-c"] and "nextToken" not in rest
    p1 = iot.list_thing_principals(thingName="t-a", maxResults=1)
    p2 = iot.list_thing_principals(thingName="t-a", maxResults=1, nextToken=p1["nextToken"])
    assert sorted(p1["principals"] + p2["principals"]) == sorted([c1, c2])

    iot.detach_thing_principal(thingName="t-b", principal=c1)
    iot.detach_thing_principal(thingName="t-b", principal=c1)  # not attached: fine
    assert iot.list_principal_things(principal=c1)["things"] == ["t-a", "t-c"]
    assert iot.list_thing_principals(thingName="t-b")["principals"] == []

    # As AWS, a thing that still has principals cannot be deleted.
    with pytest.raises(iot.exceptions.InvalidRequestException) as e:
        iot.delete_thing(thingName="t-c")
    assert code(e) == ("InvalidRequestException", 400)
    assert e.value.response["Error"]["Message"] == (
        "Cannot delete. Thing t-c is still attached to one or more principals")
    p = emu.aws("iot", "delete-thing", "--thing-name", "t-c", check=False)
    assert p.returncode != 0
    assert "(InvalidRequestException) when calling the DeleteThing operation: Cannot delete. " \
        "Thing t-c is still attached to one or more principals" in p.stderr
    assert iot.describe_thing(thingName="t-c")["thingName"] == "t-c"
    assert iot.list_principal_things(principal=c1)["things"] == ["t-a", "t-c"]
    iot.detach_thing_principal(thingName="t-c", principal=c1)
    iot.delete_thing(thingName="t-c")
    assert iot.list_principal_things(principal=c1)["things"] == ["t-a"]

    ghost = PREFIX + "cert/" + "cd" * 32
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_thing_principal(thingName="nope", principal=c1)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.attach_thing_principal(thingName="t-a", principal=ghost)
    with pytest.raises(iot.exceptions.ResourceNotFoundException) as e:
        iot.list_thing_principals(thingName="nope")
    assert e.value.response["Error"]["Message"] == (
        "Failed to list principals for thing nope because the thing does not exist in your "
        "account")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.list_principal_things(principal=ghost)
    for bad in ["arn:aws:cognito-identity:us-east-1:123456789012:identitypool/x",
                PREFIX + "thing/t-a", PREFIX + "cert/xyz", "garbage"]:
        with pytest.raises(iot.exceptions.InvalidRequestException):
            iot.attach_thing_principal(thingName="t-a", principal=bad)
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.attach_thing_principal(thingName="bad name!", principal=c1)


def test_certificate_as_policy_target(emu, iot):
    iot.create_policy(policyName="dev", policyDocument=ALLOW)
    arn = iot.create_keys_and_certificate(setAsActive=True)["certificateArn"]
    iot.attach_policy(policyName="dev", target=arn)
    assert iot.list_targets_for_policy(policyName="dev")["targets"] == [arn]
    assert [p["policyName"] for p in iot.list_attached_policies(target=arn)["policies"]] == \
        ["dev"]
    iot.detach_policy(policyName="dev", target=arn)
    assert iot.list_attached_policies(target=arn)["policies"] == []


# ---- the AWS CLI -------------------------------------------------------------

def test_cli_lifecycle_and_errors(emu, iot, tmp_path):
    out = emu.aws_json("iot", "create-keys-and-certificate", "--set-as-active")
    cid = out["certificateId"]
    assert out["certificateArn"].endswith("cert/" + cid)
    d = emu.aws_json("iot", "describe-certificate", "--certificate-id", cid)
    assert d["certificateDescription"]["status"] == "ACTIVE"
    # CLI v2 prints timestamps as ISO 8601.
    assert d["certificateDescription"]["validity"]["notAfter"].startswith("2049-12-31T23:59:59")
    lst = emu.aws_json("iot", "list-certificates")
    assert [c["certificateId"] for c in lst["certificates"]] == [cid]

    p = emu.aws("iot", "delete-certificate", "--certificate-id", cid, check=False)
    assert p.returncode == 254
    assert "An error occurred (CertificateStateException) when calling the " \
           "DeleteCertificate operation: " in p.stderr
    emu.aws("iot", "update-certificate", "--certificate-id", cid, "--new-status", "REVOKED")
    p = emu.aws("iot", "update-certificate", "--certificate-id", cid, "--new-status", "ACTIVE",
                check=False)
    assert p.returncode == 254 and "(CertificateStateException)" in p.stderr
    emu.aws("iot", "delete-certificate", "--certificate-id", cid)
    p = emu.aws("iot", "describe-certificate", "--certificate-id", cid, check=False)
    assert p.returncode == 254
    assert "An error occurred (ResourceNotFoundException) when calling the " \
           "DescribeCertificate operation: " in p.stderr

    key = ec.generate_private_key(ec.SECP384R1())
    csr = tmp_path / "d.csr"
    csr.write_text(csr_for(key))
    out = emu.aws_json("iot", "create-certificate-from-csr",
                       "--certificate-signing-request", "file://" + str(csr))
    assert out["certificateId"] == der_id(out["certificatePem"])
    pem = tmp_path / "reg.pem"
    pem.write_text(out["certificatePem"])
    p = emu.aws("iot", "register-certificate-without-ca", "--certificate-pem",
                "file://" + str(pem), check=False)
    assert p.returncode == 254 and "(ResourceAlreadyExistsException)" in p.stderr

    emu.aws("iot", "create-thing", "--thing-name", "cli-thing")
    emu.aws("iot", "attach-thing-principal", "--thing-name", "cli-thing",
            "--principal", out["certificateArn"])
    assert emu.aws_json("iot", "list-thing-principals", "--thing-name", "cli-thing")[
        "principals"] == [out["certificateArn"]]
    assert emu.aws_json("iot", "list-principal-things", "--principal", out["certificateArn"])[
        "things"] == ["cli-thing"]
    p = emu.aws("iot", "delete-certificate", "--certificate-id", out["certificateId"],
                check=False)
    assert p.returncode == 254 and "(DeleteConflictException)" in p.stderr


# ---- the TLS listener ----------------------------------------------------------

def test_device_connects_over_tls_and_round_trips(emu, iot, tmp_path):
    out, ca, cert, key = device(iot, tmp_path, emu, "lamp-7")
    c, why = try_connect(emu, ca, "lamp-7", cert, key)
    assert c, why
    try:
        assert c.subscribe("lamps/lamp-7/cmd", 1)[0] == mqtt.MQTT_ERR_SUCCESS
        time.sleep(0.2)
        c.publish("lamps/lamp-7/cmd", b"on", qos=1).wait_for_publish(timeout=5)
        deadline = time.monotonic() + 5
        while not c.received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert c.received == [("lamps/lamp-7/cmd", b"on")]
    finally:
        c.disconnect()
        c.loop_stop()
    # The plain listener still works alongside.
    plain = mqtt.Client(client_id="plain-1", protocol=mqtt.MQTTv311)
    plain.connect("127.0.0.1", emu.mqtt_port)
    plain.disconnect()


def test_csr_certificate_connects_over_tls(emu, iot, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    out = iot.create_certificate_from_csr(certificateSigningRequest=csr_for(key),
                                          setAsActive=True)
    ca = tmp_path / "ca.pem"
    ca.write_text(served_ca(emu))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert, keyf = files(tmp_path, "csr-dev", out["certificatePem"], key_pem)
    emu.sync()  # the broker runs with the new certificate from here on
    c, why = try_connect(emu, str(ca), "csr-dev", cert, keyf)
    assert c, why
    c.disconnect()
    c.loop_stop()


def test_client_without_certificate_is_refused(emu, iot, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(served_ca(emu))
    c, why = try_connect(emu, str(ca), "anon")
    assert c is None, "a client without a certificate got CONNACK 0"


def test_certificate_from_another_ca_is_refused(emu, iot, tmp_path):
    pem, key_pem = self_signed("intruder")
    iot.register_certificate_without_ca(certificatePem=pem, status="ACTIVE")
    ca = tmp_path / "ca.pem"
    ca.write_text(served_ca(emu))
    cert, key = files(tmp_path, "intruder", pem, key_pem)
    c, why = try_connect(emu, str(ca), "intruder", cert, key)
    assert c is None, "a certificate not issued by the emulator's CA was accepted"


def test_mqtts_port_zero_turns_the_listener_off(make_emulator, tmp_path):
    emu = make_emulator("--mqtts-port", "0")
    emu.start()
    assert not os.path.exists(os.path.join(emu.data_dir, "tls"))
    conf = open(os.path.join(emu.data_dir, "mosquitto.conf")).read()
    assert "require_certificate" not in conf
    # The CA is still made on demand.
    assert served_ca(emu).startswith("-----BEGIN CERTIFICATE-----")


def test_mqtts_port_taken_is_reported(make_emulator, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        emu = make_emulator("--mqtts-port", str(port))
        with pytest.raises(RuntimeError) as e:
            emu.start()
        assert "MQTTS port %d on 127.0.0.1 is taken" % port in str(e.value)


# ---- refused at CONNECT (the broker's part) -----------------------------------

def test_inactive_certificate_is_refused(emu, iot, tmp_path):
    out, ca, cert, key = device(iot, tmp_path, emu, "lamp-i", active=False)
    c, why = try_connect(emu, ca, "lamp-i", cert, key)
    assert c is None, "an INACTIVE certificate got CONNACK 0"


def test_revoked_certificate_is_refused(emu, iot, tmp_path):
    out, ca, cert, key = device(iot, tmp_path, emu, "lamp-r")
    c, why = try_connect(emu, ca, "lamp-r", cert, key)
    assert c, why
    c.disconnect()
    c.loop_stop()
    iot.update_certificate(certificateId=out["certificateId"], newStatus="REVOKED")
    emu.sync()  # the broker runs with the change from here on
    c, why = try_connect(emu, ca, "lamp-r", cert, key)
    assert c is None, "a REVOKED certificate got CONNACK 0"


def test_unknown_certificate_is_refused(emu, iot, tmp_path):
    out, ca, cert, key = device(iot, tmp_path, emu, "lamp-u", active=False)
    iot.detach_thing_principal(thingName="lamp-u", principal=out["certificateArn"])
    iot.delete_certificate(certificateId=out["certificateId"])
    emu.sync()
    c, why = try_connect(emu, ca, "lamp-u", cert, key)
    assert c is None, "a deleted (unknown) certificate got CONNACK 0"
