"""Inference bodies as tables: KServe V1 (instances/predictions) and Open Inference Protocol V2 (inputs/outputs)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from driftwatch.ingest.payloads import PayloadError, RowError, describe, json_column, objects_to_table

_ARROW_TYPES: dict[str, pa.DataType] = {
    "BOOL": pa.bool_(),
    "INT8": pa.int8(),
    "INT16": pa.int16(),
    "INT32": pa.int32(),
    "INT64": pa.int64(),
    "UINT8": pa.uint8(),
    "UINT16": pa.uint16(),
    "UINT32": pa.uint32(),
    "UINT64": pa.uint64(),
    "FP16": pa.float16(),
    "FP32": pa.float32(),
    "FP64": pa.float64(),
    "BYTES": pa.string(),
}
BODY_KEYS: dict[str, tuple[str, str]] = {"request": ("instances", "inputs"), "response": ("predictions", "outputs")}
# The route key that names positional columns of each kind of body.
COLUMNS_KEY = {"request": "input_columns", "response": "output_columns"}
_SHAPE_HINT = (
    "expected 'instances' or 'inputs' (request) / 'predictions' or 'outputs' (response),"
    " or a Seldon message {'data': {'ndarray' or 'tensor'}}"
)


@dataclass(frozen=True)
class Decoded:
    """A body's rows; `positional` names the columns that got a made-up name because the body had none for them."""

    table: pa.Table
    errors: tuple[RowError, ...] = ()
    positional: tuple[str, ...] = ()
    key: str = ""


def inference_table(data: Any, kind: str, columns: Sequence[str]) -> pa.Table:
    """Rows of a KServe V1 or V2 body; positional columns are named by `columns`, or `input_<j>`-style names."""
    return decode_inference(data, kind, columns).table


def decode_inference(data: Any, kind: str, columns: Sequence[str], keep: Collection[str] | None = None) -> Decoded:
    """Rows of a KServe V1 or V2 body, with value notes and which columns had no name of their own.

    Keys of V1 objects outside `keep` (when given) become all-null columns: their values are never converted.
    """
    if kind not in BODY_KEYS:
        raise ValueError(f"kind must be 'request' or 'response', got {kind!r}")
    v1_key, v2_key = BODY_KEYS[kind]
    if isinstance(data, dict) and v1_key in data:
        return _v1_table(data[v1_key], v1_key, kind, list(columns), keep)
    if isinstance(data, dict) and v2_key in data:
        return _v2_table(data[v2_key], v2_key, kind, list(columns))
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        return _seldon_table(data["data"], kind, list(columns))
    got = f"keys {', '.join(sorted(data))}" if isinstance(data, dict) else describe(data)
    raise PayloadError(f"{_SHAPE_HINT}; got {got}")


def _v1_table(items: Any, key: str, kind: str, columns: list[str], keep: Collection[str] | None) -> Decoded:
    if not isinstance(items, list):
        raise PayloadError(f"'{key}' must be an array, got {describe(items)}")
    if not items:
        return Decoded(pa.table({}), key=key)
    shapes = [_item_shape(item) for item in items]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise PayloadError(f"{key}[{i}] is {describe(items[i])} but {key}[0] is {describe(items[0])}")
    if shapes[0] == "object":
        table, errors = objects_to_table(items, range(len(items)), keep=keep)
        return Decoded(table, tuple(errors), key=key)
    if shapes[0] == "scalar":
        default = "prediction" if kind == "response" else "input_0"
        names = _positional_names(columns, 1, key, kind, lambda _: default)
        table = pa.Table.from_arrays([json_column(items)], names=names)
        return Decoded(table, positional=_made_up(columns, names), key=key)
    width = len(items[0])
    for i, item in enumerate(items):
        if len(item) != width:
            raise PayloadError(f"{key}[{i}] has {len(item)} values but {key}[0] has {width}")
    prefix = "output" if kind == "response" else "input"
    names = _positional_names(columns, width, key, kind, lambda j: f"{prefix}_{j}")
    arrays = [json_column(list(values)) for values in zip(*items, strict=True)]
    return Decoded(pa.Table.from_arrays(arrays, names=names), positional=_made_up(columns, names), key=key)


