"""Theme suggestions: a page per open question asks for a run (the task worker does it),
shows its progress and then the suggestions, which analysts accept, rename, merge or
reject. Nothing reaches the codebook until they do."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from consult.analysis import queries, services
from consult.analysis.access import (
    analyst_required,
)
from consult.analysis.forms import (
    SuggestionMergeForm,
    SuggestionRenameForm,
    SuggestionsRequestForm,
)
from consult.analysis.models import (
    SuggestionStatus,
    ThemeSuggestion,
)
from consult.analysis.views import text_question
from consult.consultations.models import Consultation
from consult.consultations.queries import QuestionSpec, consultation_spec


def _suggestion_question(slug: str, key: str) -> tuple[Consultation, QuestionSpec]:
    consultation = get_object_or_404(Consultation, slug=slug)
    return consultation, text_question(consultation_spec(consultation), key)


def _suggestions_page(
    request: HttpRequest,
    consultation: Consultation,
    question: QuestionSpec,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    request_form: SuggestionsRequestForm | None = None,
) -> HttpResponse:
    """The page, or the page again with ``errors`` (field id → message) and the values
    posted, as the GOV.UK pattern shows a form that was refused."""
    latest = queries.suggestion_run_latest(question)
    shown = queries.suggestion_run_shown(question)
    listed = queries.suggestions(shown) if shown else []
    context = {
        "consultation": consultation,
        "question": question,
        "latest": latest,
        "progress": queries.suggestion_progress(latest, now=timezone.now()) if latest else None,
        "shown": shown,
        "suggestions": listed,
        "pending": [item for item in listed if item.suggestion.status == SuggestionStatus.PENDING],
        "request_form": request_form or SuggestionsRequestForm(),
        "errors": errors or {},
        "values": values or {},
    }
    return render(request, "analysis/suggestions.html", context, status=400 if errors else 200)


@analyst_required
def suggestions(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    consultation, question = _suggestion_question(slug, key)
    return _suggestions_page(request, consultation, question)


@analyst_required
def suggestions_progress(request: HttpRequest, slug: str, key: str) -> JsonResponse:
    _, question = _suggestion_question(slug, key)
    run = queries.suggestion_run_latest(question)
    if run is None:
        raise Http404("No suggestions have been asked for this question")
    return JsonResponse(queries.suggestion_progress(run, now=timezone.now()))


@analyst_required
@require_POST
def suggestions_request(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    consultation, question = _suggestion_question(slug, key)
    form = SuggestionsRequestForm(request.POST)
    if not form.is_valid():
        errors = {"themes": str(form.errors["themes"][0])}
        return _suggestions_page(request, consultation, question, errors=errors, request_form=form)
    try:
        services.suggestion_run_request(
            question=consultation.questions.get(pk=question.id),
            themes=form.cleaned_data["themes"],
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
        )
    except services.SuggestionRunActiveError:
        messages.error(request, "Themes are already being suggested for this question.")
    else:
        messages.success(request, "Asked for theme suggestions. This page shows the progress.")
    return redirect("analysis:suggestions", slug=slug, key=key)


def _suggestion(question: QuestionSpec, suggestion_id: int) -> ThemeSuggestion:
    return get_object_or_404(
        ThemeSuggestion.objects.select_related("run"),
        pk=suggestion_id,
        run__question_id=question.id,
    )


def _decided(request: HttpRequest, suggestion: ThemeSuggestion) -> None:
    messages.error(
        request,
        f"“{suggestion.name}” was already accepted, merged or rejected; nothing changed.",
    )


@analyst_required
@require_POST
def suggestion_accept(
    request: HttpRequest, slug: str, key: str, suggestion_id: int
) -> HttpResponse:
    consultation, question = _suggestion_question(slug, key)
    suggestion = _suggestion(question, suggestion_id)
    try:
        theme = services.suggestion_accept(
            suggestion=suggestion,
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
        )
    except services.ThemeExistsError:
        field = f"suggestion-{suggestion.pk}-name"
        errors = {
            field: f"There is already a theme called “{suggestion.name}” in the codebook. "
            "Rename the suggestion, then accept it"
        }
        return _suggestions_page(request, consultation, question, errors=errors)
    except services.SuggestionDecidedError:
        _decided(request, suggestion)
    else:
        messages.success(
            request,
            f"Theme “{theme.name}” added to the codebook and given to its suggested answers, "
            "for you to review.",
        )
    return redirect("analysis:suggestions", slug=slug, key=key)


@analyst_required
@require_POST
def suggestion_rename(
    request: HttpRequest, slug: str, key: str, suggestion_id: int
) -> HttpResponse:
    consultation, question = _suggestion_question(slug, key)
    suggestion = _suggestion(question, suggestion_id)
    form = SuggestionRenameForm(request.POST)
    if not form.is_valid():
        field = f"suggestion-{suggestion.pk}-name"
        return _suggestions_page(
            request,
            consultation,
            question,
            errors={field: str(form.errors["name"][0])},
            values={field: request.POST.get("name", "")},
        )
    try:
        renamed = services.suggestion_rename(suggestion=suggestion, name=form.cleaned_data["name"])
    except services.SuggestionDecidedError:
        _decided(request, suggestion)
    else:
        messages.success(request, f"Suggestion renamed “{renamed.name}”.")
    return redirect("analysis:suggestions", slug=slug, key=key)


@analyst_required
@require_POST
def suggestion_reject(
    request: HttpRequest, slug: str, key: str, suggestion_id: int
) -> HttpResponse:
    _, question = _suggestion_question(slug, key)
    suggestion = _suggestion(question, suggestion_id)
    try:
        services.suggestion_reject(
            suggestion=suggestion,
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
        )
    except services.SuggestionDecidedError:
        _decided(request, suggestion)
    else:
        messages.success(request, f"Suggestion “{suggestion.name}” rejected.")
    return redirect("analysis:suggestions", slug=slug, key=key)


@analyst_required
@require_POST
def suggestions_merge(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    consultation, question = _suggestion_question(slug, key)
    form = SuggestionMergeForm(request.POST, run=queries.suggestion_run_shown(question))
    if not form.is_valid():
        errors = {
            field: str(form.errors[name][0])
            for name, field in (("suggestions", "merge-suggestions"), ("name", "merge-name"))
            if name in form.errors
        }
        return _suggestions_page(
            request,
            consultation,
            question,
            errors=errors,
            values={
                "merge-name": request.POST.get("name", ""),
                "merge-suggestions": request.POST.getlist("suggestions"),
            },
        )
    try:
        merged = services.suggestions_merge(
            suggestions=list(form.cleaned_data["suggestions"]),
            name=form.cleaned_data["name"],
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
        )
    except services.SuggestionDecidedError:
        messages.error(request, "A suggestion was decided meanwhile; nothing was merged.")
    else:
        messages.success(request, f"Suggestions merged into “{merged.name}”.")
    return redirect("analysis:suggestions", slug=slug, key=key)
