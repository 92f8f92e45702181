"""``manage.py load_consultation PATH``: validate a definition file and load it."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from consult.consultations.definition import DefinitionError, translation_languages
from consult.consultations.services import consultation_load


class Command(BaseCommand):
    help = "Validate a consultation definition (YAML) and create or update the consultation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the definition file")

    def handle(self, *args: Any, path: Path, **options: Any) -> None:
        try:
            result = consultation_load(path=path, now=timezone.now())
        except DefinitionError as error:
            raise CommandError(str(error)) from error
        consultation = result.consultation
        for warning in result.warnings:
            self.stderr.write(
                self.style.WARNING(f"missing translation, shown in English: {warning}")
            )
        offered = translation_languages()
        for language in consultation.translations:
            if language not in offered:
                self.stderr.write(
                    self.style.WARNING(
                        f"translation into '{language}' not shown: the site does not offer "
                        "it (TRANSLATIONS)"
                    )
                )
        self.stdout.write(
            f"{consultation.slug}: {result.outcome} "
            f"(definition version {consultation.definition_version})"
        )
