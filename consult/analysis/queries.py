"""Reads for the workspace: every figure is computed by the database, in a fixed number of
queries whatever the number of responses (GROUP BY and conditional aggregation).

Filters select submitted (not withdrawn) responses; percentages are of the respondents
who answered a question, with "no answer" counted separately among those asked it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    FilteredRelation,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    TextChoices,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Greatest, Lower, StrIndex, Substr, TruncDate

from consult.analysis.models import (
    AnswerTheme,
    Campaign,
    CampaignMember,
    SuggestedAnswer,
    SuggestionRun,
    SuggestionRunStatus,
    Theme,
    ThemeSuggestion,
)
from consult.consultations.models import (
    CHOICE_TYPES,
    Consultation,
    QuestionType,
)
from consult.consultations.queries import AnswerValue, ConsultationSpec, OptionSpec, QuestionSpec
from consult.exports.models import DownloadRecord
from consult.responses.journey import check_answers_rows
from consult.responses.models import (
    Amendment,
    Answer,
    DayTally,
    Document,
    OptionTally,
    QuestionTally,
    Response,
    ResponseStatus,
)
from consult.responses.queries import PERSONAL_FIELDS, response_answer_map

LONDON = ZoneInfo(settings.TIME_ZONE)
# Words only, as SQLite's unicode61 tokeniser sees them: PostgreSQL's own parser would
# treat "<script>" as markup and web addresses as single tokens. Migration analysis 0003
# indexes exactly this expression.
POSTGRES_TEXT_VECTOR = "to_tsvector('simple', regexp_replace({column}, '\\W+', ' ', 'g'))"
TEXT_TYPES = {QuestionType.SHORT_TEXT, QuestionType.LONG_TEXT}


class CampaignCounting(TextChoices):
    """How the responses in confirmed campaigns count (``consult.analysis.campaigns``): a
    response is in a campaign when one of its answers is."""

    ALL = "all", "All responses"
    ONCE = "once", "Campaigns counted once"
    EXCLUDED = "excluded", "Campaigns excluded"


@dataclass(frozen=True)
class Filters:
    """Which submitted responses a view counts: answers (OR within a question, AND across
    questions), a submission date range in UK time, both ends included, the channels the
    responses came by (online, post, email, phone; any of them), and how responses in
    confirmed campaigns count."""

    answers: Mapping[str, frozenset[str]] = field(default_factory=dict)
    submitted_from: date | None = None
    submitted_to: date | None = None
    campaigns: CampaignCounting = CampaignCounting.ALL
    channels: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(
            self.answers
            or self.submitted_from
            or self.submitted_to
            or self.channels
            or self.campaigns != CampaignCounting.ALL
        )

    def every_campaign_response(self) -> Filters:
        """The same filters, with campaigns' responses all counted."""
        return replace(self, campaigns=CampaignCounting.ALL)


def responses_filtered(
    *, consultation: Consultation, spec: ConsultationSpec, filters: Filters
) -> QuerySet[Response]:
    return Response.objects.filter(
        filtered_condition(consultation=consultation, spec=spec, filters=filters)
    )


def answers_filtered(
    *, consultation: Consultation, spec: ConsultationSpec, filters: Filters
) -> QuerySet[Answer]:
    """The answers of the filtered responses, joined to them: when another condition
    (a full-text match) picks few answers, the planner starts from those, where
    ``response_id IN (SELECT ...)`` would first list every response that counts."""
    return Answer.objects.filter(
        filtered_condition(consultation=consultation, spec=spec, filters=filters, via="response")
    )


def filtered_condition(
    *, consultation: Consultation, spec: ConsultationSpec, filters: Filters, via: str = ""
) -> Q:
    """Which responses a view counts, as a condition on responses, or on a model whose
    relation ``via`` leads to the response."""
    prefix = f"{via}__" if via else ""
    response_id = f"{via}_id" if via else "pk"
    condition = Q(
        **{f"{prefix}status": ResponseStatus.SUBMITTED, f"{prefix}consultation": consultation}
    )
    if filters.submitted_from:
        start = datetime.combine(filters.submitted_from, time.min, tzinfo=LONDON)
        condition &= Q(**{f"{prefix}submitted_at__gte": start})
    if filters.submitted_to:
        end = datetime.combine(filters.submitted_to + timedelta(days=1), time.min, tzinfo=LONDON)
        condition &= Q(**{f"{prefix}submitted_at__lt": end})
    if filters.channels:
        condition &= Q(**{f"{prefix}channel__in": sorted(filters.channels)})
    for key, codes in sorted(filters.answers.items()):
        question = spec.by_key[key]
        option_ids = [o.id for o in question.options if o.code in codes]
        chosen = Answer.objects.filter(
            response=OuterRef(response_id), question_id=question.id, option_id__in=option_ids
        )
        condition &= Q(Exists(chosen))
    if filters.campaigns != CampaignCounting.ALL:
        left_out = campaign_responses_left_out(consultation=consultation, how=filters.campaigns)
        condition &= ~Q(**{f"{response_id}__in": left_out})
    return condition


