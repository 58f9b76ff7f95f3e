# SPDX-License-Identifier: MIT
"""Every command the docs show is run by a test, so the docs cannot drift.

The pages are README.md and docs/*.md. Every fenced block carries a language;
shell is always ```sh (a ```bash, ```console or unlabelled block fails, and so
does a ```text block with "$ " prompts), and every ```sh command is either

- run here, against an emulator on free ports with the manual clock, in a
  scratch directory that looks like a checkout (its top-level entries link
  to the repository's): the fixed ports 4566, 1883 and 8883 become the test's
  free ones, /tmp/ becomes the scratch directory, and `bin/ddlocal device`
  and `explain` get the test's ports. A page that starts the emulator itself
  (`make run`, `bin/ddlocal up`) has it started with those ports and a fresh
  data directory, in the background, as a second terminal would; so does
  `bin/ddlocal device`. Each command must exit 0, and the ones in EXPECT
  must print what the page says they print; or
- not run here, because it cannot run inside a test (Docker, the benchmark,
  the whole test suite): then ELSEWHERE names the file that runs it and a
  string of that file that shows it does, and this test checks both; or
- on docs/workshop.md, whose commands must be exactly what test_workshop.py
  runs (WALKTHROUGH).

A ```sh command that is none of these fails the test. The CI recipe's Python
blocks (docs/ci.md) are run as a pytest suite of their own, the API
coverage page must list every route of the server's route tables, and every
link between the pages must lead to a file and heading that exist."""
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, Emulator, aws_env, http
from test_workshop import WALKTHROUGH, page_commands

PAGES = ["README.md"] + sorted(os.path.relpath(p, ROOT)
                               for p in glob.glob(os.path.join(ROOT, "docs", "*.md")))
WORKSHOP = "docs/workshop.md"
SHELL_LANGS = {"sh", "bash", "shell", "console", "zsh", "shell-session"}

# Pages run right after another, against the same emulator, because they
# start where it ends.
AFTER = {"docs/dashboard.md": "README.md"}

# Commands run elsewhere: (file that runs it, a string of that file showing
# that it does). Keys are commands as the page shows them, comments removed.
ELSEWHERE = {
    "make test": (".ci/run", "\nmake test\n"),
    "make docker-check": (".ci/run", "\nmake docker-check\n"),
    "make bench": ("Makefile", "bench: deps all $(BENCH_BIN)\n\t@bash tests/bench/run.sh"),
    "BENCH_RUNS=9 make bench": ("tests/bench/run.sh", "BENCH_RUNS"),
    "/usr/bin/python3 tests/bench/startup.py":
        ("tests/bench/run.sh", '"$root/tests/bench/startup.py" "$startup_rounds"'),
    "/usr/bin/python3 tests/bench/alert_latency.py":
        ("tests/bench/run.sh", '"$root/tests/bench/alert_latency.py" "$alerts"'),
    "bash tests/bench/write_path.sh":
        ("tests/bench/run.sh", 'bash "$root/tests/bench/write_path.sh"'),
    "make soak":
        ("Makefile", "soak: deps all $(OUT)/ddlocal-loadgen\n\t@/usr/bin/python3 tests/soak"),
    "SOAK_MINUTES=30 SOAK_SCENARIOS=steady make soak": ("tests/soak/run.py", "SOAK_MINUTES"),
    "docker-compose -f docker/compose.yaml build": ("tests/docker/check.sh", "compose build"),
    "docker-compose -f docker/compose.yaml up -d":
        ("tests/docker/check.sh", "compose up -d emulator mitigation"),
    "docker-compose -f docker/compose.yaml --profile devices up -d device":
        ("tests/docker/check.sh", "compose --profile devices up -d device"),
    "docker-compose -f docker/compose.yaml --profile devices down":
        ("tests/docker/check.sh", "compose --profile devices down"),
    "docker save ddlocal:latest | gzip > ddlocal-image.tar.gz":
        ("tests/docker/check.sh", 'docker save "$image" | gzip'),
    "docker load -i ddlocal-image.tar.gz": ("tests/docker/check.sh", 'docker load -i "$ship"'),
    # Needs a moto tree; run with a stand-in for one.
    "make conformance MOTO_TESTS=../moto":
        ("tests/integration/test_conformance.py", '"conformance", "MOTO_TESTS=" + tree'),
}
# Programs this test never runs itself (`make run` aside).
NOT_HERE = {"make", "docker", "docker-compose"}

