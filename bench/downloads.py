"""Benchmark 3, downloads: time, peak memory and time to first byte of the CSV, XLSX and
JSON Lines downloads, against a raw SQL query writing the same CSV.

    .venv/bin/python -m bench.downloads [--sizes 100000 1000000] [--formats csv xlsx jsonl]

Targets (issue 7): CSV within 2x its baseline; peak memory of the process under 200 MB
and within 10% between 100,000 and 1,000,000 responses; first byte under 1 s.

Each download runs in a fresh process (so each peak is its own: ``ru_maxrss``, which
includes Python, Django and SQLite's page cache) with DEBUG off, as a data controller
taking the full variant, and is read to the end into a null sink. The process works
inside a transaction it rolls back, so the benchmark's user and the download's audit
record never stay in the shared dataset.

Baseline: in a fresh process without Django, one hand-written SQL query over the same
SQLite file pivots the answers into one row per response (a correlated subquery per
column, which beat conditional aggregation over a join, 15 s against 21 s at 100,000)
and Python's csv module writes it, flushed and hashed the way the download is. It uses
the same page cache size as the application's connections. The benchmark checks that
the baseline and the CSV download have the same rows and columns and compares their
SHA-256: they are meant to be identical bytes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import common

FORMATS = ["csv", "xlsx", "jsonl"]
FLUSH_EVERY = 500  # rows per chunk, as the CSV download flushes
# The application's default (consult/settings.py, SQLITE_CACHE_MB): the baseline gets
# the same page cache as the download's connection.
CACHE_MB = int(os.environ.get("SQLITE_CACHE_MB", "64"))
PERSONAL = ("name", "email", "organisation_name")
FORMULA = "CASE WHEN substr({0}, 1, 1) IN ('=', '+', '-', '@', char(9), char(13)) THEN '''' || {0} ELSE {0} END"  # noqa: E501


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ----------------------------------------------------------------------------- baseline


def baseline_query(connection: sqlite3.Connection) -> tuple[list[str], str]:
    """The header and the SQL of the full CSV: meta columns, then each question in
    section and question order (a matrix row, a multiple-choice option and a personal
    detail each a column), text made inert for spreadsheets as the download does."""
    consultation = connection.execute("SELECT id FROM consultations_consultation").fetchone()[0]
    questions = connection.execute(
        "SELECT q.id, q.key, q.type, q.profile, q.parent_id FROM consultations_question q "
        "JOIN consultations_section s ON s.id = q.section_id WHERE q.consultation_id = ? "
        "ORDER BY s.position, q.position",
        (consultation,),
    ).fetchall()
    options: dict[int, list[tuple[int, str]]] = {}
    for option_id, question_id, code in connection.execute(
        "SELECT id, question_id, code FROM consultations_option ORDER BY question_id, position"
    ):
        options.setdefault(question_id, []).append((option_id, code))
    rows: dict[int, list[tuple[Any, ...]]] = {}
    for question in questions:
        if question[4] is not None:
            rows.setdefault(question[4], []).append(question)

    names = ["reference", "submitted_at", "language", "channel", "document"]
    inner = [
        "r.reference",
        "strftime('%Y-%m-%dT%H:%M:%SZ', r.submitted_at)",
        "r.language",
        "r.channel",
        "COALESCE(d.kind, '')",
    ]
    inert: set[int] = set()
    answer = "FROM responses_answer a WHERE a.response_id = r.id AND a.question_id = {}"
    for question in questions:
        question_id, _key, _type, profile, parent = question
        if parent is not None:
            continue
        if profile in PERSONAL:
            names.append(profile)
            inert.add(len(inner))
            inner.append(f"COALESCE(p.{profile}, '')")
            continue
        for part_id, key, kind, _profile, _parent in rows.get(question_id) or [question]:
            if kind == "multiple_choice":
                for option_id, code in options[part_id]:
                    names.append(f"{key}__{code}")
                    inner.append(
                        f"CASE WHEN EXISTS(SELECT 1 {answer.format(part_id)}) THEN "
                        f"EXISTS(SELECT 1 {answer.format(part_id)} AND a.option_id = {option_id}) "
                        "ELSE '' END"
                    )
            elif kind in {"short_text", "long_text"}:
                names.append(key)
                inert.add(len(inner))
                inner.append(f"COALESCE((SELECT a.text {answer.format(part_id)}), '')")
                # The campaign the answer is in: "<id>: <name>", "(not confirmed)" until
                # an analyst confirms it.
                names.append(f"{key}__campaign")
                inert.add(len(inner))
                inner.append(
                    "COALESCE((SELECT c.id || ': ' || c.name || CASE WHEN c.confirmed THEN '' "  # noqa: S608
                    "ELSE ' (not confirmed)' END FROM analysis_campaignmember m "
                    "JOIN analysis_campaign c ON c.id = m.campaign_id "
                    f"WHERE m.response_id = r.id AND c.question_id = {part_id}), '')"
                )
            else:
                names.append(key)
                inner.append(
                    "COALESCE((SELECT o.code FROM responses_answer a "  # noqa: S608
                    "JOIN consultations_option o ON o.id = a.option_id "
                    f"WHERE a.response_id = r.id AND a.question_id = {part_id}), '')"
                )
    aliased = ", ".join(f"{expression} AS c{n}" for n, expression in enumerate(inner))
    outer = ", ".join(FORMULA.format(f"c{n}") if n in inert else f"c{n}" for n in range(len(inner)))
    # Every value in the SQL is an id or key read from the database above.
    sql = (
        f"SELECT {outer} FROM (SELECT {aliased} FROM responses_response r "  # noqa: S608
        "LEFT JOIN responses_respondent p ON p.response_id = r.id "
        "LEFT JOIN responses_document d ON d.response_id = r.id "
        f"WHERE r.consultation_id = {consultation} AND r.status = 'submitted' "
        "ORDER BY r.submitted_at, r.id)"
    )
    return names, sql


def measure_baseline(path: Path) -> dict[str, Any]:
    """The baseline CSV, in this process: SQL, csv module, hashed, sent nowhere."""
    started = time.perf_counter()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    connection.execute(f"PRAGMA cache_size=-{CACHE_MB * 1024}")
    names, sql = baseline_query(connection)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(names)
    before = peak_mb()
    digest = hashlib.sha256()
    size = rows = 0
    first_byte = None
    cursor = connection.execute(sql)
    while batch := cursor.fetchmany(FLUSH_EVERY):
        writer.writerows(batch)
        rows += len(batch)
        chunk = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        if first_byte is None:
            first_byte = time.perf_counter() - started
        digest.update(chunk)
        size += len(chunk)
    chunk = buffer.getvalue().encode("utf-8")
    digest.update(chunk)
    size += len(chunk)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "first_byte": first_byte if first_byte is not None else seconds,
        "peak_mb": peak_mb(),
        "before_mb": before,
        "rows": rows,
        "columns": len(names),
        "bytes": size,
        "sha256": digest.hexdigest(),
    }


# ----------------------------------------------------------------------------- download


def measure_download(format_key: str) -> dict[str, Any]:
    """One download, in this process, read to the end; rolled back afterwards."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import transaction
    from django.utils import timezone

    from consult.analysis.models import Role
    from consult.analysis.queries import Filters
    from consult.consultations.models import Consultation
    from consult.consultations.queries import consultation_spec
    from consult.exports.models import Channel, DownloadRecord, Variant
    from consult.exports.services import download_make

    with transaction.atomic():
        user = User.objects.create(username="bench-downloads")
        user.groups.add(Group.objects.get_or_create(name=Role.DATA_CONTROLLER)[0])
        consultation = Consultation.objects.get()
        spec = consultation_spec(consultation)
        before = peak_mb()
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
        header = b""
        for chunk in made.chunks:
            if first_byte is None and chunk:
                first_byte = time.perf_counter() - started
            if format_key == "csv" and not header:
                header = chunk.split(b"\r\n", 1)[0]
        seconds = time.perf_counter() - started
        record = DownloadRecord.objects.get(user=user)
        result = {
            "seconds": seconds,
            "first_byte": first_byte if first_byte is not None else seconds,
            "peak_mb": peak_mb(),
            "before_mb": before,
            "rows": record.row_count,
            "columns": len(next(csv.reader([header.decode()]))) if header else None,
            "bytes": record.byte_count,
            "sha256": record.sha256,
        }
        transaction.set_rollback(True)
    return result


