"""Campaign review: what confirming, renaming, splitting and taking answers out of a
campaign store, and how the results, cross-tabulations and free-text answers count the
responses of confirmed campaigns (all, once or not at all), checked against counts made
here in Python from the responses each test sends."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from consult.analysis import queries
from consult.analysis.campaigns import consultation_campaigns_detect
from consult.analysis.models import (
    Campaign,
    CampaignMember,
    CampaignRelease,
    Role,
)
from consult.analysis.queries import CampaignCounting, Filters
from consult.analysis.services import (
    CampaignChangeError,
    answer_themes_set,
    campaign_confirm,
    campaign_release,
    campaign_rename,
    campaign_split,
    response_erase,
    theme_create,
)
from consult.consultations.queries import consultation_spec
from consult.responses import services
from consult.responses.models import Answer, Response
from tests.analysis.conftest import respond, user_make

LONDON = ZoneInfo("Europe/London")
NOW = timezone.now()
# Five days ago at 01:00 UTC, the same day in the UK: the fixture opened the consultation
# a week ago, and the last response (111 hours on) is sent yesterday.
BASE = (NOW - timedelta(days=5)).replace(hour=1, minute=0, second=0, microsecond=0)
DETECTED = NOW + timedelta(minutes=5)  # detection runs once the answers have settled
OPEN_A, OPEN_B = "anything_else", "other_safeguards"

TEXT_A = "Live facial recognition must be banned in every public space across the whole country."
A_SHOUTED = TEXT_A.replace(".", "!")  # the same variant: it normalises as TEXT_A does
A_PLEASE = f"{TEXT_A} Please."
A_NOW = f"{TEXT_A} Right now."
TEXT_B = "Nobody should be scanned by cameras without a warrant signed by an independent judge."

# Name, hours after BASE, answer to OPEN_A, answer to OPEN_B. "W" is withdrawn once
# campaigns are detected: it was the first member of campaign A. "R" stands for campaign A
# after that, and is also the second member of campaign B; "S" is in both and first in
# neither.
ROWS = [
    ("W", 0, TEXT_A, None),
    ("B1", 3, None, TEXT_B),
    ("R", 9, TEXT_A, TEXT_B),
    ("A2", 20, A_SHOUTED, None),
    ("O1", 26, "Cameras in shops worry me more than the police ones.", None),
    ("S", 30, A_PLEASE, TEXT_B),
    ("B2", 44, None, TEXT_B),
    ("A3", 50, TEXT_A, None),
    ("O2", 55, None, "Independent audits every year, published in full."),
    ("A4", 70, A_PLEASE, None),
    ("B3", 75, None, TEXT_B),
    ("O3", 80, None, None),
    ("A5", 90, A_NOW, None),
    ("B4", 95, None, TEXT_B),
    ("O4", 100, "I have no objection if it finds missing children.", None),
    ("A6", 105, TEXT_A, None),
    ("O5", 110, None, None),
]
PRIOR = ["knew_fair_amount", "knew_little", "not_heard"]
OVERALL = ["never", "exceptional_only", "strict_safeguards", "light_safeguards", "dont_know"]
PURPOSES = [
    ("wanted_serious",),
    ("missing_vulnerable", "terrorism"),
    ("none",),
    ("wanted_serious", "wanted_less_serious", "terrorism"),
]
CLOSED = ["respondent_type", "prior_awareness", "lfr_overall", "lfr_purposes"]


@dataclass
class Made:
    """A response a test sent: what it answered and which campaigns it should be in."""

    name: str
    response: Response
    given: dict[str, str | tuple[str, ...]]
    withdrawn: bool = False

    @property
    def campaigns(self) -> frozenset[str]:
        in_a = self.given.get(OPEN_A) in (TEXT_A, A_SHOUTED, A_PLEASE, A_NOW)
        in_b = self.given.get(OPEN_B) == TEXT_B
        return frozenset(name for name, member in (("A", in_a), ("B", in_b)) if member)

    @property
    def day(self) -> date:
        return self.response.submitted_at.astimezone(LONDON).date()

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.response.submitted_at, self.response.pk)


def closed_answers(number: int) -> dict[str, str | tuple[str, ...]]:
    """Answers to the closed questions that vary with the response's number."""
    return {
        "respondent_type": ("organisation",) if number % 4 == 1 else ("individual",),
        "prior_awareness": (PRIOR[number % 3],),
        "lfr_overall": (OVERALL[(number * 2) % 5],),
        "lfr_purposes": PURPOSES[number % 4],
    }


