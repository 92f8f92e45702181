"""Theme suggestions for open questions: the engine (seeded, campaigns left out, the
generated themes found again), what analysts do with suggestions (accept, rename, merge,
reject, then review) and what the pages, results and report say after, the background
task through the real worker, the progress endpoint and the command."""

import io
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from docx import Document
from sklearn.metrics import normalized_mutual_info_score

from consult.analysis import queries, services
from consult.analysis.campaigns import consultation_campaigns_detect
from consult.analysis.models import (
    AnswerTheme,
    CampaignMember,
    CodingAction,
    CodingEvent,
    Role,
    SuggestedAnswer,
    SuggestionRun,
    SuggestionRunStatus,
    SuggestionStatus,
    Theme,
    ThemeSuggestion,
)
from consult.analysis.themes import (
    suggestion_answers,
    suggestion_name,
    suggestion_run_execute,
)
from consult.responses.models import Answer, ResponseStatus
from consult.responses.synthetic import THEMES, responses_generate, text_theme
from tests.analysis.conftest import respond, user_make

KEY = "anything_else"
NOW = timezone.now()
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def generated(consultation):
    """400 generated responses: about 200 answers to the question on seven themes, and
    campaign copies."""
    responses_generate(consultation=consultation, count=400, seed=3, now=NOW, batch_size=200)
    return consultation


def question_of(consultation, key: str = KEY):
    return consultation.questions.get(key=key)


def run_suggestions(consultation, themes: int = 7, key: str = KEY, user=None) -> SuggestionRun:
    run = services.suggestion_run_create(
        question=question_of(consultation, key), themes=themes, user=user, now=timezone.now()
    )
    return suggestion_run_execute(run_id=run.pk)


def assignments(run: SuggestionRun) -> dict[str, set[int]]:
    return {
        suggestion.name: set(suggestion.answers.values_list("answer_id", flat=True))
        for suggestion in run.suggestions.all()
    }


def page_url(consultation, name: str = "suggestions", **kwargs) -> str:
    return reverse(f"analysis:{name}", kwargs={"slug": consultation.slug, "key": KEY, **kwargs})


def messages_of(reply) -> list[str]:
    return [str(message) for message in get_messages(reply.wsgi_request)]


def codebook_state() -> tuple[int, int, int]:
    return Theme.objects.count(), AnswerTheme.objects.count(), CodingEvent.objects.count()


# ---------------------------------------------------------------- the engine


def test_the_generator_writes_each_answer_about_one_theme_it_can_be_told_by():
    assert text_theme("Privacy data cameras police deletion judge.") == "privacy"
    assert text_theme("Ban live facial recognition in public places now.") is None
    words = [word for theme in THEMES.values() for word in theme]
    assert len(words) == len(set(words)), "each theme's words are its own"


def test_suggestions_find_the_generated_themes_again_and_a_second_run_gives_the_same(
    generated,
):
    consultation_campaigns_detect(consultation=generated, now=NOW + timedelta(minutes=5))
    first = run_suggestions(generated)
    second = run_suggestions(generated)

    assert first.status == second.status == SuggestionRunStatus.DONE
    assert first.error == ""
    assert assignments(first) == assignments(second)
    assert list(first.suggestions.values_list("name", "terms")) == list(
        second.suggestions.values_list("name", "terms")
    )
    # Every answer considered got a theme here, and the themes are the generator's.
    truth, found = [], []
    for suggestion in first.suggestions.all():
        for text in Answer.objects.filter(
            pk__in=suggestion.answers.values("answer_id")
        ).values_list("text", flat=True):
            truth.append(text_theme(text))
            found.append(suggestion.pk)
    assert normalized_mutual_info_score(truth, found) > 0.8
    assert first.total == first.done == suggestion_answers(first.question_id).count()
    for suggestion in first.suggestions.all():
        quotes = suggestion.answers.filter(quote=True)
        assert 1 <= quotes.count() <= 3
        assert len(suggestion.terms) == 10
        # The name is made from the top terms.
        assert suggestion.terms[0].casefold() in suggestion.name.casefold()


