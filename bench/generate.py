"""How long ``generate_responses`` takes to write a million responses into SQLite.

    .venv/bin/python -m bench.generate [--count 1000000]

Makes a new SQLite database in a temporary folder (migrated, the built-in consultation
loaded), then times ``manage.py generate_responses`` in its own process: the whole
command, as a person would run it, including the full-text index and the running
counts. Target (issue 7): one million responses in well under ten minutes.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import (
    DATA,
    DEFINITION,
    ROOT,
    SEED,
    SLUG,
    environment,
    machine,
    manage,
    record,
    sqlite_url,
    sqlite_version,
    table,
)


def _generate(database: Path, count: int) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "generate_responses",
            SLUG,
            "--count",
            str(count),
            "--seed",
            str(SEED),
            "--verbosity",
            "0",
        ],
        env=environment(sqlite_url(database)),
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def _database(folder: Path, name: str) -> Path:
    database = folder / name
    manage(sqlite_url(database), "migrate", "--verbosity", "0")
    manage(sqlite_url(database), "load_consultation", str(DEFINITION))
    return database


def _answers(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        return int(connection.execute("SELECT count(*) FROM responses_answer").fetchone()[0])
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    args = parser.parse_args()
    rows = []
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA) as folder:  # beside the datasets, on disk
        database = _database(Path(folder), "generated.sqlite3")
        seconds = _generate(database, args.count)
        rows.append(
            (
                f"{args.count:,}",
                "generate_responses",
                f"{seconds:,.0f}",
                f"{args.count / seconds:,.0f}",
                f"{_answers(database):,}",
                "yes" if args.count < 1_000_000 or seconds < 600 else "NO",
            )
        )
    text = table(["responses", "run", "seconds", "responses/s", "answers", "target met"], rows)
    record("Generating responses", machine(sqlite_version()), text)


if __name__ == "__main__":
    main()
