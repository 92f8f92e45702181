"""Theme suggestions at scale: their time and memory, and how well the suggested themes
agree with the themes the generator wrote the answers about.

    .venv/bin/python -m bench.themes [--sizes 100000 200000] [--themes 8]

For each size, the generated dataset (bench/common.py) is copied into a temporary folder
(suggesting writes runs; the kept dataset is never changed), campaigns are detected in
one process (``detect_campaigns``: suggestions leave campaign members out, as they would
in use) and a fresh process then suggests themes for every open question, timed, with
the process's peak memory.

The truth comes from the generator (``consult.responses.synthetic``): every answer that
is not a campaign copy is about one theme, told by ``text_theme``. Agreement is the
normalised mutual information (scikit-learn's ``normalized_mutual_info_score``) between
the true theme and the suggestion an answer was given, over the answers given one;
"given a theme" is their share of the answers considered. An answer a campaign copy
that detection missed (a group under its minimum size) has no true theme and is left out
of the score. Target: NMI at least 0.5; the generated themes use words of their own, so
real answers will be harder.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.campaigns import _copy
from bench.common import (
    ROOT,
    SLUG,
    dataset,
    environment,
    machine,
    manage,
    record,
    sqlite_url,
    sqlite_version,
    table,
)

TARGET = 0.5


def measure(themes: int) -> list[dict[str, Any]]:
    """In a process whose DATABASE_URL is a copy of the dataset: a run per open question,
    each timed and scored."""
    import django

    django.setup()
    from django.utils import timezone
    from sklearn.metrics import normalized_mutual_info_score

    from consult.analysis.models import SuggestedAnswer, SuggestionRunStatus
    from consult.analysis.queries import text_questions
    from consult.analysis.services import suggestion_run_create
    from consult.analysis.themes import suggestion_run_execute
    from consult.consultations.models import Consultation
    from consult.consultations.queries import consultation_spec
    from consult.responses.models import Answer
    from consult.responses.synthetic import CAMPAIGNS, text_theme

    consultation = Consultation.objects.get(slug=SLUG)
    results = []
    for question in text_questions(consultation_spec(consultation)):
        run = suggestion_run_create(
            question=consultation.questions.get(pk=question.id),
            themes=themes,
            user=None,
            now=timezone.now(),
        )
        started = time.perf_counter()
        run = suggestion_run_execute(run_id=run.pk)
        seconds = time.perf_counter() - started
        if run.status != SuggestionRunStatus.DONE:
            raise RuntimeError(f"{question.key}: {run.error}")
        given = dict(
            SuggestedAnswer.objects.filter(suggestion__run=run).values_list(
                "answer_id", "suggestion_id"
            )
        )
        truth, found = [], []
        texts = Answer.objects.filter(pk__in=given.keys()).values_list("pk", "text")
        for pk, text in texts.iterator(chunk_size=5000):
            theme = None if text.startswith(tuple(c[:40] for c in CAMPAIGNS)) else text_theme(text)
            if theme is not None:
                truth.append(theme)
                found.append(given[pk])
        results.append(
            {
                "question": question.key,
                "answers": run.total,
                "excluded": run.excluded,
                "given": len(given),
                "suggestions": run.suggestions.count(),
                "seconds": seconds,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "nmi": normalized_mutual_info_score(truth, found),
                "scored": len(truth),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 200_000])
    parser.add_argument("--themes", type=int, default=8)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.themes)))
        return
    rows = []
    for size in args.sizes:
        source = dataset(size)
        with tempfile.TemporaryDirectory(prefix="bench-themes-") as folder:
            copy = Path(folder) / source.name
            _copy(source, copy)
            url = sqlite_url(copy)
            manage(url, "detect_campaigns", SLUG, "--verbosity", "0")
            done = subprocess.run(  # noqa: S603 - this script, measuring in a fresh process
                [sys.executable, "-m", "bench.themes", "--measure", "--themes", str(args.themes)],
                env=environment(url),
                stdout=subprocess.PIPE,
                text=True,
                check=True,
                cwd=ROOT,
            )
        for result in json.loads(done.stdout.strip().splitlines()[-1]):
            rows.append(
                (
                    f"{size:,}",
                    result["question"],
                    f"{result['answers']:,}",
                    f"{result['excluded']:,}",
                    result["suggestions"],
                    f"{result['seconds']:,.1f}",
                    f"{result['peak_mb']:,.0f}",
                    f"{result['given'] / result['answers']:.1%}" if result["answers"] else "n/a",
                    f"{result['nmi']:.3f}",
                    "yes" if result["nmi"] >= TARGET else "NO",
                )
            )
    text = table(
        [
            "responses",
            "question",
            "answers considered",
            "in campaigns (left out)",
            "suggestions",
            "seconds",
            "peak MB",
            "given a theme",
            "NMI with the true themes",
            "target met",
        ],
        rows,
    )
    record(
        "Theme suggestions",
        machine(sqlite_version()),
        f"{args.themes} themes asked for per open question (the generator writes about 7), "
        "after campaign detection, in one process per size on a copy of the dataset; peak "
        "memory is the process's (it grows over the questions). Truth from the generator "
        f"(bench/themes.py). Target: NMI at least {TARGET}.\n\n" + text,
    )


if __name__ == "__main__":
    main()