def test_campaign_answers_drafts_and_withdrawn_responses_are_left_out(generated):
    consultation_campaigns_detect(consultation=generated, now=NOW + timedelta(minutes=5))
    members = set(
        CampaignMember.objects.filter(answer__question__key=KEY).values_list("answer_id", flat=True)
    )
    assert members
    withdrawn = set(
        Answer.objects.filter(
            question__key=KEY, response__status=ResponseStatus.WITHDRAWN
        ).values_list("pk", flat=True)
    )

    run = run_suggestions(generated)

    suggested = set(
        SuggestedAnswer.objects.filter(suggestion__run=run).values_list("answer_id", flat=True)
    )
    assert suggested
    assert not suggested & members
    assert not suggested & withdrawn
    assert run.excluded == len(members - withdrawn)


def test_suggesting_changes_nothing_in_the_codebook(generated, analyst):
    Theme.objects.create(
        question=question_of(generated), name="Kept", created_by=analyst, created_at=NOW
    )
    before = codebook_state()
    run_suggestions(generated)
    assert codebook_state() == before


def test_too_few_answers_fail_the_run_with_the_reason_and_no_suggestions(consultation):
    for text in ("Cameras watch us", "More police instead"):
        respond(consultation, NOW, anything_else=text)

    run = run_suggestions(consultation, themes=8)

    assert run.status == SuggestionRunStatus.FAILED
    assert run.error == (
        "There are 2 answers outside campaigns; suggesting 8 themes needs at least 40. "
        "Ask for fewer themes, or wait for more answers."
    )
    assert run.finished_at is not None
    assert not ThemeSuggestion.objects.exists()


def test_a_name_is_made_of_the_first_terms_without_repeating_a_word():
    assert suggestion_name(["data retention", "data", "retention", "images", "bias"]) == (
        "Data retention, images and bias"
    )
    assert suggestion_name(["privacy"]) == "Privacy"
    assert suggestion_name([]) == "Unnamed theme"


# ---------------------------------------------------------------- asking from the page


def test_the_page_offers_a_run_and_the_button_runs_one(analyst_client, generated):
    page = analyst_client.get(page_url(generated)).content.decode()
    assert "No themes have been suggested for this question yet." in page
    assert "Suggest themes" in page
    free_text = analyst_client.get(
        reverse("analysis:free_text", args=[generated.slug, KEY])
    ).content.decode()
    assert page_url(generated) in free_text

    # The test settings run tasks at once (the immediate backend).
    reply = analyst_client.post(page_url(generated, "suggestions_request"), {"themes": "7"})

    assert reply.status_code == 302
    assert reply["Location"] == page_url(generated)
    run = SuggestionRun.objects.get()
    assert (run.status, run.themes, run.requested_by.username) == ("done", 7, "analyst")
    page = analyst_client.get(page_url(generated)).content.decode()
    assert f"themes suggested from {run.total:,} answers" in page
    assert f"{run.suggestions.count()} suggestions" in page
    for suggestion in run.suggestions.all():
        assert suggestion.name in page
        assert ", ".join(suggestion.terms) in page
    assert "Answers in campaigns are left out" in page


@pytest.mark.parametrize(
    ("themes", "message"),
    [
        ("", "Enter how many themes to suggest"),
        ("eight", "Enter how many themes to suggest as a whole number, like 8"),
        ("1", "Ask for 2 themes or more"),
        ("31", "Ask for 30 themes or fewer"),
    ],
)
def test_a_bad_number_of_themes_is_refused_with_a_message(
    analyst_client, consultation, themes, message
):
    reply = analyst_client.post(page_url(consultation, "suggestions_request"), {"themes": themes})
    assert reply.status_code == 400
    page = reply.content.decode()
    assert f'<a href="#themes">{message}</a>' in page
    assert "<title>Error: " in page
    assert not SuggestionRun.objects.exists()


def test_a_second_run_is_refused_while_one_is_active_and_a_stale_one_is_replaced(
    analyst_client, consultation
):
    question = question_of(consultation)
    with override_settings(TASKS=DATABASE_TASKS):
        services.suggestion_run_request(question=question, themes=8, user=None, now=NOW)
        reply = analyst_client.post(page_url(consultation, "suggestions_request"), {"themes": "8"})
        assert messages_of(reply) == ["Themes are already being suggested for this question."]
        assert SuggestionRun.objects.count() == 1

        later = NOW + services.STALE_RUN + timedelta(minutes=1)
        services.suggestion_run_request(question=question, themes=8, user=None, now=later)
    old, new = SuggestionRun.objects.order_by("pk")
    assert old.status == SuggestionRunStatus.FAILED
    assert "stopped without finishing" in old.error
    assert new.status == SuggestionRunStatus.QUEUED


# ---------------------------------------------------------------- the background task


