"""Page weight: every public page, with every asset it makes a browser fetch, stays under
150 KB compressed, and nothing is fetched from another host (docs/frontend.md).

Pages come from the test client, compressed as the server sends them to a browser;
static assets are read from where ``collectstatic`` would collect them and gzipped as
WhiteNoise does at build time. ``bench/pages.py`` measures the same over HTTP.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import mail
from django.test import Client
from django.utils import timezone

from consult.consultations.models import Consultation
from consult.consultations.queries import consultation_spec
from tests.page_assets import (
    BROWSER_ACCEPT_ENCODING,
    BUDGET_BYTES,
    css_references,
    is_fetched,
    js_references,
    other_hosts,
    page_references,
)
from tests.responses.helpers import answer_all, check_url

BASE = "http://testserver/"
# Answers that show every section: an organisation, publishing with a name, a receipt.
EVERY_SECTION = {
    "respondent_type": "organisation",
    "organisation_name": "Neighbourhood Watch",
    "publication": "publish_named",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
}
RECEIPT_LINK = re.compile(r"/receipt/[^/\s]+/")


@dataclass(frozen=True)
class Weight:
    page: int  # bytes of the page as sent
    assets: dict[str, int]  # bytes of each asset as sent, by address
    other_hosts: list[str]

    @property
    def total(self) -> int:
        return self.page + sum(self.assets.values())


def gzipped_size(content: bytes) -> int:
    """Bytes on the wire for a static file: WhiteNoise keeps a gzip copy when smaller."""
    return min(len(content), len(gzip.compress(content, compresslevel=9, mtime=0)))


def static_content(url: str) -> bytes | None:
    """A static file's content, found as ``collectstatic`` finds it; None if missing."""
    found = finders.find(urlsplit(url).path.removeprefix(settings.STATIC_URL))
    return Path(found).read_bytes() if isinstance(found, str) else None


def page_get(client: Client, url: str) -> tuple[int, bytes]:
    reply = client.get(url, HTTP_ACCEPT_ENCODING=BROWSER_ACCEPT_ENCODING)
    return reply.status_code, reply.content


def weigh(client: Client, url: str, html: bytes) -> Weight:
    """The page's own bytes and those of each asset it pulls in, following stylesheets
    and module scripts; references to other hosts are listed, not fetched."""
    plain = gzip.decompress(html) if html[:2] == b"\x1f\x8b" else html
    text = plain.decode(errors="replace")
    page = page_references(text)
    base = urljoin(BASE, url)
    outside = other_hosts(page.requested(), base)
    assets: dict[str, int] = {}
    queue = [urljoin(base, ref) for ref in page.assets if ref not in outside and is_fetched(ref)]
    while queue:
        asset = queue.pop()
        if asset in assets:
            continue
        path = urlsplit(asset).path
        if path.startswith(settings.STATIC_URL):
            content = static_content(asset)
            assert content is not None, f"{url} references {asset}, which is not a static file"
            assets[asset] = gzipped_size(content)
        else:
            _status, content = page_get(client, path)
            assets[asset] = len(content)
            continue
        more: list[str] = []
        if path.endswith(".css"):
            more = css_references(content.decode("utf-8-sig"))
        elif path.endswith((".js", ".mjs")):
            more = js_references(content.decode())
        outside += other_hosts(more, asset)
        queue += [urljoin(asset, ref) for ref in more if ref not in outside and is_fetched(ref)]
    return Weight(len(html), assets, outside)


def public_pages(client: Client, consultation: Consultation) -> Iterator[tuple[str, int, bytes]]:
    """Every public page, as a person comes to it: address, status, content as sent."""
    slug = consultation.slug
    for url in ["/", "/accessibility/", f"/c/{slug}/", f"/c/{slug}/privacy/"]:
        yield url, *page_get(client, url)
    yield "/no-such-page/", *page_get(client, "/no-such-page/")
    yield "/receipt/forged/", *page_get(client, "/receipt/forged/")
    answer_all(client, consultation, EVERY_SECTION)
    for section in consultation_spec(consultation).sections:
        url = f"/c/{slug}/section/{section.key}/"
        yield url, *page_get(client, url)
    yield check_url(consultation), *page_get(client, check_url(consultation))


@pytest.fixture
def sent(consultation, django_capture_on_commit_callbacks) -> Client:
    """A client whose response has been sent, with its receipt email in the outbox."""
    client = Client()
    answer_all(client, consultation, EVERY_SECTION)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(check_url(consultation)).status_code == 302
    return client


