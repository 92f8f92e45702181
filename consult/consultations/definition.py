"""Consultation definition files: parsing and validation, before anything touches the database.

The schema is described for authors in docs/definitions.md. Every problem is reported as
one ``DefinitionError`` naming the file, the question (or section) and what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from django.conf import settings
from django.conf.locale import LANG_INFO
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from consult.consultations.models import (
    CHOICE_TYPES,
    SINGLE_ANSWER_TYPES,
    Profile,
    PublicationChoice,
    QuestionType,
)

CODE_PATTERN = r"^[a-z][a-z0-9_]*$"
SLUG_PATTERN = r"^[a-z][a-z0-9-]*$"
PREFIX_PATTERN = r"^[A-Z]{2,4}$"
PATTERN_RULES = {
    CODE_PATTERN: "lowercase letters, digits and underscores, starting with a letter",
    SLUG_PATTERN: "lowercase letters, digits and hyphens, starting with a letter",
    PREFIX_PATTERN: "two to four capital letters",
}

# Lengths and ranges of the database columns that hold these values.
TITLE_MAX_LENGTH = 200  # Consultation.title, Section.title
LABEL_MAX_LENGTH = 300  # Option.label, Option.hint, Question.error
QUESTION_KEY_MAX_LENGTH = 100  # Question.key, which for a matrix row is <key>__<row code>
OPTION_VALUE_RANGE = (-(2**31), 2**31 - 1)  # Option.value, an IntegerField
# Dates outside these years are typing mistakes (and near the year 1 or 9999 they cannot
# even be converted to UTC).
FIRST_YEAR, LAST_YEAR = 2000, 2999


def _without_nul(text: str) -> str:
    """PostgreSQL refuses NUL in text, and YAML can write one ("\\0")."""
    if "\x00" in text:
        raise ValueError("must not contain a NUL character (\\0)")
    return text


def _plausible(moment: datetime) -> datetime:
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return moment


Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN, max_length=60)]
SectionKey = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=50)]
NoNul = AfterValidator(_without_nul)
FreeText = Annotated[str, NoNul]
ShortFreeText = Annotated[str, StringConstraints(max_length=LABEL_MAX_LENGTH), NoNul]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), NoNul]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_LENGTH), NoNul
]
Label = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=LABEL_MAX_LENGTH), NoNul
]
Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]

SHORT_TEXT_DEFAULT_MAX_LENGTH = 200
# Respondent.name and Respondent.organisation_name hold this many characters.
PERSONAL_TEXT_MAX_LENGTH = 200
TEXT_PROFILES = {Profile.NAME, Profile.ORGANISATION_NAME}
DEFINABLE_TYPES = [t.value for t in QuestionType if t != QuestionType.MATRIX_ROW]


class DefinitionError(Exception):
    """A definition file that cannot be loaded; the message says where and why."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionDef(Strict):
    code: Code
    label: Label
    hint: ShortFreeText = ""
    value: int | None = Field(default=None, ge=OPTION_VALUE_RANGE[0], le=OPTION_VALUE_RANGE[1])
    exclusive: bool = False


class RowDef(Strict):
    code: Code
    label: Text


class ConditionDef(Strict):
    question: Code
    any_of: list[Code] = Field(min_length=1)


