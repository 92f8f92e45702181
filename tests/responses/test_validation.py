"""Each question type's validation: clear GOV.UK errors, and nothing invalid stored."""

import re

import pytest

from consult.consultations.queries import consultation_spec
from consult.responses.models import Answer, Response
from tests.responses.helpers import section_post, section_url


def post_section(client, consultation, key, overrides, drop=()):
    spec = consultation_spec(consultation)
    data = section_post(spec, key, overrides)
    for name in drop:
        data.pop(name)
    return client.post(section_url(consultation, key), data)


def assert_error(reply, message, anchor):
    """The page is an error page with the message in the summary, linked to the field."""
    assert reply.status_code == 400
    page = reply.content.decode()
    assert "<title>Error: " in page
    summary = page.split('class="govuk-error-summary"')[1].split("</ul>")[0]
    assert f'href="#{anchor}"' in summary
    assert message in summary
    assert f'id="{anchor}"' in page
    assert 'class="govuk-error-message"' in page
    return page


@pytest.mark.parametrize(
    ("section", "field", "message", "anchor"),
    [
        (
            "about-you",
            "respondent_type",
            "Select whether you are responding as an individual or on behalf of an organisation",
            "id_respondent_type_1",
        ),
        ("about-you", "region", "Select", "id_region"),
        ("use", "lfr_purposes", "Select", "id_lfr_purposes_1"),
        ("use", "lfr_by_operator__police", "Police forces", "id_lfr_by_operator__police_1"),
        ("impact", "feel_safer", "Select", "id_feel_safer_1"),
    ],
)
def test_a_missing_required_answer_is_explained(
    client, consultation, section, field, message, anchor
):
    if section != "about-you":
        post_section(client, consultation, "about-you", {})
    before = Answer.objects.count()
    reply = post_section(client, consultation, section, {}, drop=[field])
    assert_error(reply, message, anchor)
    assert Answer.objects.count() == before


def test_an_optional_question_can_be_left_blank(client, consultation):
    reply = post_section(client, consultation, "about-you", {}, drop=["age_band"])
    assert reply.status_code == 302
    keys = set(Answer.objects.values_list("question__key", flat=True))
    assert "age_band" not in keys
    assert "region" in keys


@pytest.mark.parametrize(
    ("section", "field", "forged"),
    [
        ("about-you", "respondent_type", "robot"),
        ("about-you", "region", "atlantis"),
        ("use", "lfr_overall", "<script>alert(1)</script>"),
        ("use", "lfr_by_operator__police", "very_unacceptable_x"),
        ("use", "lfr_purposes", ["wanted_serious", "forged"]),
        ("impact", "feel_safer", "much_safer' OR 1=1"),
    ],
)
def test_a_forged_option_code_never_reaches_the_database(
    client, consultation, section, field, forged
):
    if section != "about-you":
        post_section(client, consultation, "about-you", {})
    before = list(Answer.objects.values_list("pk", flat=True))
    reply = post_section(client, consultation, section, {field: forged})
    page = assert_error(reply, "Select one of the options shown", reply_anchor(field))
    assert "<script>alert" not in page
    assert list(Answer.objects.values_list("pk", flat=True)) == before


def reply_anchor(field):
    return f"id_{field}" if field == "region" else f"id_{field}_1"


def test_exclusive_option_cannot_be_ticked_with_others(client, consultation):
    post_section(client, consultation, "about-you", {})
    reply = post_section(client, consultation, "use", {"lfr_purposes": ["none", "terrorism"]})
    assert_error(reply, "on its own", "id_lfr_purposes_1")
    assert not Answer.objects.filter(question__key="lfr_purposes").exists()


def test_exclusive_option_alone_is_accepted(client, consultation):
    post_section(client, consultation, "about-you", {})
    reply = post_section(client, consultation, "use", {"lfr_purposes": ["none"]})
    assert reply.status_code == 302
    codes = Answer.objects.filter(question__key="lfr_purposes").values_list(
        "option__code", flat=True
    )
    assert list(codes) == ["none"]


