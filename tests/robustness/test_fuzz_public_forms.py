"""Arbitrary posts to every public form: never a server error, every refusal says what is
wrong, and nothing is stored from a refused post.

Posts are raw bodies sent by a test client that checks CSRF tokens as production does,
carrying the cookies of a person at some point of the journey (``Browser``). Hypothesis
writes the bodies: the real field names with arbitrary text (NUL, lone surrogates, line
breaks, very long answers), option codes that do not exist or belong to another question,
fields sent twice or not at all, unknown fields, undecodable bytes (``\\xff\\xfe``,
``%ff``), other content types and charsets, and the CSRF token present, missing, wrong or
sent twice.

Each example works out what should happen from what the server receives: the body is
parsed as Django parses it (a ``RequestFactory`` request's ``POST``), so a body Django
cannot read must get the site's 400 page, and one without the right token the site's 403
page; a section post is then judged by the very form the view builds from that data. A
post the form refuses must show the form again with the GOV.UK error summary linking to
each field in error, and leave the database as it was; a post it accepts must leave
exactly the form's cleaned answers in the database. Each example runs in a rolled-back
savepoint (see ``conftest.py``), so all start from the same draft.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core import signing
from django.core.exceptions import BadRequest, SuspiciousOperation
from django.forms import CheckboxSelectMultiple, RadioSelect
from django.http import HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse
from django.utils.html import escape
from hypothesis import event, given, note
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from consult.consultations.models import Consultation, QuestionType
from consult.consultations.queries import (
    AnswerValue,
    ConsultationSpec,
    QuestionSpec,
    SectionSpec,
    consultation_spec,
)
from consult.exports import public_urls
from consult.responses import urls as response_urls
from consult.responses.documents import EMPTY, PASSWORD_PROTECTED, WRONG_TYPE
from consult.responses.forms import HONEYPOT, SectionForm
from consult.responses.journey import SESSION_KEY
from consult.responses.models import (
    Amendment,
    Answer,
    Document,
    Respondent,
    Response,
    ResponseStatus,
)
from consult.responses.queries import RECEIPT_SALT, response_answer_map
from consult.responses.services import receipt_token
from tests.conftest import BUILT_IN
from tests.responses.documents import PNG, docx_bytes, odt_bytes, pdf_bytes, zip_bytes
from tests.responses.helpers import answer_all, check_url, section_post, section_url
from tests.robustness.conftest import rolled_back

FORM = "application/x-www-form-urlencoded"
TOKEN_FIELD = "csrfmiddlewaretoken"
BAD_REQUEST = "Sorry, we could not read what was sent"
FORBIDDEN = "Sorry, the form could not be sent"
LINK_NOT_WORKING = "This link does not work"
NOT_FOUND = "Page not found"
SECTIONS = [section["key"] for section in yaml.safe_load(BUILT_IN.read_text())["sections"]]
# Answers under which every section and question of the built-in consultation is shown.
ORGANISATION = {
    "respondent_type": "organisation",
    "organisation_name": "Civil Liberties Trust",
    "publication": "publish_named",
    "name": "Grace Hopper",
    "email": "grace@example.org",
}


# ---------------------------------------------------------------- what the server holds


def database() -> dict[str, Counter[tuple[Any, ...]]]:
    """Every row the public journey writes, sessions included."""
    return {
        "responses": Counter(
            Response.objects.values_list(
                "pk",
                "status",
                "respondent_type",
                "publication",
                "updated_at",
                "submitted_at",
                "withdrawn_at",
            )
        ),
        "answers": Counter(
            Answer.objects.values_list("response_id", "question_id", "option_id", "text")
        ),
        "respondents": Counter(
            Respondent.objects.values_list("response_id", "name", "email", "organisation_name")
        ),
        "sessions": Counter(Session.objects.values_list("session_key", "session_data")),
    }


def assert_storable(spec: ConsultationSpec) -> None:
    """What any post may leave behind: the definition's own options, text within its limit
    and free of NUL (which PostgreSQL refuses), one option for a single-answer question."""
    per_question: Counter[tuple[Any, int]] = Counter()
    for response_id, question_id, option_id, text in Answer.objects.values_list(
        "response_id", "question_id", "option_id", "text"
    ):
        question = spec.by_id[question_id]
        per_question[response_id, question_id] += 1
        if option_id is None:
            assert "\x00" not in text
            assert question.max_length is None or len(text) <= question.max_length
        else:
            assert option_id in {option.id for option in question.options}
    for (_response, question_id), count in per_question.items():
        if spec.by_id[question_id].type != QuestionType.MULTIPLE_CHOICE:
            assert count == 1, spec.by_id[question_id].key
    for name in ("name", "email", "organisation_name"):
        limit = Respondent._meta.get_field(name).max_length
        for value in Respondent.objects.values_list(name, flat=True):
            assert "\x00" not in value
            assert len(value) <= limit


# ---------------------------------------------------------------- a person's browser


@dataclass(frozen=True)
class Browser:
    """The cookies of a person part way through the journey: their session (which holds
    their draft) and their CSRF cookie, which the token in each form must match."""

    cookies: SimpleCookie
    response_id: uuid.UUID | None

    @property
    def response(self) -> Response | None:
        """Their response as the database holds it now (never a stale cached copy)."""
        return Response.objects.filter(pk=self.response_id).first()

    @property
    def token(self) -> str:
        return self.cookies[settings.CSRF_COOKIE_NAME].value

    def post(self, url: str, body: bytes, content_type: str = FORM) -> HttpResponse:
        """POST from a fresh client with a copy of the cookies: a post may rotate the
        session key, and the next example must start from the same browser."""
        client = Client(enforce_csrf_checks=True)
        client.cookies = copy.deepcopy(self.cookies)
        return client.generic("POST", url, body, content_type=content_type)


def browser_at(consultation: Consultation, progress: str) -> Browser:
    """A browser that has followed the journey as far as ``progress`` says:
    ``new`` (nothing answered), ``started`` ("About you" answered), ``complete`` (every
    section answered, as an organisation publishing with its name) or ``submitted``."""
    client = Client()
    spec = consultation_spec(consultation)
    if progress == "started":
        client.post(
            section_url(consultation, "about-you"),
            section_post(spec, "about-you", ORGANISATION),
        )
    elif progress in {"complete", "submitted"}:
        answer_all(client, consultation, ORGANISATION)
    if progress == "submitted":
        assert client.post(check_url(consultation)).status_code == 302
    response = Response.objects.order_by("started_at").last()
    # A page with a form sets the CSRF cookie.
    page = (
        reverse("responses:withdraw", args=[receipt_token(response=response)])
        if progress == "submitted" and response is not None
        else section_url(consultation, "about-you")
    )
    assert client.get(page).status_code == 200
    return Browser(
        cookies=copy.deepcopy(client.cookies), response_id=response.pk if response else None
    )


@pytest.fixture
def person(request: pytest.FixtureRequest, consultation: Consultation) -> Browser:
    """``browser_at`` the progress given as the test's indirect parameter."""
    return browser_at(consultation, request.param)


