"""Results against counts made here, in Python, from the generated answers: every closed
question type, status and per-day counts, each filter class alone and combined, and the
dashboard page, and the query count of every results page."""

from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consult.analysis import queries
from consult.analysis.models import AnswerTheme, Theme
from consult.analysis.queries import Filters, Results
from consult.consultations.models import QuestionType
from consult.consultations.queries import ConsultationSpec, consultation_spec
from consult.responses import services as response_services
from consult.responses.models import Answer, Response, ResponseStatus
from tests.analysis.conftest import (
    START,
    Sent,
    answered,
    codes,
    matching,
    option_counts,
    percent,
    shared_responses,
)

# Points of the scales, from the definition: "Don't know" has no value.
FEEL_SAFER = {
    "much_safer": 2,
    "little_safer": 1,
    "no_different": 0,
    "little_less_safe": -1,
    "much_less_safe": -2,
}
ACCEPTABLE = {
    "very_acceptable": 2,
    "fairly_acceptable": 1,
    "neither": 0,
    "fairly_unacceptable": -1,
    "very_unacceptable": -2,
}
PERSONAL = {"name", "email", "organisation_name"}


def net_score(responses: list[Sent], key: str, values: dict[str, int]) -> float | None:
    chosen = [values[code] for sent in responses for code in codes(sent, key) if code in values]
    if not chosen:
        return None
    positive = sum(1 for value in chosen if value > 0)
    negative = sum(1 for value in chosen if value < 0)
    return round(100 * (positive - negative) / len(chosen), 1)


def asked(responses: list[Sent], spec: ConsultationSpec, key: str) -> int:
    question = spec.by_key[key]
    if question.condition_key is None:
        return len(responses)
    return sum(
        1
        for sent in responses
        if set(codes(sent, question.condition_key)) & question.condition_codes
    )


def assert_results_are(results: Results, responses: list[Sent], spec: ConsultationSpec) -> None:
    """Every figure of ``results`` equals the one counted from ``responses``."""
    assert results.total == len(responses)
    assert not PERSONAL & set(results.by_key)
    closed = [q for q in spec.by_key.values() if q.options and not q.rows and q.key not in PERSONAL]
    assert {q.type for q in closed} >= {
        QuestionType.SINGLE_CHOICE,
        QuestionType.SELECT,
        QuestionType.SCALE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.MATRIX_ROW,
    }
    for question in closed:
        result = results.by_key[question.key]
        counts = option_counts(responses, question.key)
        respondents = answered(responses, question.key)
        assert {o.code: o.count for o in result.options} == {
            o.code: counts[o.code] for o in question.options
        }, question.key
        # Percentages are of those who answered; for a multiple choice, of respondents.
        assert {o.code: o.percent for o in result.options} == {
            o.code: percent(counts[o.code], respondents) for o in question.options
        }, question.key
        assert result.answered == respondents, question.key
        assert result.asked == asked(responses, spec, question.key), question.key
        assert result.no_answer == result.asked - respondents, question.key
    for key in ("other_safeguards", "anything_else"):
        assert results.by_key[key].answered == answered(responses, key)
        assert results.by_key[key].asked == len(responses)

    organisations = sum(1 for s in responses if codes(s, "respondent_type") == ("organisation",))
    assert results.by_key["organisation_type"].asked == organisations
    assert results.by_key["organisation_type"].no_answer == organisations - answered(
        responses, "organisation_type"
    )
    assert results.by_key["feel_safer"].net_score == net_score(responses, "feel_safer", FEEL_SAFER)
    police = results.by_key["lfr_by_operator__police"]
    assert police.net_score == net_score(responses, "lfr_by_operator__police", ACCEPTABLE)
    matrix = results.by_key["lfr_by_operator"]
    assert [row.question.key for row in matrix.rows][:1] == ["lfr_by_operator__police"]
    assert matrix.asked == len(responses)

    per_day = Counter(sent.day for sent in responses)
    assert dict(results.per_day) == per_day
    assert [day for day, _ in results.per_day] == sorted(per_day)
    assert sum(n for _, n in results.per_day) == results.total


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    """80 sent, every 9th withdrawn, and 4 drafts never sent: 72 counted."""
    with shared_responses(django_db_blocker, 80, withdraw_every=9, drafts=4) as made:
        yield made


@pytest.fixture
def consultation(shared, db):
    return shared[0]


@pytest.fixture
def sent(shared, db) -> list[Sent]:
    return shared[1]


