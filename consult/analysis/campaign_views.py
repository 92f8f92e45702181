"""The workspace's campaign pages: what detection found (``manage.py detect_campaigns``),
for analysts to confirm, rename, split and take answers out of."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from consult.analysis import queries, services
from consult.analysis.access import (
    analyst_required,
)
from consult.analysis.forms import (
    CampaignRenameForm,
    CampaignVariantsForm,
)
from consult.analysis.models import (
    Campaign,
    CampaignScan,
)
from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec

VARIANTS_PER_PAGE = 50


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
