"""Campaign detection at scale: its time and memory, and the precision and recall of
campaign membership against what the generator made.

    .venv/bin/python -m bench.campaigns [--sizes 100000 1000000]

For each size, the generated dataset (bench/common.py) is copied into a temporary folder
(detection writes campaigns; the kept dataset is never changed) and a fresh process runs
``detect_campaigns --rebuild`` over every open question, timed, with the process's peak
memory. It then adds 1% more generated responses (a new seed) and times an incremental
run, which adds what is new to the campaigns, and scores both.

The truth comes from the generator's rules (``consult.responses.synthetic._Maker._text``):
a campaign answer is one of ``CAMPAIGNS`` as it is, with its first "." made "!", or with
one word of ``WORDS`` added, cut to the question's ``max_length``; every other answer is
words of the generator's themes and shared words (``THEMES``, ``COMMON_WORDS``), among
which the campaigns' "ban", "need" and "scanning" are not, and so can equal
none of those. An answer's true campaign is therefore the one whose variants hold its text.
Only the answers of submitted responses are scored, as only those are looked at.

Each detected campaign is labelled with the true campaign most of its members copy; a
member is right when it copies that campaign. Precision: right members over detected
members; recall: right members over true campaign answers. "Near" scores the same over
the near-duplicates only: answers whose normalised text is not the original's (the ones
with a word added; a "!" for a "." normalises away). Target for near-duplicates: 0.95.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import (
    ROOT,
    SEED,
    SLUG,
    dataset,
    environment,
    machine,
    record,
    sqlite_url,
    sqlite_version,
    table,
)

TARGET = 0.95


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (WAL included), by its backup API."""
    origin, copy = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(copy)
    finally:
        origin.close()
        copy.close()


def _truth_table() -> dict[tuple[int, str], tuple[int, bool]]:
    """(question id, text) -> (campaign number, whether a near-duplicate), for every text
    the generator can make from a campaign for each open question."""
    from consult.analysis.campaigns import text_normalise
    from consult.analysis.queries import text_questions
    from consult.consultations.models import Consultation
    from consult.consultations.queries import consultation_spec
    from consult.responses.synthetic import CAMPAIGNS, WORDS

    spec = consultation_spec(Consultation.objects.get(slug=SLUG))
    texts: dict[tuple[int, str], tuple[int, bool]] = {}
    for question in text_questions(spec):
        for number, original in enumerate(CAMPAIGNS):
            variants = [original, original.replace(".", "!", 1)]
            variants += [f"{original} {word}" for word in WORDS]
            for variant in variants:
                text = variant[: question.max_length or None]
                near = text_normalise(text) != text_normalise(original)
                texts[(question.id, text)] = (number, near)
    return texts


def _score(truth: dict[tuple[int, str], tuple[int, bool]]) -> dict[str, Any]:
    """Precision and recall of membership, all campaign answers and near-duplicates."""
    from consult.analysis.queries import text_questions
    from consult.consultations.models import Consultation
    from consult.consultations.queries import consultation_spec
    from consult.responses.models import Answer, ResponseStatus

    spec = consultation_spec(Consultation.objects.get(slug=SLUG))
    rows: list[tuple[int | None, int | None, bool]] = []  # detected, true, near
    copies: dict[int, Counter[int | None]] = defaultdict(Counter)
    for question in text_questions(spec):
        answers = Answer.objects.filter(
            question_id=question.id,
            text__isnull=False,
            response__status=ResponseStatus.SUBMITTED,
        ).values_list("text", "campaign_member__campaign_id")
        for text, campaign in answers.iterator(chunk_size=5000):
            number, near = truth.get((question.id, text), (None, False))
            if campaign is None and number is None:
                continue
            if campaign is not None:
                copies[campaign][number] += 1
            rows.append((campaign, number, near))
    label = {campaign: counts.most_common(1)[0][0] for campaign, counts in copies.items()}

    def scores(selected: list[tuple[int | None, int | None, bool]]) -> tuple[float, float, int]:
        detected = sum(1 for campaign, _, _ in selected if campaign is not None)
        true = sum(1 for _, number, _ in selected if number is not None)
        right = sum(
            1
            for campaign, number, _ in selected
            if campaign is not None and number is not None and label[campaign] == number
        )
        return right / detected if detected else 1.0, right / true if true else 1.0, true

    precision, recall, true = scores(rows)
    near_precision, near_recall, near_true = scores([row for row in rows if row[2]])
    return {
        "precision": precision,
        "recall": recall,
        "true": true,
        "near_precision": near_precision,
        "near_recall": near_recall,
        "near_true": near_true,
        "campaigns": len(label),
    }


