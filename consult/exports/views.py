"""Views of downloads: the choice of formats, the file itself, and the audit log."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import get_language

from consult.analysis import queries
from consult.analysis.access import analyst_required, data_controller_required
from consult.analysis.forms import FilterForm, filter_questions
from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec
from consult.exports.formats import neutralise
from consult.exports.models import Channel, DownloadRecord, Variant
from consult.exports.publish import PUBLIC_THRESHOLD, public_figures
from consult.exports.report import report_figures
from consult.exports.services import (
    FORMATS,
    Download,
    allowed_variants,
    download_make,
    report_make,
)


@analyst_required
def downloads(request: HttpRequest, slug: str) -> HttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    spec = consultation_spec(consultation)
    form = FilterForm(request.GET, spec=spec)
    context = {
        "consultation": consultation,
        "spec": spec,
        "formats": FORMATS.values(),
        "variants": [Variant(v) for v in allowed_variants(request.user)],
        "filters": form.filters(),
        "filter_form": form,
        "query": request.GET.urlencode(),
    }
    return render(request, "exports/downloads.html", context)


def download_for(
    request: HttpRequest, consultation: Consultation, *, format_key: str, variant: str, channel: str
) -> Download:
    """The download a request asks for, with the filters in its query string, made as its
    signed-in user (shared by the workspace and the API)."""
    spec = consultation_spec(consultation)
    return download_make(
        user=request.user,  # type: ignore[arg-type]
        consultation=consultation,
        spec=spec,
        format_key=format_key,
        variant=variant,
        filters=FilterForm(request.GET, spec=spec).filters(),
        channel=channel,
        now=timezone.now(),
    )


@analyst_required
def download(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    format_key = request.GET.get("format", "")
    variant = request.GET.get("variant", "")
    if format_key not in FORMATS or variant not in Variant.values:
        raise PermissionDenied("Choose a format and a variant from the downloads page.")
    return download_for(
        request, consultation, format_key=format_key, variant=variant, channel=Channel.WORKSPACE
    ).as_response()


@analyst_required
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """The summary report as a page that prints cleanly."""
    consultation = get_object_or_404(Consultation, slug=slug)
    spec = consultation_spec(consultation)
    form = FilterForm(request.GET, spec=spec)
    filters = form.filters()
    context = {
        "consultation": consultation,
        "spec": spec,
        "filters": filters,
        "filter_form": form,
        "figures": report_figures(consultation=consultation, spec=spec, filters=filters),
        "printable": True,
        "generated_at": timezone.now(),
        "query": request.GET.urlencode(),
    }
    return render(request, "exports/report.html", context)


@analyst_required
def report_docx(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    consultation = get_object_or_404(Consultation, slug=slug)
    spec = consultation_spec(consultation)
    made = report_make(
        user=request.user,  # type: ignore[arg-type]
        consultation=consultation,
        spec=spec,
        filters=FilterForm(request.GET, spec=spec).filters(),
        now=timezone.now(),
    )
    return made.as_response()


@data_controller_required
def log(request: HttpRequest) -> HttpResponse:
    records = DownloadRecord.objects.select_related("user", "consultation")[:500]
    return render(request, "exports/log.html", {"records": records})


LOG_COLUMNS = [
    "at",
    "user",
    "consultation",
    "format",
    "variant",
    "channel",
    "filters",
    "filename",
    "row_count",
    "byte_count",
    "sha256",
    "complete",
]


@data_controller_required
def log_csv(request: HttpRequest) -> StreamingHttpResponse:

    def lines() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(LOG_COLUMNS)
        rows = DownloadRecord.objects.order_by("at", "pk").values_list(
            "at",
            "user__username",
            "consultation__slug",
            "format",
            "variant",
            "channel",
            "filters",
            "filename",
            "row_count",
            "byte_count",
            "sha256",
            "complete",
        )
        for at, *middle, filters, filename, rows_count, size, digest, complete in rows.iterator(
            chunk_size=2000
        ):
            cells = [at.isoformat(), *middle, json.dumps(filters), filename, rows_count, size]
            writer.writerow([neutralise(value) for value in [*cells, digest, complete]])
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="download-log-{stamp}.csv"'
    return response


def _published(slug: str) -> Consultation:
    consultation = get_object_or_404(Consultation, slug=slug)
    if consultation.results_published_at is None:
        raise Http404("The results of this consultation have not been published")
    return consultation


def public_results(request: HttpRequest, slug: str) -> HttpResponse:
    """The published results: aggregate figures with small counts suppressed, no sign-in."""
    consultation = _published(slug)
    spec = consultation_spec(consultation, get_language())
    results = queries.results(consultation=consultation, spec=spec, filters=queries.Filters())
    context = {
        "consultation": consultation,
        "results": [public_figures(result) for result in results.questions],
        "who": [
            public_figures(result)
            for result in queries.who_responded(
                consultation=consultation,
                spec=spec,
                filters=queries.Filters(),
                questions=filter_questions(spec),
            )
        ],
        "total": results.total,
        "threshold": PUBLIC_THRESHOLD,
    }
    return render(request, "exports/public_results.html", context)


def public_download(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    consultation = _published(slug)
    made = download_make(
        user=None,
        consultation=consultation,
        spec=consultation_spec(consultation),
        format_key="csv",
        variant=Variant.PUBLISHABLE,
        filters=queries.Filters(),
        channel=Channel.PUBLIC,
        now=timezone.now(),
    )
    return made.as_response()
