"""Writes for the workspace: analyst accounts, themes and coding."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from consult.analysis.models import AnswerTheme, CodingAction, CodingEvent, Role, Theme
from consult.consultations.models import Question
from consult.responses.models import Answer


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
