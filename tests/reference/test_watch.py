"""Comparing a reference on disk with the loaded profile: changed, missing, unreadable, folders, SQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from driftwatch.config import MonitorConfig
from driftwatch.errors import DataError
from driftwatch.reference.profile import ReferenceReadError, load_profile, reference_files
from driftwatch.reference.watch import ReferenceProblem, inspect_reference

ROWS = "amount,color\n" + "".join(f"{i},{'red' if i % 3 else 'blue'}\n" for i in range(200))
OTHER = "amount,color\n" + "".join(f"{i * 2},{'red' if i % 2 else 'green'}\n" for i in range(200))


def _monitor(path: Path | str) -> MonitorConfig:
    return MonitorConfig(name="m", reference={"path": str(path)}, features={"amount": "numeric"})


def test_unchanged_reference_has_no_problem_and_records_its_files(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text(ROWS)
    mon = _monitor(ref)
    profile = load_profile(mon, tmp_path / "data")
    version, digests = reference_files(mon, tmp_path / "data")
    assert version == profile.version and profile.file_digests == digests and list(digests) == [str(ref)]
    assert inspect_reference(mon, tmp_path / "data", profile) is None
    os.utime(ref)  # touched, same bytes: read once more, same version
    assert inspect_reference(mon, tmp_path / "data", profile) is None


def test_changed_content_names_the_file_and_both_versions(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text(ROWS)
    mon = _monitor(ref)
    profile = load_profile(mon, tmp_path / "data")
    ref.write_text(OTHER)
    problem = inspect_reference(mon, tmp_path / "data", profile)
    new_version, _ = reference_files(mon, tmp_path / "data")
    assert problem == ReferenceProblem("changed", str(ref), "content differs", new_version)
    assert problem.describe(profile.version) == (
        f"{ref} changed on disk (content differs; version {new_version}, {profile.version} in use)"
    )
    ref.write_text(ROWS)  # put back: the loaded version again
    assert inspect_reference(mon, tmp_path / "data", profile) is None


def test_missing_file_and_empty_glob(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text(ROWS)
    profile = load_profile(_monitor(ref), tmp_path / "data")
    ref.unlink()
    problem = inspect_reference(_monitor(ref), tmp_path / "data", profile)
    assert problem == ReferenceProblem("missing", str(ref), "no such file or folder")
    assert (
        problem.describe(profile.version)
        == f"{ref} is missing (no such file or folder); version {profile.version} in use"
    )
    pattern = str(tmp_path / "*.csv")
    problem = inspect_reference(_monitor(pattern), tmp_path / "data", profile)
    assert problem == ReferenceProblem("missing", pattern, "no file matches this pattern")


def test_unreadable_file_is_reported_and_refused_with_the_file_named(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text(ROWS)
    profile = load_profile(_monitor(ref), tmp_path / "data")
    ref.unlink()
    # Opening works, reading fails with EIO, whoever runs the test (root reads files whatever their mode).
    ref.symlink_to("/proc/self/mem")
    problem = inspect_reference(_monitor(ref), tmp_path / "data", profile)
    assert problem == ReferenceProblem("unreadable", str(ref), "Input/output error")
    with pytest.raises(ReferenceReadError) as info:
        load_profile(_monitor(ref), tmp_path / "data")
    assert str(info.value) == f"{ref}: cannot read: Input/output error"
    assert isinstance(info.value, DataError)


def test_folder_names_new_changed_and_removed_files(tmp_path: Path) -> None:
    folder = tmp_path / "ref"
    folder.mkdir()
    (folder / "a.csv").write_text(ROWS)
    (folder / "b.csv").write_text(ROWS)
    mon = _monitor(folder)
    profile = load_profile(mon, tmp_path / "data")
    assert inspect_reference(mon, tmp_path / "data", profile) is None
    (folder / "c.csv").write_text(OTHER)
    problem = inspect_reference(mon, tmp_path / "data", profile)
    assert problem is not None and (problem.reason, problem.path, problem.detail) == (
        "changed",
        str(folder / "c.csv"),
        "new: c.csv",
    )
    (folder / "c.csv").unlink()
    (folder / "a.csv").write_text(OTHER)
    (folder / "b.csv").unlink()
    problem = inspect_reference(mon, tmp_path / "data", profile)
    assert problem is not None and (problem.path, problem.detail) == (str(folder), "changed: a.csv; removed: b.csv")
    shutil.rmtree(folder)
    problem = inspect_reference(mon, tmp_path / "data", profile)
    assert problem == ReferenceProblem("missing", str(folder), "no such file or folder")


def test_sql_reference_is_not_watched(tmp_path: Path) -> None:
    db = tmp_path / "ref.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table r (amount real)")
        conn.executemany("insert into r values (?)", [(float(i),) for i in range(50)])
    mon = MonitorConfig(
        name="m", reference={"query": "select amount from r", "url": f"sqlite:///{db}"}, features={"amount": "numeric"}
    )
    profile = load_profile(mon, tmp_path / "data")
    db.unlink()
    assert profile.file_digests == {} and inspect_reference(mon, tmp_path / "data", profile) is None
