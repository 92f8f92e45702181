"""Retention: personal details and unsent drafts are deleted on time, answers kept."""

from datetime import UTC, datetime, timedelta
from io import StringIO

from django.core.management import call_command
from django.utils import timezone

from consult.responses.models import Answer, Respondent, Response, ResponseStatus
from tests.analysis.generate import generate


def close(consultation, days_ago: int) -> None:
    consultation.closes_at = timezone.now() - timedelta(days=days_ago)
    consultation.opens_at = consultation.closes_at - timedelta(days=60)
    consultation.save()


def test_personal_details_go_after_the_retention_period_and_answers_stay(consultation, settings):
    settings.PERSONAL_DATA_RETENTION_DAYS = 365
    generate(consultation, 6, start=datetime(2026, 10, 1, tzinfo=UTC))
    answers = Answer.objects.count()
    with_details = Respondent.objects.count()
    assert with_details > 0

    close(consultation, 364)
    call_command("purge_personal_data", stdout=StringIO())
    assert Respondent.objects.count() == with_details  # not yet

    close(consultation, 366)
    out = StringIO()
    call_command("purge_personal_data", stdout=out)
    assert f"personal details of {with_details} responses" in out.getvalue()
    assert not Respondent.objects.exists()
    assert Answer.objects.count() == answers
    assert Response.objects.filter(status=ResponseStatus.SUBMITTED).count() == 6


def test_dry_run_reports_and_changes_nothing(consultation):
    generate(consultation, 4, start=datetime(2026, 10, 1, tzinfo=UTC))
    close(consultation, 400)
    before = Respondent.objects.count()
    out = StringIO()
    call_command("purge_personal_data", "--dry-run", stdout=out)
    assert out.getvalue().startswith(f"Would delete the personal details of {before} responses")
    assert Respondent.objects.count() == before


def test_old_unsent_drafts_are_deleted_with_their_answers(consultation, settings):
    settings.DRAFT_RETENTION_DAYS = 30
    generate(consultation, 2, start=datetime(2026, 10, 1, tzinfo=UTC), drafts=3)
    drafts = Response.objects.filter(status=ResponseStatus.DRAFT)
    old, recent = list(drafts[:2]), drafts[2]
    Response.objects.filter(pk__in=[d.pk for d in old]).update(
        updated_at=timezone.now() - timedelta(days=31)
    )
    Response.objects.filter(pk=recent.pk).update(updated_at=timezone.now() - timedelta(days=29))
    call_command("purge_personal_data", stdout=StringIO())
    assert list(Response.objects.filter(status=ResponseStatus.DRAFT)) == [recent]
    assert not Answer.objects.filter(response__in=[d.pk for d in old]).exists()
    assert Response.objects.filter(status=ResponseStatus.SUBMITTED).count() == 2
