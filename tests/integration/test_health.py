# SPDX-License-Identifier: MIT
"""Health and start-up: the evaluation's lag behind the clock (lagSeconds,
lagging and the broker's log warning), and a health that says ok only once
the broker accepts MQTT."""
import os
import signal
import socket
import sqlite3
import time

from conftest import wait_for

# MQTT 3.1.1 CONNECT, clean session, keep-alive 60, client id "health".
CONNECT = bytes([0x10, 18, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 6]) + b"health"


def broker_log(emu):
    with open(os.path.join(emu.data_dir, "mosquitto.log"), errors="replace") as f:
        return f.read()


def test_manual_clock_never_lags(emulator):
    emulator.advance(3600)
    status, doc = emulator.get("/_ddlocal/health")
    assert status == 200, doc
    assert doc["lagSeconds"] == 0
    assert doc["lagging"] is False


def test_a_fleet_behind_a_scaled_clock_says_so(make_emulator):
    """The broker is stopped (SIGSTOP) while a clock at x100000 runs on: its
    evaluation cannot keep up. The pause is the lag itself: 2.5 real seconds
    are 250,000 emulated seconds, over the 2 real seconds and the one window
    after which a lag is reported, and under the 5 s after which the
    heartbeat is stale."""
    emu = make_emulator("--time-scale", "100000").start()
    status, doc = emu.get("/_ddlocal/health")
    assert status == 200, doc
    assert doc["lagging"] is False
    assert 0 <= doc["lagSeconds"] < 200000  # at most a couple of ticks behind
    broker = emu.mosquitto_pid()
    os.kill(broker, signal.SIGSTOP)
    try:
        time.sleep(2.5)
        status, doc = emu.get("/_ddlocal/health")
    finally:
        os.kill(broker, signal.SIGCONT)
    assert status == 200, doc
    assert doc["status"] == "ok"
    assert doc["lagging"] is True
    assert doc["lagSeconds"] >= 250000
    # Running again, it catches up, and its log says both.
    assert wait_for(lambda: emu.get("/_ddlocal/health")[1]["lagging"] is False), \
        emu.get("/_ddlocal/health")
    assert wait_for(lambda: "evaluation has caught up" in broker_log(emu)), broker_log(emu)
    log = broker_log(emu)
    assert "ddlocal: the fleet cannot keep up with the clock: evaluation is" in log
    warned = [line for line in log.splitlines() if "cannot keep up" in line]
    assert len(warned) == 1, warned
    assert "at time scale 100000) behind" in warned[0]
    real = float(warned[0].split("(")[1].split()[0])
    assert real >= 2.5


def test_health_ok_means_mqtt_answers(make_emulator):
    """Right after `ddlocal up` reports a healthy emulator, the broker answers
    a CONNECT: the plugin writes its first heartbeat only once the broker
    ticks, after its listeners opened. Polled from the launcher's start."""
    emu = make_emulator("--manual-clock")
    emu.start()
    with socket.create_connection(("127.0.0.1", emu.mqtt_port), timeout=5) as s:
        s.sendall(CONNECT)
        assert s.recv(4)[:1] == b"\x20"


def heartbeat_written(emu):
    db = sqlite3.connect(os.path.join(emu.data_dir, "ddlocal.db"), timeout=5)
    try:
        return db.execute("SELECT written_real_ms FROM emulator_heartbeat").fetchone()[0]
    finally:
        db.close()


def test_a_stopped_broker_leaves_a_stale_heartbeat(make_emulator, tmp_path):
    """The broker's last heartbeat, as it stops, is written as of real time
    0: a server that starts on the same database does not call the broker
    healthy before the new one ticks."""
    emu = make_emulator("--manual-clock", data_dir=tmp_path / "kept")
    emu.start()
    assert heartbeat_written(emu) > 0
    emu.stop()
    assert heartbeat_written(emu) == 0
    again = make_emulator("--manual-clock", data_dir=tmp_path / "kept")
    again.start()  # healthy again once the new broker ticks
    status, doc = again.get("/_ddlocal/health")
    assert status == 200, doc
    assert heartbeat_written(again) > 0
