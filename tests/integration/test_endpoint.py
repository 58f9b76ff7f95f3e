# SPDX-License-Identifier: MIT
"""DescribeEndpoint: iot:Data-ATS and iot:Data give the launcher's MQTT/TLS
listener, and a Device SDK (Debian's python3-awscrt) connects through that
answer with a certificate from CreateKeysAndCertificate and publishes with
QoS 1; iot:CredentialProvider and iot:Jobs answer AWS's form; without a TLS
listener every type does; the server certificate names the --public-url
host; ddlocal-server's --mqtts-endpoint option on its own; --tls-dir keeps
the files an earlier start wrote while they still serve."""
import json
import os
import re
import subprocess
import time

import pytest
from cryptography import x509

from conftest import ROOT, free_port, http

ALLOW = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iot:Connect"],
     "Resource": "arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
    {"Effect": "Allow", "Action": ["iot:Publish"],
     "Resource": "arn:aws:iot:us-east-1:123456789012:topic/sensors/*"}]})
SERVER = os.path.join(ROOT, "build", "ddlocal-server")


def aws_form(kind, region="us-east-1", domain="amazonaws.com"):
    return re.compile(r"^([a-z][a-z0-9]{13})%s\.iot\.%s\.%s$" % (
        re.escape(kind), re.escape(region), re.escape(domain)))


def endpoints(iot):
    return {t: iot.describe_endpoint(endpointType=t)["endpointAddress"]
            for t in ("iot:Data", "iot:Data-ATS", "iot:CredentialProvider", "iot:Jobs")}


# The device, in a process of its own: Debian's awscrt can crash while the
# interpreter tears down connections (a native thread outlives them), so the
# device reports on stdout and leaves with os._exit, and a crash cannot take
# the test run with it.
DEVICE = """
import json, os, sys
from awscrt import io, mqtt
host, port, cert, key, ca = sys.argv[1], int(sys.argv[2]), *map(open, sys.argv[3:6])
opts = io.TlsContextOptions.create_client_with_mtls(cert.read().encode(), key.read().encode())
opts.override_default_trust_store(ca.read().encode())
client = mqtt.Client(io.ClientBootstrap.get_or_create_static_default(), io.ClientTlsContext(opts))
conn = mqtt.Connection(client, host_name=host, port=port, client_id="sensor-1",
                       clean_session=True, keep_alive_secs=30)
out = {}
try:
    conn.connect().result(timeout=10)
except Exception as e:
    out["connect_error"] = type(e).__name__
else:
    puback, packet_id = conn.publish("sensors/sensor-1/temp", b'{"t": 21}',
                                     mqtt.QoS.AT_LEAST_ONCE)
    out["puback"] = puback.result(timeout=10)["packet_id"] == packet_id
    conn.disconnect().result(timeout=10)
print(json.dumps(out), flush=True)
os._exit(0)
"""


def run_device(tmp_path, host, port, cert, key, ca):
    """Connect a Device SDK client and publish at QoS 1; its report."""
    files = []
    for name, text in (("cert.pem", cert), ("key.pem", key), ("ca.pem", ca)):
        path = tmp_path / name
        path.write_text(text)
        files.append(str(path))
    p = subprocess.run(["/usr/bin/python3", "-c", DEVICE, host, str(port)] + files,
                       capture_output=True, text=True, timeout=60)
    lines = p.stdout.strip().splitlines()
    assert lines, "the device printed nothing (exit %d): %s" % (p.returncode, p.stderr[-2000:])
    return json.loads(lines[-1])


