"""Responses, their answers (one row per answer, so results are a GROUP BY), personal
details, and the running counts that let unfiltered results skip the GROUP BY."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy

from consult.audit import AppendOnlyModel, AppendOnlyQuerySet
from consult.consultations.models import Consultation, Option, Question
from consult.responses.storage import document_storage


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ResponseChannel(models.TextChoices):
    """How a response reached us: through the site, or keyed in by staff on the
    respondent's behalf from a letter, an email or a phone call."""

    ONLINE = "online", "Online"
    POST = "post", "Post"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"


class ResponseQuerySet(models.QuerySet["Response"]):
    def counted(self) -> ResponseQuerySet:
        """Responses that count in results: submitted and not withdrawn."""
        return self.filter(status=ResponseStatus.SUBMITTED)


class Response(models.Model):
    # An ascending integer key: every answer row carries it, so it keeps the answer
    # indexes small and their inserts at the end (a random UUID slowed bulk loads to a
    # crawl at a million responses). Nothing shows it: people see only the reference.
    reference = models.CharField(max_length=20, unique=True)
    consultation = models.ForeignKey(
        Consultation, on_delete=models.PROTECT, related_name="responses"
    )
    status = models.CharField(
        max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT
    )
    definition_version = models.PositiveIntegerField()
    language = models.CharField(max_length=10, default="en")
    # A default in the database too: bulk loads insert responses with SQL of their own.
    channel = models.CharField(
        max_length=10,
        choices=ResponseChannel.choices,
        default=ResponseChannel.ONLINE,
        db_default=ResponseChannel.ONLINE,
    )
    respondent_type = models.CharField(max_length=60, blank=True, help_text="Option code")
    publication = models.CharField(max_length=60, blank=True, help_text="Option code")
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["consultation", "status", "submitted_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ResponseStatus.DRAFT, submitted_at__isnull=True)
                | Q(status=ResponseStatus.SUBMITTED, submitted_at__isnull=False)
                | Q(status=ResponseStatus.WITHDRAWN, submitted_at__isnull=False),
                name="response_submitted_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status=ResponseStatus.WITHDRAWN, withdrawn_at__isnull=False)
                | (~Q(status=ResponseStatus.WITHDRAWN) & Q(withdrawn_at__isnull=True)),
                name="response_withdrawn_at_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(channel__in=ResponseChannel.values), name="response_channel_known"
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class Respondent(models.Model):
    """Personal details, kept apart from answers so they can be excluded, restricted and purged."""

    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, primary_key=True, related_name="respondent"
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    organisation_name = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"Respondent to {self.response_id}"


class AmendmentQuerySet(AppendOnlyQuerySet["Amendment"]):
    pass


class Amendment(AppendOnlyModel):
    """Append-only record of one change a respondent made to a sent response: when, which
    questions' answers changed, and what they were before (the answers now stored are the
    latest version). Earlier personal details are not kept: ``previous`` holds None for
    them, so that retention and erasure reach every copy."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="amendments")
    at = models.DateTimeField()
    changed_keys = models.JSONField(help_text="Question keys whose answers changed")
    previous = models.JSONField(
        help_text="Each changed key's answer before the change: option codes, text or null"
    )

    objects = AmendmentQuerySet.as_manager()

    class Meta:
        ordering = ["response", "at", "pk"]

    def __str__(self) -> str:
        return f"Amendment of {self.response_id} at {self.at:%Y-%m-%d %H:%M}"


class Answer(models.Model):
    """One answer: a chosen option (a multiple choice gives one row per option) or some text."""

    # No index of their own: the indexes below start with response and with question,
    # and an option is deleted only before any answer exists (the loader refuses later).
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", db_index=False
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", db_index=False
    )
    option = models.ForeignKey(
        Option,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="answers",
        db_index=False,
    )
    # NULL, not "", marks an option answer: the check constraint below relies on it.
    text = models.TextField(null=True, blank=True)  # noqa: DJ001

    class Meta:
        indexes = [models.Index(fields=["question", "option"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(option__isnull=False, text__isnull=True)
                | Q(option__isnull=True, text__isnull=False),
                name="answer_is_option_or_text",
            ),
            # Not partial, so it also serves every lookup by response; a text answer's
            # NULL option never collides, and the next constraint covers text answers.
            models.UniqueConstraint(
                fields=["response", "question", "option"], name="answer_option_once"
            ),
            models.UniqueConstraint(
                fields=["response", "question"],
                condition=Q(option__isnull=True),
                name="answer_text_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.option_id or self.text}"


# Running counts of the responses that count (submitted, not withdrawn). A million
# responses hold tens of millions of answers, too many to group on every visit to the
# dashboard; these few hundred rows give the unfiltered results at once. They change in
# the same transaction as a response's status (services.tallies_add), and
# ``manage.py rebuild_tallies`` makes them again from the answers.


class OptionTally(models.Model):
    """How many counted responses chose the option in answer to the question (the rows of a
    matrix share its options, so the option alone is not enough)."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    option = models.ForeignKey(Option, on_delete=models.CASCADE, related_name="+")
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "option"], name="option_tally_once")
        ]

    def __str__(self) -> str:
        return f"question {self.question_id}, option {self.option_id}: {self.n}"


class QuestionTally(models.Model):
    """How many counted responses answered the question (for a multiple-choice or text
    question, not the sum of its options' counts)."""

    question = models.OneToOneField(
        Question, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    n = models.BigIntegerField()

    def __str__(self) -> str:
        return f"question {self.question_id}: {self.n}"


class DayTally(models.Model):
    """How many counted responses were sent on the day (UK time)."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    n = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["consultation", "day"], name="day_tally_once")
        ]

    def __str__(self) -> str:
        return f"{self.day}: {self.n}"


class DocumentKind(models.TextChoices):
    """What a supporting document is, from its content; the value is its file extension."""

    # Shown to respondents in the page's language.
    PDF = "pdf", "PDF"
    DOCX = "docx", gettext_lazy("Word document (DOCX)")
    ODT = "odt", gettext_lazy("OpenDocument text (ODT)")


class Document(models.Model):
    """A supporting document an organisation attached to its response: the file in the
    private storage under a random name, and its text for the analysts' search."""

    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, primary_key=True, related_name="document"
    )
    file = models.FileField(storage=document_storage, max_length=100)
    original_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    text = models.TextField(blank=True)
    uploaded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(size__gt=0), name="document_not_empty"),
            models.CheckConstraint(
                condition=Q(kind__in=DocumentKind.values), name="document_kind_known"
            ),
            models.UniqueConstraint(fields=["file"], name="document_file_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.response_id})"

    @property
    def download_name(self) -> str:
        """The name it is downloaded under: the reference, never the respondent's name."""
        return f"{self.response.reference}.{self.kind}"
