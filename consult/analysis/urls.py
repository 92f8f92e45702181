"""URLs of the analysts' workspace, all under /analysis/."""

from django.urls import path

from consult.analysis import (
    campaign_views,
    document_views,
    entry_views,
    subject_views,
    suggestion_views,
    views,
)

app_name = "analysis"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("", views.index, name="index"),
    path("data-requests/", subject_views.subject_requests, name="subject_requests"),
    path("data-requests/<str:reference>/", subject_views.subject_request, name="subject_request"),
    path(
        "data-requests/<str:reference>/export/",
        subject_views.subject_export,
        name="subject_export",
    ),
    path("data-requests/<str:reference>/erase/", subject_views.subject_erase, name="subject_erase"),
    path("enter/", entry_views.entry_index, name="entry_index"),
    path("<slug:slug>/", views.dashboard, name="dashboard"),
    path("<slug:slug>/enter/", entry_views.entry_start, name="entry_start"),
    path(
        "<slug:slug>/enter/section/<slug:section_key>/",
        entry_views.entry_section,
        name="entry_section",
    ),
    path("<slug:slug>/enter/check/", entry_views.entry_check, name="entry_check"),
    path("<slug:slug>/cross-tabulation/", views.crosstab, name="crosstab"),
    path("<slug:slug>/campaigns/", campaign_views.campaigns, name="campaigns"),
    path("<slug:slug>/campaigns/<int:pk>/", campaign_views.campaign, name="campaign"),
    path(
        "<slug:slug>/campaigns/<int:pk>/confirm/",
        campaign_views.campaign_confirm,
        name="campaign_confirm",
    ),
    path(
        "<slug:slug>/campaigns/<int:pk>/rename/",
        campaign_views.campaign_rename,
        name="campaign_rename",
    ),
    path(
        "<slug:slug>/campaigns/<int:pk>/versions/",
        campaign_views.campaign_variants,
        name="campaign_variants",
    ),
    path("<slug:slug>/documents/", document_views.documents, name="documents"),
    path(
        "<slug:slug>/documents/<str:reference>/",
        document_views.document_download,
        name="document_download",
    ),
    path("<slug:slug>/free-text/<str:key>/", views.free_text, name="free_text"),
    path("<slug:slug>/free-text/<str:key>/themes/", views.theme_add, name="theme_add"),
    path(
        "<slug:slug>/free-text/<str:key>/answers/<int:answer_id>/themes/",
        views.answer_code,
        name="answer_code",
    ),
]

# Theme suggestions (suggestion_views.suggestions and after).
urlpatterns += [
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/",
        suggestion_views.suggestions,
        name="suggestions",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/run/",
        suggestion_views.suggestions_request,
        name="suggestions_request",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/progress/",
        suggestion_views.suggestions_progress,
        name="suggestions_progress",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/merge/",
        suggestion_views.suggestions_merge,
        name="suggestions_merge",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/<int:suggestion_id>/accept/",
        suggestion_views.suggestion_accept,
        name="suggestion_accept",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/<int:suggestion_id>/rename/",
        suggestion_views.suggestion_rename,
        name="suggestion_rename",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/<int:suggestion_id>/reject/",
        suggestion_views.suggestion_reject,
        name="suggestion_reject",
    ),
]
