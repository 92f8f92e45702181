"""Reads for the public journey: a response's answers as the forms and pages use them."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing

from consult.consultations.models import Profile
from consult.consultations.queries import AnswerMap, AnswerValue, ConsultationSpec, SectionSpec
from consult.responses.models import Answer, Document, Respondent, Response, ResponseStatus

RECEIPT_SALT = "consult.responses.receipt"

# Questions with these profiles are stored in Respondent's fields, never as answers.
PERSONAL_FIELDS = {
    Profile.NAME: "name",
    Profile.EMAIL: "email",
    Profile.ORGANISATION_NAME: "organisation_name",
}


def response_get(*, response_id: str, consultation_id: int) -> Response | None:
    """The response with its personal details, or None if it is not this consultation's."""
    if not str(response_id).isdigit():  # a session from before ids were integers
        return None
    return (
        Response.objects.select_related("respondent")
        .filter(pk=response_id, consultation_id=consultation_id)
        .first()
    )


def response_answer_map(*, response: Response, spec: ConsultationSpec) -> dict[str, AnswerValue]:
    """Every stored answer by question key: option codes in option order, or text."""
    codes: dict[str, list[str]] = {}
    answers: dict[str, AnswerValue] = {}
    rows = Answer.objects.filter(response=response).values_list(
        "question_id", "option__code", "text"
    )
    for question_id, code, text in rows:
        question = spec.by_id[question_id]
        if code is None:
            answers[question.key] = text
        else:
            codes.setdefault(question.key, []).append(code)
    for key, chosen in codes.items():
        order = [option.code for option in spec.by_key[key].options]
        answers[key] = tuple(sorted(chosen, key=order.index))
    respondent = _respondent(response)
    if respondent is not None:
        for question in spec.by_key.values():
            field_name = (
                PERSONAL_FIELDS.get(Profile(question.profile)) if question.profile else None
            )
            value = getattr(respondent, field_name) if field_name else ""
            if value:
                answers[question.key] = value
    return answers


def document_offered(*, spec: ConsultationSpec, answers: AnswerMap) -> bool:
    """Whether the respondent may attach a supporting document: they answer for an
    organisation, which is to say they are asked for its name."""
    question = spec.by_profile.get(Profile.ORGANISATION_NAME)
    return question is not None and spec.is_visible(question, answers)


def document_section(*, spec: ConsultationSpec, answers: AnswerMap) -> SectionSpec | None:
    """The section after which the journey offers the supporting document, if it does:
    the one that asks for the organisation's name."""
    if not document_offered(spec=spec, answers=answers):
        return None
    key = spec.by_profile[Profile.ORGANISATION_NAME].key
    return next(s for s in spec.sections if any(q.key == key for q in s.questions))


def response_document(*, response: Response | None) -> Document | None:
    """The response's supporting document, without its text."""
    if response is None:
        return None
    return Document.objects.filter(response=response).defer("text").first()


def receipt_response(*, token: str) -> Response | None:
    """The response a receipt link points at, or None if the link is forged or has expired."""
    max_age = timedelta(days=settings.RECEIPT_LINK_MAX_AGE_DAYS)
    try:
        response_id = signing.loads(token, salt=RECEIPT_SALT, max_age=max_age)
    except signing.BadSignature:
        return None
    if not str(response_id).isdigit():  # a link from before ids were integers
        return None
    return (
        Response.objects.select_related("consultation", "respondent")
        .exclude(status=ResponseStatus.DRAFT)
        .filter(pk=response_id)
        .first()
    )


def _respondent(response: Response) -> Respondent | None:
    try:
        return response.respondent
    except Respondent.DoesNotExist:
        return None