# What a command prints, as the page says: every string must be in its
# output. A number polls for that many seconds, for what arrives on another
# thread (an HTTP delivery).
EP = "aws --endpoint-url http://localhost:4566 "
EXPECT = {
    EP + "--region us-west-2 sqs receive-message --queue-url "
    "http://localhost:4566/123456789012/west2 --query 'Messages[0].Body' --output text":
        ['"Message"', "across", "arn:aws:sns:us-west-1:123456789012:west1"],
    "curl -s localhost:4566/_ddlocal/health": ['"status":"ok"', '"schemaVersion":39',
                                               '"lagSeconds":', '"lagging":false'],
    "curl -s localhost:4566/_ddlocal/clock": ['"mode":"manual"'],
    "curl -s -X POST localhost:4566/_ddlocal/clock -d '{\"advanceSeconds\": 300}'":
        ['"mode":"manual"', '"evaluatedUntil"'],
    EP + "iot create-thing-type --thing-type-name LightBulb --thing-type-properties "
    "\"thingTypeDescription=Smart bulbs,searchableAttributes=wattage,model\"":
        ["arn:aws:iot:us-east-1:123456789012:thingtype/LightBulb"],
    EP + "iot list-things --thing-type-name LightBulb --attribute-name model "
    "--attribute-value A --use-prefix-attribute-value": ['"thingName": "bulb-1"'],
    EP + "iot describe-thing-type --thing-type-name LightBulb":
        ['"deprecated": true', '"deprecationDate"', '"searchableAttributes"'],
    EP + "iot get-behavior-model-training-summaries --security-profile-name MlDocs":
        ['"modelStatus": "PENDING_BUILD"', '"datapointsCollectionPercentage": 0'],
    EP + "sns create-topic --name DDD_Alerts": ["arn:aws:sns:us-east-1:123456789012:DDD_Alerts"],
    EP + "iot describe-event-configurations": ['"THING": {\n            "Enabled": true',
                                               '"POLICY": {\n            "Enabled": false',
                                               '"lastModifiedDate"'],
    EP + "sqs create-queue --queue-name ci-events": ["/123456789012/ci-events"],
    EP + "sqs receive-message --queue-url http://localhost:4566/123456789012/ci-events"
    " --visibility-timeout 60 --attribute-names All":
        ['"Body": "hello"', '"ApproximateReceiveCount": "1"'],
    EP + "sqs receive-message --queue-url http://localhost:4566/123456789012/ci-events"
    " --attribute-names ApproximateReceiveCount": ['"ApproximateReceiveCount": "2"'],
    EP + "sqs receive-message --queue-url http://localhost:4566/123456789012/dd-alerts"
    " --message-attribute-names All": ['violationEventType\\":\\"in-alarm', '"thingName', 20],
    EP + "sqs create-queue --queue-name jobs.fifo --attributes"
    " FifoQueue=true,ContentBasedDeduplication=true": ["/123456789012/jobs.fifo"],
    EP + "sqs send-message --queue-url http://localhost:4566/123456789012/jobs.fifo"
    " --message-body build --message-group-id repo-1": ['"SequenceNumber": "1'],
    EP + "sqs receive-message --queue-url http://localhost:4566/123456789012/jobs.fifo"
    " --attribute-names All": ['"Body": "build"', '"MessageGroupId": "repo-1"',
                               '"MessageDeduplicationId": "44575cf5b28512d75644bf54a517dcef304ff809fd511747621b4d64f19aac66"'],
    EP + "iot list-active-violations --query"
    " 'activeViolations[].[thingName,behavior.name,lastViolationValue.count]' --output text":
        ["dev-XBHY\tMsgSentBehavior\t30\n"],
    EP + "--region eu-west-1 iot list-things --query 'things[].thingArn' --output text":
        ["arn:aws:iot:eu-west-1:123456789012:thing/eu-sensor\n"],
    EP + "iot list-tags-for-resource --resource-arn"
    " arn:aws:iot:us-east-1:123456789012:thinggroup/Fleet --output text":
        ["TAGS\tenv\tlab\n", "TAGS\tteam\tsec\n"],
    EP + "iot describe-role-alias --role-alias camera-alias":
        ['"credentialDurationSeconds": 7200', '"owner": "123456789012"',
         "arn:aws:iot:us-east-1:123456789012:rolealias/camera-alias"],
    EP + "iot get-v2-logging-options": ['"defaultLogLevel": "WARN"', '"disableAllLogs": false'],
    EP + "iot list-v2-logging-levels": ['"targetName": "lab"', '"logLevel": "DEBUG"'],
    EP + "iot describe-index --index-name AWS_Things":
        ['"REGISTRY_AND_SHADOW_AND_CONNECTIVITY_STATUS"', '"ACTIVE"'],
    EP + "iot search-index --query-string 'thingName:pump* AND attributes.temp>70'"
    " --query 'things[].thingName' --output text": ["pump-7\n"],
    EP + "iot search-index --query-string 'shadow.reported.battery<50'"
    " --query 'things[].shadow' --output text": ['"reported":{"battery":42}'],
    EP + "iot search-index --query-string"
    " 'connectivity.disconnectReason:CLIENT_INITIATED_DISCONNECT'"
    " --query 'things[].thingName' --output text": ["pump-8\n", 10],
    EP + "iot get-statistics --query-string 'thingName:pump*' --aggregation-field"
    " attributes.temp": ['"maximum": 77', '"minimum": 61', '"count": 2'],
    EP + "iot get-buckets-aggregation --query-string '*' --aggregation-field attributes.site"
    " --buckets-aggregation-type termsAggregation={maxBuckets=5}":
        ['"keyValue": "north"', '"totalCount": 2'],
    "curl -s localhost:4566/_ddlocal/alerts": ['violationEventType\\":\\"in-alarm', "sink/tour"],
    "bin/ddlocal audit --http-port 4566":
        ["IOT_POLICY_OVERLY_PERMISSIVE_CHECK                           COMPLETED_NON_COMPLIANT",
         "CRITICAL IOT_POLICY_OVERLY_PERMISSIVE_CHECK policyVersionIdentifier=audit-docs-open/1"],
    EP + "iot list-audit-findings --task-id $TASK --query"
    " 'findings[].[checkName,reasonForNonComplianceCode]' --output text":
        ["DEVICE_CERTIFICATE_EXPIRING_CHECK\tCERTIFICATE_APPROACHING_EXPIRATION\n",
         "IOT_POLICY_OVERLY_PERMISSIVE_CHECK\tALLOWS_BROAD_ACCESS_TO_IOT_DATA_PLANE_ACTIONS\n", 20],
    "python3 fixtures/mitigation/runner.py --endpoint http://localhost:4566 --handler"
    " audit_function.lambda_handler --queue-url http://localhost:4566/123456789012/audit-fixes":
        ["rotated to", "old one INACTIVE", "policy lab-open: version 1 replaced by 2"],
    "bin/ddlocal audit --host 127.0.0.1 --http-port 4566":
        ["%-60s %-24s %9d %13d" % ("DEVICE_CERTIFICATE_EXPIRING_CHECK", "COMPLETED_COMPLIANT", 1, 0),
         "%-60s %-24s %9d %13d" % ("IOT_POLICY_OVERLY_PERMISSIVE_CHECK", "COMPLETED_COMPLIANT", 1, 0),
         "findings:\n  none\n"],
    "bin/ddlocal explain --thing dev-XBHY":
        ["MsgSentSecProfile / MsgSentBehavior (aws:num-messages-sent)",
         "alarms when dev-XBHY sends 5 or more messages in a 5-minute period", "in-alarm"],
    "curl -s -X PUT localhost:4566/_ddlocal/watch/dev-XBHY":
        ['{"thingName":"dev-XBHY","watched":true}'],
    "curl -s http://127.0.0.1:4566/_ddlocal/sink/demo": ["SubscriptionConfirmation", 20],
    EP + "iot list-thing-groups --query 'thingGroups[].groupName' --output text":
        ["fleet\tline-1\tsite-1\n"],
    EP + "iot list-thing-groups --no-recursive --query 'thingGroups[].groupName' --output text":
        ["fleet\n"],
    EP + "iot list-thing-groups --parent-group fleet --no-recursive"
    " --query 'thingGroups[].groupName' --output text": ["site-1\n"],
    EP + "iot describe-thing --thing-name lamp-1 --query '[billingGroupName,version]'"
    " --output text": ["lab-costs\t1\n"],
    EP + "iot describe-thing --thing-name lamp-1 --query attributes":
        ['{\n    "room": "3"\n}'],
    EP + "iot list-things-in-billing-group --billing-group-name lab-costs --query things"
    " --output text": ["lamp-1\n"],
    EP + "iot describe-thing-group --thing-group-name fw-1-2"
    " --query '[queryString,indexName,queryVersion]' --output text":
        ["attributes.fw:1.2\tAWS_Things\t2017-09-30\n"],
    EP + "iot list-things-in-thing-group --thing-group-name fw-1-2 --query things --output text":
        ["lamp-7\n", 10],
    EP + "iot list-thing-groups-for-thing --thing-name dev-XBHY"
    " --query 'thingGroups[].groupName' --output text": ["msg-sent-violators\n"],
}

