# SPDX-License-Identifier: MIT
"""The broker during an audit (`make bench`, docs/audit.md "How long it
takes"): how responsive the broker stays while the server audits a large
account, against the same measurement with no audit, in the same run.

The account is the one build/bench-audit writes with --keep DIR (100,000
RSA certificates, 1,000 policies, 100,000 connection-history rows...): its
database is copied into a fresh data directory and the real emulator
(bin/ddlocal up, free loopback ports) started on it.

What is measured: a probe client, in a process of its own, subscribed to a topic publishes to it at
QoS 0 every millisecond, each payload carrying its send time, and records
every round trip. The round trip is what a device sees of the broker: a
pass of mosquitto's loop (whose TICK callbacks the plugin runs) that is
late by X shows as a round trip at least X long, and so does anything the
audit does to the broker, taking CPU or holding SQLite locks the plugin's
threads wait for. It needs nothing in the product, and it does not rely
on the plugin measuring itself. The probe is a Python process, so its
own jitter is in both figures alike: the baseline is what to read
the audit's figure against.

Each round probes PHASE seconds with no audit (baseline), then probes while
an on-demand audit of every check runs, started with
StartOnDemandAuditTask and polled with DescribeAuditTask every 10 ms until
COMPLETED (the audit's time through the API, from before the start call to
the first COMPLETED answer). Prints the median over ROUNDS of each phase's
p99 and max round trip, the audit's time, and a `json:` line.

Usage: audit_tick.py DIR [ROUNDS] (DIR holds ddlocal.db; ROUNDS 3)."""
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import paho.mqtt.client as mqtt  # noqa: E402

from conftest import Emulator  # noqa: E402

PHASE = 3.0  # seconds of baseline per round
TOPIC = "bench/probe"


class Probe:
    """Publishes to TOPIC every millisecond; keeps each round trip (ms)
    of the current phase."""

    def __init__(self, emu):
        self.lock = threading.Lock()
        self.rtts = []
        self.sent = 0
        self.stopping = threading.Event()
        self.client = mqtt.Client(client_id="bench-probe", protocol=mqtt.MQTTv311)
        self.client.on_message = self.on_message
        emu.mqtt_start(self.client)
        self.client.subscribe(TOPIC, qos=0)
        time.sleep(0.2)  # the SUBACK; the first phase discards nothing it needs
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def on_message(self, client, userdata, msg):
        rtt = (time.perf_counter_ns() - int(msg.payload)) / 1e6
        with self.lock:
            self.rtts.append(rtt)

    def run(self):
        next_t = time.perf_counter()
        while not self.stopping.is_set():
            self.client.publish(TOPIC, str(time.perf_counter_ns()), qos=0)
            self.sent += 1
            next_t += 0.001
            delay = next_t - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            else:
                next_t = time.perf_counter()

    def take(self):
        """The round trips since the last take()."""
        with self.lock:
            v, self.rtts = self.rtts, []
        return v

    def stop(self):
        self.stopping.set()
        self.thread.join()
        self.client.disconnect()
        self.client.loop_stop()


def probe_main(emu, conn):
    """The probe's own process: the API calls of the parent (boto3 is
    busy Python) must not share the probe's interpreter lock, or their
    work would show as the broker's. Answers each "take" with the round
    trips since the last one; "stop" ends it."""
    probe = Probe(emu)
    conn.send("ready")
    while True:
        cmd = conn.recv()
        if cmd == "stop":
            probe.stop()
            conn.send([])
            return
        conn.send(probe.take())


class ProbeProcess:
    def __init__(self, emu):
        self.conn, child = multiprocessing.Pipe()
        self.proc = multiprocessing.Process(target=probe_main, args=(emu, child), daemon=True)
        self.proc.start()
        assert self.conn.recv() == "ready"

    def take(self):
        self.conn.send("take")
        return self.conn.recv()

    def stop(self):
        self.conn.send("stop")
        self.conn.recv()
        self.proc.join(10)


def children(pid):
    """The processes whose parent is pid, by their command names."""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open("/proc/%s/stat" % d).read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                out[name] = int(d)
    return out


