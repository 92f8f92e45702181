"""Theme suggestions for an open question: TF-IDF and NMF (scikit-learn) over its answers
outside campaigns, giving for each theme its top terms, a name made from them, the answers
whose strongest theme it is and the most typical of those as quotes.

The model learns from a seeded sample of at most ``SAMPLE`` answers, then every answer is
read again in chunks and given its strongest theme, so memory stays flat whatever the
number of answers. The same answers give the same suggestions (fixed seeds, answers read
in id order). Nothing here touches the codebook: analysts decide (``services``).
Campaign members are left out: thousands of copies of one text would be a theme of their
own and drown the rest (campaigns are counted apart anyway).
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from django.db import transaction
from django.db.models import Max, QuerySet
from django.utils import timezone

from consult.analysis.models import (
    CampaignMember,
    SuggestedAnswer,
    SuggestionRun,
    SuggestionRunStatus,
    ThemeSuggestion,
)
from consult.responses.models import Answer, ResponseStatus

if TYPE_CHECKING:
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

DEFAULT_THEMES = 8
MIN_THEMES, MAX_THEMES = 2, 30  # as the run's check constraint allows
SAMPLE = 50_000  # answers the model learns from; more adds time, not better themes
CHUNK = 5_000  # answers read, assigned and reported as progress at a time
TERMS = 10
QUOTES = 3
# An answer joins its strongest theme only when that theme holds this share of its
# weight: an answer spread evenly over every theme is about none of them.
MIN_SHARE = 0.3
ANSWERS_PER_THEME = 5  # fewer answers than this per theme asked for cannot make themes
SEED = 0
# Words of letters only, two or more: numbers and references make poor theme terms.
TOKENS = r"(?u)\b[^\W\d_]{2,}\b"


class SuggestionError(Exception):
    """The answers cannot give suggestions; the message says why, for the page."""


def suggestion_answers(question_id: int) -> QuerySet[Answer]:
    """The answers suggestions are made from: sent (not withdrawn), not blank, in no
    campaign."""
    return Answer.objects.filter(
        question_id=question_id,
        text__isnull=False,
        response__status=ResponseStatus.SUBMITTED,
        campaign_member__isnull=True,
    ).exclude(text="")


def campaign_answers(question_id: int) -> int:
    """How many sent answers to the question are left out as campaign members."""
    return CampaignMember.objects.filter(
        answer__question_id=question_id, answer__response__status=ResponseStatus.SUBMITTED
    ).count()


@dataclass
class _Theme:
    """What the assigning pass gathers for one of the model's components: its answers
    (ids and shares, as arrays: a million answers take 12 MB) and its best quotes."""

    ids: array[int] = field(default_factory=lambda: array("q"))
    shares: array[float] = field(default_factory=lambda: array("f"))
    quotes: list[tuple[float, int]] = field(default_factory=list)  # heap: weight, -answer id


def suggestion_run_execute(
    *, run_id: int, progress: Callable[[int], None] | None = None
) -> SuggestionRun:
    """Run a queued run: mark it running, suggest, and store the suggestions with the run
    marked done, in one transaction; or mark it failed with the reason. A run that is no
    longer queued (run already, by a repeated task) is left as it is."""
    now = timezone.now()
    started = SuggestionRun.objects.filter(pk=run_id, status=SuggestionRunStatus.QUEUED).update(
        status=SuggestionRunStatus.RUNNING, started_at=now, updated_at=now
    )
    run = SuggestionRun.objects.get(pk=run_id)
    if not started:
        return run
    try:
        _suggest(run, progress)
    except SuggestionError as error:
        _fail(run, str(error))
    except Exception as error:
        _fail(
            run,
            f"The run stopped on an unexpected error ({type(error).__name__}). "
            "Try again; if it fails again, tell the service’s support team.",
        )
        raise
    run.refresh_from_db()
    return run


def _fail(run: SuggestionRun, message: str) -> None:
    now = timezone.now()
    SuggestionRun.objects.filter(pk=run.pk).update(
        status=SuggestionRunStatus.FAILED, error=message, finished_at=now, updated_at=now
    )


def _suggest(run: SuggestionRun, progress: Callable[[int], None] | None) -> None:
    answers = suggestion_answers(run.question_id)
    last = answers.aggregate(last=Max("pk"))["last"] or 0
    answers = answers.filter(pk__lte=last)  # what arrives during the run waits for the next
    total = answers.count()
    SuggestionRun.objects.filter(pk=run.pk).update(
        total=total, excluded=campaign_answers(run.question_id), updated_at=timezone.now()
    )
    needed = run.themes * ANSWERS_PER_THEME
    if total < needed:
        raise SuggestionError(
            f"There are {total:,} answers outside campaigns; suggesting {run.themes} themes "
            f"needs at least {needed:,}. Ask for fewer themes, or wait for more answers."
        )
    vectorizer, model = _learn(_sample(answers, total), run.themes)
    terms = vectorizer.get_feature_names_out()
    themes = [_Theme() for _ in range(run.themes)]
    done = 0
    for ids, texts in _chunks(answers):
        weights = model.transform(vectorizer.transform(texts))
        _assign(ids, weights, themes)
        done += len(ids)
        total = max(total, done)  # a draft of an older id sent meanwhile is one more
        SuggestionRun.objects.filter(pk=run.pk).update(
            done=done, total=total, updated_at=timezone.now()
        )
        if progress:
            progress(len(ids))
    _save(run, themes, terms, model.components_, done)


def _sample(answers: QuerySet[Answer], total: int) -> list[str]:
    """The texts of a seeded sample of at most ``SAMPLE`` answers, in id order."""
    rng = np.random.default_rng(SEED)
    chosen = (
        np.sort(rng.choice(total, size=SAMPLE, replace=False))
        if total > SAMPLE
        else np.arange(total)
    )
    texts: list[str] = []
    wanted = iter(chosen.tolist())
    position = next(wanted, None)
    rows = answers.order_by("pk").values_list("text", flat=True).iterator(chunk_size=CHUNK)
    for number, text in enumerate(rows):
        if number == position:
            texts.append(text or "")
            position = next(wanted, None)
            if position is None:
                break
    return texts


def _learn(texts: list[str], themes: int) -> tuple[TfidfVectorizer, NMF]:
    # scikit-learn (75 MB with SciPy and pandas) is imported by a run, not with this
    # module: every web process imports the module for its constants and would carry it.
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        stop_words="english",
        token_pattern=TOKENS,
        ngram_range=(1, 2),
        min_df=2,
        max_df=0.5,  # words most answers use (the question's own) name no theme
        max_features=20_000,
        sublinear_tf=True,
        dtype=np.float32,
    )
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError as error:  # scikit-learn's "empty vocabulary": nothing left to count
        raise SuggestionError(
            "The answers share too few words (beyond the most common ones) to suggest themes."
        ) from error
    if matrix.shape[1] < themes:
        raise SuggestionError(
            f"The answers share only {matrix.shape[1]} words worth counting: too few for "
            f"{themes} themes. Ask for fewer themes."
        )
    model = NMF(n_components=themes, init="nndsvda", random_state=SEED, max_iter=400)
    model.fit(matrix)
    return vectorizer, model


def _chunks(answers: QuerySet[Answer]) -> Iterator[tuple[list[int], list[str]]]:
    ids: list[int] = []
    texts: list[str] = []
    for pk, text in answers.order_by("pk").values_list("pk", "text").iterator(chunk_size=CHUNK):
        ids.append(pk)
        texts.append(text or "")
        if len(ids) == CHUNK:
            yield ids, texts
            ids, texts = [], []
    if ids:
        yield ids, texts


def _assign(ids: list[int], weights: np.ndarray, themes: list[_Theme]) -> None:
    """Give each answer its strongest theme when that holds ``MIN_SHARE`` of its weight,
    and keep each theme's ``QUOTES`` strongest answers."""
    answer_ids = np.asarray(ids, dtype=np.int64)
    strongest = weights.argmax(axis=1)
    top = weights.max(axis=1)
    sums = weights.sum(axis=1)
    shares = np.minimum(np.divide(top, sums, out=np.zeros_like(top), where=sums > 0), 1.0)
    kept = (shares >= MIN_SHARE) & (top > 0)
    for number, theme in enumerate(themes):
        rows = np.flatnonzero(kept & (strongest == number))
        theme.ids.extend(answer_ids[rows].tolist())
        theme.shares.extend(shares[rows].tolist())
        for row in rows[np.argsort(-top[rows], kind="stable")[:QUOTES]]:
            entry = (float(top[row]), -int(answer_ids[row]))  # ties go to the older answer
            if len(theme.quotes) < QUOTES:
                heapq.heappush(theme.quotes, entry)
            elif entry > theme.quotes[0]:
                heapq.heapreplace(theme.quotes, entry)


