"""The in-process client against a real HTTP server on loopback: delivery, batching, retries, drops, threads."""

from __future__ import annotations

import gzip
import json
import logging
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pandas as pd
import pyarrow as pa
import pytest

from driftwatch.client import ARROW_STREAM, GZIP_THRESHOLD, Client, ClientStats


@dataclass
class Received:
    monitor: str
    table: pa.Table
    gzipped: bool
    headers: dict[str, str]


@dataclass
class Recorder:
    """What the loopback server received, and how it should misbehave."""

    url: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    fail_next: int = 0
    fail_status: int = 503
    retry_after: str | None = None
    status: int | None = None
    delay: float = 0.0
    reject: int = 0

    def batches(self, monitor: str = "m") -> list[pa.Table]:
        with self.lock:
            return [r.table for r in self.received if r.monitor == monitor]

    def table(self, monitor: str = "m") -> pa.Table:
        return pa.concat_tables(self.batches(monitor), promote_options="permissive")

    def sizes(self, monitor: str = "m") -> list[int]:
        return [t.num_rows for t in self.batches(monitor)]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the client's persistent connection expects
    # Headers and body go out in separate writes; with Nagle on, each reply would wait for a delayed ACK (~40 ms).
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        rec: Recorder = self.server.recorder  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with rec.lock:
            rec.attempts += 1
            failing = rec.fail_next > 0
            rec.fail_next -= failing
            status = rec.fail_status if failing else rec.status
        if rec.delay:
            time.sleep(rec.delay)
        if status is not None:
            extra = {"Retry-After": rec.retry_after} if rec.retry_after else {}
            self._reply(status, {"detail": "told to fail"}, extra)
            return
        prefix, suffix = "/v1/monitors/", "/rows"
        assert self.path.startswith(prefix) and self.path.endswith(suffix), self.path
        assert self.headers["Content-Type"] == ARROW_STREAM
        gzipped = self.headers.get("Content-Encoding") == "gzip"
        table = pa.ipc.open_stream(gzip.decompress(body) if gzipped else body).read_all()
        monitor = unquote(self.path[len(prefix) : -len(suffix)])
        with rec.lock:
            rec.received.append(Received(monitor, table, gzipped, dict(self.headers)))
        rejected = min(rec.reject, table.num_rows)
        errors = [{"row": 0, "error": "bad row"}] if rejected else []
        self._reply(202, {"accepted": table.num_rows - rejected, "rejected": rejected, "errors": errors})

    def _reply(self, status: int, doc: dict, extra: dict[str, str] | None = None) -> None:
        payload = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Recorder]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    host, port = httpd.server_address[:2]
    rec = Recorder(url=f"http://{host}:{port}")
    httpd.recorder = rec  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield rec
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def make_client() -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def make(url: str, monitor: str = "m", **kwargs: object) -> Client:
        client = Client(url, monitor=monitor, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=0.2)


@pytest.fixture
def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def rows(n: int, start: int = 0) -> list[dict[str, object]]:
    return [{"id": i, "x": i / 2, "name": f"r{i}", "flag": i % 2 == 0} for i in range(start, start + n)]


# -- delivery ----------------------------------------------------------------------------------------------------

FRAME = pd.DataFrame(
    {
        "age": [31, 45, 67],
        "score": [0.5, float("nan"), 2.25],
        "channel": ["web", None, "kiosk"],
        "urgent": [True, False, True],
        "seen": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    },
    index=[10, 20, 30],
)
ROWS = [{"age": 31, "channel": "web", "score": 0.5}, {"age": None, "channel": "phone", "score": 1.5}]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(ROWS[0], pa.Table.from_pylist(ROWS[:1]), id="dict"),
        pytest.param(ROWS, pa.Table.from_pylist(ROWS), id="list-of-dicts"),
        pytest.param(pa.Table.from_pylist(ROWS), pa.Table.from_pylist(ROWS), id="arrow-table"),
        pytest.param(pa.RecordBatch.from_pylist(ROWS), pa.Table.from_pylist(ROWS), id="record-batch"),
        pytest.param(FRAME, pa.Table.from_pandas(FRAME, preserve_index=False), id="dataframe"),
    ],
)
def test_each_input_type_arrives_intact(server: Recorder, make_client, data: object, expected: pa.Table) -> None:
    client = make_client(server.url)
    client.log(data)
    assert client.flush(5)
    got = server.table()
    assert got.schema.equals(expected.schema), (got.schema, expected.schema)
    assert got.equals(expected)
    assert client.stats == ClientStats(rows_logged=expected.num_rows, rows_sent=expected.num_rows, requests=1)


