"""How every command line fails: a red message on stderr naming the problem, exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from driftwatch.config import Config, load_config
from driftwatch.errors import DriftwatchError

if TYPE_CHECKING:
    from driftwatch.storage import HistoryStore

err = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """Print the problem and return the exit to raise (`raise fail(...)`)."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def config_or_exit(path: Path) -> Config:
    """The configuration, or exit 2 naming what is wrong with it."""
    try:
        return load_config(path)
    except DriftwatchError as exc:
        raise fail(str(exc)) from None


def store_or_exit(cfg: Config) -> HistoryStore:
    """The configuration's history database, or exit 2 with the store's message."""
    from driftwatch.storage import HistoryStore

    try:
        return HistoryStore(cfg.storage_url)
    except DriftwatchError as exc:
        raise fail(str(exc)) from None
