"""URLs of the public journey."""

from django.urls import path

from consult.responses import views

app_name = "responses"

urlpatterns = [
    path("", views.home, name="home"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("c/<slug:slug>/", views.start, name="start"),
    path("c/<slug:slug>/privacy/", views.privacy, name="privacy"),
    path("c/<slug:slug>/section/<slug:section_key>/", views.section, name="section"),
    path("c/<slug:slug>/supporting-document/", views.document, name="document"),
    path(
        "c/<slug:slug>/supporting-document/remove/",
        views.document_remove,
        name="document_remove",
    ),
    path("c/<slug:slug>/check-your-answers/", views.check_answers, name="check"),
    path("c/<slug:slug>/confirmation/", views.confirmation, name="confirmation"),
    path("c/<slug:slug>/start-again/", views.start_again, name="start_again"),
    path("receipt/<str:token>/", views.receipt, name="receipt"),
    path("receipt/<str:token>/withdraw/", views.withdraw, name="withdraw"),
    path("receipt/<str:token>/change/", views.amend, name="amend"),
    path(
        "receipt/<str:token>/change/<slug:section_key>/",
        views.amend_section,
        name="amend_section",
    ),
]
