"""Consultations app: what is asked (consultations, sections, questions, options)."""

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "consult.consultations"
    verbose_name = "Consultations"
