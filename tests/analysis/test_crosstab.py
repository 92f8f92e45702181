"""Cross-tabulation against counts made in Python from the generated answers, with and
without the suppression of small cells, and the page that shows it."""

import pytest
from django.urls import reverse

from consult.analysis import queries
from consult.analysis.queries import CrossTab, Filters
from consult.consultations.queries import consultation_spec
from tests.analysis.conftest import Sent, codes, matching, percent, shared_responses


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    with shared_responses(django_db_blocker, 80, seed=7, withdraw_every=10) as made:
        yield made


@pytest.fixture
def consultation(shared, db):
    return shared[0]


@pytest.fixture
def sent(shared, db) -> list[Sent]:
    return shared[1]


def expected_table(responses: list[Sent], row_key: str, column_key: str) -> dict:
    """Cells, totals and percentages counted from the answers: a response counts once in
    every pair of options it chose, and once in each total."""
    both = [s for s in responses if codes(s, row_key) and codes(s, column_key)]
    cells: dict[tuple[str, str], int] = {}
    for sent in both:
        for row in codes(sent, row_key):
            for column in codes(sent, column_key):
                cells[row, column] = cells.get((row, column), 0) + 1
    row_totals = {r: sum(1 for s in both if r in codes(s, row_key)) for r, _ in cells}
    column_totals = {c: sum(1 for s in both if c in codes(s, column_key)) for _, c in cells}
    return {"cells": cells, "rows": row_totals, "columns": column_totals, "total": len(both)}


def table_cells(table: CrossTab) -> dict[tuple[str, str], tuple]:
    return {
        (row.code, column.code): (cell.count, cell.row_percent, cell.column_percent)
        for row, cells, _ in table.rows
        for column, cell in zip(table.column_question.options, cells, strict=True)
    }


PAIRS = [
    ("respondent_type", "lfr_overall"),  # single choice by single choice
    ("respondent_type", "lfr_purposes"),  # by a multiple choice
    ("lfr_purposes", "main_concerns"),  # multiple choice by multiple choice
    ("lfr_by_operator__police", "age_band"),  # a matrix row by an optional question
    ("organisation_type", "feel_safer"),  # asked of organisations only, by a scale
]


@pytest.mark.parametrize(("row_key", "column_key"), PAIRS)
def test_crosstab_counts_and_percentages(consultation, sent, row_key, column_key):
    spec = consultation_spec(consultation)
    table = queries.crosstab(
        consultation=consultation,
        spec=spec,
        filters=Filters(),
        row_key=row_key,
        column_key=column_key,
    )
    expected = expected_table(sent, row_key, column_key)
    rows, columns = spec.by_key[row_key].options, spec.by_key[column_key].options
    assert table.total == expected["total"]
    assert 0 < table.total <= len(sent)
    assert [option.code for option, _, _ in table.rows] == [o.code for o in rows]
    assert {o.code: total for o, _, total in table.rows} == {
        o.code: expected["rows"].get(o.code, 0) for o in rows
    }
    assert dict(zip([o.code for o in columns], table.column_totals, strict=True)) == {
        o.code: expected["columns"].get(o.code, 0) for o in columns
    }
    want = {}
    for row in rows:
        for column in columns:
            n = expected["cells"].get((row.code, column.code), 0)
            want[row.code, column.code] = (
                n,
                percent(n, expected["rows"].get(row.code, 0)),
                percent(n, expected["columns"].get(column.code, 0)),
            )
    assert table_cells(table) == want


def test_crosstab_of_a_multiple_choice_counts_respondents_once_in_the_totals(consultation, sent):
    spec = consultation_spec(consultation)
    table = queries.crosstab(
        consultation=consultation,
        spec=spec,
        filters=Filters(),
        row_key="respondent_type",
        column_key="lfr_purposes",
    )
    cells = sum(cell.count for _, row, _ in table.rows for cell in row)
    assert cells == sum(len(codes(s, "lfr_purposes")) for s in sent)
    assert cells > table.total == len(sent)
    assert sum(total for _, _, total in table.rows) == table.total


def test_crosstab_respects_filters(consultation, sent):
    spec = consultation_spec(consultation)
    regions = {"london", "wales", "scotland", "north_west", "south_east"}
    start = sent[10].day
    table = queries.crosstab(
        consultation=consultation,
        spec=spec,
        filters=Filters(answers={"region": frozenset(regions)}, submitted_from=start),
        row_key="respondent_type",
        column_key="lfr_overall",
    )
    subset = matching(sent, answers={"region": regions}, start=start)
    assert 0 < len(subset) < len(sent)
    expected = expected_table(subset, "respondent_type", "lfr_overall")
    assert table.total == expected["total"] == len(subset)
    assert {key: count for key, (count, _, _) in table_cells(table).items() if count} == expected[
        "cells"
    ]


