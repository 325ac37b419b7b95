"""What every benchmark shares: loopback ports, the daemon subprocess, RSS and CPU readings, timing, output.

The benchmarks run as scripts (`python benchmarks/bench_x.py`), so this folder is on `sys.path` and they import this
module as `harness`. Heavy imports (httpx, uvicorn) stay inside the functions that need them: the check benchmark
measures the RSS of worker processes that import this module.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any, TypeVar

import psutil

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]


class BenchError(Exception):
    """The setup or a measurement did not produce what the benchmark needs: exit 1."""


# ---- ports and processes ---------------------------------------------------------------------------------------


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port, for a server started in this process (no race for the port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """A loopback port free right now, for a server started in another process."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DaemonProcess:
    """One `python -m driftwatch run -c CONFIG --port P` subprocess on a loopback port, its log under `folder`."""

    def __init__(self, folder: Path, config: Path, port: int | None = None):
        self.folder = folder
        self.config = config
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = folder / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None
        self.startup_seconds = math.nan

    def start(self, timeout: float = 180.0) -> DaemonProcess:
        """Start the daemon and wait until `/readyz` answers 200 (its monitors are loaded)."""
        import httpx

        t0 = time.perf_counter()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "driftwatch", "run", "-c", str(self.config), "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.ps = psutil.Process(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    self.startup_seconds = time.perf_counter() - t0
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"daemon not ready within {timeout}s:\n{self.log()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss(self) -> int:
        assert self.ps is not None
        return int(self.ps.memory_info().rss)

    def cpu_user_sys(self) -> tuple[float, float]:
        assert self.ps is not None
        t = self.ps.cpu_times()
        return float(t.user), float(t.system)

    def cpu_seconds(self) -> float:
        return sum(self.cpu_user_sys())

    def get_json(self, path: str) -> dict[str, Any]:
        """GET `path` from the daemon; a reply other than 2xx raises."""
        import httpx

        reply = httpx.get(f"{self.url}{path}", timeout=30)
        reply.raise_for_status()
        return dict(reply.json())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 120.0) -> int:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit code (-9 when killed)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            return -9


@contextlib.contextmanager
def serve_app(app: Any) -> Iterator[str]:
    """An ASGI app under uvicorn on a free loopback port, in a thread of this process; yields its base URL."""
    import uvicorn

    sock = loopback_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="bench-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30.0
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise BenchError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30.0)
        sock.close()


def run_json_worker(script: Path, args: Sequence[str], tag: str) -> dict[str, Any]:
    """Run `script ARGS --worker-out FILE` in a fresh interpreter (its own RSS peak) and read back its JSON result."""
    fd, path = tempfile.mkstemp(prefix=f"bench-{tag}-", suffix=".json")
    os.close(fd)
    try:
        subprocess.run([sys.executable, str(script), *args, "--worker-out", path], check=True)
        return dict(json.loads(Path(path).read_text()))
    finally:
        Path(path).unlink(missing_ok=True)


def dir_bytes(folder: Path) -> int:
    """Bytes of every file below `folder` (files vanishing meanwhile are skipped)."""
    total = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(dirpath, name)).st_size
    return total


# ---- memory and CPU --------------------------------------------------------------------------------------------


def mib(n_bytes: float) -> float:
    return n_bytes / (1024 * 1024)


def fmt_mib(n_bytes: float) -> str:
    return f"{mib(n_bytes):,.1f} MiB"


def fmt_mb(n_bytes: float) -> str:
    """Decimal megabytes, as HTTP body sizes are usually quoted."""
    return f"{n_bytes / 1e6:.2f} MB"


