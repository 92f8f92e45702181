"""Downloads: who may take which variant, the file each format makes, and the audit record
written as the last bytes go out."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse

from consult.analysis.access import has_role
from consult.analysis.models import Role
from consult.analysis.queries import CampaignCounting, Filters
from consult.consultations.models import Consultation, PublicationChoice
from consult.consultations.queries import ConsultationSpec
from consult.exports import formats, report
from consult.exports.models import Channel, DownloadRecord, Variant
from consult.exports.tables import Layout, Row, columns, export_responses, export_rows
from consult.responses.documents import CONTENT_TYPES
from consult.responses.models import Document, Response
from consult.responses.storage import documents_storage


@dataclass(frozen=True)
class Format:
    key: str
    name: str
    extension: str
    content_type: str
    description: str


FORMATS = {
    f.key: f
    for f in [
        Format(
            "csv",
            "CSV",
            "csv",
            "text/csv; charset=utf-8",
            "Option codes; for R, pandas and Stata's import",
        ),
        Format(
            "csv-labels",
            "CSV with labels",
            "csv",
            "text/csv; charset=utf-8",
            "Option labels instead of codes",
        ),
        Format(
            "csv-excel",
            "CSV for Excel",
            "csv",
            "text/csv; charset=utf-8",
            "Labels, with a byte order mark so Excel reads UTF-8",
        ),
        Format(
            "xlsx",
            "Excel workbook",
            "xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Responses, codebook and about sheets",
        ),
        Format(
            "jsonl",
            "JSON Lines",
            "jsonl",
            "application/x-ndjson; charset=utf-8",
            "One object per response, answers nested",
        ),
        Format(
            "codebook-csv",
            "Codebook (CSV)",
            "csv",
            "text/csv; charset=utf-8",
            "Every column and every option code with its label",
        ),
        Format("codebook-json", "Codebook (JSON)", "json", "application/json", "The same, as JSON"),
        Format(
            "datapackage",
            "Frictionless data package",
            "zip",
            "application/zip",
            "CSVs with Table Schemas and a README",
        ),
        Format("sav", "SPSS", "sav", "application/x-spss-sav", "Variable and value labels"),
        Format("dta", "Stata", "dta", "application/x-stata-dta", "Variable and value labels"),
    ]
}
CODEBOOK_FORMATS = {"codebook-csv", "codebook-json"}
LABEL_FORMATS = {"csv-labels", "csv-excel"}  # option labels in place of codes


def allowed_variants(user: Any) -> list[str]:
    """Analysts take publishable and anonymised data; data controllers also the full data."""
    variants: list[str] = []
    if has_role(user, Role.ANALYST, Role.DATA_CONTROLLER):
        variants = [Variant.PUBLISHABLE, Variant.ANONYMISED]
    if has_role(user, Role.DATA_CONTROLLER):
        variants.append(Variant.FULL)
    return variants


def public_variants(consultation: Consultation) -> list[str]:
    """Anyone may take the publishable data of a consultation whose results are published."""
    return [Variant.PUBLISHABLE] if consultation.results_published_at else []


@dataclass
class Download:
    filename: str
    content_type: str
    chunks: Iterator[bytes] = field(repr=False)

    def as_response(self) -> StreamingHttpResponse:
        """The download as an attachment, streamed, never cached."""
        response = StreamingHttpResponse(self.chunks, content_type=self.content_type)
        response["Content-Disposition"] = f'attachment; filename="{self.filename}"'
        response["Cache-Control"] = "no-store"
        return response


def download_make(
    *,
    user: User | None,
    consultation: Consultation,
    spec: ConsultationSpec,
    format_key: str,
    variant: str,
    filters: Filters,
    channel: str,
    now: datetime,
) -> Download:
    """A download, streamed, audited when its last byte is sent (or when it is cut short).

    ``user`` is None for the public download of published results. Raises
    ``PermissionDenied`` for a variant the user's role (or the public) may not take, and
    ``KeyError`` for an unknown format.
    """
    allowed = allowed_variants(user) if user is not None else public_variants(consultation)
    if variant not in allowed:
        raise PermissionDenied(f"Your role does not allow the {variant} download.")
    chosen = FORMATS[format_key]
    table = columns(spec, variant)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    label = "codebook" if format_key in CODEBOOK_FORMATS else variant
    if format_key in LABEL_FORMATS:
        label += "-labels"
    filename = f"{consultation.slug}-{label}-{stamp}.{chosen.extension}"
    counter = _Counter()
    described = filters_described(filters)

    layout = Layout.of(table, labels=format_key in LABEL_FORMATS)

    def rows() -> Iterator[Row]:
        responses = export_responses(
            consultation=consultation, spec=spec, filters=filters, variant=variant
        )
        for row in export_rows(responses=responses, layout=layout, variant=variant):
            counter.rows += 1
            yield row

    about = formats.About(
        title=f"{consultation.title}: {variant} responses",
        consultation=consultation.title,
        variant=Variant(variant).label,
        filters=json.dumps(described, ensure_ascii=False) if described else "none",
        generated_at=now.astimezone(UTC).isoformat(),
    )
    documents = package_documents(
        responses=export_responses(
            consultation=consultation, spec=spec, filters=filters, variant=variant
        ),
        variant=variant,
    )
    body = _body(
        format_key,
        spec,
        table,
        rows(),
        about,
        name=f"{consultation.slug}-{variant}",
        documents=documents,
    )
    record = {
        "user": user,
        "at": now,
        "consultation": consultation,
        "format": format_key,
        "variant": variant,
        "channel": channel,
        "filters": described,
        "filename": filename,
    }
    return Download(
        filename=filename,
        content_type=chosen.content_type,
        chunks=_audited(body, record, rows=lambda: counter.rows),
    )


def _audited(
    body: Iterator[bytes], record: dict[str, Any], *, rows: Callable[[], int]
) -> Iterator[bytes]:
    """The bytes of a download, recorded with their SHA-256 once the last has gone (or
    when the download stops part-way)."""
    digest = hashlib.sha256()
    size = 0
    complete = False
    try:
        for chunk in body:
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        complete = True
    finally:
        DownloadRecord.objects.create(
            **record,
            row_count=rows(),
            byte_count=size,
            sha256=digest.hexdigest(),
            complete=complete,
        )


def package_documents(*, responses: Any, variant: str) -> Callable[[], Iterator[tuple[str, str]]]:
    """The supporting documents a data package of this variant holds, as (path in the
    package, stored name): every document of the full data; in the publishable data only
    those of responses to be published with their name (a document cannot be stripped of
    the name it carries); none in the anonymised data. Read when the package is written."""

    def found() -> Iterator[tuple[str, str]]:
        if variant == Variant.ANONYMISED:
            return
        documents = Document.objects.filter(response__in=responses.values("pk"))
        if variant == Variant.PUBLISHABLE:
            documents = documents.filter(response__publication=PublicationChoice.NAMED)
        rows = documents.order_by("response__reference").values_list(
            "response__reference", "kind", "file"
        )
        for reference, kind, name in rows.iterator(chunk_size=500):
            yield f"documents/{reference}.{kind}", name

    return found


def document_download(*, user: User, document: Document, channel: str, now: datetime) -> Download:
    """A supporting document as it was sent, recorded like every download (format
    ``document``, variant full: the file is the respondent's own, unredacted, with the
    response's reference in the record's filters)."""
    response: Response = document.response
    record = {
        "user": user,
        "at": now,
        "consultation": response.consultation,
        "format": "document",
        "variant": Variant.FULL,
        "channel": channel,
        "filters": {"response": response.reference},
        "filename": document.download_name,
    }

    def chunks() -> Iterator[bytes]:
        with documents_storage.open(document.file.name, "rb") as handle:
            while chunk := handle.read(formats.FILE_CHUNK):
                yield chunk

    return Download(
        filename=document.download_name,
        content_type=CONTENT_TYPES[document.kind],
        chunks=_audited(chunks(), record, rows=lambda: 1),
    )


def filters_described(filters: Filters) -> dict[str, Any]:
    """The filters as plain data, for the audit record and the file's own description."""
    described: dict[str, Any] = {}
    if filters.answers:
        described["answers"] = {
            key: sorted(codes) for key, codes in sorted(filters.answers.items())
        }
    if filters.submitted_from:
        described["from"] = filters.submitted_from.isoformat()
    if filters.submitted_to:
        described["to"] = filters.submitted_to.isoformat()
    if filters.channels:
        described["channels"] = sorted(filters.channels)
    if filters.campaigns != CampaignCounting.ALL:
        described["campaigns"] = str(filters.campaigns.label)
    return described