START_TIMEOUT_S = 180  # `make run` builds what is out of date first


def fences(page):
    """[(line number, info string, [lines])] of every fenced block of a page."""
    out, current = [], None
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        for n, line in enumerate(f.read().splitlines(), 1):
            if current is None and line.startswith("```"):
                current = (n, line[3:].strip(), [])
            elif current is not None and line.startswith("```"):
                out.append(current)
                current = None
            elif current is not None:
                current[2].append(line)
    assert current is None, "%s:%d: the block never closes" % (page, current[0])
    return out


def block_commands(lines):
    """The commands of one ```sh block: its "$ " lines when it has any (the
    rest is output), else every line that is not blank or a comment; a
    trailing backslash continues a command."""
    prompt = any(line.startswith("$ ") for line in lines)
    commands, current = [], None
    for line in lines:
        if current is not None:
            current += " " + line.strip()
        elif prompt and line.startswith("$ "):
            current = line[2:].strip()
        elif not prompt and line.strip() and not line.lstrip().startswith("#"):
            current = line.strip()
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
            continue
        commands.append(current)
        current = None
    assert current is None, "a command ends with a backslash"
    return commands


def key(command):
    """A command as ELSEWHERE and EXPECT name it: a trailing comment and
    repeated spaces removed (no command of the docs has a # in quotes)."""
    return " ".join(re.sub(r"\s+#.*$", "", command).split())


