"""The base form of every GOV.UK-styled page, shared by the apps."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Layout
from django import forms
from django.utils.translation import gettext_lazy


class GovukForm(forms.Form):
    """Base for GOV.UK pages: subclasses declare fields and ``layout_fields``; this adds the rest.

    The error summary and page heading are in the page template (above the form, as the
    Design System asks); the helper renders the fields and one submit button.
    """

    submit_label: Any = gettext_lazy("Continue")
    submit_warns = False  # a red button, for an action that cannot be undone

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_fields()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True  # the page template puts the token in its <form>
        self.helper.layout = Layout(
            *self.layout_fields(),
            (Button.warning if self.submit_warns else Button)(
                "submit", self.submit_label, data_prevent_double_click="true"
            ),
        )

    def add_fields(self) -> None:
        """Add fields that depend on the instance; declared fields need nothing here."""

    def layout_fields(self) -> list[Any]:
        return [Field(name) for name in self.fields]
