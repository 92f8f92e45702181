"""Generated responses for benchmarks: valid, varied, repeatable for a seed."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from consult.analysis.queries import Filters, text_answers
from consult.consultations.queries import consultation_spec
from consult.responses.models import Answer, Respondent, Response, ResponseStatus
from consult.responses.queries import response_answer_map
from consult.responses.synthetic import CAMPAIGNS, responses_generate

pytestmark = pytest.mark.django_db(transaction=True)

COUNT = 600
NOW = timezone.now()


@pytest.fixture
def open_consultation(consultation):
    consultation.opens_at = NOW - timedelta(days=30)
    consultation.closes_at = NOW + timedelta(days=30)
    consultation.save(update_fields=["opens_at", "closes_at"])
    return consultation


def generate(consultation, *, seed: int = 7, count: int = COUNT, batch_size: int = 250):
    return responses_generate(
        consultation=consultation,
        count=count,
        seed=seed,
        now=NOW,
        batch_size=batch_size,
    )


def snapshot(consultation) -> list[tuple]:
    """Everything generated, without the database's own ids."""
    spec = consultation_spec(consultation)
    return [
        (
            response.reference,
            response.status,
            response.respondent_type,
            response.publication,
            response.submitted_at,
            sorted(response_answer_map(response=response, spec=spec).items()),
        )
        for response in Response.objects.filter(consultation=consultation).order_by("reference")
    ]


def test_every_generated_response_is_complete_and_respects_the_conditions(open_consultation):
    made = generate(open_consultation)
    spec = consultation_spec(open_consultation)

    responses = list(Response.objects.filter(consultation=open_consultation))
    assert len(responses) == made.responses == COUNT
    assert Answer.objects.count() == made.answers
    for response in responses:
        answers = response_answer_map(response=response, spec=spec)
        assert spec.missing_answers(answers) == [], response.reference
        for key in answers:
            assert spec.is_visible(spec.by_key[key], answers), (response.reference, key)
        assert open_consultation.opens_at <= response.submitted_at <= NOW
        assert response.started_at < response.submitted_at
    organisations = Response.objects.filter(respondent_type="organisation")
    assert 0.05 * COUNT < organisations.count() < 0.3 * COUNT
    assert Respondent.objects.exclude(organisation_name="").count() == organisations.count()


def test_some_are_withdrawn_and_some_copy_a_campaign(open_consultation):
    made = generate(open_consultation, count=2000, batch_size=1000)

    withdrawn = Response.objects.filter(status=ResponseStatus.WITHDRAWN)
    assert withdrawn.count() == made.withdrawn
    assert 10 < made.withdrawn < 80  # about 2%
    assert all(response.withdrawn_at > response.submitted_at for response in withdrawn)
    members = sum(len(references) for references in made.campaign_members.values())
    assert members > 100
    copied = {
        reference
        for reference, text in Answer.objects.filter(
            response__reference__in=made.campaign_members[0], text__isnull=False
        ).values_list("response__reference", "text")
        if text.startswith(CAMPAIGNS[0][:30])
    }
    assert copied == set(made.campaign_members[0])


def test_answers_differ_by_respondent_type(open_consultation):
    generate(open_consultation, count=2000, batch_size=1000)
    spec = consultation_spec(open_consultation)
    overall = spec.by_key["lfr_overall"]

    def shares(respondent_type: str) -> Counter:
        rows = Answer.objects.filter(
            question_id=overall.id, response__respondent_type=respondent_type
        ).values_list("option__code", flat=True)
        counts = Counter(rows)
        return Counter({code: counts[code] / sum(counts.values()) for code in counts})

    individuals, organisations = shares("individual"), shares("organisation")
    assert max(abs(individuals[o.code] - organisations[o.code]) for o in overall.options) > 0.1


def test_the_same_seed_gives_the_same_responses(open_consultation, django_db_blocker):
    generate(open_consultation, seed=11, count=300, batch_size=100)
    first = snapshot(open_consultation)
    Response.objects.all().delete()

    generate(open_consultation, seed=11, count=300, batch_size=120)
    assert snapshot(open_consultation) == first

    Response.objects.all().delete()
    generate(open_consultation, seed=12, count=300)
    assert snapshot(open_consultation) != first


def test_a_second_run_adds_to_the_first(open_consultation):
    generate(open_consultation, seed=1, count=200)
    generate(open_consultation, seed=2, count=200)

    assert Response.objects.count() == 400
    assert Response.objects.values("reference").distinct().count() == 400


def test_the_command_reports_what_it_made(open_consultation):
    out = StringIO()
    call_command(
        "generate_responses", open_consultation.slug, "--count", "50", stdout=out, verbosity=0
    )

    assert Response.objects.count() == 50
    assert out.getvalue().startswith("Generated 50 responses (")


def test_the_command_refuses_an_unknown_consultation_or_count(open_consultation):
    with pytest.raises(CommandError, match="No consultation has the slug nope"):
        call_command("generate_responses", "nope", "--count", "5")
    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_responses", open_consultation.slug, "--count", "0")
    assert not Response.objects.exists()


def test_generated_text_is_searchable_and_later_answers_are_indexed_as_usual(open_consultation):
    generate(open_consultation, count=300, batch_size=100)
    spec = consultation_spec(open_consultation)
    question = spec.by_key["anything_else"]

    def found(words: str) -> set[str]:
        answers = text_answers(
            consultation=open_consultation,
            spec=spec,
            question=question,
            filters=Filters(),
            search=words,
        )
        return set(answers.values_list("response__reference", flat=True))

    texts = Answer.objects.filter(
        question_id=question.id, text__isnull=False, response__status=ResponseStatus.SUBMITTED
    )
    with_suspect = {
        reference
        for reference, text in texts.values_list("response__reference", "text")
        if "suspect" in text.lower()
    }
    assert with_suspect
    assert found("suspect") == with_suspect
    # The bulk step set the per-answer index trigger aside only for its own batches.
    later = Response.objects.filter(status=ResponseStatus.SUBMITTED).first()
    Answer.objects.filter(response=later, question_id=question.id).delete()
    Answer.objects.create(response=later, question_id=question.id, text="Zebracrossing worries")
    assert found("zebracross") == {later.reference}


def test_a_failure_while_making_responses_reaches_the_caller(open_consultation, monkeypatch):
    def broken(self, submitted):
        raise ValueError("no more answers")

    monkeypatch.setattr("consult.responses.synthetic._Maker.one", broken)
    with pytest.raises(ValueError, match="no more answers"):
        generate(open_consultation, count=10)
    assert not Response.objects.exists()


def test_the_same_seed_three_times_adds_three_sets_of_unique_references(open_consultation):
    for _ in range(3):
        generate(open_consultation, seed=5, count=120, batch_size=50)

    assert Response.objects.count() == 360
    assert Response.objects.values("reference").distinct().count() == 360
