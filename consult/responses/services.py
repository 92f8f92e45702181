"""Writes for responses: drafts, saving a section, submitting, amending and withdrawing."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, connection, models, transaction
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from consult.consultations.models import Consultation, Phase, Profile
from consult.consultations.queries import AnswerValue, ConsultationSpec, QuestionSpec, SectionSpec
from consult.responses.documents import Inspected
from consult.responses.models import (
    Amendment,
    Answer,
    DayTally,
    Document,
    OptionTally,
    QuestionTally,
    Respondent,
    Response,
    ResponseChannel,
    ResponseStatus,
)
from consult.responses.queries import PERSONAL_FIELDS, RECEIPT_SALT, response_answer_map
from consult.responses.signals import response_amended, response_withdrawn
from consult.responses.storage import documents_storage

logger = logging.getLogger(__name__)
LONDON = ZoneInfo(settings.TIME_ZONE)

# No 0/O, 1/I/L or U: a reference is read aloud and copied by hand.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


class IncompleteResponseError(Exception):
    """A submission that lacks a required answer."""

    def __init__(self, missing: list[tuple[SectionSpec, QuestionSpec]]) -> None:
        keys = ", ".join(question.key for _, question in missing)
        super().__init__(f"{len(missing)} required answers are missing: {keys}")
        self.missing = missing


class TooFastError(Exception):
    """A submission sooner after starting than a person could answer (a bot)."""


class ResponseNotDraftError(Exception):
    """The response was sent or withdrawn meanwhile (another tab, a double click)."""


class ResponseNotAmendableError(Exception):
    """The response can no longer be changed: it was withdrawn or the consultation closed."""


def reference_new(*, prefix: str) -> str:
    """A short reference such as FR-7K3M-Q9XD: 30**8 (about 6.6 * 10**11) possibilities."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{prefix}-{chars[:4]}-{chars[4:]}"


