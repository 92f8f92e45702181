"""``manage.py generate_responses SLUG --count N [--seed S]``: realistic test responses.

For benchmarks and demonstrations only: the responses are made up. Run it on a
consultation without real responses, and with a new seed for each run on the same data.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from consult.consultations.models import Consultation
from consult.responses.synthetic import responses_generate


class Command(BaseCommand):
    help = "Generate realistic submitted responses (made up, for benchmarks)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--count", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        consultation = Consultation.objects.filter(slug=options["slug"]).first()
        if consultation is None:
            raise CommandError(f"No consultation has the slug {options['slug']}.")
        if options["count"] < 1:
            raise CommandError("--count must be at least 1.")
        with tqdm(
            total=options["count"], unit="responses", disable=options["verbosity"] == 0
        ) as bar:
            made = responses_generate(
                consultation=consultation,
                count=options["count"],
                seed=options["seed"],
                now=timezone.now(),
                progress=bar.update,
            )
        self.stdout.write(
            f"Generated {made.responses} responses ({made.withdrawn} withdrawn) "
            f"with {made.answers} answers."
        )
