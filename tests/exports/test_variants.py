"""Which responses and details each variant holds, and which roles may take it."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from django.urls import reverse

from consult.analysis.models import Role
from consult.exports.models import DownloadRecord
from consult.exports.tables import columns
from consult.responses.models import Answer, Response
from tests.exports.conftest import client_for, user_make
from tests.exports.readers import (
    PERSONAL,
    TABLE_FORMATS,
    VARIANTS,
    download_url,
    fetch,
    read_csv,
    read_jsonl,
    read_statistics,
    read_xlsx,
    references_in,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db

PUBLISHED = {"publish_named", "publish_anonymous"}


def publishable(made):
    return [sent for sent in made.sent if sent.codes("publication")[0] in PUBLISHED]


def answer_text_set(made, reference: str, key: str, text: str) -> None:
    """Give a response's free-text answer new words, as if the respondent had typed them."""
    question = made.spec.by_key[key]
    response = Response.objects.get(reference=reference)
    Answer.objects.update_or_create(
        response=response, question_id=question.id, option=None, defaults={"text": text}
    )


def test_the_generated_responses_cover_every_publication_choice(made):
    choices = Counter(sent.codes("publication")[0] for sent in made.sent)
    assert set(choices) == {"publish_named", "publish_anonymous", "do_not_publish"}
    assert all(count >= 3 for count in choices.values()), choices
    assert any(sent.answers.get("email") for sent in made.sent)
    assert any(sent.answers.get("organisation_name") for sent in publishable(made))


# ------------------------------------------------------------------------- who may take what


@pytest.mark.parametrize(
    ("role", "variant", "status"),
    [
        (Role.ANALYST, "publishable", 200),
        (Role.ANALYST, "anonymised", 200),
        (Role.ANALYST, "full", 403),
        (Role.DATA_CONTROLLER, "publishable", 200),
        (Role.DATA_CONTROLLER, "anonymised", 200),
        (Role.DATA_CONTROLLER, "full", 200),
        (None, "publishable", 403),
        (None, "anonymised", 403),
        (None, "full", 403),
    ],
)
@pytest.mark.parametrize("format_key", ["csv", "xlsx"])
def test_each_role_takes_only_its_variants(made, role, variant, status, format_key):
    user = user_make("someone", *([role] if role else []))
    client = client_for(user)

    response = client.get(download_url(made.slug, format_key, variant))

    assert response.status_code == status
    if status == 200:
        body = b"".join(response.streaming_content)
        assert len(references_in(format_key, body)) > 0
        record = DownloadRecord.objects.get()
        assert (record.user, record.variant, record.format) == (user, variant, format_key)
    else:
        assert not response.streaming
        assert DownloadRecord.objects.count() == 0


@pytest.mark.parametrize("variant", VARIANTS)
def test_anonymous_people_are_sent_to_sign_in(made, client, variant):
    url = download_url(made.slug, "csv", variant)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("analysis:login"))
    assert DownloadRecord.objects.count() == 0


def test_the_downloads_page_offers_only_the_variants_the_role_allows(
    made, analyst_client, controller_client
):
    url = reverse("exports:downloads", args=[made.slug])

    analyst_page = analyst_client.get(url)
    controller_page = controller_client.get(url)

    assert [v.value for v in analyst_page.context["variants"]] == ["publishable", "anonymised"]
    assert b"variant=full" not in analyst_page.content
    assert [v.value for v in controller_page.context["variants"]] == VARIANTS
    assert b"variant=full" in controller_page.content


# ------------------------------------------------------------------------------ publishable


@pytest.mark.parametrize("format_key", TABLE_FORMATS)
def test_publishable_holds_only_responses_whose_authors_agreed(made, analyst_client, format_key):
    _, body = fetch(analyst_client, made.slug, format_key, "publishable")

    assert references_in(format_key, body) == [s.reference for s in publishable(made)]
    assert len(publishable(made)) < len(made.sent)


def test_publishable_gives_names_only_to_those_who_chose_to_be_named(made, analyst_client):
    _, body = fetch(analyst_client, made.slug, "csv", "publishable")

    header, rows = read_csv(body)

    assert "name" in header
    assert "organisation_name" in header
    assert "email" not in header
    assert {row["publication"] for row in rows} == PUBLISHED
    for row, sent in zip(rows, publishable(made), strict=True):
        if row["publication"] == "publish_named":
            assert row["name"] == sent.answers["name"] != ""
            assert row["organisation_name"] == sent.answers.get("organisation_name", "")
        else:
            assert row["name"] == row["organisation_name"] == ""
    anonymous_orgs = [
        s
        for s in publishable(made)
        if s.codes("publication") == ("publish_anonymous",) and s.answers.get("organisation_name")
    ]
    for sent in anonymous_orgs:
        assert sent.answers["organisation_name"].encode() not in body


@pytest.mark.parametrize("format_key", ["csv", "xlsx", "jsonl", "sav"])
@pytest.mark.parametrize("variant", ["publishable", "anonymised"])
def test_no_email_address_leaves_in_publishable_or_anonymised(
    made, analyst_client, format_key, variant
):
    _, body = fetch(analyst_client, made.slug, format_key, variant)

    if format_key == "csv":
        names = read_csv(body)[0]
        assert b"@example.com" not in body
    elif format_key == "xlsx":
        names = xlsx_rows(read_xlsx(body)["responses"])[0]
    elif format_key == "jsonl":
        records = read_jsonl(body)
        names = sorted({k for r in records for k in (*r, *r["answers"])})
        assert b"@example.com" not in body
    else:
        names = read_statistics(body, format_key)[1].column_names
    assert "email" not in names
    if variant == "anonymised":
        assert not set(PERSONAL) & set(names)
    else:
        assert {"name", "organisation_name"} <= set(names)


