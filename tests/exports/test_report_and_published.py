"""The committee's summary report, and results published to everyone after closing."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from docx import Document

from consult.analysis import queries
from consult.consultations.queries import consultation_spec
from consult.exports.models import Channel, DownloadRecord
from consult.exports.publish import public_figures

pytestmark = pytest.mark.django_db


def test_the_printable_report_has_every_question_and_no_links_to_change_it(made, analyst_client):
    reply = analyst_client.get(f"/analysis/{made.slug}/report/")
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "not a representative sample" in page
    for question in made.spec.sections[2].questions:
        assert question.text in page
    assert "Only these respondents" not in page


def test_the_word_report_has_the_figures_and_is_recorded(made, analyst, analyst_client):
    reply = analyst_client.get(
        f"/analysis/{made.slug}/report.docx", {"a": "respondent_type:individual"}
    )
    assert reply.status_code == 200
    document = Document(io.BytesIO(b"".join(reply.streaming_content)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "not a representative sample" in text
    assert "respondent_type: " in text  # the filters used
    individuals = sum(s.codes("respondent_type") == ("individual",) for s in made.sent)
    first_table = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert ["In this report (after filters)", str(individuals)] in first_table
    record = DownloadRecord.objects.get()
    assert (record.user, record.format, record.row_count) == (analyst, "report-docx", individuals)


def test_results_are_private_until_published_after_closing(made):
    assert Client().get(f"/c/{made.slug}/results/").status_code == 404
    assert Client().get(f"/c/{made.slug}/results/publishable.csv").status_code == 404


def publish(made) -> None:
    made.consultation.closes_at = timezone.now() - timedelta(days=1)
    made.consultation.results_published_at = timezone.now()
    made.consultation.save()


def test_published_results_hide_small_counts_and_offer_the_publishable_csv(made):
    publish(made)
    page = Client().get(f"/c/{made.slug}/results/").content.decode()
    assert "not a poll" in page
    assert "not shown" in page
    reply = Client().get(f"/c/{made.slug}/results/publishable.csv")
    body = b"".join(reply.streaming_content).decode()
    publishing = [
        s.reference
        for s in made.sent
        if s.codes("publication") in {("publish_named",), ("publish_anonymous",)}
    ]
    assert [line.split(",")[0] for line in body.splitlines()[1:]] == publishing
    assert "email" not in body.splitlines()[0]
    record = DownloadRecord.objects.get()
    assert (record.user, record.channel, record.variant) == (None, Channel.PUBLIC, "publishable")


def test_public_figures_hide_small_counts_and_one_more_beside_a_lone_one(made):
    results = queries.results(
        consultation=made.consultation, spec=made.spec, filters=queries.Filters()
    )
    for result in results.questions:
        for question in (result, *result.rows):
            if not question.options:
                continue
            figures = public_figures(question).figures
            counts = [o.count for o in question.options]
            hidden = [f.count is None for f in figures]
            for count, is_hidden in zip(counts, hidden, strict=True):
                if 0 < count < 10:
                    assert is_hidden
            nonzero_shown = [c for c, h in zip(counts, hidden, strict=True) if c and not h]
            assert sum(hidden) != 1 or not nonzero_shown, question.question.key


def test_published_results_in_welsh_with_the_consultation_s_own_welsh(made):
    publish(made)
    welsh = Client()
    welsh.cookies.load({settings.LANGUAGE_COOKIE_NAME: "cy"})

    page = welsh.get(f"/c/{made.slug}/results/").content.decode()

    spec = consultation_spec(made.consultation, "cy")
    assert '<html lang="cy"' in page
    assert "Canlyniadau a gyhoeddwyd" in page
    assert "Nid arolwg barn mohonynt" in page
    assert "heb ei ddangos" in page
    assert f">{spec.by_key['lfr_overall'].text}</caption>" in page
    assert f">{spec.by_key['lfr_overall'].options[0].label}</th>" in page
    assert "not a poll" not in page
    assert 'lang="en"' not in page.replace('lang="en" hreflang="en"', "")  # all Welsh
    assert "?lang=en" in page  # the switch, back to English on the same page
    english = Client().get(f"/c/{made.slug}/results/").content.decode()
    assert "not a poll" in english
    assert f">{made.spec.by_key['lfr_overall'].text}</caption>" in english
