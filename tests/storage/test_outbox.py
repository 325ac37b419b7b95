"""The outbox of checks waiting for the database: exact round trip, order across reopening, idempotent replay."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from checks.samples import threshold_check
from services.postgres import free_port
from sqlalchemy import text
from sqlalchemy.engine import Engine

from driftwatch.checks.results import CheckResult
from driftwatch.storage import HistoryStore, ReferenceLike, StorageUnavailableError
from driftwatch.storage.outbox import Outbox, ReferenceInfo


@pytest.fixture
def profile(profile_and_check: tuple[ReferenceLike, CheckResult]) -> ReferenceLike:
    return profile_and_check[0]


@pytest.fixture
def result(profile_and_check: tuple[ReferenceLike, CheckResult]) -> CheckResult:
    return profile_and_check[1]


def _info(profile: ReferenceLike) -> ReferenceInfo:
    return ReferenceInfo(profile.monitor, profile.version, profile.source, profile.rows, profile.created_at)


def test_queued_checks_come_back_equal_and_in_order_after_reopening(
    tmp_path: Path, profile_and_check: tuple[ReferenceLike, CheckResult]
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


def test_the_decision_fields_survive_the_queue_and_the_store(
    tmp_path: Path, store: HistoryStore, profile: ReferenceLike, result: CheckResult
) -> None:
    box = Outbox(tmp_path / "outbox")
    for r in (result, threshold_check()):
        box.append(r, _info(profile), window_start=None, window_end=None, trigger="schedule")
    box = Outbox(tmp_path / "outbox")
    store.record_reference(profile)
    for expected in (result, threshold_check()):
        pending = box.oldest()
        assert pending is not None and pending.result == expected
        assert pending.result.to_dict() == expected.to_dict()
        check_id = store.record_check(pending.result, window_start=None, window_end=None, trigger=pending.trigger)
        got = store.get_check(check_id)
        assert got is not None and got.to_result().to_dict() == expected.to_dict()
        box.remove(pending.seq)
    assert box.oldest() is None


def test_an_entry_queued_before_results_carried_their_decision_reads_as_a_threshold_check(
    tmp_path: Path, profile: ReferenceLike
) -> None:
    box = Outbox(tmp_path / "outbox")
    box.append(threshold_check(), _info(profile), window_start=None, window_end=None, trigger="window_close")
    (path,) = (tmp_path / "outbox").glob("*.json")
    body = json.loads(path.read_bytes())
    for key in ("decision", "alpha", "look_share", "level"):
        del body["result"][key]
    for f in body["result"]["features"]:
        for key in ("p_value", "threshold_drifted", "decision", "calibration", "missing_p_value", "level"):
            del f[key]
    path.write_text(json.dumps(body))
    pending = Outbox(tmp_path / "outbox").oldest()
    assert pending is not None and pending.result == threshold_check()


def test_an_unreadable_entry_is_set_aside(tmp_path: Path, profile_and_check: tuple[ReferenceLike, CheckResult]) -> None:
    profile, result = profile_and_check
    box = Outbox(tmp_path / "outbox")
    box.append(result, _info(profile), window_start=None, window_end=None, trigger="schedule")
    box.append(result, _info(profile), window_start=None, window_end=None, trigger="manual")
    (tmp_path / "outbox" / "000000000001-schedule.json").write_bytes(b'{"result": 1}')
    pending = box.oldest()
    assert pending is not None and pending.seq == 2 and pending.trigger == "manual"
    assert (tmp_path / "outbox" / "000000000001-schedule.unreadable").exists() and len(box) == 1


def _queue(box: Outbox, profile: ReferenceLike, result: CheckResult, trigger: str, at: int) -> int | None:
    r = replace(result, started_at=result.started_at + at)
    return box.append(r, _info(profile), window_start=float(at), window_end=None, trigger=trigger)


def _on_disk(folder: Path) -> list[tuple[int, str]]:
    names = sorted(p.stem.split("-", 1) for p in folder.glob("*.json"))
    return [(int(seq), trigger) for seq, trigger in names]


def test_a_full_outbox_drops_open_window_checks_oldest_first_and_keeps_window_close_checks(
    tmp_path: Path, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    folder = tmp_path / "outbox"
    _queue(Outbox(tmp_path / "probe"), profile, result, "schedule", 0)
    entry = next((tmp_path / "probe").glob("*.json")).stat().st_size  # each entry is this size, give or take a digit
    box = Outbox(folder, max_bytes=int(entry * 4.5))  # room for four checks
    for i, trigger in enumerate(["schedule", "window_close", "schedule", "manual"]):
        assert _queue(box, profile, result, trigger, i) == i + 1
    assert box.dropped == {} and box.size_bytes <= box.max_bytes
    # A fifth: the oldest scheduled check goes, then the next one, never the window's final check.
    assert _queue(box, profile, result, "schedule", 4) == 5
    assert _on_disk(folder) == [(2, "window_close"), (3, "schedule"), (4, "manual"), (5, "schedule")]
    assert _queue(box, profile, result, "window_close", 5) == 6
    assert _on_disk(folder) == [(2, "window_close"), (4, "manual"), (5, "schedule"), (6, "window_close")]
    assert _queue(box, profile, result, "window_close", 6) == 7
    assert _queue(box, profile, result, "window_close", 7) == 8
    assert _on_disk(folder) == [(2, "window_close"), (6, "window_close"), (7, "window_close"), (8, "window_close")]
    # Only final checks left: a scheduled check is dropped itself, a final check displaces the oldest final check.
    assert _queue(box, profile, result, "schedule", 8) is None
    assert _queue(box, profile, result, "window_close", 9) == 9  # a dropped check took no number
    assert _on_disk(folder) == [(6, "window_close"), (7, "window_close"), (8, "window_close"), (9, "window_close")]
    assert box.dropped == {"schedule": 4, "manual": 1, "window_close": 1} and box.dropped_since_empty == 6
    assert box.size_bytes == sum(p.stat().st_size for p in folder.glob("*.json")) <= box.max_bytes
    # Reopened, the sizes and triggers come back from the folder: the cap holds across restarts.
    box = Outbox(folder, max_bytes=int(entry * 4.5))
    assert len(box) == 4 and box.size_bytes == sum(p.stat().st_size for p in folder.glob("*.json"))
    assert _queue(box, profile, result, "schedule", 10) is None
    seqs = []
    while (pending := box.oldest()) is not None:
        seqs.append((pending.seq, pending.trigger, pending.window_start))
        box.remove(pending.seq)
    assert [(seq, start) for seq, _, start in seqs] == [(6, 5.0), (7, 6.0), (8, 7.0), (9, 9.0)]
    assert box.dropped_since_empty == 0  # readiness stops saying so once the queue has drained


def test_entries_named_before_names_carried_the_trigger_are_read(
    tmp_path: Path, profile_and_check: tuple[ReferenceLike, CheckResult]
) -> None:
    profile, result = profile_and_check
    folder = tmp_path / "outbox"
    box = Outbox(folder)
    _queue(box, profile, result, "window_close", 0)
    _queue(box, profile, result, "schedule", 1)
    for path in folder.glob("*.json"):
        path.rename(folder / (path.stem.split("-")[0] + ".json"))
    entry = max(p.stat().st_size for p in folder.glob("*.json"))
    box = Outbox(folder, max_bytes=entry * 2 + 10)
    assert _queue(box, profile, result, "manual", 2) == 3
    assert sorted(p.name for p in folder.glob("*.json")) == ["000000000001.json", "000000000003-manual.json"]


def test_replaying_a_stored_check_stores_it_once(
    store: HistoryStore, raw: Engine, profile: ReferenceLike, result: CheckResult
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
