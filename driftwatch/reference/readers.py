"""Read tabular data (Parquet, CSV, JSON Lines, SQL) into Arrow tables."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from driftwatch.errors import DataError

Format = Literal["auto", "parquet", "csv", "jsonl"]
_SUFFIXES: dict[str, str] = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def resolve_files(path: str | Path) -> list[Path]:
    """The data files a path names: one file, every data file in a folder, or every match of a glob."""
    text = str(path)
    p = Path(text)
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _SUFFIXES)
        if not files:
            raise DataError(f"{text}: folder holds no .parquet, .csv or .jsonl files")
        return files
    if p.is_file():
        return [p]
    if glob.has_magic(text):
        files = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
        if not files:
            raise DataError(f"{text}: no file matches this pattern")
        return files
    raise DataError(f"{text}: no such file or folder")


def file_format(path: Path, fmt: Format = "auto") -> str:
    """The format of one file, from `fmt` or its suffix."""
    if fmt != "auto":
        return fmt
    found = _SUFFIXES.get(path.suffix.lower())
    if found is None:
        raise DataError(f"{path}: cannot tell the format from the suffix '{path.suffix}' (use .parquet, .csv, .jsonl)")
    return found


def read_file(path: Path, fmt: Format = "auto") -> pa.Table:
    """One file as an Arrow table, with an error naming the file when it cannot be parsed."""
    kind = file_format(path, fmt)
    try:
        if kind == "parquet":
            return pq.read_table(path)
        if kind == "csv":
            # An empty CSV field is a missing value, not an empty string.
            return pa_csv.read_csv(path, convert_options=pa_csv.ConvertOptions(strings_can_be_null=True))
        return pa_json.read_json(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(f"{path}: cannot read as {kind}: {exc}") from exc


def read_path(path: str | Path, fmt: Format = "auto") -> pa.Table:
    """A file, folder or glob as one table; files with differing columns are unified (missing ones null)."""
    return concat(read_file(f, fmt) for f in resolve_files(path))


def read_sql(url: str, query: str) -> pa.Table:
    """Run a SQL query through SQLAlchemy and return its rows as an Arrow table."""
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            result = conn.execute(sa.text(query))
            columns = list(result.keys())
            rows = result.fetchall()
    except sa.exc.SQLAlchemyError as exc:
        raise DataError(f"reference query failed: {exc.__class__.__name__}: {exc}") from exc
    finally:
        if "engine" in locals():
            engine.dispose()
    return pa.Table.from_pydict({c: [r[i] for r in rows] for i, c in enumerate(columns)})


def concat(tables: Iterable[pa.Table]) -> pa.Table:
    """Concatenate tables whose columns may differ, widening types where Arrow can."""
    tables = list(tables)
    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise DataError(f"files do not share compatible column types: {exc}") from exc


def write_file(table: pa.Table, path: Path) -> None:
    """Write a table in the format its suffix names."""
    kind = file_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "parquet":
        pq.write_table(table, path)
    elif kind == "csv":
        pa_csv.write_csv(table, path)
    else:
        import orjson

        with path.open("wb") as fh:
            for row in table.to_pylist():
                fh.write(orjson.dumps(row) + b"\n")
