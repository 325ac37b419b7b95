"""Where the daemon spends its time: py-spy hotspots of the real daemon, and a cProfile of the path without HTTP."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import ROOT, DaemonProcess
from ingest_load import LoadResult, LoadSpec, best, run_load
from ingest_runs import IngestRun
from ingest_setup import (
    CE_PATH,
    CONTENT_TYPES,
    MONITOR,
    ROWS_PATH,
    TARGET_BATCH,
    cloudevent_headers,
    static_headers,
    write_config,
)

# ---- py-spy hotspots ----------------------------------------------------------------------------------------

_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _short_file(path: str) -> str:
    for marker in ("site-packages/", "/work/main/", str(ROOT) + "/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _frame(raw: str, with_line: bool) -> str:
    m = _FRAME.match(raw)
    if not m:
        return raw
    where = _short_file(m["file"])
    if with_line and m["line"]:
        where = f"{where}:{m['line']}"
    return f"{m['func']} ({where})"


# Leaf frames of threads that wait (py-spy's idle detection misses them here) or of the event loop running C code
# (uvloop/httptools or epoll); they are counted apart and left out of the percentages.
_WAITING = (
    "Condition.wait (threading.py)",
    "Event.wait (threading.py)",
    "Queue.get (queue.py)",
    "_worker (concurrent/futures/thread.py)",
    "Runner.run (asyncio/runners.py)",
)


@dataclass
class Hotspots:
    label: str
    samples: int
    busy_samples: int
    top_self: list[tuple[str, float]]
    top_driftwatch: list[tuple[str, float]]
    thread_cpu: dict[str, float] = field(default_factory=dict)
    load: LoadResult | None = None


def read_hotspots(label: str, path: Path, top: int) -> Hotspots:
    """Self time per source line and inclusive time per driftwatch function, as % of the busy samples."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = busy = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if _frame(frames[-1], with_line=False) in _WAITING:
            continue
        busy += count
        own[_frame(frames[-1], with_line=True)] += count
        for name in {_frame(f, with_line=False) for f in frames}:
            if "(driftwatch/" in name:
                inclusive[name] += count
    share = 100.0 / busy if busy else 0.0
    return Hotspots(
        label,
        total,
        busy,
        [(name, n * share) for name, n in own.most_common(top)],
        [(name, n * share) for name, n in inclusive.most_common(top)],
    )


def thread_cpu(daemon: DaemonProcess) -> dict[int, float]:
    assert daemon.ps is not None
    return {t.id: t.user_time + t.system_time for t in daemon.ps.threads()}


def cpu_by_thread(
    daemon: DaemonProcess, before: dict[int, float], after: dict[int, float], seconds: float
) -> dict[str, float]:
    """CPU (as a share of one core) of the main thread (the event loop) and of all other threads together."""
    main = (after.get(daemon.pid, 0.0) - before.get(daemon.pid, 0.0)) / seconds
    others = sum(v - before.get(k, 0.0) for k, v in after.items() if k != daemon.pid) / seconds
    return {"event loop thread": main, "other threads": others}


def profile_load(py_spy: str, daemon: DaemonProcess, out: Path, seconds: float, spec: LoadSpec, top: int) -> Hotspots:
    """Record the daemon with py-spy while `spec` runs (a separate pass: the sampler slows the daemon down)."""
    record_seconds = max(3, math.ceil(seconds))
    command = [py_spy, "record", "-p", str(daemon.pid), "-d", str(record_seconds), "-r", "100"]
    command += ["--format", "raw", "-o", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # attach
    spec.duration = record_seconds - 1.5
    before = thread_cpu(daemon)
    load = run_load(daemon, spec)
    after = thread_cpu(daemon)
    _, err = proc.communicate(timeout=record_seconds + 60)
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"py-spy failed ({proc.returncode}): {err.decode(errors='replace')[-800:]}")
    spots = read_hotspots(spec.label, out, top)
    spots.load = load
    spots.thread_cpu = cpu_by_thread(daemon, before, after, load.seconds)
    return spots


# ---- in-process cost breakdown (cProfile) -------------------------------------------------------------------

