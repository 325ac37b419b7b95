"""The history store, run against SQLite and PostgreSQL: round trips, listing, retention, file progress, errors."""

from __future__ import annotations

import math
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from alembic import command
from checks.samples import threshold_check
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from driftwatch.checks.results import CheckResult, FeatureResult
from driftwatch.storage import (
    CheckRecord,
    FeatureRecord,
    HistoryStore,
    MonitorSummary,
    ReferenceLike,
    StorageError,
    UnknownReferenceError,
    alembic_config,
)
from driftwatch.storage.store import SCHEMA_REVISION
from driftwatch.types import Kind, MultipleTesting, Status

INF, NAN = math.inf, math.nan


def _stored(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def _expected_feature(got: FeatureRecord, f: FeatureResult) -> FeatureRecord:
    q = f.quality
    return FeatureRecord(
        id=got.id,
        name=f.name,
        kind=f.kind,
        method=f.method,
        score=_stored(f.score),
        score_kind=f.score_kind,
        p_value=_stored(f.p_value),
        adjusted_p_value=_stored(f.adjusted_p_value),
        threshold=_stored(f.threshold),
        threshold_drifted=f.threshold_drifted,
        decision=f.decision,
        calibration=f.calibration,
        missing_p_value=_stored(f.missing_p_value),
        level=_stored(f.level),
        drifted=f.drifted,
        status=f.status,
        reference_rows=f.reference_rows,
        current_rows=f.current_rows,
        prediction=f.prediction,
        message=f.message,
        missing_rate=_stored(q.missing_rate),
        reference_missing_rate=_stored(q.reference_missing_rate),
        type_error_rate=_stored(q.type_error_rate),
        unseen_category_rate=_stored(q.unseen_category_rate),
        out_of_range_rate=_stored(q.out_of_range_rate),
    )


def _assert_stored(
    got: CheckRecord | None,
    result: CheckResult,
    *,
    window: tuple[float | None, float | None],
    trigger: str,
    error: str | None = None,
) -> None:
    assert got is not None and got.features is not None
    expected = CheckRecord(
        id=got.id,
        monitor=result.monitor,
        reference_version=result.reference_version,
        started_at=result.started_at,
        duration_seconds=result.duration_seconds,
        window_start=window[0],
        window_end=window[1],
        rows=result.rows,
        status=result.status,
        dataset_drift=result.dataset_drift,
        drift_share=result.drift_share,
        drift_share_threshold=result.drift_share_threshold,
        drifted_features=result.drifted_features,
        judged_features=result.judged_features,
        multiple_testing=result.multiple_testing,
        decision=result.decision,
        alpha=_stored(result.alpha),
        look_share=result.look_share,
        level=_stored(result.level),
        trigger=trigger,
        error=error,
        features=tuple(_expected_feature(g, f) for g, f in zip(got.features, result.features, strict=True)),
    )
    assert got == expected


def _at(result: CheckResult, started_at: float, monitor: str | None = None) -> CheckResult:
    return replace(result, started_at=started_at, monitor=monitor or result.monitor)


@pytest.fixture
def profile(profile_and_check: tuple[ReferenceLike, CheckResult]) -> ReferenceLike:
    return profile_and_check[0]


@pytest.fixture
def result(profile_and_check: tuple[ReferenceLike, CheckResult]) -> CheckResult:
    return profile_and_check[1]


# ---- schema --------------------------------------------------------------------------------------------


def test_upgrade_creates_the_folder_and_a_second_upgrade_changes_nothing(
    db_url: str, raw: Engine, profile: ReferenceLike, result: CheckResult
) -> None:
    with HistoryStore(db_url) as store:
        store.upgrade()
        assert store.ping()
        store.record_reference(profile)
        check_id = store.record_check(result, window_start=None, window_end=None, trigger="cli")
        store.upgrade()
        assert store.get_check(check_id) is not None
    with raw.connect() as conn:
        assert conn.scalar(text("SELECT version_num FROM alembic_version")) == SCHEMA_REVISION
        assert conn.scalar(text("SELECT count(*) FROM alembic_version")) == 1
        if raw.dialect.name == "sqlite":
            assert conn.scalar(text("PRAGMA journal_mode")) == "wal"


def test_concurrent_upgrades_of_an_empty_database_both_succeed(db_url: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with HistoryStore(db_url) as s:
                s.upgrade()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with HistoryStore(db_url) as store:
        assert store.list_monitors() == []


def test_sqlite_memory_database_works(profile: ReferenceLike, result: CheckResult) -> None:
    with HistoryStore("sqlite://") as store:
        store.upgrade()
        store.record_reference(profile)
        check_id = store.record_check(result, window_start=1.0, window_end=2.0, trigger="manual")
        _assert_stored(store.get_check(check_id), result, window=(1.0, 2.0), trigger="manual")


# ---- checks ----------------------------------------------------------------------------------------------


def test_check_round_trips_every_field(store: HistoryStore, profile: ReferenceLike, result: CheckResult) -> None:
    assert [f.status for f in result.features] == [
        Status.OK,
        Status.OK,
        Status.MISSING_COLUMN,
        Status.MOSTLY_MISSING,
        Status.OK,
        Status.ERROR,
    ]
    assert result.decision == "calibrated" and result.features[4].prediction
    store.record_reference(profile)
    check_id = store.record_check(result, window_start=100.5, window_end=1000.25, trigger="schedule")
    got = store.get_check(check_id)
    _assert_stored(got, result, window=(100.5, 1000.25), trigger="schedule")
    assert got is not None and got.to_result() == result
    assert got.to_result().to_dict() == result.to_dict()
    assert store.get_check(check_id + 1000) is None


def test_a_threshold_check_round_trips(store: HistoryStore, profile: ReferenceLike) -> None:
    result = threshold_check()
    store.record_reference(profile)
    check_id = store.record_check(result, window_start=None, window_end=None, trigger="cli")
    got = store.get_check(check_id)
    _assert_stored(got, result, window=(None, None), trigger="cli")
    assert got is not None and got.to_result() == result
    assert got.to_result().to_dict() == result.to_dict()
    assert got.to_result().to_dict()["decision"] == {
        "rule": "threshold",
        "alpha": None,
        "look_share": 1.0,
        "level": None,
    }
    listed = store.list_checks("t")[0]
    assert (listed.decision, listed.alpha, listed.look_share, listed.level) == ("threshold", None, 1.0, None)


def test_checks_stored_before_decisions_read_as_threshold_checks(
    store: HistoryStore, raw: Engine, profile: ReferenceLike, result: CheckResult
) -> None:
    """A check stored at revision 0001 comes back through 0002 with NULL columns: a single-look threshold check."""
    store.record_reference(profile)
    check_id = store.record_check(result, window_start=None, window_end=None, trigger="cli")
    with raw.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
        assert "decision" not in {c["name"] for c in inspect(conn).get_columns("checks")}
        command.upgrade(cfg, "head")
    got = store.get_check(check_id)
    assert got is not None and got.features is not None
    assert (got.decision, got.alpha, got.look_share, got.level) == ("threshold", None, 1.0, None)
    decisions = {f.name: f.decision for f in got.features}
    # Judged statuses were threshold decisions; the rest (mostly_missing did not exist, error) were not judged.
    assert decisions == {
        "a": "threshold",
        "b": "threshold",
        "c": "threshold",
        "m": "none",
        "p": "threshold",
        "x": "none",
    }
    a = got.features[0]
    assert (a.threshold_drifted, a.calibration, a.missing_p_value, a.level) == (None, None, None, None)
    # What 0001 stored is untouched, the p-value included.
    assert (a.score, a.p_value, a.adjusted_p_value, a.drifted) == (0.31, 0.0004, 0.0016, True)
    old = got.to_result()
    assert old.to_dict()["decision"] == {"rule": "threshold", "alpha": None, "look_share": 1.0, "level": None}
    assert old.features[0].p_value == 0.0004 and old.features[0].decision == "threshold"


def test_none_and_non_finite_values_are_stored_as_null(
    store: HistoryStore, raw: Engine, profile: ReferenceLike, result: CheckResult
) -> None:
    a, b, c, m, p, x = result.features
    odd = replace(
        result,
        alpha=NAN,
        level=INF,
        features=[
            replace(a, score=INF, threshold=NAN, level=NAN, quality=replace(a.quality, out_of_range_rate=-INF)),
            replace(b, score=NAN, adjusted_p_value=INF, quality=replace(b.quality, unseen_category_rate=NAN)),
            replace(c, message=""),
            replace(m, p_value=NAN, missing_p_value=-INF),
            replace(p, score=-INF, adjusted_p_value=None, quality=replace(p.quality, missing_rate=NAN)),
            x,
        ],
    )
    store.record_reference(profile)
    check_id = store.record_check(odd, window_start=NAN, window_end=None, trigger="manual", error="reader timed out")
    got = store.get_check(check_id)
    _assert_stored(got, odd, window=(None, None), trigger="manual", error="reader timed out")
    assert got is not None and got.features is not None
    assert got.alpha is None and got.level is None
    assert got.features[0].score is None and got.features[1].adjusted_p_value is None
    assert got.features[2].method is None and got.features[3].missing_p_value is None
    with raw.connect() as conn:
        # NULL in the database itself, not NaN or Infinity, which PostgreSQL would happily store.
        nulls = conn.execute(
            text(
                "SELECT name, score IS NULL, threshold IS NULL, adjusted_p_value IS NULL, out_of_range_rate IS NULL,"
                " unseen_category_rate IS NULL, missing_rate IS NULL, p_value IS NULL, missing_p_value IS NULL,"
                " level IS NULL FROM feature_results ORDER BY id"
            )
        ).all()
        assert [tuple(r) for r in nulls] == [
            ("a", True, True, False, True, True, False, False, False, True),
            ("b", True, False, True, True, True, False, False, False, False),
            ("c", True, True, True, True, True, False, True, True, False),
            ("m", True, True, False, True, True, False, True, True, False),
            ("p", True, False, True, True, False, True, False, False, False),
            ("x", True, False, True, False, True, False, True, True, True),
        ]
        assert conn.scalar(text("SELECT count(*) FROM checks WHERE window_start IS NULL")) == 1
        assert tuple(conn.execute(text("SELECT alpha IS NULL, level IS NULL, look_share FROM checks")).one()) == (
            True,
            True,
            0.5,
        )


def test_record_check_needs_a_recorded_reference(store: HistoryStore, result: CheckResult) -> None:
    with pytest.raises(UnknownReferenceError) as err:
        store.record_check(result, window_start=None, window_end=None, trigger="cli")
    assert str(err.value) == (
        f"history database {store.url}: monitor 't' has no recorded reference version 'v1'"
        " (call record_reference(profile) before record_check)"
    )
    assert store.list_checks("t") == []


def test_record_reference_is_idempotent(store: HistoryStore, profile: ReferenceLike) -> None:
    first = store.record_reference(profile)
    assert store.record_reference(profile) == first
    assert store.record_reference(replace(profile, version="v2")) != first
    assert store.list_monitors() == [MonitorSummary("t", None, None, None, None)]


def test_record_check_rejects_bad_arguments(store: HistoryStore, profile: ReferenceLike, result: CheckResult) -> None:
    store.record_reference(profile)
    with pytest.raises(ValueError, match=r"^unknown trigger 'cron' \(valid: schedule, window_close, manual, cli\)$"):
        store.record_check(result, window_start=None, window_end=None, trigger="cron")
    with pytest.raises(ValueError, match=r"^window_start 2.0 is after window_end 1.0$"):
        store.record_check(result, window_start=2.0, window_end=1.0, trigger="cli")
    with pytest.raises(ValueError, match=r"^started_at must be a finite number, got nan$"):
        store.record_check(replace(result, started_at=NAN), window_start=None, window_end=None, trigger="cli")
    with pytest.raises(ValueError, match=r"^limit must be at least 1, got 0$"):
        store.list_checks("t", limit=0)


def test_list_checks_filters_orders_and_limits(
    store: HistoryStore, profile: ReferenceLike, result: CheckResult
) -> None:
    store.record_reference(profile)
    store.record_reference(replace(profile, monitor="u"))
    ids = {
        t: store.record_check(_at(result, t), window_start=t - 60, window_end=t, trigger="schedule")
        for t in (3000.0, 1000.0, 2000.0, 4000.0)
    }
    tie = store.record_check(_at(result, 3000.0), window_start=None, window_end=None, trigger="manual")
    store.record_check(_at(result, 5000.0, "u"), window_start=None, window_end=None, trigger="cli")

    def listed(**kw: float | int | None) -> list[int]:
        return [c.id for c in store.list_checks("t", **kw)]  # type: ignore[arg-type]

    assert listed() == [ids[4000.0], tie, ids[3000.0], ids[2000.0], ids[1000.0]]
    assert listed(since=2000.0) == [ids[4000.0], tie, ids[3000.0], ids[2000.0]]
    assert listed(until=3000.0) == [ids[2000.0], ids[1000.0]]
    assert listed(since=2000.0, until=4000.0) == [tie, ids[3000.0], ids[2000.0]]
    assert listed(limit=2) == [ids[4000.0], tie]
    assert listed(since=9000.0) == []
    assert store.list_checks("nobody") == []
    first = store.list_checks("t", limit=1)[0]
    assert first.features is None and first.window_start == 3940.0 and first.trigger == "schedule"
    with pytest.raises(ValueError, match="loaded without its features"):
        first.to_result()


def test_list_check_features_reads_several_checks_as_get_check_does(
    store: HistoryStore, profile: ReferenceLike, result: CheckResult
) -> None:
    store.record_reference(profile)
    a = store.record_check(_at(result, 1000.0), window_start=None, window_end=None, trigger="manual")
    b = store.record_check(_at(result, 2000.0), window_start=None, window_end=None, trigger="manual")
    found = store.list_check_features([b, a, 999_999])
    assert set(found) == {a, b, 999_999} and found[999_999] == ()
    for check_id in (a, b):
        assert found[check_id] == store.get_check(check_id).features  # type: ignore[union-attr]
        assert [f.name for f in found[check_id]] == [f.name for f in result.features]
    assert store.list_check_features([]) == {}


def test_list_monitors_shows_each_monitors_latest_check(
    store: HistoryStore, profile: ReferenceLike, result: CheckResult
) -> None:
    assert store.list_monitors() == []
    for name in ("zeta", "alpha", "idle"):
        store.record_reference(replace(profile, monitor=name))
    store.record_check(_at(result, 2000.0, "zeta"), window_start=None, window_end=None, trigger="cli")
    calm = replace(result, monitor="zeta", started_at=1000.0, dataset_drift=False, status=Status.INSUFFICIENT_DATA)
    store.record_check(calm, window_start=None, window_end=None, trigger="cli")
    first = store.record_check(_at(result, 1500.0, "alpha"), window_start=None, window_end=None, trigger="cli")
    latest = store.record_check(_at(result, 1500.0, "alpha"), window_start=None, window_end=None, trigger="cli")
    zeta = store.list_checks("zeta")
    assert latest > first
    assert store.list_monitors() == [
        MonitorSummary("alpha", latest, 1500.0, Status.OK, True),
        MonitorSummary("idle", None, None, None, None),
        MonitorSummary("zeta", zeta[0].id, 2000.0, Status.OK, True),
    ]


def test_retention_deletes_old_checks_and_their_features(
    store: HistoryStore, raw: Engine, profile: ReferenceLike, result: CheckResult
) -> None:
    store.record_reference(profile)
    old = [store.record_check(_at(result, t), window_start=None, window_end=None, trigger="cli") for t in (1.0, 2.0)]
    kept = store.record_check(_at(result, 3.0), window_start=None, window_end=None, trigger="cli")
    assert store.delete_older_than(3.0) == 2
    assert store.delete_older_than(3.0) == 0
    assert [store.get_check(i) for i in old] == [None, None]
    assert [c.id for c in store.list_checks("t")] == [kept]
    with raw.connect() as conn:
        rows = conn.execute(text("SELECT DISTINCT check_id FROM feature_results")).scalars().all()
        assert rows == [kept]
        assert conn.scalar(text("SELECT count(*) FROM feature_results")) == len(result.features)


def test_concurrent_writers_and_readers(db_url: str, profile: ReferenceLike, result: CheckResult) -> None:
    with HistoryStore(db_url) as setup:
        setup.upgrade()
        setup.record_reference(profile)
    errors: list[BaseException] = []
    writers, per_writer = 4, 8

    def write(n: int) -> None:
        try:
            with HistoryStore(db_url) as s:
                for i in range(per_writer):
                    s.record_check(_at(result, n * 100.0 + i), window_start=None, window_end=None, trigger="cli")
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            with HistoryStore(db_url) as s:
                for _ in range(per_writer):
                    for c in s.list_checks("t", limit=5):
                        assert s.get_check(c.id) is not None
                    s.list_monitors()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    threads += [threading.Thread(target=read) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with HistoryStore(db_url) as s:
        assert len(s.list_checks("t", limit=1000)) == writers * per_writer


# ---- file-ingestion progress -------------------------------------------------------------------------


def test_file_progress_ingests_each_file_version_once_across_restarts(db_url: str) -> None:
    with HistoryStore(db_url) as store:
        store.upgrade()
        assert not store.file_seen("t", "/in/a.csv", 10, 111)
        store.mark_file("t", "/in/a.csv", 10, 111, rows=3)
        store.mark_file("t", Path("/in/b.csv"), 20, 222, rows=5)
        assert store.file_seen("t", "/in/a.csv", 10, 111)
        assert store.file_seen("t", Path("/in/b.csv"), 20, 222)
    with HistoryStore(db_url) as restarted:
        assert restarted.file_seen("t", "/in/a.csv", 10, 111)
        assert not restarted.file_seen("other", "/in/a.csv", 10, 111)
        assert not restarted.file_seen("t", "/in/a.csv", 12, 111)
        assert not restarted.file_seen("t", "/in/a.csv", 10, 999)
        # A rewritten file counts as new once, then as seen.
        restarted.mark_file("t", "/in/a.csv", 12, 333, rows=4)
        assert restarted.file_seen("t", "/in/a.csv", 12, 333)
        assert not restarted.file_seen("t", "/in/a.csv", 10, 111)
        assert [m.name for m in restarted.list_monitors()] == ["t"]


# ---- errors ----------------------------------------------------------------------------------------------


def test_unreachable_postgresql_raises_storage_error_with_masked_password() -> None:
    url = "postgresql+psycopg://u:secret@127.0.0.1:1/x"
    with HistoryStore(url) as store:
        assert store.url == "postgresql+psycopg://u:***@127.0.0.1:1/x"
        assert "secret" not in repr(store)
        assert not store.ping()
        calls = [store.upgrade, store.list_monitors, lambda: store.list_checks("t"), lambda: store.get_check(1)]
        for call in calls:
            with pytest.raises(StorageError) as err:
                call()
            message = str(err.value)
            assert message.startswith("history database postgresql+psycopg://u:***@127.0.0.1:1/x: ")
            assert "failed: connection failed" in message and "secret" not in message
            assert err.value.url == store.url


def test_unusable_sqlite_path_raises_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with HistoryStore(f"sqlite:///{blocker}/sub/h.db") as store:
        assert not store.ping()
        with pytest.raises(StorageError, match=r"^history database sqlite:///.*/file/sub/h.db: cannot create folder"):
            store.upgrade()


def test_missing_schema_says_how_to_create_it(db_url: str) -> None:
    if db_url.startswith("sqlite"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True)
    with HistoryStore(db_url) as store, pytest.raises(StorageError) as err:
        store.list_checks("t")
    assert str(err.value).endswith("(the schema is missing or outdated: run `driftwatch db upgrade`)")
    assert str(err.value).startswith(f"history database {store.url}: listing checks failed: ")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql+psycopg://u:secret@127.0.0.1:notaport/x", "not a valid database URL"),
        ("not-a-url", "not a valid database URL"),
        ("mysql://u:secret@localhost/x", "unsupported database 'mysql'"),
    ],
)
def test_malformed_or_unsupported_url_raises_storage_error(url: str, problem: str) -> None:
    with pytest.raises(StorageError) as err:
        HistoryStore(url)
    assert problem in str(err.value)
    assert "e.g. sqlite:///data/driftwatch.db or postgresql+psycopg://" in str(err.value)
    assert "secret" not in str(err.value)


def test_records_and_enums_are_typed(store: HistoryStore, profile: ReferenceLike, result: CheckResult) -> None:
    store.record_reference(profile)
    got = store.get_check(store.record_check(result, window_start=None, window_end=None, trigger="cli"))
    assert got is not None and got.features is not None
    assert type(got.status) is Status and type(got.multiple_testing) is MultipleTesting
    assert got.multiple_testing == MultipleTesting.BH
    assert [type(f.kind) for f in got.features] == [Kind] * len(result.features)
    assert [type(f.status) for f in got.features] == [Status] * len(result.features)
    assert type(got.features[0].threshold_drifted) is bool and got.features[5].threshold_drifted is None
    assert all(type(x) is float for x in (got.alpha, got.look_share, got.level, got.features[0].level))
    assert all(type(x) is float for x in (got.started_at, got.drift_share, got.features[0].score))
    with pytest.raises(AttributeError):
        got.rows = 1  # type: ignore[misc]