@dataclass
class _Counter:
    rows: int = 0


def _body(
    format_key: str,
    spec: ConsultationSpec,
    table: list[Any],
    rows: Iterator[Row],
    about: formats.About,
    *,
    name: str,
    documents: Callable[[], Iterator[tuple[str, str]]],
) -> Iterator[bytes]:
    writers: dict[str, Callable[[], Iterator[bytes]]] = {
        "csv": lambda: formats.csv_chunks(table, rows),
        "csv-labels": lambda: formats.csv_chunks(table, rows, labels=True),
        "csv-excel": lambda: formats.csv_chunks(table, rows, labels=True, bom=True),
        "jsonl": lambda: formats.jsonl_chunks(spec, table, rows),
        "codebook-csv": lambda: formats.codebook_csv(table),
        "codebook-json": lambda: formats.codebook_json(table),
        "xlsx": lambda: formats.xlsx_chunks(table, rows, about),
        "datapackage": lambda: formats.spooled(
            formats.datapackage_writer(table, rows, about, name=name, documents=documents)
        ),
        "sav": lambda: formats.spooled(formats.statistics_writer(table, rows, stata=False)),
        "dta": lambda: formats.spooled(formats.statistics_writer(table, rows, stata=True)),
    }
    return writers[format_key]()


def report_make(
    *,
    user: User,
    consultation: Consultation,
    spec: ConsultationSpec,
    filters: Filters,
    now: datetime,
) -> Download:
    """The committee's summary report (DOCX) of the filtered responses, recorded like any
    download (variant: anonymised, since it holds aggregate figures only)."""
    if not allowed_variants(user):
        raise PermissionDenied("You need the analyst or data controller role.")
    figures = report.report_figures(consultation=consultation, spec=spec, filters=filters)
    described = filters_described(filters)
    data = report.report_docx(
        consultation=consultation,
        figures=figures,
        filters=[
            *(f"{key}: {', '.join(codes)}" for key, codes in described.get("answers", {}).items()),
            *([f"sent on or after {described['from']}"] if "from" in described else []),
            *([f"sent on or before {described['to']}"] if "to" in described else []),
            *(
                [f"{described['campaigns'].lower()} (confirmed campaigns only)"]
                if "campaigns" in described
                else []
            ),
            *(
                [f"received by {', '.join(described['channels'])}"]
                if "channels" in described
                else []
            ),
        ],
        generated_at=now.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
    )
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    filename = f"{consultation.slug}-report-{stamp}.docx"
    DownloadRecord.objects.create(
        user=user,
        at=now,
        consultation=consultation,
        format="report-docx",
        variant=Variant.ANONYMISED,
        channel=Channel.WORKSPACE,
        filters=described,
        filename=filename,
        row_count=figures.results.total,
        byte_count=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        complete=True,
    )
    return Download(
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        chunks=iter([data]),
    )
