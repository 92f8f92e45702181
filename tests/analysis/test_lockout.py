"""Sign-in lockout: repeated wrong passwords lock the account for a while, by username,
without recording where the attempts came from."""

import pytest
from axes.models import AccessAttempt
from django.test import Client, override_settings
from django.urls import reverse

from consult.analysis.services import analyst_create

PASSWORD = "the right passphrase"


@pytest.fixture
def analyst(db):
    return analyst_create(username="kim", email="", password=PASSWORD)


def sign_in(client: Client, password: str):
    return client.post(reverse("analysis:login"), {"username": "kim", "password": password})


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_five_wrong_passwords_lock_the_account_even_with_the_right_one(analyst):
    client = Client()
    for _attempt in range(4):
        reply = sign_in(client, "wrong")
        assert reply.status_code == 200
        assert "Enter a correct username and password" in reply.content.decode()
    locked = sign_in(client, "wrong")
    assert locked.status_code == 429
    assert "Too many sign-in attempts" in locked.content.decode()
    # Even the right password, from another browser, is refused while locked.
    again = sign_in(Client(), PASSWORD)
    assert again.status_code == 429
    attempt = AccessAttempt.objects.get(username="kim")
    assert attempt.ip_address is None  # no client address is stored


@override_settings(AXES_ENABLED=True, AXES_FAILURE_LIMIT=5)
def test_a_right_password_before_the_limit_signs_in_and_resets_the_count(analyst):
    client = Client()
    for _attempt in range(3):
        sign_in(client, "wrong")
    reply = sign_in(client, PASSWORD)
    assert reply.status_code == 302
    assert reply["Location"] == reverse("analysis:index")
    assert not AccessAttempt.objects.filter(username="kim", failures_since_start__gt=0).exists()
