# SPDX-License-Identifier: MIT
"""The emulator's own API and the launcher: health, the clock and its
barrier, reset, taken ports, clean shutdown, the request-body ceiling."""
import json
import os
import signal
import sqlite3
import subprocess
import time

import paho.mqtt.client as mqtt
import pytest

from conftest import Emulator, http


def test_health_is_ok_with_a_fresh_heartbeat(emulator):
    status, doc = emulator.get("/_ddlocal/health")
    assert status == 200
    assert doc["status"] == "ok"
    assert doc["region"] == "us-east-1"
    assert doc["account"] == "123456789012"
    assert 0 <= doc["heartbeatAgeMs"] < 5000


def test_clock_reports_a_manual_clock_on_a_bucket_boundary(emulator):
    doc = emulator.clock()
    assert doc["mode"] == "manual"
    assert doc["timeScale"] == 1
    assert doc["now"] % 300 == 0
    assert doc["evaluatedUntil"] == doc["now"]


def test_advance_returns_after_evaluation_caught_up(emulator):
    before = emulator.clock()["now"]
    doc = emulator.advance(300)
    assert doc["now"] == before + 300
    assert doc["evaluatedUntil"] >= doc["now"]
    # Many hours at once: every bucket in between is closed before the answer.
    doc = emulator.advance(9 * 3600)
    assert doc["now"] == before + 300 + 9 * 3600
    assert doc["evaluatedUntil"] >= doc["now"]
    # Fractions of a second are kept to the millisecond.
    assert emulator.advance(0.5)["now"] == doc["now"] + 0.5


@pytest.mark.parametrize("body", [
    '{"advanceSeconds": -1}',
    '{"advanceSeconds": "300"}',
    '{"advanceSeconds": null}',
    '{}',
    '[300]',
    'advance please',
    '',
])
def test_advance_rejects_bad_amounts_and_keeps_time(emulator, body):
    before = emulator.clock()["now"]
    status, headers, doc = emulator.post("/_ddlocal/clock", raw=body)
    assert status == 400
    assert headers["x-amzn-ErrorType"] == "InvalidRequestException"
    assert doc["message"]
    assert emulator.clock()["now"] == before


def test_advance_refused_unless_manual(make_emulator):
    emu = make_emulator("--time-scale", "60").start()
    doc = emu.clock()
    assert doc["mode"] == "scaled"
    assert doc["timeScale"] == 60
    status, headers, body = emu.post("/_ddlocal/clock", {"advanceSeconds": 300})
    assert status == 409
    assert headers["x-amzn-ErrorType"] == "ConflictException"
    assert "manual" in body["message"]


def test_scaled_time_runs_faster_than_real_time(make_emulator):
    emu = make_emulator("--time-scale", "600").start()
    first = emu.clock()["now"]
    t0 = time.monotonic()
    while emu.clock()["evaluatedUntil"] < first + 300:
        assert time.monotonic() - t0 < 5, "a 300 s window at x600 closes within 0.5 s"
        time.sleep(0.05)


def test_stopped_broker_gives_504_then_503(emulator):
    broker = subprocess.run(["pgrep", "-P", str(emulator.proc.pid), "mosquitto"],
                            capture_output=True, text=True).stdout.split()
    assert len(broker) == 1
    os.kill(int(broker[0]), signal.SIGSTOP)
    try:
        status, headers, doc = emulator.post("/_ddlocal/clock", {"advanceSeconds": 300})
        assert status == 504
        assert "did not catch up" in doc["message"]
        status, doc = emulator.get("/_ddlocal/health")
        assert status == 503
        assert doc["status"] == "unavailable"
        assert "stale" in doc["reason"]
    finally:
        os.kill(int(broker[0]), signal.SIGCONT)
    # Once the broker runs again it catches up with the advanced clock.
    deadline = time.monotonic() + 5
    while emulator.get("/_ddlocal/health")[0] != 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    doc = emulator.advance(0)
    assert doc["evaluatedUntil"] >= doc["now"]


