"""File source: ingest the files a model server's request logger writes, each exactly once across restarts."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pyarrow as pa

from driftwatch.config import FileSourceSettings
from driftwatch.errors import DataError
from driftwatch.reference import readers
from driftwatch.storage import HistoryStore

#: Spools a file's rows for the monitor (durable on return) and returns how many were accepted.
IngestFile = Callable[[pa.Table, str], int]

log = logging.getLogger(__name__)


def ingest_new_files(
    store: HistoryStore,
    monitor: str,
    settings: FileSourceSettings,
    now: float,
    ingest: IngestFile,
    reject: Callable[[str, int], None],
) -> int:
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
        if store.file_seen(monitor, path, st.st_size, st.st_mtime_ns):
            continue
        try:
            table = readers.read_file(path, settings.format)
        except DataError as exc:
            log.error("unreadable file skipped", extra={"monitor": monitor, "path": str(path), "error": str(exc)})
            store.mark_file(monitor, path, st.st_size, st.st_mtime_ns, 0)
            reject("unreadable_file", 1)
            continue
        source = json.dumps({"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns})
        accepted = ingest(table, source)
        store.mark_file(monitor, path, st.st_size, st.st_mtime_ns, accepted)
        log.info("file ingested", extra={"monitor": monitor, "rows": accepted, "path": str(path)})
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
