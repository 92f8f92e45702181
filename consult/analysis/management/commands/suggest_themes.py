"""``manage.py suggest_themes SLUG [--question KEY] [--themes N]``: suggest themes for
open questions' answers, at once and with a progress bar (``consult.analysis.themes``).
The suggestions wait for an analyst on the workspace's suggestions page."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from consult.analysis.models import SuggestionRunStatus
from consult.analysis.queries import text_questions
from consult.analysis.services import SuggestionRunActiveError, suggestion_run_create
from consult.analysis.themes import (
    DEFAULT_THEMES,
    MAX_THEMES,
    MIN_THEMES,
    suggestion_answers,
    suggestion_run_execute,
)
from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec


class Command(BaseCommand):
    help = "Suggest themes for the answers to open questions (every one, or --question)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--question", help="The key of one open question (default: all).")
        parser.add_argument(
            "--themes",
            type=int,
            default=DEFAULT_THEMES,
            help=f"Themes to suggest per question, {MIN_THEMES} to {MAX_THEMES} "
            f"(default {DEFAULT_THEMES}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        consultation = Consultation.objects.filter(slug=options["slug"]).first()
        if consultation is None:
            raise CommandError(f"No consultation has the slug {options['slug']}.")
        if not MIN_THEMES <= options["themes"] <= MAX_THEMES:
            raise CommandError(f"--themes must be between {MIN_THEMES} and {MAX_THEMES}.")
        questions = text_questions(consultation_spec(consultation))
        if options["question"]:
            questions = [q for q in questions if q.key == options["question"]]
            if not questions:
                raise CommandError(
                    f"{consultation.slug} has no open question with the key {options['question']}."
                )
        failed = []
        for question in questions:
            try:
                run = suggestion_run_create(
                    question=consultation.questions.get(pk=question.id),
                    themes=options["themes"],
                    user=None,
                    now=timezone.now(),
                )
            except SuggestionRunActiveError as error:
                raise CommandError(
                    f"Themes are already being suggested for {question.key}: wait for that run."
                ) from error
            total = suggestion_answers(question.id).count()
            with tqdm(
                total=total, unit="answers", desc=question.key, disable=options["verbosity"] == 0
            ) as bar:
                run = suggestion_run_execute(run_id=run.pk, progress=bar.update)
            if run.status == SuggestionRunStatus.FAILED:
                failed.append(question.key)
                self.stderr.write(f"{question.key}: {run.error}")
                continue
            self.stdout.write(
                f"{question.key}: {run.suggestions.count()} themes suggested from {run.total} "
                f"answers ({run.excluded} in campaigns left out)."
            )
            for suggestion in run.suggestions.all():
                self.stdout.write(f"  {suggestion.name}: {', '.join(suggestion.terms[:6])}")
        if failed:
            raise CommandError(f"No suggestions for {', '.join(failed)} (see above).")
