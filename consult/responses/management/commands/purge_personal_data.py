"""``manage.py purge_personal_data [--dry-run]``: apply the retention periods.

Deletes names, email addresses and organisation names of responses to consultations
closed longer than PERSONAL_DATA_RETENTION_DAYS (the anonymous answers stay), and drafts
never sent that nobody touched for DRAFT_RETENTION_DAYS, and supporting document files
that no response names (left by a crash between writing one and saving its row). Run it
daily (cron or a
scheduler); ``--dry-run`` reports what it would delete.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from consult.responses.services import personal_data_purge


class Command(BaseCommand):
    help = "Delete personal details and unsent drafts past their retention periods."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would be deleted; delete nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = personal_data_purge(now=timezone.now(), dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(
            f"{verb} the personal details of {result.personal_details} responses "
            f"(consultations closed over {settings.PERSONAL_DATA_RETENTION_DAYS} days ago) "
            f"and {result.drafts} drafts not sent (untouched for over "
            f"{settings.DRAFT_RETENTION_DAYS} days), and {result.orphan_files} supporting "
            "document files that no response names."
        )
