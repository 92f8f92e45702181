"""Campaign detection: identical and near-identical answers to an open question, grouped
into campaigns so that they can be counted and reported apart from the rest.

Texts are compared after normalising them (Unicode NFKC, case folded, punctuation and
symbols as spaces, whitespace collapsed) as sets of word 3-grams. Identical normalised
texts are found by a BLAKE2b fingerprint; near-identical ones by MinHash signatures and
locality-sensitive hashing (``datasketch``), seeded so that a run on the same data gives
the same campaigns. A group becomes a campaign once it has ``min_size`` answers.

A run keeps a high-water mark per question (``CampaignScan``). Answers of responses
sent since then join an existing campaign when they are near its representative.
Campaigns are then looked for again among every answer in none, old and new, because a
new answer can complete a group of older ones (a run with no new answer stops before
that, so a changed ``min_size`` needs ``rebuild``); ``rebuild`` starts over. Reading is done
outside any transaction; what was found is written in one short transaction at the end.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q, QuerySet

from consult.analysis.models import Campaign, CampaignMember, CampaignRelease, CampaignScan
from consult.analysis.queries import text_questions
from consult.consultations.models import Consultation
from consult.consultations.queries import QuestionSpec, consultation_spec
from consult.responses.models import Answer, Response, ResponseStatus

if TYPE_CHECKING:
    from datasketch import MinHash, MinHashLSH

MIN_SIZE = 5  # fewer identical answers than this are a coincidence, not a campaign
THRESHOLD = 0.7  # Jaccard similarity of word 3-grams from which two answers are one text
NUM_PERM = 64  # MinHash values per text: the similarity estimate is within ±0.06 (1 sd)
SEED = 1
# LSH bands and rows per band (12 x 5 of the 64 values): two texts become candidates with
# probability 1 - (1 - s^5)^12 at similarity s: 0.99 at 0.8, 0.9997 at 0.87, 0.03 at 0.3.
# Datasketch's own choice for 0.7 (8 x 8) let 5% of the pairs at 0.87 slip.
BANDS = (12, 5)
SHINGLE_WORDS = 3
CHUNK = 5000
# Answers sent within this time before a run are left for the next one: a submission's
# time is taken before its transaction waits for the database (up to 20 s on SQLite).
SETTLE = timedelta(minutes=1)

_NOT_WORD = re.compile(r"[\W_]+")


def text_normalise(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split())


def text_shingles(normalised: str) -> set[bytes]:
    """The text's word 3-grams (a shorter text is its own single shingle)."""
    words = normalised.split(" ")
    if len(words) <= SHINGLE_WORDS:
        return {normalised.encode()}
    return {
        " ".join(words[start : start + SHINGLE_WORDS]).encode()
        for start in range(len(words) - SHINGLE_WORDS + 1)
    }


def text_fingerprint(normalised: str) -> bytes:
    return hashlib.blake2b(normalised.encode(), digest_size=16).digest()


def similarity(first: set[bytes], second: set[bytes]) -> float:
    """Jaccard similarity of two sets of shingles."""
    if not first and not second:
        return 1.0
    return len(first & second) / len(first | second)


class _Sketcher:
    """MinHash signatures, all from the same seeded permutations.

    Shingles are hashed with CRC-32, a C function: the default, SHA-1 through Python, took
    half of a run, and a 32-bit hash serves as well here (datasketch mixes it before the
    permutations). One MinHash is reused, as copying one parses its permutations again."""

    def __init__(self) -> None:
        from datasketch import MinHash

        self._minhash = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32)
        self._blank = self._minhash.hashvalues.copy()

    def sketch(self, shingles: Iterable[bytes]) -> MinHash:
        """The shingles' MinHash, valid until the next call (its ``hashvalues`` array is
        replaced, never changed, so a reference to it stays right)."""
        self._minhash.hashvalues = self._blank.copy()
        self._minhash.update_batch(shingles)
        return self._minhash


def _index() -> MinHashLSH:
    # datasketch (and the SciPy it brings) is imported by a detection run, not with this
    # module: every web process imports it through the services, and would carry its
    # 60 MB for nothing.
    from datasketch import MinHashLSH

    return MinHashLSH(num_perm=NUM_PERM, params=BANDS)