def campaign_responses_left_out(
    *, consultation: Consultation, how: CampaignCounting
) -> QuerySet[CampaignMember, Any]:
    """The ids of the responses that do not count when confirmed campaigns are counted
    once (all of their responses but the one standing for each) or excluded (all)."""
    members = CampaignMember.objects.filter(
        campaign__consultation=consultation, campaign__confirmed=True
    )
    if how == CampaignCounting.ONCE:
        standing = Campaign.objects.filter(
            consultation=consultation, confirmed=True, kept_response__isnull=False
        )
        members = members.exclude(response_id__in=standing.values("kept_response_id"))
    return members.values("response_id")


@dataclass(frozen=True)
class OptionCount:
    code: str
    label: str
    count: int
    percent: float
    value: int | None = None


@dataclass(frozen=True)
class QuestionResult:
    question: QuestionSpec
    asked: int
    answered: int
    options: tuple[OptionCount, ...]
    net_score: float | None = None
    rows: tuple[QuestionResult, ...] = ()
    themes: tuple[OptionCount, ...] = ()

    @property
    def no_answer(self) -> int:
        return self.asked - self.answered

    @property
    def no_answer_percent(self) -> float:
        return percent(self.no_answer, self.asked)


@dataclass(frozen=True)
class StatusCounts:
    submitted: int
    withdrawn: int
    drafts: int


@dataclass(frozen=True)
class Results:
    total: int
    questions: tuple[QuestionResult, ...]
    by_key: Mapping[str, QuestionResult]
    per_day: tuple[tuple[date, int], ...]


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def status_counts(*, consultation: Consultation) -> StatusCounts:
    """Responses by status: the counted ones from the running counts, the few withdrawn
    and drafts from the index on status (counting a million rows would take a while)."""
    responses = Response.objects.filter(consultation=consultation)
    return StatusCounts(
        submitted=_tallied_total(consultation),
        withdrawn=responses.filter(status=ResponseStatus.WITHDRAWN).count(),
        drafts=responses.filter(status=ResponseStatus.DRAFT).count(),
    )


def _tallied_total(consultation: Consultation) -> int:
    total = DayTally.objects.filter(consultation=consultation).aggregate(total=Sum("n"))["total"]
    return int(total or 0)


@dataclass(frozen=True)
class Counts:
    """The figures every result is made from, for one set of responses."""

    total: int
    chosen: Mapping[int, Mapping[int, int]]  # question id -> option id -> responses
    answered: Mapping[int, int]  # question id -> responses that answered it
    per_day: tuple[tuple[date, int], ...]

    def minus(self, part: Counts) -> Counts:
        """These counts without those of ``part``, a subset of the same responses."""
        chosen: dict[int, dict[int, int]] = defaultdict(dict)
        for question_id, by_option in self.chosen.items():
            taken = part.chosen.get(question_id, {})
            for option_id, n in by_option.items():
                if n - taken.get(option_id, 0):
                    chosen[question_id][option_id] = n - taken.get(option_id, 0)
        answered = {
            question_id: n - part.answered.get(question_id, 0)
            for question_id, n in self.answered.items()
            if n - part.answered.get(question_id, 0)
        }
        days_taken = dict(part.per_day)
        per_day = tuple(
            (day, n - days_taken.get(day, 0))
            for day, n in self.per_day
            if n - days_taken.get(day, 0)
        )
        return Counts(
            total=self.total - part.total, chosen=chosen, answered=answered, per_day=per_day
        )

    def only(self, question_ids: set[int] | None, *, per_day: bool) -> Counts:
        """These counts for some questions (all with None), with or without the days (the
        running counts give every question and day whatever was asked)."""
        return Counts(
            total=self.total,
            chosen=defaultdict(
                dict,
                {
                    q: by_option
                    for q, by_option in self.chosen.items()
                    if question_ids is None or q in question_ids
                },
            ),
            answered={
                q: n for q, n in self.answered.items() if question_ids is None or q in question_ids
            },
            per_day=self.per_day if per_day else (),
        )


