"""Django admin: consultation dates can change here; wording only through a definition file."""

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from consult.consultations.models import Consultation, DefinitionVersion, Question, Section


class SectionInline(admin.TabularInline):
    model = Section
    fields = ["position", "key", "title"]
    readonly_fields = ["position", "key", "title"]
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "opens_at", "closes_at", "definition_version"]
    search_fields = ["title", "slug"]
    fields = [
        "title",
        "slug",
        "reference_prefix",
        "opens_at",
        "closes_at",
        "definition_version",
        "definition_sha256",
        "results_published_at",
    ]
    readonly_fields = [
        "results_published_at",
        "title",
        "slug",
        "reference_prefix",
        "definition_version",
        "definition_sha256",
    ]
    inlines = [SectionInline]
    actions = ["publish_results", "withdraw_results"]

    @admin.action(description="Publish the results of the selected closed consultations")
    def publish_results(self, request: HttpRequest, queryset: QuerySet[Consultation]) -> None:
        now = timezone.now()
        closed = queryset.filter(closes_at__lte=now, results_published_at__isnull=True)
        published = closed.update(results_published_at=now)
        skipped = queryset.count() - published
        self.message_user(request, f"Published the results of {published} consultation(s).")
        if skipped:
            self.message_user(
                request,
                f"{skipped} not published: still open, or already published.",
                level=messages.WARNING,
            )

    @admin.action(description="Take down the published results of the selected consultations")
    def withdraw_results(self, request: HttpRequest, queryset: QuerySet[Consultation]) -> None:
        count = queryset.update(results_published_at=None)
        self.message_user(request, f"Took down the results of {count} consultation(s).")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # consultations are created from reviewed definition files


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only a definition file may write."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ["key", "type", "section", "required", "consultation"]
    list_filter = ["consultation", "type"]
    search_fields = ["key", "text"]


@admin.register(DefinitionVersion)
class DefinitionVersionAdmin(ReadOnlyAdmin):
    list_display = ["consultation", "version", "loaded_at", "sha256"]
    list_filter = ["consultation"]
    search_fields = ["sha256"]
