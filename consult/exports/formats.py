"""Writers for each download format. Streaming formats yield bytes as rows arrive; the
others (XLSX, zip, SPSS, Stata) are written to a temporary file first, then streamed.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from consult.consultations.models import QuestionType
from consult.consultations.queries import ConsultationSpec
from consult.exports.tables import Column, ExportRow

# Spreadsheets run a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FLUSH_EVERY = 500
SELF_SELECTED = (
    "Consultation responses are self-selected: they are not a representative sample of "
    "the population, so do not read the figures as a poll."
)
FILE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class About:
    """What a download says about itself, in its "about" sheet or README."""

    title: str
    consultation: str
    variant: str
    filters: str
    generated_at: str


def neutralise(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made inert with a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def cell(column: Column, row: ExportRow, *, labels: bool = False) -> Any:
    value = row.values.get(column.name, "")
    if labels and column.type == "code" and value != "":
        option = column.question.option_by_code(value) if column.question else None
        return option.label if option else value
    return value


def csv_chunks(
    columns: list[Column], rows: Iterable[ExportRow], *, labels: bool = False, bom: bool = False
) -> Iterator[bytes]:
    """CSV in UTF-8 (with a byte order mark for Excel when asked), one row per response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        yield "\ufeff".encode()
    writer.writerow([column.name for column in columns])
    for number, row in enumerate(rows, start=1):
        writer.writerow([neutralise(cell(column, row, labels=labels)) for column in columns])
        if number % FLUSH_EVERY == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def jsonl_chunks(
    spec: ConsultationSpec, columns: list[Column], rows: Iterable[ExportRow]
) -> Iterator[bytes]:
    """JSON Lines: one object per response; answers nested by question (matrix rows under
    their matrix, multiple choice as a list of codes). Values are not altered."""
    personal = [
        c.name
        for c in columns
        if c.question is None and c.name not in {"reference", "submitted_at", "language"}
    ]
    lines: list[str] = []
    for number, row in enumerate(rows, start=1):
        record: dict[str, Any] = {
            "reference": row.values.get("reference"),
            "submitted_at": row.values.get("submitted_at"),
            "language": row.values.get("language"),
        }
        record.update({name: row.values.get(name, "") for name in personal})
        record["answers"] = _nested_answers(spec, row)
        lines.append(json.dumps(record, ensure_ascii=False))
        if number % FLUSH_EVERY == 0:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")


def _nested_answers(spec: ConsultationSpec, row: ExportRow) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for section in spec.sections:
        for question in section.questions:
            if question.rows:
                chosen = {
                    r.key.split("__", 1)[1]: row.values[r.key]
                    for r in question.rows
                    if r.key in row.values
                }
                if chosen:
                    answers[question.key] = chosen
            elif question.type == QuestionType.MULTIPLE_CHOICE:
                codes = [
                    o.code
                    for o in question.options
                    if row.values.get(f"{question.key}__{o.code}") == 1
                ]
                if f"{question.key}__{question.options[0].code}" in row.values:
                    answers[question.key] = codes
            elif question.key in row.values:
                answers[question.key] = row.values[question.key]
    return answers


def codebook_rows(columns: list[Column]) -> Iterator[list[Any]]:
    """Codebook as rows: one per option (or one per column without options)."""
    yield ["column", "question_key", "label", "type", "code", "code_label", "scale_value"]
    for column in columns:
        key = column.question.key if column.question else ""
        if column.options:
            for option in column.options:
                yield [
                    column.name,
                    key,
                    column.label,
                    column.type,
                    option.code,
                    option.label,
                    option.value if option.value is not None else "",
                ]
        elif column.option is not None:
            yield [
                column.name,
                key,
                column.label,
                column.type,
                "1",
                f"Chose “{column.option.label}”",
                "",
            ]
        else:
            yield [column.name, key, column.label, column.type, "", "", ""]


def codebook_csv(columns: list[Column]) -> Iterator[bytes]:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(codebook_rows(columns))
    yield buffer.getvalue().encode("utf-8")


def codebook_json(columns: list[Column]) -> Iterator[bytes]:
    entries = [
        {
            "name": column.name,
            "label": column.label,
            "type": column.type,
            "question": column.question.key if column.question else None,
            "options": [
                {"code": o.code, "label": o.label, "value": o.value} for o in column.options
            ],
        }
        for column in columns
    ]
    yield json.dumps({"columns": entries}, ensure_ascii=False, indent=2).encode("utf-8")


def spooled(write: Callable[[IO[bytes]], None]) -> Iterator[bytes]:
    """Run a writer that needs a whole file, then stream the file and remove it."""
    with tempfile.TemporaryFile() as handle:
        write(handle)
        handle.seek(0)
        while chunk := handle.read(FILE_CHUNK):
            yield chunk


def xlsx_writer(
    columns: list[Column], rows: Iterable[ExportRow], about: About, *, labels: bool
) -> Callable[[IO[bytes]], None]:
    def write(handle: IO[bytes]) -> None:
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)  # constant memory: rows go straight to disk
        sheet = workbook.create_sheet("responses")
        sheet.append([column.name for column in columns])
        count = 0
        for row in rows:
            sheet.append([neutralise(cell(column, row, labels=labels)) for column in columns])
            count += 1
        codebook = workbook.create_sheet("codebook")
        for entry in codebook_rows(columns):
            codebook.append([neutralise(value) for value in entry])
        info = workbook.create_sheet("about")
        for label, value in [
            ("Title", about.title),
            ("Consultation", about.consultation),
            ("Variant", about.variant),
            ("Filters", about.filters),
            ("Generated at (UTC)", about.generated_at),
            ("Rows", count),
            ("Note", SELF_SELECTED),
        ]:
            info.append([label, neutralise(value)])
        workbook.save(handle)

    return write