def test_monitor_override_token_and_url_quoting(server: Recorder, make_client) -> None:
    client = make_client(server.url + "/", "triage", token="s3cret")
    client.log({"a": 1})
    client.log({"a": 2}, monitor="shadow model/v2")
    assert client.flush(5)
    assert server.table("triage").to_pylist() == [{"a": 1}]
    assert server.table("shadow model/v2").to_pylist() == [{"a": 2}]
    headers = server.received[0].headers
    assert headers["Authorization"] == "Bearer s3cret"
    assert headers["User-Agent"].startswith("driftwatch-client/")


def test_no_token_sends_no_authorization(server: Recorder, make_client) -> None:
    client = make_client(server.url)
    client.log({"a": 1})
    assert client.flush(5)
    assert "Authorization" not in server.received[0].headers


# -- batching ----------------------------------------------------------------------------------------------------


def test_batches_by_size(server: Recorder, make_client) -> None:
    client = make_client(server.url, batch_rows=100, flush_interval=30)
    for row in rows(250):
        client.log(row)
    wait_for(lambda: len(server.batches()) == 2)
    time.sleep(0.2)
    assert server.sizes() == [100, 100]  # the last 50 wait for the interval or a flush
    assert client.flush(5)
    assert server.sizes() == [100, 100, 50]
    assert server.table().to_pylist() == rows(250)


def test_large_table_is_split_into_batches(server: Recorder, make_client) -> None:
    client = make_client(server.url, batch_rows=1000, flush_interval=30)
    table = pa.Table.from_pylist(rows(2500))
    client.log(table)
    wait_for(lambda: len(server.batches()) == 2)
    assert client.flush(5)
    assert server.sizes() == [1000, 1000, 500]
    assert server.table().equals(table)


def test_batches_by_interval(server: Recorder, make_client) -> None:
    client = make_client(server.url, batch_rows=1000, flush_interval=0.3)
    start = time.monotonic()
    for row in rows(5):
        client.log(row)
    wait_for(lambda: len(server.batches()) == 1)
    elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 2.0
    assert server.sizes() == [5]
    # A later trickle starts a new interval rather than waiting forever.
    client.log(rows(1, start=5))
    wait_for(lambda: len(server.batches()) == 2)
    assert server.table().to_pylist() == rows(6)


def test_gzip_only_for_large_batches(server: Recorder, make_client) -> None:
    client = make_client(server.url, batch_rows=10_000)
    small = pa.table({"text": ["short"] * 10})
    large = pa.table({"text": [f"{i:06d}" + "lorem ipsum dolor sit amet " * 4 for i in range(2_000)]})
    assert large.nbytes > GZIP_THRESHOLD
    client.log(small)
    assert client.flush(5)
    client.log(large)
    assert client.flush(5)
    first, second = server.received
    assert not first.gzipped and first.table.equals(small)
    assert second.gzipped and second.table.equals(large)


def test_mixed_schemas_are_unified_or_sent_separately(server: Recorder, make_client) -> None:
    client = make_client(server.url, flush_interval=30)
    client.log({"a": 1})
    client.log({"a": 2.5, "b": "x"})
    assert client.flush(5)
    assert server.sizes() == [2]
    assert server.batches()[0].to_pylist() == [{"a": 1.0, "b": None}, {"a": 2.5, "b": "x"}]
    # int and string cannot be promoted to one type: three compatible runs go as three requests, in order.
    client.log({"a": 1})
    client.log({"a": 2})
    client.log({"a": "three"})
    client.log({"a": 4})
    assert client.flush(5)
    assert [t.to_pylist() for t in server.batches()[1:]] == [[{"a": 1}, {"a": 2}], [{"a": "three"}], [{"a": 4}]]
    assert client.stats.rows_sent == 6
    assert client.stats.rows_dropped_failed == 0


# -- failures ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429, 500])
def test_transient_failures_are_retried(server: Recorder, make_client, status: int) -> None:
    server.fail_next, server.fail_status = 2, status
    client = make_client(server.url, retries=3, backoff=0.01)
    client.log(rows(3))
    assert client.flush(5)
    assert server.attempts == 3
    assert server.table().to_pylist() == rows(3)
    assert client.stats == ClientStats(rows_logged=3, rows_sent=3, requests=3, request_errors=2)


def test_retry_after_is_respected(server: Recorder, make_client) -> None:
    server.fail_next, server.fail_status, server.retry_after = 1, 429, "0.4"
    client = make_client(server.url, retries=1, backoff=0.01)
    client.log({"a": 1})
    start = time.monotonic()
    assert client.flush(5)
    assert time.monotonic() - start >= 0.35
    assert server.sizes() == [1]


