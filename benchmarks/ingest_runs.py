"""The ingestion benchmark's runs against one daemon: /rows throughput per payload, and RSS while streaming a window."""

from __future__ import annotations

import argparse
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx
from harness import DaemonProcess, ErrorLog, RssSampler, dir_bytes
from ingest_load import LoadResult, LoadSpec, row_header, row_line, run_load
from ingest_setup import (
    CONTENT_TYPES,
    POOL_ROWS,
    ROWS_PATH,
    TARGET_RSS_GROWTH,
    monitor_info,
    rows_accepted,
    start_daemon,
    static_headers,
)

from driftwatch.demo import production_batch


@dataclass
class RssResult:
    rows: int
    batch: int
    threads: int
    seconds: float
    rows_per_s: float
    rss_start: int
    rss_at_10pct: int
    rss_end: int
    rss_peak_after_10pct: int
    growth_end: float
    growth_peak: float
    flat: bool
    by_decile: list[tuple[int, int]]
    spool_bytes: int
    data_dir_bytes: int
    rows_sampled: int
    rows_seen: int
    daemon_cpu_s: float


class IngestRun:
    """One benchmark run: its arguments, its scratch folder, the rows acknowledged so far and the errors met."""

    def __init__(self, args: argparse.Namespace, workdir: Path):
        self.args = args
        self.workdir = workdir
        self.errors = ErrorLog()
        self.rows_sent = 0  # through /rows, replies checked
        self.source = production_batch(POOL_ROWS, 0.0, seed=2024)

    def error(self, message: str) -> None:
        self.errors.error(message)

    def record(self, result: LoadResult) -> LoadResult:
        for message in result.first_errors:
            self.error(message)
        return result

    # -- /rows throughput

    def warm_rows(self, daemon: DaemonProcess, fmt: str, batch: int, bodies: list[bytes]) -> None:
        """Send every body once and check the reply accepted all of its rows."""
        with httpx.Client(base_url=daemon.url, timeout=120) as client:
            for body in bodies:
                reply = client.post(ROWS_PATH, content=body, headers={"content-type": CONTENT_TYPES[fmt]})
                if reply.status_code != 202:
                    self.error(f"{fmt} x{batch} warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
                    return
                doc = reply.json()
                if (
                    doc.get("accepted") != batch
                    or doc.get("rejected")
                    or doc.get("errors")
                    or doc.get("ignored_columns")
                ):
                    self.error(f"{fmt} x{batch} warm-up: unexpected reply {str(doc)[:300]}")
                    return
                self.rows_sent += batch

    def throughput(self, daemon: DaemonProcess, pools: dict[tuple[str, int], list[bytes]]) -> list[LoadResult]:
        """Every payload x batch size x client thread count for `--duration`; the monitor must count every row."""
        out: list[LoadResult] = []
        a = self.args
        print(f"\n== POST {ROWS_PATH}: {a.duration:g}s per cell (and at least {a.min_requests} requests)", flush=True)
        print(row_header(), flush=True)
        for fmt in CONTENT_TYPES:
            for batch in a.batch_sizes:
                bodies = pools[(fmt, batch)]
                self.warm_rows(daemon, fmt, batch, bodies)
                for threads in a.threads:
                    spec = LoadSpec(
                        label=f"{fmt} x{batch}",
                        path=ROWS_PATH,
                        bodies=bodies,
                        rows_per_body=batch,
                        headers=static_headers(CONTENT_TYPES[fmt]),
                        threads=threads,
                        duration=a.duration,
                        min_requests=a.min_requests,
                    )
                    result = self.record(run_load(daemon, spec))
                    self.rows_sent += result.rows
                    out.append(result)
                    print(row_line(result), flush=True)
                    if not daemon.alive():
                        raise RuntimeError(f"daemon died:\n{daemon.log()}")
        accepted = rows_accepted(daemon)
        if accepted != self.rows_sent:
            self.error(f"monitor counts {accepted} accepted rows, but {self.rows_sent} were acknowledged")
        else:
            print(f"monitor rows_accepted = {accepted:,} = rows acknowledged", flush=True)
        return out

    # -- RSS while streaming one window

    def rss(self, pool: list[bytes], batch: int) -> RssResult:
        a = self.args
        total_requests = a.rss_rows // batch
        rows = total_requests * batch
        print(f"\n== RSS: {rows:,} rows as Arrow IPC batches of {batch:,} into one window (fresh daemon)", flush=True)
        daemon = start_daemon(self.workdir / "rss")
        try:
            with httpx.Client(base_url=daemon.url, timeout=120) as client:
                reply = client.post(ROWS_PATH, content=pool[0], headers={"content-type": CONTENT_TYPES["arrow"]})
                if reply.status_code != 202:
                    raise RuntimeError(f"RSS warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
            rss_start = daemon.rss()
            lock = threading.Lock()
            acked = [batch]
            marks: list[tuple[int, int]] = []
            step = max(batch, rows // 10)
            next_mark = [step]

            def on_ack(n: int) -> None:
                with lock:
                    acked[0] += n
                    if acked[0] >= next_mark[0]:
                        marks.append((acked[0], daemon.rss()))
                        next_mark[0] += step

            spec = LoadSpec(
                label=f"rss arrow x{batch}",
                path=ROWS_PATH,
                bodies=pool,
                rows_per_body=batch,
                headers=static_headers(CONTENT_TYPES["arrow"]),
                threads=a.rss_threads,
                total_requests=total_requests - 1,  # the warm-up request was the first
            )
            # Between the 10% marks too, so that a short peak does not go unseen.
            with RssSampler(daemon.ps, interval=0.1, tag=lambda: acked[0]) as sampler:
                load = self.record(run_load(daemon, spec, on_ack))
            samples = sampler.samples
            rss_end = daemon.rss()
            info = monitor_info(daemon)
            accepted = int(info["ingest"]["rows_accepted"])
            if accepted != acked[0]:
                self.error(f"RSS run: monitor counts {accepted} accepted rows, {acked[0]} were acknowledged")
            window = info["window"]
            spool = dir_bytes(daemon.folder / "data" / "spool")
            data_dir = dir_bytes(daemon.folder / "data")
        finally:
            code = daemon.stop()
        if code != 0:
            self.error(f"RSS daemon exited with {code}:\n{daemon.log()}")
        if not marks:
            raise RuntimeError("RSS run: no readings")
        rss_10 = marks[0][1]
        tenth = marks[0][0]
        after = [r for n, r in marks + samples if n >= tenth] + [rss_end]
        peak = max(after)
        growth_end = rss_end / rss_10 - 1
        growth_peak = peak / rss_10 - 1
        return RssResult(
            rows=acked[0],
            batch=batch,
            threads=a.rss_threads,
            seconds=load.seconds,
            rows_per_s=load.rows_per_s,
            rss_start=rss_start,
            rss_at_10pct=rss_10,
            rss_end=rss_end,
            rss_peak_after_10pct=peak,
            growth_end=growth_end,
            growth_peak=growth_peak,
            flat=growth_peak <= TARGET_RSS_GROWTH,
            by_decile=marks,
            spool_bytes=spool,
            data_dir_bytes=data_dir,
            rows_sampled=int(window["rows_sampled"]),
            rows_seen=int(window["rows_seen"]),
            daemon_cpu_s=load.daemon_cpu_s,
        )
