# SPDX-License-Identifier: MIT
"""A pytest plugin (`-p conformance_report`) that run.py loads into the run
of moto's tests: it counts passes and failures per test file and prints them
as a table, with the first line of each failure's error.

Tests that create a policy whose document is `{}` are counted apart: AWS
rejects that document (MalformedPolicyException), so such a test says
nothing about ddlocal's fidelity. They are found while the tests run, not by
reading their source: the plugin watches every botocore call a test (and
its fixtures) makes, and a CreatePolicy or CreatePolicyVersion with the
document `{}` marks the test."""
import json
import os

import botocore.client

EMPTY_DOC_OPS = {"CreatePolicy", "CreatePolicyVersion"}

_current = None  # node id of the test running now (its fixtures included)
_empty_doc = set()  # node ids that sent the policy document {}
_outcome = {}  # node id -> "passed" | "failed" | "skipped"
_reason = {}  # node id -> first line of the failure


def _is_empty_doc(doc):
    try:
        return isinstance(doc, str) and json.loads(doc) == {}
    except ValueError:
        return False


def pytest_configure(config):
    real = botocore.client.BaseClient._make_api_call

    def watched(client, operation_name, api_params):
        if (_current and operation_name in EMPTY_DOC_OPS
                and _is_empty_doc(api_params.get("policyDocument"))):
            _empty_doc.add(_current)
        return real(client, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = watched


def pytest_runtest_logstart(nodeid, location):
    global _current
    _current = nodeid


def pytest_runtest_logfinish(nodeid, location):
    global _current
    _current = None


def pytest_runtest_logreport(report):
    if report.failed:
        if _outcome.get(report.nodeid) != "failed":
            crash = getattr(report.longrepr, "reprcrash", None)
            text = crash.message if crash else str(report.longrepr)
            _reason[report.nodeid] = (text.strip().splitlines() or ["?"])[0][:200]
        _outcome[report.nodeid] = "failed"
    elif report.skipped:
        _outcome.setdefault(report.nodeid, "skipped")
    elif report.when == "call":
        _outcome.setdefault(report.nodeid, "passed")


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    columns = ("passed", "failed", "skipped", "{} passed", "{} failed", "{} skipped")
    # Every file asked for has a row, also one whose tests all vanished.
    files = [os.path.basename(a.split("::")[0]) for a in tr.config.args]
    files += [os.path.basename(n.split("::")[0]) for n in _outcome]
    files = list(dict.fromkeys(files))
    rows = {name: dict.fromkeys(columns, 0) for name in files}
    for nodeid, outcome in _outcome.items():
        key = ("{} " + outcome) if nodeid in _empty_doc else outcome
        rows[os.path.basename(nodeid.split("::")[0])][key] += 1
    total = {k: sum(r[k] for r in rows.values()) for k in columns}

    tr.section("ddlocal conformance: moto's tests per file")
    tr.write_line("policy document {} (AWS rejects it): counted apart, in the last columns")
    fmt = "%-30s %7s %7s %8s   %10s %10s"
    tr.write_line(fmt % ("file", "passed", "failed", "skipped", "{} passed", "{} failed"))
    for name in files + ["total"]:
        r = total if name == "total" else rows[name]
        tr.write_line(fmt % (name, r["passed"], r["failed"], r["skipped"],
                             r["{} passed"], r["{} failed"]))
    failed = [n for n, o in _outcome.items() if o == "failed"]
    if failed:
        tr.write_line("")
        tr.write_line("failures (first line of each error):")
        for nodeid in failed:
            mark = " [{}]" if nodeid in _empty_doc else ""
            tr.write_line("  %s%s: %s" % (nodeid.split("/")[-1], mark, _reason[nodeid]))


def pytest_sessionfinish(session, exitstatus):
    """Failures of {} tests alone do not fail the run."""
    failed = [n for n, o in _outcome.items() if o == "failed"]
    if exitstatus == 1 and failed and all(n in _empty_doc for n in failed):
        session.exitstatus = 0