@pytest.mark.parametrize(
    ("text", "published"),
    [
        ("mail me at a.b@example.org please", "mail me at [email address removed] please"),
        ("call 020 7946 0958 today", "call [phone number removed] today"),
        ("or 07700 900123.", "or [phone number removed]."),
        ("or +44 7700 900123.", "or [phone number removed]."),
        ("ring +44 20 7946 0958", "ring [phone number removed]"),
        (
            "mail me at a.b@example.org or call 020 7946 0958 / +44 7700 900123",
            "mail me at [email address removed] or call [phone number removed]"
            " / [phone number removed]",
        ),
    ],
    ids=["email", "uk-landline", "uk-mobile", "intl-mobile", "intl-landline", "mixed"],
)
def test_publishable_free_text_has_emails_and_phone_numbers_removed(
    made, analyst_client, text, published
):
    target = publishable(made)[1]
    answer_text_set(made, target.reference, "anything_else", text)

    _, csv_body = fetch(analyst_client, made.slug, "csv", "publishable")
    _, jsonl_body = fetch(analyst_client, made.slug, "jsonl", "publishable")
    _, anonymised = fetch(analyst_client, made.slug, "csv", "anonymised")

    row = next(r for r in read_csv(csv_body)[1] if r["reference"] == target.reference)
    record = next(r for r in read_jsonl(jsonl_body) if r["reference"] == target.reference)
    assert row["anything_else"] == published
    assert record["answers"]["anything_else"] == published
    # The stored answer (and the anonymised download, for analysts) are not changed.
    assert (
        Answer.objects.get(response__reference=target.reference, question__key="anything_else").text
        == text
    )
    kept = next(r for r in read_csv(anonymised)[1] if r["reference"] == target.reference)
    assert kept["anything_else"] == text


# ------------------------------------------------------------------------ anonymised, full


def test_anonymised_holds_every_counted_response_and_no_personal_column(made, analyst_client):
    _, body = fetch(analyst_client, made.slug, "csv", "anonymised")

    header, rows = read_csv(body)

    assert [row["reference"] for row in rows] == [s.reference for s in made.sent]
    assert not set(PERSONAL) & set(header)
    assert header == [c.name for c in columns(made.spec, "anonymised")]


def test_full_holds_names_organisations_and_emails(made, controller_client):
    _, body = fetch(controller_client, made.slug, "csv", "full")

    header, rows = read_csv(body)

    assert set(PERSONAL) <= set(header)
    for row, sent in zip(rows, made.sent, strict=True):
        for name in PERSONAL:
            assert row[name] == sent.answers.get(name, "")
    assert any(row["email"] for row in rows)
    assert any(row["name"] for row in rows)


# ------------------------------------------------------------------ withdrawn and drafts


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("format_key", TABLE_FORMATS)
def test_withdrawn_responses_and_drafts_never_appear(made, controller_client, format_key, variant):
    _, body = fetch(controller_client, made.slug, format_key, variant)

    references = references_in(format_key, body)

    expected = publishable(made) if variant == "publishable" else made.sent
    assert references == [sent.reference for sent in expected]
    assert not set(references) & set(made.withdrawn)
    assert not set(references) & set(made.drafts)
    if format_key in {"csv", "csv-labels", "csv-excel", "jsonl"}:
        for reference in made.withdrawn + made.drafts:
            assert reference.encode() not in body


# ---------------------------------------------------------------------------------- filters

FILTER_QUERY = [("a", "respondent_type:organisation"), ("from", "2026-10-20")]


def filtered(made):
    return [
        sent
        for sent in made.sent
        if sent.codes("respondent_type") == ("organisation",) and sent.day >= date(2026, 10, 20)
    ]


@pytest.mark.parametrize("format_key", TABLE_FORMATS)
def test_filters_narrow_every_format_as_they_narrow_the_results(made, analyst_client, format_key):
    expected = [sent.reference for sent in filtered(made)]
    results = analyst_client.get(reverse("analysis:dashboard", args=[made.slug]), FILTER_QUERY)

    _, body = fetch(analyst_client, made.slug, format_key, "anonymised", FILTER_QUERY)

    assert 0 < len(expected) < len(made.sent) / 2
    assert references_in(format_key, body) == expected
    assert results.context["results"].total == len(expected)


def test_filters_are_described_in_the_xlsx_about_sheet(made, analyst_client):
    _, body = fetch(analyst_client, made.slug, "xlsx", "anonymised", FILTER_QUERY)

    about = {row[0]: row[1] for row in read_xlsx(body)["about"]}

    assert about["Rows"] == len(filtered(made))
    assert "respondent_type" in about["Filters"]
    assert "organisation" in about["Filters"]
    assert "2026-10-20" in about["Filters"]


def test_filters_combine_with_the_publishable_rule(made, analyst_client):
    query = [("a", "respondent_type:individual"), ("a", "respondent_type:organisation")]
    query.append(("to", "2026-10-22"))

    _, body = fetch(analyst_client, made.slug, "jsonl", "publishable", query)

    expected = [s.reference for s in publishable(made) if s.day <= date(2026, 10, 22)]
    assert [record["reference"] for record in read_jsonl(body)] == expected