def suggestion_name(terms: list[str]) -> str:
    """A name from the top terms: the first three, leaving out a word already in a
    phrase taken ("data", "retention" after "data retention")."""
    chosen: list[str] = []
    for term in terms:
        words = set(term.split())
        if any(words <= set(other.split()) or set(other.split()) <= words for other in chosen):
            continue
        chosen.append(term)
        if len(chosen) == 3:
            break
    if not chosen:
        return "Unnamed theme"
    name = chosen[0] if len(chosen) == 1 else f"{', '.join(chosen[:-1])} and {chosen[-1]}"
    return (name[0].upper() + name[1:])[:100]


def _save(
    run: SuggestionRun,
    themes: list[_Theme],
    terms: np.ndarray,
    components: np.ndarray,
    done: int,
) -> None:
    names: set[str] = set()
    with transaction.atomic():
        for number, theme in enumerate(themes):
            if not theme.ids:
                continue  # a component no answer leans to: nothing to accept
            order = np.argsort(-components[number], kind="stable")
            top = [str(terms[i]) for i in order[:TERMS] if components[number][i] > 0]
            name = suggestion_name(top)
            if name in names:
                name = f"{name} ({number + 1})"[:100]
            names.add(name)
            suggestion = ThemeSuggestion.objects.create(
                run=run, number=number, name=name, terms=top
            )
            quotes = {-answer_id for _, answer_id in theme.quotes}
            for start in range(0, len(theme.ids), CHUNK):
                batch = theme.ids[start : start + CHUNK]
                # An answer erased since it was read is gone; so is its place here.
                kept = set(Answer.objects.filter(pk__in=batch).values_list("pk", flat=True))
                SuggestedAnswer.objects.bulk_create(
                    SuggestedAnswer(
                        suggestion=suggestion, answer_id=pk, weight=share, quote=pk in quotes
                    )
                    for pk, share in zip(batch, theme.shares[start : start + CHUNK], strict=True)
                    if pk in kept
                )
        now = timezone.now()
        SuggestionRun.objects.filter(pk=run.pk).update(
            status=SuggestionRunStatus.DONE,
            done=done,
            total=done,
            finished_at=now,
            updated_at=now,
        )
