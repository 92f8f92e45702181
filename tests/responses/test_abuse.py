"""The public form keeps out bots without getting in people's way: rate limits under a
daily-rotating hashed key, a honeypot field, and submissions faster than a person."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone

from consult.consultations.queries import consultation_spec
from consult.responses.abuse import client_key
from consult.responses.models import Answer, Response, ResponseStatus
from tests.responses.helpers import INDIVIDUAL, answer_all, check_url, section_post, section_url


@pytest.fixture(autouse=True)
def _fresh_counters(rate_limit_clock_stopped):
    cache.clear()
    yield
    cache.clear()


@override_settings(RESPONSE_STARTS_PER_HOUR=2)
def test_starting_too_many_responses_from_one_connection_is_refused(consultation):
    spec = consultation_spec(consultation)
    data = section_post(spec, "about-you", {})
    for _ in range(2):
        assert Client().post(section_url(consultation, "about-you"), data).status_code == 302
    refused = Client().post(section_url(consultation, "about-you"), data)
    assert refused.status_code == 429
    assert "Too many responses from this connection" in refused.content.decode()
    assert Response.objects.count() == 2
    # Another connection is not affected.
    other = Client(REMOTE_ADDR="192.0.2.44").post(section_url(consultation, "about-you"), data)
    assert other.status_code == 302


@override_settings(RESPONSE_STARTS_PER_HOUR=1)
def test_saving_later_sections_of_one_response_is_not_limited(client, consultation):
    spec = consultation_spec(consultation)
    client.post(section_url(consultation, "about-you"), section_post(spec, "about-you", {}))
    for key in ("use", "safeguards", "impact"):
        reply = client.post(section_url(consultation, key), section_post(spec, key, {}))
        assert reply.status_code == 302, key


@override_settings(RESPONSE_SUBMISSIONS_PER_HOUR=0)
def test_sending_is_limited_too(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    assert client.post(check_url(consultation)).status_code == 429
    assert Response.objects.get().status == ResponseStatus.DRAFT


def test_the_honeypot_field_is_hidden_and_filling_it_stores_nothing(client, consultation):
    spec = consultation_spec(consultation)
    page = client.get(section_url(consultation, "about-you")).content.decode()
    assert 'class="govuk-form-group consult-honeypot"' in page
    assert 'tabindex="-1"' in page
    data = section_post(spec, "about-you", {}) | {"website": "http://spam.example"}
    reply = client.post(section_url(consultation, "about-you"), data)
    assert reply.status_code == 400
    assert not Response.objects.exists()
    assert not Answer.objects.exists()


@override_settings(FASTEST_HUMAN_SECONDS=60)
def test_a_submission_faster_than_a_person_is_held_back_with_a_clear_message(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    reply = client.post(check_url(consultation))
    assert reply.status_code == 400
    page = reply.content.decode()
    assert "<title>Error: " in page
    assert "faster than a person could give them" in page
    assert Response.objects.get().status == ResponseStatus.DRAFT
    # A person who took their time can send the same response.
    Response.objects.update(started_at=timezone.now() - timedelta(minutes=5))
    assert client.post(check_url(consultation)).status_code == 302
    assert Response.objects.get().status == ResponseStatus.SUBMITTED


def test_the_client_key_hides_the_address_and_changes_every_day(settings, monkeypatch):
    request = RequestFactory().post("/", REMOTE_ADDR="203.0.113.9")
    today = client_key("g", request)
    assert "203.0.113.9" not in today
    assert len(today) == 32
    assert client_key("g", request) == today
    tomorrow = timezone.now() + timedelta(days=1)
    monkeypatch.setattr("consult.responses.abuse.timezone.now", lambda: tomorrow)
    assert client_key("g", request) != today
    other = RequestFactory().post("/", REMOTE_ADDR="203.0.113.10")
    assert client_key("g", other) != client_key("g", request)
