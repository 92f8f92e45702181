"""The public journey in each offered language: the switch, the page's language, the
consultation's own text and the interface in Welsh, the language recorded, the receipt
email in the response's language, and the pages around the journey (changing answers, the
accessibility statement, the error pages, the upload errors) in Welsh."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django import forms
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.template import loader
from django.test import Client
from django.urls import reverse
from django.utils import formats, timezone, translation

from consult.analysis.models import Role
from consult.consultations.queries import consultation_spec
from consult.i18n import LanguageMiddleware
from consult.responses import services
from consult.responses.models import Response
from consult.responses.services import receipt_token
from tests.analysis.conftest import respond, user_make
from tests.exports.readers import fetch, read_csv
from tests.responses.documents import PNG, docx_bytes, pdf_bytes
from tests.responses.helpers import (
    INDIVIDUAL,
    answer_all,
    check_url,
    document_url,
    section_post,
    section_url,
)
from tests.responses.test_documents import encrypted_odt

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


def test_the_closing_date_reads_as_each_language_writes_it(client, consultation):
    consultation.closes_at = datetime(2026, 12, 26, 23, 59, tzinfo=UTC)
    consultation.save(update_fields=["closes_at"])
    url = reverse("responses:start", args=[consultation.slug])

    english = client.get(url).content.decode()
    welsh_page = welsh(client).get(url).content.decode()

    assert "closes at 11:59p.m. on Saturday 26 December 2026." in english
    # Welsh says "ar ddydd Sadwrn", a mutation no date format writes: no weekday.
    assert "am 11:59y.h. ar 26 Rhagfyr 2026." in welsh_page
    assert "Dydd" not in welsh_page


def test_dates_typed_by_staff_are_read_as_the_uk_writes_them():
    field = forms.DateField()

    assert field.clean("01/02/2026") == date(2026, 2, 1)  # 1 February, not 2 January
    assert field.clean("2026-02-01") == date(2026, 2, 1)


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


def test_an_attached_document_s_type_is_in_welsh(client, consultation):
    answer_all(client, consultation, INDIVIDUAL | {"respondent_type": "organisation"})
    upload = SimpleUploadedFile("paper.docx", docx_bytes())
    assert client.post(document_url(consultation), {"document": upload}).status_code == 302

    document_page = welsh(client).get(document_url(consultation)).content.decode()
    check = client.get(check_url(consultation)).content.decode()

    for page in (document_page, check):
        assert "paper.docx" in page
        assert "Dogfen Word (DOCX)" in page
        assert "Word document" not in page


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


def test_the_receipt_s_times_end_no_sentence_in_either_language(client, consultation, submit):
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    url = reverse("responses:receipt", args=[receipt_token(response=Response.objects.get())])

    english = client.get(url).content.decode()
    welsh_page = welsh(Client()).get(url).content.decode()

    assert re.search(r"You sent this response at \d+:\d\d[ap]\.m\. on \d+ \w+ \d{4}\.", english)
    assert re.search(r"Anfonoch yr ymateb hwn am \d+:\d\d\S+ ar \d+ \w+ \d{4}\.", welsh_page)
    assert "m.." not in english
    assert "h.." not in welsh_page


def test_a_title_left_in_english_is_marked_wherever_it_is_shown(client, consultation):
    del consultation.translations["cy"]["title"]
    consultation.save(update_fields=["translations"])
    answer_all(client, consultation, INDIVIDUAL)
    title = f'lang="en">{consultation.title}<'

    home = welsh(client).get(reverse("responses:home")).content.decode()
    section = client.get(section_url(consultation, "about-you")).content.decode()
    check = client.get(check_url(consultation)).content.decode()

    assert title in home
    assert f'<span lang="en">{consultation.title}</span>' in section  # after "Rhan 1 o 7:"
    assert f'<span class="govuk-caption-l" {title}' in check


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
    analyst = Client()
    analyst.force_login(user_make("analyst", Role.ANALYST))

    _response, body = fetch(analyst, consultation.slug, "csv", "anonymised")

    _header, rows = read_csv(body)
    by_reference = {row["reference"]: row["language"] for row in rows}
    assert by_reference == {
        response.reference: response.language for response in Response.objects.all()
    }
    assert sorted(by_reference.values()) == ["cy", "en"]


# ------------------------------------------------------------------ changing the answers


@pytest.fixture
def sent_in_welsh(client, consultation, submit) -> str:
    """A response sent from Welsh pages; the receipt's token."""
    welsh(client)
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    return receipt_token(response=Response.objects.get())


