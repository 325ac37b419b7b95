"""The check document's JSON Schema: committed, current, and what `check --format json` really prints."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from driftwatch.serve.schemas import CheckDocument, check_document_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "triage"


def test_committed_schema_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "check-result.schema.json").read_text())
    assert committed == check_document_schema(), "regenerate: driftwatch schema > docs/check-result.schema.json"


@pytest.mark.parametrize("decision", ["calibrated", "threshold"])
def test_check_json_matches_the_schema(tmp_path: Path, decision: str) -> None:
    config = (ROOT / "config.example.yaml").read_text().replace("decision: calibrated", f"decision: {decision}")
    config = config.replace("      multiple_testing: bh\n", "")
    config = config.replace("examples/triage/", f"{EXAMPLES}/")
    path = tmp_path / "config.yaml"
    path.write_text(config)
    args = ["check", "-c", str(path), "--current", str(EXAMPLES / "batch_drifted.csv"), "--format", "json"]
    proc = subprocess.run(
        [sys.executable, "-m", "driftwatch", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={"DRIFTWATCH_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    doc = CheckDocument.model_validate(json.loads(proc.stdout))  # extra fields or wrong types raise
    assert doc.decision.rule == decision
    assert doc.multiple_testing == ("bh" if decision == "calibrated" else "none")
    for f in doc.features:
        assert f.decision in (decision, "none")
        if decision == "calibrated" and f.decision == "calibrated":
            assert f.p_value is not None and f.level == doc.decision.level
