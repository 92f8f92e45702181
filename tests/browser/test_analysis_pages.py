"""The analysts' workspace in a real browser: sign in, then axe on every page, with data."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from consult.analysis.campaigns import campaign_name, consultation_campaigns_detect
from consult.analysis.models import SuggestionRun, SuggestionRunStatus, ThemeSuggestion
from consult.analysis.services import analyst_create
from consult.responses.models import Response
from consult.responses.synthetic import responses_generate
from tests.analysis.conftest import respond
from tests.analysis.generate import generate
from tests.browser.pages import assert_accessible

PASSWORD = "a long enough passphrase for tests"
CAMPAIGN = "Ban live facial recognition in public places now. It treats everyone as a suspect."


def sign_in(page: Page, site: str, *, data_controller: bool = False) -> None:
    analyst_create(username="analyst", email="", password=PASSWORD, data_controller=data_controller)
    page.goto(site + reverse("analysis:index"))
    assert_accessible(page, "a11y-analysis-sign-in")
    page.get_by_label("Username").fill("analyst")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert_accessible(page, "a11y-analysis-sign-in-errors")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("h1")).to_have_text("Analysis workspace")


def test_every_analyst_page_is_accessible(page: Page, site: str, open_consultation):
    generate(open_consultation, 12, start=datetime(2026, 10, 1, tzinfo=UTC), drafts=2)
    sign_in(page, site)
    assert_accessible(page, "a11y-analysis-index")
    slug = open_consultation.slug
    page.get_by_role("link", name=open_consultation.title).click()
    assert_accessible(page, "a11y-analysis-dashboard")

    page.goto(site + reverse("analysis:dashboard", args=[slug]) + "?a=respondent_type:individual")
    expect(page.get_by_text("Matching the filters", exact=True)).to_be_visible()
    assert_accessible(page, "a11y-analysis-dashboard-filtered")
    page.goto(site + reverse("analysis:dashboard", args=[slug]) + "?from=not-a-date")
    assert_accessible(page, "a11y-analysis-dashboard-bad-date")

    crosstab = reverse("analysis:crosstab", args=[slug])
    page.goto(site + crosstab + "?rows=respondent_type&columns=lfr_overall&suppress=3")
    expect(page.locator("table.consult-crosstab")).to_be_visible()
    assert_accessible(page, "a11y-analysis-crosstab")

    free_text = reverse("analysis:free_text", args=[slug, "other_safeguards"])
    page.goto(site + free_text + "?q=police")
    assert_accessible(page, "a11y-analysis-free-text")
    page.get_by_label("Theme name").fill("Oversight")
    page.get_by_role("button", name="Add theme").click()
    expect(page.get_by_text("Theme “Oversight” added")).to_be_visible()
    page.locator("article input[type=checkbox]").first.check()
    page.locator("article").first.get_by_role("button", name="Save themes").click()
    expect(page.get_by_text("Themes saved")).to_be_visible()
    assert_accessible(page, "a11y-analysis-free-text-coded")
    page.get_by_label("Theme name").fill("Oversight")
    page.get_by_role("button", name="Add theme").click()
    assert_accessible(page, "a11y-analysis-theme-errors")


def test_theme_suggestion_pages_are_accessible_and_show_progress(
    page: Page, site: str, open_consultation
):
    responses_generate(
        consultation=open_consultation, count=300, seed=3, now=timezone.now(), batch_size=300
    )
    sign_in(page, site)
    slug = open_consultation.slug
    page.goto(site + reverse("analysis:free_text", args=[slug, "anything_else"]))
    page.get_by_role("link", name="Suggested themes").click()
    expect(page.get_by_text("No themes have been suggested")).to_be_visible()
    assert_accessible(page, "a11y-analysis-suggestions-none")
    page.get_by_label("Number of themes").fill("1")
    page.get_by_role("button", name="Suggest themes").click()
    assert_accessible(page, "a11y-analysis-suggestions-errors")

    # Tests run tasks at once, so the page comes back with the suggestions.
    page.get_by_label("Number of themes").fill("7")
    page.get_by_role("button", name="Suggest themes").click()
    expect(page.get_by_role("heading", name="7 suggestions")).to_be_visible()
    assert_accessible(page, "a11y-analysis-suggestions")
    first = ThemeSuggestion.objects.order_by("number").first()
    page.get_by_role("button", name=f"Accept “{first.name}” as a theme").click()
    expect(page.get_by_text(f"Theme “{first.name}” added to the codebook")).to_be_visible()
    assert_accessible(page, "a11y-analysis-suggestions-accepted")
    second = ThemeSuggestion.objects.filter(status="pending").order_by("number").first()
    page.get_by_label(f"Name of the suggestion “{second.name}”").fill(first.name)
    page.get_by_role("button", name=f"Rename “{second.name}”").click()
    page.get_by_role("button", name=f"Accept “{first.name}” as a theme").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is already a theme")
    assert_accessible(page, "a11y-analysis-suggestions-accept-error")
    page.get_by_role("link", name="Back to the answers").click()
    page.get_by_role("link", name=re.compile("answers given .* not yet reviewed")).click()
    expect(page.get_by_role("heading", name=re.compile("not yet reviewed"))).to_be_visible()
    assert_accessible(page, "a11y-analysis-free-text-unreviewed")

    # A run in progress: the polite live region follows it without reloading the page.
    run = SuggestionRun.objects.create(
        question=open_consultation.questions.get(key="anything_else"),
        themes=8,
        status=SuggestionRunStatus.RUNNING,
        done=10,
        total=100,
        requested_at=timezone.now(),
        started_at=timezone.now(),
        updated_at=timezone.now(),
    )
    page.goto(site + reverse("analysis:suggestions", args=[slug, "anything_else"]))
    status = page.locator("#suggestion-progress")
    expect(status).to_have_text("Finding themes: 10 of 100 answers.")
    assert_accessible(page, "a11y-analysis-suggestions-running")
    SuggestionRun.objects.filter(pk=run.pk).update(done=60)
    expect(status).to_have_text("Finding themes: 60 of 100 answers.")
    SuggestionRun.objects.filter(pk=run.pk).update(
        status=SuggestionRunStatus.FAILED, error="Stopped.", finished_at=timezone.now()
    )
    expect(status).to_contain_text("The run failed at")
    expect(page.locator("#suggestion-refresh")).to_have_text("Refresh the page")


def test_data_subject_request_pages_are_accessible(page: Page, site: str, open_consultation):
    generate(open_consultation, 3, start=datetime(2026, 10, 1, tzinfo=UTC))
    reference = Response.objects.filter(consultation=open_consultation).first().reference
    sign_in(page, site, data_controller=True)
    page.get_by_role("link", name="Data subject requests").click()
    assert_accessible(page, "a11y-analysis-data-requests")
    page.get_by_role("button", name="Find the response").click()
    assert_accessible(page, "a11y-analysis-data-requests-errors")

    page.get_by_label("Response reference").fill(reference.lower())
    page.get_by_role("button", name="Find the response").click()
    expect(page.locator("h1")).to_have_text(f"Response {reference}")
    assert_accessible(page, "a11y-analysis-data-request")
    page.get_by_role("button", name="Download everything held (JSON)").click()
    expect(page.get_by_text("Enter your reference for this request").first).to_be_visible()
    assert_accessible(page, "a11y-analysis-data-request-errors")

    page.get_by_role("link", name="Erase this response").click()
    assert_accessible(page, "a11y-analysis-data-request-erase")
    page.get_by_label("Your reference for this request").fill("DSR-1")
    page.get_by_role("button", name="Erase this response").click()
    assert_accessible(page, "a11y-analysis-data-request-erase-errors")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Erase this response").click()
    expect(page.get_by_text(f"Response {reference} has been erased")).to_be_visible()
    assert_accessible(page, "a11y-analysis-data-requests-erased")
    assert not Response.objects.filter(reference=reference).exists()


@pytest.mark.browser_context_args(viewport={"width": 320, "height": 640})
def test_analyst_pages_fit_a_small_screen(page: Page, site: str, open_consultation):
    generate(open_consultation, 5, start=datetime(2026, 10, 1, tzinfo=UTC))
    sign_in(page, site)
    page.goto(
        site + reverse("analysis:free_text", args=[open_consultation.slug, "other_safeguards"])
    )
    page.get_by_label("Theme name").fill("A theme with quite a long name to wrap")
    page.get_by_role("button", name="Add theme").click()
    page.locator("article input[type=checkbox]").first.check()
    page.locator("article").first.get_by_role("button", name="Save themes").click()
    for url in [
        reverse("analysis:dashboard", args=[open_consultation.slug]),
        reverse("analysis:free_text", args=[open_consultation.slug, "other_safeguards"]),
    ]:
        page.goto(site + url)
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{url} scrolls sideways: {width}"


def test_campaign_pages_are_accessible_and_work_by_keyboard_and_mouse(
    page: Page, site: str, open_consultation
):
    sent = datetime(2026, 10, 1, 12, tzinfo=UTC)
    for text in [CAMPAIGN] * 5 + [f"{CAMPAIGN} Please."] * 2 + ["Only with a warrant."]:
        respond(open_consultation, sent, anything_else=text)
    consultation_campaigns_detect(consultation=open_consultation, now=timezone.now())
    sign_in(page, site)
    page.goto(site + reverse("analysis:dashboard", args=[open_consultation.slug]))
    page.get_by_role("link", name="Campaigns").click()
    assert_accessible(page, "a11y-analysis-campaigns")
    page.get_by_role("link", name=campaign_name(CAMPAIGN)).click()
    assert_accessible(page, "a11y-analysis-campaign")

    page.get_by_role("button", name="Split off into a new campaign").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select the versions of the text to move"
    )
    assert_accessible(page, "a11y-analysis-campaign-errors")
    page.get_by_label("Campaign name").fill("")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a name for the campaign")
    assert_accessible(page, "a11y-analysis-campaign-rename-errors")
    page.get_by_label(f"{CAMPAIGN} Please.").check()
    page.get_by_label("Name of the new campaign").fill("Ban it, politely")
    page.get_by_role("button", name="Split off into a new campaign").click()
    expect(page.locator("h1")).to_have_text("Campaign “Ban it, politely”")
    page.get_by_role("button", name="Confirm this campaign").press("Enter")
    expect(page.get_by_text("Confirmed by analyst")).to_be_visible()
    assert_accessible(page, "a11y-analysis-campaign-confirmed")

    page.goto(site + reverse("analysis:dashboard", args=[open_consultation.slug]))
    page.get_by_text("Filter responses").click()
    page.get_by_label("Campaigns excluded").check()
    page.get_by_role("button", name="Apply filters").click()
    # 8 sent, less the 2 in the confirmed campaign
    expect(page.locator(".govuk-summary-list")).to_contain_text(re.compile(r"filters\s*6"))
    assert_accessible(page, "a11y-analysis-dashboard-campaigns-excluded")
