"""Analysis app: the analysts' workspace (results, cross-tabs, free text and its coding)."""

from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "consult.analysis"
    verbose_name = "Analysis"
