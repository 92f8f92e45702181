"""The public journey in Welsh, switching language part-way, and changing a sent response
in Welsh, in a real browser; every page checked with axe in the language it is shown in."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from consult.responses.models import Amendment, Answer, Response, ResponseStatus
from consult.responses.services import receipt_token
from tests.browser.pages import (
    answer_page,
    answer_until_check,
    assert_accessible,
    page_slug,
    send_and_get_reference,
)

INDIVIDUAL = {"respondent_type": "individual", "region": "wales", "publication": "publish_named"}
TITLE = {
    "en": "Live facial recognition in public places",
    "cy": "Adnabod wynebau byw mewn mannau cyhoeddus",
}


def switch_to(page: Page, name: str, code: str) -> None:
    """Follow the header's link to the page in another language."""
    before = page.url
    link = page.locator(".consult-language-select").get_by_role("link", name=name)
    assert link.get_attribute("lang") == code
    assert link.get_attribute("hreflang") == code
    link.click()
    expect(page.locator("html")).to_have_attribute("lang", code)
    assert page.url == before  # the same page, not the start


def test_the_whole_journey_in_welsh(page: Page, site: str):
    page.goto(site)
    switch_to(page, "Cymraeg", "cy")
    assert_accessible(page, "cy-home", "cy")
    page.get_by_role("link", name=TITLE["cy"]).click()
    assert_accessible(page, "cy-start", "cy")
    expect(page.locator("h1")).to_have_text(TITLE["cy"])
    page.get_by_role("button", name="Dechrau nawr").click()

    page.get_by_role("button", name="Parhau").click()  # nothing answered
    assert_accessible(page, "cy-errors-about-you", "cy")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Mae problem wedi codi")
    expect(summary).to_contain_text("Dewiswch a ydych yn ymateb fel unigolyn neu ar ran sefydliad")

    for _page_number in range(20):
        if "Gwirio eich atebion" in page.title():
            break
        assert_accessible(page, f"cy-{page_slug(page)}", "cy")
        answer_page(page, INDIVIDUAL, "cy")
    assert_accessible(page, "cy-check-answers", "cy")
    expect(page.locator(".govuk-summary-list__value").first).to_have_text("Fel unigolyn")
    expect(page.get_by_role("link", name="Newid").first).to_be_visible()

    reference = send_and_get_reference(page, "cy")
    assert_accessible(page, "cy-confirmation", "cy")
    response = Response.objects.get(reference=reference)
    assert response.status == ResponseStatus.SUBMITTED
    assert response.language == "cy"
    # Codes are the same whatever the language the question was asked in.
    assert Answer.objects.get(response=response, question__key="region").option.code == "wales"


def test_switching_language_mid_journey_keeps_the_place_and_the_answers(page: Page, site: str):
    page.goto(site)
    page.get_by_role("link", name=TITLE["en"]).click()
    page.get_by_role("button", name="Start now").click()
    answer_page(page, INDIVIDUAL)  # About you, in English
    expect(page.locator("h1")).to_have_text("Whether it should be used")
    assert_accessible(page, "switch-en-use")

    switch_to(page, "Cymraeg", "cy")
    expect(page.locator("h1")).to_have_text("A ddylid ei ddefnyddio")
    assert_accessible(page, "switch-cy-use", "cy")
    page.get_by_role("link", name="Yn ôl").click()
    expect(page.locator("h1")).to_have_text("Amdanoch chi")
    expect(page.get_by_label("Fel unigolyn")).to_be_checked()
    expect(page.locator("select[name=region]")).to_have_value("wales")
    answer_page(page, INDIVIDUAL, "cy")
    answer_page(page, INDIVIDUAL, "cy")  # Whether it should be used, in Welsh

    switch_to(page, "English", "en")
    expect(page.locator("h1")).to_have_text("Safeguards")
    answer_until_check(page, INDIVIDUAL)
    assert_accessible(page, "switch-en-check-answers")
    expect(page.locator(".govuk-summary-list__value").first).to_have_text("As an individual")
    reference = send_and_get_reference(page)
    assert Response.objects.get(reference=reference).language == "en"


def test_changing_a_sent_response_in_welsh(page: Page, site: str, open_consultation):
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    switch_to(page, "Cymraeg", "cy")
    page.get_by_role("button", name="Dechrau nawr").click()
    answer_until_check(page, INDIVIDUAL | {"lfr_overall": "never"}, language="cy")
    reference = send_and_get_reference(page, "cy")
    response = Response.objects.get(reference=reference)
    receipt = site + reverse("responses:receipt", args=[receipt_token(response=response)])

    page.goto(receipt)
    page.get_by_role("link", name="Newid eich atebion").click()
    expect(page.locator("h1")).to_have_text("Gwiriwch eich newidiadau cyn eu cadw")
    assert_accessible(page, "cy-amend-check", "cy")
    page.locator('a[href*="/change/use/"][href$="#id_lfr_overall_1"]').click()
    expect(page.get_by_text("Byddwn yn dal gafael ar eich newidiadau")).to_be_visible()
    assert_accessible(page, "cy-amend-section", "cy")
    page.locator('input[name="lfr_overall"][value="dont_know"]').check()
    page.get_by_role("button", name="Parhau").click()
    expect(page.locator("h1")).to_have_text("Gwiriwch eich newidiadau cyn eu cadw")
    page.get_by_role("button", name="Cadw newidiadau").click()
    expect(page.get_by_text("Mae eich newidiadau wedi cael eu cadw")).to_be_visible()
    assert_accessible(page, "cy-amend-saved", "cy")
    assert Amendment.objects.get(response=response).changed_keys == ["lfr_overall"]

    open_consultation.closes_at = timezone.now() - timedelta(minutes=1)
    open_consultation.save(update_fields=["closes_at"])
    page.goto(receipt + "change/")
    expect(page.locator("h1")).to_have_text("Ni allwch newid yr ymateb hwn")
    assert_accessible(page, "cy-amend-refused", "cy")


def test_the_accessibility_statement_and_a_missing_page_in_welsh(page: Page, site: str):
    page.goto(site + reverse("responses:accessibility"))
    switch_to(page, "Cymraeg", "cy")
    expect(page.locator("h1")).to_have_text("Datganiad hygyrchedd")
    assert_accessible(page, "cy-accessibility", "cy")

    page.goto(site + "/no-such-page/")
    expect(page.locator("h1")).to_have_text("Heb ddod o hyd i’r dudalen")
    assert_accessible(page, "cy-404", "cy")