def child(database: Path | None, *args: str) -> dict[str, Any]:
    """Run this module with ``args`` in a fresh process; its last line is its result."""
    env = (
        common.environment(
            common.sqlite_url(database),
            DEBUG="false",  # DEBUG keeps every query's SQL: memory would grow with batches
            SECRET_KEY="bench-downloads-not-secret",  # noqa: S106 - a throwaway process
        )
        if database
        else dict(os.environ)
    )
    result = subprocess.run(  # noqa: S603 - this module, measuring itself
        [sys.executable, "-m", "bench.downloads", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=common.ROOT,
        check=False,
    )
    if result.returncode:
        sys.exit(f"{' '.join(args)} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=FORMATS, choices=FORMATS)
    parser.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--download", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        print(json.dumps(measure_baseline(args.baseline)))
        return
    if args.download:
        print(json.dumps(measure_download(args.download)))
        return

    rows: list[list[object]] = []
    checks: list[str] = []
    peaks: dict[str, list[float]] = {}
    for size in args.sizes:
        path = common.dataset(size)
        baseline = child(None, "--baseline", str(path))
        rows.append(_row(size, "baseline: SQL + csv", baseline, baseline))
        for format_key in args.formats:
            result = child(path, "--download", format_key)
            rows.append(_row(size, format_key, result, baseline))
            peaks.setdefault(format_key, []).append(result["peak_mb"])
            if format_key == "csv":
                checks.append(_compare(size, result, baseline))
    text = [
        "Variant full, data controller; each download and the baseline in a fresh process; "
        "peak = the process's maximum resident set; MB at start = the same just before the "
        f"download began (Python, Django, the query's setup); SQLite page cache {CACHE_MB} MB.",
        "",
        common.table(
            [
                "responses",
                "download",
                "rows",
                "MB",
                "total s",
                "responses/s",
                "vs baseline",
                "first byte s",
                "MB at start",
                "peak MB",
            ],
            rows,
        ),
        "",
        *checks,
    ]
    if len(args.sizes) > 1:
        smallest, largest = min(args.sizes), max(args.sizes)
        for format_key, values in peaks.items():
            change = (values[-1] - values[0]) / values[0] * 100
            text.append(
                f"- {format_key} peak from {smallest:,} to {largest:,} responses: "
                f"{values[0]:.0f} MB to {values[-1]:.0f} MB ({change:+.1f}%)."
            )
    common.record(
        "Downloads (benchmark 3)", common.machine(common.sqlite_version()), "\n".join(text)
    )


def _row(size: int, name: str, result: dict[str, Any], baseline: dict[str, Any]) -> list[object]:
    return [
        f"{size:,}",
        name,
        f"{result['rows']:,}",
        f"{result['bytes'] / 2**20:.1f}",
        f"{result['seconds']:.1f}",
        f"{result['rows'] / result['seconds']:,.0f}",
        common.ratio(result["seconds"], baseline["seconds"]),
        f"{result['first_byte']:.2f}",
        f"{result['before_mb']:.0f}",
        f"{result['peak_mb']:.0f}",
    ]


def _compare(size: int, download: dict[str, Any], baseline: dict[str, Any]) -> str:
    same_shape = (download["rows"], download["columns"]) == (baseline["rows"], baseline["columns"])
    if not same_shape:
        sys.exit(
            f"{size:,}: the CSV download has {download['rows']} rows and {download['columns']} "
            f"columns, the baseline {baseline['rows']} and {baseline['columns']}"
        )
    same = download["sha256"] == baseline["sha256"]
    return (
        f"- {size:,}: CSV and baseline both {download['rows']:,} rows x "
        f"{download['columns']} columns; "
        + ("identical bytes (same SHA-256)." if same else "**bytes differ** (SHA-256).")
    )


if __name__ == "__main__":
    main()
