"""Realistic generated responses, for benchmarks and demonstrations (never for real data).

Answers follow distributions that differ by respondent type and region, conditions are
respected, submission times spread over the consultation's window, some responses are
withdrawn, and free text comes from a generated vocabulary with a share of near-identical
campaign texts. The same seed gives the same responses. Rows are bulk-inserted in
batches, so a million responses take minutes, not hours.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from consult.consultations.models import Consultation, Profile, PublicationChoice, QuestionType
from consult.consultations.queries import (
    AnswerValue,
    ConsultationSpec,
    QuestionSpec,
    consultation_spec,
)
from consult.responses.models import Answer, Respondent, Response, ResponseStatus
from consult.responses.services import REFERENCE_ALPHABET

WORDS = (
    "cameras privacy police safety rights crime watchlist consent oversight public "
    "shopping streets stations regulator accuracy bias children protest trust data "
    "deletion law parliament judge signs transparency security freedom misuse error"
).split()
CAMPAIGNS = (
    "Ban live facial recognition in public places now. It treats everyone as a suspect.",
    "Police need every modern tool to keep our streets safe. Do not tie their hands.",
    "No scanning of faces without a law passed by Parliament and a judge's approval.",
)
FIRST_NAMES = "Amara Ben Chloe Dev Eilidh Farah Gareth Hana Ifan Jo Kemi Liam Megan Nia".split()
LAST_NAMES = "Ahmed Brown Davies Evans Hughes Jones Khan Morgan Patel Roberts Smith Taylor".split()
WITHDRAWN_SHARE = 0.02
CAMPAIGN_SHARE = 0.2


@dataclass(frozen=True)
class Generated:
    responses: int
    answers: int
    withdrawn: int
    campaign_members: dict[int, list[str]]  # campaign number -> references


def responses_generate(
    *,
    consultation: Consultation,
    count: int,
    seed: int,
    now: datetime,
    batch_size: int = 2000,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    rng = random.Random(seed)  # noqa: S311 - repeatable test data, not secrets
    spec = consultation_spec(consultation)
    preferences = _Preferences(spec, rng)
    start = consultation.opens_at
    end = min(consultation.closes_at, now)
    window = max((end - start).total_seconds(), 1.0)
    totals = Generated(0, 0, 0, {number: [] for number in range(len(CAMPAIGNS))})
    references: set[str] = set()
    done = 0
    while done < count:
        size = min(batch_size, count - done)
        responses, answers, respondents = [], [], []
        for _ in range(size):
            submitted = start + timedelta(seconds=window * rng.random() ** 0.7)
            response, response_answers, respondent, campaign = _one(
                spec, consultation, preferences, rng, submitted, references
            )
            responses.append(response)
            answers.extend(response_answers)
            if respondent is not None:
                respondents.append(respondent)
            if campaign is not None:
                totals.campaign_members[campaign].append(response.reference)
        with transaction.atomic():
            Response.objects.bulk_create(responses, batch_size=batch_size)
            Answer.objects.bulk_create(answers, batch_size=5000)
            Respondent.objects.bulk_create(respondents, batch_size=batch_size)
        done += size
        totals = Generated(
            totals.responses + size,
            totals.answers + len(answers),
            totals.withdrawn + sum(r.status == ResponseStatus.WITHDRAWN for r in responses),
            totals.campaign_members,
        )
        if progress:
            progress(size)
    return totals


class _Preferences:
    """For each question, answer weights per respondent type, shifted a little by region."""

    def __init__(self, spec: ConsultationSpec, rng: random.Random) -> None:
        self.rng = rng
        self.weights: dict[tuple[str, str], list[float]] = {}
        self.region_shift: dict[str, float] = {}
        types = spec.by_profile.get(Profile.RESPONDENT_TYPE)
        self.types = [o.code for o in types.options] if types else [""]
        for question in spec.by_key.values():
            for respondent_type in self.types:
                self.weights[(question.key, respondent_type)] = [
                    rng.random() ** 2 + 0.05 for _ in question.options
                ]

    def choose(self, question: QuestionSpec, respondent_type: str, region: str) -> str:
        weights = list(self.weights[(question.key, respondent_type)])
        shift = self.region_shift.setdefault(region, self.rng.random())
        if weights:
            weights[int(shift * len(weights))] *= 1.5
        return self.rng.choices([o.code for o in question.options], weights=weights)[0]


def _one(
    spec: ConsultationSpec,
    consultation: Consultation,
    preferences: _Preferences,
    rng: random.Random,
    submitted: datetime,
    references: set[str],
) -> tuple[Response, list[Answer], Respondent | None, int | None]:
    response_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    reference = _reference(consultation.reference_prefix, rng, references)
    answers: dict[str, AnswerValue] = {}
    respondent_type = rng.choices(
        preferences.types, weights=[85, 15][: len(preferences.types)] or None
    )[0]
    region = ""
    campaign: int | None = None
    for section in spec.sections:
        for parent in spec.visible_questions(section, answers):
            for question in parent.rows or (parent,):
                if question.profile == Profile.RESPONDENT_TYPE:
                    answers[question.key] = (respondent_type,)
                    continue
                if not question.required and rng.random() < 0.35:
                    continue
                value, campaign_number = _value(question, preferences, rng, respondent_type, region)
                if value:
                    answers[question.key] = value
                campaign = campaign if campaign_number is None else campaign_number
                if question.is_filter and not region and isinstance(value, tuple):
                    region = value[0]
    withdrawn = rng.random() < WITHDRAWN_SHARE
    response = Response(
        id=response_id,
        reference=reference,
        consultation=consultation,
        status=ResponseStatus.WITHDRAWN if withdrawn else ResponseStatus.SUBMITTED,
        definition_version=consultation.definition_version,
        respondent_type=_code(answers, spec, Profile.RESPONDENT_TYPE),
        publication=_code(answers, spec, Profile.PUBLICATION),
        started_at=submitted - timedelta(minutes=rng.randint(4, 40)),
        updated_at=submitted,
        submitted_at=submitted,
        withdrawn_at=submitted + timedelta(days=1) if withdrawn else None,
    )
    rows: list[Answer] = []
    personal: dict[str, str] = {}
    for key, value in answers.items():
        question = spec.by_key[key]
        if question.profile in {Profile.NAME, Profile.EMAIL, Profile.ORGANISATION_NAME}:
            personal[question.profile] = str(value)
        elif isinstance(value, tuple):
            rows.extend(
                Answer(response_id=response_id, question_id=question.id, option_id=option.id)
                for option in question.options
                if option.code in value
            )
        else:
            rows.append(Answer(response_id=response_id, question_id=question.id, text=value))
    respondent = (
        Respondent(response_id=response_id, **{str(k): v for k, v in personal.items()})
        if personal
        else None
    )
    return response, rows, respondent, campaign


def _value(
    question: QuestionSpec,
    preferences: _Preferences,
    rng: random.Random,
    respondent_type: str,
    region: str,
) -> tuple[AnswerValue, int | None]:
    if question.type == QuestionType.MULTIPLE_CHOICE:
        ordinary = [o for o in question.options if not o.exclusive]
        exclusive = [o for o in question.options if o.exclusive]
        if exclusive and rng.random() < 0.1:
            return (exclusive[0].code,), None
        chosen = [o.code for o in ordinary if rng.random() < 0.35] or [ordinary[0].code]
        return tuple(chosen[: question.max_choices or len(chosen)]), None
    if question.options:
        return (preferences.choose(question, respondent_type, region),), None
    if question.profile == Profile.NAME:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", None
    if question.profile == Profile.ORGANISATION_NAME:
        return f"{rng.choice(LAST_NAMES)} {rng.choice(['Trust', 'Council', 'Ltd', 'Forum'])}", None
    if question.type == QuestionType.EMAIL:
        return (f"person{rng.randrange(10**9)}@example.com" if rng.random() < 0.5 else ""), None
    if rng.random() < CAMPAIGN_SHARE:
        number = rng.randrange(len(CAMPAIGNS))
        text = CAMPAIGNS[number]
        if rng.random() < 0.5:  # lightly edited, as campaign senders often do
            text = (
                text.replace(".", "!", 1) if rng.random() < 0.5 else f"{text} {rng.choice(WORDS)}"
            )
        return text[: question.max_length or None], number
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
    return words.capitalize()[: question.max_length or None] + ".", None


def _reference(prefix: str, rng: random.Random, taken: set[str]) -> str:
    while True:
        chars = "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(8))
        reference = f"{prefix}-{chars[:4]}-{chars[4:]}"
        if reference not in taken:
            taken.add(reference)
            return reference


def _code(answers: dict[str, AnswerValue], spec: ConsultationSpec, profile: str) -> str:
    question = spec.by_profile.get(profile)
    value = answers.get(question.key) if question else None
    if isinstance(value, tuple) and value:
        return value[0]
    return PublicationChoice.ANONYMOUS if profile == Profile.PUBLICATION else ""
