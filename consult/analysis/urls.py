"""URLs of the analysts' workspace, all under /analysis/."""

from django.urls import path

from consult.analysis import entry_views, views

app_name = "analysis"

urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.SignOutView.as_view(), name="logout"),
    path("", views.index, name="index"),
    path("data-requests/", views.subject_requests, name="subject_requests"),
    path("data-requests/<str:reference>/", views.subject_request, name="subject_request"),
    path("data-requests/<str:reference>/export/", views.subject_export, name="subject_export"),
    path("data-requests/<str:reference>/erase/", views.subject_erase, name="subject_erase"),
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
    path("<slug:slug>/campaigns/", views.campaigns, name="campaigns"),
    path("<slug:slug>/campaigns/<int:pk>/", views.campaign, name="campaign"),
    path(
        "<slug:slug>/campaigns/<int:pk>/confirm/", views.campaign_confirm, name="campaign_confirm"
    ),
    path("<slug:slug>/campaigns/<int:pk>/rename/", views.campaign_rename, name="campaign_rename"),
    path(
        "<slug:slug>/campaigns/<int:pk>/versions/",
        views.campaign_variants,
        name="campaign_variants",
    ),
    path("<slug:slug>/documents/", views.documents, name="documents"),
    path(
        "<slug:slug>/documents/<str:reference>/",
        views.document_download,
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

# Theme suggestions (views.suggestions and after).
urlpatterns += [
    path("<slug:slug>/free-text/<str:key>/suggestions/", views.suggestions, name="suggestions"),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/run/",
        views.suggestions_request,
        name="suggestions_request",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/progress/",
        views.suggestions_progress,
        name="suggestions_progress",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/merge/",
        views.suggestions_merge,
        name="suggestions_merge",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/<int:suggestion_id>/accept/",
        views.suggestion_accept,
        name="suggestion_accept",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/<int:suggestion_id>/rename/",
        views.suggestion_rename,
        name="suggestion_rename",
    ),
    path(
        "<slug:slug>/free-text/<str:key>/suggestions/<int:suggestion_id>/reject/",
        views.suggestion_reject,
        name="suggestion_reject",
    ),
]