def test_changing_the_answers_in_welsh(client, consultation, sent_in_welsh):
    token = sent_in_welsh
    check = client.get(reverse("responses:amend", args=[token])).content.decode()
    section_page = client.get(reverse("responses:amend_section", args=[token, "use"]))
    section = section_page.content.decode()

    assert html_lang(check) == "cy"
    assert "Gwiriwch eich newidiadau cyn eu cadw" in check
    assert "Nawr cadwch eich newidiadau" in check
    assert ">Cadw newidiadau</button>" in check
    assert ">Canslo heb gadw</a>" in check
    assert "Check your changes" not in check
    assert "Save changes" not in check
    assert "Byddwn yn dal gafael ar eich newidiadau" in section
    assert "Your changes are kept" not in section


def test_the_notice_after_saving_changes_is_in_welsh(client, consultation, sent_in_welsh):
    token = sent_in_welsh
    receipt = reverse("responses:receipt", args=[token])
    amend = reverse("responses:amend", args=[token])
    spec = consultation_spec(consultation)
    client.post(amend)
    unchanged = client.get(receipt).content.decode()
    client.post(
        reverse("responses:amend_section", args=[token, "use"]),
        section_post(spec, "use", {"lfr_overall": "dont_know"}),
    )
    client.post(amend)
    changed = client.get(receipt).content.decode()

    assert "Ni wnaethoch newid unrhyw atebion" in unchanged
    assert "You did not change any answers" not in unchanged
    assert "Mae eich newidiadau wedi cael eu cadw" in changed
    assert "Your changes have been saved" not in changed


@pytest.mark.parametrize(
    ("how", "welsh_phrase", "english_phrase"),
    [
        ("withdrawn", "Gwnaethoch dynnu eich ymateb", "You withdrew your response"),
        ("closed", "Ni ellir newid atebion mwyach", "Answers can no longer be changed"),
    ],
)
def test_changing_refused_in_welsh_and_in_english(
    client, consultation, sent_in_welsh, how, welsh_phrase, english_phrase
):
    token = sent_in_welsh
    if how == "closed":
        consultation.closes_at = timezone.now() - timedelta(minutes=1)
        consultation.save(update_fields=["closes_at"])
    else:
        services.response_withdraw(response=Response.objects.get(), now=timezone.now())
    url = reverse("responses:amend", args=[token])

    cymraeg = client.get(url)
    english = Client().get(url)

    assert cymraeg.status_code == english.status_code == 403
    assert "Ni allwch newid yr ymateb hwn" in cymraeg.content.decode()
    assert welsh_phrase in cymraeg.content.decode()
    assert "You cannot change this response" not in cymraeg.content.decode()
    assert english_phrase in english.content.decode()
    assert "Ni allwch newid" not in english.content.decode()


# ---------------------------------------------------------------------- the receipt email


@pytest.mark.parametrize(
    ("cookie", "subject", "said", "not_said"),
    [
        (
            "cy",
            "Eich ymateb i “Adnabod wynebau byw mewn mannau cyhoeddus”: ",
            ["Diolch am ymateb i “Adnabod wynebau byw", "Eich cyfeirnod yw FR-"],
            "Thank you",
        ),
        (
            "en",
            "Your response to “Live facial recognition in public places”: ",
            ["Thank you for responding to “Live facial recognition", "Your reference is FR-"],
            "Diolch",
        ),
    ],
)
def test_the_receipt_email_is_in_the_language_the_response_was_sent_in(
    client, consultation, submit, cookie, subject, said, not_said
):
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: cookie})
    answer_all(client, consultation, INDIVIDUAL)

    submit(client, consultation)

    (email,) = mail.outbox
    response = Response.objects.get()
    assert email.subject == subject + response.reference
    for phrase in said:
        assert phrase in email.body
    assert not_said not in email.body
    with translation.override(cookie):
        closes = formats.date_format(timezone.localtime(consultation.closes_at), "j F Y")
    assert f" {closes}, " in email.body  # the month in the email's language
    assert translation.get_language() == settings.LANGUAGE_CODE


@pytest.mark.parametrize(("language", "phrase"), [("cy", "Diolch am ymateb"), ("en", "Thank you")])
def test_the_receipt_email_keeps_its_language_whatever_the_thread_and_restores_it(
    consultation, language, phrase
):
    response = respond(consultation, timezone.now() - timedelta(hours=1))
    response.language = language
    other = "en" if language == "cy" else "cy"

    with translation.override(other):
        services.receipt_send(response=response, email="ada@example.com", site_url="http://x/")
        assert translation.get_language() == other

    assert phrase in mail.outbox[0].body


# ---------------------------------------------------------------- the accessibility statement


def test_the_accessibility_statement_in_welsh_and_in_english(client, db):
    url = reverse("responses:accessibility")

    english = client.get(url).content.decode()
    cymraeg = welsh(client).get(url).content.decode()

    assert html_lang(cymraeg) == "cy"
    assert '<h1 class="govuk-heading-xl">Datganiad hygyrchedd</h1>' in cymraeg
    assert "Pa mor hygyrch yw’r wefan hon" in cymraeg
    assert "chwyddo hyd at 400% heb" in cymraeg
    assert "How accessible this website is" not in cymraeg
    assert "How accessible this website is" in english
    assert "zoom in up to 400% without" in english
    assert "Pa mor hygyrch" not in english


