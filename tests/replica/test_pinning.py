"""When the replica router pins a session to the primary, and what it never reads from the
replica: the rules the live test (test_live_replica.py, with the load tests) found
wanting, kept in the ordinary suite."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from consult import routing
from consult.analysis.models import Role, SubjectRequestRecord, Theme
from consult.exports.api import api_token_create
from consult.exports.models import ApiToken, DownloadRecord
from tests.analysis.conftest import PASSWORD, respond, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def replica_chosen(monkeypatch) -> list[str]:
    """As if DATABASE_REPLICA_URL were set: the models whose reads would go to the
    replica. The reads themselves still go to the one test database."""
    monkeypatch.setattr(routing, "replica_configured", lambda: True)
    chosen: list[str] = []
    choose = routing.ReplicaRouter.db_for_read

    def record(self, model, **hints):
        if choose(self, model, **hints) == routing.REPLICA:
            chosen.append(model._meta.label)

    monkeypatch.setattr(routing.ReplicaRouter, "db_for_read", record)
    return chosen


def pinned(client: Client) -> bool:
    return routing.PINNED_UNTIL in client.session


def test_signing_in_changes_no_consultation_data_so_does_not_pin(replica_chosen):
    user_make("analyst", Role.ANALYST)
    client = Client()
    reply = client.post(reverse("analysis:login"), {"username": "analyst", "password": PASSWORD})
    assert reply.status_code == 302
    assert client.session.get("_auth_user_id")
    assert not pinned(client)


def test_a_post_that_changes_nothing_does_not_pin_and_one_that_does_pins(
    consultation, replica_chosen
):
    client = Client()
    client.force_login(user_make("analyst", Role.ANALYST))
    add_theme = reverse("analysis:theme_add", args=[consultation.slug, "other_safeguards"])

    assert client.post(add_theme, {"name": ""}).status_code == 400
    assert not pinned(client)
    assert client.post(add_theme, {"name": "Oversight"}).status_code == 302
    assert Theme.objects.filter(name="Oversight").exists()
    assert pinned(client)


def test_a_get_that_records_something_pins(consultation, replica_chosen):
    response = respond(consultation, consultation.opens_at)
    client = Client()
    client.force_login(user_make("controller", Role.ANALYST, Role.DATA_CONTROLLER))
    page = client.get(reverse("analysis:subject_request", args=[response.reference]))
    assert page.status_code == 200
    assert SubjectRequestRecord.objects.filter(reference=response.reference).exists()
    assert "responses.Response" in replica_chosen
    assert pinned(client)  # so the log the data controller opens next shows this view


def test_the_choice_ends_with_the_request(consultation, replica_chosen):
    """Nothing run in the thread after a request (the next request's first middleware,
    a command, a test) reads from the replica because that request did."""
    client = Client()
    client.force_login(user_make("analyst", Role.ANALYST))
    assert client.get(reverse("analysis:dashboard", args=[consultation.slug])).status_code == 200
    assert replica_chosen  # during the request
    assert not routing._reads_from_replica.get()


def test_api_tokens_are_never_read_from_the_replica(monkeypatch):
    monkeypatch.setattr(routing, "replica_configured", lambda: True)
    router = routing.ReplicaRouter()
    token = routing._reads_from_replica.set(True)
    try:
        assert router.db_for_read(ApiToken) is None  # the primary
        assert router.db_for_read(DownloadRecord) == routing.REPLICA
    finally:
        routing._reads_from_replica.reset(token)


def test_api_requests_leave_no_session_behind(consultation, replica_chosen):
    """Recording a token's use is a write, but not to consultation data: no session is
    made for a script that sends no cookie."""
    user = user_make("scripter", Role.ANALYST)
    secret = api_token_create(user=user, name="R", now=consultation.opens_at)
    client = Client()
    reply = client.get(reverse("api:consultations"), headers={"Authorization": f"Bearer {secret}"})
    assert reply.status_code == 200
    assert "consultations.Consultation" in replica_chosen
    assert "exports.ApiToken" not in replica_chosen
    assert ApiToken.objects.get(user=user).last_used_at is not None
    assert settings.SESSION_COOKIE_NAME not in reply.cookies
