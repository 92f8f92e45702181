"""Tags of the journey's field templates: the controls, drawn in Python (forms.py)."""

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

from consult.responses.forms import ChoiceItemsField, control_html

register = template.Library()


@register.filter
def choice_items(field: BoundField) -> SafeString:
    """The radios or checkboxes of a field of choices."""
    form_field = field.field
    assert isinstance(form_field, ChoiceItemsField)  # noqa: S101 - the field templates' own
    return form_field.items_html(field.html_name, field.value())


@register.simple_tag
def control(field: BoundField, *, max_characters: int | str | None) -> SafeString:
    """The text input, email input, textarea or select of a field; ``max_characters`` (from
    the layout, empty when there is none) gives a textarea a character count.

    A tag, not a filter: a filter's argument must exist, and only textareas have a limit.
    """
    return control_html(field, counted=bool(max_characters))
