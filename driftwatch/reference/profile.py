"""Reference profiles: what checks reuse from the reference dataset, built once per version and cached."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from driftwatch.config import MonitorConfig, TextSettings
from driftwatch.errors import DataError
from driftwatch.reference import readers
from driftwatch.reference.schema import FeatureSchema, infer_schema
from driftwatch.reference.values import labels_aligned, numeric_aligned, to_labels, to_numeric
from driftwatch.reference.versions import active_reference
from driftwatch.types import Kind

# Bump when the cached layout or what it holds changes, so old caches are rebuilt rather than misread.
PROFILE_FORMAT = 6
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
# Whole reference rows kept with the profile, for what needs rows rather than columns (the novelty detector).
ROW_SAMPLE = 20_000


class ReferenceReadError(DataError):
    """A reference file that is listed but cannot be read (permissions, an I/O error, gone meanwhile)."""

    def __init__(self, path: Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: cannot read: {reason}")


@dataclass(frozen=True)
class NumericProfile:
    """Sorted finite reference values: an exact stand-in for the raw column in every order-free test."""

    values: np.ndarray
    n_unique: int
    min: float
    max: float
    mean: float
    std: float
    quantiles: dict[str, float]


@dataclass(frozen=True)
class CategoricalProfile:
    """Reference category frequencies, categories sorted as strings."""

    categories: np.ndarray
    counts: np.ndarray

    @property
    def n_unique(self) -> int:
        return len(self.categories)


@dataclass(frozen=True)
class TextProfile:
    """Reference texts in their original order (text drift trains a classifier on a seeded split of them)."""

    values: pa.Array
    length_mean: float
    length_p50: float
    length_p95: float


@dataclass(frozen=True)
class FeatureProfile:
    """One feature's reference statistics and the values its stat tests need."""

    schema: FeatureSchema
    rows: int
    missing: int
    non_finite: int
    type_errors: int
    numeric: NumericProfile | None = None
    categorical: CategoricalProfile | None = None
    text: TextProfile | None = None

    @property
    def name(self) -> str:
        return self.schema.name

    @property
    def kind(self) -> Kind:
        assert self.schema.kind is not None
        return self.schema.kind

    @property
    def valid(self) -> int:
        """Reference values the stat tests use (missing and non-finite dropped, as evidently does)."""
        return self.rows - self.missing - self.non_finite - self.type_errors

    @property
    def missing_rate(self) -> float:
        return self.missing / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class ReferenceProfile:
    """A monitor's reference dataset reduced to what checks reuse, keyed by the data's content hash."""

    monitor: str
    version: str
    source: str
    rows: int
    created_at: float
    features: list[FeatureProfile]
    skipped: list[FeatureSchema] = field(default_factory=list)
    # Path references: each file's SHA-256 when it was loaded, so a change on disk can name the file.
    file_digests: dict[str, str] = field(default_factory=dict)
    # The cache folder this profile was read from or written to; null distributions are kept beside it.
    cache_dir: str | None = None
    # Up to ROW_SAMPLE whole reference rows, drawn at random (seeded by the version), one column per numeric
    # (float64, NaN where missing or unreadable) and categorical (strings, null where missing) feature, then the
    # text signals derived on every one of these rows (`<feature>.<signal>`).
    row_sample: pa.Table | None = None
    # Derived features of the text features (`<feature>.<signal>`), profiled on the sampled rows' texts, and what
    # a signal keeps of the reference (the vocabulary for oov_rate), by derived name.
    signals: list[FeatureProfile] = field(default_factory=list)
    signal_states: dict[str, pa.Table] = field(default_factory=dict)
    # The text settings the signals were derived under; a check derives its rows' signals under the same.
    text: TextSettings | None = None

    @property
    def judged(self) -> list[FeatureProfile]:
        """The features a check compares: the monitored columns, then the derived text signals."""
        return self.features + self.signals

    @property
    def row_signals(self) -> list[FeatureProfile]:
        """The derived signals the row sample holds (all but those read on part of a sample), in profile order."""
        held = set(self.row_sample.column_names) if self.row_sample is not None else set()
        return [s for s in self.signals if s.name in held]

    def feature(self, name: str) -> FeatureProfile:
        for f in self.judged:
            if f.name == name:
                return f
        raise KeyError(name)