def send(consultation, name: str, at: datetime, number: int, text_a, text_b) -> Made:
    given = closed_answers(number)
    if text_a:
        given[OPEN_A] = text_a
    if text_b:
        given[OPEN_B] = text_b
    return Made(name, respond(consultation, at, **given), given)


@dataclass
class Dataset:
    made: dict[str, Made]
    a: Campaign
    b: Campaign

    def counted(self) -> list[Made]:
        return [m for m in self.made.values() if not m.withdrawn]


def build(consultation, *, withdraw_first: bool = True, extra: int = 0) -> Dataset:
    """Send ROWS (and ``extra`` more ordinary responses and members of campaign A), detect
    the campaigns, then withdraw W unless told not to."""
    made = {}
    for number, (name, hours, text_a, text_b) in enumerate(ROWS):
        made[name] = send(consultation, name, BASE + timedelta(hours=hours), number, text_a, text_b)
    for number in range(extra):
        at = BASE + timedelta(hours=111, minutes=number)
        text_a = TEXT_A if number % 2 else f"My own view, number {number}, in my own words."
        made[f"X{number}"] = send(consultation, f"X{number}", at, number, text_a, None)
    consultation_campaigns_detect(consultation=consultation, now=DETECTED)
    dataset = Dataset(
        made=made,
        a=Campaign.objects.get(question__key=OPEN_A),
        b=Campaign.objects.get(question__key=OPEN_B),
    )
    if withdraw_first:
        assert services.response_withdraw(response=made["W"].response, now=DETECTED)
        made["W"].withdrawn = True
        dataset.a.refresh_from_db()
    return dataset


def expected_kept(dataset: Dataset, how: CampaignCounting, confirmed: set[str]) -> list[Made]:
    """The counted responses that should remain: all of them; those in no confirmed
    campaign; or those plus the first one sent of each confirmed campaign."""
    counted = dataset.counted()
    if how == CampaignCounting.ALL:
        return counted
    standing = {
        min((m for m in counted if name in m.campaigns), key=lambda m: m.order).name
        for name in confirmed
    }
    return [
        m
        for m in counted
        if not (m.campaigns & confirmed) or (how == CampaignCounting.ONCE and m.name in standing)
    ]


def selected(made: Iterable[Made], filters: Filters) -> list[Made]:
    """The responses that pass the answer and date filters (campaigns aside)."""

    def passes(m: Made) -> bool:
        if filters.submitted_from and m.day < filters.submitted_from:
            return False
        if filters.submitted_to and m.day > filters.submitted_to:
            return False
        return all(set(m.given.get(key, ())) & codes for key, codes in filters.answers.items())

    return [m for m in made if passes(m)]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def fingerprint(text: str) -> str:
    """A variant's fingerprint, as the model describes it: BLAKE2b of the normalised text."""
    return hashlib.blake2b(" ".join(words(text)).encode(), digest_size=16).hexdigest()


def jaccard(first: str, second: str) -> float:
    """Jaccard similarity of two texts' word 3-grams."""

    def grams(text: str) -> set[tuple[str, ...]]:
        w = words(text)
        return {tuple(w[i : i + 3]) for i in range(len(w) - 2)}

    return len(grams(first) & grams(second)) / len(grams(first) | grams(second))


def confirm(dataset: Dataset, names: Iterable[str], user) -> None:
    for name in names:
        campaign_confirm(campaign=getattr(dataset, name.lower()), user=user, now=DETECTED)