class _Grouper:
    """Groups texts as they come: a text identical to an earlier one (by fingerprint) joins
    it; otherwise it joins the most similar earlier *leader* whose estimated similarity
    reaches THRESHOLD, or becomes a leader itself. Comparing with leaders only, never with
    every member, keeps groups from drifting by chains of small edits.

    Holds, per distinct text: its fingerprint in a dict, its first answer, count and
    leader in arrays; per leader: its LSH entries and its 64-value signature; per answer:
    its id and distinct text (12 bytes). The LSH index is most of it."""

    def __init__(self, sketcher: _Sketcher) -> None:
        self.sketcher = sketcher
        self.index = _index()
        self.distinct: dict[bytes, int] = {}
        self.first_answer = array("q")
        self.count = array("l")
        self.leader = array("l")
        self.signatures: dict[int, np.ndarray] = {}
        self.answers = array("q")
        self.answer_responses = array("q")
        self.answer_distinct = array("l")

    def add(self, answer_id: int, response_id: int, fingerprint: bytes, normalised: str) -> None:
        number = self.distinct.get(fingerprint)
        if number is None:
            number = len(self.first_answer)
            self.distinct[fingerprint] = number
            self.first_answer.append(answer_id)
            self.count.append(0)
            self.leader.append(self._leader_for(number, normalised))
        self.count[number] += 1
        self.answers.append(answer_id)
        self.answer_responses.append(response_id)
        self.answer_distinct.append(number)

    def _leader_for(self, number: int, normalised: str) -> int:
        minhash = self.sketcher.sketch(text_shingles(normalised))
        values = minhash.hashvalues
        best, best_similarity = number, THRESHOLD
        for candidate in sorted(self.index.query(minhash)):
            estimate = float(np.count_nonzero(self.signatures[candidate] == values)) / NUM_PERM
            if estimate > best_similarity or (estimate == best_similarity and best == number):
                best, best_similarity = candidate, estimate
        if best == number:
            self.index.insert(number, minhash, check_duplication=False)
            self.signatures[number] = values
        return best

    def groups(self, min_size: int) -> list[list[int]]:
        """The distinct texts of each group with at least ``min_size`` answers, most
        common first (ties: first read), groups in order of their leader."""
        members: dict[int, list[int]] = defaultdict(list)
        for number, leader in enumerate(self.leader):
            members[leader].append(number)
        return [
            sorted(numbers, key=lambda n: (-self.count[n], n))
            for _, numbers in sorted(members.items())
            if sum(self.count[n] for n in numbers) >= min_size
        ]


@dataclass
class _Known:
    """An existing campaign, as new answers are compared with it."""

    pk: int
    shingles: set[bytes]


@dataclass
class Detected:
    """What a run found for one question."""

    question: str
    considered: int = 0  # answers looked at
    joined: int = 0  # answers added to campaigns that existed before the run
    campaigns_new: int = 0
    members_new: int = 0  # answers in the new campaigns
    campaigns: int = 0  # campaigns of the question after the run
    members: int = 0  # answers in them


class CampaignScanChangedError(Exception):
    """Another run on the same question finished while this one was reading."""


def consultation_campaigns_detect(
    *,
    consultation: Consultation,
    now: datetime,
    rebuild: bool = False,
    min_size: int = MIN_SIZE,
    progress: Callable[[int], None] | None = None,
) -> list[Detected]:
    """Detect campaigns in the answers to every open question of the consultation."""
    spec = consultation_spec(consultation)
    return [
        campaigns_detect(
            consultation=consultation,
            question=question,
            now=now,
            rebuild=rebuild,
            min_size=min_size,
            progress=progress,
        )
        for question in text_questions(spec)
    ]


def campaign_answers_pending(
    *, consultation: Consultation, question: QuestionSpec, now: datetime, rebuild: bool = False
) -> QuerySet[Answer]:
    """The answers a run would look at: those of submitted responses sent by ``now`` less
    SETTLE, in no campaign yet (any, with ``rebuild``), leaving out those an analyst took
    out of one."""
    answers = Answer.objects.filter(
        question_id=question.id,
        text__isnull=False,
        response__consultation=consultation,
        response__status=ResponseStatus.SUBMITTED,
        response__submitted_at__lte=now - SETTLE,
    ).exclude(text="")
    answers = answers.filter(~Exists(CampaignRelease.objects.filter(answer=OuterRef("pk"))))
    if not rebuild:
        answers = answers.filter(~Exists(CampaignMember.objects.filter(answer=OuterRef("pk"))))
    return answers


