"""The load tests' checks find the problems they look for, so "no problems" means
something. Fast: no server, no database (these run in the ordinary suite too)."""

import random
from collections import Counter

import pytest

from tests.load.checks import (
    PERSONAL_COLUMNS,
    Stored,
    confirmed_problems,
    consistency_problems,
    counts_differ,
)
from tests.load.client import Answers, Journey, Plan, answer_choose
from tests.load.server import DEFINITION


@pytest.fixture(scope="module")
def plan() -> Plan:
    return Plan.read(DEFINITION)


def walk(plan: Plan, given: Answers) -> Answers:
    """Answers to every shown question, section by section, with some given."""
    rng = random.Random(1)
    answers: Answers = {}
    section = plan.following(None, answers)
    while section is not None:
        for question in plan.shown(section, answers):
            value = given.get(question.key, answer_choose(question, rng, serial=1))
            if value:
                answers[question.key] = value
        section = plan.following(section, answers)
    return answers


def stored(plan: Plan, answers: Answers, *, status: str = "submitted") -> Stored:
    """A response as the database would hold these answers."""
    personal = {
        column: str(answers.get(q.key, ""))
        for profile, column in PERSONAL_COLUMNS.items()
        if (q := plan.by_profile(profile)) is not None
    }
    personal_keys = {q.key for p in PERSONAL_COLUMNS if (q := plan.by_profile(p)) is not None}
    rows: dict[str, list[str | None]] = {
        key: list(value) if isinstance(value, tuple) else [value]
        for key, value in answers.items()
        if key not in personal_keys
    }
    return Stored(
        reference="FR-2222-3333",
        status=status,
        has_submitted_at=status != "draft",
        respondent_type=str(answers.get("respondent_type", ("",))[0]),
        publication=str(answers.get("publication", ("",))[0]),
        has_respondent=True,
        personal=personal,
        rows=rows,
    )


ORGANISATION = {"respondent_type": ("organisation",), "publication": ("publish_named",)}


def test_a_whole_response_has_no_problems(plan):
    answers = walk(plan, ORGANISATION)
    assert "organisation_name" in answers
    assert "name" in answers
    assert consistency_problems(plan, stored(plan, answers)) == []


def test_a_draft_with_its_first_sections_has_no_problems(plan):
    answers = walk(plan, ORGANISATION)
    first_two = {q.key for s in plan.sections[:2] for q in s.questions}
    draft = {k: v for k, v in answers.items() if k in first_two}
    assert consistency_problems(plan, stored(plan, draft, status="draft")) == []


def test_a_half_stored_section_is_found(plan):
    answers = walk(plan, ORGANISATION)
    del answers["safeguard_importance__public_notice"]
    (problem,) = consistency_problems(plan, stored(plan, answers, status="draft"))
    assert "section safeguards half stored" in problem


def test_a_section_stored_after_a_missing_one_is_found(plan):
    answers = walk(plan, ORGANISATION)
    use = {q.key for q in plan.sections[2].questions}
    later = {k: v for k, v in answers.items() if k not in use}
    problems = consistency_problems(plan, stored(plan, later, status="draft"))
    assert "section safeguards stored, but not use before it" in "\n".join(problems)


def test_a_submitted_response_without_its_last_section_is_found(plan):
    given = {"respondent_type": ("individual",), "publication": ("publish_named",), "email": ""}
    answers = walk(plan, given)
    del answers["name"]
    assert consistency_problems(plan, stored(plan, answers, status="draft")) == []
    (problem,) = consistency_problems(plan, stored(plan, answers))
    assert "submitted without required answers ['name']" in problem


def test_an_optional_answer_without_the_required_ones_of_its_section_is_found(plan):
    answers = walk(plan, {"publication": ("publish_named",), "email": "a@example.com"})
    del answers["name"]
    (problem,) = consistency_problems(plan, stored(plan, answers, status="draft"))
    assert "section your-details half stored: no answer to ['name']" in problem


def test_hidden_answers_personal_answers_and_wrong_copies_are_found(plan):
    answers = walk(plan, {"respondent_type": ("individual",)})
    response = stored(plan, answers)
    response.rows["organisation_type"] = ["police"]
    response.rows["email"] = ["someone@example.com"]
    response.publication = "do_not_publish" if response.publication != "do_not_publish" else ""
    problems = "\n".join(consistency_problems(plan, response))
    assert "answer to organisation_type, which its condition hides" in problems
    assert "personal detail email stored as an answer" in problems
    assert "response row says publication" in problems


def test_confirmed_responses_must_be_stored_once_sent_and_as_posted(plan):
    answers = walk(plan, ORGANISATION)
    journeys = [Journey(1, dict(answers), "FR-2222-3333"), Journey(2, {}, "FR-4444-5555")]
    response = stored(plan, answers)
    assert (
        confirmed_problems(
            plan, journeys[:1], {response.reference: response}, Counter([response.reference])
        )
        == []
    )

    response.rows["feel_safer"] = [
        "much_less_safe" if answers["feel_safer"] != ("much_less_safe",) else "much_safer"
    ]
    response.status = "draft"
    problems = "\n".join(
        confirmed_problems(
            plan,
            [*journeys, Journey(3, {}, "FR-4444-5555")],
            {response.reference: response},
            Counter([response.reference]),
        )
    )
    assert "FR-4444-5555 was shown to 2 journeys" in problems
    assert "FR-4444-5555 is in the database 0 times" in problems
    assert "FR-2222-3333 was confirmed but is draft" in problems
    assert "differs from what was posted at feel_safer" in problems


def test_running_counts_that_differ_from_the_answers_are_found():
    kept = {(1, 10): 5, (1, 11): 2, (2, 20): 1}
    counted = {(1, 10): 5, (1, 11): 3, (3, 30): 4}
    assert counts_differ("option", kept, counted) == [
        "option (1, 11): kept 2, counted 3",
        "option (2, 20): kept 1, counted 0",
        "option (3, 30): kept 0, counted 4",
    ]
    assert counts_differ("option", kept, dict(kept)) == []
