"""Public pages: time to answer each (p50 and p95 over 200 requests) and bytes sent per
page with all its assets, compressed, against the budget of 150 KB and no other host.

    .venv/bin/python -m bench.pages [--requests 200]

Serves the site as in production, as the load tests do (tests/load/server.py): gunicorn
with DEBUG off, static files collected into a temporary folder and served by WhiteNoise,
a throwaway SQLite database with the built-in consultation open and its results
published. One person answers every section (as an organisation, publishing with a
name, giving an email), so each section, "Check your answers", the confirmation, the
receipt link from the email and its withdraw page can be timed with their cookies.

Time: each page is asked for ``--requests`` times in a row over one kept-alive loopback
connection (after 5 not counted), from sending the request to the last byte of the body:
the server's time plus well under a millisecond of loopback.

Bytes: the page as a browser asks for it (``Accept-Encoding: gzip, deflate, br, zstd``),
then every asset it references (stylesheets, scripts, images, icons, the web manifest,
``/favicon.ico`` when no icon is named), then what the stylesheets (``url()``,
``@import``) and module scripts (``import``) reference. "KB with assets" is the bodies
a browser receives for the page with an empty cache (1 KB = 1,000 bytes; response
headers excluded): a stylesheet's image counts only when the page has an element of a
class its rule names, as a browser fetches it only then. "KB with headers" adds each of
those responses' status line and headers. "KB, every reference" counts every address the
page and its assets name, used or not: the budget is held against that upper bound.
Any request a page would make to another host is listed in the table and fails it.
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from bench.common import machine, record, sqlite_version, table
from tests.load.client import Person, Plan, answer_choose, csrf_token, form_data, http_client
from tests.load.server import (
    DEFINITION,
    Database,
    Gunicorn,
    database_created,
    database_prepare,
    server_env,
    static_collect,
    static_missing,
)
from tests.page_assets import (
    BROWSER_ACCEPT_ENCODING,
    BUDGET_BYTES,
    css_references,
    css_references_used,
    is_fetched,
    is_other_host,
    js_references,
    other_hosts,
    page_references,
)

WARM_UP = 5
RECEIPT_LINK = re.compile(r"/receipt/[A-Za-z0-9_:.-]+/")


@dataclass(frozen=True)
class Fetched:
    status: int
    body: bytes  # as sent, compressed or not
    header_bytes: int  # status line and headers, as HTTP/1.1 sends them
    content_type: str
    encoding: str  # Content-Encoding, "" for none


@dataclass
class PageFigures:
    name: str
    path: str
    status: int
    shown_path: str  # the path as the table shows it (a private token left out)
    times: list[float] = field(default_factory=list)
    html_raw: int = 0
    html_sent: int = 0
    assets: dict[str, Fetched] = field(default_factory=dict)  # every reference
    used: set[str] = field(default_factory=set)  # those a browser fetches for this page
    other_hosts: list[str] = field(default_factory=list)
    page_headers: int = 0

    @property
    def transferred(self) -> int:
        return self.html_sent + sum(len(self.assets[url].body) for url in self.used)

    @property
    def with_headers(self) -> int:
        headers = sum(self.assets[url].header_bytes for url in self.used)
        return self.transferred + self.page_headers + headers

    @property
    def upper_bound(self) -> int:
        return self.html_sent + sum(len(a.body) for a in self.assets.values())

    @property
    def within_budget(self) -> bool:
        return self.upper_bound <= BUDGET_BYTES and not self.other_hosts


class Browser:
    """Fetches as a browser does: its cookies, its Accept-Encoding, bytes as sent."""

    def __init__(self, http: httpx.Client, base: str) -> None:
        self.http = http
        self.base = base

    def fetch(self, url: str, cookies: dict[str, str] | None = None) -> Fetched:
        headers = {"Accept-Encoding": BROWSER_ACCEPT_ENCODING}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        with self.http.stream("GET", urljoin(self.base, url), headers=headers) as reply:
            body = b"".join(reply.iter_raw())
            head = len(f"HTTP/1.1 {reply.status_code} {reply.reason_phrase}\r\n") + 2
            head += sum(len(name) + len(value) + 4 for name, value in reply.headers.raw)
            return Fetched(
                reply.status_code,
                body,
                head,
                reply.headers.get("content-type", ""),
                reply.headers.get("content-encoding", ""),
            )

    def time(self, url: str, cookies: dict[str, str], count: int) -> list[float]:
        times = []
        for n in range(WARM_UP + count):
            started = time.perf_counter()
            fetched = self.fetch(url, cookies)
            if n >= WARM_UP:
                times.append(time.perf_counter() - started)
            if not 200 <= fetched.status < 500:
                raise RuntimeError(f"{url}: HTTP {fetched.status}")
        return times


def decoded(fetched: Fetched) -> str:
    body = fetched.body
    if fetched.encoding == "gzip":
        body = gzip.decompress(body)
    elif fetched.encoding:
        raise RuntimeError(f"the server sent {fetched.encoding}, which this benchmark cannot read")
    return body.decode("utf-8-sig", errors="replace")


def weigh(browser: Browser, figures: PageFigures, page: Fetched, cache: dict[str, Fetched]) -> None:
    """Fill in the page's bytes and those of every asset it pulls in."""
    html = decoded(page)
    figures.html_sent, figures.html_raw = len(page.body), len(html.encode())
    figures.page_headers = page.header_bytes
    base = urljoin(browser.base, figures.path)
    references = page_references(html)
    figures.other_hosts = other_hosts(references.requested(), base)
    queue = [(urljoin(base, r), True) for r in references.assets if is_fetched(r)]
    while queue:
        url, used = queue.pop(0)
        if is_other_host(url, browser.base):
            continue  # listed above, never asked
        if used:
            figures.used.add(url)
        if url in figures.assets:
            continue
        if url not in cache:
            cache[url] = browser.fetch(url)
        asset = figures.assets[url] = cache[url]
        more: list[str] = []
        wanted: set[str] = set()
        if "css" in asset.content_type:
            more = css_references(decoded(asset))
            wanted = set(css_references_used(decoded(asset), references.classes))
        elif "javascript" in asset.content_type:
            more = js_references(decoded(asset))
            wanted = set(more)
        figures.other_hosts += other_hosts(more, url)
        queue += [(urljoin(url, r), used and r in wanted) for r in more if is_fetched(r)]


