"""The shape of every download: its columns (the codebook) and its rows, streamed.

One row per response, one column per question; multiple-choice options and matrix rows
get a column each. Rows are read in batches from a server-side cursor, with each batch's
answers in one more query, so memory stays flat whatever the number of responses.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from consult.analysis.queries import Filters, responses_filtered
from consult.consultations.models import (
    Consultation,
    Profile,
    PublicationChoice,
    QuestionType,
)
from consult.consultations.queries import ConsultationSpec, OptionSpec, QuestionSpec
from consult.exports.models import Variant
from consult.responses.models import Answer, Respondent, Response
from consult.responses.queries import PERSONAL_FIELDS

BATCH_SIZE = 2000
TEXT_TYPES = {QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT}
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# UK and international phone numbers: 020 7946 0958, 07700 900123, +44 20 7946 0958,
# +44 (0)7700 900123, 0044 7700 900 123 ...
PHONE_PATTERN = re.compile(
    r"(?<![\w+])(?:(?:\+|00)\d{1,3}[\s.-]?(?:\(0\)[\s.-]?)?\d{2,5}|\(?0\d{2,5}\)?)"
    r"[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?!\w)"
)


@dataclass(frozen=True)
class Column:
    """One column of a download and its codebook entry."""

    name: str
    label: str
    type: str  # "string", "datetime", "code" or "flag"
    question: QuestionSpec | None = None
    option: OptionSpec | None = None  # for a multiple-choice option's own column
    detail: str = ""  # what sets the column apart within its question: a row or an option

    def short_label(self, limit: int) -> str:
        """The label in at most ``limit`` characters, keeping the distinguishing detail."""
        if len(self.label) <= limit:
            return self.label
        if not self.detail:
            return self.label[: limit - 1] + "…"
        tail = f" – {self.detail}"[: limit // 2]
        return self.label[: limit - len(tail) - 1] + "…" + tail

    @property
    def options(self) -> tuple[OptionSpec, ...]:
        return self.question.options if self.question and self.option is None else ()


META_COLUMNS = (
    Column("reference", "Response reference", "string"),
    Column("submitted_at", "When the response was sent (ISO 8601, UTC)", "datetime"),
    Column("language", "Language the response was made in", "string"),
)
PERSONAL_COLUMNS = {
    Profile.NAME: Column("name", "Name", "string"),
    Profile.ORGANISATION_NAME: Column("organisation_name", "Organisation name", "string"),
    Profile.EMAIL: Column("email", "Email address", "string"),
}


def columns(spec: ConsultationSpec, variant: str) -> list[Column]:
    """Every column of a download of this variant, in order."""
    result = list(META_COLUMNS)
    for section in spec.sections:
        for question in section.questions:
            if question.profile in PERSONAL_FIELDS:
                if _personal_allowed(question.profile, variant):
                    result.append(PERSONAL_COLUMNS[Profile(question.profile)])
                continue
            for answerable in question.rows or (question,):
                result.extend(_question_columns(answerable, parent=question))
    return result


def _personal_allowed(profile: str, variant: str) -> bool:
    if variant == Variant.FULL:
        return True
    return variant == Variant.PUBLISHABLE and profile in {Profile.NAME, Profile.ORGANISATION_NAME}


def _question_columns(question: QuestionSpec, *, parent: QuestionSpec) -> list[Column]:
    row = "" if question is parent else question.text
    label = f"{parent.text} – {row}" if row else question.text
    if question.type == QuestionType.MULTIPLE_CHOICE:
        return [
            Column(
                f"{question.key}__{option.code}",
                f"{label} – {option.label}",
                "flag",
                question,
                option,
                detail=option.label,
            )
            for option in question.options
        ]
    kind = "code" if question.options else "string"
    return [Column(question.key, label, kind, question, detail=row)]


def export_responses(
    *, consultation: Consultation, spec: ConsultationSpec, filters: Filters, variant: str
) -> QuerySet[Response]:
    """The responses a download of this variant holds: never withdrawn, never drafts."""
    responses = responses_filtered(consultation=consultation, spec=spec, filters=filters)
    if variant == Variant.PUBLISHABLE:
        responses = responses.filter(
            publication__in=[PublicationChoice.NAMED, PublicationChoice.ANONYMOUS]
        )
    return responses.order_by("submitted_at", "pk")


@dataclass(frozen=True)
class ExportRow:
    """One response's values by column name: option codes, flags or text."""

    values: dict[str, Any]


def export_rows(
    *, responses: QuerySet[Response], spec: ConsultationSpec, variant: str
) -> Iterator[ExportRow]:
    """Stream the rows, a batch of responses (and their answers) at a time."""
    wanted = {column.name for column in columns(spec, variant)}
    redacted = {q.key for q in spec.by_key.values() if q.type in TEXT_TYPES}
    personal = variant in {Variant.FULL, Variant.PUBLISHABLE}
    response_rows = responses.values_list(
        "pk", "reference", "submitted_at", "language", "publication"
    ).iterator(chunk_size=BATCH_SIZE)
    while batch := list(islice(response_rows, BATCH_SIZE)):
        ids = [row[0] for row in batch]
        answers = _answers_by_response(ids, spec)
        details = _details_by_response(ids) if personal else {}
        for pk, reference, submitted_at, language, publication in batch:
            values: dict[str, Any] = {
                "reference": reference,
                "submitted_at": iso_utc(submitted_at),
                "language": language,
            }
            values.update(answers.get(pk, {}))
            if variant == Variant.PUBLISHABLE:
                values.update((key, redact(values[key])) for key in redacted & values.keys())
            values.update(_personal_values(details.get(pk), variant, publication))
            yield ExportRow({k: v for k, v in values.items() if k in wanted})


def _answers_by_response(ids: list[Any], spec: ConsultationSpec) -> dict[Any, dict[str, Any]]:
    """Each response's values by column name; a multiple-choice question the respondent
    answered gives 1 for each option chosen and 0 for the others."""
    options = {option.id: option for q in spec.by_key.values() for option in q.options}
    rows: dict[Any, dict[str, Any]] = defaultdict(dict)
    for response_id, question_id, option_id, text in Answer.objects.filter(
        response_id__in=ids
    ).values_list("response_id", "question_id", "option_id", "text"):
        question = spec.by_id[question_id]
        values = rows[response_id]
        if text is not None:
            values[question.key] = text
        elif question.type == QuestionType.MULTIPLE_CHOICE:
            for option in question.options:
                values.setdefault(f"{question.key}__{option.code}", 0)
            values[f"{question.key}__{options[option_id].code}"] = 1
        else:
            values[question.key] = options[option_id].code
    return rows


def _details_by_response(ids: list[Any]) -> dict[Any, Respondent]:
    return {
        respondent.response_id: respondent
        for respondent in Respondent.objects.filter(response_id__in=ids)
    }


def _personal_values(
    respondent: Respondent | None, variant: str, publication: str
) -> dict[str, str]:
    if respondent is None:
        return {}
    if variant == Variant.FULL:
        return {
            "name": respondent.name,
            "organisation_name": respondent.organisation_name,
            "email": respondent.email,
        }
    if variant == Variant.PUBLISHABLE and publication == PublicationChoice.NAMED:
        return {"name": respondent.name, "organisation_name": respondent.organisation_name}
    return {}


def redact(text: str) -> str:
    """Free text fit to publish: email addresses and phone numbers replaced."""
    text = EMAIL_PATTERN.sub("[email address removed]", text)
    return PHONE_PATTERN.sub("[phone number removed]", text)


def iso_utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
