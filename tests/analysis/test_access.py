"""Who may open the workspace: every analyst URL for every role, signing in, and the
command that creates analyst accounts."""

from datetime import UTC, datetime
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

import consult.settings as real_settings
from consult.analysis import services
from consult.analysis.campaigns import MIN_SIZE, consultation_campaigns_detect
from consult.analysis.models import (
    AnswerTheme,
    Campaign,
    CampaignRelease,
    CodingEvent,
    Role,
    SuggestedAnswer,
    SuggestionRun,
    SuggestionRunStatus,
    Theme,
    ThemeSuggestion,
)
from consult.analysis.urls import urlpatterns
from consult.consultations.queries import consultation_spec
from consult.responses.models import Answer
from tests.analysis.conftest import PASSWORD, respond, user_make
from tests.responses.documents import document_attached

SIGN_IN_OUT = {"login", "logout"}
CODING_POSTS = {"theme_add", "answer_code"}
CAMPAIGN_POSTS = {"campaign_confirm", "campaign_rename", "campaign_variants"}
SUGGESTION_POSTS = {
    "suggestions_request",
    "suggestions_merge",
    "suggestion_accept",
    "suggestion_rename",
    "suggestion_reject",
}
POST_ONLY = CODING_POSTS | CAMPAIGN_POSTS | SUGGESTION_POSTS | {"subject_export"}
DATA_CONTROLLERS_ONLY = {"subject_requests", "subject_request", "subject_export", "subject_erase"}
# Keying in responses: data entry staff and data controllers. With no response under way,
# the section and check pages send them to the first step.
DATA_ENTRY = {"entry_index", "entry_start", "entry_section", "entry_check"}
DATA_ENTRY_REDIRECTS = {"entry_section", "entry_check"}
WORKSPACE = [pattern.name for pattern in urlpatterns if pattern.name not in SIGN_IN_OUT]
STRONG = "Vellum-orbit-42-quartz"


def test_the_walk_covers_the_workspace():
    """The parametrised walk below takes its URLs from urls.py: a new view joins it."""
    pages = {"index", "dashboard", "crosstab", "free_text", "campaigns", "campaign"}
    pages |= {"suggestions", "suggestions_progress", "documents", "document_download"}
    expected = pages | POST_ONLY | DATA_CONTROLLERS_ONLY | DATA_ENTRY
    assert expected == set(WORKSPACE)


@pytest.fixture
def sample_kwargs(consultation, analyst) -> dict[str, object]:
    """A value for every URL parameter: the consultation, an open question, a real answer,
    a campaign."""
    for _ in range(MIN_SIZE):
        respond(consultation, datetime(2026, 11, 1, 12, tzinfo=UTC), anything_else="Ban it now.")
    consultation_campaigns_detect(consultation=consultation, now=timezone.now())
    response = respond(
        consultation,
        datetime(2026, 11, 2, 12, tzinfo=UTC),
        other_safeguards="Independent oversight is essential",
    )
    document_attached(response)
    spec = consultation_spec(consultation)
    answer = Answer.objects.get(response=response, question_id=spec.by_key["other_safeguards"].id)
    services.theme_create(
        question=consultation.questions.get(key="other_safeguards"),
        name="Oversight",
        description="",
        user=analyst,
        now=timezone.now(),
    )
    run = SuggestionRun.objects.create(
        question=consultation.questions.get(key="other_safeguards"),
        themes=2,
        status=SuggestionRunStatus.DONE,
        done=1,
        total=1,
        requested_at=timezone.now(),
        updated_at=timezone.now(),
        finished_at=timezone.now(),
    )
    suggestions = [
        ThemeSuggestion.objects.create(run=run, number=number, name=name, terms=[name.lower()])
        for number, name in enumerate(["Regulator", "Warrants"])
    ]
    SuggestedAnswer.objects.create(suggestion=suggestions[0], answer=answer, weight=1.0)
    return {
        "slug": consultation.slug,
        "key": "other_safeguards",
        "answer_id": answer.pk,
        "reference": response.reference,
        "pk": Campaign.objects.get().pk,
        "suggestion_id": suggestions[0].pk,
        "section_key": "use",
    }


