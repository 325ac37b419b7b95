"""The labelling export: one exemplar per fingerprint, reasons in turn, each format read back, bad input exits 2."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest
from checks.samples import Reference, calibrated_check
from daemon.harness import write_config
from typer.testing import CliRunner

from driftwatch.cli import app
from driftwatch.exemplars.formats import FORMATS, export_format
from driftwatch.exemplars.selection import distinct, parse_since, stratify
from driftwatch.ood.results import Exemplar, OodResult
from driftwatch.storage import ExemplarRecord, HistoryStore
from driftwatch.storage.convert import fingerprint


def _record(n: int, reasons: tuple[str, ...], p: float | None, at: float = 100.0, values: dict | None = None):
    values = values if values is not None else {"x": n}
    return ExemplarRecord(n, n, "m", at, 0, p, None, reasons, ("x",), values, fingerprint(values))


def test_duplicates_collapse_to_their_most_novel_sighting() -> None:
    a_old = _record(1, ("novel",), 0.01, at=100.0, values={"x": "same"})
    a_new = _record(2, ("novel",), 0.001, at=200.0, values={"x": "same"})
    b = _record(3, ("novel",), 0.005)
    unique, seen = distinct([a_old, b, a_new])
    assert unique == [a_new, b] and seen == {a_new.fingerprint: 2, b.fingerprint: 1}


def test_reasons_take_turns_so_a_rare_one_is_represented() -> None:
    frequent = [_record(i, ("novel",), 0.001 * (i + 1)) for i in range(10)]
    rare = _record(50, ("unseen_category",), None)
    both = _record(60, ("out_of_range", "novel"), 0.0001)
    picked = stratify([*frequent, rare, both], limit=4)
    assert [(i.exemplar.id, i.stratum) for i in picked] == [
        (60, "out_of_range"),
        (50, "unseen_category"),
        (0, "novel"),
        (1, "novel"),
    ]
    assert len(stratify([*frequent, rare, both], limit=100)) == 12
    with pytest.raises(ValueError, match="at least 1"):
        stratify(frequent, limit=0)


def test_since_takes_durations_and_iso_times() -> None:
    assert parse_since("24h", now=100_000.0) == 100_000.0 - 86_400
    assert parse_since("90s", now=1000.0) == 910.0 and parse_since("2w", now=0.0) == -14 * 86_400
    assert parse_since("2026-01-01T00:00:00") == parse_since("2026-01-01T01:00:00+01:00") == 1767225600.0
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday")


def test_the_formats_are_a_registry() -> None:
    assert set(FORMATS) == {"jsonl", "csv", "label-studio"}
    with pytest.raises(ValueError, match="valid: csv, jsonl, label-studio"):
        export_format("xlsx")


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, list[int]]:
    """A config and its SQLite history holding two checks with OOD exemplars."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    config = write_config(tmp_path, storage_url=url)
    ood = OodResult(
        rows=10,
        ood_rows=3,
        alpha=0.01,
        by_reason={"out_of_range": 1, "unseen_category": 2},
        features={"patient_age": 1, "channel": 2},
        reasons=["out_of_range", "unseen_category"],
        exemplars=[
            Exemplar({"patient_age": 300.0, "channel": "web"}, ["out_of_range"], ["patient_age"]),
            Exemplar({"patient_age": 30.0, "channel": "fax"}, ["unseen_category"], ["channel"]),
            Exemplar({"patient_age": 31.0, "channel": "telex"}, ["unseen_category"], ["channel"]),
        ],
    )
    ids = []
    with HistoryStore(url) as store:
        store.upgrade()
        store.record_reference(Reference(monitor="triage"))
        for i in range(2):  # the same three rows in two checks
            result = replace(calibrated_check("triage"), ood=ood, started_at=time.time() - 60 * (i + 1))
            ids.append(store.record_check(result, window_start=None, window_end=None, trigger="schedule"))
    return config, ids


def _export(config: Path, out: Path, *extra: str):
    args = ["exemplars", "export", "-c", str(config), "--monitor", "triage", "--since", "1h", "-o", str(out), *extra]
    return CliRunner().invoke(app, args)


def test_export_dedups_across_checks_and_writes_each_format(history: tuple[Path, list[int]], tmp_path: Path) -> None:
    config, _ = history
    out = tmp_path / "q"
    done = _export(config, out, "--format", "csv")
    assert done.exit_code == 0, done.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted(r["channel"] for r in rows) == ["fax", "telex", "web"]
    assert {r["ood_seen"] for r in rows} == {"2"} and [r["ood_stratum"] for r in rows][:2] == [
        "out_of_range",
        "unseen_category",
    ]
    assert _export(config, out, "--format", "label-studio", "--limit", "2").exit_code == 0
    tasks = json.loads(out.read_text())
    assert [t["data"]["ood_reasons"] for t in tasks] == ["out_of_range", "unseen_category"]
    assert _export(config, out).exit_code == 0  # jsonl by default
    first = json.loads(out.read_text().splitlines()[0])
    assert first["values"]["channel"] == "web"
    assert _export(config, out, "--since", "2000-01-01").exit_code == 0
    assert len(out.read_text().splitlines()) == 3
    assert _export(config, out, "--since", "1s").exit_code == 0 and out.read_text() == ""


def test_bad_input_exits_2_with_a_message(history: tuple[Path, list[int]], tmp_path: Path) -> None:
    config, ids = history
    out = tmp_path / "q.jsonl"
    cases = {
        "unknown monitor 'nope' (valid: triage)": ("--monitor", "nope"),
        "--since 'soon' is neither a duration": ("--since", "soon"),
        "unknown export format 'xml'": ("--format", "xml"),
        "--limit must be at least 1": ("--limit", "0"),
    }
    for message, extra in cases.items():
        done = _export(config, out, *extra)
        assert done.exit_code == 2 and message in " ".join(done.output.split()), (extra, done.output)
    done = _export(config, tmp_path / "missing" / "q.jsonl")
    assert done.exit_code == 2 and "cannot write" in done.output and "No such file or directory" in done.output
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert _export(config, locked / "q.jsonl").exit_code == 2
    done = CliRunner().invoke(app, ["exemplars", "424242", "-c", str(config)])
    assert done.exit_code == 2 and "no check with id 424242" in done.output
    shown = CliRunner().invoke(app, ["exemplars", str(ids[0]), "-c", str(config), "--format", "json"])
    assert shown.exit_code == 0 and len(json.loads(shown.output)["exemplars"]) == 3
