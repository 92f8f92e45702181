"""The summary report for the committee as a Word document (python-docx): every
question's figures with a bar beside each, counts by respondent type, the filters used
and the note that responses are self-selected."""

from __future__ import annotations

import io
from dataclasses import dataclass

from docx import Document
from docx.document import Document as WordDocument
from docx.shared import Pt

from consult.analysis import queries
from consult.analysis.forms import filter_questions
from consult.analysis.queries import Filters, QuestionResult, Results, StatusCounts
from consult.consultations.models import Consultation
from consult.consultations.queries import ConsultationSpec
from consult.exports.formats import SELF_SELECTED

BAR_WIDTH = 25  # characters for 100%


@dataclass(frozen=True)
class ReportFigures:
    """What the summary report shows, as a page or as a Word document."""

    results: Results
    status: StatusCounts
    who: list[QuestionResult]


def report_figures(
    *, consultation: Consultation, spec: ConsultationSpec, filters: Filters
) -> ReportFigures:
    return ReportFigures(
        results=queries.results(consultation=consultation, spec=spec, filters=filters),
        status=queries.status_counts(consultation=consultation),
        who=queries.who_responded(
            consultation=consultation, spec=spec, filters=filters, questions=filter_questions(spec)
        ),
    )


def bar(percent: float) -> str:
    """A bar of block characters, as long as the share it shows (the figure is beside it)."""
    return "█" * round(percent * BAR_WIDTH / 100)


def report_docx(
    *, consultation: Consultation, figures: ReportFigures, filters: list[str], generated_at: str
) -> bytes:
    results, status, who = figures.results, figures.status, figures.who
    document = Document()
    document.core_properties.title = f"{consultation.title}: summary of responses"
    document.add_heading(f"{consultation.title}: summary of responses", level=0)
    document.add_paragraph(SELF_SELECTED).runs[0].bold = True
    document.add_paragraph(f"Generated at {generated_at} (UTC).")
    document.add_paragraph(
        "Filters: " + ("; ".join(filters) if filters else "none (all responses).")
    )
    document.add_heading("Responses", level=1)
    _table(
        document,
        ["", "Number"],
        [
            ["Sent and counted", str(status.submitted)],
            ["In this report (after filters)", str(results.total)],
            ["Withdrawn (not counted)", str(status.withdrawn)],
            ["Drafts not sent (not counted)", str(status.drafts)],
        ],
    )
    document.add_heading("Who responded", level=1)
    for result in who:
        _question(document, result)
    document.add_heading("Answers to each question", level=1)
    for result in results.questions:
        _question(document, result)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _question(document: WordDocument, result: QuestionResult) -> None:
    document.add_heading(result.question.text, level=2)
    document.add_paragraph(f"Asked {result.asked}, answered {result.answered}.")
    if result.rows:
        for row in result.rows:
            document.add_heading(row.question.text, level=3)
            _options(document, row)
    elif result.options:
        _options(document, result)
    elif result.themes:
        _table(
            document,
            ["Theme", "Answers", "Percentage", "Chart"],
            [[t.label, str(t.count), f"{t.percent}%", bar(t.percent)] for t in result.themes],
        )


def _options(document: WordDocument, result: QuestionResult) -> None:
    rows = [[o.label, str(o.count), f"{o.percent}%", bar(o.percent)] for o in result.options]
    rows.append(
        ["No answer", str(result.no_answer), f"{result.no_answer_percent}% of those asked", ""]
    )
    _table(document, ["Answer", "Number", "Percentage", "Chart"], rows)
    if result.net_score is not None:
        document.add_paragraph(f"Net score: {result.net_score:+.1f} (from −100 to +100).")


def _table(document: WordDocument, header: list[str], rows: list[list[str]]) -> None:
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Light Grid Accent 1"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
