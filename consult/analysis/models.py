"""Codebooks for free-text answers: themes per question, their assignments and who made them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from consult.consultations.models import Question
from consult.responses.models import Answer


class Role(models.TextChoices):
    """Django groups that open the workspace; a data controller can also see personal data."""

    ANALYST = "analyst", "Analyst"
    DATA_CONTROLLER = "data_controller", "Data controller"


class Theme(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["question", "name"]
        constraints = [
            models.UniqueConstraint(fields=["question", "name"], name="theme_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class AnswerTheme(models.Model):
    """A theme assigned to a free-text answer."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="themes")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="assignments")
    coded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    coded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "theme"], name="answer_theme_once"),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} → {self.theme_id}"


class CodingAction(models.TextChoices):
    ADDED = "added", "Added"
    REMOVED = "removed", "Removed"


class CodingEvent(models.Model):
    """Append-only record of every coding change: who added or removed which theme, when."""

    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="+")
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=CodingAction.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.theme_id} on {self.answer_id}"
