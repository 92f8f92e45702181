"""What a page makes a browser fetch, for the page-weight test and benchmark: the assets
an HTML page references (stylesheets, scripts, images, icons, the web manifest), those
its stylesheets (``url()``, ``@import``) and module scripts (``import``) reference in
turn, and any address on another host that a browser would request by itself.

Links a person follows (``<a href>``) are not requests the page makes; they are listed
apart, and only a form sending its data elsewhere counts as another host's request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

BUDGET_BYTES = 150_000  # a page and all its assets, compressed: 150 KB (of 1,000 bytes)
# Sent when a page names no icon: browsers ask for it by themselves.
IMPLICIT_FAVICON = "/favicon.ico"
# What Chrome and Firefox send; the server may answer with any of them.
BROWSER_ACCEPT_ENCODING = "gzip, deflate, br, zstd"

CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
CSS_CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
CSS_IMPORT = re.compile(r"""@import\s+(['"])([^'"]+)\1""")
JS_IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\s*(?:[\w*{}\s,$]+\bfrom\s*)?(['"])([^'"]+)\1"""
    r"""|\bimport\(\s*(['"])([^'"]+)\3\s*\)"""
)
LOADING_LINK_RELS = {"stylesheet", "icon", "apple-touch-icon", "manifest", "preload"}
LOADING_LINK_RELS |= {"modulepreload", "prefetch", "mask-icon"}


@dataclass(frozen=True)
class PageReferences:
    """What one HTML page references: ``assets`` a browser fetches with the page,
    ``requests`` it may send later (form actions), ``links`` a person may follow."""

    assets: tuple[str, ...]
    requests: tuple[str, ...]
    links: tuple[str, ...]
    classes: frozenset[str] = frozenset()  # every class an element of the page has

    def requested(self) -> tuple[str, ...]:
        return self.assets + self.requests


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.assets: list[str] = []
        self.requests: list[str] = []
        self.links: list[str] = []
        self.classes: set[str] = set()
        self.has_icon = False
        self.styles: list[str] = []  # inline <style> and style="" (CSS url()s)
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.classes.update(values.get("class", "").split())
        if style := values.get("style"):
            self.styles.append(style)
        rels = set(values.get("rel", "").lower().split())
        if tag == "link" and values.get("href"):
            if rels & LOADING_LINK_RELS:
                self.assets.append(values["href"])
                self.has_icon |= bool(rels & {"icon"})
            else:
                self.links.append(values["href"])
        elif tag in {"script", "img", "iframe", "embed", "source", "track", "audio", "video"}:
            if values.get("src"):
                self.assets.append(values["src"])
            if tag == "video" and values.get("poster"):
                self.assets.append(values["poster"])
        elif tag == "object" and values.get("data"):
            self.assets.append(values["data"])
        elif tag == "input" and values.get("type", "").lower() == "image" and values.get("src"):
            self.assets.append(values["src"])
        elif tag == "form":
            self.requests.append(values.get("action", ""))
        elif tag in {"button", "input"} and values.get("formaction"):
            self.requests.append(values["formaction"])
        elif tag in {"a", "area"} and values.get("href"):
            self.links.append(values["href"])
        if values.get("srcset"):
            self.assets += [part.split()[0] for part in values["srcset"].split(",") if part.strip()]
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.styles.append(data)


def page_references(html: str) -> PageReferences:
    """The addresses in an HTML page, as written (relative ones are left relative).
    The implicit ``/favicon.ico`` counts as an asset when the page names no icon."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    assets = [*parser.assets, *(ref for css in parser.styles for ref in css_references(css))]
    if not parser.has_icon:
        assets.append(IMPLICIT_FAVICON)
    return PageReferences(
        _unique(assets), _unique(parser.requests), _unique(parser.links), frozenset(parser.classes)
    )


def css_references(css: str) -> list[str]:
    """Every ``url()`` and ``@import`` in a stylesheet, used by the page or not (a browser
    fetches an image only for an element that shows it: this is the upper bound)."""
    found = [match[1] for match in CSS_URL.findall(css)]
    found += [match[1] for match in CSS_IMPORT.findall(css)]
    return [url for url in _unique(found) if not url.startswith("data:")]


def css_references_used(css: str, classes: Iterable[str]) -> list[str]:
    """The ``url()``s of rules that may apply to a page with these classes, which is
    when a browser fetches them: a rule whose selector names a class counts only if
    the page has one of its classes (an overestimate: ``.a .b`` counts with ``.b``
    alone). ``@font-face`` and ``@import`` always count."""
    present = set(classes)
    used = []
    for match in CSS_URL.finditer(css):
        opening = css.rfind("{", 0, match.start())
        start = max(css.rfind(mark, 0, opening) for mark in "{};") + 1
        selector = css[start:opening]
        selector_classes = set(CSS_CLASS.findall(selector))
        if selector.lstrip().startswith("@") or not selector_classes or selector_classes & present:
            used.append(match[2])
    used += [match[2] for match in CSS_IMPORT.finditer(css)]
    return [url for url in _unique(used) if not url.startswith("data:")]


def js_references(script: str) -> list[str]:
    """Modules a module script imports (``import ... from``, ``export ... from``,
    ``import()`` with a literal address)."""
    return list(
        _unique(static or dynamic for _q, static, _q2, dynamic in JS_IMPORT.findall(script))
    )


def is_other_host(url: str, base: str) -> bool:
    """Whether a browser on ``base`` would send a request for ``url`` to another host.
    ``data:`` addresses hold their content; ``mailto:`` and ``tel:`` are no request."""
    scheme = urlsplit(url).scheme.lower()
    if scheme in {"data", "mailto", "tel", "javascript", "about", "blob"}:
        return False
    resolved, origin = urlsplit(urljoin(base, url)), urlsplit(base)
    return (resolved.scheme, resolved.netloc) != (origin.scheme, origin.netloc)


def is_fetched(url: str) -> bool:
    """Whether a reference makes a request at all (a ``data:`` address does not)."""
    return urlsplit(url).scheme.lower() not in {"data", "about", "blob", "javascript"}


def other_hosts(urls: Iterable[str], base: str) -> list[str]:
    return [url for url in urls if is_other_host(url, base)]


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in items if item.strip()))