def cpu_ms(pid):
    """CPU time (user + system) of process pid so far, in ms."""
    f = open("/proc/%d/stat" % pid).read()
    f = f[f.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) * 1000.0 / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def audit(iot, checks):
    """Run one on-demand audit of checks; its time through the API (ms)."""
    t0 = time.monotonic()
    task = iot.start_on_demand_audit_task(targetCheckNames=checks)["taskId"]
    while True:
        d = iot.describe_audit_task(taskId=task)
        if d["taskStatus"] == "COMPLETED":
            return (time.monotonic() - t0) * 1000.0, d
        if d["taskStatus"] != "IN_PROGRESS":
            raise RuntimeError("audit task %s: %s" % (task, d["taskStatus"]))
        if time.monotonic() - t0 > 120:
            raise RuntimeError("audit task %s not done in 120 s" % task)
        time.sleep(0.01)


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: audit_tick.py DIR [ROUNDS]")
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    tmp = tempfile.mkdtemp()
    data = os.path.join(tmp, "data")
    os.makedirs(data)
    # The backup API copies the database with whatever its WAL holds.
    src = sqlite3.connect(os.path.join(sys.argv[1], "ddlocal.db"))
    dst = sqlite3.connect(os.path.join(data, "ddlocal.db"))
    src.backup(dst)
    n_certs = dst.execute("SELECT count(*) FROM certificates").fetchone()[0]
    n_policies = dst.execute("SELECT count(*) FROM policies").fetchone()[0]
    dst.close()
    src.close()
    emu = Emulator(data)
    emu.start_timeout = 180  # the plugin loads 100,000 certificates before its first heartbeat
    emu.start()
    probe = None
    try:
        iot = emu.client("iot")
        checks = sorted(c for c, v in iot.describe_account_audit_configuration()[
            "auditCheckConfigurations"].items() if v.get("enabled"))
        probe = ProbeProcess(emu)
        procs = children(emu.proc.pid)
        broker, server = procs["mosquitto"], procs["ddlocal-server"]
        broker_cpu, server_cpu = [], []
        base_p99, base_max, aud_p99, aud_max, aud_ms = [], [], [], [], []
        n_base = n_aud = 0
        for r in range(rounds):
            probe.take()
            time.sleep(PHASE)
            v = probe.take()
            n_base += len(v)
            base_p99.append(pct(v, 99))
            base_max.append(max(v))
            b0, s0 = cpu_ms(broker), cpu_ms(server)
            ms, d = audit(iot, checks)
            time.sleep(0.05)  # the round trips in flight at COMPLETED
            broker_cpu.append(cpu_ms(broker) - b0)
            server_cpu.append(cpu_ms(server) - s0)
            v = probe.take()
            n_aud += len(v)
            aud_p99.append(pct(v, 99))
            aud_max.append(max(v))
            aud_ms.append(ms)
            sys.stdout.write(".")
            sys.stdout.flush()
        print()
        stats = d["auditDetails"]
        resources = sum(c.get("totalResourcesCount", 0) for c in stats.values())
        med = statistics.median
        print("audit-tick: the broker during an on-demand audit of %d certificates and %d "
              "policies (%d checks, %d resources), %d rounds (medians); a probe publishes "
              "QoS 0 to its own subscription every 1 ms"
              % (n_certs, n_policies, len(checks), resources, rounds))
        print("  %-34s %10s %10s" % ("", "p99 ms", "max ms"))
        print("  %-34s %10.2f %10.2f" % ("no audit (%.0f s, %d round trips)"
                                         % (PHASE * rounds, n_base), med(base_p99),
                                         med(base_max)))
        print("  %-34s %10.2f %10.2f   target: max < 5 ms"
              % ("during the audit (%d round trips)" % n_aud, med(aud_p99), med(aud_max)))
        print("  the audit through the API (start to COMPLETED): median %.0f ms (%s)"
              % (med(aud_ms), ", ".join("%.0f" % m for m in aud_ms)))
        print("  CPU during an audit: the server %.0f ms, the broker (with the plugin's engine "
              "thread) %.0f ms" % (med(server_cpu), med(broker_cpu)))
        print("json: " + json.dumps({
            "bench": "audit_tick", "certificates": n_certs, "policies": n_policies,
            "base_p99_ms": round(med(base_p99), 3), "base_max_ms": round(med(base_max), 3),
            "audit_p99_ms": round(med(aud_p99), 3), "audit_max_ms": round(med(aud_max), 3),
            "audit_api_ms": round(med(aud_ms), 1), "server_cpu_ms": round(med(server_cpu)),
            "broker_cpu_ms": round(med(broker_cpu))}))
    finally:
        if probe:
            probe.stop()
        emu.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
