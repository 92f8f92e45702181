"""Staff keying in a response received by post, email or phone: the channel and the date
it was received, the public journey's own questions, then a response like any other
(reference, running counts, a receipt only when there is an email address); results
filtered by channel."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consult.analysis import queries
from consult.analysis.models import Role
from consult.analysis.queries import Filters
from consult.consultations.queries import consultation_spec
from consult.responses.forms import SectionForm
from consult.responses.models import Response, ResponseChannel, ResponseStatus
from consult.responses.queries import response_answer_map
from tests.analysis.conftest import PASSWORD, respond, user_make
from tests.responses.helpers import INDIVIDUAL, section_post
from tests.responses.test_tallies import assert_tallies_match_the_answers

LONDON = ZoneInfo("Europe/London")
STAFF_CHANNELS = [ResponseChannel.POST, ResponseChannel.EMAIL, ResponseChannel.PHONE]


@pytest.fixture
def clerk_client(db) -> Client:
    client = Client()
    client.force_login(user_make("clerk", Role.DATA_ENTRY))
    return client


def start_url(consultation) -> str:
    return reverse("analysis:entry_start", args=[consultation.slug])


def key_in(
    client: Client, consultation, channel: str, received, answers: dict, **language: str
) -> None:
    """Choose the channel and date (and the language, if given), then answer every
    section up to the check page."""
    spec = consultation_spec(consultation)
    reply = client.post(
        start_url(consultation), {"channel": channel, "received": received, **language}
    )
    assert reply.status_code == 302, reply.content.decode()[:3000]
    check = reverse("analysis:entry_check", args=[consultation.slug])
    url = reply["Location"]
    while url != check:
        section_key = url.rstrip("/").rsplit("/", 1)[-1]
        reply = client.post(url, section_post(spec, section_key, answers))
        assert reply.status_code == 302, reply.content.decode()[:3000]
        url = reply["Location"]


@pytest.mark.parametrize("channel", STAFF_CHANNELS)
def test_staff_key_in_a_response_for_each_channel(
    clerk_client, consultation, channel, django_capture_on_commit_callbacks
):
    respond(consultation, timezone.now(), lfr_overall=("never",))  # one sent online
    received = timezone.now().astimezone(LONDON).date() - timedelta(days=2)
    answers = {**INDIVIDUAL, "lfr_overall": "strict_safeguards"}
    if channel == ResponseChannel.PHONE:
        answers["email"] = ""  # told by phone, no email address given
    key_in(clerk_client, consultation, channel, received.isoformat(), answers)

    check_url = reverse("analysis:entry_check", args=[consultation.slug])
    page = clerk_client.get(check_url).content.decode()
    assert "Check the answers before sending the response" in page
    assert f"received by {channel.label.lower()} on {received:%-d %B %Y}" in page
    assert reverse("analysis:entry_section", args=[consultation.slug, "use"]) in page
    with django_capture_on_commit_callbacks(execute=True):
        reply = clerk_client.post(check_url)
    assert reply.status_code == 302
    assert reply["Location"] == start_url(consultation)

    entered = Response.objects.get(channel=channel)
    assert entered.status == ResponseStatus.SUBMITTED
    assert entered.submitted_at == datetime.combine(received, time(12), tzinfo=LONDON)
    assert entered.reference.startswith(consultation.reference_prefix + "-")
    done = clerk_client.get(reply["Location"]).content.decode()
    assert f"Response {entered.reference} sent" in done
    spec = consultation_spec(consultation)
    stored = response_answer_map(response=entered, spec=spec)
    assert stored["lfr_overall"] == ("strict_safeguards",)
    assert stored["name"] == "Ada Lovelace"
    if channel == ResponseChannel.PHONE:
        assert mail.outbox == []
    else:
        assert [message.to for message in mail.outbox] == [["ada@example.com"]]
        assert entered.reference in mail.outbox[0].body

    # Filtered by channel, the results hold only the response keyed in; unfiltered, both.
    def total(**filters) -> int:
        return queries.results(
            consultation=consultation, spec=spec, filters=Filters(**filters)
        ).total

    assert total() == 2
    assert total(channels=frozenset({channel})) == 1
    assert total(channels=frozenset({ResponseChannel.ONLINE})) == 1
    assert total(channels=frozenset({ResponseChannel.ONLINE, channel})) == 2
    by_channel = queries.results(
        consultation=consultation, spec=spec, filters=Filters(channels=frozenset({channel}))
    ).by_key["lfr_overall"]
    assert {o.code: o.count for o in by_channel.options if o.count} == {"strict_safeguards": 1}
    assert_tallies_match_the_answers(consultation)


def test_a_letter_received_before_closing_can_be_keyed_in_after(clerk_client, consultation):
    now = timezone.now()
    consultation.closes_at = now - timedelta(days=1)
    consultation.save(update_fields=["closes_at"])
    last_day = (consultation.closes_at - timedelta(microseconds=1)).astimezone(LONDON).date()
    late = clerk_client.post(
        start_url(consultation), {"channel": "post", "received": (last_day + timedelta(days=1))}
    )
    assert late.status_code == 400
    assert "must be on or before" in late.content.decode()

    key_in(clerk_client, consultation, "post", last_day.isoformat(), INDIVIDUAL)
    clerk_client.post(reverse("analysis:entry_check", args=[consultation.slug]))
    entered = Response.objects.get()
    assert entered.status == ResponseStatus.SUBMITTED
    # Noon on the last day, unless the consultation closed before noon that day.
    assert entered.submitted_at < consultation.closes_at
    assert entered.submitted_at.astimezone(LONDON).date() == last_day


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "", "received": "2026-11-01"}, "Select how the response was received"),
        ({"channel": "online", "received": "2026-11-01"}, "Select how the response was received"),
        ({"channel": "post", "received": ""}, "Enter the date the response was received"),
        ({"channel": "post", "received": "2026-02-30"}, "as a real date"),
        ({"channel": "post", "received": "future"}, "must be today or in the past"),
        ({"channel": "post", "received": "before"}, "when the consultation opened"),
    ],
)
def test_bad_channel_or_date_is_refused_with_a_clear_message(
    clerk_client, consultation, data, message
):
    today = timezone.now().astimezone(LONDON).date()
    if data["received"] == "future":
        data = {**data, "received": (today + timedelta(days=1)).isoformat()}
    elif data["received"] == "before":
        opened = consultation.opens_at.astimezone(LONDON).date()
        data = {**data, "received": (opened - timedelta(days=1)).isoformat()}
    reply = clerk_client.post(start_url(consultation), data)
    assert reply.status_code == 400
    page = reply.content.decode()
    assert "There is a problem" in page
    assert message in page
    assert not Response.objects.exists()


def test_a_bad_answer_keeps_the_draft_and_says_what_to_do(clerk_client, consultation):
    today = timezone.now().astimezone(LONDON).date()
    clerk_client.post(start_url(consultation), {"channel": "email", "received": today})
    url = reverse("analysis:entry_section", args=[consultation.slug, "about-you"])
    reply = clerk_client.post(url, {"respondent_type": ""})
    assert reply.status_code == 400
    assert "There is a problem" in reply.content.decode()
    draft = Response.objects.get()
    assert (draft.status, draft.channel) == (ResponseStatus.DRAFT, ResponseChannel.EMAIL)
    start = clerk_client.get(start_url(consultation)).content.decode()
    assert f"You have not sent response {draft.reference}" in start


def test_staff_browsers_are_not_asked_to_fill_in_their_own_details(clerk_client, consultation):
    """The public journey asks browsers to fill in the respondent's email address; on the
    staff pages a browser would fill in the staff member's own."""
    spec = consultation_spec(consultation)
    details = spec.by_key["email"]
    public = SectionForm(questions=[details], answers={})
    assert public.fields["email"].widget.attrs["autocomplete"] == "email"

    today = timezone.now().astimezone(LONDON).date()
    clerk_client.post(start_url(consultation), {"channel": "phone", "received": today})
    url = reverse("analysis:entry_section", args=[consultation.slug, "your-details"])
    page = clerk_client.get(url).content.decode()
    assert 'name="email"' in page
    assert 'autocomplete="email"' not in page
    assert page.count('autocomplete="off"') == 2  # the email address and the honeypot


