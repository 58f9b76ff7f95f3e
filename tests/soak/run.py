# SPDX-License-Identifier: MIT
"""The soak and crash runs (`make soak`, docs/performance.md "Soak").

    /usr/bin/python3 tests/soak/run.py [SCENARIO...]

Scenarios: crash, churn, slow, steady (all four when none is named). Each
starts its own emulator (tests/integration/conftest.py's Emulator: bin/ddlocal
up on free loopback ports in a temporary data directory), drives it, and
returns rows of (what was tried, what survived, ok). At the end one table
shows every row; the exit status is 1 when a row is not ok.

Knobs from the environment (defaults in brackets):
  SOAK_MINUTES [10]          steady load's length in minutes
  SOAK_MINUTE_SECONDS [60]   the length of one reported "minute" (short runs)
  SOAK_RSS_TOLERANCE_KB [1024]  steady: allowed RSS growth, last third vs first
  SOAK_P99_TOLERANCE [2.0]   steady: allowed p99 ratio, last third vs first
  SOAK_CRASH_WRITERS [4]     crash: REST shadow writers (and as many MQTT)
  SOAK_CRASH_SECONDS [4]     crash: how long the writers run before the kill
  SOAK_CHURN_CLIENTS [3000]  churn: connections, each with a new client id
  SOAK_CHURN_AGE_SECONDS [30]  churn: wait for the ids to age out
  SOAK_SLOW_CLIENTS [1500]   slow: connections that send half a request
"""
import glob
import json
import os
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import paho.mqtt.client as mqtt  # noqa: E402
from conftest import ROOT, Emulator, http  # noqa: E402

BUILD = os.environ.get("DDLOCAL_BUILD", os.path.join(ROOT, "build"))


SCRATCH = None  # the run's temporary directory, removed at the end


def data_dir(name):
    return os.path.join(SCRATCH, name)


def knob(name, default):
    return type(default)(os.environ.get(name, default))


# --- measuring --------------------------------------------------------------
def children(emu):
    """The broker's and the server's pids: the launcher's children by name."""
    out = {}
    with open("/proc/%d/task/%d/children" % (emu.proc.pid, emu.proc.pid)) as f:
        for pid in f.read().split():
            with open("/proc/%s/comm" % pid) as c:
                out[c.read().strip()] = int(pid)
    return {"broker": out["mosquitto"], "server": out["ddlocal-server"]}


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))] if s else float("nan")


def integrity(data_dir):
    """PRAGMA integrity_check of the database and every partition beside it."""
    bad = []
    dbs = sorted(glob.glob(os.path.join(data_dir, "*.db")))
    for path in dbs:
        con = sqlite3.connect(path)
        if con.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            bad.append(os.path.basename(path))
        con.close()
    return len(dbs), bad


def mqtt_client(emu, cid):
    c = mqtt.Client(client_id=cid)
    return emu.mqtt_start(c)


# --- crash --------------------------------------------------------------------
def shadow_writers(emu, thing, n, stop, acked):
    """n REST writers (boto3 iot-data) and n MQTT writers on one shadow; every
    version the service acknowledged goes into acked."""
    lock = threading.Lock()

    def rest(i):
        data = emu.client("iot-data")
        k = 0
        while not stop.is_set():
            k += 1
            doc = {"state": {"reported": {"rest%d" % i: k}}}
            try:
                out = json.loads(data.update_thing_shadow(
                    thingName=thing, payload=json.dumps(doc))["payload"].read())
            except Exception:
                time.sleep(0.05)
                continue
            with lock:
                acked.append(out["version"])

    def on_message(client, prefix, msg):
        # Every writer sees every accepted document; each counts its own.
        doc = json.loads(msg.payload)
        if doc.get("clientToken", "").startswith(prefix):
            with lock:
                acked.append(doc["version"])

    topic = "$aws/things/%s/shadow/update" % thing
    threads = [threading.Thread(target=rest, args=(i,), daemon=True) for i in range(n)]
    clients = []
    for i in range(n):
        c = mqtt_client(emu, "soak-writer-%d" % i)
        c.user_data_set("m%d-" % i)
        c.on_message = on_message
        c.subscribe(topic + "/accepted", qos=1)
        clients.append(c)

    def mqtt_loop():
        k = 0
        while not stop.is_set():
            k += 1
            for i, c in enumerate(clients):
                tok = "m%d-%d" % (i, k)
                c.publish(topic, json.dumps({"state": {"reported": {"mqtt%d" % i: k}},
                                             "clientToken": tok}), qos=1)
            time.sleep(0.02)

    threads.append(threading.Thread(target=mqtt_loop, daemon=True))
    for t in threads:
        t.start()
    return threads, clients


