"""English as written in the UK: Django's en_GB formats, and GOV.UK's long date."""

from django.conf.locale.en_GB.formats import *  # noqa: F403

DATE_FORMAT = "l j F Y"  # 'Thursday 26 November 2026'
