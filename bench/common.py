"""What every benchmark shares: generated datasets, the machine's description, the table
format and the dated entry each run appends to bench/RESULTS.md.

Datasets are SQLite files under bench/.data/ (ignored by git), one per size and seed,
made by the project's own commands and kept between runs: a million responses take a
few minutes to generate. A benchmark must not change them.
"""

from __future__ import annotations

import fcntl
import os
import platform
import sqlite3
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "RESULTS.md"
DEFINITION = ROOT / "consult" / "consultations" / "definitions" / "facial-recognition.yaml"
SLUG = "facial-recognition"
SEED = 7
# Part of a dataset's file name: a change to what the generator makes (2: free text about
# known themes) makes new files rather than reusing datasets made by the old one.
GENERATOR = 2


def environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a process that uses the database at ``database_url``."""
    return os.environ | {
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "consult.settings",
        **extra,
    }


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def manage(database_url: str, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=environment(database_url),
        check=True,
        cwd=ROOT,
    )


def dataset(size: int, seed: int = SEED) -> Path:
    """A SQLite database holding the built-in consultation and ``size`` generated
    responses, made on first use and kept under bench/.data/ for later runs."""
    path = DATA / f"responses-{size}-seed{seed}-gen{GENERATOR}.sqlite3"
    DATA.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(path)
    # One maker at a time: two benchmarks run side by side wait for the same file.
    with (DATA / f"{path.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists() and _responses(path) == size:
            manage(url, "migrate", "--verbosity", "0")  # a kept database follows the code
            return path
        for stale in DATA.glob(f"{path.name}*"):  # a run stopped half-way, and its WAL
            if not stale.name.endswith(".lock"):
                stale.unlink()
        manage(url, "migrate", "--verbosity", "0")
        manage(url, "load_consultation", str(DEFINITION))
        manage(url, "generate_responses", SLUG, "--count", str(size), "--seed", str(seed))
    return path


def _responses(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("SELECT count(*) FROM responses_response").fetchone()[0])
    except sqlite3.Error:
        return -1
    finally:
        connection.close()


def machine(database: str) -> str:
    """Cores, memory, Python and database: what a figure depends on besides the code."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, {platform.machine()}, "
        f"Python {platform.python_version()}, {database}"
    )


def sqlite_version() -> str:
    return f"SQLite {sqlite3.sqlite_version}"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table: it reads as plain text in a terminal and renders in RESULTS.md."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def record(title: str, machine_text: str, text: str) -> None:
    """Print ``text`` and append it to bench/RESULTS.md under a dated heading, unless
    BENCH_RECORD=0 (trial runs while working on a benchmark)."""
    print(text)
    if os.environ.get("BENCH_RECORD", "1") == "0":
        return
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    with RESULTS.open("a", encoding="utf-8") as results:
        results.write(f"\n## {title}, {stamp} UTC\n\nMachine: {machine_text}.\n\n{text}\n")


def ratio(value: float, baseline: float) -> str:
    return f"{value / baseline:.2f}x" if baseline else "n/a"
