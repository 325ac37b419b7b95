"""Run the daemon behind uvicorn, with graceful shutdown on SIGTERM/SIGINT and line-per-event logs."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import signal
import sys
import time
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any, Literal

import uvicorn

from driftwatch.config import Config
from driftwatch.serve.allocator import return_freed_memory
from driftwatch.serve.auth import refuse_open_listener
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.routes import create_app

log = logging.getLogger(__name__)
LogFormat = Literal["text", "json"]
# How long a running check may take to finish at shutdown.
SHUTDOWN_TIMEOUT = 30.0


# Attributes every LogRecord has; any other attribute came in through `extra=` and is a field of the event.
_RECORD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}
# uvicorn passes a coloured copy of its message as an extra; it is not a field.
_NOT_FIELDS = frozenset({"color_message"})


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a log record: what its call passed as `extra=`."""
    return {
        k: v
        for k, v in record.__dict__.items()
        if k not in _RECORD_ATTRS and k not in _NOT_FIELDS and not k.startswith("_")
    }


def _json_value(value: Any) -> Any:
    # NaN and infinities are not JSON numbers; a log line must stay parseable.
    return None if isinstance(value, float) and not math.isfinite(value) else value


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers; each extra field is a key with its own JSON type."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = record_fields(record)
        for key, value in fields.items():
            doc.setdefault(key, _json_value(value))
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class TextFormatter(logging.Formatter):
    """A line per event for people: the message, then each extra field as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        pairs = " ".join(f"{k}={_text_value(v)}" for k, v in record_fields(record).items())
        return f"{line} {pairs}" if pairs else line


def _text_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value)
    # Quoted when a space or quote would make the pair ambiguous to read back.
    return json.dumps(text) if not text or any(c.isspace() or c in '"=' for c in text) else text


def setup_logging(fmt: LogFormat, level: str = "INFO") -> None:
    """Send driftwatch's, uvicorn's and Python's warnings to stderr, one line per event."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # Warnings from libraries (pandas, scikit-learn, ...) become log events in the same format.
    logging.captureWarnings(True)


class _Server(uvicorn.Server):
    """uvicorn, but the daemon stops intake (503) the moment a signal arrives."""

    def __init__(self, config: uvicorn.Config, daemon: Daemon):
        super().__init__(config)
        self.daemon = daemon

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.daemon.draining:
            log.info("received signal: stopping intake and shutting down", extra={"signal": signal.Signals(sig).name})
        self.daemon.draining = True
        super().handle_exit(sig, frame)
        # uvicorn re-raises a captured signal after shutdown; a drained, flushed daemon exits 0 instead.
        self._captured_signals.clear()


def _on_hangup(loop: asyncio.AbstractEventLoop, daemon: Daemon) -> None:
    log.info("received signal: reloading references", extra={"signal": "SIGHUP"})
    loop.run_in_executor(None, daemon.reload_references, "signal")


def serve(config: Config, *, log_format: LogFormat = "text", host: str | None = None, port: int | None = None) -> None:
    """Start the daemon and its HTTP server; returns after a graceful shutdown."""
    setup_logging(log_format)
    host = host or config.server.host
    refuse_open_listener(config, host)
    if config.ingest.token:
        log.warning("ingest.token is deprecated: list it under server.auth.tokens with scopes [ingest]")
    allocator = return_freed_memory()
    if allocator:
        log.info("allocator set to return freed memory", extra={"changed": ", ".join(allocator)})
    daemon = Daemon(config)
    daemon.restore_in_background = True  # the server answers (/healthz, /readyz "restoring") while spools replay

    @asynccontextmanager
    async def lifespan(_app: Any):
        daemon.start()
        loop = asyncio.get_running_loop()
        # SIGHUP reloads every reference; the handler runs as an event-loop callback, the reload in a thread.
        loop.add_signal_handler(signal.SIGHUP, _on_hangup, loop, daemon)
        daemon.start_restores()
        try:
            yield
        finally:
            t0 = time.monotonic()
            daemon.stop(timeout=SHUTDOWN_TIMEOUT)
            log.info("shutdown finished", extra={"seconds": round(time.monotonic() - t0, 3)})

    app = create_app(daemon)
    app.router.lifespan_context = lifespan
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # not fatal while the daemon starts; then it reloads references
    server = _Server(
        uvicorn.Config(
            app,
            host=host,
            port=config.server.port if port is None else port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        ),
        daemon,
    )
    server.run()
