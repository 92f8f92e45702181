"""Peak memory and time to first byte of downloads at two sizes, measured side by side.

    .venv/bin/python bench/export_memory.py [--sizes 10000 100000]

Builds a throwaway SQLite database under bench/.data/, generates the responses with
`generate_responses`, then runs each download in a fresh process (so each peak is its
own) and prints a table; the figures are appended to bench/RESULTS.md. Baseline: the
same process's peak after setting Django up, before the download.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / ".data"
FORMATS = ["csv", "jsonl", "xlsx", "datapackage", "sav"]


def environment(database: Path) -> dict[str, str]:
    return os.environ | {
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "consult.settings",
    }


def manage(database: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=environment(database),
        check=True,
        cwd=ROOT,
    )


def prepare(size: int) -> Path:
    database = DATA / f"export-{size}.sqlite3"
    DATA.mkdir(parents=True, exist_ok=True)
    manage(database, "migrate", "--verbosity", "0")  # kept databases follow the code
    if database.exists() and _responses(database) == size:
        return database
    manage(
        database, "load_consultation", "consult/consultations/definitions/facial-recognition.yaml"
    )
    manage(
        database, "generate_responses", "facial-recognition", "--count", str(size), "--seed", "7"
    )
    return database


def _responses(database: Path) -> int:
    import sqlite3

    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM responses_response").fetchone()[0]


def measure(format_key: str) -> dict[str, float]:
    """Run one download to nowhere in this process; report peaks and times."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from consult.analysis.queries import Filters
    from consult.consultations.models import Consultation
    from consult.consultations.queries import consultation_spec
    from consult.exports.models import Channel, Variant
    from consult.exports.services import download_make

    user, _ = User.objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get_or_create(name="data_controller")[0])
    consultation = Consultation.objects.get()
    spec = consultation_spec(consultation)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    made = download_make(
        user=user,
        consultation=consultation,
        spec=spec,
        format_key=format_key,
        variant=Variant.FULL,
        filters=Filters(),
        channel=Channel.COMMAND,
        now=timezone.now(),
    )
    first_byte = None
    size = 0
    for chunk in made.chunks:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        size += len(chunk)
    total = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "baseline_mb": baseline / 1024,
        "peak_mb": peak / 1024,
        "growth_mb": (peak - baseline) / 1024,
        "first_byte_s": first_byte or total,
        "total_s": total,
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    rows = []
    for size in args.sizes:
        database = prepare(size)
        for format_key in FORMATS:
            result = subprocess.run(  # noqa: S603 - this script, measuring itself
                [sys.executable, __file__, "--measure", format_key],
                env=environment(database),
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            rows.append((size, format_key, json.loads(result.stdout.strip().splitlines()[-1])))
    lines = [
        "| responses | format | baseline MB | peak MB | growth MB | first byte s | total s | MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for size, format_key, r in rows:
        lines.append(
            f"| {size:,} | {format_key} | {r['baseline_mb']:.0f} | {r['peak_mb']:.0f} | "
            f"{r['growth_mb']:.0f} | {r['first_byte_s']:.2f} | {r['total_s']:.1f} | "
            f"{r['bytes'] / 2**20:.1f} |"
        )
    table = "\n".join(lines)
    print(table)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    machine = (
        f"{os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, "
        f"SQLite, {platform.machine()}"
    )
    with (ROOT / "bench" / "RESULTS.md").open("a", encoding="utf-8") as results:
        results.write(
            f"\n## Download memory, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
            f"Machine: {machine}. Variant: full. Each download in a fresh process; "
            "growth = peak minus the same process's peak before the download.\n\n"
            f"{table}\n"
        )


if __name__ == "__main__":
    main()