def db_state() -> tuple[set[tuple], set[tuple], int]:
    """Every campaign's stored fields and every member, to tell that nothing changed."""
    campaigns = {tuple(row.values()) for row in Campaign.objects.values()}
    members = set(CampaignMember.objects.values_list("answer_id", "campaign_id", "similarity"))
    return campaigns, members, CampaignRelease.objects.count()


# ---------------------------------------------------------------- detection's record


def test_detection_records_each_members_variant_and_the_first_sent_as_kept(consultation):
    dataset = build(consultation, withdraw_first=False)
    made = dataset.made

    for campaign, letter, key in ((dataset.a, "A", OPEN_A), (dataset.b, "B", OPEN_B)):
        members = dict(campaign.members.values_list("answer__response_id", "fingerprint"))
        in_campaign = [m for m in made.values() if letter in m.campaigns]
        assert members == {m.response.pk: fingerprint(m.given[key]) for m in in_campaign}
        first = min(in_campaign, key=lambda m: m.order)
        assert campaign.kept_response_id == first.response.pk
        assert campaign.size == len(in_campaign)
        assert not campaign.confirmed
    assert dataset.a.kept_response_id == made["W"].response.pk
    assert fingerprint(TEXT_A) == fingerprint(A_SHOUTED) != fingerprint(A_PLEASE)


# ---------------------------------------------------------------- counting the campaigns

# Responses that chose either of two answers, sent on the 2nd to 4th UK days of the data.
ANSWER_AND_DATES = Filters(
    answers={"prior_awareness": frozenset({"knew_little", "not_heard"})},
    submitted_from=(BASE + timedelta(days=1)).astimezone(LONDON).date(),
    submitted_to=(BASE + timedelta(days=3)).astimezone(LONDON).date(),
)


def assert_results_match(consultation, filters: Filters, kept: list[Made]) -> None:
    """``results`` and ``counts`` say what the responses ``kept`` answered: the closed
    questions from what the test gave, every question from the answers stored."""
    spec = consultation_spec(consultation)
    result = queries.results(consultation=consultation, spec=spec, filters=filters)
    assert result.total == len(kept)
    assert result.per_day == tuple(sorted(Counter(m.day for m in kept).items()))
    for key in CLOSED:
        chosen = Counter(code for m in kept for code in m.given[key])
        shown = {o.code: o.count for o in result.by_key[key].options if o.count}
        assert shown == chosen, key
        assert result.by_key[key].answered == len(kept), key
    for key in (OPEN_A, OPEN_B):
        assert result.by_key[key].answered == sum(1 for m in kept if key in m.given), key
    organisations = sum(1 for m in kept if m.given["respondent_type"] == ("organisation",))
    assert result.by_key["organisation_type"].asked == organisations

    counted = queries.counts(consultation=consultation, spec=spec, filters=filters)
    answers = Answer.objects.filter(response__in=[m.response.pk for m in kept])
    options = Counter(answers.filter(option__isnull=False).values_list("question_id", "option_id"))
    answered = Counter(q for q, _ in set(answers.values_list("question_id", "response_id")))
    assert {(q, o): n for q, by in counted.chosen.items() for o, n in by.items()} == options
    assert dict(counted.answered) == dict(answered)
    assert counted.total == len(kept)

    who = queries.who_responded(
        consultation=consultation,
        spec=spec,
        filters=filters,
        questions=[spec.by_key[key] for key in ("respondent_type", "prior_awareness")],
    )
    assert [{o.code: o.count for o in row.options if o.count} for row in who] == [
        Counter(m.given[key][0] for m in kept) for key in ("respondent_type", "prior_awareness")
    ]


@pytest.mark.parametrize("filters", [Filters(), ANSWER_AND_DATES], ids=["unfiltered", "filtered"])
@pytest.mark.parametrize("confirmed", [set(), {"A"}, {"B"}, {"A", "B"}], ids=repr)
@pytest.mark.parametrize("how", list(CampaignCounting))
def test_results_count_confirmed_campaigns_all_once_or_not_at_all(
    consultation, analyst, how, confirmed, filters
):
    dataset = build(consultation)
    confirm(dataset, confirmed, analyst)
    filters = replace(filters, campaigns=how)

    kept = selected(expected_kept(dataset, how, confirmed), filters)
    if confirmed and how != CampaignCounting.ALL:  # the switch has something to do
        assert len(kept) < len(selected(dataset.counted(), filters))

    assert_results_match(consultation, filters, kept)


