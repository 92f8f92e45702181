"""The public journey in each offered language: the switch, the page's language, the
consultation's own text and the interface in Welsh, and the language recorded."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from consult.analysis.models import Role
from consult.consultations.queries import consultation_spec
from consult.i18n import LanguageMiddleware
from consult.responses.models import Response
from consult.responses.services import receipt_token
from tests.exports.conftest import client_for, user_make
from tests.exports.readers import fetch, read_csv
from tests.responses.helpers import (
    INDIVIDUAL,
    answer_all,
    check_url,
    document_url,
    section_url,
)

WELSH = {settings.LANGUAGE_COOKIE_NAME: "cy"}


def welsh(client: Client) -> Client:
    client.cookies.load(WELSH)
    return client


def html_lang(page: str) -> str:
    match = re.search(r'<html lang="([^"]*)"', page)
    assert match, page[:200]
    return match.group(1)


def marked_english(page: str) -> list[str]:
    """The text of each element marked lang="en" in the page's content (not the page
    itself, nor the language switch)."""
    return [
        text.strip()
        for tag, text in re.findall(r'<(\w+)[^>]* lang="en"[^>]*>([^<]*)', page)
        if tag != "html" and "English" not in text
    ]


def test_the_switch_link_sets_the_language_and_returns_to_the_same_page(client, consultation):
    url = section_url(consultation, "about-you")

    reply = client.get(f"{url}?lang=cy")

    assert reply.status_code == 302
    assert reply["Location"] == url
    cookie = reply.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "cy"
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_the_switch_keeps_the_rest_of_the_address(client, consultation):
    url = reverse("responses:start", args=[consultation.slug])

    reply = client.get(f"{url}?a=1&lang=cy&b=2&b=3")

    assert reply["Location"] == f"{url}?a=1&b=2&b=3"


@pytest.mark.parametrize("asked", ["fr", "", "cy-gb", "../cy"])
def test_a_language_not_offered_changes_nothing(client, consultation, asked):
    url = reverse("responses:start", args=[consultation.slug])

    reply = client.get(url, {"lang": asked})

    assert reply.status_code == 302
    assert reply["Location"] == url
    assert settings.LANGUAGE_COOKIE_NAME not in reply.cookies


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("//evil.example/", "/evil.example/"),
        # Browsers read a backslash as a slash: "/\\evil.example" would be "//evil.example".
        ("/\\evil.example/", "/%5Cevil.example/"),
        ("/\\/evil.example/", "/%5C/evil.example/"),
        ("/c/caf\u00e9/", "/c/caf%C3%A9/"),
    ],
)
def test_the_switch_never_leads_off_the_site(rf, path, location):
    request = rf.get("/", {"lang": "cy"})
    request.path = path

    reply = LanguageMiddleware(lambda request: HttpResponse())(request)

    assert reply["Location"] == location


def test_english_by_default_with_a_link_to_welsh(client, consultation):
    url = reverse("responses:start", args=[consultation.slug])

    page = client.get(url).content.decode()

    assert html_lang(page) == "en"
    assert "Start now" in page
    assert (
        f'<a href="{url}?lang=cy" class="govuk-header__link consult-language-select__link" '
        'lang="cy" hreflang="cy" rel="alternate">Cymraeg</a>'
    ) in page
    assert '<span aria-current="true" lang="en">English</span>' in page


def test_the_start_page_in_welsh(client, consultation):
    url = reverse("responses:start", args=[consultation.slug])

    reply = welsh(client).get(url)
    page = reply.content.decode()

    assert reply["Content-Language"] == "cy"
    assert html_lang(page) == "cy"
    assert "Dechrau nawr" in page
    assert "Neidio i’r prif gynnwys" in page
    assert "Dweud eich dweud: ymgyngoriadau seneddol" in page
    assert f'<a href="{url}?lang=en"' in page
    assert '<span aria-current="true" lang="cy">Cymraeg</span>' in page


def test_a_section_in_welsh_keeps_the_saved_answers(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    url = section_url(consultation, "about-you")

    page = welsh(client).get(url).content.decode()

    assert "Parhau" in page
    assert re.search(r'value="individual"[^>]*checked', page)


def test_errors_in_welsh(client, consultation):
    url = section_url(consultation, "about-you")
    welsh(client).get(reverse("responses:start", args=[consultation.slug]))

    page = client.post(url, {}).content.decode()

    assert "<title>Gwall: " in page
    assert "Mae problem wedi codi" in page


def test_check_your_answers_in_welsh(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)

    page = welsh(client).get(check_url(consultation)).content.decode()

    assert "Gwiriwch eich atebion cyn anfon eich ymateb" in page
    assert ">Newid<span" in page
    assert "Anfon ymateb" in page


@pytest.mark.parametrize(("cookie", "recorded"), [(None, "en"), ("cy", "cy"), ("en", "en")])
def test_the_response_records_the_language_it_was_sent_in(
    client, consultation, submit, cookie, recorded
):
    answer_all(client, consultation, INDIVIDUAL)
    if cookie:
        client.cookies.load({settings.LANGUAGE_COOKIE_NAME: cookie})

    submit(client, consultation)

    assert Response.objects.get().language == recorded


def test_switching_mid_journey_records_the_last_language(client, consultation, submit):
    welsh(client)
    answer_all(client, consultation, INDIVIDUAL)
    client.get(f"{check_url(consultation)}?lang=en")

    submit(client, consultation)

    assert Response.objects.get().language == "en"


def test_the_analysts_pages_stay_in_english(client, consultation):
    reply = welsh(client).get("/analysis/", follow=True)

    text = reply.content.decode()
    assert reply.redirect_chain  # to the sign-in page
    assert html_lang(text) == "en"
    assert "consult-language-select" not in text


def test_text_left_in_english_on_a_welsh_page_is_marked_as_english(client, consultation):
    del consultation.translations["cy"]["body"]  # as if the translator had not done it yet
    consultation.save(update_fields=["translations"])

    page = welsh(client).get(reverse("responses:start", args=[consultation.slug]))
    text = page.content.decode()

    assert '<h1 class="govuk-heading-xl">Adnabod wynebau byw' in text
    assert '<div lang="en"><div class="consult-prose">' in text
    english = client.get(
        reverse("responses:start", args=[consultation.slug]), {"lang": "en"}, follow=True
    ).content.decode()
    assert 'lang="en"><div class="consult-prose">' not in english


def test_the_supporting_document_page_in_welsh(client, consultation):
    answer_all(client, consultation, INDIVIDUAL | {"respondent_type": "organisation"})

    page = welsh(client).get(document_url(consultation)).content.decode()

    assert "Dogfen ategol (dewisol)" in page
    assert "Uwchlwytho ffeil" in page
    assert "llai na " in page


def test_the_character_count_and_the_divider_speak_welsh(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)

    page = welsh(client).get(section_url(consultation, "impact")).content.decode()

    assert 'data-i18n.characters-under-limit.few="Mae gennych %{count} o nodau yn weddill"' in page
    assert 'data-i18n.characters-under-limit.one="Mae gennych %{count} nod yn weddill"' in page
    assert re.search(r'aria-live="polite">Gallwch roi hyd at [\d,]+ o nodau</span>', page)
    assert "You can enter up to" not in page
    assert '<div class="govuk-checkboxes__divider">neu</div>' in page


def test_the_receipt_and_withdrawal_pages_in_welsh(client, consultation, submit):
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    token = receipt_token(response=Response.objects.get())

    receipt = welsh(client).get(reverse("responses:receipt", args=[token])).content.decode()
    withdraw = client.get(reverse("responses:withdraw", args=[token])).content.decode()

    assert html_lang(receipt) == "cy"
    assert "Newid eich atebion" in receipt
    assert "Tynnu fy ymateb yn ôl" in receipt
    assert "Ydych chi’n siŵr eich bod am dynnu eich ymateb" in withdraw
    assert ">Canslo</a>" in withdraw


def test_questions_left_in_english_on_a_welsh_page_are_marked_as_english(client, consultation):
    welsh_text = consultation.translations["cy"]
    del welsh_text["sections"]["about-you"]["title"]
    del welsh_text["questions"]["respondent_type"]["text"]
    del welsh_text["questions"]["respondent_type"]["options"]["organisation"]
    del welsh_text["questions"]["region"]  # a select: its options too
    consultation.save(update_fields=["translations"])
    answer_all(client, consultation, INDIVIDUAL)

    section = welsh(client).get(section_url(consultation, "about-you")).content.decode()
    check = client.get(check_url(consultation)).content.decode()

    assert '<h1 class="govuk-heading-l" lang="en">About you</h1>' in section
    assert '<span lang="en">Are you responding as an individual' in section
    assert 'for="id_respondent_type_1">Fel unigolyn</label>' in section
    assert 'for="id_respondent_type_2"><span lang="en">On behalf of an organisation' in section
    assert re.search(r'<option value="north_east"[^>]* lang="en">North East', section)
    assert '<h2 class="govuk-heading-m" lang="en">About you</h2>' in check
    assert '<dt class="govuk-summary-list__key" lang="en">Are you responding as' in check
    # Only what is in English is marked: the page is Welsh, its other questions too.
    assert html_lang(section) == "cy"
    assert "Beth yw eich oed? (dewisol)" in section
    region = consultation_spec(consultation).by_key["region"]
    assert marked_english(section) == [
        "About you",
        "Are you responding as an individual or on behalf of an organisation?",
        "On behalf of an organisation",
        region.text,
        region.hint,
        *(option.label for option in region.options),
    ]
    english = client.get(f"{section_url(consultation, 'about-you')}?lang=en", follow=True)
    assert marked_english(english.content.decode()) == []


def test_a_site_in_english_only_has_no_language_switch(client, consultation, settings):
    settings.LANGUAGES = [("en", "English")]  # TRANSLATIONS set empty

    page = client.get(reverse("responses:start", args=[consultation.slug])).content.decode()

    assert html_lang(page) == "en"
    assert "consult-language-select" not in page


def test_analysts_download_each_response_s_language(consultation, submit):
    for language in ("cy", "en"):
        client = Client()
        client.cookies.load({settings.LANGUAGE_COOKIE_NAME: language})
        answer_all(client, consultation, INDIVIDUAL)
        submit(client, consultation)
    analyst = client_for(user_make("analyst", Role.ANALYST))

    _response, body = fetch(analyst, consultation.slug, "csv", "anonymised")

    _header, rows = read_csv(body)
    by_reference = {row["reference"]: row["language"] for row in rows}
    assert by_reference == {
        response.reference: response.language for response in Response.objects.all()
    }
    assert sorted(by_reference.values()) == ["cy", "en"]
