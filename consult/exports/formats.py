"""Writers for each download format. CSV, JSON Lines and XLSX yield bytes as rows
arrive; the others (the data package's zip, SPSS, Stata) are written to a temporary file
first, then streamed.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import IO, Any

from consult.consultations.models import QuestionType
from consult.consultations.queries import ConsultationSpec
from consult.exports.tables import META_COLUMNS, Column, Row
from consult.responses.storage import documents_storage

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


def inert_positions(columns: list[Column], *, labels: bool = False) -> list[int]:
    """Positions of the columns whose text a spreadsheet could run as a formula: free
    text and personal details, and option labels (codes never start with such a sign)."""
    return [
        position
        for position, column in enumerate(columns)
        if column.type == "string" or (labels and column.type == "code")
    ]


def csv_chunks(
    columns: list[Column], rows: Iterable[Row], *, labels: bool = False, bom: bool = False
) -> Iterator[bytes]:
    """CSV in UTF-8 (with a byte order mark for Excel when asked), one row per response.
    ``labels`` says the rows hold option labels, which are made inert like text."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    inert = inert_positions(columns, labels=labels)
    if bom:
        yield "\ufeff".encode()
    writer.writerow([column.name for column in columns])
    for number, row in enumerate(rows, start=1):
        for position in inert:
            value = row[position]
            if value and value.startswith(FORMULA_STARTS):
                row[position] = "'" + value
        writer.writerow(row)
        if number % FLUSH_EVERY == 0:
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    data = buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    return data


def jsonl_chunks(
    spec: ConsultationSpec, columns: list[Column], rows: Iterable[Row]
) -> Iterator[bytes]:
    """JSON Lines: one object per response; answers nested by question (matrix rows under
    their matrix, multiple choice as a list of codes), and the campaigns its open answers
    are in by question. Values are not altered."""
    position = {column.name: index for index, column in enumerate(columns)}
    meta = [(column.name, position[column.name]) for column in META_COLUMNS]
    personal = [
        (column.name, index)
        for index, column in enumerate(columns)
        if column.question is None and column.campaign_of is None and column not in META_COLUMNS
    ]
    campaigns = [
        (column.campaign_of.key, index)
        for index, column in enumerate(columns)
        if column.campaign_of is not None
    ]
    matrices: list[tuple[str, list[tuple[str, int]]]] = []
    multiples: list[tuple[str, int, list[tuple[str, int]]]] = []
    singles: list[tuple[str, int]] = []
    order: list[str] = []
    for section in spec.sections:
        for question in section.questions:
            if question.rows:
                parts = [(r.key.split("__", 1)[1], position[r.key]) for r in question.rows]
                matrices.append((question.key, parts))
            elif question.type == QuestionType.MULTIPLE_CHOICE:
                flags = [(o.code, position[f"{question.key}__{o.code}"]) for o in question.options]
                multiples.append((question.key, flags[0][1], flags))
            elif question.key in position:
                singles.append((question.key, position[question.key]))
            else:
                continue
            order.append(question.key)
    lines: list[str] = []
    for number, row in enumerate(rows, start=1):
        found: dict[str, Any] = {}
        for key, parts in matrices:
            chosen = {name: row[at] for name, at in parts if row[at] is not None}
            if chosen:
                found[key] = chosen
        for key, first, flags in multiples:
            if row[first] is not None:
                found[key] = [code for code, at in flags if row[at] == 1]
        for key, at in singles:
            if row[at] is not None:
                found[key] = row[at]
        record: dict[str, Any] = {name: row[at] for name, at in meta}
        record.update((name, "" if row[at] is None else row[at]) for name, at in personal)
        record["answers"] = {key: found[key] for key in order if key in found}
        record["campaigns"] = {key: row[at] for key, at in campaigns if row[at] is not None}
        lines.append(json.dumps(record, ensure_ascii=False))
        if number % FLUSH_EVERY == 0:
            yield ("\n".join(lines) + "\n").encode("utf-8")
            lines = []
    if lines:
        yield ("\n".join(lines) + "\n").encode("utf-8")


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


# XLSX, streamed: a workbook is a zip of XML parts. openpyxl makes the parts that do not
# depend on the data (content types, relationships, workbook, styles) once; each sheet's
# rows are written here as inline-string cells, deflated into the zip as they come and
# sent at once, so the first bytes leave before the first query ends and memory stays
# flat. openpyxl's own writers (write-only mode too) and XlsxWriter build the whole file
# before it can be sent.
SHEETS = ("responses", "codebook", "about")
SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
# Characters XML 1.0 cannot hold at all (openpyxl refuses them too): dropped.
XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
XLSX_COMPRESSION = 1  # zlib level: the fastest; XML this repetitive still shrinks ~10x