def counts(
    *,
    consultation: Consultation,
    spec: ConsultationSpec,
    filters: Filters,
    questions: Iterable[QuestionSpec] | None = None,
    per_day: bool = True,
) -> Counts:
    """Unfiltered, from the running counts (a few hundred rows, 3 queries); filtered, by
    grouping the chosen responses' answers (of ``questions`` if given): at most 4 queries,
    one fewer without ``per_day``; campaigns counted once or excluded add 4 more.

    With campaigns counted once or excluded, the responses left out are counted and taken
    away: they are a minority, so grouping them is quicker than grouping the rest, and
    without other filters the rest come from the running counts."""
    if filters.campaigns != CampaignCounting.ALL:
        every = filters.every_campaign_response()
        left_out = responses_filtered(consultation=consultation, spec=spec, filters=every).filter(
            pk__in=campaign_responses_left_out(consultation=consultation, how=filters.campaigns)
        )
        whole = counts(
            consultation=consultation,
            spec=spec,
            filters=every,
            questions=questions,
            per_day=per_day,
        )
        part = _counts_grouped(left_out, spec, questions=questions, per_day=per_day)
        asked_about = None if questions is None else {q.id for q in questions}
        return whole.minus(part).only(asked_about, per_day=per_day)
    if not filters:
        return _counts_tallied(consultation)
    responses = responses_filtered(consultation=consultation, spec=spec, filters=filters)
    return _counts_grouped(responses, spec, questions=questions, per_day=per_day)


def _counts_grouped(
    responses: QuerySet[Response],
    spec: ConsultationSpec,
    *,
    questions: Iterable[QuestionSpec] | None,
    per_day: bool,
) -> Counts:
    # From the chosen responses to their answers, by the index that starts with the
    # response. Not narrowed to ``questions`` in SQL: the planner would then start from
    # every answer to those questions instead, far slower; the few groups are cut here.
    answers = Answer.objects.filter(response__in=responses)
    asked_about = list(spec.by_key.values() if questions is None else questions)
    wanted = {q.id for q in asked_about}
    chosen: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, option_id, n in (
        answers.filter(option__isnull=False)
        .values_list("question_id", "option_id")
        .annotate(n=Count("pk"))
    ):
        if question_id in wanted:
            chosen[question_id][option_id] = n
    answered: dict[int, int] = {}
    if any(q.type == QuestionType.MULTIPLE_CHOICE or q.type in TEXT_TYPES for q in asked_about):
        answered = {
            question_id: n
            for question_id, n in answers.values_list("question_id").annotate(
                n=Count("response_id", distinct=True)
            )
            if question_id in wanted
        }
    for question_id, by_option in chosen.items():  # one answer each: the options' sum
        answered.setdefault(question_id, sum(by_option.values()))
    days: tuple[tuple[date, int], ...] = ()
    if per_day:
        days = tuple(
            (row["day"], row["n"])
            for row in responses.annotate(day=TruncDate("submitted_at", tzinfo=LONDON))
            .values("day")
            .annotate(n=Count("pk"))
            .order_by("day")
        )
    return Counts(total=responses.count(), chosen=chosen, answered=answered, per_day=days)


def _counts_tallied(consultation: Consultation) -> Counts:
    chosen: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, option_id, n in OptionTally.objects.filter(
        question__consultation=consultation, n__gt=0
    ).values_list("question_id", "option_id", "n"):
        chosen[question_id][option_id] = n
    answered = dict(
        QuestionTally.objects.filter(question__consultation=consultation, n__gt=0).values_list(
            "question_id", "n"
        )
    )
    days = tuple(
        DayTally.objects.filter(consultation=consultation, n__gt=0)
        .order_by("day")
        .values_list("day", "n")
    )
    return Counts(total=sum(n for _, n in days), chosen=chosen, answered=answered, per_day=days)


def drafts_by_last_section(
    *, consultation: Consultation, spec: ConsultationSpec
) -> list[tuple[str, int]]:
    """Drafts never sent, by the last section they answered ("drop-off")."""
    last_position = Subquery(
        Answer.objects.filter(response=OuterRef("pk"))
        .order_by("-question__section__position")
        .values("question__section__position")[:1]
    )
    rows = (
        Response.objects.filter(consultation=consultation, status=ResponseStatus.DRAFT)
        .annotate(last=last_position)
        .values("last")
        .annotate(n=Count("pk"))
    )
    by_position = {row["last"]: row["n"] for row in rows}
    ordered = [("Before answering any section", by_position.get(None, 0))]
    ordered += [
        (section.title, by_position.get(position, 0))
        for position, section in enumerate(spec.sections, start=1)
    ]
    return ordered