def program(command):
    """The program a command runs, past leading VAR=value assignments."""
    for word in shlex.split(command):
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            return word
    return ""


def page_blocks(page):
    """[(line, command)] of a page's ```sh blocks; fails on shell that is
    not marked ```sh and on unlabelled blocks."""
    out = []
    for line, info, lines in fences(page):
        lang = info.split()[0] if info else ""
        where = "%s:%d" % (page, line)
        assert lang, "%s: a block without a language (```sh, ```text, ...)" % where
        assert lang not in SHELL_LANGS - {"sh"}, "%s: shell blocks are ```sh" % where
        if lang != "sh":
            assert not any(s.startswith("$ ") for s in lines), \
                "%s: a ```%s block with a $ prompt: make it ```sh" % (where, lang)
            continue
        out += [(line, c) for c in block_commands(lines)]
    return out


def is_start(command):
    return key(command).startswith(("make run", "bin/ddlocal up"))


def is_background(command):
    return key(command).startswith("bin/ddlocal device")


def runnable(page):
    """The commands of a page this test runs, in order."""
    if page == WORKSHOP:
        return []
    out = []
    for _, command in page_blocks(page):
        if key(command) in ELSEWHERE:
            continue
        assert program(command) not in NOT_HERE or key(command).startswith("make run"), \
            "%s: `%s` is neither run by this test nor mapped in ELSEWHERE" % (page, command)
        out.append(command)
    return out


