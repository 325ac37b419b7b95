"""The `driftwatch` command line: validate config, profile references, run one-shot checks."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from driftwatch import __version__
from driftwatch.config import MonitorConfig
from driftwatch.errors import DriftwatchError
from driftwatch.exemplars.commands import exemplars_app
from driftwatch.exits import config_or_exit as _load
from driftwatch.exits import err
from driftwatch.exits import fail as _fail
from driftwatch.history import commands as history
from driftwatch.reference.commands import reference_app
from driftwatch.report import commands as report_commands
from driftwatch.types import Kind

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Watch model inputs drift away from their reference."
)
config_app = typer.Typer(no_args_is_help=True, help="Work with configuration files.")
app.add_typer(config_app, name="config")
app.add_typer(exemplars_app, name="exemplars")
history.register(app)
app.add_typer(reference_app, name="reference")
app.command("report")(report_commands.report)
app.command("compare")(report_commands.compare)

out = Console()

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path to the YAML config file.")]
MonitorOpt = Annotated[str | None, typer.Option("--monitor", "-m", help="Monitor name (default: every monitor).")]
# Inputs larger than this get a progress bar.
PROGRESS_ROWS = 100_000


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    MARKDOWN = "markdown"


def _version(value: bool) -> None:
    if value:
        out.print(f"driftwatch {__version__}", highlight=False)
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Watch model inputs drift away from their reference."""