def url_for(name: str, sample: dict[str, object]) -> str:
    pattern = next(p for p in urlpatterns if p.name == name)
    kwargs = {param: sample[param] for param in pattern.pattern.converters}
    return reverse(f"analysis:{name}", kwargs=kwargs)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def assert_sent_to_sign_in(reply, url: str) -> None:
    assert reply.status_code == 302
    location = urlsplit(reply["Location"])
    assert location.path == reverse("analysis:login")
    assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("name", WORKSPACE)
def test_every_workspace_url_is_for_its_roles_only(name, sample_kwargs):
    url = url_for(name, sample_kwargs)
    assert url.startswith("/analysis/")

    assert_sent_to_sign_in(Client().get(url), url)

    nobody = client_for(user_make("nobody"))
    assert nobody.get(url).status_code == 403

    allowed = 405 if name in POST_ONLY else 302 if name in DATA_ENTRY_REDIRECTS else 200
    analyst = client_for(user_make("someone-analyst", Role.ANALYST))
    if name in DATA_CONTROLLERS_ONLY | DATA_ENTRY:
        assert analyst.get(url).status_code == 403
    else:
        assert analyst.get(url).status_code == allowed
    controller = client_for(user_make("someone-controller", Role.DATA_CONTROLLER))
    assert controller.get(url).status_code == allowed
    # Data entry staff key in responses and open nothing else: not even the results.
    clerk = client_for(user_make("someone-clerk", Role.DATA_ENTRY))
    assert clerk.get(url).status_code == (allowed if name in DATA_ENTRY else 403)


def coding_counts() -> tuple[int, int, int]:
    return Theme.objects.count(), AnswerTheme.objects.count(), CodingEvent.objects.count()


@pytest.mark.parametrize("name", sorted(CAMPAIGN_POSTS))
def test_campaign_posts_without_the_role_are_refused_and_change_nothing(name, sample_kwargs):
    url = url_for(name, sample_kwargs)
    campaign = Campaign.objects.get()
    data = {"name": "Renamed", "action": "release", "variants": [campaign.fingerprint]}

    assert_sent_to_sign_in(Client().post(url, data), url)
    assert client_for(user_make("nobody")).post(url, data).status_code == 403
    unchanged = Campaign.objects.get()
    assert (unchanged.name, unchanged.confirmed, unchanged.size) == (
        campaign.name,
        False,
        MIN_SIZE,
    )
    assert not CampaignRelease.objects.exists()


@pytest.mark.parametrize("name", sorted(CODING_POSTS))
def test_posts_without_the_role_are_refused_and_write_nothing(name, sample_kwargs):
    url = url_for(name, sample_kwargs)
    theme = Theme.objects.get(name="Oversight")
    data = {"name": "Surveillance", "description": "", "themes": [theme.pk]}
    before = coding_counts()
    assert before == (1, 0, 0)

    assert_sent_to_sign_in(Client().post(url, data), url)
    assert coding_counts() == before
    assert client_for(user_make("nobody")).post(url, data).status_code == 403
    assert coding_counts() == before

    # The same post from an analyst does write: the refusals above were the role's doing.
    reply = client_for(user_make("analyst-2", Role.ANALYST)).post(url, data)
    assert reply.status_code == 302
    assert coding_counts() == ((2, 0, 0) if name == "theme_add" else (1, 1, 1))


def suggestion_state() -> tuple[object, ...]:
    return (
        *coding_counts(),
        SuggestionRun.objects.count(),
        tuple(ThemeSuggestion.objects.order_by("pk").values_list("name", "status")),
    )


@pytest.mark.parametrize("name", sorted(SUGGESTION_POSTS))
def test_suggestion_posts_without_the_role_are_refused_and_change_nothing(name, sample_kwargs):
    url = url_for(name, sample_kwargs)
    data = {
        "themes": "2",
        "name": "Someone else's name",
        "suggestions": list(ThemeSuggestion.objects.values_list("pk", flat=True)),
    }
    before = suggestion_state()

    assert_sent_to_sign_in(Client().post(url, data), url)
    assert suggestion_state() == before
    assert client_for(user_make("nobody")).post(url, data).status_code == 403
    assert suggestion_state() == before

    reply = client_for(user_make("analyst-2", Role.ANALYST)).post(url, data)
    assert reply.status_code == 302
    assert suggestion_state() != before


def test_sign_in_page_is_open_to_everyone(client):
    reply = client.get(reverse("analysis:login"))
    assert reply.status_code == 200
    assert "Sign in to the analysis workspace" in reply.content.decode()


