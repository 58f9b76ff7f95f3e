# SPDX-License-Identifier: MIT
"""The "Detect: mitigation cloud side" lab, end to end, as a student runs it:
docs/workshop.md, command by command, with
Debian's AWS CLI v2, the mitigation runner of fixtures/mitigation/ and one
`generic` virtual device, on a scaled clock (not the manual one).

The commands are read from docs/workshop.md itself (every line starting
with "$ " on that page) and must be exactly WALKTHROUGH, so the page shows
what this test runs. The only changes made to them: the fixed ports (4566, 9000)
become free ones, the emulator and the device get the other ports and a data
directory, and the files under /tmp go to the test's temporary directory.

The JSON the CLI prints is checked field by field against the lab's sample
outputs; where ddlocal differs from them on purpose (the device reports its
quarantine, CLI v2 prints ISO 8601 times, the lab's own sample ran with a
threshold of 10) the page explains it.

Once quarantined the device sends nothing, so the next 5-minute datapoint is
compliant and the violation clears: the test reads the active violation
while it lasts (one bucket, TIME_SCALE-times faster than real time) by
polling, as a student re-runs the command. The last step releases the
device, which then violates again and is quarantined again."""
import datetime
import json
import os
import re
import shlex
import subprocess
import sys
import time

from conftest import AWS_CLI, ROOT, Emulator, aws_env, free_port
from test_device import DeviceProc

WORKSHOP = os.path.join(ROOT, "docs", "workshop.md")
TIME_SCALE = 30
BUCKET_S = 300
# Real seconds in one 5-minute bucket at TIME_SCALE.
BUCKET_REAL_S = BUCKET_S / TIME_SCALE
ACCOUNT = "123456789012"
DEVICE = "dev-XBHY"
FUNCTION = "arn:aws:lambda:us-east-1:%s:function:Alerts" % ACCOUNT
EP = "aws --endpoint-url http://localhost:4566 "

WALKTHROUGH = [
    "make",
    "bin/ddlocal up --time-scale %d --lambda %s=http://127.0.0.1:9000/" % (TIME_SCALE, FUNCTION),
    "python3 fixtures/mitigation/runner.py --port 9000 --endpoint http://localhost:4566",
    "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1",
    EP + "iot create-thing-group --cli-input-json file://fixtures/workshop/thing-group.json",
    EP + "sns create-topic --cli-input-json file://fixtures/workshop/topic.json",
    EP + "sns subscribe --cli-input-json file://fixtures/workshop/subscription.json",
    EP + "iot create-security-profile"
    " --cli-input-json file://fixtures/workshop/security-profile.json",
    EP + "iot attach-security-profile"
    " --cli-input-json file://fixtures/workshop/attach-security-profile.json",
    "bin/ddlocal device --profile generic --name " + DEVICE,
    EP + "iot list-active-violations",
    EP + "iot list-thing-groups-for-thing --thing-name " + DEVICE,
    EP + "iot-data get-thing-shadow --thing-name %s /tmp/shadow_output" % DEVICE,
    "python3 -m json.tool /tmp/shadow_output",
    EP + "iot list-violation-events --thing-name %s"
    " --start-time 2020-01-01 --end-time 2100-01-01" % DEVICE,
    EP + "iot update-thing-groups-for-thing --thing-name %s"
    " --thing-groups-to-remove Quarantine" % DEVICE,
    EP + "iot-data update-thing-shadow --thing-name %s --cli-binary-format raw-in-base64-out"
    " --payload '{\"state\":{\"desired\":{\"quarantine\":false}}}' /tmp/update_output"
    % DEVICE,
    "python3 -m json.tool /tmp/update_output",
    EP + "iot list-active-violations",
    EP + "iot list-thing-groups-for-thing --thing-name " + DEVICE,
]

# The lab's behavior, as its sample list-active-violations prints it, with
# the threshold its text sets (5; the sample was taken with 10).
LAB_BEHAVIOR = {
    "name": "MsgSentBehavior",
    "metric": "aws:num-messages-sent",
    "criteria": {
        "comparisonOperator": "less-than",
        "value": {"count": 5},
        "durationSeconds": 300,
        "consecutiveDatapointsToAlarm": 1,
        "consecutiveDatapointsToClear": 1,
    },
}


