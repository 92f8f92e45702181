"""The read replica end to end: the real app on gunicorn, a real PostgreSQL primary and a
streaming standby that applies every commit a few seconds late.

Each "not yet" below is checked against the standby itself after the page was read: the
standby still lacked the row then, so a page that showed it read the primary.
"""

from __future__ import annotations

import csv
import io
import re
import time

import httpx
import pytest

from tests.replica.conftest import (
    APPLY_DELAY,
    PIN_SECONDS,
    TEXT_QUESTION,
    Analyst,
    Live,
    respond,
)

# Servers of its own (PostgreSQL twice, gunicorn): about 45 s, so with the load tests.
pytestmark = pytest.mark.load

SUBMITTED = "SELECT count(*) FROM responses_response WHERE status = 'submitted'"


def standby_lacks(live: Live, statement: str, params: tuple[object, ...] = ()) -> None:
    assert not live.cluster.standby_has_applied(statement, params), (
        f"the standby applied the change before the page was read: {APPLY_DELAY} s of "
        "apply delay is too short for this machine"
    )


def sent_and_counted(page: httpx.Response) -> int:
    found = re.search(r"Sent and counted</dt><dd[^>]*>(\d+)</dd>", page.text)
    assert found is not None, "the results page shows no count of responses"
    return int(found.group(1))


def csv_rows(reply: httpx.Response) -> int:
    return len(list(csv.reader(io.StringIO(reply.text)))) - 1  # less the header


def codebook(page: httpx.Response) -> dict[str, int]:
    """Theme name -> answers coded with it, as the free-text page's codebook shows."""
    table = page.text.partition(">Codebook</h2>")[2].partition("</table>")[0]
    rows = re.findall(
        r'<th scope="row" class="govuk-table__header">([^<]+)(?:<br>.*?)?</th>\s*'
        r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>',
        table,
    )
    return {name: int(count) for name, count in rows}


def answers_shown(page: httpx.Response) -> int:
    found = re.search(r'id="answers-heading">(\d+) answer', page.text)
    assert found is not None, "the free-text page shows no count of answers"
    return int(found.group(1))


def test_analysts_read_results_and_downloads_from_the_standby(live, sign_in):
    reader: Analyst = sign_in("reader")
    slug = live.plan.slug
    dashboard, download = f"/analysis/{slug}/", f"/analysis/{slug}/downloads/file/"
    before = sent_and_counted(reader.get(dashboard))
    assert before == live.cluster.primary.query(SUBMITTED)[0][0]

    respond(live, seed=1)
    counted_during_lag = sent_and_counted(reader.get(dashboard))
    rows_during_lag = csv_rows(reader.get(f"{download}?format=csv&variant=anonymised"))
    standby_lacks(live, SUBMITTED)
    assert (counted_during_lag, rows_during_lag) == (before, before)

    live.cluster.standby_caught_up()
    assert sent_and_counted(reader.get(dashboard)) == before + 1
    assert csv_rows(reader.get(f"{download}?format=csv&variant=anonymised")) == before + 1
    # Each download was audited on the primary with the rows the standby gave it.
    assert live.cluster.primary.query(
        "SELECT d.row_count FROM exports_downloadrecord d JOIN auth_user u ON u.id = d.user_id"
        " WHERE u.username = 'reader' ORDER BY d.id"
    ) == [(before,), (before + 1,)]


def test_after_a_change_the_analyst_reads_the_primary_and_colleagues_the_standby(live, sign_in):
    coder: Analyst = sign_in("coder")
    colleague: Analyst = sign_in("colleague")
    free_text = f"/analysis/{live.plan.slug}/free-text/{TEXT_QUESTION}/"
    answers_before = answers_shown(coder.get(free_text))
    themes = "SELECT name FROM analysis_theme ORDER BY id"

    went = coder.post(f"{free_text}themes/", {"name": "Independent oversight"}, form_on=free_text)
    assert went == free_text
    page = coder.get(free_text)
    colleague_sees = codebook(colleague.get(free_text))
    standby_lacks(live, themes)
    assert codebook(page) == {"Independent oversight": 0}
    assert colleague_sees == {}

    # Coding an answer: the coder sees the count at once, the colleague not yet.
    answer = re.findall(r"/answers/(\d+)/themes/", page.text)[0]
    theme = re.findall(
        rf'id="answer-{answer}-theme-\d+" name="themes" type="checkbox" value="(\d+)"', page.text
    )
    went = coder.post(f"{free_text}answers/{answer}/themes/", {"themes": theme}, form_on=free_text)
    coded_at = time.monotonic()
    assert went.startswith(free_text)
    coder_sees = codebook(coder.get(free_text))
    colleague_sees = codebook(colleague.get(free_text))
    standby_lacks(live, "SELECT count(*) FROM analysis_answertheme")
    assert coder_sees == {"Independent oversight": 1}
    assert colleague_sees == {}

    live.cluster.standby_caught_up()
    assert codebook(colleague.get(free_text)) == {"Independent oversight": 1}

    # Once the pin has run out, the coder reads from the standby again.
    time.sleep(max(0.0, coded_at + PIN_SECONDS + 0.5 - time.monotonic()))
    respond(live, seed=2)
    shown_during_lag = answers_shown(coder.get(free_text))
    standby_lacks(live, SUBMITTED)
    assert shown_during_lag == answers_before
    live.cluster.standby_caught_up()
    assert answers_shown(coder.get(free_text)) == answers_before + 1


def test_the_public_journey_writes_and_reads_the_primary_throughout_the_lag(live):
    done = respond(live, seed=3)
    # Every step read back what the one before wrote (the draft, each section's
    # answers, the send) while the standby did not yet hold this response at all.
    reference = "SELECT count(*) FROM responses_response WHERE reference = %s"
    standby_lacks(live, reference, (done.reference,))
    stored = live.cluster.primary.query(
        "SELECT r.status, count(DISTINCT a.question_id) FROM responses_response r"
        " JOIN responses_answer a ON a.response_id = r.id WHERE r.reference = %s"
        " GROUP BY r.status",
        (done.reference,),
    )
    personal = {"name", "email", "organisation_name"}  # kept apart, with the respondent
    answered = [key for key in done.answers if live.plan.by_key[key].profile not in personal]
    assert stored == [("submitted", len(answered))]


def test_api_tokens_and_accounts_are_checked_on_the_primary(live):
    consultations = live.url + "/api/v1/consultations/"
    token = live.manage("create_api_token", "scripter", "--name", "R scripts").strip()
    bearer = {"Authorization": f"Bearer {token}"}
    tokens = "SELECT count(*) FROM exports_apitoken"

    assert httpx.get(consultations, headers=bearer).status_code == 200
    standby_lacks(live, tokens)

    live.cluster.standby_caught_up()
    live.cluster.primary.query("UPDATE auth_user SET is_active = false WHERE username = 'scripter'")
    refused = httpx.get(consultations, headers=bearer)
    standby_lacks(live, "SELECT username FROM auth_user WHERE is_active ORDER BY username")
    assert refused.status_code == 401
