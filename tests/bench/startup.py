# SPDX-License-Identifier: MIT
"""Start-up time and idle memory of `bin/ddlocal up` next to plain mosquitto's
(`make bench`, docs/performance.md "Start-up and memory").

Each round, in rotating order: a bare `mosquitto -c` with a minimal config
on a free port; `bin/ddlocal up` on a new data directory; `bin/ddlocal up`
again on the data directory the previous round left (an existing database).
The time is from the spawn of the process to the moment the broker answers
an MQTT CONNECT with a CONNACK and, for ddlocal, GET /_ddlocal/health
answers 200: both are polled every millisecond. The memory is the resident
set (VmRSS) of the broker and of the server once they have been idle for
IDLE seconds, and the memory the two hold together: their resident pages
with each physical page counted once (the libraries both map, libc,
SQLite, OpenSSL, are the same pages of the page cache, which a sum of the
two VmRSS counts twice). That needs the page frame numbers of
/proc/PID/pagemap, which Linux shows only to root; otherwise it prints
"-". Prints medians, and a `json:` line with them.

Usage: startup.py [ROUNDS] [BASELINE] (ROUNDS 5 by default, BENCH_STARTUP_ROUNDS
in make bench). BASELINE is another launcher (say an older bin/ddlocal, run
with DDLOCAL_BUILD pointing at this build) measured the same way in the
same rounds, for an A/B comparison."""
import json
import os
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "soak"))

from run import rss_kb  # noqa: E402  (the soak harness's VmRSS reader)
LAUNCHER = os.path.join(ROOT, "bin", "ddlocal")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
IDLE = 1.0
TIMEOUT = 10.0
# MQTT 3.1.1 CONNECT, clean session, keep-alive 60, client id "startup".
CONNECT = bytes([0x10, 19, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 7]) + b"startup"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mqtt_ready(port):
    """True once the broker on port answers CONNECT with a CONNACK."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(CONNECT)
            return s.recv(4)[:1] == b"\x20"
    except OSError:
        return False


def http_ok(port):
    """True once GET /_ddlocal/health answers 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /_ddlocal/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_ready(proc, checks):
    """Poll every check until all pass (proc must stay up)."""
    pending = list(checks)
    deadline = time.monotonic() + TIMEOUT
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError("not ready within %.0f s" % TIMEOUT)
        if proc.poll() is not None:
            raise RuntimeError("exited %d: %s" % (proc.returncode, proc.stderr.read()))
        pending = [c for c in pending if not c()]
        if pending:
            time.sleep(0.001)


def children(pid):
    with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
        return [int(p) for p in f.read().split()]


def comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def held_kb(pids):
    """KB of the physical pages the processes pids map, each page once
    (the union of their present page frames), or None when the page
    frames cannot be read (not root: Linux then shows them as 0)."""
    frames = set()
    for pid in pids:
        with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/pagemap" % pid, "rb") as pm:
            for line in maps:
                fields = line.split()
                if fields[-1] == "[vsyscall]":
                    continue
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                pm.seek(lo // 4096 * 8)
                for (entry,) in struct.iter_unpack("<Q", pm.read((hi - lo) // 4096 * 8)):
                    if entry >> 63:
                        frames.add(entry & ((1 << 55) - 1))
    if 0 in frames:
        return None
    return len(frames) * 4


def plain(tmp):
    port = free_port()
    conf = os.path.join(tmp, "plain.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\n"
                "log_dest none\n" % port)
    t0 = time.monotonic()
    proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(proc, [lambda: mqtt_ready(port)])
        took = time.monotonic() - t0
        time.sleep(IDLE)
        return took, rss_kb(proc.pid), 0, held_kb([proc.pid])
    finally:
        stop(proc)


def ddlocal(data_dir, launcher=LAUNCHER):
    mqtt, http, mqtts = free_port(), free_port(), free_port()
    cmd = [launcher, "up", "--manual-clock", "--data-dir", data_dir, "--mqtt-port", str(mqtt),
           "--http-port", str(http), "--mqtts-port", str(mqtts)]
    t0 = time.monotonic()
    env = dict(os.environ, DDLOCAL_BUILD=os.path.join(ROOT, "build"))
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        wait_ready(proc, [lambda: mqtt_ready(mqtt), lambda: http_ok(http)])
        took = time.monotonic() - t0
        time.sleep(IDLE)
        broker = server = 0
        pids = []
        for pid in children(proc.pid):
            name = comm(pid)
            if name == "mosquitto":
                broker = rss_kb(pid)
                pids.append(pid)
            elif name.startswith("ddlocal-server"):
                server = rss_kb(pid)
                pids.append(pid)
        return took, broker, server, held_kb(pids)
    finally:
        stop(proc)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    baseline = sys.argv[2] if len(sys.argv) > 2 else None
    tmp = tempfile.mkdtemp()
    res = {"plain": [], "new": [], "existing": [], "base new": [], "base existing": []}
    try:
        for r in range(rounds):
            data_dir = os.path.join(tmp, "data%d" % r)
            order = ["plain", "new", "existing"]
            order = order[r % 3:] + order[:r % 3]
            if order.index("existing") < order.index("new"):
                order.remove("existing")
                order.append("existing")
            for kind in order:
                if kind == "plain":
                    res[kind].append(plain(tmp))
                else:
                    res[kind].append(ddlocal(data_dir))
                    if baseline:
                        res["base " + kind].append(ddlocal(data_dir + "b", baseline))
            sys.stdout.write(".")
            sys.stdout.flush()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()

    def med(kind, i):
        values = [x[i] for x in res[kind] if x[i] is not None]
        return statistics.median(values) if values else None

    print("Start-up to ready (MQTT CONNACK and, for ddlocal, health 200) and idle RSS,"
          " medians of %d rounds" % rounds)
    print("  %-34s %10s %10s %10s %10s %10s   %s" % ("", "ready ms", "broker KB", "server KB",
                                                    "total KB", "held KB", "target"))
    out = {}
    for kind, label, target in (
            ("plain", "plain mosquitto -c (minimal)", ""),
            ("new", "ddlocal up, new database", "< 200 ms, < 20,000 KB"),
            ("existing", "ddlocal up, existing database", "< 100 ms, < 20,000 KB"),
            ("base new", "baseline launcher, new database", ""),
            ("base existing", "baseline launcher, existing", "")):
        if not res[kind]:
            continue
        ms, b, s, held = med(kind, 0) * 1000, med(kind, 1), med(kind, 2), med(kind, 3)
        print("  %-34s %10.1f %10d %10d %10d %10s   %s" % (label, ms, b, s, b + s,
                                                       "-" if held is None else "%d" % held,
                                                       target))
        out[kind] = {"ready_ms": round(ms, 1), "broker_kb": b, "server_kb": s, "held_kb": held,
                     "all_ready_ms": [round(x[0] * 1000, 1) for x in res[kind]]}
    print("json: " + json.dumps(out))


if __name__ == "__main__":
    main()
