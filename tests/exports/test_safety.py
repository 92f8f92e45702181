"""Formula injection: text a spreadsheet would run is made inert in CSV and XLSX only."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from consult.analysis.models import Role
from consult.responses.models import Answer, Response
from tests.exports.conftest import client_for, user_make
from tests.exports.readers import (
    BOM,
    fetch,
    read_csv,
    read_jsonl,
    read_statistics,
    read_xlsx,
    read_zip,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db

DANGEROUS = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]
HARMLESS = "Fine = fine, + and - inside"
KEY = "anything_else"


@pytest.fixture
def planted(made) -> dict[str, str]:
    """Seven responses whose last free-text answer is a formula (or a harmless sentence):
    reference -> the text stored."""
    question = made.spec.by_key[KEY]
    texts = dict(zip((s.reference for s in made.sent), [*DANGEROUS, HARMLESS], strict=False))
    for reference, text in texts.items():
        Answer.objects.update_or_create(
            response=Response.objects.get(reference=reference),
            question_id=question.id,
            option=None,
            defaults={"text": text},
        )
    return texts


def neutralised(text: str) -> str:
    return text if text == HARMLESS else "'" + text


@pytest.mark.parametrize("format_key", ["csv", "csv-labels", "csv-excel", "datapackage"])
def test_csv_cells_that_start_a_formula_begin_with_a_quote(
    made, controller_client, planted, format_key
):
    _, body = fetch(controller_client, made.slug, format_key, "full")
    if format_key == "datapackage":
        body = read_zip(body)["responses.csv"]
    body = body.removeprefix(BOM)

    rows = {row["reference"]: row for row in read_csv(body)[1]}

    for reference, text in planted.items():
        assert rows[reference][KEY] == neutralised(text), text
    other = made.sent[len(planted)]
    assert rows[other.reference][KEY] == other.answers.get(KEY, "")


def test_xlsx_cells_that_start_a_formula_begin_with_a_quote(made, controller_client, planted):
    _, body = fetch(controller_client, made.slug, "xlsx", "anonymised")

    rows = {row["reference"]: row for row in xlsx_rows(read_xlsx(body)["responses"])[1]}

    for reference, text in planted.items():
        assert rows[reference][KEY] == neutralised(text), text


def test_xlsx_holds_no_formula_cells(made, controller_client, planted):
    from openpyxl import load_workbook

    _, body = fetch(controller_client, made.slug, "xlsx", "anonymised")

    sheet = load_workbook(io.BytesIO(body))["responses"]

    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_json_lines_keep_the_text_as_written(made, controller_client, planted):
    _, body = fetch(controller_client, made.slug, "jsonl", "full")

    records = {record["reference"]: record for record in read_jsonl(body)}

    for reference, text in planted.items():
        assert records[reference]["answers"][KEY] == text


@pytest.mark.parametrize("extension", ["sav", "dta"])
def test_spss_and_stata_keep_the_text_as_written(made, controller_client, planted, extension):
    _, body = fetch(controller_client, made.slug, extension, "anonymised")

    frame, _ = read_statistics(body, extension)

    texts = dict(zip(frame["reference"], frame[KEY], strict=True))
    for reference, text in planted.items():
        assert texts[reference] == text


def test_the_database_keeps_the_text_as_written(made, controller_client, planted):
    for format_key in ("csv", "xlsx"):
        fetch(controller_client, made.slug, format_key, "full")

    stored = dict(
        Answer.objects.filter(question__key=KEY, response__reference__in=planted).values_list(
            "response__reference", "text"
        )
    )

    assert stored == planted


def test_the_download_log_csv_neutralises_its_cells_too(made):
    """The log is a CSV that data controllers open in a spreadsheet; a user name may start
    with + - or @ (Django allows them), which a spreadsheet would run as a formula."""
    user = user_make("-2+3", Role.DATA_CONTROLLER)
    client = client_for(user)
    fetch(client, made.slug, "csv", "anonymised")

    response = client.get(reverse("exports:log_csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert [row["user"] for row in rows] == ["'-2+3"]


def test_xlsx_text_keeps_markup_and_spacing_and_drops_what_xml_cannot_hold(made, controller_client):
    texts = {
        "a < b & c > d </t></is></c>": "a < b & c > d </t></is></c>",
        "  spaced out  ": "  spaced out  ",
        "two\nlines\r\nand a tab\t.": "two\nlines\r\nand a tab\t.",
        "a bell\x07 and a form feed\x0c": "a bell and a form feed",
        "“quotes” and émoji 🙂": "“quotes” and émoji 🙂",
    }
    question = made.spec.by_key[KEY]
    references = [s.reference for s in made.sent[: len(texts)]]
    for reference, text in zip(references, texts, strict=True):
        Answer.objects.update_or_create(
            response=Response.objects.get(reference=reference),
            question_id=question.id,
            option=None,
            defaults={"text": text},
        )

    _, body = fetch(controller_client, made.slug, "xlsx", "full")

    rows = {row["reference"]: row for row in xlsx_rows(read_xlsx(body)["responses"])[1]}
    assert [rows[reference][KEY] for reference in references] == list(texts.values())
