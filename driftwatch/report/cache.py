"""Rendered reports kept on disk: a stored check never changes, so its page is rendered once per renderer version.

A page also links the monitor's previous and next checks, which appear later (the next check) or move (a check
stored late from the outbox, retention), so their ids are part of the file's name with the renderer's version.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from driftwatch.report.html import RENDERER_VERSION

log = logging.getLogger(__name__)
# Folder under data_dir; any file in it may be deleted at any time (it is rendered again on request).
FOLDER = "reports"
# Most pages kept; the least recently written beyond it are deleted, so the folder stays bounded.
MAX_FILES = 1000


def cache_name(check_id: int, previous_id: int | None, next_id: int | None) -> str:
    """The file name of a check's page with these neighbours, rendered by this version."""
    return f"{check_id}-v{RENDERER_VERSION}-p{previous_id or 0}-n{next_id or 0}.html"


class ReportCache:
    """Pages under one folder, named by cache_name; reading a missing page is None, never an error."""

    def __init__(self, folder: Path, max_files: int = MAX_FILES) -> None:
        if max_files < 1:
            raise ValueError(f"max_files must be at least 1, got {max_files}")
        self.folder = folder
        self.max_files = max_files

    def path(self, check_id: int, previous_id: int | None, next_id: int | None) -> Path:
        return self.folder / cache_name(check_id, previous_id, next_id)

    def read(self, check_id: int, previous_id: int | None, next_id: int | None) -> bytes | None:
        """The cached page, or None when it was never rendered (or was deleted)."""
        try:
            return self.path(check_id, previous_id, next_id).read_bytes()
        except FileNotFoundError:
            return None

    def write(self, check_id: int, previous_id: int | None, next_id: int | None, page: bytes) -> Path:
        """Keep a page (atomically: a reader sees the old file or the whole new one) and drop the check's others."""
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.path(check_id, previous_id, next_id)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(page)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        for old in self.folder.glob(f"{check_id}-v*.html"):
            if old != target:
                old.unlink(missing_ok=True)
        self._prune()
        return target

    def _prune(self) -> None:
        pages = list(self.folder.glob("*.html"))
        if len(pages) <= self.max_files:
            return
        dated = sorted(pages, key=lambda p: p.stat().st_mtime_ns if p.exists() else 0)
        for old in dated[: len(pages) - self.max_files]:
            old.unlink(missing_ok=True)
        log.info("report cache pruned", extra={"deleted": len(pages) - self.max_files, "folder": str(self.folder)})