@pytest.mark.django_db(transaction=True)
def test_a_run_asked_for_is_queued_and_the_worker_runs_it(consultation, client):
    """Committed, as in production: the worker sees the task and the run only once the
    request's transaction commits. (pytest-django runs this after the other tests, when
    a flush may have taken the roles' groups away: ``analyst_create`` makes them.)"""
    responses_generate(consultation=consultation, count=400, seed=3, now=NOW, batch_size=200)
    analyst = services.analyst_create(
        username="worker-analyst", email="", password="a long enough passphrase for tests"
    )
    analyst_client = client
    analyst_client.force_login(analyst)
    with override_settings(TASKS=DATABASE_TASKS):
        analyst_client.post(page_url(consultation, "suggestions_request"), {"themes": "7"})
        run = SuggestionRun.objects.get()
        assert run.status == SuggestionRunStatus.QUEUED
        assert DBTaskResult.objects.get().args_kwargs == {"args": [run.pk], "kwargs": {}}
        progress = analyst_client.get(page_url(consultation, "suggestions_progress")).json()
        assert progress == {
            "status": "queued",
            "active": True,
            "done": 0,
            "total": 0,
            "text": "Waiting for the task worker to start the run.",
        }
        page = analyst_client.get(page_url(consultation)).content.decode()
        assert 'role="status" aria-live="polite"' in page
        assert ">Refresh</a>" in page
        assert "Suggest themes</button>" not in page  # one run at a time

        call_command("db_worker", "--batch", "--no-startup-delay", stdout=StringIO())

    run.refresh_from_db()
    assert run.status == SuggestionRunStatus.DONE
    assert run.done == run.total > 0
    assert run.suggestions.count() == 7
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    progress = analyst_client.get(page_url(consultation, "suggestions_progress")).json()
    assert progress["status"] == "done"
    assert progress["active"] is False
    assert progress["text"].endswith(f"themes suggested from {run.total:,} answers.")


def test_progress_says_how_far_a_run_has_got(analyst_client, consultation):
    assert analyst_client.get(page_url(consultation, "suggestions_progress")).status_code == 404
    run = SuggestionRun.objects.create(
        question=question_of(consultation),
        themes=8,
        status=SuggestionRunStatus.RUNNING,
        done=1234,
        total=100_000,
        requested_at=NOW,
        started_at=NOW,
        updated_at=NOW,
    )
    progress = analyst_client.get(page_url(consultation, "suggestions_progress")).json()
    assert progress["text"] == "Finding themes: 1,234 of 100,000 answers."
    page = analyst_client.get(page_url(consultation)).content.decode()
    assert "Finding themes: 1,234 of 100,000 answers." in page
    run.status, run.error, run.finished_at = SuggestionRunStatus.FAILED, "Out of luck.", NOW
    run.save()
    progress = analyst_client.get(page_url(consultation, "suggestions_progress")).json()
    assert progress["text"].startswith("The run failed at ")
    assert progress["text"].endswith("Out of luck.")


def test_a_run_waiting_long_says_to_check_the_worker(consultation):
    run = SuggestionRun(
        question=question_of(consultation), themes=8, requested_at=NOW, updated_at=NOW
    )
    assert queries.suggestion_progress(run, now=NOW + timedelta(minutes=1))["text"] == (
        "Waiting for the task worker to start the run."
    )
    assert queries.suggestion_progress(run, now=NOW + timedelta(minutes=3))["text"] == (
        "Waiting for the task worker to start the run. If it does not start soon, check "
        "that the task worker is running."
    )


