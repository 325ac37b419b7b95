"""EventJoiner: requests and responses paired by key, with expiry and a bound on what waits."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from driftwatch.ingest.cloudevents import EventJoiner, JoinStats


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _request(n: int = 2, tag: str = "a") -> pa.Table:
    return pa.table({"age": list(range(n)), "tag": [tag] * n})


def _response(n: int = 2) -> pa.Table:
    return pa.table({"prediction": [i * 10 for i in range(n)]})


def _stats(**counts: int) -> JoinStats:
    base = dict.fromkeys(
        ("joined", "expired_requests", "dropped_responses", "mismatched", "pending", "evicted", "duplicates"), 0
    )
    return JoinStats(**{**base, **counts})


def test_request_then_response_is_joined() -> None:
    joiner = EventJoiner(timeout=10, max_pending=10, clock=FakeClock())
    assert joiner.add("id-1", "request", _request()) is None
    assert joiner.stats == _stats(pending=1)
    joined = joiner.add("id-1", "response", _response())
    assert joined is not None
    assert joined.to_pylist() == [
        {"age": 0, "tag": "a", "prediction": 0},
        {"age": 1, "tag": "a", "prediction": 10},
    ]
    assert joiner.stats == _stats(joined=1)


def test_response_before_request_is_joined_request_first() -> None:
    joiner = EventJoiner(timeout=10, max_pending=10, clock=FakeClock())
    assert joiner.add("id-1", "response", _response()) is None
    joined = joiner.add("id-1", "request", _request())
    assert joined is not None
    assert joined.column_names == ["age", "tag", "prediction"]


def test_keys_do_not_mix() -> None:
    joiner = EventJoiner(timeout=10, max_pending=10, clock=FakeClock())
    joiner.add("a", "request", _request(tag="a"))
    joiner.add("b", "request", _request(tag="b"))
    joined = joiner.add("b", "response", _response())
    assert joined is not None and joined.column("tag").to_pylist() == ["b", "b"]
    assert joiner.stats.pending == 1


def test_mismatched_row_counts_return_the_request_alone() -> None:
    joiner = EventJoiner(timeout=10, max_pending=10, clock=FakeClock())
    joiner.add("id-1", "request", _request(3))
    joined = joiner.add("id-1", "response", _response(2))
    assert joined is not None and joined.equals(_request(3))
    assert joiner.stats == _stats(mismatched=1)


def test_clashing_column_names_get_a_suffix() -> None:
    joiner = EventJoiner(timeout=10, max_pending=10, clock=FakeClock())
    joiner.add("k", "request", pa.table({"x": [1], "x_response": [2]}))
    joined = joiner.add("k", "response", pa.table({"x": [3]}))
    assert joined is not None
    assert joined.column_names == ["x", "x_response", "x_response_response"]


def test_expired_requests_come_back_alone_and_responses_are_dropped() -> None:
    clock = FakeClock()
    joiner = EventJoiner(timeout=10, max_pending=10, clock=clock)
    joiner.add("r1", "request", _request(tag="r1"))
    clock.now = 5
    joiner.add("s1", "response", _response())
    joiner.add("r2", "request", _request(tag="r2"))
    clock.now = 10
    assert joiner.expire() == []
    clock.now = 10.5
    expired = joiner.expire()
    assert [t.column("tag")[0].as_py() for t in expired] == ["r1"]
    clock.now = 15.5
    expired = joiner.expire()
    assert [t.column("tag")[0].as_py() for t in expired] == ["r2"]
    assert joiner.stats == _stats(expired_requests=2, dropped_responses=1)
    # Once expired, a late half waits on its own.
    assert joiner.add("r1", "response", _response()) is None


def test_max_pending_evicts_the_oldest() -> None:
    clock = FakeClock()
    joiner = EventJoiner(timeout=60, max_pending=2, clock=clock)
    joiner.add("s1", "response", _response())
    joiner.add("r1", "request", _request(tag="r1"))
    joiner.add("r2", "request", _request(tag="r2"))  # evicts s1: dropped
    joiner.add("r3", "request", _request(tag="r3"))  # evicts r1: handed out by expire()
    assert joiner.stats == _stats(pending=2, evicted=2, expired_requests=1, dropped_responses=1)
    expired = joiner.expire()
    assert [t.column("tag")[0].as_py() for t in expired] == ["r1"]
    assert joiner.expire() == []
    assert joiner.add("r3", "response", _response()) is not None


def test_duplicate_event_is_ignored() -> None:
    joiner = EventJoiner(timeout=10, max_pending=10, clock=FakeClock())
    joiner.add("k", "request", _request(tag="first"))
    assert joiner.add("k", "request", _request(tag="second")) is None
    joined = joiner.add("k", "response", _response())
    assert joined is not None and joined.column("tag").to_pylist() == ["first", "first"]
    assert joiner.stats == _stats(joined=1, duplicates=1)


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="timeout must be positive, got 0"):
        EventJoiner(timeout=0, max_pending=1)
    with pytest.raises(ValueError, match="max_pending must be at least 1, got 0"):
        EventJoiner(timeout=1, max_pending=0)
    with pytest.raises(ValueError, match="kind must be 'request' or 'response', got 'explain'"):
        EventJoiner(timeout=1, max_pending=1).add("k", "explain", _request())


def test_concurrent_adds_join_every_pair() -> None:
    joiner = EventJoiner(timeout=60, max_pending=10_000)
    results: list[pa.Table | None] = []
    lock = threading.Lock()

    def send(kind: str) -> None:
        for i in range(500):
            table = _request(1) if kind == "request" else _response(1)
            out = joiner.add(f"k{i}", kind, table)
            with lock:
                results.append(out)

    threads = [threading.Thread(target=send, args=(kind,)) for kind in ("request", "response")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r is not None for r in results) == 500
    assert joiner.stats == _stats(joined=500)
