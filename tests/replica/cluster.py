"""A throwaway PostgreSQL primary and a streaming standby that lags, on 127.0.0.1 only.

The standby is made with ``pg_basebackup -R`` and applies each commit only
``apply_delay`` seconds after the primary made it (``recovery_min_apply_delay``), so a
test can see which of the two a page was read from. PostgreSQL refuses to run as root:
when the tests run as root (as CI does), the server commands run as the postgres user
in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from tests.load.server import free_port

# In memory where there is a tmpfs: the cluster is thrown away, and writing, then
# deleting, its hundred-odd megabytes on a busy disk takes seconds.
SCRATCH = Path("/dev/shm")  # noqa: S108 - a private folder is made inside it
USER = "consult"  # the cluster's superuser, trusted on loopback only
DATABASE = "consult"


def binaries() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), if any."""
    found = sorted(
        (path for path in Path("/usr/lib/postgresql").glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    return found[-1] if found else None


@dataclass(frozen=True)
class Server:
    """One running server of the pair, as the app (``url``) and checks see it."""

    name: str
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgres://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def query(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname=DATABASE, autocommit=True
        ) as connection:
            cursor = connection.execute(statement, params)  # type: ignore[arg-type]
            return list(cursor.fetchall()) if cursor.description else []


@dataclass(frozen=True)
class Cluster:
    primary: Server
    standby: Server
    apply_delay: float

    def standby_has_applied(self, statement: str, params: tuple[Any, ...] = ()) -> bool:
        """Whether the standby shows the same result as the primary for ``statement``."""
        return self.standby.query(statement, params) == self.primary.query(statement, params)

    def standby_caught_up(self, *, timeout: float = 30) -> None:
        """Wait until the standby has applied everything the primary has written so far."""
        (target,) = self.primary.query("SELECT pg_current_wal_lsn()")[0]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (behind,) = self.standby.query(
                "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", (target,)
            )[0]
            if not behind:
                return
            time.sleep(0.1)
        raise AssertionError(f"the standby did not reach {target} in {timeout} s")


class _Runner:
    """Runs PostgreSQL's commands, as the postgres user when the tests run as root."""

    def __init__(self, bin_folder: Path, folder: Path) -> None:
        self.bin = bin_folder
        self.folder = folder
        self.as_user: dict[str, Any] = {}
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
            self.as_user = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}

    def __call__(self, program: str, *arguments: str | Path) -> None:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own programs
            [str(self.bin / program), *map(str, arguments)],
            cwd=self.folder,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C", "TZ": "UTC"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            **self.as_user,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed:\n{done.stdout}\n{done.stderr}")


def _configure(data: Path, port: int, **settings: str) -> None:
    lines = [f"port = {port}", "listen_addresses = '127.0.0.1'"]
    lines.append(f"unix_socket_directories = '{data}'")
    lines += [f"{name} = '{value}'" for name, value in settings.items()]
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# tests/replica/cluster.py\n" + "\n".join(lines) + "\n")


def _log_tail(server: Server) -> str:
    log = server.data.parent / f"{server.name}.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return "\n".join(lines[-30:])


@contextlib.contextmanager
def cluster_running(bin_folder: Path, *, apply_delay: float = 3) -> Iterator[Cluster]:
    """A primary with an empty ``consult`` database and its standby, applying commits
    ``apply_delay`` seconds late; both stopped and their folder removed afterwards,
    whatever happens."""
    in_memory = SCRATCH.is_dir() and os.access(SCRATCH, os.W_OK)
    folder = Path(tempfile.mkdtemp(prefix="consult-replica-", dir=SCRATCH if in_memory else None))
    run = _Runner(bin_folder, folder)
    primary = Server("primary", folder / "primary", free_port())
    standby = Server("standby", folder / "standby", free_port())
    started: list[Server] = []
    try:
        run("initdb", "-D", primary.data, "-U", USER, "-A", "trust", "--no-sync", "-E", "UTF8")
        _configure(
            primary.data,
            primary.port,
            wal_level="replica",
            max_wal_senders="4",
            fsync="off",  # a throwaway cluster: nothing to keep after a crash
            full_page_writes="off",
        )
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write(f"host replication {USER} 127.0.0.1/32 trust\n")
        _start(run, primary, started)
        with psycopg.connect(
            host="127.0.0.1", port=primary.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")

        run(
            "pg_basebackup",
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", USER),
            *("-D", standby.data, "-R", "-X", "stream", "-c", "fast", "--no-sync"),
        )
        _configure(
            standby.data,
            standby.port,
            hot_standby="on",
            recovery_min_apply_delay=f"{int(apply_delay * 1000)}ms",
        )
        _start(run, standby, started)
        cluster = Cluster(primary, standby, apply_delay)
        cluster.standby_caught_up()
        yield cluster
    finally:
        for server in reversed(started):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                run("pg_ctl", "-D", server.data, "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _start(run: _Runner, server: Server, started: list[Server]) -> None:
    log = server.data.parent / f"{server.name}.log"
    started.append(server)
    try:
        run("pg_ctl", "-D", server.data, "-l", log, "-w", "-t", "60", "start")
    except RuntimeError as error:
        raise RuntimeError(f"{error}\n{server.name}.log:\n{_log_tail(server)}") from error
