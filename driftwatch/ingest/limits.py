"""Input limits checked before a body is parsed, so that no request can make the parsers allocate without bound."""

from __future__ import annotations

import struct
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from driftwatch.config import LIMIT_NAMES, IngestLimits
from driftwatch.ingest.payloads import (
    ARROW_TYPES,
    NDJSON_TYPES,
    ParsedRows,
    PayloadError,
    decode_body,
    limit_error,
    media_type,
    parse_rows,
)

# Bytes scanned per step: the scan's own memory is a few arrays of this many elements, whatever the body size:
# at most about 40 bytes per byte of a chunk (int64 positions of its structural bytes and masks over them).
_CHUNK = 1 << 18
_SCAN_BYTES_PER_BYTE = 40
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPENERS = (ord("["), ord("{"))
_CLOSERS = (ord("]"), ord("}"))
# Python's objects for parsed JSON, per token, at the peak of orjson.loads (its lists grow by reallocation) plus the
# column lists built from them; measured with CPython 3.11 (docs/operations.md#memory), rounded up.
CONTAINER_BYTES, VALUE_BYTES, KEY_BYTES, STRING_BYTES = 32, 64, 104, 36
# Each NDJSON line is a value of its own, kept in a list with its line number.
LINE_BYTES = VALUE_BYTES + 16
# What shaping costs per row and monitor feature, plus one for type errors: the float64 or string offset, masks, and
# the batch encoded for the spool. A string column read as numbers also goes through one Python str per value.
SHAPED_CELL_BYTES, STRING_CELL_BYTES = 16, 72
# The most memory per byte of body the parse estimate below can come to (47 for chains of one-key objects, 43 for
# `{"":0},` repeated), plus the body and its joined copy: what a request is admitted with before its body is read
# (at most the whole budget), given back down to the estimate once the body is scanned.
WORST_BYTES_PER_BYTE = 50
Reserve = Callable[[int], None]


class Charge(Protocol):
    """A request's claim on the admission budget (driftwatch.serve.admission.Ticket)."""

    def reserve(self, n: int) -> None:
        """Claim n more bytes of memory before allocating them; may wait, raises when refused."""

    def settle(self) -> None:
        """Give back what was reserved up front beyond what has been claimed."""


class _NoCharge:
    def reserve(self, n: int) -> None:
        return None

    def settle(self) -> None:
        return None


# For callers without an admission budget.
NO_CHARGE: Charge = _NoCharge()


def no_reserve(_: int) -> None:
    """A Reserve that holds nothing back: for callers without an admission budget."""
    return None


def admission_bytes(size: int) -> int:
    """What a body of `size` bytes may take before its scan tells more: reserved before it is read."""
    return size * WORST_BYTES_PER_BYTE + scan_bytes(size)


@dataclass(frozen=True)
class JsonScan:
    """Counts of a JSON document's tokens outside strings, from check_json: what parsing it will allocate."""

    containers: int = 0
    values: int = 0
    keys: int = 0
    strings: int = 0

    @property
    def parse_bytes(self) -> int:
        """An upper estimate of the memory orjson's objects (and the columns built from them) take."""
        return (
            CONTAINER_BYTES * self.containers
            + VALUE_BYTES * self.values
            + KEY_BYTES * self.keys
            + STRING_BYTES * self.strings
        )


def scan_bytes(size: int) -> int:
    """What check_json (or check_arrow) holds at once while it scans a body of `size` bytes."""
    return min(size, _CHUNK) * _SCAN_BYTES_PER_BYTE


def shaped_bytes(table: pa.Table, keep: Collection[str] | None) -> int:
    """An upper estimate of the table in the monitor's shape (features `keep`) and of what shaping it allocates."""
    features = len(keep) if keep is not None else table.num_columns
    strings = sum(
        1
        for field in table.schema
        if (keep is None or field.name in keep)
        and (pa.types.is_string(field.type) or pa.types.is_large_string(field.type))
    )
    return table.num_rows * (SHAPED_CELL_BYTES * (features + 1) + STRING_CELL_BYTES * strings)


