"""Writes for the workspace: analyst accounts, themes, coding, campaigns, theme
suggestions and data subject requests."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from itertools import zip_longest

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, FloatField, Min, Q, Value, When
from django_otp.plugins.otp_totp.models import TOTPDevice

from consult.analysis.campaigns import similarity, text_normalise, text_shingles
from consult.analysis.models import (
    ACTIVE_RUN,
    AnswerTheme,
    Campaign,
    CampaignRelease,
    CodingAction,
    CodingEvent,
    Role,
    SubjectRequestAction,
    SubjectRequestRecord,
    SuggestedAnswer,
    SuggestionRun,
    SuggestionRunStatus,
    SuggestionStatus,
    Theme,
    ThemeSuggestion,
)
from consult.analysis.queries import subject_access_document
from consult.analysis.tasks import theme_suggestions_run
from consult.analysis.themes import TERMS
from consult.consultations.models import Question
from consult.consultations.queries import ConsultationSpec
from consult.responses.models import Answer, Document, Response, ResponseStatus
from consult.responses.services import documents_delete, tallies_add


def analyst_create(
    *,
    username: str,
    email: str,
    password: str,
    data_controller: bool = False,
    data_entry: bool = False,
) -> User:
    """Create an analyst (or data controller) account; with ``data_entry``, an account
    that only keys in responses received by post, email or phone.

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
        if data_entry:
            roles = [Role.DATA_ENTRY]
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
        # Saving the answer's themes is the analyst's review of any suggested ones kept.
        unreviewed = AnswerTheme.objects.filter(answer=answer, reviewed=False)
        reviewed = sorted(unreviewed.values_list("theme_id", flat=True))
        unreviewed.update(reviewed=True)
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
                *(
                    CodingEvent(
                        answer=answer, theme_id=pk, action=CodingAction.REVIEWED, user=user, at=now
                    )
                    for pk in reviewed
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
            Campaign.objects.filter(members__response=response).values_list("pk", flat=True)
        )
        documents_delete(documents=Document.objects.filter(response=response))  # and its file
        response.delete()  # its answers, their themes, coding log, campaign memberships...
        Campaign.objects.filter(pk__in=campaigns).figures_refresh(now=now)  # empty ones go


# Campaigns: what analysts decide about those that detection found.


class CampaignChangeError(Exception):
    """A split or removal that cannot be done; the message says why and what to do."""


def campaign_confirm(
    *, campaign: Campaign, user: User, now: datetime, confirmed: bool = True
) -> None:
    """Mark the campaign as checked by an analyst (or no longer): only confirmed campaigns
    change the results views when campaigns are counted once or excluded."""
    campaign.confirmed = confirmed
    campaign.confirmed_by = user if confirmed else None
    campaign.confirmed_at = now if confirmed else None
    campaign.updated_at = now
    campaign.save(update_fields=["confirmed", "confirmed_by", "confirmed_at", "updated_at"])


def campaign_rename(*, campaign: Campaign, name: str, now: datetime) -> None:
    campaign.name = name
    campaign.updated_at = now
    campaign.save(update_fields=["name", "updated_at"])


def campaign_split(
    *, campaign: Campaign, fingerprints: Collection[str], name: str, now: datetime
) -> Campaign:
    """Move the members whose text is one of the variants ``fingerprints`` into a new,
    unconfirmed campaign called ``name``. Each campaign's representative becomes its most
    common variant, and its members' similarity is measured again against it."""
    moved = campaign.members.filter(fingerprint__in=fingerprints)
    with transaction.atomic():
        _campaign_variants_check(campaign, fingerprints)
        new = Campaign.objects.create(
            consultation_id=campaign.consultation_id,
            question_id=campaign.question_id,
            name=name,
            representative="",
            fingerprint=f"split-{campaign.pk}-{now.timestamp()}",  # until its text is chosen
            created_at=now,
            updated_at=now,
        )
        moved.update(campaign=new)
        for changed in (campaign, new):
            _campaign_representative_set(changed)
        Campaign.objects.filter(pk__in=[campaign.pk, new.pk]).figures_refresh(now=now)
    new.refresh_from_db()
    return new