# ---------------------------------------------------------------- what Django receives


def received(url: str, body: bytes, content_type: str) -> QueryDict | Exception:
    """The form data a view would see, or the error Django answers with a 400 instead."""
    request = RequestFactory().generic("POST", url, body, content_type=content_type)
    try:
        return request.POST
    except (SuspiciousOperation, MultiPartParserError, BadRequest) as error:
        return error


def refusal_expected(browser: Browser, data: QueryDict | Exception) -> tuple[int, str] | None:
    """The status and heading of the page that refuses a post before any view sees it."""
    if isinstance(data, Exception):
        event("refused: unreadable")
        return 400, BAD_REQUEST
    if data.get(TOKEN_FIELD) != browser.token:
        event("refused: CSRF")
        return 403, FORBIDDEN
    event("reached the view")
    return None


def assert_refusal_page(reply: HttpResponse, status: int, heading: str) -> None:
    """The site's own page for the refusal: its header, a title and a heading saying why."""
    assert reply.status_code == status, reply.content[:500]
    page = reply.content.decode()
    assert f"<title>{heading}" in page
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in page
    assert settings.SERVICE_NAME in page


def error_summary(page: str) -> str:
    """The GOV.UK error summary of an error page."""
    assert "<title>Error: " in page
    summary = page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert "There is a problem" in summary
    return summary


def assert_form_shown_with_errors(reply: HttpResponse, form: SectionForm) -> None:
    """The form again (status 400) with a summary linking to every field in error."""
    assert reply.status_code == 400, reply.content[:500]
    page = reply.content.decode()
    summary = error_summary(page)
    expected = {}
    for name, errors in form.errors.items():
        widget = form.fields[name].widget
        suffix = "_1" if isinstance(widget, RadioSelect | CheckboxSelectMultiple) else ""
        expected[f"id_{name}{suffix}"] = errors
    assert set(re.findall(r'<a href="#([^"]+)">', summary)) == set(expected)
    for anchor, errors in expected.items():
        assert f'id="{anchor}"' in page
        for message in errors:
            assert escape(message) in summary


# ---------------------------------------------------------------- what Hypothesis sends

# Pieces that break naive handling of text: NUL, lone surrogates (a broken client can
# send their bytes), line breaks, bidirectional overrides, a byte-order mark, astral
# characters, markup and the characters that structure a form body.
NASTY = [
    "\x00",
    "\ud800",
    "\udfff",
    "\r\n",
    "\r",
    "\u202e",
    "\ufeff",
    "𝕏",
    "é",
    "<b>",
    "%",
    "&",
    "=",
    "+",
]
# Bytes that are not UTF-8, or percent-escapes of bytes that are not: Django must cope.
JUNK = [b"\xff\xfe", b"%ff", b"%", b"%e2%82", b"%ED%A0%80", b"%00", b"\x00", b"&&", b"=", b"a=%zz"]
CONTENT_TYPES = [
    *[FORM] * 15,
    f"{FORM}; charset=UTF-8",
    f"{FORM}; charset=utf8",
    f"{FORM}; charset=latin-1",
    f"{FORM}; charset=utf-16",
    f"{FORM}; charset=no-such-charset",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",
    "text/plain",
    "application/json",
]
BOUNDARY = b"BoUnDaRy"

