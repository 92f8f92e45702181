"""Top-level URLs: the public journey at the root, the analysts' workspace, the Django admin."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers: no database, no session, no template (load balancers and the
    benchmarks' baseline)."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("consult.exports.api_urls")),
    path("analysis/", include("consult.exports.urls")),
    path("analysis/", include("consult.analysis.urls")),
    path("", include("consult.exports.public_urls")),
    path("", include("consult.responses.urls")),
]

# Error pages that never read the request body, which may be unreadable (see the views).
handler400 = "consult.responses.views.bad_request"
handler404 = "consult.responses.views.page_not_found"
