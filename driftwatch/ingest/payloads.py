"""Turn HTTP request bodies (gzip, JSON, NDJSON, Arrow IPC) into Arrow tables, rejecting bad rows one by one."""

from __future__ import annotations

import json
import math
import struct
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from driftwatch.config import IngestLimits
from driftwatch.errors import DataError
from driftwatch.ingest.jsontext import json_problem, loads_json

MAX_ROW_ERRORS = 20
JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/jsonl")
ARROW_TYPES = ("application/vnd.apache.arrow.stream",)
CONTENT_TYPES = JSON_TYPES + NDJSON_TYPES + ARROW_TYPES
_STATUSES = (400, 404, 413, 415, 422)
_BLANK = b" \t\r"
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class PayloadError(DataError):
    """A request body that cannot be accepted; `status` is the HTTP status to answer with (one of _STATUSES).

    `limit` names the ingest.limits field the body exceeds, None for any other problem.
    """

    def __init__(self, message: str, status: int = 400, limit: str | None = None):
        if status not in _STATUSES:
            raise ValueError(f"PayloadError status must be one of {_STATUSES}, got {status}")
        self.status = status
        self.limit = limit
        super().__init__(message)


def limit_error(what: str, name: str, limit: int, status: int = 422) -> PayloadError:
    """The refusal of a body over one of ingest.limits, naming the limit and its value."""
    return PayloadError(f"{what} exceeds ingest.limits.{name} ({limit})", status, name)


@dataclass(frozen=True)
class RowError:
    """One problem found in a payload: a rejected row (column None) or a column kept as strings (column set)."""

    row: int
    column: str | None
    message: str


@dataclass(frozen=True)
class ParsedRows:
    """The accepted rows of a payload, how many were rejected, and the first problems found (sorted by row)."""

    table: pa.Table
    rejected: int
    errors: tuple[RowError, ...]


def decode_body(
    body: bytes, content_encoding: str | None, max_bytes: int, reserve: Callable[[int], None] | None = None
) -> bytes:
    """The body after Content-Encoding, never longer than max_bytes, even when decompressing a gzip bomb.

    `reserve(n)` is told of each step's output before the next, and of the final copy, as it is decompressed.
    """
    if max_bytes < 1:
        raise ValueError(f"max_bytes must be positive, got {max_bytes}")
    encoding = (content_encoding or "").strip().lower()
    if len(body) > max_bytes:
        raise limit_error(f"a body of {len(body)} bytes", "max_decoded_bytes", max_bytes, 413)
    if encoding in ("", "identity"):
        return body
    if encoding not in ("gzip", "x-gzip"):
        raise PayloadError(f"unsupported Content-Encoding '{content_encoding}' (use gzip or identity)", 415)
    return _gunzip(body, max_bytes, reserve or _ignore)


def _ignore(_: int) -> None:
    return None


# Decompressed in steps of at most this many bytes, each reserved before the next one is produced.
_GUNZIP_STEP = 1 << 20


def _gunzip(body: bytes, max_bytes: int, reserve: Callable[[int], None]) -> bytes:
    chunks: list[bytes] = []
    size = 0
    data = body
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    try:
        while True:
            # max_length caps each step, so at most max_bytes + 1 bytes are ever held.
            chunk = decompressor.decompress(data, min(max_bytes + 1 - size, _GUNZIP_STEP))
            size += len(chunk)
            if size > max_bytes:
                raise limit_error("the decompressed body", "max_decoded_bytes", max_bytes, 413)
            reserve(len(chunk))
            chunks.append(chunk)
            if decompressor.eof:
                data = decompressor.unused_data
                if not data.strip(b"\0"):
                    break
                # Concatenated gzip members form one valid gzip body.
                decompressor = zlib.decompressobj(_GZIP_WBITS)
                continue
            data = decompressor.unconsumed_tail
            if not data and not chunk:
                raise PayloadError("gzip body is truncated")
    except zlib.error as exc:
        raise PayloadError(f"body is not valid gzip: {exc}") from exc
    reserve(size)  # the joined copy, beside its pieces for a moment
    return b"".join(chunks)


def media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    """The lower-cased media type of a Content-Type header and its parameters."""
    parts = (content_type or "").split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].strip().lower(), params