nasty_text = st.lists(st.sampled_from(NASTY) | st.text(max_size=4), max_size=6).map("".join)
long_text = st.builds(
    lambda length, piece: piece * length,
    st.sampled_from([199, 200, 201, 1999, 2000, 2001, 4999, 5000, 5001]) | st.integers(0, 6000),
    st.sampled_from(["x", "é", "\r\n", " ", "\x00"]),
)
any_text = st.text(max_size=20) | nasty_text | long_text
plain_text = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40
)


@dataclass(frozen=True)
class FieldValues:
    """What Hypothesis may send for one field: ``valid`` answers, or ``broken`` ones."""

    valid: st.SearchStrategy[list[str]]
    broken: st.SearchStrategy[list[str]]


def field_values(question: QuestionSpec, all_codes: list[str]) -> FieldValues:
    """Valid answers, and broken ones: none, blank, codes of other questions, a field sent
    several times, any text."""
    codes = [option.code for option in question.options]
    if question.type == QuestionType.MULTIPLE_CHOICE:
        ordinary = [option.code for option in question.options if not option.exclusive]
        most = question.max_choices or len(ordinary)
        valid = st.lists(st.sampled_from(ordinary), min_size=1, max_size=most, unique=True)
        valid |= st.sampled_from(sorted(set(codes) - set(ordinary)) or ordinary).map(lambda c: [c])
    elif codes:
        valid = st.sampled_from(codes).map(lambda code: [code])
    elif question.type == QuestionType.EMAIL:
        valid = (st.just("someone@example.com") | st.emails()).map(lambda email: [email])
    else:
        valid = plain_text.map(lambda text: [text])
    own = st.sampled_from(codes) if codes else plain_text
    broken = st.one_of(
        st.just([]),
        st.just([""]),
        valid.map(lambda values: values * 2),
        st.lists(own, min_size=2, max_size=3),
        st.lists(own | st.sampled_from(all_codes) | any_text, min_size=1, max_size=4),
    )
    return FieldValues(valid, broken)


def encode(text: str, charset: str) -> bytes:
    """Text as a (possibly broken) client would send it: lone surrogates pass through."""
    if charset == "latin-1":
        return text.encode("latin-1", "replace")
    return text.encode("utf-8", "surrogatepass")


def multipart(pairs: list[tuple[bytes, bytes]]) -> bytes:
    """Form data as multipart/form-data, with ``BOUNDARY``; names are not escaped."""
    fields = b"".join(
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (BOUNDARY, name, value)
        for name, value in pairs
    )
    return fields + b"--%s--\r\n" % BOUNDARY


@st.composite
def bodies(draw: st.DrawFn, fields: dict[str, FieldValues], token: str) -> tuple[bytes, str]:
    """A raw POST body and its content type: the given fields (some of them broken),
    unknown ones, junk bytes and the CSRF token (or not), in any order, encoded well or
    badly. Most bodies reach the view with a few fields broken, so that both the form's
    refusals and what it accepts are tested."""
    names = sorted(fields)
    few_or_any = draw(st.sampled_from([2, len(names)])) if names else 0
    broken = set(draw(st.lists(st.sampled_from(names), max_size=few_or_any))) if names else set()
    pairs: list[tuple[str, str]] = []
    for name, values in fields.items():
        pairs.extend(
            (name, value) for value in draw(values.broken if name in broken else values.valid)
        )
    extra_names = st.sampled_from([HONEYPOT, TOKEN_FIELD, "", "submit", *names]) | st.text(
        max_size=8
    )
    pairs.extend(draw(st.lists(st.tuples(extra_names, any_text), max_size=3)))
    csrf = draw(
        st.sampled_from(["valid"] * 6 + ["missing", "wrong", "valid, wrong", "wrong, valid"])
    )
    wrong_token = draw(st.sampled_from(["", "x" * 32, token.upper(), token[:-1]]) | any_text)
    tokens = {"valid": [token], "missing": [], "wrong": [wrong_token]}
    pairs.extend((TOKEN_FIELD, value) for part in csrf.split(", ") for value in tokens[part])
    if pairs:  # a field sent twice with the same value, as a double-submitting client might
        pairs += [pairs[i] for i in draw(st.lists(st.integers(0, len(pairs) - 1), max_size=2))]
    pairs = draw(st.permutations(pairs))

    charset = draw(st.sampled_from(["utf-8", "latin-1"]))
    raw = [(encode(name, charset), encode(value, charset)) for name, value in pairs]
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if content_type.startswith("multipart"):
        body = multipart(raw)
    else:
        quoted = draw(st.booleans())  # an unquoted body is what a sloppy client sends
        parts = [
            (quote_plus(name) + "=" + quote_plus(value)).encode() if quoted else name + b"=" + value
            for name, value in raw
        ]
        for junk in draw(st.lists(st.sampled_from(JUNK) | st.binary(max_size=6), max_size=3)):
            parts.insert(draw(st.integers(0, len(parts))), junk)
        body = b"&".join(parts)
    note(f"content type {content_type!r}, body {body[:2000]!r}")
    return body, content_type


