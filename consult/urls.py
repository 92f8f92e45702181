"""Top-level URLs: the public journey at the root, the Django admin for consultation admins."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("consult.responses.urls")),
]
