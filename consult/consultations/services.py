"""Writes for consultations: loading a definition file into the database."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import transaction

from consult.consultations.definition import (
    SHORT_TEXT_DEFAULT_MAX_LENGTH,
    ConsultationDef,
    DefinitionError,
    QuestionDef,
    definition_read,
)
from consult.consultations.models import (
    Consultation,
    DefinitionVersion,
    Option,
    Question,
    QuestionType,
    Section,
)


class LoadOutcome(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class LoadResult:
    consultation: Consultation
    outcome: LoadOutcome
    # Every text with no translation in an offered language (it is shown in English).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _QuestionRow:
    """One database question to write: a definition question, or one row of a matrix."""

    definition: QuestionDef
    key: str
    type: str
    text: str
    parent_key: str | None


def consultation_load(*, path: Path, now: datetime) -> LoadResult:
    """Validate the definition at ``path`` and create or update its consultation.

    Loading the same file again changes nothing. Once the consultation has responses,
    a change that drops or renames a question, row or option, or changes a question's
    type, raises ``DefinitionError`` and nothing is written. Text missing from a
    translation is not an error: it is shown in English and listed in ``warnings``.
    """
    loaded = definition_read(path=path)
    definition = loaded.definition
    with transaction.atomic():
        consultation = Consultation.objects.filter(slug=definition.slug).first()
        if consultation is None:
            consultation = Consultation(slug=definition.slug, definition_version=1)
            outcome = LoadOutcome.CREATED
        elif consultation.definition_sha256 == loaded.sha256:
            return LoadResult(
                consultation=consultation,
                outcome=LoadOutcome.UNCHANGED,
                warnings=loaded.warnings,
            )
        else:
            if consultation.responses.exists():
                problem = _breaking_change(consultation, definition)
                if problem:
                    raise DefinitionError(
                        f"{path}: {problem}. The consultation already has responses, so its "
                        "question keys, option codes and types cannot change; add a new "
                        "question instead."
                    )
            consultation.definition_version += 1
            outcome = LoadOutcome.UPDATED
        consultation.reference_prefix = definition.reference_prefix
        consultation.title = definition.title
        consultation.summary = definition.summary
        consultation.body = definition.body
        consultation.privacy_notice = definition.privacy_notice
        consultation.translations = {
            language: translation.stored()
            for language, translation in definition.translations.items()
        }
        if _file_dates_changed(consultation, definition):
            consultation.opens_at = definition.opens_at
            consultation.closes_at = definition.closes_at
        consultation.definition_sha256 = loaded.sha256
        consultation.save()
        _sync_structure(consultation, definition)
        DefinitionVersion.objects.create(
            consultation=consultation,
            version=consultation.definition_version,
            sha256=loaded.sha256,
            source=loaded.source,
            opens_at=definition.opens_at,
            closes_at=definition.closes_at,
            loaded_at=now,
        )
    return LoadResult(consultation=consultation, outcome=outcome, warnings=loaded.warnings)


def _file_dates_changed(consultation: Consultation, definition: ConsultationDef) -> bool:
    """Whether the file's dates differ from the last file's (always true for a new one)."""
    if consultation.pk is None:
        return True
    previous = consultation.definition_versions.order_by("-version").first()
    return previous is None or (previous.opens_at, previous.closes_at) != (
        definition.opens_at,
        definition.closes_at,
    )


def _question_rows(definition: ConsultationDef) -> list[tuple[str, _QuestionRow]]:
    rows: list[tuple[str, _QuestionRow]] = []
    for section in definition.sections:
        for question in section.questions:
            rows.append(
                (
                    section.key,
                    _QuestionRow(question, question.key, question.type, question.text, None),
                )
            )
            rows.extend(
                (
                    section.key,
                    _QuestionRow(
                        question,
                        f"{question.key}__{row.code}",
                        QuestionType.MATRIX_ROW,
                        row.label,
                        question.key,
                    ),
                )
                for row in question.rows
            )
    return rows


def _breaking_change(consultation: Consultation, definition: ConsultationDef) -> str | None:
    section_keys = {section.key for section in definition.sections}
    for section in consultation.sections.all():
        if section.key not in section_keys:
            return f"section '{section.key}' would be removed"
    new_rows = {row.key: row for _, row in _question_rows(definition)}
    existing = consultation.questions.prefetch_related("options")
    for question in existing:
        row = new_rows.get(question.key)
        if row is None:
            return f"question '{question.key}' would be removed"
        if row.type != question.type:
            return f"question '{question.key}' would change type from {question.type} to {row.type}"
        if row.parent_key is not None:
            continue
        new_codes = {option.code for option in row.definition.options}
        for option in question.options.all():
            if option.code not in new_codes:
                return f"question '{question.key}': option '{option.code}' would be removed"
    return None


def _sync_structure(consultation: Consultation, definition: ConsultationDef) -> None:
    """Create or update sections, questions and options by their stable keys."""
    existing_sections = {s.key: s for s in consultation.sections.all()}
    sections: dict[str, Section] = {}
    for position, section_def in enumerate(definition.sections, start=1):
        section = existing_sections.pop(section_def.key, None) or Section(
            consultation=consultation, key=section_def.key
        )
        section.title = section_def.title
        section.intro = section_def.intro
        section.position = position
        section.save()
        sections[section_def.key] = section

    # Conditions and profiles are set again below; clearing them first lets removed
    # questions go before new ones are saved, so a renamed key or moved profile never
    # collides with a unique constraint.
    new_keys = {row.key for _, row in _question_rows(definition)}
    existing = Question.objects.filter(consultation=consultation)
    existing.update(condition_question=None, profile="")
    existing.exclude(key__in=new_keys).delete()
    questions = {q.key: q for q in existing}
    kept: dict[str, Question] = {}
    for position, (section_key, row) in enumerate(_question_rows(definition), start=1):
        question = questions.pop(row.key, None) or Question(consultation=consultation, key=row.key)
        question_def = row.definition
        question.section = sections[section_key]
        question.parent = kept[row.parent_key] if row.parent_key else None
        question.type = row.type
        question.text = row.text
        question.position = position
        question.required = question_def.required
        question.condition_question = None
        question.condition_codes = []
        if row.parent_key is None:
            question.hint = question_def.hint
            question.error = question_def.error
            question.profile = question_def.profile or ""
            question.is_filter = question_def.filter
            question.max_choices = question_def.max_choices
            question.max_length = question_def.max_length or (
                SHORT_TEXT_DEFAULT_MAX_LENGTH if row.type == QuestionType.SHORT_TEXT else None
            )
        question.save()
        kept[row.key] = question
        if row.parent_key is None:
            _sync_options(question, question_def)

    for _, row in _question_rows(definition):
        if row.definition.when is not None:
            question = kept[row.key]
            question.condition_question = kept[row.definition.when.question]
            question.condition_codes = list(row.definition.when.any_of)
            question.save(update_fields=["condition_question", "condition_codes"])

    Section.objects.filter(pk__in=[s.pk for s in existing_sections.values()]).delete()


def _sync_options(question: Question, question_def: QuestionDef) -> None:
    options = {option.code: option for option in question.options.all()}
    for position, option_def in enumerate(question_def.options, start=1):
        option = options.pop(option_def.code, None) or Option(
            question=question, code=option_def.code
        )
        option.label = option_def.label
        option.hint = option_def.hint
        option.value = option_def.value
        option.exclusive = option_def.exclusive
        option.position = position
        option.save()
    Option.objects.filter(pk__in=[option.pk for option in options.values()]).delete()
