"""Views of the analysts' workspace. Every view is behind ``analyst_required``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from consult.analysis import queries, services
from consult.analysis.access import (
    ENTRY_ROLES,
    WORKSPACE_ROLES,
    analyst_required,
    data_controller_required,
    has_role,
)
from consult.analysis.forms import (
    CampaignRenameForm,
    CampaignVariantsForm,
    CodingForm,
    ErasureForm,
    FilterForm,
    ReferenceForm,
    SignInForm,
    SubjectRequestForm,
    SuggestionMergeForm,
    SuggestionRenameForm,
    SuggestionsRequestForm,
    ThemeForm,
    filter_questions,
)
from consult.analysis.models import (
    Campaign,
    CampaignScan,
    Role,
    SubjectRequestAction,
    SubjectRequestRecord,
    SuggestionStatus,
    Theme,
    ThemeSuggestion,
)
from consult.consultations.models import Consultation
from consult.consultations.queries import ConsultationSpec, QuestionSpec, consultation_spec
from consult.exports.models import Channel
from consult.exports.services import document_download as document_download_make
from consult.responses.journey import check_answers_rows
from consult.responses.models import Answer, Document, Response
from consult.responses.queries import response_answer_map

ANSWERS_PER_PAGE = 25
DOCUMENTS_PER_PAGE = 25
VARIANTS_PER_PAGE = 50
DEFAULT_SUPPRESSION = 10


class SignInView(auth_views.LoginView):
    template_name = "analysis/sign_in.html"
    authentication_form = SignInForm

    def form_valid(self, form: SignInForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_valid(form)
        if form.otp_device is not None:
            otp_login(self.request, form.otp_device)  # the session is verified
        return response

    def get_default_redirect_url(self) -> str:
        """Data entry staff, who cannot open the results, start where they key in."""
        user = self.request.user
        if has_role(user, *ENTRY_ROLES) and not has_role(user, *WORKSPACE_ROLES):
            return reverse("analysis:entry_index")
        return super().get_default_redirect_url()


class SignOutView(auth_views.LogoutView):
    pass


@analyst_required
def index(request: HttpRequest) -> HttpResponse:
    consultations = [
        (consultation, queries.status_counts(consultation=consultation))
        for consultation in Consultation.objects.all()
    ]
    context = {
        "consultations": consultations,
        "is_data_controller": has_role(request.user, Role.DATA_CONTROLLER),
    }
    return render(request, "analysis/index.html", context)


def _workspace(request: HttpRequest, slug: str) -> dict[str, Any]:
    """What every results view shares: the consultation, its structure and the filters."""
    consultation = get_object_or_404(Consultation, slug=slug)
    spec = consultation_spec(consultation)
    form = FilterForm(request.GET, spec=spec)
    offered = filter_questions(spec)
    return {
        "consultation": consultation,
        "spec": spec,
        "filter_form": form,
        "filters": form.filters(),
        "filter_questions": offered,
        "filter_checkbox_values": {f"{q.key}:{o.code}" for q in offered for o in q.options},
        "ignored_filters": form.ignored(),
        "keep_params": [],
    }


@analyst_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    context = _workspace(request, slug)
    consultation, spec = context["consultation"], context["spec"]
    results = queries.results(consultation=consultation, spec=spec, filters=context["filters"])
    context |= {
        "results": results,
        "status": queries.status_counts(consultation=consultation),
        "drop_off": queries.drafts_by_last_section(consultation=consultation, spec=spec),
        "who": [
            results.by_key[q.key] for q in context["filter_questions"] if q.key in results.by_key
        ],
        "per_day_max": max((n for _, n in results.per_day), default=0),
        "not_printable": True,
    }
    return render(request, "analysis/dashboard.html", context)


@analyst_required
def crosstab(request: HttpRequest, slug: str) -> HttpResponse:
    context = _workspace(request, slug)
    spec: ConsultationSpec = context["spec"]
    choices = queries.crosstab_questions(spec)
    keys = {question.key for question in choices}
    row_key, column_key = request.GET.get("rows", ""), request.GET.get("columns", "")
    threshold = _threshold(request.GET.get("suppress"))
    table = None
    if row_key in keys and column_key in keys:
        table = queries.crosstab(
            consultation=context["consultation"],
            spec=spec,
            filters=context["filters"],
            row_key=row_key,
            column_key=column_key,
            threshold=threshold,
        )
    context |= {
        "who": _who(context),
        "keep_params": [
            ("rows", row_key),
            ("columns", column_key),
            ("suppress", request.GET.get("suppress", "")),
        ],
        "choices": choices,
        "row_key": row_key,
        "column_key": column_key,
        "threshold": threshold,
        "table": table,
        "unknown_question": bool(row_key or column_key) and table is None,
    }
    return render(request, "analysis/crosstab.html", context)


def _who(context: dict[str, Any]) -> list[queries.QuestionResult]:
    return queries.who_responded(
        consultation=context["consultation"],
        spec=context["spec"],
        filters=context["filters"],
        questions=context["filter_questions"],
    )


def _threshold(value: str | None) -> int:
    """Cells below this count are hidden; blank or invalid means the default of 10."""
    if not value:
        return DEFAULT_SUPPRESSION
    try:
        return max(0, int(value))
    except ValueError:
        return DEFAULT_SUPPRESSION


def _text_question(spec: ConsultationSpec, key: str) -> QuestionSpec:
    question = next((q for q in queries.text_questions(spec) if q.key == key), None)
    if question is None:
        raise Http404("No open question has that key")
    return question


@analyst_required
def free_text(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    context = _workspace(request, slug)
    spec = context["spec"]
    question = _text_question(spec, key)
    search = request.GET.get("q", "").strip()[:200]
    theme = _selected_theme(question, request.GET.get("theme"))
    in_campaign = _selected_campaign(question, request.GET.get("campaign"))
    unreviewed = theme is not None and request.GET.get("unreviewed") == "1"
    answers = queries.text_answers(
        consultation=context["consultation"],
        spec=spec,
        question=question,
        filters=context["filters"],
        search=search,
        theme=theme,
        campaign=in_campaign,
        unreviewed=unreviewed,
    )
    page = Paginator(answers, ANSWERS_PER_PAGE).get_page(request.GET.get("page"))
    all_answers = queries.text_answers(
        consultation=context["consultation"],
        spec=spec,
        question=question,
        filters=context["filters"],
    )
    context |= {
        "who": _who(context),
        "keep_params": [
            ("q", search),
            ("theme", request.GET.get("theme", "")),
            ("campaign", request.GET.get("campaign", "")),
            ("unreviewed", "1" if unreviewed else ""),
        ],
        "question": question,
        "in_campaign": in_campaign,
        "answer_campaigns": queries.answer_campaigns(page.object_list),
        "search": search,
        "terms": queries.search_terms(search),
        "theme": theme,
        "page": page,
        "coded": queries.answer_themes(page.object_list),
        "unreviewed": unreviewed,
        "suggested": queries.answer_themes_unreviewed(page.object_list),
        "codebook": queries.theme_counts(question=question, answers=all_answers),
        "theme_form": ThemeForm(),
        "respondent_types": _respondent_type_labels(spec),
    }
    return render(request, "analysis/free_text.html", context)


def _selected_theme(question: QuestionSpec, value: str | None) -> Theme | None:
    if not value or not value.isdigit():
        return None
    return Theme.objects.filter(question_id=question.id, pk=int(value)).first()


def _selected_campaign(question: QuestionSpec, value: str | None) -> Campaign | None:
    if not value or not value.isdigit():
        return None
    return Campaign.objects.filter(question_id=question.id, pk=int(value)).first()


def _respondent_type_labels(spec: ConsultationSpec) -> dict[str, str]:
    question = spec.by_profile.get("respondent_type")
    return {option.code: option.label for option in question.options} if question else {}


@analyst_required
@require_POST
def theme_add(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    question = _text_question(consultation_spec(consultation), key)
    form = ThemeForm(request.POST)
    if form.is_valid():
        try:
            theme = services.theme_create(
                question=consultation.questions.get(pk=question.id),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                user=request.user,  # type: ignore[arg-type]
                now=timezone.now(),
            )
        except services.ThemeExistsError:
            form.add_error("name", "There is already a theme with that name for this question")
        else:
            messages.success(request, f"Theme “{theme.name}” added to the codebook.")
            return redirect("analysis:free_text", slug=slug, key=key)
    return render(
        request,
        "analysis/theme_add.html",
        {"consultation": consultation, "question": question, "theme_form": form},
        status=400,
    )


@analyst_required
@require_POST
def answer_code(request: HttpRequest, slug: str, key: str, answer_id: int) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    question = _text_question(consultation_spec(consultation), key)
    answer = get_object_or_404(Answer, pk=answer_id, question_id=question.id)
    form = CodingForm(request.POST, question=question)
    if not form.is_valid():
        messages.error(
            request, "Those themes are not in this question’s codebook; nothing changed."
        )
    else:
        services.answer_themes_set(
            answer=answer,
            themes=list(form.cleaned_data["themes"]),
            user=request.user,  # type: ignore[arg-type]
            now=timezone.now(),
        )
        messages.success(
            request, f"Themes saved for the answer from response {answer.response.reference}."
        )
    query = request.POST.get("next", "")
    listing = reverse("analysis:free_text", args=[slug, key])
    return redirect(f"{listing}{query if query.startswith('?') else ''}#answer-{answer.pk}")


# Campaigns: what detection found (manage.py detect_campaigns), for analysts to review.


@analyst_required
def campaigns(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    spec = consultation_spec(consultation)
    by_question = queries.campaigns_by_question(consultation=consultation, spec=spec)
    scans = dict(
        CampaignScan.objects.filter(question__consultation=consultation).values_list(
            "question_id", "scanned_at"
        )
    )
    context = {
        "consultation": consultation,
        "by_question": by_question,
        "scanned_at": max(scans.values(), default=None),
        "unscanned": [q for q, _ in by_question if q.id not in scans],
        "confirmed": sum(c.confirmed for _, found in by_question for c in found),
    }
    return render(request, "analysis/campaigns.html", context)


def _campaign(slug: str, pk: int) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("consultation", "question", "confirmed_by"),
        consultation__slug=slug,
        pk=pk,
    )


@analyst_required
def campaign(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    found = _campaign(slug, pk)
    return _campaign_page(request, found, CampaignRenameForm(initial={"name": found.name}), None)


def _campaign_page(
    request: HttpRequest,
    found: Campaign,
    rename_form: CampaignRenameForm,
    variants_form: CampaignVariantsForm | None,
    status: int = 200,
) -> HttpResponse:
    page = Paginator(queries.campaign_variants(found), VARIANTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "consultation": found.consultation,
        "campaign": found,
        "rename_form": rename_form,
        "variants_form": variants_form,
        "chosen": set(request.POST.getlist("variants")),
        "page": page,
        "variants": queries.campaign_variant_texts(page.object_list),
    }
    return render(request, "analysis/campaign.html", context, status=status)


@analyst_required
@require_POST
def campaign_confirm(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    found = _campaign(slug, pk)
    confirmed = request.POST.get("confirmed") != "no"
    services.campaign_confirm(
        campaign=found,
        user=request.user,  # type: ignore[arg-type]
        confirmed=confirmed,
        now=timezone.now(),
    )
    messages.success(
        request,
        f"Campaign “{found.name}” confirmed: it now counts once, or not at all, when you "
        "choose so in the results."
        if confirmed
        else f"Campaign “{found.name}” is no longer confirmed: its responses count as any other.",
    )
    return redirect("analysis:campaign", slug=slug, pk=pk)


@analyst_required
@require_POST
def campaign_rename(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    found = _campaign(slug, pk)
    form = CampaignRenameForm(request.POST)
    if not form.is_valid():
        return _campaign_page(request, found, form, None, status=400)
    services.campaign_rename(campaign=found, name=form.cleaned_data["name"], now=timezone.now())
    messages.success(request, f"Campaign renamed “{found.name}”.")
    return redirect("analysis:campaign", slug=slug, pk=pk)


@analyst_required
@require_POST
def campaign_variants(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Split chosen versions of the text off into a new campaign, or take them out."""
    found = _campaign(slug, pk)
    fingerprints = list(found.members.values_list("fingerprint", flat=True).distinct())
    form = CampaignVariantsForm(request.POST, variants=fingerprints)
    rename_form = CampaignRenameForm(initial={"name": found.name})
    if not form.is_valid():
        return _campaign_page(request, found, rename_form, form, status=400)
    chosen, now = form.cleaned_data["variants"], timezone.now()
    try:
        if form.cleaned_data["action"] == form.SPLIT:
            new = services.campaign_split(
                campaign=found, fingerprints=chosen, name=form.cleaned_data["name"], now=now
            )
            messages.success(
                request,
                f"{new.size:,} answers moved to the new campaign “{new.name}”. Confirm it "
                "when you have checked it.",
            )
            return redirect("analysis:campaign", slug=slug, pk=new.pk)
        taken = services.campaign_release(
            campaign=found,
            fingerprints=chosen,
            user=request.user,  # type: ignore[arg-type]
            now=now,
        )
    except services.CampaignChangeError as error:
        form.add_error("variants", str(error))
        return _campaign_page(request, found, rename_form, form, status=400)
    messages.success(
        request, f"{taken:,} answers taken out of “{found.name}”; detection will leave them out."
    )
    if not Campaign.objects.filter(pk=pk).exists():
        return redirect("analysis:campaigns", slug=slug)
    return redirect("analysis:campaign", slug=slug, pk=pk)


