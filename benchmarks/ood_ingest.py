"""The OOD benchmark's ingestion runs: two real daemons, `ood.enabled: false` and `true`, fed the same /rows bodies.

Both daemons run side by side (`python -m driftwatch run`, loopback, the 25-feature monitor on a Parquet reference,
a one-day tumbling window and schedule so that no check runs); the load generator is the ingestion benchmark's
(ingest_load.py). Rounds alternate which daemon goes first, so a change in the machine's load falls on both alike.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from harness import DaemonProcess, ErrorLog
from ingest_load import LoadSpec, run_load
from ingest_setup import CONTENT_TYPES, serialize, static_headers
from ood_measure import MONITOR, feature_kinds

ROWS_PATH = f"/v1/monitors/{MONITOR}/rows"
VARIANTS = ("ood off", "ood on")
MAX_POOL = 64


def write_config(folder: Path, reference: Path, ood_enabled: bool) -> Path:
    """The benchmark monitor with OOD on or off, data under `folder`, no check during the run."""
    features = "".join(f"      {name}: {kind}\n" for name, kind in feature_kinds().items())
    text = f"""data_dir: {json.dumps(str(folder / "data"))}
monitors:
  - name: {MONITOR}
    reference: {{path: {json.dumps(str(reference))}}}
    features:
{features}    window: {{type: tumbling, duration: 1d}}
    schedule: {{interval: 1d}}
    ood: {{enabled: {"true" if ood_enabled else "false"}}}
"""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.yaml"
    path.write_text(text)
    return path


def bodies(source: pa.Table, fmt: str, batch: int) -> list[bytes]:
    """Up to MAX_POOL distinct bodies of `batch` rows, serialized before timing."""
    count = max(1, min(MAX_POOL, source.num_rows // batch))
    return [serialize(source.slice(i * batch, batch), fmt) for i in range(count)]


@dataclass
class IngestCell:
    """One payload into one daemon, summed over the rounds."""

    payload: str
    variant: str
    rounds: int = 0
    requests: int = 0
    rows: int = 0
    seconds: float = 0.0
    daemon_cpu_s: float = 0.0
    other_cpu_s: float = 0.0
    p50_ms: list[float] = field(default_factory=list)

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def rows_per_cpu_s(self) -> float:
        return self.rows / self.daemon_cpu_s if self.daemon_cpu_s else 0.0

    @property
    def median_p50_ms(self) -> float:
        return statistics.median(self.p50_ms) if self.p50_ms else float("nan")


@dataclass
class IngestResult:
    cells: list[IngestCell]
    startup_s: dict[str, float]
    rss_mb: dict[str, float]

    def ratio(self, payload: str, per_cpu: bool = False) -> float:
        """OOD on over OOD off for `payload`: rows/s (or rows per daemon CPU-second)."""
        by = {(c.payload, c.variant): c for c in self.cells}
        on, off = by[(payload, VARIANTS[1])], by[(payload, VARIANTS[0])]
        if per_cpu:
            return on.rows_per_cpu_s / off.rows_per_cpu_s
        return on.rows_per_s / off.rows_per_s


def _warm(daemon: DaemonProcess, fmt: str, batch: int, pool: list[bytes], errors: ErrorLog) -> int:
    """Send every body once; each reply must accept all of its rows. Returns the rows acknowledged."""
    sent = 0
    with httpx.Client(base_url=daemon.url, timeout=120) as client:
        for body in pool:
            reply = client.post(ROWS_PATH, content=body, headers={"content-type": CONTENT_TYPES[fmt]})
            doc = reply.json() if reply.status_code == 202 else {}
            if doc.get("accepted") != batch or doc.get("rejected") or doc.get("errors"):
                errors.error(f"{fmt} x{batch} warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
                return sent
            sent += batch
    return sent


def measure_ingest(
    folder: Path,
    reference: pa.Table,
    source: pa.Table,
    payloads: list[tuple[str, int]],
    rounds: int,
    duration: float,
    min_requests: int,
    ports: tuple[int | None, int | None],
    errors: ErrorLog,
) -> IngestResult:
    """Rows/s of each payload into the daemon with OOD off and on, alternating, `rounds` x `duration` s each."""
    ref_path = folder / "reference.parquet"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(reference, ref_path)
    pools = {(fmt, batch): bodies(source, fmt, batch) for fmt, batch in payloads}
    daemons: dict[str, DaemonProcess] = {}
    sent = dict.fromkeys(VARIANTS, 0)
    cells = {(f"{fmt} x{b}", v): IngestCell(f"{fmt} x{b}", v) for fmt, b in payloads for v in VARIANTS}
    try:
        for variant, port in zip(VARIANTS, ports, strict=True):
            sub = folder / variant.replace(" ", "-")
            daemons[variant] = DaemonProcess(sub, write_config(sub, ref_path, variant == VARIANTS[1]), port).start()
        for variant, daemon in daemons.items():
            for (fmt, batch), pool in pools.items():
                sent[variant] += _warm(daemon, fmt, batch, pool, errors)
        for r in range(rounds):
            for fmt, batch in payloads:
                for variant in VARIANTS if r % 2 == 0 else VARIANTS[::-1]:
                    daemon = daemons[variant]
                    spec = LoadSpec(
                        label=f"{fmt} x{batch}",
                        path=ROWS_PATH,
                        bodies=pools[(fmt, batch)],
                        rows_per_body=batch,
                        headers=static_headers(CONTENT_TYPES[fmt]),
                        threads=1,
                        duration=duration,
                        min_requests=min_requests,
                    )
                    load = run_load(daemon, spec)
                    for message in load.first_errors:
                        errors.error(f"{variant}: {message}")
                    if not daemon.alive():
                        raise RuntimeError(f"{variant} daemon died:\n{daemon.log()}")
                    cell = cells[(spec.label, variant)]
                    cell.rounds += 1
                    cell.requests += load.requests
                    cell.rows += load.rows
                    cell.seconds += load.seconds
                    cell.daemon_cpu_s += load.daemon_cpu_s
                    cell.other_cpu_s += load.other_cpu_s
                    cell.p50_ms.append(load.p50_ms)
                    sent[variant] += load.rows
        for variant, daemon in daemons.items():
            accepted = int(daemon.get_json(f"/v1/monitors/{MONITOR}")["ingest"]["rows_accepted"])
            if accepted != sent[variant]:
                errors.error(f"{variant}: the monitor counts {accepted} rows accepted, {sent[variant]} acknowledged")
        startup = {v: d.startup_seconds for v, d in daemons.items()}
        rss = {v: d.rss() / (1024 * 1024) for v, d in daemons.items()}
    finally:
        for variant, daemon in daemons.items():
            code = daemon.stop()
            if code != 0:
                errors.error(f"{variant} daemon exited with {code}:\n{daemon.log()}")
    return IngestResult(list(cells.values()), startup, rss)
