"""The ``choice_items`` filter: the radios or checkboxes of a journey field (forms.py)."""

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from consult.responses.forms import ChoiceItemsField

register = template.Library()


@register.filter
def choice_items(field: BoundField) -> SafeString:
    form_field = field.field
    assert isinstance(form_field, ChoiceItemsField)  # noqa: S101 - the field templates' own
    return form_field.items_html(field.html_name, field.value())
