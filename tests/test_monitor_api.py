"""The Python API on the bundled example: load a monitor, check tables, frames and paths, same JSON as the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.csv as pa_csv
import pytest
from conftest import EXAMPLES

import driftwatch
from driftwatch.errors import DataError, UnknownMonitorError
from driftwatch.monitor import MonitorChoiceError

DRIFTED = EXAMPLES / "batch_drifted.csv"


def _cli_json(config: Path, current: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "driftwatch", "check", "-c", str(config), "--current", str(current), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _comparable(doc: dict) -> dict:
    # When and how long a check ran differ between two runs; everything else must match. Scores are compared to
    # 12 digits: evidently sums per-category shares in set order, which varies with each process's hash seed.
    return {k: _rounded(v) for k, v in doc.items() if k not in {"started_at", "duration_seconds"}}


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.12g}")
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def test_check_a_path_matches_the_cli_json(example_config: Path) -> None:
    monitor = driftwatch.load_monitor(example_config)  # one monitor: the name may be left out
    assert monitor.name == "triage"
    result = monitor.check(DRIFTED)
    assert result.dataset_drift is True
    by_name = {f.name: f for f in result.features}
    assert by_name["patient_age"].method == "wasserstein" and by_name["patient_age"].drifted
    assert by_name["patient_age"].status == "ok" and by_name["patient_age"].score > 0.1
    doc = result.to_dict()
    assert json.loads(json.dumps(doc)) == doc  # plain JSON types only
    assert _comparable(doc) == _comparable(_cli_json(example_config, DRIFTED))


def test_table_frame_and_path_give_the_same_result(example_config: Path) -> None:
    monitor = driftwatch.load_monitor(str(example_config), "triage")
    table = pa_csv.read_csv(DRIFTED, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
    frame = pd.read_csv(DRIFTED)
    docs = [_comparable(monitor.check(x).to_dict()) for x in (table, frame, DRIFTED, str(DRIFTED))]
    assert docs[0]["rows"] == 1000
    assert all(d == docs[0] for d in docs[1:])


def test_profile_is_built_once_and_cached(example_config: Path, tmp_path: Path) -> None:
    monitor = driftwatch.load_monitor(example_config)
    assert monitor.profile is monitor.profile
    cached = list((tmp_path / "data" / "profiles" / "triage").glob("*/profile.json"))
    assert len(cached) == 1
    again = driftwatch.load_monitor(example_config).profile
    assert again.version == monitor.profile.version and again.created_at == monitor.profile.created_at


def test_errors_name_the_problem(example_config: Path, tmp_path: Path) -> None:
    with pytest.raises(UnknownMonitorError, match=r"unknown monitor 'nope' \(valid: triage\)"):
        driftwatch.load_monitor(example_config, "nope")
    monitor = driftwatch.load_monitor(example_config)
    with pytest.raises(DataError, match=r"missing\.csv: no such file or folder"):
        monitor.check(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match=r"pyarrow\.Table, a pandas\.DataFrame or a path .* got builtins\.list"):
        monitor.check([{"patient_age": 3}])
    two = tmp_path / "two.yaml"
    text = example_config.read_text()
    block = text[text.index("  - name: triage") :]
    two.write_text(text + block.replace("name: triage", "name: triage-eu", 1))
    with pytest.raises(MonitorChoiceError, match="defines 2 monitors; name one of: triage, triage-eu"):
        driftwatch.load_monitor(two)
    assert driftwatch.load_monitor(two, "triage-eu").name == "triage-eu"


def test_client_import_stays_light() -> None:
    heavy = ("pandas", "evidently", "sqlalchemy", "sklearn", "driftwatch.monitor")
    code = (
        "import sys, driftwatch.client, driftwatch; "
        f"print([m for m in {heavy!r} if m in sys.modules]); "
        "driftwatch.load_monitor; print('driftwatch.monitor' in sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[:2] == ["[]", "True"]
