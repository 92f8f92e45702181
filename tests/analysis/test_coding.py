"""Coding the answers to an open question: the codebook, assigning and removing themes,
the record of who did what, and theme counts on the listing and in the results."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from consult.analysis import queries, services
from consult.analysis.models import AnswerTheme, CodingAction, CodingEvent, Role, Theme
from consult.analysis.queries import Filters
from consult.consultations.queries import consultation_spec
from consult.responses.models import Answer
from consult.responses.services import response_withdraw
from tests.analysis.conftest import Sent, answered, percent, shared_responses, user_make


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    with shared_responses(django_db_blocker, 50, seed=5) as made:
        yield made


@pytest.fixture
def consultation(shared, db):
    return shared[0]


@pytest.fixture
def sent(shared, db) -> list[Sent]:
    return shared[1]


@pytest.fixture
def answers(consultation) -> list[Answer]:
    """The answers to other_safeguards, oldest first."""
    question = consultation.questions.get(key="other_safeguards")
    return list(
        Answer.objects.filter(question=question)
        .select_related("response")
        .order_by("response__submitted_at")
    )


def theme_make(consultation, analyst, name: str, key: str = "other_safeguards") -> Theme:
    return services.theme_create(
        question=consultation.questions.get(key=key),
        name=name,
        description="",
        user=analyst,
        now=timezone.now(),
    )


def listing_url(consultation, key: str = "other_safeguards") -> str:
    return reverse("analysis:free_text", args=[consultation.slug, key])


def theme_add_url(consultation, key: str = "other_safeguards") -> str:
    return reverse("analysis:theme_add", args=[consultation.slug, key])


def code_url(consultation, answer: Answer, key: str = "other_safeguards") -> str:
    return reverse("analysis:answer_code", args=[consultation.slug, key, answer.pk])


def messages_of(reply) -> list[str]:
    return [str(message) for message in get_messages(reply.wsgi_request)]


def coded(answer: Answer) -> set[str]:
    return set(AnswerTheme.objects.filter(answer=answer).values_list("theme__name", flat=True))


def test_adding_a_theme_puts_it_in_the_codebook(analyst_client, analyst, consultation):
    reply = analyst_client.post(
        theme_add_url(consultation),
        {"name": "  Independent oversight ", "description": "Calls for a regulator"},
    )
    assert reply.status_code == 302
    assert reply["Location"] == listing_url(consultation)
    assert messages_of(reply) == ["Theme “Independent oversight” added to the codebook."]
    theme = Theme.objects.get()
    assert (theme.name, theme.description, theme.created_by) == (
        "Independent oversight",
        "Calls for a regulator",
        analyst,
    )
    assert theme.question.key == "other_safeguards"
    assert timezone.now() - theme.created_at < timedelta(minutes=1)

    page = analyst_client.get(listing_url(consultation))
    assert [(t.name, n) for t, n in page.context["codebook"]] == [("Independent oversight", 0)]
    html = page.content.decode()
    assert "Calls for a regulator" in html
    assert f'name="themes" type="checkbox" value="{theme.pk}"' in html


@pytest.mark.parametrize("name", ["Oversight", " Oversight  "])
def test_a_duplicate_theme_name_is_refused(analyst_client, analyst, consultation, name):
    theme_make(consultation, analyst, "Oversight")
    reply = analyst_client.post(theme_add_url(consultation), {"name": name})
    assert reply.status_code == 400
    assert "There is already a theme with that name for this question" in reply.content.decode()
    assert Theme.objects.count() == 1


def test_the_same_name_may_be_used_for_another_question(analyst_client, analyst, consultation):
    theme_make(consultation, analyst, "Oversight")
    reply = analyst_client.post(theme_add_url(consultation, "anything_else"), {"name": "Oversight"})
    assert reply.status_code == 302
    assert sorted(Theme.objects.values_list("question__key", flat=True)) == [
        "anything_else",
        "other_safeguards",
    ]


@pytest.mark.parametrize("name", ["", "   "])
def test_a_theme_needs_a_name(analyst_client, consultation, name):
    reply = analyst_client.post(theme_add_url(consultation), {"name": name, "description": "x"})
    assert reply.status_code == 400
    page = reply.content.decode()
    assert "Enter a name for the theme" in page
    assert "<title>Error: " in page
    assert not Theme.objects.exists()


def test_a_hostile_theme_name_is_escaped(analyst_client, analyst, consultation):
    theme_make(consultation, analyst, "<b>Bold</b> & <script>x()</script>")
    page = analyst_client.get(listing_url(consultation)).content.decode()
    assert "<script>x()</script>" not in page
    assert "<b>Bold</b>" not in page
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;script&gt;x()&lt;/script&gt;" in page


def test_coding_an_answer_records_who_added_and_removed_which_theme(
    analyst_client, analyst, consultation, answers
):
    oversight = theme_make(consultation, analyst, "Oversight")
    bias = theme_make(consultation, analyst, "Bias")
    answer = answers[3]
    before = timezone.now()

    reply = analyst_client.post(
        code_url(consultation, answer), {"themes": [oversight.pk, bias.pk], "next": "?q=bias"}
    )
    assert reply.status_code == 302
    assert reply["Location"] == f"{listing_url(consultation)}?q=bias#answer-{answer.pk}"
    assert messages_of(reply) == [
        f"Themes saved for the answer from response {answer.response.reference}."
    ]
    assert coded(answer) == {"Oversight", "Bias"}
    assert set(AnswerTheme.objects.values_list("coded_by", flat=True)) == {analyst.pk}

    colleague = user_make("colleague", Role.ANALYST)
    analyst_client.force_login(colleague)
    analyst_client.post(code_url(consultation, answer), {"themes": [bias.pk]})
    assert coded(answer) == {"Bias"}
    assert AnswerTheme.objects.get(answer=answer).coded_by == analyst  # kept, not re-coded

    analyst_client.post(code_url(consultation, answer), {})
    assert coded(answer) == set()

    events = [
        (event.answer_id, event.theme.name, event.action, event.user.username)
        for event in CodingEvent.objects.order_by("at", "pk")
    ]
    assert events == [
        (answer.pk, "Oversight", CodingAction.ADDED, "analyst"),
        (answer.pk, "Bias", CodingAction.ADDED, "analyst"),
        (answer.pk, "Oversight", CodingAction.REMOVED, "colleague"),
        (answer.pk, "Bias", CodingAction.REMOVED, "colleague"),
    ]
    times = list(CodingEvent.objects.order_by("at", "pk").values_list("at", flat=True))
    assert before <= times[0] <= times[1] < times[2] <= times[3] <= timezone.now()


def test_saving_the_same_themes_again_records_nothing(
    analyst_client, analyst, consultation, answers
):
    oversight = theme_make(consultation, analyst, "Oversight")
    for _ in range(2):
        analyst_client.post(code_url(consultation, answers[0]), {"themes": [oversight.pk]})
    assert CodingEvent.objects.count() == 1
    assert AnswerTheme.objects.count() == 1


@pytest.mark.parametrize("mixed", [False, True])
def test_a_theme_of_another_question_is_refused(
    analyst_client, analyst, consultation, answers, mixed
):
    own = theme_make(consultation, analyst, "Oversight")
    foreign = theme_make(consultation, analyst, "Elsewhere", key="anything_else")
    answer = answers[0]
    services.answer_themes_set(answer=answer, themes=[own], user=analyst, now=timezone.now())
    before = list(CodingEvent.objects.values_list("pk", flat=True))

    themes = [foreign.pk] if not mixed else [foreign.pk, own.pk]
    reply = analyst_client.post(code_url(consultation, answer), {"themes": themes})
    assert reply.status_code == 302
    assert messages_of(reply) == [
        "Those themes are not in this question’s codebook; nothing changed."
    ]
    assert coded(answer) == {"Oversight"}
    assert list(CodingEvent.objects.values_list("pk", flat=True)) == before


def test_an_answer_to_another_question_cannot_be_coded_here(analyst_client, analyst, consultation):
    theme = theme_make(consultation, analyst, "Oversight")
    elsewhere = Answer.objects.filter(question__key="anything_else").first()
    reply = analyst_client.post(code_url(consultation, elsewhere), {"themes": [theme.pk]})
    assert reply.status_code == 404
    assert not AnswerTheme.objects.exists()


def test_the_listing_never_redirects_to_another_site(
    analyst_client, analyst, consultation, answers
):
    reply = analyst_client.post(code_url(consultation, answers[0]), {"next": "//evil.example/"})
    assert reply["Location"] == f"{listing_url(consultation)}#answer-{answers[0].pk}"


@pytest.fixture
def coded_answers(consultation, analyst, answers) -> dict[str, list[Answer]]:
    """Every 2nd answer coded Oversight, every 3rd Bias; Unused is in the codebook only."""
    oversight = theme_make(consultation, analyst, "Oversight")
    bias = theme_make(consultation, analyst, "Bias")
    theme_make(consultation, analyst, "Unused")
    now = timezone.now()
    for number, answer in enumerate(answers):
        themes = [t for t, every in ((oversight, 2), (bias, 3)) if number % every == 0]
        if themes:
            services.answer_themes_set(answer=answer, themes=themes, user=analyst, now=now)
    return {
        "Oversight": answers[::2],
        "Bias": answers[::3],
        "Unused": [],
    }


def counts_of(coded_by_theme, keep=lambda answer: True) -> dict[str, int]:
    return {name: sum(1 for a in coded if keep(a)) for name, coded in coded_by_theme.items()}


def organisation(answer: Answer) -> bool:
    return answer.response.respondent_type == "organisation"


def test_theme_counts_on_the_listing_follow_the_filters(
    analyst_client, consultation, answers, coded_answers
):
    reply = analyst_client.get(listing_url(consultation))
    expected = counts_of(coded_answers)
    assert expected["Oversight"] > expected["Bias"] > 0
    assert {t.name: n for t, n in reply.context["codebook"]} == expected
    html = reply.content.decode()
    assert f"Oversight ({expected['Oversight']})" in html

    reply = analyst_client.get(listing_url(consultation), {"a": "respondent_type:organisation"})
    filtered = counts_of(coded_answers, organisation)
    assert 0 < filtered["Oversight"] < expected["Oversight"]
    assert {t.name: n for t, n in reply.context["codebook"]} == filtered

    # A search narrows the list, not the codebook's counts.
    reply = analyst_client.get(listing_url(consultation), {"q": "zzzz"})
    assert {t.name: n for t, n in reply.context["codebook"]} == expected


def test_theme_counts_in_the_results_follow_the_filters(consultation, sent, answers, coded_answers):
    spec = consultation_spec(consultation)

    def themes(filters: Filters) -> dict[str, tuple[int, float]]:
        result = queries.results(consultation=consultation, spec=spec, filters=filters)
        return {t.label: (t.count, t.percent) for t in result.by_key["other_safeguards"].themes}

    base = answered(sent, "other_safeguards")
    assert base == len(answers)
    assert themes(Filters()) == {
        name: (n, percent(n, base)) for name, n in counts_of(coded_answers).items()
    }
    organisations = sum(1 for a in answers if organisation(a))
    assert themes(Filters(answers={"respondent_type": frozenset({"organisation"})})) == {
        name: (n, percent(n, organisations))
        for name, n in counts_of(coded_answers, organisation).items()
    }
    # Themes belong to their question only.
    assert (
        queries.results(consultation=consultation, spec=spec, filters=Filters())
        .by_key["anything_else"]
        .themes
        == ()
    )


def test_a_withdrawn_response_leaves_the_theme_counts(
    analyst_client, consultation, answers, coded_answers
):
    withdrawn = coded_answers["Oversight"][1]
    response_withdraw(response=withdrawn.response, now=timezone.now())
    expected = counts_of(coded_answers, lambda a: a.response_id != withdrawn.response_id)
    assert expected["Oversight"] == len(coded_answers["Oversight"]) - 1
    reply = analyst_client.get(listing_url(consultation))
    assert {t.name: n for t, n in reply.context["codebook"]} == expected
    spec = consultation_spec(consultation)
    result = queries.results(consultation=consultation, spec=spec, filters=Filters())
    assert {t.label: t.count for t in result.by_key["other_safeguards"].themes} == expected


def test_the_listing_filters_by_theme(analyst_client, consultation, answers, coded_answers):
    bias = Theme.objects.get(name="Bias")
    reply = analyst_client.get(listing_url(consultation), {"theme": bias.pk})
    newest_first = sorted(coded_answers["Bias"], key=lambda a: a.response.submitted_at)[::-1]
    assert [a.pk for a in reply.context["page"]] == [a.pk for a in newest_first]
    assert f"{len(newest_first)} answers coded “Bias”" in reply.content.decode()

    reply = analyst_client.get(
        listing_url(consultation), {"theme": bias.pk, "a": "respondent_type:organisation"}
    )
    assert [a.pk for a in reply.context["page"]] == [a.pk for a in newest_first if organisation(a)]

    unused = Theme.objects.get(name="Unused")
    reply = analyst_client.get(listing_url(consultation), {"theme": unused.pk})
    assert reply.context["page"].paginator.count == 0
    assert "No answers match." in reply.content.decode()


def test_a_theme_of_another_question_does_not_filter_the_listing(
    analyst_client, analyst, consultation, answers, coded_answers
):
    foreign = theme_make(consultation, analyst, "Elsewhere", key="anything_else")
    reply = analyst_client.get(listing_url(consultation), {"theme": foreign.pk})
    assert reply.context["theme"] is None
    assert reply.context["page"].paginator.count == len(answers)


def test_the_listing_shows_each_answers_themes_ticked(
    analyst_client, consultation, answers, coded_answers
):
    oversight = Theme.objects.get(name="Oversight")
    bias = Theme.objects.get(name="Bias")
    html = analyst_client.get(listing_url(consultation)).content.decode()
    newest = answers[-1]
    for theme in (oversight, bias):
        box = f'id="answer-{newest.pk}-theme-{theme.pk}" name="themes" type="checkbox"'
        assert box in html
        ticked = newest in coded_answers[theme.name]
        assert (f'{box} value="{theme.pk}" checked>' in html) == ticked
