"""Welsh: Django's cy formats; the long date has no weekday (see consult/formats)."""

from django.conf.locale.cy.formats import *  # noqa: F403

DATE_FORMAT = "j F Y"  # '26 Tachwedd 2026'
