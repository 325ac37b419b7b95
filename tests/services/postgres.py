"""A throwaway PostgreSQL cluster from the installed server binaries: temp folder, free loopback port, trust auth."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DEBIAN_SERVERS = Path("/usr/lib/postgresql")
SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
# initdb refuses to run as root; as root the cluster belongs to the user Debian's package creates.
SERVER_USERS = ("postgres", "nobody")
# A throwaway cluster need not survive a crash: skip the disk flushes that make tests slow.
FAST_SETTINGS = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")
START_ATTEMPTS = 3


class ClusterError(RuntimeError):
    """The throwaway cluster could not be created or started; the message carries the server's own words."""


def server_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with the server programs, else the folder of initdb on PATH."""
    versions = sorted(
        (d for d in DEBIAN_SERVERS.glob("*") if d.name.isdigit()), key=lambda d: int(d.name), reverse=True
    )
    on_path = shutil.which("initdb")
    for bindir in [d / "bin" for d in versions] + ([Path(on_path).parent] if on_path else []):
        if all(os.access(bindir / name, os.X_OK) for name in SERVER_PROGRAMS):
            return bindir
    return None


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in SERVER_USERS:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ClusterError(f"running as root and none of the users {', '.join(SERVER_USERS)} exists to run PostgreSQL")


class ThrowawayCluster:
    """A cluster whose data, unix socket and log live in one temp folder that stop() deletes."""

    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        self.bindir = bindir
        # Without durability a commit may be lost when the server is killed; tests that kill it need every commit.
        self.settings = () if durable else FAST_SETTINGS
        self.user = _server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="driftwatch-pg-"))
        self.data = self.folder / "data"
        self.sockets = self.folder / "sockets"
        self.log = self.folder / "server.log"
        self.port: int | None = None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the superuser on the default database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        as_user = {}
        if self.user is not None:
            as_user = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        return subprocess.run(
            [str(self.bindir / program), *args],
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **as_user,
        )

    def start(self) -> str:
        """Create and start the cluster; returns its URL."""
        self.sockets.mkdir()
        if self.user is not None:
            for path in (self.folder, self.sockets):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        init = self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        if init.returncode != 0:
            raise ClusterError(f"initdb failed ({init.returncode}): {init.stdout}{init.stderr}")
        for _ in range(START_ATTEMPTS):
            # Another process may take the port between free_port() and the server binding it.
            self.port = free_port()
            options = f"-h 127.0.0.1 -p {self.port} -k {self.sockets} " + " ".join(f"-c {s}" for s in self.settings)
            start = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start"
            )
            if start.returncode == 0:
                return self.url
        log = self.log.read_text() if self.log.exists() else ""
        raise ClusterError(f"pg_ctl start failed ({start.returncode}): {start.stdout}{start.stderr}{log}")

    def halt(self) -> None:
        """Stop the server but keep its data, so that resume() brings the same cluster back on the same port."""
        stop = self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        if stop.returncode != 0:
            raise ClusterError(f"pg_ctl stop failed ({stop.returncode}): {stop.stdout}{stop.stderr}")

    def resume(self) -> None:
        """Start a halted server again on its port."""
        options = f"-h 127.0.0.1 -p {self.port} -k {self.sockets} " + " ".join(f"-c {s}" for s in self.settings)
        start = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options, "start")
        if start.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise ClusterError(f"pg_ctl start failed ({start.returncode}): {start.stdout}{start.stderr}{log}")

    def stop(self) -> None:
        """Stop the server (if it runs) and delete the folder."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