def section_fields(spec: ConsultationSpec, questions: list[QuestionSpec]) -> dict[str, FieldValues]:
    all_codes = sorted({o.code for q in spec.by_key.values() for o in q.options})
    return {
        answerable.key: field_values(answerable, all_codes)
        for question in questions
        for answerable in question.rows or (question,)
    }


# ---------------------------------------------------------------- the section pages


def in_option_order(spec: ConsultationSpec, key: str, value: AnswerValue) -> AnswerValue:
    if isinstance(value, str):
        return value
    order = [option.code for option in spec.by_key[key].options]
    return tuple(sorted(value, key=order.index))


def shown_keys(spec: ConsultationSpec, answers: dict[str, AnswerValue]) -> set[str]:
    return {
        answerable.key
        for section in spec.sections
        for question in spec.visible_questions(section, answers)
        for answerable in question.rows or (question,)
    }


def impossible_answers(questions: list[QuestionSpec], data: QueryDict) -> set[str]:
    """Fields whose posted value no answer can have, worked out without the form: an
    option code the question does not offer, text with NUL or over the question's limit
    (counting a line break once, as the page does)."""
    impossible = set()
    for question in questions:
        for answerable in question.rows or (question,):
            key = answerable.key
            if key not in data:
                continue
            if answerable.options:
                codes = {option.code for option in answerable.options}
                sent = (
                    data.getlist(key)
                    if answerable.type == QuestionType.MULTIPLE_CHOICE
                    else [data[key]]
                )
                if any(value and value not in codes for value in sent):
                    impossible.add(key)
            elif answerable.type != QuestionType.EMAIL:
                text = data[key].strip().replace("\r\n", "\n")
                if "\x00" in text or len(text) > (answerable.max_length or len(text)):
                    impossible.add(key)
    return impossible


def assert_stored_as_cleaned(
    spec: ConsultationSpec,
    section: SectionSpec,
    form: SectionForm,
    response: Response,
    before: dict[str, AnswerValue],
) -> None:
    """The section's answers are the form's cleaned data; other answers are kept, except
    those the new answers hide; the response's copies of the profile answers agree."""
    response = Response.objects.get(pk=response.pk)
    after = response_answer_map(response=response, spec=spec)
    own = {question.key for question in section.answerable()}
    cleaned = {
        key: in_option_order(spec, key, value)
        for key, value in form.answer_values().items()
        if value
    }
    assert {k: v for k, v in after.items() if k in own} == cleaned
    shown = shown_keys(spec, after)
    assert {k: v for k, v in after.items() if k not in own} == {
        k: v for k, v in before.items() if k not in own and k in shown
    }
    assert response.status == ResponseStatus.DRAFT
    assert (response.respondent_type,) == (after.get("respondent_type") or ("",))
    assert (response.publication,) == (after.get("publication") or ("",))


@pytest.mark.parametrize(
    ("person", "section_key"),
    [("new", "about-you"), *(("complete", key) for key in SECTIONS)],
    indirect=["person"],
)
@hypothesis_settings(max_examples=30)
@given(data=st.data())
def test_any_post_to_a_section_is_stored_as_validated_or_refused_clearly(
    consultation: Consultation, person: Browser, section_key: str, data: st.DataObject
) -> None:
    spec = consultation_spec(consultation)
    section = spec.section(section_key)
    assert section is not None
    with rolled_back():
        draft = person.response
        answers = response_answer_map(response=draft, spec=spec) if draft else {}
        questions = spec.visible_questions(section, answers)
        assert questions, "the browser's answers must show this section"
        return_to_check = data.draw(st.booleans(), label="return to check")
        url = section_url(consultation, section_key) + ("?return=check" if return_to_check else "")
        body, content_type = data.draw(bodies(section_fields(spec, questions), person.token))
        before = database()

        reply = person.post(url, body, content_type)

        posted = received(url, body, content_type)
        if refusal := refusal_expected(person, posted):
            assert_refusal_page(reply, *refusal)
            assert database() == before
            return
        assert isinstance(posted, QueryDict)
        form = SectionForm(posted, questions=questions, answers=answers)
        event(f"form valid: {form.is_valid()}")
        assert impossible_answers(questions, posted) <= form.errors.keys()
        if not form.is_valid():
            assert_form_shown_with_errors(reply, form)
            assert database() == before
            return
        assert reply.status_code == 302
        assert reply["Location"].startswith(f"/c/{consultation.slug}/")
        if draft is None:
            (draft,) = Response.objects.exclude(pk__in=[r[0] for r in before["responses"]])
        else:
            assert Response.objects.count() == len(before["responses"])
        assert_stored_as_cleaned(spec, section, form, draft, answers)
        assert_storable(spec)


