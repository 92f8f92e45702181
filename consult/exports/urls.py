"""URLs of downloads, inside the analysts' workspace (/analysis/...)."""

from django.urls import path

from consult.exports import views

app_name = "exports"

urlpatterns = [
    path("downloads/log/", views.log, name="log"),
    path("downloads/log.csv", views.log_csv, name="log_csv"),
    path("<slug:slug>/downloads/", views.downloads, name="downloads"),
    path("<slug:slug>/downloads/file/", views.download, name="download"),
    path("<slug:slug>/report/", views.report, name="report"),
    path("<slug:slug>/report.docx", views.report_docx, name="report_docx"),
]