@pytest.mark.parametrize("confirmed", [set(), {"A", "B"}], ids=repr)
@pytest.mark.parametrize("how", list(CampaignCounting))
def test_crosstabs_free_text_and_themes_follow_the_same_switch(
    consultation, analyst, how, confirmed
):
    dataset = build(consultation)
    made = dataset.made
    question = consultation.questions.get(key=OPEN_A)
    ban = theme_create(question=question, name="Ban", description="", user=analyst, now=NOW)
    coded = ["W", "R", "S", "A3", "O1"]
    for name in coded:
        answer = Answer.objects.get(response=made[name].response, question=question)
        answer_themes_set(answer=answer, themes=[ban], user=analyst, now=NOW)
    confirm(dataset, confirmed, analyst)
    spec = consultation_spec(consultation)
    filters = Filters(campaigns=how)
    kept = expected_kept(dataset, how, confirmed)

    single = queries.crosstab(
        consultation=consultation,
        spec=spec,
        filters=filters,
        row_key="prior_awareness",
        column_key="lfr_overall",
    )
    cells = {
        (row.code, column.code): cell.count
        for row, row_cells, _ in single.rows
        for column, cell in zip(spec.by_key["lfr_overall"].options, row_cells, strict=True)
        if cell.count
    }
    assert cells == Counter(
        (m.given["prior_awareness"][0], m.given["lfr_overall"][0]) for m in kept
    )
    assert single.total == len(kept)

    several = queries.crosstab(
        consultation=consultation,
        spec=spec,
        filters=filters,
        row_key="prior_awareness",
        column_key="lfr_purposes",
    )
    assert several.total == len(kept)
    assert {row.code: total for row, _, total in several.rows if total} == Counter(
        m.given["prior_awareness"][0] for m in kept
    )
    assert dict(
        zip(
            [o.code for o in spec.by_key["lfr_purposes"].options],
            several.column_totals,
            strict=True,
        )
    ) == {
        o.code: sum(o.code in m.given["lfr_purposes"] for m in kept)
        for o in spec.by_key["lfr_purposes"].options
    }

    answers = queries.text_answers(
        consultation=consultation, spec=spec, question=spec.by_key[OPEN_A], filters=filters
    )
    assert sorted(answers.values_list("response_id", flat=True)) == sorted(
        m.response.pk for m in kept if OPEN_A in m.given
    )
    themed = queries.text_answers(
        consultation=consultation,
        spec=spec,
        question=spec.by_key[OPEN_A],
        filters=filters,
        theme=ban,
    )
    coded_kept = sorted(made[name].response.pk for name in coded if made[name] in kept)
    assert sorted(themed.values_list("response_id", flat=True)) == coded_kept
    assert queries.theme_counts(question=spec.by_key[OPEN_A], answers=answers) == [
        (ban, len(coded_kept))
    ]
    result = queries.results(consultation=consultation, spec=spec, filters=filters)
    assert [(t.code, t.count) for t in result.by_key[OPEN_A].themes] == [("Ban", len(coded_kept))]


def test_a_second_campaign_a_response_belongs_to_does_not_keep_it_out_under_once(
    consultation, analyst
):
    """R stands for A (its first member sent) and is the second member of B: counted once,
    it stays when A is confirmed and goes when only B is."""
    dataset = build(consultation)
    r = dataset.made["R"].response.pk
    assert dataset.a.kept_response_id == r != dataset.b.kept_response_id
    spec = consultation_spec(consultation)

    def left_out() -> set[int]:
        ids = queries.campaign_responses_left_out(
            consultation=consultation, how=CampaignCounting.ONCE
        )
        return set(Response.objects.filter(pk__in=ids).values_list("pk", flat=True))

    campaign_confirm(campaign=dataset.b, user=analyst, now=DETECTED)
    assert r in left_out()
    assert not queries.responses_filtered(
        consultation=consultation, spec=spec, filters=Filters(campaigns=CampaignCounting.ONCE)
    ).filter(pk=r)

    campaign_confirm(campaign=dataset.a, user=analyst, now=DETECTED)
    assert r not in left_out()
    assert dataset.made["S"].response.pk in left_out()
    assert queries.responses_filtered(
        consultation=consultation, spec=spec, filters=Filters(campaigns=CampaignCounting.ONCE)
    ).filter(pk=r)


