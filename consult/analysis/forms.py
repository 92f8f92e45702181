"""Forms of the workspace: sign in, filters, cross-tab choice, themes, coding, campaigns,
theme suggestions and data subject requests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from crispy_forms_gds.layout import Field, Fixed, Size
from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.http import QueryDict
from django.utils.translation import get_language_info
from django_otp import match_token, user_has_device

from consult.analysis.models import (
    SuggestionRun,
    SuggestionStatus,
    Theme,
    ThemeSuggestion,
)
from consult.analysis.queries import CampaignCounting, Filters
from consult.analysis.themes import DEFAULT_THEMES, MAX_THEMES, MIN_THEMES
from consult.consultations.models import Consultation, Profile
from consult.consultations.queries import ConsultationSpec, QuestionSpec
from consult.forms import GovukForm
from consult.responses.models import ResponseChannel

LONDON = ZoneInfo(settings.TIME_ZONE)


class SignInForm(GovukForm, AuthenticationForm):
    """Username, password and, when two-factor sign-in is required, the current code
    from the account's authenticator app."""

    submit_label = "Sign in"
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
    }
    otp_token = forms.CharField(
        label="Code from your authenticator app",
        help_text="The 6-digit code the app shows now",
        required=False,
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.otp_device: Any = None
        super().__init__(*args, **kwargs)
        if not settings.OTP_REQUIRED:
            del self.fields["otp_token"]

    def layout_fields(self) -> list[Any]:
        fields = [Field.text("username"), Field.text("password")]
        if "otp_token" in self.fields:
            fields.append(Field.text("otp_token", field_width=Fixed.TEN))
        return fields

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if settings.OTP_REQUIRED:
            user = self.get_user()
            if not user_has_device(user):
                raise forms.ValidationError(
                    "This account has no authenticator app set up. Ask an administrator to "
                    "run enrol_totp for it.",
                    code="no_device",
                )
            token = (cleaned.get("otp_token") or "").replace(" ", "")
            if not token:
                self.add_error("otp_token", "Enter the 6-digit code from your authenticator app")
            else:
                self.otp_device = match_token(user, token)
                if self.otp_device is None:
                    self.add_error(
                        "otp_token",
                        "The code is not right. Enter the code your authenticator app shows now",
                    )
        return cleaned


def filter_questions(spec: ConsultationSpec) -> list[QuestionSpec]:
    """Questions offered as filters: respondent type, publication choice, then those the
    definition marks with ``filter: true``, in the order they are asked."""
    profiled = [spec.by_profile[p] for p in (Profile.RESPONDENT_TYPE, Profile.PUBLICATION)]
    marked = [q for q in spec.by_key.values() if q.is_filter and q not in profiled]
    return [q for q in profiled if q is not None] + marked


class FilterForm(forms.Form):
    """Reads filters from the query string: ``a=<question key>:<option code>`` (repeatable),
    ``from`` and ``to`` (YYYY-MM-DD), ``channel`` (repeatable: online, post, email, phone)
    and ``campaigns`` (all, once or excluded). Unknown questions or codes are reported, not
    applied."""

    submitted_from = forms.DateField(
        required=False,
        label="Sent on or after",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the start date as a real date, like 2026-11-26"},
    )
    submitted_to = forms.DateField(
        required=False,
        label="Sent on or before",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the end date as a real date, like 2026-11-26"},
    )

    channel = forms.MultipleChoiceField(
        required=False,
        label="How the response was received",
        choices=ResponseChannel.choices,
        error_messages={"invalid_choice": "Select how the responses were received"},
    )

    campaigns = forms.ChoiceField(
        required=False,
        label="Responses in confirmed campaigns",
        choices=CampaignCounting.choices,
        error_messages={"invalid_choice": "Choose how to count responses in campaigns"},
    )

    def __init__(self, query: QueryDict, *, spec: ConsultationSpec) -> None:
        data = {
            "submitted_from": query.get("from", ""),
            "submitted_to": query.get("to", ""),
            "campaigns": query.get("campaigns", ""),
            "channel": query.getlist("channel"),
        }
        super().__init__(data, prefix=None)
        self.spec = spec
        self.answer_values = query.getlist("a")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("submitted_from"), cleaned.get("submitted_to")
        if start and end and start > end:
            self.add_error(
                "submitted_to", "The end date must be the same as or after the start date"
            )
        return cleaned

    def filters(self) -> Filters:
        """The valid filters (an invalid date is left out and reported by the form)."""
        answers: dict[str, set[str]] = {}
        for value in self.answer_values:
            key, _, code = value.partition(":")
            question = self.spec.by_key.get(key)
            if question is not None and question.option_by_code(code) is not None:
                answers.setdefault(key, set()).add(code)
        self.is_valid()  # fills cleaned_data with the fields that are valid
        cleaned = self.cleaned_data
        return Filters(
            answers={key: frozenset(codes) for key, codes in answers.items()},
            submitted_from=cleaned.get("submitted_from"),
            submitted_to=cleaned.get("submitted_to"),
            campaigns=CampaignCounting(cleaned.get("campaigns") or CampaignCounting.ALL),
            channels=frozenset(cleaned.get("channel") or ()),
        )

    def date_fields(self) -> list[forms.BoundField]:
        return [self["submitted_from"], self["submitted_to"]]

    def ignored(self) -> list[str]:
        """Filter values that name no question or option (an edited or outdated link)."""
        known = self.filters().answers
        return [
            value
            for value in self.answer_values
            if value.partition(":")[2] not in known.get(value.partition(":")[0], ())
        ]


class ThemeForm(GovukForm):
    submit_label = "Add theme"
    name = forms.CharField(
        label="Theme name",
        max_length=100,
        error_messages={
            "required": "Enter a name for the theme",
            "max_length": "Theme name must be 100 characters or fewer",
        },
    )
    description = forms.CharField(
        label="Description (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Description must be 1,000 characters or fewer"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.text("name", label_size=Size.SMALL), Field.textarea("description")]


class CodingForm(forms.Form):
    """The themes of one answer (rendered by hand in the answer list, one form per answer)."""

    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.none(),
        required=False,
        error_messages={"invalid_choice": "Select themes from this question’s codebook"},
    )

    def __init__(self, *args: Any, question: QuestionSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = Theme.objects.filter(question_id=question.id)  # type: ignore[attr-defined]


class ReferenceForm(GovukForm):
    submit_label = "Find the response"
    reference = forms.CharField(
        label="Response reference",
        help_text="As the respondent gives it, for example FR-7K3M-Q9XD",
        max_length=40,
        error_messages={
            "required": "Enter the response’s reference",
            "max_length": "A reference is 40 characters or fewer",
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def layout_fields(self) -> list[Any]:
        return [Field.text("reference", field_width=Fixed.TWENTY)]


class SubjectRequestForm(GovukForm):
    """The request an export or erasure answers, for the log."""

    submit_label = "Download everything held (JSON)"
    case = forms.CharField(
        label="Your reference for this request",
        help_text="From the log where the request was received, for example DSR-2026-014",
        max_length=100,
        error_messages={
            "required": "Enter your reference for this request",
            "max_length": "Your reference must be 100 characters or fewer",
        },
    )

    def layout_fields(self) -> list[Any]:
        return [Field.text("case", field_width=Fixed.TWENTY)]


class ErasureForm(SubjectRequestForm):
    submit_label = "Erase this response"
    submit_warns = True
    confirm = forms.MultipleChoiceField(
        label="Confirm the erasure",
        choices=[
            (
                "yes",
                "I understand that the response and its personal details will be deleted for "
                "good, and that it will no longer count in the results",
            )
        ],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Confirm that you want to erase the response"},
    )

    def layout_fields(self) -> list[Any]:
        return [*super().layout_fields(), Field.checkboxes("confirm", legend_size=Size.SMALL)]


class CampaignRenameForm(GovukForm):
    """Shares its page with ``CampaignVariantsForm``, whose name field keeps the ids."""

    submit_label = "Rename"
    name = forms.CharField(
        label="Campaign name",
        max_length=100,
        error_messages={
            "required": "Enter a name for the campaign",
            "max_length": "Campaign name must be 100 characters or fewer",
        },
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, auto_id="rename_%s", **kwargs)

    def layout_fields(self) -> list[Any]:
        return [Field.text("name", label_size=Size.SMALL)]


class CampaignVariantsForm(forms.Form):
    """Versions of a campaign's text to split off into a new campaign or take out of it
    (rendered by hand in the list of versions)."""

    SPLIT, RELEASE = "split", "release"

    action = forms.ChoiceField(choices=[(SPLIT, "Split off"), (RELEASE, "Take out")])
    variants = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Select the versions of the text to move",
            "invalid_choice": "Select versions of the text from this campaign",
        },
    )
    name = forms.CharField(
        required=False,
        max_length=100,
        error_messages={"max_length": "Campaign name must be 100 characters or fewer"},
    )

    def __init__(self, *args: Any, variants: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["variants"].choices = [(v, v) for v in variants]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("action") == self.SPLIT and not cleaned.get("name", "").strip():
            self.add_error("name", "Enter a name for the new campaign")
        return cleaned


class SuggestionsRequestForm(forms.Form):
    """How many themes to suggest (drawn by hand in the suggestions page)."""

    themes = forms.IntegerField(
        min_value=MIN_THEMES,
        max_value=MAX_THEMES,
        initial=DEFAULT_THEMES,
        error_messages={
            "required": "Enter how many themes to suggest",
            "invalid": "Enter how many themes to suggest as a whole number, like 8",
            "min_value": f"Ask for {MIN_THEMES} themes or more",
            "max_value": f"Ask for {MAX_THEMES} themes or fewer",
        },
    )


class SuggestionRenameForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        error_messages={
            "required": "Enter a name for the suggested theme",
            "max_length": "The name must be 100 characters or fewer",
        },
    )


class SuggestionMergeForm(forms.Form):
    """Two or more pending suggestions of the run shown, and the merged theme's name."""

    suggestions = forms.ModelMultipleChoiceField(
        queryset=ThemeSuggestion.objects.none(),
        error_messages={
            "required": "Select two or more suggestions to merge",
            "invalid_choice": "Select suggestions that are still waiting for a decision",
            "invalid_pk_value": "Select suggestions that are still waiting for a decision",
        },
    )
    name = forms.CharField(
        required=False,
        max_length=100,
        error_messages={"max_length": "The name must be 100 characters or fewer"},
    )

    def __init__(self, *args: Any, run: SuggestionRun | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["suggestions"].queryset = ThemeSuggestion.objects.filter(  # type: ignore[attr-defined]
            run=run, status=SuggestionStatus.PENDING
        )

    def clean_suggestions(self) -> Any:
        chosen = self.cleaned_data["suggestions"]
        if len(chosen) < 2:
            raise forms.ValidationError("Select two or more suggestions to merge")
        return chosen


class EntryForm(GovukForm):
    """How and when a response keyed in by staff was received: on a day the consultation
    was open, and not in the future."""

    channel = forms.ChoiceField(
        label="How was the response received?",
        choices=[c for c in ResponseChannel.choices if c[0] != ResponseChannel.ONLINE],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Select how the response was received",
            "invalid_choice": "Select how the response was received",
        },
    )
    received = forms.DateField(
        label="Date it was received",
        help_text="The date on the postmark, the email or the call, for example 2026-11-26",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": "Enter the date the response was received",
            "invalid": "Enter the date the response was received as a real date, like 2026-11-26",
        },
    )

    language = forms.ChoiceField(
        label="Language of the response",
        help_text="Its receipt, if it gives an email address, is sent in this language",
        widget=forms.RadioSelect,
        required=False,  # English when not given: the choice starts on it
        error_messages={"invalid_choice": "Select a language the consultation is offered in"},
    )

    def __init__(self, *args: Any, consultation: Consultation, now: datetime, **kwargs: Any):
        self.consultation, self.now = consultation, now
        super().__init__(*args, **kwargs)
        if len(settings.LANGUAGES) < 2:
            del self.fields["language"]  # a site in English only: nothing to ask
        else:
            language = self.fields["language"]
            assert isinstance(language, forms.ChoiceField)  # noqa: S101 - declared above
            language.choices = [(code, _language_name(code)) for code, _ in settings.LANGUAGES]
            language.initial = settings.LANGUAGE_CODE

    def layout_fields(self) -> list[Any]:
        fields = [
            Field.radios("channel", legend_size=Size.SMALL),
            Field.text("received", field_width=Fixed.TEN),
        ]
        if "language" in self.fields:
            fields.append(Field.radios("language", legend_size=Size.SMALL))
        return fields

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or settings.LANGUAGE_CODE

    def clean_received(self) -> date:
        received: date = self.cleaned_data["received"]
        opened = self.consultation.opens_at.astimezone(LONDON).date()
        last_day = (self.consultation.closes_at - timedelta(microseconds=1)).astimezone(LONDON)
        if received > self.now.astimezone(LONDON).date():
            raise forms.ValidationError("The date received must be today or in the past")
        if received < opened:
            raise forms.ValidationError(
                f"The date received must be on or after {opened:%-d %B %Y}, when the "
                "consultation opened"
            )
        if received > last_day.date():
            raise forms.ValidationError(
                f"The date received must be on or before {last_day:%-d %B %Y}, when the "
                "consultation closed"
            )
        return received


def _language_name(code: str) -> str:
    """ "Welsh (Cymraeg)": the name staff read, then the language's own."""
    info = get_language_info(code)
    name, own = info["name"], info["name_local"]
    return name if name == own else f"{name} ({own})"