def test_batch_is_dropped_after_retries(server: Recorder, make_client) -> None:
    server.fail_next = 100
    client = make_client(server.url, retries=2, backoff=0.01)
    client.log(rows(4))
    assert client.flush(5) is False  # the rows were dropped
    assert server.attempts == 3
    assert client.stats == ClientStats(rows_logged=4, rows_dropped_failed=4, requests=3, request_errors=3)


def test_client_error_is_dropped_without_retry(server: Recorder, make_client) -> None:
    server.status = 400
    client = make_client(server.url, retries=3, backoff=0.01)
    client.log(rows(4))
    assert client.flush(5) is False
    assert server.attempts == 1
    assert client.stats == ClientStats(rows_logged=4, rows_dropped_failed=4, requests=1, request_errors=1)
    server.status = None
    client.log(rows(2))
    assert client.flush(5) is True  # drops are reported once, by the flush that follows them
    assert server.table().to_pylist() == rows(2)


def test_server_rejections_are_counted(server: Recorder, make_client, caplog: pytest.LogCaptureFixture) -> None:
    server.reject = 1
    client = make_client(server.url, batch_rows=5)
    with caplog.at_level(logging.WARNING, logger="driftwatch.client"):
        client.log(rows(20))
        assert client.flush(5)
    assert client.stats.rows_sent == 20
    assert client.stats.rows_rejected_by_server == 4
    assert [r.getMessage() for r in caplog.records] == [
        "driftwatch server rejected 1 of 5 rows for monitor 'm': {'row': 0, 'error': 'bad row'}"
    ]


def test_server_down_never_reaches_the_caller(closed_port_url: str, make_client) -> None:
    client = make_client(closed_port_url, retries=2, backoff=0.01)
    start = time.monotonic()
    for row in rows(100):
        client.log(row)
    assert time.monotonic() - start < 0.2
    assert client.flush(5) is False
    assert client.stats == ClientStats(rows_logged=100, rows_dropped_failed=100, requests=3, request_errors=3)
    client.log({"id": 1})  # still accepting after failures
    assert client.stats.rows_logged == 101


def test_slow_server_does_not_slow_log(server: Recorder, make_client) -> None:
    server.delay = 2.0
    client = make_client(server.url, batch_rows=10, flush_interval=0.01, retries=0)
    client.log({"id": -1})
    wait_for(lambda: server.attempts == 1)  # the worker is now stuck in a 2 s request
    start = time.monotonic()
    for row in rows(1000):
        client.log(row)
    elapsed = time.monotonic() - start
    assert elapsed < 0.5, f"1000 log() calls took {elapsed:.3f} s"
    assert client.stats.rows_logged == 1001
    start = time.monotonic()
    assert client.close(timeout=0.2) is False
    assert time.monotonic() - start < 0.5


def test_queue_full_drops_and_counts(server: Recorder, make_client, caplog: pytest.LogCaptureFixture) -> None:
    client = make_client(server.url, max_queue_rows=10, batch_rows=1000, flush_interval=30)
    with caplog.at_level(logging.WARNING, logger="driftwatch.client"):
        for row in rows(25):
            client.log(row)
        client.log(pa.Table.from_pylist(rows(20, start=25)))
    assert client.stats == ClientStats(rows_logged=45, rows_dropped_queue_full=35)
    assert [r.getMessage() for r in caplog.records] == [
        "driftwatch client dropped 1 row(s): the queue is full (10 rows)"
    ]
    assert client.flush(5) is False
    assert server.table().to_pylist() == rows(10)
    # Sent rows free their room; a table is cut to what fits.
    client.log(pa.Table.from_pylist(rows(15, start=100)))
    assert client.flush(5) is False  # 5 of the 15 did not fit
    assert server.sizes() == [10, 10]
    assert client.stats == ClientStats(rows_logged=60, rows_sent=20, rows_dropped_queue_full=40, requests=2)