def test_an_unexpected_error_marks_the_run_failed_and_reaches_the_worker(consultation, monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr("consult.analysis.themes._suggest", broken)
    run = services.suggestion_run_create(
        question=question_of(consultation), themes=8, user=None, now=NOW
    )
    with pytest.raises(MemoryError):
        suggestion_run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SuggestionRunStatus.FAILED
    assert run.error.startswith("The run stopped on an unexpected error (MemoryError).")
    # A task repeated for a run that already ran does nothing.
    assert suggestion_run_execute(run_id=run.pk).status == SuggestionRunStatus.FAILED


# ---------------------------------------------------------------- analysts decide


@pytest.fixture
def run(generated, analyst) -> SuggestionRun:
    return run_suggestions(generated, user=analyst)


def largest(run: SuggestionRun, skip: int = 0) -> ThemeSuggestion:
    counted = Counter(
        SuggestedAnswer.objects.filter(suggestion__run=run).values_list("suggestion", flat=True)
    )
    return ThemeSuggestion.objects.get(pk=counted.most_common()[skip][0])


def test_accepting_makes_a_theme_given_to_the_suggested_answers_for_review(
    analyst_client, analyst, generated, run
):
    suggestion = largest(run)
    answers = set(suggestion.answers.values_list("answer_id", flat=True))

    reply = analyst_client.post(
        page_url(generated, "suggestion_accept", suggestion_id=suggestion.pk)
    )

    assert reply.status_code == 302
    theme = Theme.objects.get()
    assert theme.name == suggestion.name
    assert theme.description == f"Suggested from the terms: {', '.join(suggestion.terms)}"
    coded = AnswerTheme.objects.filter(theme=theme)
    assert set(coded.values_list("answer_id", flat=True)) == answers
    assert set(coded.values_list("suggested", "reviewed", "coded_by")) == {
        (True, False, analyst.pk)
    }
    events = CodingEvent.objects.filter(theme=theme)
    assert set(events.values_list("answer_id", flat=True)) == answers
    assert set(events.values_list("action", flat=True)) == {CodingAction.SUGGESTED}
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.theme, suggestion.decided_by) == (
        SuggestionStatus.ACCEPTED,
        theme,
        analyst,
    )
    assert messages_of(reply) == [
        f"Theme “{theme.name}” added to the codebook and given to its suggested answers, "
        "for you to review."
    ]
    page = analyst_client.get(page_url(generated)).content.decode()
    assert "Accepted</strong>" in page
    assert f"?theme={theme.pk}&amp;unreviewed=1" in page

    # The free-text page lists them as suggested, not yet reviewed, and counts them.
    listing = reverse("analysis:free_text", args=[generated.slug, KEY])
    unreviewed = analyst_client.get(listing, {"theme": theme.pk, "unreviewed": "1"})
    text = unreviewed.content.decode()
    assert f"{len(answers)} answer{'s' if len(answers) != 1 else ''} coded “{theme.name}”" in text
    assert "not yet reviewed" in text
    assert f"{theme.name} ({len(answers)})" in text

    # A second accept changes nothing more.
    again = analyst_client.post(
        page_url(generated, "suggestion_accept", suggestion_id=suggestion.pk)
    )
    assert messages_of(again) == [
        f"“{suggestion.name}” was already accepted, merged or rejected; nothing changed."
    ]
    assert Theme.objects.count() == 1


def test_saving_an_answers_themes_reviews_the_suggested_ones(analyst_client, generated, run):
    suggestion = largest(run)
    theme = services.suggestion_accept(
        suggestion=suggestion, user=run.requested_by, now=timezone.now()
    )
    kept, dropped = AnswerTheme.objects.filter(theme=theme).order_by("answer_id")[:2]
    code = "analysis:answer_code"
    analyst_client.post(
        reverse(code, args=[generated.slug, KEY, kept.answer_id]), {"themes": [theme.pk]}
    )
    analyst_client.post(reverse(code, args=[generated.slug, KEY, dropped.answer_id]), {})

    kept.refresh_from_db()
    assert (kept.suggested, kept.reviewed) == (True, True)
    assert not AnswerTheme.objects.filter(pk=dropped.pk).exists()
    assert list(
        CodingEvent.objects.filter(answer_id__in=[kept.answer_id, dropped.answer_id])
        .exclude(action=CodingAction.SUGGESTED)
        .values_list("answer_id", "action")
    ) == [(kept.answer_id, CodingAction.REVIEWED), (dropped.answer_id, CodingAction.REMOVED)]
    left = AnswerTheme.objects.filter(theme=theme, reviewed=False).count()
    listing = reverse("analysis:free_text", args=[generated.slug, KEY])
    page = analyst_client.get(listing, {"theme": theme.pk, "unreviewed": "1"}).content.decode()
    assert f"{left} answer{'s' if left != 1 else ''} coded “{theme.name}”" in page


