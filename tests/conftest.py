"""Fixtures shared by the whole suite."""

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.utils import timezone
from django_ratelimit import core as ratelimit_core

from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec_forget
from consult.consultations.services import consultation_load
from consult.responses import abuse

BUILT_IN = Path(__file__).resolve().parent.parent / (
    "consult/consultations/definitions/facial-recognition.yaml"
)


@pytest.fixture
def consultation(db) -> Consultation:
    """The built-in consultation, open now whatever today's date."""
    loaded = consultation_load(path=BUILT_IN, now=timezone.now()).consultation
    now = timezone.now()
    loaded.opens_at = now - timedelta(days=7)
    loaded.closes_at = now + timedelta(days=30)
    loaded.save(update_fields=["opens_at", "closes_at"])
    return loaded


@pytest.fixture(autouse=True)
def _documents_in_tmp_path(settings, tmp_path):
    """Supporting documents go to the test's own folder, never into the repository."""
    settings.DOCUMENTS_ROOT = tmp_path / "documents"


@pytest.fixture(autouse=True)
def _fresh_consultation_specs():
    """Transactional tests recreate rows whose ids may repeat: start each with no cache."""
    consultation_spec_forget()


def pytest_report_header(config) -> str:
    from django.conf import settings

    return f"database: {settings.DATABASES['default']['ENGINE']}"


@pytest.fixture
def rate_limit_clock_stopped(monkeypatch):
    """Rate limits count in windows (an hour, under a key that changes each day): a test
    that crossed a window's end would start counting again and fail. Their clocks stand
    still for the test; nothing else's does."""
    moment = timezone.now()
    monkeypatch.setattr(abuse, "timezone", SimpleNamespace(now=lambda: moment))
    monkeypatch.setattr(ratelimit_core, "time", SimpleNamespace(time=moment.timestamp))