def test_small_cells_and_totals_are_suppressed(consultation, sent):
    spec = consultation_spec(consultation)
    threshold = 3
    table = queries.crosstab(
        consultation=consultation,
        spec=spec,
        filters=Filters(),
        row_key="respondent_type",
        column_key="region",
        threshold=threshold,
    )
    expected = expected_table(sent, "respondent_type", "region")
    kinds = set()
    hidden = set()
    for (row, column), (count, row_percent, column_percent) in table_cells(table).items():
        n = expected["cells"].get((row, column), 0)
        if n == 0:
            kinds.add("zero")
            assert (count, row_percent, column_percent) == (0, 0.0, 0.0)
        elif n < threshold:
            kinds.add("small")
            assert (count, row_percent, column_percent) == (None, None, None)
            hidden.add((row, column))
        elif count is None:
            kinds.add("hidden to protect another")
            assert (row_percent, column_percent) == (None, None)
            hidden.add((row, column))
        else:
            kinds.add("shown")
            assert count == n
            assert row_percent == percent(n, expected["rows"][row])
            assert column_percent == percent(n, expected["columns"][column])
    assert {"zero", "small", "shown"} <= kinds, "the data should hold every kind of cell"
    # Secondary suppression: no row or column has exactly one hidden non-zero cell among
    # non-zero cells, so no hidden count equals a total minus the visible cells.
    for row in {r for r, _ in table_cells(table)}:
        line = [(r, c) for (r, c) in table_cells(table) if r == row]
        nonzero_visible = [
            cell for cell in line if cell not in hidden and expected["cells"].get(cell, 0)
        ]
        assert sum(cell in hidden for cell in line) != 1 or not nonzero_visible, row
    for column in {c for _, c in table_cells(table)}:
        line = [(r, c) for (r, c) in table_cells(table) if c == column]
        nonzero_visible = [
            cell for cell in line if cell not in hidden and expected["cells"].get(cell, 0)
        ]
        assert sum(cell in hidden for cell in line) != 1 or not nonzero_visible, column

    region_codes = [o.code for o in spec.by_key["region"].options]
    shown_totals = dict(zip(region_codes, table.column_totals, strict=True))
    small_totals = 0
    for code in region_codes:
        n = expected["columns"].get(code, 0)
        if 0 < n < threshold:
            small_totals += 1
            assert shown_totals[code] is None, code
        else:
            assert shown_totals[code] == n, code
    assert small_totals > 0
    assert table.total == len(sent)


@pytest.fixture
def crosstab_url(consultation) -> str:
    return reverse("analysis:crosstab", args=[consultation.slug])


def test_page_suppresses_below_ten_by_default(analyst_client, crosstab_url, sent):
    reply = analyst_client.get(crosstab_url, {"rows": "respondent_type", "columns": "region"})
    assert reply.status_code == 200
    page = reply.content.decode()
    table = reply.context["table"]
    assert table.threshold == reply.context["threshold"] == 10
    assert 'name="suppress" type="text" inputmode="numeric" value="10"' in page
    assert "fewer than 10" in page
    assert "Counts from 1 to 9 are hidden" in page
    assert f"{len(sent)} responses answered both questions" in page
    assert "not a representative sample" in page
    expected = expected_table(sent, "respondent_type", "region")
    for (row, column), (count, _, _) in table_cells(table).items():
        n = expected["cells"].get((row, column), 0)
        assert count == (None if 0 < n < 10 else n)


@pytest.mark.parametrize(("given", "threshold"), [("0", 0), ("3", 3), ("lots", 10), ("-5", 0)])
def test_page_reads_the_threshold(analyst_client, crosstab_url, sent, given, threshold):
    query = {"rows": "respondent_type", "columns": "region", "suppress": given}
    reply = analyst_client.get(crosstab_url, query)
    assert reply.status_code == 200
    assert reply.context["table"].threshold == threshold
    assert ("fewer than" in reply.content.decode()) == (threshold > 1)


@pytest.mark.parametrize(
    ("rows", "columns"),
    [
        ("nonsense", "region"),
        ("region", "nonsense"),
        ("other_safeguards", "region"),  # an open question cannot be cross-tabulated
        ("name", "region"),  # nor personal details
        ("lfr_by_operator", "region"),  # a matrix is cross-tabulated one row at a time
    ],
)
def test_unknown_questions_get_a_message_not_an_error(analyst_client, crosstab_url, rows, columns):
    reply = analyst_client.get(crosstab_url, {"rows": rows, "columns": columns})
    assert reply.status_code == 200
    assert reply.context["table"] is None
    assert "Choose two questions from the lists." in reply.content.decode()


def test_page_without_a_choice_asks_for_one_quietly(analyst_client, crosstab_url):
    reply = analyst_client.get(crosstab_url)
    assert reply.status_code == 200
    assert reply.context["table"] is None
    assert "Choose two questions from the lists." not in reply.content.decode()
