"""Views of the analysts' workspace. Every view is behind ``analyst_required``."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
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
    has_role,
)
from consult.analysis.forms import (
    CodingForm,
    FilterForm,
    SignInForm,
    ThemeForm,
    filter_questions,
)
from consult.analysis.models import (
    Campaign,
    Role,
    Theme,
)
from consult.consultations.models import Consultation
from consult.consultations.queries import ConsultationSpec, QuestionSpec, consultation_spec
from consult.responses.models import Answer

ANSWERS_PER_PAGE = 25
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


def text_question(spec: ConsultationSpec, key: str) -> QuestionSpec:
    question = next((q for q in queries.text_questions(spec) if q.key == key), None)
    if question is None:
        raise Http404("No open question has that key")
    return question


@analyst_required
def free_text(request: HttpRequest, slug: str, key: str) -> HttpResponse:
    context = _workspace(request, slug)
    spec = context["spec"]
    question = text_question(spec, key)
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
    question = text_question(consultation_spec(consultation), key)
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
    question = text_question(consultation_spec(consultation), key)
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
