"""Campaign detection: identical and lightly edited answers grouped, others left alone,
incremental runs, rebuilds, erasure and the command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Max, Min
from django.utils import timezone

from consult.analysis.campaigns import (
    MIN_SIZE,
    THRESHOLD,
    campaigns_detect,
    consultation_campaigns_detect,
    text_normalise,
)
from consult.analysis.models import Campaign, CampaignMember, Role
from consult.analysis.services import campaign_confirm, campaign_rename, response_erase
from consult.consultations.queries import consultation_spec
from consult.responses import services
from consult.responses.models import Answer, ResponseStatus
from consult.responses.synthetic import CAMPAIGNS, WORDS, responses_generate
from tests.analysis.conftest import respond, user_make

NOW = timezone.now()
LATER = NOW + timedelta(minutes=5)  # detection runs after the answers have settled
QUESTION = "anything_else"
SETTLED = timedelta(minutes=5)
NEW_TEXT = "Put it to a public vote before any camera is switched on in our town."


def campaign_of(text: str) -> int | None:
    """The generator's campaign a text copies (synthetic._Maker._text: the text as it is,
    its first full stop made "!", or one word of WORDS added), or None."""
    for number, original in enumerate(CAMPAIGNS):
        variants = {original, original.replace(".", "!", 1)}
        variants |= {f"{original} {word}" for word in WORDS}
        if text in variants:
            return number
    return None


def generated(consultation, *, count: int, seed: int):
    return responses_generate(
        consultation=consultation, count=count, seed=seed, now=NOW, batch_size=100
    )


def snapshot(consultation) -> set[tuple]:
    """Every campaign with its figures and members, without the database's own ids."""
    return {
        (
            campaign.question.key,
            campaign.representative,
            campaign.fingerprint,
            campaign.size,
            campaign.first_submitted_at,
            campaign.last_submitted_at,
            round(campaign.similarity_mean, 9),
            campaign.similarity_min,
            frozenset(campaign.members.values_list("answer_id", "similarity")),
        )
        for campaign in Campaign.objects.filter(consultation=consultation)
    }


def members_by_campaign(consultation, key: str) -> dict[str, set[int]]:
    return {
        campaign.representative: set(campaign.members.values_list("answer_id", flat=True))
        for campaign in Campaign.objects.filter(consultation=consultation, question__key=key)
    }


def truth(consultation, key: str) -> dict[int, set[int]]:
    """The answers of sent responses that copy each generated campaign, by campaign."""
    copies: dict[int, set[int]] = {}
    answers = Answer.objects.filter(
        question__key=key,
        response__consultation=consultation,
        response__status=ResponseStatus.SUBMITTED,
        text__isnull=False,
    )
    for pk, text in answers.values_list("pk", "text"):
        number = campaign_of(text)
        if number is not None:
            copies.setdefault(number, set()).add(pk)
    return copies


def test_normalising_ignores_case_spacing_punctuation_and_compatibility_forms():
    assert text_normalise("  Ｂan LIVE\tfacial—recognition!!  Now. ") == (
        "ban live facial recognition now"
    )
    assert text_normalise("ﬁne Straße") == text_normalise("FINE STRASSE")


def test_exact_and_lightly_edited_copies_are_grouped_and_other_answers_are_not(consultation):
    generated(consultation, count=240, seed=5)

    found = consultation_campaigns_detect(consultation=consultation, now=LATER)

    assert {detected.question for detected in found} == {"other_safeguards", "anything_else"}
    for key in ("other_safeguards", "anything_else"):
        expected = truth(consultation, key)
        assert len(expected) == len(CAMPAIGNS)
        detected = members_by_campaign(consultation, key)
        assert sorted(map(sorted, detected.values())) == sorted(map(sorted, expected.values()))
        for campaign in Campaign.objects.filter(question__key=key):
            assert campaign_of(campaign.representative) is not None
            assert campaign.size == len(detected[campaign.representative])
            # Lightly edited copies are in, and measured as less than identical.
            assert THRESHOLD <= campaign.similarity_min <= campaign.similarity_mean <= 1
            assert campaign.first_submitted_at <= campaign.last_submitted_at
    edited = CampaignMember.objects.filter(similarity__lt=1).values_list("answer__text", flat=True)
    assert edited
    assert all(campaign_of(text) is not None for text in edited)


