"""File source: ingest the files a model server's request logger writes, each exactly once across restarts."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from driftwatch import readers
from driftwatch.config import FileSourceSettings
from driftwatch.errors import DataError
from driftwatch.storage import HistoryStore

if TYPE_CHECKING:
    from driftwatch.daemon import Daemon

log = logging.getLogger(__name__)


def ingest_new_files(daemon: Daemon, monitor: str, settings: FileSourceSettings, now: float) -> int:
    """Ingest every settled file not ingested before; returns the number of files ingested.

    The file's identity (path, size, mtime) travels with its rows into the spool, so a crash between
    spooling and recording progress is repaired at restart (`mark_restored_file`) instead of re-ingesting.
    """
    try:
        files = readers.resolve_files(settings.path)
    except DataError:
        return 0  # nothing written yet
    done = 0
    for path in files:
        st = path.stat()
        if now - st.st_mtime < settings.settle_seconds:
            continue
        if daemon.store.file_seen(monitor, path, st.st_size, st.st_mtime_ns):
            continue
        try:
            table = readers.read_file(path, settings.format)
        except DataError as exc:
            log.error("monitor=%s file %s cannot be read and is skipped: %s", monitor, path, exc)
            daemon.store.mark_file(monitor, path, st.st_size, st.st_mtime_ns, 0)
            daemon.live(monitor).counters.reject("unreadable_file", 1)
            continue
        source = json.dumps({"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        outcome = daemon.ingest(monitor, table, source=source)
        daemon.store.mark_file(monitor, path, st.st_size, st.st_mtime_ns, outcome.accepted)
        log.info("monitor=%s ingested %d rows from %s", monitor, outcome.accepted, path)
        done += 1
    return done


def mark_restored_file(store: HistoryStore, monitor: str, source: str) -> None:
    """Record a file whose rows the spool already held at restart, so it is not ingested twice."""
    try:
        info = json.loads(source)
    except ValueError:
        return
    if not store.file_seen(monitor, info["path"], info["size"], info["mtime_ns"]):
        store.mark_file(monitor, info["path"], info["size"], info["mtime_ns"], 0)