def build_profile(table: pa.Table, monitor: MonitorConfig, version: str, source: str) -> ReferenceProfile:
    """Profile a reference table: infer kinds, then compute each feature's statistics once."""
    if table.num_rows == 0:
        raise DataError(f"monitor '{monitor.name}': the reference {source} has no rows")
    schemas = infer_schema(table, monitor)
    features = [_profile_feature(table.column(s.name), s) for s in schemas if s.kind is not None]
    skipped = [s for s in schemas if s.kind is None]
    if not features:
        raise DataError(f"monitor '{monitor.name}': no column of {source} can be monitored")
    sampled = _sampled_rows(table, version)
    signals, states, values = _signal_profiles(sampled, features, monitor)
    sample = _row_sample(sampled, features, values)
    return ReferenceProfile(
        monitor.name,
        version,
        source,
        table.num_rows,
        time.time(),
        features,
        skipped,
        row_sample=sample,
        signals=signals,
        signal_states=states,
        text=monitor.text if signals else None,
    )


def _sampled_rows(table: pa.Table, version: str) -> pa.Table:
    """Up to ROW_SAMPLE rows of the reference, drawn at random, seeded by the version."""
    rows = table.num_rows
    if rows <= ROW_SAMPLE:
        return table
    seed = int.from_bytes(hashlib.sha256(version.encode()).digest()[:8], "little")
    idx = np.sort(np.random.default_rng(seed).choice(rows, ROW_SAMPLE, replace=False))
    return table.take(pa.array(idx))


def _signal_profiles(
    sampled: pa.Table, features: list[FeatureProfile], monitor: MonitorConfig
) -> tuple[list[FeatureProfile], dict[str, pa.Table], dict[str, pa.Array]]:
    """Each text feature's signals over the sampled rows, profiled as features of their own kind.

    Also returns the values of the signals computed on every sampled row (not code-switching, which reads the
    first `text.code_switching_rows`), by derived name.
    """
    from driftwatch.text.derive import reference_values, signal_name, texts_of  # loads the language models
    from driftwatch.text.signals import SIGNALS

    profiles: list[FeatureProfile] = []
    states: dict[str, pa.Table] = {}
    rows: dict[str, pa.Array] = {}
    for f in features:
        if f.kind != Kind.TEXT or not monitor.text.signals:
            continue
        for signal, (values, state) in reference_values(texts_of(sampled.column(f.name)), monitor.text).items():
            name = signal_name(f.name, signal)
            schema = FeatureSchema(name, SIGNALS[signal].kind, f"{signal} of text feature {f.name}", signal_of=f.name)
            profiles.append(_profile_feature(pa.chunked_array([values]), schema))
            if state is not None:
                states[name] = state
            if len(values) == sampled.num_rows:
                rows[name] = values
    return profiles, states, rows


def _row_sample(table: pa.Table, features: list[FeatureProfile], signals: dict[str, pa.Array]) -> pa.Table:
    """The sampled rows' numeric and categorical features, then their text signals (which join the distances)."""
    columns: dict[str, pa.Array] = {}
    for f in features:
        if f.kind == Kind.TEXT:  # texts are in the text profile; they join the distances through their signals
            continue
        raw = table.column(f.name)
        if f.kind == Kind.NUMERIC:
            columns[f.name] = pa.array(numeric_aligned(raw)[0], pa.float64())
        else:
            columns[f.name] = labels_aligned(raw, f.kind)[0]
    columns.update(signals)
    return pa.table(columns)


def _profile_feature(column: pa.ChunkedArray, schema: FeatureSchema) -> FeatureProfile:
    kind = schema.kind
    if kind == Kind.NUMERIC:
        nv = to_numeric(column)
        values = np.sort(nv.values, kind="stable")
        return FeatureProfile(schema, nv.rows, nv.missing, nv.non_finite, nv.type_errors, numeric=_numeric(values))
    labels = to_labels(column, kind)
    counts = dict(missing=labels.missing, non_finite=0, type_errors=labels.type_errors)
    if kind == Kind.CATEGORICAL:
        vc = pc.value_counts(labels.values)
        cats = vc.field("values").to_numpy(zero_copy_only=False).astype(object)
        order = np.argsort(cats.astype(str), kind="stable")
        cat = CategoricalProfile(cats[order], vc.field("counts").to_numpy().astype(np.int64)[order])
        return FeatureProfile(schema, labels.rows, categorical=cat, **counts)
    lengths = pc.utf8_length(labels.values).to_numpy(zero_copy_only=False).astype(np.float64)
    stats = (float(lengths.mean()), *np.quantile(lengths, [0.5, 0.95]).tolist()) if len(lengths) else (0, 0, 0)
    return FeatureProfile(schema, labels.rows, text=TextProfile(labels.values, *stats), **counts)


