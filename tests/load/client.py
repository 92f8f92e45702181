"""Simulated people answering a consultation over HTTP, for the load tests and benchmarks.

A ``Plan`` is read from the consultation's definition file (YAML, no Django needed), so
the client knows independently of the server which questions each page should show,
where each answer should lead and what makes a response complete. A ``Person`` keeps
its own cookies and records every request it makes (what, status, seconds). ``journey``
walks one person from the start page to the confirmation page with answers drawn from
a seeded ``random.Random``; ``Load`` runs many journeys from many concurrent clients.

Anything but a 2xx or 3xx status, and any network error, is a failed request: it ends
that journey, is recorded with its address and status, and the load carries on. An
answer that is not what the plan expects (a form error, a wrong next page) ends the
journey too, with the reason as its ``problem``.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import yaml

AnswerValue = tuple[str, ...] | str  # option codes, or text
Answers = dict[str, AnswerValue]

CHOICE_TYPES = {"single_choice", "scale", "select", "matrix_row", "multiple_choice"}
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FIELD_NAME = re.compile(r'<(?:input|select|textarea)\b[^>]*?\bname="([^"]+)"')
NOT_QUESTIONS = {"csrfmiddlewaretoken", "website"}  # the token and the bots' honeypot
REFERENCE_CHARS = "[23456789ABCDEFGHJKMNPQRSTVWXYZ]"
REQUEST_SECONDS = 60.0  # as long as gunicorn's worker timeout


@dataclass(frozen=True)
class Question:
    """An answerable question; a matrix is given as one question per row."""

    key: str
    type: str
    required: bool
    options: tuple[str, ...] = ()
    exclusive: frozenset[str] = frozenset()
    max_choices: int | None = None
    max_length: int | None = None
    profile: str | None = None
    when: tuple[str, frozenset[str]] | None = None  # (question key, any of these codes)


@dataclass(frozen=True)
class Section:
    key: str
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Plan:
    """What a consultation asks, read from its definition file."""

    slug: str
    prefix: str
    sections: tuple[Section, ...]
    by_key: Mapping[str, Question] = field(repr=False)

    @classmethod
    def read(cls, path: Path) -> Plan:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        sections = tuple(
            Section(section["key"], tuple(_questions(section["questions"])))
            for section in raw["sections"]
        )
        by_key = {q.key: q for section in sections for q in section.questions}
        return cls(raw["slug"], raw["reference_prefix"], sections, by_key)

    @property
    def start_path(self) -> str:
        return f"/c/{self.slug}/"

    @property
    def check_path(self) -> str:
        return f"/c/{self.slug}/check-your-answers/"

    @property
    def confirmation_path(self) -> str:
        return f"/c/{self.slug}/confirmation/"

    @property
    def document_path(self) -> str:
        return f"/c/{self.slug}/supporting-document/"

    def offers_document_after(self, section: Section, answers: Answers) -> bool:
        """Whether the supporting document's page follows the section: it asks for the
        organisation's name, and the answers show that question."""
        question = self.by_profile("organisation_name")
        return question is not None and question in self.shown(section, answers)

    def section_path(self, section: Section) -> str:
        return f"/c/{self.slug}/section/{section.key}/"

    def by_profile(self, profile: str) -> Question | None:
        return next((q for q in self.by_key.values() if q.profile == profile), None)

    def is_shown(self, question: Question, answers: Answers) -> bool:
        """Whether the question is asked given these answers; conditions chain."""
        if question.when is None:
            return True
        key, codes = question.when
        given = answers.get(key, ())
        return (
            isinstance(given, tuple)
            and not codes.isdisjoint(given)
            and self.is_shown(self.by_key[key], answers)
        )

    def shown(self, section: Section, answers: Answers) -> list[Question]:
        return [q for q in section.questions if self.is_shown(q, answers)]

    def following(self, after: Section | None, answers: Answers) -> Section | None:
        """The next section that shows a question, or None when "Check your answers" is next."""
        later = self.sections if after is None else self.sections[self.sections.index(after) + 1 :]
        return next((s for s in later if self.shown(s, answers)), None)

    def missing(self, answers: Answers) -> list[str]:
        """Keys of shown, required questions without an answer."""
        return [
            q.key
            for section in self.sections
            for q in self.shown(section, answers)
            if q.required and not answers.get(q.key)
        ]


