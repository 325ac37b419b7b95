"""OOD summaries and exemplars in the history, on SQLite and PostgreSQL: round trip, queue, retention, migration."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from alembic import command
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from driftwatch.checks.results import CheckResult
from driftwatch.ood.results import Exemplar, OodResult
from driftwatch.storage import HistoryStore, ReferenceLike, alembic_config, without_exemplars
from driftwatch.storage.convert import fingerprint
from driftwatch.storage.outbox import Outbox, ReferenceInfo

EXEMPLARS = [
    Exemplar({"age": 131.0, "channel": "fax", "note": "sha256:00aa"}, ["out_of_range", "novel"], ["age"], 1e-4, 9.5),
    Exemplar({"age": 40.0, "channel": "pigeon"}, ["unseen_category"], ["channel"], 0.2, 1.0),
    Exemplar({"age": None, "channel": "web"}, ["unexpected_missing"], ["age"], None, None),
]
OOD = OodResult(
    rows=200,
    ood_rows=3,
    alpha=0.01,
    by_reason={"out_of_range": 1, "unseen_category": 1, "unexpected_missing": 1, "type_error": 0, "novel": 1},
    features={"age": 2, "channel": 1, "note": 0},
    reasons=["out_of_range", "unseen_category", "unexpected_missing", "type_error", "novel"],
    disabled={},
    exemplars=EXEMPLARS,
    duration_seconds=0.125,
)


def _with_ood(result: CheckResult, ood: OodResult | None = OOD, at: float | None = None) -> CheckResult:
    return replace(result, ood=ood, started_at=result.started_at if at is None else at)


def _record(store: HistoryStore, profile: ReferenceLike, result: CheckResult) -> int:
    store.record_reference(profile)
    return store.record_check(result, window_start=None, window_end=None, trigger="schedule")


def _count(raw: Engine, table: str) -> int:
    with raw.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_a_check_reads_back_with_its_ood_summary_and_exemplars(
    store: HistoryStore, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    check_id = _record(store, profile, _with_ood(result))
    got = store.get_check(check_id)
    assert got is not None and got.ood == OOD and got.ood_exemplars == 3
    assert got.to_result().ood == OOD
    assert got.to_result().to_dict()["ood"] == _with_ood(result).to_dict()["ood"]
    monitor, rows = store.get_exemplars(check_id) or ("", [])
    assert monitor == profile.monitor and [r.rank for r in rows] == [0, 1, 2]
    assert [r.to_exemplar() for r in rows] == EXEMPLARS
    assert rows[0].fingerprint == fingerprint(EXEMPLARS[0].values) and len({r.fingerprint for r in rows}) == 3
    assert {r.started_at for r in rows} == {result.started_at}
    (listed,) = [c for c in store.list_checks(profile.monitor) if c.id == check_id]
    assert listed.ood is not None and listed.ood.rate == OOD.rate and listed.ood.exemplars == []
    assert listed.ood_exemplars == 3


def test_without_ood_and_unknown_checks(
    store: HistoryStore, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    check_id = _record(store, profile, _with_ood(result, None))
    got = store.get_check(check_id)
    assert got is not None and got.ood is None and got.to_result().ood is None
    assert store.get_exemplars(check_id) == (profile.monitor, [])
    assert store.get_exemplars(check_id + 1000) is None


def test_store_exemplars_false_keeps_the_summary_only(
    store: HistoryStore, raw: Engine, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    check_id = _record(store, profile, without_exemplars(_with_ood(result)))
    got = store.get_check(check_id)
    assert got is not None and got.ood == replace(OOD, exemplars=[]) and got.ood_exemplars == 0
    assert _count(raw, "exemplars") == 0


def test_exemplars_of_a_period_and_retention(
    store: HistoryStore, raw: Engine, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    old = _record(store, profile, _with_ood(result, at=1000.0))
    new = _record(store, profile, _with_ood(result, at=2000.0))
    listed = store.list_exemplars(profile.monitor, since=1500.0)
    assert [(e.check_id, e.rank) for e in listed] == [(new, 0), (new, 1), (new, 2)]
    assert len(store.list_exemplars(profile.monitor)) == 6 and store.list_exemplars("nobody") == []
    assert store.delete_older_than(1500.0) == 1
    assert store.get_exemplars(old) is None
    with raw.connect() as conn:
        left = conn.execute(text("SELECT DISTINCT check_id FROM exemplars")).scalars().all()
    assert left == [new]


def test_the_queue_keeps_the_ood_summary_and_exemplars(
    tmp_path: Path, store: HistoryStore, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    info = ReferenceInfo(profile.monitor, profile.version, profile.source, profile.rows, profile.created_at)
    Outbox(tmp_path / "outbox").append(_with_ood(result), info, window_start=None, window_end=None, trigger="manual")
    pending = Outbox(tmp_path / "outbox").oldest()
    assert pending is not None and pending.result.ood == OOD
    store.record_reference(pending.reference)
    check_id = store.record_check(pending.result, window_start=None, window_end=None, trigger="manual")
    got = store.get_check(check_id)
    assert got is not None and got.ood == OOD


def test_downgrading_0003_keeps_the_checks(
    store: HistoryStore, raw: Engine, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    check_id = _record(store, profile, _with_ood(result))
    with raw.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0002")
        assert "exemplars" not in inspect(conn).get_table_names()
        assert "ood" not in {c["name"] for c in inspect(conn).get_columns("checks")}
    assert _count(raw, "checks") == 1
    store.upgrade()
    got = store.get_check(check_id)
    assert got is not None and got.ood is None and store.get_exemplars(check_id) == (profile.monitor, [])
