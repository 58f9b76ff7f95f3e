# SPDX-License-Identifier: MIT
"""Test harness: start the real emulator (bin/ddlocal up) on free loopback
ports in a temporary data directory, hand tests its endpoints and ready
clients, and always stop it.

Tests never sleep to wait for evaluation: they advance the manual clock with
Emulator.advance(), which returns only after the plugin has evaluated every
window that closed."""
import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import boto3
import botocore.config
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAUNCHER = os.path.join(ROOT, "bin", "ddlocal")
SANITIZER_RUNTIME = os.environ.get("DDLOCAL_SANITIZER_RUNTIME")
AWS_CLI = "/usr/bin/aws"  # Debian's AWS CLI v2, as on a user's fresh machine


def free_port():
    """A free loopback port below the ephemeral range (see reference
    mosquitto-plugin.md pitfall 13)."""
    for _ in range(200):
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


def http(method, url, body=None, headers=None, timeout=30):
    """One HTTP request; returns (status, headers, body bytes) for any status."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def aws_env(home):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": home,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": os.path.join(home, "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "aws-credentials"),
        "LANG": "C.UTF-8",
    }
    return env


class Emulator:
    """A running `bin/ddlocal up` with its ports, data dir and clients."""

    # Seconds start() waits for health; a bench on a large database sets more.
    start_timeout = 15

    def __init__(self, data_dir, args=()):
        self.data_dir = str(data_dir)
        self.mqtt_port = free_port()
        self.http_port = free_port()
        while self.http_port == self.mqtt_port:
            self.http_port = free_port()
        # The TLS listener (client certificates); never the fixed default 8883.
        self.mqtts_port = free_port()
        while self.mqtts_port in (self.mqtt_port, self.http_port):
            self.mqtts_port = free_port()
        self.endpoint = "http://127.0.0.1:%d" % self.http_port
        self.args = list(args)
        self.proc = None

    def command(self):
        return [LAUNCHER, "up", "--data-dir", self.data_dir,
                "--mqtt-port", str(self.mqtt_port), "--http-port", str(self.http_port),
                "--mqtts-port", str(self.mqtts_port)] + self.args

    def env(self):
        env = dict(os.environ)
        if SANITIZER_RUNTIME:
            # The sanitizer builds of the plugin and the server (`make
            # integration-sanitized`): mosquitto is not instrumented, so the
            # runtime is preloaded into it, and its leaks are not ours.
            env["LD_PRELOAD"] = SANITIZER_RUNTIME
            env["ASAN_OPTIONS"] = "detect_leaks=0:detect_stack_use_after_return=1"
        return env

    def run_to_end(self):
        """Run the launcher expecting it to exit (a refused start)."""
        return subprocess.run(self.command(), capture_output=True, text=True, timeout=30,
                              env=self.env())

    def start(self):
        # A second start would talk to the first launcher and leave it running.
        assert self.proc is None or self.proc.poll() is not None, "emulator already started"
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=self.env())
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("ddlocal up exited %d: %s" % (
                    self.proc.returncode, self.proc.stderr.read()))
            try:
                status, _, _ = http("GET", self.endpoint + "/_ddlocal/health", timeout=2)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("emulator not healthy within %d s" % self.start_timeout)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.proc.stderr.close()
        if SANITIZER_RUNTIME:
            for log in ("mosquitto.log", "server.log"):
                path = os.path.join(self.data_dir, log)
                text = open(path, errors="replace").read() if os.path.exists(path) else ""
                assert "runtime error" not in text and "Sanitizer" not in text, \
                    "%s reports:\n%s" % (path, text[-4000:])

    # --- the emulator's own API -------------------------------------------
    def get(self, path):
        status, _, body = http("GET", self.endpoint + path)
        return status, json.loads(body) if body else None

    def post(self, path, doc=None, raw=None):
        body = raw if raw is not None else (json.dumps(doc) if doc is not None else b"")
        status, headers, out = http("POST", self.endpoint + path, body)
        return status, headers, json.loads(out) if out else None

    def clock(self):
        status, doc = self.get("/_ddlocal/clock")
        assert status == 200, doc
        return doc

    def sync(self):
        """Return once the broker runs with every change committed so far
        (profiles, dimensions, groups, policies): POST /_ddlocal/sync."""
        status, _, doc = self.post("/_ddlocal/sync")
        assert status == 200, doc
        return doc

    def advance(self, seconds):
        """Advance the manual clock; returns once everything due is evaluated."""
        status, _, doc = self.post("/_ddlocal/clock", {"advanceSeconds": seconds})
        assert status == 200, doc
        return doc

    # --- real clients ------------------------------------------------------
    def client(self, service, region="us-east-1", key="test", secret="test", **config):
        """A boto3 client of service signing with key and secret in region;
        region and a 12-digit key choose the partition, config adds botocore
        Config options (signature_version=UNSIGNED...)."""
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=key, aws_secret_access_key=secret,
            config=botocore.config.Config(retries={"max_attempts": 1}, **config))

    def mqtt_start(self, mqtt_client, timeout=5):
        """Connect a paho client to this broker, start its network loop and
        wait for the CONNACK; returns the client."""
        mqtt_client.connect("127.0.0.1", self.mqtt_port, keepalive=60)
        mqtt_client.loop_start()
        deadline = time.monotonic() + timeout
        while not mqtt_client.is_connected():
            assert time.monotonic() < deadline, "MQTT connect timed out"
            time.sleep(0.01)
        return mqtt_client

    def aws(self, *args, check=True, env=None):
        """Run Debian's AWS CLI v2 against the emulator. With check, a non-zero
        exit fails the test; env overrides variables (the credentials);
        returns the CompletedProcess."""
        cmd = [AWS_CLI, "--endpoint-url", self.endpoint, "--output", "json"] + list(args)
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                           env=dict(aws_env(self.data_dir), **(env or {})))
        if check:
            assert p.returncode == 0, "aws %s -> %d\n%s" % (" ".join(args), p.returncode, p.stderr)
        return p

    def pid_of(self, program):
        """The pid of this emulator's program ("mosquitto" or "ddlocal-server"):
        the process of that name given a path in this data directory."""
        here = os.path.join(str(self.data_dir), "").encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    args = f.read().split(b"\0")
            except OSError:
                continue
            if args and args[0].endswith(b"/" + program.encode()) and \
                    any(a.startswith(here) for a in args):
                return int(pid)
        raise AssertionError("%s is not running" % program)

    def mosquitto_pid(self):
        return self.pid_of("mosquitto")

    def aws_json(self, *args):
        p = self.aws(*args)
        return json.loads(p.stdout) if p.stdout.strip() else None


@pytest.fixture
def emulator(tmp_path):
    """A fresh emulator on the manual clock, stopped after the test."""
    emu = Emulator(tmp_path / "data", ["--manual-clock"]).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def make_emulator(tmp_path):
    """Build emulators with other flags; each is stopped after the test."""
    made = []

    def make(*args, data_dir=None):
        emu = Emulator(data_dir or tmp_path / ("data%d" % len(made)), args)
        made.append(emu)
        return emu

    yield make
    for emu in made:
        emu.stop()


def reset(emu, service="iot"):
    """Clear everything the emulator stores (POST /_ddlocal/reset) and return
    a boto3 client of service."""
    status, _, _ = emu.post("/_ddlocal/reset")
    assert status == 200
    return emu.client(service)


def wait_for(check, timeout=5):
    """check()'s first true result, polled for up to timeout real seconds
    (for what another process records, e.g. the broker's connectivity rows);
    its last result when time is up."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def all_pages(call, key, **kwargs):
    """Follow a nextToken-paged List call to its end; return every item
    under key and the number of pages read."""
    items, pages, token = [], 0, None
    while True:
        page = call(**(dict(kwargs, nextToken=token) if token else kwargs))
        pages += 1
        items += page[key]
        token = page.get("nextToken")
        if not token:
            return items, pages


def cli_error(emu, *args):
    """Run a CLI command that must fail with a service error (exit 254,
    nothing on stdout); return its stderr."""
    p = emu.aws(*args, check=False)
    assert p.returncode == 254, p.stderr
    assert p.stdout == ""
    return p.stderr


@pytest.fixture(scope="module")
def emu(request, tmp_path_factory):
    """One emulator on the manual clock for a whole test module, whose tests
    start from a reset (the iot fixture) instead of a restart. A module's
    EMULATOR_ARGS list adds launcher options (--verify-signatures ...)."""
    name = request.module.__name__.replace("test_", "")
    args = ["--manual-clock"] + list(getattr(request.module, "EMULATOR_ARGS", ()))
    e = Emulator(tmp_path_factory.mktemp(name) / "data", args).start()
    try:
        yield e
    finally:
        e.stop()


@pytest.fixture
def iot(emu):
    """An iot client of the module's emulator, reset for this test."""
    return reset(emu)