def results(*, consultation: Consultation, spec: ConsultationSpec, filters: Filters) -> Results:
    """Counts and percentages for every question, for the filtered responses: at most 5
    queries (4 without filters), and 4 more with campaigns counted once or excluded."""
    counted = counts(consultation=consultation, spec=spec, filters=filters)
    total, option_counts = counted.total, counted.chosen
    responses = responses_filtered(consultation=consultation, spec=spec, filters=filters)
    theme_counts: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for question_id, name, n in (
        Theme.objects.filter(question__consultation=consultation)
        .annotate(n=Count("assignments", filter=Q(assignments__answer__response__in=responses)))
        .values_list("question_id", "name", "n")
        .order_by("question_id", "name")
    ):
        theme_counts[question_id].append((name, n))

    def answered(question: QuestionSpec) -> int:
        return counted.answered.get(question.id, 0)

    def asked(question: QuestionSpec) -> int:
        if question.condition_key is None:
            return total
        condition = spec.by_key[question.condition_key]
        counts = option_counts[condition.id]
        return sum(
            counts.get(o.id, 0) for o in condition.options if o.code in question.condition_codes
        )

    def result(question: QuestionSpec, parent: QuestionSpec | None = None) -> QuestionResult:
        source = parent or question
        base = answered(question)
        counts = option_counts[question.id]
        options = tuple(
            OptionCount(o.code, o.label, counts.get(o.id, 0), percent(counts.get(o.id, 0), base))
            for o in source.options
        )
        themes = tuple(
            OptionCount(name, name, n, percent(n, base)) for name, n in theme_counts[question.id]
        )
        return QuestionResult(
            question=question,
            asked=asked(source),
            answered=base,
            options=options,
            net_score=_net_score(source.options, counts),
            rows=tuple(result(row, question) for row in question.rows),
            themes=themes,
        )

    questions = tuple(
        result(question)
        for section in spec.sections
        for question in section.questions
        if question.profile not in PERSONAL_FIELDS
    )
    by_key: dict[str, QuestionResult] = {}
    for question_result in questions:
        by_key[question_result.question.key] = question_result
        by_key.update((row.question.key, row) for row in question_result.rows)
    return Results(total=total, questions=questions, by_key=by_key, per_day=counted.per_day)


def _net_score(options: Iterable[OptionSpec], counts: Mapping[int, int]) -> float | None:
    """Percentage with a positive scale value minus percentage with a negative one, among
    those who chose a valued point ("Don't know" has no value and is left out). Only for
    scales that run from negative to positive."""
    values = {option.id: option.value for option in options if option.value is not None}
    if not (any(v > 0 for v in values.values()) and any(v < 0 for v in values.values())):
        return None
    valued = sum(counts.get(option_id, 0) for option_id in values)
    positive = sum(counts.get(option_id, 0) for option_id, v in values.items() if v > 0)
    negative = sum(counts.get(option_id, 0) for option_id, v in values.items() if v < 0)
    if not valued:
        return None
    return round(100 * (positive - negative) / valued, 1)


@dataclass(frozen=True)
class CrossTabCell:
    count: int | None  # None when suppressed
    row_percent: float | None
    column_percent: float | None


@dataclass(frozen=True)
class CrossTab:
    """Responses by the answers to two closed questions. A response that chose several
    options of a multiple-choice question counts once in each of their cells, so cells
    may add up to more than the totals, which count respondents."""

    row_question: QuestionSpec
    column_question: QuestionSpec
    rows: tuple[tuple[OptionSpec, tuple[CrossTabCell, ...], int | None], ...]
    column_totals: tuple[int | None, ...]
    total: int
    threshold: int


def crosstab_questions(spec: ConsultationSpec) -> list[QuestionSpec]:
    """Questions that can be cross-tabulated: every closed question (matrix rows one by one)."""
    return [
        q
        for q in spec.by_key.values()
        if q.type in CHOICE_TYPES and q.profile not in PERSONAL_FIELDS
    ]