def test_device_sdk_connects_through_data_ats(make_emulator, tmp_path):
    emu = make_emulator("--manual-clock", "--authz", "aws").start()
    iot = emu.client("iot")
    addr = "127.0.0.1:%d" % emu.mqtts_port
    assert {t: a for t, a in endpoints(iot).items() if t.startswith("iot:Data")} == {
        "iot:Data": addr, "iot:Data-ATS": addr}
    assert iot.describe_endpoint()["endpointAddress"] == addr  # no type: iot:Data
    iot.create_thing(thingName="sensor-1")
    keys = iot.create_keys_and_certificate(setAsActive=True)
    iot.create_policy(policyName="sensor-policy", policyDocument=ALLOW)
    iot.attach_policy(policyName="sensor-policy", target=keys["certificateArn"])
    iot.attach_thing_principal(thingName="sensor-1", principal=keys["certificateArn"])
    status, _, ca = http("GET", emu.endpoint + "/_ddlocal/ca.pem")
    assert status == 200

    out = iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    host, port = out.rsplit(":", 1)  # not 8883 here; a device SDK takes them apart
    cert, key = keys["certificatePem"], keys["keyPair"]["PrivateKey"]
    assert run_device(tmp_path, host, port, cert, key, ca.decode()) == {"puback": True}

    # The same answer with a CA that did not issue the server certificate
    # fails the TLS handshake: the check above verified the server.
    other = x509.load_pem_x509_certificate(cert.encode())
    assert other.issuer != other.subject
    assert "connect_error" in run_device(tmp_path, host, port, cert, key, cert)


def test_other_types_and_errors(make_emulator):
    emu = make_emulator("--manual-clock").start()
    iot = emu.client("iot")
    first = endpoints(iot)
    assert endpoints(iot) == first  # stable
    cred = aws_form(".credentials").match(first["iot:CredentialProvider"])
    jobs = aws_form(".jobs").match(first["iot:Jobs"])
    assert cred and jobs and cred.group(1) != jobs.group(1)
    out = emu.aws_json("iot", "describe-endpoint", "--endpoint-type", "iot:Jobs")
    assert out == {"endpointAddress": first["iot:Jobs"]}
    for bad in ("iot:Nope", "iot:DeviceAdvisor"):
        with pytest.raises(iot.exceptions.InvalidRequestException) as e:
            iot.describe_endpoint(endpointType=bad)
        assert e.value.response["Error"]["Message"] == (
            "Endpoint type %s is not valid. Valid types: iot:Data, iot:Data-ATS, "
            "iot:CredentialProvider, iot:Jobs." % bad)
    p = emu.aws("iot", "describe-endpoint", "--endpoint-type", "nope", check=False)
    assert p.returncode == 254
    assert "(InvalidRequestException) when calling the DescribeEndpoint operation" in p.stderr


def test_without_tls_listener_every_type_has_aws_form(make_emulator):
    emu = make_emulator("--manual-clock", "--mqtts-port", "0").start()
    iot = emu.client("iot")
    got = endpoints(iot)
    ats = aws_form("-ats").match(got["iot:Data-ATS"])
    data = aws_form("").match(got["iot:Data"])
    assert ats and data and ats.group(1) == data.group(1)  # one prefix, as on AWS
    assert aws_form(".credentials").match(got["iot:CredentialProvider"])
    assert iot.describe_endpoint()["endpointAddress"] == got["iot:Data"]
    assert not os.path.exists(os.path.join(emu.data_dir, "tls"))


