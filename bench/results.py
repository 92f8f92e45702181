"""Analysts' views at scale, each beside the same figures computed by hand-written SQL.

    .venv/bin/python -m bench.results [--sizes 100000 1000000] [--repeat 5]

For each size, a fresh process opens the generated dataset (bench/common.py) and times,
through Django's test client with a signed-in analyst: the dashboard, the dashboard
filtered to organisations, a cross-tabulation of two closed questions, a free-text
search, and the dashboard with confirmed campaigns excluded and counted once. For the
last two, the generator's three campaign texts become confirmed campaigns of the answers
that copy them, inside a transaction rolled back at the end (the kept dataset is never
changed). Its baseline, timed in turn in the same process, is the SQL a person would write
for the figures that view shows, run on the same connection. Each figure is the median
of ``--repeat`` runs after one run to warm the caches (one run when that took over 20 s);
the view's figures are checked against the baseline's, so a fast wrong answer cannot
pass. Targets: each view within
1.5x its baseline, and the unfiltered dashboard under 1 s at a million responses.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from bench.common import (
    ROOT,
    SLUG,
    dataset,
    environment,
    machine,
    ratio,
    record,
    sqlite_url,
    sqlite_version,
    table,
)

FILTER_QUESTION, FILTER_CODE = "respondent_type", "organisation"
ROWS, COLUMNS = "respondent_type", "lfr_overall"
TEXT_QUESTION, SEARCH = "anything_else", "privacy"
CAMPAIGN_PREFIX = 40  # characters of a campaign text that every copy of it starts with
LONG = 20.0


def _timed(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median seconds over ``repeat`` runs after a warming one, and the last result; one
    run after the warming one when that took over LONG seconds (noise matters less)."""
    started = time.perf_counter()
    result = run()
    times = []
    for _ in range(repeat if time.perf_counter() - started < LONG else 1):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(repeat: int) -> list[dict[str, Any]]:
    """In a process whose DATABASE_URL is the dataset: every view and its baseline."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from consult.analysis.models import Campaign
    from consult.consultations.models import Consultation
    from consult.consultations.queries import consultation_spec
    from consult.responses.synthetic import CAMPAIGNS

    setup_test_environment()  # the test client's host is allowed
    consultation = Consultation.objects.get(slug=SLUG)
    spec = consultation_spec(consultation)
    user, _ = User.objects.get_or_create(username="bench-analyst")
    user.groups.add(Group.objects.get_or_create(name="analyst")[0])
    client = Client()
    client.force_login(user)

    def sql(statement: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()

    counted = "r.consultation_id = %s AND r.status = 'submitted'"
    organisations = spec.by_key[FILTER_QUESTION].option_by_code(FILTER_CODE)
    if organisations is None:
        raise LookupError(f"{FILTER_QUESTION} has no option {FILTER_CODE}")
    chosen_filter = (
        " AND EXISTS (SELECT 1 FROM responses_answer f WHERE f.response_id = r.id"
        f" AND f.question_id = {spec.by_key[FILTER_QUESTION].id}"
        f" AND f.option_id = {organisations.id})"
    )

    def dashboard_sql(where: str) -> Callable[[], int]:
        def run() -> int:
            params = [consultation.pk]
            total = sql(f"SELECT count(*) FROM responses_response r WHERE {where}", params)
            sql(
                "SELECT a.question_id, a.option_id, count(*) FROM responses_answer a"
                f" JOIN responses_response r ON r.id = a.response_id WHERE {where}"
                " AND a.option_id IS NOT NULL GROUP BY a.question_id, a.option_id",
                params,
            )
            sql(
                "SELECT a.question_id, count(DISTINCT a.response_id) FROM responses_answer a"
                f" JOIN responses_response r ON r.id = a.response_id WHERE {where}"
                " GROUP BY a.question_id",
                params,
            )
            # UTC days: SQLite has no time zones (the view uses UK days); the work is alike.
            sql(
                "SELECT date(r.submitted_at), count(*) FROM responses_response r"
                f" WHERE {where} GROUP BY date(r.submitted_at)",
                params,
            )
            sql(
                "SELECT status, count(*) FROM responses_response WHERE consultation_id = %s"
                " GROUP BY status",
                params,
            )
            return int(total[0][0])

        return run

    row_question, column_question = spec.by_key[ROWS], spec.by_key[COLUMNS]

    def crosstab_sql() -> int:
        cells = sql(
            "SELECT ra.option_id, ca.option_id, count(*) FROM responses_response r"
            " JOIN responses_answer ra ON ra.response_id = r.id AND ra.question_id = %s"
            " JOIN responses_answer ca ON ca.response_id = r.id AND ca.question_id = %s"
            f" WHERE {counted} GROUP BY ra.option_id, ca.option_id",
            [row_question.id, column_question.id, consultation.pk],
        )
        return sum(n for _, _, n in cells)  # single choices: the cells add up to the total

    text_question = spec.by_key[TEXT_QUESTION]

    def search_sql() -> int:
        matching = (
            " FROM responses_answer a JOIN responses_response r ON r.id = a.response_id"
            f" WHERE a.question_id = %s AND {counted} AND a.id IN"
            " (SELECT rowid FROM answer_text_fts WHERE answer_text_fts MATCH %s)"
        )
        params = [text_question.id, consultation.pk, f'"{SEARCH}"*']
        count = sql(f"SELECT count(*) {matching}", params)
        sql(
            f"SELECT a.id, a.text, r.reference, r.submitted_at, r.respondent_type {matching}"
            " ORDER BY r.submitted_at DESC, a.id DESC LIMIT 25",
            params,
        )
        return int(count[0][0])

    def page(path: str, figure: Callable[[Any], int]) -> Callable[[], int]:
        def run() -> int:
            reply = client.get(path)
            if reply.status_code != 200:
                raise RuntimeError(f"{path} answered {reply.status_code}")
            return figure(reply.context)

        return run

    base = f"/analysis/{SLUG}/"
    views = [
        (
            "dashboard",
            page(base, lambda context: context["results"].total),
            dashboard_sql(counted),
        ),
        (
            f"dashboard, {FILTER_QUESTION} = {FILTER_CODE}",
            page(
                f"{base}?a={FILTER_QUESTION}:{FILTER_CODE}",
                lambda context: context["results"].total,
            ),
            dashboard_sql(counted + chosen_filter),
        ),
        (
            f"cross-tab {ROWS} x {COLUMNS}",
            page(
                f"{base}cross-tabulation/?rows={ROWS}&columns={COLUMNS}&suppress=0",
                lambda context: context["table"].total,
            ),
            crosstab_sql,
        ),
        (
            f"free-text search '{SEARCH}' in {TEXT_QUESTION}",
            page(
                f"{base}free-text/{TEXT_QUESTION}/?q={SEARCH}",
                lambda context: context["page"].paginator.count,
            ),
            search_sql,
        ),
    ]
    in_campaigns = "SELECT m.response_id FROM analysis_campaignmember m"
    standing = "SELECT c.kept_response_id FROM analysis_campaign c"
    views += [
        (
            "dashboard, campaigns excluded",
            page(f"{base}?campaigns=excluded", lambda context: context["results"].total),
            dashboard_sql(f"{counted} AND r.id NOT IN ({in_campaigns})"),
        ),
        (
            "dashboard, campaigns counted once",
            page(f"{base}?campaigns=once", lambda context: context["results"].total),
            dashboard_sql(
                f"{counted} AND r.id NOT IN ({in_campaigns} WHERE m.response_id NOT IN"
                f" ({standing} WHERE c.kept_response_id IS NOT NULL))"
            ),
        ),
    ]

    def campaigns_confirm() -> None:
        """The generator's campaign texts as confirmed campaigns of the answers to
        TEXT_QUESTION that copy them (every copy starts with the text's first
        CAMPAIGN_PREFIX characters)."""
        now = timezone.now()
        for number, text in enumerate(CAMPAIGNS):
            campaign = Campaign.objects.create(
                consultation=consultation,
                question_id=text_question.id,
                name=f"Campaign {number + 1}",
                representative=text,
                fingerprint=f"bench-{number}",
                confirmed=True,
                confirmed_by=user,
                confirmed_at=now,
                created_at=now,
                updated_at=now,
            )
            sql(
                "INSERT INTO analysis_campaignmember"
                " (answer_id, response_id, campaign_id, similarity, fingerprint)"
                " SELECT a.id, a.response_id, %s, 1.0, '' FROM responses_answer a"
                " WHERE a.question_id = %s AND substr(a.text, 1, %s) = %s",
                [campaign.pk, text_question.id, CAMPAIGN_PREFIX, text[:CAMPAIGN_PREFIX]],
            )
        Campaign.objects.filter(consultation=consultation).figures_refresh(now=now)

    measured = []
    with transaction.atomic():
        for name, view, baseline in views:
            if name == "dashboard, campaigns excluded":  # the first to need them
                campaigns_confirm()
            view_s, view_figure = _timed(view, repeat)
            baseline_s, baseline_figure = _timed(baseline, repeat)
            measured.append(
                {
                    "view": name,
                    "view_s": view_s,
                    "baseline_s": baseline_s,
                    "figure": view_figure,
                    "same_figure": view_figure == baseline_figure,
                }
            )
        transaction.set_rollback(True)  # the campaigns made here go
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.repeat)))
        return
    rows = []
    for size in args.sizes:
        path = dataset(size)
        done = subprocess.run(  # noqa: S603 - this script, measuring in a fresh process
            [sys.executable, "-m", "bench.results", "--measure", "--repeat", str(args.repeat)],
            env=environment(sqlite_url(path), OTP_REQUIRED="false"),
            stdout=subprocess.PIPE,
            text=True,
            check=True,
            cwd=ROOT,
        )
        for result in json.loads(done.stdout.strip().splitlines()[-1]):
            within = result["view_s"] <= 1.5 * result["baseline_s"]
            under_a_second = result["view"] != "dashboard" or result["view_s"] < 1
            rows.append(
                (
                    f"{size:,}",
                    result["view"],
                    f"{result['view_s'] * 1000:,.0f}",
                    f"{result['baseline_s'] * 1000:,.0f}",
                    ratio(result["view_s"], result["baseline_s"]),
                    f"{result['figure']:,}" + ("" if result["same_figure"] else " MISMATCH"),
                    "yes" if within and under_a_second and result["same_figure"] else "NO",
                )
            )
    text = table(
        ["responses", "view", "view ms", "baseline SQL ms", "ratio", "count shown", "target met"],
        rows,
    )
    record(
        "Analysts' views",
        machine(sqlite_version()),
        f"Median of {args.repeat} runs after a warming one, in one process per size; "
        "views through Django's test client, baselines as hand-written SQL on the same "
        "connection. Targets: within 1.5x the baseline; the dashboard under 1 s.\n\n" + text,
    )


if __name__ == "__main__":
    main()