# Data subject requests: data controllers find a response by reference, then export or
# erase it. Every step is written to the append-only SubjectRequestRecord log.


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


# Theme suggestions: a page per open question asks for a run (the task worker does it),
# shows its progress and then the suggestions, which analysts accept, rename, merge or
# reject. Nothing reaches the codebook until they do.


def _suggestion_question(slug: str, key: str) -> tuple[Consultation, QuestionSpec]:
    consultation = get_object_or_404(Consultation, slug=slug)
    return consultation, _text_question(consultation_spec(consultation), key)


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


@analyst_required
def documents(request: HttpRequest, slug: str) -> HttpResponse:
    """The supporting documents of the responses that count, searchable by their text."""
    consultation = get_object_or_404(Consultation, slug=slug)
    search = request.GET.get("q", "").strip()[:200]
    found = queries.documents_found(consultation=consultation, search=search)
    page = Paginator(found, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "consultation": consultation,
        "search": search,
        "terms": queries.search_terms(search),
        "page": page,
        "keep_params": [("q", search)],
    }
    return render(request, "analysis/documents.html", context)


@analyst_required
def document_download(request: HttpRequest, slug: str, reference: str) -> HttpResponse:
    """A supporting document as sent, as an attachment (never shown in the browser),
    recorded in the download log. Documents of withdrawn responses and drafts are not
    offered."""
    document = get_object_or_404(
        Document.objects.select_related("response__consultation").defer("text"),
        response__consultation__slug=slug,
        response__reference=reference,
        response__in=Response.objects.counted(),
    )
    download = document_download_make(
        user=request.user,  # type: ignore[arg-type]
        document=document,
        channel=Channel.WORKSPACE,
        now=timezone.now(),
    )
    reply = download.as_response()
    reply["X-Content-Type-Options"] = "nosniff"
    reply["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return reply  # type: ignore[return-value]
