"""Live servers for the load tests: a fresh database, gunicorn processes, Redis.

Everything listens on 127.0.0.1 only, and every process is started in its own process
group, so stopping it (or killing it, as a crash would) takes its workers with it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "consult" / "consultations" / "definitions" / "facial-recognition.yaml"
STYLESHEET = ROOT / "build" / "static" / "consult" / "consult.css"
GOVUK_FRONTEND = ROOT / "node_modules" / "govuk-frontend" / "dist"
SETTINGS = "tests.load.server_settings"
# Production settings, except: plain HTTP on loopback, people faster than any person,
# limits no test client reaches (the limit tests set their own), receipts printed.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": SETTINGS,
    "SECRET_KEY": "load-tests-only-" + "x" * 40,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "FASTEST_HUMAN_SECONDS": "0",
    "RESPONSE_STARTS_PER_HOUR": "1000000",
    "RESPONSE_SUBMISSIONS_PER_HOUR": "1000000",
    "EMAIL_URL": "consolemail://",
    "LOG_LEVEL": "WARNING",
}
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def process_group_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies hold nothing; Linux)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended while being read
        state, process_group = fields[0], int(fields[2])
        if process_group == group and state not in {"Z", "X"}:
            members.append(int(stat.parent.name))
    return members


def static_missing() -> str | None:
    """Why pages cannot be drawn here, if they cannot: the front-end build is missing."""
    if not STYLESHEET.exists():
        return f"load tests need the built stylesheet {STYLESHEET.relative_to(ROOT)}: make static"
    if not GOVUK_FRONTEND.exists():
        return "load tests need govuk-frontend from npm: npm ci"
    return None


@dataclass(frozen=True)
class Database:
    """A database of its own for one test, as the servers (``url``) and checks see it."""

    url: str  # DATABASE_URL for the servers
    engine: str  # "sqlite" or "postgresql"
    params: dict[str, Any] = field(default_factory=dict)  # for sqlite3 or psycopg

    def connect(self) -> Any:
        if self.engine == "sqlite":
            return sqlite3.connect(self.params["database"], timeout=30)
        return psycopg.connect(**self.params)

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        connection = self.connect()
        try:
            return list(connection.execute(statement).fetchall())
        finally:
            connection.close()


@contextlib.contextmanager
def database_created(folder: Path, run_database: dict[str, Any]) -> Iterator[Database]:
    """A new, empty database on the engine the test run uses (``run_database`` is the
    run's ``DATABASES["default"]``): a file in ``folder`` for SQLite, or a database
    created for the purpose on the run's PostgreSQL server and dropped afterwards."""
    if run_database["ENGINE"] != "django.db.backends.postgresql":
        path = folder / "load.sqlite3"
        yield Database(f"sqlite:///{path}", "sqlite", {"database": str(path)})
        return
    server = {
        "user": run_database["USER"],
        "password": run_database["PASSWORD"] or None,
        "host": run_database["HOST"] or "127.0.0.1",
        "port": int(run_database["PORT"] or 5432),
    }
    name = f"consult_load_{secrets.token_hex(4)}"
    credentials = quote(server["user"], safe="")
    if server["password"]:
        credentials += ":" + quote(server["password"], safe="")
    url = f"postgres://{credentials}@{server['host']}:{server['port']}/{name}"
    with psycopg.connect(dbname=run_database["NAME"], autocommit=True, **server) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield Database(url, "postgresql", {"dbname": name, **server})
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def server_env(database_url: str, static_root: Path, **overrides: str) -> dict[str, str]:
    """The environment of a server process: only what it needs, nothing from the test run."""
    inherited = {name: os.environ[name] for name in INHERITED if name in os.environ}
    return {
        **inherited,
        **BASE_ENV,
        "DATABASE_URL": database_url,
        "LOAD_STATIC_ROOT": str(static_root),
        **overrides,
    }


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter and scripts
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{done.stdout}\n{done.stderr}")


def static_collect(static_root: Path) -> None:
    """Collect static files as ``make static`` does, into ``static_root``."""
    command = [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"]
    command += ["--ignore", "*.scss", "--ignore", "*.scss.map"]
    unused = f"sqlite:///{static_root.parent / 'unused.sqlite3'}"
    _run(command, server_env(unused, static_root), "collectstatic")


def database_prepare(database: Database, static_root: Path) -> None:
    """Tables, the built-in consultation, open now."""
    command = [sys.executable, "-m", "tests.load.prepare", str(DEFINITION)]
    _run(command, server_env(database.url, static_root), "preparing the database")


class Gunicorn:
    """A gunicorn server as ``make serve`` runs it (``workers`` processes of ``threads``
    threads) in its own process group, logging to ``log``."""

    def __init__(
        self,
        env: dict[str, str],
        log: Path,
        *,
        port: int | None = None,
        workers: int = 2,
        threads: int = 4,
    ) -> None:
        self.env = env
        self.log = log
        self.port = port or free_port()
        self.workers = workers
        self.threads = threads
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, ready_path: str, timeout: float = 60) -> Gunicorn:
        command = [sys.executable, "-m", "gunicorn", "consult.wsgi"]
        command += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)]
        command += ["--worker-class", "gthread", "--threads", str(self.threads), "--timeout", "60"]
        command += ["--graceful-timeout", "10"]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
                command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready(ready_path, timeout)
        return self

    def _wait_ready(self, path: str, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer {path} in {timeout} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL to the arbiter and every worker at once: nothing finishes or cleans up."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._wait_group_gone()

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL for anything still running after 20 s."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self._wait_group_gone()

    def _wait_group_gone(self) -> None:
        """Workers outliving their arbiter are killed; the group must end with none running."""
        assert self.process is not None
        for _ in range(100):
            running = process_group_members(self.process.pid)
            if not running:
                return
            for pid in running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.1)
        raise RuntimeError(f"processes of group {self.process.pid} would not end")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self._log_lines()[-lines:])

    def log_errors(self) -> list[str]:
        """Tracebacks, server errors and gunicorn's errors (worker timeouts included)."""
        markers = ("Traceback", "Internal Server Error", "[ERROR]", "[CRITICAL]")
        return [line for line in self._log_lines() if any(m in line for m in markers)]

    def _log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines() if self.log.exists() else []


class Redis:
    """redis-server on loopback, without persistence, in its own process group."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, executable: str, *, timeout: float = 20) -> Redis:
        command = [executable, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.folder)]
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the installed redis-server
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        client = redis.Redis.from_url(self.url, socket_timeout=2)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited early: see redis.log")
            try:
                if client.ping():
                    return self
            except redis.RedisError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"redis-server did not answer in {timeout} s")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