# Counting campaigns once, the responses left out are grouped and taken away from the rest:
# unfiltered, 3 queries read the running counts and 4 group the left-out responses (options,
# questions answered, days, total); filtered, 4 group the rest instead of reading the
# running counts. One more counts the themes. None of them depends on the number of
# responses, which the 30 extra (half of them members of campaign A) show.
@pytest.mark.parametrize(
    ("filters", "most"),
    [(Filters(), 8), (ANSWER_AND_DATES, 9)],
    ids=["unfiltered", "filtered"],
)
@pytest.mark.parametrize("extra", [0, 30])
def test_results_counting_campaigns_once_takes_a_fixed_number_of_queries(
    consultation, analyst, django_assert_max_num_queries, filters, most, extra
):
    dataset = build(consultation, extra=extra)
    confirm(dataset, ["A", "B"], analyst)
    spec = consultation_spec(consultation)
    filters = replace(filters, campaigns=CampaignCounting.ONCE)

    with django_assert_max_num_queries(most):
        result = queries.results(consultation=consultation, spec=spec, filters=filters)

    assert result.total == len(
        selected(expected_kept(dataset, CampaignCounting.ONCE, {"A", "B"}), filters)
    )


# ---------------------------------------------------------------- the analysts' decisions


def test_confirming_records_who_and_when_and_unconfirming_clears_them(consultation, analyst):
    dataset = build(consultation)
    at = DETECTED + timedelta(minutes=3)

    campaign_confirm(campaign=dataset.a, user=analyst, now=at)

    stored = Campaign.objects.get(pk=dataset.a.pk)
    assert (stored.confirmed, stored.confirmed_by, stored.confirmed_at) == (True, analyst, at)
    assert stored.updated_at == at
    assert not Campaign.objects.get(pk=dataset.b.pk).confirmed

    later = at + timedelta(minutes=1)
    campaign_confirm(campaign=stored, user=analyst, now=later, confirmed=False)

    stored = Campaign.objects.get(pk=dataset.a.pk)
    assert (stored.confirmed, stored.confirmed_by, stored.confirmed_at) == (False, None, None)
    assert stored.updated_at == later


@pytest.mark.parametrize(
    ("who", "when"), [(False, True), (True, False), (False, False)], ids=["who", "when", "both"]
)
def test_the_database_refuses_a_confirmation_without_who_and_when(consultation, analyst, who, when):
    dataset = build(consultation)
    given = {"confirmed_by": analyst if who else None, "confirmed_at": NOW if when else None}

    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=dataset.a.pk).update(confirmed=True, **given)

    assert not Campaign.objects.get(pk=dataset.a.pk).confirmed


def test_renaming_stores_the_name(consultation):
    dataset = build(consultation)
    at = DETECTED + timedelta(minutes=2)

    campaign_rename(campaign=dataset.b, name="Warrants for every scan", now=at)

    assert Campaign.objects.filter(pk=dataset.b.pk).values_list("name", "updated_at").get() == (
        "Warrants for every scan",
        at,
    )
    assert Campaign.objects.get(pk=dataset.a.pk).name == dataset.a.name


def members_of(campaign: Campaign) -> dict[int, float]:
    """The campaign's members as stored: response id -> similarity."""
    return dict(
        CampaignMember.objects.filter(campaign=campaign).values_list(
            "answer__response_id", "similarity"
        )
    )


