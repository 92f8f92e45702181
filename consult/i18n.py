"""The language of each request: the public journey in the respondent's chosen language.

The choice is a cookie, set by following a language switch link: the page's own address
with ``?lang=<code>``, which sets the cookie and redirects to the same address without
it. So the switch keeps the respondent's place (the same page) and their answers (drafts
are saved on the server as they go), works without JavaScript, and every page has one
address whatever the language. Browsers' Accept-Language is not consulted: a page never
changes language unless the respondent asks.

Only the public journey is translated; the analysts' workspace, the admin and the API
are always in the default language, whatever the cookie says. That holds for their error
pages too, including a 404 or a 500 that comes before any view is chosen: the language is
settled from the address first (``may_be_translated``), then from the view's namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import URLResolver, get_resolver
from django.utils import translation
from django.utils.cache import patch_vary_headers

SWITCH_PARAMETER = "lang"
# URL namespaces whose pages are translated: the public journey and the published results.
TRANSLATED_NAMESPACES = frozenset({"responses", "results"})


def offered_languages() -> dict[str, str]:
    return dict(settings.LANGUAGES)


def chosen_language(request: HttpRequest) -> str:
    """The language in the respondent's cookie, if offered; otherwise the default."""
    code = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return code if code in offered_languages() else settings.LANGUAGE_CODE


def switch_url(request: HttpRequest, code: str) -> str:
    """This page's address, asking for it in ``code``."""
    query = request.GET.copy()
    query[SWITCH_PARAMETER] = code
    return f"{request.path}?{query.urlencode()}"


def is_translated(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and match.namespace in TRANSLATED_NAMESPACES


def may_be_translated(path: str) -> bool:
    """False for an address under the prefix of an untranslated part of the site
    (``/analysis/``, ``/admin/``, ``/api/v1/``), whether or not a page is there."""
    return not any(
        path.startswith(f"/{entry.pattern}")
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver)
        and str(entry.pattern)
        and entry.namespace not in TRANSLATED_NAMESPACES
    )


class LanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        asked = request.GET.get(SWITCH_PARAMETER)
        if request.method in {"GET", "HEAD"} and asked is not None:
            return self._switch(request, asked)
        translation.activate(
            chosen_language(request)
            if may_be_translated(request.path_info)
            else settings.LANGUAGE_CODE
        )
        request.LANGUAGE_CODE = translation.get_language()
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", translation.get_language())
        finally:
            # The thread's next work (another request, a task, a test) starts in the
            # default language, not in this respondent's.
            translation.deactivate()
        patch_vary_headers(response, ["Cookie"])
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        if not is_translated(request):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE

    def _switch(self, request: HttpRequest, asked: str) -> HttpResponseRedirect:
        rest = [
            (key, value)
            for key, values in request.GET.lists()
            if key != SWITCH_PARAMETER
            for value in values
        ]
        # One leading slash: "//host/..." would leave the site.
        path = "/" + request.path.lstrip("/")
        response = HttpResponseRedirect(path + (f"?{urlencode(rest)}" if rest else ""))
        if asked in offered_languages():
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                asked,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite="Lax",
            )
        return response
