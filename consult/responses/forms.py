"""Forms for the public journey, built from the consultation definition (never per question)."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from crispy_forms_gds.layout import Field, Fieldset, Size
from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.forms import BoundField
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consult.consultations.models import Profile, QuestionType
from consult.consultations.queries import AnswerMap, AnswerValue, QuestionSpec
from consult.consultations.templatetags.consultation_text import lang_of, text_html
from consult.forms import GovukForm
from consult.responses.documents import (
    EMPTY,
    WRONG_TYPE,
    DocumentRefusedError,
    Inspected,
    document_inspect,
)

AUTOCOMPLETE = {
    Profile.NAME: "name",
    Profile.EMAIL: "email",
    Profile.ORGANISATION_NAME: "organization",
}
INVALID_CHOICE = gettext_lazy("Select one of the options shown")
RADIOS = "responses/fields/radios.html"
CHECKBOXES = "responses/fields/checkboxes.html"
CONTROL = "responses/fields/control.html"
HONEYPOT = "website"  # no question key can take it: keys are snake_case codes with no clash


class SectionForm(GovukForm):
    """The questions of one section that are shown, given the answers so far.

    ``on_behalf`` is for staff keying in someone else's answers: their browser must not
    offer its own name and address for the respondent's."""

    def __init__(
        self,
        *args: Any,
        questions: list[QuestionSpec],
        answers: AnswerMap,
        on_behalf: bool = False,
        **kwargs: Any,
    ) -> None:
        self.questions = questions
        self.on_behalf = on_behalf
        kwargs.setdefault("initial", _initial(questions, answers))
        super().__init__(*args, **kwargs)

    def add_fields(self) -> None:
        for question in self.questions:
            for answerable in question.rows or (question,):
                field = _field(answerable, parent=question)
                if self.on_behalf and "autocomplete" in field.widget.attrs:
                    field.widget.attrs["autocomplete"] = "off"
                self.fields[answerable.key] = field
        # A field people never see (hidden from screens, screen readers and the keyboard)
        # but form-filling bots do: anything in it marks the post as automated.
        self.fields[HONEYPOT] = forms.CharField(
            required=False,
            label=_("Leave this field empty"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )

    def clean_website(self) -> str:
        if self.cleaned_data.get(HONEYPOT):
            raise forms.ValidationError(_("Leave the last field empty"), code="honeypot")
        return ""

    def layout_fields(self) -> list[Any]:
        layout: list[Any] = []
        for question in self.questions:
            if question.rows:
                layout.append(_matrix_layout(question))
            else:
                layout.append(_field_layout(question))
        honeypot = _drawn_by(Field.text(HONEYPOT), CONTROL)
        honeypot.context["wrapper_class"] = "consult-honeypot"
        layout.append(honeypot)
        return layout

    def answer_values(self) -> dict[str, AnswerValue]:
        """The cleaned answers, as the services store them."""
        values: dict[str, AnswerValue] = {}
        for key, value in self.cleaned_data.items():
            if key == HONEYPOT:
                continue
            if isinstance(value, list):
                values[key] = tuple(value)
            elif key in self.fields and isinstance(self.fields[key], forms.ChoiceField):
                values[key] = (value,) if value else ()
            else:
                values[key] = value.strip()
        return values


def _initial(questions: list[QuestionSpec], answers: AnswerMap) -> dict[str, Any]:
    initial: dict[str, Any] = {}
    for question in questions:
        for answerable in question.rows or (question,):
            value = answers.get(answerable.key)
            if value is None:
                continue
            if answerable.type == QuestionType.MULTIPLE_CHOICE:
                initial[answerable.key] = list(value)
            elif isinstance(value, tuple):
                initial[answerable.key] = value[0] if value else ""
            else:
                initial[answerable.key] = value
    return initial


def _required_message(question: QuestionSpec, parent: QuestionSpec) -> str:
    if question is not parent:
        return (
            f"{parent.error}: {question.text}"
            if parent.error
            else _("Select an answer for “%(question)s”") % {"question": question.text}
        )
    if question.error:
        return question.error
    words = {"question": question.text}
    if question.type == QuestionType.MULTIPLE_CHOICE:
        return _("Select at least one option for “%(question)s”") % words
    if question.is_choice:
        return _("Select an answer for “%(question)s”") % words
    return _("Enter an answer for “%(question)s”") % words


@dataclass(frozen=True)
class ChoiceItem:
    """A radio or checkbox: an option of the question, with what GOV.UK Frontend shows
    beside it."""

    value: str
    label: str
    hint: str
    divider: str  # "or" before an exclusive option
    exclusive: bool


def _choice_items(question: QuestionSpec) -> tuple[ChoiceItem, ...]:
    following = [*question.options[1:], None]
    return tuple(
        ChoiceItem(
            value=option.code,
            label=option.label,
            hint=option.hint,
            divider=_("or") if after is not None and after.exclusive else "",
            exclusive=option.exclusive,
        )
        for option, after in zip(question.options, following, strict=True)
    )


class ChoiceItemsField(forms.Field):
    """A field of radios or checkboxes whose items are drawn in Python.

    The items are most of a section's markup (a matrix page has about fifty); drawn by
    the template language they took most of the page's time. ``html.escape`` is what
    Django's ``escape`` calls, without its lazy-string wrapper. The markup is the pack's
    ``radio_item.html`` and ``checkboxes.html`` (with "None of these" marked exclusive,
    so GOV.UK Frontend unticks the others); the rest of the field is drawn by
    ``responses/fields/radios.html`` and ``checkboxes.html``.
    """

    items: tuple[ChoiceItem, ...]
    kind: str  # "radios" or "checkboxes"

    def items_html(self, name: str, value: Any) -> SafeString:
        """The items' markup, those in ``value`` (the field's value: a code or a list of
        codes) checked."""
        kind = self.kind
        radios = kind == "radios"
        chosen = set() if value is None else {str(code) for code in _as_list(value)}
        name = html.escape(name)
        parts = []
        for position, item in enumerate(self.items, start=1):
            input_id = f"id_{name}_{position}"
            attributes = ""
            if item.value in chosen:
                attributes += ' checked="checked"' if radios else " checked"
            if item.hint:
                attributes += f' aria-describedby="{input_id}_hint"'
            if item.exclusive and not radios:
                attributes += ' data-behaviour="exclusive"'
            parts.append(
                f'<div class="govuk-{kind}__item">'
                f'<input type="{"radio" if radios else "checkbox"}" name="{name}" '
                f'class="govuk-{kind}__input" id="{input_id}" value="{html.escape(item.value)}"'
                f"{attributes}>"
                f'<label class="govuk-label govuk-{kind}__label" for="{input_id}">'
                f"{text_html(item.label)}</label>"
            )
            if item.hint:
                tag = "span" if radios else "div"
                parts.append(
                    f'<{tag} id="{input_id}_hint" class="govuk-hint govuk-{kind}__hint">'
                    f"{text_html(item.hint)}</{tag}>"
                )
            parts.append("</div>")
            if item.divider:
                parts.append(
                    f'<div class="govuk-{kind}__divider">{html.escape(item.divider)}</div>'
                )
        return mark_safe("".join(parts))  # noqa: S308 - every value in it is escaped  # nosec B308 B703


# The class of each control, and the class added when its answer has an error, as
# crispy-forms-gds 2.0 gave them: it adds none to an email input, and a select gets the
# text input's. Kept so that the markup did not change with the templates.
CONTROL_CLASSES: dict[type[forms.Widget], tuple[str, str]] = {
    forms.TextInput: ("govuk-input", " govuk-input--error"),
    forms.EmailInput: ("govuk-input", ""),
    forms.Textarea: ("govuk-textarea", " govuk-input--error"),
    forms.Select: ("govuk-select", " govuk-input--error"),
}


def control_html(field: BoundField, *, counted: bool) -> SafeString:
    """A text input, email input, textarea or select, drawn in Python.

    Django draws a widget through the form renderer's templates, one per attribute list
    and per option: the controls took most of a text field's time and most of a select's
    (a dozen regions). This is the markup they and crispy-forms-gds drew: the widget's
    own attributes (autocomplete, spellcheck, tabindex, maxlength, and what the layout
    adds, such as a textarea's rows), then aria-describedby, class, aria-invalid and id.
    ``counted``: the textarea has a character count (``responses/fields/control.html``
    draws its message).
    """
    widget = field.field.widget
    base_class, error_class = CONTROL_CLASSES[type(widget)]
    auto_id = field.auto_id
    errors = field.errors
    declared = dict(widget.attrs)
    classes = " ".join([base_class, *declared.pop("class", "").split()])
    hint = [f"{auto_id}_hint"] if field.help_text else []
    count = [f"{auto_id}-info"] if counted else []
    error_ids = [f"{auto_id}_{number}_error" for number in range(1, len(errors) + 1)]
    # In crispy-forms-gds's order: the count's message follows the hint, or the errors
    # when there is no hint.
    described_by = hint + count + error_ids if hint else error_ids + count
    attributes = [
        f' {name}="{html.escape(str(value))}"' if value is not True else f" {name}"
        for name, value in declared.items()
        if value is not False
    ]
    if described_by:
        attributes.append(f' aria-describedby="{" ".join(described_by)}"')
    attributes.append(f' class="{classes}{error_class if errors else ""}"')
    if errors:
        attributes.append(' aria-invalid="true"')
    attributes.append(f' id="{auto_id}"')
    name = html.escape(field.html_name)
    value = widget.format_value(field.value())
    if isinstance(widget, forms.Select):
        return mark_safe(  # noqa: S308 - every value in it is escaped  # nosec B308 B703
            f'<select name="{name}"{"".join(attributes)}>{_options_html(widget, value)}</select>'
        )
    if isinstance(widget, forms.Textarea):
        return mark_safe(  # noqa: S308 - every value in it is escaped  # nosec B308 B703
            f'<textarea name="{name}"{"".join(attributes)}>\n'
            f"{html.escape(value) if value else ''}</textarea>"
        )
    shown = "" if value is None else f' value="{html.escape(value)}"'
    return mark_safe(  # noqa: S308 - every value in it is escaped  # nosec B308 B703
        f'<input type="{widget.input_type}" name="{name}"{shown}{"".join(attributes)}>'
    )


def _options_html(select: forms.Select, value: list[str]) -> str:
    """A select's options, the first whose code is in ``value`` selected (as Django does)."""
    chosen = set(value)
    parts = []
    selected_one = False
    for code, label in select.choices:
        selected = not selected_one and str(code) in chosen
        selected_one |= selected
        parts.append(
            f'<option value="{html.escape(str(code))}"{" selected" if selected else ""}'
            f"{lang_of(label)}>{html.escape(str(label))}</option>"
        )
    return "".join(parts)


def _field(question: QuestionSpec, *, parent: QuestionSpec) -> forms.Field:
    choices = [(option.code, option.label) for option in question.options]
    common: dict[str, Any] = {
        "label": mark_safe(text_html(question.text)),  # noqa: S308 - escaped  # nosec B308 B703
        "help_text": mark_safe(text_html(question.hint)),  # noqa: S308 - escaped  # nosec B308 B703
        "required": question.required,
    }
    errors: dict[str, str] = {
        "required": _required_message(question, parent),
        "invalid_choice": str(INVALID_CHOICE),
    }
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            return MultipleChoiceWithRules(
                question=question,
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                error_messages=errors | {"invalid_choice": f"{INVALID_CHOICE} (%(value)s)"},
                **common,
            )
        case QuestionType.SELECT:
            return forms.ChoiceField(
                choices=[("", _("Select an option")), *choices], error_messages=errors, **common
            )
        case QuestionType.SINGLE_CHOICE | QuestionType.SCALE | QuestionType.MATRIX_ROW:
            return RadiosField(
                question=question,
                choices=choices,
                widget=forms.RadioSelect,
                error_messages=errors,
                **common,
            )
        case QuestionType.EMAIL:
            return forms.EmailField(
                max_length=254,
                error_messages=errors
                | {
                    "invalid": _(
                        "Enter an email address in the correct format, like name@example.com"
                    )
                },
                widget=forms.EmailInput(attrs=_autocomplete(question, spellcheck="false")),
                **common,
            )
        case QuestionType.SHORT_TEXT | QuestionType.LONG_TEXT:
            widget = (
                forms.Textarea()
                if question.type == QuestionType.LONG_TEXT
                else forms.TextInput(attrs=_autocomplete(question))
            )
            field = TextField(
                max_length=question.max_length,
                widget=widget,
                error_messages=errors
                | {
                    "max_length": _(
                        "Your answer to “%(question)s” must be %(limit)s characters or fewer"
                    )
                    % {"question": question.text, "limit": f"{question.max_length:,}"}
                },
                **common,
            )
            # The Design System warns against maxlength: it silently cuts pasted text.
            # The limit is checked on the server and counted down on the page instead.
            field.widget.attrs.pop("maxlength", None)
            return field
    raise ValueError(f"no form field for question type {question.type}")


def _autocomplete(question: QuestionSpec, **attrs: str) -> dict[str, str]:
    if question.profile in AUTOCOMPLETE:
        attrs["autocomplete"] = AUTOCOMPLETE[Profile(question.profile)]
    return attrs


class TextField(forms.CharField):
    """Text whose line breaks count once, as the character count on the page counts them."""

    def to_python(self, value: Any) -> str:
        return (super().to_python(value) or "").replace("\r\n", "\n")


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class RadiosField(ChoiceItemsField, forms.ChoiceField):
    kind = "radios"

    def __init__(self, *, question: QuestionSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = _choice_items(question)


class MultipleChoiceWithRules(ChoiceItemsField, forms.MultipleChoiceField):
    """Checkboxes with a maximum number of choices and "None of these" options."""

    kind = "checkboxes"

    def __init__(self, *, question: QuestionSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items = _choice_items(question)
        self.max_choices = question.max_choices
        self.exclusive = {
            option.code: option.label for option in question.options if option.exclusive
        }

    def to_python(self, value: Any) -> list[str]:
        # A hand-made post can send one box twice; it is still one answer.
        return list(dict.fromkeys(super().to_python(value)))

    def validate(self, value: Any) -> None:
        super().validate(value)
        if self.max_choices and len(value) > self.max_choices:
            raise forms.ValidationError(
                _("Select no more than %(limit)d options") % {"limit": self.max_choices},
                code="max_choices",
            )
        chosen_exclusive = [code for code in value if code in self.exclusive]
        if chosen_exclusive and len(value) > 1:
            label = self.exclusive[chosen_exclusive[0]]
            raise forms.ValidationError(
                _("Select “%(option)s” on its own, or untick it to choose other options")
                % {"option": label},
                code="exclusive",
            )


def _field_layout(question: QuestionSpec) -> Any:
    match question.type:
        case QuestionType.MULTIPLE_CHOICE:
            return _drawn_by(Field.checkboxes(question.key, legend_size=Size.MEDIUM), CHECKBOXES)
        case QuestionType.SINGLE_CHOICE | QuestionType.SCALE:
            return _drawn_by(Field.radios(question.key, legend_size=Size.MEDIUM), RADIOS)
        case QuestionType.SELECT:
            return _drawn_by(
                Field(question.key, context={"label_size": Size.for_label(Size.MEDIUM)}), CONTROL
            )
        case QuestionType.LONG_TEXT:
            return _drawn_by(
                Field.textarea(
                    question.key, label_size=Size.MEDIUM, max_characters=question.max_length
                ),
                CONTROL,
            )
        case _:
            return _drawn_by(Field.text(question.key, label_size=Size.MEDIUM), CONTROL)


def _matrix_layout(question: QuestionSpec) -> Any:
    rows = []
    for row in question.rows:
        field = _drawn_by(Field.radios(row.key, legend_size=Size.SMALL, small=True), RADIOS)
        field.context["wrapper_class"] = "consult-matrix-row"
        rows.append(field)
    fieldset = Fieldset(
        *rows,
        legend=question.text,
        css_class="govuk-!-margin-bottom-6",
        css_id=f"id_{question.key}",
        template="responses/layout/matrix_fieldset.html",
    )
    fieldset.context.update(hint=question.hint, hint_id=f"{question.key}_hint")
    return fieldset


def _drawn_by(field: Field, template: str) -> Field:
    field.template = template
    return field


class DocumentForm(forms.Form):
    """The supporting document's upload; its page draws the GOV.UK file upload itself.

    A valid form with no file keeps the document already attached (if any): removing it
    is a button of its own."""

    document = forms.FileField(
        required=False,
        label=gettext_lazy("Upload a file"),
        error_messages={"empty": EMPTY, "invalid": WRONG_TYPE, "missing": WRONG_TYPE},
    )

    inspected: Inspected | None = None

    def clean_document(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("document")
        if not upload:
            return None
        try:
            self.inspected = document_inspect(upload)
        except DocumentRefusedError as refusal:
            raise forms.ValidationError(str(refusal), code="document") from refusal
        return upload