def test_results_without_filters_match_the_answers(consultation, sent):
    spec = consultation_spec(consultation)
    results = queries.results(consultation=consultation, spec=spec, filters=Filters())
    assert_results_are(results, sent, spec)
    assert results.total == 72
    # The generated data exercises what is checked: no-answers, organisations, several days,
    # a day in London that is not the day in UTC (after 23:00 UTC in summer time).
    assert results.by_key["age_band"].no_answer > 0
    assert 0 < results.by_key["organisation_type"].asked < results.total
    assert len(results.per_day) > 10
    assert any(s.day != s.submitted_at.date() for s in sent)
    multiple = results.by_key["lfr_purposes"]
    assert sum(o.percent for o in multiple.options) > 100


def test_status_counts_and_drop_off(consultation, sent):
    status = queries.status_counts(consultation=consultation)
    assert (status.submitted, status.withdrawn, status.drafts) == (72, 8, 4)
    spec = consultation_spec(consultation)
    drop_off = queries.drafts_by_last_section(consultation=consultation, spec=spec)
    assert [title for title, _ in drop_off[1:]] == [section.title for section in spec.sections]
    assert sum(n for _, n in drop_off) == 4


def test_drop_off_counts_drafts_by_the_last_section_answered(consultation, sent):
    """Drafts added here, stopping at known places, move the counts by exactly that."""
    spec = consultation_spec(consultation)
    titles = [
        title for title, _ in queries.drafts_by_last_section(consultation=consultation, spec=spec)
    ]
    before = dict(queries.drafts_by_last_section(consultation=consultation, spec=spec))
    about_you = {"respondent_type": ("individual",), "region": ("wales",)}
    use = {
        "prior_awareness": ("knew_little",),
        "lfr_overall": ("never",),
    }
    stops = [
        [],  # opened and left
        [("about-you", about_you)],
        [("about-you", about_you)],
        [("about-you", about_you), ("use", use)],  # an individual skips "Your organisation"
        [("use", use)],  # answered a later section first, then left
    ]
    for number, sections in enumerate(stops):
        now = START + timedelta(days=60, hours=number)
        draft = response_services.draft_start(consultation=consultation, now=now)
        for key, values in sections:
            response_services.section_save(
                response=draft, spec=spec, section=spec.section(key), values=values, now=now
            )
    after = dict(queries.drafts_by_last_section(consultation=consultation, spec=spec))
    use_title = spec.section("use").title
    about_title = spec.section("about-you").title
    assert {title: after[title] - before[title] for title in titles} == {
        title: {titles[0]: 1, about_title: 2, use_title: 2}.get(title, 0) for title in titles
    }
    assert queries.status_counts(consultation=consultation).drafts == 4 + len(stops)


def most_common(responses: list[Sent], key: str, n: int) -> set[str]:
    return {code for code, _ in option_counts(responses, key).most_common(n)}


FILTER_CASES = {
    "respondent type": lambda sent: {"answers": {"respondent_type": {"organisation"}}},
    "two regions (OR)": lambda sent: {"answers": {"region": most_common(sent, "region", 2)}},
    "region AND age band": lambda sent: {
        "answers": {
            "region": most_common(sent, "region", 5),
            "age_band": most_common(sent, "age_band", 3),
        }
    },
    "matrix row": lambda sent: {
        "answers": {"lfr_by_operator__police": {"fairly_unacceptable", "very_unacceptable"}}
    },
    "multiple choice option": lambda sent: {"answers": {"lfr_purposes": {"terrorism"}}},
    "date range": lambda sent: {"start": sent[15].day, "end": sent[40].day},
    "from only": lambda sent: {"start": sent[50].day},
    "to only": lambda sent: {"end": sent[10].day},
    "answers and dates": lambda sent: {
        "answers": {
            "respondent_type": {"individual"},
            "lfr_by_operator__police": {"fairly_unacceptable", "very_unacceptable"},
            "main_concerns": {"privacy", "bias"},
        },
        "start": sent[5].day,
        "end": sent[60].day,
    },
}


@pytest.mark.parametrize("case", FILTER_CASES)
def test_filtered_results_match_the_answers(consultation, sent, case):
    chosen = FILTER_CASES[case](sent)
    expected = matching(sent, **chosen)
    assert 0 < len(expected) < len(sent), "the filter should select some but not all"
    filters = Filters(
        answers={key: frozenset(codes) for key, codes in chosen.get("answers", {}).items()},
        submitted_from=chosen.get("start"),
        submitted_to=chosen.get("end"),
    )
    spec = consultation_spec(consultation)
    results = queries.results(consultation=consultation, spec=spec, filters=filters)
    assert_results_are(results, expected, spec)


