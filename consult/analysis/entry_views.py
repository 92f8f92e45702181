"""Views that key in a response received by post, email or phone: choose the channel and
the date, then the public journey's own sections and check page (its forms and services),
then send it as any other response."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from consult.analysis.access import data_entry_required
from consult.analysis.entry import EntryJourney, entry_forget, entry_load, entry_remember
from consult.analysis.forms import EntryForm
from consult.consultations.models import Consultation, Phase
from consult.consultations.queries import consultation_spec
from consult.responses import services
from consult.responses.forms import SectionForm
from consult.responses.views import (
    check_page,
    missing_links,
    section_or_404,
    section_page,
    section_saved,
)

LAYOUT = "analysis/entry_layout.html"


@data_entry_required
def entry_index(request: HttpRequest) -> HttpResponse:
    consultations = Consultation.objects.exclude(opens_at__gt=timezone.now())
    return render(request, "analysis/entry_index.html", {"consultations": consultations})


@data_entry_required
@require_http_methods(["GET", "POST"])
def entry_start(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    now = timezone.now()
    data = request.POST if request.method == "POST" else None
    form = EntryForm(data, consultation=consultation, now=now)
    if consultation.phase(now) != Phase.UPCOMING and form.is_valid():
        spec = consultation_spec(consultation)
        channel = form.cleaned_data["channel"]
        journey = EntryJourney(
            consultation,
            consultation.phase(now),
            services.draft_start(consultation=consultation, now=now, channel=channel),
            channel=channel,
            received=form.cleaned_data["received"],
            language=form.cleaned_data.get("language", settings.LANGUAGE_CODE),
        )
        entry_remember(request, journey)
        return redirect(journey.section_url(spec.sections[0]))
    context = {
        "consultation": consultation,
        "form": form,
        "upcoming": consultation.phase(now) == Phase.UPCOMING,
        "under_way": entry_load(request, consultation),
    }
    return render(request, "analysis/entry_start.html", context, status=400 if form.errors else 200)


@data_entry_required
@require_http_methods(["GET", "POST"])
def entry_section(request: HttpRequest, slug: str, section_key: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    journey = entry_load(request, consultation)
    if journey is None:
        return redirect("analysis:entry_start", slug=slug)
    spec = consultation_spec(consultation)
    current = section_or_404(spec, section_key)
    answers = journey.answers(spec)
    questions = spec.visible_questions(current, answers)
    if not questions:
        return redirect(journey.next_url(spec, after=current, answers=answers))
    data = request.POST if request.method == "POST" else None
    form = SectionForm(data, questions=questions, answers=answers, on_behalf=True)
    if form.is_valid():
        start_url = reverse("analysis:entry_start", args=[slug])
        return section_saved(request, journey, spec, current, form, sent_url=start_url)
    return section_page(
        request,
        journey,
        spec,
        current,
        form,
        answers,
        layout=LAYOUT,
        entry=journey,
        saving_note="The answers are saved each time you continue. The response is sent only "
        "when you send it from the check page.",
    )


@data_entry_required
@require_http_methods(["GET", "POST"])
def entry_check(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    journey = entry_load(request, consultation)
    if journey is None or journey.received is None:
        return redirect("analysis:entry_start", slug=slug)
    assert journey.response is not None  # noqa: S101 - entry_load gives a draft
    spec = consultation_spec(consultation)
    missing: list[dict[str, str]] = []
    if request.method == "POST":
        now = timezone.now()
        try:
            response = services.response_submit(
                response=journey.response,
                spec=spec,
                now=now,
                site_url=request.build_absolute_uri("/"),
                received_at=services.received_moment(
                    day=journey.received, consultation=consultation, now=now
                ),
                language=journey.language,
            )
        except services.IncompleteResponseError as error:
            missing = missing_links(journey, error)
        else:
            entry_forget(request, consultation)
            messages.success(
                request,
                f"Response {response.reference} sent: received by "
                f"{journey.channel_label.lower()} on {journey.received:%-d %B %Y}",
            )
            return redirect("analysis:entry_start", slug=slug)
    return check_page(
        request,
        journey,
        spec,
        missing=missing,
        layout=LAYOUT,
        entry=journey,
        heading="Check the answers before sending the response",
        submit_label="Send response",
    )
