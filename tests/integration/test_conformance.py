# SPDX-License-Identifier: MIT
"""The conformance harness (tests/conformance, `make conformance`): the proxy
forwards AWS calls unchanged and maps moto's reset to ddlocal's; the runner
counts per file, puts tests that send the policy document {} apart, stops
everything it started (also on SIGTERM) and leaves no files behind. The
runner is driven here with a small stand-in for a moto tree, whose tests
use moto's server-mode contract (TEST_SERVER_MODE_ENDPOINT and
POST /moto-api/reset), so this needs no moto checkout."""
import os
import re
import signal
import subprocess
import sys
import textwrap

import boto3
import botocore.config
import pytest

from conftest import ROOT, http

sys.path.insert(0, os.path.join(ROOT, "tests", "conformance"))
from proxy import Proxy  # noqa: E402
from run import DESELECTED, SUITES  # noqa: E402

RUNNER = os.path.join(ROOT, "tests", "conformance", "run.py")

# A stand-in for moto: mock_aws resets the server before and after a test,
# through the endpoint the runner names, as moto's server mode does.
FAKE_MOTO = '''
import functools, os, urllib.request

def _reset():
    url = os.environ["TEST_SERVER_MODE_ENDPOINT"] + "/moto-api/reset"
    urllib.request.urlopen(urllib.request.Request(url, method="POST")).read()

def mock_aws(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _reset()
        try:
            return func(*args, **kwargs)
        finally:
            _reset()
    return wrapper
'''
CLIENT = '''
import os, boto3
from moto import mock_aws

def client():
    return boto3.client("iot", region_name="ap-northeast-1",
                        endpoint_url=os.environ["TEST_SERVER_MODE_ENDPOINT"],
                        aws_access_key_id="FOOBARKEY", aws_secret_access_key="x")
'''
THINGS = CLIENT + '''
@mock_aws
def test_first_thing():
    out = client().create_thing(thingName="t1")
    assert ":123456789012:thing/t1" in out["thingArn"]
    assert [t["thingName"] for t in client().list_things()["things"]] == ["t1"]

@mock_aws
def test_second_thing_sees_a_reset_store():
    client().create_thing(thingName="t2")
    assert [t["thingName"] for t in client().list_things()["things"]] == ["t2"]
'''
THINGS_FAILING = '''
@mock_aws
def test_thing_of_another_test():
    client().describe_thing(thingName="t1")
'''
POLICIES = CLIENT + '''
DOC = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}'

@mock_aws
def test_empty_document():
    client().create_policy(policyName="p", policyDocument="{}")

@mock_aws
def test_real_document():
    assert client().create_policy(policyName="p", policyDocument=DOC)["policyVersionId"] == "1"
'''
SLEEPER = '''
import os, time

def test_sleeps():
    print("PID %d" % os.getpid(), flush=True)
    time.sleep(60)
'''


