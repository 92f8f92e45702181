"""Realistic generated responses, for benchmarks and demonstrations (never for real data).

Answers follow distributions that differ by respondent type and region, conditions are
respected, submission times spread over the consultation's window, some responses are
withdrawn, and free text is either a near-identical copy of a campaign text or about one
of a handful of themes, each with its own words (``THEMES``, ``text_theme``). The same
seed gives the same responses.

It is built for a million responses in a few minutes: a second process makes the
responses as plain tuples (no model instances) while this one writes them, with one
``executemany`` per table and batch, under ids reserved for the batch while its
transaction holds the table. On SQLite the full-text index of the batch's answers is
built in one statement instead of by a trigger per answer.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction

from consult.consultations.models import Consultation, Profile, PublicationChoice, QuestionType
from consult.consultations.queries import (
    AnswerValue,
    ConsultationSpec,
    OptionSpec,
    QuestionSpec,
    consultation_spec,
)
from consult.responses.models import Answer, Respondent, Response, ResponseStatus
from consult.responses.queries import PERSONAL_FIELDS
from consult.responses.services import REFERENCE_ALPHABET, tallies_add

# Free text outside campaigns is about one theme each: words of its theme mixed with
# words anyone might use, so that theme suggestions can be scored against the truth
# (``text_theme``). Each theme's words are its own; the shared words are in every theme.
THEMES: dict[str, tuple[str, ...]] = {
    name: tuple(words.split())
    for name, words in {
        "privacy": "privacy private personal data images stored retention deletion "
        "surveillance tracking",
        "accuracy": "accuracy bias errors misidentification false matches skin women "
        "algorithm tested",
        "safety": "safety crime criminals offenders victims violence terrorism "
        "wanted dangerous catch",
        "oversight": "oversight law legislation regulator independent judge warrant "
        "parliament statute inspection",
        "transparency": "consent transparency signs notice informed openly published "
        "told notified audit",
        "protest": "protest freedom assembly expression democracy chilling journalists "
        "rally march dissent",
        "children": "children schools young pupils teenagers parents playgrounds "
        "minors youth safeguarding",
    }.items()
}
COMMON_WORDS = (
    "cameras police public people facial recognition should must think believe use "
    "used places streets stations shopping technology system very important everyone"
).split()
# Words a lightly edited campaign copy may add at its end.
WORDS = (
    "cameras privacy police safety rights crime watchlist consent oversight public "
    "shopping streets stations regulator accuracy bias children protest trust data "
    "deletion law parliament judge signs transparency security freedom misuse error"
).split()
THEME_NAMES = tuple(THEMES)
_THEME_OF_WORD = {word: name for name, words in THEMES.items() for word in words}
STRAY_SHARE = 0.2  # answers that also use one word of another theme, as people do
CAMPAIGNS = (
    "Ban live facial recognition in public places now. It treats everyone as a suspect.",
    "Police need every modern tool to keep our streets safe. Do not tie their hands.",
    "No scanning of faces without a law passed by Parliament and a judge's approval.",
)
FIRST_NAMES = "Amara Ben Chloe Dev Eilidh Farah Gareth Hana Ifan Jo Kemi Liam Megan Nia".split()
LAST_NAMES = "Ahmed Brown Davies Evans Hughes Jones Khan Morgan Patel Roberts Smith Taylor".split()
WITHDRAWN_SHARE = 0.02
CAMPAIGN_SHARE = 0.2
SKIP_OPTIONAL_SHARE = 0.35
RESPONDENT_TYPE_WEIGHTS = (85, 15)  # individuals, organisations (and any further types: 0)


@dataclass
class Generated:
    responses: int = 0
    answers: int = 0
    withdrawn: int = 0
    campaign_members: dict[int, list[str]] = field(
        default_factory=lambda: {number: [] for number in range(len(CAMPAIGNS))}
    )


@dataclass
class _Made:
    """One generated response, as rows ready to insert (the response's id comes later)."""

    reference: str
    row: list[Any]  # Response columns after the id, in _RESPONSE_COLUMNS order
    withdrawn: bool
    answers: list[tuple[int, int | None, str | None]]  # question id, option id, text
    personal: dict[str, str]  # Respondent field -> value
    campaign: int | None


def responses_generate(
    *,
    consultation: Consultation,
    count: int,
    seed: int,
    now: datetime,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> Generated:
    """Make ``count`` responses and insert them in batches of ``batch_size``.

    A forked process makes the next batches while this one inserts (in a thread they
    would take turns for the interpreter). Only that process draws from the seeded
    generator, so the responses depend on the seed alone."""
    spec = consultation_spec(consultation)
    forked = multiprocessing.get_context("fork")  # inherits the spec; never uses the database
    batches: multiprocessing.Queue[list[_Made] | BaseException] = forked.Queue(maxsize=2)
    sizes = [min(batch_size, count - done) for done in range(0, count, batch_size)]
    maker = forked.Process(
        target=_make_batches,
        args=(spec, consultation, now, seed, sizes, batches),
        name="generate_responses",
        daemon=True,
    )
    maker.start()
    totals = Generated()
    clash_rng = random.Random(seed ^ 0x5EED)  # noqa: S311 - repeatable test data
    try:
        for _ in sizes:
            made = _next_batch(batches, maker)
            with transaction.atomic():
                _references_unused(made, clash_rng, consultation.reference_prefix)
                totals.answers += _insert(made)
            totals.responses += len(made)
            totals.withdrawn += sum(m.withdrawn for m in made)
            for m in made:
                if m.campaign is not None:
                    totals.campaign_members[m.campaign].append(m.reference)
            if progress:
                progress(len(made))
    finally:
        maker.kill()  # already done unless inserting failed
        maker.join()
    return totals


def _next_batch(
    batches: multiprocessing.Queue[list[_Made] | BaseException], maker: Any
) -> list[_Made]:
    while True:
        try:
            made = batches.get(timeout=1)
        except queue.Empty:
            if not maker.is_alive():
                raise RuntimeError(
                    f"the process making responses ended (exit code {maker.exitcode})"
                ) from None
            continue
        if isinstance(made, BaseException):
            raise made
        return made


def _make_batches(
    spec: ConsultationSpec,
    consultation: Consultation,
    now: datetime,
    seed: int,
    sizes: list[int],
    batches: multiprocessing.Queue[list[_Made] | BaseException],
) -> None:
    try:
        rng = random.Random(seed)  # noqa: S311 - repeatable test data, not secrets
        maker = _Maker(spec, consultation, rng)
        start = consultation.opens_at
        window = max((min(consultation.closes_at, now) - start).total_seconds(), 1.0)
        for size in sizes:
            batches.put(
                [
                    maker.one(start + timedelta(seconds=window * rng.random() ** 0.7))
                    for _ in range(size)
                ]
            )
    except Exception as error:  # handed to the inserting process, which raises it
        batches.put(error)
    batches.close()
    batches.join_thread()  # everything is handed over before the process ends


class _Maker:
    """Makes responses: answer weights per question and respondent type, shifted a little
    by region, kept as lookup tables so that a choice costs one random number."""

    TABLE_SIZE = 1024

    def __init__(self, spec: ConsultationSpec, consultation: Consultation, rng: random.Random):
        self.spec = spec
        self.consultation = consultation
        self.rng = rng
        self.references: set[str] = set()
        types = spec.by_profile.get(Profile.RESPONDENT_TYPE)
        self.types = [o.code for o in types.options] if types else [""]
        self.type_table = self._table(
            [
                RESPONDENT_TYPE_WEIGHTS[n] if n < len(RESPONDENT_TYPE_WEIGHTS) else 0
                for n in range(len(self.types))
            ]
        )
        self.base = {
            (question.key, respondent_type): [rng.random() ** 2 + 0.05 for _ in question.options]
            for question in spec.by_key.values()
            for respondent_type in self.types
        }
        self.tables: dict[tuple[str, str, str], list[int]] = {}
        # Seeded by the main generator's state, without drawing from it.
        self.themes_rng = random.Random(hash(rng.getstate()))  # noqa: S311 - test data
        # One draw per word from a pool where 2 in 5 words are the theme's own and the
        # rest shared ones, each word of a kind equally likely.
        self.theme_pools = {
            words: [*words * (2 * len(COMMON_WORDS)), *COMMON_WORDS * (3 * len(words))]
            for words in THEMES.values()
        }
        self.region_shift: dict[str, float] = {}

    def _table(self, weights: list[float]) -> list[int]:
        """Option positions, each repeated in proportion to its weight."""
        total = sum(weights)
        edges = list(accumulate(weight / total * self.TABLE_SIZE for weight in weights))
        return [bisect_right(edges, slot + 0.5) for slot in range(self.TABLE_SIZE)]

    def _choose(self, question: QuestionSpec, respondent_type: str, region: str) -> int:
        key = (question.key, respondent_type, region)
        table = self.tables.get(key)
        if table is None:
            weights = list(self.base[(question.key, respondent_type)])
            shift = self.region_shift.setdefault(region, self.rng.random())
            weights[int(shift * len(weights))] *= 1.5
            table = self.tables[key] = self._table(weights)
        return table[int(self.rng.random() * self.TABLE_SIZE)]

    def one(self, submitted: datetime) -> _Made:
        spec, rng = self.spec, self.rng
        respondent_type = self.types[self.type_table[int(rng.random() * self.TABLE_SIZE)]]
        answers: dict[str, AnswerValue] = {}
        rows: list[tuple[int, int | None, str | None]] = []
        personal: dict[str, str] = {}
        region = ""
        campaign: int | None = None
        for section in spec.sections:
            for parent in spec.visible_questions(section, answers):
                for question in parent.rows or (parent,):
                    if question.options:
                        chosen = self._options(question, respondent_type, region)
                        if not chosen:
                            continue
                        answers[question.key] = tuple(option.code for option in chosen)
                        rows.extend((question.id, option.id, None) for option in chosen)
                        if question.is_filter and not region:
                            region = chosen[0].code
                        continue
                    if not question.required and rng.random() < SKIP_OPTIONAL_SHARE:
                        continue
                    text, number = self._text(question)
                    campaign = campaign if number is None else number
                    if not text:
                        continue
                    answers[question.key] = text
                    if question.profile in PERSONAL_FIELDS:
                        personal[PERSONAL_FIELDS[Profile(question.profile)]] = text
                    else:
                        rows.append((question.id, None, text))
        withdrawn = rng.random() < WITHDRAWN_SHARE
        row = [
            self.consultation.pk,
            ResponseStatus.WITHDRAWN if withdrawn else ResponseStatus.SUBMITTED,
            self.consultation.definition_version,
            "en",
            _code(answers, spec, Profile.RESPONDENT_TYPE),
            _code(answers, spec, Profile.PUBLICATION),
            submitted - timedelta(minutes=rng.randint(4, 40)),
            submitted,
            submitted,
            submitted + timedelta(days=1) if withdrawn else None,
        ]
        reference = _reference(self.consultation.reference_prefix, rng, self.references)
        return _Made(reference, row, withdrawn, rows, personal, campaign)

    def _options(
        self, question: QuestionSpec, respondent_type: str, region: str
    ) -> list[OptionSpec]:
        """The options chosen (none for an optional question left blank)."""
        rng = self.rng
        if question.profile == Profile.RESPONDENT_TYPE:
            return [next(o for o in question.options if o.code == respondent_type)]
        if not question.required and rng.random() < SKIP_OPTIONAL_SHARE:
            return []
        if question.type == QuestionType.MULTIPLE_CHOICE:
            ordinary = [o for o in question.options if not o.exclusive]
            exclusive = [o for o in question.options if o.exclusive]
            if exclusive and rng.random() < 0.1:
                return exclusive[:1]
            chosen = [o for o in ordinary if rng.random() < 0.35] or ordinary[:1]
            return chosen[: question.max_choices or len(chosen)]
        return [question.options[self._choose(question, respondent_type, region)]]

    def _text(self, question: QuestionSpec) -> tuple[str, int | None]:
        """Some text, and the campaign it copies (if it does)."""
        rng = self.rng
        if question.profile == Profile.NAME:
            return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", None
        if question.profile == Profile.ORGANISATION_NAME:
            kind = rng.choice(["Trust", "Council", "Ltd", "Forum"])
            return f"{rng.choice(LAST_NAMES)} {kind}", None
        if question.type == QuestionType.EMAIL:
            return (f"person{rng.randrange(10**9)}@example.com" if rng.random() < 0.5 else ""), None
        if rng.random() < CAMPAIGN_SHARE:
            number = rng.randrange(len(CAMPAIGNS))
            text = CAMPAIGNS[number]
            if rng.random() < 0.5:  # lightly edited, as campaign senders often do
                edit = rng.random() < 0.5
                text = text.replace(".", "!", 1) if edit else f"{text} {rng.choice(WORDS)}"
            return text[: question.max_length or None], number
        # The words take as many draws from ``rng`` as before themes came (one each),
        # so every other answer of a seed is still the same; the rest is drawn apart.
        themes = self.themes_rng
        theme = THEMES[THEME_NAMES[int(themes.random() * len(THEME_NAMES))]]
        words = rng.choices(self.theme_pools[theme], k=rng.randint(5, 60))
        # Two words of its own theme at least, so the theme is always in the text, and
        # more of them than of any other theme (at most one stray word).
        for word in themes.choices(theme, k=2):
            words.insert(int(themes.random() * (len(words) + 1)), word)
        if themes.random() < STRAY_SHARE:
            other = THEMES[THEME_NAMES[int(themes.random() * len(THEME_NAMES))]]
            if other is not theme:
                words.insert(int(themes.random() * (len(words) + 1)), themes.choice(other))
        return " ".join(words).capitalize()[: question.max_length or None] + ".", None


def text_theme(text: str) -> str | None:
    """The theme a generated text is about: the one most of its theme words belong to
    (None for a text with none, such as a campaign's)."""
    counts: dict[str, int] = {}
    for word in text.casefold().replace(".", " ").split():
        name = _THEME_OF_WORD.get(word)
        if name is not None:
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else None


def _reference(prefix: str, rng: random.Random, taken: set[str]) -> str:
    while True:
        chars = "".join(rng.choices(REFERENCE_ALPHABET, k=8))
        reference = f"{prefix}-{chars[:4]}-{chars[4:]}"
        if reference not in taken:
            taken.add(reference)
            return reference


def _references_unused(made: list[_Made], rng: random.Random, prefix: str) -> None:
    """Replace any reference an earlier run already stored (likely past a million, and
    certain when a seed is used again), checking the replacements in turn: a seed used a
    third time draws the same replacements as the second time did."""
    batch = {m.reference for m in made}
    clashing = made
    while clashing:
        wanted = [m.reference for m in clashing]
        stored = Response.objects.filter(reference__in=wanted).values_list("reference", flat=True)
        taken = set(stored)
        clashing = [m for m in clashing if m.reference in taken]
        for m in clashing:
            m.reference = _reference(prefix, rng, batch | taken)
            batch.add(m.reference)


def _code(answers: dict[str, AnswerValue], spec: ConsultationSpec, profile: str) -> str:
    question = spec.by_profile.get(profile)
    value = answers.get(question.key) if question else None
    if isinstance(value, tuple) and value:
        return value[0]
    return PublicationChoice.ANONYMOUS if profile == Profile.PUBLICATION else ""


# Writing: one INSERT ... executemany per table and batch --------------------------------

_RESPONSE_COLUMNS = (
    "consultation",
    "status",
    "definition_version",
    "language",
    "respondent_type",
    "publication",
    "started_at",
    "updated_at",
    "submitted_at",
    "withdrawn_at",
)
_DATETIME_COLUMNS = range(6, 10)  # positions in _RESPONSE_COLUMNS


def _insert_sql(model: type[models.Model], names: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    columns = [str(model._meta.get_field(name).column) for name in names]  # type: ignore[union-attr]
    # Table and column names come from the models; values go as parameters.
    table, placeholders = quote(model._meta.db_table), ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {table} ({', '.join(map(quote, columns))}) VALUES ({placeholders})"  # noqa: S608  # nosec B608


def _insert(made: list[_Made]) -> int:
    """Insert one batch inside the caller's transaction; return the number of answers."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor, _text_indexed_in_bulk(cursor):
        first_id = _ids_reserve(cursor)
        response_rows: list[tuple[Any, ...]] = []
        answer_rows: list[tuple[Any, ...]] = []
        respondent_rows: list[tuple[Any, ...]] = []
        for response_id, m in enumerate(made, start=first_id):
            row = [adapt(v) if n in _DATETIME_COLUMNS else v for n, v in enumerate(m.row)]
            response_rows.append((response_id, m.reference, *row))
            answer_rows.extend((response_id, *answer) for answer in m.answers)
            if m.personal:
                respondent_rows.append(
                    (
                        response_id,
                        *(m.personal.get(name, "") for name in PERSONAL_FIELDS.values()),
                    )
                )
        cursor.executemany(
            _insert_sql(Response, ["id", "reference", *_RESPONSE_COLUMNS]), response_rows
        )
        cursor.executemany(
            _insert_sql(Answer, ["response", "question", "option", "text"]), answer_rows
        )
        cursor.executemany(
            _insert_sql(Respondent, ["response", *PERSONAL_FIELDS.values()]), respondent_rows
        )
        for statement in connection.ops.sequence_reset_sql(no_style(), [Response]):
            cursor.execute(statement)  # PostgreSQL: the id sequence moves past the batch
    batch = Response.objects.counted().filter(pk__range=(first_id, first_id + len(made) - 1))
    tallies_add(responses=batch)
    return len(answer_rows)


# Migration analysis 0003 keeps SQLite's full-text index of answers by this trigger.
_TEXT_INDEX_TRIGGER = "answer_text_fts_insert"


@contextlib.contextmanager
def _text_indexed_in_bulk(cursor: Any) -> Iterator[None]:
    """On SQLite, index the batch's text answers in one statement, not one by one: the
    trigger that would is set aside (inside the batch's transaction, so every other
    writer, waiting for the lock, still finds it) and put back as it was."""
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s",
        [_TEXT_INDEX_TRIGGER],
    )
    trigger = cursor.fetchone()
    if trigger is None:  # no full-text index on this database
        yield
        return
    cursor.execute("SELECT COALESCE(MAX(id), 0) FROM responses_answer")
    last_before = cursor.fetchone()[0]
    cursor.execute(f"DROP TRIGGER {_TEXT_INDEX_TRIGGER}")
    yield  # if the batch fails, its transaction rolls back, and the drop with it
    cursor.execute(
        "INSERT INTO answer_text_fts (rowid, text) SELECT id, text FROM responses_answer"
        " WHERE id > %s AND text IS NOT NULL",
        [last_before],
    )
    cursor.execute(trigger[0])  # the trigger's own CREATE statement, as stored


def _ids_reserve(cursor: Any) -> int:
    """The first of a run of unused response ids, held until the transaction ends.

    SQLite's transactions take the write lock as they begin (settings); PostgreSQL's
    submissions take ids from a sequence, so the table is locked against them."""
    table = connection.ops.quote_name(Response._meta.db_table)
    if connection.vendor == "postgresql":
        cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608  # nosec B608
    return int(cursor.fetchone()[0]) + 1
