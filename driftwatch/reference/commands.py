"""`driftwatch reference promote|history|restore`: act on a real, expected shift by changing the reference in use."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from driftwatch.config import Config, MonitorConfig, load_config
from driftwatch.config.base import iso_timestamp
from driftwatch.errors import DriftwatchError
from driftwatch.exits import fail as _fail
from driftwatch.reference.versions import HistoryEntry

reference_app = typer.Typer(
    no_args_is_help=True, help="Promote a shift to be the new reference, list versions, restore an earlier one."
)
out = Console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path to the YAML config file.")]
MonitorOpt = Annotated[str, typer.Option("--monitor", "-m", help="Monitor name.")]


def _monitor(path: Path, name: str) -> tuple[Config, MonitorConfig]:
    try:
        cfg = load_config(path)
        return cfg, cfg.monitor(name)
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None


def parse_time(text: str) -> float:
    """Epoch seconds, or an ISO 8601 time (UTC when it names no offset)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return iso_timestamp(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither epoch seconds nor an ISO 8601 time") from None


def _when(t: float | None) -> str:
    return "-" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@reference_app.command("promote")
def promote_command(
    config: ConfigOpt,
    monitor: MonitorOpt,
    reason: Annotated[str, typer.Option("--reason", help="Why the shift is real and expected (kept in history).")],
    check: Annotated[int | None, typer.Option("--check", min=1, help="A stored check whose sample to promote.")] = None,
    since: Annotated[
        str | None, typer.Option("--from", help="Promote the samples of checks started from this time (or epoch s).")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="... up to this time (excluded).")] = None,
    merge: Annotated[bool, typer.Option("--merge", help="Keep the current reference's rows beside the sample's.")] = (
        False
    ),
) -> None:
    """Make a check's window sample (or every check's in --from/--to) the monitor's new reference version."""
    from driftwatch.reference.promote import Selection, promote
    from driftwatch.storage import HistoryStore

    cfg, m = _monitor(config, monitor)
    try:
        selection = Selection(check, parse_time(since) if since else None, parse_time(until) if until else None)
        with HistoryStore(cfg.storage_url) as store:
            entry = promote(
                m,
                cfg.data_dir,
                store,
                selection,
                reason=reason,
                by="cli",
                merge=merge,
                retention_days=cfg.retention_days,
            )
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    source = f"check {check}" if check is not None else f"{len(entry.checks)} check(s) from {since} to {until}"
    merged = f", merged with {entry.previous}" if merge else ""
    say = out.print
    say(
        f"monitor {monitor}: reference version {entry.version} is active ({entry.rows} rows from {source}{merged}; "
        f"previous {entry.previous})",
        highlight=False,
        soft_wrap=True,
    )
    watch = m.reference.watch_interval
    if watch is not None:
        say(f"a running daemon loads it within {watch:g} s (reference.watch_interval)", highlight=False)
    else:
        say(f"a running daemon loads it on POST /v1/monitors/{monitor}/reference/reload or SIGHUP", highlight=False)
    say(
        f"undo: driftwatch reference restore -c {config} --monitor {monitor} --version {entry.previous}",
        highlight=False,
        soft_wrap=True,
    )


@reference_app.command("restore")
def restore_command(
    config: ConfigOpt,
    monitor: MonitorOpt,
    version: Annotated[str, typer.Option("--version", help="A version of `reference history`, or `config`.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in history).")] = "restored",
) -> None:
    """Make an earlier reference version active again (`config`: the configured reference)."""
    from driftwatch.reference import versions

    cfg, m = _monitor(config, monitor)
    try:
        entry = versions.restore(cfg.data_dir, m.name, version, reason=reason, by="cli", now=time.time())
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    out.print(f"monitor {monitor}: reference version {version} is active (was {entry.previous})", highlight=False)


@reference_app.command("history")
def history_command(
    config: ConfigOpt,
    monitor: MonitorOpt,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document instead of a table.")] = False,
) -> None:
    """List a monitor's reference versions, promotions and restores; the active version is marked."""
    from driftwatch.reference import versions

    cfg, m = _monitor(config, monitor)
    try:
        active = versions.active_version(cfg.data_dir, m.name)
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    entries = versions.read_history(cfg.data_dir, m.name)
    kept = versions.promoted_versions(cfg.data_dir, m.name)
    if as_json:
        doc = {
            "monitor": m.name,
            "active": active,
            "base": m.reference.path or "SQL query",
            "versions": [versions.BASE, *kept],
            "history": [e.to_dict() for e in entries],
        }
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(title=f"{m.name}: reference in use {active}", title_justify="left")
    for col in ("when", "action", "version", "rows", "from", "merged", "previous", "by", "reason"):
        table.add_column(col)
    marked = _last_of(entries, active)
    base = versions.BASE + (" (active)" if marked is None and active == versions.BASE else "")
    table.add_row("-", "base", base, "-", m.reference.path or "SQL query", "-", "-", "config", "-")
    for e in entries:
        origin = ", ".join(f"check {c}" for c in e.checks) if e.since is None else f"{_when(e.since)}..{_when(e.until)}"
        table.add_row(
            _when(e.created_at),
            e.action,
            e.version + (" (active)" if e is marked else ""),
            "-" if e.rows is None else str(e.rows),
            origin if e.action == "promote" else "-",
            "-" if e.action != "promote" else ("yes" if e.merged else "no"),
            e.previous,
            e.by,
            escape(e.reason),
        )
    (out if out.is_terminal else Console(file=out.file, width=240)).print(table)


def _last_of(entries: list[HistoryEntry], version: str) -> HistoryEntry | None:
    """The latest entry that made `version` active, the one to mark."""
    return next((e for e in reversed(entries) if e.version == version), None)
