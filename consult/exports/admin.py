"""The download log in the Django admin: readable by admins, never changed or deleted."""

from django.contrib import admin

from consult.consultations.admin import ReadOnlyAdmin
from consult.exports.models import DownloadRecord


@admin.register(DownloadRecord)
class DownloadRecordAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "consultation", "format", "variant", "row_count", "complete"]
    list_filter = ["consultation", "variant", "format", "channel"]
    search_fields = ["user__username", "filename", "sha256"]
