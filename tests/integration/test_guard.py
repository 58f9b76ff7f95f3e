"""The browser guard: a page the user visits cannot drive the emulator
(a cross-origin Origin is refused before anything is read or stored), DNS
rebinding cannot reach it by a foreign name (the Host must be one it
serves), and --cors-origin lets a browser app in with proper CORS answers.
SDKs and the CLI send no Origin and are unaffected."""
import json

import pytest

from conftest import http, reset

EVIL = "http://evil.example"


def port_of(emu):
    return emu.endpoint.rsplit(":", 1)[1]


def error_of(status, headers, body):
    return status, headers["x-amzn-ErrorType"], json.loads(body)["message"]


def test_a_cross_origin_page_changes_nothing(emulator):
    iot = reset(emulator)
    iot.create_thing(thingName="kept")
    before = emulator.clock()["now"]
    # What a page can send without a preflight: a "simple" POST.
    for path, body in (("/_ddlocal/reset", ""), ("/things/new-one", '{"attributePayload":{}}'),
                       ("/_ddlocal/clock", '{"advanceSeconds": 300}')):
        status, kind, msg = error_of(*http("POST", emulator.endpoint + path, body, headers={
            "Origin": EVIL, "Content-Type": "text/plain"}))
        assert (status, kind) == (403, "AccessDeniedException"), path
        assert "Origin '%s' is not allowed" % EVIL in msg and "--cors-origin" in msg
    assert [t["thingName"] for t in iot.list_things()["things"]] == ["kept"]
    assert emulator.clock()["now"] == before
    status, _, _ = http("OPTIONS", emulator.endpoint + "/things/x", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert status == 403


def test_the_dashboards_own_origin_is_allowed(emulator):
    reset(emulator)
    for host in ("127.0.0.1", "localhost"):
        authority = "%s:%s" % (host, port_of(emulator))
        status, headers, body = http("POST", emulator.endpoint + "/things/from-" + host.replace(".", "-"), "{}",
                                     headers={"Host": authority, "Origin": "http://" + authority})
        assert status == 200, body
        assert "Access-Control-Allow-Origin" not in headers


def test_a_foreign_host_name_is_refused(emulator):
    reset(emulator)
    status, kind, msg = error_of(*http("GET", emulator.endpoint + "/things", headers={
        "Host": "rebind.example.com:%s" % port_of(emulator)}))
    assert (status, kind) == (403, "AccessDeniedException")
    assert "Host 'rebind.example.com" in msg and "--allow-host" in msg
    for host in ("localhost", "127.0.0.1", "api.localhost", "[::1]"):
        status, _, body = http("GET", emulator.endpoint + "/things", headers={
            "Host": "%s:%s" % (host, port_of(emulator))})
        assert status == 200, (host, body)


def test_sdk_and_form_requests_pass(emulator):
    """No Origin: boto3, the CLI and query-protocol form bodies work as ever."""
    reset(emulator)
    emulator.client("iot").create_thing(thingName="sdk")
    emulator.aws("iot", "describe-thing", "--thing-name", "sdk")
    status, _, body = http("POST", emulator.endpoint + "/", "Action=ListTopics&Version=2010-03-31",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and b"ListTopicsResponse" in body


def test_cors_origin_and_allowed_hosts(make_emulator):
    app = "http://app.example:3000"
    emu = make_emulator("--manual-clock", "--cors-origin", app, "--allow-host", "ddlocal.lan",
                        "--public-url", "http://emu.test:9999").start()
    status, headers, _ = http("OPTIONS", emu.endpoint + "/things/x", headers={
        "Origin": app, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-amz-date,authorization"})
    assert status == 204
    assert headers["Access-Control-Allow-Origin"] == app
    assert "POST" in headers["Access-Control-Allow-Methods"]
    assert headers["Access-Control-Allow-Headers"] == "content-type,x-amz-date,authorization"
    assert headers["Vary"] == "Origin"

    status, headers, body = http("POST", emu.endpoint + "/things/from-app", "{}",
                                 headers={"Origin": app})
    assert status == 200, body
    assert headers["Access-Control-Allow-Origin"] == app
    assert "x-amzn-RequestId" in headers["Access-Control-Expose-Headers"]
    # An error answer is readable by the app too.
    status, headers, _ = http("GET", emu.endpoint + "/things/missing", headers={"Origin": app})
    assert status == 404 and headers["Access-Control-Allow-Origin"] == app
    status, _, _ = http("POST", emu.endpoint + "/things/from-evil", "{}", headers={"Origin": EVIL})
    assert status == 403

    for host in ("ddlocal.lan", "emu.test", "DDLOCAL.LAN"):
        status, _, body = http("GET", emu.endpoint + "/things", headers={
            "Host": "%s:%s" % (host, port_of(emu))})
        assert status == 200, (host, body)
    assert http("GET", emu.endpoint + "/things", headers={"Host": "other.lan"})[0] == 403


@pytest.mark.parametrize("args, message", [
    (["--allow-host", "a b"], "--allow-host takes one non-empty value without spaces"),
    (["--cors-origin", ""], "--cors-origin takes one non-empty value without spaces"),
])
def test_bad_guard_options_are_refused(make_emulator, args, message):
    p = make_emulator(*args).run_to_end()
    assert p.returncode != 0
    assert message in p.stderr