def crosstab(
    *,
    consultation: Consultation,
    spec: ConsultationSpec,
    filters: Filters,
    row_key: str,
    column_key: str,
    threshold: int = 0,
) -> CrossTab:
    """Cross-tabulate two closed questions: one grouped query, or four when either
    question takes several answers (totals then count respondents, not answers).

    Counts below ``threshold`` (but above zero) are suppressed, with their percentages,
    and so are enough others that none can be worked out from the totals; totals below
    the threshold are suppressed too. Small groups cannot be singled out.
    """
    row_question, column_question = spec.by_key[row_key], spec.by_key[column_key]
    both = (
        responses_filtered(consultation=consultation, spec=spec, filters=filters)
        .alias(
            row_answer=FilteredRelation(
                "answers", condition=Q(answers__question_id=row_question.id)
            ),
            column_answer=FilteredRelation(
                "answers", condition=Q(answers__question_id=column_question.id)
            ),
        )
        .filter(row_answer__option__isnull=False, column_answer__option__isnull=False)
    )
    cells = {
        (r, c): n
        for r, c, n in both.values_list("row_answer__option_id", "column_answer__option_id")
        .annotate(n=Count("pk"))
        .order_by()
    }
    if QuestionType.MULTIPLE_CHOICE in (row_question.type, column_question.type):
        row_totals = dict(
            both.values_list("row_answer__option_id")
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        )
        column_totals = dict(
            both.values_list("column_answer__option_id")
            .annotate(n=Count("pk", distinct=True))
            .order_by()
        )
        total = both.aggregate(n=Count("pk", distinct=True))["n"]
    else:  # one answer each: every response is in one cell, and the totals are sums
        row_totals, column_totals = defaultdict(int), defaultdict(int)
        for (r, c), n in cells.items():
            row_totals[r] += n
            column_totals[c] += n
        total = sum(cells.values())

    def shown(n: int) -> int | None:
        return None if 0 < n < threshold else n

    grid = [
        [cells.get((r.id, c.id), 0) for c in column_question.options] for r in row_question.options
    ]
    hidden = suppressed_cells(grid, threshold)
    rows = []
    for i, row_option in enumerate(row_question.options):
        row_total = row_totals.get(row_option.id, 0)
        row_cells = []
        for j, column_option in enumerate(column_question.options):
            n = grid[i][j]
            column_total = column_totals.get(column_option.id, 0)
            visible = (i, j) not in hidden
            row_cells.append(
                CrossTabCell(
                    count=n if visible else None,
                    row_percent=percent(n, row_total) if visible else None,
                    column_percent=percent(n, column_total) if visible else None,
                )
            )
        rows.append((row_option, tuple(row_cells), shown(row_total)))
    return CrossTab(
        row_question=row_question,
        column_question=column_question,
        rows=tuple(rows),
        column_totals=tuple(shown(column_totals.get(o.id, 0)) for o in column_question.options),
        total=total,
        threshold=threshold,
    )


def suppressed_cells(grid: list[list[int]], threshold: int) -> set[tuple[int, int]]:
    """Cells to hide: counts from 1 to ``threshold - 1`` (primary suppression), then, in any
    row or column where only one cell is hidden, the smallest other non-zero cell too, so
    that a hidden count cannot be worked out from the totals (secondary suppression)."""
    hidden = {(i, j) for i, row in enumerate(grid) for j, n in enumerate(row) if 0 < n < threshold}
    lines = [[(i, j) for j in range(len(grid[0]))] for i in range(len(grid))] if grid else []
    lines += [[(i, j) for i in range(len(grid))] for j in range(len(grid[0]))] if grid else []
    changed = bool(hidden)
    while changed:
        changed = False
        for line in lines:
            if sum(cell in hidden for cell in line) != 1:
                continue
            others = [cell for cell in line if cell not in hidden and grid[cell[0]][cell[1]] > 0]
            if others:
                hidden.add(min(others, key=lambda cell: grid[cell[0]][cell[1]]))
                changed = True
    return hidden


def text_questions(spec: ConsultationSpec) -> list[QuestionSpec]:
    return [
        q for q in spec.by_key.values() if q.type in TEXT_TYPES and q.profile not in PERSONAL_FIELDS
    ]


def search_terms(search: str) -> list[str]:
    """The words of a search, at most ten: everything else (quotes, operators) is dropped."""
    return re.findall(r"\w+", search)[:10]


def text_answers(
    *,
    consultation: Consultation,
    spec: ConsultationSpec,
    question: QuestionSpec,
    filters: Filters,
    search: str = "",
    theme: Theme | None = None,
    campaign: Campaign | None = None,
    unreviewed: bool = False,
) -> QuerySet[Answer]:
    """Answers to an open question, newest first, narrowed by filters, words, theme (only
    those given it by a suggestion and not yet reviewed, if ``unreviewed``) and campaign."""
    answers = answers_filtered(consultation=consultation, spec=spec, filters=filters).filter(
        question_id=question.id
    )
    terms = search_terms(search)
    if terms:
        answers = answers.filter(_matches(terms))
    if theme is not None:
        condition = {"theme": theme} | ({"reviewed": False} if unreviewed else {})
        answers = answers.filter(
            Exists(AnswerTheme.objects.filter(answer=OuterRef("pk"), **condition))
        )
    if campaign is not None:
        answers = answers.filter(campaign_member__campaign=campaign)
    return answers.select_related("response").order_by("-response__submitted_at", "-pk")


