"""The journey's text inputs, email inputs, textareas, selects and honeypot, drawn by the
project's own templates (responses/fields/control.html) with the controls in Python."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template import engines
from django.test import RequestFactory

from consult.consultations.models import QuestionType
from consult.consultations.queries import OptionSpec, QuestionSpec
from consult.responses.forms import HONEYPOT, SectionForm, control_html
from tests.responses.helpers import section_url

TYPED = '<b>"O\'Brien" & co</b>'
TYPED_ESCAPED = "&lt;b&gt;&quot;O&#x27;Brien&quot; &amp; co&lt;/b&gt;"


def _question(key: str, type_: str, **given: Any) -> QuestionSpec:
    values: dict[str, Any] = {
        "id": 0,
        "key": key,
        "type": type_,
        "text": f"{key} & <more>?",
        "hint": "",
        "error": "",
        "required": True,
        "profile": "",
        "is_filter": False,
        "max_length": None,
        "max_choices": None,
        "condition_key": None,
        "condition_codes": frozenset(),
        "options": (),
    }
    return QuestionSpec(**(values | given))


QUESTIONS = [
    _question("plain", QuestionType.SHORT_TEXT, max_length=10),
    _question("email", QuestionType.EMAIL, hint="For a <receipt>", profile="email"),
    _question("essay", QuestionType.LONG_TEXT, hint="Say more", max_length=20),
    _question("bare_essay", QuestionType.LONG_TEXT, max_length=20),
    _question(
        "region",
        QuestionType.SELECT,
        options=tuple(
            OptionSpec(n, code, label, "", False, None)
            for n, code, label in [(1, "a", "A & B"), (2, "b", "<C>")]
        ),
    ),
]


def _form_html(data: dict[str, Any] | None) -> str:
    form = SectionForm(data, questions=QUESTIONS, answers={})
    form.is_valid()
    crispy = engines["django"].from_string("{% load crispy_forms_tags %}{% crispy form %}")
    return crispy.render({"form": form}, request=RequestFactory().get("/"))


def _tag(page: str, name: str, field_id: str) -> str:
    found = re.search(rf'<{name}[^>]* id="{field_id}"[^>]*>', page)
    assert found, f"no <{name}> with id {field_id}"
    return found.group(0)


def _described_by(tag: str) -> list[str]:
    found = re.search(r'aria-describedby="([^"]*)"', tag)
    return found.group(1).split() if found else []


@pytest.mark.django_db
def test_blank_controls_point_only_at_their_hints_and_counts():
    page = _form_html(None)

    assert '<label for="id_plain" class="govuk-label govuk-label--m">plain &amp; &lt;more&gt;?' in (
        page
    )
    plain = _tag(page, "input", "id_plain")
    assert 'type="text"' in plain
    assert "value=" not in plain
    assert "maxlength" not in plain  # counted on the server, never cut off in the browser
    assert _described_by(plain) == []
    assert 'class="govuk-input"' in plain

    assert '<div id="id_email_hint" class="govuk-hint">For a &lt;receipt&gt;</div>' in page
    email = _tag(page, "input", "id_email")
    assert 'type="email"' in email
    assert 'autocomplete="email"' in email
    assert 'spellcheck="false"' in email
    assert _described_by(email) == ["id_email_hint"]

    essay = _tag(page, "textarea", "id_essay")
    assert _described_by(essay) == ["id_essay_hint", "id_essay-info"]
    assert 'class="govuk-textarea govuk-js-character-count"' in essay
    assert _described_by(_tag(page, "textarea", "id_bare_essay")) == ["id_bare_essay-info"]
    assert (
        '<div class="govuk-character-count" data-module="govuk-character-count" '
        'data-maxlength="20" '
        'data-i18n.characters-under-limit.one="You have %{count} character remaining" ' in page
    )
    assert (
        '<span id="id_essay-info" class="govuk-hint govuk-character-count__message" '
        'aria-live="polite">You can enter up to 20 characters</span>' in page
    )

    select = _tag(page, "select", "id_region")
    assert 'class="govuk-select"' in select
    assert '<option value="" selected>Select an option</option>' in page
    assert '<option value="a">A &amp; B</option><option value="b">&lt;C&gt;</option>' in page
    assert "aria-invalid" not in page
    assert "govuk-error-message" not in page


@pytest.mark.django_db
def test_errors_are_announced_and_what_was_typed_is_kept():
    page = _form_html(
        {
            "plain": TYPED,
            "email": "not an email",
            "essay": "Line one\r\nLine <two> & more text",
            "bare_essay": "x" * 21,
            "region": "forged",
        }
    )

    assert page.count('<span class="govuk-visually-hidden">Error:</span> ') == 5
    plain = _tag(page, "input", "id_plain")
    assert f'value="{TYPED_ESCAPED}"' in plain
    assert _described_by(plain) == ["id_plain_1_error"]
    assert 'class="govuk-input govuk-input--error"' in plain
    assert 'aria-invalid="true"' in plain
    assert (
        '<span id="id_plain_1_error" class="govuk-error-message"><span '
        'class="govuk-visually-hidden">Error:</span> Your answer to “plain &amp; &lt;more&gt;?” '
        "must be 10 characters or fewer</span>" in page
    )
    assert 'id="div_id_plain" class="govuk-form-group govuk-form-group--error"' in page

    email = _tag(page, "input", "id_email")
    assert 'value="not an email"' in email
    assert _described_by(email) == ["id_email_hint", "id_email_1_error"]

    # The count's message follows the hint, or the errors when there is no hint.
    assert _described_by(_tag(page, "textarea", "id_essay")) == [
        "id_essay_hint",
        "id_essay-info",
        "id_essay_1_error",
    ]
    assert _described_by(_tag(page, "textarea", "id_bare_essay")) == [
        "id_bare_essay_1_error",
        "id_bare_essay-info",
    ]
    assert ">\nLine one\r\nLine &lt;two&gt; &amp; more text</textarea>" in page

    select = _tag(page, "select", "id_region")
    assert _described_by(select) == ["id_region_1_error"]
    assert "selected" not in page.split('id="id_region"')[1].split("</select>")[0]


@pytest.mark.django_db
def test_a_chosen_option_stays_selected():
    page = _form_html({"region": "b"})

    options = page.split('id="id_region"')[1].split("</select>")[0]
    assert re.findall(r"<option[^>]*selected[^>]*>", options) == ['<option value="b" selected>']


@pytest.mark.django_db
@pytest.mark.parametrize("data", [None, {"plain": TYPED, "essay": "\nkept", "region": "a"}])
def test_each_control_is_what_django_would_draw(data):
    """The controls drawn in Python match Django's own widget templates, given the same
    attributes (escaping, values, the selected option, the attributes' order)."""
    form = SectionForm(data, questions=QUESTIONS, answers={})
    form.is_valid()
    form.use_required_attribute = False  # crispy-forms-gds never drew it either
    for name in [*(question.key for question in QUESTIONS), HONEYPOT]:
        field = form[name]
        counted = name in {"essay", "bare_essay"}
        drawn = str(control_html(field, counted=counted))
        given = dict(re.findall(r' (aria-describedby|class)="([^"]*)"', drawn))
        expected = field.as_widget(attrs=given)
        assert re.sub(r">\s+<", "><", drawn) == re.sub(r">\s+<", "><", expected), name


def test_the_honeypot_is_in_a_hidden_group_out_of_the_tab_order(client, consultation):
    page = client.get(section_url(consultation, "about-you")).content.decode()

    assert (
        '<div id="div_id_website" class="govuk-form-group consult-honeypot">'
        '<label for="id_website" class="govuk-label">Leave this field empty</label>'
        '<input type="text" name="website" autocomplete="off" tabindex="-1" '
        'class="govuk-input" id="id_website"></div>'
    ) in page


def test_the_region_select_shows_the_saved_answer(client, consultation):
    client.post(
        section_url(consultation, "about-you"),
        {"respondent_type": "individual", "region": "wales"},
    )

    page = client.get(section_url(consultation, "about-you")).content.decode()
    select = page.split('<select name="region"')[1].split("</select>")[0]
    assert 'aria-describedby="id_region_hint" class="govuk-select" id="id_region">' in select
    assert re.findall(r"<option[^>]*selected[^>]*>", select) == ['<option value="wales" selected>']