def _questions(raw_questions: list[dict[str, Any]]) -> Iterator[Question]:
    for raw in raw_questions:
        when = raw.get("when")
        common = {
            "required": raw.get("required", True),
            "options": tuple(option["code"] for option in raw.get("options", [])),
            "exclusive": frozenset(o["code"] for o in raw.get("options", []) if o.get("exclusive")),
            "when": (when["question"], frozenset(when["any_of"])) if when else None,
        }
        if raw["type"] == "matrix":
            for row in raw["rows"]:
                yield Question(key=f"{raw['key']}__{row['code']}", type="matrix_row", **common)
        else:
            yield Question(
                key=raw["key"],
                type=raw["type"],
                max_choices=raw.get("max_choices"),
                max_length=raw.get("max_length"),
                profile=raw.get("profile"),
                **common,
            )


def answer_choose(question: Question, rng: random.Random, serial: int) -> AnswerValue:
    """A valid answer, varied: optional questions are sometimes left blank."""
    if not question.required and rng.random() < 0.3:
        return () if question.type in CHOICE_TYPES else ""
    if question.type == "multiple_choice":
        if question.exclusive and rng.random() < 0.15:
            return (rng.choice(sorted(question.exclusive)),)
        choosable = [code for code in question.options if code not in question.exclusive]
        most = min(question.max_choices or len(choosable), len(choosable))
        return tuple(rng.sample(choosable, rng.randint(1, most)))
    if question.type in CHOICE_TYPES:
        return (rng.choice(question.options),)
    text = {
        "email": f"person.{serial}@example.com",
        "organisation_name": f"Organisation {serial} “Neighbourhood & Co”",
        "name": f"Zoë O’Brien-{serial}",
    }.get(
        question.profile or question.type,
        f"Answer {serial} to {question.key}: publish audits & <em>results</em>.\n"
        "A second line — with ‘quotes’ and émigré accents.",
    )
    return text[: question.max_length] if question.max_length else text