def campaign_release(
    *, campaign: Campaign, fingerprints: Collection[str], user: User, now: datetime
) -> int:
    """Take the members whose text is one of the variants ``fingerprints`` out of the
    campaign, for good: detection leaves those answers alone from then on. A campaign left
    with no member is deleted. Returns how many answers were taken out."""
    taken = campaign.members.filter(fingerprint__in=fingerprints)
    with transaction.atomic():
        answer_ids = list(taken.values_list("answer_id", flat=True))
        CampaignRelease.objects.bulk_create(
            (
                CampaignRelease(
                    answer_id=answer_id,
                    campaign_name=campaign.name,
                    released_by=user,
                    released_at=now,
                )
                for answer_id in answer_ids
            ),
            batch_size=2000,
        )
        taken.delete()
        if campaign.members.exists():
            _campaign_representative_set(campaign)
        Campaign.objects.filter(pk=campaign.pk).figures_refresh(now=now)
    return len(answer_ids)


def _campaign_variants_check(campaign: Campaign, fingerprints: Collection[str]) -> None:
    """The chosen variants must be the campaign's, some of them must count (a response
    sent them that was not withdrawn), and some that count must stay."""
    chosen = set(fingerprints)
    present = set(
        campaign.members.filter(fingerprint__in=chosen).values_list("fingerprint", flat=True)
    )
    counted = campaign.members.filter(response__status=ResponseStatus.SUBMITTED)
    if not chosen or present != chosen or not counted.filter(fingerprint__in=chosen).exists():
        raise CampaignChangeError("Select the versions of the text to move, from this campaign")
    if not counted.exclude(fingerprint__in=chosen).exists():
        raise CampaignChangeError(
            "Leave at least one version of the text in this campaign; to take every answer "
            "out, use ‘Take out of campaigns’ with every version selected"
        )


def _campaign_representative_set(campaign: Campaign) -> None:
    """Make the campaign's most common variant that counts its representative (ties: the
    one sent first) and measure every variant's similarity to it again: one UPDATE per 500
    variants. Withdrawn responses' answers keep their variant but do not count."""
    variants = list(
        campaign.members.values("fingerprint")
        .annotate(
            n=Count("pk", filter=Q(response__status=ResponseStatus.SUBMITTED)),
            sent=Min("response__submitted_at"),
            first=Min("answer_id"),
        )
        .order_by("-n", "sent", "first")
        .values_list("fingerprint", "first")
    )
    texts = dict(
        Answer.objects.filter(pk__in=[first for _, first in variants]).values_list("pk", "text")
    )
    fingerprint, first = variants[0]
    representative = texts[first] or ""
    if campaign.fingerprint != fingerprint:
        clash = Campaign.objects.filter(question_id=campaign.question_id, fingerprint=fingerprint)
        if clash.exclude(pk=campaign.pk).exists():
            raise CampaignChangeError(
                "Another campaign already stands for the most common of those texts; move "
                "other versions instead"
            )
        campaign.representative, campaign.fingerprint = representative, fingerprint
        campaign.save(update_fields=["representative", "fingerprint"])
    shingles = text_shingles(text_normalise(representative))
    for start in range(0, len(variants), 500):
        batch = variants[start : start + 500]
        campaign.members.filter(fingerprint__in=[f for f, _ in batch]).update(
            similarity=Case(
                *(
                    When(
                        fingerprint=f,
                        then=Value(
                            similarity(text_shingles(text_normalise(texts[a] or "")), shingles)
                        ),
                    )
                    for f, a in batch
                ),
                output_field=FloatField(),
            )
        )