def answer_every_section(person: Person, plan: Plan) -> list[str]:
    """Answer each section in turn, choosing the answers that show every conditional
    question and giving an email for the receipt; the section paths, in order."""
    shown_by = {q.when[0]: sorted(q.when[1])[0] for q in plan.by_key.values() if q.when}
    rng = random.Random(7)  # noqa: S311 - varied answers, not secrets
    person.get(plan.start_path, label="start")
    answers: dict[str, tuple[str, ...] | str] = {}
    paths = []
    section = plan.following(None, answers)
    while section is not None:
        path = plan.section_path(section)
        page = person.get(path, label=path)
        values = {}
        for question in plan.shown(section, answers):
            value = answer_choose(question, rng, serial=1)
            if question.key in shown_by:
                value = (shown_by[question.key],)
            while question.type == "email" and not value:
                value = answer_choose(question, rng, serial=1)
            values[question.key] = value
        person.post(path, form_data(values, csrf_token(page)), label=path)
        answers.update({key: value for key, value in values.items() if value})
        paths.append(path)
        section = plan.following(section, answers)
    missing = [s.key for s in plan.sections if plan.section_path(s) not in paths]
    if missing:
        raise RuntimeError(f"sections never shown: {missing}")
    return paths


def receipt_path(log: Path) -> str:
    """The private link of the receipt email, which the server printed to its log."""
    text = log.read_text(errors="replace").replace("=\n", "")  # quoted-printable breaks
    found = RECEIPT_LINK.findall(text)
    if not found:
        raise RuntimeError(f"no receipt link in {log}")
    return found[-1]


def results_publish(database: Database) -> None:
    connection = sqlite3.connect(database.params["database"])
    with connection:
        connection.execute(
            "UPDATE consultations_consultation SET results_published_at = ?",
            (datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),),
        )
    connection.close()


