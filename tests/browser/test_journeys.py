"""Whole journeys in a real browser: mouse, keyboard, errors, returning, changing, no JS."""

import re

import pytest
from playwright.sync_api import Page, expect

from consult.responses.models import Answer, Response, ResponseStatus
from tests.browser.pages import (
    CHECK_ANSWERS,
    REFERENCE,
    answer_page,
    answer_until_check,
    screenshot,
    send_and_get_reference,
)

INDIVIDUAL = {"respondent_type": "individual", "region": "wales", "publication": "publish_named"}
ORGANISATION = INDIVIDUAL | {"respondent_type": "organisation", "organisation_type": "retailer"}


def start(page: Page, site: str) -> None:
    page.goto(site)
    page.get_by_role("link", name="Live facial recognition in public places").click()
    page.get_by_role("button", name="Start now").click()


def test_full_response_with_the_mouse(page: Page, site: str):
    page.goto(site)
    screenshot(page, "home")
    page.get_by_role("link", name="Live facial recognition in public places").click()
    expect(page.locator("body")).to_have_class(re.compile("govuk-frontend-supported"))
    screenshot(page, "start")
    page.get_by_role("button", name="Start now").click()
    answer_until_check(page, ORGANISATION, shoot="mouse")
    screenshot(page, "check-answers")
    reference = send_and_get_reference(page)
    screenshot(page, "confirmation")
    response = Response.objects.get(reference=reference)
    assert response.status == ResponseStatus.SUBMITTED
    assert response.respondent_type == "organisation"
    assert Answer.objects.filter(response=response, question__key="organisation_type").exists()


FOCUS_IS_VISIBLE = """() => {
  const el = document.activeElement;
  const target = (el.type === 'radio' || el.type === 'checkbox') ? el.labels[0] : el;
  const style = getComputedStyle(target, target === el ? null : '::before');
  const own = getComputedStyle(el);
  return [style, own].some(s => (s.outlineStyle !== 'none' && s.outlineWidth !== '0px')
    || (s.boxShadow && s.boxShadow !== 'none'));
}"""

DESCRIBE_FOCUS = """() => {
  const el = document.activeElement;
  return {tag: el.tagName, type: el.type || '', name: el.name || '', id: el.id || '',
          text: (el.innerText || '').trim(), checked: !!el.checked, value: el.value || ''};
}"""


ACTIVE_TEXT = "(document.activeElement.innerText || '').trim()"


def keyboard_answer_page(page: Page) -> None:
    """Tab through the page, answering each question with the keyboard, then press Continue."""
    seen_groups: set[str] = set()
    previous = None
    for _press in range(400):
        page.keyboard.press("Tab")
        focus = page.evaluate(DESCRIBE_FOCUS)
        assert focus != previous, f"focus did not move: keyboard trap at {focus}"
        previous = focus
        if focus["tag"] != "BODY":
            assert page.evaluate(FOCUS_IS_VISIBLE), f"focus is not visible on {focus}"
        if focus["tag"] == "BUTTON" and focus["text"] == "Continue":
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return
        if focus["type"] in {"radio", "checkbox"} and focus["name"] not in seen_groups:
            seen_groups.add(focus["name"])
            page.keyboard.press("Space")
        elif focus["tag"] == "SELECT":
            page.keyboard.press("ArrowDown")
        elif focus["tag"] == "TEXTAREA" or focus["type"] in {"text", "email"}:
            text = "kb@example.com" if focus["type"] == "email" else "Typed with a keyboard"
            page.keyboard.type(text)
    raise AssertionError("never reached the Continue button")