def after_sending(client: Client, consultation: Consultation) -> Iterator[tuple[str, int, bytes]]:
    slug = consultation.slug
    yield f"/c/{slug}/confirmation/", *page_get(client, f"/c/{slug}/confirmation/")
    (email,) = mail.outbox
    found = RECEIPT_LINK.search(email.body)
    assert found is not None, email.body
    receipt = found.group(0)
    yield receipt, *page_get(client, receipt)
    yield f"{receipt}withdraw/", *page_get(client, f"{receipt}withdraw/")
    consultation.results_published_at = timezone.now()
    consultation.save(update_fields=["results_published_at"])
    yield f"/c/{slug}/results/", *page_get(client, f"/c/{slug}/results/")


def test_every_public_page_is_under_budget_and_fetches_nothing_elsewhere(consultation, sent):
    pages = [*public_pages(Client(), consultation), *after_sending(sent, consultation)]
    expected = {
        "/no-such-page/": 404,
        "/receipt/forged/": 404,
    }
    weights = {}
    for url, status, content in pages:
        assert status == expected.get(url, 200), url
        weights[url] = weigh(Client(), url, content)
    sections = consultation_spec(consultation).sections
    assert len(weights) == 11 + len(sections), sorted(weights)
    assert {url: w.other_hosts for url, w in weights.items() if w.other_hosts} == {}
    over = {url: w.total for url, w in weights.items() if w.total > BUDGET_BYTES}
    assert over == {}, f"over {BUDGET_BYTES} bytes compressed with their assets"
    # Every page pulls in the stylesheet and both scripts.
    for url, weight in weights.items():
        assets = {urlsplit(asset).path for asset in weight.assets}
        assert {
            "/static/consult/consult.css",
            "/static/consult/init.mjs",
            "/static/govuk/govuk-frontend.min.js",
        } <= assets, url


def test_public_pages_are_sent_compressed(client, consultation):
    """A page is gzipped for a browser that accepts it, and the cache is told so."""
    reply = client.get(f"/c/{consultation.slug}/", HTTP_ACCEPT_ENCODING=BROWSER_ACCEPT_ENCODING)
    assert reply["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in reply["Vary"]
    html = gzip.decompress(reply.content).decode()
    assert consultation.title in html
    assert len(reply.content) < len(html.encode()) / 2
    plain = client.get(f"/c/{consultation.slug}/")
    assert not plain.has_header("Content-Encoding")
    assert plain.content.decode().count(consultation.title) == html.count(consultation.title)


def test_analysts_pages_and_downloads_are_not_compressed(client, consultation):
    """The workspace puts text the public wrote beside personal data (BREACH): no gzip.
    The published results' CSV streams: no gzip either."""
    sign_in = client.get("/analysis/sign-in/", HTTP_ACCEPT_ENCODING="gzip")
    assert sign_in.status_code == 200
    assert not sign_in.has_header("Content-Encoding")
    consultation.results_published_at = timezone.now()
    consultation.save(update_fields=["results_published_at"])
    csv = client.get(f"/c/{consultation.slug}/results/publishable.csv", HTTP_ACCEPT_ENCODING="gzip")
    assert csv.status_code == 200
    assert csv.streaming
    assert not csv.has_header("Content-Encoding")


def test_the_weighing_catches_another_host_and_a_heavy_page(client):
    """The checks above can fail: a script from another host, an image from another host
    in a stylesheet's url(), and a page too heavy for the budget are all reported."""
    html = (
        '<link rel="stylesheet" href="/static/consult/consult.css">'
        '<script src="https://cdn.example.net/lib.js"></script>'
        '<img src="//images.example.org/logo.png" alt="">'
        '<a href="https://ico.org.uk/">the ICO</a>'
        '<form action="https://forms.example.com/send"></form>'
    )
    weight = weigh(client, "/", html.encode())
    assert weight.other_hosts == [
        "https://cdn.example.net/lib.js",
        "//images.example.org/logo.png",
        "https://forms.example.com/send",
    ]
    assert "/static/consult/consult.css" in {urlsplit(a).path for a in weight.assets}
    css = "body{background:url(https://fonts.example.com/a.woff2)}@import 'https://x.test/b.css';"
    assert other_hosts(css_references(css), "http://testserver/static/a.css") == [
        "https://fonts.example.com/a.woff2",
        "https://x.test/b.css",
    ]
    padding = bytes(range(256)) * (BUDGET_BYTES // 256 + 1)  # does not compress
    heavy = weigh(client, "/", html.encode() + padding)
    assert heavy.total > BUDGET_BYTES
