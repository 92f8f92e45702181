"""Hypothesis settings for the robustness tests, and running each example on its own data.

Hypothesis calls a test function many times (once per example) within one pytest test, so
pytest-django's function-scoped fixtures (``db``, ``consultation``, a draft made through
the journey) are set up once and shared by every example. ``rolled_back`` gives each
example the database exactly as the fixtures left it: the example runs in a savepoint
inside the test's transaction, and the savepoint is always rolled back.
``hypothesis.extra.django.TestCase`` would give the same isolation with a transaction per
example, but would turn the suite's pytest fixtures into ``setUpTestData``; the savepoint
keeps them. That sharing is deliberate, so the profile turns off Hypothesis's warning
about function-scoped fixtures.

The ``ci`` profile (the default) is derandomised, so every run tries the same examples and
a failure reproduces, and keeps no database of failing examples (the ``.hypothesis/``
cache Hypothesis still writes ignores itself in git). ``HYPOTHESIS_PROFILE=explore``
draws new random examples on each run, for looking for new failures by hand; keep any it
finds as an ``@example`` or a plain regression test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction
from hypothesis import HealthCheck, settings

_COMMON = {
    "database": None,
    "deadline": None,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}
settings.register_profile("ci", derandomize=True, print_blob=False, **_COMMON)
settings.register_profile("explore", derandomize=False, print_blob=True, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one example, then undo every write it made."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)