def test_analyst_signs_in_with_an_argon2_password_and_reaches_the_results(consultation):
    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    dashboard = reverse("analysis:dashboard", args=[consultation.slug])
    with override_settings(PASSWORD_HASHERS=real_settings.PASSWORD_HASHERS):
        user = services.analyst_create(username="grace", email="", password=STRONG)
        assert user.password.startswith("argon2$argon2id$")

        client = Client()
        wrong = client.post(
            reverse("analysis:login"), {"username": "grace", "password": STRONG + "x"}
        )
        assert wrong.status_code == 200
        assert "Enter a correct username and password" in wrong.content.decode()
        assert client.get(dashboard).status_code == 302

        reply = client.post(
            reverse("analysis:login"),
            {"username": "grace", "password": STRONG, "next": dashboard},
        )
    assert reply.status_code == 302
    assert reply["Location"] == dashboard
    page = client.get(dashboard)
    assert page.status_code == 200
    assert consultation.title in page.content.decode()

    client.post(reverse("analysis:logout"))
    assert_sent_to_sign_in(client.get(dashboard), dashboard)


def test_sign_in_does_not_follow_a_next_address_on_another_site(analyst):
    reply = Client().post(
        reverse("analysis:login"),
        {"username": "analyst", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert reply.status_code == 302
    assert reply["Location"] == reverse("analysis:index")


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("create_analyst", *args, stdout=out)
    return out.getvalue()


def roles_of(username: str) -> set[str]:
    return set(User.objects.get(username=username).groups.values_list("name", flat=True))


def test_create_analyst_reads_the_password_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("ANALYST_PASSWORD", STRONG)
    out = run_command("grace", "--email", "grace@example.com", "--password-env", "ANALYST_PASSWORD")
    assert "Created analyst grace" in out
    user = User.objects.get(username="grace")
    assert user.email == "grace@example.com"
    assert user.check_password(STRONG)
    assert not user.is_staff
    assert roles_of("grace") == {Role.ANALYST}


def test_create_analyst_can_make_a_data_controller(db, monkeypatch):
    monkeypatch.setenv("ANALYST_PASSWORD", STRONG)
    out = run_command("ada", "--data-controller", "--password-env", "ANALYST_PASSWORD")
    assert "Created data controller ada" in out
    assert roles_of("ada") == {Role.ANALYST, Role.DATA_CONTROLLER}


def test_create_analyst_can_make_a_data_entry_account(db, monkeypatch):
    monkeypatch.setenv("ANALYST_PASSWORD", STRONG)
    out = run_command("cyd", "--data-entry", "--password-env", "ANALYST_PASSWORD")
    assert "Created data entry account cyd" in out
    assert roles_of("cyd") == {Role.DATA_ENTRY}


@pytest.mark.parametrize(
    ("username", "weak", "reason"),
    [
        ("grace", "Sh0rt-pass!", "too short"),
        ("grace", "password1234", "too common"),
        ("grace", "12345678901234", "entirely numeric"),
        ("gracehopper1", "gracehopper12", "too similar"),
    ],
)
def test_create_analyst_refuses_a_weak_password(db, monkeypatch, username, weak, reason):
    monkeypatch.setenv("ANALYST_PASSWORD", weak)
    with pytest.raises(CommandError, match=reason):
        run_command(username, "--password-env", "ANALYST_PASSWORD")
    assert not User.objects.filter(username=username).exists()


def test_create_analyst_refuses_a_taken_username(db, monkeypatch):
    existing = user_make("grace")
    monkeypatch.setenv("ANALYST_PASSWORD", STRONG)
    with pytest.raises(CommandError, match="already exists"):
        run_command("grace", "--password-env", "ANALYST_PASSWORD")
    assert User.objects.filter(username="grace").count() == 1
    existing.refresh_from_db()
    assert existing.check_password(PASSWORD)
    assert roles_of("grace") == set()


@pytest.mark.parametrize("value", ["", None])
def test_create_analyst_needs_the_password_variable_set(db, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("ANALYST_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("ANALYST_PASSWORD", value)
    with pytest.raises(CommandError, match="ANALYST_PASSWORD"):
        run_command("grace", "--password-env", "ANALYST_PASSWORD")
    assert not User.objects.filter(username="grace").exists()