def test_reset_keeps_the_clock_and_bumps_the_generation(emulator):
    now = emulator.advance(600)["now"]
    status, _, _ = emulator.post("/_ddlocal/reset")
    assert status == 200
    assert emulator.clock()["now"] == now
    db = sqlite3.connect(os.path.join(emulator.data_dir, "ddlocal.db"))
    try:
        assert db.execute("SELECT reset_generation FROM emulator_state").fetchone() == (1,)
    finally:
        db.close()
    assert emulator.get("/_ddlocal/health")[0] == 200


def thread_names(pid):
    names = []
    for tid in os.listdir("/proc/%d/task" % pid):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            names.append(f.read().strip())
    return names


def test_threads_are_named_for_top_and_perf(emulator):
    server = thread_names(emulator.pid_of("ddlocal-server"))
    for name in ("dd-writer", "dd-checkpoint", "dd-longpoll", "dd-audit", "dd-mitigation"):
        assert server.count(name) == 1, server
    broker = thread_names(emulator.mosquitto_pid())
    for name in ("dd-engine", "dd-delivery"):
        assert broker.count(name) == 1, broker


def test_second_launcher_on_a_taken_port_fails_clearly(emulator, tmp_path):
    other = Emulator(tmp_path / "other")
    other.mqtt_port = emulator.mqtt_port
    p = other.run_to_end()
    assert p.returncode != 0
    assert p.stderr.strip() == "ddlocal: MQTT port %d on 127.0.0.1 is taken" % emulator.mqtt_port

    other = Emulator(tmp_path / "other2")
    other.http_port = emulator.http_port
    p = other.run_to_end()
    assert p.returncode != 0
    assert p.stderr.strip() == "ddlocal: HTTP port %d on 127.0.0.1 is taken" % emulator.http_port


def test_sigterm_stops_everything_and_exits_zero(tmp_path):
    emu = Emulator(tmp_path / "data", ["--manual-clock"]).start()
    children = subprocess.run(["pgrep", "-P", str(emu.proc.pid)], capture_output=True,
                              text=True).stdout.split()
    names = {subprocess.run(["ps", "-o", "comm=", "-p", c], capture_output=True,
                            text=True).stdout.strip() for c in children}
    assert {"mosquitto", "ddlocal-server"} <= names
    emu.proc.send_signal(signal.SIGTERM)
    assert emu.proc.wait(timeout=15) == 0
    emu.stop()
    for c in children:
        assert not os.path.exists("/proc/%s" % c) or \
            open("/proc/%s/stat" % c).read().split()[2] == "Z"


