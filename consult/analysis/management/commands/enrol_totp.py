"""``manage.py enrol_totp USERNAME [--replace]``: set up (or replace) the authenticator
app an analyst signs in with. Prints the setup key once."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consult.analysis.services import totp_enrol, totp_setup_text


class Command(BaseCommand):
    help = "Set up two-factor sign-in (an authenticator app) for an analyst account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help="replace a lost or compromised device"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No account is called {options['username']}.")
        try:
            device = totp_enrol(user=user, replace=options["replace"])
        except ValidationError as error:
            raise CommandError(
                " ".join(error.messages) + " Use --replace to replace it."
            ) from error
        self.stdout.write(totp_setup_text(device))
