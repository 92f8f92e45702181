"""Real-browser fixtures: Debian's chromium, driven by Playwright, against a live server.

Needs: chromium (`apt-get install chromium`), the stylesheet (`make static`) and axe-core
(`npm ci`). Without them these tests are skipped with a message saying what to install;
`.ci/run` installs everything, so nothing is skipped in CI.
"""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from consult.consultations.models import Consultation
from consult.consultations.services import consultation_load
from tests.conftest import BUILT_IN

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
STYLESHEET = ROOT / "build" / "static" / "consult" / "consult.css"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-output" / "screenshots"

# Playwright's sync API runs an event loop in the test's thread; the database calls the
# tests make between browser steps are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"browser tests need chromium at {CHROMIUM}: apt-get install chromium"
    if not STYLESHEET.exists():
        return "browser tests need the built stylesheet: make static"
    if not AXE.exists():
        return "browser tests need axe-core from npm: npm ci"
    return None


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if problem := _missing():
        pytest.skip(problem)
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


@pytest.fixture
def open_consultation(transactional_db) -> Consultation:
    """The built-in consultation, open now, in a database the live server can see."""
    consultation = consultation_load(path=BUILT_IN, now=timezone.now()).consultation
    now = timezone.now()
    consultation.opens_at = now - timedelta(days=7)
    consultation.closes_at = now + timedelta(days=30)
    consultation.save(update_fields=["opens_at", "closes_at"])
    return consultation


@pytest.fixture
def site(live_server, open_consultation) -> str:
    """The live server's address, with the consultation loaded."""
    return live_server.url


@pytest.fixture
def context(context):
    """Every page gets axe-core before its own scripts, injected by the browser itself, so
    the site's Content Security Policy (no inline scripts) stays in force for the tests."""
    context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
def page(page):
    """A page that fails the test if the site's own content breaks its security policy."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    assert refused == [], refused
