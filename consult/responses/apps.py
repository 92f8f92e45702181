"""Responses app: the public journey and what respondents give (responses, answers, details)."""

from django.apps import AppConfig


class ResponsesConfig(AppConfig):
    name = "consult.responses"
    verbose_name = "Responses"