def test_more_than_the_maximum_choices_is_refused(client, consultation):
    post_section(client, consultation, "about-you", {})
    too_many = ["mistaken_identity", "bias", "privacy", "chilling_effect"]
    reply = post_section(client, consultation, "impact", {"main_concerns": too_many})
    assert_error(reply, "Select no more than 3 options", "id_main_concerns_1")
    assert not Answer.objects.filter(question__key="main_concerns").exists()


def test_up_to_the_maximum_choices_are_stored_one_row_each(client, consultation):
    post_section(client, consultation, "about-you", {})
    chosen = ["mistaken_identity", "bias", "privacy"]
    reply = post_section(client, consultation, "impact", {"main_concerns": chosen})
    assert reply.status_code == 302
    codes = Answer.objects.filter(question__key="main_concerns").values_list(
        "option__code", flat=True
    )
    assert sorted(codes) == sorted(chosen)


def test_over_long_text_is_refused_and_kept_on_the_page(client, consultation):
    post_section(client, consultation, "about-you", {})
    text = "x" * 2001
    reply = post_section(client, consultation, "safeguards", {"other_safeguards": text})
    page = assert_error(reply, "must be 2,000 characters or fewer", "id_other_safeguards")
    assert text in page  # what was typed is not lost
    assert 'data-module="govuk-character-count"' in page
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert "govuk-textarea" in textarea
    described_by = re.search(r'aria-describedby="([^"]*)"', textarea).group(1).split()
    assert "id_other_safeguards-info" in described_by
    assert "id_other_safeguards_1_error" in described_by
    assert not Answer.objects.filter(question__key="other_safeguards").exists()


def test_text_at_the_limit_is_stored(client, consultation):
    post_section(client, consultation, "about-you", {})
    text = "y" * 2000
    reply = post_section(client, consultation, "safeguards", {"other_safeguards": text})
    assert reply.status_code == 302
    assert Answer.objects.get(question__key="other_safeguards").text == text


def test_blank_text_for_a_required_question_is_refused(client, consultation):
    post_section(client, consultation, "about-you", {"respondent_type": "organisation"})
    reply = client.post(
        section_url(consultation, "your-organisation"),
        {"organisation_name": "   ", "organisation_type": "retailer"},
    )
    assert_error(reply, "organisation", "id_organisation_name")


def test_a_bad_email_address_is_explained(client, consultation):
    post_section(client, consultation, "about-you", {})
    post_section(client, consultation, "publishing", {"publication": "publish_anonymous"})
    reply = client.post(section_url(consultation, "your-details"), {"email": "not an email"})
    assert_error(reply, "Enter an email address in the correct format", "id_email")
    page = reply.content.decode()
    assert 'autocomplete="email"' in page
    assert Response.objects.get().respondent_type == "individual"


def test_every_section_page_has_one_h1_and_fieldsets_with_legends(client, consultation):
    post_section(client, consultation, "about-you", {"respondent_type": "organisation"})
    post_section(client, consultation, "publishing", {"publication": "publish_named"})
    for section in consultation_spec(consultation).sections:
        page = client.get(section_url(consultation, section.key)).content.decode()
        assert page.count("<h1") == 1, section.key
        assert page.count("<fieldset") == page.count("<legend"), section.key
        assert re.search(r"<title>[^<]*" + re.escape(section.title), page), section.key


def test_none_of_these_is_marked_exclusive_after_an_or_divider(client, consultation):
    page = client.get(section_url(consultation, "use")).content.decode()
    none_input = re.search(r'<input[^>]*name="lfr_purposes"[^>]*value="none"[^>]*>', page)
    assert none_input is not None
    assert 'data-behaviour="exclusive"' in none_input.group(0)
    before_none = page[: none_input.start()]
    assert re.search(
        r'govuk-checkboxes__divider">or</div>\s*<div class="govuk-checkboxes__item">\s*$',
        before_none,
    )


def test_line_breaks_count_once_towards_the_limit(client, consultation):
    post_section(client, consultation, "about-you", {})
    text = "\r\n".join(["z" * 39] * 50)  # 1,950 letters and 49 line breaks
    reply = post_section(client, consultation, "safeguards", {"other_safeguards": text})
    assert reply.status_code == 302
    assert Answer.objects.get(question__key="other_safeguards").text == text.replace("\r\n", "\n")
