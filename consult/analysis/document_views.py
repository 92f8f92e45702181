"""Organisations' supporting documents in the workspace: the list, searched by their
text, and the download of one, recorded like any other download."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from consult.analysis import queries
from consult.analysis.access import (
    analyst_required,
)
from consult.consultations.models import Consultation
from consult.exports.models import Channel
from consult.exports.services import document_download as document_download_make
from consult.responses.models import Document, Response

DOCUMENTS_PER_PAGE = 25


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
