"""Template helpers of the workspace: safe highlighting, heat-map shades, filter links."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from consult.analysis.access import WORKSPACE_ROLES, has_role
from consult.consultations.queries import ConsultationSpec

register = template.Library()


@register.filter
def highlight(text: str, terms: list[str]) -> SafeString:
    """The text, escaped, with every search term wrapped in <mark>.

    The text is split on the terms first and each piece escaped on its own, so no part of
    an answer is ever output unescaped.
    """
    if not terms:
        return escape(text)
    pattern = re.compile("(" + "|".join(re.escape(term) for term in terms) + ")", re.IGNORECASE)
    pieces = pattern.split(text)
    html = "".join(
        f"<mark>{escape(piece)}</mark>" if index % 2 else escape(piece)
        for index, piece in enumerate(pieces)
    )
    return mark_safe(html)  # noqa: S308 - every piece escaped above  # nosec B308 B703


@register.filter
def heat(percent: float | None) -> int:
    """One of five shades for a heat-map cell: 0 under 15%, then one per 15 points, 4 from 60%."""
    if percent is None:
        return 0
    return min(4, int(percent // 15))


@register.simple_tag
def with_filter(request: HttpRequest, key: str, code: str) -> str:
    """The current query string with one more answer filter (and back to page one)."""
    query = request.GET.copy()
    value = f"{key}:{code}"
    if value not in query.getlist("a"):
        query.appendlist("a", value)
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag
def without_filter(request: HttpRequest, name: str, value: str = "") -> str:
    """The current query string without one filter value (or without parameter ``name``)."""
    query = request.GET.copy()
    if value:
        query.setlist(name, [v for v in query.getlist(name) if v != value])
    else:
        query.pop(name, None)
    query.pop("page", None)
    return "?" + query.urlencode()


@register.filter
def filter_label(value: str, spec: ConsultationSpec) -> str:
    """A filter value such as ``region:wales`` in words: "Where do you live?: Wales"."""
    key, _, code = value.partition(":")
    question = spec.by_key.get(key)
    option = question.option_by_code(code) if question else None
    return f"{question.text}: {option.label}" if question and option else value


@register.filter
def dict_get(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key, "")


@register.simple_tag
def workspace_home(user: Any) -> str:
    """Where the header's "Analysis" link goes: the workspace, or for data entry staff
    (who may open nothing else) the page where they key in responses."""
    if has_role(user, *WORKSPACE_ROLES):
        return reverse("analysis:index")
    return reverse("analysis:entry_index")