def test_a_box_ticked_twice_is_one_answer(client, consultation):
    """Found by the test above: the same checkbox sent twice passed validation and then
    broke the unique constraint on answers (a server error)."""
    spec = consultation_spec(consultation)
    client.post(section_url(consultation, "about-you"), section_post(spec, "about-you", {}))
    post = section_post(spec, "use", {"lfr_purposes": ["terrorism", "terrorism"]})
    reply = client.post(section_url(consultation, "use"), post)
    assert reply.status_code == 302
    purposes = Answer.objects.filter(question__key="lfr_purposes")
    assert list(purposes.values_list("option__code", flat=True)) == ["terrorism"]


@pytest.mark.parametrize("person", ["new"], indirect=True)
@pytest.mark.parametrize("charset", ["utf8", "latin-1"])
@pytest.mark.parametrize(
    ("address", "status", "heading"),
    [("a section", 400, BAD_REQUEST), ("no such page", 404, NOT_FOUND)],
)
def test_form_data_in_another_charset_gets_a_clear_page(
    consultation, person, charset, address, status, heading
):
    """Found by the section test: Django refuses form data declaring a charset other than
    UTF-8, and its own error views then read the body again (to check the CSRF token), so
    the 400, or a 404, became a server error."""
    url = section_url(consultation, "about-you") if address == "a section" else "/no-such-page/"
    body = f"respondent_type=individual&{TOKEN_FIELD}={person.token}".encode()
    reply = person.post(url, body, f"{FORM}; charset={charset}")
    assert_refusal_page(reply, status, heading)
    assert not Response.objects.exists()


# ---------------------------------------------------------------- sending, withdrawing


any_fields = {
    name: FieldValues(valid=st.just([]), broken=st.lists(any_text, min_size=1, max_size=2))
    for name in ("anything", "submit")
}


@pytest.mark.parametrize("person", ["started", "complete"], indirect=True)
@hypothesis_settings(max_examples=20)
@given(data=st.data())
def test_sending_a_response_sends_it_whole_or_says_what_is_missing(
    consultation: Consultation, person: Browser, data: st.DataObject
) -> None:
    spec = consultation_spec(consultation)
    url = check_url(consultation)
    with rolled_back():
        draft = person.response
        assert draft is not None
        answers = response_answer_map(response=draft, spec=spec)
        missing = spec.missing_answers(answers)
        body, content_type = data.draw(bodies(any_fields, person.token))
        before = database()

        reply = person.post(url, body, content_type)

        if refusal := refusal_expected(person, received(url, body, content_type)):
            assert_refusal_page(reply, *refusal)
            assert database() == before
        elif missing:
            assert reply.status_code == 400
            summary = error_summary(reply.content.decode())
            links = re.findall(r'<a href="([^"]+)">Answer “([^”]+)”</a>', summary)
            assert [text for _url, text in links] == [escape(q.text) for _s, q in missing]
            assert database() == before
        else:
            assert reply.status_code == 302
            assert reply["Location"] == reverse("responses:confirmation", args=[consultation.slug])
            sent = person.response
            assert sent is not None
            assert sent.status == ResponseStatus.SUBMITTED
            assert response_answer_map(response=sent, spec=spec) == answers


@pytest.mark.parametrize("person", ["submitted"], indirect=True)
@hypothesis_settings(max_examples=20)
@given(data=st.data())
def test_withdrawing_with_the_receipt_link_withdraws_or_refuses_clearly(
    consultation: Consultation, person: Browser, data: st.DataObject
) -> None:
    response = person.response
    assert response is not None
    url = reverse("responses:withdraw", args=[receipt_token(response=response)])
    with rolled_back():
        body, content_type = data.draw(bodies(any_fields, person.token))
        before = database()

        reply = person.post(url, body, content_type)

        if refusal := refusal_expected(person, received(url, body, content_type)):
            assert_refusal_page(reply, *refusal)
            assert database() == before
            return
        assert reply.status_code == 302
        assert reply["Location"] == url
        withdrawn = person.response
        assert withdrawn is not None
        assert withdrawn.status == ResponseStatus.WITHDRAWN
        assert withdrawn.withdrawn_at is not None
        after = database()
        assert (after["answers"], after["respondents"]) == (
            before["answers"],
            before["respondents"],
        )