def test_sigint_to_a_background_job_is_a_clean_stop(tmp_path):
    """A script runs the launcher as a background job (so the shell ignores
    SIGINT for it) and signals the whole process group, as CI scripts do:
    the children stop, and the launcher reports a clean stop, not a crash."""
    emu = Emulator(tmp_path / "data", ["--manual-clock"])
    out, status = tmp_path / "launcher.out", tmp_path / "launcher.status"
    script = 'trap "" INT; "$@" >"%s" 2>&1 & wait $!; echo $? >"%s"' % (out, status)
    shell = subprocess.Popen(["sh", "-c", script, "sh"] + emu.command(), env=emu.env(),
                             start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while not (out.exists() and "ddlocal: clock" in out.read_text()):
            assert time.monotonic() < deadline and shell.poll() is None, \
                out.read_text() if out.exists() else "no output"
            time.sleep(0.05)
        assert emu.get("/_ddlocal/health")[0] == 200
        os.killpg(shell.pid, signal.SIGINT)
        assert shell.wait(timeout=15) == 0
    finally:
        if shell.poll() is None:
            os.killpg(shell.pid, signal.SIGKILL)
            shell.wait()
    assert status.read_text().strip() == "0", out.read_text()
    assert "ddlocal: stopped" in out.read_text()
    assert "exited" not in out.read_text()


def test_a_crashed_child_is_reported_as_a_crash(tmp_path):
    emu = Emulator(tmp_path / "data", ["--manual-clock"]).start()
    subprocess.run(["pkill", "-KILL", "-P", str(emu.proc.pid), "-x", "mosquitto"], check=True)
    assert emu.proc.wait(timeout=15) == 1
    assert "ddlocal: mosquitto was killed by signal 9" in emu.proc.stderr.read()
    emu.stop()


def test_newer_database_is_refused_untouched(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite3.connect(str(data / "ddlocal.db"))
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE future (x)")
    db.execute("PRAGMA user_version = 999")
    db.close()
    emu = Emulator(data, ["--manual-clock"])
    p = emu.run_to_end()
    assert p.returncode != 0
    assert "written by a newer ddlocal (schema version 999" in p.stderr
    db = sqlite3.connect(str(data / "ddlocal.db"))
    assert db.execute("PRAGMA user_version").fetchone() == (999,)
    db.close()


def test_body_over_the_ceiling_is_413(emulator):
    status, headers, body = http("POST", emulator.endpoint + "/_ddlocal/reset",
                                 b"x" * ((3 << 20) + (64 << 10) + 1))
    assert status == 413
    assert headers["x-amzn-ErrorType"] == "RequestEntityTooLargeException"
    assert b"exceeds the maximum size" in body


def test_unknown_paths_and_methods_are_aws_errors(emulator):
    status, headers, _ = http("GET", emulator.endpoint + "/no/such/operation")
    assert status == 404
    assert headers["x-amzn-ErrorType"] == "UnknownOperationException"
    status, headers, _ = http("DELETE", emulator.endpoint + "/_ddlocal/clock")
    assert status == 405
    assert headers["x-amzn-ErrorType"] == "MethodNotAllowedException"
    assert headers["x-amzn-RequestId"]


def test_sync_is_a_barrier_in_every_clock_mode(make_emulator):
    emu = make_emulator("--time-scale", "60").start()
    status, _, doc = emu.post("/_ddlocal/sync")
    assert status == 200
    assert doc["mode"] == "scaled"


def _descriptor_tables(pid):
    """{thread id: {what each descriptor names}} of one process."""
    tables = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        fd_dir = "/proc/%d/task/%s/fd" % (pid, tid)
        try:
            tables[int(tid)] = {os.readlink(os.path.join(fd_dir, fd)) for fd in os.listdir(fd_dir)}
        except FileNotFoundError:
            pass  # a short-lived thread that has just ended
    return tables


def test_plugin_threads_keep_out_of_the_brokers_descriptor_table(emulator):
    """plugin/workers.h: the broker thread shares no descriptor table with the
    plugin's threads, and those share one between them."""
    device = mqtt.Client(client_id="dev-FD")
    device.connect("127.0.0.1", emulator.mqtt_port)
    device.loop_start()
    try:
        emulator.sync()
        tables = _descriptor_tables(emulator.mosquitto_pid())
    finally:
        device.loop_stop()
        device.disconnect()
    broker = tables.pop(emulator.mosquitto_pid())  # the main thread runs the broker
    db = os.path.join(emulator.data_dir, "ddlocal.db")
    sockets = {f for f in broker if f.startswith("socket:")}
    assert len(sockets) >= 3  # two listeners and the device
    assert db not in broker
    workers = [t for t in tables.values() if db in t]
    assert len(workers) >= 2  # the engine and the delivery thread
    # One shared table: the engine's holds the delivery thread's curl sockets.
    assert all(t == workers[0] for t in workers)
    assert not sockets & workers[0]


# One set of paging checks serves every listing (server/http.c).
@pytest.mark.parametrize("path, size, token", [
    ("/dimensions", "maxResults", "nextToken"),
    ("/things", "maxResults", "nextToken"),
    ("/thing-groups", "maxResults", "nextToken"),
    ("/mitigationactions/actions", "maxResults", "nextToken"),
    ("/active-violations", "maxResults", "nextToken"),
    ("/policies", "pageSize", "marker"),
    ("/certificates", "pageSize", "marker"),
])
def test_listings_refuse_bad_page_sizes_and_tokens(emulator, path, size, token):
    for query, message in [
            ("%s=ten" % size, "1 validation error detected: Value 'ten' at '%s' failed to "
                              "satisfy constraint: Member must be an integer" % size),
            ("%s=0" % size, size),
            ("%s=251" % size, size),
            ("%s=forged" % token, "Invalid %s" % token)]:
        status, headers, body = http("GET", emulator.endpoint + path + "?" + query)
        assert status == 400, query
        assert headers["x-amzn-ErrorType"] == "InvalidRequestException", query
        assert message in json.loads(body)["message"], query
