"""Issue 6, scale out: two app servers (each a gunicorn with two worker processes) on one
PostgreSQL database and one Redis, with people sending each request to the other server.

Sessions are rows in the shared database and CSRF tokens are checked against a cookie
signed with the shared secret key, so a journey may move between servers at every
request. Rate limits are counters in the cache: with Redis (REDIS_URL) every process
counts in one place, so a limit holds whichever process a request reaches.
"""

import random

import pytest
from django.conf import settings

from tests.load.checks import confirmed_problems, consistency_problems, stored_responses
from tests.load.client import (
    Person,
    Plan,
    RequestFailed,
    answer_choose,
    csrf_token,
    form_data,
    http_client,
    run_load,
)

STARTS_PER_HOUR = 6


@pytest.fixture
def on_postgresql() -> None:
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")


def start_response(person: Person, plan: Plan, rng: random.Random) -> tuple[int, str]:
    """Answer the first page as a new respondent, the POST that starts a response:
    the status and the page."""
    first = plan.sections[0]
    path = plan.section_path(first)
    page = person.get(path, label=f"section/{first.key}")
    values = {q.key: answer_choose(q, rng, serial=0) for q in plan.shown(first, {})}
    try:
        reply = person.post(path, form_data(values, csrf_token(page)), label="start")
    except RequestFailed as refused:
        if refused.reply is None:
            raise
        reply = refused.reply
    return reply.status_code, reply.text


@pytest.mark.load
@pytest.mark.postgres
@pytest.mark.usefixtures("on_postgresql")
def test_journeys_moving_between_two_servers_at_every_request_keep_their_session(
    serve, plan, database, redis_url, report
):
    servers = [serve(REDIS_URL=redis_url), serve(REDIS_URL=redis_url)]

    result = run_load(
        [s.url for s in servers],
        plan,
        journeys=200,
        clients=20,
        seed=8,
        seconds=600,
        double_sends=0.1,
    )
    report(result.summary())

    assert [f"{r.label} {r.url}: {r.status or r.error}" for r in result.failed_requests] == []
    assert [f"{j.serial}: {j.problem}" for j in result.unfinished] == []
    for walked in result.journeys:
        used = [r.url.split("/c/")[0] for r in walked.requests]
        if not walked.double_sent:  # two sends at once take their turns in either order
            assert used[0::2] == [servers[0].url] * len(used[0::2])
            assert used[1::2] == [servers[1].url] * len(used[1::2])
    stored, counts = stored_responses(database)
    assert confirmed_problems(plan, result.journeys, stored, counts) == []
    assert set(stored) == {j.reference for j in result.confirmed}
    assert [p for response in stored.values() for p in consistency_problems(plan, response)] == []
    assert [line for s in servers for line in s.log_errors()] == []


@pytest.mark.load
@pytest.mark.postgres
@pytest.mark.usefixtures("on_postgresql")
def test_a_rate_limit_holds_across_two_servers_sharing_redis(serve, plan, database, redis_url):
    limited = {"REDIS_URL": redis_url, "RESPONSE_STARTS_PER_HOUR": str(STARTS_PER_HOUR)}
    servers = [serve(**limited), serve(**limited)]
    rng = random.Random(9)

    with http_client() as http:
        replies = [
            start_response(Person(http, [servers[n % 2].url]), plan, rng)
            for n in range(2 * STARTS_PER_HOUR)
        ]

    statuses = [status for status, _page in replies]
    # django-ratelimit counts in fixed windows of an hour; one ending during these few
    # seconds would start the count again (a chance of about one in a thousand).
    assert statuses == [302] * STARTS_PER_HOUR + [429] * STARTS_PER_HOUR
    assert all(
        "Too many responses from this connection" in page for _s, page in replies[STARTS_PER_HOUR:]
    )
    stored, _counts = stored_responses(database)
    assert len(stored) == STARTS_PER_HOUR


@pytest.mark.load
def test_without_redis_each_process_counts_alone(serve, plan, database):
    """The contrast: with the local-memory cache (no REDIS_URL) each worker process keeps
    its own counters, so two servers alternately let through twice the limit (and more
    with more worker processes). This is why several processes need REDIS_URL."""
    limited = {"RESPONSE_STARTS_PER_HOUR": str(STARTS_PER_HOUR)}
    servers = [serve(**limited), serve(**limited)]
    rng = random.Random(10)

    with http_client() as http:
        statuses = [
            start_response(Person(http, [servers[n % 2].url]), plan, rng)[0]
            for n in range(2 * STARTS_PER_HOUR)
        ]

    # Each server saw six starts; no process's own count passed the limit.
    assert statuses == [302] * (2 * STARTS_PER_HOUR)
