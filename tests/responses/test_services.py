"""The journey's services called directly, as management commands and other apps will."""

from datetime import timedelta

import pytest
from django.utils import timezone

from consult.consultations.queries import consultation_spec
from consult.responses import services
from consult.responses.models import Answer, Response, ResponseStatus
from consult.responses.services import REFERENCE_ALPHABET, reference_new


def test_references_are_short_unambiguous_and_varied():
    references = {reference_new(prefix="FR") for _ in range(2000)}
    assert len(references) == 2000
    for reference in references:
        prefix, first, second = reference.split("-")
        assert prefix == "FR"
        assert len(first) == len(second) == 4
        assert set(first + second) <= set(REFERENCE_ALPHABET)
    assert not set("01ILOU") & set(REFERENCE_ALPHABET)


def test_a_sent_response_cannot_be_changed_by_a_stale_page(consultation):
    now = timezone.now()
    spec = consultation_spec(consultation)
    response = services.draft_start(consultation=consultation, now=now)
    about = spec.section("about-you")
    values = {"respondent_type": ("individual",), "region": ("wales",), "age_band": ()}
    services.section_save(response=response, spec=spec, section=about, values=values, now=now)
    Response.objects.filter(pk=response.pk).update(
        status=ResponseStatus.SUBMITTED, submitted_at=now
    )
    with pytest.raises(services.ResponseNotDraftError):
        services.section_save(
            response=response,
            spec=spec,
            section=about,
            values=values | {"region": ("london",)},
            now=now,
        )
    assert Answer.objects.get(question__key="region").option.code == "wales"


def test_submitting_twice_keeps_the_first_submission_time(consultation):
    now = timezone.now()
    spec = consultation_spec(consultation)
    response = services.draft_start(consultation=consultation, now=now)
    Response.objects.filter(pk=response.pk).update(
        status=ResponseStatus.SUBMITTED, submitted_at=now
    )
    later = now + timedelta(minutes=5)
    again = services.response_submit(response=response, spec=spec, now=later, site_url="/")
    assert again.submitted_at == now
