"""A consultation's own words in the page's language: ``{{ consultation|text:"title" }}``,
and ``<p{{ consultation|text_lang:"summary" }}>`` to mark text shown in the definition's
language on a page in another one (WCAG 3.1.2, language of parts); for the spec's text,
``<h1{{ section.title|lang_of }}>`` and ``text_html`` do the same."""

import html

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from consult.consultations.definition import definition_language
from consult.consultations.models import Consultation
from consult.consultations.queries import Untranslated

register = template.Library()


@register.filter
def text(consultation: Consultation, field: str) -> str:
    return consultation.text(field, get_language())


@register.filter
def text_lang(consultation: Consultation, field: str) -> SafeString:
    """`` lang="en"`` when ``field`` falls back to the definition's language, else nothing."""
    language, own = get_language(), definition_language()
    if language == own or consultation.translations.get(language, {}).get(field):
        return SafeString("")
    return format_html(' lang="{}"', own)


@register.filter
def lang_of(words: object) -> str:
    """`` lang="en"`` when ``words`` are ``Untranslated``, else nothing: for the element
    that holds them."""
    if isinstance(words, Untranslated):
        return format_html(' lang="{}"', definition_language())
    return ""


def text_html(words: str) -> str:
    """``words`` escaped, in a ``<span lang="en">`` when they are ``Untranslated``: for
    markup drawn in Python (the journey's labels, hints and options)."""
    escaped = html.escape(words)
    if isinstance(words, Untranslated):
        return f'<span lang="{definition_language()}">{escaped}</span>'
    return escaped
