"""URLs of published results, open to everyone."""

from django.urls import path

from consult.exports import views

app_name = "results"

urlpatterns = [
    path("c/<slug:slug>/results/", views.public_results, name="public"),
    path("c/<slug:slug>/results/publishable.csv", views.public_download, name="download"),
]
