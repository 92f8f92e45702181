"""Reading the answers to an open question: the listing, pages, search, filters, and
hostile answers escaped wherever they are shown."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse

from consult.analysis import queries
from consult.analysis.queries import Filters
from consult.consultations.queries import consultation_spec
from tests.analysis.conftest import (
    START,
    Sent,
    matching,
    respond,
    shared_responses,
    words_match,
)

SCRIPT = "<script>alert(1)</script> Police need rules for this"
HYPERLINK = '=HYPERLINK("http://evil.example","x")'
RTL = "\u202eexe.txt looks harmless"
# 5,000 characters, the most the question allows, with a last word found nowhere else.
LONG = ("Independent oversight matters. " * 200)[: 5000 - len(" zebra")] + " zebra"
GENERATED = 60


@pytest.fixture(scope="module")
def shared(django_db_setup, django_db_blocker):
    """60 generated responses, then three hostile ones sent after them."""
    with shared_responses(django_db_blocker, GENERATED, seed=3) as (consultation, sent):
        hostile = [
            {"respondent_type": ("individual",), "other_safeguards": SCRIPT, "anything_else": LONG},
            {"respondent_type": ("organisation",), "other_safeguards": HYPERLINK},
            {"respondent_type": ("organisation",), "other_safeguards": RTL},
        ]
        extra = []
        with django_db_blocker.unblock():
            for number, answers in enumerate(hostile):
                now = START + timedelta(hours=7 * (GENERATED + number))
                respond(consultation, now, **answers)
                extra.append(Sent(answers, now))
        yield consultation, sent + extra


@pytest.fixture
def consultation(shared, db):
    return shared[0]


@pytest.fixture
def sent(shared, db) -> list[Sent]:
    return shared[1]


def texts(responses: list[Sent], key: str = "other_safeguards") -> list[str]:
    """The answers to ``key``, newest first."""
    newest = sorted(responses, key=lambda sent: sent.submitted_at, reverse=True)
    return [str(sent.answers[key]) for sent in newest if sent.answers.get(key)]


def listing_url(consultation, key: str = "other_safeguards") -> str:
    return reverse("analysis:free_text", args=[consultation.slug, key])


def found(consultation, search: str = "", filters: Filters | None = None) -> list[str]:
    spec = consultation_spec(consultation)
    answers = queries.text_answers(
        consultation=consultation,
        spec=spec,
        question=spec.by_key["other_safeguards"],
        filters=filters or Filters(),
        search=search,
    )
    return [answer.text for answer in answers]


def test_listing_shows_this_questions_answers_newest_first_25_a_page(
    analyst_client, consultation, sent
):
    expected = texts(sent)
    assert 25 < len(expected) <= 50
    first = analyst_client.get(listing_url(consultation))
    assert first.status_code == 200
    assert first.context["page"].paginator.count == len(expected)
    assert [a.text for a in first.context["page"]] == expected[:25]
    page = first.content.decode()
    assert f"{len(expected)} answers" in page
    assert "Page 1 of 2" in page
    assert 'href="?page=2" rel="next"' in page
    assert LONG not in page  # another question's answer
    assert "On behalf of an organisation" in page
    assert "As an individual" in page

    second = analyst_client.get(listing_url(consultation), {"page": 2})
    assert [a.text for a in second.context["page"]] == expected[25:]
    assert "Page 2 of 2" in second.content.decode()


@pytest.mark.parametrize(
    ("search", "terms"),
    [
        ("polic", ["polic"]),  # the start of a word
        ("POLICE", ["police"]),  # any case
        ("police rules", ["police", "rules"]),  # every word
        ("police cameras", ["police", "cameras"]),  # never together: nothing
        ("oversight", ["oversight"]),
        ('"police" OR -rules*', ["police", "or", "rules"]),  # operators are plain words
        ("NEAR(police rules)", ["near", "police", "rules"]),
        ("evil", ["evil"]),
    ],
)
def test_search_finds_answers_with_every_word(consultation, sent, search, terms):
    expected = [text for text in texts(sent) if words_match(text, terms)]
    assert found(consultation, search) == expected
    if search == "police cameras":
        assert expected == []
        assert found(consultation, "police")
        assert found(consultation, "cameras")
    elif search not in {'"police" OR -rules*', "NEAR(police rules)"}:
        assert expected


@pytest.mark.parametrize("search", ['"', "*", "-", "AND", "()", '" OR "', "^police", "'; --"])
def test_search_survives_stray_syntax(analyst_client, consultation, sent, search):
    reply = analyst_client.get(listing_url(consultation), {"q": search})
    assert reply.status_code == 200
    terms = re.findall(r"\w+", search)
    expected = [text for text in texts(sent) if words_match(text, terms)]
    assert reply.context["page"].paginator.count == len(expected)


def test_search_combines_with_filters(analyst_client, consultation, sent):
    organisations = matching(sent, answers={"respondent_type": {"organisation"}})
    expected = [text for text in texts(organisations) if words_match(text, ["camera"])]
    assert 0 < len(expected) < len([t for t in texts(sent) if words_match(t, ["camera"])])
    reply = analyst_client.get(
        listing_url(consultation), {"q": "Camera", "a": "respondent_type:organisation"}
    )
    assert [a.text for a in reply.context["page"]] == expected
    page = reply.content.decode()
    assert f"{len(expected)} answers containing “Camera”" in page
    assert page.count("<mark>Camera</mark>s in public places") == len(expected)

    start = sent[20].day
    dated = matching(sent, start=start)
    assert found(consultation, "oversight", Filters(submitted_from=start)) == [
        text for text in texts(dated) if words_match(text, ["oversight"])
    ]


def test_hostile_answers_are_escaped(analyst_client, consultation, sent):
    page = analyst_client.get(listing_url(consultation)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Police need rules for this" in page
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;x&quot;)" in page
    assert 'href="http://evil.example' not in page
    assert re.search(r"<bdi>\u202eexe\.txt looks harmless</bdi>", page)
    assert page.count("<bdi>") == 25


def test_five_thousand_characters_are_shown_whole(analyst_client, consultation, sent):
    assert len(LONG) == 5000
    reply = analyst_client.get(listing_url(consultation, "anything_else"))
    page = reply.content.decode()
    assert f"<bdi>{LONG}</bdi>" in page
    assert SCRIPT not in page
    assert "&lt;script&gt;" not in page
    searched = analyst_client.get(listing_url(consultation, "anything_else"), {"q": "zebra"})
    assert [a.text for a in searched.context["page"]] == [LONG]


def test_highlighting_marks_matches_without_unescaping(analyst_client, consultation, sent):
    reply = analyst_client.get(listing_url(consultation), {"q": "script"})
    assert [a.text for a in reply.context["page"]] == [SCRIPT]
    page = reply.content.decode()
    assert "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;" in page
    assert "<script>" not in page

    reply = analyst_client.get(listing_url(consultation), {"q": "hyperlink evil"})
    assert [a.text for a in reply.context["page"]] == [HYPERLINK]
    page = reply.content.decode()
    assert "=<mark>HYPERLINK</mark>(&quot;http://<mark>evil</mark>.example&quot;" in page


@pytest.mark.parametrize(
    ("search", "answer"),
    [
        ("script", SCRIPT),  # a word inside markup-like text
        ("alert", SCRIPT),
        ("example", HYPERLINK),  # a word inside a web address
        ("http evil", HYPERLINK),
    ],
    ids=["script", "alert", "example", "http evil"],
)
def test_search_finds_words_inside_markup_and_addresses(consultation, sent, search, answer):
    """Answers are plain text: every word in them is searchable, on either database."""
    assert words_match(answer, search.split())
    assert found(consultation, search) == [answer]


def test_a_hostile_search_is_escaped_too(analyst_client, consultation, sent):
    search = '<script>alert("q")</script>'
    page = analyst_client.get(listing_url(consultation), {"q": search}).content.decode()
    assert search not in page
    assert "&lt;script&gt;alert(&quot;q&quot;)&lt;/script&gt;" in page


def test_unknown_or_closed_questions_are_not_found(analyst_client, consultation):
    for key in ("nonsense", "region", "name", "email"):
        assert analyst_client.get(listing_url(consultation, key)).status_code == 404, key


@pytest.mark.parametrize("name", ["dashboard", "crosstab", "free_text"])
def test_hostile_query_parameters_are_escaped(analyst_client, consultation, sent, name):
    hostile = '"><script>alert(1)</script>'
    kwargs = {"slug": consultation.slug} | (
        {"key": "other_safeguards"} if name == "free_text" else {}
    )
    query = {
        "a": [hostile, f"region:{hostile}", "region:wales"],
        "from": hostile,
        "to": hostile,
        "rows": hostile,
        "columns": "region",
        "suppress": hostile,
        "q": hostile,
        "theme": hostile,
        "page": hostile,
    }
    reply = analyst_client.get(reverse(f"analysis:{name}", kwargs=kwargs), query)
    assert reply.status_code == 200
    page = reply.content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
