#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Start -> CreateKeysAndCertificate -> sync, N times (issue 19, item 10).

Each round starts a fresh emulator on a new data dir, creates a certificate
the moment it is healthy, and times POST /_ddlocal/sync. Prints the slowest
sync and fails when one took longer than the limit (the first sync after a
start must be as fast as any other).

    /usr/bin/python3 tests/soak/startup_sync.py [--rounds 200] [--limit-ms 2000]
"""
import argparse
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from conftest import Emulator  # noqa: E402


def one_round(data_dir):
    """One start, certificate and two syncs; returns both times in ms."""
    emu = Emulator(data_dir).start()
    try:
        emu.client("iot").create_keys_and_certificate(setAsActive=True)
        t0 = time.monotonic()
        emu.sync()
        first = (time.monotonic() - t0) * 1000.0
        t0 = time.monotonic()
        emu.sync()
        return first, (time.monotonic() - t0) * 1000.0
    finally:
        emu.stop()


def run(rounds, limit_ms, out=sys.stdout):
    """Run the rounds; returns the sync times in ms, in order."""
    times, later = [], []
    with tempfile.TemporaryDirectory(prefix="ddlocal-startup-") as top:
        for i in range(rounds):
            ms, again = one_round(os.path.join(top, "r%d" % i))
            times.append(ms)
            later.append(again)
            if ms > limit_ms:
                print("round %d: sync took %.0f ms" % (i + 1, ms), file=out)
    ordered = sorted(times)
    print("%d rounds: sync median %.1f ms, p99 %.1f ms, slowest %.1f ms (round %d)" % (
        rounds, ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, len(ordered) * 99 // 100)],
        ordered[-1], times.index(ordered[-1]) + 1), file=out)
    print("the second sync of each round: median %.1f ms, slowest %.1f ms" % (
        sorted(later)[len(later) // 2], max(later)), file=out)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--limit-ms", type=float, default=2000.0,
                    help="a sync slower than this fails the run")
    args = ap.parse_args()
    times = run(args.rounds, args.limit_ms)
    return 1 if max(times) > args.limit_ms else 0


if __name__ == "__main__":
    sys.exit(main())
