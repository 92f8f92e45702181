"""``manage.py detect_campaigns SLUG [--rebuild] [--min-size N]``: group identical and
near-identical free-text answers into campaigns (``consult.analysis.campaigns``)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from consult.analysis.campaigns import (
    MIN_SIZE,
    CampaignScanChangedError,
    campaign_answers_pending,
    consultation_campaigns_detect,
)
from consult.analysis.queries import text_questions
from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec


class Command(BaseCommand):
    help = "Find campaigns among the free-text answers: new answers only, or --rebuild."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="Forget the campaigns found so far (names and confirmations too) and start over.",
        )
        parser.add_argument(
            "--min-size",
            type=int,
            default=MIN_SIZE,
            help=f"Answers a group needs to be a campaign (default {MIN_SIZE}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        consultation = Consultation.objects.filter(slug=options["slug"]).first()
        if consultation is None:
            raise CommandError(f"No consultation has the slug {options['slug']}.")
        if options["min_size"] < 2:
            raise CommandError("--min-size must be at least 2.")
        now = timezone.now()
        total = sum(
            campaign_answers_pending(
                consultation=consultation, question=question, now=now, rebuild=options["rebuild"]
            ).count()
            for question in text_questions(consultation_spec(consultation))
        )
        try:
            with tqdm(total=total, unit="answers", disable=options["verbosity"] == 0) as bar:
                found = consultation_campaigns_detect(
                    consultation=consultation,
                    now=now,
                    rebuild=options["rebuild"],
                    min_size=options["min_size"],
                    progress=bar.update,
                )
        except CampaignScanChangedError as error:
            raise CommandError(
                f"Another run finished on question {error} while this one was reading: "
                "run the command again."
            ) from error
        for detected in found:
            self.stdout.write(
                f"{detected.question}: {detected.considered} answers looked at; "
                f"{detected.joined} joined existing campaigns; "
                f"{detected.campaigns_new} new campaigns with {detected.members_new} answers; "
                f"{detected.campaigns} campaigns with {detected.members} answers in all."
            )
