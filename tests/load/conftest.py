"""Fixtures for the load tests: a database of their own, live gunicorn servers, Redis.

The database is on the engine of the test run: SQLite when DATABASE_URL is unset, else
a database created for each test on the run's PostgreSQL server (and dropped after).
"""

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.load.client import Plan
from tests.load.server import (
    DEFINITION,
    Database,
    Gunicorn,
    Redis,
    database_created,
    database_prepare,
    server_env,
    static_collect,
    static_missing,
)


@pytest.fixture(scope="session")
def plan() -> Plan:
    return Plan.read(DEFINITION)


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    if problem := static_missing():
        pytest.skip(problem)
    root = tmp_path_factory.mktemp("load-static") / "static"
    static_collect(root)
    return root


@pytest.fixture
def database(tmp_path, static_root) -> Iterator[Database]:
    """A fresh database with the built-in consultation, open now."""
    with database_created(tmp_path, settings.DATABASES["default"]) as created:
        database_prepare(created, static_root)
        yield created


@pytest.fixture
def serve(tmp_path, database, static_root, plan) -> Iterator[Callable[..., Gunicorn]]:
    """Start gunicorn servers on the test's database: ``serve(port=..., **env)``.
    Every server started is stopped at the end, whatever happened."""
    started: list[Gunicorn] = []

    def start(*, port: int | None = None, **env: str) -> Gunicorn:
        log = tmp_path / f"gunicorn-{len(started)}.log"
        server = Gunicorn(server_env(database.url, static_root, **env), log, port=port)
        started.append(server)
        return server.start(ready_path=plan.start_path)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """A redis-server of the test's own on 127.0.0.1, without persistence."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("needs redis-server: apt-get install redis-server")
    server = Redis(tmp_path).start(executable)
    yield server.url
    server.stop()


@pytest.fixture(autouse=True, scope="session")
def _quiet_http_client():
    """httpx logs every request at INFO: tens of thousands of lines, and time, per load."""
    logging.getLogger("httpx").setLevel(logging.WARNING)


FIGURES: list[str] = []


@pytest.fixture
def report(request) -> Callable[[str], None]:
    """Note a line of figures; they are printed together at the end of the run."""

    def note(line: str) -> None:
        FIGURES.append(f"{request.node.name} [{settings.DATABASES['default']['ENGINE']}]: {line}")

    return note


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("load figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
