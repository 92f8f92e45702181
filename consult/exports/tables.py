"""The shape of every download: its columns (the codebook) and its rows, streamed.

One row per response, one column per question; multiple-choice options and matrix rows
get a column each. Rows are read in batches from a server-side cursor, with each batch's
answers in one more query, so memory stays flat whatever the number of responses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from django.db.models import QuerySet

from consult.analysis.models import Campaign, CampaignMember
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
FETCH_SIZE = 10_000  # answer rows per fetch: a batch of responses has some 40 answers each
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
    campaign_of: QuestionSpec | None = None  # for the campaign of an open question's answer

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
    Column("channel", "How the response was received (online, post, email or phone)", "string"),
    Column(
        "document",
        "Type of the supporting document attached (pdf, docx or odt), empty if none",
        "string",
    ),
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
    answer = Column(question.key, label, kind, question, detail=row)
    if question.type not in TEXT_TYPES:
        return [answer]
    campaign = Column(
        f"{question.key}__campaign",
        f"{label} – campaign the answer is in (its number and name; “not confirmed” until an "
        "analyst confirms it)",
        "string",
        detail="campaign",
        campaign_of=question,
    )
    return [answer, campaign]


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


# One response's values in the order of the download's columns: an option code (or
# label), 1 or 0 for a multiple-choice option, text, or None where nothing was answered.
Row = list[Any]


@dataclass(frozen=True)
class Layout:
    """Where each answer goes in a row, worked out once per download so that placing an
    answer is a dictionary look-up and a list assignment."""

    width: int
    at: dict[int, int]  # question id: position of its code or text
    chosen: dict[int, str]  # option id: what a choice answer writes (its code or label)
    multiple: dict[int, tuple[int, int]]  # multiple-choice question id: its columns' span
    flag: dict[int, int]  # multiple-choice option id: position of its column
    text: tuple[int, ...]  # positions of free-text answers (redacted when publishable)
    personal: tuple[tuple[int, str], ...]  # (position, "name" / "organisation_name" / "email")
    campaign: dict[int, int]  # open question id: position of its answer's campaign

    @classmethod
    def of(cls, table: list[Column], *, labels: bool = False) -> Layout:
        at: dict[int, int] = {}
        chosen: dict[int, str] = {}
        multiple: dict[int, tuple[int, int]] = {}
        flag: dict[int, int] = {}
        text: list[int] = []
        personal: list[tuple[int, str]] = []
        campaign: dict[int, int] = {}
        for position, column in enumerate(table):
            question = column.question
            if column.campaign_of is not None:
                campaign[column.campaign_of.id] = position
            elif question is None:
                if column.name in PERSONAL_FIELDS.values():
                    personal.append((position, column.name))
            elif column.option is not None:
                start, _ = multiple.get(question.id, (position, position))
                multiple[question.id] = (start, position + 1)
                flag[column.option.id] = position
            else:
                at[question.id] = position
                if question.type in TEXT_TYPES:
                    text.append(position)
                for option in question.options:
                    chosen[option.id] = option.label if labels else option.code
        return cls(len(table), at, chosen, multiple, flag, tuple(text), tuple(personal), campaign)


def export_rows(*, responses: QuerySet[Response], layout: Layout, variant: str) -> Iterator[Row]:
    """Stream the rows, a batch of responses (and their answers) at a time."""
    publishable = variant == Variant.PUBLISHABLE
    campaigns = campaign_labels(questions=layout.campaign)
    response_rows = responses.values_list(
        "pk", "reference", "submitted_at", "language", "channel", "document__kind", "publication"
    ).iterator(chunk_size=BATCH_SIZE)
    while batch := list(islice(response_rows, BATCH_SIZE)):
        rows: dict[Any, Row] = {}
        for pk, reference, submitted_at, language, channel, document, publication in batch:
            if publishable and publication != PublicationChoice.NAMED:
                # Published without a name, a response's document is not published, and
                # its column does not say there was one.
                document = ""
            row: Row = [None] * layout.width
            # META_COLUMNS
            row[:5] = reference, iso_utc(submitted_at), language, channel, document or ""
            rows[pk] = row
        _answers_place(rows, layout)
        if campaigns:
            _campaigns_place(rows, layout, campaigns)
        if publishable:
            for row in rows.values():
                for position in layout.text:
                    if row[position] is not None:
                        row[position] = redact(row[position])
        if layout.personal:  # only the columns the variant allows
            named = {pk for pk, *_, publication in batch if publication == PublicationChoice.NAMED}
            _details_place(rows, layout, named=named if publishable else None)
        yield from rows.values()


def _answers_place(rows: dict[Any, Row], layout: Layout) -> None:
    """Write each answer of these responses into its row: a multiple-choice question the
    respondent answered gives 1 for each option chosen and 0 for the others."""
    at, chosen, multiple, flag = layout.at, layout.chosen, layout.multiple, layout.flag
    answers = (
        Answer.objects.filter(response_id__in=list(rows))
        .values_list("response_id", "question_id", "option_id", "text")
        .iterator(chunk_size=FETCH_SIZE)
    )
    for response_id, question_id, option_id, text in answers:
        row = rows[response_id]
        if option_id is None:
            row[at[question_id]] = text
        elif question_id in multiple:
            start, end = multiple[question_id]
            if row[start] is None:
                row[start:end] = [0] * (end - start)
            row[flag[option_id]] = 1
        else:
            row[at[question_id]] = chosen[option_id]


def campaign_labels(*, questions: Iterable[int]) -> dict[int, str]:
    """What the campaign columns say of each campaign of these questions: its number and
    name, and whether an analyst has confirmed it."""
    return {
        pk: f"{pk}: {name}" + ("" if confirmed else " (not confirmed)")
        for pk, name, confirmed in Campaign.objects.filter(question_id__in=list(questions))
        .order_by()
        .values_list("pk", "name", "confirmed")
    }


def _campaigns_place(rows: dict[Any, Row], layout: Layout, labels: dict[int, str]) -> None:
    members = CampaignMember.objects.filter(response_id__in=list(rows)).values_list(
        "response_id", "campaign__question_id", "campaign_id"
    )
    for response_id, question_id, campaign_id in members:
        if question_id in layout.campaign:
            rows[response_id][layout.campaign[question_id]] = labels[campaign_id]


def _details_place(rows: dict[Any, Row], layout: Layout, *, named: set[Any] | None) -> None:
    """Personal details into their columns (the layout holds only those the variant
    allows): every respondent's, or only those in ``named`` when it is given."""
    fields = [name for _, name in layout.personal]
    ids = list(rows) if named is None else [pk for pk in rows if pk in named]
    details = Respondent.objects.filter(response_id__in=ids).values_list("response_id", *fields)
    for response_id, *values in details:
        row = rows[response_id]
        for (position, _), value in zip(layout.personal, values, strict=True):
            row[position] = value


def redact(text: str) -> str:
    """Free text fit to publish: email addresses and phone numbers replaced."""
    text = EMAIL_PATTERN.sub("[email address removed]", text)
    return PHONE_PATTERN.sub("[phone number removed]", text)


def iso_utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if moment else ""
