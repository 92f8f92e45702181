"""SQL statements of the journey's requests: sending a response costs at most 15,
whatever the number of questions (issue 7; bench/submissions.py reports every request)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec
from consult.consultations.services import consultation_load
from consult.responses.models import Answer, Response, ResponseStatus
from tests.responses.helpers import INDIVIDUAL, answer_all, check_url, section_url

SEND_STATEMENTS = 15
SCALE = [{"code": code, "label": code.title()} for code in ("yes", "no", "unsure")]


def _definition(questions: int, rows: int) -> dict[str, Any]:
    """A consultation of ``questions`` single-choice questions, a matrix of ``rows`` rows
    and an email address (so that sending also queues a receipt)."""
    now = timezone.now()
    return {
        "slug": f"size-{questions}-{rows}",
        "reference_prefix": "SZ",
        "title": f"A consultation of {questions} questions",
        "summary": "Sized for counting statements.",
        "body": "Counting statements.",
        "privacy_notice": "The test suite.",
        "opens_at": now - timedelta(days=1),
        "closes_at": now + timedelta(days=30),
        "sections": [
            {
                "key": "questions",
                "title": "Questions",
                "questions": [
                    {"key": f"q{n}", "type": "single_choice", "text": f"Q{n}?", "options": SCALE}
                    for n in range(questions)
                ],
            },
            {
                "key": "matrix",
                "title": "Matrix",
                "questions": [
                    {
                        "key": "grid",
                        "type": "matrix",
                        "text": "Each of these?",
                        "rows": [{"code": f"r{n}", "label": f"Row {n}"} for n in range(rows)],
                        "options": SCALE,
                    }
                ],
            },
            {
                "key": "details",
                "title": "Your details",
                "questions": [
                    {
                        "key": "email",
                        "type": "email",
                        "profile": "email",
                        "required": False,
                        "text": "Email address",
                    }
                ],
            },
        ],
    }


def _sized(tmp_path: Path, questions: int, rows: int) -> Consultation:
    path = tmp_path / f"size-{questions}-{rows}.yaml"
    path.write_text(yaml.safe_dump(_definition(questions, rows)), encoding="utf-8")
    return consultation_load(path=path, now=timezone.now()).consultation


def _send_statements(client, consultation, django_capture_on_commit_callbacks) -> list[str]:
    """Answer everything, then send; the statements of the send, receipt included."""
    answer_all(client, consultation, {"email": "someone@example.com"})
    with (
        CaptureQueriesContext(connection) as captured,
        django_capture_on_commit_callbacks(execute=True),
    ):
        reply = client.post(check_url(consultation))
    assert reply.status_code == 302
    response = Response.objects.get(consultation=consultation)
    assert response.status == ResponseStatus.SUBMITTED
    return [query["sql"] for query in captured.captured_queries]


def test_sending_the_built_in_consultation_takes_few_statements(
    client, consultation, django_capture_on_commit_callbacks, mailoutbox
):
    answer_all(client, consultation, INDIVIDUAL)
    with (
        CaptureQueriesContext(connection) as captured,
        django_capture_on_commit_callbacks(execute=True),
    ):
        reply = client.post(check_url(consultation))

    assert reply.status_code == 302
    assert Response.objects.get().status == ResponseStatus.SUBMITTED
    assert len(mailoutbox) == 1  # the receipt was sent within the counted request
    assert len(captured.captured_queries) <= SEND_STATEMENTS, "\n".join(
        query["sql"] for query in captured.captured_queries
    )


def test_sending_takes_the_same_statements_whatever_the_number_of_questions(
    client, db, tmp_path, django_capture_on_commit_callbacks
):
    small = _sized(tmp_path, 1, 1)
    large = _sized(tmp_path, 40, 25)
    small_statements = _send_statements(client, small, django_capture_on_commit_callbacks)
    client.cookies.clear()

    statements = _send_statements(client, large, django_capture_on_commit_callbacks)

    response = Response.objects.get(consultation=large)
    assert Answer.objects.filter(response=response).count() == 40 + 25
    assert len(statements) == len(small_statements) <= SEND_STATEMENTS, "\n".join(statements)


def test_a_section_page_takes_the_same_statements_whatever_its_questions(
    client, db, tmp_path, django_assert_max_num_queries
):
    """Showing a page: session, consultation, response, answers."""
    sized = _sized(tmp_path, 40, 25)
    answer_all(client, sized, {})
    for section in consultation_spec(sized).sections:
        with django_assert_max_num_queries(4):
            page = client.get(section_url(sized, section.key))
        assert page.status_code == 200
