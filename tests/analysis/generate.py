"""Known responses for the analysis tests, made through the journey's own services.

Each generated response's answers are returned, so a test can count what the database
should report without asking the database.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from consult.consultations.models import Consultation, QuestionType
from consult.consultations.queries import AnswerValue, QuestionSpec, consultation_spec
from consult.responses import services
from consult.responses.models import Response, ResponseStatus

PHRASES = [
    "Cameras in public places worry me",
    "Police need clear rules before any use",
    "It could help find missing children",
    "Independent oversight is essential",
    "Bias against some groups must be tested",
]


def _answer(question: QuestionSpec, rng: random.Random) -> AnswerValue:
    codes = [option.code for option in question.options]
    if question.type == QuestionType.MULTIPLE_CHOICE:
        ordinary = [o.code for o in question.options if not o.exclusive]
        exclusive = [o.code for o in question.options if o.exclusive]
        if exclusive and rng.random() < 0.15:
            return (exclusive[0],)
        chosen = rng.sample(ordinary, rng.randint(1, question.max_choices or len(ordinary)))
        return tuple(code for code in codes if code in chosen)
    if codes:
        return (rng.choice(codes),)
    if question.type == QuestionType.EMAIL:
        return f"person{rng.randint(1, 10**6)}@example.com"
    return f"{rng.choice(PHRASES)} ({rng.randint(1, 999)})"


def generate(
    consultation: Consultation,
    count: int,
    *,
    seed: int = 1,
    start: datetime,
    withdraw_every: int = 0,
    drafts: int = 0,
) -> list[dict[str, AnswerValue]]:
    """Create ``count`` submitted responses (every ``withdraw_every``-th one withdrawn, and
    ``drafts`` more left unsent); return the answers of those still counted, in order."""
    rng = random.Random(seed)
    spec = consultation_spec(consultation)
    counted = []
    for number in range(count + drafts):
        now = start + timedelta(hours=7 * number)
        response = services.draft_start(consultation=consultation, now=now)
        answers: dict[str, AnswerValue] = {}
        for section in spec.sections:
            values: dict[str, AnswerValue] = {}
            for parent in spec.visible_questions(section, answers):
                for question in parent.rows or (parent,):
                    if question.required or rng.random() < 0.7:
                        values[question.key] = _answer(question, rng)
            if not values:
                continue
            answers = services.section_save(
                response=response, spec=spec, section=section, values=values, now=now
            )
            if number >= count and rng.random() < 0.4:
                break  # a draft that stops part-way
        if number >= count:
            continue
        services.response_submit(response=response, spec=spec, now=now, site_url="/")
        if withdraw_every and number % withdraw_every == withdraw_every - 1:
            services.response_withdraw(response=response, now=now)
            continue
        counted.append(answers)
    assert Response.objects.filter(status=ResponseStatus.SUBMITTED).count() == len(counted)
    return counted
