"""The client: queues rows from a model server and POSTs them in batches from a daemon thread."""

from __future__ import annotations

import atexit
import os
import random
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

import httpx
import pyarrow as pa

from driftwatch import __version__
from driftwatch.client.buffer import Buffer, Item, logger
from driftwatch.client.encoding import encode, parse_retry_after, to_table, unify
from driftwatch.logs import LogThrottle

if TYPE_CHECKING:
    import pandas as pd

Rows: TypeAlias = "Mapping[str, Any] | Sequence[Mapping[str, Any]] | pa.Table | pa.RecordBatch | pd.DataFrame"

# Repeated warnings of one kind are logged at most this often (seconds), so a bad caller cannot flood the log.
LOG_EVERY = 30.0
_MAX_BACKOFF = 10.0
# Total time the atexit hook spends flushing clients nobody closed.
_EXIT_TIMEOUT = 2.0


@dataclass(frozen=True)
class ClientStats:
    """Counters since the client started: rows_logged = sent + both dropped counts + rows still queued."""

    rows_logged: int = 0
    rows_sent: int = 0
    rows_dropped_queue_full: int = 0
    rows_dropped_failed: int = 0
    rows_rejected_by_server: int = 0
    requests: int = 0
    request_errors: int = 0
    invalid_inputs: int = 0


_STAT_FIELDS = tuple(f.name for f in fields(ClientStats))


