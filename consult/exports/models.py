"""The download audit log: who took which data, when, and exactly what they received."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from consult.audit import AppendOnlyModel, AppendOnlyQuerySet
from consult.consultations.models import Consultation


class Variant(models.TextChoices):
    """Which responses and which details a download holds (see docs/exports.md)."""

    PUBLISHABLE = "publishable", "Publishable"
    ANONYMISED = "anonymised", "Anonymised"
    FULL = "full", "Full, with personal details"


class Channel(models.TextChoices):
    WORKSPACE = "workspace", "Workspace"
    COMMAND = "command", "Command line"
    API = "api", "API"
    PUBLIC = "public", "Published results"


class DownloadRecordQuerySet(AppendOnlyQuerySet["DownloadRecord"]):
    pass


class DownloadRecord(AppendOnlyModel):
    """One download, written as its last bytes are sent: append-only."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="downloads",
        null=True,
        blank=True,
        help_text="Empty for the public download of published results",
    )
    at = models.DateTimeField()
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="downloads"
    )
    format = models.CharField(max_length=20)
    variant = models.CharField(max_length=20, choices=Variant.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    filters = models.JSONField(default=dict)
    filename = models.CharField(max_length=200)
    row_count = models.PositiveIntegerField()
    byte_count = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    complete = models.BooleanField(help_text="False when the download stopped part-way")

    objects = DownloadRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return self.filename


class ApiToken(models.Model):
    """A secret that lets a script download as its analyst. Only its SHA-256 is stored:
    the token itself is shown once, when it is made."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    key_sha256 = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"