def parse_rows(
    body: bytes, content_type: str, limits: IngestLimits | None = None, keep: Collection[str] | None = None
) -> ParsedRows:
    """Rows from a decoded body: JSON (array, object or {"rows": [...]}), NDJSON, or an Arrow IPC stream.

    Columns outside `keep` (when given) are all-null: their values are never built. `limits` caps rows and columns;
    nesting and string lengths are checked before parsing by driftwatch.ingest.limits.read_rows.
    """
    limits = limits or _DEFAULT_LIMITS
    mime, params = media_type(content_type)
    if mime not in CONTENT_TYPES:
        shown = f"'{content_type}'" if content_type else "(none)"
        raise PayloadError(f"unsupported Content-Type {shown} (use {', '.join(CONTENT_TYPES)})", 415)
    charset = params.get("charset", "utf-8").lower()
    if mime not in ARROW_TYPES and charset not in ("utf-8", "utf8"):
        raise PayloadError(f"unsupported charset '{charset}' (JSON bodies must be UTF-8)", 415)
    if mime in JSON_TYPES:
        return _parse_json(body, limits, keep)
    if mime in NDJSON_TYPES:
        return _parse_ndjson(body, limits, keep)
    return _parse_arrow(body, limits, keep)


_DEFAULT_LIMITS = IngestLimits()


def _check_rows(n: int, limits: IngestLimits) -> None:
    if n > limits.max_rows:
        raise limit_error(f"{n} rows", "max_rows", limits.max_rows, 413)


def _check_columns(n: int, limits: IngestLimits) -> None:
    if n > limits.max_columns:
        raise limit_error(f"{n} columns", "max_columns", limits.max_columns)


def _parse_json(body: bytes, limits: IngestLimits, keep: Collection[str] | None) -> ParsedRows:
    try:
        value = loads_json(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(json_problem(exc, body)) from exc
    if isinstance(value, dict) and isinstance(value.get("rows"), list):
        extra = sorted(k for k in value if k != "rows")
        if extra:
            raise PayloadError(f"an object with a 'rows' list may hold no other keys, got {', '.join(extra)}")
        value = value["rows"]
    elif isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise PayloadError(f'expected a JSON array of objects, an object or {{"rows": [...]}}, got {describe(value)}')
    _check_rows(len(value), limits)
    return rows_to_table(value, keep=keep, limits=limits)


def _parse_ndjson(body: bytes, limits: IngestLimits, keep: Collection[str] | None) -> ParsedRows:
    # A bound on the lines (rows) before any is parsed; blank ones are not rows but are rare.
    _check_rows(body.count(b"\n") + 1 - body.endswith(b"\n"), limits)
    table = _read_ndjson_fast(body)
    if table is not None:
        _check_columns(table.num_columns, limits)
        return ParsedRows(_null_others(table, keep), 0, ())
    items: list[Any] = []
    rows = array("q")  # 8 bytes a row, where a list of ints costs 36
    malformed: list[RowError] = []
    malformed_count = 0
    for number, line in enumerate(_lines(body)):
        if not line.strip(_BLANK):
            continue
        try:
            items.append(loads_json(line))
        except orjson.JSONDecodeError as exc:
            malformed_count += 1
            if len(malformed) < MAX_ROW_ERRORS:
                malformed.append(RowError(number, None, json_problem(exc, line)))
        else:
            rows.append(number)
    parsed = rows_to_table(items, rows, keep=keep, limits=limits)
    errors = sorted(malformed + list(parsed.errors), key=lambda e: e.row)[:MAX_ROW_ERRORS]
    return ParsedRows(parsed.table, parsed.rejected + malformed_count, tuple(errors))


def _lines(body: bytes) -> Iterator[bytes]:
    """The lines of a body one at a time: a list of them all would cost more than the body itself."""
    start = 0
    while (end := body.find(b"\n", start)) >= 0:
        yield body[start:end]
        start = end + 1
    yield body[start:]


def _read_ndjson_fast(body: bytes) -> pa.Table | None:
    """Arrow's multithreaded reader when every line is one well-typed object; None means go line by line."""
    lines = 0
    for line in body.split(b"\n"):
        stripped = line.strip(_BLANK)
        if stripped:
            # A line that does not open and close an object is either bad or part of a multi-line value.
            if stripped[:1] != b"{" or stripped[-1:] != b"}":
                return None
            lines += 1
    if lines == 0:
        return pa.table({})
    if not _is_utf8(body):
        return None
    try:
        table = pa_json.read_json(pa.BufferReader(body))
        # One line holding two objects would show up as an extra row.
        if table.num_rows != lines:
            return None
        if any(_has_temporal(field.type) for field in table.schema):
            # Arrow reads ISO-looking strings as timestamps; JSON has none, so keep them as sent.
            schema = pa.schema([field.with_type(_temporal_as_string(field.type)) for field in table.schema])
            options = pa_json.ParseOptions(explicit_schema=schema)
            table = pa_json.read_json(pa.BufferReader(body), parse_options=options)
        table.validate(full=True)
    except pa.ArrowException:
        return None
    return table


def _is_utf8(body: bytes) -> bool:
    """Whether the bytes are valid UTF-8, checked by Arrow without copying them."""
    offsets = pa.py_buffer(struct.pack("<2q", 0, len(body)))
    array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(body)])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _has_temporal(t: pa.DataType) -> bool:
    if pa.types.is_temporal(t):
        return True
    return any(_has_temporal(t.field(i).type) for i in range(t.num_fields))