def test_full_response_with_the_keyboard_alone(page: Page, site: str):
    page.goto(site)
    for _press in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE_TEXT) == "Live facial recognition in public places":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _press in range(60):
        page.keyboard.press("Tab")
        if "Start now" in page.evaluate(ACTIVE_TEXT):
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    for _page_number in range(20):
        if CHECK_ANSWERS in page.title():
            break
        assert "Error" not in page.title(), page.title()
        keyboard_answer_page(page)
    assert CHECK_ANSWERS in page.title()
    for _press in range(400):
        page.keyboard.press("Tab")
        if page.evaluate(ACTIVE_TEXT) == "Send response":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Response sent")
    assert REFERENCE.fullmatch(page.locator(".govuk-panel__body strong").inner_text())
    assert Response.objects.get().status == ResponseStatus.SUBMITTED


def test_an_error_is_corrected_through_the_error_summary(page: Page, site: str):
    start(page, site)
    page.get_by_role("button", name="Continue").click()
    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    screenshot(page, "errors-about-you")
    summary.get_by_role("link", name=re.compile("individual or on behalf")).click()
    expect(page.locator("#id_respondent_type_1")).to_be_focused()
    page.keyboard.press("Space")
    page.get_by_label("Where do you live?").select_option("london")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h1")).to_have_text("Whether it should be used")
    assert Response.objects.get().respondent_type == "individual"


def test_leave_after_section_two_and_continue_later(page: Page, site: str):
    start(page, site)
    answer_page(page, INDIVIDUAL)  # About you
    answer_page(page, INDIVIDUAL)  # Whether it should be used
    expect(page.locator("h1")).to_have_text("Safeguards")
    page.goto("about:blank")

    page.goto(site)
    page.get_by_role("link", name="Live facial recognition in public places").click()
    page.get_by_role("button", name="Continue your response").click()
    expect(page.locator("h1")).to_have_text("Safeguards")
    answer_until_check(page, INDIVIDUAL)
    send_and_get_reference(page)
    assert Response.objects.count() == 1


def test_changing_an_answer_from_check_answers_removes_a_conditional_question(
    page: Page, site: str
):
    start(page, site)
    answer_until_check(page, ORGANISATION)
    expect(page.get_by_role("heading", name="Your organisation")).to_be_visible()
    page.get_by_role("link", name=re.compile("Change.*individual or on behalf")).click()
    page.get_by_label("As an individual").check()
    page.get_by_role("button", name="Continue").click()
    assert CHECK_ANSWERS in page.title()
    expect(page.get_by_role("heading", name="Your organisation")).to_have_count(0)
    reference = send_and_get_reference(page)
    response = Response.objects.get(reference=reference)
    assert response.respondent_type == "individual"
    assert not Answer.objects.filter(response=response, question__key="organisation_type").exists()
    assert response.respondent.organisation_name == ""


@pytest.mark.browser_context_args(java_script_enabled=False)
def test_a_response_without_javascript(page: Page, site: str):
    start(page, site)
    # The page's own script would mark the body; with JavaScript off it never runs.
    assert "govuk-frontend-supported" not in (page.locator("body").get_attribute("class") or "")
    answer_until_check(page, INDIVIDUAL, shoot="nojs")
    reference = send_and_get_reference(page)
    assert Response.objects.get(reference=reference).status == ResponseStatus.SUBMITTED


@pytest.mark.parametrize(
    "label",
    [
        pytest.param(
            "320px",
            marks=pytest.mark.browser_context_args(viewport={"width": 320, "height": 640}),
        ),
        # 200% zoom of a 1280 pixel window: half the CSS pixels, each drawn twice as large.
        pytest.param(
            "zoom-200",
            marks=pytest.mark.browser_context_args(
                viewport={"width": 640, "height": 400}, device_scale_factor=2
            ),
        ),
    ],
)
def test_no_horizontal_scrolling_on_small_screens_and_zoom(page: Page, site: str, label: str):
    start(page, site)
    for _page_number in range(20):
        scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert scroll[0] <= scroll[1], f"{page.url} scrolls sideways: {scroll}"
        screenshot(page, f"{label}-{page.url.rstrip('/').rsplit('/', 1)[-1]}")
        if CHECK_ANSWERS in page.title():
            break
        answer_page(page, INDIVIDUAL)
    send_and_get_reference(page)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