def _matches(terms: list[str]) -> Q:
    """Full-text match of every term (as a prefix): SQLite FTS5 or PostgreSQL text search.

    The index behind each is made by migration analysis 0003.
    """
    if connection.vendor == "postgresql":
        query = " & ".join(f"{term}:*" for term in terms)
        vector = POSTGRES_TEXT_VECTOR.format(column='"responses_answer"."text"')
        condition = f"{vector} @@ to_tsquery('simple', %s)"  # constant; the search is a parameter
        return Q(RawSQL(condition, [query], output_field=BooleanField()))  # noqa: S611  # nosec B611
    match = " ".join('"{}"*'.format(term.replace('"', '""')) for term in terms)
    return Q(
        pk__in=RawSQL("SELECT rowid FROM answer_text_fts WHERE answer_text_fts MATCH %s", [match])
    )


def theme_counts(*, question: QuestionSpec, answers: QuerySet[Answer]) -> list[tuple[Theme, int]]:
    """The question's codebook with how many of ``answers`` carry each theme (one query)."""
    themes = Theme.objects.filter(question_id=question.id).annotate(
        n=Count("assignments", filter=Q(assignments__answer__in=answers.values("pk"))),
        unreviewed=Count(
            "assignments",
            filter=Q(assignments__answer__in=answers.values("pk"), assignments__reviewed=False),
        ),
    )
    return [(theme, theme.n) for theme in themes]


def answer_themes_unreviewed(answers: Iterable[Answer]) -> dict[int, set[int]]:
    """Suggested theme ids not yet reviewed, by answer id, for one page (one query)."""
    themes: dict[int, set[int]] = defaultdict(set)
    rows = AnswerTheme.objects.filter(answer__in=list(answers), reviewed=False)
    for answer_id, theme_id in rows.values_list("answer_id", "theme_id"):
        themes[answer_id].add(theme_id)
    return themes


def answer_themes(answers: Iterable[Answer]) -> dict[int, set[int]]:
    """Theme ids by answer id, for one page of answers (one query)."""
    themes: dict[int, set[int]] = defaultdict(set)
    for answer_id, theme_id in AnswerTheme.objects.filter(answer__in=list(answers)).values_list(
        "answer_id", "theme_id"
    ):
        themes[answer_id].add(theme_id)
    return themes


def who_responded(
    *,
    consultation: Consultation,
    spec: ConsultationSpec,
    filters: Filters,
    questions: list[QuestionSpec],
) -> list[QuestionResult]:
    """Where the filtered responses came from, by the filter questions (three queries)."""
    wanted = questions + [
        spec.by_key[q.condition_key] for q in questions if q.condition_key is not None
    ]
    counted = counts(
        consultation=consultation, spec=spec, filters=filters, questions=wanted, per_day=False
    )
    results = []
    for question in questions:
        chosen = counted.chosen.get(question.id, {})
        answered = sum(chosen.values())
        asked = counted.total
        if question.condition_key is not None:
            condition = spec.by_key[question.condition_key]
            asked = (
                sum(
                    counted.chosen[condition.id].get(o.id, 0)
                    for o in condition.options
                    if o.code in question.condition_codes
                )
                if condition.id in counted.chosen
                else answered
            )
        results.append(
            QuestionResult(
                question=question,
                asked=asked,
                answered=answered,
                options=tuple(
                    OptionCount(
                        o.code, o.label, chosen.get(o.id, 0), percent(chosen.get(o.id, 0), answered)
                    )
                    for o in question.options
                ),
            )
        )
    return results


# Campaigns ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignVariant:
    """One version of a campaign's text: the members whose normalised text is the same."""

    fingerprint: str
    text: str
    count: int
    similarity: float


def campaigns_by_question(
    *, consultation: Consultation, spec: ConsultationSpec
) -> list[tuple[QuestionSpec, list[Campaign]]]:
    """Every open question with its campaigns, largest first (one query)."""
    by_question: dict[int, list[Campaign]] = defaultdict(list)
    for campaign in Campaign.objects.filter(consultation=consultation):
        by_question[campaign.question_id].append(campaign)
    return [(question, by_question[question.id]) for question in text_questions(spec)]


def campaign_variants(campaign: Campaign) -> QuerySet[CampaignMember, dict[str, Any]]:
    """The campaign's versions of its text that count (sent, not withdrawn), most common
    first, as rows of fingerprint, count, similarity and the first answer's id; give a
    page of them to ``campaign_variant_texts``."""
    return (
        campaign.members.filter(response__status=ResponseStatus.SUBMITTED)
        .values("fingerprint")
        .annotate(n=Count("pk"), similarity=Max("similarity"), first=Min("answer_id"))
        .order_by("-n", "first")
    )