# --- the static checks -----------------------------------------------------
def test_every_shell_command_is_run_or_mapped():
    seen, n_run = set(), 0
    for page in PAGES:
        for line, command in page_blocks(page):
            k = key(command)
            seen.add(k)
            if page == WORKSHOP:
                continue
            if k in ELSEWHERE:
                path, needle = ELSEWHERE[k]
                with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                    assert needle in f.read(), \
                        "%s:%d: `%s` is mapped to %s, which does not run it (no %r)" % (
                            page, line, command, path, needle)
            else:
                assert program(command) not in NOT_HERE or k.startswith("make run"), \
                    "%s:%d: `%s` is neither run by this test nor mapped in ELSEWHERE" % (
                        page, line, command)
                n_run += 1
    assert n_run > 20, n_run
    unused = [k for k in list(ELSEWHERE) + list(EXPECT) if k not in seen]
    assert not unused, "ELSEWHERE or EXPECT name commands no page shows: %s" % unused


def test_the_workshop_page_shows_what_test_workshop_runs():
    with open(os.path.join(ROOT, WORKSHOP), encoding="utf-8") as f:
        text = f.read()
    in_blocks = [" ".join(c.split()) for _, c in page_blocks(WORKSHOP)]
    # Every ```sh command of the page is a "$ " line, and they are the
    # walkthrough test_workshop.py runs.
    assert in_blocks == page_commands(text)
    assert page_commands(text) == WALKTHROUGH


def test_shell_blocks_outside_sh_fail(tmp_path):
    """The parser refuses what would hide a command from this test."""
    for n, text in enumerate(("```bash\nls\n```\n", "```\nls\n```\n", "```text\n$ ls\n```\n",
                              "```sh\nmake clean\n```\n", "```sh\nls\n")):
        page = tmp_path / ("page%d.md" % n)
        page.write_text(text)
        with pytest.raises(AssertionError):
            runnable(str(page))


def slug(heading):
    """The anchor GitHub gives a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def test_links_between_pages_resolve():
    n = 0
    for page in PAGES:
        with open(os.path.join(ROOT, page), encoding="utf-8") as f:
            text = f.read()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+://", target):
                continue
            path, _, anchor = target.partition("#")
            full = os.path.normpath(os.path.join(ROOT, os.path.dirname(page), path)) \
                if path else os.path.join(ROOT, page)
            assert os.path.exists(full), "%s: link to %s, which does not exist" % (page, target)
            n += 1
            if anchor:
                with open(full, encoding="utf-8") as f:
                    heads = [slug(h) for h in re.findall(r"^#+ (.*)$", f.read(), re.M)]
                assert anchor in heads, "%s: link to %s, no such heading" % (page, target)
    assert n > 20, n


def route_table():
    """(method, path) of every route of the server's route tables."""
    routes = []
    for path in glob.glob(os.path.join(ROOT, "server", "**", "*.c"), recursive=True):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for table in re.findall(r"const struct route \w+\[\] = \{(.*?)\n\};", text, re.S):
            # EMULATOR_PREFIX (server/request.h) is "/_ddlocal/".
            for method, prefix, path in re.findall(
                    r'\{ "(GET|POST|PUT|PATCH|DELETE)", (EMULATOR_PREFIX )?"([^"]+)"', table):
                routes.append((method, ("/_ddlocal/" if prefix else "") + path))
    return routes


def sns_actions():
    with open(os.path.join(ROOT, "server", "sns", "api_sns.c"), encoding="utf-8") as f:
        return re.findall(r'\{ "([A-Z][A-Za-z]+)", \w+, [01] \}', f.read())


