"""Changing a sent response from its receipt link, and staff keying in a response received
by post, in a real browser: each page passes axe, with and without errors."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from consult.analysis.models import Role
from consult.responses.models import Amendment, Response, ResponseChannel, ResponseStatus
from consult.responses.services import receipt_token
from tests.analysis.conftest import PASSWORD, user_make
from tests.browser.pages import (
    REFERENCE,
    answer_until_check,
    assert_accessible,
    send_and_get_reference,
)

LONDON = ZoneInfo("Europe/London")
ANSWERS = {
    "respondent_type": "individual",
    "lfr_overall": "never",
    "publication": "publish_anonymous",
}


def test_changing_answers_from_the_receipt(page: Page, site: str, open_consultation):
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    page.get_by_role("button", name="Start now").click()
    answer_until_check(page, ANSWERS)
    reference = send_and_get_reference(page)
    response = Response.objects.get(reference=reference)
    receipt = site + reverse("responses:receipt", args=[receipt_token(response=response)])

    page.goto(receipt)
    page.get_by_role("link", name="Change your answers").click()
    expect(page.locator("h1")).to_have_text("Check your changes before saving them")
    assert_accessible(page, "a11y-amend-check")
    page.locator('a[href*="/change/use/"][href$="#id_lfr_overall_1"]').click()
    assert_accessible(page, "a11y-amend-section")
    page.locator('input[name="lfr_overall"][value="dont_know"]').check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Check your changes before saving them")
    expect(page.get_by_text("Don’t know").first).to_be_visible()

    page.locator('a[href*="/change/your-details/"]').first.click()
    page.locator('input[name="email"]').fill("not an email")
    page.get_by_role("button", name="Continue").click()
    assert page.title().startswith("Error: ")
    assert_accessible(page, "a11y-amend-section-errors")
    page.locator('input[name="email"]').fill("someone@example.com")
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Your changes have been saved")).to_be_visible()
    assert_accessible(page, "a11y-amend-saved")
    amendment = Amendment.objects.get(response=response)
    assert amendment.changed_keys == ["lfr_overall"]
    assert amendment.previous == {"lfr_overall": ["never"]}
    assert Response.objects.get(pk=response.pk).reference == reference

    open_consultation.closes_at = timezone.now() - timedelta(minutes=1)
    open_consultation.save(update_fields=["closes_at"])
    page.goto(receipt + "change/")
    expect(page.locator("h1")).to_have_text("You cannot change this response")
    assert_accessible(page, "a11y-amend-refused")


def test_staff_key_in_a_letter(page: Page, site: str, open_consultation):
    Group.objects.get_or_create(name=Role.DATA_ENTRY)  # an earlier test's flush removed it
    user_make("clerk", Role.DATA_ENTRY)
    page.goto(site + reverse("analysis:login"))
    page.get_by_label("Username").fill("clerk")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Key in a response")
    assert_accessible(page, "a11y-entry-index")
    page.get_by_role("link", name=open_consultation.title).click()
    assert_accessible(page, "a11y-entry-start")
    page.get_by_role("button", name="Continue").click()
    assert page.title().startswith("Error: ")
    expect(page.get_by_text("Select how the response was received").first).to_be_visible()
    assert_accessible(page, "a11y-entry-start-errors")

    page.get_by_label("Post").check()
    received = timezone.now().astimezone(LONDON).date() - timedelta(days=1)
    page.get_by_label("Date it was received").fill(received.isoformat())
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("You are keying in response")).to_be_visible()
    assert_accessible(page, "a11y-entry-section")
    answer_until_check(page, ANSWERS)
    assert_accessible(page, "a11y-entry-check")
    page.get_by_role("button", name="Send response").click()
    banner = page.locator(".govuk-notification-banner__heading")
    expect(banner).to_contain_text("received by post")
    assert_accessible(page, "a11y-entry-sent")
    reference = REFERENCE.search(banner.inner_text()).group(0)
    entered = Response.objects.get(reference=reference)
    assert (entered.status, entered.channel) == (ResponseStatus.SUBMITTED, ResponseChannel.POST)
    assert entered.submitted_at.astimezone(LONDON).date() == received
