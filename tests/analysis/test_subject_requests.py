"""Data subject requests: a data controller finds a response by its reference, exports
everything held about it or erases it, and every step is in an append-only log."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consult.analysis import services
from consult.analysis.models import (
    AnswerTheme,
    CodingEvent,
    Role,
    SubjectRequestAction,
    SubjectRequestRecord,
)
from consult.analysis.queries import status_counts
from consult.audit import AppendOnlyError
from consult.consultations.queries import consultation_spec
from consult.exports.models import Channel, DownloadRecord, Variant
from consult.responses.models import Answer, Respondent, Response
from tests.analysis.conftest import respond, user_make

pytestmark = pytest.mark.django_db

SENT_AT = datetime(2026, 11, 2, 12, tzinfo=UTC)
FIND = reverse("analysis:subject_requests")


@pytest.fixture
def controller() -> User:
    return user_make("controller", Role.ANALYST, Role.DATA_CONTROLLER)


@pytest.fixture
def controller_client(controller) -> Client:
    client = Client()
    client.force_login(controller)
    return client


@pytest.fixture
def subject(consultation, controller) -> Response:
    """A response with personal details, a free-text answer and a theme given to it."""
    response = respond(
        consultation,
        SENT_AT,
        name="Ada Example",
        email="ada@example.com",
        other_safeguards="Independent oversight of every deployment",
    )
    spec = consultation_spec(consultation)
    answer = Answer.objects.get(response=response, question_id=spec.by_key["other_safeguards"].id)
    theme = services.theme_create(
        question=consultation.questions.get(key="other_safeguards"),
        name="Oversight",
        description="",
        user=controller,
        now=timezone.now(),
    )
    services.answer_themes_set(answer=answer, themes=[theme], user=controller, now=timezone.now())
    return response


@pytest.fixture
def bystander(consultation) -> Response:
    return respond(consultation, SENT_AT, name="Someone Else", email="else@example.com")


def page_url(response: Response, name: str = "subject_request") -> str:
    return reverse(f"analysis:{name}", args=[response.reference])


def actions() -> list[tuple[str, str, str]]:
    return list(
        SubjectRequestRecord.objects.order_by("pk").values_list("action", "reference", "case")
    )


def test_a_reference_is_found_however_it_is_typed(controller_client, subject):
    typed = "  " + subject.reference.lower().replace("-", "-  ") + " "
    reply = controller_client.post(FIND, {"reference": typed})

    assert reply.status_code == 302
    assert reply["Location"] == page_url(subject)
    record = SubjectRequestRecord.objects.get()
    assert (record.action, record.reference) == (SubjectRequestAction.SEARCHED, subject.reference)
    assert record.consultation_id == subject.consultation_id


def test_an_unknown_reference_gets_a_clear_message_and_is_logged(controller_client, subject):
    reply = controller_client.post(FIND, {"reference": "fr-zzzz-zzzz"})

    assert reply.status_code == 400
    page = reply.content.decode()
    assert "There is a problem" in page
    assert "No response has the reference FR-ZZZZ-ZZZZ" in page
    record = SubjectRequestRecord.objects.get()
    assert (record.reference, record.consultation_id) == ("FR-ZZZZ-ZZZZ", None)


def test_an_empty_reference_is_refused(controller_client):
    reply = controller_client.post(FIND, {"reference": ""})

    assert reply.status_code == 400
    assert "Enter the response’s reference" in reply.content.decode()
    assert not SubjectRequestRecord.objects.exists()


def test_the_response_page_shows_what_is_held_and_logs_the_view(controller_client, subject):
    DownloadRecord.objects.create(
        user=None,
        at=SENT_AT.replace(day=3),
        consultation=subject.consultation,
        format="csv",
        variant=Variant.FULL,
        channel=Channel.COMMAND,
        filename="before-or-after.csv",
        row_count=1,
        byte_count=10,
        sha256="0" * 64,
        complete=True,
    )
    reply = controller_client.get(page_url(subject))

    page = reply.content.decode()
    assert reply.status_code == 200
    for held in ("Ada Example", "ada@example.com", "Independent oversight", "Oversight"):
        assert held in page
    assert "downloaded 1 time" in page
    assert "before-or-after.csv" in page
    assert actions() == [(SubjectRequestAction.VIEWED, subject.reference, "")]


def test_a_draft_can_be_found_too(controller_client, consultation):
    draft = respond(consultation, SENT_AT)
    Response.objects.filter(pk=draft.pk).update(status="draft", submitted_at=None)

    reply = controller_client.post(FIND, {"reference": draft.reference})
    assert reply["Location"] == page_url(draft)
    assert "Draft" in controller_client.get(page_url(draft)).content.decode()


def test_the_export_holds_everything_and_its_hash_is_logged(controller_client, subject):
    reply = controller_client.post(page_url(subject, "subject_export"), {"case": "DSR-2026-014"})

    assert reply.status_code == 200
    assert reply["Content-Type"] == "application/json; charset=utf-8"
    assert f'filename="{subject.reference}-everything-held.json"' in reply["Content-Disposition"]
    document = json.loads(reply.content)
    assert document["reference"] == subject.reference
    assert document["status"] == "submitted"
    assert document["submitted_at"] == SENT_AT.isoformat()
    assert document["personal_details"] == {
        "name": "Ada Example",
        "email": "ada@example.com",
        "organisation_name": "",
    }
    by_key = {row["key"]: row for row in document["answers"]}
    assert by_key["other_safeguards"]["answer"] == ["Independent oversight of every deployment"]
    respondent_type = by_key["respondent_type"]
    option = consultation_spec(subject.consultation).by_key["respondent_type"].options[0]
    assert (respondent_type["codes"], respondent_type["answer"]) == ([option.code], [option.label])
    assert document["themes_given_by_analysts"] == [
        {"key": "other_safeguards", "theme": "Oversight"}
    ]

    record = SubjectRequestRecord.objects.get()
    assert (record.action, record.case) == (SubjectRequestAction.EXPORTED, "DSR-2026-014")
    assert record.sha256 == hashlib.sha256(reply.content).hexdigest()


def test_an_export_needs_the_request_reference(controller_client, subject):
    reply = controller_client.post(page_url(subject, "subject_export"), {"case": ""})

    assert reply.status_code == 400
    assert "Enter your reference for this request" in reply.content.decode()
    assert not SubjectRequestRecord.objects.exists()


def test_erasure_needs_confirming(controller_client, subject):
    reply = controller_client.post(page_url(subject, "subject_erase"), {"case": "DSR-1"})

    assert reply.status_code == 400
    assert "Confirm that you want to erase the response" in reply.content.decode()
    assert Response.objects.filter(pk=subject.pk).exists()
    assert not SubjectRequestRecord.objects.exists()


def test_erasure_deletes_the_response_and_everything_from_it(controller_client, subject, bystander):
    before = status_counts(consultation=subject.consultation)
    confirm = controller_client.get(page_url(subject, "subject_erase"))
    assert "This cannot be undone" in confirm.content.decode()

    reply = controller_client.post(
        page_url(subject, "subject_erase"), {"case": "DSR-2026-015", "confirm": "yes"}
    )

    assert reply.status_code == 302
    assert reply["Location"] == FIND
    assert not Response.objects.filter(pk=subject.pk).exists()
    assert not Answer.objects.filter(response_id=subject.pk).exists()
    assert not Respondent.objects.filter(response_id=subject.pk).exists()
    assert not AnswerTheme.objects.exists()
    assert not CodingEvent.objects.exists()
    assert Respondent.objects.get(response=bystander).name == "Someone Else"
    assert status_counts(consultation=subject.consultation).submitted == before.submitted - 1

    assert actions() == [(SubjectRequestAction.ERASED, subject.reference, "DSR-2026-015")]
    banner = controller_client.get(FIND).content.decode()
    assert f"Response {subject.reference} has been erased" in banner
    assert controller_client.get(page_url(subject)).status_code == 404


def test_analysts_who_are_not_data_controllers_cannot_erase(subject):
    analyst = Client()
    analyst.force_login(user_make("plain-analyst", Role.ANALYST))

    reply = analyst.post(page_url(subject, "subject_erase"), {"case": "x", "confirm": "yes"})

    assert reply.status_code == 403
    assert Response.objects.filter(pk=subject.pk).exists()
    assert not SubjectRequestRecord.objects.exists()


def test_the_log_is_append_only(controller_client, subject):
    controller_client.get(page_url(subject))
    record = SubjectRequestRecord.objects.get()

    record.case = "rewritten"
    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.delete()
    with pytest.raises(AppendOnlyError):
        SubjectRequestRecord.objects.update(case="rewritten")
    with pytest.raises(AppendOnlyError):
        SubjectRequestRecord.objects.all().delete()
    assert SubjectRequestRecord.objects.get().case == ""
