# SPDX-License-Identifier: MIT
"""Run moto's own tests against ddlocal (`make conformance MOTO_TESTS=DIR [SUITE=NAME]`).

    /usr/bin/python3 tests/conformance/run.py [--suite NAME[,NAME]] MOTO_TREE [PYTEST_ARGS...]

MOTO_TREE is a source tree of github.com/getmoto/moto. This starts the
emulator (bin/ddlocal up on free loopback ports, account 123456789012, which
moto's tests put in the ARNs they expect) and the conformance proxy in front
of it (proxy.py), then runs pytest over the files of the SUITES asked for (all of them
without --suite), less the tests DESELECTED names, with moto in server mode
(TEST_SERVER_MODE=true, TEST_SERVER_MODE_ENDPOINT = the proxy) and prints
passes and failures per file (conformance_report.py). Everything runs from a
temporary directory that is removed at the end, and everything started is
stopped with SIGTERM, also when this script is interrupted.

With CONFORMANCE_INDEXING=MODE in the environment (make's INDEXING=MODE),
the proxy sets thingIndexingMode MODE after each reset, so that moto's
search tests, which never turn the index on, reach the query itself.

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

# moto's test files per service, under the tree's tests/.
SUITES = {
    "iot": ["test_iot/test_iot_things.py", "test_iot/test_iot_thing_types.py",
            "test_iot/test_iot_thing_groups.py", "test_iot/test_iot_billing_groups.py",
            "test_iot/test_iot_certificates.py", "test_iot/test_iot_policies.py",
            "test_iot/test_iot.py", "test_iot/test_iot_search.py",
            "test_iot/test_iot_indexing_configuration.py", "test_iot/test_iot_integration.py"],
    "sns": ["test_sns/test_topics.py", "test_sns/test_subscriptions.py",
            "test_sns/test_publishing.py", "test_sns/test_publish_batch.py"],
    "sqs": ["test_sqs/test_sqs.py", "test_sqs/test_sqs_message_attributes.py"],
}
# Tests of those files that are left out, by name, each with the reason.
SMS = "SMS: ddlocal does not send text messages"
OPT_OUT = "SMS phone-number opt-out list: ddlocal does not send text messages"
CONFIG = "AWS Config's view of topics: another service, which ddlocal does not emulate"
DESELECTED = {
    "sns": {
        "test_subscribe_sms": SMS,
        "test_subscribe_bad_sms": SMS,
        "test_publish_sms": SMS,
        "test_publish_bad_sms": SMS,
        "test_check_not_opted_out": OPT_OUT,
        "test_check_opted_out": OPT_OUT,
        "test_check_opted_out_invalid": OPT_OUT,
        "test_list_opted_out": OPT_OUT,
        "test_opt_in": OPT_OUT,
        "test_list_config_service_resources": CONFIG,
        "test_get_config_resource": CONFIG,
    },
}
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


def suites_asked(argv):
    """The suite names of a leading --suite NAME[,NAME] (all without one),
    and the rest of argv."""
    names = list(SUITES)
    if argv and argv[0].startswith("--suite"):
        value = argv[0].partition("=")[2] if "=" in argv[0] else (argv[1:2] or [""])[0]
        argv = argv[1:] if "=" in argv[0] else argv[2:]
        names = [n for n in value.split(",") if n] if value else names
        unknown = [n for n in names if n not in SUITES]
        if unknown or not names:
            usage_error("unknown suite %s; the suites are %s"
                        % (",".join(unknown) or "''", ", ".join(SUITES)))
    return names, argv


def check(tree, files):
    if not os.path.isfile(os.path.join(tree, "moto", "__init__.py")):
        usage_error("%s is not a moto source tree (no moto/__init__.py); %s" % (tree, GET_TREE))
    missing = [f for f in files if not os.path.isfile(os.path.join(tree, "tests", f))]
    if missing:
        usage_error("%s has no tests/%s; %s" % (tree, ", tests/".join(missing), GET_TREE))
    absent = sorted({pkg for mod, pkg in MODULES.items() if importlib.util.find_spec(mod) is None})
    if absent:
        usage_error("moto's tests need Debian packages that are missing: apt-get install %s"
                    % " ".join(absent))


def on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def main(argv):
    names, args = suites_asked(argv[1:])
    if not args or args[0] in ("-h", "--help"):
        usage_error("usage: run.py [--suite NAME[,NAME]] MOTO_TREE [PYTEST_ARGS...]; " + GET_TREE)
    tree = os.path.abspath(args[0])
    files = [f for n in names for f in SUITES[n]]
    check(tree, files)
    skip = [t for n in names for t in DESELECTED.get(n, {})]
    # Imported after the checks: both need boto3.
    from conftest import Emulator
    from proxy import Proxy

    signal.signal(signal.SIGTERM, on_sigterm)
    scratch = tempfile.mkdtemp(prefix="ddlocal-conformance-")
    emu = proxy = tests = None
    try:
        emu = Emulator(os.path.join(scratch, "data"), ["--account", ACCOUNT]).start()
        proxy = Proxy(0, emu.endpoint, indexing=os.environ.get("CONFORMANCE_INDEXING") or None)
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
        cmd += [os.path.join("tests", f) for f in files]
        if skip:
            cmd += ["-k", " and ".join("not " + t for t in skip)]
        cmd += args[1:]
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
