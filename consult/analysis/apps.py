"""Analysis app: the analysts' workspace (results, cross-tabs, free text and its coding)."""

from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "consult.analysis"
    verbose_name = "Analysis"

    def ready(self) -> None:
        from consult.analysis.services import (
            campaigns_after_amendment,
            campaigns_after_withdrawal,
        )
        from consult.responses.signals import response_amended, response_withdrawn

        response_withdrawn.connect(campaigns_after_withdrawal, dispatch_uid="campaign-figures")
        response_amended.connect(campaigns_after_amendment, dispatch_uid="campaign-figures-amended")