@pytest.mark.parametrize(
    ("person", "section_key"),
    [("submitted", key) for key in ("about-you", "use", "your-details")],
    indirect=["person"],
)
@hypothesis_settings(max_examples=20)
@given(data=st.data())
def test_any_post_while_changing_answers_stores_nothing_until_saved(
    consultation: Consultation, person: Browser, section_key: str, data: st.DataObject
) -> None:
    """A section reached from the receipt link keeps valid changes in the session only
    (the answers stored stay as sent until "Save changes"), or shows the form again."""
    spec = consultation_spec(consultation)
    section = spec.section(section_key)
    response = person.response
    assert section is not None
    assert response is not None
    token = receipt_token(response=response)
    with rolled_back():
        answers = response_answer_map(response=response, spec=spec)
        questions = spec.visible_questions(section, answers)
        url = reverse("responses:amend_section", args=[token, section_key]) + "?return=check"
        body, content_type = data.draw(bodies(section_fields(spec, questions), person.token))
        before = database()

        reply = person.post(url, body, content_type)

        after = database()
        del before["sessions"], after["sessions"]
        assert after == before
        assert not Amendment.objects.exists()
        posted = received(url, body, content_type)
        if refusal := refusal_expected(person, posted):
            assert_refusal_page(reply, *refusal)
            return
        assert isinstance(posted, QueryDict)
        form = SectionForm(posted, questions=questions, answers=answers)
        if not form.is_valid():
            assert_form_shown_with_errors(reply, form)
            return
        assert reply.status_code == 302
        assert reply["Location"].startswith(f"/receipt/{token}/change/")


@pytest.mark.parametrize("person", ["submitted"], indirect=True)
@hypothesis_settings(max_examples=20)
@given(data=st.data())
def test_saving_changes_stores_only_the_changes_held(
    consultation: Consultation, person: Browser, data: st.DataObject
) -> None:
    """With no changes held, "Save changes" with any body changes nothing and says so."""
    response = person.response
    assert response is not None
    token = receipt_token(response=response)  # time-stamped: made once
    url = reverse("responses:amend", args=[token])
    with rolled_back():
        body, content_type = data.draw(bodies(any_fields, person.token))
        before = database()

        reply = person.post(url, body, content_type)

        after = database()
        if refusal := refusal_expected(person, received(url, body, content_type)):
            assert_refusal_page(reply, *refusal)
            assert after == before
            return
        assert reply.status_code == 302
        assert reply["Location"] == reverse("responses:receipt", args=[token])
        del before["sessions"], after["sessions"]
        assert after == before
        assert not Amendment.objects.exists()


forged_tokens = st.one_of(
    st.text(min_size=1, max_size=120),
    # Signed as receipts are, but for no response; signed for another purpose.
    st.uuids().map(lambda pk: signing.dumps(str(pk), salt=RECEIPT_SALT)),
    st.uuids().map(lambda pk: signing.dumps(str(pk), salt="another purpose")),
)


@pytest.mark.parametrize("person", ["submitted"], indirect=True)
@hypothesis_settings(max_examples=20)
@given(token=forged_tokens, data=st.data())
def test_a_forged_receipt_link_withdraws_nothing(
    consultation: Consultation, person: Browser, token: str, data: st.DataObject
) -> None:
    url = "/receipt/" + quote_plus(token.encode("utf-8", "surrogatepass")) + "/withdraw/"
    with rolled_back():
        body, content_type = data.draw(bodies(any_fields, person.token))
        before = database()

        reply = person.post(url, body, content_type)

        assert database() == before
        if reply.status_code == 403:
            assert refusal_expected(person, received(url, body, content_type)) is not None
            assert_refusal_page(reply, 403, FORBIDDEN)
        elif reply.status_code == 400:
            assert_refusal_page(reply, 400, BAD_REQUEST)
        else:
            assert reply.status_code == 404
            page = reply.content.decode()
            assert LINK_NOT_WORKING in page or NOT_FOUND in page


@pytest.mark.parametrize("person", ["complete"], indirect=True)
@hypothesis_settings(max_examples=15)
@given(data=st.data())
def test_starting_again_forgets_the_draft_in_this_browser_only(
    consultation: Consultation, person: Browser, data: st.DataObject
) -> None:
    url = reverse("responses:start_again", args=[consultation.slug])
    with rolled_back():
        body, content_type = data.draw(bodies(any_fields, person.token))
        before = database()

        reply = person.post(url, body, content_type)

        after = database()
        if refusal := refusal_expected(person, received(url, body, content_type)):
            assert_refusal_page(reply, *refusal)
            assert after == before
            return
        assert reply.status_code == 302
        assert reply["Location"] == reverse("responses:start", args=[consultation.slug])
        del before["sessions"], after["sessions"]
        assert after == before
        session = Session.objects.get(session_key=reply.cookies[settings.SESSION_COOKIE_NAME].value)
        assert consultation.slug not in session.get_decoded()[SESSION_KEY]


# ---------------------------------------------------------------- every other public URL