def test_accepting_a_name_already_in_the_codebook_is_refused_until_renamed(
    analyst_client, analyst, generated, run
):
    suggestion = largest(run)
    Theme.objects.create(
        question=question_of(generated), name=suggestion.name, created_by=analyst, created_at=NOW
    )
    before = codebook_state()

    reply = analyst_client.post(
        page_url(generated, "suggestion_accept", suggestion_id=suggestion.pk)
    )

    assert reply.status_code == 400
    page = reply.content.decode()
    message = (
        f"There is already a theme called “{suggestion.name}” in the codebook. "
        "Rename the suggestion, then accept it"
    )
    assert f'<a href="#suggestion-{suggestion.pk}-name">{message}</a>' in page
    assert f'id="suggestion-{suggestion.pk}-name-error"' in page
    assert codebook_state() == before
    suggestion.refresh_from_db()
    assert suggestion.status == SuggestionStatus.PENDING

    renamed = analyst_client.post(
        page_url(generated, "suggestion_rename", suggestion_id=suggestion.pk),
        {"name": "  Watching everyone "},
    )
    assert messages_of(renamed) == ["Suggestion renamed “Watching everyone”."]
    analyst_client.post(page_url(generated, "suggestion_accept", suggestion_id=suggestion.pk))
    assert Theme.objects.filter(name="Watching everyone").exists()


def test_renaming_needs_a_name(analyst_client, generated, run):
    suggestion = largest(run)
    reply = analyst_client.post(
        page_url(generated, "suggestion_rename", suggestion_id=suggestion.pk), {"name": "  "}
    )
    assert reply.status_code == 400
    page = reply.content.decode()
    assert (
        f'<a href="#suggestion-{suggestion.pk}-name">Enter a name for the suggested theme</a>'
        in (page)
    )
    suggestion.refresh_from_db()
    assert suggestion.name == ThemeSuggestion.objects.get(pk=suggestion.pk).name


def test_merging_puts_the_answers_together_under_one_suggestion(
    analyst_client, analyst, generated, run
):
    big, small = largest(run), largest(run, skip=1)
    answers = set(
        SuggestedAnswer.objects.filter(suggestion__in=[big, small]).values_list(
            "answer_id", flat=True
        )
    )

    reply = analyst_client.post(
        page_url(generated, "suggestions_merge"),
        {"suggestions": [small.pk, big.pk], "name": "Both together"},
    )

    assert messages_of(reply) == ["Suggestions merged into “Both together”."]
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, big.name) == (SuggestionStatus.PENDING, "Both together")
    assert (small.status, small.merged_into, small.decided_by) == (
        SuggestionStatus.MERGED,
        big,
        analyst,
    )
    assert set(big.answers.values_list("answer_id", flat=True)) == answers
    assert big.terms[:2] == [
        ThemeSuggestion.objects.get(pk=big.pk).terms[0],
        small.terms[0],
    ]
    page = analyst_client.get(page_url(generated)).content.decode()
    assert "Merged from" in page
    assert small.name in page
    # Accepting the merged suggestion codes every answer of both.
    analyst_client.post(page_url(generated, "suggestion_accept", suggestion_id=big.pk))
    theme = Theme.objects.get(name="Both together")
    assert set(theme.assignments.values_list("answer_id", flat=True)) == answers


def test_merging_needs_two_pending_suggestions(analyst_client, generated, run):
    one = largest(run)
    reply = analyst_client.post(page_url(generated, "suggestions_merge"), {"suggestions": [one.pk]})
    assert reply.status_code == 400
    assert '<a href="#merge-suggestions">Select two or more suggestions to merge</a>' in (
        reply.content.decode()
    )
    services.suggestion_reject(suggestion=one, user=run.requested_by, now=NOW)
    other = largest(run, skip=1)
    reply = analyst_client.post(
        page_url(generated, "suggestions_merge"), {"suggestions": [one.pk, other.pk]}
    )
    assert reply.status_code == 400
    assert "Select suggestions that are still waiting for a decision" in reply.content.decode()
    assert not ThemeSuggestion.objects.filter(status=SuggestionStatus.MERGED).exists()


def test_rejecting_leaves_the_codebook_alone(analyst_client, analyst, generated, run):
    suggestion = largest(run)
    before = codebook_state()
    reply = analyst_client.post(
        page_url(generated, "suggestion_reject", suggestion_id=suggestion.pk)
    )
    assert messages_of(reply) == [f"Suggestion “{suggestion.name}” rejected."]
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == (SuggestionStatus.REJECTED, analyst)
    assert codebook_state() == before
    page = analyst_client.get(page_url(generated)).content.decode()
    assert "Rejected</strong>" in page
    accepted = analyst_client.post(
        page_url(generated, "suggestion_accept", suggestion_id=suggestion.pk)
    )
    assert messages_of(accepted) == [
        f"“{suggestion.name}” was already accepted, merged or rejected; nothing changed."
    ]
    assert codebook_state() == before


