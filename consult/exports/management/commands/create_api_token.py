"""``manage.py create_api_token USERNAME --name NAME``: a token for the read-only API.

The token is printed once; only its SHA-256 is stored, so it cannot be shown again.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from consult.analysis.access import WORKSPACE_ROLES, has_role
from consult.exports.api import api_token_create


class Command(BaseCommand):
    help = "Make an API token for an analyst account and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="what the token is for, e.g. 'R scripts'")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active account is called {options['username']}.")
        if not has_role(user, *WORKSPACE_ROLES):
            raise CommandError(f"{options['username']} has no analyst or data controller role.")
        token = api_token_create(user=user, name=options["name"], now=timezone.now())
        self.stdout.write(token)