class RequestFailed(Exception):
    """A request that got no answer, or an answer other than 2xx or 3xx."""

    def __init__(self, message: str, reply: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class JourneyProblem(Exception):
    """The server answered, but not as the plan expects (a form error, a wrong page)."""


@dataclass(frozen=True)
class RequestRecord:
    label: str  # method and page, e.g. "POST section/about-you", for timings per kind
    url: str
    status: int | None  # None: no answer (the error says why)
    seconds: float
    started: float  # time.monotonic() at the start
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.status is None or not 200 <= self.status < 400


class Person:
    """One browser: its own cookies, sent with every request to whichever server.

    Servers started by the tests run with production settings, so their cookies are
    marked Secure; over plain HTTP on loopback a cookie jar would not send them back.
    The person keeps its cookies itself instead, which also lets one person send the
    same cookies to several servers (``servers`` are used in turn, one per request).
    """

    def __init__(
        self, http: httpx.Client, servers: list[str], *, over: Callable[[], bool] | None = None
    ) -> None:
        self.http = http
        self.servers = servers
        self.over = over  # once it says True, no more requests are sent
        self.cookies: dict[str, str] = {}
        self.requests: list[RequestRecord] = []
        self._turn = 0

    def get(self, path: str, *, label: str) -> httpx.Response:
        return self.request("GET", path, label=label)

    def post(self, path: str, data: dict[str, Any], *, label: str) -> httpx.Response:
        return self.request("POST", path, label=label, data=data)

    def request(
        self, method: str, path: str, *, label: str, data: dict[str, Any] | None = None
    ) -> httpx.Response:
        url = self.servers[self._turn % len(self.servers)] + path
        self._turn += 1
        if self.over is not None and self.over():
            raise RequestFailed(f"{method} {url}: not sent, the time allowed is over")
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        started = time.monotonic()
        try:
            reply = self.http.request(method, url, data=data, headers=headers)
        except httpx.HTTPError as error:
            seconds = time.monotonic() - started
            problem = f"{type(error).__name__}: {error}"
            self.requests.append(
                RequestRecord(f"{method} {label}", url, None, seconds, started, problem)
            )
            raise RequestFailed(f"{method} {url}: {problem}") from error
        record = RequestRecord(
            f"{method} {label}", url, reply.status_code, time.monotonic() - started, started
        )
        self.requests.append(record)
        if record.failed:
            raise RequestFailed(f"{method} {url}: HTTP {reply.status_code}", reply)
        self._keep_cookies(reply)
        return reply

    def _keep_cookies(self, reply: httpx.Response) -> None:
        for header in reply.headers.get_list("set-cookie"):
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


def http_client() -> httpx.Client:
    """An HTTP client for one simulated browser at a time; it stores no cookies itself."""
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return httpx.Client(
        timeout=httpx.Timeout(REQUEST_SECONDS, connect=10.0),
        follow_redirects=False,
        cookies=no_cookies,
    )


def csrf_token(reply: httpx.Response) -> str:
    found = CSRF_TOKEN.search(reply.text)
    if found is None:
        raise JourneyProblem(f"no CSRF token on {reply.url}")
    return found.group(1)


def redirect_path(reply: httpx.Response) -> str:
    if reply.status_code not in {301, 302, 303}:
        raise JourneyProblem(
            f"{reply.request.method} {reply.url}: expected a redirect, got HTTP "
            f"{reply.status_code}: {_page_title(reply)}"
        )
    location = httpx.URL(reply.headers["location"])
    return location.raw_path.decode("ascii")


def _page_title(reply: httpx.Response) -> str:
    found = re.search(r"<title>\s*(.*?)\s*</title>", reply.text, re.DOTALL)
    return found.group(1) if found else reply.text[:200]


def form_data(values: Answers, token: str) -> dict[str, Any]:
    data: dict[str, Any] = {"csrfmiddlewaretoken": token, "website": ""}
    for key, value in values.items():
        data[key] = list(value) if isinstance(value, tuple) else value
    return data


@dataclass
class Journey:
    """One person's way through: what they posted, what they were told, what happened."""

    serial: int
    answers: Answers = field(default_factory=dict)  # every non-blank answer posted
    reference: str | None = None  # read from the confirmation page
    double_sent: bool = False  # "Send" clicked twice at once
    requests: list[RequestRecord] = field(default_factory=list)
    problem: str = ""  # why it stopped early

    @property
    def confirmed(self) -> bool:
        return self.reference is not None


def journey(
    person: Person, plan: Plan, *, serial: int, rng: random.Random, double_send: bool = False
) -> Journey:
    """Start page, each section the answers lead to, "Check your answers", send (with
    ``double_send``, two sends at once, as a double click makes), confirmation."""
    done = Journey(serial, requests=person.requests, double_sent=double_send)
    try:
        _walk(person, plan, done, rng)
    except (RequestFailed, JourneyProblem) as error:
        done.problem = str(error)
    return done


def _walk(person: Person, plan: Plan, done: Journey, rng: random.Random) -> None:
    person.get(plan.start_path, label="start")
    answers = done.answers
    section = plan.following(None, answers)
    while section is not None:
        page = person.get(plan.section_path(section), label=f"section/{section.key}")
        expected = [q.key for q in plan.shown(section, answers)]
        on_page = {name for name in FIELD_NAME.findall(page.text) if name not in NOT_QUESTIONS}
        if on_page != set(expected):
            raise JourneyProblem(
                f"{page.url} shows {sorted(on_page)}; the definition says {sorted(expected)}"
            )
        values = {key: answer_choose(plan.by_key[key], rng, done.serial) for key in expected}
        reply = person.post(
            plan.section_path(section),
            form_data(values, csrf_token(page)),
            label=f"section/{section.key}",
        )
        answers.update({key: value for key, value in values.items() if value})
        if plan.offers_document_after(section, answers):
            if (went := redirect_path(reply)) != plan.document_path:
                raise JourneyProblem(f"{reply.url} led to {went}, not {plan.document_path}")
            page = person.get(plan.document_path, label="document")
            reply = person.post(  # carry on without a document
                plan.document_path, {"csrfmiddlewaretoken": csrf_token(page)}, label="document"
            )
        section = plan.following(section, answers)
        expected_path = plan.check_path if section is None else plan.section_path(section)
        if (went := redirect_path(reply)) != expected_path:
            raise JourneyProblem(f"{reply.url} led to {went}, not {expected_path}")
    check = person.get(plan.check_path, label="check")
    data = {"csrfmiddlewaretoken": csrf_token(check)}
    clicks = 2 if done.double_sent else 1
    with ThreadPoolExecutor(clicks) as browser:
        sends = [
            browser.submit(person.post, plan.check_path, data, label="check") for _ in range(clicks)
        ]
        for sent in sends:
            if (went := redirect_path(sent.result())) != plan.confirmation_path:
                raise JourneyProblem(f"sending led to {went}, not {plan.confirmation_path}")
    confirmation = person.get(plan.confirmation_path, label="confirmation")
    pattern = rf"\b{plan.prefix}-{REFERENCE_CHARS}{{4}}-{REFERENCE_CHARS}{{4}}\b"
    references = set(re.findall(pattern, confirmation.text))
    if len(references) != 1:
        raise JourneyProblem(f"the confirmation page shows references {sorted(references)}")
    done.reference = references.pop()


@dataclass
class LoadResult:
    journeys: list[Journey]
    seconds: float

    @property
    def confirmed(self) -> list[Journey]:
        return [j for j in self.journeys if j.confirmed]

    @property
    def unfinished(self) -> list[Journey]:
        return [j for j in self.journeys if not j.confirmed]

    @property
    def requests(self) -> list[RequestRecord]:
        return [r for j in self.journeys for r in j.requests]

    @property
    def failed_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests if r.failed]

    def summary(self) -> str:
        """One line of figures: journeys, requests, rate and latency percentiles."""
        times = sorted(r.seconds for r in self.requests if not r.failed)
        figures = [
            f"{len(self.confirmed)}/{len(self.journeys)} journeys confirmed",
            f"{len(self.requests)} requests ({len(self.failed_requests)} failed)",
            f"in {self.seconds:.1f} s",
            f"{len(self.confirmed) / self.seconds:.1f} journeys/s" if self.seconds else "",
        ]
        if times:
            figures += [
                f"p{p} {times[min(len(times) - 1, len(times) * p // 100)] * 1000:.0f} ms"
                for p in (50, 95, 99)
            ]
        return ", ".join(f for f in figures if f)