# Tested above.
FORM_ROUTES = {"section", "check", "start_again", "withdraw", "amend", "amend_section"}
FORM_ROUTES |= {"document"}  # tested below
NO_SUCH_PAGE = "(no such page)"
PAGES: dict[str, Callable[[Consultation, Response], str]] = {
    "responses:home": lambda c, r: reverse("responses:home"),
    "responses:accessibility": lambda c, r: reverse("responses:accessibility"),
    "responses:start": lambda c, r: reverse("responses:start", args=[c.slug]),
    "responses:privacy": lambda c, r: reverse("responses:privacy", args=[c.slug]),
    "responses:confirmation": lambda c, r: reverse("responses:confirmation", args=[c.slug]),
    "responses:receipt": lambda c, r: reverse(
        "responses:receipt", args=[receipt_token(response=r)]
    ),
    "responses:document_remove": lambda c, r: reverse("responses:document_remove", args=[c.slug]),
    "results:public": lambda c, r: reverse("results:public", args=[c.slug]),
    "results:download": lambda c, r: reverse("results:download", args=[c.slug]),
    NO_SUCH_PAGE: lambda c, r: f"/c/{c.slug}/no-such-page/",
}


def test_every_public_route_is_fuzzed():
    """A new public URL must be added to one of the tests here."""
    routes = {
        f"{module.app_name}:{pattern.name}"
        for module in (response_urls, public_urls)
        for pattern in module.urlpatterns
        if isinstance(pattern, URLPattern)
    }
    assert routes == {f"responses:{name}" for name in FORM_ROUTES} | set(PAGES) - {NO_SUCH_PAGE}


@pytest.mark.parametrize("person", ["submitted"], indirect=True)
@hypothesis_settings(max_examples=40)
@given(name=st.sampled_from(sorted(PAGES)), cookie=st.booleans(), data=st.data())
def test_a_post_to_a_page_without_a_form_stores_nothing(
    consultation: Consultation, person: Browser, name: str, cookie: bool, data: st.DataObject
) -> None:
    """Pages people only read take no posts that change anything, with or without the
    CSRF cookie (a browser that blocks cookies); an address with no page is not found
    whatever the body."""
    assert person.response is not None
    url = PAGES[name](consultation, person.response)
    browser = person if cookie else Browser(cookies=SimpleCookie(), response_id=person.response_id)
    with rolled_back():
        body, content_type = data.draw(bodies(any_fields, person.token))
        before = database()

        reply = browser.post(url, body, content_type)

        assert database() == before
        if name == NO_SUCH_PAGE:
            assert_refusal_page(reply, 404, NOT_FOUND)
        elif not cookie:
            assert_refusal_page(reply, 403, FORBIDDEN)
        elif refusal := refusal_expected(browser, received(url, body, content_type)):
            assert_refusal_page(reply, *refusal)
        else:
            assert reply.status_code in {200, 302, 404, 405}
            if reply.status_code == 404:
                assert NOT_FOUND in reply.content.decode()


@hypothesis_settings(max_examples=20)
@given(data=st.data())
def test_the_sign_in_form_refuses_anything_but_an_account_clearly(
    db: None, data: st.DataObject
) -> None:
    """The analysts' sign-in page is public too; with no accounts every post is refused."""
    url = reverse("analysis:login")
    client = Client()
    client.get(url)
    browser = Browser(cookies=copy.deepcopy(client.cookies), response_id=None)
    fields = {
        name: FieldValues(valid=st.just([valid]), broken=st.lists(any_text, max_size=2))
        for name, valid in [
            ("username", "analyst"),
            ("password", "a long enough passphrase"),
            ("otp_token", "123456"),
        ]
    }
    with rolled_back():
        body, content_type = data.draw(bodies(fields, browser.token))
        before = database()

        reply = browser.post(url, body, content_type)

        assert database() == before
        assert not get_user_model().objects.exists()
        if refusal := refusal_expected(browser, received(url, body, content_type)):
            assert_refusal_page(reply, *refusal)
        else:
            assert reply.status_code == 200
            assert re.search(r'<a href="#id_\w+">', error_summary(reply.content.decode()))


# ---------------------------------------------------------------- bodies too big to read


def too_big(shape: str, over: int, token: str) -> tuple[bytes, str]:
    """A body over one of Django's limits, with a valid token so only its size counts."""
    size, fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    token_pair = f"{TOKEN_FIELD}={token}".encode()
    match shape:
        case "one huge value":
            return token_pair + b"&about=" + b"x" * (size + over), FORM
        case "too many fields":
            return b"&".join([token_pair, *[b"respondent_type=individual"] * (fields + over)]), FORM
        case "too many multipart fields":
            parts = [(TOKEN_FIELD.encode(), token.encode())] + [(b"f", b"1")] * (fields + over)
        case _:
            parts = [(TOKEN_FIELD.encode(), token.encode()), (b"f", b"x" * (size + over))]
    return multipart(parts), f"multipart/form-data; boundary={BOUNDARY.decode()}"