def notifications(emu):
    """The SNS messages the sink soak received, oldest first."""
    _, doc = emu.get("/_ddlocal/sink/soak")
    return [json.loads(m["body"])["Message"] for m in doc["messages"]
            if m["headers"].get("x-amz-sns-message-type") == "Notification"]


def scenario_crash():
    data = data_dir("crash")
    # Deliveries retry fast and long enough to outlive the restart.
    args = ["--retry-delay-ms", "200", "--delivery-attempts", "100"]
    emu = Emulator(data, args).start()
    sns, iot = emu.client("sns"), emu.client("iot")
    topic = sns.create_topic(Name="soak")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=emu.endpoint + "/_ddlocal/sink/soak")
    iot.create_thing(thingName="soak-shadow")
    stop, acked, published = threading.Event(), [], []
    threads, clients = shadow_writers(emu, "soak-shadow", knob("SOAK_CRASH_WRITERS", 4),
                                      stop, acked)

    def publisher():
        k = 0
        while not stop.is_set():
            k += 1
            try:
                sns.publish(TopicArn=topic, Message="alert-%d" % k)
                published.append("alert-%d" % k)
            except Exception:
                time.sleep(0.05)

    threads.append(threading.Thread(target=publisher, daemon=True))
    threads[-1].start()
    time.sleep(knob("SOAK_CRASH_SECONDS", 4.0))
    pids = children(emu)
    # What the sink got just before the kill: the rest is pending.
    before = len(notifications(emu))
    os.kill(pids["broker"], signal.SIGKILL)
    os.kill(pids["server"], signal.SIGKILL)
    stop.set()
    emu.proc.wait(timeout=30)
    emu.stop()
    for c in clients:
        c.loop_stop()
    for t in threads:
        t.join(timeout=10)
    # The same ports: the subscription's endpoint names the old HTTP port.
    again = Emulator(data, args)
    again.mqtt_port, again.http_port, again.mqtts_port = emu.mqtt_port, emu.http_port, \
        emu.mqtts_port
    again.endpoint = emu.endpoint
    again.start()
    try:
        got, deadline = [], time.monotonic() + 60
        while time.monotonic() < deadline:
            got = notifications(again)
            if set(published) <= set(got):
                break
            time.sleep(0.5)
        stored = json.loads(again.client("iot-data").get_thing_shadow(
            thingName="soak-shadow")["payload"].read())["version"]
    finally:
        again.stop()
    lost = len(set(published) - set(got))
    dups = len(got) - len(set(got))
    n_db, bad = integrity(data)
    unique = len(set(acked)) == len(acked)
    return [
        ("crash: SNS publishes acknowledged, SIGKILL of both",
         "%d published, %d pending at the kill, %d delivered, %d lost, %d duplicated"
         % (len(published), len(published) - before, len(set(got)), lost, dups), lost == 0),
        ("crash: shadow writes acknowledged (REST + MQTT)",
         "%d acked, max %d, stored version %d, versions unique: %s"
         % (len(acked), max(acked, default=0), stored, unique),
         unique and max(acked, default=0) <= stored and len(acked) <= stored),
        ("crash: PRAGMA integrity_check", "%d database(s), bad: %s" % (n_db, bad or "none"),
         n_db > 0 and not bad),
    ]


# --- churn --------------------------------------------------------------------
def mqtt_connect_packet(cid):
    """A bare MQTT 3.1.1 CONNECT (clean session, keepalive 60)."""
    body = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid
    return b"\x10" + bytes([len(body)]) + body


def churn_once(port, cid):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(mqtt_connect_packet(cid))
        ack = s.recv(4)
        s.sendall(b"\xe0\x00")  # DISCONNECT
        return ack[:2] == b"\x20\x02" and ack[3:4] == b"\x00"


def create_profile(emu, name, target):
    iot = emu.client("iot")
    iot.create_security_profile(
        securityProfileName=name,
        behaviors=[{"name": "msgs", "metric": "aws:num-messages-sent",
                    "criteria": {"comparisonOperator": "less-than",
                                 "value": {"count": 10}, "durationSeconds": 300}}])
    iot.attach_security_profile(securityProfileName=name,
                                securityProfileTargetArn=target)
    emu.sync()