def measure(size: int) -> dict[str, Any]:
    """In a process whose DATABASE_URL is a copy of the dataset: a full run, then an
    incremental one after 1% more responses, each timed and scored."""
    import django

    django.setup()
    from django.utils import timezone

    from consult.analysis.campaigns import consultation_campaigns_detect
    from consult.consultations.models import Consultation
    from consult.responses.synthetic import responses_generate

    consultation = Consultation.objects.get(slug=SLUG)
    truth = _truth_table()
    started = time.perf_counter()
    now = timezone.now()
    full = consultation_campaigns_detect(consultation=consultation, now=now, rebuild=True)
    full_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    full_scores = _score(truth)

    responses_generate(
        consultation=consultation, count=size // 100, seed=SEED + 1, now=timezone.now()
    )
    started = time.perf_counter()
    more = consultation_campaigns_detect(consultation=consultation, now=timezone.now())
    more_s = time.perf_counter() - started
    return {
        "full_s": full_s,
        "peak_mb": peak_mb,
        "considered": sum(detected.considered for detected in full),
        "full": full_scores,
        "more_s": more_s,
        "more_considered": sum(detected.considered for detected in more),
        "joined": sum(detected.joined for detected in more),
        "more": _score(truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    rows = []
    for size in args.sizes:
        source = dataset(size)
        with tempfile.TemporaryDirectory(prefix="bench-campaigns-") as folder:
            copy = Path(folder) / source.name
            _copy(source, copy)
            done = subprocess.run(  # noqa: S603 - this script, measuring in a fresh process
                [sys.executable, "-m", "bench.campaigns", "--measure", str(size)],
                env=environment(sqlite_url(copy)),
                stdout=subprocess.PIPE,
                text=True,
                check=True,
                cwd=ROOT,
            )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        for run, seconds, peak, considered, scores in (
            (
                "full (--rebuild)",
                result["full_s"],
                f"{result['peak_mb']:,.0f}",
                result["considered"],
                result["full"],
            ),
            (
                f"incremental, +{size // 100:,} responses ({result['joined']:,} joined)",
                result["more_s"],
                "",
                result["more_considered"],
                result["more"],
            ),
        ):
            met = min(scores["near_precision"], scores["near_recall"]) >= TARGET
            rows.append(
                (
                    f"{size:,}",
                    run,
                    f"{considered:,}",
                    f"{seconds:,.1f}",
                    peak,
                    f"{scores['true']:,} ({scores['near_true']:,})",
                    scores["campaigns"],
                    f"{scores['precision']:.4f} / {scores['recall']:.4f}",
                    f"{scores['near_precision']:.4f} / {scores['near_recall']:.4f}",
                    "yes" if met else "NO",
                )
            )
    text = table(
        [
            "responses",
            "run",
            "answers looked at",
            "seconds",
            "peak MB",
            "campaign answers (near)",
            "campaigns",
            "precision / recall",
            "near: precision / recall",
            "target met",
        ],
        rows,
    )
    record(
        "Campaign detection",
        machine(sqlite_version()),
        "Every open question's answers of submitted responses, in one process per size on "
        "a copy of the dataset; peak memory is the process's. Truth from the generator's "
        f"rules (bench/campaigns.py). Target: near-duplicates' precision and recall at least "
        f"{TARGET}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