def sts_actions():
    with open(os.path.join(ROOT, "server", "sts", "api_sts.c"), encoding="utf-8") as f:
        return sorted(set(re.findall(r'strcmp\(\w+, "([A-Z][A-Za-z]+)"\)', f.read())))


def sqs_actions():
    with open(os.path.join(ROOT, "server", "sqs", "api_sqs.c"), encoding="utf-8") as f:
        return re.findall(r'\{ "([A-Z][A-Za-z]+)", op_\w+, [01] \}', f.read())


def test_api_coverage_lists_every_route():
    with open(os.path.join(ROOT, "docs", "api-coverage.md"), encoding="utf-8") as f:
        coverage = f.read()
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    routes = route_table()
    assert len(routes) > 90, routes
    missing = ["%s %s" % r for r in routes if r[1] != "/" and "`%s %s`" % r not in coverage]
    assert not missing, "docs/api-coverage.md lacks %s" % missing
    # The README names the same operations, and the emulator's own requests.
    operations = re.findall(r"^\| (\w+) \| `(?:GET|POST|PUT|PATCH|DELETE) /", coverage, re.M)
    assert len(operations) == len([r for r in routes if not r[1].startswith("/_ddlocal")
                                   and r[1] != "/"]), operations
    actions = sns_actions()
    assert len(actions) == 19, actions
    actions += sts_actions()
    sqs = sqs_actions()
    assert len(sqs) == 20, sqs
    actions += sqs
    assert "GetCallerIdentity" in actions, actions
    for name in operations + actions:
        assert re.search(r"\b%s\b" % name, readme), "README.md lacks %s" % name
        assert re.search(r"\b%s\b" % name, coverage), "docs/api-coverage.md lacks %s" % name
    for method, path in routes:
        if path.startswith("/_ddlocal/"):
            short = "`%s %s`" % (method, path[len("/_ddlocal/"):])
            assert short in readme, "README.md lacks %s" % short