def scenario_churn():
    """Rounds of new client ids that connect once and leave, each round aged
    out on the manual clock (two emulated days, past the one-day datapoint
    retention, so the database stops growing too): once the first round
    has warmed the caches, later rounds must reuse its memory."""
    rounds, n = knob("SOAK_CHURN_ROUNDS", 3), knob("SOAK_CHURN_CLIENTS", 3000)
    emu = Emulator(data_dir("churn"), ["--manual-clock", "--datapoint-retention-days", "1"]).start()
    aged, ok, took = [], 0, 0.0
    try:
        create_profile(emu, "soak-churn",
                       "arn:aws:iot:us-east-1:123456789012:all/unregistered-things")
        broker = children(emu)["broker"]
        before = rss_kb(broker)
        for r in range(rounds):
            t0 = time.monotonic()
            for i in range(n):
                ok += churn_once(emu.mqtt_port, b"soak-churn-%d-%d-%d" % (os.getpid(), r, i))
            took += time.monotonic() - t0
            for _ in range(9):  # 54 emulated hours, in steps the barrier waits for
                emu.advance(6 * 3600)
            aged.append(rss_kb(broker))
        status, _, _ = http("GET", emu.endpoint + "/_ddlocal/health")
    finally:
        emu.stop()
    tol = knob("SOAK_RSS_TOLERANCE_KB", 1024)
    return [("churn: %d rounds of %d connect/disconnect, new id each" % (rounds, n),
             "%d accepted in %.1f s; health after: %d" % (ok, took, status),
             ok == n * rounds and status == 200),
            ("churn: broker RSS once each round aged out",
             "%d KB before, after each round %s KB (tolerance +%d KB from round 1 on)"
             % (before, ", ".join(str(a) for a in aged), tol),
             max(aged) - aged[0] <= tol)]


