"""Issue 6, faults: three times in the middle of a load, the server is killed (SIGKILL
to gunicorn's arbiter and all its workers at once: nothing finishes or cleans up) and
started again on the same database and port.

Journeys under way at the kill fail: that is expected. New journeys wait for the new
server, then must all succeed. Every response whose confirmation page was served is in
the database, sent, with exactly the answers posted; no response in the database, sent
or draft, is half written (see ``checks.consistency_problems`` for what that means).
"""

import time
from collections import Counter

import pytest

from tests.load.checks import (
    confirmed_problems,
    consistency_problems,
    stored_responses,
    tally_problems,
)
from tests.load.client import Load

JOURNEYS = 500
CLIENTS = 50
KILL_AFTER = (100, 200, 300)  # confirmed journeys before each kill
SECONDS = 900  # upper bound for the whole load


def wait_for(condition, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen in {seconds} s")
        time.sleep(0.05)


@pytest.mark.load
def test_killing_the_server_mid_load_leaves_no_half_written_response(serve, plan, database, report):
    server = serve()
    load = Load(
        [server.url],
        plan,
        journeys=JOURNEYS,
        clients=CLIENTS,
        seed=7,
        seconds=SECONDS,
        double_sends=0.05,
    ).start()
    restarted_at = []
    try:
        for confirmed in KILL_AFTER:
            wait_for(lambda n=confirmed: load.confirmed_count >= n, seconds=300, what="progress")
            load.pause()
            server.kill()
            server = serve(port=server.port)
            restarted_at.append(time.monotonic())
            load.resume()
    except BaseException:
        load.stop()  # no clients left running on after a failure
        raise
    result = load.wait()
    stored, counts = stored_responses(database)
    confirmed = {j.reference for j in result.confirmed}
    unconfirmed = Counter(r.status for r in stored.values() if r.reference not in confirmed)
    report(f"{len(KILL_AFTER)} kills; {result.summary()}; left unconfirmed: {dict(unconfirmed)}")

    # Only requests under way at a kill failed, and only for want of an answer.
    assert [f"{r.label} {r.url}: HTTP {r.status}" for r in result.failed_requests if r.status] == []
    cut_off = result.unfinished
    assert cut_off, "no journey was under way at a kill"
    assert all(j.requests[-1].status is None for j in cut_off), cut_off[0].problem
    assert len(cut_off) <= CLIENTS * len(KILL_AFTER)
    after_restart = [j for j in result.journeys if j.requests[0].started > restarted_at[-1]]
    assert after_restart
    assert all(j.confirmed for j in after_restart)
    assert len(result.journeys) == JOURNEYS

    assert confirmed_problems(plan, result.journeys, stored, counts) == []
    assert [p for response in stored.values() for p in consistency_problems(plan, response)] == []
    assert tally_problems(database) == []
    # Beside the confirmed responses, only those of cut-off journeys: drafts, or sent
    # ones whose confirmation never arrived.
    assert sum(1 for j in cut_off if j.answers) <= unconfirmed.total() <= len(cut_off)
    assert server.log_errors() == []
