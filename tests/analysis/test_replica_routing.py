"""The read replica router: which reads of which requests go to the replica."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from consult import routing
from consult.analysis.models import Theme
from consult.responses.models import Answer, Response
from tests.analysis.conftest import respond
from tests.responses.helpers import INDIVIDUAL, answer_all, check_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def would_read_from(monkeypatch) -> list[tuple[str, str | None]]:
    """The database each read would use, as if a replica were configured; the reads
    themselves still go to the test database (there is no second one here)."""
    monkeypatch.setattr(routing, "replica_configured", lambda: True)
    choices: list[tuple[str, str | None]] = []
    choose = routing.ReplicaRouter.db_for_read

    def record(self, model, **hints):
        choices.append((model._meta.label, choose(self, model, **hints)))

    monkeypatch.setattr(routing.ReplicaRouter, "db_for_read", record)
    return choices


def test_the_router_sends_only_consultation_data_to_the_replica(monkeypatch):
    router = routing.ReplicaRouter()
    monkeypatch.setattr(routing, "replica_configured", lambda: True)
    token = routing._reads_from_replica.set(True)
    try:
        assert router.db_for_read(Answer) == "replica"
        assert router.db_for_read(Response) == "replica"
        assert router.db_for_read(User) is None
        assert router.db_for_read(Session) is None
        assert router.db_for_write(Answer) is None
    finally:
        routing._reads_from_replica.reset(token)
    assert router.db_for_read(Answer) is None  # not marked: the primary
    assert router.allow_migrate("default", "responses")
    assert not router.allow_migrate("replica", "responses")


def test_without_a_replica_everything_reads_from_the_primary():
    token = routing._reads_from_replica.set(True)
    try:
        assert routing.ReplicaRouter().db_for_read(Answer) is None
    finally:
        routing._reads_from_replica.reset(token)


def replica_reads(choices: list[tuple[str, str | None]]) -> set[str]:
    return {label for label, alias in choices if alias == "replica"}


def test_analysts_pages_read_from_the_replica_until_they_change_something(
    consultation, analyst_client, would_read_from, monkeypatch
):
    respond(consultation, consultation.opens_at, other_safeguards="Oversight please")
    dashboard = reverse("analysis:dashboard", args=[consultation.slug])

    assert analyst_client.get(dashboard).status_code == 200
    assert {"responses.OptionTally", "responses.Response"} <= replica_reads(would_read_from)
    assert "auth.User" not in replica_reads(would_read_from)

    would_read_from.clear()
    add_theme = reverse("analysis:theme_add", args=[consultation.slug, "other_safeguards"])
    assert analyst_client.post(add_theme, {"name": "Oversight"}).status_code == 302
    assert replica_reads(would_read_from) == set()
    assert Theme.objects.filter(name="Oversight").exists()

    # Straight after the change, the analyst reads their own write from the primary...
    would_read_from.clear()
    assert analyst_client.get(dashboard).status_code == 200
    assert replica_reads(would_read_from) == set()

    # ... and from the replica again once it has had time to catch up.
    later = routing.time.time() + 31
    monkeypatch.setattr(routing.time, "time", lambda: later)
    would_read_from.clear()
    assert analyst_client.get(dashboard).status_code == 200
    assert "responses.OptionTally" in replica_reads(would_read_from)


def test_the_public_journey_never_reads_from_the_replica(client, consultation, would_read_from):
    now = timezone.now()
    consultation.opens_at, consultation.closes_at = now - timedelta(days=1), now + timedelta(days=1)
    consultation.save()
    assert client.get(reverse("responses:start", args=[consultation.slug])).status_code == 200
    answer_all(client, consultation, INDIVIDUAL)
    assert client.get(check_url(consultation)).status_code == 200
    assert would_read_from
    assert replica_reads(would_read_from) == set()