def _temporal_as_string(t: pa.DataType) -> pa.DataType:
    if pa.types.is_temporal(t):
        return pa.string()
    if pa.types.is_struct(t):
        return pa.struct([t.field(i).with_type(_temporal_as_string(t.field(i).type)) for i in range(t.num_fields)])
    if pa.types.is_list(t):
        return pa.list_(_temporal_as_string(t.value_type))
    return t


def _parse_arrow(body: bytes, limits: IngestLimits, keep: Collection[str] | None) -> ParsedRows:
    try:
        reader = pa.ipc.open_stream(body)
        _check_columns(len(reader.schema), limits)
        batches, rows, size = [], 0, 0
        for batch in reader:
            # Buffers may be compressed: count what they hold once read, one batch at a time.
            rows += batch.num_rows
            size += batch.nbytes
            _check_rows(rows, limits)
            if size > limits.max_decoded_bytes:
                raise limit_error("the decoded Arrow stream", "max_decoded_bytes", limits.max_decoded_bytes, 413)
            batches.append(batch)
        table = pa.Table.from_batches(batches, reader.schema)
        table.validate(full=True)
    except PayloadError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        hint = " (this is the Arrow IPC file format; send the stream format)" if body[:6] == b"ARROW1" else ""
        raise PayloadError(f"body is not a valid Arrow IPC stream{hint}: {exc}") from exc
    names = table.column_names
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise PayloadError(f"Arrow stream has duplicate column names: {', '.join(duplicates)}")
    table = _null_others(table, keep)
    _check_arrow_strings(table, limits)
    return ParsedRows(table, 0, ())


