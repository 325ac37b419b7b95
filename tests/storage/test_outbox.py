"""The outbox of checks waiting for the database: exact round trip, order across reopening, idempotent replay."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from services.postgres import free_port
from sqlalchemy import text
from sqlalchemy.engine import Engine

from driftwatch.checks.engine import CheckResult
from driftwatch.reference.profile import ReferenceProfile
from driftwatch.storage import HistoryStore, StorageUnavailableError
from driftwatch.storage.outbox import Outbox, ReferenceInfo


@pytest.fixture
def profile(profile_and_check: tuple[ReferenceProfile, CheckResult]) -> ReferenceProfile:
    return profile_and_check[0]


@pytest.fixture
def result(profile_and_check: tuple[ReferenceProfile, CheckResult]) -> CheckResult:
    return profile_and_check[1]


def _info(profile: ReferenceProfile) -> ReferenceInfo:
    return ReferenceInfo(profile.monitor, profile.version, profile.source, profile.rows, profile.created_at)


def test_queued_checks_come_back_equal_and_in_order_after_reopening(
    tmp_path: Path, profile_and_check: tuple[ReferenceProfile, CheckResult]
) -> None:
    profile, result = profile_and_check
    box = Outbox(tmp_path / "outbox")
    results = [replace(result, started_at=result.started_at + i) for i in range(3)]
    for i, r in enumerate(results):
        box.append(r, _info(profile), window_start=float(i), window_end=None, trigger="schedule")
    (tmp_path / "outbox" / "000000000009.tmp").write_bytes(b"{torn")  # a write cut before its rename
    box = Outbox(tmp_path / "outbox")
    assert len(box) == 3 and not list((tmp_path / "outbox").glob("*.tmp"))
    for i, r in enumerate(results):
        pending = box.oldest()
        assert pending is not None
        # NaN scores survive too: compared by repr, where nan equals nan.
        assert repr(pending.result) == repr(r) and pending.window_start == float(i)
        assert pending.reference == _info(profile)
        box.remove(pending.seq)
    assert box.oldest() is None and len(box) == 0
    seq = box.append(result, _info(profile), window_start=None, window_end=None, trigger="manual")
    assert seq == 4  # numbering goes on, so a new entry never sorts before an older one


def test_an_unreadable_entry_is_set_aside(
    tmp_path: Path, profile_and_check: tuple[ReferenceProfile, CheckResult]
) -> None:
    profile, result = profile_and_check
    box = Outbox(tmp_path / "outbox")
    box.append(result, _info(profile), window_start=None, window_end=None, trigger="schedule")
    box.append(result, _info(profile), window_start=None, window_end=None, trigger="manual")
    (tmp_path / "outbox" / "000000000001.json").write_bytes(b'{"result": 1}')
    pending = box.oldest()
    assert pending is not None and pending.seq == 2 and pending.trigger == "manual"
    assert (tmp_path / "outbox" / "000000000001.unreadable").exists() and len(box) == 1


def test_replaying_a_stored_check_stores_it_once(
    store: HistoryStore, raw: Engine, profile: ReferenceProfile, result: CheckResult
) -> None:
    store.record_reference(profile)
    where = dict(window_start=None, window_end=None, trigger="schedule")
    first = store.record_check(result, **where, skip_existing=True)
    # A crash after the commit and before the outbox entry is deleted replays the same check.
    assert store.record_check(result, **where, skip_existing=True) == first
    other = store.record_check(replace(result, started_at=result.started_at + 1), **where, skip_existing=True)
    assert other != first
    with raw.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM checks")) == 2


def test_an_unreachable_database_is_reported_as_such() -> None:
    with HistoryStore(f"postgresql+psycopg://u:secret@127.0.0.1:{free_port()}/db") as store:
        problem = store.probe()
        assert problem is not None and "secret" not in problem
        try:
            store.upgrade()
        except StorageUnavailableError as exc:
            assert "127.0.0.1" in str(exc)
        else:
            raise AssertionError("upgrade of an unreachable database succeeded")