# (file suffix, function name) of the ingestion stages, shown with their cumulative time per request.
STAGES = (
    ("driftwatch/ingest/payloads.py", "parse_rows"),
    ("driftwatch/ingest/payloads.py", "objects_to_table"),
    ("driftwatch/ingest/payloads.py", "_read_ndjson_fast"),
    ("driftwatch/ingest/payloads.py", "_parse_arrow"),
    ("driftwatch/ingest/cloudevents.py", "parse_cloudevent"),
    ("driftwatch/ingest/cloudevents.py", "inference_table"),
    ("driftwatch/serve/daemon.py", "ingest"),
    ("driftwatch/live/rowbatch.py", "normalize"),
    ("driftwatch/live/spool.py", "append"),
    ("driftwatch/live/monitor.py", "_add"),
    ("driftwatch/live/rowbatch.py", "counts"),
    ("driftwatch/live/window.py", "add"),
)


@dataclass
class StageCosts:
    label: str
    calls: int
    us_per_call: float  # wall time, without the profiler
    cpu_us_per_call: float  # CPU time of this process (pyarrow's threads included), without the profiler
    stages: list[tuple[str, float]]  # stage, us per call (cumulative, under the profiler, scaled to us_per_call)
    top_self: list[tuple[str, float]]  # function, % of profiled time


def _label(key: tuple[str, int, str]) -> str:
    file, line, func = key
    if file == "~":
        return func
    return f"{func} ({_short_file(file)}:{line})"


