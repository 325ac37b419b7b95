"""Reference profiles: kind inference with reasons, readers, caching by content hash."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from driftwatch.config import MonitorConfig
from driftwatch.errors import DataError
from driftwatch.reference.profile import build_profile, load_profile
from driftwatch.reference.schema import infer_kind
from driftwatch.types import Kind


def _table(n: int = 400, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "amount": rng.normal(100, 15, n),
            "count": rng.integers(0, 1000, n),
            "rating": rng.integers(1, 6, n),
            "flag": rng.random(n) > 0.5,
            "color": rng.choice(["red", "green", "blue"], n),
            "note": [f"customer wrote a long message number {i} about the order" for i in range(n)],
            "id": [f"id-{i}" for i in range(n)],
        }
    )


def test_infer_kind_explains_each_decision() -> None:
    t = _table()
    assert infer_kind(t.column("amount")) == (Kind.NUMERIC, "floating point")
    kind, why = infer_kind(t.column("count"))
    assert kind == Kind.NUMERIC and why.startswith("integer with ") and "distinct values" in why
    assert infer_kind(t.column("rating")) == (Kind.CATEGORICAL, "integer with 5 distinct values (<= 10)")
    assert infer_kind(t.column("flag")) == (Kind.CATEGORICAL, "boolean")
    assert infer_kind(t.column("color")) == (Kind.CATEGORICAL, "string with 3 distinct values (<= 50)")
    kind, why = infer_kind(t.column("note"))
    assert kind == Kind.TEXT and why.startswith("strings averaging")
    kind, why = infer_kind(t.column("id"))
    assert kind is None and why.startswith("skipped: 400 distinct short strings")
    assert infer_kind(pa.chunked_array([pa.array([None, None], pa.float64())])) == (
        None,
        "skipped: no values in the reference",
    )


def test_profile_statistics() -> None:
    mon = MonitorConfig(name="m", reference={"path": "x"})
    prof = build_profile(_table(), mon, "v", "mem")
    assert [f.name for f in prof.features] == ["amount", "count", "rating", "flag", "color", "note"]
    assert [s.name for s in prof.skipped] == ["id"]
    amount = prof.feature("amount").numeric
    assert amount is not None
    assert np.all(np.diff(amount.values) >= 0)
    assert amount.min == amount.values[0] and amount.max == amount.values[-1]
    color = prof.feature("color").categorical
    assert color is not None and color.categories.tolist() == ["blue", "green", "red"]
    assert int(color.counts.sum()) == 400
    flag = prof.feature("flag").categorical
    assert flag is not None and flag.categories.tolist() == ["false", "true"]


def test_listed_feature_missing_from_reference_is_an_error() -> None:
    mon = MonitorConfig(name="m", reference={"path": "x"}, features={"nope": "numeric"})
    with pytest.raises(DataError, match="feature 'nope' is not a column of the reference"):
        build_profile(_table(), mon, "v", "mem")


@pytest.mark.parametrize(
    ("column", "problem"),
    [
        ("amount", "the reference column holds double, not strings"),
        ("empty", "no reference row holds a letter"),
        ("emoji", "no reference row holds a letter"),
        ("blank", "no reference row holds a letter"),
    ],
)
def test_a_text_feature_needs_strings_with_letters_in_the_reference(column: str, problem: str) -> None:
    n = 400
    table = _table(n).append_column("empty", pa.nulls(n, pa.string())).append_column("emoji", pa.array(["🤒 42"] * n))
    table = table.append_column("blank", pa.nulls(n))
    mon = MonitorConfig(name="m", reference={"path": "x"}, features={column: "text"})
    with pytest.raises(DataError, match=f"feature '{column}' is text, but {problem}"):
        build_profile(table, mon, "v", "mem")


def test_inferred_kind_must_fit_configured_method() -> None:
    mon = MonitorConfig(name="m", reference={"path": "x"}, features={"color": {"method": "ks"}})
    with pytest.raises(DataError, match="feature 'color' was inferred as categorical: stat test 'ks' does not apply"):
        build_profile(_table(), mon, "v", "mem")


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_every_format_glob_and_folder(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "ref"
    folder.mkdir()
    for part in range(3):
        t = _table(100, seed=part).drop_columns(["flag"])
        if fmt == "parquet":
            pq.write_table(t, folder / f"part{part}.parquet")
        elif fmt == "csv":
            pa_csv.write_csv(t, folder / f"part{part}.csv")
        else:
            (folder / f"part{part}.jsonl").write_text("\n".join(__import__("json").dumps(r) for r in t.to_pylist()))
    for path in (str(folder), str(folder / f"*.{fmt}")):
        mon = MonitorConfig(name="m", reference={"path": path}, features={"amount": "numeric", "color": "categorical"})
        prof = load_profile(mon, tmp_path / "data")
        assert prof.rows == 300
        assert prof.feature("amount").valid == 300


def test_sql_reference(tmp_path: Path) -> None:
    db = tmp_path / "ref.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table ref (amount real, color text)")
        conn.executemany("insert into ref values (?, ?)", [(float(i), "red" if i % 2 else "blue") for i in range(200)])
    mon = MonitorConfig(
        name="m",
        reference={"query": "select amount, color from ref", "url": f"sqlite:///{db}"},
        features={"amount": "numeric", "color": "categorical"},
    )
    prof = load_profile(mon, tmp_path / "data")
    assert prof.rows == 200 and prof.source == "SQL query"
    assert prof.feature("color").categorical.counts.tolist() == [100, 100]  # type: ignore[union-attr]


def test_cache_is_reused_and_invalidated_by_content(tmp_path: Path) -> None:
    ref = tmp_path / "ref.parquet"
    pq.write_table(_table(300), ref)
    mon = MonitorConfig(name="m", reference={"path": str(ref)}, features={"amount": "numeric"})
    first = load_profile(mon, tmp_path / "data")
    second = load_profile(mon, tmp_path / "data")
    assert second.version == first.version and second.created_at == first.created_at
    np.testing.assert_array_equal(first.feature("amount").numeric.values, second.feature("amount").numeric.values)  # type: ignore[union-attr]
    pq.write_table(_table(300, seed=5), ref)
    third = load_profile(mon, tmp_path / "data")
    assert third.version != first.version
    # A different feature selection is a different profile of the same reference version.
    mon2 = MonitorConfig(name="m", reference={"path": str(ref)}, features={"amount": "numeric", "count": "numeric"})
    fourth = load_profile(mon2, tmp_path / "data")
    assert fourth.version == third.version and [f.name for f in fourth.features] == ["amount", "count"]


def test_damaged_cache_is_rebuilt(tmp_path: Path) -> None:
    ref = tmp_path / "ref.parquet"
    pq.write_table(_table(300), ref)
    mon = MonitorConfig(name="m", reference={"path": str(ref)}, features={"amount": "numeric"})
    first = load_profile(mon, tmp_path / "data")
    for f in (tmp_path / "data" / "profiles" / "m").glob("*/f0.arrow"):
        f.write_bytes(b"garbage")
    again = load_profile(mon, tmp_path / "data")
    assert again.version == first.version
    assert again.feature("amount").valid == 300


def test_empty_reference_is_an_error(tmp_path: Path) -> None:
    mon = MonitorConfig(name="m", reference={"path": "x"})
    with pytest.raises(DataError, match="has no rows"):
        build_profile(_table(0), mon, "v", "mem")


def test_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    ref = tmp_path / "ref.csv"
    ref.write_text("amount\n" + "\n".join(f"{i:03d}" for i in range(200)) + "\n")
    mon = MonitorConfig(name="m", reference={"path": str(ref)}, features={"amount": "numeric"})
    first = load_profile(mon, tmp_path / "data")
    st = ref.stat()
    # Same size and mtime but other bytes: only a re-read could notice, and a check must not re-read.
    ref.write_text("amount\n" + "\n".join(f"{i + 500:03d}" for i in range(200)) + "\n")
    os.utime(ref, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert ref.stat().st_size == st.st_size
    again = load_profile(mon, tmp_path / "data")
    assert again.version == first.version
    assert again.feature("amount").numeric.max == 199.0  # type: ignore[union-attr]