def assert_figures(campaign: Campaign, made: list[Made]) -> None:
    """The stored figures are those of the counted responses ``made``."""
    counted = sorted((m for m in made if not m.withdrawn), key=lambda m: m.order)
    similarities = members_of(campaign)
    values = [similarities[m.response.pk] for m in counted]
    assert campaign.size == len(counted)
    assert campaign.first_submitted_at == counted[0].response.submitted_at
    assert campaign.last_submitted_at == counted[-1].response.submitted_at
    assert campaign.kept_response_id == counted[0].response.pk
    assert campaign.similarity_min == min(values)
    assert campaign.similarity_mean == pytest.approx(sum(values) / len(values))


def test_a_split_moves_the_chosen_variants_into_a_new_unconfirmed_campaign(consultation, analyst):
    dataset = build(consultation)
    made = dataset.made
    campaign_confirm(campaign=dataset.a, user=analyst, now=DETECTED)
    at = DETECTED + timedelta(minutes=4)

    new = campaign_split(
        campaign=dataset.a,
        fingerprints=[fingerprint(A_PLEASE), fingerprint(A_NOW)],
        name="Ban it, with manners",
        now=at,
    )

    old = Campaign.objects.get(pk=dataset.a.pk)
    new = Campaign.objects.get(pk=new.pk)
    moved = [made[name] for name in ("S", "A4", "A5")]
    stayed = [made[name] for name in ("W", "R", "A2", "A3", "A6")]
    assert (new.name, new.question_id, new.consultation_id) == (
        "Ban it, with manners",
        old.question_id,
        old.consultation_id,
    )
    assert (new.confirmed, new.confirmed_by, new.confirmed_at) == (False, None, None)
    assert (old.confirmed, old.confirmed_by) == (True, analyst)
    # Each is represented by its most common variant, measured against it again.
    assert (new.representative, new.fingerprint) == (A_PLEASE, fingerprint(A_PLEASE))
    assert (old.representative, old.fingerprint) == (TEXT_A, fingerprint(TEXT_A))
    assert members_of(new) == {m.response.pk: jaccard(m.given[OPEN_A], A_PLEASE) for m in moved}
    assert members_of(new)[made["S"].response.pk] == 1.0
    assert members_of(old) == {m.response.pk: 1.0 for m in stayed}
    assert_figures(new, moved)
    assert_figures(old, stayed)
    assert new.updated_at == old.updated_at == at


def test_splitting_off_the_representatives_variant_gives_the_rest_a_new_one(consultation):
    dataset = build(consultation)
    made = dataset.made

    new = campaign_split(
        campaign=dataset.a, fingerprints={fingerprint(TEXT_A)}, name="The original", now=DETECTED
    )

    old = Campaign.objects.get(pk=dataset.a.pk)
    assert (new.representative, new.fingerprint) == (TEXT_A, fingerprint(TEXT_A))
    assert (old.representative, old.fingerprint) == (A_PLEASE, fingerprint(A_PLEASE))
    assert members_of(old) == {
        made[name].response.pk: jaccard(made[name].given[OPEN_A], A_PLEASE)
        for name in ("S", "A4", "A5")
    }
    assert set(members_of(new).values()) == {1.0}
    assert_figures(old, [made[name] for name in ("S", "A4", "A5")])
    assert_figures(new, [made[name] for name in ("W", "R", "A2", "A3", "A6")])


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ([], "Select the versions"),
        ([A_PLEASE, TEXT_B], "Select the versions"),  # B's text is no variant of A
        ([TEXT_A, A_PLEASE, A_NOW], "Leave at least one version"),
    ],
    ids=["nothing", "not in the campaign", "every variant"],
)
def test_a_split_that_cannot_be_done_is_refused_and_changes_nothing(consultation, choice, message):
    build(consultation)
    campaign = Campaign.objects.get(question__key=OPEN_A)
    before = db_state()

    with pytest.raises(CampaignChangeError, match=message):
        campaign_split(
            campaign=campaign,
            fingerprints=[fingerprint(text) for text in choice],
            name="Refused",
            now=DETECTED,
        )

    assert db_state() == before
    assert not Campaign.objects.filter(name="Refused").exists()


