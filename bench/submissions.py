"""Benchmark 1, submissions: whole public journeys against gunicorn on 127.0.0.1.

    .venv/bin/python -m bench.submissions [--clients 16 64] [--seconds 30]
        [--databases sqlite postgresql] [--workers 3] [--threads 4]

For each database, a fresh database with the built-in consultation, open now, served by
gunicorn with production settings (tests/load/server.py) and ``workers`` processes of
``threads`` threads. The load generator (tests/load/client.py, in this process) runs
``clients`` people at once, each walking whole journeys one after another (start page,
every section their answers lead to, "Check your answers", send, confirmation) for
``seconds``; journeys still under way at the end are cut off. Figures: journeys
confirmed per second, the same without the cut-off edge (requests per second over the
requests of a confirmed journey), requests per second, p50/p95/p99 of every request, and
errors (failed requests, or pages other than the definition expects).

Baseline, in the same run and against the same server: the health check (/healthz: no
database, no session, no template) under the same number of clients. Also the SQL
statements each request of one journey issues, counted in a separate process through
Django's own WSGI handler (django.test.utils.CaptureQueriesContext).

PostgreSQL: BENCH_POSTGRES_URL or TEST_POSTGRES_URL (a user allowed to create
databases), else a throwaway cluster on 127.0.0.1 if PostgreSQL's initdb is installed,
stopped afterwards; else PostgreSQL is not measured and the table says why.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from bench.common import ROOT, machine, ratio, record, sqlite_version, table
from tests.load.client import Journey, LoadResult, Person, Plan, http_client, journey, run_load
from tests.load.server import (
    DEFINITION,
    Gunicorn,
    database_created,
    database_prepare,
    free_port,
    server_env,
    static_collect,
    static_missing,
)

TITLE = "Submissions: whole journeys against gunicorn"
HEALTH = "/healthz"
URL = "http://127.0.0.1"  # in-process requests (statements_walk)
WARM_UP_JOURNEYS = 16  # each worker imports, connects and compiles its templates first
# Targets of issue 7 on a 2-core machine, load generator included.
TARGET_JOURNEYS_PER_SECOND = 40
TARGET_P99_MS = 300
TARGET_SUBMIT_STATEMENTS = 15


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workers", type=int, default=3)  # as make serve
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--statements", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.statements:
        print(json.dumps(statements_walk()))
        return
    if problem := static_missing():
        sys.exit(problem)
    plan = Plan.read(DEFINITION)
    loads: list[list[object]] = []
    statements: dict[str, dict[str, int]] = {}
    engines: list[str] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-submissions-") as temporary:
        folder = Path(temporary)
        static_root = folder / "static"
        static_collect(static_root)
        for engine in args.databases:
            with server_database(engine) as run_database:
                if isinstance(run_database, str):
                    notes.append(run_database)
                    continue
                engines.append(_engine_name(engine, run_database))
                (folder / engine).mkdir(exist_ok=True)
                with database_created(folder / engine, run_database) as database:
                    database_prepare(database, static_root)
                    env = server_env(database.url, static_root)
                    statements[engine] = statements_count(env)
                    server = Gunicorn(
                        env,
                        folder / engine / "gunicorn.log",
                        workers=args.workers,
                        threads=args.threads,
                    ).start(ready_path=HEALTH)
                    try:
                        loads += measure(server, plan, engine, args.clients, args.seconds)
                    finally:
                        server.stop()
                    if errors := server.log_errors():
                        notes.append(f"{engine}: the server logged errors: {errors[:3]}")
    print_and_record(args, loads, statements, engines, notes)


def _engine_name(engine: str, run_database: dict[str, Any]) -> str:
    if engine == "sqlite":
        return sqlite_version()
    version = subprocess.run(  # noqa: S603 - the installed psql client, if any
        [shutil.which("psql") or "psql", "--version"], capture_output=True, text=True, check=False
    ).stdout.split()
    return f"PostgreSQL {version[-1] if version else '?'} at {run_database['HOST']}"


@contextlib.contextmanager
def server_database(engine: str) -> Iterator[dict[str, Any] | str]:
    """The database settings (as Django's ``DATABASES["default"]``) whose server the
    benchmark makes its database on, or a sentence saying why this engine is skipped."""
    if engine == "sqlite":
        yield {"ENGINE": "django.db.backends.sqlite3"}
        return
    url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield _postgres_settings(url)
        return
    initdb = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdb:
        yield (
            "PostgreSQL was not measured: set BENCH_POSTGRES_URL, or install it "
            "(apt-get install postgresql) for a throwaway cluster"
        )
        return
    with postgres_cluster(Path(initdb[-1]).parent) as url:
        yield _postgres_settings(url)


def _postgres_settings(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/") or "postgres",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
    }


@contextlib.contextmanager
def postgres_cluster(bin_dir: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (as .ci/run starts one), removed after.
    PostgreSQL refuses to run as root, so as root it runs as the postgres user, in a
    folder of its own (it cannot enter this run's private temporary folder)."""
    data = Path(tempfile.mkdtemp(prefix="bench-postgres-"))
    port = free_port()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(data, "postgres")

    def run(*command: str) -> None:
        line = [str(bin_dir / command[0]), *command[1:]]
        if as_root:
            line = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{a}'" for a in line)]
        done = subprocess.run(line, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed:\n{done.stdout}\n{done.stderr}")

    try:
        run("initdb", "-D", str(data), "-A", "trust", "-U", "consult", "--no-instructions")
        options = f"-h 127.0.0.1 -p {port} -k {data}"
        log = str(data / "server.log")
        run("pg_ctl", "-D", str(data), "-l", log, "-w", "-o", options, "start")
        try:
            yield f"postgres://consult@127.0.0.1:{port}/postgres"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "fast", "stop")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def statements_count(env: dict[str, str]) -> dict[str, int]:
    """Statements per request of one journey, counted in a process of its own with the
    server's environment."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.submissions", "--statements"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def statements_walk() -> dict[str, int]:
    """Walk one journey through Django's WSGI handler in this process; the most
    statements each kind of request issued (label: method and page)."""
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts: dict[str, int] = {}
    sql_seconds = [0.0]

    class Counted(Person):
        def request(
            self, method: str, path: str, *, label: str, data: dict[str, Any] | None = None
        ) -> httpx.Response:
            # The send runs in a thread of its own (journey() can click twice):
            # ``connection`` is that thread's.
            with (
                CaptureQueriesContext(connection) as captured,
                connection.execute_wrapper(timed),
            ):
                reply = super().request(method, path, label=label, data=data)
            name = f"{method} {label}"
            counts[name] = max(counts.get(name, 0), len(captured.captured_queries))
            return reply

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds[0] += time.perf_counter() - started

    plan = Plan.read(DEFINITION)
    transport = httpx.WSGITransport(app=get_wsgi_application())
    with httpx.Client(transport=transport, follow_redirects=False) as http:
        # A first journey fills what a running server has cached (the consultation's
        # questions); the second, as an organisation (more pages), is counted.
        for serial, person in enumerate([Person(http, [URL]), Counted(http, [URL])]):
            person.get(HEALTH, label="health check")
            rng = random.Random(8 + serial)  # noqa: S311 - seeded answers, not secrets
            started = time.perf_counter()
            walked = journey(person, plan, serial=serial, rng=rng)
            if not walked.confirmed:
                raise RuntimeError(f"the counted journey did not finish: {walked.problem}")
    # What one journey costs the server, alone (the capacity model in docs/scaling.md).
    counts["one whole journey in-process, client included: ms"] = round(
        (time.perf_counter() - started) * 1000
    )
    counts["one whole journey: of which executing SQL, ms"] = round(sql_seconds[0] * 1000)
    return counts


def measure(
    server: Gunicorn, plan: Plan, engine: str, client_counts: list[int], seconds: float
) -> list[list[object]]:
    run_load([server.url], plan, journeys=WARM_UP_JOURNEYS, clients=8, seed=1, seconds=120)
    rows = []
    for clients in client_counts:
        health = health_load(server.url, clients=clients, seconds=min(seconds, 10.0))
        result = run_load(
            [server.url], plan, journeys=10**9, clients=clients, seed=clients, seconds=seconds
        )
        rows.append(
            [
                engine,
                clients,
                *figures(result),
                f"{health.per_second:.0f} req/s, p99 {health.percentile(99):.0f} ms",
                ratio(len(result.requests) / result.seconds, health.per_second),
            ]
        )
    return rows


class HealthLoad:
    """Requests to the health check from ``clients`` threads at once."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.errors = 0
        self.seconds = 0.0
        self.lock = threading.Lock()

    @property
    def per_second(self) -> float:
        return len(self.times) / self.seconds if self.seconds else 0.0

    def percentile(self, p: int) -> float:
        times = sorted(self.times)
        return times[min(len(times) - 1, len(times) * p // 100)] * 1000 if times else 0.0


def health_load(url: str, *, clients: int, seconds: float) -> HealthLoad:
    load = HealthLoad()
    deadline = time.monotonic() + seconds

    def client() -> None:
        with http_client() as http:
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    ok = http.get(url + HEALTH).status_code == 200
                except httpx.HTTPError:
                    ok = False
                with load.lock:
                    if ok:
                        load.times.append(time.monotonic() - started)
                    else:
                        load.errors += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.monotonic() - started
    return load


def _cut_off(walked: Journey) -> bool:
    """A journey stopped by the end of the time allowed, not by a fault."""
    return "the time allowed is over" in walked.problem and not any(
        r.failed for r in walked.requests
    )


def figures(result: LoadResult) -> list[object]:
    """Journeys/s, requests/s, p50, p95, p99 (ms) and errors of a load."""
    times = sorted(r.seconds for r in result.requests if not r.failed)

    def percentile(p: int) -> str:
        return f"{times[min(len(times) - 1, len(times) * p // 100)] * 1000:.0f}" if times else "-"

    # A failed request ends its journey: count it once, with wrong pages besides.
    wrong_pages = [
        j for j in result.unfinished if not _cut_off(j) and not any(r.failed for r in j.requests)
    ]
    errors = len(result.failed_requests) + len(wrong_pages)
    # Journeys cut off at the end did part of the work: requests per second over the
    # requests a confirmed journey takes is the rate without that edge.
    per_journey = sum(len(j.requests) for j in result.confirmed) / max(1, len(result.confirmed))
    requests_per_second = len(result.requests) / result.seconds
    return [
        f"{len(result.confirmed) / result.seconds:.1f}",
        f"{requests_per_second / per_journey:.1f}",
        f"{requests_per_second:.0f}",
        percentile(50),
        percentile(95),
        percentile(99),
        errors,
    ]


def print_and_record(
    args: argparse.Namespace,
    loads: list[list[object]],
    statements: dict[str, dict[str, int]],
    engines: list[str],
    notes: list[str],
) -> None:
    headers = [
        "database",
        "clients",
        "journeys/s",
        "journeys/s steady",
        "requests/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "errors",
        "baseline: health check",
        "requests/s vs baseline",
    ]
    labels = list(dict.fromkeys(label for counts in statements.values() for label in counts))
    statement_rows = [
        [label, *(statements[engine].get(label, "-") for engine in statements)] for label in labels
    ]
    verdicts = [
        f"{row[0]}, {row[1]} clients: "
        + ", ".join(
            [
                f"{row[3]} journeys/s (steady) "
                + ("meets" if float(str(row[3])) >= TARGET_JOURNEYS_PER_SECOND else "misses")
                + f" the target of {TARGET_JOURNEYS_PER_SECOND}",
                f"p99 {row[7]} ms "
                + (
                    "meets"
                    if str(row[7]).isdigit() and int(str(row[7])) < TARGET_P99_MS
                    else "misses"
                )
                + f" the target of {TARGET_P99_MS} ms",
                f"{row[8]} errors",
            ]
        )
        for row in loads
    ]
    for engine, counts in statements.items():
        sends = counts.get("POST check", 0)
        met = "met" if sends <= TARGET_SUBMIT_STATEMENTS else "missed"
        verdicts.append(
            f"{engine}: sending a response issues {sends} statements (target at most "
            f"{TARGET_SUBMIT_STATEMENTS}): {met}"
        )
    text = "\n\n".join(
        [
            f"gunicorn {args.workers} workers x {args.threads} threads (gthread), production "
            f"settings; load generator in the same machine, {args.seconds:.0f} s per load; "
            "baseline: /healthz from the same number of clients, same server, same run.",
            table(headers, loads),
            "SQL statements per request of one journey (the most any page of that kind "
            "issued; sections differ):",
            table(["request", *statements], statement_rows),
            "\n".join(f"- {line}" for line in verdicts + notes),
        ]
    )
    record(TITLE, machine(" and ".join(engines) or "no database"), text)


if __name__ == "__main__":
    main()
