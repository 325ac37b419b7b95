"""Promotion: the window samples of stored checks become a monitor's new reference version (optionally merged)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from driftwatch.errors import DataError
from driftwatch.ood.redact import recorded_rules, rule_for
from driftwatch.reference import readers, versions
from driftwatch.reference.profile import FeatureProfile, ReferenceProfile, load_profile
from driftwatch.reference.values import labels_aligned, numeric_aligned
from driftwatch.reference.versions import HistoryEntry, VersionError
from driftwatch.storage.samples import read_sample, sample_info, sample_path
from driftwatch.types import Kind

if TYPE_CHECKING:
    from driftwatch.config import MonitorConfig
    from driftwatch.storage import CheckRecord, HistoryStore

# Checks a time range may take at most: a promotion reads every one of their samples.
MAX_RANGE_CHECKS = 10_000


@dataclass(frozen=True)
class Selection:
    """The checks whose samples are promoted: one check by id, or every check started in [since, until)."""

    check: int | None = None
    since: float | None = None
    until: float | None = None

    def __post_init__(self) -> None:
        ranged = self.since is not None or self.until is not None
        if (self.check is None) == (not ranged):
            raise VersionError("name one check, or a time range (from and to), not both and not neither", 422)
        if ranged and (self.since is None or self.until is None):
            raise VersionError("a time range needs both from and to", 422)
        if ranged and self.since >= self.until:  # type: ignore[operator]
            raise VersionError(f"the range is empty: from {self.since} is not before to {self.until}", 422)


def promote(
    monitor: MonitorConfig,
    data_dir: Path,
    store: HistoryStore,
    selection: Selection,
    *,
    reason: str,
    by: str,
    merge: bool = False,
    retention_days: float | None = None,
    clock: Callable[[], float] = time.time,
) -> HistoryEntry:
    """Make the selected checks' samples (with the current reference's rows, under `merge`) the active version.

    Refused (VersionError) when a check is unknown or has no sample, or a sample lacks a feature the reference
    needs: a redacted feature is never silently left out of a reference. The new version's profile is built
    before it becomes active, so a version that does not fit the monitor never does.
    """
    if not reason.strip():
        raise VersionError("give a reason: the history says why the reference changed", 422)
    name = monitor.name
    checks = _checks(store, name, selection)
    current = load_profile(monitor, data_dir)
    features = current.features
    for f in features:
        rule = rule_for(f.name, f.kind, monitor.ood)
        if rule != "keep":
            raise VersionError(
                f"monitor '{name}': feature '{f.name}' is redacted in window samples (ood.redact: {rule}), so they "
                f"cannot make a reference of it; set ood.redact.{f.name}: keep for the checks to come, then promote",
                422,
                "redacted_feature",
            )
    samples = [(c, _sample(data_dir, name, c, clock(), retention_days)) for c in checks]
    for c, table in samples:
        _written_unredacted(name, c.id, table, features)
    tables = [_shaped(table, features, c.id) for c, table in samples]
    rows = readers.concat(tables)
    if merge:
        rows = readers.concat([_shaped(_reference_rows(monitor, data_dir), features, None), rows])
    if rows.num_rows < monitor.drift.min_rows:
        raise VersionError(
            f"monitor '{name}': the samples hold {rows.num_rows} rows, fewer than drift.min_rows "
            f"({monitor.drift.min_rows}); take a longer range or --merge",
            422,
            "too_few_rows",
        )
    with versions.locked(data_dir, name) as root:
        version = _write_version(root, rows)
        previous = versions.active_version(data_dir, name)
        _fits(monitor, data_dir, version)
        entry = HistoryEntry(
            "promote",
            version,
            clock(),
            reason,
            by,
            previous,
            rows=rows.num_rows,
            merged=merge,
            checks=[c.id for c in checks],
            since=selection.since,
            until=selection.until,
        )
        versions.activate(data_dir, entry, name)
    return entry


def _checks(store: HistoryStore, monitor: str, selection: Selection) -> list[CheckRecord]:
    """The stored checks selected, oldest first; of several checks of one window only its last (the fullest)."""
    if selection.check is not None:
        found = store.get_check(selection.check)
        if found is None:
            raise VersionError(f"no stored check has id {selection.check}", 404, "unknown_check")
        if found.monitor != monitor:
            raise VersionError(f"check {selection.check} is of monitor '{found.monitor}', not '{monitor}'", 422)
        return [found]
    found_range = store.list_checks(monitor, selection.since, selection.until, limit=MAX_RANGE_CHECKS + 1)
    if not found_range:
        raise VersionError(
            f"monitor '{monitor}' has no stored check started in [{selection.since}, {selection.until})",
            404,
            "unknown_check",
        )
    if len(found_range) > MAX_RANGE_CHECKS:
        raise VersionError(f"the range holds more than {MAX_RANGE_CHECKS} checks; narrow it", 422)
    last: dict[float | None, CheckRecord] = {}
    for c in sorted(found_range, key=lambda c: (c.started_at, c.id)):
        # The checks of one open window each judged the rows so far: taking every one would count rows twice.
        last[c.window_start if c.window_start is not None else -float(c.id)] = c
    return sorted(last.values(), key=lambda c: c.started_at)


def _sample(data_dir: Path, monitor: str, check: CheckRecord, now: float, retention_days: float | None) -> pa.Table:
    """The window sample a check judged, or a refusal that says why there is none."""
    table = read_sample(sample_path(data_dir, monitor, check.started_at, check.trigger))
    if table is not None:
        return table
    if retention_days is not None and check.started_at < now - retention_days * 86400:
        why = f"its sample was pruned by retention (retention_days {retention_days:g})"
    else:
        why = f"its sample was {sample_info(data_dir, monitor, check.started_at, check.trigger).reason}"
    raise VersionError(f"check {check.id} of monitor '{monitor}' cannot be promoted: {why}", 409, "no_sample")


def _written_unredacted(monitor: str, check: int, table: pa.Table, features: list[FeatureProfile]) -> None:
    """Refuse a sample whose features were hashed or cut when it was written, whatever the rules are now."""
    recorded = recorded_rules(table) or {}
    for f in features:
        rule = recorded.get(f.name, "keep")
        if rule != "keep":
            raise VersionError(
                f"monitor '{monitor}': the sample of check {check} was written with ood.redact.{f.name}: {rule}, so "
                f"its '{f.name}' values are not the data; promote checks taken after ood.redact.{f.name} was set to "
                "keep",
                422,
                "redacted_feature",
            )


def _shaped(table: pa.Table, features: list[FeatureProfile], check: int | None) -> pa.Table:
    """The features' columns in the live rows' types (float64 numeric, strings otherwise); a missing one refused."""
    columns: dict[str, pa.Array] = {}
    for f in features:
        if f.name not in table.column_names:
            whose = "the current reference" if check is None else f"the sample of check {check}"
            raise VersionError(
                f"{whose} lacks feature '{f.name}', which the reference needs; it is not promoted without it",
                422,
                "missing_feature",
            )
        raw = table.column(f.name)
        if f.kind == Kind.NUMERIC:
            columns[f.name] = pa.array(numeric_aligned(raw)[0], pa.float64())
        else:
            columns[f.name] = labels_aligned(raw, f.kind)[0]
    return pa.table(columns)


def _reference_rows(monitor: MonitorConfig, data_dir: Path) -> pa.Table:
    """The rows of the reference in use, read as its profile reads them."""
    ref = versions.active_reference(monitor, data_dir).reference
    if ref.path is not None:
        return readers.concat(readers.read_file(f, ref.format) for f in readers.resolve_files(ref.path))
    assert ref.query is not None and ref.url is not None
    return readers.read_sql(ref.url, ref.query)


def _write_version(root: Path, rows: pa.Table) -> str:
    """Write the rows as a new version's file (kept as it is when that content was promoted before)."""
    tmp = root / f".promoting{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    try:
        part = tmp / versions.FILE_NAME
        pq.write_table(rows, part)
        version = versions.version_of(part)
        target = root / version
        if not (target / versions.FILE_NAME).is_file():
            target.mkdir(exist_ok=True)
            os.replace(part, target / versions.FILE_NAME)
        return version
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()


def _fits(monitor: MonitorConfig, data_dir: Path, version: str) -> ReferenceProfile:
    """Profile the new version before it becomes active (and cache it for the daemon's reload)."""
    path = versions.version_file(data_dir, monitor.name, version)
    try:
        return load_profile(versions.reading(monitor, path), data_dir, active=False)
    except DataError as exc:
        raise VersionError(f"the promoted rows do not fit monitor '{monitor.name}': {exc}", 422) from None