# ------------------------------------------------------------------------- the error pages


def test_a_missing_public_page_in_welsh_and_in_english(client, db):
    english = client.get("/no-such-page/")
    cymraeg = welsh(client).get("/no-such-page/")

    assert english.status_code == cymraeg.status_code == 404
    assert '<h1 class="govuk-heading-l">Page not found</h1>' in english.content.decode()
    page = cymraeg.content.decode()
    assert html_lang(page) == "cy"
    assert "Heb ddod o hyd i’r dudalen" in page
    assert "Page not found" not in page


def test_a_missing_page_raised_by_a_public_view_is_in_welsh(client, consultation):
    reply = welsh(client).get(section_url(consultation, "no-such-section"))

    assert reply.status_code == 404
    assert "Heb ddod o hyd i’r dudalen" in reply.content.decode()


@pytest.mark.parametrize(
    "url", ["/analysis/no/such/page/", "/analysis/no-such-consultation/", "/api/v1/nothing/"]
)
def test_a_missing_page_in_the_workspace_is_in_english_whatever_the_cookie(client, db, url):
    client.force_login(user_make("analyst", Role.ANALYST))

    reply = welsh(client).get(url)

    page = reply.content.decode()
    assert reply.status_code == 404
    assert reply["Content-Language"] == "en"
    assert html_lang(page) == "en"
    assert "Page not found" in page
    assert "Heb ddod o hyd" not in page


def test_an_unreadable_post_gets_the_400_page_in_welsh(client, consultation):
    url = section_url(consultation, "about-you")

    reply = welsh(client).post(
        url,
        b"respondent_type=individual",
        content_type="application/x-www-form-urlencoded; charset=latin-1",
    )

    assert reply.status_code == 400
    page = reply.content.decode()
    assert "Mae’n ddrwg gennym, nid oedd modd darllen yr hyn a anfonwyd" in page
    assert "could not read" not in page


def test_a_refused_csrf_token_gets_the_403_page_in_welsh(consultation):
    client = welsh(Client(enforce_csrf_checks=True))

    reply = client.post(section_url(consultation, "about-you"), {})

    assert reply.status_code == 403
    page = reply.content.decode()
    assert html_lang(page) == "cy"
    assert "Mae’n ddrwg gennym, nid oedd modd anfon y ffurflen" in page
    assert "could not be sent" not in page
    english = Client(enforce_csrf_checks=True).post(section_url(consultation, "about-you"), {})
    assert "Sorry, the form could not be sent" in english.content.decode()


@pytest.mark.parametrize(
    ("cookie", "said", "not_said"),
    [
        ("cy", "Mae’n ddrwg gennym, mae problem gyda’r gwasanaeth", "Sorry"),
        (None, "Sorry, there is a problem with the service", "Mae’n ddrwg"),
    ],
)
def test_a_server_error_on_a_public_page_is_in_the_chosen_language(
    consultation, monkeypatch, cookie, said, not_said
):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("consult.responses.views.consultation_spec", broken)
    client = Client(raise_request_exception=False)
    if cookie:
        welsh(client)

    reply = client.get(reverse("responses:start", args=[consultation.slug]))

    assert reply.status_code == 500
    page = reply.content.decode()
    assert said in page
    assert not_said not in page
    assert html_lang(page) == (cookie or "en")


def test_the_server_error_page_needs_no_context_and_no_database():
    # No database fixture: a query would fail the test.
    with translation.override("cy"):
        page = loader.get_template("500.html").render()

    assert '<html lang="cy">' in page
    assert "Rhowch gynnig arall arni yn nes ymlaen" in page


# ---------------------------------------------------------------------- the upload errors


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("scan.pdf", lambda: PNG, "Rhaid i’r ffeil a ddewiswyd fod yn PDF, DOCX neu ODT"),
        ("paper.pdf", lambda: b"", "Mae’r ffeil a ddewiswyd yn wag"),
        ("paper.odt", encrypted_odt, "Mae’r ffeil a ddewiswyd wedi’i diogelu gan gyfrinair"),
        (
            "paper.pdf",
            lambda: pdf_bytes() + b"%" * 4096,
            "Rhaid i’r ffeil a ddewiswyd fod yn llai na 2KB",
        ),
    ],
)
def test_each_upload_error_in_welsh(client, consultation, settings, name, make, message):
    settings.DOCUMENT_MAX_BYTES = 2048
    answer_all(client, consultation, INDIVIDUAL | {"respondent_type": "organisation"})
    upload = SimpleUploadedFile(name, make())

    reply = welsh(client).post(document_url(consultation), {"document": upload})

    assert reply.status_code == 400
    page = reply.content.decode()
    assert page.count(message) == 2  # in the error summary and by the field
    assert "The selected file" not in page
