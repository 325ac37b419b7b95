"""Run the daemon behind uvicorn, with graceful shutdown on SIGTERM/SIGINT and line-per-event logs."""

from __future__ import annotations

import json
import logging
import signal
import sys
import time
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any, Literal

import uvicorn

from driftwatch.config import Config
from driftwatch.serve.daemon import Daemon
from driftwatch.serve.routes import create_app

LogFormat = Literal["text", "json"]
# How long a running check may take to finish at shutdown.
SHUTDOWN_TIMEOUT = 30.0


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # "monitor=x check=7 ..." fields become keys too, so shippers can filter on them.
        for part in doc["message"].split():
            key, sep, value = part.partition("=")
            if sep and key.isidentifier() and key not in doc:
                doc[key] = value
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc)


def setup_logging(fmt: LogFormat, level: str = "INFO") -> None:
    """Send driftwatch's and uvicorn's logs to stderr, one line per event."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


class _Server(uvicorn.Server):
    """uvicorn, but the daemon stops intake (503) the moment a signal arrives."""

    def __init__(self, config: uvicorn.Config, daemon: Daemon):
        super().__init__(config)
        self.daemon = daemon

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.daemon.draining:
            logging.getLogger(__name__).info("received %s: stopping intake and shutting down", signal.Signals(sig).name)
        self.daemon.draining = True
        super().handle_exit(sig, frame)
        # uvicorn re-raises a captured signal after shutdown; a drained, flushed daemon exits 0 instead.
        self._captured_signals.clear()


def serve(config: Config, *, log_format: LogFormat = "text", host: str | None = None, port: int | None = None) -> None:
    """Start the daemon and its HTTP server; returns after a graceful shutdown."""
    setup_logging(log_format)
    daemon = Daemon(config)

    @asynccontextmanager
    async def lifespan(_app: Any):
        daemon.start()
        try:
            yield
        finally:
            t0 = time.monotonic()
            daemon.stop(timeout=SHUTDOWN_TIMEOUT)
            logging.getLogger(__name__).info("shutdown finished in %.1fs", time.monotonic() - t0)

    app = create_app(daemon)
    app.router.lifespan_context = lifespan
    server = _Server(
        uvicorn.Config(
            app,
            host=host or config.server.host,
            port=config.server.port if port is None else port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        ),
        daemon,
    )
    server.run()