def campaign_variant_texts(rows: Iterable[Mapping[str, Any]]) -> list[CampaignVariant]:
    """Rows of ``campaign_variants`` with their text (one query)."""
    rows = list(rows)
    texts = dict(
        Answer.objects.filter(pk__in=[row["first"] for row in rows]).values_list("pk", "text")
    )
    return [
        CampaignVariant(
            fingerprint=row["fingerprint"],
            text=texts.get(row["first"]) or "",
            count=row["n"],
            similarity=row["similarity"],
        )
        for row in rows
    ]


def answer_campaigns(answers: Iterable[Answer]) -> dict[int, Campaign]:
    """The campaign of each answer in a page of answers that is in one (one query)."""
    members = CampaignMember.objects.filter(answer__in=list(answers)).select_related("campaign")
    return {member.answer_id: member.campaign for member in members}


# Data subject requests (a data controller's view of one response) ----------------------

REFERENCE_SPACES = re.compile(r"\s+")


def reference_normalised(text: str) -> str:
    """A reference as typed or read out: any case, with or without spaces around it."""
    return REFERENCE_SPACES.sub("", text).upper()


def response_by_reference(reference: str) -> Response | None:
    """The response, in any state (drafts too), with its consultation and personal details."""
    return (
        Response.objects.select_related("consultation", "respondent")
        .filter(reference=reference_normalised(reference))
        .first()
    )


def subject_access_document(*, response: Response, spec: ConsultationSpec) -> dict[str, object]:
    """Everything held about one response, for its respondent: what they told us, in words
    and in codes, the themes analysts gave their answers, and the dates it went through."""
    answers = response_answer_map(response=response, spec=spec)
    respondent = getattr(response, "respondent", None)
    themes = (
        AnswerTheme.objects.filter(answer__response=response)
        .order_by("answer__question__position", "theme__name")
        .values_list("answer__question__key", "theme__name")
    )
    return {
        "reference": response.reference,
        "consultation": {"slug": response.consultation.slug, "title": response.consultation.title},
        "status": response.status,
        "language": response.language,
        "started_at": response.started_at.isoformat(),
        "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
        "withdrawn_at": response.withdrawn_at.isoformat() if response.withdrawn_at else None,
        "publication_choice": response.publication,
        "personal_details": {
            field_name: getattr(respondent, field_name, "")
            for field_name in PERSONAL_FIELDS.values()
        },
        "answers": [
            {
                "section": section["title"],
                "question": row["question"],
                "key": row["key"],
                "answer": row["lines"],
                "codes": _codes(answers.get(row["key"])),
            }
            for section in check_answers_rows(spec, answers, response=response)
            for row in section["rows"]
        ],
        "supporting_document": _document_described(response),
        "themes_given_by_analysts": [{"key": key, "theme": name} for key, name in themes],
        "channel": response.channel,
        "amendments": [
            {**amendment, "at": amendment["at"].isoformat()}
            for amendment in amendment_history(response=response, spec=spec)
        ],
    }


def _document_described(response: Response) -> dict[str, object] | None:
    """The supporting document as held (the file itself is downloaded from the workspace's
    documents page)."""
    document = Document.objects.filter(response=response).defer("text").first()
    if document is None:
        return None
    return {
        "file_name_as_sent": document.original_name,
        "type": document.get_kind_display(),
        "bytes": document.size,
        "sha256": document.sha256,
        "uploaded_at": document.uploaded_at.isoformat(),
    }


def amendment_history(*, response: Response, spec: ConsultationSpec) -> list[dict[str, Any]]:
    """Each change the respondent made after sending, oldest first: when, and each changed
    question's earlier answer in codes and in words (earlier personal details are not
    kept). The answers stored now are the latest version."""
    history = []
    for amendment in Amendment.objects.filter(response=response).order_by("at", "pk"):
        changes = []
        for key in amendment.changed_keys:
            question = spec.by_key.get(key)
            before = amendment.previous.get(key)
            changes.append(
                {
                    "key": key,
                    "question": question.text if question else key,
                    "before": before,
                    "before_in_words": _in_words(question, before),
                }
            )
        history.append({"at": amendment.at, "changes": changes})
    return history


def _in_words(question: QuestionSpec | None, value: object) -> list[str]:
    if question is not None and question.profile in PERSONAL_FIELDS:
        return ["Not kept (personal details)"]
    if not value:
        return ["Not answered"]
    if isinstance(value, list):
        labels = []
        for code in value:
            option = question.option_by_code(code) if question else None
            labels.append(option.label if option else str(code))
        return labels
    return [str(value)]


