"""Translations in definition files: validation, storage, the spec per language, and the
report of every text left untranslated."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from consult.consultations import queries
from consult.consultations.definition import DefinitionError, missing_translations
from consult.consultations.models import Consultation
from consult.consultations.queries import Untranslated, consultation_spec
from consult.consultations.services import consultation_load

NOW = datetime(2026, 1, 1, tzinfo=UTC)

# Everything in the base definition, in Welsh, except what the gap tests take out.
WELSH: dict[str, Any] = {
    "title": "Ymgynghoriad prawf",
    "summary": "Ymgynghoriad a ddefnyddir gan brofion y llwythwr.",
    "body": "## Pam rydyn ni'n gofyn\n\nAm fod angen corff ar y profion.",
    "privacy_notice": "## Pwy sy'n rheoli eich data\n\nY profion.",
    "sections": {
        "about-you": {"title": "Amdanoch chi"},
        "views": {"title": "Eich barn", "intro": "Dywedwch wrthym beth rydych chi'n ei feddwl."},
        "your-details": {"title": "Eich manylion"},
    },
    "questions": {
        "respondent_type": {
            "text": "Ydych chi'n ymateb fel unigolyn neu ar ran sefydliad?",
            "options": {"individual": "Fel unigolyn", "organisation": "Ar ran sefydliad"},
        },
        "region": {
            "text": "Ble rydych chi'n byw?",
            "options": {"north": "Y gogledd", "south": "Y de", "elsewhere": "Rhywle arall"},
        },
        "organisation_name": {"text": "Beth yw enw eich sefydliad?"},
        "support": {
            "text": "Ydych chi'n cefnogi'r cynnig?",
            "options": {
                "support": "Cefnogi",
                "oppose": {"label": "Gwrthwynebu"},
                "dont_know": "Ddim yn gwybod",
            },
        },
        "reasons": {
            "text": "Pam?",
            "options": {"cost": "Cost", "safety": "Diogelwch", "none": "Dim un o'r rhain"},
        },
        "safeguards": {
            "text": "Pa mor bwysig yw pob mesur diogelu?",
            "rows": {"law": "Cyfraith benodol", "notice": "Hysbysiad cyhoeddus"},
            "options": {"important": "Pwysig", "not_important": "Ddim yn bwysig"},
        },
        "details": {"text": "Unrhyw beth arall?"},
        "name": {"text": "Eich enw"},
        "email": {"text": "Cyfeiriad e-bost (dewisol)"},
    },
}


@pytest.fixture
def welsh_definition(definition) -> dict[str, Any]:
    import copy

    definition["translations"] = {"cy": copy.deepcopy(WELSH)}
    return definition


@pytest.mark.django_db
def test_a_complete_translation_loads_without_warnings(welsh_definition, write_definition) -> None:
    result = consultation_load(path=write_definition(welsh_definition), now=NOW)

    assert result.warnings == ()
    stored = result.consultation.translations["cy"]
    assert stored["title"] == "Ymgynghoriad prawf"
    # Options are kept in one shape whichever way the file wrote them.
    assert stored["questions"]["support"]["options"] == {
        "support": {"label": "Cefnogi"},
        "oppose": {"label": "Gwrthwynebu"},
        "dont_know": {"label": "Ddim yn gwybod"},
    }


@pytest.mark.django_db
def test_the_spec_in_welsh_has_every_text_in_welsh(welsh_definition, write_definition) -> None:
    consultation = consultation_load(path=write_definition(welsh_definition), now=NOW).consultation

    spec = consultation_spec(consultation, language="cy")

    assert spec.language == "cy"
    assert consultation.text("title", "cy") == "Ymgynghoriad prawf"
    assert consultation.text("privacy_notice", "cy").startswith("## Pwy sy'n rheoli")
    assert [s.title for s in spec.sections] == ["Amdanoch chi", "Eich barn", "Eich manylion"]
    assert spec.section("views").intro == "Dywedwch wrthym beth rydych chi'n ei feddwl."
    support = spec.by_key["support"]
    assert support.text == "Ydych chi'n cefnogi'r cynnig?"
    assert [o.label for o in support.options] == ["Cefnogi", "Gwrthwynebu", "Ddim yn gwybod"]
    assert spec.by_key["safeguards__law"].text == "Cyfraith benodol"
    assert [o.label for o in spec.by_key["safeguards__notice"].options] == [
        "Pwysig",
        "Ddim yn bwysig",
    ]


@pytest.mark.django_db
def test_the_default_spec_is_english_and_shares_the_structure(
    welsh_definition, write_definition
) -> None:
    consultation = consultation_load(path=write_definition(welsh_definition), now=NOW).consultation

    english = consultation_spec(consultation)
    welsh = consultation_spec(consultation, language="cy")

    assert consultation.text("title", "en") == "A test consultation"
    assert english.by_key["support"].text == "Do you support the proposal?"
    assert [q.key for q in english.answerable()] == [q.key for q in welsh.answerable()]
    assert [(q.id, q.required, q.condition_key) for q in english.answerable()] == [
        (q.id, q.required, q.condition_key) for q in welsh.answerable()
    ]
    assert [o.code for o in english.by_key["support"].options] == [
        o.code for o in welsh.by_key["support"].options
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "shown"), [(None, "en"), ("en", "en"), ("fr", "en"), ("cy", "cy")]
)
def test_a_consultation_without_translations_is_english_in_every_language(
    definition, write_definition, language, shown
) -> None:
    consultation = consultation_load(path=write_definition(definition), now=NOW).consultation

    spec = consultation_spec(consultation, language=language)

    assert spec.language == shown
    question = spec.sections[0].questions[0]
    assert question.text == "Are you responding as an individual or an organisation?"
    # On a Welsh page, English text is marked as such; in English (or a language not
    # offered, which is shown in English) nothing is.
    marked = [spec.sections[0].title, question.text, question.options[0].label]
    assert [isinstance(text, Untranslated) for text in marked] == [shown == "cy"] * 3


@pytest.mark.django_db
def test_missing_translations_fall_back_to_english_and_are_reported(
    welsh_definition, write_definition
) -> None:
    welsh = welsh_definition["translations"]["cy"]
    del welsh["summary"]
    del welsh["sections"]["views"]["intro"]
    del welsh["questions"]["support"]["options"]["dont_know"]
    del welsh["questions"]["safeguards"]["rows"]["notice"]
    del welsh["questions"]["region"]
    path = write_definition(welsh_definition)

    result = consultation_load(path=path, now=NOW)

    assert result.warnings == (
        f"{path}: cy: the consultation: summary",
        f"{path}: cy: question 'region': text",
        f"{path}: cy: question 'region': option 'north' label",
        f"{path}: cy: question 'region': option 'south' label",
        f"{path}: cy: question 'region': option 'elsewhere' label",
        f"{path}: cy: section 'views': intro",
        f"{path}: cy: question 'support': option 'dont_know' label",
        f"{path}: cy: question 'safeguards': row 'notice' label",
    )
    spec = consultation_spec(result.consultation, language="cy")
    assert result.consultation.text("summary", "cy") == "A consultation used by the loader tests."
    assert spec.section("views").title == "Eich barn"
    assert spec.section("views").intro == "Tell us what you think."
    assert spec.by_key["region"].text == "Where do you live?"
    assert [o.label for o in spec.by_key["support"].options] == [
        "Cefnogi",
        "Gwrthwynebu",
        "Don't know",
    ]
    assert spec.by_key["safeguards__notice"].text == "Public notice"
    # Exactly the texts in English are marked as English.
    texts = [spec.section("views").title, spec.section("views").intro]
    texts += [spec.by_key["region"].text]
    texts += [o.label for o in spec.by_key["support"].options]
    texts += [spec.by_key["safeguards__notice"].text, spec.by_key["safeguards__law"].text]
    assert [isinstance(text, Untranslated) for text in texts] == [
        *(False, True, True),
        *(False, False, True),
        *(True, False),
    ]


@pytest.mark.django_db
def test_hints_and_error_messages_are_translated_or_reported(definition, write_definition) -> None:
    definition["sections"][0]["questions"][0].update(
        hint="Choose one.", error="Select how you are responding"
    )
    definition["sections"][0]["questions"][0]["options"][0]["hint"] = "Just you"
    definition["translations"] = {
        "cy": {"questions": {"respondent_type": {"hint": "Dewiswch un."}}}
    }

    result = consultation_load(path=write_definition(definition), now=NOW)

    gaps = [w.split(": ", 1)[1] for w in result.warnings if "respondent_type" in w]
    assert gaps == [
        "cy: question 'respondent_type': text",
        "cy: question 'respondent_type': error",
        "cy: question 'respondent_type': option 'individual' label",
        "cy: question 'respondent_type': option 'individual' hint",
        "cy: question 'respondent_type': option 'organisation' label",
    ]
    question = consultation_spec(result.consultation, language="cy").by_key["respondent_type"]
    assert (question.hint, question.error) == ("Dewiswch un.", "Select how you are responding")
    assert question.options[0].hint == "Just you"


def test_a_file_without_translations_reports_every_text_for_each_language(definition) -> None:
    from consult.consultations.definition import ConsultationDef

    gaps = missing_translations(ConsultationDef.model_validate(definition))

    assert gaps[:5] == [
        "cy: the consultation: title",
        "cy: the consultation: summary",
        "cy: the consultation: body",
        "cy: the consultation: privacy_notice",
        "cy: section 'about-you': title",
    ]
    assert "cy: question 'safeguards': row 'law' label" in gaps
    assert all(gap.startswith("cy: ") for gap in gaps)


@pytest.mark.django_db
def test_the_command_prints_each_missing_translation_as_a_warning(
    welsh_definition, write_definition
) -> None:
    del welsh_definition["translations"]["cy"]["questions"]["details"]
    path = write_definition(welsh_definition)
    out, err = StringIO(), StringIO()

    call_command("load_consultation", str(path), stdout=out, stderr=err)

    assert out.getvalue().strip() == "test-consultation: created (definition version 1)"
    assert err.getvalue().strip() == (
        f"missing translation, shown in English: {path}: cy: question 'details': text"
    )


@pytest.mark.django_db
def test_a_third_language_is_configuration_and_translations_only(
    welsh_definition, write_definition, settings
) -> None:
    settings.LANGUAGES = [*settings.LANGUAGES, ("ga", "Gaeilge")]
    welsh_definition["translations"]["ga"] = {"title": "Comhairliúchán tástála"}

    result = consultation_load(path=write_definition(welsh_definition), now=NOW)

    assert consultation_spec(result.consultation, language="ga").language == "ga"
    assert result.consultation.text("title", "ga") == "Comhairliúchán tástála"
    assert result.consultation.text("title", "cy") == "Ymgynghoriad prawf"
    assert f"{result.warnings[0].split(': ', 1)[1]}" == "ga: the consultation: summary"
    assert not any(": cy: " in warning for warning in result.warnings)


@pytest.mark.django_db
def test_a_language_the_site_does_not_offer_loads_with_a_warning(
    welsh_definition, write_definition, settings
) -> None:
    settings.LANGUAGES = [("en", "English")]  # TRANSLATIONS set empty: English only
    path = write_definition(welsh_definition)
    out, err = StringIO(), StringIO()

    call_command("load_consultation", str(path), stdout=out, stderr=err)

    assert out.getvalue().strip() == "test-consultation: created (definition version 1)"
    assert err.getvalue().strip() == (
        "translation into 'cy' not shown: the site does not offer it (TRANSLATIONS)"
    )
    spec = consultation_spec(Consultation.objects.get(), language="cy")
    assert spec.language == "en"
    assert spec.sections[0].title == "About you"


def _welsh(**fields: Any) -> Any:
    def mutate(data: dict[str, Any]) -> None:
        data["translations"] = {"cy": fields}

    return mutate


INVALID = [
    pytest.param(
        lambda d: d.update(translations={"welsh": {"title": "Ymgynghoriad prawf"}}),
        ["translations, language 'welsh'", "not a language code such as cy"],
        id="not-a-language-code",
    ),
    pytest.param(
        lambda d: d.update(translations={"en": {"title": "A test consultation"}}),
        ["translations, language 'en'", "other than en, the file's own"],
        id="the-file-s-own-language",
    ),
    pytest.param(
        _welsh(questions={"suport": {"text": "Ydych chi'n cefnogi?"}}),
        ["translations, language 'cy', question 'suport'", "not a question"],
        id="unknown-question",
    ),
    pytest.param(
        _welsh(sections={"about-me": {"title": "Amdanaf i"}}),
        ["translations, language 'cy', section 'about-me'", "not a section"],
        id="unknown-section",
    ),
    pytest.param(
        _welsh(questions={"support": {"options": {"maybe": "Efallai"}}}),
        ["question 'support'", "'maybe' is not one of its options"],
        id="unknown-option",
    ),
    pytest.param(
        _welsh(questions={"safeguards": {"rows": {"cctv": "Teledu cylch cyfyng"}}}),
        ["question 'safeguards'", "'cctv' is not one of its rows"],
        id="unknown-row",
    ),
    pytest.param(
        _welsh(questions={"support": {"txt": "Ydych chi'n cefnogi?"}}),
        ["translations, language 'cy', question 'support', field 'txt'", "not a recognised"],
        id="unknown-field",
    ),
    pytest.param(
        _welsh(questions={"support": {"text": "   "}}),
        ["translations, language 'cy', question 'support', field 'text'"],
        id="blank-text",
    ),
    pytest.param(
        _welsh(sections={"views": {"title": "x" * 201}}),
        ["translations, language 'cy', section 'views', field 'title'", "200"],
        id="title-too-long",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("mutate", "fragments"), INVALID)
def test_invalid_translations_are_refused_and_change_nothing(
    definition, write_definition, db_snapshot, mutate, fragments
) -> None:
    consultation_load(path=write_definition(definition, "base.yaml"), now=NOW)
    before = db_snapshot()
    definition["title"] = "A changed title"
    mutate(definition)
    path = write_definition(definition, "bad.yaml")

    with pytest.raises(DefinitionError) as error:
        consultation_load(path=path, now=NOW)

    message = str(error.value)
    assert message.startswith(f"{path}: ")
    for fragment in fragments:
        assert fragment in message
    assert db_snapshot() == before


@pytest.mark.django_db
def test_the_built_in_consultation_is_wholly_in_welsh() -> None:
    from tests.conftest import BUILT_IN

    result = consultation_load(path=BUILT_IN, now=NOW)

    assert result.warnings == ()
    spec = consultation_spec(result.consultation, language="cy")
    assert result.consultation.text("title", "cy") == "Adnabod wynebau byw mewn mannau cyhoeddus"
    assert result.consultation.text("body", "cy").startswith("Pwyllgor trawsbleidiol o Aelodau")
    assert spec.section("about-you").title == "Amdanoch chi"
    assert spec.by_key["region"].option_by_code("wales").label == "Cymru"
    assert spec.by_key["safeguard_importance__specific_law"].text == (
        "Cyfraith benodol wedi’i phasio gan Senedd y DU"
    )


@pytest.mark.django_db
def test_the_structures_kept_are_those_used_last(definition, write_definition, monkeypatch):
    monkeypatch.setattr(queries, "SPECS_KEPT", 2)
    consultation = consultation_load(path=write_definition(definition), now=NOW).consultation
    english = consultation_spec(consultation, "en")
    welsh = consultation_spec(consultation, "cy")

    assert consultation_spec(consultation, "en") is english  # used: now the newest
    consultation_spec(consultation, "xx")  # a language not offered: the English one, used
    consultation_spec(consultation, "ga")  # nor is this one
    definition["slug"] = "another-consultation"
    other = consultation_load(path=write_definition(definition, name="other.yaml"), now=NOW)
    consultation_spec(other.consultation, "en")  # a third structure: the oldest goes

    assert consultation_spec(consultation, "en") is english
    assert consultation_spec(consultation, "cy") is not welsh