def _numeric(values: np.ndarray) -> NumericProfile:
    if len(values) == 0:
        nan = float("nan")
        return NumericProfile(values, 0, nan, nan, nan, nan, {})
    n_unique = int(np.count_nonzero(np.diff(values))) + 1
    qs = np.quantile(values, QUANTILES)
    return NumericProfile(
        values,
        n_unique,
        float(values[0]),
        float(values[-1]),
        float(np.mean(values)),
        float(np.std(values)),
        {f"p{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, qs, strict=True)},
    )


# ---- reading the reference and caching profiles -------------------------------------------------------


def load_profile(monitor: MonitorConfig, data_dir: Path, *, active: bool = True) -> ReferenceProfile:
    """The profile of the monitor's reference in use (a promoted version, else the configured one; with `active`
    false, the reference `monitor` names), from cache when its content and the feature config are unchanged."""
    if active:
        monitor = active_reference(monitor, data_dir)
    ref = monitor.reference
    cache_root = data_dir / "profiles" / monitor.name
    digests: dict[str, str] = {}
    if ref.path is not None:
        files = readers.resolve_files(ref.path)
        version, digests = hash_files(files, cache_root)
        table = None
        source = ref.path
    else:
        assert ref.query is not None and ref.url is not None
        table = readers.read_sql(ref.url, ref.query)
        version = _table_hash(table)
        source = "SQL query"
    folder = cache_root / f"{version}-{_config_hash(monitor)}"
    if (folder / "profile.json").exists():
        try:
            return replace(_read_cache(folder), file_digests=digests, cache_dir=str(folder))
        except (OSError, ValueError, KeyError, pa.ArrowInvalid):
            pass  # A damaged cache is rebuilt below.
    if table is None:
        table = readers.concat(readers.read_file(f, ref.format) for f in files)
    profile = build_profile(table, monitor, version, source)
    _write_cache(profile, folder)
    return replace(profile, file_digests=digests, cache_dir=str(folder))


def reference_files(monitor: MonitorConfig, data_dir: Path) -> tuple[str, dict[str, str]]:
    """A path reference's version and each file's SHA-256, without parsing it (unchanged files are not read)."""
    monitor = active_reference(monitor, data_dir)
    assert monitor.reference.path is not None
    return hash_files(readers.resolve_files(monitor.reference.path), data_dir / "profiles" / monitor.name)


def _config_hash(monitor: MonitorConfig) -> str:
    relevant = monitor.model_dump(mode="json", include={"features", "ignore", "prediction_columns"})
    # the signals derived, and the rows code-switching reads; the exported language count changes no profile
    relevant["text"] = monitor.text.model_dump(mode="json", exclude={"exported_languages"})
    relevant["format"] = PROFILE_FORMAT
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:8]


def hash_files(files: list[Path], cache_root: Path) -> tuple[str, dict[str, str]]:
    """Content version of the reference files and each file's digest; unchanged files (size, mtime) are not read."""
    index_path = cache_root / "file-hashes.json"
    try:
        index = json.loads(index_path.read_text())
    except (OSError, ValueError):
        index = {}
    total = hashlib.sha256()
    digests: dict[str, str] = {}
    changed = False
    for f in files:
        try:
            st = f.stat()
            key = f"{f.resolve()}|{st.st_size}|{st.st_mtime_ns}"
            digest = index.get(key)
            if digest is None:
                h = hashlib.sha256()
                with f.open("rb") as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
                digest = index[key] = h.hexdigest()
                changed = True
        except OSError as exc:
            raise ReferenceReadError(f, exc.strerror or type(exc).__name__) from exc
        digests[str(f)] = digest
        total.update(f.name.encode() + b"\0" + digest.encode())
    if changed:
        cache_root.mkdir(parents=True, exist_ok=True)
        _atomic_write(index_path, json.dumps(index, indent=1).encode())
    return total.hexdigest()[:16], digests


