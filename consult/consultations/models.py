"""Consultations and their questions, loaded from reviewed definition files."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q


class Phase(models.TextChoices):
    UPCOMING = "upcoming", "Not yet open"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Consultation(models.Model):
    slug = models.SlugField(unique=True)
    reference_prefix = models.CharField(max_length=4)
    title = models.CharField(max_length=200)
    summary = models.TextField()
    body = models.TextField(help_text="Markdown")
    privacy_notice = models.TextField(help_text="Markdown")
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    definition_version = models.PositiveIntegerField(default=1)
    definition_sha256 = models.CharField(max_length=64)
    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text="The definition's translations, by language; what is missing is English",
    )
    results_published_at = models.DateTimeField(
        null=True, blank=True, help_text="When the results page was made public"
    )

    class Meta:
        ordering = ["closes_at", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="consultation_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def text(self, field: str, language: str) -> str:
        """``title``, ``summary``, ``body`` or ``privacy_notice`` in ``language``, or in
        the definition's own language where it has no translation."""
        return str(self.translations.get(language, {}).get(field) or getattr(self, field))

    def phase(self, now: datetime) -> Phase:
        if now < self.opens_at:
            return Phase.UPCOMING
        if now >= self.closes_at:
            return Phase.CLOSED
        return Phase.OPEN


class DefinitionVersion(models.Model):
    """Every definition text that was loaded, so a wording change can be traced.

    The file's dates are kept too: a reload applies them only when they changed in the
    file, so dates changed in the admin survive a wording fix.
    """

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="definition_versions"
    )
    version = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    source = models.TextField()
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["consultation", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "version"], name="definition_version_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation.slug} v{self.version}"


class Section(models.Model):
    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="sections"
    )
    key = models.SlugField()
    title = models.CharField(max_length=200)
    intro = models.TextField(blank=True, help_text="Markdown")
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["consultation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "key"], name="section_key_unique"),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionType(models.TextChoices):
    SINGLE_CHOICE = "single_choice", "Single choice"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    SCALE = "scale", "Ordered scale"
    MATRIX = "matrix", "Matrix"
    MATRIX_ROW = "matrix_row", "Matrix row"
    SHORT_TEXT = "short_text", "Short text"
    LONG_TEXT = "long_text", "Long text"
    EMAIL = "email", "Email address"
    SELECT = "select", "Select from a list"


# Questions with exactly one option per answer: conditions and filters use them.
SINGLE_ANSWER_TYPES = frozenset(
    {QuestionType.SINGLE_CHOICE, QuestionType.SCALE, QuestionType.SELECT, QuestionType.MATRIX_ROW}
)
CHOICE_TYPES = frozenset(
    {
        QuestionType.SINGLE_CHOICE,
        QuestionType.MULTIPLE_CHOICE,
        QuestionType.SCALE,
        QuestionType.MATRIX_ROW,
        QuestionType.SELECT,
    }
)


class PublicationChoice(models.TextChoices):
    """The option codes a ``publication`` question must use: exports act on them."""

    NAMED = "publish_named", "Publish with the name"
    ANONYMOUS = "publish_anonymous", "Publish without the name"
    NOT = "do_not_publish", "Do not publish"


class Profile(models.TextChoices):
    """Questions the service treats specially (see docs/definitions.md)."""

    RESPONDENT_TYPE = "respondent_type", "Respondent type"
    PUBLICATION = "publication", "Publication choice"
    NAME = "name", "Name"
    EMAIL = "email", "Email address"
    ORGANISATION_NAME = "organisation_name", "Organisation name"


class Question(models.Model):
    """A question; a matrix question's rows are questions too, with the matrix as parent."""

    consultation = models.ForeignKey(
        Consultation, on_delete=models.CASCADE, related_name="questions"
    )
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="rows"
    )
    key = models.CharField(max_length=100)
    type = models.CharField(max_length=20, choices=QuestionType.choices)
    text = models.TextField()
    hint = models.TextField(blank=True)
    error = models.CharField(max_length=300, blank=True)
    required = models.BooleanField(default=True)
    profile = models.CharField(max_length=20, choices=Profile.choices, blank=True)
    is_filter = models.BooleanField(
        default=False, help_text="Offered as a filter on every results view"
    )
    max_length = models.PositiveIntegerField(null=True, blank=True)
    max_choices = models.PositiveIntegerField(null=True, blank=True)
    condition_question = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="dependants"
    )
    condition_codes = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["consultation", "position"]
        constraints = [
            models.UniqueConstraint(fields=["consultation", "key"], name="question_key_unique"),
            models.UniqueConstraint(
                fields=["consultation", "profile"],
                condition=~Q(profile=""),
                name="question_profile_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class Option(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="options")
    code = models.CharField(max_length=100)
    label = models.CharField(max_length=300)
    hint = models.CharField(max_length=300, blank=True)
    value = models.IntegerField(null=True, blank=True, help_text="Position on a scale")
    exclusive = models.BooleanField(default=False)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["question", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="option_code_unique"),
        ]

    def __str__(self) -> str:
        return self.code
