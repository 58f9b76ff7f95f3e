# SPDX-License-Identifier: MIT
"""The end-to-end suite reuses the integration harness (the emulator on the
manual clock, real clients) and adds a headless Chromium (cdp.py)."""
import importlib.util
import os

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


harness = _load("ddlocal_harness", os.path.join(HERE, "..", "integration", "conftest.py"))


@pytest.fixture
def emulator(tmp_path):
    emu = harness.Emulator(tmp_path / "data", ["--manual-clock"]).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def browser():
    from cdp import Browser

    b = Browser()
    try:
        yield b
    finally:
        b.close()
