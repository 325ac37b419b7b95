"""Stored checks for the terminal: the recent-checks table, one check's header and feature table, and their JSON."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from driftwatch.checks import render
from driftwatch.checks.results import FeatureResult, by_severity, severity
from driftwatch.history.explanation import COLUMNS, cells, explanation_of
from driftwatch.storage import CheckRecord, FeatureRecord
from driftwatch.storage.samples import sample_info
from driftwatch.types import Status

if TYPE_CHECKING:
    from rich.table import Table

# Features named per check in the recent-checks table.
WORST = 3
LIST_COLUMNS = (
    "id",
    "time (UTC)",
    "window (UTC)",
    "rows",
    "status",
    "verdict",
    "drifted",
    f"worst {WORST}",
    "OOD",
    "trigger",
    "reference",
)
_RIGHT = frozenset({"id", "rows", "drifted", "OOD"})


def iso(t: float | None) -> str:
    """An epoch time as ISO 8601 UTC to the second, "-" when unknown."""
    if t is None or not math.isfinite(t):
        return "-"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def window(c: CheckRecord) -> str:
    """The check's window bounds; the end without its date when on the start's day."""
    start, end = iso(c.window_start), iso(c.window_end)
    if start == end == "-":
        return "-"
    same_day = start[:10] == end[:10] and start != "-"
    return f"{start} → {end[11:] if same_day else end}"


def verdict(c: CheckRecord) -> str:
    """DRIFT, ok, or "no verdict" when the check had too few rows to judge."""
    if c.status != Status.OK:
        return "no verdict"
    return "DRIFT" if c.dataset_drift else "ok"


def worst(c: CheckRecord, n: int = WORST) -> list[FeatureResult]:
    """The check's n features most past (or nearest) their decision line, drifted first; none when not loaded."""
    if c.features is None:
        return []
    return by_severity([f.to_result(c.rows) for f in c.features])[:n]


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.1f}%"


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def list_table(records: list[CheckRecord], title: str) -> Table:
    """One row per check, newest first as given; the monitor leads when several are listed."""
    from rich.table import Table

    several = len({c.monitor for c in records}) > 1
    table = Table(title=title, title_justify="left")
    for col in ("monitor", *LIST_COLUMNS) if several else LIST_COLUMNS:
        table.add_column(col, justify="right" if col in _RIGHT else "left")
    for c in records:
        said = verdict(c)
        shown = {"DRIFT": "[bold red]DRIFT[/]", "ok": "[green]ok[/]"}.get(said, "[yellow]no verdict[/]")
        named = [f"[red]{escape(f.name)}[/]" if f.drifted else escape(f.name) for f in worst(c)]
        status = c.status.value + (" (error)" if c.error else "")
        row = (
            str(c.id),
            iso(c.started_at),
            window(c),
            str(c.rows),
            status,
            shown,
            f"{c.drifted_features}/{c.judged_features}",
            ", ".join(named) or "-",
            _pct(c.ood.rate if c.ood is not None else None),
            c.trigger,
            escape(c.reference_version),
        )
        table.add_row(*((c.monitor, *row) if several else row))
    return table


def list_document(records: list[CheckRecord], monitors: list[str], since: float, until: float | None) -> dict[str, Any]:
    """The JSON of `driftwatch checks`: each check as the API lists it, with its verdict and worst features."""
    return {
        "monitors": monitors,
        "since": since,
        "until": until,
        "checks": [
            {
                **replace(c, features=None).to_dict(),
                "verdict": verdict(c),
                "worst_features": [
                    {"name": f.name, "drifted": f.drifted, "status": f.status.value, "severity": _finite(severity(f))}
                    for f in worst(c)
                ],
            }
            for c in records
        ],
    }


def header_lines(c: CheckRecord) -> list[str]:
    """What a check was: its monitor, time, trigger, reference and window, the rows it saw; its verdict and rule."""
    result = c.to_result()
    rows = f"{c.rows} rows checked"
    rules = c.ood.rules if c.ood is not None else None
    if rules is not None and rules.rows > c.rows:
        rows += f", sampled from {rules.rows} the window received"
    lines = [
        f"[bold]check {c.id}[/] of {escape(c.monitor)}, {iso(c.started_at)} ({c.duration_seconds:.2f} s),"
        f" trigger {c.trigger}, reference {escape(c.reference_version)}",
        f"Window: {window(c)}; {rows}.",
    ]
    if c.error:
        lines.append(f"[bold red]Error:[/] {escape(c.error)}")
    lines.append(escape(render.summary_line(result)))
    lines.append(escape(render.decision_line(result)))
    if (ood := render.ood_line(result)) is not None:
        lines.append(escape(ood))
    return lines


def _explanations(c: CheckRecord) -> dict[str, dict[str, Any] | None]:
    records: tuple[FeatureRecord, ...] = c.features or ()
    return {f.name: explanation_of(f) for f in records}


def feature_table(c: CheckRecord) -> Table:
    """The per-feature table of `driftwatch check`, worst first, with explanation columns when any were stored."""
    result = c.to_result()
    explained = _explanations(c)
    if any(e is not None for e in explained.values()):

        def explain(f: FeatureResult) -> tuple[str, ...]:
            return tuple(escape(cell) for cell in cells(explained.get(f.name) or explanation_of(f)))

        table = render.to_table(result, COLUMNS, explain)
    else:
        table = render.to_table(result)
    # The header carries the verdict and rule, and text_lines follow the table.
    table.title = None
    table.caption = None
    return table


def text_lines(c: CheckRecord) -> list[str]:
    """The text block: per text feature its languages, new languages and code-switching."""
    return [escape(line) for line in render.text_lines(c.to_result())]


def show_document(c: CheckRecord, data_dir: Path) -> dict[str, Any]:
    """The JSON of `driftwatch show`: the check as GET /v1/checks/{id} answers it, its sample block included."""
    return {**c.to_dict(), "sample": sample_info(data_dir, c.monitor, c.started_at, c.trigger).to_dict()}


def sample_line(c: CheckRecord, data_dir: Path) -> str:
    """Where the window sample the check judged is, or why it is not kept."""
    info = sample_info(data_dir, c.monitor, c.started_at, c.trigger)
    if info.kept:
        return f"Sample: {info.rows:,} rows kept, redacted, at {data_dir / str(info.path)}."
    return f"Sample: not kept ({info.reason})."
