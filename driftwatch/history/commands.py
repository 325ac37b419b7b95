"""`driftwatch checks` and `driftwatch show`: recent checks from the history database, and one check in full."""

from __future__ import annotations

import json
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from driftwatch.config.base import iso_timestamp, parse_duration
from driftwatch.errors import DriftwatchError
from driftwatch.exits import config_or_exit as _config
from driftwatch.exits import fail as _fail
from driftwatch.exits import store_or_exit as _store

if TYPE_CHECKING:
    from driftwatch.storage import CheckRecord

out = Console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Config file; its storage.url is the history.")]
# Checks listed when --limit is not given.
DEFAULT_LIMIT = 20


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, or json (the API's check objects).")]


def register(app: typer.Typer) -> None:
    """Add `checks` and `show` to the `driftwatch` command."""
    app.command("checks")(checks)
    app.command("show")(show)


def parse_time(option: str, text: str, now: float) -> float:
    """Epoch seconds of a duration back from `now` (30m, 6h, 7d) or an ISO 8601 time (bare: UTC); names `option`."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        return iso_timestamp(text)
    except ValueError:
        raise ValueError(
            f"{option} {text!r} is neither a duration (30m, 6h, 7d) nor an ISO 8601 time"
            " (2026-01-31, 2026-01-31T08:00:00Z)"
        ) from None


def _print(lines: list[str]) -> None:
    for line in lines:
        out.print(line, highlight=False, soft_wrap=True)


def checks(
    config: ConfigOpt,
    monitor: Annotated[str | None, typer.Option("--monitor", "-m", help="Monitor (default: every one).")] = None,
    since: Annotated[str, typer.Option(help="From: 30m, 6h, 7d back from now, or an ISO 8601 time.")] = "24h",
    until: Annotated[str | None, typer.Option(help="Before: a duration back from now or an ISO time.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many checks, newest first.")] = DEFAULT_LIMIT,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Recent stored checks, newest first: verdict, drifted features, the worst ones, OOD rate, trigger."""
    from driftwatch.checks.render import print_table
    from driftwatch.history import views

    cfg = _config(config)
    names = [m.name for m in cfg.monitors]
    if monitor is not None and monitor not in names:
        raise _fail(f"unknown monitor '{monitor}' (valid: {', '.join(names) or 'none configured'})")
    wanted = [monitor] if monitor is not None else names
    now = time.time()
    try:
        start = parse_time("--since", since, now)
        end = parse_time("--until", until, now) if until is not None else None
    except ValueError as exc:
        raise _fail(str(exc)) from None
    if end is not None and end <= start:
        raise _fail(f"--until {until!r} ({views.iso(end)}) is not after --since {since!r} ({views.iso(start)})")
    with _store(cfg) as store:
        try:
            found: list[CheckRecord] = [
                c for name in wanted for c in store.list_checks(name, start, end, limit, with_features=True)
            ]
        except DriftwatchError as exc:
            raise _fail(str(exc)) from None
        url = store.url
    found = sorted(found, key=lambda c: (c.started_at, c.id), reverse=True)[:limit]
    if fmt == Format.JSON:
        sys.stdout.write(json.dumps(views.list_document(found, wanted, start, end), indent=2) + "\n")
        return
    period = f"{views.iso(start)} to {views.iso(end) if end is not None else 'now'}"
    if not found:
        _print([f"no checks of {', '.join(wanted) or 'any monitor'} from {period} in {escape(url)}"])
        return
    more = ", the newest" if len(found) == limit else ""
    title = f"{len(found)} checks of {', '.join(wanted)}{more}, {period}"
    print_table(out, views.list_table(found, title))


def show(
    check_id: Annotated[int, typer.Argument(min=1, help="A stored check's id (from `driftwatch checks`).")],
    config: ConfigOpt,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """One stored check: window, rows, verdict and rule, OOD, per-feature results with explanations, text."""
    from driftwatch.checks.render import print_table
    from driftwatch.history import views

    cfg = _config(config)
    with _store(cfg) as store:
        try:
            record = store.get_check(check_id)
        except DriftwatchError as exc:
            raise _fail(str(exc)) from None
        if record is None:
            raise _fail(f"no check with id {check_id} in {store.url}")
    if fmt == Format.JSON:
        sys.stdout.write(json.dumps(views.show_document(record, cfg.data_dir), indent=2, ensure_ascii=False) + "\n")
        return
    _print([*views.header_lines(record), views.sample_line(record, cfg.data_dir)])
    print_table(out, views.feature_table(record))
    _print(views.text_lines(record))