def measure(server: Gunicorn, plan: Plan, requests: int) -> list[PageFigures]:
    pages: list[PageFigures] = []
    cache: dict[str, Fetched] = {}
    with http_client() as http:
        browser = Browser(http, server.url)

        def page(
            name: str, path: str, cookies: dict[str, str], status: int = 200, shown: str = ""
        ) -> None:
            first = browser.fetch(path, cookies)
            if first.status != status:
                raise RuntimeError(f"{path}: HTTP {first.status}, expected {status}")
            figures = PageFigures(name, path, first.status, shown or path)
            weigh(browser, figures, first, cache)
            figures.times = browser.time(path, cookies, requests)
            pages.append(figures)
            print(f"{name}: {statistics.median(figures.times) * 1000:.1f} ms", file=sys.stderr)

        slug = plan.slug
        page("Home: consultations", "/", {})
        page("Start page", plan.start_path, {})
        page("Privacy notice", f"/c/{slug}/privacy/", {})
        page("Accessibility statement", "/accessibility/", {})
        page("Published results", f"/c/{slug}/results/", {})
        page("Page not found", "/no-such-page/", {}, status=404)
        page("Receipt link not valid", "/receipt/not-a-real-link/", {}, status=404)

        person = Person(http, [server.url])
        for path in answer_every_section(person, plan):
            page(f"Section {path.rstrip('/').rsplit('/', 1)[-1]}", path, person.cookies)
        page("Start page, with a draft", plan.start_path, person.cookies)
        page("Check your answers", plan.check_path, person.cookies)
        check = person.get(plan.check_path, label="check")
        person.post(plan.check_path, {"csrfmiddlewaretoken": csrf_token(check)}, label="send")
        page("Confirmation", plan.confirmation_path, person.cookies)
        receipt = receipt_path(server.log)
        page("Receipt (private link)", receipt, {}, shown="/receipt/<token>/")
        withdraw = f"{receipt}withdraw/"
        page("Withdraw (private link)", withdraw, {}, shown="/receipt/<token>/withdraw/")
    return pages


def report(pages: list[PageFigures], requests: int) -> str:
    rows = []
    for p in pages:
        ordered = sorted(p.times)
        p95 = ordered[min(len(ordered) - 1, len(ordered) * 95 // 100)]
        rows.append(
            [
                p.name,
                f"`{p.shown_path}`",
                p.status,
                f"{statistics.median(ordered) * 1000:.1f}",
                f"{p95 * 1000:.1f}",
                f"{p.html_raw / 1000:.1f}",
                f"{p.html_sent / 1000:.1f}",
                f"{len(p.used)} of {len(p.assets)}",
                f"{p.transferred / 1000:.1f}",
                f"{p.with_headers / 1000:.1f}",
                f"{p.upper_bound / 1000:.1f}",
                ", ".join(p.other_hosts) or "none",
                "yes" if p.within_budget else "**NO**",
            ]
        )
    headers = [
        "page",
        "path",
        "status",
        "p50 ms",
        "p95 ms",
        "HTML KB raw",
        "HTML KB sent",
        "assets fetched",
        "KB with assets",
        "KB with headers",
        "KB, every reference",
        "other hosts",
        f"≤ {BUDGET_BYTES // 1000} KB, one host",
    ]
    assets = {url: fetched for p in pages for url, fetched in p.assets.items()}
    asset_rows = [
        [
            f"`{urlsplit(url).path}`",
            fetched.status,
            fetched.encoding or "none",
            f"{len(fetched.body) / 1000:.1f}",
        ]
        for url, fetched in sorted(assets.items())
    ]
    met = all(p.within_budget for p in pages)
    return "\n\n".join(
        [
            f"{requests} requests per page, one client, keep-alive, after {WARM_UP} not "
            "counted. KB = 1,000 bytes of bodies as sent (gzip where the server compresses) "
            "for the page and the assets a browser fetches with it, cache empty; 'with "
            "headers' adds the response headers; 'every reference' also counts the "
            "stylesheet's images that no element of the page uses (the budget's measure).",
            table(headers, rows),
            "Assets (sizes as sent):",
            table(["asset", "status", "encoding", "KB"], asset_rows),
            f"Budget of {BUDGET_BYTES // 1000} KB per page with its assets and no other host: "
            + ("met by every page." if met else "**NOT MET** (see the last column)."),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    options = parser.parse_args()
    if problem := static_missing():
        sys.exit(problem)
    plan = Plan.read(DEFINITION)
    with tempfile.TemporaryDirectory(prefix="bench-pages-") as folder:
        tmp = Path(folder)
        static_root = tmp / "static"
        static_collect(static_root)
        with database_created(tmp, {"ENGINE": "django.db.backends.sqlite3"}) as database:
            database_prepare(database, static_root)
            results_publish(database)
            server = Gunicorn(server_env(database.url, static_root), tmp / "gunicorn.log")
            server.start(ready_path=plan.start_path)
            try:
                pages = measure(server, plan, options.requests)
            finally:
                server.stop()
    text = report(pages, options.requests)
    description = machine(f"{sqlite_version()}, gunicorn 2 workers × 4 threads, DEBUG off")
    record("Public pages: time and weight", description, text)
    if not all(p.within_budget for p in pages):
        sys.exit("over the page budget, or a request to another host: see the table")


if __name__ == "__main__":
    main()
