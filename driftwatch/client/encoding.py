"""Turning what a caller logs into Arrow tables, and Arrow tables into request bodies."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Mapping, Sequence

import httpx
import pyarrow as pa

ARROW_STREAM = "application/vnd.apache.arrow.stream"
# Bodies above this many bytes are gzipped; smaller ones are not worth the CPU in the host process.
GZIP_THRESHOLD = 64 * 1024


def to_table(data: object) -> pa.Table:
    """Convert one accepted input shape to an Arrow table; raises TypeError or ValueError for anything else."""
    if isinstance(data, pa.Table):
        table = data
    elif isinstance(data, pa.RecordBatch):
        table = pa.Table.from_batches([data])
    elif isinstance(data, Mapping):
        if not data:
            raise ValueError("the row has no columns")
        table = pa.Table.from_pylist([dict(data)])
    elif _is_dataframe(data):
        table = pa.Table.from_pandas(data, preserve_index=False)
    elif isinstance(data, Sequence) and not isinstance(data, str | bytes | bytearray):
        if not all(isinstance(row, Mapping) for row in data):
            raise TypeError("a list of rows must contain only dicts")
        table = pa.Table.from_pylist([row if isinstance(row, dict) else dict(row) for row in data])
    else:
        raise TypeError(
            f"unsupported input {type(data).__name__} "
            "(use a dict, a list of dicts, a pyarrow Table or RecordBatch, or a pandas DataFrame)"
        )
    if table.num_rows and not table.num_columns:
        raise ValueError("the rows have no columns")
    # pandas metadata describes the caller's index, which the server does not need.
    return table.replace_schema_metadata(None) if table.schema.metadata else table


def _is_dataframe(data: object) -> bool:
    # Only an already imported pandas can have made this object, so pandas is never imported on its account.
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(data, pd.DataFrame)


def unify(tables: list[pa.Table]) -> list[pa.Table]:
    """Merge tables whose schemas can be promoted into one another, keeping order; the rest stay separate."""
    if len(tables) == 1:
        return tables
    try:
        return [pa.concat_tables(tables, promote_options="permissive")]
    except pa.ArrowException:
        pass
    merged: list[pa.Table] = [tables[0]]
    for table in tables[1:]:
        try:
            merged[-1] = pa.concat_tables([merged[-1], table], promote_options="permissive")
        except pa.ArrowException:
            merged.append(table)
    return merged


def encode(table: pa.Table) -> tuple[bytes, dict[str, str]]:
    """An Arrow IPC stream body and its headers, gzipped above GZIP_THRESHOLD."""
    # One record batch instead of one per logged call: per-batch IPC metadata would dominate single-row logs.
    table = table.combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    buf = sink.getvalue()
    headers = {"Content-Type": ARROW_STREAM}
    if buf.size > GZIP_THRESHOLD:
        headers["Content-Encoding"] = "gzip"
        # Level 1: most of the size win for a fraction of the CPU taken from the model server.
        return gzip.compress(memoryview(buf), compresslevel=1), headers
    return buf.to_pybytes(), headers


def parse_retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return None