class QuestionDef(Strict):
    key: Code
    type: Literal[tuple(DEFINABLE_TYPES)]  # type: ignore[valid-type]
    text: Text
    hint: FreeText = ""
    error: ShortFreeText = ""
    required: bool = True
    when: ConditionDef | None = None
    profile: Profile | None = None
    filter: bool = False
    options: list[OptionDef] = []
    rows: list[RowDef] = []
    max_choices: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=1, le=100_000)

    @model_validator(mode="after")
    def check_shape(self) -> QuestionDef:
        has_options = self.type in CHOICE_TYPES or self.type == QuestionType.MATRIX
        if has_options and len(self.options) < 2:
            raise ValueError(f"a {self.type} question needs at least two options")
        if not has_options and self.options:
            raise ValueError(f"a {self.type} question cannot have options")
        _check_unique("option code", [option.code for option in self.options])
        if self.type == QuestionType.MATRIX:
            if not self.rows:
                raise ValueError("a matrix question needs rows")
            _check_unique("row code", [row.code for row in self.rows])
        elif self.rows:
            raise ValueError("only a matrix question can have rows")
        if self.max_choices is not None:
            if self.type != QuestionType.MULTIPLE_CHOICE:
                raise ValueError("max_choices applies only to multiple_choice questions")
            if self.max_choices > len(self.options):
                raise ValueError("max_choices is more than the number of options")
        if any(o.exclusive for o in self.options) and self.type != QuestionType.MULTIPLE_CHOICE:
            raise ValueError("only multiple_choice options can be exclusive")
        if self.type == QuestionType.LONG_TEXT and self.max_length is None:
            raise ValueError("a long_text question needs max_length")
        if self.max_length is not None and self.type not in {
            QuestionType.SHORT_TEXT,
            QuestionType.LONG_TEXT,
        }:
            raise ValueError("max_length applies only to short_text and long_text questions")
        if self.filter and self.type not in SINGLE_ANSWER_TYPES:
            raise ValueError("only single_choice, scale and select questions can be filters")
        self._check_profile()
        return self

    def _check_profile(self) -> None:
        if self.profile is None:
            return
        allowed = {
            Profile.RESPONDENT_TYPE: {QuestionType.SINGLE_CHOICE},
            Profile.PUBLICATION: {QuestionType.SINGLE_CHOICE},
            Profile.NAME: {QuestionType.SHORT_TEXT},
            Profile.ORGANISATION_NAME: {QuestionType.SHORT_TEXT},
            Profile.EMAIL: {QuestionType.EMAIL},
        }[self.profile]
        if self.type not in allowed:
            raise ValueError(f"profile {self.profile} needs a {' or '.join(allowed)} question")
        codes = {option.code for option in self.options}
        if self.profile == Profile.PUBLICATION and codes != set(PublicationChoice.values):
            raise ValueError(
                "the publication question's options must have the codes "
                + ", ".join(PublicationChoice.values)
            )
        if self.profile in TEXT_PROFILES and (self.max_length or 0) > PERSONAL_TEXT_MAX_LENGTH:
            raise ValueError(
                f"max_length for profile {self.profile} can be at most "
                f"{PERSONAL_TEXT_MAX_LENGTH}, the size of the respondent details field"
            )


class SectionDef(Strict):
    key: SectionKey
    title: Title
    intro: FreeText = ""
    questions: list[QuestionDef] = Field(min_length=1)


class OptionTranslationDef(Strict):
    label: Label | None = None
    hint: ShortFreeText | None = None


class QuestionTranslationDef(Strict):
    text: Text | None = None
    hint: FreeText | None = None
    error: ShortFreeText | None = None
    # An option is translated by its label alone, or by {label, hint}.
    options: dict[Code, Label | OptionTranslationDef] = {}
    rows: dict[Code, Text] = {}

    def option(self, code: str) -> OptionTranslationDef:
        given = self.options.get(code)
        return (
            OptionTranslationDef(label=given)
            if isinstance(given, str)
            else (given or OptionTranslationDef())
        )


class SectionTranslationDef(Strict):
    title: Title | None = None
    intro: FreeText | None = None


class TranslationDef(Strict):
    """The consultation's own text in one language; anything left out stays in English."""

    title: Title | None = None
    summary: Text | None = None
    body: Text | None = None
    privacy_notice: Text | None = None
    sections: dict[SectionKey, SectionTranslationDef] = {}
    questions: dict[Code, QuestionTranslationDef] = {}

    def stored(self) -> dict[str, Any]:
        """The form kept on the consultation: options always as {label, hint}."""
        data = self.model_dump(exclude_none=True, exclude_defaults=True)
        for key, question in self.questions.items():
            if question.options:
                data["questions"][key]["options"] = {
                    code: question.option(code).model_dump(exclude_none=True)
                    for code in question.options
                }
        return data


class ConsultationDef(Strict):
    slug: SectionKey
    reference_prefix: Annotated[str, StringConstraints(pattern=PREFIX_PATTERN)]
    title: Title
    summary: Text
    body: Text
    privacy_notice: Text
    opens_at: Moment
    closes_at: Moment
    sections: list[SectionDef] = Field(min_length=1)
    translations: dict[str, TranslationDef] = {}

    def questions(self) -> list[QuestionDef]:
        return [question for section in self.sections for question in section.questions]


class LoadedDefinition(BaseModel):
    definition: ConsultationDef
    source: str
    sha256: str
    # Text with no translation in an offered language: shown in English, and reported.
    warnings: tuple[str, ...] = ()


