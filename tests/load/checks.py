"""What the database holds after a load, read with plain SQL, and checked against what
the simulated people posted and against the consultation's rules (``client.Plan``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from tests.load.client import Answers, AnswerValue, Journey, Plan
from tests.load.server import Database

# Questions with these profiles are stored in the Respondent table, never as answers.
PERSONAL_COLUMNS = {"name": "name", "email": "email", "organisation_name": "organisation_name"}

RESPONSES = """
SELECT r.reference, r.status, r.submitted_at IS NOT NULL, r.respondent_type, r.publication,
       p.response_id IS NOT NULL, COALESCE(p.name, ''), COALESCE(p.email, ''),
       COALESCE(p.organisation_name, '')
FROM responses_response r LEFT JOIN responses_respondent p ON p.response_id = r.id
"""
ANSWERS = """
SELECT r.reference, q.key, o.code, a.text
FROM responses_answer a
JOIN responses_response r ON r.id = a.response_id
JOIN consultations_question q ON q.id = a.question_id
LEFT JOIN consultations_option o ON o.id = a.option_id
"""


@dataclass
class Stored:
    """One response as stored: its row, its answers and its personal details."""

    reference: str
    status: str
    has_submitted_at: bool
    respondent_type: str
    publication: str
    has_respondent: bool
    personal: dict[str, str]  # Respondent columns
    rows: dict[str, list[str | None]] = field(default_factory=dict)  # key: codes or texts

    def answers(self, plan: Plan) -> Answers:
        """Answers by question key, as posted: option codes sorted, or text; personal
        details under their questions' keys."""
        answers: Answers = {}
        for key, values in self.rows.items():
            question = plan.by_key.get(key)
            if question is not None and question.type in {"short_text", "long_text", "email"}:
                answers[key] = str(values[0])
            else:
                answers[key] = tuple(sorted(str(v) for v in values))
        for profile, column in PERSONAL_COLUMNS.items():
            question = plan.by_profile(profile)
            if question is not None and self.personal[column]:
                answers[question.key] = self.personal[column]
        return answers


def stored_responses(database: Database) -> tuple[dict[str, Stored], Counter[str]]:
    """Every response by reference, and how many rows carry each reference."""
    responses: dict[str, Stored] = {}
    counts: Counter[str] = Counter()
    for row in database.query(RESPONSES):
        reference, status, submitted, kind, publication, has_respondent, *personal = row
        counts[reference] += 1
        responses[reference] = Stored(
            reference,
            status,
            bool(submitted),
            kind,
            publication,
            bool(has_respondent),
            dict(zip(PERSONAL_COLUMNS.values(), personal, strict=True)),
        )
    for reference, key, code, text in database.query(ANSWERS):
        responses[reference].rows.setdefault(key, []).append(code if code is not None else text)
    return responses, counts


def normalised(answers: Answers) -> dict[str, AnswerValue]:
    return {k: tuple(sorted(v)) if isinstance(v, tuple) else v for k, v in answers.items()}


def confirmed_problems(
    plan: Plan, journeys: list[Journey], stored: dict[str, Stored], counts: Counter[str]
) -> list[str]:
    """Each confirmed reference: given to one journey only, in the database exactly once,
    submitted, with exactly the answers that journey posted."""
    problems = []
    given = Counter(j.reference for j in journeys if j.confirmed)
    problems += [f"{ref} was shown to {n} journeys" for ref, n in given.items() if n > 1]
    for walked in journeys:
        if not walked.confirmed:
            continue
        reference = str(walked.reference)
        if counts[reference] != 1:
            problems.append(f"{reference} is in the database {counts[reference]} times")
            continue
        response = stored[reference]
        if response.status != "submitted" or not response.has_submitted_at:
            problems.append(f"{reference} was confirmed but is {response.status}")
        held = normalised(response.answers(plan))
        posted = normalised(walked.answers)
        if held != posted:
            differ = sorted(k for k in held.keys() | posted.keys() if held.get(k) != posted.get(k))
            problems.append(
                f"{reference} (journey {walked.serial}) differs from what was posted at "
                + ", ".join(
                    f"{k}: stored {held.get(k)!r}, posted {posted.get(k)!r}" for k in differ
                )
            )
    return problems