def test_only_data_entry_staff_and_data_controllers_key_in(consultation):
    today = timezone.now().astimezone(LONDON).date().isoformat()
    data = {"channel": "post", "received": today}
    analyst = Client()
    analyst.force_login(user_make("an", Role.ANALYST))
    assert analyst.post(start_url(consultation), data).status_code == 403
    assert not Response.objects.exists()
    assert Client().post(start_url(consultation), data).status_code == 302  # to sign in
    assert not Response.objects.exists()

    controller = Client()
    controller.force_login(user_make("dc", Role.ANALYST, Role.DATA_CONTROLLER))
    assert controller.post(start_url(consultation), data).status_code == 302
    assert Response.objects.get().channel == ResponseChannel.POST
    # Data entry staff cannot open the results.
    clerk = Client()
    clerk.force_login(user_make("clerk2", Role.DATA_ENTRY))
    dashboard = reverse("analysis:dashboard", args=[consultation.slug])
    assert clerk.get(dashboard).status_code == 403


def test_data_entry_staff_sign_in_to_the_page_where_they_key_in(consultation):
    user_make("clerk3", Role.DATA_ENTRY)
    reply = Client().post(reverse("analysis:login"), {"username": "clerk3", "password": PASSWORD})
    assert reply.status_code == 302
    assert reply["Location"] == reverse("analysis:entry_index")