def datapackage_writer(
    columns: list[Column], rows: Iterable[ExportRow], about: About, *, name: str
) -> Callable[[IO[bytes]], None]:
    """A Frictionless data package: responses.csv and codebook.csv, each with a Table
    Schema in datapackage.json, and a README."""

    def write(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("responses.csv", "w", force_zip64=True) as target:
                for chunk in csv_chunks(columns, rows):
                    target.write(chunk)
            archive.writestr("codebook.csv", b"".join(codebook_csv(columns)))
            archive.writestr(
                "datapackage.json",
                json.dumps(_package(columns, about, name), indent=2, ensure_ascii=False),
            )
            archive.writestr("README.md", _readme(about))

    return write


def _field(column: Column) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "title": column.label}
    if column.type == "datetime":
        field["type"] = "datetime"
    elif column.type == "flag":
        field |= {"type": "integer", "constraints": {"enum": [0, 1]}}
    elif column.type == "code":
        field |= {"type": "string", "constraints": {"enum": [o.code for o in column.options]}}
    else:
        field["type"] = "string"
    return field


def _package(columns: list[Column], about: About, name: str) -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "name": name,
        "title": about.title,
        "description": (
            f"{about.consultation}. Variant: {about.variant}. Filters: {about.filters}. "
            f"Generated at {about.generated_at} (UTC)."
        ),
        "resources": [
            {
                "name": "responses",
                "path": "responses.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": [_field(column) for column in columns], "missingValues": [""]},
            },
            {
                "name": "codebook",
                "path": "codebook.csv",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {
                    "fields": [
                        {"name": n, **text}
                        for n in [
                            "column",
                            "question_key",
                            "label",
                            "type",
                            "code",
                            "code_label",
                            "scale_value",
                        ]
                    ]
                },
            },
        ],
    }


def _readme(about: About) -> str:
    return f"""# {about.title}

Consultation: {about.consultation}
Variant: {about.variant}
Filters: {about.filters}
Generated at (UTC): {about.generated_at}

- responses.csv: one row per response sent and not withdrawn; one column per question
  (a multiple-choice option or a matrix row has a column of its own). Values are option
  codes; codebook.csv gives each code's label. Times are ISO 8601 in UTC.
- Text that a spreadsheet would run as a formula (starting with = + - @) begins with '.
- datapackage.json describes both tables (Frictionless Table Schema).

{SELF_SELECTED}
"""


def statistics_writer(
    columns: list[Column], rows: Iterable[ExportRow], *, stata: bool
) -> Callable[[IO[bytes]], None]:
    """SPSS (.sav) or Stata (.dta) through pyreadstat, with variable and value labels.

    Option codes become numbers 1, 2, ... in option order, labelled with the option's
    words; the codebook has the same order. Names are cut to fit the format (Stata 30
    characters, SPSS 64), keeping them unique; labels hold the question in full (Stata:
    80 characters). The whole table is built in memory first (pyreadstat writes from a
    pandas DataFrame), unlike the other formats.
    """

    def write(handle: IO[bytes]) -> None:
        import pandas as pd
        import pyreadstat

        names = _short_names([column.name for column in columns], 30 if stata else 64)
        numbers = {
            column.name: {option.code: index for index, option in enumerate(column.options, 1)}
            for column in columns
            if column.type == "code"
        }
        data: dict[str, list[Any]] = {name: [] for name in names}
        for row in rows:
            for column, name in zip(columns, names, strict=True):
                value = row.values.get(column.name)
                if column.type == "code":
                    data[name].append(numbers[column.name].get(value) if value else None)
                elif column.type == "flag":
                    data[name].append(value)
                else:
                    data[name].append("" if value is None else str(value))
        frame = pd.DataFrame(data)
        for column, name in zip(columns, names, strict=True):
            if column.type in {"code", "flag"}:
                frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        labels: list[str | None] = [
            column.short_label(80) if stata else column.label for column in columns
        ]
        value_labels = {
            name: {
                float(numbers[column.name][option.code]): option.label[:80]
                if stata
                else option.label
                for option in column.options
            }
            for column, name in zip(columns, names, strict=True)
            if column.type == "code"
        }
        with tempfile.TemporaryDirectory() as folder:
            path = f"{folder}/data.{'dta' if stata else 'sav'}"
            if stata:
                pyreadstat.write_dta(
                    frame,
                    path,
                    column_labels=labels,
                    variable_value_labels=value_labels,
                    version=15,
                )
            else:
                pyreadstat.write_sav(
                    frame, path, column_labels=labels, variable_value_labels=value_labels
                )
            with open(path, "rb") as written:
                while chunk := written.read(FILE_CHUNK):
                    handle.write(chunk)

    return write


def _short_names(names: list[str], limit: int) -> list[str]:
    """Names cut to ``limit`` characters, made unique with a numbered ending."""
    result: list[str] = []
    taken: set[str] = set()
    for name in names:
        short = name[:limit]
        number = 1
        while short in taken:
            ending = f"_{number}"
            short = name[: limit - len(ending)] + ending
            number += 1
        taken.add(short)
        result.append(short)
    return result
