"""The daemon's log formats in a real process: typed JSON fields from `extra=`, key=value text, captured warnings."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import logging, sys, warnings
from driftwatch.serve.server import setup_logging

setup_logging(sys.argv[1])
log = logging.getLogger("driftwatch.test")
fields = {"monitor": "triage", "check": 7, "rows": 200, "dataset_drift": True, "drift_share": 0.25, "note": "a b"}
log.info("check finished", extra=fields)
log.info("odd values", extra={"score": float("nan"), "path": __import__("pathlib").Path("/x y")})
log.info("monitor=plain check=9")
warnings.warn("something odd", UserWarning)
"""


def _run(fmt: str) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", SCRIPT, fmt], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.splitlines()


def test_json_fields_keep_their_types() -> None:
    events = [json.loads(line) for line in _run("json")]
    check, odd, legacy, warning = events
    assert check["message"] == "check finished" and check["level"] == "info" and check["logger"] == "driftwatch.test"
    assert {k: check[k] for k in ("monitor", "check", "rows", "dataset_drift", "drift_share", "note")} == {
        "monitor": "triage",
        "check": 7,
        "rows": 200,
        "dataset_drift": True,
        "drift_share": 0.25,
        "note": "a b",
    }
    assert odd["score"] is None and odd["path"] == "/x y"  # NaN is no JSON number; other objects as text
    # Fields come only from `extra=`: text that looks like key=value stays message text.
    assert legacy["message"] == "monitor=plain check=9" and "monitor" not in legacy and "check" not in legacy
    assert warning["logger"] == "py.warnings" and warning["level"] == "warning"
    assert "UserWarning: something odd" in warning["message"]


def test_text_lines_append_fields_as_key_value() -> None:
    check, odd, legacy, warning, *_ = _run("text")
    assert check.endswith(
        "INFO driftwatch.test: check finished monitor=triage check=7 rows=200 dataset_drift=true drift_share=0.25 "
        'note="a b"'
    )
    assert odd.endswith('odd values score=nan path="/x y"')
    assert legacy.endswith("INFO driftwatch.test: monitor=plain check=9")
    assert "WARNING py.warnings:" in warning and "UserWarning: something odd" in warning
