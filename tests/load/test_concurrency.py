"""Issue 6, concurrency: 50 people at once walk 2,000 journeys against gunicorn with two
worker processes of four threads, on the run's database (SQLite or PostgreSQL).

One journey in twenty clicks "Send" twice at once. Every confirmed reference was shown
to one journey only and is stored exactly once, sent, with exactly the answers its
journey posted (personal details in their own table); nothing else is stored; every
stored response is whole; no request fails and the server logs no error.
"""

import pytest

from tests.load.checks import (
    confirmed_problems,
    consistency_problems,
    stored_responses,
    tally_problems,
)
from tests.load.client import run_load

JOURNEYS = 2_000
CLIENTS = 50
# Upper bound for the whole load. On 2 cores, shared by the clients, the server and
# PostgreSQL, it takes about 8 minutes on either database (about 4 journeys a second).
SECONDS = 1_800


@pytest.mark.load
def test_concurrent_journeys_are_each_stored_once_and_whole(serve, plan, database, report):
    server = serve()

    result = run_load(
        [server.url],
        plan,
        journeys=JOURNEYS,
        clients=CLIENTS,
        seed=6,
        seconds=SECONDS,
        double_sends=0.05,
    )
    report(result.summary())

    failed = [f"{r.label} {r.url}: {r.status or r.error}" for r in result.failed_requests]
    assert failed == [], server.log_tail()
    assert [f"{j.serial}: {j.problem}" for j in result.unfinished] == []
    assert len(result.confirmed) == JOURNEYS
    # The answers varied enough to take every way through the consultation.
    assert {j.answers["respondent_type"] for j in result.confirmed} == {
        ("individual",),
        ("organisation",),
    }
    assert len({j.answers["publication"] for j in result.confirmed}) == 3
    assert any(j.double_sent for j in result.confirmed)

    stored, counts = stored_responses(database)
    assert confirmed_problems(plan, result.journeys, stored, counts) == []
    assert set(stored) == {j.reference for j in result.confirmed}
    assert [p for response in stored.values() for p in consistency_problems(plan, response)] == []
    assert tally_problems(database) == []
    assert server.log_errors() == []