def open_answers(made: Iterable[Made], key: str) -> set[int]:
    return set(
        Answer.objects.filter(
            response__in=[m.response.pk for m in made], question__key=key
        ).values_list("pk", flat=True)
    )


def test_taking_variants_out_records_them_and_detection_leaves_them_out(consultation, analyst):
    dataset = build(consultation)
    made = dataset.made
    campaign_rename(campaign=dataset.a, name="Ban it", now=DETECTED)
    at = DETECTED + timedelta(minutes=1)
    taken = [made["S"], made["A4"]]

    assert campaign_release(
        campaign=dataset.a, fingerprints=[fingerprint(A_PLEASE)], user=analyst, now=at
    ) == len(taken)

    assert set(
        CampaignRelease.objects.values_list(
            "answer_id", "campaign_name", "released_by", "released_at"
        )
    ) == {(pk, "Ban it", analyst.pk, at) for pk in open_answers(taken, OPEN_A)}
    stayed = [made[name] for name in ("W", "R", "A2", "A3", "A5", "A6")]
    campaign = Campaign.objects.get(pk=dataset.a.pk)
    assert set(members_of(campaign)) == {m.response.pk for m in stayed}
    assert_figures(campaign, stayed)
    assert members_of(campaign)[made["A5"].response.pk] == jaccard(A_NOW, TEXT_A)
    assert made["S"].response.pk in members_of(dataset.b)  # its other answer stays in B

    # A new copy of the variant joins; the answers taken out stay out, rebuilt or not.
    copy = send(consultation, "C", at, 1, A_PLEASE, None)
    consultation_campaigns_detect(consultation=consultation, now=at + timedelta(minutes=5))
    assert set(members_of(campaign)) == {m.response.pk for m in [*stayed, copy]}
    consultation_campaigns_detect(
        consultation=consultation, now=at + timedelta(minutes=6), rebuild=True
    )
    rebuilt = Campaign.objects.get(question__key=OPEN_A)
    assert set(members_of(rebuilt)) == {m.response.pk for m in [*stayed, copy] if not m.withdrawn}
    assert not CampaignMember.objects.filter(answer__in=open_answers(taken, OPEN_A))


def test_taking_every_answer_out_deletes_the_campaign_for_good(consultation, analyst):
    dataset = build(consultation)
    members = [m for m in dataset.made.values() if "B" in m.campaigns]
    campaign_confirm(campaign=dataset.b, user=analyst, now=DETECTED)
    spec = consultation_spec(consultation)
    once = Filters(campaigns=CampaignCounting.ONCE)
    assert queries.results(consultation=consultation, spec=spec, filters=once).total < len(
        dataset.counted()
    )

    assert campaign_release(
        campaign=dataset.b, fingerprints=[fingerprint(TEXT_B)], user=analyst, now=DETECTED
    ) == len(members)

    assert not Campaign.objects.filter(pk=dataset.b.pk).exists()
    assert set(CampaignRelease.objects.values_list("answer_id", flat=True)) == open_answers(
        members, OPEN_B
    )
    assert queries.results(consultation=consultation, spec=spec, filters=once).total == len(
        dataset.counted()
    )
    # Even with a new copy, fewer than a campaign's worth are left to find.
    later = DETECTED + timedelta(minutes=1)
    send(consultation, "C", later, 1, None, TEXT_B)
    for rebuild in (False, True):
        consultation_campaigns_detect(
            consultation=consultation, now=later + timedelta(minutes=5), rebuild=rebuild
        )
        assert not Campaign.objects.filter(question__key=OPEN_B).exists()
    assert Campaign.objects.filter(question__key=OPEN_A).exists()


# ---------------------------------------------------------------- responses that go