class Client:
    """Queues rows for a driftwatch monitor and POSTs them in batches from a daemon thread.

    `log()` never blocks on the network and never raises: bad input, a full queue and delivery failures are
    counted in `stats` and logged at most once per LOG_EVERY seconds per kind. Rows logged after `close()` count
    as dropped (queue full). Clients nobody closed get a brief flush at interpreter exit; a forked child gets a
    fresh, empty queue and its own worker thread.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        monitor: str | None = None,
        batch_rows: int = 1000,
        flush_interval: float = 1.0,
        max_queue_rows: int = 100_000,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.25,
    ) -> None:
        try:
            parsed = httpx.URL(url)
        except Exception:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"url must look like http://host:port, got {url!r}")
        if monitor is not None and (not isinstance(monitor, str) or not monitor):
            raise ValueError(f"monitor must be a non-empty string or None, got {monitor!r}")
        for name, value, low in (("batch_rows", batch_rows, 1), ("max_queue_rows", max_queue_rows, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
        for name, value in (("flush_interval", flush_interval), ("timeout", timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")
        if isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0:
            raise ValueError(f"backoff must be a number of seconds >= 0, got {backoff!r}")

        self.url = url.rstrip("/")
        self.monitor = monitor
        self._headers = {"User-Agent": f"driftwatch-client/{__version__}"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._batch_rows = batch_rows
        self._flush_interval = float(flush_interval)
        self._max_queue_rows = max_queue_rows
        self._timeout = float(timeout)
        self._retries = retries
        self._backoff = float(backoff)
        self._closed = False
        self._start()
        _LIVE.add(self)

    def _start(self) -> None:
        """Create every piece of runtime state: at construction, and again in a forked child."""
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the worker waits here for rows, flushes or stop
        self._settled = threading.Condition(self._lock)  # flush() waits here for progress
        self._queue: deque[Item] = deque()
        self._queue_rows = 0
        # Rows queued, buffered or in flight: the memory bound applies to all of them.
        self._held_rows = 0
        self._buffers: dict[str, Buffer] = {}
        self._seq = 0
        self._done_seq = 0
        self._flush_target = 0
        self._wake_rows = self._batch_rows
        self._idle = False
        self._stopping = False
        self._stop = threading.Event()
        self._counts = dict.fromkeys(_STAT_FIELDS, 0)
        self._dropped_at_flush = 0  # rows dropped as of the last flush(), which reports drops since then
        self._throttle = LogThrottle(logger, LOG_EVERY)
        self._http = httpx.Client(timeout=self._timeout, headers=self._headers)
        self._thread = threading.Thread(target=self._run, name=f"driftwatch-client-{self.monitor}", daemon=True)
        self._thread.start()

    @property
    def stats(self) -> ClientStats:
        """A consistent snapshot of the counters."""
        with self._lock:
            return ClientStats(**self._counts)

    def log(self, data: Rows, monitor: str | None = None) -> None:
        """Queue rows for `monitor` (default: the client's); returns at once and never raises."""
        try:
            self._log(data, self.monitor if monitor is None else monitor)
        except Exception:  # a bug here must not reach the model server's request path
            self._invalid("driftwatch client failed to queue rows", exc_info=True)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every row logged before this call has been sent or dropped.

        True only when all of them went out and no row was dropped since the previous flush (queue full, delivery
        failed, client closed); False when rows were dropped or `timeout` ran out. `stats` says which.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            target = self._seq
            if target > self._flush_target:
                self._flush_target = target
                self._work.notify()
            while self._done_seq < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    break
                self._settled.wait(remaining)
            dropped = self._counts["rows_dropped_queue_full"] + self._counts["rows_dropped_failed"]
            clean = dropped == self._dropped_at_flush
            self._dropped_at_flush = dropped
            return self._done_seq >= target and clean

    def close(self, timeout: float = 10.0) -> bool:
        """Stop accepting rows, send what is queued within `timeout`, then stop the thread; True if all went out."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closed = True
        flushed = self.flush(timeout)
        with self._lock:
            self._stopping = True
            self._work.notify()
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(max(0.0, deadline - time.monotonic()))
        _LIVE.discard(self)
        return flushed

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(url={self.url!r}, monitor={self.monitor!r})"

    # -- caller side ---------------------------------------------------------------------------------------------

    def _log(self, data: object, monitor: object) -> None:
        if not isinstance(monitor, str) or not monitor:
            self._invalid("driftwatch client ignored rows: monitor must be a non-empty string, got %r", monitor)
            return
        try:
            table = to_table(data)
        except Exception as exc:
            self._invalid("driftwatch client ignored a %s: %s", type(data).__name__, exc)
            return
        rows = table.num_rows
        if rows == 0:
            return
        now = time.monotonic()
        with self._lock:
            self._counts["rows_logged"] += rows
            room = 0 if self._closed else max(0, self._max_queue_rows - self._held_rows)
            accepted = min(rows, room)
            if accepted:
                self._seq += 1
                self._queue.append(
                    Item(self._seq, monitor, table if accepted == rows else table.slice(0, accepted), now)
                )
                self._queue_rows += accepted
                self._held_rows += accepted
                if self._idle or self._queue_rows >= self._wake_rows:
                    self._work.notify()
            if accepted < rows:
                self._counts["rows_dropped_queue_full"] += rows - accepted
            closed = self._closed
        if accepted < rows:
            reason = "the client is closed" if closed else f"the queue is full ({self._max_queue_rows} rows)"
            self._throttle.warning("queue_full", "driftwatch client dropped %d row(s): %s", rows - accepted, reason)

    def _invalid(self, msg: str, *args: object, exc_info: bool = False) -> None:
        with self._lock:
            self._counts["invalid_inputs"] += 1
        if exc_info:
            logger.debug(msg, *args, exc_info=True)
        self._throttle.warning("invalid", msg, *args)

    # -- worker side ---------------------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                try:
                    if not self._step():
                        break
                except Exception:  # keep the worker alive whatever happens; the rows involved are counted as failed
                    logger.exception("driftwatch client worker error")
                    if self._stop.wait(self._flush_interval):
                        break
        finally:
            self._shutdown()

    def _step(self) -> bool:
        """Wait for work, then send every batch that is full, due, or wanted by flush(); False once stopping."""
        with self._lock:
            while not self._stopping and self._flush_target <= self._done_seq and self._queue_rows < self._wake_rows:
                deadline = self._deadline()
                now = time.monotonic()
                if deadline is not None and deadline <= now:
                    break
                self._idle = deadline is None
                self._work.wait(None if deadline is None else deadline - now)
            self._idle = False
            if self._stopping:
                return False
            items = list(self._queue)
            self._queue.clear()
            self._queue_rows = 0
            force = self._flush_target > self._done_seq
        for item in items:
            self._buffers.setdefault(item.monitor, Buffer()).add(item)
        now = time.monotonic()
        for monitor in list(self._buffers):
            buf = self._buffers[monitor]
            while buf.rows >= self._batch_rows or (buf.rows and (force or now - buf.oldest >= self._flush_interval)):
                if self._stop.is_set():
                    return False
                self._deliver(monitor, buf.take(self._batch_rows))
            if not buf.rows:
                del self._buffers[monitor]
        self._settle()
        return True

    def _deadline(self) -> float | None:
        """When the oldest waiting row becomes due; None when nothing waits."""
        times = [buf.oldest for buf in self._buffers.values() if buf.rows]
        if self._queue:
            times.append(self._queue[0].enqueued)
        return min(times) + self._flush_interval if times else None

    def _settle(self) -> None:
        """Publish progress: everything before the oldest row still waiting counts as done."""
        with self._lock:
            waiting = [buf.items[0].seq for buf in self._buffers.values() if buf.items]
            if self._queue:
                waiting.append(self._queue[0].seq)
            self._done_seq = min(waiting) - 1 if waiting else self._seq
            fullest = max((buf.rows for buf in self._buffers.values()), default=0)
            self._wake_rows = max(1, self._batch_rows - fullest)
            self._settled.notify_all()

    def _deliver(self, monitor: str, items: list[Item]) -> None:
        rows = sum(item.table.num_rows for item in items)
        try:
            for table in unify([item.table for item in items]):
                try:
                    body, headers = encode(table)
                except Exception as exc:  # Arrow cannot serialize it; retrying would not help
                    self._fail(monitor, table.num_rows, 0, f"{type(exc).__name__}: {exc}")
                else:
                    self._send(monitor, table.num_rows, body, headers)
        finally:
            with self._lock:
                self._held_rows -= rows
            self._settle()

    def _send(self, monitor: str, rows: int, body: bytes, headers: dict[str, str]) -> None:
        """POST one body, retrying transient failures; counts the rows as sent or failed."""
        url = f"{self.url}/v1/monitors/{quote(monitor, safe='')}/rows"
        error = ""
        retry_after: float | None = None
        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self._counts["requests"] += 1
            try:
                response = self._http.post(url, content=body, headers=headers)
            except Exception as exc:  # connection refused, timeouts, resets: all worth another try
                error, retry_after = f"{type(exc).__name__}: {exc}", None
            else:
                if response.is_success:
                    self._accepted(monitor, rows, response)
                    return
                error = f"HTTP {response.status_code}: {response.text[:200]}"
                retry_after = parse_retry_after(response)
                if response.status_code != 429 and response.status_code < 500:
                    # The server refused this payload; sending it again would be refused again.
                    with self._lock:
                        self._counts["request_errors"] += 1
                    break
            with self._lock:
                self._counts["request_errors"] += 1
            if attempt > self._retries or self._stop.wait(self._delay(attempt, retry_after)):
                break
        self._fail(monitor, rows, attempt, error)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with equal jitter, stretched to the server's Retry-After when it asks for more."""
        base = min(_MAX_BACKOFF, self._backoff * 2 ** (attempt - 1))
        delay = base / 2 + random.uniform(0, base / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, _MAX_BACKOFF))
        return delay

    def _accepted(self, monitor: str, rows: int, response: httpx.Response) -> None:
        try:
            reply = response.json()
            rejected = int(reply.get("rejected", 0))
            errors = reply.get("errors") or []
        except (ValueError, TypeError, AttributeError):
            rejected, errors = 0, []
        with self._lock:
            self._counts["rows_sent"] += rows
            self._counts["rows_rejected_by_server"] += rejected
        if rejected:
            first = errors[0] if isinstance(errors, list) and errors else "no reason given"
            self._throttle.warning(
                "rejected",
                "driftwatch server rejected %d of %d rows for monitor %r: %s",
                rejected,
                rows,
                monitor,
                first,
            )

    def _fail(self, monitor: str, rows: int, attempts: int, error: str) -> None:
        with self._lock:
            self._counts["rows_dropped_failed"] += rows
        self._throttle.warning(
            "failed",
            "driftwatch client dropped %d rows for monitor %r after %d attempt(s): %s",
            rows,
            monitor,
            attempts,
            error,
        )

    def _shutdown(self) -> None:
        """Count whatever never went out as failed, release flush() waiters and close the connection pool."""
        with self._lock:
            lost = self._queue_rows + sum(buf.rows for buf in self._buffers.values())
            self._queue.clear()
            self._buffers.clear()
            self._queue_rows = 0
            self._held_rows = 0
            self._counts["rows_dropped_failed"] += lost
            self._done_seq = self._seq
            self._settled.notify_all()
        if lost:
            logger.warning("driftwatch client stopped with %d rows unsent", lost)
        self._http.close()

    def _after_fork(self) -> None:
        # The parent still owns the rows it queued; the child starts empty with its own thread and connections.
        if not self._closed:
            self._start()


_LIVE: weakref.WeakSet[Client] = weakref.WeakSet()


def _close_all() -> None:
    """At interpreter exit, give clients nobody closed a brief chance to send what they hold."""
    deadline = time.monotonic() + _EXIT_TIMEOUT
    for client in list(_LIVE):
        client.close(max(0.0, deadline - time.monotonic()))


def _after_fork_in_child() -> None:
    for client in list(_LIVE):
        client._after_fork()


atexit.register(_close_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