@config_app.command("validate")
def config_validate(config: ConfigOpt) -> None:
    """Check a config file and open each reference; print a summary, or every problem, and exit 2."""
    cfg = _load(config)
    shapes: dict[str, tuple[int, int]] = {}
    problems = []
    for m in cfg.monitors:
        try:
            shapes[m.name] = _reference_shape(m)
        except DriftwatchError as exc:  # the message names the file, or says the query failed
            named = str(exc).startswith(f"monitor '{m.name}'")
            problems.append(str(exc) if named else f"monitor '{m.name}': {exc}")
    status = "[bold red]invalid[/]" if problems else "[green]ok[/]"
    say = partial(out.print, highlight=False, soft_wrap=True)
    say(f"{status} {config}: {len(cfg.monitors)} monitor(s), data_dir {cfg.data_dir}")
    for m in cfg.monitors:
        src = m.reference.path or "SQL query"
        shape = f"{shapes[m.name][0]} rows, {shapes[m.name][1]} columns" if m.name in shapes else "cannot be read"
        say(f"\n[bold]{m.name}[/]  reference: {src} ({shape})")
        if not m.features:
            say("  features: every reference column (kinds inferred; see `driftwatch profile`)")
        for name, spec in m.features.items():
            kind = spec.kind.value if spec.kind else "inferred"
            method = spec.method or (m.drift.methods.get(spec.kind) if spec.kind else None)
            threshold = f", threshold {spec.threshold}" if spec.threshold is not None else ""
            say(f"  {name}: {kind}, {_judged_by(m, spec.kind, method)}{threshold}")
        if m.ignore:
            say(f"  ignored: {', '.join(m.ignore)}")
        say(f"  ood: {_ood_summary(m, shapes[m.name][0] if m.name in shapes else None)}")
    if problems:
        for problem in problems:
            err.print(f"[bold red]error:[/] {escape(problem)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _judged_by(monitor: MonitorConfig, kind: Kind | None, method: str | None) -> str:
    """How a feature is judged: its method, and for a text feature the signals derived from it."""
    named = f"method {method}" if method else None
    if kind != Kind.TEXT or not monitor.text.signals:
        return named or "method evidently default"
    signals = f"text signals {', '.join(monitor.text.signals)}"
    return f"{named}, and its {signals}" if named else f"judged through its {signals}"


def _ood_summary(monitor: MonitorConfig, rows: int | None) -> str:
    """The OOD reasons a monitor runs, and why novelty cannot run on a reference that small."""
    from driftwatch.ood.detector import shortfall
    from driftwatch.reference.profile import ROW_SAMPLE

    ood = monitor.ood
    if not ood.enabled:
        return "disabled"
    # The text reasons judge text signals: a monitor that derives none never runs them.
    text_reasons = ("unseen_language", "unseen_script")
    on = [name for name, rule in ood.reasons if rule.enabled and (monitor.text.signals or name not in text_reasons)]
    line = ", ".join(on) or "no reason enabled"
    if "novel" in on:
        why = shortfall(min(rows, ROW_SAMPLE), ood.reasons.novel, ood.alpha) if rows is not None else None
        line += f" (novel at alpha {ood.alpha:g})" if why is None else f"; novel disabled: {why}"
    return line


def _reference_shape(monitor: MonitorConfig) -> tuple[int, int]:
    """Rows and columns of a monitor's reference, read the way its profile reads it, and its features checked."""
    from driftwatch.reference import readers
    from driftwatch.reference.schema import infer_schema

    ref = monitor.reference
    if ref.path is not None:
        table = readers.concat(readers.read_file(f, ref.format) for f in readers.resolve_files(ref.path))
    else:
        assert ref.query is not None and ref.url is not None
        table = readers.read_sql(ref.url, ref.query)
    infer_schema(table, monitor)  # a feature missing from it, or text without strings, is a problem now
    return table.num_rows, table.num_columns


@app.command()
def profile(config: ConfigOpt, monitor: MonitorOpt = None) -> None:
    """Build (or load) each reference profile and print its schema: kind, why, missing share, range."""
    from driftwatch.monitor import Monitor, load_monitor

    cfg = _load(config)
    try:
        monitors = [load_monitor(cfg, monitor)] if monitor else [Monitor(m, cfg.data_dir) for m in cfg.monitors]
        for m in monitors:
            with err.status(f"profiling {m.name} reference"):
                prof = m.profile
            _print_table(_schema_table(prof))
    except (DriftwatchError, KeyError) as exc:
        raise _fail(str(exc)) from None


def _schema_table(prof) -> Table:
    table = Table(title=f"{prof.monitor}: {prof.rows} reference rows, version {prof.version}", title_justify="left")
    for col in ("feature", "kind", "why", "missing", "cardinality / range"):
        table.add_column(col)
    for f in prof.features:
        if f.numeric is not None:
            n = f.numeric
            detail = f"{n.min:.4g} .. {n.max:.4g} (median {n.quantiles.get('p50', float('nan')):.4g})"
        elif f.categorical is not None:
            shown = ", ".join(map(str, f.categorical.categories[:6]))
            more = " ..." if f.categorical.n_unique > 6 else ""
            detail = f"{f.categorical.n_unique} categories: {shown}{more}"
        else:
            assert f.text is not None
            detail = f"length mean {f.text.length_mean:.0f}, p95 {f.text.length_p95:.0f} chars"
        name = f"{f.name} (prediction)" if f.schema.prediction else f.name
        table.add_row(name, f.kind.value, f.schema.reason, f"{f.missing_rate * 100:.1f}%", detail)
    for s in prof.skipped:
        table.add_row(s.name, "-", s.reason, "-", "-", style="dim")
    return table


@app.command()
def check(
    config: ConfigOpt,
    current: Annotated[Path, typer.Option("--current", help="Current data: file, folder or glob.")],
    monitor: Annotated[
        str | None, typer.Option("--monitor", "-m", help="Monitor to check (may be left out with one monitor).")
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = OutputFormat.TABLE,
    fail_on_drift: Annotated[bool, typer.Option("--fail-on-drift", help="Exit 1 on dataset drift.")] = False,
) -> None:
    """Compare a batch of current data with a monitor's reference; exit 1 on drift with --fail-on-drift."""
    from driftwatch.checks import render
    from driftwatch.monitor import as_table, load_monitor

    cfg = _load(config)
    try:
        m = load_monitor(cfg, monitor)
        with err.status("reading current data and reference profile"):
            table = as_table(current)
            prof = m.profile
        if table.num_rows > PROGRESS_ROWS and err.is_terminal:
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task("comparing features", total=len(prof.features))
                result = m.check(table, on_feature=lambda _: progress.advance(task))
        else:
            result = m.check(table)
    except (DriftwatchError, KeyError) as exc:
        raise _fail(str(exc)) from None
    if fmt == OutputFormat.JSON:
        sys.stdout.write(json.dumps(result.to_dict(), indent=2) + "\n")
    elif fmt == OutputFormat.MARKDOWN:
        sys.stdout.write(render.to_markdown(result))
    else:
        _print_table(render.to_table(result))
    if fail_on_drift and result.dataset_drift:
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of `check --format json` (its schema_version field says which)."""
    import json

    from driftwatch.serve.schemas import check_document_schema

    typer.echo(json.dumps(check_document_schema(), indent=2, sort_keys=True))


def _print_table(table: Table) -> None:
    from driftwatch.checks.render import print_table

    print_table(out, table)


def main() -> None:
    """Entry point for `python -m driftwatch`."""
    app()


@app.command("demo-batch")
def demo_batch(
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write (.csv, .parquet or .jsonl).")],
    rows: Annotated[int, typer.Option(min=0, help="Rows to generate.")] = 1000,
    drift: Annotated[float, typer.Option(min=0.0, max=1.0, help="0: like the reference, 1: heavily drifted.")] = 0.8,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Write a production-like batch for the example triage monitor."""
    from driftwatch import demo
    from driftwatch.reference import readers

    table = demo.production_batch(rows, drift, seed)
    try:
        readers.write_file(table, output)
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    out.print(f"wrote {rows} rows (drift {drift}) to {output}", highlight=False)


db_app = typer.Typer(no_args_is_help=True, help="Manage the history database.")
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt) -> None:
    """Create or migrate the history database to the current schema."""
    from driftwatch import storage

    cfg = _load(config)
    try:
        storage.upgrade(cfg.storage_url)
    except DriftwatchError as exc:
        raise _fail(str(exc)) from None
    out.print(f"history database is up to date: {storage.mask_url(cfg.storage_url)}", highlight=False)


class LogFormatOpt(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command()
def run(
    config: ConfigOpt,
    log_format: Annotated[LogFormatOpt, typer.Option("--log-format", help="text, or json for log shippers.")] = (
        LogFormatOpt.TEXT
    ),
    host: Annotated[str | None, typer.Option(help="Override server.host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override server.port.")] = None,
) -> None:
    """Run the daemon: ingest live rows, check them on schedule, keep the history."""
    from driftwatch.serve.server import serve

    cfg = _load(config)
    try:
        serve(cfg, log_format=log_format.value, host=host, port=port)
    except DriftwatchError as exc:  # e.g. a PostgreSQL URL without its driver installed
        raise _fail(str(exc)) from None


@app.command()
def replay(
    config: ConfigOpt,
    monitor: Annotated[str, typer.Option("--monitor", "-m", help="Monitor to send rows to.")] = "triage",
    url: Annotated[str | None, typer.Option(help="Daemon URL (default: from config server.*).")] = None,
    batches: Annotated[int, typer.Option(min=1, help="Batches to send.")] = 10,
    rows: Annotated[int, typer.Option(min=1, help="Rows per batch.")] = 500,
    drift: Annotated[float, typer.Option(min=0.0, max=1.0, help="Drift of the last batch; it ramps up from 0.")] = 0.8,
    check: Annotated[bool, typer.Option(help="Ask for a check after sending.")] = True,
) -> None:
    """Stream example production-like batches (clean, then drifting) into a running daemon."""
    import httpx
    import pyarrow as pa

    from driftwatch import demo

    cfg = _load(config)
    base = url or f"http://{cfg.server.host}:{cfg.server.port}"
    headers = {"content-type": "application/vnd.apache.arrow.stream"}
    ingest_token, admin_token = cfg.token_for("ingest"), cfg.token_for("admin")
    if ingest_token:
        headers["authorization"] = f"Bearer {ingest_token}"
    with httpx.Client(base_url=base, timeout=60, headers=headers) as client:
        try:
            for i in range(batches):
                level = drift * i / max(1, batches - 1)
                table = demo.production_batch(rows, level, seed=1000 + i)
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as w:
                    w.write_table(table)
                resp = client.post(f"/v1/monitors/{monitor}/rows", content=sink.getvalue().to_pybytes())
                if resp.status_code != 202:
                    raise _fail(f"{base} answered {resp.status_code}: {resp.text}")
                out.print(f"batch {i + 1}/{batches}: drift {level:.2f}, accepted {resp.json()['accepted']} rows")
            if check:
                check_headers = {"content-type": "application/json"}
                if admin_token:
                    check_headers["authorization"] = f"Bearer {admin_token}"
                resp = client.post(f"/v1/monitors/{monitor}/checks", headers=check_headers)
                if resp.status_code != 200:
                    raise _fail(f"check failed: {resp.status_code}: {resp.text}")
                doc = resp.json()
                drifted = [f["name"] for f in doc["features"] if f["drifted"]]
                verdict = "DATASET DRIFT" if doc["dataset_drift"] else "no dataset drift"
                out.print(f"check {doc['id']}: {verdict} on {doc['rows']} rows; drifted: {', '.join(drifted) or '-'}")
                out.print(f"history: {base}/v1/monitors/{monitor}/checks")
        except httpx.HTTPError as exc:
            raise _fail(f"cannot reach the daemon at {base}: {exc} (is `make run` running?)") from None
