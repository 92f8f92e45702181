"""Codebooks for free-text answers (themes per question, their assignments and who made
them) and the log of data subject requests."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from consult.audit import AppendOnlyModel, AppendOnlyQuerySet
from consult.consultations.models import Consultation, Question
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


class SubjectRequestAction(models.TextChoices):
    SEARCHED = "searched", "Searched for a reference"
    VIEWED = "viewed", "Viewed the response"
    EXPORTED = "exported", "Exported the response"
    ERASED = "erased", "Erased the response"


class SubjectRequestRecordQuerySet(AppendOnlyQuerySet["SubjectRequestRecord"]):
    pass


class SubjectRequestRecord(AppendOnlyModel):
    """Append-only record of a data controller's work on a data subject request: each
    search, view, export and erasure of one response, with the request it answered.

    It keeps the response's reference, which stays once the response is erased, so the
    log can show the erasure was done, but none of the response's content."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    action = models.CharField(max_length=10, choices=SubjectRequestAction.choices)
    reference = models.CharField(max_length=40)
    consultation = models.ForeignKey(
        Consultation,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty when no response had the reference searched for",
    )
    case = models.CharField(
        max_length=100, blank=True, help_text="The request's own reference, from its log"
    )
    sha256 = models.CharField(max_length=64, blank=True, help_text="Of the file exported")

    objects = SubjectRequestRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.reference}"
