"""Fixtures and helpers for the analysts' workspace: accounts, known responses and the
counts the database should report, computed here in Python from the generated answers."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from consult.analysis.models import Role
from consult.consultations.models import Consultation
from consult.consultations.queries import (
    AnswerValue,
    consultation_spec,
    consultation_spec_forget,
)
from consult.consultations.services import consultation_load
from consult.responses import services
from consult.responses.models import Response
from tests.analysis.generate import generate
from tests.conftest import BUILT_IN

LONDON = ZoneInfo("Europe/London")
# Ten days before the clocks go back (25 October 2026): steps of 7 hours reach every hour
# of the day on both sides of the change from BST to GMT; the 4th and 28th responses are
# sent at 23:00 UTC in summer time, which is the next day in the UK.
START = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"

AnswerMap = Mapping[str, AnswerValue]


@dataclass(frozen=True)
class Sent:
    """A generated response still counted: its answers and when it was sent."""

    answers: AnswerMap
    submitted_at: datetime

    @property
    def day(self) -> date:
        return self.submitted_at.astimezone(LONDON).date()


def generate_sent(
    consultation: Consultation,
    count: int,
    *,
    seed: int = 1,
    start: datetime = START,
    withdraw_every: int = 0,
    drafts: int = 0,
) -> list[Sent]:
    """``generate``, with each counted response's submission time (start + 7h * number,
    the withdrawn numbers left out) beside its answers."""
    answers = generate(
        consultation,
        count,
        seed=seed,
        start=start,
        withdraw_every=withdraw_every,
        drafts=drafts,
    )
    times = [
        start + timedelta(hours=7 * number)
        for number in range(count)
        if not (withdraw_every and number % withdraw_every == withdraw_every - 1)
    ]
    assert len(times) == len(answers)
    return [Sent(a, t) for a, t in zip(answers, times, strict=True)]


@contextmanager
def shared_responses(
    django_db_blocker, count: int, **options
) -> Iterator[tuple[Consultation, list[Sent]]]:
    """The built-in consultation with ``count`` generated responses, committed once for a
    whole test module (tests then run in their own transactions, rolled back), and
    deleted afterwards."""
    with django_db_blocker.unblock():
        consultation = consultation_load(path=BUILT_IN, now=START).consultation
        sent = generate_sent(consultation, count, **options)
    try:
        yield consultation, sent
    finally:
        with django_db_blocker.unblock():
            Response.objects.filter(consultation=consultation).delete()
            consultation.questions.update(condition_question=None)
            consultation.delete()
        consultation_spec_forget()


def user_make(username: str, *roles: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD)
    user.groups.add(*Group.objects.filter(name__in=roles))
    assert user.groups.count() == len(roles)
    return user


@pytest.fixture
def analyst(db) -> User:
    return user_make("analyst", Role.ANALYST)


@pytest.fixture
def analyst_client(analyst) -> Client:
    client = Client()
    client.force_login(analyst)
    return client


def respond(consultation: Consultation, now: datetime, **given: AnswerValue) -> Response:
    """Send one response through the journey's services: the ``given`` answers, and the
    first option (or a few words) for every other required question shown."""
    spec = consultation_spec(consultation)
    response = services.draft_start(consultation=consultation, now=now)
    answers: dict[str, AnswerValue] = {}
    for section in spec.sections:
        values: dict[str, AnswerValue] = {}
        for parent in spec.visible_questions(section, answers):
            for question in parent.rows or (parent,):
                if question.key in given:
                    values[question.key] = given[question.key]
                elif question.required:
                    values[question.key] = (
                        (question.options[0].code,) if question.options else "Some words"
                    )
        if values:
            answers = services.section_save(
                response=response, spec=spec, section=section, values=values, now=now
            )
    return services.response_submit(response=response, spec=spec, now=now, site_url="/")


# ---------------------------------------------------------------- expected, in Python


def codes(sent: Sent, key: str) -> tuple[str, ...]:
    value = sent.answers.get(key, ())
    assert isinstance(value, tuple), key
    return value


def option_counts(responses: Iterable[Sent], key: str) -> Counter[str]:
    return Counter(code for sent in responses for code in codes(sent, key))


def answered(responses: Iterable[Sent], key: str) -> int:
    return sum(1 for sent in responses if sent.answers.get(key))


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def matching(
    responses: Iterable[Sent],
    *,
    answers: Mapping[str, set[str]] | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Sent]:
    """The responses a filter should select: any of the codes of each question (OR), every
    question (AND), sent between the UK dates ``start`` and ``end``, both included."""

    def selected(sent: Sent) -> bool:
        if start and sent.day < start:
            return False
        if end and sent.day > end:
            return False
        return all(set(codes(sent, key)) & wanted for key, wanted in (answers or {}).items())

    return [sent for sent in responses if selected(sent)]


def words_match(text: str, terms: Iterable[str]) -> bool:
    """Whether every term starts some word of the text, ignoring case."""
    words = [word.casefold() for word in re.findall(r"[^\W_]+", text)]
    return all(any(word.startswith(term.casefold()) for word in words) for term in terms)


@pytest.fixture
def sent_factory(consultation) -> Callable[..., list[Sent]]:
    def make(count: int, **options) -> list[Sent]:
        return generate_sent(consultation, count, **options)

    return make
