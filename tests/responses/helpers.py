"""Walking the public journey through the test client."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.urls import reverse

from consult.consultations.models import Consultation, QuestionType
from consult.consultations.queries import ConsultationSpec, QuestionSpec, consultation_spec

# Answers that take the individual, publish-with-name path through the built-in consultation.
INDIVIDUAL = {
    "respondent_type": "individual",
    "region": "wales",
    "publication": "publish_named",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
}


def section_url(consultation: Consultation, key: str) -> str:
    return reverse("responses:section", args=[consultation.slug, key])


def check_url(consultation: Consultation) -> str:
    return reverse("responses:check", args=[consultation.slug])


def document_url(consultation: Consultation) -> str:
    return reverse("responses:document", args=[consultation.slug])


def default_value(question: QuestionSpec) -> Any:
    """A valid answer: the first option, or some text."""
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            return [question.options[0].code]
        case QuestionType.EMAIL:
            return "someone@example.com"
        case QuestionType.SHORT_TEXT | QuestionType.LONG_TEXT:
            return f"Answer to {question.key}"
    return question.options[0].code


def section_post(
    spec: ConsultationSpec, section_key: str, overrides: dict[str, Any]
) -> dict[str, Any]:
    """Form data answering every question of a section, with some answers given."""
    section = spec.section(section_key)
    assert section is not None
    return {
        question.key: overrides.get(question.key, default_value(question))
        for question in section.answerable()
    }


def answer_all(client: Client, consultation: Consultation, overrides: dict[str, Any]) -> None:
    """Follow the journey from the first section to "Check your answers"."""
    spec = consultation_spec(consultation)
    url = section_url(consultation, spec.sections[0].key)
    while url != check_url(consultation):
        if url == document_url(consultation):  # organisations: carry on without a document
            reply = client.post(url, {})
            assert reply.status_code == 302, reply.content.decode()[:2000]
            url = reply["Location"]
            continue
        section_key = url.rstrip("/").rsplit("/", 1)[-1]
        reply = client.post(url, section_post(spec, section_key, overrides))
        assert reply.status_code == 302, reply.content.decode()[:2000]
        url = reply["Location"]
