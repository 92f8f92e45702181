"""Two-factor sign-in: a password alone does not open the workspace."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from consult.analysis.services import analyst_create, totp_enrol

PASSWORD = "the right passphrase"
pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst():
    return analyst_create(username="sam", email="", password=PASSWORD)


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def sign_in(client: Client, **fields: str):
    return client.post(
        reverse("analysis:login"), {"username": "sam", "password": PASSWORD} | fields
    )


@override_settings(OTP_REQUIRED=True)
def test_a_password_without_the_code_is_refused(analyst):
    totp_enrol(user=analyst)
    reply = sign_in(Client())
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "<title>Error: " in page
    assert "Enter the 6-digit code from your authenticator app" in page
    assert 'autocomplete="one-time-code"' in page


@override_settings(OTP_REQUIRED=True)
def test_a_wrong_code_is_refused(analyst):
    device = totp_enrol(user=analyst)
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    reply = sign_in(Client(), otp_token=wrong)
    assert "The code is not right" in reply.content.decode()


@override_settings(OTP_REQUIRED=True)
def test_the_password_and_the_current_code_open_the_workspace(analyst):
    device = totp_enrol(user=analyst)
    client = Client()
    reply = sign_in(client, otp_token=code_for(device))
    assert reply.status_code == 302
    assert client.get(reverse("analysis:index")).status_code == 200


@override_settings(OTP_REQUIRED=True)
def test_an_account_without_an_authenticator_cannot_sign_in(analyst):
    reply = sign_in(Client(), otp_token="123456")
    assert "has no authenticator app set up" in reply.content.decode()


@override_settings(OTP_REQUIRED=True)
def test_a_session_without_the_second_factor_is_sent_to_sign_in(analyst):
    client = Client()
    client.force_login(analyst)  # a password-only session
    reply = client.get(reverse("analysis:index"))
    assert reply.status_code == 302
    assert reply["Location"].startswith(reverse("analysis:login"))


def test_the_enrol_command_prints_a_setup_key_once_and_refuses_a_second_device(analyst):
    out = StringIO()
    call_command("enrol_totp", "sam", stdout=out)
    device = TOTPDevice.objects.get(user=analyst)
    assert "otpauth://totp/" in out.getvalue()
    assert "setup key:" in out.getvalue()
    with pytest.raises(CommandError, match="--replace"):
        call_command("enrol_totp", "sam", stdout=StringIO())
    call_command("enrol_totp", "sam", "--replace", stdout=StringIO())
    assert TOTPDevice.objects.get(user=analyst).pk != device.pk


def test_create_analyst_sets_up_the_authenticator(monkeypatch):
    monkeypatch.setenv("NEW_PASSWORD", PASSWORD)
    out = StringIO()
    call_command("create_analyst", "robin", "--password-env", "NEW_PASSWORD", stdout=out)
    assert "otpauth://totp/" in out.getvalue()
    assert TOTPDevice.objects.filter(user__username="robin", confirmed=True).exists()
