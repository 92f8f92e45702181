"""Helpers that answer pages of the journey in a real browser, as a person would."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import SCREENSHOTS

REFERENCE = re.compile(r"FR-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
CHECK_ANSWERS = "Check your answers"
# What the checks below look for, in each language of the public pages.
WORDS = {
    "en": {
        "continue": "Continue",
        "check": CHECK_ANSWERS,
        "send": "Send response",
        "sent": "Response sent",
        "error": "Error: ",
        "service": "Have your say: parliamentary consultations",
    },
    "cy": {
        "continue": "Parhau",
        "check": "Gwirio eich atebion",
        "send": "Anfon ymateb",
        "sent": "Ymateb wedi’i anfon",
        "error": "Gwall: ",
        "service": "Dweud eich dweud: ymgyngoriadau seneddol",
    },
}


def answer_page(page: Page, answers: dict[str, Any], language: str = "en") -> None:
    """Answer every question on the page by clicking and typing, then press Continue.

    A question not in ``answers`` gets its first option, or some text.
    """
    groups = page.eval_on_selector_all(
        "input[type=radio], input[type=checkbox]",
        "inputs => [...new Set(inputs.map(input => input.name))]",
    )
    for name in groups:
        wanted = answers.get(name)
        values = wanted if isinstance(wanted, list) else [wanted] if wanted else []
        if not values:
            page.locator(f'input[name="{name}"]').first.check()
        for value in values:
            page.locator(f'input[name="{name}"][value="{value}"]').check()
    for select in page.locator("select").all():
        name = select.get_attribute("name")
        select.select_option(
            answers.get(name) or select.locator("option").nth(1).get_attribute("value")
        )
    for field in page.locator("input[type=text]:visible, textarea:visible").all():
        name = field.get_attribute("name")
        field.fill(answers.get(name, f"Answer to {name}"))
    for field in page.locator("input[type=email]").all():
        field.fill(answers.get(field.get_attribute("name"), "someone@example.com"))
    page.get_by_role("button", name=WORDS[language]["continue"]).click()


def answer_until_check(
    page: Page, answers: dict[str, Any], shoot: str | None = None, language: str = "en"
) -> None:
    """Answer each page in turn until "Check your answers"."""
    for _page_number in range(20):
        if WORDS[language]["check"] in page.title():
            return
        if shoot:
            screenshot(page, f"{shoot}-{page_slug(page)}")
        answer_page(page, answers, language)
    raise AssertionError("the journey did not reach Check your answers in 20 pages")


def page_slug(page: Page) -> str:
    return page.url.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or "home"


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def send_and_get_reference(page: Page, language: str = "en") -> str:
    page.get_by_role("button", name=WORDS[language]["send"]).click()
    expect(page.locator("h1")).to_have_text(WORDS[language]["sent"])
    reference = page.locator(".govuk-panel__body strong").inner_text()
    assert REFERENCE.fullmatch(reference), reference
    return reference


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0, 2.1 and 2.2 A and AA violations on the page as it stands
    (axe is already in the page: see the ``context`` fixture)."""
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {"id": v["id"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]


def assert_accessible(page: Page, name: str, language: str = "en") -> None:
    """No axe violations, and the checks axe cannot make (see docs/testing.md), on a page
    in ``language``."""
    words = WORDS[language]
    screenshot(page, name)
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"
    assert page.locator("h1").count() == 1, name
    assert page.locator("html").get_attribute("lang") == language
    title = page.title()
    assert title.endswith(f" – {words['service']}"), title
    # The title names the page: its first part shares a word with the page's heading.
    heading_words = set(re.findall(r"\w{4,}", page.locator("h1").inner_text().lower()))
    title_words = set(
        re.findall(r"\w{4,}", title.removeprefix(words["error"]).split(" – ")[0].lower())
    )
    assert heading_words & title_words, (title, heading_words)
    has_errors = page.locator(".govuk-error-summary").count() > 0
    assert title.startswith(words["error"]) == has_errors, title
    ungrouped = page.eval_on_selector_all(
        "input[type=radio], input[type=checkbox]",
        "inputs => inputs.filter(i => !i.closest('fieldset')?.querySelector('legend'))"
        ".map(i => i.id)",
    )
    assert ungrouped == [], name
