"""Fixtures for the public journey."""

from collections.abc import Callable

import pytest
from django.test import Client

from consult.consultations.models import Consultation
from tests.responses.helpers import check_url


@pytest.fixture
def submit(django_capture_on_commit_callbacks) -> Callable[[Client, Consultation], object]:
    """POST "Send response", running what waits for the commit (the receipt email)."""

    def post(client: Client, consultation: Consultation):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(check_url(consultation))

    return post
