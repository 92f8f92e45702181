"""The ``markdown`` filter: definition-file Markdown rendered to sanitised HTML."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

ALLOWED_TAGS = {"p", "br", "strong", "em", "a", "ul", "ol", "li", "h2", "h3", "blockquote"}


@register.filter
def markdown(text: str) -> SafeString:
    html = markdown_lib.markdown(text, output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(f'<div class="consult-prose">{clean}</div>')  # noqa: S308 - sanitised by nh3  # nosec B308 B703
