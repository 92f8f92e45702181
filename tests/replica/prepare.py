"""Run in the replica test's server environment, on the primary: the tables, the built-in
consultation open now (as for the load tests), and analysts made with ``create_analyst``
as the README shows. Prints each analyst's authenticator setup key as JSON."""

import io
import json
import re
import sys
from pathlib import Path

from tests.load import prepare


def main(definition: Path, usernames: list[str]) -> None:
    prepare.main(definition)
    from django.core.management import call_command

    keys = {}
    for username in usernames:
        printed = io.StringIO()
        call_command("create_analyst", username, password_env="ANALYST_PASSWORD", stdout=printed)
        found = re.search(r"setup key: ([A-Z2-7=]+)", printed.getvalue())
        assert found is not None, printed.getvalue()
        keys[username] = found.group(1)
    sys.stdout.write(json.dumps(keys))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2:])
