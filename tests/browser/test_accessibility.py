"""axe-core (WCAG 2.0, 2.1 and 2.2, A and AA) on every public page, and what axe cannot see."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page

from consult.consultations.queries import consultation_spec
from consult.responses.models import Response
from consult.responses.services import receipt_token
from tests.analysis.generate import generate
from tests.browser.pages import (
    CHECK_ANSWERS,
    answer_page,
    answer_until_check,
    assert_accessible,
    axe_violations,
    send_and_get_reference,
)

ORGANISATION = {
    "respondent_type": "organisation",
    "organisation_type": "retailer",
    "publication": "publish_named",
}


def test_information_pages(page: Page, site: str, open_consultation):
    for name, path in [
        ("home", reverse("responses:home")),
        ("start", reverse("responses:start", args=[open_consultation.slug])),
        ("privacy", reverse("responses:privacy", args=[open_consultation.slug])),
        ("accessibility", reverse("responses:accessibility")),
    ]:
        page.goto(site + path)
        assert_accessible(page, f"a11y-{name}")


def test_every_section_with_and_without_errors_then_check_and_confirmation(
    page: Page, site: str, open_consultation
):
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    page.get_by_role("button", name="Start now").click()
    sections = [section.key for section in consultation_spec(open_consultation).sections]
    visited = []
    for _page_number in range(len(sections) + 1):  # and the organisation's document page
        if CHECK_ANSWERS in page.title():
            break
        key = page.url.rstrip("/").rsplit("/", 1)[-1]
        if key == "supporting-document":  # its errors: tests/browser/test_documents.py
            assert_accessible(page, "a11y-supporting-document")
            page.get_by_role("button", name="Continue").click()
            continue
        visited.append(key)
        assert_accessible(page, f"a11y-section-{key}")
        page.get_by_role("button", name="Continue").click()
        if page.locator(".govuk-error-summary").count():
            assert_accessible(page, f"a11y-section-{key}-errors")
        answer_page(page, ORGANISATION)
    # Every section was shown, optional ones (no errors) included.
    assert visited == sections
    assert_accessible(page, "a11y-check-answers")
    send_and_get_reference(page)
    assert_accessible(page, "a11y-confirmation")


def test_check_answers_with_missing_answers(page: Page, site: str, open_consultation):
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    page.get_by_role("button", name="Start now").click()
    answer_page(page, ORGANISATION)
    page.goto(site + reverse("responses:check", args=[open_consultation.slug]))
    page.get_by_role("button", name="Send response").click()
    assert page.title().startswith("Error: ")
    assert_accessible(page, "a11y-check-answers-errors")


def test_receipt_and_withdrawal(page: Page, site: str, open_consultation):
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    page.get_by_role("button", name="Start now").click()
    answer_until_check(page, ORGANISATION)
    reference = send_and_get_reference(page)
    token = receipt_token(response=Response.objects.get(reference=reference))
    page.goto(site + reverse("responses:receipt", args=[token]))
    assert_accessible(page, "a11y-receipt")
    page.get_by_role("link", name="Withdraw my response").click()
    assert_accessible(page, "a11y-withdraw-confirm")
    page.get_by_role("button", name="Withdraw my response").click()
    assert_accessible(page, "a11y-withdrawn")
    page.goto(site + reverse("responses:receipt", args=["not-a-real-token"]))
    assert_accessible(page, "a11y-receipt-invalid")


@pytest.mark.parametrize(
    ("name", "opens", "closes"),
    [("closed", -30, -1), ("not-yet-open", 2, 30)],
)
def test_closed_and_not_yet_open_pages(
    page: Page, site: str, open_consultation, name, opens, closes
):
    now = timezone.now()
    open_consultation.opens_at = now + timedelta(days=opens)
    open_consultation.closes_at = now + timedelta(days=closes)
    open_consultation.save()
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    assert_accessible(page, f"a11y-start-{name}")
    page.goto(site + reverse("responses:section", args=[open_consultation.slug, "about-you"]))
    assert_accessible(page, f"a11y-{name}")


def test_page_not_found(page: Page, site: str):
    page.goto(site + "/c/no-such-consultation/")
    assert_accessible(page, "a11y-not-found")


def test_name_and_email_say_what_they_hold(page: Page, site: str, open_consultation):
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    page.get_by_role("button", name="Start now").click()
    for _page_number in range(10):
        if page.locator("#id_email").count():
            break
        answer_page(page, ORGANISATION)
    assert page.locator("#id_email").get_attribute("autocomplete") == "email"
    assert page.locator("#id_email").get_attribute("type") == "email"
    assert page.locator("#id_name").get_attribute("autocomplete") == "name"


def test_the_checker_finds_known_problems(page: Page, site: str):
    """Guards the guard: axe, as the tests run it, reports what it should."""
    page.goto(site + reverse("responses:accessibility"))
    page.set_content("<html><body><img src='x.png'><input type='text'></body></html>")
    found = {violation["id"] for violation in axe_violations(page)}
    assert {"html-has-lang", "image-alt", "label"} <= found


def test_published_results(page: Page, site: str, open_consultation):
    generate(open_consultation, 15, start=datetime(2026, 10, 1, tzinfo=UTC))
    open_consultation.closes_at = timezone.now() - timedelta(days=1)
    open_consultation.results_published_at = timezone.now()
    open_consultation.save()
    page.goto(site + reverse("responses:start", args=[open_consultation.slug]))
    page.get_by_role("link", name="Read the published results").click()
    assert_accessible(page, "a11y-published-results")