def _seldon_table(message: dict[str, Any], kind: str, columns: list[str]) -> Decoded:
    """Seldon Core's own protocol: `ndarray` rows or a row-major `tensor`, named by `names`, else by `columns`."""
    names = message.get("names")
    if names is not None and not (isinstance(names, list) and all(isinstance(n, str) and n for n in names)):
        raise PayloadError(f"'data.names' must be an array of non-empty strings, got {describe(names)}")
    if "ndarray" in message:
        key, rows = "data.ndarray", message["ndarray"]
        if not isinstance(rows, list):
            raise PayloadError(f"'{key}' must be an array, got {describe(rows)}")
        rows = [row if isinstance(row, list) else [row] for row in rows]  # scalars: one column
    elif "tensor" in message:
        key, rows = "data.tensor", _seldon_tensor(message["tensor"])
    else:
        raise PayloadError(
            "a Seldon message needs 'data.ndarray' or 'data.tensor' (jsonData, strData, binData are not read)"
        )
    if not rows:
        return Decoded(pa.table({}), key=key)
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise PayloadError(f"{key}[{i}] has {len(row)} values but {key}[0] has {width}")
    prefix = "output" if kind == "response" else "input"
    if names:  # the message's own names win, as the keys of V1 objects do
        if len(names) != width:
            raise PayloadError(f"'data.names' has {len(names)} names but '{key}' has {width} columns")
        _no_duplicates(names, "data.names")
        out, made_up = names, ()
    else:
        out = _positional_names(columns, width, key, kind, lambda j: f"{prefix}_{j}")
        made_up = _made_up(columns, out)
    arrays = [json_column(list(values)) for values in zip(*rows, strict=True)]
    return Decoded(pa.Table.from_arrays(arrays, names=out), positional=made_up, key=key)


def _seldon_tensor(tensor: Any) -> list[list[Any]]:
    if not isinstance(tensor, dict) or not isinstance(tensor.get("values"), list):
        raise PayloadError("'data.tensor' must be an object with 'shape' and 'values' arrays")
    shape, values = tensor.get("shape"), tensor["values"]
    if not isinstance(shape, list) or not shape or not all(_dimension(d) for d in shape):
        raise PayloadError(f"'data.tensor.shape' must be an array of non-negative integers, got {describe(shape)}")
    if math.prod(shape) != len(values):
        raise PayloadError(f"'data.tensor': shape {shape} needs {math.prod(shape)} values but holds {len(values)}")
    width = math.prod(shape[1:])
    return [values[i * width : (i + 1) * width] for i in range(shape[0])] if width else []


def _dimension(d: Any) -> bool:
    return isinstance(d, int) and not isinstance(d, bool) and d >= 0


def _made_up(columns: list[str], names: list[str]) -> tuple[str, ...]:
    return () if columns else tuple(names)


def _item_shape(item: Any) -> str:
    if isinstance(item, dict):
        return "object"
    return "array" if isinstance(item, list) else "scalar"


def _positional_names(columns: list[str], width: int, key: str, kind: str, default: Callable[[int], str]) -> list[str]:
    if not columns:
        return [default(j) for j in range(width)]
    if len(columns) != width:
        raise PayloadError(
            f"{len(columns)} names are configured in {COLUMNS_KEY[kind]} but '{key}' has {width} positional columns"
        )
    _no_duplicates(columns, key)
    return columns


def _no_duplicates(names: list[str], key: str) -> None:
    duplicates = sorted(n for n, count in Counter(names).items() if count > 1)
    if duplicates:
        raise PayloadError(f"'{key}' would give several columns the name {', '.join(duplicates)}")


@dataclass(frozen=True)
class _Tensor:
    name: str
    rows: int
    width: int
    values: pa.Array


