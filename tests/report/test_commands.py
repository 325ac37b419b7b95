"""`driftwatch report` from the history database and `driftwatch compare` of two files, run as commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .conftest import EXAMPLES, MARKER, Stored


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "driftwatch", *args], capture_output=True, text=True, timeout=300, check=False
    )


def test_report_writes_a_stored_checks_page(stored: Stored, tmp_path: Path) -> None:
    out = tmp_path / "check.html"
    done = _cli("report", "-c", str(stored.config), str(stored.ids[0]), "-o", str(out), "--base-url", "http://dw:8321/")
    assert done.returncode == 0, done.stderr
    assert f"wrote the report of check {stored.ids[0]} (triage: DATASET DRIFT" in " ".join(done.stdout.split())
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and f"driftwatch check {stored.ids[0]}: triage" in page
    assert f'href="http://dw:8321/v1/checks/{stored.ids[1]}/report"' in page and 'rel="prev"' not in page
    assert MARKER not in page and "<script" not in page.lower()


def test_report_of_an_unknown_check_exits_2(stored: Stored, tmp_path: Path) -> None:
    out = tmp_path / "none.html"
    done = _cli("report", "-c", str(stored.config), "987654", "-o", str(out))
    assert done.returncode == 2 and "no check with id 987654 in the history database sqlite:///" in done.stderr
    assert not out.exists()


def test_compare_without_a_config_infers_kinds(stored: Stored, tmp_path: Path) -> None:
    out = tmp_path / "compare.html"
    reference = EXAMPLES / "reference.csv"
    done = _cli("compare", "--reference", str(reference), "--current", str(stored.current), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "compare: DATASET DRIFT" in done.stdout
    page = out.read_text()
    assert "<title>driftwatch check of compare</title>" in page
    assert f"<dd>{stored.current} (current) against {reference} (reference)</dd>" in page
    assert '<span class="badge bad">drifted</span>' in page and "<svg" in page
    # inferred as text, symptoms is dropped from exemplars by default; the hostile channel is escaped
    assert MARKER not in page and "<script" not in page.lower() and "&lt;script&gt;" in page


def test_compare_with_the_monitors_config(stored: Stored, tmp_path: Path) -> None:
    out = tmp_path / "compare.html"
    args = ("--reference", str(EXAMPLES / "reference.csv"), "--current", str(EXAMPLES / "batch_clean.csv"))
    done = _cli("compare", "-c", str(stored.config), "-m", "triage", *args, "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "<title>driftwatch check of triage</title>" in page and "Decision: calibrated p-values" in page
    assert '<p class="verdict good">No dataset drift</p>' in page
    # the config's hash rule for symptoms: every exemplar shows a digest, never the text
    kept = re.findall(r"<tr><td>symptoms</td><td>([^<]*)</td></tr>", page)
    assert kept and all(re.fullmatch(r"sha256:[0-9a-f]{16}", v) for v in kept)


def test_compare_of_an_unreadable_file_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "broken.parquet"
    bad.write_bytes(b"not parquet at all")
    out = tmp_path / "x.html"
    done = _cli("compare", "--reference", str(bad), "--current", str(EXAMPLES / "batch_clean.csv"), "-o", str(out))
    assert done.returncode == 2 and f"{bad}: cannot read as parquet" in " ".join(done.stderr.split())
    missing = tmp_path / "nope.csv"
    done = _cli("compare", "--reference", str(EXAMPLES / "reference.csv"), "--current", str(missing), "-o", str(out))
    assert done.returncode == 2 and f"{missing}: no such file or folder" in " ".join(done.stderr.split())
    assert not out.exists()
