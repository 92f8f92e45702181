"""Fixtures for the download tests: accounts of each role, and a consultation with known
responses (some withdrawn, some drafts) committed once per test module."""

from __future__ import annotations

from collections.abc import Iterator
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
    ConsultationSpec,
    consultation_spec,
    consultation_spec_forget,
)
from consult.consultations.services import consultation_load
from consult.responses.models import Response, ResponseChannel, ResponseStatus
from tests.analysis.generate import generate
from tests.conftest import BUILT_IN

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
COUNT = 40
WITHDRAW_EVERY = 5
DRAFTS = 3
# Each sent response's channel, in turn.
CHANNELS = [
    ResponseChannel.ONLINE,
    ResponseChannel.POST,
    ResponseChannel.ONLINE,
    ResponseChannel.EMAIL,
    ResponseChannel.PHONE,
]


@dataclass(frozen=True)
class Sent:
    """A generated response still counted: its reference, answers and when it was sent."""

    reference: str
    answers: dict[str, AnswerValue]
    submitted_at: datetime
    channel: str = ResponseChannel.ONLINE

    @property
    def day(self) -> date:
        return self.submitted_at.astimezone(LONDON).date()

    def codes(self, key: str) -> tuple[str, ...]:
        value = self.answers.get(key, ())
        assert isinstance(value, tuple), key
        return value


@dataclass(frozen=True)
class Made:
    consultation: Consultation
    sent: list[Sent]  # counted responses, in the order downloads list them
    withdrawn: list[str]  # references
    drafts: list[str]  # references

    @property
    def spec(self) -> ConsultationSpec:
        return consultation_spec(self.consultation)

    @property
    def slug(self) -> str:
        return self.consultation.slug


@pytest.fixture(scope="module")
def made(django_db_setup, django_db_blocker) -> Iterator[Made]:
    """The built-in consultation with 40 sent responses (every 5th withdrawn) and 3 drafts,
    committed for the whole module (each test runs in its own rolled-back transaction)."""
    with django_db_blocker.unblock():
        consultation = consultation_load(path=BUILT_IN, now=START).consultation
        answers = generate(
            consultation,
            COUNT,
            seed=5,
            start=START,
            withdraw_every=WITHDRAW_EVERY,
            drafts=DRAFTS,
        )
        responses = Response.objects.filter(consultation=consultation)
        counted = list(
            responses.filter(status=ResponseStatus.SUBMITTED)
            .order_by("submitted_at", "pk")
            .values_list("reference", "submitted_at")
        )
        times = [
            START + timedelta(hours=7 * number)
            for number in range(COUNT)
            if number % WITHDRAW_EVERY != WITHDRAW_EVERY - 1
        ]
        assert [at for _, at in counted] == times
        # Every channel: most came online, the rest were keyed in by staff.
        channels = [CHANNELS[number % len(CHANNELS)] for number in range(len(counted))]
        for (reference, _at), channel in zip(counted, channels, strict=True):
            if channel != ResponseChannel.ONLINE:
                Response.objects.filter(reference=reference).update(channel=channel)
        sent = [
            Sent(reference, dict(answer), at, channel)
            for (reference, at), answer, channel in zip(counted, answers, channels, strict=True)
        ]
        withdrawn = list(
            responses.filter(status=ResponseStatus.WITHDRAWN).values_list("reference", flat=True)
        )
        drafts = list(
            responses.filter(status=ResponseStatus.DRAFT).values_list("reference", flat=True)
        )
        assert len(withdrawn) == COUNT // WITHDRAW_EVERY
        assert len(drafts) == DRAFTS
    try:
        yield Made(consultation, sent, withdrawn, drafts)
    finally:
        with django_db_blocker.unblock():
            Response.objects.filter(consultation=consultation).delete()
            consultation.questions.update(condition_question=None)
            consultation.delete()
        consultation_spec_forget()


def user_make(username: str, *roles: str) -> User:
    user = User.objects.create_user(username=username, password="not-used-here")
    user.groups.add(*Group.objects.filter(name__in=roles))
    assert user.groups.count() == len(roles)
    return user


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def analyst(db) -> User:
    return user_make("analyst", Role.ANALYST)


@pytest.fixture
def controller(db) -> User:
    return user_make("controller", Role.DATA_CONTROLLER)


@pytest.fixture
def analyst_client(analyst) -> Client:
    return client_for(analyst)


@pytest.fixture
def controller_client(controller) -> Client:
    return client_for(controller)
