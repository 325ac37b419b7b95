"""Promoting a check's window sample to be the reference, with the real CLI, real files and a real SQLite history."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from driftwatch import demo
from driftwatch.config import OodSettings
from driftwatch.monitor import load_monitor
from driftwatch.ood.redact import redact_table
from driftwatch.reference import readers, versions
from driftwatch.storage import HistoryStore
from driftwatch.storage.samples import sample_path, write_sample

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "examples" / "triage" / "reference.csv"
FEATURES = {"patient_age": "numeric", "heart_rate": "numeric", "arrival_mode": "categorical", "channel": "categorical"}


def _config(tmp_path: Path, monitor_extra: str = "", extra: str = "") -> Path:
    features = ", ".join(f"{k}: {v}" for k, v in FEATURES.items())
    path = tmp_path / "config.yaml"
    path.write_text(f"""data_dir: {tmp_path / "data"}
{extra}monitors:
  - name: triage
    reference: {{path: {REFERENCE}}}
    features: {{{features}}}
{monitor_extra}""")
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "driftwatch", "reference", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def _drifted(seed: int, rows: int = 600) -> pa.Table:
    return demo.production_batch(rows, 1.0, seed=seed).select(list(FEATURES))


def _store_check(config: Path, batch: pa.Table, *, sample: pa.Table | None = None, started: float | None = None):
    """Check `batch` as the CLI does, store it, keep its sample (`sample`, default the batch); (id, result)."""
    m = load_monitor(config)
    result = m.check(batch)
    if started is not None:
        from dataclasses import replace

        result = replace(result, started_at=started)
    with HistoryStore(f"sqlite:///{m.data_dir / 'driftwatch.db'}") as store:
        store.upgrade()
        store.record_reference(m.profile)
        check_id = store.record_check(result, window_start=None, window_end=None, trigger="manual")
    write_sample(sample_path(m.data_dir, m.name, result.started_at, "manual"), batch if sample is None else sample)
    return check_id, result


def _history(config: Path) -> dict:
    proc = _cli("history", "-c", str(config), "--monitor", "triage", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_promoting_a_drifted_check_makes_the_same_shift_no_longer_drift(tmp_path: Path) -> None:
    config = _config(tmp_path)
    base = load_monitor(config).profile.version
    check_id, before = _store_check(config, _drifted(1))
    assert before.dataset_drift and before.reference_version == base

    proc = _cli("promote", "-c", str(config), "--monitor", "triage", "--check", str(check_id), "--reason", "new clinic")
    assert proc.returncode == 0, proc.stderr
    assert "is active (600 rows from check 1; previous config)" in " ".join(proc.stdout.split())
    doc = _history(config)
    version = doc["active"]
    assert doc["versions"] == ["config", version]
    [entry] = doc["history"]
    assert entry | {"created_at": 0} == {
        "action": "promote",
        "version": version,
        "created_at": 0,
        "reason": "new clinic",
        "by": "cli",
        "previous": "config",
        "rows": 600,
        "merged": False,
        "checks": [check_id],
        "since": None,
        "until": None,
    }
    stored = readers.read_path(versions.version_file(tmp_path / "data", "triage", version))
    assert stored.num_rows == 600 and stored.column_names == list(FEATURES)

    # The same shift, new rows: judged against the promoted version, it is no longer drift.
    after = load_monitor(config).check(_drifted(2))
    assert after.reference_version == version != base
    assert not after.dataset_drift
    # So does `driftwatch check`, and `driftwatch profile` shows the version in use.
    current = tmp_path / "current.parquet"
    readers.write_file(_drifted(3), current)
    check = subprocess.run(
        [sys.executable, "-m", "driftwatch", "check", "-c", str(config), "--current", str(current), "-f", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    assert json.loads(check.stdout)["reference_version"] == version
    prof = subprocess.run(
        [sys.executable, "-m", "driftwatch", "profile", "-c", str(config)], capture_output=True, text=True, timeout=300
    )
    assert f"600 reference rows, version {version}" in prof.stdout, prof.stdout

    # Restore the base: the configured reference is in use again, and the shift drifts again.
    proc = _cli("restore", "-c", str(config), "--monitor", "triage", "--version", "config", "--reason", "closed")
    assert proc.returncode == 0, proc.stderr
    again = load_monitor(config).check(_drifted(2))
    assert again.reference_version == base and again.dataset_drift
    doc = _history(config)
    assert doc["active"] == "config" and doc["versions"] == ["config", version]
    assert [(e["action"], e["version"], e["previous"]) for e in doc["history"]] == [
        ("promote", version, "config"),
        ("restore", "config", version),
    ]
    # ... and the promoted version is kept: it can be made active again.
    assert _cli("restore", "-c", str(config), "--monitor", "triage", "--version", version).returncode == 0
    assert load_monitor(config).profile.version == version


def test_merge_keeps_the_reference_rows_and_the_samples(tmp_path: Path) -> None:
    config = _config(tmp_path)
    check_id, _ = _store_check(config, _drifted(1, rows=300))
    args = ("promote", "-c", str(config), "-m", "triage", "--check", str(check_id), "--merge", "--reason", "market")
    proc = _cli(*args)
    assert proc.returncode == 0, proc.stderr
    doc = _history(config)
    assert doc["history"][0]["merged"] is True and doc["history"][0]["rows"] == 5300
    stored = readers.read_path(versions.version_file(tmp_path / "data", "triage", doc["active"]))
    reference = readers.read_path(REFERENCE)
    assert stored.num_rows == 5300
    # The reference's rows first, then the sample's, values as they were.
    assert (
        stored.column("patient_age").to_pylist()[:5000] == pc.cast(reference["patient_age"], pa.float64()).to_pylist()
    )
    assert stored.column("channel").to_pylist()[5000:] == _drifted(1, rows=300).column("channel").to_pylist()
    assert load_monitor(config).profile.rows == 5300


def test_a_time_range_takes_each_windows_last_check(tmp_path: Path) -> None:
    config = _config(tmp_path)
    t0 = time.time() - 3600
    first, _ = _store_check(config, _drifted(1, rows=200), started=t0)
    second, _ = _store_check(config, _drifted(2, rows=250), started=t0 + 60)
    _store_check(config, _drifted(3, rows=999), started=t0 + 600)  # outside the range
    args = ("promote", "-c", str(config), "-m", "triage", "--from", str(t0), "--to", str(t0 + 120))
    proc = _cli(*args, "--reason", "spring")
    assert proc.returncode == 0, proc.stderr
    entry = _history(config)["history"][0]
    # Checks without a window (one-shot checks) are each their own window.
    assert entry["checks"] == [first, second] and entry["rows"] == 450
    assert (entry["since"], entry["until"]) == (pytest.approx(t0), pytest.approx(t0 + 120))


def _refused(config: Path, *args: str) -> str:
    proc = _cli("promote", "-c", str(config), "--monitor", "triage", *args, "--reason", "x")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert not (config.parent / "data" / "references" / "triage" / "active.json").exists()
    return " ".join(proc.stderr.split())


def test_refusals_name_the_problem_and_change_nothing(tmp_path: Path) -> None:
    config = _config(tmp_path, extra="retention_days: 30\n")
    data = tmp_path / "data"
    check_id, result = _store_check(config, _drifted(1))
    assert "no stored check has id 999" in _refused(config, "--check", "999")

    # A check whose sample was never kept, and one retention pruned.
    sample_path(data, "triage", result.started_at, "manual").unlink()
    assert f"check {check_id} of monitor 'triage' cannot be promoted: its sample was never written" in _refused(
        config, "--check", str(check_id)
    )
    old, _ = _store_check(config, _drifted(2), started=time.time() - 40 * 86400)
    old_record = HistoryStore(f"sqlite:///{data / 'driftwatch.db'}").get_check(old)
    assert old_record is not None
    sample_path(data, "triage", old_record.started_at, "manual").unlink()
    assert "its sample was pruned by retention (retention_days 30)" in _refused(config, "--check", str(old))

    # A sample without a feature the reference needs.
    lacking, _ = _store_check(config, _drifted(3), sample=_drifted(3).drop_columns(["channel"]))
    message = _refused(config, "--check", str(lacking))
    assert f"the sample of check {lacking} lacks feature 'channel', which the reference needs" in message

    assert "name one check, or a time range" in _refused(config)
    assert "a time range needs both from and to" in _refused(config, "--from", "2024-01-01T00:00:00")
    assert "has no stored check started in" in _refused(config, "--from", "2001-01-01", "--to", "2001-01-02")
    assert _history(config)["history"] == []


def test_a_redacted_feature_is_refused_unless_its_rule_keeps_it(tmp_path: Path) -> None:
    config = _config(tmp_path, monitor_extra="    ood: {redact: {channel: drop}}\n")
    check_id, _ = _store_check(config, _drifted(1), sample=_drifted(1).drop_columns(["channel"]))
    message = _refused(config, "--check", str(check_id))
    assert "feature 'channel' is redacted in window samples (ood.redact: drop)" in message
    assert "set ood.redact.channel: keep" in message
    # With its rule keeping it, the same monitor's samples hold the feature and are promoted.
    kept = _config(tmp_path, monitor_extra="    ood: {redact: {channel: keep}}\n")
    check_id, _ = _store_check(kept, _drifted(2))
    args = ("promote", "-c", str(kept), "-m", "triage", "--check", str(check_id), "--reason", "x")
    assert _cli(*args).returncode == 0


def test_a_sample_hashed_when_written_is_refused_after_the_rule_is_changed_to_keep(tmp_path: Path) -> None:
    kept = _config(tmp_path, monitor_extra="    ood: {redact: {channel: keep}}\n")
    kinds = {f.name: f.kind for f in load_monitor(kept).profile.features}
    hashed = redact_table(_drifted(3), kinds, OodSettings.model_validate({"redact": {"channel": "hash"}}), "t")
    check_id, _ = _store_check(kept, _drifted(3), sample=hashed)
    message = _refused(kept, "--check", str(check_id))
    assert f"the sample of check {check_id} was written with ood.redact.channel: hash" in message


def test_restore_refuses_an_unknown_version(tmp_path: Path) -> None:
    config = _config(tmp_path)
    proc = _cli("restore", "-c", str(config), "--monitor", "triage", "--version", "0123abcd")
    assert proc.returncode == 2
    assert "monitor 'triage' has no reference version '0123abcd' (valid: config)" in " ".join(proc.stderr.split())
    proc = _cli("history", "-c", str(config), "--monitor", "nope")
    assert proc.returncode == 2 and "unknown monitor 'nope' (valid: triage)" in proc.stderr
    proc = _cli("restore", "-c", str(config), "--monitor", "triage", "--version", "config")
    assert proc.returncode == 2 and "reference version 'config' is already the active one" in proc.stderr
    assert not (tmp_path / "data" / "references" / "triage" / "history.jsonl").exists()  # nothing written