def fake_tree(root, files):
    """A directory shaped as moto's tree: moto/__init__.py and every file of
    every suite under tests/ (empty unless files gives the text of its base
    name)."""
    os.makedirs(os.path.join(root, "moto"))
    with open(os.path.join(root, "moto", "__init__.py"), "w") as f:
        f.write(FAKE_MOTO)
    for path in (p for suite in SUITES.values() for p in suite):
        os.makedirs(os.path.join(root, "tests", os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(root, "tests", path), "w") as f:
            f.write(textwrap.dedent(files.get(os.path.basename(path), "")))
    return str(root)


def listing(top):
    return sorted(os.path.relpath(os.path.join(d, n), top)
                  for d, dirs, names in os.walk(top) for n in dirs + names)


def run_env(tmp):
    os.makedirs(tmp, exist_ok=True)
    return dict(os.environ, TMPDIR=str(tmp))


def endpoints(out):
    m = re.search(r"ddlocal at (http://\S+), moto's tests through the proxy at (http://\S+)", out)
    assert m, out
    return m.group(1), m.group(2)


def assert_down(url):
    with pytest.raises(OSError):
        http("GET", url + "/_ddlocal/health", timeout=2)


def row(out, name):
    m = re.search(r"^%s +(\d+) +(\d+) +(\d+) +(\d+) +(\d+)$" % re.escape(name), out, re.M)
    assert m, out
    return tuple(int(g) for g in m.groups())


@pytest.fixture
def proxy(emu):
    p = Proxy(0, emu.endpoint)
    p.serve_in_thread()
    try:
        yield p
    finally:
        p.shutdown()
        p.server_close()


def test_proxy_forwards_aws_calls_and_their_errors(emu, iot, proxy):
    via = boto3.client("iot", endpoint_url=proxy.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=botocore.config.Config(retries={"max_attempts": 1}))
    made = via.create_thing(thingName="p1", attributePayload={"attributes": {"k": "v"}})
    via.create_thing(thingName="p2")
    assert iot.describe_thing(thingName="p1")["thingId"] == made["thingId"]
    page = via.list_things(maxResults=1)  # the query string goes through
    assert len(page["things"]) == 1 and page["nextToken"]
    via.update_thing(thingName="p2", attributePayload={"attributes": {"a": "1"}})  # PATCH
    assert iot.describe_thing(thingName="p2")["attributes"] == {"a": "1"}
    via.delete_thing(thingName="p2")  # DELETE
    with pytest.raises(via.exceptions.ResourceNotFoundException) as e:
        via.describe_thing(thingName="p2")
    assert e.value.response["Error"]["Message"] == "Thing p2 cannot be found."
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(via.exceptions.InvalidRequestException):
        via.create_thing(thingName="bad name!")


def test_proxy_maps_moto_reset_and_refuses_the_rest_of_moto_api(emu, iot, proxy):
    iot.create_thing(thingName="kept")
    for method, path in (("POST", "/moto-api/reset-auth"), ("GET", "/moto-api/reset"),
                         ("POST", "/moto-api/data.json")):
        status, _, body = http(method, proxy.endpoint + path)
        assert status == 501, (method, path)
        assert b"moto's own API, which ddlocal does not have" in body
    assert [t["thingName"] for t in iot.list_things()["things"]] == ["kept"]
    status, _, _ = http("POST", proxy.endpoint + "/moto-api/reset", "ignored")
    assert status == 200
    assert iot.list_things()["things"] == []


def test_proxy_can_turn_the_index_on_after_each_reset(emu, iot):
    """INDEXING=MODE: after moto's reset the thing index is on in the regions
    moto's IoT tests use; without it a reset leaves it off, as a new account."""
    p = Proxy(0, emu.endpoint, indexing="REGISTRY")
    p.serve_in_thread()
    try:
        tokyo = emu.client("iot", region="ap-northeast-1")
        for client in (iot, tokyo):
            client.update_indexing_configuration(
                thingIndexingConfiguration={"thingIndexingMode": "REGISTRY_AND_SHADOW"})
        status, _, _ = http("POST", p.endpoint + "/moto-api/reset", "")
        assert status == 200
        for client in (iot, tokyo):
            got = client.get_indexing_configuration()["thingIndexingConfiguration"]
            assert got["thingIndexingMode"] == "REGISTRY"
            client.create_thing(thingName="found")
            assert [t["thingName"] for t in client.search_index(queryString="*")["things"]] \
                == ["found"]
    finally:
        p.shutdown()
        p.server_close()
    status, _, _ = http("POST", emu.endpoint + "/_ddlocal/reset", "")
    assert status == 200
    with pytest.raises(iot.exceptions.ResourceNotFoundException):
        iot.search_index(queryString="*")


def test_runner_counts_per_file_and_leaves_nothing_behind(tmp_path):
    tree = fake_tree(tmp_path / "moto", {"test_iot_things.py": THINGS + THINGS_FAILING,
                                          "test_iot_policies.py": POLICIES})
    before = listing(tree)
    p = subprocess.run([sys.executable, RUNNER, tree], capture_output=True, text=True,
                       timeout=120, env=run_env(tmp_path / "tmp"))
    assert p.returncode == 1, p.stdout + p.stderr
    # file: passed, failed, skipped, {} passed, {} failed
    assert row(p.stdout, "test_iot_things.py") == (2, 1, 0, 0, 0)
    assert row(p.stdout, "test_iot_policies.py") == (1, 0, 0, 0, 1)
    assert row(p.stdout, "test_iot_thing_types.py") == (0, 0, 0, 0, 0)
    assert row(p.stdout, "total") == (3, 1, 0, 0, 1)
    assert re.search(r"test_iot_things.py::test_thing_of_another_test: .*"
                     r"ResourceNotFoundException", p.stdout), p.stdout
    assert re.search(r"test_iot_policies.py::test_empty_document \[\{\}\]: .*"
                     r"MalformedPolicyException", p.stdout), p.stdout
    for url in endpoints(p.stdout):
        assert_down(url)
    assert os.listdir(tmp_path / "tmp") == []
    assert listing(tree) == before


def test_make_conformance_passes_when_only_empty_document_tests_fail(tmp_path):
    """Through the make target, as docs/conformance.md shows it."""
    tree = fake_tree(tmp_path / "moto", {"test_iot_policies.py": POLICIES})
    p = subprocess.run(["make", "--no-print-directory", "conformance", "MOTO_TESTS=" + tree],
                       cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env=run_env(tmp_path / "tmp"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert row(p.stdout, "total") == (1, 0, 0, 0, 1)


SNS_TOPICS = CLIENT.replace('"iot"', '"sns"') + """
@mock_aws
def test_create_topic():
    assert client().create_topic(Name="t")["TopicArn"].endswith(":123456789012:t")

@mock_aws
def test_publish_sms():
    raise AssertionError("a deselected test ran")
"""


def test_suite_picks_the_files_and_leaves_out_the_deselected_tests(tmp_path):
    """SUITE=sns runs only the SNS files, without the tests DESELECTED names
    (SMS here); an unknown suite is a usage error."""
    assert "test_publish_sms" in DESELECTED["sns"]
    tree = fake_tree(tmp_path / "moto", {"test_topics.py": SNS_TOPICS, "test_iot.py": SLEEPER})
    p = subprocess.run(["make", "--no-print-directory", "conformance", "MOTO_TESTS=" + tree,
                        "SUITE=sns"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env=run_env(tmp_path / "tmp"))
    assert p.returncode == 0, p.stdout + p.stderr
    assert row(p.stdout, "test_topics.py") == (1, 0, 0, 0, 0)
    assert row(p.stdout, "total") == (1, 0, 0, 0, 0)
    assert "test_iot.py" not in p.stdout
    p = subprocess.run([sys.executable, RUNNER, "--suite", "s3", tree], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2 and "unknown suite s3" in p.stderr, p.stderr


def test_runner_stops_everything_on_sigterm(tmp_path):
    tree = fake_tree(tmp_path / "moto", {"test_iot.py": SLEEPER})
    runner = subprocess.Popen([sys.executable, RUNNER, tree, "-s"], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, env=run_env(tmp_path / "tmp"))
    seen = ""
    try:
        for line in runner.stdout:
            seen += line
            m = re.search(r"PID (\d+)", line)
            if m:
                break
        assert m, seen
        pytest_pid = int(m.group(1))
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=30) == 128 + signal.SIGTERM
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        runner.stdout.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pytest_pid, 0)
    for url in endpoints(seen):
        assert_down(url)
    assert os.listdir(tmp_path / "tmp") == []


def test_runner_and_make_without_a_tree_say_how_to_get_one(tmp_path):
    p = subprocess.run([sys.executable, RUNNER], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2
    assert "git clone --depth 1 https://github.com/getmoto/moto.git" in p.stderr
    p = subprocess.run([sys.executable, RUNNER, str(tmp_path)], capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 2
    assert "is not a moto source tree" in p.stderr and "git clone" in p.stderr
    p = subprocess.run(["make", "--no-print-directory", "conformance", "MOTO_TESTS="], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "conformance: no moto tree" in p.stderr
    assert "make conformance MOTO_TESTS=path/to/moto" in p.stderr
