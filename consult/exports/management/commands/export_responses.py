"""``manage.py export_responses SLUG --format csv --variant anonymised --user NAME``.

The same downloads as the workspace, for scripts: the named account's role decides which
variants it may take, and the download is recorded in the audit log under that account.
"""

import sys
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from consult.analysis.queries import Filters
from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec
from consult.exports.models import Channel, Variant
from consult.exports.services import FORMATS, download_make


class Command(BaseCommand):
    help = "Download a consultation's responses in one of the workspace's formats."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug")
        parser.add_argument("--format", choices=sorted(FORMATS), default="csv")
        parser.add_argument("--variant", choices=Variant.values, default=Variant.ANONYMISED)
        parser.add_argument(
            "--user", required=True, help="the analyst account the download is made as"
        )
        parser.add_argument(
            "--output", type=Path, help="file to write (default: the standard output)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        consultation = Consultation.objects.filter(slug=options["slug"]).first()
        if consultation is None:
            raise CommandError(f"No consultation has the slug {options['slug']}.")
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active account is called {options['user']}.")
        try:
            made = download_make(
                user=user,
                consultation=consultation,
                spec=consultation_spec(consultation),
                format_key=options["format"],
                variant=options["variant"],
                filters=Filters(),
                channel=Channel.COMMAND,
                now=timezone.now(),
            )
        except PermissionDenied as error:
            raise CommandError(str(error)) from error
        output = options["output"]
        if output is None:
            for chunk in made.chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
            return
        with output.open("wb") as target:
            for chunk in made.chunks:
                target.write(chunk)
        self.stderr.write(f"Wrote {made.filename} to {output}.")
