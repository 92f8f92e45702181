"""Data subject requests: data controllers find a response by reference, then export or
erase it. Every step is written to the append-only SubjectRequestRecord log."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from consult.analysis import queries, services
from consult.analysis.access import (
    data_controller_required,
)
from consult.analysis.forms import (
    ErasureForm,
    ReferenceForm,
    SubjectRequestForm,
)
from consult.analysis.models import (
    SubjectRequestAction,
    SubjectRequestRecord,
)
from consult.consultations.queries import ConsultationSpec, consultation_spec
from consult.responses.journey import check_answers_rows
from consult.responses.models import Response
from consult.responses.queries import response_answer_map


def _subject(reference: str) -> Response:
    response = queries.response_by_reference(reference)
    if response is None:
        raise Http404("No response has that reference.")
    return response


@data_controller_required
def subject_requests(request: HttpRequest) -> HttpResponse:
    form = ReferenceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reference = queries.reference_normalised(form.cleaned_data["reference"])
        response = queries.response_by_reference(reference)
        services.subject_request_record(
            user=request.user,  # type: ignore[arg-type]
            action=SubjectRequestAction.SEARCHED,
            reference=reference,
            response=response,
            now=timezone.now(),
        )
        if response is not None:
            return redirect("analysis:subject_request", reference=response.reference)
        form.add_error(
            "reference",
            f"No response has the reference {reference}. Check it against the "
            "respondent’s receipt email; it may also have been erased already.",
        )
    records = SubjectRequestRecord.objects.select_related("user", "consultation")[:200]
    context = {"form": form, "records": records}
    return render(
        request, "analysis/subject_requests.html", context, status=400 if form.errors else 200
    )


@data_controller_required
def subject_request(request: HttpRequest, reference: str) -> HttpResponse:
    response = _subject(reference)
    spec = consultation_spec(response.consultation)
    services.subject_request_record(
        user=request.user,  # type: ignore[arg-type]
        action=SubjectRequestAction.VIEWED,
        reference=response.reference,
        response=response,
        now=timezone.now(),
    )
    return _subject_page(request, response, spec, SubjectRequestForm())


def _subject_page(
    request: HttpRequest,
    response: Response,
    spec: ConsultationSpec,
    export_form: SubjectRequestForm,
    status: int = 200,
) -> HttpResponse:
    answers = response_answer_map(response=response, spec=spec)
    context = {
        "response": response,
        "sections": check_answers_rows(spec, answers, response=response),
        "document": queries.subject_access_document(response=response, spec=spec),
        "amendments": queries.amendment_history(response=response, spec=spec),
        "downloads": queries.downloads_since(response).select_related("user")[:100],
        "export_form": export_form,
    }
    return render(request, "analysis/subject_request.html", context, status=status)


@data_controller_required
@require_POST
def subject_export(request: HttpRequest, reference: str) -> HttpResponse:
    response = _subject(reference)
    spec = consultation_spec(response.consultation)
    form = SubjectRequestForm(request.POST)
    if not form.is_valid():
        return _subject_page(request, response, spec, form, status=400)
    content = services.subject_access_export(
        response=response,
        spec=spec,
        user=request.user,  # type: ignore[arg-type]
        case=form.cleaned_data["case"],
        now=timezone.now(),
    )
    reply = HttpResponse(content, content_type="application/json; charset=utf-8")
    filename = f"{response.reference}-everything-held.json"
    reply["Content-Disposition"] = f'attachment; filename="{filename}"'
    return reply


@data_controller_required
def subject_erase(request: HttpRequest, reference: str) -> HttpResponse:
    response = _subject(reference)
    form = ErasureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.response_erase(
            response=response,
            user=request.user,  # type: ignore[arg-type]
            case=form.cleaned_data["case"],
            now=timezone.now(),
        )
        messages.success(request, f"Response {response.reference} has been erased.")
        return redirect("analysis:subject_requests")
    context = {
        "response": response,
        "form": form,
        "downloads": queries.downloads_since(response).count(),
    }
    return render(
        request, "analysis/subject_erase.html", context, status=400 if form.errors else 200
    )