def _check_unique(what: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} '{value}' is used twice")
        seen.add(value)


class _DefinitionLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a mapping with the same key twice: PyYAML would keep
    the last one, and a question's second ``text:`` or a section's second ``questions:``
    would silently replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen = set()
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *defaults" may repeat keys
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' appears twice in one mapping", key_node.start_mark
                )
            if isinstance(key, Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def definition_read(*, path: Path) -> LoadedDefinition:
    """Read and validate a definition file, or raise ``DefinitionError``."""
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(f"{path}: cannot be read ({error})") from error
    try:
        raw = yaml.load(source, Loader=_DefinitionLoader)  # noqa: S506  # nosec B506 - a SafeLoader
    except (yaml.YAMLError, ValueError) as error:  # ValueError: "2026-02-30", "!!int x"
        raise DefinitionError(f"{path}: is not valid YAML ({error})") from error
    except RecursionError as error:
        raise DefinitionError(f"{path}: is nested too deeply to be a definition") from error
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: must be a mapping with slug, title, sections and so on")
    try:
        definition = ConsultationDef.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        raise DefinitionError(
            f"{path}: {_describe_location(raw, first['loc'])}: {_describe_problem(first)}"
        ) from error
    problem = _cross_check(definition) or _translations_check(definition)
    if problem:
        raise DefinitionError(f"{path}: {problem}")
    return LoadedDefinition(
        definition=definition,
        source=source,
        sha256=hashlib.sha256(source.encode("utf-8")).hexdigest(),
        warnings=tuple(f"{path}: {gap}" for gap in missing_translations(definition)),
    )


def definition_language() -> str:
    """The language a definition file is written in: the site's default language."""
    return str(settings.LANGUAGE_CODE)


def translation_languages() -> list[str]:
    """The languages offered (settings.LANGUAGES) other than the one files are written in."""
    return [code for code, _ in settings.LANGUAGES if code != definition_language()]


def _translations_check(definition: ConsultationDef) -> str | None:
    """Translations may only translate what the file has, into a language (offered or
    not: a site that does not offer one loads the file all the same, and says so)."""
    offered = translation_languages()
    sections = {section.key for section in definition.sections}
    questions = {question.key: question for question in definition.questions()}
    for language, translation in definition.translations.items():
        where = f"translations, language '{language}'"
        if language not in LANG_INFO or language == definition_language():
            return (
                f"{where}: is not a language code such as "
                + ", ".join(offered or ["cy or ga"])
                + f" (other than {definition_language()}, the file's own)"
            )
        for key in translation.sections:
            if key not in sections:
                return f"{where}, section '{key}': is not a section of the consultation"
        for key, question_translation in translation.questions.items():
            question = questions.get(key)
            if question is None:
                return f"{where}, question '{key}': is not a question of the consultation"
            codes = {option.code for option in question.options}
            for code in question_translation.options:
                if code not in codes:
                    return f"{where}, question '{key}': '{code}' is not one of its options"
            row_codes = {row.code for row in question.rows}
            for code in question_translation.rows:
                if code not in row_codes:
                    return f"{where}, question '{key}': '{code}' is not one of its rows"
    return None


def missing_translations(definition: ConsultationDef) -> list[str]:
    """Every text with no translation, per offered language, in the order of the file.

    Each names the language, the place (the consultation, a section or a question) and
    the field, such as ``cy: question 'region': option 'north' label``.
    """
    gaps: list[str] = []
    for language in translation_languages():
        translation = definition.translations.get(language) or TranslationDef()
        for name in ("title", "summary", "body", "privacy_notice"):
            if getattr(translation, name) is None:
                gaps.append(f"{language}: the consultation: {name}")
        for section in definition.sections:
            section_translation = translation.sections.get(section.key) or SectionTranslationDef()
            place = f"{language}: section '{section.key}'"
            if section_translation.title is None:
                gaps.append(f"{place}: title")
            if section.intro and section_translation.intro is None:
                gaps.append(f"{place}: intro")
            for question in section.questions:
                gaps.extend(
                    f"{language}: question '{question.key}': {field}"
                    for field in _untranslated_fields(
                        question, translation.questions.get(question.key)
                    )
                )
    return gaps


def _untranslated_fields(
    question: QuestionDef, translation: QuestionTranslationDef | None
) -> list[str]:
    translation = translation or QuestionTranslationDef()
    fields = [
        name
        for name in ("text", "hint", "error")
        if getattr(question, name) and getattr(translation, name) is None
    ]
    for option in question.options:
        option_translation = translation.option(option.code)
        if option_translation.label is None:
            fields.append(f"option '{option.code}' label")
        if option.hint and option_translation.hint is None:
            fields.append(f"option '{option.code}' hint")
    fields.extend(
        f"row '{row.code}' label" for row in question.rows if row.code not in translation.rows
    )
    return fields


def _describe_location(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic location such as ('sections', 2, 'questions', 1, 'type') into words."""
    where: list[str] = []
    node: Any = raw
    for index, part in enumerate(loc):
        parent_key = loc[index - 1] if index else None
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            where.append(f"field '{part}'")
            break
        if isinstance(part, int) and isinstance(node, dict):
            label = node.get("key") or node.get("code") or f"number {part + 1}"
            noun = {"sections": "section", "questions": "question", "options": "option"}.get(
                str(parent_key), "row" if parent_key == "rows" else "item"
            )
            where[-1:] = [f"{noun} '{label}'"]
        elif (
            isinstance(part, str) and str(parent_key) in KEYED_BY_NAME and loc[0] == "translations"
        ):
            # A translation names sections, questions, options and rows by their keys.
            where[-1:] = [f"{KEYED_BY_NAME[str(parent_key)]} '{part}'"]
        elif isinstance(part, str):
            where.append(f"field '{part}'")
    return ", ".join(where) or "the file"


KEYED_BY_NAME = {
    "translations": "translations, language",
    "sections": "section",
    "questions": "question",
    "options": "option",
    "rows": "row",
}


def _describe_problem(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return "is required but missing"
    if error["type"] == "extra_forbidden":
        return "is not a recognised field (see docs/definitions.md)"
    if error["type"] == "literal_error":
        return f"must be one of {', '.join(DEFINABLE_TYPES)}"
    if error["type"] == "string_pattern_mismatch":
        return f"must be {PATTERN_RULES[error['ctx']['pattern']]}"
    return message


def _cross_check(definition: ConsultationDef) -> str | None:
    """Rules that span questions: unique keys, conditions, dates, profiles."""
    if definition.closes_at <= definition.opens_at:
        return "closes_at must be after opens_at"
    seen_sections: set[str] = set()
    earlier: dict[str, QuestionDef] = {}
    keys: set[str] = set()
    profiles: set[Profile] = set()
    for section in definition.sections:
        if section.key in seen_sections:
            return f"section '{section.key}': key is used twice"
        seen_sections.add(section.key)
        in_this_section: dict[str, QuestionDef] = {}
        for question in section.questions:
            problem = _question_cross_check(question, earlier, in_this_section, keys, profiles)
            if problem:
                return f"question '{question.key}': {problem}"
            in_this_section[question.key] = question
        earlier.update(in_this_section)
    return None


def _question_cross_check(
    question: QuestionDef,
    earlier: dict[str, QuestionDef],
    in_this_section: dict[str, QuestionDef],
    keys: set[str],
    profiles: set[Profile],
) -> str | None:
    own_keys = [question.key] + [f"{question.key}__{row.code}" for row in question.rows]
    for key in own_keys:
        if key in keys:
            return f"key '{key}' is used twice"
        if len(key) > QUESTION_KEY_MAX_LENGTH:
            return f"key '{key}' is longer than {QUESTION_KEY_MAX_LENGTH} characters"
        keys.add(key)
    if question.profile is not None:
        if question.profile in profiles:
            return f"profile '{question.profile}' is given to more than one question"
        profiles.add(question.profile)
    if question.when is None:
        return None
    target_key = question.when.question
    if target_key in in_this_section:
        return (
            f"condition refers to '{target_key}', which is in the same section; "
            "a condition must refer to a question in an earlier section"
        )
    target = earlier.get(target_key)
    if target is None:
        return f"condition refers to '{target_key}', which is not a question in an earlier section"
    if target.type not in SINGLE_ANSWER_TYPES:
        return (
            f"condition refers to '{target_key}', which is not a single_choice, scale "
            "or select question"
        )
    codes = {option.code for option in target.options}
    unknown = [code for code in question.when.any_of if code not in codes]
    if unknown:
        return f"condition uses {', '.join(unknown)}, which is not an option of '{target_key}'"
    return None
