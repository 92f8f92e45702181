"""Run in a load-test server's environment: create the tables, load the built-in
consultation and open it now, whatever today's date (as tests/conftest.py does)."""

import sys
from datetime import timedelta
from pathlib import Path

import django


def main(definition: Path) -> None:
    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from consult.consultations.services import consultation_load

    call_command("migrate", interactive=False, verbosity=0)
    consultation = consultation_load(path=definition, now=timezone.now()).consultation
    now = timezone.now()
    consultation.opens_at = now - timedelta(days=7)
    consultation.closes_at = now + timedelta(days=30)
    consultation.save(update_fields=["opens_at", "closes_at"])


if __name__ == "__main__":
    main(Path(sys.argv[1]))
