"""gzip for the public pages' HTML, and for nothing else (docs/frontend.md, "Page weight")."""

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware

# URL namespaces of the pages anyone can open: the journey and the published results.
PUBLIC_NAMESPACES = frozenset({"responses", "results"})


class PublicPageGZipMiddleware(GZipMiddleware):
    """Django's GZipMiddleware (with its random padding against BREACH), for the public
    pages and the error pages only.

    The analysts' workspace, the admin and the API are left uncompressed: their pages
    put text anyone can write (free-text answers, filters read from the address) beside
    what an attacker would want to read, the pattern BREACH exploits. Streamed responses
    (downloads) are left alone too: several formats are compressed already, and gzip
    would cost the server time on every row of a large file.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        match = request.resolver_match
        if response.streaming or (match is not None and match.namespace not in PUBLIC_NAMESPACES):
            return response
        return super().process_response(request, response)
