# SPDX-License-Identifier: MIT
"""Registered CA certificates with boto3 and the AWS CLI: GetRegistrationCode,
RegisterCACertificate (verification certificate, SNI_ONLY, setAsActive,
allowAutoRegistration), Describe/List/Update/DeleteCACertificate,
ListCertificatesByCA, AWS's refusals (a key under 2048 bits, a wrong
registration code, a CA that did not sign the verification certificate, an
ACTIVE CA deleted); and revocation at the issuer: POST /_ddlocal/ca/revoke,
the CRL at GET /_ddlocal/ca.crl, and a registered CA's CRL uploaded to
POST /_ddlocal/ca/crl."""
import datetime
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from conftest import cli_error, http

PREFIX = "arn:aws:iot:us-east-1:123456789012:"


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn="Lab Root CA", key=None, issuer=None):
    """A CA certificate (self-signed, or signed by issuer = (cert, key)) and its key."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    signer_cert, signer_key = issuer if issuer else (None, key)
    cert = (x509.CertificateBuilder().subject_name(name(cn))
            .issuer_name(signer_cert.subject if signer_cert else name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(signer_key, hashes.SHA256()))
    return cert, key


def leaf(ca, cn):
    """A certificate for a new key, signed by ca = (cert, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    return (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(ca[0].subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca[1], hashes.SHA256()))


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def register(iot, ca, **kwargs):
    code = iot.get_registration_code()["registrationCode"]
    return iot.register_ca_certificate(caCertificate=pem(ca[0]),
                                       verificationCertificate=pem(leaf(ca, code)), **kwargs)


def err(exc):
    return exc.value.response["Error"]["Code"], exc.value.response["ResponseMetadata"][
        "HTTPStatusCode"]


def test_registration_code_is_stable(iot):
    a = iot.get_registration_code()["registrationCode"]
    assert len(a) == 64 and int(a, 16) >= 0
    assert iot.get_registration_code()["registrationCode"] == a


def test_register_describe_list_update_delete(emu, iot):
    now = emu.clock()["now"]
    ca = make_ca()
    out = register(iot, ca, setAsActive=True, allowAutoRegistration=True,
                   registrationConfig={"templateBody": "{}", "roleArn": "arn:aws:iam::1:role/R"},
                   tags=[{"Key": "env", "Value": "lab"}])
    cid = out["certificateId"]
    assert out["certificateArn"] == PREFIX + "cacert/" + cid
    d = iot.describe_ca_certificate(certificateId=cid)
    desc = d["certificateDescription"]
    assert (desc["status"], desc["autoRegistrationStatus"], desc["certificateMode"]) == (
        "ACTIVE", "ENABLE", "DEFAULT")
    assert desc["ownedBy"] == "123456789012" and desc["customerVersion"] == 1
    assert desc["certificatePem"].strip() == pem(ca[0]).strip()
    assert abs(desc["creationDate"].timestamp() - now) < 5
    assert desc["validity"]["notAfter"] > desc["validity"]["notBefore"]
    assert d["registrationConfig"] == {"templateBody": "{}", "roleArn": "arn:aws:iam::1:role/R"}
    assert iot.list_tags_for_resource(resourceArn=out["certificateArn"])["tags"] == [
        {"Key": "env", "Value": "lab"}]

    with pytest.raises(iot.exceptions.ResourceAlreadyExistsException):
        register(iot, ca)

    # Active CAs cannot be deleted; inactive ones can.
    with pytest.raises(iot.exceptions.CertificateStateException) as e:
        iot.delete_ca_certificate(certificateId=cid)
    assert err(e) == ("CertificateStateException", 406)
    iot.update_ca_certificate(certificateId=cid, newStatus="INACTIVE",
                              newAutoRegistrationStatus="DISABLE", removeAutoRegistration=True)
    d = iot.describe_ca_certificate(certificateId=cid)
    desc = d["certificateDescription"]
    assert (desc["status"], desc["autoRegistrationStatus"], desc["customerVersion"]) == (
        "INACTIVE", "DISABLE", 2)
    assert "registrationConfig" not in d
    listed = iot.list_ca_certificates()["certificates"]
    assert [(c["certificateId"], c["status"]) for c in listed] == [(cid, "INACTIVE")]
    iot.delete_ca_certificate(certificateId=cid)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.describe_ca_certificate(certificateId=cid)
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.update_ca_certificate(certificateId=cid, newStatus="ACTIVE")
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.delete_ca_certificate(certificateId=cid)


def test_register_refusals(emu, iot):
    ca = make_ca()
    code = iot.get_registration_code()["registrationCode"]
    with pytest.raises(iot.exceptions.RegistrationCodeValidationException) as e:
        iot.register_ca_certificate(caCertificate=pem(ca[0]),
                                    verificationCertificate=pem(leaf(ca, "not-the-code")))
    assert err(e) == ("RegistrationCodeValidationException", 400)
    other = make_ca("Other CA")
    with pytest.raises(iot.exceptions.CertificateValidationException) as e:
        iot.register_ca_certificate(caCertificate=pem(ca[0]),
                                    verificationCertificate=pem(leaf(other, code)))
    assert "not signed by the CA" in str(e.value)
    small = make_ca("Weak CA", key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(iot.exceptions.CertificateValidationException) as e:
        iot.register_ca_certificate(caCertificate=pem(small[0]),
                                    verificationCertificate=pem(leaf(small, code)))
    assert "1024 bits" in str(e.value) and "2048" in str(e.value)
    not_ca = leaf(ca, "device")
    with pytest.raises(iot.exceptions.CertificateValidationException) as e:
        iot.register_ca_certificate(caCertificate=pem(not_ca),
                                    verificationCertificate=pem(leaf(ca, code)))
    assert "not a CA certificate" in str(e.value)
    with pytest.raises(iot.exceptions.CertificateValidationException):
        iot.register_ca_certificate(caCertificate="-----BEGIN CERTIFICATE-----\nxx\n",
                                    verificationCertificate=pem(leaf(ca, code)))
    # Without a verification certificate only SNI_ONLY is accepted.
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.register_ca_certificate(caCertificate=pem(ca[0]))
    assert iot.list_ca_certificates()["certificates"] == []
    out = iot.register_ca_certificate(caCertificate=pem(ca[0]), certificateMode="SNI_ONLY")
    desc = iot.describe_ca_certificate(certificateId=out["certificateId"])[
        "certificateDescription"]
    assert (desc["certificateMode"], desc["status"], desc["autoRegistrationStatus"]) == (
        "SNI_ONLY", "INACTIVE", "DISABLE")
    with pytest.raises(iot.exceptions.InvalidRequestException):
        iot.update_ca_certificate(certificateId=out["certificateId"], newStatus="REVOKED")


def test_register_certificate_refuses_short_rsa_keys(iot):
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name("weak")).issuer_name(name("weak"))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    with pytest.raises(iot.exceptions.CertificateValidationException) as e:
        iot.register_certificate_without_ca(certificatePem=pem(cert), status="ACTIVE")
    assert err(e) == ("CertificateValidationException", 400)
    assert "1024 bits" in str(e.value)
    assert iot.list_certificates()["certificates"] == []


def test_ten_cas_per_subject(iot):
    for _ in range(10):
        register(iot, make_ca("Same Subject"))
    with pytest.raises(iot.exceptions.LimitExceededException):
        register(iot, make_ca("Same Subject"))
    register(iot, make_ca("Another Subject"))


def test_list_paging_and_certificates_by_ca(iot):
    cas = [make_ca(f"CA {i}") for i in range(3)]
    ids = [register(iot, ca, setAsActive=True)["certificateId"] for ca in cas]
    first = iot.list_ca_certificates(pageSize=2, ascendingOrder=True)
    assert [c["certificateId"] for c in first["certificates"]] == ids[:2]
    rest = iot.list_ca_certificates(pageSize=2, ascendingOrder=True, marker=first["nextMarker"])
    assert [c["certificateId"] for c in rest["certificates"]] == ids[2:]
    assert "nextMarker" not in rest
    newest = iot.list_ca_certificates()["certificates"]
    assert [c["certificateId"] for c in newest] == ids[::-1]

    devs = []
    for i in range(3):
        d = leaf(cas[0], f"dev-{i}")
        devs.append(iot.register_certificate(certificatePem=pem(d),
                                             caCertificatePem=pem(cas[0][0]))["certificateId"])
    iot.register_certificate(certificatePem=pem(leaf(cas[1], "other")),
                             caCertificatePem=pem(cas[1][0]))
    got = iot.list_certificates_by_ca(caCertificateId=ids[0], ascendingOrder=True)
    assert [c["certificateId"] for c in got["certificates"]] == devs
    page = iot.list_certificates_by_ca(caCertificateId=ids[0], pageSize=2)
    assert [c["certificateId"] for c in page["certificates"]] == devs[:0:-1]
    assert iot.list_certificates_by_ca(caCertificateId=ids[2])["certificates"] == []


def test_cli(emu, iot, tmp_path):
    ca = make_ca("CLI CA")
    code = emu.aws_json("iot", "get-registration-code")["registrationCode"]
    (tmp_path / "ca.pem").write_text(pem(ca[0]))
    (tmp_path / "verify.pem").write_text(pem(leaf(ca, code)))
    out = emu.aws_json("iot", "register-ca-certificate", "--ca-certificate",
                       "file://" + str(tmp_path / "ca.pem"), "--verification-certificate",
                       "file://" + str(tmp_path / "verify.pem"), "--set-as-active")
    cid = out["certificateId"]
    d = emu.aws_json("iot", "describe-ca-certificate", "--certificate-id", cid)
    assert d["certificateDescription"]["status"] == "ACTIVE"
    assert "(CertificateStateException)" in cli_error(
        emu, "iot", "delete-ca-certificate", "--certificate-id", cid)
    emu.aws("iot", "update-ca-certificate", "--certificate-id", cid, "--new-status", "INACTIVE")
    emu.aws("iot", "delete-ca-certificate", "--certificate-id", cid)
    assert "(ResourceNotFoundException)" in cli_error(
        emu, "iot", "describe-ca-certificate", "--certificate-id", cid)


# ---- revocation at the issuer ----

def post(emu, path, doc):
    status, _, body = http("POST", emu.endpoint + path, json.dumps(doc).encode())
    return status, json.loads(body or b"{}")


def crl_serials(emu):
    status, _, body = http("GET", emu.endpoint + "/_ddlocal/ca.crl")
    assert status == 200
    crl = x509.load_pem_x509_crl(body)
    status, _, ca_pem = http("GET", emu.endpoint + "/_ddlocal/ca.pem")
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert crl.issuer == ca.subject and crl.is_signature_valid(ca.public_key())
    return sorted(r.serial_number for r in crl)


def test_revoke_at_ddlocal_ca_and_crl(emu, iot):
    assert crl_serials(emu) == []
    a = iot.create_keys_and_certificate(setAsActive=True)
    b = iot.create_keys_and_certificate(setAsActive=True)
    status, out = post(emu, "/_ddlocal/ca/revoke", {"certificateId": a["certificateId"]})
    assert status == 200 and out["certificateId"] == a["certificateId"]
    serial = x509.load_pem_x509_certificate(a["certificatePem"].encode()).serial_number
    assert int(out["serialNumber"], 16) == serial
    post(emu, "/_ddlocal/ca/revoke", {"certificateId": a["certificateId"]})  # again: once
    assert crl_serials(emu) == [serial]
    # Revocation at the issuer is not IoT's status: the certificate stays ACTIVE.
    assert iot.describe_certificate(certificateId=a["certificateId"])[
        "certificateDescription"]["status"] == "ACTIVE"
    assert b["certificateId"] != a["certificateId"]

    status, out = post(emu, "/_ddlocal/ca/revoke", {"certificateId": "0" * 64})
    assert status == 404
    status, out = post(emu, "/_ddlocal/ca/revoke", {"certificateId": "nope"})
    assert status == 400
    # A certificate another CA issued is revoked by uploading that CA's CRL.
    ca = make_ca("Foreign")
    other = iot.register_certificate_without_ca(certificatePem=pem(leaf(ca, "x")),
                                                status="ACTIVE")
    status, out = post(emu, "/_ddlocal/ca/revoke", {"certificateId": other["certificateId"]})
    assert status == 400 and "/_ddlocal/ca/crl" in out["message"]


def test_upload_crl_of_registered_ca(emu, iot):
    ca = make_ca("Issuing CA")
    cid = register(iot, ca, setAsActive=True)["certificateId"]
    dev = leaf(ca, "dev")
    now = datetime.datetime.utcnow()
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca[0].subject)
               .last_update(now).next_update(now + datetime.timedelta(days=1))
               .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                        .serial_number(dev.serial_number)
                                        .revocation_date(now).build()))
    crl = builder.sign(ca[1], hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()
    status, out = post(emu, "/_ddlocal/ca/crl", {"caCertificateId": cid, "crl": crl})
    assert status == 200 and out == {"caCertificateId": cid, "revoked": 1}

    forged = builder.sign(make_ca("Issuing CA")[1], hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM).decode()
    status, out = post(emu, "/_ddlocal/ca/crl", {"caCertificateId": cid, "crl": forged})
    assert status == 400 and "signed by the CA" in out["message"]
    status, out = post(emu, "/_ddlocal/ca/crl", {"caCertificateId": cid, "crl": "junk"})
    assert status == 400
    status, out = post(emu, "/_ddlocal/ca/crl", {"caCertificateId": "1" * 64, "crl": crl})
    assert status == 404