def test_date_range_follows_uk_days_not_utc_days(consultation, sent):
    """A response sent at 23:xx UTC in summer time was sent the next day in the UK."""
    late = next(s for s in sent if s.day != s.submitted_at.date())
    spec = consultation_spec(consultation)
    results = queries.results(
        consultation=consultation,
        spec=spec,
        filters=Filters(submitted_from=late.day, submitted_to=late.day),
    )
    assert results.total == sum(1 for s in sent if s.day == late.day)
    before = queries.results(
        consultation=consultation,
        spec=spec,
        filters=Filters(submitted_to=late.day - timedelta(days=1)),
    )
    assert before.total == sum(1 for s in sent if s.day < late.day)


def test_dashboard_shows_the_filtered_figures_and_the_caveat(consultation, sent, analyst_client):
    start = sent[20].day
    expected = matching(sent, answers={"respondent_type": {"individual"}}, start=start)
    url = reverse("analysis:dashboard", args=[consultation.slug])
    reply = analyst_client.get(url, {"a": "respondent_type:individual", "from": start.isoformat()})
    assert reply.status_code == 200
    page = reply.content.decode()
    assert reply.context["results"].total == len(expected)
    assert f"<strong>{len(expected)}</strong>" in page
    assert f"Where the {len(expected)} responses matching the filters came from" in page
    assert "The responses are not a representative sample of the population" in page
    assert "Who responded" in page
    assert "Are you responding as an individual or on behalf of an organisation?: As an" in page
    status = reply.context["status"]
    assert (status.submitted, status.withdrawn, status.drafts) == (72, 8, 4)
    regions = option_counts(expected, "region")
    who = {r.question.key: r for r in reply.context["who"]}
    assert {o.code: o.count for o in who["region"].options if o.count} == dict(regions)


def test_dashboard_reports_filters_it_cannot_apply(consultation, sent, analyst_client):
    url = reverse("analysis:dashboard", args=[consultation.slug])
    reply = analyst_client.get(url, {"a": ["region:atlantis", "nonsense:x"], "to": "2026-02-30"})
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "were not applied: region:atlantis, nonsense:x" in page
    assert "Enter the end date as a real date" in page
    assert reply.context["results"].total == len(sent)


def test_a_valid_date_still_applies_when_the_other_is_invalid(consultation, sent, analyst_client):
    """FilterForm.filters: "an invalid date is left out and reported by the form" - only it."""
    start = sent[30].day
    url = reverse("analysis:dashboard", args=[consultation.slug])
    reply = analyst_client.get(url, {"from": start.isoformat(), "to": "2026-13-45"})
    assert "Enter the end date as a real date" in reply.content.decode()
    assert reply.context["filters"].submitted_from == start
    assert reply.context["results"].total == len(matching(sent, start=start))


FILTERED = {
    "a": ["region:london", "region:wales", "lfr_purposes:terrorism"],
    "from": "2026-10-01",
    "channel": ["online", "post"],
}


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("dashboard", FILTERED),
        ("crosstab", {"rows": "respondent_type", "columns": "lfr_purposes", **FILTERED}),
        # Filters that leave answers on the page with 20 responses too (an empty page
        # makes fewer queries).
        (
            "free_text",
            {
                "a": "lfr_purposes:terrorism",
                "q": "oversight",
                "from": "2026-10-01",
                "channel": "online",
            },
        ),
    ],
    ids=["dashboard", "crosstab", "free_text"],
)
def test_query_count_does_not_grow_with_responses(
    consultation, sent, analyst, analyst_client, django_assert_max_num_queries, name, query
):
    question = consultation.questions.get(key="other_safeguards")
    theme = Theme.objects.create(
        question=question, name="Oversight", created_by=analyst, created_at=timezone.now()
    )
    for answer in Answer.objects.filter(question=question):
        AnswerTheme.objects.create(
            answer=answer, theme=theme, coded_by=analyst, coded_at=timezone.now()
        )
    kwargs = {"slug": consultation.slug} | (
        {"key": "other_safeguards"} if name == "free_text" else {}
    )
    url = reverse(f"analysis:{name}", kwargs=kwargs)
    analyst_client.get(url, query)  # the session and the consultation's structure cached

    counted = Response.objects.filter(status=ResponseStatus.SUBMITTED).order_by("submitted_at")
    queries_made = []
    for keep in (60, 20):
        kept = list(counted.values_list("pk", flat=True)[:keep])
        Response.objects.exclude(pk__in=kept).delete()
        assert Response.objects.count() == keep
        with django_assert_max_num_queries(15) as captured:
            reply = analyst_client.get(url, query)
        assert reply.status_code == 200
        if name == "free_text":
            assert reply.context["page"].object_list
        queries_made.append(len(captured.captured_queries))
    assert queries_made[0] == queries_made[1]
