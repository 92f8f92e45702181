"""``{{ consultation|text:"title" }}``: a consultation's own words in the page's language."""

from django import template
from django.utils.translation import get_language

from consult.consultations.models import Consultation

register = template.Library()


@register.filter
def text(consultation: Consultation, field: str) -> str:
    return consultation.text(field, get_language())
