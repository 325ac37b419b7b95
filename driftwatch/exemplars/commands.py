"""`driftwatch exemplars CHECK_ID` and `driftwatch exemplars export`: stored OOD exemplars from the history database."""

from __future__ import annotations

import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from driftwatch.errors import DriftwatchError
from driftwatch.exits import config_or_exit as _config
from driftwatch.exits import fail as _fail
from driftwatch.exits import store_or_exit as _store

if TYPE_CHECKING:
    pass

SHOW = "show"


class CheckIdOrCommand(TyperGroup):
    """A group whose first argument is a subcommand or a check id: `exemplars 12` runs `exemplars show 12`.

    click dispatches a group's first argument as a subcommand name only, and `export` must stay a subcommand, so an
    argument that names none is taken as the check id of `show`.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [SHOW, *args]
        return super().parse_args(ctx, args)


exemplars_app = typer.Typer(
    cls=CheckIdOrCommand,
    no_args_is_help=True,
    help="Stored OOD exemplars: `exemplars CHECK_ID` shows a check's, `exemplars export` writes a labelling queue.",
)
out = Console()
ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Config file; its storage.url is the history.")]


class ShowFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@exemplars_app.command(SHOW)
def show(
    check_id: Annotated[int, typer.Argument(min=1, help="A stored check's id (GET /v1/monitors/{m}/checks).")],
    config: ConfigOpt,
    fmt: Annotated[ShowFormat, typer.Option("--format", "-f", help="table, or json as the API.")] = ShowFormat.TABLE,
) -> None:
    """The OOD exemplars a stored check kept, redacted, most novel first (also `driftwatch exemplars CHECK_ID`)."""
    cfg = _config(config)
    with _store(cfg) as store:
        try:
            found = store.get_exemplars(check_id)
        except DriftwatchError as exc:
            raise _fail(str(exc)) from None
        if found is None:
            raise _fail(f"no check with id {check_id} in the history database {store.url}")
    monitor, rows = found
    if fmt == ShowFormat.JSON:
        doc = {"check_id": check_id, "monitor": monitor, "exemplars": [e.to_dict() for e in rows]}
        sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        return
    table = Table(title=f"check {check_id} ({monitor}): {len(rows)} exemplars", title_justify="left")
    for col in ("rank", "reasons", "features", "p-value", "score", "values (redacted)"):
        table.add_column(col)
    for e in rows:
        table.add_row(
            str(e.rank),
            ", ".join(e.reasons),
            ", ".join(e.features),
            "-" if e.p_value is None else f"{e.p_value:.3g}",
            "-" if e.score is None else f"{e.score:.3g}",
            escape(json.dumps(e.values, ensure_ascii=False, sort_keys=True)),
        )
    out.print(table)


@exemplars_app.command("export")
def export(
    config: ConfigOpt,
    monitor: Annotated[str, typer.Option("--monitor", "-m", help="Monitor whose exemplars to export.")],
    since: Annotated[str, typer.Option(help="Period start: 24h, 7d, ... back from now, or an ISO 8601 time.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (replaced if it exists).")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl, csv or label-studio.")] = "jsonl",
    limit: Annotated[int, typer.Option(help="At most this many exemplars (reasons take turns).")] = 100,
) -> None:
    """Write a period's OOD exemplars for labelling: one per fingerprint, every reason represented in turn."""
    from driftwatch.exemplars.formats import export_format
    from driftwatch.exemplars.selection import parse_since, stratify

    cfg = _config(config)
    names = [m.name for m in cfg.monitors]
    if monitor not in names:
        raise _fail(f"unknown monitor '{monitor}' (valid: {', '.join(names) or 'none configured'})")
    try:
        writer = export_format(fmt)
        start = parse_since(since)
        if limit < 1:
            raise ValueError(f"--limit must be at least 1, got {limit}")
    except ValueError as exc:
        raise _fail(str(exc)) from None
    with _store(cfg) as store:
        try:
            found = store.list_exemplars(monitor, since=start)
        except DriftwatchError as exc:
            raise _fail(str(exc)) from None
    items = stratify(found, limit)
    text = io.StringIO()
    try:
        writer.write(items, text)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    try:
        with output.open("w", encoding="utf-8", newline="") as f:
            f.write(text.getvalue())
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from None
    strata = {}
    for item in items:
        strata[item.stratum] = strata.get(item.stratum, 0) + 1
    by_reason = ", ".join(f"{r} {n}" for r, n in strata.items()) or "none"
    out.print(
        f"wrote {len(items)} exemplars ({fmt}) to {output}: {len(found)} kept since"
        f" {since}, {len({e.fingerprint for e in found})} distinct; by reason: {by_reason}",
        highlight=False,
        soft_wrap=True,
    )