def campaigns_after_withdrawal(
    sender: object, *, response: Response, now: datetime, **kwargs: object
) -> None:
    """A withdrawn response no longer counts: its campaigns' figures are set again (a
    receiver of ``response_withdrawn``)."""
    Campaign.objects.filter(members__response=response).distinct().figures_refresh(now=now)


def campaigns_after_amendment(
    sender: object,
    *,
    response: Response,
    changed_keys: list[str],
    now: datetime,
    **kwargs: object,
) -> None:
    """A changed answer has a new row, outside any campaign (its old membership went with
    the old row): the figures of the campaigns on the changed questions are set again (a
    receiver of ``response_amended``). The new text joins a campaign, if it fits one, at
    the next detection run."""
    Campaign.objects.filter(
        consultation=response.consultation_id, question__key__in=changed_keys
    ).figures_refresh(now=now)


# Theme suggestions ----------------------------------------------------------------------

# A run that has not moved for this long lost its worker (stopped or restarted mid-run):
# it is marked failed when someone asks for a new one. Progress is written every few
# seconds while a run reads answers.
STALE_RUN = timedelta(minutes=30)


class SuggestionRunActiveError(Exception):
    """A run for the question is already waiting or running."""


class SuggestionDecidedError(Exception):
    """The suggestion was already accepted, merged or rejected."""


def suggestion_run_create(
    *, question: Question, themes: int, user: User | None, now: datetime
) -> SuggestionRun:
    """A queued run of theme suggestion for the question (``suggestion_run_request``
    hands it to the task worker; ``suggest_themes`` runs it at once).

    Raises ``SuggestionRunActiveError`` while another run for the question is active.
    """
    with transaction.atomic():
        SuggestionRun.objects.filter(
            question=question, status__in=ACTIVE_RUN, updated_at__lt=now - STALE_RUN
        ).update(
            status=SuggestionRunStatus.FAILED,
            error="The run stopped without finishing (its worker was stopped or restarted).",
            finished_at=now,
            updated_at=now,
        )
        try:
            with transaction.atomic():
                return SuggestionRun.objects.create(
                    question=question,
                    themes=themes,
                    requested_by=user,
                    requested_at=now,
                    updated_at=now,
                )
        except IntegrityError as error:
            raise SuggestionRunActiveError(question.key) from error


def suggestion_run_request(
    *, question: Question, themes: int, user: User | None, now: datetime
) -> SuggestionRun:
    """Queue a run of theme suggestion for the question, for the task worker to run.

    Raises ``SuggestionRunActiveError`` while another run for the question is active.
    """
    with transaction.atomic():
        run = suggestion_run_create(question=question, themes=themes, user=user, now=now)
        # In the same transaction: with the database backend the task row commits with
        # the run or not at all, so no run waits for a task that was never queued.
        theme_suggestions_run.enqueue(run.pk)
    return run


def _pending(suggestion: ThemeSuggestion) -> None:
    if suggestion.status != SuggestionStatus.PENDING:
        raise SuggestionDecidedError(suggestion.name)


def suggestion_accept(
    *, suggestion: ThemeSuggestion, user: User, now: datetime, description: str = ""
) -> Theme:
    """Make the suggestion a codebook theme under its (possibly renamed) name and give
    it to its answers, marked suggested and not yet reviewed, with a coding event each.

    Raises ``ThemeExistsError`` if the codebook has a theme of that name and
    ``SuggestionDecidedError`` if the suggestion is no longer pending; nothing changes.
    """
    with transaction.atomic():
        suggestion = ThemeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        _pending(suggestion)
        theme = theme_create(
            question=suggestion.run.question,
            name=suggestion.name,
            description=description or f"Suggested from the terms: {', '.join(suggestion.terms)}",
            user=user,
            now=now,
        )
        answers = (
            SuggestedAnswer.objects.filter(suggestion=suggestion)
            .order_by("answer_id")
            .values_list("answer_id", flat=True)
        )
        batch: list[int] = []
        for answer_id in answers.iterator(chunk_size=2000):
            batch.append(answer_id)
            if len(batch) == 2000:
                _suggested_assign(batch, theme, user, now)
                batch = []
        _suggested_assign(batch, theme, user, now)
        suggestion.status = SuggestionStatus.ACCEPTED
        suggestion.theme = theme
        suggestion.decided_by, suggestion.decided_at = user, now
        suggestion.save(update_fields=["status", "theme", "decided_by", "decided_at"])
    return theme