def stage_costs(
    label: str, call: Callable[[bytes], object], bodies: list[bytes], seconds: float, top: int
) -> StageCosts:
    import cProfile
    import pstats

    for body in bodies[:3]:
        call(body)
    n = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds or n < 3:
        call(bodies[n % len(bodies)])
        n += 1
    us = (time.perf_counter() - t0) / n * 1e6
    cpu_us = (time.process_time() - c0) / n * 1e6
    profiler = cProfile.Profile()
    m = 0
    t0 = time.perf_counter()
    profiler.enable()
    while time.perf_counter() - t0 < seconds or m < 3:
        call(bodies[m % len(bodies)])
        m += 1
    profiler.disable()
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    scale = us / (total / m * 1e6)  # profiled time per call -> unprofiled time per call
    stages = []
    for suffix, func in STAGES:
        cum = sum(v[3] for k, v in raw.items() if k[0].endswith(suffix) and k[2] == func)
        if cum:
            stages.append((f"{suffix.removeprefix('driftwatch/')}:{func}", cum / m * 1e6 * scale))
    by_self = sorted(raw.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return StageCosts(label, n, us, cpu_us, stages, [(_label(k), v[2] / total * 100) for k, v in by_self])


def in_process_costs(
    folder: Path, pools: dict[tuple[str, int], list[bytes]], ce_bodies: list[bytes], seconds: float, top: int
) -> list[StageCosts]:
    """The ingestion path without HTTP: a Daemon in this process, fed the same bodies, timed and profiled."""
    from driftwatch.config import load_config
    from driftwatch.ingest.cloudevents import inference_table, parse_cloudevent
    from driftwatch.ingest.payloads import decode_body, parse_rows
    from driftwatch.serve.daemon import Daemon

    config = load_config(write_config(folder))
    daemon = Daemon(config)
    daemon.start(schedule=False)
    limit = config.ingest.limits.max_decoded_bytes
    out: list[StageCosts] = []
    try:
        for (fmt, batch), bodies in pools.items():
            ctype = CONTENT_TYPES[fmt]

            def rows(body: bytes, ctype: str = ctype) -> object:
                parsed = parse_rows(decode_body(body, None, limit), ctype)
                return daemon.ingest(MONITOR, parsed.table, parsed.rejected)

            out.append(stage_costs(f"{fmt} x{batch}", rows, bodies, seconds, top))
        headers = cloudevent_headers("inproc")(0, 0)

        def event_parse(body: bytes) -> object:
            # What the HTTP handler does before handing the event to the joiner.
            ce = parse_cloudevent(headers, decode_body(body, None, limit))
            return inference_table(ce.data, ce.kind, [])

        out.append(stage_costs("cloudevent x1 (parse only)", event_parse, ce_bodies, seconds, top))

        def event(body: bytes) -> object:
            # What one request event costs in the end: parsed, tabled, and ingested alone (as after join_timeout).
            ce = parse_cloudevent(headers, decode_body(body, None, limit))
            return daemon.ingest(MONITOR, inference_table(ce.data, ce.kind, []))

        out.append(stage_costs("cloudevent x1 (+ingest)", event, ce_bodies, seconds, top))
    finally:
        daemon.stop()
    return out


def hotspots(
    run: IngestRun, daemon: DaemonProcess, pools: dict[tuple[str, int], list[bytes]], ce_bodies: list[bytes]
) -> list[Hotspots]:
    """py-spy profiles of the daemon under Arrow, JSON and NDJSON batches, Arrow single rows and CloudEvents."""
    a = run.args
    py_spy = a.py_spy or shutil.which("py-spy")
    if not py_spy:
        print("\n(no py-spy found: hotspots skipped; pip install py-spy or pass --py-spy PATH)")
        return []
    folder = Path(a.profile)
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\n== hotspots: py-spy record -r 100, {a.profile_seconds:g}s per case (a separate pass, slowed by py-spy)")
    print(
        "   % of busy samples over all daemon threads; waiting threads and the event loop inside C"
        " (uvloop/httptools/epoll) are left out and shown as 'waiting/C loop'"
    )
    cases: list[tuple[str, LoadSpec]] = []
    for fmt, batch in (("arrow", TARGET_BATCH), ("json", TARGET_BATCH), ("ndjson", TARGET_BATCH), ("arrow", 1)):
        if (fmt, batch) in pools:
            headers = static_headers(CONTENT_TYPES[fmt])
            spec = LoadSpec(f"{fmt} x{batch}", ROWS_PATH, pools[(fmt, batch)], batch, headers, 2)
            cases.append((f"{fmt}{batch}", spec))
    cases.append(("cloudevent", LoadSpec("cloudevent x1", CE_PATH, ce_bodies, 1, cloudevent_headers("prof"), 4)))
    out: list[Hotspots] = []
    for name, spec in cases:
        spots = profile_load(py_spy, daemon, folder / f"{name}.txt", a.profile_seconds, spec, a.top)
        assert spots.load is not None
        run.record(spots.load)
        out.append(spots)
        waiting = 1 - spots.busy_samples / max(spots.samples, 1)
        cpu = ", ".join(f"{k} {v:.0%}" for k, v in spots.thread_cpu.items())
        print(
            f"\n-- {spots.label} ({spec.threads} clients): {spots.load.rows_per_s:,.0f} rows/s"
            f" ({spots.load.requests_per_s:,.0f} req/s) while profiled; daemon CPU: {cpu} of a core;"
            f" {spots.samples} samples, waiting/C loop {waiting:.0%}; raw stacks {folder / (name + '.txt')}"
        )
        print("   self time by source line:")
        for frame, pct in spots.top_self:
            print(f"   {pct:5.1f}%  {frame}")
        print("   inclusive, driftwatch functions:")
        for frame, pct in spots.top_driftwatch:
            print(f"   {pct:5.1f}%  {frame}")
    return out


def print_stage_costs(costs: list[StageCosts], rows: list[LoadResult]) -> None:
    print("\n== in-process cost per request (no HTTP): parse + Daemon.ingest in this process, then cProfiled")
    print(
        "   'HTTP+framework' = the daemon's CPU per request in the HTTP run (best thread count) minus the in-process"
        " CPU per request; stage times are cumulative, scaled from the profiled run to the unprofiled wall time"
    )
    for c in costs:
        label = c.label.split(" (")[0]
        # CloudEvents runs also ingest expired events in the background, so no per-request split is shown for them.
        http = None if label.startswith("cloudevent") else best(rows, label)
        extra = ""
        if http is not None and http.requests:
            per_req = http.daemon_cpu_s / http.requests * 1e6
            http_us = per_req - c.cpu_us_per_call
            split = f"~{http_us:,.0f} us" if http_us > 0 else "lost in the noise"
            extra = f"; HTTP run {per_req:,.0f} us daemon CPU/request -> HTTP+framework {split}"
        print(
            f"\n-- {c.label}: {c.us_per_call:,.0f} us wall, {c.cpu_us_per_call:,.0f} us CPU per request in-process"
            f" ({c.calls:,} calls){extra}"
        )
        print("   " + ", ".join(f"{name} {us:,.0f}" for name, us in c.stages) + " (us)")
        for name, pct in c.top_self:
            print(f"   {pct:5.1f}%  {name}")
