"""The public journey through Django's test client: what people see and what is stored."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from consult.consultations.queries import consultation_spec
from consult.responses.models import Answer, Respondent, Response, ResponseStatus
from tests.responses.helpers import (
    INDIVIDUAL,
    answer_all,
    check_url,
    section_post,
    section_url,
)

REFERENCE = re.compile(
    r"FR-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{4}"
)


def stored(response: Response) -> dict[str, list[str]]:
    """Answers in the database by question key: option codes or text."""
    answers: dict[str, list[str]] = {}
    for key, code, text in Answer.objects.filter(response=response).values_list(
        "question__key", "option__code", "text"
    ):
        answers.setdefault(key, []).append(code or text)
    return answers


def test_home_lists_the_open_consultation(client, consultation):
    page = client.get("/").content.decode()
    assert "Open consultations" in page
    assert consultation.title in page
    assert reverse("responses:start", args=[consultation.slug]) in page


def test_start_page_explains_and_links_to_the_first_section(client, consultation):
    page = client.get(reverse("responses:start", args=[consultation.slug])).content.decode()
    assert "<h1" in page
    assert consultation.title in page
    assert "10 to 15 minutes" in page
    assert "privacy notice" in page
    assert section_url(consultation, "about-you") in page


def test_privacy_notice_is_rendered_from_the_definition(client, consultation):
    page = client.get(reverse("responses:privacy", args=[consultation.slug])).content.decode()
    assert "Privacy notice" in page
    assert "Information Commissioner" in page


def test_full_journey_stores_answers_and_gives_a_reference(client, consultation, submit):
    answer_all(client, consultation, INDIVIDUAL)
    check = client.get(check_url(consultation))
    assert check.status_code == 200
    page = check.content.decode()
    assert "Check your answers" in page
    assert "Wales" in page
    assert "Ada Lovelace" in page

    reply = submit(client, consultation)
    assert reply.status_code == 302
    confirmation = client.get(reply["Location"]).content.decode()
    response = Response.objects.get()
    assert response.status == ResponseStatus.SUBMITTED
    assert response.submitted_at is not None
    assert REFERENCE.fullmatch(response.reference)
    assert response.reference in confirmation
    assert response.respondent_type == "individual"
    assert response.publication == "publish_named"

    answers = stored(response)
    assert answers["respondent_type"] == ["individual"]
    assert answers["region"] == ["wales"]
    assert "lfr_by_operator__police" in answers
    # Personal details live in their own table, never among the answers.
    assert "name" not in answers
    assert "email" not in answers
    assert Respondent.objects.get(response=response).name == "Ada Lovelace"
    # The organisation questions were hidden: nothing stored for them.
    assert "organisation_type" not in answers
    assert Respondent.objects.get(response=response).organisation_name == ""


def test_every_answerable_question_of_the_shown_sections_is_stored(client, consultation):
    answer_all(client, consultation, INDIVIDUAL | {"other_safeguards": "Publish audits."})
    client.post(check_url(consultation))
    answers = stored(Response.objects.get())
    spec = consultation_spec(consultation)
    personal = {"name", "email", "organisation_name"}
    hidden = {"organisation_name", "organisation_type"}
    expected = {q.key for q in spec.answerable()} - personal - hidden
    assert set(answers) == expected
    assert answers["other_safeguards"] == ["Publish audits."]


def test_organisation_sees_the_organisation_section(client, consultation):
    spec = consultation_spec(consultation)
    reply = client.post(
        section_url(consultation, "about-you"),
        section_post(spec, "about-you", {"respondent_type": "organisation"}),
    )
    assert reply["Location"] == section_url(consultation, "your-organisation")
    page = client.get(reply["Location"]).content.decode()
    assert "name of your organisation" in page.lower() or "organisation" in page
    assert 'autocomplete="organization"' in page


def test_individual_skips_the_organisation_section(client, consultation):
    spec = consultation_spec(consultation)
    reply = client.post(
        section_url(consultation, "about-you"),
        section_post(spec, "about-you", {"respondent_type": "individual"}),
    )
    assert reply["Location"] == section_url(consultation, "use")
    skipped = client.get(section_url(consultation, "your-organisation"))
    assert skipped.status_code == 302
    assert skipped["Location"] == section_url(consultation, "use")


def test_changing_an_answer_removes_answers_it_now_hides(client, consultation):
    spec = consultation_spec(consultation)
    client.post(
        section_url(consultation, "about-you"),
        section_post(spec, "about-you", {"respondent_type": "organisation"}),
    )
    client.post(
        section_url(consultation, "your-organisation"),
        {"organisation_name": "Camden Residents’ Forum", "organisation_type": "civil_society"},
    )
    response = Response.objects.get()
    assert stored(response)["organisation_type"] == ["civil_society"]
    assert Respondent.objects.get(response=response).organisation_name

    reply = client.post(
        section_url(consultation, "about-you") + "?return=check",
        section_post(spec, "about-you", {"respondent_type": "individual"}),
    )
    assert reply.status_code == 302
    assert "organisation_type" not in stored(response)
    assert Respondent.objects.get(response=response).organisation_name == ""
    response.refresh_from_db()
    assert response.respondent_type == "individual"


def test_a_hidden_question_posted_anyway_is_not_stored(client, consultation):
    answer_all(client, consultation, INDIVIDUAL | {"publication": "publish_anonymous"})
    client.post(section_url(consultation, "your-details"), {"name": "Forged", "email": ""})
    response = Response.objects.get()
    respondent = Respondent.objects.filter(response=response).first()
    assert respondent is None or respondent.name == ""


def test_choosing_not_to_publish_with_a_name_removes_the_name(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    response = Response.objects.get()
    assert Respondent.objects.get(response=response).name == "Ada Lovelace"
    spec = consultation_spec(consultation)
    client.post(
        section_url(consultation, "publishing") + "?return=check",
        section_post(spec, "publishing", {"publication": "do_not_publish"}),
    )
    respondent = Respondent.objects.get(response=response)
    assert respondent.name == ""
    assert respondent.email == "ada@example.com"


def test_draft_is_saved_and_resumed_in_the_same_browser(client, consultation):
    spec = consultation_spec(consultation)
    client.post(section_url(consultation, "about-you"), section_post(spec, "about-you", {}))
    client.post(section_url(consultation, "use"), section_post(spec, "use", {}))
    draft = Response.objects.get()
    assert draft.status == ResponseStatus.DRAFT
    assert "lfr_overall" in stored(draft)

    start = client.get(reverse("responses:start", args=[consultation.slug])).content.decode()
    assert "Continue your response" in start
    assert section_url(consultation, "safeguards") in start
    # The answers already given are filled in when the respondent goes back.
    page = client.get(section_url(consultation, "use")).content.decode()
    chosen = spec.section("use").questions[0].options[0].code
    assert re.search(rf'value="{chosen}"\s+checked', page)


def test_another_browser_does_not_see_the_draft(client, consultation, django_user_model):
    spec = consultation_spec(consultation)
    client.post(section_url(consultation, "about-you"), section_post(spec, "about-you", {}))
    from django.test import Client

    other = Client()
    start = other.get(reverse("responses:start", args=[consultation.slug])).content.decode()
    assert "Continue your response" not in start
    assert other.get(check_url(consultation)).status_code == 302


def test_start_again_begins_a_new_response(client, consultation):
    spec = consultation_spec(consultation)
    client.post(section_url(consultation, "about-you"), section_post(spec, "about-you", {}))
    client.post(reverse("responses:start_again", args=[consultation.slug]))
    start = client.get(reverse("responses:start", args=[consultation.slug])).content.decode()
    assert "Start now" in start


def test_check_answers_has_a_change_link_per_answer(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    page = client.get(check_url(consultation)).content.decode()
    spec = consultation_spec(consultation)
    shown = [q for s in spec.visible_sections(INDIVIDUAL) for q in s.questions]
    assert page.count(">Change<") == len(
        [q for q in shown if q.key not in {"organisation_name", "organisation_type"}]
    )
    assert section_url(consultation, "use") + "?return=check#id_lfr_overall_1" in page


def test_a_change_from_check_answers_returns_there(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    spec = consultation_spec(consultation)
    reply = client.post(
        section_url(consultation, "use") + "?return=check",
        section_post(spec, "use", {"lfr_overall": "dont_know"}),
    )
    assert reply["Location"] == check_url(consultation)
    assert stored(Response.objects.get())["lfr_overall"] == ["dont_know"]


def test_a_change_that_reveals_a_question_leads_to_it(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    spec = consultation_spec(consultation)
    reply = client.post(
        section_url(consultation, "about-you") + "?return=check",
        section_post(spec, "about-you", {"respondent_type": "organisation"}),
    )
    assert reply["Location"] == section_url(consultation, "your-organisation")


def test_submitting_with_a_gap_shows_what_to_answer(client, consultation):
    spec = consultation_spec(consultation)
    client.post(section_url(consultation, "about-you"), section_post(spec, "about-you", {}))
    reply = client.post(check_url(consultation))
    assert reply.status_code == 400
    page = reply.content.decode()
    assert "<title>Error: " in page
    assert "There is a problem" in page
    assert section_url(consultation, "use") + "?return=check#id_prior_awareness_1" in page
    assert Response.objects.get().status == ResponseStatus.DRAFT


def test_double_submit_creates_one_response_and_the_same_confirmation(client, consultation, submit):
    answer_all(client, consultation, INDIVIDUAL)
    first = submit(client, consultation)
    second = submit(client, consultation)
    assert first["Location"] == second["Location"]
    assert Response.objects.count() == 1
    response = Response.objects.get()
    assert response.status == ResponseStatus.SUBMITTED
    assert len(mail.outbox) == 1
    confirmation = client.get(second["Location"]).content.decode()
    assert response.reference in confirmation


def test_after_submitting_the_sections_lead_to_the_confirmation(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    client.post(check_url(consultation))
    reply = client.post(section_url(consultation, "use"), {"lfr_overall": "dont_know"})
    assert reply["Location"] == reverse("responses:confirmation", args=[consultation.slug])
    assert stored(Response.objects.get())["lfr_overall"] == ["never"]


def test_receipt_email_links_to_the_answers_and_withdrawal(client, consultation, submit):
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    response = Response.objects.get()
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ada@example.com"]
    assert response.reference in email.subject
    assert response.reference in email.body
    link = re.search(r"http://testserver(/receipt/\S+/)", email.body).group(1)

    receipt = client.get(link).content.decode()
    assert response.reference in receipt
    assert "Wales" in receipt

    withdraw_url = link + "withdraw/"
    assert "Are you sure" in client.get(withdraw_url).content.decode()
    reply = client.post(withdraw_url)
    assert reply.status_code == 302
    response.refresh_from_db()
    assert response.status == ResponseStatus.WITHDRAWN
    assert response.withdrawn_at is not None
    assert not Response.objects.counted().exists()
    assert "Response withdrawn" in client.get(reply["Location"]).content.decode()
    # Withdrawing again changes nothing.
    withdrawn_at = response.withdrawn_at
    client.post(withdraw_url)
    response.refresh_from_db()
    assert response.withdrawn_at == withdrawn_at


def test_no_email_means_no_receipt(client, consultation, submit):
    answer_all(client, consultation, INDIVIDUAL | {"email": ""})
    submit(client, consultation)
    assert Response.objects.get().status == ResponseStatus.SUBMITTED
    assert mail.outbox == []


@pytest.mark.parametrize("tamper", ["append", "swap", "garbage"])
def test_a_tampered_receipt_link_shows_a_clear_page(client, consultation, submit, tamper):
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    link = re.search(r"http://testserver(/receipt/\S+/)", mail.outbox[0].body).group(1)
    token = link.split("/")[2]
    forged = {
        "append": token + "x",
        "swap": token[::-1],
        "garbage": "not-a-token",
    }[tamper]
    pages = ["", "withdraw/", "change/", "change/use/"]
    for url in (f"/receipt/{forged}/{page}" for page in pages):
        reply = client.get(url)
        assert reply.status_code == 404
        assert "This link does not work" in reply.content.decode()
    client.post(f"/receipt/{forged}/withdraw/")
    client.post(f"/receipt/{forged}/change/")
    client.post(f"/receipt/{forged}/change/use/", {"lfr_overall": "dont_know"})
    assert Response.objects.get().status == ResponseStatus.SUBMITTED
    assert not Response.objects.get().amendments.exists()


def test_an_expired_receipt_link_does_not_work(client, consultation, submit, settings):
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    link = re.search(r"http://testserver(/receipt/\S+/)", mail.outbox[0].body).group(1)
    settings.RECEIPT_LINK_MAX_AGE_DAYS = -1
    assert client.get(link).status_code == 404


@pytest.mark.parametrize(
    ("opens", "closes", "heading"),
    [
        (timedelta(days=2), timedelta(days=30), "This consultation is not open yet"),
        (timedelta(days=-30), timedelta(days=-1), "This consultation has closed"),
    ],
)
def test_closed_and_not_yet_open_consultations_take_no_answers(
    client, consultation, opens, closes, heading
):
    now = timezone.now()
    consultation.opens_at, consultation.closes_at = now + opens, now + closes
    consultation.save()
    start = client.get(reverse("responses:start", args=[consultation.slug])).content.decode()
    assert "Start now" not in start
    spec = consultation_spec(consultation)
    url = section_url(consultation, "about-you")
    page = client.get(url)
    assert page.status_code == 403
    assert heading in page.content.decode()
    reply = client.post(url, section_post(spec, "about-you", {}))
    assert reply.status_code == 403
    assert not Response.objects.exists()


def test_a_draft_cannot_be_submitted_after_closing(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    consultation.closes_at = timezone.now() - timedelta(minutes=1)
    consultation.save()
    reply = client.post(check_url(consultation))
    assert reply.status_code == 403
    assert "This consultation has closed" in reply.content.decode()
    assert Response.objects.get().status == ResponseStatus.DRAFT


def test_unknown_consultation_and_section_are_not_found(client, consultation):
    assert client.get("/c/no-such-thing/").status_code == 404
    assert client.get(section_url(consultation, "no-such-section")).status_code == 404


def test_after_sending_the_start_page_offers_a_new_response_not_a_draft(
    client, consultation, submit
):
    answer_all(client, consultation, INDIVIDUAL)
    submit(client, consultation)
    start = client.get(reverse("responses:start", args=[consultation.slug])).content.decode()
    assert "Continue your response" not in start
    assert "You have sent a response" in start
    assert Response.objects.get().reference in start


def test_a_mail_server_failure_does_not_lose_the_submission(
    client, consultation, submit, monkeypatch
):
    def refuse(**kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr("consult.responses.services.send_mail", refuse)
    answer_all(client, consultation, INDIVIDUAL)
    reply = submit(client, consultation)
    assert reply.status_code == 302
    assert reply["Location"] == reverse("responses:confirmation", args=[consultation.slug])
    assert Response.objects.get().status == ResponseStatus.SUBMITTED


def test_a_change_page_leads_back_to_check_answers(client, consultation):
    answer_all(client, consultation, INDIVIDUAL)
    page = client.get(section_url(consultation, "use") + "?return=check").content.decode()
    back = re.search(r'href="([^"]+)" class="govuk-back-link"', page).group(1)
    assert back == check_url(consultation)
    check = client.get(check_url(consultation)).content.decode()
    back = re.search(r'href="([^"]+)" class="govuk-back-link"', check).group(1)
    assert back == section_url(consultation, "your-details")


def test_a_matrix_hint_is_text_not_a_template(client, consultation):
    from consult.consultations.models import Question

    Question.objects.filter(key="lfr_by_operator").update(hint="Say {{ csrf_token }} {% if %}")
    consultation.definition_sha256 = "changed-by-test"
    consultation.save()
    page = client.get(section_url(consultation, "use"))
    assert page.status_code == 200
    assert "Say {{ csrf_token }} {% if %}" in page.content.decode()


def test_the_journey_makes_few_queries(client, consultation, django_assert_max_num_queries):
    answer_all(client, consultation, INDIVIDUAL)
    spec = consultation_spec(consultation)
    with django_assert_max_num_queries(6):
        client.get(section_url(consultation, "use"))
    # Replacing a section's answers also clears their coding (themes), whatever their number.
    with django_assert_max_num_queries(20):
        client.post(section_url(consultation, "use"), section_post(spec, "use", {}))
    with django_assert_max_num_queries(6):
        client.get(check_url(consultation))
    with django_assert_max_num_queries(15):
        client.post(check_url(consultation))
    assert Response.objects.get().status == ResponseStatus.SUBMITTED
