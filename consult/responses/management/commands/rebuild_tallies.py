"""``manage.py rebuild_tallies [SLUG ...]``: make the running counts of results again.

The counts change with every submission, withdrawal and erasure, in the same
transaction; rebuild them after changing responses or answers by any other way (SQL by
hand, a restore of part of the data). Submissions can go on meanwhile.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consult.consultations.models import Consultation
from consult.responses.services import tallies_rebuild


class Command(BaseCommand):
    help = "Count the results again from the answers (every consultation, or those named)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slugs", nargs="*", metavar="SLUG")

    def handle(self, *args: Any, **options: Any) -> None:
        consultations = Consultation.objects.order_by("slug")
        if options["slugs"]:
            consultations = consultations.filter(slug__in=options["slugs"])
            unknown = set(options["slugs"]) - {c.slug for c in consultations}
            if unknown:
                raise CommandError(f"No consultation has the slug {', '.join(sorted(unknown))}.")
        for consultation in consultations:
            tallies_rebuild(consultation=consultation)
            self.stdout.write(f"Counted the results of {consultation.slug} again.")