def max_rss_mb() -> float:
    """Peak RSS of this process so far in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return mib(peak) if sys.platform == "darwin" else peak / 1024


def current_rss_mb() -> float:
    return mib(psutil.Process().memory_info().rss)


class RssSampler:
    """Samples a process's RSS in a thread: the peak of one phase, which ru_maxrss (a lifetime peak) cannot give.

    With `tag`, every reading is kept as `(tag(), rss bytes)`, e.g. the rows acknowledged so far.
    """

    def __init__(
        self, process: psutil.Process | None = None, interval: float = 0.005, tag: Callable[[], int] | None = None
    ) -> None:
        self._process = process or psutil.Process()
        self._interval = interval
        self._tag = tag
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.peak = 0
        self.samples: list[tuple[int, int]] = []

    def _read(self) -> None:
        rss = int(self._process.memory_info().rss)
        self.peak = max(self.peak, rss)
        if self._tag is not None:
            self.samples.append((self._tag(), rss))

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
            except psutil.Error:  # the process is gone
                return
            self._stop.wait(self._interval)

    @property
    def peak_mb(self) -> float:
        return mib(self.peak)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(psutil.Error):
            self._read()


def machine_busy_seconds() -> float:
    """CPU seconds every core has spent busy since boot (idle, iowait and guest time left out)."""
    t = psutil.cpu_times()
    return float(sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0))


def own_cpu_seconds() -> float:
    """User + system CPU seconds of this process, all threads."""
    return float(sum(psutil.Process().cpu_times()[:2]))


@dataclass
class Machine:
    """Where the figures were measured: they depend on the cores, the load and the library versions."""

    python: str
    platform: str
    cpus: int
    usable_cpus: int
    load_average: list[float]
    packages: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        versions = "".join(f", {name} {v}" for name, v in self.packages.items())
        return (
            f"python {self.python}{versions}; {self.platform}; {self.cpus} CPUs ({self.usable_cpus} usable), "
            f"load average {self.load_average}"
        )


def machine(packages: Sequence[str] = ()) -> Machine:
    """This machine and the versions of `packages` (distribution names)."""
    cpus = psutil.cpu_count(logical=True) or os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    versions = {}
    for name in packages:
        try:
            versions[name] = package_version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    where = f"{platform.machine()} '{platform.processor() or platform.node()}'"
    load = [round(x, 2) for x in os.getloadavg()]
    return Machine(platform.python_version(), where, cpus, usable, load, versions)


# ---- timing ----------------------------------------------------------------------------------------------------


def time_calls(
    fn: Callable[[], T], runs: int, *, warmup: int = 1, before: Callable[[], object] | None = None
) -> tuple[list[float], T]:
    """`warmup` untimed calls, then `runs` timed ones (`before` runs untimed ahead of each); times and last output."""
    out: Any = None
    for _ in range(warmup):
        out = fn()
    times = []
    for _ in range(runs):
        out = None  # free the previous output first, so that it does not count in the next run's memory
        if before is not None:
            before()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


@dataclass
class Timing:
    runs: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Timing:
        """Median and p95 (the slowest run when there are fewer than 20) of wall times in seconds."""
        ms = sorted(s * 1000.0 for s in seconds)
        p95 = ms[max(0, math.ceil(0.95 * len(ms)) - 1)]
        return cls(len(ms), statistics.median(ms), p95, ms[0], ms[-1])


def cprofile_top(fn: Callable[[], object], top: int) -> str:
    """The top `top` functions by cumulative time of one call of `fn`, as pstats prints them."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(fn)
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(top)
    return stream.getvalue()


# ---- arguments and output --------------------------------------------------------------------------------------


def make_parser(doc: str | None, quick_help: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of `doc`, with the flags every benchmark has: --quick, --json."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0] if doc else None)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results here")
    return parser


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=20240601, help="data seed (default %(default)s)")


def positive_ints(text: str) -> list[int]:
    """An argparse type: a comma-separated list of integers >= 1."""
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad list {text!r}: use integers separated by commas, e.g. 1,4") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"bad list {text!r}: every value must be >= 1")
    return values


def progress(message: str) -> None:
    """A progress line on stderr, so that stdout holds the results."""
    print(message, file=sys.stderr, flush=True)


class ErrorLog:
    """Errors met during a run: printed when they happen, counted at the end, and the reason for exit code 1."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def error(self, message: str) -> None:
        self.messages.append(message)
        print(f"ERROR: {message}", flush=True)

    def __len__(self) -> int:
        return len(self.messages)


@dataclass
class Target:
    """One stated target and what this run measured against it."""

    name: str
    measured: str
    target: str
    passed: bool


def print_targets(targets: Sequence[Target], title: str, notes: Sequence[str] = ()) -> None:
    """A PASS/FAIL line per target; missing a target does not change a benchmark's exit code."""
    print(f"\n== targets ({title})")
    name_width = max((len(t.name) for t in targets), default=0)
    measured_width = min(60, max((len(t.measured) for t in targets), default=0))
    for t in targets:
        verdict = "PASS" if t.passed else "FAIL"
        print(f"{verdict}  {t.name:<{name_width}}  {t.measured:<{measured_width}}  target {t.target}")
    for note in notes:
        print(note)


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


def write_json(path: Path, data: Any) -> None:
    """Every result as JSON (dataclasses as objects, anything else unknown as its str)."""
    path.write_text(json.dumps(data, indent=1, default=_jsonable) + "\n")
    print(f"\nwrote {path}")


def print_tables(tables: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]], left: Sequence[str]) -> None:
    """(title, columns, rows) tables with rich when it is installed, as plain text otherwise; `left` columns left."""
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        for title, cols, rows in tables:
            widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
            print(f"\n{title}")
            print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
            for row in rows:
                print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)))
        return
    console = Console(width=max(170, Console().width))
    for title, cols, rows in tables:
        table = Table(title=title)
        for c in cols:
            table.add_column(c, justify="left" if c in left else "right", no_wrap=True)
        for row in rows:
            table.add_row(*row)
        console.print(table)