def _codes(value: AnswerValue | None) -> list[str] | str | None:
    if isinstance(value, tuple):
        return list(value)
    return value or None


def downloads_since(response: Response) -> QuerySet[DownloadRecord]:
    """Downloads of the response's consultation since it was sent: copies of its answers
    may be in them (personal details only in the full variant)."""
    since = response.submitted_at or response.started_at
    return DownloadRecord.objects.filter(consultation=response.consultation_id, at__gte=since)


# Theme suggestions ----------------------------------------------------------------------

QUEUED_TOO_LONG = timedelta(minutes=2)  # a worker picks a task up within seconds


@dataclass(frozen=True)
class Suggestion:
    """A suggestion as the page shows it: its size and quotes, and what was merged in."""

    suggestion: ThemeSuggestion
    size: int
    quotes: list[Answer]
    merged: list[ThemeSuggestion]


def suggestion_run_latest(question: QuestionSpec) -> SuggestionRun | None:
    return SuggestionRun.objects.filter(question_id=question.id).first()


def suggestion_run_shown(question: QuestionSpec) -> SuggestionRun | None:
    """The latest run that finished with suggestions: the one whose suggestions show."""
    return SuggestionRun.objects.filter(
        question_id=question.id, status=SuggestionRunStatus.DONE
    ).first()


def suggestions(run: SuggestionRun, *, quotes: int = 3) -> list[Suggestion]:
    """The run's suggestions with their sizes and strongest quotes, largest first; those
    merged into another are listed under it (three queries)."""
    rows = list(
        ThemeSuggestion.objects.filter(run=run)
        .select_related("theme")
        .annotate(size=Count("answers"))
        .order_by("-size", "number")
    )
    quoted: dict[int, list[Answer]] = defaultdict(list)
    for quote in (
        SuggestedAnswer.objects.filter(suggestion__run=run, quote=True)
        .select_related("answer__response")
        .order_by("-weight", "answer_id")
    ):
        if len(quoted[quote.suggestion_id]) < quotes:
            quoted[quote.suggestion_id].append(quote.answer)
    merged: dict[int, list[ThemeSuggestion]] = defaultdict(list)
    for row in rows:
        if row.merged_into_id is not None:
            merged[row.merged_into_id].append(row)
    return [
        Suggestion(row, row.size, quoted[row.pk], merged[row.pk])
        for row in rows
        if row.merged_into_id is None
    ]


def suggestion_progress(run: SuggestionRun, *, now: datetime) -> dict[str, object]:
    """What the page and its progress endpoint say about a run."""
    at = run.updated_at.astimezone(LONDON).strftime("%H:%M")
    if run.status == SuggestionRunStatus.QUEUED:
        text = "Waiting for the task worker to start the run."
        if now - run.requested_at > QUEUED_TOO_LONG:
            text += " If it does not start soon, check that the task worker is running."
    elif run.status == SuggestionRunStatus.RUNNING:
        text = (
            f"Finding themes: {run.done:,} of {run.total:,} answers."
            if run.done
            else "Learning themes from the answers."
        )
    elif run.status == SuggestionRunStatus.DONE:
        text = f"Done at {at}: themes suggested from {run.total:,} answers."
    else:
        text = f"The run failed at {at}. {run.error}"
    return {
        "status": run.status,
        "active": run.active,
        "done": run.done,
        "total": run.total,
        "text": text,
    }


# Supporting documents. Only organisations attach them, so a consultation has hundreds at
# most: a search scans their text (every word of it, anywhere, in any case) with no index
# of its own, and stays quick.
SNIPPET_BEFORE = 100
SNIPPET_LENGTH = 300


def documents_found(*, consultation: Consultation, search: str = "") -> QuerySet[Document]:
    """The supporting documents of the responses that count (sent, not withdrawn), the
    latest first, without their text; with a search, those whose text holds every word of
    it, each with ``snippet``, the text around the first word."""
    documents = (
        Document.objects.filter(response__consultation=consultation)
        .filter(response__in=Response.objects.counted())
        .select_related("response")
        .defer("text")
        .order_by("-response__submitted_at", "-pk")
    )
    terms = search_terms(search)
    for term in terms:
        documents = documents.filter(text__icontains=term)
    if terms:
        at = StrIndex(Lower("text"), Value(terms[0].lower()))
        documents = documents.annotate(
            snippet=Substr("text", Greatest(at - SNIPPET_BEFORE, 1), SNIPPET_LENGTH)
        )
    return documents
