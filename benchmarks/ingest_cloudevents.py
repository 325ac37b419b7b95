"""Single-row KServe CloudEvents into the daemon: from the benchmark's httpx senders, and from wrk when installed."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

import httpx
from harness import DaemonProcess
from ingest_load import LoadResult, LoadSpec, row_header, row_line, run_load
from ingest_runs import IngestRun
from ingest_setup import CE_PATH, JOIN_TIMEOUT_SECONDS, MONITOR, cloudevent_headers, rows_accepted


@dataclass
class CloudEventResult:
    load: LoadResult
    deferred_rows_expected: int
    deferred_seconds_after_last_send: float
    deferred_ok: bool


def cloudevents(run: IngestRun, daemon: DaemonProcess, bodies: list[bytes]) -> list[CloudEventResult]:
    """Single-row request events from each `--ce-senders` count; waits until every event reached the monitor."""
    a = run.args
    out: list[CloudEventResult] = []
    print(f"\n== POST {CE_PATH}: single-row KServe request events (binary mode), {a.ce_duration:g}s per run")
    print(
        f"   no response events are sent: each request waits join_timeout ({JOIN_TIMEOUT_SECONDS:g}s), then the"
        " daemon's expiry job ingests it as a one-row batch"
    )
    print(row_header() + "  deferred ingestion", flush=True)
    for senders in a.ce_senders:
        tag = f"s{senders}-{time.monotonic_ns()}"
        with httpx.Client(base_url=daemon.url, timeout=60) as client:  # warm-up and reply check
            reply = client.post(CE_PATH, content=bodies[0], headers=cloudevent_headers(tag + "w")(0, 0))
        doc = reply.json() if reply.status_code == 202 else {}
        if reply.status_code != 202 or doc.get("monitor") != MONITOR or doc.get("kind") != "request":
            run.error(f"cloudevent warm-up: HTTP {reply.status_code}: {reply.text[:300]}")
            continue
        before = rows_accepted(daemon)
        spec = LoadSpec(
            label=f"cloudevent x1 ({senders} senders)",
            path=CE_PATH,
            bodies=bodies,
            rows_per_body=1,
            headers=cloudevent_headers(tag),
            threads=senders,
            duration=a.ce_duration,
            min_requests=a.min_requests,
            steady_after=JOIN_TIMEOUT_SECONDS + 1,
        )
        load = run.record(run_load(daemon, spec))
        sent_at = time.monotonic()
        # No response event follows, so each request is ingested alone after join_timeout (or when evicted).
        expected = before + load.requests + 1
        deadline = sent_at + JOIN_TIMEOUT_SECONDS + a.ce_drain_timeout
        got = before
        while time.monotonic() < deadline:
            got = rows_accepted(daemon)
            if got >= expected:
                break
            time.sleep(0.2)
        waited = time.monotonic() - sent_at
        ok = got == expected
        if not ok:
            run.error(f"cloudevents: {got - before} of {expected - before} events ingested {waited:.0f}s later")
        run.rows_sent = got
        out.append(CloudEventResult(load, expected - before, waited, ok))
        print(f"{row_line(load)}  {expected - before:,} rows in after {waited:.1f}s", flush=True)
        if not math.isnan(load.steady_requests_per_s):
            print(
                f"{'':<28}{'':>4}{'':>8}{'':>12}{load.steady_requests_per_s:>10,.0f}{load.steady_p50_ms:>9.2f}"
                f"{load.steady_p99_ms:>9.2f}  <- after the first {load.steady_after:g}s, while the daemon also"
                " ingests the expired events",
                flush=True,
            )
    return out


WRK_SCRIPT = """
local counter = 0
function setup(thread)
  thread:set("tid", tostring(math.random(1, 1e9)))
end
wrk.method = "POST"
wrk.headers["ce-type"] = "org.kubeflow.serving.inference.request"
wrk.headers["ce-source"] = "bench"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-inferenceservicename"] = "triage-model"
wrk.headers["content-type"] = "application/json"
wrk.body = [==[BODY]==]
function request()
  counter = counter + 1
  wrk.headers["ce-id"] = "wrk-" .. tid .. "-" .. counter
  return wrk.format(nil, "/v1/cloudevents")
end
"""


@dataclass(frozen=True)
class WrkResult:
    """Single-row CloudEvents driven by wrk, a C load generator that leaves the daemon most of the CPU."""

    connections: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    daemon_cpu: float


def _wrk_ms(text: str, pct: str) -> float:
    m = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    if not m:
        return math.nan
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


def cloudevents_wrk(daemon: DaemonProcess, body: bytes, seconds: float, connections: int) -> WrkResult | None:
    """Drive the daemon with wrk (Debian package `wrk`) when it is installed; None otherwise."""
    exe = shutil.which("wrk")
    if exe is None:
        return None
    script = daemon.folder / "cloudevent.lua"
    script.write_text(WRK_SCRIPT.replace("BODY", body.decode()))
    cpu0 = daemon.cpu_seconds()
    t0 = time.perf_counter()
    out = subprocess.run(
        [exe, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script), daemon.url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    elapsed = time.perf_counter() - t0
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return WrkResult(
        connections,
        seconds,
        float(rate.group(1)) if rate else math.nan,
        _wrk_ms(out, "50"),
        _wrk_ms(out, "99"),
        int(bad.group(1)) if bad else 0,
        (daemon.cpu_seconds() - cpu0) / elapsed,
    )