def test_a_few_identical_answers_are_a_coincidence_and_five_are_a_campaign(consultation):
    for _ in range(MIN_SIZE - 1):
        respond(consultation, NOW, anything_else=NEW_TEXT)
    respond(consultation, NOW, anything_else="Something else entirely, said once.")
    question = consultation_spec(consultation).by_key[QUESTION]

    first = campaigns_detect(consultation=consultation, question=question, now=LATER)

    assert (first.considered, first.campaigns) == (MIN_SIZE, 0)
    assert not Campaign.objects.exists()

    respond(consultation, LATER, anything_else=NEW_TEXT.upper())
    second = campaigns_detect(
        consultation=consultation, question=question, now=LATER + timedelta(minutes=5)
    )

    assert (second.campaigns_new, second.members_new) == (1, MIN_SIZE)
    campaign = Campaign.objects.get()
    assert campaign.representative == NEW_TEXT
    assert campaign.size == MIN_SIZE
    assert campaign.similarity_mean == campaign.similarity_min == 1.0
    assert campaign.first_submitted_at == NOW
    assert campaign.last_submitted_at == LATER


def test_only_sent_answers_to_the_same_question_are_grouped(consultation):
    for _ in range(MIN_SIZE - 1):
        respond(consultation, NOW, anything_else=NEW_TEXT)
        respond(consultation, NOW, other_safeguards=NEW_TEXT)
    withdrawn = respond(consultation, NOW, anything_else=NEW_TEXT)
    services.response_withdraw(response=withdrawn, now=NOW)

    found = consultation_campaigns_detect(consultation=consultation, now=LATER)

    assert [(d.question, d.considered, d.campaigns) for d in found] == [
        ("other_safeguards", MIN_SIZE - 1, 0),
        ("anything_else", MIN_SIZE - 1, 0),
    ]


def test_an_incremental_run_adds_new_members_and_campaigns_and_leaves_the_rest(
    consultation, analyst
):
    generated(consultation, count=240, seed=5)
    consultation_campaigns_detect(consultation=consultation, now=LATER)
    before = {c.pk: c for c in Campaign.objects.all()}
    (police,) = [
        campaign
        for campaign in Campaign.objects.filter(question__key=QUESTION)
        if campaign_of(campaign.representative) == 1
    ]
    campaign_rename(campaign=police, name="Police tools", now=LATER)
    campaign_confirm(campaign=police, user=analyst, now=LATER)

    sent = LATER + timedelta(minutes=1)
    joining = [
        respond(consultation, sent, anything_else=text)
        for text in (CAMPAIGNS[1], f"{CAMPAIGNS[1]} Please!")
    ]
    newcomers = [respond(consultation, sent, anything_else=NEW_TEXT) for _ in range(MIN_SIZE)]
    loner = respond(consultation, sent, anything_else="Cameras are fine in shops but not parks.")
    found = consultation_campaigns_detect(consultation=consultation, now=sent + SETTLED)

    by_key = {detected.question: detected for detected in found}
    assert (by_key[QUESTION].joined, by_key[QUESTION].campaigns_new) == (2, 1)
    assert (by_key["other_safeguards"].joined, by_key["other_safeguards"].campaigns_new) == (0, 0)
    police.refresh_from_db()
    assert (police.name, police.confirmed) == ("Police tools", True)
    assert police.size == before[police.pk].size + 2
    assert police.last_submitted_at == sent
    joined = CampaignMember.objects.filter(answer__response__in=joining, campaign=police)
    assert sorted(joined.values_list("similarity", flat=True)) == [13 / 14, 1.0]
    for campaign in Campaign.objects.exclude(pk__in=[police.pk]).filter(pk__in=before):
        assert (campaign.size, campaign.updated_at) == (
            before[campaign.pk].size,
            before[campaign.pk].updated_at,
        )
    new = Campaign.objects.get(representative=NEW_TEXT)
    assert set(new.members.values_list("answer__response", flat=True)) == {r.pk for r in newcomers}
    assert not CampaignMember.objects.filter(answer__response=loner).exists()


