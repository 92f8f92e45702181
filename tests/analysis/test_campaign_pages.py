"""The campaign pages of the workspace: the list per question, one campaign's versions of
its text, confirming, renaming, splitting and taking answers out, and the switch that
counts confirmed campaigns once or not at all in the results views."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consult.analysis.campaigns import (
    consultation_campaigns_detect,
    text_fingerprint,
    text_normalise,
)
from consult.analysis.models import Campaign, CampaignMember, CampaignRelease
from consult.responses.models import Answer
from tests.analysis.conftest import respond

NOW = timezone.now() - timedelta(hours=1)
QUESTION = "anything_else"
BAN = "Ban live facial recognition in public places now. It treats everyone as a suspect."
EDITED = f"{BAN} Please."
VOTE = "Put it to a public vote before any camera is switched on in our town."


def fingerprint(text: str) -> str:
    return text_fingerprint(text_normalise(text)).hex()


@pytest.fixture
def found(consultation):
    """One campaign of 8 answers in two versions (6 + 2) and 3 ordinary answers, each
    response choosing the first option of every required question."""
    for minute in range(6):
        respond(consultation, NOW + timedelta(minutes=minute), anything_else=BAN)
    for minute in range(6, 8):
        respond(consultation, NOW + timedelta(minutes=minute), anything_else=EDITED)
    for minute, words in enumerate(["Cameras in shops only.", "No.", "Ask a judge first."]):
        respond(consultation, NOW + timedelta(minutes=10 + minute), anything_else=words)
    consultation_campaigns_detect(consultation=consultation, now=timezone.now())
    return Campaign.objects.get(question__key=QUESTION)


def url(name: str, campaign: Campaign, **query: str) -> str:
    address = reverse(f"analysis:{name}", args=[campaign.consultation.slug, campaign.pk])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_list_shows_each_questions_campaigns_with_their_figures(analyst_client, found):
    page = analyst_client.get(reverse("analysis:campaigns", args=[found.consultation.slug]))
    html = page.content.decode()
    assert page.status_code == 200
    assert found.name in html
    assert url("campaign", found) in html
    assert '<td class="govuk-table__cell govuk-table__cell--numeric">8</td>' in html
    assert "To check" in html
    assert "You have confirmed 0 campaigns." in html


def test_a_campaign_page_lists_its_versions_most_common_first(
    analyst_client, found, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        page = analyst_client.get(url("campaign", found))
    html = page.content.decode()
    assert html.index(f'value="{fingerprint(BAN)}"') < html.index(f'value="{fingerprint(EDITED)}"')
    assert "6 answers · 100% similar · the campaign’s text" in html
    assert "2 answers" in html
    assert f"?campaign={found.pk}" in html


def test_confirming_records_who_and_when_and_can_be_undone(analyst_client, analyst, found):
    reply = analyst_client.post(url("campaign_confirm", found))
    assert reply.status_code == 302
    found.refresh_from_db()
    assert (found.confirmed, found.confirmed_by) == (True, analyst)
    page = analyst_client.get(url("campaign", found)).content.decode()
    assert "Confirmed by analyst on" in page

    analyst_client.post(url("campaign_confirm", found), {"confirmed": "no"})
    found.refresh_from_db()
    assert (found.confirmed, found.confirmed_by, found.confirmed_at) == (False, None, None)


def test_renaming_changes_the_name_and_a_blank_name_is_refused(analyst_client, found):
    analyst_client.post(url("campaign_rename", found), {"name": "Ban it"})
    found.refresh_from_db()
    assert found.name == "Ban it"

    reply = analyst_client.post(url("campaign_rename", found), {"name": ""})
    assert reply.status_code == 400
    assert "Enter a name for the campaign" in reply.content.decode()
    found.refresh_from_db()
    assert found.name == "Ban it"


def test_splitting_moves_the_chosen_versions_into_a_new_unconfirmed_campaign(analyst_client, found):
    reply = analyst_client.post(
        url("campaign_variants", found),
        {"action": "split", "variants": [fingerprint(EDITED)], "name": "Ban it, politely"},
    )
    new = Campaign.objects.get(name="Ban it, politely")
    assert reply.status_code == 302
    assert reply["Location"] == url("campaign", new)
    found.refresh_from_db()
    assert (found.size, new.size, new.confirmed) == (6, 2, False)
    assert new.representative == EDITED
    assert set(new.members.values_list("similarity", flat=True)) == {1.0}
    moved = Answer.objects.filter(campaign_member__campaign=new).values_list("text", flat=True)
    assert list(moved) == [EDITED, EDITED]


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"action": "split", "name": "Split"}, "Select the versions of the text to move"),
        ({"action": "split", "variants": "EDITED"}, "Enter a name for the new campaign"),
        ({"action": "split", "variants": "0" * 32, "name": "x"}, "from this campaign"),
        ({"action": "split", "variants": "BOTH", "name": "x"}, "Leave at least one version"),
    ],
)
def test_a_split_that_cannot_be_done_says_why_and_changes_nothing(
    analyst_client, found, posted, message
):
    every = {"EDITED": [fingerprint(EDITED)], "BOTH": [fingerprint(BAN), fingerprint(EDITED)]}
    posted = {**posted, "variants": every.get(posted.get("variants", ""), posted.get("variants"))}
    posted = {key: value for key, value in posted.items() if value is not None}
    before = sorted(CampaignMember.objects.values_list("answer_id", "campaign_id"))
    reply = analyst_client.post(url("campaign_variants", found), posted)
    assert reply.status_code == 400
    html = reply.content.decode()
    assert "There is a problem" in html
    assert message in html
    assert sorted(CampaignMember.objects.values_list("answer_id", "campaign_id")) == before
    assert Campaign.objects.count() == 1


def test_taking_versions_out_keeps_them_out_of_later_detection(analyst_client, analyst, found):
    analyst_client.post(
        url("campaign_variants", found), {"action": "release", "variants": [fingerprint(EDITED)]}
    )
    found.refresh_from_db()
    assert found.size == 6
    released = CampaignRelease.objects.all()
    assert [(r.campaign_name, r.released_by) for r in released] == [(found.name, analyst)] * 2

    consultation_campaigns_detect(consultation=found.consultation, now=timezone.now(), rebuild=True)
    assert not CampaignMember.objects.filter(answer__text=EDITED).exists()


def test_taking_every_version_out_ends_the_campaign(analyst_client, found):
    reply = analyst_client.post(
        url("campaign_variants", found),
        {"action": "release", "variants": [fingerprint(BAN), fingerprint(EDITED)]},
    )
    assert reply["Location"] == reverse("analysis:campaigns", args=[found.consultation.slug])
    assert not Campaign.objects.exists()
    assert CampaignRelease.objects.count() == 8


def test_the_free_text_page_lists_a_campaigns_answers_and_marks_members(analyst_client, found):
    listing = reverse("analysis:free_text", args=[found.consultation.slug, QUESTION])
    html = analyst_client.get(f"{listing}?campaign={found.pk}").content.decode()
    assert f"8 answers in the campaign “{found.name}”" in html
    html = analyst_client.get(listing).content.decode()
    assert "11 answers" in html
    assert html.count(f"campaign “{found.name}”</a> (not confirmed)") == 8


@pytest.mark.parametrize(("how", "total"), [("all", 11), ("once", 4), ("excluded", 3)])
def test_the_results_views_count_confirmed_campaigns_as_chosen(
    analyst_client, analyst, found, how, total
):
    slug = found.consultation.slug
    dashboard = reverse("analysis:dashboard", args=[slug])
    unconfirmed = analyst_client.get(f"{dashboard}?campaigns={how}").context["results"]
    assert unconfirmed.total == 11  # nothing changes until an analyst confirms
    analyst_client.post(url("campaign_confirm", found))

    page = analyst_client.get(f"{dashboard}?campaigns={how}")
    assert page.context["results"].total == total
    listing = reverse("analysis:free_text", args=[slug, QUESTION])
    answers = analyst_client.get(f"{listing}?campaigns={how}").context["page"].paginator.count
    assert answers == total
    if how != "all":
        assert "(confirmed campaigns only)" in page.content.decode()


def test_an_unknown_way_of_counting_campaigns_is_reported(analyst_client, found):
    dashboard = reverse("analysis:dashboard", args=[found.consultation.slug])
    page = analyst_client.get(f"{dashboard}?campaigns=twice")
    assert "Choose how to count responses in campaigns" in page.content.decode()
    assert page.context["results"].total == 11
