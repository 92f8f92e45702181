"""The running counts of results stay equal to what the answers say, through every way a
response starts or stops counting, and can be made again from the answers."""

from __future__ import annotations

import importlib
from datetime import date, timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from consult.analysis import queries
from consult.analysis.queries import Filters
from consult.analysis.services import response_erase
from consult.consultations.queries import consultation_spec
from consult.responses import services
from consult.responses.models import DayTally, OptionTally, QuestionTally, Response
from consult.responses.synthetic import responses_generate
from tests.analysis.conftest import START, generate_sent

# A filter every response passes: results computed from the answers, not the counts.
EVERYTHING = Filters(submitted_from=date(2000, 1, 1))


def results_both_ways(consultation):
    spec = consultation_spec(consultation)
    tallied = queries.results(consultation=consultation, spec=spec, filters=Filters())
    grouped = queries.results(consultation=consultation, spec=spec, filters=EVERYTHING)
    return tallied, grouped


def assert_tallies_match_the_answers(consultation) -> None:
    tallied, grouped = results_both_ways(consultation)
    assert tallied.total == grouped.total
    assert tallied.per_day == grouped.per_day
    assert tallied.by_key.keys() == grouped.by_key.keys()
    for key, result in tallied.by_key.items():
        assert (result.asked, result.answered, result.options) == (
            grouped.by_key[key].asked,
            grouped.by_key[key].answered,
            grouped.by_key[key].options,
        ), key
    status = queries.status_counts(consultation=consultation)
    assert status.submitted == Response.objects.counted().count()


@pytest.mark.django_db(transaction=True)
def test_submissions_withdrawals_erasures_and_generated_responses_are_counted(consultation):
    sent = generate_sent(consultation, 30, withdraw_every=4, drafts=3)
    assert queries.results(
        consultation=consultation, spec=consultation_spec(consultation), filters=Filters()
    ).total == len(sent)
    assert_tallies_match_the_answers(consultation)

    controller = User.objects.create_user("controller")
    submitted = list(Response.objects.counted()[:2])
    withdrawn = Response.objects.filter(status="withdrawn").first()
    draft = Response.objects.filter(status="draft").first()
    for response in [*submitted, withdrawn, draft]:
        response_erase(response=response, user=controller, case="C1", now=timezone.now())
    assert_tallies_match_the_answers(consultation)

    services.response_withdraw(response=Response.objects.counted().first(), now=timezone.now())
    assert_tallies_match_the_answers(consultation)

    consultation.opens_at = START - timedelta(days=30)
    consultation.save(update_fields=["opens_at"])
    responses_generate(consultation=consultation, count=120, seed=3, now=timezone.now())
    assert_tallies_match_the_answers(consultation)
    assert Response.objects.counted().count() > 120


def test_a_response_sent_twice_counts_once_and_withdrawn_twice_goes_once(consultation):
    generate_sent(consultation, 3)
    response = Response.objects.counted().first()
    spec = consultation_spec(consultation)

    services.response_submit(response=response, spec=spec, now=timezone.now(), site_url="/")
    assert queries.status_counts(consultation=consultation).submitted == 3
    assert services.response_withdraw(response=response, now=timezone.now())
    assert not services.response_withdraw(response=response, now=timezone.now())
    assert queries.status_counts(consultation=consultation).submitted == 2
    assert_tallies_match_the_answers(consultation)


def test_the_counts_are_made_again_from_the_answers(consultation):
    generate_sent(consultation, 12, withdraw_every=5)
    OptionTally.objects.update(n=999)
    QuestionTally.objects.all().delete()
    DayTally.objects.update(n=0)
    tallied, grouped = results_both_ways(consultation)
    assert tallied.total != grouped.total

    out = StringIO()
    call_command("rebuild_tallies", consultation.slug, stdout=out)
    assert out.getvalue() == f"Counted the results of {consultation.slug} again.\n"
    assert_tallies_match_the_answers(consultation)


def test_rebuilding_refuses_an_unknown_consultation(consultation):
    with pytest.raises(CommandError, match="No consultation has the slug nope"):
        call_command("rebuild_tallies", "nope")


def test_the_migration_counts_responses_already_stored(consultation):
    generate_sent(consultation, 10, withdraw_every=3)
    for model in (OptionTally, QuestionTally, DayTally):
        model.objects.all().delete()
    migration = importlib.import_module("consult.responses.migrations.0002_tallies")

    migration.count_existing(apps, None)
    assert_tallies_match_the_answers(consultation)


def test_amendments_move_the_counts_with_the_answers(consultation):
    """Each amendment takes the response out of the counts and puts it back with its new
    answers, in one transaction: choices, multiple choices and a newly shown question."""
    generate_sent(consultation, 12, withdraw_every=4)
    spec = consultation_spec(consultation)
    purposes = spec.by_key["lfr_purposes"]
    for number, response in enumerate(Response.objects.counted().order_by("pk")):
        answers = services.response_answer_map(response=response, spec=spec)
        answers["lfr_overall"] = (spec.by_key["lfr_overall"].options[number % 6].code,)
        if "lfr_purposes" in answers:
            answers["lfr_purposes"] = (purposes.options[number % len(purposes.options)].code,)
        services.response_amend(response=response, spec=spec, answers=answers, now=timezone.now())
        assert_tallies_match_the_answers(consultation)
    changed = services.response_answer_map(response=Response.objects.counted().first(), spec=spec)
    assert changed["lfr_overall"] == (spec.by_key["lfr_overall"].options[0].code,)
