"""`driftwatch checks` and `driftwatch show` on a real SQLite history of real checks of the example data."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, ROOT
from daemon.harness import FAST_FEATURES
from rich.console import Console
from typer.testing import CliRunner

from driftwatch.checks.explain import from_dict
from driftwatch.checks.results import CheckResult, by_severity
from driftwatch.cli import app
from driftwatch.config import load_config
from driftwatch.history import views
from driftwatch.history.commands import parse_time
from driftwatch.monitor import Monitor
from driftwatch.storage import CheckRecord, HistoryStore

HOUR = 3600.0
NUMERIC = {
    "kind": "numeric",
    "quantiles": [0.05, 0.5, 0.95],
    "reference": [19.0, 42.0, 77.0],
    "current": [30.0, 68.0, 90.0],
    "bins": {"edges": [0.0, 50.0, 120.0], "reference": [0.55, 0.45], "current": [0.2, 0.8]},
}
CATEGORICAL = {
    "kind": "categorical",
    "moved": [
        {"value": "walk_in", "reference": 0.6, "current": 0.45},
        {"value": "telehealth", "reference": 0.0, "current": 0.3},
    ],
    "unseen": [{"value": "telehealth", "count": 300}],
    "unseen_values": 1,
}


@dataclass(frozen=True)
class History:
    config: Path
    url: str
    now: float
    results: dict[str, CheckResult]  # by name: drifted (1 h ago), clean (5 h), old (3 d), intake (2 h)
    ids: dict[str, int]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Two monitors' checks recorded by the store from real check results, at known times before now."""
    folder = tmp_path_factory.mktemp("history")
    text = (ROOT / "config.example.yaml").read_text()
    text = text.replace("path: examples/triage/reference.csv", f"path: {EXAMPLES / 'reference.csv'}")
    text = text.replace("${DRIFTWATCH_DATA_DIR:-./data}", str(folder / "data"))
    text += f"  - name: intake\n    reference: {{path: {EXAMPLES / 'reference.csv'}}}\n    features:\n{FAST_FEATURES}"
    config = folder / "config.yaml"
    config.write_text(text)
    cfg = load_config(config)
    triage, intake = (Monitor(m, cfg.data_dir) for m in cfg.monitors)
    now = time.time()
    drifted, clean = triage.check(EXAMPLES / "batch_drifted.csv"), triage.check(EXAMPLES / "batch_clean.csv")
    results = {
        "old": replace(clean, started_at=now - 72 * HOUR),
        "clean": replace(clean, started_at=now - 5 * HOUR),
        "intake": replace(intake.check(EXAMPLES / "batch_drifted.csv"), started_at=now - 2 * HOUR),
        "drifted": replace(drifted, started_at=now - HOUR),
    }
    triggers = {"old": "cli", "clean": "schedule", "intake": "window_close", "drifted": "manual"}
    with HistoryStore(cfg.storage_url) as store:
        store.upgrade()
        store.record_reference(triage.profile)
        store.record_reference(intake.profile)
        ids = {
            name: store.record_check(
                r, window_start=r.started_at - HOUR, window_end=r.started_at, trigger=triggers[name]
            )
            for name, r in results.items()
        }
        yield History(config, store.url, now, results, ids)


def cli(*args: str) -> tuple[int, str, str]:
    proc = CliRunner().invoke(app, list(args))
    return proc.exit_code, proc.stdout, proc.stderr


def _rows(stdout: str) -> list[str]:
    """The table's body rows, as printed."""
    return [line for line in stdout.splitlines() if line.startswith("│")]


def test_checks_table_lists_the_period_newest_first(history: History) -> None:
    code, stdout, stderr = cli("checks", "-c", str(history.config), "--monitor", "triage", "--since", "6h")
    assert code == 0, stderr
    rows = _rows(stdout)
    assert [row.split("│")[1].strip() for row in rows] == [str(history.ids["drifted"]), str(history.ids["clean"])]
    drifted, clean = history.results["drifted"], history.results["clean"]
    assert f"{drifted.drifted_features}/{drifted.judged_features}" in rows[0] and "DRIFT" in rows[0]
    assert f"0/{clean.judged_features}" in rows[1] and " ok " in rows[1] and "DRIFT" not in rows[1]
    worst = ", ".join(f.name for f in by_severity(drifted.features)[:3])
    assert worst in rows[0] and "manual" in rows[0] and drifted.reference_version in rows[0]
    assert drifted.ood is not None and f"{drifted.ood.rate * 100:.1f}%" in rows[0]
    assert views.iso(drifted.started_at) in rows[0]
    start, end = views.iso(drifted.started_at - HOUR), views.iso(drifted.started_at)
    assert f"{start} → {end[11:]}" in rows[0] or f"{start} → {end}" in rows[0]
    assert stdout.startswith("2 checks of triage, ")