def test_the_header_takes_each_role_to_the_pages_it_may_open(
    consultation, clerk_client, analyst_client
):
    """Data entry staff, who cannot open the workspace, go back to keying in."""
    entry, workspace = reverse("analysis:entry_index"), reverse("analysis:index")
    clerk_page = clerk_client.get(entry).content.decode()
    assert f'<a class="govuk-header__link" href="{entry}">Analysis</a>' in clerk_page
    analyst_page = analyst_client.get(workspace).content.decode()
    assert f'<a class="govuk-header__link" href="{workspace}">Analysis</a>' in analyst_page


def test_the_results_page_filters_by_channel(consultation, analyst_client):
    respond(consultation, timezone.now(), lfr_overall=("never",))
    posted = respond(consultation, timezone.now(), lfr_overall=("dont_know",))
    Response.objects.filter(pk=posted.pk).update(channel=ResponseChannel.POST)
    dashboard = reverse("analysis:dashboard", args=[consultation.slug])
    page = analyst_client.get(dashboard + "?channel=post").content.decode()
    assert "Received by post" in page
    assert 'id="filter-channel-post" name="channel" type="checkbox" value="post" checked' in page
    everyone = analyst_client.get(dashboard).content.decode()
    assert 'value="post" checked' not in everyone
    wrong = analyst_client.get(dashboard + "?channel=pigeon").content.decode()
    assert "Select how the responses were received" in wrong


@pytest.mark.parametrize(("chosen", "recorded"), [({}, "en"), ({"language": "cy"}, "cy")])
def test_staff_record_the_language_of_the_response(clerk_client, consultation, chosen, recorded):
    start = clerk_client.get(start_url(consultation)).content.decode()
    assert "Language of the response" in start
    assert re.search(r'value="en"[^>]*checked', start)  # English unless staff say otherwise
    assert "Welsh (Cymraeg)" in start
    today = timezone.now().astimezone(LONDON).date().isoformat()

    key_in(clerk_client, consultation, "post", today, INDIVIDUAL, **chosen)
    clerk_client.post(reverse("analysis:entry_check", args=[consultation.slug]))

    assert Response.objects.get().language == recorded


def test_a_language_not_offered_is_refused(clerk_client, consultation):
    today = timezone.now().astimezone(LONDON).date().isoformat()
    data = {"channel": "post", "received": today, "language": "fr"}

    page = clerk_client.post(start_url(consultation), data).content.decode()

    assert "Select a language the consultation is offered in" in page
    assert not Response.objects.exists()


def test_a_site_in_english_only_does_not_ask_the_language(clerk_client, consultation, settings):
    settings.LANGUAGES = [("en", "English")]

    page = clerk_client.get(start_url(consultation)).content.decode()

    assert "Language of the response" not in page
