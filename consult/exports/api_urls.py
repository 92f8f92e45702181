"""URLs of the read-only API, under /api/v1/."""

from django.urls import path

from consult.exports import api

app_name = "api"

urlpatterns = [
    path("openapi.json", api.schema, name="schema"),
    path("consultations/", api.consultations, name="consultations"),
    path("consultations/<slug:slug>/download/", api.download, name="download"),
]
