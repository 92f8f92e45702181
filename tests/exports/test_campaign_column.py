"""Campaigns in the downloads: each open question's answer has a column naming the
campaign it is in, and the campaign switch of the results views narrows downloads too."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone
from docx import Document

from consult.analysis.campaigns import consultation_campaigns_detect
from consult.analysis.models import Campaign
from consult.analysis.services import campaign_confirm
from consult.exports.models import DownloadRecord
from tests.analysis.conftest import respond
from tests.exports.readers import fetch, read_csv, read_jsonl, read_xlsx, xlsx_rows

BAN = "Ban live facial recognition in public places now. It treats everyone as a suspect."
SENT = timezone.now() - timedelta(hours=1)


@pytest.fixture
def campaign(consultation):
    members = [respond(consultation, SENT, anything_else=BAN) for _ in range(5)]
    others = [
        respond(consultation, SENT, anything_else=f"My own view, number {n}.") for n in (1, 2)
    ]
    consultation_campaigns_detect(consultation=consultation, now=timezone.now())
    found = Campaign.objects.get()
    return found, {r.reference for r in members}, {r.reference for r in others}


def test_csv_names_the_campaign_of_each_answer_in_one(analyst_client, consultation, campaign):
    found, members, others = campaign
    _, body = fetch(analyst_client, consultation.slug, "csv", "anonymised")
    header, rows = read_csv(body)
    assert header.index("anything_else__campaign") == header.index("anything_else") + 1
    column = {row["reference"]: row["anything_else__campaign"] for row in rows}
    label = f"{found.pk}: {found.name} (not confirmed)"
    assert column == {reference: label for reference in members} | dict.fromkeys(others, "")
    assert {row["other_safeguards__campaign"] for row in rows} == {""}


def test_confirmed_campaigns_are_named_without_the_caveat_in_every_format(
    analyst_client, analyst, consultation, campaign
):
    found, members, _ = campaign
    campaign_confirm(campaign=found, user=analyst, now=timezone.now())
    label = f"{found.pk}: {found.name}"

    _, body = fetch(analyst_client, consultation.slug, "jsonl", "anonymised")
    named = {r["reference"]: r["campaigns"] for r in read_jsonl(body)}
    assert {ref for ref, campaigns in named.items() if campaigns} == members
    assert {str(c) for c in named.values() if c} == {str({"anything_else": label})}

    _, body = fetch(analyst_client, consultation.slug, "xlsx", "anonymised")
    _, rows = xlsx_rows(read_xlsx(body)["responses"])
    assert {row["reference"] for row in rows if row["anything_else__campaign"] == label} == members


@pytest.mark.parametrize(("how", "kept"), [("excluded", 0), ("once", 1)])
def test_a_download_counts_confirmed_campaigns_as_the_results_views_do(
    analyst_client, analyst, consultation, campaign, how, kept
):
    found, members, others = campaign
    campaign_confirm(campaign=found, user=analyst, now=timezone.now())
    _, body = fetch(analyst_client, consultation.slug, "csv", "anonymised", [("campaigns", how)])
    references = {row["reference"] for row in read_csv(body)[1]}
    assert others <= references
    assert len(references & members) == kept
    if kept:
        assert references & members == {found.kept_response.reference}
    described = {"once": "Campaigns counted once", "excluded": "Campaigns excluded"}[how]
    assert DownloadRecord.objects.get().filters == {"campaigns": described}


def test_the_reports_say_how_campaigns_were_counted(
    analyst_client, analyst, consultation, campaign
):
    found, _, others = campaign
    campaign_confirm(campaign=found, user=analyst, now=timezone.now())
    page = analyst_client.get(f"/analysis/{consultation.slug}/report/?campaigns=once")
    assert "campaigns counted once (confirmed campaigns only);" in page.content.decode()

    reply = analyst_client.get(f"/analysis/{consultation.slug}/report.docx?campaigns=excluded")
    document = Document(io.BytesIO(b"".join(reply.streaming_content)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "campaigns excluded (confirmed campaigns only)" in text
    first_table = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert ["In this report (after filters)", str(len(others))] in first_table
