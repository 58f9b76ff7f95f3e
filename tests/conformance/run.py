# SPDX-License-Identifier: MIT
"""Run moto's own tests of one service against ddlocal (`make conformance
MOTO_TESTS=DIR [SUITE=iot|sqs]`).

    [SUITE=sqs] /usr/bin/python3 tests/conformance/run.py MOTO_TREE [PYTEST_ARGS...]

MOTO_TREE is a source tree of github.com/getmoto/moto. This starts the
emulator (bin/ddlocal up on free loopback ports, account 123456789012, which
moto's tests put in the ARNs they expect) and the conformance proxy in front
of it (proxy.py), then runs pytest over the suite's FILES with moto in server mode
(TEST_SERVER_MODE=true, TEST_SERVER_MODE_ENDPOINT = the proxy) and prints
passes and failures per file (conformance_report.py). Everything runs from a
temporary directory that is removed at the end, and everything started is
stopped with SIGTERM, also when this script is interrupted.

Exit status: 0 when every counted test passed, 1 when some failed (the
tests that use the policy document {} aside), 2 when the tree or a Python
module is missing."""
import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

# moto's test files per service, under tests/test_<suite>/; SUITE (the
# environment, `make conformance SUITE=sqs`) picks one, iot by default.
SUITES = {
    "iot": ["test_iot_things.py", "test_iot_thing_types.py", "test_iot_thing_groups.py",
            "test_iot_billing_groups.py", "test_iot_certificates.py", "test_iot_policies.py",
            "test_iot.py"],
    "sqs": ["test_sqs.py", "test_sqs_message_attributes.py"],
}
SUITE = os.environ.get("SUITE") or "iot"
FILES = SUITES.get(SUITE, [])
TEST_DIR = "test_" + SUITE
ACCOUNT = "123456789012"
GET_TREE = ("get a moto source tree with\n"
            "  git clone --depth 1 https://github.com/getmoto/moto.git\n"
            "and run: make conformance MOTO_TESTS=path/to/moto")
# What moto needs to import in server mode, and Debian 12's package for it.
MODULES = {"pytest": "python3-pytest", "boto3": "python3-boto3", "requests": "python3-requests",
           "responses": "python3-responses", "werkzeug": "python3-werkzeug",
           "xmltodict": "python3-xmltodict", "dateutil": "python3-dateutil",
           "cryptography": "python3-cryptography", "freezegun": "python3-freezegun"}


def usage_error(msg):
    sys.stderr.write("conformance: %s\n" % msg)
    sys.exit(2)


def check(tree):
    if SUITE not in SUITES:
        usage_error("no suite %s; SUITE is one of %s" % (SUITE, ", ".join(sorted(SUITES))))
    if not os.path.isfile(os.path.join(tree, "moto", "__init__.py")):
        usage_error("%s is not a moto source tree (no moto/__init__.py); %s" % (tree, GET_TREE))
    missing = [f for f in FILES if not os.path.isfile(os.path.join(tree, "tests", TEST_DIR, f))]
    if missing:
        usage_error("%s has no tests/%s/%s; %s" % (tree, TEST_DIR, ", ".join(missing), GET_TREE))
    absent = sorted({pkg for mod, pkg in MODULES.items() if importlib.util.find_spec(mod) is None})
    if absent:
        usage_error("moto's tests need Debian packages that are missing: apt-get install %s"
                    % " ".join(absent))


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        usage_error("usage: run.py MOTO_TREE [PYTEST_ARGS...]; " + GET_TREE)
    tree = os.path.abspath(argv[1])
    check(tree)
    # Imported after the checks: both need boto3.
    from conftest import Emulator
    from proxy import Proxy

    signal.signal(signal.SIGTERM, on_sigterm)
    scratch = tempfile.mkdtemp(prefix="ddlocal-conformance-")
    emu = proxy = tests = None
    try:
        emu = Emulator(os.path.join(scratch, "data"), ["--account", ACCOUNT]).start()
        proxy = Proxy(0, emu.endpoint)
        proxy.serve_in_thread()
        print("conformance: ddlocal at %s, moto's tests through the proxy at %s"
              % (emu.endpoint, proxy.endpoint), flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        env.update({
            "TEST_SERVER_MODE": "true",
            "TEST_SERVER_MODE_ENDPOINT": proxy.endpoint,
            "PYTHONPATH": os.pathsep.join([tree, HERE]),
            "PYTHONDONTWRITEBYTECODE": "1",  # nothing written into the moto tree
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.path.join(scratch, "aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(scratch, "aws-credentials"),
        })
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
               "-p", "conformance_report", "-q", "--tb=no", "-rN", "--color=no"]
        cmd += [os.path.join("tests", TEST_DIR, f) for f in FILES] + argv[2:]
        tests = subprocess.Popen(cmd, cwd=tree, env=env)
        return tests.wait()
    finally:
        if tests and tests.poll() is None:
            tests.send_signal(signal.SIGTERM)
            tests.wait()
        if proxy:
            proxy.shutdown()
            proxy.server_close()
        if emu:
            emu.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
