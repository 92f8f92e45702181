"""Codebooks for free-text answers (themes per question, their assignments and who made
them) and the log of data subject requests."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, Max, Min

from consult.audit import AppendOnlyModel, AppendOnlyQuerySet
from consult.consultations.models import Consultation, Question
from consult.responses.models import Answer, Response, ResponseStatus


class Role(models.TextChoices):
    """Django groups: analysts and data controllers open the workspace, and a data
    controller can also see personal data; data entry staff only key in responses received
    by post, email or phone (so can data controllers). Migrations create the groups:
    analysis 0002 the first two, responses 0003 data entry."""

    ANALYST = "analyst", "Analyst"
    DATA_CONTROLLER = "data_controller", "Data controller"
    DATA_ENTRY = "data_entry", "Data entry"


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
    suggested = models.BooleanField(
        default=False, help_text="Assigned by accepting a theme suggestion, not by hand"
    )
    reviewed = models.BooleanField(
        default=True, help_text="False until an analyst saves the answer's themes"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "theme"], name="answer_theme_once"),
            # Only a suggested assignment can wait for review: one made by hand is reviewed.
            models.CheckConstraint(
                condition=models.Q(reviewed=True) | models.Q(suggested=True),
                name="answer_theme_unreviewed_is_suggested",
            ),
        ]
        indexes = [
            models.Index(
                fields=["theme"],
                condition=models.Q(reviewed=False),
                name="answer_theme_unreviewed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} → {self.theme_id}"


class CodingAction(models.TextChoices):
    ADDED = "added", "Added"
    REMOVED = "removed", "Removed"
    SUGGESTED = "suggested", "Added by accepting a suggestion"
    REVIEWED = "reviewed", "Kept a suggested theme"


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


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def figures_refresh(self, *, now: datetime) -> None:
        """Set the campaigns' figures from their members whose responses count (sent, not
        withdrawn): two grouped queries. A campaign left with no such member is deleted."""
        counted = CampaignMember.objects.filter(
            campaign__in=self, response__status=ResponseStatus.SUBMITTED
        )
        figures = {
            row["campaign"]: row
            for row in counted.values("campaign")
            .annotate(
                size=Count("pk"),
                first=Min("response__submitted_at"),
                last=Max("response__submitted_at"),
                mean=Avg("similarity"),
                low=Min("similarity"),
            )
            .order_by()
        }
        first_sent = (
            counted.filter(campaign=models.OuterRef("pk"))
            .order_by("response__submitted_at", "response_id")
            .values("response_id")[:1]
        )
        campaigns, emptied = [], []
        for campaign in self.annotate(first_sent=models.Subquery(first_sent)).order_by("pk"):
            row = figures.get(campaign.pk)
            if row is None:
                emptied.append(campaign.pk)
                continue
            campaign.size = row["size"]
            campaign.first_submitted_at, campaign.last_submitted_at = row["first"], row["last"]
            # The mean of equal floats can land a rounding below them.
            campaign.similarity_min = row["low"]
            campaign.similarity_mean = min(max(row["mean"], row["low"]), 1.0)
            campaign.kept_response_id = campaign.first_sent  # type: ignore[attr-defined]
            campaign.updated_at = now
            campaigns.append(campaign)
        fields = [
            "size",
            "first_submitted_at",
            "last_submitted_at",
            "similarity_mean",
            "similarity_min",
            "kept_response",
            "updated_at",
        ]
        self.model.objects.bulk_update(campaigns, fields, batch_size=500)
        if emptied:
            self.model.objects.filter(pk__in=emptied).delete()


class Campaign(models.Model):
    """Identical or near-identical answers to one open question, as an organised campaign
    sends them: counted and reported apart from the rest (``consult.analysis.campaigns``).

    The figures (size, first and last submission, similarity of the members to the
    representative) are kept from the members by ``figures_refresh``: after each detection
    run and each erasure of a member's response."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="campaigns"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=100)
    representative = models.TextField(help_text="The members' most common text, as sent")
    fingerprint = models.CharField(
        max_length=32, help_text="BLAKE2b of the representative's normalised text (hex)"
    )
    size = models.PositiveIntegerField(default=0)
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    last_submitted_at = models.DateTimeField(null=True, blank=True)
    similarity_mean = models.FloatField(default=1.0)
    similarity_min = models.FloatField(default=1.0)
    confirmed = models.BooleanField(
        default=False,
        help_text="An analyst checked it: only confirmed campaigns change the results views",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    kept_response = models.ForeignKey(
        Response,
        on_delete=models.SET_NULL,
        related_name="+",
        null=True,
        blank=True,
        help_text="The response that stands for the campaign when campaigns are counted "
        "once: its first member sent",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["question", "-size", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "fingerprint"], name="campaign_representative_once"
            ),
            models.CheckConstraint(
                condition=models.Q(similarity_min__gte=0)
                & models.Q(similarity_min__lte=models.F("similarity_mean"))
                & models.Q(similarity_mean__lte=1),
                name="campaign_similarity_range",
            ),
            models.CheckConstraint(
                condition=models.Q(confirmed=False)
                | models.Q(confirmed_by__isnull=False, confirmed_at__isnull=False),
                name="campaign_confirmed_by_whom",
            ),
            models.CheckConstraint(
                condition=models.Q(first_submitted_at__lte=models.F("last_submitted_at"))
                | models.Q(first_submitted_at__isnull=True, last_submitted_at__isnull=True),
                name="campaign_first_before_last",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignMember(models.Model):
    """An answer that belongs to a campaign; one campaign at most per answer."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="campaign_member")
    response = models.ForeignKey(
        Response,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The answer's, kept here so that the results views and downloads find a "
        "response's campaigns by an index of their own",
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    similarity = models.FloatField(
        help_text="Jaccard similarity of its word 3-grams to the representative's, 0 to 1"
    )
    fingerprint = models.CharField(
        max_length=32, help_text="BLAKE2b of the answer's normalised text (hex): its variant"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(similarity__gte=0, similarity__lte=1),
                name="campaign_member_similarity_range",
            ),
        ]
        indexes = [models.Index(fields=["campaign", "fingerprint"])]

    def __str__(self) -> str:
        return f"{self.answer_id} in {self.campaign_id}"


class CampaignRelease(models.Model):
    """An answer an analyst took out of a campaign: detection leaves it out from then on,
    rebuilds included, so their judgement is not undone by the next run."""

    answer = models.OneToOneField(Answer, on_delete=models.CASCADE, related_name="campaign_release")
    campaign_name = models.CharField(max_length=100, help_text="The campaign it was taken from")
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.answer_id} taken out of {self.campaign_name}"


class CampaignScan(models.Model):
    """How far campaign detection has looked at a question's answers: the answers of
    responses up to ``last_response_id`` that were sent by ``checked_until`` were compared
    with the campaigns; a later run compares only the others."""

    question = models.OneToOneField(
        Question, on_delete=models.CASCADE, related_name="campaign_scan"
    )
    last_response_id = models.BigIntegerField()
    checked_until = models.DateTimeField()
    scanned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.question_id} checked until {self.checked_until}"


# Theme suggestions ----------------------------------------------------------------------


class SuggestionRunStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_RUN = (SuggestionRunStatus.QUEUED, SuggestionRunStatus.RUNNING)


class SuggestionRun(models.Model):
    """One run of theme suggestion over an open question's answers
    (``consult.analysis.themes``): asked for from the workspace (then run by the task
    worker) or by ``manage.py suggest_themes``. ``done`` of ``total`` answers is its
    progress, written as it goes so the page can show it."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    themes = models.PositiveSmallIntegerField(help_text="How many themes were asked for")
    status = models.CharField(
        max_length=10, choices=SuggestionRunStatus.choices, default=SuggestionRunStatus.QUEUED
    )
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(
        default=0, help_text="Answers left out because they belong to a campaign"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="Empty when run by the suggest_themes command",
    )
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(help_text="Last change of status or progress")
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One run at a time per question: a second would only repeat the first.
            models.UniqueConstraint(
                fields=["question"],
                condition=models.Q(status__in=ACTIVE_RUN),
                name="suggestion_run_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="suggestion_run_done_le_total"
            ),
            models.CheckConstraint(
                condition=models.Q(themes__gte=2, themes__lte=30),
                name="suggestion_run_themes_range",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ACTIVE_RUN, finished_at__isnull=True)
                | models.Q(
                    status__in=[SuggestionRunStatus.DONE, SuggestionRunStatus.FAILED],
                    finished_at__isnull=False,
                ),
                name="suggestion_run_finished_when_over",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} {self.status} {self.done}/{self.total}"

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_RUN


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    MERGED = "merged", "Merged"


class ThemeSuggestion(models.Model):
    """A theme the engine suggests: its top terms and a name made from them. It changes
    nothing until an analyst accepts it (then it is a codebook ``Theme``), merges it
    into another suggestion or rejects it."""

    run = models.ForeignKey(SuggestionRun, on_delete=models.CASCADE, related_name="suggestions")
    number = models.PositiveSmallIntegerField(help_text="The engine's component, from 0")
    name = models.CharField(max_length=100)
    terms = models.JSONField(help_text="Top terms, strongest first")
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="merged"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="suggestion_number_once"),
            models.CheckConstraint(
                condition=models.Q(theme__isnull=True) | models.Q(status=SuggestionStatus.ACCEPTED),
                name="suggestion_theme_only_if_accepted",
            ),
            models.CheckConstraint(
                condition=models.Q(status=SuggestionStatus.MERGED, merged_into__isnull=False)
                | (~models.Q(status=SuggestionStatus.MERGED) & models.Q(merged_into__isnull=True)),
                name="suggestion_merged_into_when_merged",
            ),
            models.CheckConstraint(
                condition=models.Q(status=SuggestionStatus.PENDING, decided_at__isnull=True)
                | (~models.Q(status=SuggestionStatus.PENDING) & models.Q(decided_at__isnull=False)),
                name="suggestion_decided_unless_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SuggestedAnswer(models.Model):
    """An answer whose strongest theme is the suggestion's; ``weight`` is that theme's
    share of the answer's theme weights (0 to 1). The strongest few are its quotes."""

    suggestion = models.ForeignKey(
        ThemeSuggestion, on_delete=models.CASCADE, related_name="answers"
    )
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="+")
    weight = models.FloatField()
    quote = models.BooleanField(default=False, help_text="Shown as a representative quote")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["suggestion", "answer"], name="suggested_answer_once"),
            models.CheckConstraint(
                condition=models.Q(weight__gte=0, weight__lte=1),
                name="suggested_answer_weight_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.answer_id} in {self.suggestion_id}"