def draft_start(
    *, consultation: Consultation, now: datetime, channel: str = ResponseChannel.ONLINE
) -> Response:
    for _attempt in range(5):
        try:
            with transaction.atomic():
                response = Response.objects.create(
                    reference=reference_new(prefix=consultation.reference_prefix),
                    consultation=consultation,
                    channel=channel,
                    definition_version=consultation.definition_version,
                    started_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            continue
        return response
    raise RuntimeError("could not find an unused response reference in five tries")


def _lock_draft(response: Response) -> None:
    """Hold the response's row until the transaction ends; refuse one no longer a draft."""
    still_draft = Response.objects.select_for_update().filter(
        pk=response.pk, status=ResponseStatus.DRAFT
    )
    if not list(still_draft.values_list("pk", flat=True)):
        raise ResponseNotDraftError(response.reference)


def section_save(
    *,
    response: Response,
    spec: ConsultationSpec,
    section: SectionSpec,
    values: dict[str, AnswerValue],
    now: datetime,
) -> dict[str, AnswerValue]:
    """Store a section's answers and drop answers that the change hides; return all answers.

    ``values`` holds the validated answers to the section's shown questions ("" or () for
    an optional question left blank). Raises ``ResponseNotDraftError`` once the response
    has been sent.
    """
    section_keys = {question.key for question in section.answerable()}
    with transaction.atomic():
        _lock_draft(response)
        stored = response_answer_map(response=response, spec=spec)
        answers, touched = answers_merged(spec=spec, section=section, answers=stored, values=values)
        stale = [spec.by_key[key].id for key in touched]

        Answer.objects.filter(response=response, question_id__in=stale).delete()
        Answer.objects.bulk_create(_answer_rows(response, spec, section_keys, answers))
        _respondent_save(response, spec, answers, changed=touched)
        if _document_hidden(spec, hidden=touched - section_keys):
            documents_delete(documents=Document.objects.filter(response=response))
        response.respondent_type = _chosen_code(spec, answers, Profile.RESPONDENT_TYPE)
        response.publication = _chosen_code(spec, answers, Profile.PUBLICATION)
        response.updated_at = now
        response.save(update_fields=["respondent_type", "publication", "updated_at"])
    return answers


def _document_hidden(spec: ConsultationSpec, *, hidden: set[str]) -> bool:
    """Whether the save stopped the respondent answering for an organisation: the question
    of its name went hidden, and with it the supporting document."""
    question = spec.by_profile.get(Profile.ORGANISATION_NAME)
    return question is not None and question.key in hidden


def answers_merged(
    *,
    spec: ConsultationSpec,
    section: SectionSpec,
    answers: dict[str, AnswerValue],
    values: dict[str, AnswerValue],
) -> tuple[dict[str, AnswerValue], set[str]]:
    """All the answers once a section's ``values`` replace its earlier ones, without the
    answers that the change hides; and the keys whose stored answers must go (the
    section's and the hidden ones). Stores nothing: a draft's save and an amendment held
    in the session both use it."""
    section_keys = {question.key for question in section.answerable()}
    merged = {k: v for k, v in answers.items() if k not in section_keys}
    merged.update({k: v for k, v in values.items() if v})
    shown = {
        question.key
        for each in spec.sections
        for parent in spec.visible_questions(each, merged)
        for question in parent.rows or (parent,)
    }
    hidden = {key for key in merged if key not in shown}
    return {k: v for k, v in merged.items() if k in shown}, section_keys | hidden


def _respondent_save(
    response: Response, spec: ConsultationSpec, answers: dict[str, AnswerValue], changed: set[str]
) -> None:
    """Keep the personal details in step with the answers, when the save touched any of
    them: one UPDATE, or an INSERT the first time there is something to keep."""
    fields = {
        question.key: field_name
        for profile, field_name in PERSONAL_FIELDS.items()
        if (question := spec.by_profile.get(profile))
    }
    if not fields.keys() & changed:
        return
    personal = {field_name: str(answers.get(key, "")) for key, field_name in fields.items()}
    if Respondent.objects.filter(response=response).update(**personal):
        response.respondent = Respondent(response=response, **personal)  # as now stored
    elif any(personal.values()):
        response.respondent = Respondent.objects.create(response=response, **personal)


def _answer_rows(
    response: Response, spec: ConsultationSpec, keys: set[str], answers: dict[str, AnswerValue]
) -> list[Answer]:
    rows: list[Answer] = []
    for key in sorted(keys & answers.keys()):
        question = spec.by_key[key]
        value = answers[key]
        if question.profile in PERSONAL_FIELDS:
            continue
        if isinstance(value, tuple):
            rows.extend(
                Answer(response=response, question_id=question.id, option_id=option.id)
                for code in value
                if (option := question.option_by_code(code)) is not None
            )
        else:
            rows.append(Answer(response=response, question_id=question.id, text=value))
    return rows


def _chosen_code(spec: ConsultationSpec, answers: dict[str, AnswerValue], profile: str) -> str:
    question = spec.by_profile.get(profile)
    value = answers.get(question.key, ()) if question else ()
    return value[0] if isinstance(value, tuple) and value else ""


def document_attach(
    *, response: Response, upload: UploadedFile, inspected: Inspected, now: datetime
) -> Document:
    """Keep the checked ``upload`` as the response's supporting document, in place of any
    earlier one. The file is written under a random name first; if the database refuses
    (the response was sent meanwhile), it is deleted again. Raises
    ``ResponseNotDraftError`` once the response has been sent."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    name = documents_storage.save(f"{secrets.token_hex(16)}.{inspected.kind}", upload)
    try:
        with transaction.atomic():
            _lock_draft(response)
            documents_delete(documents=Document.objects.filter(response=response))
            document = Document.objects.create(
                response=response,
                file=name,
                original_name=(upload.name or "")[-255:],
                kind=inspected.kind,
                size=upload.size or 0,
                sha256=digest.hexdigest(),
                text=inspected.text,
                uploaded_at=now,
            )
            Response.objects.filter(pk=response.pk).update(updated_at=now)
    except BaseException:
        documents_storage.delete(name)
        raise
    return document


def document_remove(*, response: Response, now: datetime) -> None:
    """Remove the draft's supporting document, if it has one."""
    with transaction.atomic():
        _lock_draft(response)
        documents_delete(documents=Document.objects.filter(response=response))
        Response.objects.filter(pk=response.pk).update(updated_at=now)


def documents_delete(*, documents: QuerySet[Document]) -> None:
    """Delete the documents' rows now and their files once the transaction commits (a
    rollback keeps both)."""
    names = list(documents.values_list("file", flat=True))
    if not names:
        return
    documents.delete()

    def delete_files() -> None:
        for name in names:
            documents_storage.delete(name)

    transaction.on_commit(delete_files, robust=True)


def response_submit(
    *,
    response: Response,
    spec: ConsultationSpec,
    now: datetime,
    site_url: str,
    received_at: datetime | None = None,
    language: str | None = None,
) -> Response:
    """Submit a draft once; a second call (double click, resent form) changes nothing.

    Raises ``IncompleteResponseError`` when a shown, required question is unanswered, and
    ``TooFastError`` when it comes sooner after starting than a person could answer.
    With an email address, a receipt is sent once the submission is committed.

    A response keyed in by staff from a letter, an email or a call gives ``received_at``:
    it counts as sent then, and the speed check (against bots) does not apply.

    ``language`` is the language the respondent sent it in (default: the site's own).
    """
    this = Response.objects.filter(pk=response.pk)
    sent_at = received_at or now
    language = language or settings.LANGUAGE_CODE
    with transaction.atomic():
        # Sent only if still a draft; the row stays locked until the end, and a refusal
        # below rolls the change back.
        sent = this.filter(status=ResponseStatus.DRAFT).update(
            status=ResponseStatus.SUBMITTED, submitted_at=sent_at, updated_at=now, language=language
        )
        if not sent:
            response.refresh_from_db()
            return response
        answers = response_answer_map(response=response, spec=spec)
        missing = spec.missing_answers(answers)
        if missing:
            raise IncompleteResponseError(missing)
        too_fast = now - response.started_at < timedelta(seconds=settings.FASTEST_HUMAN_SECONDS)
        if too_fast and received_at is None:
            raise TooFastError(response.reference)
        tallies_add(responses=this)
        response.status = ResponseStatus.SUBMITTED
        response.submitted_at, response.updated_at = sent_at, now
        response.language = language
        email_question = spec.by_profile.get(Profile.EMAIL)
        email = answers.get(email_question.key, "") if email_question else ""
        if isinstance(email, str) and email:
            transaction.on_commit(
                lambda: receipt_send(response=response, email=email, site_url=site_url),
                robust=True,
            )
    return response


def response_amend(
    *,
    response: Response,
    spec: ConsultationSpec,
    answers: dict[str, AnswerValue],
    now: datetime,
    site_url: str | None = None,
) -> Amendment | None:
    """Replace a sent response's answers with ``answers`` (all of them, as the journey
    merged them), while the consultation is open; None if nothing changed.

    With a ``site_url``, the respondent is told by email (after the commit) which answers
    changed: at the address the response now gives and, when the change replaced it, at
    the earlier one too, so a change made by someone else with the private link is seen.

    Only the changed questions' answer rows are replaced, so unchanged answers keep their
    themes and campaign memberships. The response leaves the running counts and comes
    back with its new answers in the same transaction, and an ``Amendment`` records the
    change. Raises ``ResponseNotAmendableError`` once it is withdrawn or the consultation
    has closed, and ``IncompleteResponseError`` when a shown, required question is
    unanswered.
    """
    answers = {key: value for key, value in answers.items() if value}
    with transaction.atomic():
        this = Response.objects.filter(pk=response.pk)
        locked = this.select_for_update().filter(status=ResponseStatus.SUBMITTED)
        if not list(locked.values_list("pk", flat=True)):
            raise ResponseNotAmendableError(response.reference)
        if response.consultation.phase(now) != Phase.OPEN:
            raise ResponseNotAmendableError(response.reference)
        missing = spec.missing_answers(answers)
        if missing:
            raise IncompleteResponseError(missing)
        stored = response_answer_map(response=response, spec=spec)
        asked = list(spec.by_key)  # in the order they are asked
        changed = sorted(
            (key for key in stored.keys() | answers.keys() if stored.get(key) != answers.get(key)),
            key=asked.index,
        )
        if not changed:
            return None
        tallies_add(responses=this, sign=-1)
        question_ids = [spec.by_key[key].id for key in changed]
        Answer.objects.filter(response=response, question_id__in=question_ids).delete()
        Answer.objects.bulk_create(_answer_rows(response, spec, set(changed), answers))
        _respondent_save(response, spec, answers, changed=set(changed))
        response.respondent_type = _chosen_code(spec, answers, Profile.RESPONDENT_TYPE)
        response.publication = _chosen_code(spec, answers, Profile.PUBLICATION)
        response.updated_at = now
        response.save(update_fields=["respondent_type", "publication", "updated_at"])
        tallies_add(responses=this)
        amendment = Amendment.objects.create(
            response=response,
            at=now,
            changed_keys=changed,
            previous={key: _as_stored(spec, key, stored.get(key)) for key in changed},
        )
        response_amended.send(sender=Response, response=response, changed_keys=changed, now=now)
        emails = _emails(spec, stored) | _emails(spec, answers)
        if site_url is not None and emails:
            transaction.on_commit(
                lambda: amendment_notice_send(
                    response=response,
                    spec=spec,
                    changed_keys=changed,
                    emails=sorted(emails),
                    site_url=site_url,
                ),
                robust=True,
            )
    return amendment


def _emails(spec: ConsultationSpec, answers: Mapping[str, AnswerValue]) -> set[str]:
    question = spec.by_profile.get(Profile.EMAIL)
    email = answers.get(question.key, "") if question else ""
    return {email} if isinstance(email, str) and email else set()


def _as_stored(spec: ConsultationSpec, key: str, value: AnswerValue | None) -> object:
    """An earlier answer as the amendment keeps it: personal details are not kept."""
    if spec.by_key[key].profile in PERSONAL_FIELDS or not value:
        return None
    return list(value) if isinstance(value, tuple) else value


def received_moment(*, day: date, consultation: Consultation, now: datetime) -> datetime:
    """When a response received on ``day`` (by post, email or phone) counts as sent: noon
    UK time, as a letter has a day but no time, kept within the consultation's open
    period and never later than ``now``."""
    noon = datetime.combine(day, time(12), tzinfo=LONDON)
    last = consultation.closes_at - timedelta(microseconds=1)
    return max(min(noon, now, last), consultation.opens_at)


def receipt_token(*, response: Response) -> str:
    return signing.dumps(str(response.pk), salt=RECEIPT_SALT)


def receipt_send(*, response: Response, email: str, site_url: str) -> None:
    """Email the reference and private link; a mail failure never undoes the submission."""
    # In the language the response was sent in, whatever the thread's (a task, a command).
    _email_send(
        response=response,
        template="responses/email/receipt.txt",
        subject=gettext_noop("Your response to “%(title)s”: %(reference)s"),
        language=response.language or settings.LANGUAGE_CODE,
        emails=[email],
        site_url=site_url,
    )
    logger.info("Receipt sent for response %s", response.reference)


def amendment_notice_send(
    *,
    response: Response,
    spec: ConsultationSpec,
    changed_keys: list[str],
    emails: list[str],
    site_url: str,
) -> None:
    """Email the questions whose answers changed, in the language of the pages they were
    changed on (``spec``'s), with the private link; a mail failure undoes nothing."""
    changed = [_question_words(spec, key) for key in changed_keys]
    _email_send(
        response=response,
        template="responses/email/amended.txt",
        subject=gettext_noop("Changes saved to your response to “%(title)s”: %(reference)s"),
        language=spec.language,
        emails=emails,
        site_url=site_url,
        changed=changed,
    )
    logger.info("Amendment notice sent for response %s", response.reference)


def _question_words(spec: ConsultationSpec, key: str) -> str:
    """A question's text; a matrix row's after its question's ("Safeguards: A law")."""
    parent_key, _, row = key.partition("__")
    if row and parent_key in spec.by_key:
        return f"{spec.by_key[parent_key].text}: {spec.by_key[key].text}"
    return spec.by_key[key].text


def _email_send(
    *,
    response: Response,
    template: str,
    subject: str,
    language: str,
    emails: list[str],
    site_url: str,
    **context: Any,
) -> None:
    """One email about ``response`` in ``language`` (``translation.override`` puts the
    thread's own language back afterwards), with its private link; each address gets
    its own, so none sees another. ``subject`` is the English, marked by gettext_noop."""
    link = urljoin(site_url, reverse("responses:receipt", args=[receipt_token(response=response)]))
    context |= {"response": response, "consultation": response.consultation, "link": link}
    with translation.override(language):
        words = {
            "title": response.consultation.text("title", language),
            "reference": response.reference,
        }
        subject = gettext(subject) % words
        message = render_to_string(template, context)
    for email in emails:
        send_mail(
            subject=subject,
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[email],
        )


def response_withdraw(*, response: Response, now: datetime) -> bool:
    """Withdraw a submitted response; False if it was already withdrawn."""
    with transaction.atomic():
        this = Response.objects.filter(pk=response.pk)
        withdrawn = this.filter(status=ResponseStatus.SUBMITTED).update(
            status=ResponseStatus.WITHDRAWN, withdrawn_at=now, updated_at=now
        )
        if withdrawn:
            tallies_add(responses=this, sign=-1)
            response_withdrawn.send(sender=Response, response=response, now=now)
    response.refresh_from_db(fields=["status", "withdrawn_at", "updated_at"])
    return bool(withdrawn)


def tallies_add(*, responses: QuerySet[Response], sign: int = 1) -> None:
    """Add ``responses`` to the running counts of results, or take them away with
    ``sign=-1``: call it in the transaction that makes them count (submitted) or stop
    counting (withdrawn, erased), while their answers are still there. Three
    statements, however many responses and answers.

    Rows are written in key order, so that two submissions changing the same counts at
    once on PostgreSQL wait for each other rather than deadlock."""
    chosen = (
        Answer.objects.filter(response__in=responses, option__isnull=False)
        .values("question_id", "option_id")
        .annotate(n=Count("pk") * sign)
        .order_by("question_id", "option_id")
    )
    answered = (
        Answer.objects.filter(response__in=responses)
        .values("question_id")
        .annotate(n=Count("response_id", distinct=True) * sign)
        .order_by("question_id")
    )
    days = (
        responses.annotate(day=TruncDate("submitted_at", tzinfo=LONDON))
        .values("consultation_id", "day")
        .annotate(n=Count("pk") * sign)
        .order_by("consultation_id", "day")
    )
    _tally_upsert(OptionTally, ["question_id", "option_id"], chosen)
    _tally_upsert(QuestionTally, ["question_id"], answered)
    _tally_upsert(DayTally, ["consultation_id", "day"], days)


def _tally_upsert(model: type[models.Model], keys: list[str], rows: QuerySet[Any]) -> None:
    """INSERT ... SELECT the grouped ``rows`` (the key columns, then n), adding n to the
    count of a key already there."""
    select, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    key_list = ", ".join(map(quote, keys))
    # Names come from the models; values are parameters of the compiled SELECT.
    upsert = f"ON CONFLICT ({key_list}) DO UPDATE SET n = {table}.n + excluded.n"  # nosec B608
    statement = f"INSERT INTO {table} ({key_list}, n) {select} {upsert}"  # nosec B608
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def tallies_rebuild(*, consultation: Consultation) -> None:
    """Make the consultation's running counts again from its answers."""
    with transaction.atomic():
        if connection.vendor == "postgresql":  # submissions wait rather than count twice
            for model in (OptionTally, QuestionTally, DayTally):
                with connection.cursor() as cursor:
                    table = connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        OptionTally.objects.filter(question__consultation=consultation).delete()
        QuestionTally.objects.filter(question__consultation=consultation).delete()
        DayTally.objects.filter(consultation=consultation).delete()
        tallies_add(responses=Response.objects.counted().filter(consultation=consultation))


@dataclass(frozen=True)
class PurgeResult:
    personal_details: int  # responses whose name, email and organisation name went
    drafts: int  # drafts never sent, deleted with their answers
    orphan_files: int = 0  # files in DOCUMENTS_ROOT that no document names


# A file in the documents folder that no document names is an orphan only once it is
# this old: an upload writes its file a moment before its row.
ORPHAN_AGE = timedelta(days=1)


def personal_data_purge(*, now: datetime, dry_run: bool = False) -> PurgeResult:
    """Apply the retention periods: delete the personal details of responses to
    consultations closed longer than ``PERSONAL_DATA_RETENTION_DAYS`` (their anonymous
    answers stay), and drafts untouched for ``DRAFT_RETENTION_DAYS``. With ``dry_run``,
    count what would go and change nothing.

    Also deletes the files in ``DOCUMENTS_ROOT`` that no document names, once a day old:
    left by a process that stopped between writing a file and committing its row, or by
    a deletion whose file could not be removed.
    """
    closed_before = now - timedelta(days=settings.PERSONAL_DATA_RETENTION_DAYS)
    details = Respondent.objects.filter(response__consultation__closes_at__lte=closed_before)
    stale = now - timedelta(days=settings.DRAFT_RETENTION_DAYS)
    drafts = Response.objects.filter(status=ResponseStatus.DRAFT, updated_at__lt=stale)
    orphans = documents_orphaned(now=now)
    result = PurgeResult(
        personal_details=details.count(), drafts=drafts.count(), orphan_files=len(orphans)
    )
    if not dry_run:
        with transaction.atomic():
            details.delete()
            documents_delete(documents=Document.objects.filter(response__in=drafts))
            drafts.delete()
        for name in orphans:
            documents_storage.delete(name)
    return result


def documents_orphaned(*, now: datetime) -> list[str]:
    """The stored names of files in the documents folder that no document names and that
    were last written over ``ORPHAN_AGE`` ago."""
    root = Path(documents_storage.location)
    if not root.is_dir():
        return []
    known = set(Document.objects.values_list("file", flat=True))
    before = (now - ORPHAN_AGE).timestamp()
    return sorted(
        name
        for path in root.rglob("*")
        if path.is_file()
        and (name := path.relative_to(root).as_posix()) not in known
        and path.stat().st_mtime < before
    )
