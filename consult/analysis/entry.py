"""Keying in a response received by post, email or phone: the public journey's sections
and check page at addresses of the workspace, with the draft, its channel and the date it
was received kept in the staff member's session (one per consultation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from consult.consultations.models import Consultation
from consult.consultations.queries import SectionSpec
from consult.responses.journey import Journey
from consult.responses.models import ResponseChannel, ResponseStatus
from consult.responses.queries import response_get

SESSION_KEY = "consult.entries"


@dataclass
class EntryJourney(Journey):
    channel: str = ResponseChannel.POST
    received: date | None = None
    language: str = field(default_factory=lambda: settings.LANGUAGE_CODE)

    def section_url(self, section: SectionSpec) -> str:
        return reverse("analysis:entry_section", args=[self.consultation.slug, section.key])

    def check_url(self) -> str:
        return reverse("analysis:entry_check", args=[self.consultation.slug])

    def start_url(self) -> str:
        return reverse("analysis:entry_start", args=[self.consultation.slug])

    def document_url(self) -> None:
        return None  # a position paper sent by post or email is kept with the letter

    @property
    def channel_label(self) -> str:
        return str(ResponseChannel(self.channel).label)


def entry_load(request: HttpRequest, consultation: Consultation) -> EntryJourney | None:
    """The response this person is keying in for the consultation, if one is under way."""
    held = request.session.get(SESSION_KEY, {}).get(consultation.slug)
    now = timezone.now()
    if not held:
        return None
    response = response_get(response_id=held["response"], consultation_id=consultation.pk)
    if response is None or response.status != ResponseStatus.DRAFT:
        return None
    response.consultation = consultation
    return EntryJourney(
        consultation,
        consultation.phase(now),
        response,
        channel=response.channel,
        received=date.fromisoformat(held["received"]),
        language=held.get("language", settings.LANGUAGE_CODE),
    )


def entry_remember(request: HttpRequest, journey: EntryJourney) -> None:
    assert journey.response is not None  # noqa: S101 - the view started the draft
    assert journey.received is not None  # noqa: S101 - and asked when it was received
    held = dict(request.session.get(SESSION_KEY, {}))
    held[journey.consultation.slug] = {
        "response": str(journey.response.pk),
        "received": journey.received.isoformat(),
        "language": journey.language,
    }
    request.session[SESSION_KEY] = held


def entry_forget(request: HttpRequest, consultation: Consultation) -> None:
    held = dict(request.session.get(SESSION_KEY, {}))
    held.pop(consultation.slug, None)
    request.session[SESSION_KEY] = held
