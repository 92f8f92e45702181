"""Published results: the aggregate figures, with counts too small to publish hidden."""

from __future__ import annotations

from dataclasses import dataclass

from consult.analysis.queries import QuestionResult, suppressed_cells

PUBLIC_THRESHOLD = 10


@dataclass(frozen=True)
class PublicFigure:
    label: str
    count: int | None  # None: fewer than the threshold, or hidden to protect such a count
    percent: float | None


@dataclass(frozen=True)
class PublicQuestion:
    text: str
    answered: int | None
    figures: tuple[PublicFigure, ...]
    rows: tuple[PublicQuestion, ...] = ()


def public_figures(result: QuestionResult) -> PublicQuestion:
    """A question's figures fit to publish: counts from 1 to 9 hidden, and one more in the
    same question when only one is, so no hidden count follows from the total."""
    counts = [option.count for option in result.options]
    hidden = {column for _row, column in suppressed_cells([counts], PUBLIC_THRESHOLD)}
    figures = tuple(
        PublicFigure(
            option.label,
            None if index in hidden else option.count,
            None if index in hidden else option.percent,
        )
        for index, option in enumerate(result.options)
    )
    answered = (
        result.answered if result.answered == 0 or result.answered >= PUBLIC_THRESHOLD else None
    )
    return PublicQuestion(
        text=result.question.text,
        answered=answered,
        figures=figures,
        rows=tuple(public_figures(row) for row in result.rows),
    )
