"""Views of the public journey: each validates, calls a service, then redirects or renders."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from consult.consultations.models import Consultation, Phase
from consult.consultations.queries import (
    AnswerMap,
    ConsultationSpec,
    SectionSpec,
    consultation_spec,
)
from consult.responses import services
from consult.responses.abuse import too_many
from consult.responses.documents import size_in_words
from consult.responses.forms import DocumentForm, SectionForm
from consult.responses.journey import (
    Journey,
    amend_forget,
    amend_hold,
    amend_journey_load,
    check_answers_rows,
    field_anchor,
    journey_forget,
    journey_load,
    journey_remember,
)
from consult.responses.models import Response, ResponseStatus
from consult.responses.queries import (
    document_section,
    receipt_response,
    response_answer_map,
    response_document,
)


def home(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    consultations = list(Consultation.objects.all())
    by_phase = {phase: [c for c in consultations if c.phase(now) == phase] for phase in Phase}
    return render(request, "responses/home.html", {"by_phase": by_phase})


def accessibility(request: HttpRequest) -> HttpResponse:
    return render(request, "responses/accessibility.html")


def start(request: HttpRequest, slug: str) -> HttpResponse:
    journey = journey_load(request, slug)
    spec = consultation_spec(journey.consultation, get_language())
    context = {
        "consultation": journey.consultation,
        "phase": journey.phase,
        "first_section": spec.sections[0],
        "resume_url": journey.resume_url(spec),
        "sent": journey.response if journey.has_sent() else None,
    }
    return render(request, "responses/start.html", context)


def privacy(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    return render(request, "responses/privacy.html", {"consultation": consultation})


@require_http_methods(["GET", "POST"])
def section(request: HttpRequest, slug: str, section_key: str) -> HttpResponse:
    journey = journey_load(request, slug)
    if blocked := _closed_or_done(request, journey):
        return blocked
    spec = consultation_spec(journey.consultation, get_language())
    current = section_or_404(spec, section_key)
    answers = journey.answers(spec)
    questions = spec.visible_questions(current, answers)
    if not questions:
        return redirect(journey.next_url(spec, after=current, answers=answers))
    data = request.POST if request.method == "POST" else None
    form = SectionForm(data, questions=questions, answers=answers)
    if form.is_valid():
        if journey.response is None:
            if too_many(
                request, group="response-start", per_hour=settings.RESPONSE_STARTS_PER_HOUR
            ):
                return rate_limited(request)
            journey.response = services.draft_start(
                consultation=journey.consultation, now=timezone.now()
            )
            journey_remember(request, journey)
        sent_url = reverse("responses:confirmation", args=[slug])
        return section_saved(request, journey, spec, current, form, sent_url=sent_url)
    return section_page(request, journey, spec, current, form, answers)


def section_saved(
    request: HttpRequest,
    journey: Journey,
    spec: ConsultationSpec,
    current: SectionSpec,
    form: SectionForm,
    *,
    sent_url: str,
) -> HttpResponse:
    """Save a valid section's answers to the journey's draft and go on, for any journey
    that saves as it goes; to ``sent_url`` if the draft was sent meanwhile."""
    assert journey.response is not None  # noqa: S101 - the caller has a draft
    try:
        answers = services.section_save(
            response=journey.response,
            spec=spec,
            section=current,
            values=form.answer_values(),
            now=timezone.now(),
        )
    except services.ResponseNotDraftError:
        return redirect(sent_url)
    return redirect(journey_onward(request, journey, spec, current, answers))


def section_or_404(spec: ConsultationSpec, section_key: str) -> SectionSpec:
    current = spec.section(section_key)
    if current is None:
        raise Http404("The consultation has no section with that name")
    return current


def journey_onward(
    request: HttpRequest,
    journey: Journey,
    spec: ConsultationSpec,
    current: SectionSpec,
    answers: AnswerMap,
) -> str:
    """Where a section's "Continue" leads: back to "Check your answers" (or the first
    question still to answer) when it was reached from there, else the next section."""
    if request.GET.get("return") == "check":
        return journey.first_gap_url(spec, answers)
    return journey.next_url(spec, after=current, answers=answers)


def section_page(
    request: HttpRequest,
    journey: Journey,
    spec: ConsultationSpec,
    current: SectionSpec,
    form: SectionForm,
    answers: AnswerMap,
    **extra: Any,
) -> HttpResponse:
    """A section's questions, for any journey (``extra`` goes to the template)."""
    visible = spec.visible_sections(answers)
    back_url = (
        journey.check_url()
        if request.GET.get("return") == "check"
        else journey.previous_url(spec, before=current, answers=answers)
    )
    context = {
        "consultation": journey.consultation,
        "section": current,
        "form": form,
        "part": _part_number(visible, current),
        "parts": len(visible),
        "back_url": back_url,
        **extra,
    }
    return render(request, "responses/section.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
def document(request: HttpRequest, slug: str) -> HttpResponse:
    """The optional supporting document, offered to organisations after the section that
    asks for the organisation's name: upload, replace, or carry on without one."""
    journey = journey_load(request, slug)
    if blocked := _closed_or_done(request, journey):
        return blocked
    spec = consultation_spec(journey.consultation, get_language())
    answers = journey.answers(spec)
    after = document_section(spec=spec, answers=answers)
    if journey.response is None:
        return redirect("responses:start", slug=slug)
    if after is None:  # not answering for an organisation
        return redirect(journey.first_gap_url(spec, answers))
    returning_to_check = request.GET.get("return") == "check"
    posted = request.method == "POST"
    # Reading a document costs more than saving answers: uploads count against the hourly
    # limit of submissions, in a group of their own.
    if request.FILES and too_many(
        request, group="document-upload", per_hour=settings.RESPONSE_SUBMISSIONS_PER_HOUR
    ):
        return rate_limited(request)
    form = DocumentForm(request.POST if posted else None, request.FILES if posted else None)
    if form.is_valid():
        upload = form.cleaned_data["document"]
        if upload is not None and form.inspected is not None:
            try:
                services.document_attach(
                    response=journey.response,
                    upload=upload,
                    inspected=form.inspected,
                    now=timezone.now(),
                )
            except services.ResponseNotDraftError:
                return redirect("responses:confirmation", slug=slug)
        if returning_to_check:
            return redirect(journey.first_gap_url(spec, answers))
        return redirect(journey.next_url(spec, after=after, answers=answers, past_document=True))
    context = {
        "consultation": journey.consultation,
        "form": form,
        "document": response_document(response=journey.response),
        "max_size": size_in_words(settings.DOCUMENT_MAX_BYTES),
        "return_to_check": returning_to_check,
        "back_url": journey.check_url() if returning_to_check else journey.section_url(after),
    }
    return render(request, "responses/document.html", context, status=400 if form.errors else 200)


@require_POST
def document_remove(request: HttpRequest, slug: str) -> HttpResponse:
    journey = journey_load(request, slug)
    if blocked := _closed_or_done(request, journey):
        return blocked
    if journey.response is not None:
        try:
            services.document_remove(response=journey.response, now=timezone.now())
        except services.ResponseNotDraftError:
            return redirect("responses:confirmation", slug=slug)
    query = "?return=check" if request.GET.get("return") == "check" else ""
    return redirect(reverse("responses:document", args=[slug]) + query)


def _part_number(visible: list[SectionSpec], current: SectionSpec) -> int:
    return next(i for i, section in enumerate(visible, start=1) if section.key == current.key)


def missing_links(
    journey: Journey, error: services.IncompleteResponseError
) -> list[dict[str, str]]:
    """The error summary's links to each required question left unanswered."""
    return [
        {
            "url": f"{journey.section_url(section)}?return=check#{field_anchor(question)}",
            "text": question.text,
        }
        for section, question in error.missing
    ]


def check_page(
    request: HttpRequest,
    journey: Journey,
    spec: ConsultationSpec,
    *,
    missing: list[dict[str, str]],
    problem: str = "",
    **extra: Any,
) -> HttpResponse:
    """ "Check your answers" for any journey (``extra`` goes to the template)."""
    answers = journey.answers(spec)
    last_section = spec.visible_sections(answers)[-1]
    context = {
        "consultation": journey.consultation,
        "sections": check_answers_rows(
            spec,
            answers,
            section_url=journey.section_url,
            response=journey.response,
            document_url=journey.document_url(),
        ),
        "missing": missing,
        "problem": problem,
        "back_url": journey.section_url(last_section),
        **extra,
    }
    status = 400 if missing or problem else 200
    return render(request, "responses/check_answers.html", context, status=status)


@require_http_methods(["GET", "POST"])
def check_answers(request: HttpRequest, slug: str) -> HttpResponse:
    journey = journey_load(request, slug)
    if blocked := _closed_or_done(request, journey):
        return blocked
    if journey.response is None:
        return redirect("responses:start", slug=slug)
    spec = consultation_spec(journey.consultation, get_language())
    missing: list[dict[str, str]] = []
    problem = ""
    if request.method == "POST":
        if too_many(
            request, group="response-submit", per_hour=settings.RESPONSE_SUBMISSIONS_PER_HOUR
        ):
            return rate_limited(request)
        try:
            services.response_submit(
                response=journey.response,
                spec=spec,
                now=timezone.now(),
                site_url=request.build_absolute_uri("/"),
                language=get_language(),
            )
        except services.IncompleteResponseError as error:
            missing = missing_links(journey, error)
        except services.TooFastError:
            problem = _(
                "Your answers were sent faster than a person could give them. Check them, "
                "then send your response again."
            )
        else:
            return redirect("responses:confirmation", slug=slug)
    # Read after a refused send, not before any send: sending reads them itself.
    return check_page(request, journey, spec, missing=missing, problem=problem)


def confirmation(request: HttpRequest, slug: str) -> HttpResponse:
    journey = journey_load(request, slug)
    response = journey.response
    if response is None or response.status == ResponseStatus.DRAFT:
        return redirect("responses:start", slug=slug)
    return render(
        request,
        "responses/confirmation.html",
        {"consultation": journey.consultation, "response": response},
    )


@require_POST
def start_again(request: HttpRequest, slug: str) -> HttpResponse:
    journey_forget(request, slug)
    return redirect("responses:start", slug=slug)


def _closed_or_done(request: HttpRequest, journey: Journey) -> HttpResponse | None:
    """The page to show instead of a form when answering is not possible."""
    if journey.has_sent():
        return redirect("responses:confirmation", slug=journey.consultation.slug)
    if journey.phase != Phase.OPEN:
        return render(
            request,
            "responses/not_open.html",
            {"consultation": journey.consultation, "phase": journey.phase},
            status=403,
        )
    return None


def receipt(request: HttpRequest, token: str) -> HttpResponse:
    response = receipt_response(token=token)
    if response is None:
        return render(request, "responses/receipt_invalid.html", status=404)
    amend_forget(request, response)  # back here without saving: the changes are given up
    spec = consultation_spec(response.consultation, get_language())
    answers = response_answer_map(response=response, spec=spec)
    context = {
        "consultation": response.consultation,
        "response": response,
        "token": token,
        "sections": check_answers_rows(spec, answers, response=response),
        "can_change": _amend_refusal(response) is None,
    }
    return render(request, "responses/receipt.html", context)


def _amend_refusal(response: Response) -> str | None:
    """Why a sent response can no longer be changed, if it cannot."""
    if response.status == ResponseStatus.WITHDRAWN:
        return "withdrawn"
    if response.consultation.phase(timezone.now()) != Phase.OPEN:
        return "closed"
    return None


def _amend_refused(request: HttpRequest, response: Response, token: str) -> HttpResponse:
    context = {
        "consultation": response.consultation,
        "response": response,
        "token": token,
        "reason": _amend_refusal(response) or "closed",
    }
    return render(request, "responses/amend_refused.html", context, status=403)


AMEND_EXTRA = {
    "saving_note": gettext_lazy(
        "Your changes are kept until you save them on the next page. Nothing changes in "
        "your response until then."
    ),
}


@require_http_methods(["GET", "POST"])
def amend_section(request: HttpRequest, token: str, section_key: str) -> HttpResponse:
    response = receipt_response(token=token)
    if response is None:
        return render(request, "responses/receipt_invalid.html", status=404)
    if _amend_refusal(response):
        return _amend_refused(request, response, token)
    journey = amend_journey_load(request, response, token)
    spec = consultation_spec(response.consultation, get_language())
    current = section_or_404(spec, section_key)
    answers = journey.answers(spec)
    questions = spec.visible_questions(current, answers)
    if not questions:
        return redirect(journey.check_url())
    data = request.POST if request.method == "POST" else None
    form = SectionForm(data, questions=questions, answers=answers)
    if form.is_valid():
        answers, _changed = services.answers_merged(
            spec=spec, section=current, answers=answers, values=form.answer_values()
        )
        amend_hold(request, journey, answers)
        return redirect(journey.first_gap_url(spec, answers))
    return section_page(request, journey, spec, current, form, answers, **AMEND_EXTRA)


@require_http_methods(["GET", "POST"])
def amend(request: HttpRequest, token: str) -> HttpResponse:
    """Check the changed answers, then save them (the latest version counts)."""
    response = receipt_response(token=token)
    if response is None:
        return render(request, "responses/receipt_invalid.html", status=404)
    if _amend_refusal(response):
        return _amend_refused(request, response, token)
    journey = amend_journey_load(request, response, token)
    spec = consultation_spec(response.consultation, get_language())
    missing: list[dict[str, str]] = []
    if request.method == "POST":
        try:
            amendment = services.response_amend(
                response=response,
                spec=spec,
                answers=journey.answers(spec),
                now=timezone.now(),
                site_url=request.build_absolute_uri("/"),
            )
        except services.ResponseNotAmendableError:
            response.refresh_from_db(fields=["status", "withdrawn_at"])
            return _amend_refused(request, response, token)
        except services.IncompleteResponseError as error:
            missing = missing_links(journey, error)
        else:
            amend_forget(request, response)
            messages.success(
                request,
                _("Your changes have been saved")
                if amendment
                else _("You did not change any answers"),
            )
            return redirect("responses:receipt", token=token)
    return check_page(
        request,
        journey,
        spec,
        missing=missing,
        heading=_("Check your changes before saving them"),
        submit_label=_("Save changes"),
        cancel_url=journey.start_url(),
        amending=True,
    )


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    response = receipt_response(token=token)
    if response is None:
        return render(request, "responses/receipt_invalid.html", status=404)
    if request.method == "POST":
        services.response_withdraw(response=response, now=timezone.now())
        return HttpResponseRedirect(reverse("responses:withdraw", args=[token]))
    context = {"consultation": response.consultation, "response": response, "token": token}
    return render(request, "responses/withdraw.html", context)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Too many responses started or sent from one connection within the hour."""
    return render(request, "responses/rate_limited.html", status=429)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django could not read: too large, too many fields, broken multipart, or
    form data declaring a charset other than UTF-8 (``charset=utf8``, ``latin-1``).

    Django's own error views check the CSRF token, which reads the body again; a body
    Django refused to read raises again there, and the error page becomes a server error.
    These pages have no form, so they need no token.
    """
    return render(request, "400.html", status=400)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """No page at this address; see ``bad_request`` for why this is not Django's view."""
    return render(request, "404.html", status=404)