def _suggested_assign(answer_ids: list[int], theme: Theme, user: User, now: datetime) -> None:
    AnswerTheme.objects.bulk_create(
        AnswerTheme(
            answer_id=pk, theme=theme, coded_by=user, coded_at=now, suggested=True, reviewed=False
        )
        for pk in answer_ids
    )
    CodingEvent.objects.bulk_create(
        CodingEvent(answer_id=pk, theme=theme, action=CodingAction.SUGGESTED, user=user, at=now)
        for pk in answer_ids
    )


def suggestion_rename(*, suggestion: ThemeSuggestion, name: str) -> ThemeSuggestion:
    """Change a pending suggestion's name (it becomes the theme's name if accepted)."""
    with transaction.atomic():
        suggestion = ThemeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        _pending(suggestion)
        suggestion.name = name.strip()
        suggestion.save(update_fields=["name"])
    return suggestion


def suggestion_reject(*, suggestion: ThemeSuggestion, user: User, now: datetime) -> None:
    with transaction.atomic():
        suggestion = ThemeSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        _pending(suggestion)
        suggestion.status = SuggestionStatus.REJECTED
        suggestion.decided_by, suggestion.decided_at = user, now
        suggestion.save(update_fields=["status", "decided_by", "decided_at"])


def suggestions_merge(
    *, suggestions: Sequence[ThemeSuggestion], name: str, user: User, now: datetime
) -> ThemeSuggestion:
    """Merge two or more pending suggestions of one run into the largest: it takes their
    answers and quotes, their terms interleaved by rank, and ``name`` (or keeps its own);
    the others are marked merged into it. It stays pending, for the analyst to accept.

    Raises ``SuggestionDecidedError`` if any is no longer pending, ``ValueError`` if
    fewer than two or from different runs.
    """
    pks = sorted({suggestion.pk for suggestion in suggestions})
    if len(pks) < 2:
        raise ValueError("Merging needs two suggestions or more.")
    with transaction.atomic():
        # Locked first, then counted: PostgreSQL refuses FOR UPDATE with GROUP BY.
        chosen = list(ThemeSuggestion.objects.select_for_update().filter(pk__in=pks))
        sizes = dict(
            SuggestedAnswer.objects.filter(suggestion__in=pks)
            .values("suggestion")
            .annotate(n=Count("pk"))
            .values_list("suggestion", "n")
        )
        chosen.sort(key=lambda suggestion: (-sizes.get(suggestion.pk, 0), suggestion.number))
        if len({suggestion.run_id for suggestion in chosen}) != 1:
            raise ValueError("Only suggestions of the same run can be merged.")
        for suggestion in chosen:
            _pending(suggestion)
        target, others = chosen[0], chosen[1:]
        SuggestedAnswer.objects.filter(suggestion__in=others).update(suggestion=target)
        ThemeSuggestion.objects.filter(pk__in=[other.pk for other in others]).update(
            status=SuggestionStatus.MERGED, merged_into=target, decided_by=user, decided_at=now
        )
        ranks = zip_longest(*(suggestion.terms for suggestion in chosen))
        ranked = [term for rank in ranks for term in rank if term is not None]
        target.terms = list(dict.fromkeys(ranked))[:TERMS]
        target.name = name.strip() or target.name
        target.save(update_fields=["terms", "name"])
    return target
