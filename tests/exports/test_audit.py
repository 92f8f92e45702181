"""The download log: one append-only record per download, whose hash is of the bytes sent."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, date, timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from consult.analysis.queries import Filters
from consult.audit import AppendOnlyError
from consult.exports import formats
from consult.exports.models import Channel, DownloadRecord
from consult.exports.services import download_make, filters_described
from consult.exports.views import LOG_COLUMNS
from tests.exports.conftest import client_for, user_make
from tests.exports.readers import (
    ALL_FORMATS,
    CODEBOOK_FORMATS,
    download_url,
    fetch,
    filename_of,
    references_in,
)

pytestmark = pytest.mark.django_db

FILTER_QUERY = [("a", "respondent_type:organisation"), ("from", "2026-10-20")]


@pytest.mark.parametrize("format_key", ALL_FORMATS)
def test_each_download_writes_one_record_of_what_was_sent(
    made, controller, controller_client, format_key
):
    before = timezone.now()
    response, body = fetch(controller_client, made.slug, format_key, "anonymised")

    record = DownloadRecord.objects.get()

    assert record.user == controller
    assert record.consultation == made.consultation
    assert (record.format, record.variant, record.channel) == (
        format_key,
        "anonymised",
        "workspace",
    )
    assert record.filters == {}
    assert record.filename == filename_of(response)
    stamp = record.at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    label = "codebook" if format_key in CODEBOOK_FORMATS else "anonymised"
    assert record.filename.startswith(f"{made.slug}-{label}")
    assert record.filename.rsplit(".", 1)[0].endswith(f"-{stamp}")
    assert record.byte_count == len(body)
    assert record.sha256 == hashlib.sha256(body).hexdigest()
    assert record.complete is True
    assert before <= record.at <= timezone.now()
    if format_key in CODEBOOK_FORMATS:
        assert record.row_count == 0  # a codebook holds no responses
    else:
        assert record.row_count == len(references_in(format_key, body)) == len(made.sent)


@pytest.mark.parametrize("variant", ["publishable", "full"])
def test_the_record_counts_the_rows_of_the_variant_and_filters(made, controller_client, variant):
    _, body = fetch(controller_client, made.slug, "csv", variant, FILTER_QUERY)

    record = DownloadRecord.objects.get()

    assert record.variant == variant
    assert record.row_count == len(references_in("csv", body)) > 0
    assert record.row_count < len(made.sent)
    assert record.filters == filters_described(
        Filters(
            answers={"respondent_type": frozenset({"organisation"})},
            submitted_from=date(2026, 10, 20),
        )
    )
    assert record.filters == {
        "answers": {"respondent_type": ["organisation"]},
        "from": "2026-10-20",
    }


def test_a_download_cut_short_is_recorded_as_incomplete(made, controller, monkeypatch):
    monkeypatch.setattr(formats, "FLUSH_EVERY", 5)
    download = download_make(
        user=controller,
        consultation=made.consultation,
        spec=made.spec,
        format_key="csv",
        variant="full",
        filters=Filters(),
        channel=Channel.WORKSPACE,
        now=timezone.now(),
    )
    first = next(download.chunks)
    assert DownloadRecord.objects.count() == 0  # not until the download ends
    # When the client goes away, the WSGI server closes the response, which closes the
    # stream of chunks part-way.
    download.chunks.close()

    record = DownloadRecord.objects.get()
    assert record.complete is False
    assert record.byte_count == len(first)
    assert record.sha256 == hashlib.sha256(first).hexdigest()
    assert record.row_count == len(references_in("csv", first)) == 5


@pytest.mark.parametrize(
    ("format_key", "variant"), [("pdf", "anonymised"), ("csv", "everything"), ("", "")]
)
def test_an_unknown_format_or_variant_is_refused(made, controller_client, format_key, variant):
    response = controller_client.get(download_url(made.slug, format_key, variant))

    assert response.status_code == 403
    assert DownloadRecord.objects.count() == 0


def test_a_refused_download_writes_no_record(made, analyst_client):
    response = analyst_client.get(download_url(made.slug, "csv", "full"))

    assert response.status_code == 403
    assert DownloadRecord.objects.count() == 0


# ------------------------------------------------------------------------------ append-only


@pytest.fixture
def record(made, controller_client) -> DownloadRecord:
    fetch(controller_client, made.slug, "csv", "anonymised")
    return DownloadRecord.objects.get()


def test_a_record_cannot_be_saved_again(record):
    record.row_count = 0
    record.sha256 = "0" * 64

    with pytest.raises(AppendOnlyError):
        record.save()
    with pytest.raises(AppendOnlyError):
        record.save(update_fields=["row_count"])

    stored = DownloadRecord.objects.get()
    assert stored.row_count > 0
    assert stored.sha256 != "0" * 64


def test_a_record_cannot_be_deleted(record):
    with pytest.raises(AppendOnlyError):
        record.delete()

    assert DownloadRecord.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        lambda records: records.update(row_count=0),
        lambda records: records.delete(),
        lambda records: records.filter(format="csv").update(complete=False),
        lambda records: records.filter(format="csv").delete(),
        lambda records: records.bulk_update(list(records.all()), ["row_count"]),
    ],
    ids=["update", "delete", "filter-update", "filter-delete", "bulk-update"],
)
def test_records_cannot_be_changed_in_bulk(record, change):
    with pytest.raises(AppendOnlyError), transaction.atomic():
        change(DownloadRecord.objects)

    stored = DownloadRecord.objects.get()
    assert (stored.row_count, stored.complete) == (record.row_count, True)


def test_the_admin_refuses_to_add_change_or_delete(record):
    superuser = User.objects.create_superuser("root", "root@example.org", "x")
    model_admin = admin.site._registry[DownloadRecord]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    client = client_for(superuser)
    change = reverse("admin:exports_downloadrecord_change", args=[record.pk])

    assert model_admin.has_add_permission(request) is False
    assert model_admin.has_change_permission(request, record) is False
    assert model_admin.has_delete_permission(request, record) is False
    assert "delete_selected" not in model_admin.get_actions(request)
    assert client.get(reverse("admin:exports_downloadrecord_add")).status_code == 403
    assert client.post(change, {"row_count": 0}).status_code == 403
    delete = reverse("admin:exports_downloadrecord_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:exports_downloadrecord_changelist")).status_code == 200
    stored = DownloadRecord.objects.get()
    assert stored.row_count == record.row_count


# ------------------------------------------------------------------------------ the log


@pytest.fixture
def two_downloads(made, analyst, analyst_client, controller_client) -> list[DownloadRecord]:
    fetch(analyst_client, made.slug, "csv", "publishable", FILTER_QUERY)
    fetch(controller_client, made.slug, "jsonl", "full")
    return list(DownloadRecord.objects.order_by("at", "pk"))


@pytest.mark.parametrize("name", ["exports:log", "exports:log_csv"])
def test_analysts_cannot_see_the_log(two_downloads, analyst_client, name):
    assert analyst_client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", ["exports:log", "exports:log_csv"])
def test_people_without_a_role_cannot_see_the_log(two_downloads, client, name):
    assert client.get(reverse(name)).status_code == 302
    nobody = client_for(user_make("nobody"))
    assert nobody.get(reverse(name)).status_code == 403


def test_data_controllers_see_every_download_in_the_log(two_downloads, controller_client):
    page = controller_client.get(reverse("exports:log"))

    assert page.status_code == 200
    assert list(page.context["records"]) == sorted(two_downloads, key=lambda r: r.at, reverse=True)
    for record in two_downloads:
        assert record.filename in page.content.decode()
        assert record.sha256 in page.content.decode()
    assert "analyst (workspace)" in page.content.decode()


def test_the_log_csv_lists_every_record(two_downloads, controller_client):
    response = controller_client.get(reverse("exports:log_csv"))
    reader = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))

    rows = list(reader)

    assert reader.fieldnames == LOG_COLUMNS
    assert len(rows) == 2
    for row, record in zip(rows, two_downloads, strict=True):
        assert row["at"] == record.at.isoformat()
        assert row["user"] == record.user.username
        assert row["consultation"] == record.consultation.slug
        assert (row["format"], row["variant"], row["channel"]) == (
            record.format,
            record.variant,
            "workspace",
        )
        assert row["filename"] == record.filename
        assert row["row_count"] == str(record.row_count)
        assert row["byte_count"] == str(record.byte_count)
        assert row["sha256"] == record.sha256
        assert row["complete"] == "True"
    assert abs(timezone.now() - two_downloads[0].at) < timedelta(minutes=1)


def test_the_log_csv_gives_filters_as_json(two_downloads, controller_client):
    """The filters column should be machine-readable (JSON), as the record stores it."""
    response = controller_client.get(reverse("exports:log_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert json.loads(rows[0]["filters"]) == two_downloads[0].filters
    assert json.loads(rows[1]["filters"]) == {}
