"""Reads for consultations: a consultation's questions as plain, cached structures.

The public journey asks "which questions does this page show, given these answers?" on
every request; the structure only changes when a definition is loaded, so it is read
once per definition version and language and kept in memory.

A structure in another language is the English one with the definition's translations
laid over it, field by field: whatever a translation leaves out stays in English.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from consult.consultations.definition import definition_language, translation_languages
from consult.consultations.models import Consultation, Option, Question, Section

# An answer as the journey handles it: option codes for choice questions, text otherwise.
AnswerValue = tuple[str, ...] | str
AnswerMap = Mapping[str, AnswerValue]


@dataclass(frozen=True)
class OptionSpec:
    id: int
    code: str
    label: str
    hint: str
    exclusive: bool
    value: int | None


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    key: str
    type: str
    text: str
    hint: str
    error: str
    required: bool
    profile: str
    is_filter: bool
    max_length: int | None
    max_choices: int | None
    condition_key: str | None
    condition_codes: frozenset[str]
    options: tuple[OptionSpec, ...]
    rows: tuple[QuestionSpec, ...] = ()

    def option_by_code(self, code: str) -> OptionSpec | None:
        return next((option for option in self.options if option.code == code), None)

    @property
    def is_choice(self) -> bool:
        return bool(self.options)


@dataclass(frozen=True)
class SectionSpec:
    key: str
    title: str
    intro: str
    questions: tuple[QuestionSpec, ...]

    def answerable(self) -> tuple[QuestionSpec, ...]:
        """Questions that hold an answer: matrix rows stand in for their matrix."""
        return tuple(q for question in self.questions for q in (question.rows or (question,)))


@dataclass(frozen=True)
class ConsultationSpec:
    language: str
    sections: tuple[SectionSpec, ...]
    by_key: Mapping[str, QuestionSpec] = field(repr=False)
    by_id: Mapping[int, QuestionSpec] = field(repr=False)
    by_profile: Mapping[str, QuestionSpec] = field(repr=False)

    def section(self, key: str) -> SectionSpec | None:
        return next((section for section in self.sections if section.key == key), None)

    def answerable(self) -> tuple[QuestionSpec, ...]:
        return tuple(q for section in self.sections for q in section.answerable())

    def is_visible(self, question: QuestionSpec, answers: AnswerMap) -> bool:
        """Whether the question is asked, given the answers so far (conditions chain)."""
        if question.condition_key is None:
            return True
        condition = self.by_key[question.condition_key]
        given = answers.get(condition.key, ())
        return (
            isinstance(given, tuple)
            and not question.condition_codes.isdisjoint(given)
            and self.is_visible(condition, answers)
        )

    def visible_questions(self, section: SectionSpec, answers: AnswerMap) -> list[QuestionSpec]:
        return [q for q in section.questions if self.is_visible(q, answers)]

    def visible_sections(self, answers: AnswerMap) -> list[SectionSpec]:
        return [s for s in self.sections if self.visible_questions(s, answers)]

    def missing_answers(self, answers: AnswerMap) -> list[tuple[SectionSpec, QuestionSpec]]:
        """Required questions that are shown but not answered, in journey order."""
        return [
            (section, question)
            for section in self.sections
            for parent in self.visible_questions(section, answers)
            for question in parent.rows or (parent,)
            if question.required and not answers.get(question.key)
        ]


def consultation_spec(consultation: Consultation, language: str | None = None) -> ConsultationSpec:
    """The consultation's structure, its text in ``language`` (default: the file's own).

    Whatever the definition does not translate into an offered language is in the file's
    own language, as ``Untranslated`` text; a language not offered gives the file's own.
    """
    shown = language if language in translation_languages() else definition_language()
    key = (
        consultation.pk,
        consultation.definition_version,
        consultation.definition_sha256,
        shown,
    )
    with _specs_lock:  # threads of one process share the dict
        spec = _specs.get(key)
        if spec is not None:
            _specs.move_to_end(key)  # least recently used first
            return spec
    spec = _spec(consultation, shown)
    with _specs_lock:
        _specs[key] = spec
        while len(_specs) > SPECS_KEPT:
            _specs.popitem(last=False)
    return spec


# Built structures by (consultation, definition version, hash, language), least recently
# used first. Not functools.lru_cache: the builder needs the consultation's row (its text
# and translations), which is not part of the key.
SPECS_KEPT = 128
_specs: OrderedDict[tuple[int, int, str, str], ConsultationSpec] = OrderedDict()
_specs_lock = threading.Lock()


def consultation_spec_forget() -> None:
    """Drop every cached structure, for tests that recreate rows with reused ids."""
    _specs.clear()


class Untranslated(str):
    """Text in the definition's language on a page in another, its translation missing.

    Pages mark it with its language (``lang_of`` and ``text_html`` in
    consult/consultations/templatetags/consultation_text.py), so that a screen reader
    reads it as English and not as Welsh (WCAG 3.1.2, language of parts).
    """

    __slots__ = ()


def _over(english: str, translation: Mapping[str, Any], name: str, *, marked: bool) -> str:
    """The translated field when there is one, otherwise the English (``Untranslated``
    when ``marked``: the spec is in another language)."""
    translated = translation.get(name)
    if translated:
        return str(translated)
    return Untranslated(english) if marked and english else english


def _spec(consultation: Consultation, language: str) -> ConsultationSpec:
    consultation_id = consultation.pk
    translation: Mapping[str, Any] = consultation.translations.get(language, {})
    over = partial(_over, marked=language != definition_language())
    translated_questions: Mapping[str, Any] = translation.get("questions", {})
    translated_sections: Mapping[str, Any] = translation.get("sections", {})
    options: dict[int, list[Option]] = {}
    for option in Option.objects.filter(question__consultation_id=consultation_id):
        options.setdefault(option.question_id, []).append(option)
    questions = list(Question.objects.filter(consultation_id=consultation_id))
    rows: dict[int, list[Question]] = {}
    for question in questions:
        if question.parent_id is not None:
            rows.setdefault(question.parent_id, []).append(question)
    by_id = {question.pk: question for question in questions}

    def option_spec(option: Option, words: Mapping[str, Any]) -> OptionSpec:
        return OptionSpec(
            option.pk,
            option.code,
            over(option.label, words, "label"),
            over(option.hint, words, "hint"),
            option.exclusive,
            option.value,
        )

    def build(question: Question, parent: Question | None = None) -> QuestionSpec:
        source = parent or question
        condition = by_id.get(source.condition_question_id or 0)
        words: Mapping[str, Any] = translated_questions.get(source.key, {})
        if parent is None:
            text = over(question.text, words, "text")
        else:
            row_code = question.key.removeprefix(f"{parent.key}__")
            text = over(question.text, words.get("rows", {}), row_code)
        option_words: Mapping[str, Any] = words.get("options", {})
        return QuestionSpec(
            id=question.pk,
            key=question.key,
            type=question.type,
            text=text,
            hint=over(source.hint, words, "hint") if parent is None else "",
            error=over(source.error, words, "error"),
            required=question.required,
            profile=question.profile,
            is_filter=question.is_filter,
            max_length=question.max_length,
            max_choices=question.max_choices,
            condition_key=condition.key if condition else None,
            condition_codes=frozenset(source.condition_codes),
            options=tuple(
                option_spec(option, option_words.get(option.code, {}))
                for option in options.get(source.pk, ())
            ),
            rows=tuple(build(row, question) for row in rows.get(question.pk, ())),
        )

    specs = {q.pk: build(q) for q in questions if q.parent_id is None}
    by_key: dict[str, QuestionSpec] = {}
    for spec in specs.values():
        by_key[spec.key] = spec
        by_key.update((row.key, row) for row in spec.rows)
    sections = tuple(
        SectionSpec(
            key=section.key,
            title=over(section.title, translated_sections.get(section.key, {}), "title"),
            intro=over(section.intro, translated_sections.get(section.key, {}), "intro"),
            questions=tuple(
                specs[q.pk] for q in questions if q.section_id == section.pk and q.pk in specs
            ),
        )
        for section in Section.objects.filter(consultation_id=consultation_id)
    )
    return ConsultationSpec(
        language=language,
        sections=sections,
        by_key=by_key,
        by_id={question.id: question for question in by_key.values()},
        by_profile={q.profile: q for q in by_key.values() if q.profile},
    )
