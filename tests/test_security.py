"""Security settings and headers: what production promises, checked on real responses."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from consult.analysis.services import analyst_create

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_the_deployment_check():
    # A production environment: none of the development or test switches (the browser
    # tests set DJANGO_ALLOW_ASYNC_UNSAFE for themselves).
    test_only = {"DEBUG", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in test_only}
    env |= {
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "consult.example.org",
        "DJANGO_SETTINGS_MODULE": "consult.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def assert_security_headers(reply) -> None:
    policy = reply["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    assert reply["X-Content-Type-Options"] == "nosniff"
    assert reply["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert reply["X-Frame-Options"] == "DENY"
    assert "camera=()" in reply["Permissions-Policy"]
    assert "geolocation=()" in reply["Permissions-Policy"]
    assert reply["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/accessibility/",
        "/c/facial-recognition/",
        "/c/facial-recognition/section/about-you/",
        "/c/facial-recognition/privacy/",
        "/analysis/sign-in/",
    ],
)
def test_public_pages_send_the_security_headers(client, consultation, url):
    reply = client.get(url, secure=True)
    assert reply.status_code == 200
    assert_security_headers(reply)


@pytest.mark.parametrize("name", ["analysis:index", "analysis:dashboard"])
def test_analyst_pages_send_the_security_headers(client, consultation, name):
    user = analyst_create(username="sec", email="", password="a long enough passphrase")
    client.force_login(user)
    kwargs = {"slug": consultation.slug} if name != "analysis:index" else {}
    reply = client.get(reverse(name, kwargs=kwargs), secure=True)
    assert reply.status_code == 200
    assert_security_headers(reply)


def test_plain_http_is_redirected_to_https_in_production(client, consultation, settings):
    settings.SECURE_SSL_REDIRECT = True
    reply = client.get("/c/facial-recognition/")
    assert reply.status_code == 301
    assert reply["Location"].startswith("https://")


def test_cookies_are_secure_and_http_only(client, consultation):
    from consult.consultations.queries import consultation_spec
    from tests.responses.helpers import section_post, section_url

    spec = consultation_spec(consultation)
    client.get(section_url(consultation, "about-you"), secure=True)
    reply = client.post(
        section_url(consultation, "about-you"),
        section_post(spec, "about-you", {}),
        secure=True,
    )
    for name in ("sessionid", "csrftoken"):
        cookie = reply.cookies.get(name) or client.cookies[name]
        assert cookie["secure"], name
        assert cookie["httponly"], name