def test_invalid_input_is_counted_and_logged_once(
    server: Recorder, make_client, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(server.url)
    with caplog.at_level(logging.WARNING, logger="driftwatch.client"):
        client.log("not rows")  # type: ignore[arg-type]
        client.log([1, 2])  # type: ignore[list-item]
        client.log(42)  # type: ignore[arg-type]
        client.log({})
        client.log({"a": object()})
        client.log({"a": 1}, monitor="")
        client.log([])  # an empty batch is fine, just nothing to send
        client.log({"a": 1})
        assert client.flush(5)
    assert client.stats == ClientStats(rows_logged=1, rows_sent=1, requests=1, invalid_inputs=6)
    assert [r.getMessage() for r in caplog.records] == [
        "driftwatch client ignored a str: unsupported input str "
        "(use a dict, a list of dicts, a pyarrow Table or RecordBatch, or a pandas DataFrame)"
    ]
    assert server.table().to_pylist() == [{"a": 1}]


def test_concurrent_log_loses_nothing(server: Recorder, make_client) -> None:
    client = make_client(server.url, batch_rows=100, flush_interval=0.05)
    barrier = threading.Barrier(8)

    def worker(t: int) -> None:
        barrier.wait()
        for i in range(500):
            client.log({"thread": t, "i": i})

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert client.flush(5)
    got = server.table().to_pylist()
    assert len(got) == 4000
    assert {(r["thread"], r["i"]) for r in got} == {(t, i) for t in range(8) for i in range(500)}
    stats = client.stats
    assert (stats.rows_logged, stats.rows_sent, stats.request_errors) == (4000, 4000, 0)
    assert max(server.sizes()) <= 100


# -- flush and close ---------------------------------------------------------------------------------------------


def test_flush_times_out_then_completes(server: Recorder, make_client) -> None:
    server.delay = 0.6
    client = make_client(server.url, flush_interval=30)
    client.log({"a": 1})
    start = time.monotonic()
    assert client.flush(timeout=0.1) is False
    assert time.monotonic() - start < 0.3
    assert client.flush(timeout=5) is True
    assert server.sizes() == [1]
    assert client.flush(timeout=0) is True  # nothing queued


def test_close_sends_everything_and_stops(server: Recorder, make_client) -> None:
    client = make_client(server.url, flush_interval=30)
    client.log(rows(7))
    assert client.close() is True
    assert server.sizes() == [7]
    assert not client._thread.is_alive()
    client.log(rows(3))  # after close: dropped and counted, never raised
    assert client.stats == ClientStats(rows_logged=10, rows_sent=7, rows_dropped_queue_full=3, requests=1)
    assert client.close() is False  # the 3 rows logged after close were dropped
    assert client.flush() is True


def test_context_manager_closes(server: Recorder) -> None:
    with Client(server.url, monitor="m", flush_interval=30) as client:
        client.log(rows(3))
    assert server.sizes() == [3]
    assert not client._thread.is_alive()


def test_close_is_bounded_when_server_is_down(closed_port_url: str) -> None:
    client = Client(closed_port_url, monitor="m", retries=10, backoff=1.0)
    client.log(rows(5))
    start = time.monotonic()
    assert client.close(timeout=0.3) is False
    assert time.monotonic() - start < 0.6
    client._thread.join(1)  # the worker stops promptly too: close() interrupted its backoff
    assert not client._thread.is_alive()
    assert client.stats.rows_dropped_failed == 5


def test_atexit_flushes_a_forgotten_client(server: Recorder) -> None:
    script = textwrap.dedent(
        f"""
        from driftwatch.client import Client
        client = Client({server.url!r}, monitor="m", flush_interval=60)
        client.log({{"a": 1}})
        client.log({{"a": 2}})
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=30)
    assert server.table().to_pylist() == [{"a": 1}, {"a": 2}]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_gets_its_own_worker(server: Recorder) -> None:
    client = Client(server.url, monitor="m", flush_interval=30)
    try:
        client.log({"who": "parent"})
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child
            ok = False
            try:
                client.log({"who": "child"}, monitor="child")
                ok = client.flush(5) and client.stats.rows_sent == 1
            finally:
                os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert client.flush(5)
        assert server.table("child").to_pylist() == [{"who": "child"}]
        assert server.table("m").to_pylist() == [{"who": "parent"}]
    finally:
        client.close(1)


# -- construction ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "localhost:8000"}, "url must look like http://host:port, got 'localhost:8000'"),
        ({"monitor": ""}, "monitor must be a non-empty string or None, got ''"),
        ({"batch_rows": 0}, "batch_rows must be an integer >= 1, got 0"),
        ({"max_queue_rows": 1.5}, "max_queue_rows must be an integer >= 1, got 1.5"),
        ({"flush_interval": 0}, "flush_interval must be a positive number of seconds, got 0"),
        ({"timeout": -1}, "timeout must be a positive number of seconds, got -1"),
        ({"retries": -1}, "retries must be an integer >= 0, got -1"),
        ({"backoff": -0.1}, "backoff must be a number of seconds >= 0, got -0.1"),
    ],
)
def test_constructor_rejects_bad_arguments(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"url": "http://127.0.0.1:1", "monitor": "m", **kwargs}
    with pytest.raises(ValueError) as info:
        Client(**args)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_token_positional_and_monitor_per_call(server: Recorder) -> None:
    client = Client(server.url, "tok")
    try:
        client.log({"a": 1})  # no monitor anywhere: counted, never raised
        client.log({"a": 2}, monitor="m2")
        assert client.flush(5)
        assert client.stats.invalid_inputs == 1
        assert client.stats.rows_sent == 1
    finally:
        client.close(1)