def test_public_url_host_is_the_endpoint_and_in_the_certificate(make_emulator):
    emu = make_emulator("--manual-clock")
    emu.args += ["--public-url", "http://devices.example:%d" % emu.http_port]
    emu.start()
    got = emu.client("iot").describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"]
    assert got == "devices.example:%d" % emu.mqtts_port
    with open(os.path.join(emu.data_dir, "tls", "server.pem"), "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "devices.example"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]


def run_server(tmp_path, *args):
    port = free_port()
    p = subprocess.Popen([SERVER, "--database", str(tmp_path / "s.db"), "--port", str(port)]
                         + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert "listening on" in p.stdout.readline()
    return p, "http://127.0.0.1:%d" % port


@pytest.mark.parametrize("endpoint,want", [
    ("ddlocal.example:8883", "ddlocal.example"),  # the default port: the host alone
    ("localhost:9883", "localhost:9883"),
    ("[::1]:9883", "[::1]:9883"),
])
def test_server_option(tmp_path, endpoint, want):
    p, url = run_server(tmp_path, "--mqtts-endpoint", endpoint)
    try:
        for t in ("iot:Data-ATS", "iot:Data"):
            status, _, body = http("GET", url + "/endpoint?endpointType=" + t)
            assert (status, json.loads(body)) == (200, {"endpointAddress": want})
    finally:
        p.terminate()
        p.communicate(timeout=10)


@pytest.mark.parametrize("bad", ["nohost", ":8883", "h:0", "h:70000", "h:x", "::1:8883",
                                 "[::1]8883", "a,b:8883"])
def test_server_option_refuses_bad_values(tmp_path, bad):
    p = subprocess.run([SERVER, "--database", str(tmp_path / "s.db"), "--mqtts-endpoint", bad],
                       capture_output=True, text=True, timeout=10)
    assert p.returncode == 2, p.stderr
    assert "--mqtts-endpoint" in p.stderr


def tls_line(tmp_path, *args):
    tls = tmp_path / "tls"
    tls.mkdir(exist_ok=True)
    port = free_port()
    p = subprocess.Popen([SERVER, "--database", str(tmp_path / "s.db"), "--port", str(port),
                          "--tls-dir", str(tls)] + list(args),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().strip()
    finally:
        p.terminate()
        p.communicate(timeout=10)
    files = {n: (tls / n).read_bytes() for n in ("ca.pem", "server.pem", "server.key")}
    return line, files


def test_tls_files_are_kept_while_they_serve(tmp_path):
    line, first = tls_line(tmp_path)
    assert line == "ddlocal-server: TLS files ready (written)"
    # The same database and names: the files stay as they were.
    line, again = tls_line(tmp_path)
    assert (line, again) == ("ddlocal-server: TLS files ready (kept)", first)
    # Another name for devices: a new certificate that names it.
    line, named = tls_line(tmp_path, "--mqtts-endpoint", "devices.example:8883")
    assert line == "ddlocal-server: TLS files ready (written)"
    assert named["ca.pem"] == first["ca.pem"] and named["server.pem"] != first["server.pem"]
    san = x509.load_pem_x509_certificate(named["server.pem"]).extensions.get_extension_for_class(
        x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["localhost", "devices.example"]
    # A certificate 30 days or less from its end is renewed.
    note = tmp_path / "tls" / "server.names"
    names, _ = note.read_text().split("\n", 1)
    note.write_text("%s\n%d\n" % (names, int(time.time()) + 29 * 86400))
    line, renewed = tls_line(tmp_path, "--mqtts-endpoint", "devices.example:8883")
    assert line == "ddlocal-server: TLS files ready (written)"
    assert renewed["server.pem"] != named["server.pem"]
    # A new database has a new CA: every file is written for it.
    for f in tmp_path.glob("s.db*"):
        f.unlink()
    line, fresh = tls_line(tmp_path, "--mqtts-endpoint", "devices.example:8883")
    assert line == "ddlocal-server: TLS files ready (written)"
    assert fresh["ca.pem"] != first["ca.pem"]
    cert = x509.load_pem_x509_certificate(fresh["server.pem"])
    assert cert.issuer == x509.load_pem_x509_certificate(fresh["ca.pem"]).subject
    # A file gone (or a note missing) is written again.
    (tmp_path / "tls" / "server.key").unlink()
    line, _ = tls_line(tmp_path, "--mqtts-endpoint", "devices.example:8883")
    assert line == "ddlocal-server: TLS files ready (written)"
    note.unlink()
    line, _ = tls_line(tmp_path, "--mqtts-endpoint", "devices.example:8883")
    assert line == "ddlocal-server: TLS files ready (written)"
