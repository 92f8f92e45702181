"""Helpers for the download tests: fetch a download, read each format back with the tool an
analyst would use, and compute the values a download should hold from the generated answers
(not from the database or the code under test)."""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.test import Client
from django.urls import reverse

from consult.exports.tables import Column
from tests.exports.conftest import Sent

PERSONAL = ("name", "organisation_name", "email")
TABLE_FORMATS = ["csv", "csv-labels", "csv-excel", "xlsx", "jsonl", "datapackage", "sav", "dta"]
CODEBOOK_FORMATS = ["codebook-csv", "codebook-json"]
ALL_FORMATS = TABLE_FORMATS + CODEBOOK_FORMATS
VARIANTS = ["publishable", "anonymised", "full"]
BOM = b"\xef\xbb\xbf"
STAMP = r"\d{8}T\d{6}Z"


def download_url(slug: str, format_key: str, variant: str, query: list[tuple[str, str]] = ()):
    params = [("format", format_key), ("variant", variant), *query]
    return f"{reverse('exports:download', args=[slug])}?{urlencode(params)}"


def fetch(
    client: Client, slug: str, format_key: str, variant: str, query: list[tuple[str, str]] = ()
) -> tuple[Any, bytes]:
    """The response and every byte of its body (which writes the audit record)."""
    response = client.get(download_url(slug, format_key, variant, query))
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content)
    return response, body


def filename_of(response) -> str:
    disposition = response["Content-Disposition"]
    match = re.fullmatch(r'attachment; filename="([^"]+)"', disposition)
    assert match, disposition
    return match.group(1)


# ----------------------------------------------------------------------------- readers


def read_csv(body: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows, read with the csv module (a BOM, if any, is left to the caller)."""
    reader = csv.reader(io.StringIO(body.decode("utf-8"), newline=""))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def read_xlsx(body: bytes) -> dict[str, list[tuple[Any, ...]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(body))
    return {
        sheet.title: [tuple(row) for row in sheet.iter_rows(values_only=True)]
        for sheet in workbook.worksheets
    }


def xlsx_rows(sheet: list[tuple[Any, ...]]) -> tuple[list[str], list[dict[str, Any]]]:
    header = list(sheet[0])
    rows = [
        {name: "" if value is None else value for name, value in zip(header, row, strict=True)}
        for row in sheet[1:]
    ]
    return header, rows


def read_jsonl(body: bytes) -> list[dict[str, Any]]:
    text = body.decode("utf-8")
    assert text.endswith("\n")
    # Split on "\n" only: str.splitlines would also split on U+2028 inside a value.
    return [json.loads(line) for line in text[:-1].split("\n")]


def read_zip(body: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def read_statistics(body: bytes, extension: str, **options: Any):
    """A .sav or .dta read back with pyreadstat: (data frame, metadata)."""
    import pyreadstat

    read = pyreadstat.read_sav if extension == "sav" else pyreadstat.read_dta
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"download.{extension}"
        path.write_bytes(body)
        return read(str(path), **options)


def references_in(format_key: str, body: bytes) -> list[str]:
    """The response references a download of any table format holds, in order."""
    if format_key in {"csv", "csv-labels", "csv-excel"}:
        if format_key == "csv-excel":
            assert body.startswith(BOM)
            body = body[len(BOM) :]
        return [row["reference"] for row in read_csv(body)[1]]
    if format_key == "datapackage":
        return [row["reference"] for row in read_csv(read_zip(body)["responses.csv"])[1]]
    if format_key == "xlsx":
        return [row["reference"] for row in xlsx_rows(read_xlsx(body)["responses"])[1]]
    if format_key == "jsonl":
        return [record["reference"] for record in read_jsonl(body)]
    if format_key in {"sav", "dta"}:
        frame, _meta = read_statistics(body, format_key)
        return list(frame["reference"])
    raise AssertionError(format_key)


# ----------------------------------------------------------------------------- expected


def expected_value(sent: Sent, column: Column, variant: str, *, labels: bool = False) -> Any:
    """What a download's cell should hold, from the answers the generator gave."""
    answers = sent.answers
    if column.name == "reference":
        return sent.reference
    if column.name == "submitted_at":
        return sent.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if column.name == "language":
        return "en"
    if column.name == "channel":
        return sent.channel
    if column.name == "document":
        return ""  # none attached to these tests' responses: test_documents.py
    if column.name in PERSONAL:
        if variant == "publishable" and sent.codes("publication") != ("publish_named",):
            return ""
        return answers.get(column.name, "")
    if column.campaign_of is not None:
        return ""  # no campaigns detected in these tests' responses: test_campaign_column
    assert column.question is not None
    value = answers.get(column.question.key)
    if column.type == "flag":
        assert column.option is not None
        return "" if value is None else int(column.option.code in value)
    if column.type == "code":
        if not value:
            return ""
        option = column.question.option_by_code(value[0])
        assert option is not None
        return option.label if labels else option.code
    return "" if value is None else value


def expected_rows(
    sent: list[Sent], table: list[Column], variant: str, *, labels: bool = False
) -> list[dict[str, Any]]:
    return [
        {column.name: expected_value(each, column, variant, labels=labels) for column in table}
        for each in sent
    ]


def as_text(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Rows as a CSV reader gives them back."""
    return [{name: str(value) for name, value in row.items()} for row in rows]


def expected_nested(sent: Sent, spec) -> dict[str, Any]:
    """A response's answers nested as JSON Lines should give them (personal details apart):
    a matrix as {row code: option code}, a multiple choice as a list of codes, a single
    choice as its code and text as it was written."""
    answers = sent.answers
    nested: dict[str, Any] = {}
    for section in spec.sections:
        for question in section.questions:
            if question.key in PERSONAL:
                continue
            if question.rows:
                chosen = {
                    row.key.split("__", 1)[1]: answers[row.key][0]
                    for row in question.rows
                    if row.key in answers
                }
                if chosen:
                    nested[question.key] = chosen
            elif question.key not in answers:
                continue
            elif question.type == "multiple_choice":
                nested[question.key] = list(answers[question.key])
            elif question.options:
                nested[question.key] = answers[question.key][0]
            else:
                nested[question.key] = answers[question.key]
    return nested


def filename_pattern(slug: str, label: str, extension: str) -> str:
    return rf"{re.escape(slug)}-{re.escape(label)}-{STAMP}\.{re.escape(extension)}"
