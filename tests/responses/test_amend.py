"""Changing a sent response from its receipt link: the same sections and check page, the
changes kept until saved, refused once closed or withdrawn, the latest version counted,
every change recorded and shown to data controllers."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from consult.analysis import queries
from consult.analysis.campaigns import MIN_SIZE, consultation_campaigns_detect
from consult.analysis.models import AnswerTheme, Campaign, CampaignMember, Role, Theme
from consult.analysis.queries import Filters
from consult.audit import AppendOnlyError
from consult.consultations.queries import consultation_spec
from consult.responses import services
from consult.responses.models import Amendment, Answer, Respondent, Response, ResponseStatus
from consult.responses.queries import response_answer_map
from tests.analysis.conftest import respond, user_make
from tests.responses.helpers import INDIVIDUAL, answer_all, default_value, section_post
from tests.responses.test_tallies import assert_tallies_match_the_answers

FIRST = {**INDIVIDUAL, "lfr_overall": "never", "other_safeguards": "Independent oversight"}


@pytest.fixture
def sent(client, consultation, submit) -> tuple[Response, str]:
    """A response sent through the journey with an email address, and its receipt link."""
    answer_all(client, consultation, FIRST)
    submit(client, consultation)
    link = re.search(r"http://testserver(/receipt/\S+/)", mail.outbox[0].body).group(1)
    return Response.objects.get(), link


def token_of(link: str) -> str:
    return link.strip("/").rsplit("/", 1)[-1]


def option_count(consultation, key: str, code: str, filters: Filters | None = None) -> int:
    spec = consultation_spec(consultation)
    result = queries.results(
        consultation=consultation, spec=spec, filters=filters or Filters()
    ).by_key[key]
    return next(option.count for option in result.options if option.code == code)


def test_changing_an_answer_goes_through_the_journey_and_the_latest_version_counts(
    client, consultation, sent
):
    response, link = sent
    token = token_of(link)
    spec = consultation_spec(consultation)
    rows_before = dict(Answer.objects.filter(response=response).values_list("pk", "question__key"))
    receipt = client.get(link).content.decode()
    assert "Change your answers" in receipt
    assert reverse("responses:amend", args=[token]) in receipt
    assert "change them until the consultation closes" in mail.outbox[0].body

    check = client.get(reverse("responses:amend", args=[token])).content.decode()
    assert "Check your changes before saving them" in check
    assert "Save changes" in check
    change_link = reverse("responses:amend_section", args=[token, "use"])
    assert f"{change_link}?return=check#id_lfr_overall_1" in check

    page = client.get(change_link + "?return=check").content.decode()
    assert "Your changes are kept until you save them" in page
    reply = client.post(
        change_link + "?return=check",
        section_post(spec, "use", {**FIRST, "lfr_overall": "strict_safeguards"}),
    )
    assert reply.status_code == 302
    assert reply["Location"] == reverse("responses:amend", args=[token])
    # Not saved yet: the stored answer and the results are as sent.
    assert response_answer_map(response=response, spec=spec)["lfr_overall"] == ("never",)
    assert option_count(consultation, "lfr_overall", "never") == 1
    assert "Yes, with strict safeguards" in client.get(reply["Location"]).content.decode()

    saved = client.post(reverse("responses:amend", args=[token]))
    assert saved.status_code == 302
    assert saved["Location"] == link
    page = client.get(link).content.decode()
    assert "Your changes have been saved" in page
    assert "Yes, with strict safeguards" in page

    response.refresh_from_db()
    assert response.status == ResponseStatus.SUBMITTED
    assert Response.objects.get().reference == response.reference
    assert response_answer_map(response=response, spec=spec)["lfr_overall"] == (
        "strict_safeguards",
    )
    amendment = Amendment.objects.get()
    assert amendment.response == response
    assert amendment.changed_keys == ["lfr_overall"]
    assert amendment.previous == {"lfr_overall": ["never"]}
    # Only the changed answer's row is new; every other row is the very same.
    rows_after = dict(Answer.objects.filter(response=response).values_list("pk", "question__key"))
    unchanged = {pk: key for pk, key in rows_before.items() if key != "lfr_overall"}
    assert {pk: key for pk, key in rows_after.items() if key != "lfr_overall"} == unchanged
    assert set(rows_after) - set(rows_before) != set()

    assert option_count(consultation, "lfr_overall", "never") == 0
    assert option_count(consultation, "lfr_overall", "strict_safeguards") == 1
    everything = Filters(submitted_from=response.submitted_at.date() - timedelta(days=1))
    assert option_count(consultation, "lfr_overall", "strict_safeguards", everything) == 1
    assert_tallies_match_the_answers(consultation)


def test_saving_without_a_change_records_nothing(client, consultation, sent):
    _response, link = sent
    reply = client.post(reverse("responses:amend", args=[token_of(link)]))
    assert reply.status_code == 302
    assert "You did not change any answers" in client.get(link).content.decode()
    assert not Amendment.objects.exists()


def test_going_back_to_the_receipt_gives_up_unsaved_changes(client, consultation, sent):
    _response, link = sent
    token = token_of(link)
    spec = consultation_spec(consultation)
    client.post(
        reverse("responses:amend_section", args=[token, "use"]) + "?return=check",
        section_post(spec, "use", {**FIRST, "lfr_overall": "dont_know"}),
    )
    client.get(link)
    check = client.get(reverse("responses:amend", args=[token])).content.decode()
    assert "No, never" in check
    assert "Don’t know" not in check


def test_a_change_that_reveals_a_section_leads_to_it_before_saving(client, consultation, sent):
    response, link = sent
    token = token_of(link)
    spec = consultation_spec(consultation)
    reply = client.post(
        reverse("responses:amend_section", args=[token, "about-you"]) + "?return=check",
        section_post(spec, "about-you", {**FIRST, "respondent_type": "organisation"}),
    )
    assert reply["Location"] == reverse(
        "responses:amend_section", args=[token, "your-organisation"]
    )
    # Saving now is refused with links to the questions still to answer; nothing changes.
    refused = client.post(reverse("responses:amend", args=[token]))
    assert refused.status_code == 400
    assert "You need to answer these questions" in refused.content.decode()
    assert not Amendment.objects.exists()
    assert response_answer_map(response=response, spec=spec)["respondent_type"] == ("individual",)

    client.post(
        reverse("responses:amend_section", args=[token, "your-organisation"]) + "?return=check",
        section_post(spec, "your-organisation", {"organisation_name": "Example Trust"}),
    )
    assert client.post(reverse("responses:amend", args=[token])).status_code == 302
    amendment = Amendment.objects.get()
    assert amendment.changed_keys == ["respondent_type", "organisation_name", "organisation_type"]
    # Earlier personal details are not kept in the record; the organisation name is one.
    assert amendment.previous == {
        "respondent_type": ["individual"],
        "organisation_name": None,
        "organisation_type": None,
    }
    assert Respondent.objects.get().organisation_name == "Example Trust"
    assert_tallies_match_the_answers(consultation)


def test_a_bad_answer_is_shown_with_its_message_and_nothing_is_lost(client, consultation, sent):
    _response, link = sent
    token = token_of(link)
    url = reverse("responses:amend_section", args=[token, "your-details"]) + "?return=check"
    reply = client.post(url, {"name": "Ada Lovelace", "email": "not an email"})
    assert reply.status_code == 400
    page = reply.content.decode()
    assert "There is a problem" in page
    assert 'value="Ada Lovelace"' in page
    assert Respondent.objects.get().email == "ada@example.com"


@pytest.mark.parametrize("how", ["closed", "withdrawn"])
def test_changing_is_refused_once_closed_or_withdrawn(client, consultation, sent, how):
    response, link = sent
    token = token_of(link)
    spec = consultation_spec(consultation)
    if how == "closed":
        consultation.closes_at = timezone.now() - timedelta(minutes=1)
        consultation.save(update_fields=["closes_at"])
    else:
        services.response_withdraw(response=response, now=timezone.now())
    receipt = client.get(link).content.decode()
    assert reverse("responses:amend", args=[token]) not in receipt

    for url in (
        reverse("responses:amend", args=[token]),
        reverse("responses:amend_section", args=[token, "use"]),
    ):
        reply = client.get(url)
        assert reply.status_code == 403
        page = reply.content.decode()
        assert "You cannot change this response" in page
        assert ("You withdrew your response" in page) == (how == "withdrawn")
        assert ("Answers can no longer be changed" in page) == (how == "closed")
    client.post(
        reverse("responses:amend_section", args=[token, "use"]),
        section_post(spec, "use", {**FIRST, "lfr_overall": "dont_know"}),
    )
    assert client.post(reverse("responses:amend", args=[token])).status_code == 403
    assert not Amendment.objects.exists()
    assert response_answer_map(response=response, spec=spec)["lfr_overall"] == ("never",)


def test_a_change_saved_after_closing_time_is_refused_by_the_service(consultation):
    response = respond(consultation, timezone.now(), lfr_overall=("never",))
    spec = consultation_spec(consultation)
    answers = {**response_answer_map(response=response, spec=spec), "lfr_overall": ("dont_know",)}
    with pytest.raises(services.ResponseNotAmendableError):
        services.response_amend(
            response=response,
            spec=spec,
            answers=answers,
            now=consultation.closes_at + timedelta(seconds=1),
        )
    services.response_withdraw(response=response, now=timezone.now())
    with pytest.raises(services.ResponseNotAmendableError):
        services.response_amend(response=response, spec=spec, answers=answers, now=timezone.now())
    assert not Amendment.objects.exists()


def test_a_required_answer_cannot_be_taken_away(consultation):
    response = respond(consultation, timezone.now())
    spec = consultation_spec(consultation)
    answers = response_answer_map(response=response, spec=spec)
    del answers["lfr_overall"]
    with pytest.raises(services.IncompleteResponseError, match="lfr_overall"):
        services.response_amend(response=response, spec=spec, answers=answers, now=timezone.now())
    assert "lfr_overall" in response_answer_map(response=response, spec=spec)


def test_a_changed_text_answer_loses_its_themes_and_campaign_and_the_figures_follow(
    consultation,
):
    now = timezone.now()
    sent_at = now - timedelta(hours=1)
    members = [
        respond(consultation, sent_at, anything_else="Ban it now.", other_safeguards="Courts")
        for _ in range(MIN_SIZE + 1)
    ]
    consultation_campaigns_detect(consultation=consultation, now=now)
    campaign = Campaign.objects.get(question__key="anything_else")
    assert campaign.size == MIN_SIZE + 1
    spec = consultation_spec(consultation)
    changed, other = members[0], members[1]
    analyst = user_make("coder", Role.ANALYST)
    for key in ("anything_else", "other_safeguards"):
        theme = Theme.objects.create(
            question_id=spec.by_key[key].id, name=key, created_by=analyst, created_at=now
        )
        for response in (changed, other):
            answer = Answer.objects.get(response=response, question_id=spec.by_key[key].id)
            AnswerTheme.objects.create(answer=answer, theme=theme, coded_by=analyst, coded_at=now)

    answers = response_answer_map(response=changed, spec=spec)
    services.response_amend(
        response=changed,
        spec=spec,
        answers={**answers, "anything_else": "On reflection, allow it with a warrant."},
        now=now,
    )
    # The changed answer is a new row: no themes, no campaign; the unchanged ones keep theirs.
    new = Answer.objects.get(response=changed, question_id=spec.by_key["anything_else"].id)
    assert not AnswerTheme.objects.filter(answer=new).exists()
    assert not CampaignMember.objects.filter(answer=new).exists()
    assert AnswerTheme.objects.filter(
        answer__response=changed, answer__question__key="other_safeguards"
    ).exists()
    assert AnswerTheme.objects.filter(answer__response=other).count() == 2
    campaign.refresh_from_db()
    assert campaign.size == MIN_SIZE
    assert Amendment.objects.get().previous == {"anything_else": "Ban it now."}


def test_data_controllers_see_the_history_on_the_page_and_in_the_export(client, consultation, sent):
    response, link = sent
    token = token_of(link)
    spec = consultation_spec(consultation)
    for choice in ("strict_safeguards", "dont_know"):
        client.post(
            reverse("responses:amend_section", args=[token, "use"]) + "?return=check",
            section_post(spec, "use", {**FIRST, "lfr_overall": choice}),
        )
        client.post(reverse("responses:amend", args=[token]))
    client.post(
        reverse("responses:amend_section", args=[token, "your-details"]) + "?return=check",
        {"name": "Ada King", "email": "ada@example.com"},
    )
    client.post(reverse("responses:amend", args=[token]))
    assert Amendment.objects.count() == 3

    controller = Client()
    controller.force_login(user_make("dc", Role.ANALYST, Role.DATA_CONTROLLER))
    url = reverse("analysis:subject_request", args=[response.reference])
    page = controller.get(url).content.decode()
    assert "Changes the respondent made" in page
    assert "changed them 3 times" in page
    assert "Before: No, never" in page
    assert "Before: Yes, with strict safeguards" in page
    assert "Before: Not kept (personal details)" in page
    assert "Ada Lovelace" not in page  # the earlier name is not kept anywhere
    assert "Ada King" in page

    reply = controller.post(
        reverse("analysis:subject_export", args=[response.reference]), {"case": "DSR-9"}
    )
    document = json.loads(reply.content)
    history = document["amendments"]
    assert [[c["key"] for c in a["changes"]] for a in history] == [
        ["lfr_overall"],
        ["lfr_overall"],
        ["name"],
    ]
    assert history[0]["changes"][0]["before"] == ["never"]
    assert history[0]["changes"][0]["before_in_words"] == ["No, never"]
    assert history[1]["changes"][0]["before"] == ["strict_safeguards"]
    assert history[2]["changes"][0]["before"] is None
    assert document["channel"] == "online"
    by_key = {row["key"]: row for row in document["answers"]}
    assert by_key["lfr_overall"]["codes"] == ["dont_know"]


def test_the_record_cannot_be_changed_and_goes_with_an_erasure(consultation):
    from consult.analysis.services import response_erase

    response = respond(consultation, timezone.now())
    spec = consultation_spec(consultation)
    answers = {**response_answer_map(response=response, spec=spec), "lfr_overall": ("dont_know",)}
    amendment = services.response_amend(
        response=response, spec=spec, answers=answers, now=timezone.now()
    )
    assert amendment is not None
    with pytest.raises(AppendOnlyError):
        Amendment.objects.update(changed_keys=[])
    with pytest.raises(AppendOnlyError):
        amendment.delete()
    response_erase(response=response, user=user_make("dc2"), case="DSR-1", now=timezone.now())
    assert not Amendment.objects.exists()
    assert_tallies_match_the_answers(consultation)


CHANGED = {**FIRST, "lfr_overall": "strict_safeguards"}  # the "use" section, one answer changed


def save_changes(client: Client, consultation, link: str, capture, **changes) -> None:
    """Change answers on their sections, then save them, running what waits for the
    commit (the email)."""
    token = token_of(link)
    spec = consultation_spec(consultation)
    for section_key, answers in changes.items():
        url = reverse("responses:amend_section", args=[token, section_key])
        reply = client.post(f"{url}?return=check", section_post(spec, section_key, answers))
        assert reply.status_code == 302, reply.content.decode()[:2000]
    with capture(execute=True):
        saved = client.post(reverse("responses:amend", args=[token]))
    assert saved.status_code == 302


def test_saved_changes_are_confirmed_by_email_with_the_questions_changed(
    client, consultation, sent, django_capture_on_commit_callbacks
):
    response, link = sent
    mail.outbox.clear()

    save_changes(client, consultation, link, django_capture_on_commit_callbacks, use=CHANGED)

    (notice,) = mail.outbox
    assert notice.to == ["ada@example.com"]
    assert notice.subject == (
        f"Changes saved to your response to “{consultation.title}”: {response.reference}"
    )
    question = consultation_spec(consultation).by_key["lfr_overall"].text
    assert "You changed your answers to:\n\n- " + question + "\n" in notice.body
    assert f"http://testserver{link}" in notice.body
    assert "If you did not make these changes, someone else has your private link" in notice.body


def test_a_changed_matrix_row_is_named_with_its_question(
    client, consultation, sent, django_capture_on_commit_callbacks
):
    _response, link = sent
    mail.outbox.clear()
    spec = consultation_spec(consultation)
    row = spec.by_key["lfr_by_operator__police"]
    now = FIRST.get(row.key, default_value(row))  # what the response was sent with
    other = next(option.code for option in row.options if option.code != now)

    save_changes(
        client,
        consultation,
        link,
        django_capture_on_commit_callbacks,
        use={**FIRST, row.key: other},
    )

    (notice,) = mail.outbox
    assert f"\n- {spec.by_key['lfr_by_operator'].text}: {row.text}\n" in notice.body


def test_a_changed_email_address_is_told_at_both_addresses(
    client, consultation, sent, django_capture_on_commit_callbacks
):
    _response, link = sent
    mail.outbox.clear()

    save_changes(
        client,
        consultation,
        link,
        django_capture_on_commit_callbacks,
        **{"your-details": {**FIRST, "email": "ada.new@example.com"}},
    )

    assert sorted(message.to[0] for message in mail.outbox) == [
        "ada.new@example.com",
        "ada@example.com",
    ]
    assert all(len(message.to) == 1 for message in mail.outbox)  # neither sees the other
    assert "Email address" in mail.outbox[0].body


def test_saving_without_a_change_sends_nothing(
    client, consultation, sent, django_capture_on_commit_callbacks
):
    _response, link = sent
    mail.outbox.clear()

    save_changes(client, consultation, link, django_capture_on_commit_callbacks)

    assert mail.outbox == []


def test_changes_made_in_welsh_are_confirmed_in_welsh(
    client, consultation, sent, django_capture_on_commit_callbacks
):
    _response, link = sent
    mail.outbox.clear()
    client.cookies.load({settings.LANGUAGE_COOKIE_NAME: "cy"})

    save_changes(client, consultation, link, django_capture_on_commit_callbacks, use=CHANGED)

    (notice,) = mail.outbox
    assert notice.subject.startswith("Newidiadau wedi’u cadw i’ch ymateb i “")
    welsh_question = consultation_spec(consultation, "cy").by_key["lfr_overall"].text
    assert "Gwnaethoch newid eich atebion i’r cwestiynau hyn:\n\n- " + welsh_question in notice.body
    assert "You changed" not in notice.body
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_a_response_without_an_email_address_gets_no_notice(
    consultation, django_capture_on_commit_callbacks
):
    response = respond(consultation, timezone.now(), email="", lfr_overall=("never",))
    spec = consultation_spec(consultation)
    answers = dict(response_answer_map(response=response, spec=spec))
    answers["lfr_overall"] = ("strict_safeguards",)

    with django_capture_on_commit_callbacks(execute=True):
        amendment = services.response_amend(
            response=response,
            spec=spec,
            answers=answers,
            now=timezone.now(),
            site_url="http://testserver/",
        )

    assert amendment is not None
    assert mail.outbox == []