# --- running the pages -----------------------------------------------------
class Session:
    """A scratch checkout, the ports, and what the commands started."""

    def __init__(self, tmp_path):
        self.tmp = str(tmp_path)
        self.cwd = os.path.join(self.tmp, "checkout")
        os.mkdir(self.cwd)
        for name in os.listdir(ROOT):
            if name not in (".git", "var") and not name.startswith("var-"):
                os.symlink(os.path.join(ROOT, name), os.path.join(self.cwd, name))
        self.emu = Emulator(os.path.join(self.tmp, "data"), ["--manual-clock"])
        self.env = aws_env(self.tmp)
        self.started = []  # (Popen, log path) of emulators and devices
        self.emulator = None  # the Popen of the running emulator, if started here
        self.n_data = 0

    def rewrite(self, command):
        e = self.emu
        command = re.sub(r"\b4566\b", str(e.http_port), command)
        command = re.sub(r"\b1883\b", str(e.mqtt_port), command)
        command = re.sub(r"\b8883\b", str(e.mqtts_port), command)
        command = command.replace("/tmp/", self.tmp + "/")
        ports = "--http-port %d --mqtt-port %d" % (e.http_port, e.mqtt_port)
        if re.match(r"bin/ddlocal (device|explain)\b", command) and "--http-port" not in command:
            command += " " + (ports if " device" in command else ports.split(" --mqtt")[0])
        if is_start(command):
            self.n_data += 1
            extra = "%s --mqtts-port %d --data-dir %s" % (
                ports, e.mqtts_port, os.path.join(self.tmp, "data%d" % self.n_data))
            if command.startswith("bin/ddlocal up"):
                command += " " + extra
            elif 'ARGS="' in command:
                command = command.replace('ARGS="', 'ARGS="%s ' % extra, 1)
            else:
                command += ' ARGS="%s"' % extra
        return command

    def background(self, command):
        log = os.path.join(self.tmp, "bg%d.log" % len(self.started))
        with open(log, "w") as out:
            proc = subprocess.Popen(["bash", "-c", command], cwd=self.cwd, env=self.env,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.started.append((proc, log))
        return proc, log

    def start_emulator(self, command):
        self.stop_all()
        self.emu.stop()
        proc, log = self.background(command)
        self.emulator = proc
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert proc.poll() is None, "`%s` exited %d:\n%s" % (
                command, proc.returncode, open(log).read())
            try:
                if http("GET", self.emu.endpoint + "/_ddlocal/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("`%s` did not answer /_ddlocal/health" % command)

    def start_device(self, command):
        proc, log = self.background(command)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = open(log).read()
            if re.search(r" published \d+ messages", text):
                return
            assert proc.poll() is None, "`%s` exited %d:\n%s" % (command, proc.returncode, text)
            time.sleep(0.1)
        raise AssertionError("`%s` published nothing:\n%s" % (command, open(log).read()))

    def stop_all(self):
        """Ctrl-C for everything started in the background, newest first."""
        for proc, _ in reversed(self.started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        self.started = []
        self.emulator = None

    def run(self, page, command):
        k = key(command)
        real = self.rewrite(re.sub(r"\s+#.*$", "", command))
        if is_start(command):
            return self.start_emulator(real)
        if self.emulator is None and not self.emu.proc:
            self.emu.start()
        if is_background(command):
            return self.start_device(real)
        m = re.match(r"^export (.*)$", real)
        if m:
            for word in shlex.split(m.group(1)):
                name, _, value = word.partition("=")
                self.env[name] = value
            return None
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)=\$\((.*)\)$", real)
        if m:
            self.env[m.group(1)] = self.shell(page, command, m.group(2)).strip()
            return None
        expect = EXPECT.get(k, [])
        wait = next((x for x in expect if isinstance(x, (int, float))), 0)
        needles = [x for x in expect if isinstance(x, str)]
        deadline = time.monotonic() + wait
        while True:
            out = self.shell(page, command, real)
            missing = [n for n in needles if n not in out]
            if not missing or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        assert not missing, "%s: `%s` printed no %s:\n%s" % (page, command, missing, out)
        return out

    def shell(self, page, command, real):
        p = subprocess.run(["bash", "-c", real], cwd=self.cwd, env=self.env, text=True,
                           capture_output=True, timeout=120)
        assert p.returncode == 0, "%s: `%s` exited %d\n(ran: %s)\n%s%s" % (
            page, command, p.returncode, real, p.stdout, p.stderr)
        return p.stdout

    def close(self):
        self.stop_all()
        self.emu.stop()


def sessions():
    """Each page with commands to run, and the pages that go on from it."""
    out = []
    for page in PAGES:
        if page in AFTER or not runnable(page):
            continue
        chain, follow = [page], [p for p, before in AFTER.items() if before == page]
        out.append(pytest.param(chain + follow, id=page))
    return out


@pytest.mark.parametrize("pages", sessions())
def test_the_page_runs(tmp_path, pages):
    s = Session(tmp_path)
    try:
        for page in pages:
            commands = runnable(page)
            assert commands, page
            for command in commands:
                s.run(page, command)
    finally:
        s.close()


def python_blocks(page):
    """{file name: code} of the ```python blocks whose first line is
    "# NAME.py"."""
    out = {}
    for line, info, lines in fences(page):
        if info.split()[:1] == ["python"]:
            m = re.match(r"^# (\w+\.py)$", lines[0] if lines else "")
            assert m, "%s:%d: a python block starts with its file name" % (page, line)
            out[m.group(1)] = "\n".join(lines) + "\n"
    return out


def test_the_ci_recipe_runs(tmp_path):
    """docs/ci.md's fixture and test, as a suite of their own."""
    files = python_blocks("docs/ci.md")
    assert sorted(files) == ["conftest.py", "test_alerts.py"], sorted(files)
    suite = tmp_path / "suite"
    suite.mkdir()
    for name, code in files.items():
        (suite / name).write_text(code)
    env = dict(os.environ, DDLOCAL_HOME=ROOT, AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
               AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"))
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(suite)], cwd=str(tmp_path), env=env, text=True,
                       capture_output=True, timeout=300)
    assert p.returncode == 0 and "1 passed" in p.stdout, p.stdout + p.stderr