def _table_hash(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()[:16]


def _atomic_write(path: Path, data: bytes) -> None:
    # One temporary name per thread: the reference watch and a reload may write the index at once.
    tmp = path.with_suffix(path.suffix + f".tmp{os.getpid()}-{threading.get_ident()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _write_cache(profile: ReferenceProfile, folder: Path) -> None:
    tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    meta_features = _write_features(profile.features, tmp, "f")
    meta_signals = _write_features(profile.signals, tmp, "s")
    names = [f.name for f in profile.signals]
    for name, state in profile.signal_states.items():
        i = names.index(name)
        _write_arrow(tmp / f"state{i}.arrow", state)
        meta_signals[i]["state"] = f"state{i}.arrow"
    doc = {
        "format": PROFILE_FORMAT,
        "monitor": profile.monitor,
        "version": profile.version,
        "source": profile.source,
        "rows": profile.rows,
        "created_at": profile.created_at,
        "features": meta_features,
        "signals": meta_signals,
        "text": profile.text.model_dump(mode="json") if profile.text is not None else None,
        "skipped": [asdict(s) for s in profile.skipped],
    }
    if profile.row_sample is not None:
        _write_arrow(tmp / "rows.arrow", profile.row_sample)
    (tmp / "profile.json").write_text(json.dumps(doc, indent=1))
    if folder.exists():
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
        return
    os.replace(tmp, folder)


def _write_arrow(path: Path, table: pa.Table) -> None:
    with ipc.new_file(str(path), table.schema) as w:
        w.write_table(table)


def _read_arrow(path: Path) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        return ipc.open_file(source).read_all()


def _write_features(features: list[FeatureProfile], folder: Path, prefix: str) -> list[dict]:
    """Each feature's statistics (returned, for profile.json) and its values (`<prefix><i>.arrow`)."""
    out = []
    for i, f in enumerate(features):
        meta: dict = {
            "schema": asdict(f.schema),
            "rows": f.rows,
            "missing": f.missing,
            "non_finite": f.non_finite,
            "type_errors": f.type_errors,
        }
        if f.numeric is not None:
            meta["numeric"] = {k: v for k, v in asdict(f.numeric).items() if k != "values"}
            arrays = {"values": pa.array(f.numeric.values, pa.float64())}
        elif f.categorical is not None:
            arrays = {
                "categories": pa.array(f.categorical.categories.tolist(), pa.string()),
                "counts": pa.array(f.categorical.counts, pa.int64()),
            }
        else:
            assert f.text is not None
            meta["text"] = {k: v for k, v in asdict(f.text).items() if k != "values"}
            arrays = {"values": f.text.values}
        _write_arrow(folder / f"{prefix}{i}.arrow", pa.table(arrays))
        out.append(meta)
    return out


def _read_features(metas: list[dict], folder: Path, prefix: str) -> list[FeatureProfile]:
    features = []
    for i, meta in enumerate(metas):
        table = _read_arrow(folder / f"{prefix}{i}.arrow")
        common = {k: meta[k] for k in ("rows", "missing", "non_finite", "type_errors")}
        schema = _schema(meta["schema"])
        if "numeric" in meta:
            values = table.column("values").to_numpy()
            features.append(FeatureProfile(schema, numeric=NumericProfile(values=values, **meta["numeric"]), **common))
        elif "text" in meta:
            text = TextProfile(values=table.column("values").combine_chunks(), **meta["text"])
            features.append(FeatureProfile(schema, text=text, **common))
        else:
            cats = table.column("categories").to_numpy().astype(object)
            counts = table.column("counts").to_numpy()
            features.append(FeatureProfile(schema, categorical=CategoricalProfile(cats, counts), **common))
    return features


def _schema(d: dict) -> FeatureSchema:
    return FeatureSchema(**{**d, "kind": Kind(d["kind"]) if d["kind"] else None})


def _read_cache(folder: Path) -> ReferenceProfile:
    doc = json.loads((folder / "profile.json").read_text())
    if doc.get("format") != PROFILE_FORMAT:
        raise ValueError("old profile format")
    features = _read_features(doc["features"], folder, "f")
    signals = _read_features(doc["signals"], folder, "s")
    states = {m["schema"]["name"]: _read_arrow(folder / m["state"]) for m in doc["signals"] if "state" in m}
    row_sample = _read_arrow(folder / "rows.arrow")
    return ReferenceProfile(
        doc["monitor"],
        doc["version"],
        doc["source"],
        doc["rows"],
        doc["created_at"],
        features,
        [_schema(s) for s in doc["skipped"]],
        row_sample=row_sample,
        signals=signals,
        signal_states=states,
        text=TextSettings.model_validate(doc["text"]) if doc.get("text") else None,
    )
