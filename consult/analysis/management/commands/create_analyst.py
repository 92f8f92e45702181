"""``manage.py create_analyst USERNAME``: an account for the analysts' workspace.

The password is asked for twice at the prompt (never stored in code or shell history),
or read from the environment variable named by ``--password-env`` for scripted setups.
The account gets an authenticator-app device for two-factor sign-in; its setup key is
printed once.
"""

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from consult.analysis.services import analyst_create, totp_enrol, totp_setup_text


class Command(BaseCommand):
    help = (
        "Create an analyst account (add --data-controller to allow personal data, or "
        "--data-entry for an account that only keys in responses sent by post, email or phone)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        role = parser.add_mutually_exclusive_group()
        role.add_argument(
            "--data-controller",
            action="store_true",
            help="also a data controller: may see and download personal details",
        )
        role.add_argument(
            "--data-entry",
            action="store_true",
            help="only keys in responses received by post, email or phone; sees no results",
        )
        parser.add_argument(
            "--password-env",
            metavar="VARIABLE",
            help="read the password from this environment variable instead of prompting",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options["password_env"])
        try:
            user = analyst_create(
                username=options["username"],
                email=options["email"],
                password=password,
                data_controller=options["data_controller"],
                data_entry=options["data_entry"],
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        role = (
            "data controller"
            if options["data_controller"]
            else "data entry account"
            if options["data_entry"]
            else "analyst"
        )
        self.stdout.write(f"Created {role} {user.get_username()}.")
        self.stdout.write(totp_setup_text(totp_enrol(user=user)))
        self.stdout.write("Then sign in at /analysis/ with the password and the app's code.")

    def _password(self, variable: str | None) -> str:
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"The environment variable {variable} is empty or unset.")
            return password
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The passwords do not match.")
        return password