def campaigns_detect(
    *,
    consultation: Consultation,
    question: QuestionSpec,
    now: datetime,
    rebuild: bool = False,
    min_size: int = MIN_SIZE,
    progress: Callable[[int], None] | None = None,
) -> Detected:
    """Group the answers to ``question`` into campaigns; see the module's description.

    Raises ``CampaignScanChangedError`` if another run on the question finished first (run
    again: it then looks only at what that run left)."""
    seen = None if rebuild else _mark(CampaignScan.objects.filter(question_id=question.id).first())
    last_response_id = (
        Response.objects.filter(consultation=consultation).aggregate(top=Max("pk"))["top"] or 0
    )
    pending = campaign_answers_pending(
        consultation=consultation, question=question, now=now, rebuild=rebuild
    ).filter(response_id__lte=last_response_id)
    detected = Detected(question=question.key)
    if (
        seen is not None
        and not pending.filter(
            Q(response_id__gt=seen[0]) | Q(response__submitted_at__gt=seen[1])
        ).exists()
    ):
        return _totals(detected, question)  # nothing new: the groups are as they were
    known = [] if rebuild else _known_campaigns(question)
    known_index = _index()
    sketcher = _Sketcher()
    for number, existing in enumerate(known):
        known_index.insert(number, sketcher.sketch(existing.shingles), check_duplication=False)
    grouper = _Grouper(sketcher)
    joined: list[CampaignMember] = []
    joined_to: dict[bytes, tuple[int, float] | None] = {}  # per distinct new text
    rows = pending.values_list("pk", "text", "response_id", "response__submitted_at")
    for answer_id, text, response_id, submitted_at in _counted(
        # In order of sending (SQLite then streams from the index on sending time).
        rows.order_by("response__submitted_at", "pk").iterator(chunk_size=CHUNK),
        progress,
    ):
        detected.considered += 1
        normalised = text_normalise(text)
        fingerprint = text_fingerprint(normalised)
        is_new = seen is None or response_id > seen[0] or submitted_at > seen[1]
        if known and is_new:
            if fingerprint not in joined_to:
                joined_to[fingerprint] = _closest(normalised, known, known_index, sketcher)
            match = joined_to[fingerprint]
            if match is not None:
                campaign_pk, member_similarity = match
                joined.append(
                    CampaignMember(
                        answer_id=answer_id,
                        response_id=response_id,
                        campaign_id=campaign_pk,
                        similarity=member_similarity,
                        fingerprint=fingerprint.hex(),
                    )
                )
                continue
        grouper.add(answer_id, response_id, fingerprint, normalised)
    found = _campaigns_found(grouper, min_size)
    with transaction.atomic():
        current = CampaignScan.objects.select_for_update().filter(question_id=question.id).first()
        if not rebuild and _mark(current) != seen:
            raise CampaignScanChangedError(question.key)
        if rebuild:
            stale = CampaignMember.objects.filter(campaign__question_id=question.id)
            # One statement: the campaigns go next, so no figures need refreshing.
            stale._raw_delete(stale.db)
            Campaign.objects.filter(question_id=question.id).delete()
        touched = {member.campaign_id for member in joined}
        _bulk_create(joined)
        detected.joined = len(joined)
        for representative, members in found:
            campaign = _campaign_save(
                consultation=consultation, question=question, text=representative, now=now
            )
            touched.add(campaign.pk)
            _bulk_create(
                CampaignMember(
                    answer_id=answer_id,
                    response_id=response_id,
                    campaign_id=campaign.pk,
                    similarity=value,
                    fingerprint=fingerprint,
                )
                for answer_id, response_id, value, fingerprint in members
            )
            detected.campaigns_new += 1
            detected.members_new += len(members)
        Campaign.objects.filter(pk__in=touched).figures_refresh(now=now)
        CampaignScan.objects.update_or_create(
            question_id=question.id,
            defaults={
                "last_response_id": last_response_id,
                "checked_until": now - SETTLE,
                "scanned_at": now,
            },
        )
    return _totals(detected, question)