def read_rows(
    body: bytes,
    content_type: str,
    content_encoding: str | None,
    limits: IngestLimits,
    keep: Collection[str] | None = None,
    charge: Charge = NO_CHARGE,
) -> ParsedRows:
    """Rows of an untrusted request body, every limit checked before the step it protects.

    `charge` is told, before each step, the bytes of memory it is about to take (decoding, parsing, shaping into the
    monitor's schema), so that an admission budget can hold the request back before they are allocated.
    """
    if len(body) > limits.max_body_bytes:
        raise limit_error(f"a body of {len(body)} bytes", "max_body_bytes", limits.max_body_bytes, 413)
    charge.reserve(scan_bytes(len(body)))
    data = decode_body(body, content_encoding, limits.max_decoded_bytes, charge.reserve)
    mime = media_type(content_type)[0]
    arrow = mime in ARROW_TYPES
    if arrow:
        _, parse = check_arrow(data, limits)  # buffers read (or decompressed) from the stream
    else:
        parse = check_json(data, limits).parse_bytes
        if mime in NDJSON_TYPES:
            parse += LINE_BYTES * (data.count(b"\n") + 1)
    charge.reserve(parse)
    charge.settle()
    parsed = parse_rows(data, content_type, limits, keep)
    check_table(parsed.table, limits)
    # JSON's objects are gone once the table is built: shaping may reuse their share; Arrow's buffers stay.
    built = 0 if arrow else parsed.table.nbytes - parse
    charge.reserve(shaped_bytes(parsed.table, keep) + built)
    return parsed


def limit_reason(exc: PayloadError) -> str:
    """The `reason` label of a refused request: the limit it exceeds, else 'payload'."""
    return exc.limit if exc.limit in LIMIT_NAMES else "payload"


