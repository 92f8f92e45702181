"""The consultation definition loader: validation, the database it writes, and reloads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command

import consult.consultations
from consult.consultations.definition import DEFINABLE_TYPES, DefinitionError
from consult.consultations.models import (
    Consultation,
    DefinitionVersion,
    Option,
    Question,
    QuestionType,
    Section,
)
from consult.consultations.services import LoadOutcome, consultation_load
from consult.responses.models import Response
from tests.consultations.conftest import BASE_DEFINITION, CLOSES_AT, OPENS_AT, find_question

BUILT_IN = Path(consult.consultations.__file__).parent / "definitions" / "facial-recognition.yaml"
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)
RESPONSES_EXIST = "already has responses"

Mutation = Callable[[dict[str, Any]], str | None]


def expected_structure(data: dict[str, Any]) -> dict[str, tuple[Any, ...]]:
    """What the database should hold for a definition dict, keyed by question key."""
    structure: dict[str, tuple[Any, ...]] = {}
    for section in data["sections"]:
        for question in section["questions"]:
            options = [(o["code"], o["label"]) for o in question.get("options", [])]
            structure[question["key"]] = (
                section["key"],
                None,
                question["type"],
                question["text"],
                options,
            )
            for row in question.get("rows", []):
                structure[f"{question['key']}__{row['code']}"] = (
                    section["key"],
                    question["key"],
                    QuestionType.MATRIX_ROW.value,
                    row["label"],
                    [],
                )
    return structure


def db_structure(consultation: Consultation) -> dict[str, tuple[Any, ...]]:
    questions = Question.objects.filter(consultation=consultation).select_related(
        "section", "parent"
    )
    return {
        q.key: (
            q.section.key,
            q.parent.key if q.parent else None,
            q.type,
            q.text,
            list(q.options.values_list("code", "label")),
        )
        for q in questions
    }


def question_ids(consultation: Consultation) -> dict[str, int]:
    return dict(Question.objects.filter(consultation=consultation).values_list("key", "pk"))


def option_ids(consultation: Consultation) -> dict[tuple[str, str], int]:
    return {
        (key, code): pk
        for key, code, pk in Option.objects.filter(question__consultation=consultation).values_list(
            "question__key", "code", "pk"
        )
    }


def add_response(consultation: Consultation) -> Response:
    return Response.objects.create(
        reference="TC-AAAA-BBBB",
        consultation=consultation,
        definition_version=1,
        started_at=NOW,
        updated_at=NOW,
    )


def assert_error_names(message: str, path: Path, fragments: list[str]) -> None:
    assert message.startswith(f"{path}: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def source_of(data: dict[str, Any] | str) -> str:
    return data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)


# --------------------------------------------------------------------------- built-in file


@pytest.mark.django_db
def test_built_in_definition_loads() -> None:
    result = consultation_load(path=BUILT_IN, now=NOW)

    consultation = Consultation.objects.get()
    assert result.outcome == LoadOutcome.CREATED
    assert result.consultation.pk == consultation.pk
    assert consultation.slug == "facial-recognition"
    assert consultation.reference_prefix == "FR"
    assert list(consultation.sections.values_list("key", flat=True)) == [
        "about-you",
        "your-organisation",
        "use",
        "safeguards",
        "impact",
        "publishing",
        "your-details",
    ]
    assert Section.objects.count() == 7
    raw = yaml.safe_load(BUILT_IN.read_text(encoding="utf-8"))
    assert db_structure(consultation) == expected_structure(raw)


@pytest.mark.django_db
def test_built_in_definition_uses_every_question_type() -> None:
    consultation_load(path=BUILT_IN, now=NOW)

    types = set(Question.objects.values_list("type", flat=True))
    assert set(DEFINABLE_TYPES) <= types
    assert types == {t.value for t in QuestionType}


@pytest.mark.django_db
def test_built_in_matrix_rows_are_questions_under_the_matrix() -> None:
    consultation_load(path=BUILT_IN, now=NOW)

    raw = yaml.safe_load(BUILT_IN.read_text(encoding="utf-8"))
    matrices = [
        question
        for section in raw["sections"]
        for question in section["questions"]
        if question["type"] == "matrix"
    ]
    assert matrices
    for matrix_def in matrices:
        matrix = Question.objects.get(key=matrix_def["key"])
        rows = list(Question.objects.filter(parent=matrix).order_by("position"))
        assert [row.key for row in rows] == [
            f"{matrix_def['key']}__{row['code']}" for row in matrix_def["rows"]
        ]
        assert [row.text for row in rows] == [row["label"] for row in matrix_def["rows"]]
        assert {row.type for row in rows} == {QuestionType.MATRIX_ROW}
        assert {row.section_id for row in rows} == {matrix.section_id}
        assert not Option.objects.filter(question__in=rows).exists()
        assert list(matrix.options.values_list("code", flat=True)) == [
            option["code"] for option in matrix_def["options"]
        ]
    row = Question.objects.get(key="safeguard_importance__specific_law")
    assert row.type == QuestionType.MATRIX_ROW
    assert row.parent is not None
    assert row.parent.key == "safeguard_importance"


@pytest.mark.django_db
def test_built_in_condition_and_profiles() -> None:
    consultation_load(path=BUILT_IN, now=NOW)

    organisation_name = Question.objects.get(key="organisation_name")
    assert organisation_name.condition_question is not None
    assert organisation_name.condition_question.key == "respondent_type"
    assert organisation_name.condition_codes == ["organisation"]
    assert Question.objects.get(key="region").condition_question is None
    profiles = dict(Question.objects.exclude(profile="").values_list("profile", "key"))
    assert profiles == {
        "respondent_type": "respondent_type",
        "publication": "publication",
        "name": "name",
        "email": "email",
        "organisation_name": "organisation_name",
    }


@pytest.mark.django_db
def test_built_in_definition_version_is_stored() -> None:
    consultation_load(path=BUILT_IN, now=NOW)

    source = BUILT_IN.read_text(encoding="utf-8")
    sha256 = hashlib.sha256(source.encode("utf-8")).hexdigest()
    consultation = Consultation.objects.get()
    assert consultation.definition_version == 1
    assert consultation.definition_sha256 == sha256
    assert list(DefinitionVersion.objects.values_list("consultation", "version", "sha256")) == [
        (consultation.pk, 1, sha256)
    ]
    version = DefinitionVersion.objects.get()
    assert version.source == source
    assert version.loaded_at == NOW


# --------------------------------------------------------------------------- base definition


@pytest.mark.django_db
def test_base_definition_stores_every_field(definition, write_definition) -> None:
    result = consultation_load(path=write_definition(definition), now=NOW)

    consultation = Consultation.objects.get()
    assert result.outcome == LoadOutcome.CREATED
    assert consultation.reference_prefix == "TC"
    assert consultation.title == "A test consultation"
    assert consultation.opens_at == OPENS_AT
    assert consultation.closes_at == CLOSES_AT
    assert db_structure(consultation) == expected_structure(definition)
    assert Question.objects.get(key="name").max_length == 200
    assert Question.objects.get(key="details").max_length == 500
    assert Question.objects.get(key="details").required is False
    assert Question.objects.get(key="reasons").max_choices == 2
    assert list(
        Option.objects.filter(question__key="reasons").values_list("code", "exclusive")
    ) == [("cost", False), ("safety", False), ("none", True)]
    assert list(Option.objects.filter(question__key="support").values_list("code", "value")) == [
        ("support", 1),
        ("oppose", -1),
        ("dont_know", None),
    ]


# --------------------------------------------------------------------------- reloading


@pytest.mark.django_db
def test_reloading_the_same_file_changes_nothing(db_snapshot) -> None:
    first = consultation_load(path=BUILT_IN, now=NOW)
    before = db_snapshot()

    second = consultation_load(path=BUILT_IN, now=LATER)

    assert second.outcome == LoadOutcome.UNCHANGED
    assert second.consultation.pk == first.consultation.pk
    assert second.consultation.definition_version == 1
    assert DefinitionVersion.objects.count() == 1
    assert db_snapshot() == before


@pytest.mark.django_db
def test_command_reports_created_then_unchanged(db_snapshot) -> None:
    out = StringIO()
    call_command("load_consultation", str(BUILT_IN), stdout=out)
    assert out.getvalue().strip() == "facial-recognition: created (definition version 1)"
    before = db_snapshot()

    out = StringIO()
    call_command("load_consultation", str(BUILT_IN), stdout=out)

    assert out.getvalue().strip() == "facial-recognition: unchanged (definition version 1)"
    assert db_snapshot() == before
    assert DefinitionVersion.objects.count() == 1


# --------------------------------------------------------------------------- invalid files


def _set(key: str, /, **fields: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        find_question(data, key).update(fields)

    return mutate


def _drop(key: str, field: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del find_question(data, key)[field]

    return mutate


def _set_option(key: str, index: int, /, **fields: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        find_question(data, key)["options"][index].update(fields)

    return mutate


def _set_top(**fields: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data.update(fields)

    return mutate


def _drop_top(field: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        del data[field]

    return mutate


def _raw(text: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> str:
        return text

    return mutate


def _keep_one_option(data: dict[str, Any]) -> None:
    question = find_question(data, "region")
    question["options"] = question["options"][:1]


INVALID = [
    pytest.param(_raw("slug: [unclosed\ntitle: x\n"), ["is not valid YAML"], id="not-yaml"),
    pytest.param(
        _raw("slug: a\ntitle: x\ntitle: y\n"),
        ["is not valid YAML", "the key 'title' appears twice in one mapping", "line 3"],
        id="duplicate-key",
    ),
    pytest.param(
        _raw("- slug: a\n- title: b\n"),
        ["must be a mapping with slug, title, sections"],
        id="top-level-list",
    ),
    pytest.param(
        _drop_top("title"), ["field 'title': is required but missing"], id="missing-title"
    ),
    pytest.param(
        _drop("region", "text"),
        ["section 'about-you', question 'region', field 'text': is required but missing"],
        id="missing-question-text",
    ),
    pytest.param(
        _set("region", colour="red"),
        [
            "section 'about-you', question 'region', field 'colour': "
            "is not a recognised field (see docs/definitions.md)"
        ],
        id="unknown-question-field",
    ),
    pytest.param(
        _set("region", type="dropdown"),
        [
            "question 'region', field 'type': must be one of single_choice, "
            "multiple_choice, scale, matrix, short_text, long_text, email, select"
        ],
        id="bad-type",
    ),
    pytest.param(
        _set("region", key="Bad Key"),
        [
            "question 'Bad Key', field 'key': "
            "must be lowercase letters, digits and underscores, starting with a letter"
        ],
        id="bad-key-format",
    ),
    pytest.param(
        _set("details", key="region"),
        ["question 'region': key 'region' is used twice"],
        id="duplicate-key-across-sections",
    ),
    pytest.param(
        _set("name", key="safeguards__law"),
        ["question 'safeguards__law': key 'safeguards__law' is used twice"],
        id="key-clashes-with-matrix-row",
    ),
    pytest.param(
        _set_option("region", 1, code="north"),
        ["question 'region': option code 'north' is used twice"],
        id="duplicate-option-code",
    ),
    pytest.param(
        _keep_one_option,
        ["question 'region': a select question needs at least two options"],
        id="one-option",
    ),
    pytest.param(
        _set("details", options=[{"code": "a", "label": "A"}, {"code": "b", "label": "B"}]),
        ["question 'details': a long_text question cannot have options"],
        id="options-on-text",
    ),
    pytest.param(
        _drop("safeguards", "rows"),
        ["question 'safeguards': a matrix question needs rows"],
        id="matrix-without-rows",
    ),
    pytest.param(
        _set("support", rows=[{"code": "x", "label": "X"}]),
        ["question 'support': only a matrix question can have rows"],
        id="rows-on-non-matrix",
    ),
    pytest.param(
        _drop("details", "max_length"),
        ["question 'details': a long_text question needs max_length"],
        id="long-text-without-max-length",
    ),
    pytest.param(
        _set("respondent_type", max_choices=1),
        ["question 'respondent_type': max_choices applies only to multiple_choice questions"],
        id="max-choices-on-single-choice",
    ),
    pytest.param(
        _set("reasons", max_choices=4),
        ["question 'reasons': max_choices is more than the number of options"],
        id="max-choices-over-options",
    ),
    pytest.param(
        _set_option("respondent_type", 1, exclusive=True),
        ["question 'respondent_type': only multiple_choice options can be exclusive"],
        id="exclusive-on-single-choice",
    ),
    pytest.param(
        _set("organisation_name", when={"question": "nonexistent", "any_of": ["yes"]}),
        [
            "question 'organisation_name': condition refers to 'nonexistent', "
            "which is not a question in an earlier section"
        ],
        id="condition-unknown-key",
    ),
    pytest.param(
        _set("details", when={"question": "support", "any_of": ["support"]}),
        ["question 'details': condition refers to 'support', which is in the same section"],
        id="condition-same-section",
    ),
    pytest.param(
        _set("respondent_type", when={"question": "support", "any_of": ["support"]}),
        [
            "question 'respondent_type': condition refers to 'support', "
            "which is not a question in an earlier section"
        ],
        id="condition-later-question",
    ),
    pytest.param(
        _set("email", when={"question": "details", "any_of": ["anything"]}),
        [
            "question 'email': condition refers to 'details', which is not a single_choice, "
            "scale or select question"
        ],
        id="condition-on-text-question",
    ),
    pytest.param(
        _set(
            "organisation_name",
            when={"question": "respondent_type", "any_of": ["organisation", "charity"]},
        ),
        [
            "question 'organisation_name': condition uses charity, "
            "which is not an option of 'respondent_type'"
        ],
        id="condition-unknown-code",
    ),
    pytest.param(
        _set_top(closes_at=OPENS_AT - timedelta(days=1)),
        ["closes_at must be after opens_at"],
        id="closes-before-opens",
    ),
    pytest.param(
        _set_top(closes_at=OPENS_AT),
        ["closes_at must be after opens_at"],
        id="closes-when-opens",
    ),
    pytest.param(
        _set_top(opens_at=OPENS_AT.replace(tzinfo=None)),
        ["field 'opens_at': Input should have timezone info"],
        id="naive-datetime",
    ),
    pytest.param(
        _set("organisation_name", profile="email"),
        ["question 'organisation_name': profile email needs", "email question"],
        id="profile-on-wrong-type",
    ),
    pytest.param(
        _set("name", profile="organisation_name"),
        ["question 'name': profile 'organisation_name' is given to more than one question"],
        id="profile-twice",
    ),
    pytest.param(
        _set("email", when={"question": "reasons", "any_of": ["cost"]}),
        ["question 'email': condition refers to 'reasons', which is not a single_choice"],
        id="condition-on-multiple-choice",
    ),
    pytest.param(
        _set("details", filter=True),
        ["question 'details'", "only single_choice, scale and select questions can be filters"],
        id="filter-on-text-question",
    ),
    pytest.param(
        _set("name", max_length=1000),
        ["question 'name': max_length for profile name can be at most 200"],
        id="personal-text-longer-than-its-field",
    ),
    pytest.param(
        _set_top(reference_prefix="fr"),
        ["field 'reference_prefix'", "capital letters"],
        id="bad-reference-prefix",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("mutate", "fragments"), INVALID)
def test_invalid_definition_creates_nothing(
    definition, write_definition, db_snapshot, mutate, fragments
) -> None:
    path = write_definition(source_of(mutate(definition) or definition))

    with pytest.raises(DefinitionError) as error:
        consultation_load(path=path, now=NOW)

    assert_error_names(str(error.value), path, fragments)
    assert db_snapshot() == {
        "consultations": [],
        "versions": [],
        "sections": [],
        "questions": [],
        "options": [],
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("mutate", "fragments"), INVALID)
def test_invalid_definition_leaves_existing_consultation_unchanged(
    definition, write_definition, db_snapshot, mutate, fragments
) -> None:
    consultation_load(path=write_definition(BASE_DEFINITION, "base.yaml"), now=NOW)
    before = db_snapshot()
    # A change the loader would write if it did not validate the whole file first.
    definition["title"] = "A changed title"
    find_question(definition, "support")["text"] = "Do you still support it?"
    path = write_definition(source_of(mutate(definition) or definition), "bad.yaml")

    with pytest.raises(CommandError) as error:
        call_command("load_consultation", str(path), stdout=StringIO())

    assert_error_names(str(error.value), path, fragments)
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        pytest.param(_set("region", key="Bad-Key"), "question 'Bad-Key', field 'key'", id="key"),
        pytest.param(
            _set_option("region", 0, code="North"),
            "question 'region', option 'North', field 'code'",
            id="option-code",
        ),
    ],
)
def test_bad_code_message_does_not_offer_hyphens(
    definition, write_definition, mutate, where
) -> None:
    """Hyphens are allowed in section keys and slugs only, so only they should mention them."""
    mutate(definition)
    path = write_definition(definition)

    with pytest.raises(DefinitionError) as error:
        consultation_load(path=path, now=NOW)

    message = str(error.value)
    assert_error_names(message, path, [where, "lowercase letters, digits and underscores"])
    assert "hyphen" not in message


def test_bad_section_key_message_offers_hyphens(definition, write_definition) -> None:
    definition["sections"][0]["key"] = "About_You"
    path = write_definition(definition)

    with pytest.raises(DefinitionError) as error:
        consultation_load(path=path, now=NOW)

    assert_error_names(
        str(error.value),
        path,
        ["section 'About_You', field 'key'", "lowercase letters, digits and hyphens"],
    )


# --------------------------------------------------------------------------- changes


def _remove_question(key: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for section in data["sections"]:
            section["questions"] = [q for q in section["questions"] if q["key"] != key]

    return mutate


def _remove_option(key: str, code: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        question = find_question(data, key)
        question["options"] = [o for o in question["options"] if o["code"] != code]

    return mutate


def _remove_row(key: str, code: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        question = find_question(data, key)
        question["rows"] = [r for r in question["rows"] if r["code"] != code]

    return mutate


def _matrix_to_single_choice(data: dict[str, Any]) -> None:
    question = find_question(data, "safeguards")
    del question["rows"]
    question["type"] = "single_choice"


def _text_to_choice(data: dict[str, Any]) -> None:
    question = find_question(data, "details")
    del question["max_length"]
    question["type"] = "single_choice"
    question["options"] = [{"code": "yes", "label": "Yes"}, {"code": "no", "label": "No"}]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "gone"),
    [
        pytest.param(_remove_question("region"), {"region"}, id="remove-question"),
        pytest.param(_remove_option("region", "elsewhere"), set(), id="remove-option"),
        pytest.param(_set_option("region", 0, code="northern"), set(), id="recode-option"),
        pytest.param(_remove_row("safeguards", "notice"), {"safeguards__notice"}, id="remove-row"),
        pytest.param(_set("region", type="single_choice"), set(), id="select-to-single-choice"),
        pytest.param(
            _matrix_to_single_choice,
            {"safeguards__law", "safeguards__notice"},
            id="matrix-to-single-choice",
        ),
        pytest.param(_text_to_choice, set(), id="long-text-to-single-choice"),
        pytest.param(_set("name", key="full_name"), {"name"}, id="rename-profile-question"),
    ],
)
def test_any_change_is_allowed_before_responses(definition, write_definition, mutate, gone) -> None:
    consultation_load(path=write_definition(BASE_DEFINITION, "base.yaml"), now=NOW)
    mutate(definition)
    path = write_definition(definition, "changed.yaml")

    result = consultation_load(path=path, now=LATER)

    consultation = Consultation.objects.get()
    assert result.outcome == LoadOutcome.UPDATED
    assert consultation.definition_version == 2
    assert db_structure(consultation) == expected_structure(definition)
    assert not Question.objects.filter(key__in=gone).exists()
    assert list(DefinitionVersion.objects.values_list("version", "source")) == [
        (1, source_of(BASE_DEFINITION)),
        (2, path.read_text(encoding="utf-8")),
    ]


@pytest.mark.django_db
def test_removed_question_takes_its_options_with_it(definition, write_definition) -> None:
    consultation_load(path=write_definition(BASE_DEFINITION, "base.yaml"), now=NOW)
    region_options = list(
        Option.objects.filter(question__key="region").values_list("pk", flat=True)
    )
    _remove_question("region")(definition)

    consultation_load(path=write_definition(definition, "changed.yaml"), now=LATER)

    assert region_options
    assert not Option.objects.filter(pk__in=region_options).exists()


def _wording(data: dict[str, Any]) -> None:
    data["title"] = "A reworded consultation"
    find_question(data, "support")["text"] = "Do you support the reworded proposal?"
    find_question(data, "support")["hint"] = "A new hint."
    find_question(data, "region")["options"][0]["label"] = "Northern England"
    find_question(data, "safeguards")["rows"][0]["label"] = "A law passed by Parliament"
    data["sections"][1]["title"] = "What you think"


def _add_question(data: dict[str, Any]) -> None:
    data["sections"][1]["questions"].insert(
        1,
        {
            "key": "postcode",
            "type": "short_text",
            "required": False,
            "text": "Your postcode (optional)",
        },
    )


def _add_option(data: dict[str, Any]) -> None:
    find_question(data, "region")["options"].insert(
        1, {"code": "midlands", "label": "The Midlands"}
    )


def _add_row(data: dict[str, Any]) -> None:
    find_question(data, "safeguards")["rows"].append({"code": "audit", "label": "Audits"})


@pytest.mark.django_db
@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(_wording, id="wording"),
        pytest.param(_add_question, id="add-question"),
        pytest.param(_add_option, id="add-option"),
        pytest.param(_add_row, id="add-matrix-row"),
    ],
)
def test_wording_and_additions_are_allowed_once_responses_exist(
    definition, write_definition, mutate
) -> None:
    consultation = consultation_load(
        path=write_definition(BASE_DEFINITION, "base.yaml"), now=NOW
    ).consultation
    add_response(consultation)
    questions_before = question_ids(consultation)
    options_before = option_ids(consultation)
    sections_before = dict(consultation.sections.values_list("key", "pk"))
    mutate(definition)
    path = write_definition(definition, "changed.yaml")

    result = consultation_load(path=path, now=LATER)

    consultation.refresh_from_db()
    assert result.outcome == LoadOutcome.UPDATED
    assert consultation.definition_version == 2
    assert consultation.title == definition["title"]
    assert db_structure(consultation) == expected_structure(definition)
    questions_after = question_ids(consultation)
    options_after = option_ids(consultation)
    assert {k: questions_after[k] for k in questions_before} == questions_before
    assert {k: options_after[k] for k in options_before} == options_before
    assert dict(consultation.sections.values_list("key", "pk")) == sections_before
    assert list(DefinitionVersion.objects.values_list("version", "source", "loaded_at")) == [
        (1, source_of(BASE_DEFINITION), NOW),
        (2, path.read_text(encoding="utf-8"), LATER),
    ]
    assert Response.objects.get().definition_version == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        pytest.param(
            _remove_question("region"), "question 'region' would be removed", id="remove-question"
        ),
        pytest.param(
            _set("region", key="area"), "question 'region' would be removed", id="rename-question"
        ),
        pytest.param(
            _remove_option("region", "elsewhere"),
            "question 'region': option 'elsewhere' would be removed",
            id="remove-option",
        ),
        pytest.param(
            _set_option("region", 0, code="northern"),
            "question 'region': option 'north' would be removed",
            id="recode-option",
        ),
        pytest.param(
            _set_option("safeguards", 1, code="unimportant"),
            "question 'safeguards': option 'not_important' would be removed",
            id="recode-matrix-option",
        ),
        pytest.param(
            _remove_row("safeguards", "notice"),
            "question 'safeguards__notice' would be removed",
            id="remove-matrix-row",
        ),
        pytest.param(
            _set("region", type="single_choice"),
            "question 'region' would change type from select to single_choice",
            id="change-type",
        ),
    ],
)
def test_breaking_change_is_refused_once_responses_exist(
    definition, write_definition, db_snapshot, mutate, problem
) -> None:
    consultation = consultation_load(
        path=write_definition(BASE_DEFINITION, "base.yaml"), now=NOW
    ).consultation
    add_response(consultation)
    before = db_snapshot()
    # Alongside the breaking change, a wording change that must not be written either.
    definition["title"] = "A reworded consultation"
    find_question(definition, "support")["text"] = "Do you support the reworded proposal?"
    mutate(definition)
    path = write_definition(definition, "changed.yaml")

    with pytest.raises(DefinitionError) as error:
        consultation_load(path=path, now=LATER)
    assert_error_names(str(error.value), path, [problem, RESPONSES_EXIST])
    assert db_snapshot() == before

    with pytest.raises(CommandError) as command_error:
        call_command("load_consultation", str(path), stdout=StringIO())
    assert_error_names(str(command_error.value), path, [problem, RESPONSES_EXIST])
    assert db_snapshot() == before
    consultation.refresh_from_db()
    assert consultation.definition_version == 1
    assert consultation.title == BASE_DEFINITION["title"]


@pytest.mark.django_db
def test_renaming_a_section_is_refused_once_responses_exist(
    definition, write_definition, db_snapshot
) -> None:
    """docs/definitions.md: with responses, a change that renames a section is refused."""
    consultation = consultation_load(
        path=write_definition(BASE_DEFINITION, "base.yaml"), now=NOW
    ).consultation
    add_response(consultation)
    before = db_snapshot()
    definition["sections"][1]["key"] = "opinions"
    path = write_definition(definition, "changed.yaml")

    with pytest.raises(DefinitionError) as error:
        consultation_load(path=path, now=LATER)

    assert_error_names(str(error.value), path, ["section 'views'", RESPONSES_EXIST])
    assert db_snapshot() == before


@pytest.mark.django_db
def test_dates_changed_in_the_admin_survive_a_wording_fix(definition, write_definition) -> None:
    consultation = consultation_load(path=write_definition(definition), now=NOW).consultation
    extended = CLOSES_AT + timedelta(days=14)
    Consultation.objects.filter(pk=consultation.pk).update(closes_at=extended)

    find_question(definition, "support")["text"] = "Do you support the proposal, on balance?"
    result = consultation_load(path=write_definition(definition), now=LATER)

    assert result.outcome == LoadOutcome.UPDATED
    consultation.refresh_from_db()
    assert consultation.closes_at == extended
    assert consultation.opens_at == OPENS_AT


@pytest.mark.django_db
def test_dates_changed_in_the_file_are_applied(definition, write_definition) -> None:
    consultation = consultation_load(path=write_definition(definition), now=NOW).consultation
    Consultation.objects.filter(pk=consultation.pk).update(closes_at=CLOSES_AT + timedelta(days=1))

    definition["closes_at"] = CLOSES_AT + timedelta(days=30)
    consultation_load(path=write_definition(definition), now=LATER)

    consultation.refresh_from_db()
    assert consultation.closes_at == CLOSES_AT + timedelta(days=30)
    versions = DefinitionVersion.objects.filter(consultation=consultation).order_by("version")
    assert [v.closes_at for v in versions] == [CLOSES_AT, CLOSES_AT + timedelta(days=30)]