def _totals(detected: Detected, question: QuestionSpec) -> Detected:
    campaigns = Campaign.objects.filter(question_id=question.id)
    detected.campaigns = campaigns.count()
    detected.members = CampaignMember.objects.filter(campaign__in=campaigns).count()
    return detected


def _mark(scan: CampaignScan | None) -> tuple[int, datetime] | None:
    return None if scan is None else (scan.last_response_id, scan.checked_until)


def _counted(
    rows: Iterator[tuple[Any, ...]], progress: Callable[[int], None] | None
) -> Iterator[tuple[Any, ...]]:
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress and done == CHUNK:
            progress(done)
            done = 0
    if progress and done:
        progress(done)


def _known_campaigns(question: QuestionSpec) -> list[_Known]:
    return [
        _Known(pk=pk, shingles=text_shingles(text_normalise(text)))
        for pk, text in Campaign.objects.filter(question_id=question.id)
        .order_by("pk")
        .values_list("pk", "representative")
    ]


def _closest(
    normalised: str, known: list[_Known], index: MinHashLSH, sketcher: _Sketcher
) -> tuple[int, float] | None:
    """The existing campaign whose representative is most similar (at least THRESHOLD,
    measured exactly on the shingles) and that similarity, or None."""
    shingles = text_shingles(normalised)
    best: tuple[int, float] | None = None
    for number in sorted(index.query(sketcher.sketch(shingles))):
        value = similarity(shingles, known[number].shingles)
        if value >= THRESHOLD and (best is None or value > best[1]):
            best = (known[number].pk, value)
    return best


def _campaigns_found(
    grouper: _Grouper, min_size: int
) -> list[tuple[str, list[tuple[int, int, float, str]]]]:
    """Each new campaign's representative (its most common text, as first sent) and its
    members (answer, response) with their exact similarity to it and their variant's
    fingerprint."""
    groups = grouper.groups(min_size)
    wanted = [grouper.first_answer[number] for numbers in groups for number in numbers]
    texts: dict[int, str] = {}
    for start in range(0, len(wanted), 500):
        rows = Answer.objects.filter(pk__in=wanted[start : start + 500]).values_list("pk", "text")
        texts.update((pk, text or "") for pk, text in rows)
    found: list[tuple[str, list[tuple[int, int, float, str]]]] = []
    member_of: dict[int, tuple[int, float]] = {}  # distinct text -> group, similarity
    for position, numbers in enumerate(groups):
        shingles = text_shingles(text_normalise(texts[grouper.first_answer[numbers[0]]]))
        for number in numbers:
            text_shingled = text_shingles(text_normalise(texts[grouper.first_answer[number]]))
            member_of[number] = (position, similarity(text_shingled, shingles))
        found.append((texts[grouper.first_answer[numbers[0]]], []))
    fingerprints = {
        number: fp.hex() for fp, number in grouper.distinct.items() if number in member_of
    }
    for answer_id, response_id, number in zip(
        grouper.answers, grouper.answer_responses, grouper.answer_distinct, strict=True
    ):
        if number in member_of:
            position, value = member_of[number]
            found[position][1].append((answer_id, response_id, value, fingerprints[number]))
    return found


def _campaign_save(
    *, consultation: Consultation, question: QuestionSpec, text: str, now: datetime
) -> Campaign:
    """The campaign whose representative normalises as ``text`` does, made if new (an
    answer an analyst took out of a campaign may bring its text back)."""
    fingerprint = text_fingerprint(text_normalise(text)).hex()
    campaign, _ = Campaign.objects.get_or_create(
        question_id=question.id,
        fingerprint=fingerprint,
        defaults={
            "consultation": consultation,
            "name": campaign_name(text),
            "representative": text,
            "created_at": now,
            "updated_at": now,
        },
    )
    return campaign


def campaign_name(text: str) -> str:
    """A first name for a campaign: the start of its representative text."""
    words = text.split()
    name = " ".join(words[:8]) + ("…" if len(words) > 8 else "")
    return name if len(name) <= 100 else name[:99] + "…"


def _bulk_create(members: Iterable[CampaignMember]) -> None:
    batch: list[CampaignMember] = []
    for member in members:
        batch.append(member)
        if len(batch) == CHUNK:
            CampaignMember.objects.bulk_create(batch)
            batch = []
    if batch:
        CampaignMember.objects.bulk_create(batch)