def _check_arrow_strings(table: pa.Table, limits: IngestLimits) -> None:
    """Hold Arrow's string values to max_string_bytes, as JSON's are: one 15 MB text would be read by every check."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        t = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t)):
            continue
        values = column.cast(pa.large_binary()) if pa.types.is_dictionary(column.type) else column
        longest = pc.max(pc.binary_length(values)).as_py() or 0
        if longest > limits.max_string_bytes:
            raise limit_error(
                f"a string of {longest} bytes in Arrow column {name!r}", "max_string_bytes", limits.max_string_bytes
            )


def _null_others(table: pa.Table, keep: Collection[str] | None) -> pa.Table:
    """The table with every column outside `keep` replaced by nulls, so that nothing downstream reads its values."""
    if keep is None or all(name in keep for name in table.column_names):
        return table
    columns = [
        c if name in keep else pa.nulls(table.num_rows)
        for name, c in zip(table.column_names, table.columns, strict=True)
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


def rows_to_table(
    items: Sequence[Any],
    rows: Sequence[int] | None = None,
    *,
    keep: Collection[str] | None = None,
    limits: IngestLimits | None = None,
) -> ParsedRows:
    """A table from JSON values: objects become rows, anything else is rejected; `rows` numbers the items."""
    numbers = range(len(items)) if rows is None else rows
    objects: list[dict[str, Any]] = []
    object_rows: list[int] = []
    errors: list[RowError] = []
    rejected = 0
    for number, item in zip(numbers, items, strict=True):
        if isinstance(item, dict):
            objects.append(item)
            object_rows.append(number)
        else:
            rejected += 1
            if len(errors) < MAX_ROW_ERRORS:
                errors.append(RowError(number, None, f"expected a JSON object, got {describe(item)}"))
    table, notes = objects_to_table(objects, object_rows, keep=keep, limits=limits)
    ordered = sorted(errors + notes, key=lambda e: e.row)[:MAX_ROW_ERRORS]
    return ParsedRows(table, rejected, tuple(ordered))


def objects_to_table(
    objects: Sequence[dict[str, Any]],
    rows: Sequence[int],
    *,
    keep: Collection[str] | None = None,
    limits: IngestLimits | None = None,
) -> tuple[pa.Table, list[RowError]]:
    """Columns by key; a column whose values Arrow cannot type together is kept as strings, with a note why.

    Columns outside `keep` (when given) are all-null, their values never converted.
    """
    if not objects:
        return pa.table({}), []
    names = list(dict.fromkeys(key for obj in objects for key in obj))
    if limits is not None:
        _check_columns(len(names), limits)
    if not names:
        return pa.Table.from_struct_array(pa.array(objects)), []
    # Column by column is faster than letting Arrow infer one struct, and confines a type conflict to its column.
    arrays: list[pa.Array] = []
    notes: list[RowError] = []
    for name in names:
        if keep is not None and name not in keep:
            arrays.append(pa.nulls(len(objects)))
            continue
        values = [obj.get(name) for obj in objects]
        array = _try_array(values)
        if array is None:
            at = _first_misfit(values)
            notes.append(RowError(rows[at], name, _misfit_message(values, at)))
            array = _as_strings(values)
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=names), notes


def json_column(values: list[Any]) -> pa.Array:
    """One column from JSON values, typed by Arrow, or as strings when they do not share a type."""
    array = _try_array(values)
    return _as_strings(values) if array is None else array


def _as_strings(values: list[Any]) -> pa.Array:
    return pa.array([_as_text(v) for v in values], pa.string())


def _try_array(values: list[Any]) -> pa.Array | None:
    try:
        return pa.array(values)
    except (pa.ArrowException, OverflowError, TypeError, ValueError):
        return None


def _first_misfit(values: list[Any]) -> int:
    """Index of the first value that Arrow cannot type together with the values before it."""
    change = _first_kind_change(values)
    # Usually the culprit is the first value of another JSON type; checking it costs two conversions.
    if change is not None and _try_array(values[:change]) is not None and _try_array(values[: change + 1]) is None:
        return change
    good, bad = 0, len(values)  # values[:good] converts, values[:bad] does not
    while bad - good > 1:
        middle = (good + bad) // 2
        if _try_array(values[:middle]) is None:
            bad = middle
        else:
            good = middle
    return bad - 1


def _first_kind_change(values: list[Any]) -> int | None:
    first: str | None = None
    for i, value in enumerate(values):
        if value is None:
            continue
        kind = describe(value)
        if first is None:
            first = kind
        elif kind != first:
            return i
    return None


def _misfit_message(values: list[Any], at: int) -> str:
    earlier = _try_array(values[:at])
    if earlier is None or pa.types.is_null(earlier.type):
        return f"{describe(values[at])} cannot be stored as an Arrow value; column kept as strings"
    word = _type_word(earlier.type)
    return f"{describe(values[at])} does not fit the column's earlier {word} values; column kept as strings"


def _type_word(t: pa.DataType) -> str:
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "number"
    if pa.types.is_string(t):
        return "string"
    return str(t)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and math.isinf(value):
        # orjson writes an infinity as null, which a numeric feature would then count as a type error.
        return "inf" if value > 0 else "-inf"
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # integers beyond 64 bits
        return json.dumps(value)


def describe(value: Any) -> str:
    """The JSON type of a value with its article, for messages: 'an array', 'a number', 'null'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"