# --- slow clients ------------------------------------------------------------
def scenario_slow():
    n = knob("SOAK_SLOW_CLIENTS", 1500)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, n + 512)), hard))
    emu = Emulator(data_dir("slow")).start()
    held, times, failed = [], [], 0
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", emu.http_port), timeout=10)
            s.sendall(b"GET /_ddlocal/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            held.append(s)
        for _ in range(100):
            t0 = time.monotonic()
            try:
                status, _, _ = http("GET", emu.endpoint + "/_ddlocal/health", timeout=5)
                failed += status != 200
            except OSError:
                failed += 1
            times.append((time.monotonic() - t0) * 1000)
    finally:
        for s in held:
            s.close()
        emu.stop()
    return [("slow: %d half-sent requests held open, 100 timed" % n,
             "%d failed, p50 %.1f ms, p99 %.1f ms" % (failed, pct(times, 50), pct(times, 99)),
             failed == 0 and pct(times, 99) < 1000)]


# --- steady load -------------------------------------------------------------
def rest_load(emu, stop, samples, lock):
    """20 requests a second, a mix of four operations; (time, ms, error or
    None, operation) each."""
    iot, data = emu.client("iot"), emu.client("iot-data")
    ops = [("UpdateThingShadow", lambda: data.update_thing_shadow(
               thingName="soak-p0", payload=b'{"state":{"reported":{"n":1}}}')),
           ("GetThingShadow", lambda: data.get_thing_shadow(thingName="soak-p0")),
           ("DescribeThing", lambda: iot.describe_thing(thingName="soak-p0")),
           ("ListActiveViolations", lambda: iot.list_active_violations(maxResults=10))]
    k, next_at = 0, time.monotonic()
    while not stop.is_set():
        next_at += 0.05
        t0 = time.monotonic()
        op, call = ops[k % len(ops)]
        try:
            call()
            ok = None
        except Exception as e:
            ok = getattr(e, "response", {}).get("Error", {}).get("Code") or type(e).__name__
        with lock:
            samples.append((t0, (time.monotonic() - t0) * 1000, ok, op))
        k += 1
        time.sleep(max(0.0, next_at - time.monotonic()))


def scenario_steady():
    minutes, minute = knob("SOAK_MINUTES", 10), knob("SOAK_MINUTE_SECONDS", 60.0)
    emu = Emulator(data_dir("steady"), ["--time-scale", "60"]).start()
    stop, lock, samples, rows = threading.Event(), threading.Lock(), [], []
    gen = None
    try:
        iot = emu.client("iot")
        # The generator's client ids are soak-p0..49: registered things, so
        # the profile on all things evaluates them and they violate.
        for i in range(50):
            iot.create_thing(thingName="soak-p%d" % i)
        create_profile(emu, "soak-steady", "arn:aws:iot:us-east-1:123456789012:all/things")
        pids = children(emu)
        # 50 publishers at 1,000 msg/s in all (the load generator of make bench).
        gen = subprocess.Popen(
            [os.path.join(BUILD, "ddlocal-loadgen"), "-p", str(emu.mqtt_port), "-P", "50",
             "-S", "0", "-r", "1000", "-d", str(int(minutes * minute) + 5), "-t", "soak",
             "-i", "soak"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        rest = threading.Thread(target=rest_load, args=(emu, stop, samples, lock), daemon=True)
        rest.start()
        start = time.monotonic()
        for m in range(minutes):
            time.sleep(max(0.0, start + (m + 1) * minute - time.monotonic()))
            with lock:
                mine = [s for s in samples if s[0] >= start + m * minute]
            ms = [s[1] for s in mine]
            rows.append({"minute": m + 1, "n": len(ms), "errors": [s[2] for s in mine if s[2]],
                         "p50": pct(ms, 50), "p99": pct(ms, 99),
                         "server": rss_kb(pids["server"]), "broker": rss_kb(pids["broker"])})
            r = rows[-1]
            print("steady: minute %2d  %4d req  %d errors  p50 %6.2f ms  p99 %7.2f ms  "
                  "server %6d KB  broker %6d KB" % (r["minute"], r["n"], len(r["errors"]), r["p50"],
                                                     r["p99"], r["server"], r["broker"]),
                  flush=True)
        stop.set()
        rest.join(timeout=10)
        for op in sorted({s[3] for s in samples}):
            ms = [s[1] for s in samples if s[3] == op]
            print("steady: %-20s p50 %6.2f ms  p99 %7.2f ms  max %7.2f ms"
                  % (op, pct(ms, 50), pct(ms, 99), max(ms)))
    finally:
        stop.set()
        if gen and gen.poll() is None:
            gen.terminate()
            gen.wait()
        emu.stop()
    return steady_verdict(rows)


def steady_verdict(rows):
    """Flat: the last third of the minutes against the first third."""
    third = max(1, len(rows) // 3)
    first, last = rows[:third], rows[-third:]
    rss_tol, p99_tol = knob("SOAK_RSS_TOLERANCE_KB", 1024), knob("SOAK_P99_TOLERANCE", 2.0)
    out = []
    for key in ("server", "broker"):
        a, b = max(r[key] for r in first), max(r[key] for r in last)
        out.append(("steady: %s RSS over %d minutes" % (key, len(rows)),
                    "first third max %d KB, last third max %d KB (tolerance +%d KB)"
                    % (a, b, rss_tol), b - a <= rss_tol))
    a = statistics.median(r["p99"] for r in first)
    b = statistics.median(r["p99"] for r in last)
    p50 = [r["p50"] for r in rows]
    errors = sorted({e for r in rows for e in r["errors"]})
    out.append(("steady: REST p99 (20 req/s, 1,000 msg/s, scale 60)",
                "first third %.1f ms, last third %.1f ms (tolerance x%.1f); p50 %.2f-%.2f ms; "
                "errors: %s" % (a, b, p99_tol, min(p50), max(p50), ", ".join(errors) or "none"),
                b <= a * p99_tol and not errors))
    return out


SCENARIOS = {"crash": scenario_crash, "churn": scenario_churn, "slow": scenario_slow,
             "steady": scenario_steady}


def main(argv):
    names = argv[1:] or list(SCENARIOS)
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        sys.stderr.write("soak: unknown scenario %s (have: %s)\n"
                         % (", ".join(unknown), ", ".join(SCENARIOS)))
        return 2
    global SCRATCH
    rows = []
    with tempfile.TemporaryDirectory(prefix="ddlocal-soak-") as SCRATCH:
        for name in names:
            print("soak: %s ..." % name, flush=True)
            try:
                rows += SCENARIOS[name]()
            except Exception as e:  # a scenario that breaks is a row that failed
                rows.append(("%s: run" % name, "broke: %r" % e, False))
    width = max(len(r[0]) for r in rows)
    print("\n%-*s  %-4s  %s" % (width, "tried", "ok", "survived"))
    for tried, survived, ok in rows:
        print("%-*s  %-4s  %s" % (width, tried, "yes" if ok else "NO", survived))
    return 0 if all(r[2] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