def check_json(data: bytes, limits: IngestLimits) -> JsonScan:
    """Refuse JSON (or NDJSON) nested deeper than max_depth or holding a string longer than max_string_bytes.

    A linear scan in fixed-size steps, before any parser builds objects: orjson accepts 1,024 levels and Arrow's
    struct inference costs far more than the bytes of a deep value. Exact for valid JSON; what is not valid JSON is
    refused by the parser afterwards either way. Returns the tokens counted on the way, what parsing will cost.
    """
    depth = 0  # brackets open outside strings at the start of the chunk
    in_string = False
    pending = 0  # bytes of the string still open at the start of the chunk
    backslashes = 0  # the run of backslashes that ended the previous chunk
    quote_count = 0
    tokens = np.zeros(5, dtype=np.int64)  # by kind
    empty = 0
    open_at_end = False  # the previous chunk ended on an opening bracket: an empty pair may straddle the chunks
    view = np.frombuffer(data, np.uint8)
    for start in range(0, len(view), _CHUNK):
        c = view[start : start + _CHUNK]
        n = len(c)
        quotes = np.flatnonzero(c == _QUOTE)
        slashes = np.flatnonzero(c == _BACKSLASH)
        if len(slashes) or backslashes:
            quotes, backslashes = _unescaped(c, quotes, slashes, backslashes)
        else:
            backslashes = 0
        at = np.flatnonzero(_KIND[c])
        # A structural byte is inside a string when an odd number of quotes (counting one still open) precede it.
        at = at[(np.searchsorted(quotes, at) + in_string) & 1 == 0]
        kinds = _KIND[c[at]]
        levels = np.cumsum(_STEP[kinds], dtype=np.int64)
        if len(levels):
            deepest = depth + int(levels.max())
            if deepest > limits.max_depth:
                raise limit_error(f"JSON nested {deepest} levels deep", "max_depth", limits.max_depth)
            depth += int(levels[-1])
            tokens += np.bincount(kinds, minlength=len(tokens))
            # `[]` and `{}` hold no value (with whitespace between them they are counted as one: an overestimate).
            empty += int(np.count_nonzero((kinds[1:] == _CLOSE) & (kinds[:-1] == _OPEN) & (np.diff(at) == 1)))
            empty += int(open_at_end and at[0] == 0 and kinds[0] == _CLOSE)
        open_at_end = bool(len(at) and at[-1] == n - 1 and kinds[-1] == _OPEN)
        pending = _check_strings(quotes, n, in_string, pending, limits.max_string_bytes)
        quote_count += len(quotes)
        in_string = bool((len(quotes) + in_string) % 2)
    containers = int(tokens[_OPEN])
    # A value per element: one for the document, one per comma, one per container that is not empty.
    values = 1 + int(tokens[_COMMA]) + containers - empty
    return JsonScan(containers, values, int(tokens[_COLON]), quote_count // 2)


# The structural bytes by kind (0: any other byte), and the change in depth each kind makes.
_OPEN, _CLOSE, _COMMA, _COLON = 1, 2, 3, 4
_KIND = np.zeros(256, dtype=np.int8)
_KIND[list(_OPENERS)] = _OPEN
_KIND[list(_CLOSERS)] = _CLOSE
_KIND[ord(",")] = _COMMA
_KIND[ord(":")] = _COLON
_STEP = np.array([0, 1, -1, 0, 0], dtype=np.int8)


def _unescaped(c: np.ndarray, quotes: np.ndarray, slashes: np.ndarray, carried: int) -> tuple[np.ndarray, int]:
    """The quotes not escaped by an odd run of backslashes, and the run that ends the chunk (for the next one).

    Only quotes right after a backslash are looked at closely; they are few compared with the bytes.
    """
    n = len(c)
    first = np.zeros(0, dtype=np.int64)
    if len(slashes):
        starts = np.ones(len(slashes), dtype=bool)
        starts[1:] = np.diff(slashes) != 1
        first = slashes[np.maximum.accumulate(np.where(starts, np.arange(len(slashes)), 0))]  # where each run begins
    after = quotes > 0
    suspect = np.flatnonzero(after & (c[np.maximum(quotes - 1, 0)] == _BACKSLASH))
    keep = np.ones(len(quotes), dtype=bool)
    if len(suspect):
        q = quotes[suspect]
        begins = first[np.searchsorted(slashes, q - 1)]
        run = q - begins + np.where(begins == 0, carried, 0)
        keep[suspect] = run % 2 == 0
    if len(quotes) and quotes[0] == 0 and carried % 2:
        keep[0] = False
    tail = 0
    if len(slashes) and slashes[-1] == n - 1:
        tail = n - int(first[-1]) + (carried if first[-1] == 0 else 0)
    return quotes[keep], tail


def _check_strings(quotes: np.ndarray, n: int, in_string: bool, pending: int, limit: int) -> int:
    """Raise for a string longer than `limit` bytes (as sent); returns the length of the one still open at the end."""
    longest = 0
    if in_string:
        if not len(quotes):
            pending += n
            if pending > limit:
                raise limit_error(f"a JSON string of {pending}+ bytes", "max_string_bytes", limit)
            return pending
        longest = pending + int(quotes[0])
        quotes = quotes[1:]
    pairs = len(quotes) // 2
    if pairs:
        longest = max(longest, int((quotes[1 : 2 * pairs : 2] - quotes[0 : 2 * pairs : 2] - 1).max()))
    pending = n - int(quotes[-1]) - 1 if len(quotes) % 2 else 0
    longest = max(longest, pending)
    if longest > limit:
        raise limit_error(f"a JSON string of {longest}+ bytes", "max_string_bytes", limit)
    return pending


def check_table(table: pa.Table, limits: IngestLimits) -> None:
    """Refuse a parsed table with more rows or columns, or deeper types, than the limits allow."""
    if table.num_rows > limits.max_rows:
        raise limit_error(f"{table.num_rows} rows", "max_rows", limits.max_rows, 413)
    if table.num_columns > limits.max_columns:
        raise limit_error(f"{table.num_columns} columns", "max_columns", limits.max_columns)
    for field, column in zip(table.schema, table.columns, strict=True):
        depth = type_depth(field.type)
        if depth > limits.max_depth:
            raise limit_error(f"column '{field.name}' nested {depth} levels deep", "max_depth", limits.max_depth)
        if pa.types.is_dictionary(field.type) and _decoded_size(column) > limits.max_decoded_bytes:
            # Indices may repeat a long value: a stream of a few MB would decode to gigabytes.
            what = f"column '{field.name}' once its dictionary is decoded"
            raise limit_error(what, "max_decoded_bytes", limits.max_decoded_bytes, 413)


def _decoded_size(column: pa.ChunkedArray) -> int:
    """Bytes of values a dictionary column holds once decoded; 0 for fixed-width values (bounded by rows)."""
    value_type = column.type.value_type
    if not (pa.types.is_binary(value_type) or pa.types.is_string(value_type)) and not (
        pa.types.is_large_binary(value_type) or pa.types.is_large_string(value_type)
    ):
        return 0
    total = 0
    for chunk in column.chunks:
        lengths = pc.binary_length(chunk.dictionary).cast(pa.int64())
        total += pc.sum(pc.take(lengths, chunk.indices)).as_py() or 0
    return total


def type_depth(t: pa.DataType) -> int:
    """How many levels of lists and structs an Arrow type holds (a plain value is 0); iterative, so never too deep."""
    deepest, stack = 0, [(t, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((current.field(i).type, depth + 1) for i in range(current.num_fields))
    return deepest


def check_arrow(body: bytes, limits: IngestLimits) -> tuple[int, int]:
    """Refuse an Arrow stream whose batches declare more rows, or unpack to more bytes, than the limits allow.

    Read from each message's metadata before Arrow decodes it: a compressed buffer states the size it unpacks to,
    so a small stream cannot make the reader allocate gigabytes. What cannot be read is left to the Arrow reader.
    Returns the rows and bytes the batches declare.
    """
    try:
        messages = list(pa.ipc.MessageReader.open_stream(pa.py_buffer(body)))
    except (pa.ArrowException, OSError, ValueError):
        return 0, 0
    rows = size = 0
    for message in messages:
        try:
            declared = _batch_sizes(message)
        except (struct.error, IndexError, ValueError):
            continue
        if declared is None:
            continue
        rows += declared[0]
        size += declared[1]
        if rows > limits.max_rows:
            raise limit_error(f"{rows} rows", "max_rows", limits.max_rows, 413)
        if size > limits.max_decoded_bytes:
            raise limit_error("the decoded Arrow stream", "max_decoded_bytes", limits.max_decoded_bytes, 413)
    return rows, size


# Flatbuffers field ids (format/Message.fbs): Message.header_type/header, DictionaryBatch.data, RecordBatch.*.
_HEADER_TYPE, _HEADER, _DICTIONARY_DATA = 1, 2, 1
_LENGTH, _BUFFERS, _COMPRESSION = 0, 2, 3
_RECORD_BATCH, _DICTIONARY_BATCH = 3, 2


def _batch_sizes(message: pa.ipc.Message) -> tuple[int, int] | None:
    """(rows, bytes once decompressed) a record or dictionary batch message declares; None for other messages."""
    meta = memoryview(message.metadata)
    root = struct.unpack_from("<I", meta, 0)[0]
    kind = _field(meta, root, _HEADER_TYPE)
    if kind is None:
        return None
    kind = meta[kind]
    header = _table(meta, root, _HEADER)
    if kind == _DICTIONARY_BATCH and header is not None:
        header = _table(meta, header, _DICTIONARY_DATA)
    elif kind != _RECORD_BATCH:
        return None
    if header is None:
        return None
    at = _field(meta, header, _LENGTH)
    rows = struct.unpack_from("<q", meta, at)[0] if at is not None else 0
    buffers = _table(meta, header, _BUFFERS)  # a vector: its length, then (offset, length) int64 pairs
    count = struct.unpack_from("<I", meta, buffers)[0] if buffers is not None else 0
    compressed = _field(meta, header, _COMPRESSION) is not None
    body = memoryview(message.body) if message.body is not None else memoryview(b"")
    size = 0
    for i in range(count):
        offset, length = struct.unpack_from("<qq", meta, buffers + 4 + 16 * i)
        if compressed and length >= 8:
            unpacked = struct.unpack_from("<q", body, offset)[0]  # -1: this buffer was left uncompressed
            size += length - 8 if unpacked < 0 else unpacked
        else:
            size += length
    return max(rows, 0), size


def _field(meta: memoryview, table: int, field: int) -> int | None:
    """Where a field of a flatbuffers table is stored, None when absent."""
    vtable = table - struct.unpack_from("<i", meta, table)[0]
    vtable_size = struct.unpack_from("<H", meta, vtable)[0]
    if 4 + 2 * field >= vtable_size:
        return None
    offset = struct.unpack_from("<H", meta, vtable + 4 + 2 * field)[0]
    return table + offset if offset else None


def _table(meta: memoryview, table: int, field: int) -> int | None:
    """Where the table or vector a field points to starts, None when absent."""
    at = _field(meta, table, field)
    return None if at is None else at + struct.unpack_from("<I", meta, at)[0]