class _Pipe:
    """A write-only, unseekable file whose bytes are taken as they come: zipfile then
    writes each member's sizes after its data, so a zip can be streamed."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


@cache
def _workbook_parts() -> tuple[tuple[str, bytes], ...]:
    """Every part of an openpyxl workbook with our three sheets, except the sheets."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = SHEETS[0]
    for title in SHEETS[1:]:
        workbook.create_sheet(title)
    buffer = io.BytesIO()
    workbook.save(buffer)
    sheets = {f"xl/worksheets/sheet{number}.xml" for number in range(1, len(SHEETS) + 1)}
    with zipfile.ZipFile(buffer) as archive:
        return tuple(
            (name, archive.read(name)) for name in archive.namelist() if name not in sheets
        )


def _column_letters(count: int) -> list[str]:
    letters = []
    for number in range(1, count + 1):
        name = ""
        while number:
            number, remainder = divmod(number - 1, 26)
            name = chr(65 + remainder) + name
        letters.append(name)
    return letters


def _xml_text(value: str) -> str:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return XML_ILLEGAL.sub("", value.replace("\r", "&#13;"))


def _xml_row(number: int, values: Iterable[Any], letters: list[str], kinds: str) -> str:
    """One sheet row. ``kinds`` has a letter per column: ``n`` numbers, ``c`` option codes
    and times (nothing to escape), ``t`` anything else (numbers as numbers, text escaped
    and made inert) as inline strings."""
    cells = []
    for letter, kind, value in zip(letters, kinds, values, strict=False):
        if value is None or value == "":
            continue
        if kind == "t":
            if type(value) is int or type(value) is float:
                kind = "n"
            else:
                value = _xml_text(neutralise(str(value)))
        if kind == "n":
            cells.append(f'<c r="{letter}{number}"><v>{value}</v></c>')
        else:
            cells.append(
                f'<c r="{letter}{number}" t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'  # noqa: E501
            )
    return f'<row r="{number}">{"".join(cells)}</row>'


def xlsx_chunks(columns: list[Column], rows: Iterable[Row], about: About) -> Iterator[bytes]:
    """An XLSX workbook, streamed: sheets ``responses`` (option codes), ``codebook`` and
    ``about`` (written last, since it counts the rows)."""
    pipe = _Pipe()
    letters = _column_letters(max(len(columns), 7))
    kinds = "".join(
        {"flag": "n", "code": "c", "datetime": "c"}.get(column.type, "t") for column in columns
    )
    with zipfile.ZipFile(
        pipe, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=XLSX_COMPRESSION
    ) as archive:
        for name, data in _workbook_parts():
            archive.writestr(name, data)
        yield pipe.take()
        count = 0
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_HEAD)
            lines = [_xml_row(1, (column.name for column in columns), letters, "c" * len(columns))]
            for count, row in enumerate(rows, start=1):
                lines.append(_xml_row(count + 1, row, letters, kinds))
                if count % FLUSH_EVERY == 0:
                    sheet.write("".join(lines).encode("utf-8"))
                    lines = []
                    yield pipe.take()
            sheet.write("".join(lines).encode("utf-8") + SHEET_TAIL)
        about_rows = [
            ("Title", about.title),
            ("Consultation", about.consultation),
            ("Variant", about.variant),
            ("Filters", about.filters),
            ("Generated at (UTC)", about.generated_at),
            ("Rows", count),
            ("Note", SELF_SELECTED),
        ]
        for number, entries in [(2, codebook_rows(columns)), (3, iter(about_rows))]:
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as sheet:
                sheet.write(SHEET_HEAD)
                for line, entry in enumerate(entries, start=1):
                    sheet.write(_xml_row(line, entry, letters, "t" * 7).encode("utf-8"))
                sheet.write(SHEET_TAIL)
            yield pipe.take()
    yield pipe.take()


def datapackage_writer(
    columns: list[Column],
    rows: Iterable[Row],
    about: About,
    *,
    name: str,
    documents: Callable[[], Iterable[tuple[str, str]]] = lambda: (),
) -> Callable[[IO[bytes]], None]:
    """A Frictionless data package: responses.csv and codebook.csv, each with a Table
    Schema in datapackage.json, a README, and the supporting ``documents`` (path in the
    package, stored name), each copied from storage a chunk at a time."""

    def write(handle: IO[bytes]) -> None:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("responses.csv", "w", force_zip64=True) as target:
                for chunk in csv_chunks(columns, rows):
                    target.write(chunk)
            for path, stored in documents():
                # PDF, DOCX and ODT are compressed already: stored as they are.
                info = zipfile.ZipInfo(path, date_time=time.gmtime()[:6])
                info.compress_type = zipfile.ZIP_STORED
                with (
                    documents_storage.open(stored, "rb") as source,
                    archive.open(info, "w", force_zip64=True) as target,
                ):
                    shutil.copyfileobj(source, target, FILE_CHUNK)
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
- documents/ (when there are any): the supporting documents organisations attached, as
  sent, each named by its response's reference and type (the `reference` and `document`
  columns), e.g. documents/FR-7K3M-Q9XD.pdf. A response whose `document` column has a
  type but whose file is not here attached one this variant leaves out.

{SELF_SELECTED}
"""


def statistics_writer(
    columns: list[Column], rows: Iterable[Row], *, stata: bool
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
            for column, name, value in zip(columns, names, row, strict=True):
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