def test_since_until_and_limit_choose_the_checks(history: History) -> None:
    def ids(*args: str) -> list[int]:
        code, stdout, stderr = cli("checks", "-c", str(history.config), "-m", "triage", "-f", "json", *args)
        assert code == 0, stderr
        return [c["id"] for c in json.loads(stdout)["checks"]]

    drifted, clean, old = (history.ids[k] for k in ("drifted", "clean", "old"))
    assert ids() == [drifted, clean]  # the default is the last 24 hours
    assert ids("--since", "7d") == [drifted, clean, old]
    assert ids("--since", "7d", "--until", "3h") == [clean, old]
    assert ids("--since", "90m") == [drifted]
    assert ids("--since", "7d", "--limit", "2") == [drifted, clean]
    iso = views.iso(history.now - 6 * HOUR)
    assert ids("--since", iso) == [drifted, clean] and ids("--since", iso.removesuffix("Z")) == [drifted, clean]


def test_checks_json_has_each_check_as_the_api_lists_it(history: History) -> None:
    code, stdout, stderr = cli("checks", "-c", str(history.config), "--format", "json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    assert doc["monitors"] == ["triage", "intake"] and doc["until"] is None
    assert doc["since"] == pytest.approx(history.now - 24 * HOUR, abs=60)
    names = ["drifted", "intake", "clean"]
    assert [(c["id"], c["monitor"]) for c in doc["checks"]] == [
        (history.ids[n], "intake" if n == "intake" else "triage") for n in names
    ]
    first = doc["checks"][0]
    drifted = history.results["drifted"]
    assert first["verdict"] == "DRIFT" and doc["checks"][2]["verdict"] == "ok" and "features" not in first
    assert [f["name"] for f in first["worst_features"]] == [f.name for f in by_severity(drifted.features)[:3]]
    assert all(f["drifted"] and f["severity"] > 1 for f in first["worst_features"])
    assert first["trigger"] == "manual" and first["window_end"] == drifted.started_at
    assert first["drifted_features"] == drifted.drifted_features and first["ood"]["rate"] == drifted.ood.rate


def test_checks_of_every_monitor_name_the_monitor(history: History) -> None:
    code, stdout, stderr = cli("checks", "-c", str(history.config), "--since", "3h")
    assert code == 0, stderr
    rows = _rows(stdout)
    assert [row.split("│")[1].strip() for row in rows] == ["triage", "intake"]
    assert str(history.ids["intake"]) in rows[1] and "window_close" in rows[1]


def test_an_empty_period_says_so(history: History) -> None:
    code, stdout, _ = cli("checks", "-c", str(history.config), "-m", "intake", "--since", "7d", "--until", "6d")
    assert code == 0 and stdout.startswith("no checks of intake from ") and history.url in stdout


def test_show_prints_header_features_and_text(history: History) -> None:
    check_id = history.ids["drifted"]
    code, stdout, stderr = cli("show", "-c", str(history.config), str(check_id))
    assert code == 0, stderr
    drifted = history.results["drifted"]
    lines = stdout.splitlines()
    assert lines[0].startswith(f"check {check_id} of triage, {views.iso(drifted.started_at)}")
    assert "trigger manual" in lines[0] and drifted.reference_version in lines[0]
    assert lines[1].startswith(f"Window: {views.iso(drifted.started_at - HOUR)} → ")
    assert lines[1].endswith(f"; {drifted.rows} rows checked.")
    assert lines[2].startswith("triage: DATASET DRIFT: ") and lines[3].startswith("Decision: calibrated p-values")
    assert lines[4].startswith(f"Out of distribution: {drifted.ood.rate * 100:.1f}% of {drifted.rows} rows: ")
    rows = _rows(stdout)
    assert [r.split("│")[1].strip().removesuffix(" (prediction)") for r in rows] == [
        f.name for f in by_severity(drifted.features)
    ]
    assert "median ref → now" in stdout and "moved most" in stdout  # judged features carry their explanation
    assert lines[-1].startswith("Text symptoms: languages en ") and "new: " in lines[-1]
    assert "code-switching" in lines[-1]


def test_show_json_is_the_api_document_with_explanations(history: History) -> None:
    check_id = history.ids["drifted"]
    code, stdout, stderr = cli("show", "-c", str(history.config), str(check_id), "--format", "json")
    assert code == 0, stderr
    doc = json.loads(stdout)
    with HistoryStore(history.url) as store:
        record = store.get_check(check_id)
    assert record is not None
    unkept = {"kept": False, "rows": None, "path": None, "reason": doc["sample"]["reason"]}
    expected = {**record.to_dict(), "sample": unkept}
    assert doc == json.loads(json.dumps(expected))
    assert doc["sample"]["reason"].startswith("never written")  # stored by hand here, not by a daemon
    by_name = {f["name"]: f["explanation"] for f in doc["features"]}
    assert by_name["patient_age"]["kind"] == "numeric" and by_name["symptoms.language"]["kind"] == "categorical"
    assert doc["text"]["symptoms"]["code_switching"]["current"] > 0


def _explained(record: CheckRecord, by_name: dict[str, dict[str, Any]]) -> CheckRecord:
    """The record with hand-written explanations on the named features and none on the others."""
    features = tuple(replace(f, explanation=from_dict(by_name.get(f.name))) for f in record.features or ())
    return replace(record, features=features)


def _printed(table: Any) -> str:
    buffer = io.StringIO()
    Console(file=buffer, width=400).print(table)
    return buffer.getvalue()


def test_show_adds_explanation_columns_when_features_carry_them(history: History) -> None:
    with HistoryStore(history.url) as store:
        stored = store.get_check(history.ids["drifted"])
    assert stored is not None
    record = _explained(stored, {"patient_age": NUMERIC, "arrival_mode": CATEGORICAL})
    text = _printed(views.feature_table(record))
    assert "median ref → now" in text and "p5 .. p95 ref → now" in text and "top unseen" in text
    rows = {r.split("│")[1].strip(): [c.strip() for c in r.split("│")[1:-1]] for r in _rows(text)}
    assert rows["patient_age"][-4:] == ["42 → 68", "19 .. 77 → 30 .. 90", "-", "-"]
    assert rows["arrival_mode"][-4:] == ["-", "-", "telehealth 0.0% → 30.0%", "telehealth (300)"]
    assert rows["channel"][-4:] == ["-", "-", "-", "-"]
    doc = views.show_document(record, load_config(history.config).data_dir)
    explained = {f["name"]: f["explanation"] for f in doc["features"]}
    assert explained["patient_age"] == NUMERIC
    assert explained["arrival_mode"] == {**CATEGORICAL, "unseen_rows": 0}
    assert explained["channel"] is None


def test_unknown_check_id_exits_2_naming_the_database(history: History) -> None:
    code, stdout, stderr = cli("show", "-c", str(history.config), "99999")
    assert code == 2 and stdout == ""
    assert stderr.strip() == f"error: no check with id 99999 in {history.url}"


def test_bad_times_and_monitors_exit_2_naming_them(history: History) -> None:
    code, _, stderr = cli("checks", "-c", str(history.config), "--since", "yesterday")
    assert code == 2 and "--since 'yesterday' is neither a duration (30m, 6h, 7d) nor an ISO 8601 time" in stderr
    code, _, stderr = cli("checks", "-c", str(history.config), "--since", "6h", "--until", "soon")
    assert code == 2 and "--until 'soon' is neither" in stderr
    code, _, stderr = cli("checks", "-c", str(history.config), "--since", "1h", "--until", "2h")
    assert code == 2 and "--until '2h'" in stderr and "is not after --since '1h'" in stderr
    code, _, stderr = cli("checks", "-c", str(history.config), "-m", "nobody")
    assert code == 2 and "unknown monitor 'nobody' (valid: triage, intake)" in stderr


def test_an_unreachable_database_exits_2_with_the_stores_message(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database folder should be")
    url = f"sqlite:///{(blocker / 'history' / 'driftwatch.db').as_posix()}"
    config = tmp_path / "config.yaml"
    config.write_text(
        f"data_dir: {tmp_path / 'data'}\nstorage: {{url: '{url}'}}\n"
        f"monitors:\n  - name: triage\n    reference: {{path: {EXAMPLES / 'reference.csv'}}}\n"
    )
    for args in (("checks", "--since", "6h"), ("show", "1")):
        proc = subprocess.run(
            [sys.executable, "-m", "driftwatch", *args, "-c", str(config)], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 2 and proc.stdout == ""
        assert (
            proc.stderr.startswith(f"error: history database {url}: ") and "unable to open database file" in proc.stderr
        )
        assert "Traceback" not in proc.stderr
    assert not (blocker / "history").exists()


def test_the_installed_command_prints_the_table_at_full_width(history: History) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "driftwatch", "checks", "-c", str(history.config), "-m", "triage"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    rows = _rows(proc.stdout)
    assert len(rows) == 2 and all(r.endswith("│") and r.count("│") == 12 for r in rows)


def test_parse_time_takes_durations_and_iso_times() -> None:
    assert parse_time("--since", "6h", now=100_000.0) == 100_000.0 - 6 * 3600
    assert parse_time("--since", "30m", now=10_000.0) == 8_200.0 and parse_time("--since", "7d", now=0.0) == -604_800
    assert parse_time("--since", "2026-01-01", now=0.0) == 1767225600.0
    assert parse_time("--until", "2026-01-01T01:00:00+01:00", now=0.0) == 1767225600.0
    assert parse_time("--until", "2026-01-01T00:00:00Z", now=0.0) == 1767225600.0
    with pytest.raises(ValueError, match="--until '0s' is neither"):
        parse_time("--until", "0s", now=0.0)