def _v2_table(tensors: Any, key: str, kind: str, columns: list[str]) -> Decoded:
    if not isinstance(tensors, list):
        raise PayloadError(f"'{key}' must be an array of tensors, got {describe(tensors)}")
    parsed = [_tensor(t, f"{key}[{i}]") for i, t in enumerate(tensors)]
    if not parsed:
        return Decoded(pa.table({}), key=key)
    for tensor in parsed[1:]:
        if tensor.rows != parsed[0].rows:
            raise PayloadError(
                f"tensor '{tensor.name}' has {tensor.rows} rows but tensor '{parsed[0].name}' has {parsed[0].rows}"
            )
    wide = sum(t.width for t in parsed if t.width > 1)
    total = sum(t.width for t in parsed)
    if columns and len(columns) not in (wide, total):
        raise PayloadError(
            f"{len(columns)} names are configured in {COLUMNS_KEY[kind]} but the tensors in '{key}' have {wide}"
            f" positional columns and {total} columns in all"
            " (name either the positional ones, or every column in order)"
        )
    # Names for every column rename single-column tensors too (e.g. output 'urgency' -> 'predicted_urgency').
    rename_all = bool(columns) and len(columns) == total
    names: list[str] = []
    made_up: list[str] = []
    arrays: list[pa.Array] = []
    positional = iter(columns)
    for tensor in parsed:
        if tensor.width == 1:
            names.append(next(positional) if rename_all else tensor.name)
            arrays.append(tensor.values)
            continue
        for j in range(tensor.width):
            names.append(next(positional) if columns else f"{tensor.name}_{j}")
            if not columns:
                made_up.append(names[-1])
            arrays.append(tensor.values.take(pa.array(range(j, tensor.rows * tensor.width, tensor.width))))
    _no_duplicates(names, key)
    return Decoded(pa.Table.from_arrays(arrays, names=names), positional=tuple(made_up), key=key)


def _tensor(spec: Any, where: str) -> _Tensor:
    if not isinstance(spec, dict):
        raise PayloadError(f"{where} must be a tensor object, got {describe(spec)}")
    for field in ("name", "shape", "datatype", "data"):
        if field not in spec:
            raise PayloadError(f"{where} is missing '{field}'")
    name, shape, datatype, data = spec["name"], spec["shape"], spec["datatype"], spec["data"]
    if not isinstance(name, str) or not name:
        raise PayloadError(f"{where}.name must be a non-empty string")
    if not isinstance(shape, list) or not all(_dimension(d) for d in shape):
        shown = repr(shape) if isinstance(shape, list) else describe(shape)
        raise PayloadError(f"tensor '{name}': shape must be an array of non-negative integers, got {shown}")
    if not isinstance(datatype, str):
        raise PayloadError(f"tensor '{name}': datatype must be a string, got {describe(datatype)}")
    arrow_type = _ARROW_TYPES.get(datatype)
    if arrow_type is None:
        raise PayloadError(f"tensor '{name}': unsupported datatype {datatype!r} (valid: {', '.join(_ARROW_TYPES)})")
    if not isinstance(data, list):
        raise PayloadError(f"tensor '{name}': data must be an array, got {describe(data)}")
    expected = math.prod(shape)
    if datatype == "BYTES" and len(data) == expected:
        flat = [" ".join(v) if isinstance(v, list) and all(isinstance(s, str) for s in v) else v for v in data]
    else:
        flat = _flatten(data)
    if len(flat) != expected:
        raise PayloadError(f"tensor '{name}': shape {shape} needs {expected} values but data holds {len(flat)}")
    rows = shape[0] if shape else 1
    width = math.prod(shape[1:]) if shape else 1
    return _Tensor(name, rows, width, _typed(flat, arrow_type, name, datatype))


def _flatten(data: list[Any]) -> list[Any]:
    if not any(isinstance(v, list) for v in data):
        return data
    flat: list[Any] = []
    for v in data:
        flat.extend(_flatten(v) if isinstance(v, list) else [v])
    return flat


def _typed(values: list[Any], arrow_type: pa.DataType, name: str, datatype: str) -> pa.Array:
    if datatype == "BYTES":
        for i, v in enumerate(values):
            if v is not None and not isinstance(v, str):
                raise PayloadError(f"tensor '{name}': BYTES element {i} is {describe(v)}, expected a string")
        return pa.array(values, pa.string())
    if any(isinstance(v, str | list | dict) for v in values):
        bad = next(v for v in values if isinstance(v, str | list | dict))
        raise PayloadError(f"tensor '{name}': {datatype} data holds {describe(bad)}")
    try:
        # Infer, then cast safely: a direct pa.array(type=int64) would silently truncate 1.5 to 1.
        return pa.array(values).cast(arrow_type)
    except (pa.ArrowException, OverflowError, TypeError, ValueError) as exc:
        raise PayloadError(f"tensor '{name}': data does not fit {datatype}: {exc}") from exc
