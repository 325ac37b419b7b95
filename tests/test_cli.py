"""The real `driftwatch` command on the bundled example data: exit codes, output formats, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLES

import driftwatch


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "driftwatch", *args], capture_output=True, text=True, timeout=300)


def test_drifted_batch_fails_and_names_features(example_config: Path) -> None:
    cfg = str(example_config)
    proc = run(
        "check",
        "-c",
        cfg,
        "--monitor",
        "triage",
        "--current",
        str(EXAMPLES / "batch_drifted.csv"),
        "--fail-on-drift",
        "--format",
        "json",
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["monitor"] == "triage"
    assert doc["dataset_drift"] is True
    assert doc["drift_share"] >= 0.5
    drifted = {f["name"] for f in doc["features"] if f["drifted"]}
    assert {"patient_age", "temperature_c", "channel", "arrival_mode", "symptoms.language"} <= drifted
    assert {"symptoms.length", "symptoms.oov_rate", "symptoms.code_switching", "symptoms.script"} <= drifted
    text = doc["text"]["symptoms"]
    assert text["languages"]["en"]["reference"] == 1.0 and text["languages"]["en"]["current"] < 0.7
    assert set(text["new_languages"]) >= {"es", "fr", "de", "it", "pt"}
    assert text["code_switching"]["current"] > text["code_switching"]["reference"] == 0.0
    for f in doc["features"]:
        assert {"name", "kind", "method", "score", "threshold", "drifted", "status"} <= f.keys()
    by_name = {f["name"]: f for f in doc["features"]}
    assert by_name["patient_age"]["method"] == "wasserstein"
    assert by_name["channel"]["method"] == "jensenshannon"
    assert by_name["channel"]["quality"]["unseen_category_rate"] > 0.2
    assert by_name["temperature_c"]["quality"]["out_of_range_rate"] > 0.05
    # severity order: drifted first
    flags = [f["drifted"] for f in doc["features"]]
    assert flags == sorted(flags, reverse=True)


def test_clean_batch_passes(example_config: Path) -> None:
    proc = run(
        "check",
        "-c",
        str(example_config),
        "--monitor",
        "triage",
        "--current",
        str(EXAMPLES / "batch_clean.csv"),
        "--fail-on-drift",
    )
    assert proc.returncode == 0, proc.stderr
    assert "no dataset drift" in proc.stdout


def test_markdown_output(example_config: Path) -> None:
    proc = run(
        "check",
        "-c",
        str(example_config),
        "-m",
        "triage",
        "--current",
        str(EXAMPLES / "batch_drifted.csv"),
        "--format",
        "markdown",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("### 🔴 driftwatch: triage: DATASET DRIFT")
    assert "| `temperature_c` | numeric | wasserstein |" in proc.stdout
    assert "| `predicted_urgency` (prediction) | categorical | jensenshannon |" in proc.stdout


def test_piped_table_keeps_full_names_and_methods(example_config: Path) -> None:
    """Off a terminal (a CI log), each feature is one line with its whole name and method, whatever COLUMNS says."""
    env = {**os.environ, "COLUMNS": "60"}
    # The one monitor is used without --monitor.
    args = ["check", "-c", str(example_config), "--current", str(EXAMPLES / "batch_drifted.csv")]
    proc = subprocess.run(
        [sys.executable, "-m", "driftwatch", *args], capture_output=True, text=True, timeout=300, env=env
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    # 9 columns and the 6 signals of symptoms (judged through them, not itself)
    assert "triage: DATASET DRIFT: 15 of 15 features drifted (100%, threshold 50%) on 1000 rows" in lines[0]
    expected = {
        "symptoms": "-",  # judged through its signals
        "symptoms.code_switching": "jensenshannon",
        "predicted_urgency (prediction)": "jensenshannon",
        "temperature_c": "wasserstein",
        "arrival_mode": "jensenshannon",
    }
    rows = [line for line in lines if line.startswith("│")]
    for name, method in expected.items():
        (row,) = [line for line in rows if f" {name} " in line]
        assert f" {method} " in row
        assert "…" not in row
    (temperature,) = [line for line in rows if " temperature_c " in line]
    assert "missing 25.3% (ref 0.0%), out of range 12.0%" in temperature
    assert "…" not in proc.stdout


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"driftwatch {driftwatch.__version__}"


def test_monitor_is_required_only_with_several(example_config: Path, tmp_path: Path) -> None:
    text = example_config.read_text()
    two = tmp_path / "two.yaml"
    two.write_text(text + text[text.index("  - name: triage") :].replace("name: triage", "name: triage-eu", 1))
    proc = run("check", "-c", str(two), "--current", str(EXAMPLES / "batch_clean.csv"))
    assert proc.returncode == 2
    assert "defines 2 monitors; name one of: triage, triage-eu" in proc.stderr
    proc = run("check", "-c", str(two), "-m", "triage-eu", "--current", str(EXAMPLES / "batch_clean.csv"))
    assert proc.returncode == 0, proc.stderr
    assert "triage-eu: no dataset drift" in proc.stdout


def test_usage_and_data_errors_exit_2(example_config: Path, tmp_path: Path) -> None:
    cfg = str(example_config)
    proc = run("check", "-c", cfg, "-m", "nope", "--current", str(EXAMPLES / "batch_clean.csv"))
    assert proc.returncode == 2
    assert "unknown monitor 'nope' (valid: triage)" in proc.stderr
    proc = run("check", "-c", cfg, "-m", "triage", "--current", str(tmp_path / "missing.csv"))
    assert proc.returncode == 2
    assert "missing.csv: no such file or folder" in proc.stderr
    bad = tmp_path / "bad.parquet"
    bad.write_text("not parquet")
    proc = run("check", "-c", cfg, "-m", "triage", "--current", str(bad))
    assert proc.returncode == 2
    assert "cannot read as parquet" in proc.stderr
    proc = run("check", "-c", cfg, "-m", "triage", "--current", str(EXAMPLES / "batch_clean.csv"), "--format", "xml")
    assert proc.returncode == 2


def test_config_validate(example_config: Path, tmp_path: Path) -> None:
    proc = run("config", "validate", "-c", str(example_config))
    assert proc.returncode == 0
    assert "triage" in proc.stdout and "patient_age: numeric" in proc.stdout
    assert f"reference: {EXAMPLES / 'reference.csv'} (5000 rows, 10 columns)" in proc.stdout
    signals = "language, code_switching, script, length, tokens, oov_rate"
    assert f"symptoms: text, judged through its text signals {signals}" in proc.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("monitors:\n  - name: m\n    reference: {path: r.csv}\n    features:\n      age: {method: kss}\n")
    proc = run("config", "validate", "-c", str(bad))
    assert proc.returncode == 2
    assert "monitors[0].features.age.method: unknown stat test 'kss' (valid: anderson, chisquare," in proc.stderr


def test_config_validate_says_what_ood_runs(example_config: Path, tmp_path: Path) -> None:
    proc = run("config", "validate", "-c", str(example_config))
    reasons = "out_of_range, unseen_category, unexpected_missing, type_error, unseen_language, unseen_script, novel"
    assert f"ood: {reasons} (novel at alpha 0.01)" in proc.stdout
    small = tmp_path / "small.csv"
    small.write_text("\n".join((EXAMPLES / "reference.csv").read_text().splitlines()[:151]) + "\n")
    tiny = tmp_path / "tiny.yaml"
    tiny.write_text(example_config.read_text().replace(str(EXAMPLES / "reference.csv"), str(small)))
    proc = run("config", "validate", "-c", str(tiny))
    assert proc.returncode == 0, proc.stderr
    assert "novel disabled: calibrating novelty at alpha 0.01 needs a reference of at least 200 rows" in proc.stdout
    assert "this one has 150" in proc.stdout
    # Without text signals the text feature goes to evidently's test and the text reasons have nothing to judge.
    plain = tmp_path / "plain.yaml"
    plain.write_text(example_config.read_text().replace("    window:\n", "    text: {signals: []}\n    window:\n", 1))
    proc = run("config", "validate", "-c", str(plain))
    assert proc.returncode == 0, proc.stderr
    assert "symptoms: text, method evidently default" in proc.stdout
    assert "ood: out_of_range, unseen_category, unexpected_missing, type_error, novel (novel at alpha 0.01)" in (
        proc.stdout
    )


def test_config_validate_opens_each_reference(example_config: Path, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    missing.write_text(example_config.read_text().replace("reference.csv", "gone.csv"))
    proc = run("config", "validate", "-c", str(missing))
    assert proc.returncode == 2
    assert f"monitor 'triage': {EXAMPLES / 'gone.csv'}: no such file or folder" in proc.stderr
    assert proc.stdout.startswith("invalid ")
    garbled = tmp_path / "ref.parquet"
    garbled.write_bytes(b"PAR1 not really")
    unreadable = tmp_path / "unreadable.yaml"
    unreadable.write_text(example_config.read_text().replace(str(EXAMPLES / "reference.csv"), str(garbled)))
    proc = run("config", "validate", "-c", str(unreadable))
    assert proc.returncode == 2
    assert f"monitor 'triage': {garbled}: cannot read as parquet" in proc.stderr


def test_profile_prints_schema(example_config: Path) -> None:
    proc = run("profile", "-c", str(example_config), "--monitor", "triage")
    assert proc.returncode == 0, proc.stderr
    assert "5000 reference rows" in proc.stdout
    assert "symptoms" in proc.stdout and "text" in proc.stdout


def test_demo_batch_round_trip(example_config: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.jsonl"
    proc = run("demo-batch", "-o", str(out), "--rows", "300", "--drift", "0", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text().splitlines()) == 300
    proc = run("check", "-c", str(example_config), "-m", "triage", "--current", str(out), "--fail-on-drift")
    assert proc.returncode == 0, proc.stdout
    proc = run("demo-batch", "-o", str(tmp_path / "b.txt"))
    assert proc.returncode == 2
    assert "cannot tell the format from the suffix '.txt'" in proc.stderr


def test_db_upgrade(example_config: Path, tmp_path: Path) -> None:
    proc = run("db", "upgrade", "-c", str(example_config))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "driftwatch.db").exists()
    bad = tmp_path / "pg.yaml"
    bad.write_text(
        example_config.read_text().replace("${DRIFTWATCH_STORAGE_URL:-}", "postgresql+psycopg://u:secret@127.0.0.1:1/x")
    )
    proc = run("db", "upgrade", "-c", str(bad))
    assert proc.returncode == 2
    assert "secret" not in proc.stderr and "127.0.0.1:1" in proc.stderr
