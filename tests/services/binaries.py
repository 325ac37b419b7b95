"""Finds the installed programs the tests run, failing with what to install when one is missing."""

from __future__ import annotations

import os
import shutil

import pytest

PROVISION = "scripts/provision.sh"


def missing(what: str, alternative: str) -> str:
    """The message for a program the tests need and cannot find."""
    return f"{what} not found: run `sudo {PROVISION}` (installs the Debian packages the tests use), {alternative}"


def find_binary(name: str, override: str) -> str:
    """The path of `name`: the override variable when set, else the one on PATH; fails the test when missing."""
    path = os.environ.get(override) or shutil.which(name)
    if path is None or not os.access(path, os.X_OK):
        pytest.fail(missing(path or name, f"or set {override} to the binary"), pytrace=False)
    return path


def promtool() -> str:
    """promtool, from Debian's prometheus package unless PROMTOOL names another."""
    return find_binary("promtool", "PROMTOOL")


def prometheus() -> str:
    """The Prometheus server, from Debian's prometheus package unless DRIFTWATCH_TEST_PROMETHEUS names another."""
    return find_binary("prometheus", "DRIFTWATCH_TEST_PROMETHEUS")


def chromium() -> str:
    """Debian's chromium unless DRIFTWATCH_TEST_CHROMIUM names another; never one Selenium Manager downloads."""
    return _installed("/usr/bin/chromium", "DRIFTWATCH_TEST_CHROMIUM")


def chromedriver() -> str:
    """Debian's chromedriver (package chromium-driver) unless DRIFTWATCH_TEST_CHROMEDRIVER names another."""
    return _installed("/usr/bin/chromedriver", "DRIFTWATCH_TEST_CHROMEDRIVER")


def _installed(default: str, override: str) -> str:
    path = os.environ.get(override) or default
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(missing(path, f"or set {override} to the binary"), pytrace=False)
    return path
