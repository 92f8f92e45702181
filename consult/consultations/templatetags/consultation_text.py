"""A consultation's own words in the page's language: ``{{ consultation|text:"title" }}``,
and ``<p{{ consultation|text_lang:"summary" }}>`` to mark text shown in the definition's
language on a page in another one (WCAG 3.1.2, language of parts)."""

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from consult.consultations.models import Consultation

register = template.Library()


@register.filter
def text(consultation: Consultation, field: str) -> str:
    return consultation.text(field, get_language())


@register.filter
def text_lang(consultation: Consultation, field: str) -> SafeString:
    """`` lang="en"`` when ``field`` falls back to the definition's language, else nothing."""
    language = get_language()
    if language == settings.LANGUAGE_CODE or consultation.translations.get(language, {}).get(field):
        return SafeString("")
    return format_html(' lang="{}"', settings.LANGUAGE_CODE)
