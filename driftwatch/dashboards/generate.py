"""Render the dashboards to JSON files, or check that the committed files are up to date."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard as dashboard_b
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dashboard_m

from driftwatch.dashboards import health, monitor, overview

# uid -> builder; each dashboard is written to <uid>.json.
DASHBOARDS: dict[str, Callable[[], dashboard_b.Dashboard]] = {
    overview.UID: overview.build,
    monitor.UID: monitor.build,
    health.UID: health.build,
}
# The repository's dashboards/ folder (this module lives in driftwatch/dashboards/).
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "dashboards"


def to_json(builder: dashboard_b.Dashboard) -> str:
    """Stable JSON for a dashboard: panels numbered in order, keys sorted, two-space indent, final newline."""
    model = builder.build()
    _number_panels(model)
    data = json.loads(json.dumps(model, cls=JSONEncoder))
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def render_all() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {f"{uid}.json": to_json(build()) for uid, build in DASHBOARDS.items()}


def write(directory: Path = DEFAULT_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render_all().items():
        path = directory / name
        path.write_text(text)
        written.append(path)
    return written


def stale(directory: Path = DEFAULT_DIR) -> list[str]:
    """Names of the files in `directory` that are missing or differ from what the generator writes."""
    return [
        name
        for name, text in render_all().items()
        if not (directory / name).is_file() or (directory / name).read_text() != text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m driftwatch.dashboards", description="Generate driftwatch's Grafana dashboards."
    )
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"output folder (default: {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    if args.check:
        names = stale(args.dir)
        for name in names:
            print(f"{args.dir / name} is out of date: run `python -m driftwatch.dashboards`", file=sys.stderr)
        return 1 if names else 0
    for path in write(args.dir):
        print(path)
    return 0


def _number_panels(model: dashboard_m.Dashboard) -> None:
    # Grafana needs distinct panel ids (links to a panel, "view panel"); number them in layout order.
    next_id = 1
    for panel in model.panels or []:
        panel.id_val = next_id
        next_id += 1
        for inner in getattr(panel, "panels", None) or []:
            inner.id_val = next_id
            next_id += 1