class Load:
    """Many people at once: ``clients`` threads, each walking journeys one after another
    (a new person, with new cookies, per journey) until ``journeys`` have been walked or
    ``seconds`` have passed (then journeys under way stop too). ``pause`` holds back new
    journeys (those under way go on) until ``resume``; ``stop`` ends the load early.
    """

    def __init__(
        self,
        servers: list[str],
        plan: Plan,
        *,
        journeys: int,
        clients: int,
        seed: int,
        seconds: float,
        double_sends: float = 0.0,
    ) -> None:
        self.servers = servers
        self.plan = plan
        self.total = journeys
        self.clients = clients
        self.seed = seed
        self.seconds = seconds
        self.double_sends = double_sends  # the share of journeys that click "Send" twice
        self.journeys: list[Journey] = []
        self._lock = threading.Lock()
        self._next_serial = 0
        self._open = threading.Event()
        self._open.set()
        self._threads: list[threading.Thread] = []
        self._started = 0.0
        self._deadline = float("inf")

    def start(self) -> Load:
        self._started = time.monotonic()
        self._deadline = self._started + self.seconds
        self._threads = [
            threading.Thread(target=self._client, name=f"load-client-{n}", daemon=True)
            for n in range(self.clients)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def pause(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    def stop(self) -> None:
        """Claim no more journeys and send no more requests."""
        self._deadline = time.monotonic()
        self._open.set()

    @property
    def confirmed_count(self) -> int:
        with self._lock:
            return sum(1 for j in self.journeys if j.confirmed)

    def wait(self) -> LoadResult:
        """Wait for every client to finish (bounded by ``seconds`` plus a request timeout)."""
        for thread in self._threads:
            thread.join(timeout=max(0.0, self._deadline - time.monotonic()) + REQUEST_SECONDS + 10)
            if thread.is_alive():
                raise TimeoutError(f"{thread.name} is still running")
        with self._lock:
            journeys = sorted(self.journeys, key=lambda j: j.serial)
        return LoadResult(journeys, time.monotonic() - self._started)

    def run(self) -> LoadResult:
        return self.start().wait()

    def _over(self) -> bool:
        return time.monotonic() > self._deadline

    def _claim(self) -> int | None:
        with self._lock:
            if self._next_serial >= self.total or self._over():
                return None
            self._next_serial += 1
            return self._next_serial - 1

    def _client(self) -> None:
        with http_client() as http:
            while True:
                while not self._open.wait(timeout=1.0):
                    if self._over():
                        return
                serial = self._claim()
                if serial is None:
                    return
                rng = random.Random(self.seed * 1_000_003 + serial)
                person = Person(http, self.servers, over=self._over)
                double = rng.random() < self.double_sends
                walked = journey(person, self.plan, serial=serial, rng=rng, double_send=double)
                with self._lock:
                    self.journeys.append(walked)


def run_load(servers: list[str], plan: Plan, **options: Any) -> LoadResult:
    """Run a ``Load`` to the end; see ``Load`` for the options."""
    return Load(servers, plan, **options).run()