def page_commands(text=None):
    """Every "$ " command of docs/workshop.md (or of text), continuation
    lines (a trailing backslash) joined."""
    if text is None:
        with open(WORKSHOP, encoding="utf-8") as f:
            text = f.read()
    commands, current = [], None
    for line in text.splitlines():
        if current is not None:
            current += " " + line.strip()
        elif line.startswith("$ "):
            current = line[2:].strip()
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        commands.append(" ".join(current.split()))
        current = None
    return commands


def epoch(iso):
    """CLI v2 prints API timestamps as ISO 8601 with an offset."""
    return int(datetime.datetime.fromisoformat(iso).timestamp())


class Lab:
    """Runs the walkthrough's commands with free ports substituted."""

    def __init__(self, tmp_path):
        self.home = str(tmp_path)
        self.emu = Emulator(tmp_path / "data")
        self.runner_port = free_port()
        while self.runner_port in (self.emu.http_port, self.emu.mqtt_port, self.emu.mqtts_port):
            self.runner_port = free_port()
        self.shadow_file = str(tmp_path / "shadow_output")
        self.update_file = str(tmp_path / "update_output")
        self.runner = None
        self.device = None
        self.env = aws_env(self.home)

    def substitute(self, command):
        return (command.replace("localhost:4566", "localhost:%d" % self.emu.http_port)
                .replace("127.0.0.1:9000", "127.0.0.1:%d" % self.runner_port)
                .replace("--port 9000", "--port %d" % self.runner_port)
                .replace("/tmp/shadow_output", self.shadow_file)
                .replace("/tmp/update_output", self.update_file))

    def start_emulator(self, command):
        argv = shlex.split(self.substitute(command))
        assert argv[:2] == ["bin/ddlocal", "up"]
        self.emu.args = argv[2:]
        self.emu.start()

    def start_runner(self, command):
        argv = shlex.split(self.substitute(command))
        assert argv[0] == "python3"
        self.runner = subprocess.Popen([sys.executable] + argv[1:], cwd=ROOT,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.runner.stdout.readline()
        assert "runner: listening on http://127.0.0.1:%d/" % self.runner_port in line, \
            line + self.runner.stderr.read()

    def export(self, command):
        for assignment in shlex.split(command)[1:]:
            name, _, value = assignment.partition("=")
            assert self.env[name] == value, name

    def start_device(self, command):
        argv = shlex.split(self.substitute(command))
        assert argv[:2] == ["bin/ddlocal", "device"]
        self.device = DeviceProc(self.emu, *argv[2:])

    def aws(self, command):
        """Run one `aws ...` command; returns its stdout parsed as JSON
        (None when it prints nothing)."""
        argv = shlex.split(self.substitute(command))
        assert argv[0] == "aws"
        p = subprocess.run([AWS_CLI] + argv[1:], cwd=ROOT, env=self.env, capture_output=True,
                           text=True, timeout=60)
        assert p.returncode == 0, "%s -> %d\n%s" % (command, p.returncode, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else None

    def json_tool(self, command):
        argv = shlex.split(self.substitute(command))
        p = subprocess.run([sys.executable] + argv[1:], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def poll(self, command, done, timeout, what):
        """Re-run an aws command until done(output), as a student would."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.aws(command)
            if done(out):
                return out
            assert time.monotonic() < deadline, "%s: %s" % (what, json.dumps(out))
            time.sleep(0.2)

    def close(self):
        if self.device:
            self.device.close()
        if self.runner:
            if self.runner.poll() is None:
                self.runner.terminate()
            try:
                self.runner.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.runner.kill()
                self.runner.wait()
            self.runner.stdout.close()
            self.runner.stderr.close()
        self.emu.stop()


def test_the_page_shows_the_walkthrough():
    assert page_commands() == WALKTHROUGH


def test_the_lab_end_to_end(tmp_path):
    assert page_commands() == WALKTHROUGH
    steps = iter(WALKTHROUGH)
    lab = Lab(tmp_path)
    t_start = time.monotonic()
    try:
        assert next(steps) == "make"  # make test has built everything
        lab.start_emulator(next(steps))
        lab.start_runner(next(steps))
        lab.export(next(steps))

        out = lab.aws(next(steps))
        assert out["thingGroupName"] == "Quarantine"
        assert out["thingGroupArn"] == "arn:aws:iot:us-east-1:%s:thinggroup/Quarantine" % ACCOUNT
        topic_arn = "arn:aws:sns:us-east-1:%s:DDD_Alerts" % ACCOUNT
        assert lab.aws(next(steps)) == {"TopicArn": topic_arn}
        sub = lab.aws(next(steps))["SubscriptionArn"]
        assert re.fullmatch(re.escape(topic_arn) + r":[0-9a-f-]{36}", sub), sub
        assert lab.aws(next(steps)) == {
            "securityProfileName": "MsgSentSecProfile",
            "securityProfileArn":
                "arn:aws:iot:us-east-1:%s:securityprofile/MsgSentSecProfile" % ACCOUNT}
        assert lab.aws(next(steps)) is None
        t_setup = time.monotonic()

        lab.start_device(next(steps))
        lab.device.wait_for(DEVICE + r" published 30 messages to telemetry/" + DEVICE,
                            timeout=2 * BUCKET_REAL_S + 5)

        # --- Monitoring violations: the window closes, Detect alarms.
        # At most 1.2 buckets pass between the device's start and the end
        # of the bucket that holds its first burst.
        violations = next(steps)
        out = lab.poll(violations, lambda o: o["activeViolations"], 2 * BUCKET_REAL_S + 10,
                       "no active violation")
        t_violation = time.monotonic()
        [v] = out["activeViolations"]
        assert set(v) == {"violationId", "thingName", "securityProfileName", "behavior",
                          "lastViolationValue", "lastViolationTime", "violationStartTime"}
        assert re.fullmatch(r"[0-9a-f]{32}", v["violationId"]), v
        assert v["thingName"] == DEVICE
        assert v["securityProfileName"] == "MsgSentSecProfile"
        assert v["behavior"] == LAB_BEHAVIOR
        assert v["lastViolationValue"] == {"count": 30}
        assert v["lastViolationTime"] == v["violationStartTime"]
        t_alarm = epoch(v["violationStartTime"])
        assert t_alarm % BUCKET_S == 0, v

        # --- Checking: the mitigation function quarantined the device.
        # The alert leaves right behind the violation; re-run while the
        # function is still at work.
        out = lab.poll(next(steps), lambda o: o["thingGroups"], 10, "not in Quarantine")
        assert out == {"thingGroups": [{
            "groupName": "Quarantine",
            "groupArn": "arn:aws:iot:us-east-1:%s:thinggroup/Quarantine" % ACCOUNT}]}

        delta = lab.device.wait_for(DEVICE + r" delta received ")[0]
        lab.device.wait_for(DEVICE + r" quarantined: publishing stops \(reporting "
                            r"quarantine=true\)")
        # The device's report may still be on its way to the shadow.
        lab.poll(next(steps), lambda o: os.path.exists(lab.shadow_file) and "reported" in
                 json.load(open(lab.shadow_file))["state"], 10, "no reported state")
        shadow = lab.json_tool(next(steps))
        assert set(shadow) == {"state", "metadata", "version", "timestamp"}
        assert shadow["state"] == {"desired": {"quarantine": True},
                                   "reported": {"quarantine": True}}
        desired_ts = shadow["metadata"]["desired"]["quarantine"]["timestamp"]
        reported_ts = shadow["metadata"]["reported"]["quarantine"]["timestamp"]
        assert shadow["metadata"] == {"desired": {"quarantine": {"timestamp": desired_ts}},
                                      "reported": {"quarantine": {"timestamp": reported_ts}}}
        # Set right after the window closed (the alarm-cleared alert, one
        # bucket later, sets it again: then the version is 3).
        assert t_alarm <= desired_ts < t_alarm + BUCKET_S, (t_alarm, shadow)
        assert desired_ts <= reported_ts <= shadow["timestamp"], shadow
        assert shadow["version"] == 2, shadow

        # --- What the device logged: one burst, the delta, then nothing.
        payload = json.loads(delta.split(" delta received ", 1)[1])
        assert payload == {"state": {"quarantine": True},
                           "metadata": {"quarantine": {"timestamp": desired_ts}},
                           "version": 1, "timestamp": desired_ts}
        held = lab.device.wait_for(DEVICE + r" quarantined: held back 30 messages",
                                   timeout=BUCKET_REAL_S + 5)
        lines = lab.device.lines[:]
        assert lab.device.matching(r" published ") == [lines[2]], "\n".join(lines)
        assert [re.sub(r"^\S+ ", "", line) for line in lines[:5]] == [
            DEVICE + " registered (CreateThing)",
            DEVICE + " connected",
            DEVICE + " published 30 messages to telemetry/" + DEVICE,
            delta.split(" ", 1)[1],
            DEVICE + " quarantined: publishing stops (reporting quarantine=true)"]
        assert lines[5] == held[0], "\n".join(lines)

        # --- The violation clears one bucket later: the quarantined device
        # sent only its shadow report (1 message < 5).
        lab.poll(violations, lambda o: not o["activeViolations"], BUCKET_REAL_S + 10,
                 "never cleared")
        events = lab.aws(next(steps))["violationEvents"]
        assert [(e["violationEventType"], epoch(e["violationEventTime"]), e["metricValue"])
                for e in events] == [("in-alarm", t_alarm, {"count": 30}),
                                     ("alarm-cleared", t_alarm + BUCKET_S, {"count": 1})]
        assert {e["violationId"] for e in events} == {v["violationId"]}
        assert all(e["behavior"] == LAB_BEHAVIOR for e in events)

        # Both alerts went to the function; the lab's function does not look
        # at violationEventType, so the alarm-cleared one quarantines again.
        deadline = time.monotonic() + 10
        while True:
            status, doc = lab.emu.get("/_ddlocal/alerts")
            assert status == 200, doc
            got = [(json.loads(a["message"])["violationEventType"],
                    [(d["endpoint"], d["status"]) for d in a["deliveries"]])
                   for a in reversed(doc["alerts"])]
            want = [(kind, [(FUNCTION, "delivered")]) for kind in ("in-alarm", "alarm-cleared")]
            if got == want:
                break
            assert time.monotonic() < deadline, got
            time.sleep(0.1)

        # --- Releasing the device: out of the group, desired.quarantine
        # false. It resumes at its next due time, violates again, and the
        # function quarantines it again.
        assert lab.aws(next(steps)) is None
        assert lab.aws(next(steps)) is None
        update = lab.json_tool(next(steps))
        release_ts = update["timestamp"]
        # Versions: 1 the function, 2 the device's report, 3 the function
        # again (alarm-cleared), 4 this update.
        assert update == {"state": {"desired": {"quarantine": False}},
                          "metadata": {"desired": {"quarantine": {"timestamp": release_ts}}},
                          "version": 4, "timestamp": release_ts}
        assert release_ts >= t_alarm + BUCKET_S
        released = lab.device.wait_for(DEVICE + r" released from quarantine")[0]
        # The next burst comes at the device's next due time, at most a
        # bucket later; its bucket closes half a bucket after that.
        assert next(steps) == violations
        out = lab.poll(violations, lambda o: o["activeViolations"], 2 * BUCKET_REAL_S + 10,
                       "no second violation")
        [v2] = out["activeViolations"]
        assert v2["violationId"] != v["violationId"]
        assert {k: v2[k] for k in ("thingName", "securityProfileName", "behavior")} == {
            "thingName": DEVICE, "securityProfileName": "MsgSentSecProfile",
            "behavior": LAB_BEHAVIOR}
        # 31 when the device's report of quarantine=false fell in the
        # burst's bucket.
        assert v2["lastViolationValue"] in ({"count": 30}, {"count": 31}), v2
        t_alarm2 = epoch(v2["violationStartTime"])
        assert v2["lastViolationTime"] == v2["violationStartTime"]
        assert t_alarm2 % BUCKET_S == 0 and t_alarm2 > t_alarm + BUCKET_S, v2
        out = lab.poll(next(steps), lambda o: o["thingGroups"], 10, "not in Quarantine")
        assert [g["groupName"] for g in out["thingGroups"]] == ["Quarantine"]

        lab.device.wait_for(DEVICE + r" quarantined: publishing stops", count=2)
        lines = lab.device.lines[:]
        tail = [re.sub(r"^\S+ ", "", line) for line in lines[lines.index(released) - 1:]]
        assert tail[:4] == [
            DEVICE + ' delta received {"state":{"quarantine":false},"metadata":{"quarantine":'
            '{"timestamp":%d}},"version":4,"timestamp":%d}' % (release_ts, release_ts),
            DEVICE + " released from quarantine: publishing resumes",
            DEVICE + " published 30 messages to telemetry/" + DEVICE,
            tail[3]], "\n".join(lines)
        assert re.fullmatch(re.escape(DEVICE) + r' delta received \{"state":\{"quarantine":true\}.*'
                            r'"version":6,.*', tail[3]), tail[3]
        assert tail[4:] == [DEVICE + " quarantined: publishing stops (reporting quarantine=true)"]
        assert next(steps, None) is None
        t_end = time.monotonic()
    finally:
        lab.close()
    print("\nlab wall time at --time-scale %d: setup %.1f s, device start to violation "
          "%.1f s, whole lab %.1f s" % (TIME_SCALE, t_setup - t_start, t_violation - t_setup,
                                       t_end - t_start))
