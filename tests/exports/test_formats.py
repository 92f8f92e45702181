"""Every format read back with the tool an analyst uses, compared with the generated answers:
csv and pandas, openpyxl, json, frictionless and pyreadstat."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import datetime, timedelta

import pandas as pd
import pytest
from django.utils import timezone

from consult.exports.tables import columns
from consult.responses.models import Answer, Response
from tests.exports.readers import (
    BOM,
    PERSONAL,
    as_text,
    expected_nested,
    expected_rows,
    fetch,
    filename_of,
    filename_pattern,
    read_csv,
    read_jsonl,
    read_statistics,
    read_xlsx,
    read_zip,
    xlsx_rows,
)

pytestmark = pytest.mark.django_db

VARIANTS = ["anonymised", "full"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_csv_read_with_the_csv_module_holds_one_row_per_counted_response(
    made, controller_client, variant
):
    response, body = fetch(controller_client, made.slug, "csv", variant)
    table = columns(made.spec, variant)

    header, rows = read_csv(body)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(filename_pattern(made.slug, variant, "csv"), filename_of(response))
    assert not body.startswith(BOM)
    assert header == [column.name for column in table]
    assert len(rows) == len(made.sent) == 32
    assert rows == as_text(expected_rows(made.sent, table, variant))


@pytest.mark.parametrize("variant", VARIANTS)
def test_csv_values_are_codes_flags_and_matrix_rows(made, controller_client, variant):
    _, body = fetch(controller_client, made.slug, "csv", variant)
    rows = read_csv(body)[1]
    first, answers = rows[0], made.sent[0].answers

    assert first["respondent_type"] == answers["respondent_type"][0]
    for row_key in ("lfr_by_operator__police", "safeguard_importance__specific_law"):
        assert first[row_key] == answers[row_key][0]
    for option in made.spec.by_key["lfr_purposes"].options:
        assert first[f"lfr_purposes__{option.code}"] == str(
            int(option.code in answers["lfr_purposes"])
        )
    assert first["other_safeguards"] == answers.get("other_safeguards", "")


def test_a_multiple_choice_left_unanswered_gives_blank_flags_not_zeros(made, controller_client):
    """Every multiple choice here is required, so take one response's answers away (as for
    a question added to the definition after the response was sent)."""
    target = made.sent[2]
    Answer.objects.filter(
        response__reference=target.reference, question__key="main_concerns"
    ).delete()
    options = made.spec.by_key["main_concerns"].options

    _, csv_body = fetch(controller_client, made.slug, "csv", "anonymised")
    _, xlsx_body = fetch(controller_client, made.slug, "xlsx", "anonymised")
    _, jsonl_body = fetch(controller_client, made.slug, "jsonl", "anonymised")
    _, sav_body = fetch(controller_client, made.slug, "sav", "anonymised")

    rows = read_csv(csv_body)[1]
    cells = xlsx_rows(read_xlsx(xlsx_body)["responses"])[1]
    records = read_jsonl(jsonl_body)
    frame, _ = read_statistics(sav_body, "sav")
    for number, sent in enumerate(made.sent):
        flags = [f"main_concerns__{o.code}" for o in options]
        if sent is target:
            assert [rows[number][f] for f in flags] == [""] * len(flags)
            assert [cells[number][f] for f in flags] == [""] * len(flags)
            assert "main_concerns" not in records[number]["answers"]
            assert all(math.isnan(frame[f][number]) for f in flags)
        else:
            chosen = sent.codes("main_concerns")
            assert [rows[number][f] for f in flags] == [str(int(o.code in chosen)) for o in options]
            assert [cells[number][f] for f in flags] == [int(o.code in chosen) for o in options]
            assert records[number]["answers"]["main_concerns"] == list(chosen)


@pytest.mark.parametrize("variant", VARIANTS)
def test_csv_read_with_pandas(made, controller_client, variant):
    _, body = fetch(controller_client, made.slug, "csv", variant)
    table = columns(made.spec, variant)
    expected = expected_rows(made.sent, table, variant)

    text = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
    typed = pd.read_csv(io.BytesIO(body))

    assert list(text.columns) == [column.name for column in table]
    assert len(text) == len(made.sent)
    assert text.to_dict("records") == as_text(expected)
    flags = [column.name for column in table if column.type == "flag"]
    for name in flags:
        assert typed[name].dtype.kind in "if", name
        wanted = [row[name] for row in expected]
        got = [None if math.isnan(value) else int(value) for value in typed[name]]
        assert got == [None if value == "" else value for value in wanted], name
    times = pd.to_datetime(typed["submitted_at"], utc=True)
    assert list(times) == [pd.Timestamp(sent.submitted_at) for sent in made.sent]


@pytest.mark.parametrize("variant", VARIANTS)
def test_csv_labels_gives_option_labels(made, controller_client, variant):
    response, body = fetch(controller_client, made.slug, "csv-labels", variant)
    table = columns(made.spec, variant)

    header, rows = read_csv(body)

    assert re.fullmatch(
        filename_pattern(made.slug, f"{variant}-labels", "csv"), filename_of(response)
    )
    assert header == [column.name for column in table]
    assert rows == as_text(expected_rows(made.sent, table, variant, labels=True))
    assert {row["respondent_type"] for row in rows} <= {
        "As an individual",
        "On behalf of an organisation",
    }


@pytest.mark.parametrize("variant", VARIANTS)
def test_csv_for_excel_starts_with_a_byte_order_mark(made, controller_client, variant):
    response, body = fetch(controller_client, made.slug, "csv-excel", variant)
    _, labels = fetch(controller_client, made.slug, "csv-labels", variant)

    assert body.startswith(BOM)
    assert body[len(BOM) :] == labels
    assert re.fullmatch(
        filename_pattern(made.slug, f"{variant}-labels", "csv"), filename_of(response)
    )
    reader = csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline=""))
    assert reader.fieldnames[0] == "reference"
    table = columns(made.spec, variant)
    assert list(reader) == as_text(expected_rows(made.sent, table, variant, labels=True))


@pytest.mark.parametrize("variant", VARIANTS)
def test_xlsx_has_responses_codebook_and_about_sheets(made, controller_client, variant):
    before = timezone.now().replace(microsecond=0)
    response, body = fetch(controller_client, made.slug, "xlsx", variant)
    table = columns(made.spec, variant)

    sheets = read_xlsx(body)

    assert re.fullmatch(filename_pattern(made.slug, variant, "xlsx"), filename_of(response))
    assert list(sheets) == ["responses", "codebook", "about"]
    header, rows = xlsx_rows(sheets["responses"])
    assert header == [column.name for column in table]
    assert rows == expected_rows(made.sent, table, variant)  # codes, and flags as numbers
    codebook = sheets["codebook"]
    assert codebook[0] == (
        "column",
        "question_key",
        "label",
        "type",
        "code",
        "code_label",
        "scale_value",
    )
    assert {row[0] for row in codebook[1:]} == {column.name for column in table}
    about = {row[0]: row[1] for row in sheets["about"]}
    assert about["Title"] == f"Live facial recognition in public places: {variant} responses"
    assert about["Consultation"] == "Live facial recognition in public places"
    assert about["Filters"] == "none"
    assert about["Rows"] == len(made.sent)
    generated = datetime.fromisoformat(about["Generated at (UTC)"])
    assert generated.utcoffset() == timedelta(0)
    assert before <= generated <= timezone.now()


@pytest.mark.parametrize("variant", VARIANTS)
def test_json_lines_nest_the_answers(made, controller_client, variant):
    response, body = fetch(controller_client, made.slug, "jsonl", variant)

    records = read_jsonl(body)

    assert re.fullmatch(filename_pattern(made.slug, variant, "jsonl"), filename_of(response))
    assert len(records) == len(made.sent)
    for record, sent in zip(records, made.sent, strict=True):
        assert record["reference"] == sent.reference
        assert record["submitted_at"] == sent.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert record["language"] == "en"
        answers = {k: v for k, v in record["answers"].items() if k not in PERSONAL}
        assert answers == expected_nested(sent, made.spec)
        if variant == "full":
            for name in PERSONAL:
                assert record[name] == sent.answers.get(name, "")
        else:
            assert not set(PERSONAL) & (record.keys() | record["answers"].keys())
    first = records[0]["answers"]
    assert isinstance(first["lfr_by_operator"], dict)
    assert first["lfr_by_operator"]["police"] == made.sent[0].answers["lfr_by_operator__police"][0]
    assert first["lfr_purposes"] == list(made.sent[0].answers["lfr_purposes"])


def test_codebook_csv_lists_every_column_and_option(made, controller_client):
    response, body = fetch(controller_client, made.slug, "codebook-csv", "full")
    table = columns(made.spec, "full")

    header, rows = read_csv(body)

    assert re.fullmatch(filename_pattern(made.slug, "codebook", "csv"), filename_of(response))
    assert header == [
        "column",
        "question_key",
        "label",
        "type",
        "code",
        "code_label",
        "scale_value",
    ]
    assert list(dict.fromkeys(row["column"] for row in rows)) == [c.name for c in table]
    for column in table:
        entries = [row for row in rows if row["column"] == column.name]
        assert {row["label"] for row in entries} == {column.label}
        assert {row["type"] for row in entries} == {column.type}
        if column.type == "code":
            assert [(row["code"], row["code_label"]) for row in entries] == [
                (option.code, option.label) for option in column.question.options
            ]
        elif column.type == "flag":
            assert [row["code"] for row in entries] == ["1"]
            assert column.option.label in entries[0]["code_label"]
    scale = [row for row in rows if row["column"] == "feel_safer"]
    assert [row["scale_value"] for row in scale] == ["2", "1", "0", "-1", "-2", ""]


def test_codebook_json_lists_every_column_and_option(made, controller_client):
    response, body = fetch(controller_client, made.slug, "codebook-json", "anonymised")
    table = columns(made.spec, "anonymised")

    entries = json.loads(body)["columns"]

    assert response["Content-Type"] == "application/json"
    assert re.fullmatch(filename_pattern(made.slug, "codebook", "json"), filename_of(response))
    assert [entry["name"] for entry in entries] == [column.name for column in table]
    for entry, column in zip(entries, table, strict=True):
        assert entry["label"] == column.label
        assert entry["type"] == column.type
        if column.type == "code":
            assert entry["question"] == column.question.key
            assert [(o["code"], o["label"], o["value"]) for o in entry["options"]] == [
                (o.code, o.label, o.value) for o in column.question.options
            ]
    respondent_type = next(e for e in entries if e["name"] == "respondent_type")
    assert {o["code"]: o["label"] for o in respondent_type["options"]} == {
        "individual": "As an individual",
        "organisation": "On behalf of an organisation",
    }


@pytest.mark.parametrize("variant", VARIANTS)
def test_data_package_validates_with_frictionless(made, controller_client, variant, tmp_path):
    from frictionless import validate

    response, body = fetch(controller_client, made.slug, "datapackage", variant)
    _, plain = fetch(controller_client, made.slug, "csv", variant)
    _, codebook = fetch(controller_client, made.slug, "codebook-csv", variant)

    files = read_zip(body)
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    report = validate(str(tmp_path / "datapackage.json"))

    assert re.fullmatch(filename_pattern(made.slug, variant, "zip"), filename_of(response))
    assert set(files) == {"responses.csv", "codebook.csv", "datapackage.json", "README.md"}
    assert report.valid, report.flatten(["type", "note"])
    assert files["responses.csv"] == plain
    assert files["codebook.csv"] == codebook
    package = json.loads(files["datapackage.json"])
    schema = package["resources"][0]["schema"]
    assert [f["name"] for f in schema["fields"]] == [c.name for c in columns(made.spec, variant)]
    assert report.stats["tasks"] == 2


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("extension", ["sav", "dta"])
def test_spss_and_stata_keep_variable_and_value_labels(made, controller_client, variant, extension):
    response, body = fetch(controller_client, made.slug, extension, variant)
    table = columns(made.spec, variant)
    expected = expected_rows(made.sent, table, variant)

    frame, meta = read_statistics(body, extension)
    labelled, _ = read_statistics(body, extension, apply_value_formats=True)

    assert re.fullmatch(filename_pattern(made.slug, variant, extension), filename_of(response))
    assert len(frame) == meta.number_rows == len(made.sent)
    names = meta.column_names
    assert len(names) == len(table) == len(set(names))
    if extension == "dta":
        assert all(len(name) <= 30 for name in names)
        # Stata holds 80 characters of label, keeping the row or option that sets each apart
        # (readstat drops a trailing space).
        assert meta.column_labels == [column.short_label(80).rstrip() for column in table]
        assert all(len(label) <= 80 for label in meta.column_labels)
    else:
        assert names == [column.name for column in table]
        assert meta.column_labels == [column.label for column in table]
    by_column = dict(zip((c.name for c in table), names, strict=True))
    assert meta.variable_value_labels[by_column["respondent_type"]] == {
        1.0: "As an individual",
        2.0: "On behalf of an organisation",
    }
    for column in table:
        name = by_column[column.name]
        wanted = [row[column.name] for row in expected]
        if column.type == "code":
            options = column.question.options
            assert meta.variable_value_labels[name] == {
                float(i): o.label[:80] if extension == "dta" else o.label
                for i, o in enumerate(options, 1)
            }
            numbers = {o.code: float(i) for i, o in enumerate(options, 1)}
            got = [None if math.isnan(v) else v for v in frame[name]]
            assert got == [numbers.get(code) for code in wanted], column.name
            labels = {o.code: o.label for o in options}
            shown = [None if pd.isna(v) else v for v in labelled[name].astype(object)]
            assert shown == [labels.get(code) for code in wanted], column.name
        elif column.type == "flag":
            got = [None if math.isnan(v) else int(v) for v in frame[name]]
            assert got == [None if v == "" else v for v in wanted], column.name
        else:
            assert list(frame[name]) == wanted, column.name


def test_stata_variable_labels_tell_the_columns_apart(made, controller_client):
    """Stata keeps 80 characters of a variable label. A matrix row's or a multiple-choice
    option's label starts with its (long) question, so cutting the end off leaves every
    row of "lfr_by_operator" (and every option of "lfr_purposes") with the same label."""
    _, body = fetch(controller_client, made.slug, "dta", "anonymised")
    table = columns(made.spec, "anonymised")

    _, meta = read_statistics(body, "dta")

    labels = dict(zip((c.name for c in table), meta.column_labels, strict=True))
    operators = [labels[f"lfr_by_operator__{row}"] for row in ("police", "shops", "employers")]
    assert len(set(operators)) == 3, operators
    purposes = [labels[f"lfr_purposes__{o.code}"] for o in made.spec.by_key["lfr_purposes"].options]
    assert len(set(purposes)) == len(purposes), purposes


@pytest.mark.parametrize("extension", ["sav", "dta"])
def test_long_and_non_ascii_free_text_survives_spss_and_stata(made, controller_client, extension):
    """A long answer may hold 5,000 characters: more than Stata's str2045 and SPSS's
    short strings, and not all of them ASCII."""
    text = ("Mae’n hanfodol — oversight ŵ ŷ 😀. " * 200)[:5000]
    target = made.sent[0]
    Answer.objects.filter(
        response__reference=target.reference, question__key="anything_else"
    ).delete()
    Answer.objects.create(
        response=Response.objects.get(reference=target.reference),
        question_id=made.spec.by_key["anything_else"].id,
        text=text,
    )

    _, body = fetch(controller_client, made.slug, extension, "anonymised")

    frame, _ = read_statistics(body, extension)
    assert frame["anything_else"][0] == text
    assert list(frame["anything_else"][1:]) == [
        sent.answers.get("anything_else", "") for sent in made.sent[1:]
    ]