@pytest.mark.parametrize("person", ["complete"], indirect=True)
@hypothesis_settings(max_examples=16)
@given(
    route=st.sampled_from(["section", "check", "start_again", "start", "sign-in"]),
    shape=st.sampled_from(
        ["one huge value", "too many fields", "too many multipart fields", "huge multipart"]
    ),
    over=st.integers(1, 10_000),
)
def test_a_body_over_the_limits_gets_a_clear_400_and_stores_nothing(
    consultation: Consultation, person: Browser, route: str, shape: str, over: int
) -> None:
    url = {
        "section": section_url(consultation, "about-you"),
        "check": check_url(consultation),
        "start_again": reverse("responses:start_again", args=[consultation.slug]),
        "start": reverse("responses:start", args=[consultation.slug]),
        "sign-in": reverse("analysis:login"),
    }[route]
    body, content_type = too_big(shape, over, person.token)
    with rolled_back():
        before = database()

        reply = person.post(url, body, content_type)

        assert_refusal_page(reply, 400, BAD_REQUEST)
        assert database() == before


# ---------------------------------------------------------------- the supporting document

DOCUMENT_MESSAGES = {WRONG_TYPE, EMPTY, PASSWORD_PROTECTED}
FILE_NAMES = ["paper.pdf", "paper.docx", "paper.odt", "PAPER.PDF", "paper", "paper.png", ""]
FILE_CONTENTS = {
    "empty": lambda: b"",
    "png": lambda: PNG,
    "pdf": pdf_bytes,
    "docx": docx_bytes,
    "odt": odt_bytes,
    "zip": zip_bytes,
}


@st.composite
def document_bodies(draw: st.DrawFn, token: str) -> tuple[bytes, str]:
    """A multipart body with a file (a real document or not, whole, cut short, with bytes
    changed or added, under any name and content type) and the CSRF token (or not)."""
    kind = draw(st.sampled_from(sorted(FILE_CONTENTS)))
    content = FILE_CONTENTS[kind]()
    name = draw(st.just(f"Paper.{kind}") | st.sampled_from(FILE_NAMES) | st.text(max_size=30))
    change = draw(st.sampled_from(["none", "none", "cut", "flip", "append"]))
    if change == "cut" and content:
        content = content[: draw(st.integers(0, len(content) - 1))]
    elif change == "flip" and content:
        at = draw(st.integers(0, len(content) - 1))
        content = content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1 :]
    elif change == "append":
        content += draw(st.binary(max_size=64))
    declared = draw(st.sampled_from(["application/pdf", "image/png", "text/html", ""]))
    token_value = draw(st.sampled_from([*[token] * 8, "", "x" * 32]))
    head = b'--%s\r\nContent-Disposition: form-data; name="document"; filename="%s"\r\n' % (
        BOUNDARY,
        name.encode("utf-8", "surrogatepass"),
    )
    if declared:
        head += b"Content-Type: %s\r\n" % declared.encode()
    body = (
        b'--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
        % (BOUNDARY, TOKEN_FIELD.encode(), token_value.encode())
        + head
        + b"\r\n"
        + content
        + b"\r\n--%s--\r\n" % BOUNDARY
    )
    note(f"file {name!r}, {change}, {len(content)} bytes, declared {declared!r}")
    return body, f"multipart/form-data; boundary={BOUNDARY.decode()}"


@pytest.mark.parametrize("person", ["complete"], indirect=True)
@hypothesis_settings(max_examples=60)
@given(data=st.data())
def test_any_upload_is_stored_as_checked_or_refused_with_a_message(
    consultation: Consultation, person: Browser, data: st.DataObject
) -> None:
    """A post to the supporting document's page stores a document only if it is one (the
    kind its name says) and otherwise shows the form again with one of the upload's
    messages, or the site's 400 or 403 page, and stores nothing."""
    url = reverse("responses:document", args=[consultation.slug])
    root = Path(settings.DOCUMENTS_ROOT)
    with rolled_back():
        body, content_type = data.draw(document_bodies(person.token))
        before = database()
        try:
            reply = person.post(url, body, content_type)
            stored = sorted(path for path in root.rglob("*") if path.is_file())
            if refusal := refusal_expected(person, received(url, body, content_type)):
                assert_refusal_page(reply, *refusal)
                assert not Document.objects.exists()
                assert stored == []
            elif reply.status_code == 302:
                event("stored" if Document.objects.exists() else "carried on without a file")
                for document in Document.objects.all():
                    assert document.original_name.lower().endswith(f".{document.kind}")
                    assert [path.name for path in stored] == [document.file.name]
                    assert document.size == stored[0].stat().st_size > 0
            else:
                assert reply.status_code == 400, reply.content[:500]
                summary = error_summary(reply.content.decode())
                assert re.findall(r'<a href="#([^"]+)">', summary) == ["id_document"]
                assert any(str(message) in summary for message in DOCUMENT_MESSAGES)
                event("refused by the form")
                assert not Document.objects.exists()
                assert stored == []
                after = database()
                del before["sessions"], after["sessions"]
                assert after == before
        finally:
            for path in root.rglob("*"):
                if path.is_file():
                    path.unlink()
