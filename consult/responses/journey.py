"""Where a respondent is in the journey: their draft (kept in the session) and the way on.

One browser can hold one draft per consultation; it survives leaving and coming back for
as long as the session cookie lives. The same sections and check page serve two other
journeys, which differ only in their addresses and where the answers are kept: changing
a sent response from its receipt link (``AmendJourney``: the changed answers wait in the
session until "Save changes") and staff keying in a response received by post, email or
phone (``consult.analysis.entry``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consult.consultations.models import Consultation, Phase, QuestionType
from consult.consultations.queries import (
    AnswerMap,
    AnswerValue,
    ConsultationSpec,
    QuestionSpec,
    SectionSpec,
)
from consult.responses.documents import size_in_words
from consult.responses.models import Document, Response, ResponseStatus
from consult.responses.queries import (
    document_section,
    response_answer_map,
    response_document,
    response_get,
)

SESSION_KEY = "consult.responses"
AMEND_SESSION_KEY = "consult.amendments"


@dataclass
class Journey:
    consultation: Consultation
    phase: Phase
    response: Response | None
    _answers: dict[str, AnswerValue] | None = field(default=None, repr=False)

    def has_draft(self) -> bool:
        return self.response is not None and self.response.status == ResponseStatus.DRAFT

    def has_sent(self) -> bool:
        return self.response is not None and self.response.status != ResponseStatus.DRAFT

    def answers(self, spec: ConsultationSpec) -> dict[str, AnswerValue]:
        if self.response is None:
            return {}
        if self._answers is None:
            self._answers = response_answer_map(response=self.response, spec=spec)
        return self._answers

    def section_url(self, section: SectionSpec) -> str:
        return reverse("responses:section", args=[self.consultation.slug, section.key])

    def check_url(self) -> str:
        return reverse("responses:check", args=[self.consultation.slug])

    def start_url(self) -> str:
        return reverse("responses:start", args=[self.consultation.slug])

    def document_url(self) -> str | None:
        """The supporting document's page: only a respondent's own draft has one."""
        return reverse("responses:document", args=[self.consultation.slug])

    def next_url(
        self,
        spec: ConsultationSpec,
        *,
        after: SectionSpec,
        answers: AnswerMap,
        past_document: bool = False,
    ) -> str:
        """The page after a section: the supporting document's, when the section is the
        one it follows (unless coming from it), else the next shown section."""
        document_url = self.document_url()
        if document_url and not past_document and _document_follows(spec, answers, after):
            return document_url
        keys = [section.key for section in spec.sections]
        later = spec.sections[keys.index(after.key) + 1 :]
        following = next((s for s in later if spec.visible_questions(s, answers)), None)
        return self.section_url(following) if following else self.check_url()

    def previous_url(
        self, spec: ConsultationSpec, *, before: SectionSpec, answers: AnswerMap
    ) -> str:
        keys = [section.key for section in spec.sections]
        earlier = spec.sections[: keys.index(before.key)]
        preceding = next((s for s in reversed(earlier) if spec.visible_questions(s, answers)), None)
        document_url = self.document_url()
        if preceding and document_url and _document_follows(spec, answers, preceding):
            return document_url
        if preceding:
            return self.section_url(preceding)
        return self.start_url()

    def first_gap_url(self, spec: ConsultationSpec, answers: AnswerMap) -> str:
        """The first section with a required question unanswered, else "Check your answers"."""
        missing = spec.missing_answers(answers)
        return self.section_url(missing[0][0]) if missing else self.check_url()

    def resume_url(self, spec: ConsultationSpec) -> str | None:
        """Where a returning respondent carries on, if they have a draft."""
        if not self.has_draft() or self.phase != Phase.OPEN:
            return None
        answers = self.answers(spec)
        answered = {
            section.key
            for section in spec.sections
            for q in section.answerable()
            if q.key in answers
        }
        for section in spec.visible_sections(answers):
            if section.key not in answered:
                return self.section_url(section)
        return self.first_gap_url(spec, answers)


def _document_follows(spec: ConsultationSpec, answers: AnswerMap, section: SectionSpec) -> bool:
    after = document_section(spec=spec, answers=answers)
    return after is not None and after.key == section.key


@dataclass
class AmendJourney(Journey):
    """Changing a sent response from its receipt link: the answers being changed are kept
    in the session, and stored only when the respondent saves them."""

    token: str = ""
    _held: dict[str, Any] = field(default_factory=dict, repr=False)

    def section_url(self, section: SectionSpec) -> str:
        return reverse("responses:amend_section", args=[self.token, section.key])

    def check_url(self) -> str:
        return reverse("responses:amend", args=[self.token])

    def start_url(self) -> str:
        return reverse("responses:receipt", args=[self.token])

    def document_url(self) -> None:
        return None  # a sent response's document is not changed from its receipt

    def answers(self, spec: ConsultationSpec) -> dict[str, AnswerValue]:
        if self._answers is None:
            assert self.response is not None  # noqa: S101 - made from a receipt's response
            stored = self._held.get(str(self.response.pk))
            if stored is None:
                self._answers = response_answer_map(response=self.response, spec=spec)
            else:
                self._answers = {
                    k: tuple(v) if isinstance(v, list) else v for k, v in stored.items()
                }
        return self._answers


def amend_journey_load(request: HttpRequest, response: Response, token: str) -> AmendJourney:
    consultation = response.consultation
    held = dict(request.session.get(AMEND_SESSION_KEY, {}))
    return AmendJourney(
        consultation, consultation.phase(timezone.now()), response, token=token, _held=held
    )


def amend_hold(request: HttpRequest, journey: AmendJourney, answers: AnswerMap) -> None:
    """Keep the changed answers in the session until they are saved or given up."""
    assert journey.response is not None  # noqa: S101 - made from a receipt's response
    held = dict(request.session.get(AMEND_SESSION_KEY, {}))
    held[str(journey.response.pk)] = {
        key: list(value) if isinstance(value, tuple) else value for key, value in answers.items()
    }
    request.session[AMEND_SESSION_KEY] = held


def amend_forget(request: HttpRequest, response: Response) -> None:
    held = dict(request.session.get(AMEND_SESSION_KEY, {}))
    if held.pop(str(response.pk), None) is not None:
        request.session[AMEND_SESSION_KEY] = held


def journey_load(request: HttpRequest, slug: str) -> Journey:
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None:
        raise Http404("No consultation has that address")
    response_id = request.session.get(SESSION_KEY, {}).get(slug)
    response = (
        response_get(response_id=response_id, consultation_id=consultation.pk)
        if response_id
        else None
    )
    if response is not None:
        response.consultation = consultation
    return Journey(consultation, consultation.phase(timezone.now()), response)


def journey_remember(request: HttpRequest, journey: Journey) -> None:
    assert journey.response is not None  # noqa: S101 - callers start a draft first
    drafts = dict(request.session.get(SESSION_KEY, {}))
    drafts[journey.consultation.slug] = str(journey.response.pk)
    request.session[SESSION_KEY] = drafts
    request.session.cycle_key()


def journey_forget(request: HttpRequest, slug: str) -> None:
    drafts = dict(request.session.get(SESSION_KEY, {}))
    drafts.pop(slug, None)
    request.session[SESSION_KEY] = drafts


def field_anchor(question: QuestionSpec) -> str:
    """The id of the first input of a question, for error summaries and change links."""
    first = question.rows[0] if question.rows else question
    if first.type in {
        QuestionType.SINGLE_CHOICE,
        QuestionType.SCALE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.MATRIX_ROW,
    }:
        return f"id_{first.key}_1"
    return f"id_{first.key}"


def check_answers_rows(
    spec: ConsultationSpec,
    answers: AnswerMap,
    *,
    section_url: Callable[[SectionSpec], str] | None = None,
    response: Response | None = None,
    document_url: str | None = None,
) -> list[dict[str, Any]]:
    """Sections and their shown questions with the answers in words, for summary lists;
    the supporting document of ``response`` after the section it follows, when it is
    offered.

    With a ``section_url`` (a journey's), each row carries a link to change the answer
    and come back; with a ``document_url``, so does the document's.
    """
    sections = []
    document_after = document_section(spec=spec, answers=answers)
    for section in spec.visible_sections(answers):
        rows = []
        for question in spec.visible_questions(section, answers):
            change_url = (
                section_url(section) + f"?return=check#{field_anchor(question)}"
                if section_url
                else None
            )
            rows.append(
                {
                    "question": question.text,
                    "lines": _answer_lines(question, answers),
                    "change_url": change_url,
                    "key": question.key,
                }
            )
        sections.append({"title": section.title, "rows": rows})
        if document_after is not None and section.key == document_after.key:
            document = response_document(response=response)
            change_url = f"{document_url}?return=check" if document_url else None
            sections.append(_document_rows(document, change_url=change_url))
    return sections


DOCUMENT_TITLE = gettext_lazy("Supporting document")


def _document_rows(document: Document | None, *, change_url: str | None) -> dict[str, Any]:
    line = (
        f"{document.original_name} ({document.get_kind_display()}, {size_in_words(document.size)})"
        if document
        else _("None")
    )
    return {
        "title": DOCUMENT_TITLE,
        "rows": [
            {
                "question": _("Supporting document (optional)"),
                "lines": [line],
                "change_url": change_url,
                "key": "document",
            }
        ],
    }


def _answer_lines(question: QuestionSpec, answers: AnswerMap) -> list[str]:
    if question.rows:
        return [f"{row.text}: {_in_words(question, answers.get(row.key))}" for row in question.rows]
    value = answers.get(question.key)
    if isinstance(value, tuple) and value:
        return [_in_words(question, (code,)) for code in value]
    return [_in_words(question, value)]


def _in_words(question: QuestionSpec, value: AnswerValue | None) -> str:
    if not value:
        return _("Not answered")
    if isinstance(value, str):
        return value
    option = question.option_by_code(value[0])
    return option.label if option else value[0]