def test_a_suggestion_of_another_question_is_not_found(analyst_client, generated, run):
    suggestion = largest(run)
    url = reverse(
        "analysis:suggestion_accept", args=[generated.slug, "other_safeguards", suggestion.pk]
    )
    assert analyst_client.post(url).status_code == 404
    assert not Theme.objects.exists()


def test_results_and_the_report_count_an_accepted_theme(analyst_client, analyst, generated, run):
    suggestion = largest(run)
    dashboard = reverse("analysis:dashboard", args=[generated.slug])
    assert suggestion.name not in analyst_client.get(dashboard).content.decode()

    analyst_client.post(page_url(generated, "suggestion_accept", suggestion_id=suggestion.pk))

    theme = Theme.objects.get()
    counted = AnswerTheme.objects.filter(
        theme=theme, answer__response__status=ResponseStatus.SUBMITTED
    ).count()
    page = analyst_client.get(dashboard).content.decode()
    assert theme.name in page
    free_text = analyst_client.get(
        reverse("analysis:free_text", args=[generated.slug, KEY])
    ).content.decode()
    assert f"{theme.name} ({counted})" in free_text
    reply = analyst_client.get(f"/analysis/{generated.slug}/report.docx")
    document = Document(io.BytesIO(b"".join(reply.streaming_content)))
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    assert [theme.name, str(counted)] in [row[:2] for row in rows]


def test_erasing_a_response_takes_its_answer_out_of_suggestions(analyst, generated, run):
    suggestion = largest(run)
    suggested = suggestion.answers.select_related("answer__response").first()
    response = suggested.answer.response
    before = suggestion.answers.count()
    controller = user_make("controller", Role.ANALYST, Role.DATA_CONTROLLER)

    services.response_erase(response=response, user=controller, case="DSR-9", now=NOW)

    assert suggestion.answers.count() == before - 1
    assert not SuggestedAnswer.objects.filter(answer_id=suggested.answer_id).exists()


# ---------------------------------------------------------------- query counts


def test_the_suggestions_page_and_progress_take_a_fixed_number_of_queries(
    analyst_client, generated, run, django_assert_max_num_queries
):
    services.suggestions_merge(
        suggestions=[largest(run), largest(run, skip=1)], name="", user=run.requested_by, now=NOW
    )
    services.suggestion_accept(suggestion=largest(run, skip=2), user=run.requested_by, now=NOW)
    with django_assert_max_num_queries(12):
        assert analyst_client.get(page_url(generated)).status_code == 200
    with django_assert_max_num_queries(6):
        assert analyst_client.get(page_url(generated, "suggestions_progress")).status_code == 200


# ---------------------------------------------------------------- the command


def test_the_command_suggests_with_a_progress_bar_and_reports(generated, capsys):
    out, err = StringIO(), StringIO()
    call_command(
        "suggest_themes", generated.slug, "--question", KEY, "--themes", "7", stdout=out, stderr=err
    )

    run = SuggestionRun.objects.get()
    assert (run.status, run.requested_by, run.themes) == (SuggestionRunStatus.DONE, None, 7)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        f"{KEY}: 7 themes suggested from {run.total} answers "
        f"({run.excluded} in campaigns left out)."
    )
    assert len(lines) == 8
    assert f"{run.total}/{run.total}" in capsys.readouterr().err  # the progress bar, at its end


def test_the_command_refuses_bad_arguments_and_reports_a_failed_run(consultation):
    with pytest.raises(CommandError, match="No consultation has the slug nowhere"):
        call_command("suggest_themes", "nowhere")
    with pytest.raises(CommandError, match="has no open question with the key lfr_by_operator"):
        call_command("suggest_themes", consultation.slug, "--question", "lfr_by_operator")
    with pytest.raises(CommandError, match="--themes must be between 2 and 30"):
        call_command("suggest_themes", consultation.slug, "--themes", "1")
    err = StringIO()
    with pytest.raises(CommandError, match="No suggestions for other_safeguards, anything_else"):
        call_command("suggest_themes", consultation.slug, "--verbosity", "0", stderr=err)
    assert "There are 0 answers outside campaigns" in err.getvalue()


def test_only_analysts_see_the_pages(client, consultation):
    nobody = user_make("nobody")
    client.force_login(nobody)
    assert client.get(page_url(consultation)).status_code == 403
    client.force_login(user_make("someone", Role.ANALYST))
    assert client.get(page_url(consultation)).status_code == 200