def test_withdrawing_a_member_updates_its_campaigns_figures_and_kept_response(consultation):
    dataset = build(consultation, withdraw_first=False)
    made = dataset.made
    in_a = [m for m in made.values() if "A" in m.campaigns]
    in_b = [m for m in made.values() if "B" in m.campaigns]
    assert_figures(dataset.a, in_a)
    b_before = Campaign.objects.values().get(pk=dataset.b.pk)

    for name in ("W", "R"):
        services.response_withdraw(response=made[name].response, now=DETECTED)
        made[name].withdrawn = True
        assert_figures(Campaign.objects.get(pk=dataset.a.pk), in_a)
        assert_figures(Campaign.objects.get(pk=dataset.b.pk), in_b)

    assert Campaign.objects.get(pk=dataset.a.pk).kept_response_id == made["A2"].response.pk
    assert Campaign.objects.get(pk=dataset.b.pk).size == b_before["size"] - 1
    assert Campaign.objects.get(pk=dataset.b.pk).kept_response_id == b_before["kept_response_id"]


def test_erasing_a_member_updates_its_campaigns_figures_and_kept_response(consultation):
    dataset = build(consultation)
    made = dataset.made
    controller = user_make("controller", Role.ANALYST, Role.DATA_CONTROLLER)

    for name in ("R", "B1"):
        response_erase(response=made.pop(name).response, user=controller, case="DSR", now=NOW)
        for campaign, letter in ((dataset.a, "A"), (dataset.b, "B")):
            assert_figures(
                Campaign.objects.get(pk=campaign.pk),
                [m for m in made.values() if letter in m.campaigns],
            )

    assert Campaign.objects.get(pk=dataset.a.pk).kept_response_id == made["A2"].response.pk
    assert Campaign.objects.get(pk=dataset.b.pk).kept_response_id == made["S"].response.pk


# ---------------------------------------------------------------- withdrawn members
# A campaign's members whose responses were withdrawn keep their variant but do not
# count: a split goes by the members that count, in the order they were sent.


def test_splitting_off_a_variant_only_withdrawn_responses_sent_is_refused(consultation):
    """Such a campaign would count nothing: the split is refused and nothing changes."""
    dataset = build(consultation)
    for name in ("S", "A4"):  # every response that sent A_PLEASE
        services.response_withdraw(response=dataset.made[name].response, now=DETECTED)
    before = db_state()

    with pytest.raises(CampaignChangeError):
        campaign_split(
            campaign=dataset.a, fingerprints=[fingerprint(A_PLEASE)], name="Gone", now=DETECTED
        )

    assert db_state() == before


def test_a_split_campaigns_representative_is_its_most_common_variant_that_counts(
    consultation,
):
    """A_PLEASE, sent only by the withdrawn S and A4, moves along but does not stand for
    the new campaign: its one counted member sent A_NOW."""
    dataset = build(consultation)
    for name in ("S", "A4"):
        services.response_withdraw(response=dataset.made[name].response, now=DETECTED)

    new = campaign_split(
        campaign=dataset.a,
        fingerprints=[fingerprint(A_PLEASE), fingerprint(A_NOW)],
        name="Right now",
        now=DETECTED,
    )

    assert new.size == 1
    assert (new.representative, new.fingerprint) == (A_NOW, fingerprint(A_NOW))
    assert members_of(new)[dataset.made["A5"].response.pk] == new.similarity_min == 1.0


def test_a_split_breaks_a_tie_between_variants_by_the_one_sent_first(consultation):
    """Not by the answer saved first: a response started early and sent late loses."""
    started_first = respond(consultation, BASE + timedelta(hours=50), anything_else=A_NOW)
    for hours in (10, 11, 12):
        respond(consultation, BASE + timedelta(hours=hours), anything_else=TEXT_A)
    sent_first = respond(consultation, BASE + timedelta(hours=20), anything_else=A_PLEASE)
    consultation_campaigns_detect(consultation=consultation, now=DETECTED)
    campaign = Campaign.objects.get()
    assert started_first.submitted_at > sent_first.submitted_at

    campaign_split(campaign=campaign, fingerprints=[fingerprint(TEXT_A)], name="x", now=DETECTED)

    campaign.refresh_from_db()
    assert set(members_of(campaign)) == {started_first.pk, sent_first.pk}  # one each
    assert campaign.representative == A_PLEASE
