"""`driftwatch report CHECK_ID` and `driftwatch compare`: the HTML report of a stored check, or of two files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from driftwatch.checks.render import summary_line
from driftwatch.config import MonitorConfig
from driftwatch.errors import DriftwatchError
from driftwatch.exits import config_or_exit as _config
from driftwatch.exits import fail as _fail
from driftwatch.report.html import render_report

out = Console()
OutputOpt = Annotated[Path, typer.Option("--output", "-o", help="HTML file to write (replaced if it exists).")]


def _write(output: Path, page: str, what: str) -> None:
    try:
        output.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {output}: {exc.strerror or exc}") from None
    out.print(f"wrote the report of {what} to {output}", highlight=False, soft_wrap=True)


def report(
    check_id: Annotated[int, typer.Argument(min=1, help="A stored check's id (GET /v1/monitors/{m}/checks).")],
    config: Annotated[Path, typer.Option("--config", "-c", help="Config file; its storage.url is the history.")],
    output: OutputOpt,
    base_url: Annotated[
        str, typer.Option("--base-url", help="Daemon URL the previous/next links start with (default: none).")
    ] = "",
) -> None:
    """Write a stored check's HTML report, read from the history database (no daemon needed)."""
    from driftwatch.storage import HistoryStore

    cfg = _config(config)
    try:
        with HistoryStore(cfg.storage_url) as store:
            around = store.neighbours(check_id)
            if around is None:
                raise _fail(f"no check with id {check_id} in the history database {store.url}")
            record = store.get_check(check_id)
            found = store.get_exemplars(check_id)
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    if record is None or found is None:
        raise _fail(f"check {check_id} was deleted while it was read")
    page = render_report(record, found[1], previous_id=around[0], next_id=around[1], link_base=base_url.rstrip("/"))
    _write(output, page, f"check {check_id} ({summary_line(record.to_result())})")


def compare(
    reference: Annotated[Path, typer.Option("--reference", help="Reference data: file, folder or glob.")],
    current: Annotated[Path, typer.Option("--current", help="Current data: file, folder or glob.")],
    output: OutputOpt,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config whose monitor says the kinds and tests.")
    ] = None,
    monitor: Annotated[
        str | None, typer.Option("--monitor", "-m", help="Monitor of the config (may be left out with one).")
    ] = None,
) -> None:
    """Compare two files and write the HTML report: no daemon, no database; without --config, kinds are inferred."""
    from driftwatch.checks.engine import run_check
    from driftwatch.monitor import load_monitor
    from driftwatch.reference import readers
    from driftwatch.reference.profile import build_profile

    try:
        if config is not None:
            settings = load_monitor(_config(config), monitor).config
        else:
            settings = MonitorConfig(name=monitor or "compare", reference={"path": str(reference)})
    except ValidationError as exc:
        raise _fail(f"--monitor {monitor!r}: {exc.errors()[0]['msg']}") from None
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    try:
        files = readers.resolve_files(reference)
        ref_table = readers.concat(readers.read_file(f) for f in files)
        cur_table = readers.read_path(current)
        profile = build_profile(ref_table, settings, _digest(files), str(reference))
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    result = run_check(profile, cur_table, settings.drift, ood=settings.ood)
    page = render_report(result, source=f"{current} (current) against {reference} (reference)")
    _write(output, page, summary_line(result))


def _digest(files: list[Path]) -> str:
    """The reference's version: a digest of its files' names and contents, as a monitor's profile names it."""
    total = hashlib.sha256()
    for f in files:
        h = hashlib.sha256()
        try:
            with f.open("rb") as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
        except OSError as exc:
            raise _fail(f"{f}: cannot read: {exc.strerror or exc}") from None
        total.update(f.name.encode() + b"\0" + h.hexdigest().encode())
    return total.hexdigest()[:16]