def test_a_rebuild_finds_what_incremental_runs_found_and_again_the_same(consultation):
    generated(consultation, count=120, seed=3)
    consultation_campaigns_detect(consultation=consultation, now=LATER)
    first_run = snapshot(consultation)
    generated(consultation, count=120, seed=4)  # later responses, backdated sending times
    found = consultation_campaigns_detect(consultation=consultation, now=LATER)
    incremental = snapshot(consultation)
    assert sum(detected.joined for detected in found) > 0
    assert incremental != first_run

    consultation_campaigns_detect(consultation=consultation, now=LATER, rebuild=True)
    assert snapshot(consultation) == incremental
    consultation_campaigns_detect(consultation=consultation, now=LATER, rebuild=True)
    assert snapshot(consultation) == incremental
    for key in ("other_safeguards", "anything_else"):
        expected = [sorted(copies) for copies in truth(consultation, key).values()]
        assert sorted(map(sorted, members_by_campaign(consultation, key).values())) == sorted(
            copies for copies in expected if len(copies) >= MIN_SIZE
        )


def test_erasing_a_member_takes_it_out_and_corrects_the_figures(consultation):
    generated(consultation, count=120, seed=3)
    consultation_campaigns_detect(consultation=consultation, now=LATER)
    campaign = Campaign.objects.filter(question__key=QUESTION).first()
    earliest = campaign.members.order_by("answer__response__submitted_at").first()
    response = earliest.answer.response
    size = campaign.size
    controller = user_make("controller", Role.ANALYST, Role.DATA_CONTROLLER)

    response_erase(response=response, user=controller, case="DSR-1", now=LATER)

    assert not CampaignMember.objects.filter(pk=earliest.pk).exists()
    campaign.refresh_from_db()
    members = campaign.members.aggregate(
        first=Min("answer__response__submitted_at"),
        last=Max("answer__response__submitted_at"),
        low=Min("similarity"),
    )
    assert campaign.size == size - 1 == campaign.members.count()
    assert campaign.first_submitted_at == members["first"] > response.submitted_at
    assert campaign.last_submitted_at == members["last"]
    assert campaign.similarity_min == members["low"]


def test_a_campaign_whose_members_are_all_erased_goes(consultation):
    responses = [respond(consultation, NOW, anything_else=NEW_TEXT) for _ in range(MIN_SIZE)]
    consultation_campaigns_detect(consultation=consultation, now=LATER)
    assert Campaign.objects.get().size == MIN_SIZE

    controller = user_make("controller", Role.ANALYST, Role.DATA_CONTROLLER)
    for response in responses[:-1]:
        response_erase(response=response, user=controller, case="DSR-2", now=LATER)
    assert Campaign.objects.get().size == 1
    response_erase(response=responses[-1], user=controller, case="DSR-2", now=LATER)
    assert not Campaign.objects.exists()


def test_the_command_reports_what_it_found_and_refuses_an_unknown_slug(consultation):
    for _ in range(MIN_SIZE + 1):
        respond(consultation, NOW - timedelta(hours=1), anything_else=NEW_TEXT)
    out = StringIO()

    call_command("detect_campaigns", consultation.slug, stdout=out, stderr=StringIO())

    assert out.getvalue().splitlines() == [
        "other_safeguards: 0 answers looked at; 0 joined existing campaigns; "
        "0 new campaigns with 0 answers; 0 campaigns with 0 answers in all.",
        "anything_else: 6 answers looked at; 0 joined existing campaigns; "
        "1 new campaigns with 6 answers; 1 campaigns with 6 answers in all.",
    ]
    again = StringIO()
    call_command("detect_campaigns", consultation.slug, stdout=again, stderr=StringIO())
    assert "anything_else: 0 answers looked at" in again.getvalue()
    assert "1 campaigns with 6 answers in all" in again.getvalue()

    rebuilt = StringIO()
    call_command(
        "detect_campaigns", consultation.slug, "--rebuild", "--min-size", "7", stdout=rebuilt
    )
    assert "anything_else: 6 answers looked at; 0 joined existing campaigns; 0 new" in (
        rebuilt.getvalue()
    )
    assert not Campaign.objects.exists()

    with pytest.raises(CommandError, match="No consultation has the slug nowhere"):
        call_command("detect_campaigns", "nowhere")