def consistency_problems(plan: Plan, response: Stored) -> list[str]:
    """What a half-written response would show, whatever its status.

    ``section_save`` replaces one section's answers, the personal details and the copies
    of respondent type and publication on the response row in one transaction; sending
    is a second one. So, if writes are atomic and durable:

    - each section is all or nothing: if anything of it is stored, every shown required
      question of it (every matrix row counts) has an answer;
    - sections were saved in journey order, so no section has answers after a shown
      section with required questions and none;
    - no answer is stored for a question its conditions hide, and personal details are
      never among the answers;
    - the response row's respondent type and publication are the stored answers';
    - a submitted response has every shown required question answered.
    """
    answers = response.answers(plan)
    problems = []
    personal_keys = {q.key for p in PERSONAL_COLUMNS if (q := plan.by_profile(p)) is not None}
    for key in response.rows:
        if key in personal_keys:
            problems.append(f"personal detail {key} stored as an answer")
        elif key not in plan.by_key:
            problems.append(f"answer to unknown question {key}")
        elif not plan.is_shown(plan.by_key[key], answers):
            problems.append(f"answer to {key}, which its condition hides")
    gap_before: str | None = None
    for section in plan.sections:
        required = [q.key for q in plan.shown(section, answers) if q.required]
        answered = [key for key in required if answers.get(key)]
        anything = any(q.key in answers for q in section.questions)
        if anything and len(answered) < len(required):
            missing = sorted(set(required) - set(answered))
            problems.append(f"section {section.key} half stored: no answer to {missing}")
        if anything and gap_before:
            problems.append(f"section {section.key} stored, but not {gap_before} before it")
        if required and not answered and gap_before is None:
            gap_before = section.key
    for profile, copied in (
        ("respondent_type", response.respondent_type),
        ("publication", response.publication),
    ):
        question = plan.by_profile(profile)
        chosen = answers.get(question.key, ()) if question else ()
        if copied != (chosen[0] if chosen else ""):
            problems.append(f"response row says {profile} {copied!r}, its answers {chosen!r}")
    if response.status == "submitted" and (missing := plan.missing(answers)):
        problems.append(f"submitted without required answers {missing}")
    return [f"{response.reference} ({response.status}): {problem}" for problem in problems]


# The running counts of results (responses.OptionTally, QuestionTally, DayTally) against
# the answers of the submitted responses.
COUNTED = "FROM responses_answer a JOIN responses_response r ON r.id = a.response_id"
TALLY_QUERIES = {
    "option": (
        "SELECT question_id, option_id, n FROM responses_optiontally WHERE n <> 0",
        f"SELECT a.question_id, a.option_id, count(*) {COUNTED} WHERE r.status = 'submitted'"
        " AND a.option_id IS NOT NULL GROUP BY a.question_id, a.option_id",
    ),
    "question answered": (
        "SELECT question_id, n FROM responses_questiontally WHERE n <> 0",
        f"SELECT a.question_id, count(DISTINCT a.response_id) {COUNTED}"
        " WHERE r.status = 'submitted' GROUP BY a.question_id",
    ),
    "responses sent": (
        "SELECT 'all', COALESCE(SUM(n), 0) FROM responses_daytally",
        "SELECT 'all', count(*) FROM responses_response WHERE status = 'submitted'",
    ),
}


def tally_problems(database: Database) -> list[str]:
    """Every running count that differs from what the answers say."""
    problems = []
    for what, (kept, counted) in TALLY_QUERIES.items():
        problems += counts_differ(
            what, _by_key(database.query(kept)), _by_key(database.query(counted))
        )
    return problems


def _by_key(rows: list[tuple[object, ...]]) -> dict[tuple[object, ...], int]:
    return {tuple(row[:-1]): int(str(row[-1])) for row in rows if row[-1]}


def counts_differ(
    what: str, kept: dict[tuple[object, ...], int], counted: dict[tuple[object, ...], int]
) -> list[str]:
    return [
        f"{what} {key}: kept {kept.get(key, 0)}, counted {counted.get(key, 0)}"
        for key in sorted(kept.keys() | counted.keys(), key=str)
        if kept.get(key, 0) != counted.get(key, 0)
    ]
