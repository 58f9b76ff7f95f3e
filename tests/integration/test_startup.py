# SPDX-License-Identifier: MIT
"""The first sync after a start is as fast as any other (issue 19, item 10).

Five rounds of start -> CreateKeysAndCertificate -> sync here; the 200-round
version is tests/soak/startup_sync.py."""
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "soak"))

import startup_sync  # noqa: E402

# Well above the ~100 ms a sync takes (one broker tick plus one engine poll)
# and far below the 10 s after which the server answers 504.
LIMIT_MS = 2000.0


def test_first_sync_after_start_is_prompt():
    out = io.StringIO()
    times = startup_sync.run(5, LIMIT_MS, out)
    assert len(times) == 5
    assert max(times) < LIMIT_MS, out.getvalue()
