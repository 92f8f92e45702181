"""Exports app: downloads of responses in the formats analysts use, and their audit log."""

from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "consult.exports"
    verbose_name = "Exports"
