"""Writes for the workspace: analyst accounts, themes, coding and data subject requests."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from consult.analysis.models import (
    AnswerTheme,
    Campaign,
    CodingAction,
    CodingEvent,
    Role,
    SubjectRequestAction,
    SubjectRequestRecord,
    Theme,
)
from consult.analysis.queries import subject_access_document
from consult.consultations.models import Question
from consult.consultations.queries import ConsultationSpec
from consult.responses.models import Answer, Response
from consult.responses.services import tallies_add


def analyst_create(
    *, username: str, email: str, password: str, data_controller: bool = False
) -> User:
    """Create an analyst (or data controller) account.

    Raises ``ValidationError`` for a taken username or a password the validators refuse.
    """
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        raise ValidationError(f"An account called {username} already exists.")
    user = user_model(username=username, email=email)
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save()
        roles = [Role.ANALYST] + ([Role.DATA_CONTROLLER] if data_controller else [])
        user.groups.add(*(Group.objects.get_or_create(name=role)[0] for role in roles))
    return user


class ThemeExistsError(Exception):
    """A theme with that name is already in the question's codebook."""


def theme_create(
    *, question: Question, name: str, description: str, user: User, now: datetime
) -> Theme:
    try:
        with transaction.atomic():
            return Theme.objects.create(
                question=question,
                name=name.strip(),
                description=description.strip(),
                created_by=user,
                created_at=now,
            )
    except IntegrityError as error:
        raise ThemeExistsError(name) from error


def answer_themes_set(*, answer: Answer, themes: list[Theme], user: User, now: datetime) -> None:
    """Make ``themes`` the answer's themes, recording each addition and removal."""
    with transaction.atomic():
        current = set(AnswerTheme.objects.filter(answer=answer).values_list("theme_id", flat=True))
        wanted = {theme.pk for theme in themes}
        added, removed = wanted - current, current - wanted
        AnswerTheme.objects.filter(answer=answer, theme_id__in=removed).delete()
        AnswerTheme.objects.bulk_create(
            AnswerTheme(answer=answer, theme_id=pk, coded_by=user, coded_at=now) for pk in added
        )
        CodingEvent.objects.bulk_create(
            [
                *(
                    CodingEvent(
                        answer=answer, theme_id=pk, action=CodingAction.ADDED, user=user, at=now
                    )
                    for pk in sorted(added)
                ),
                *(
                    CodingEvent(
                        answer=answer, theme_id=pk, action=CodingAction.REMOVED, user=user, at=now
                    )
                    for pk in sorted(removed)
                ),
            ]
        )


def totp_enrol(*, user: User, replace: bool = False) -> TOTPDevice:
    """Give ``user`` an authenticator-app device (TOTP) for two-factor sign-in.

    Raises ``ValidationError`` if the account already has one, unless ``replace``.
    """
    devices = TOTPDevice.objects.filter(user=user)
    if devices.exists() and not replace:
        raise ValidationError(f"{user.username} already has an authenticator app set up.")
    with transaction.atomic():
        devices.delete()
        return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def totp_setup_text(device: TOTPDevice) -> str:
    """What the account holder needs to add the device to an authenticator app."""
    key = base64.b32encode(device.bin_key).decode()
    return (
        f"Add this account to an authenticator app (such as one on your phone):\n"
        f"  setup key: {key}\n"
        f"  or the link: {device.config_url}\n"
        "Anyone with this key can make sign-in codes: do not keep it."
    )


# Data subject requests ------------------------------------------------------------------


def subject_request_record(
    *,
    user: User,
    action: SubjectRequestAction,
    reference: str,
    response: Response | None,
    now: datetime,
    case: str = "",
    sha256: str = "",
) -> SubjectRequestRecord:
    return SubjectRequestRecord.objects.create(
        user=user,
        at=now,
        action=action,
        reference=reference,
        consultation_id=response.consultation_id if response else None,
        case=case,
        sha256=sha256,
    )


def subject_access_export(
    *, response: Response, spec: ConsultationSpec, user: User, case: str, now: datetime
) -> bytes:
    """Everything held about the response as a JSON file, recorded with its SHA-256."""
    document = subject_access_document(response=response, spec=spec)
    content = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    subject_request_record(
        user=user,
        action=SubjectRequestAction.EXPORTED,
        reference=response.reference,
        response=response,
        now=now,
        case=case,
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return content


def response_erase(*, response: Response, user: User, case: str, now: datetime) -> None:
    """Delete the response with its answers, personal details and the themes analysts gave
    it, leaving only the audit record that says who erased which reference, when and why.
    Results count it no more; earlier downloads are beyond reach (the page lists them)."""
    with transaction.atomic():
        subject_request_record(
            user=user,
            action=SubjectRequestAction.ERASED,
            reference=response.reference,
            response=response,
            now=now,
            case=case,
        )
        counted = Response.objects.counted().filter(pk=response.pk)
        tallies_add(responses=counted, sign=-1)  # nothing, unless it was counted
        campaigns = list(
            Campaign.objects.filter(members__answer__response=response).values_list("pk", flat=True)
        )
        response.delete()  # its answers, their themes, coding log, campaign memberships...
        Campaign.objects.filter(pk__in=campaigns).figures_refresh(now=now)  # empty ones go
