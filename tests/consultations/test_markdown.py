"""The ``markdown`` template filter: definition Markdown rendered, then sanitised."""

import pytest
from django.template import Context, Template
from django.utils.safestring import SafeString

from consult.consultations.templatetags.consult_markdown import markdown

OPEN = '<div class="consult-prose">'
CLOSE = "</div>"


def test_output_is_safe_and_wrapped_in_prose_div() -> None:
    html = markdown("Hello.")

    assert isinstance(html, SafeString)
    assert html == f"{OPEN}<p>Hello.</p>{CLOSE}"


def test_headings_emphasis_and_lists_render() -> None:
    html = markdown(
        "## What we ask\n\n### In detail\n\nSome *emphasis* and **strong** text.\n\n"
        "- first point\n- second point\n\nThen:\n\n1. step one\n2. step two\n"
    )

    assert html.startswith(OPEN)
    assert html.endswith(CLOSE)
    assert "<h2>What we ask</h2>" in html
    assert "<h3>In detail</h3>" in html
    assert "<em>emphasis</em>" in html
    assert "<strong>strong</strong>" in html
    assert "<ul>\n<li>first point</li>\n<li>second point</li>\n</ul>" in html
    assert "<ol>\n<li>step one</li>\n<li>step two</li>\n</ol>" in html


def test_links_keep_href_and_get_rel() -> None:
    html = markdown("Complain to the [ICO](https://ico.org.uk/make-a-complaint/).")

    assert (
        '<a href="https://ico.org.uk/make-a-complaint/" rel="noopener noreferrer">ICO</a>' in html
    )


@pytest.mark.parametrize(
    ("source", "kept", "forbidden"),
    [
        pytest.param(
            "Hello <script>alert('x')</script> there",
            "Hello",
            ["<script", "alert"],
            id="script",
        ),
        pytest.param(
            '<a href="https://example.org/" onclick="steal()">a link</a>',
            '<a href="https://example.org/" rel="noopener noreferrer">a link</a>',
            ["onclick", "steal"],
            id="onclick",
        ),
        pytest.param(
            "[click me](javascript:alert(1))",
            "click me",
            ["javascript:", "href", "alert"],
            id="javascript-link",
        ),
        pytest.param(
            '<a href="javascript:alert(1)">raw link</a>',
            "raw link",
            ["javascript:", "href", "alert"],
            id="javascript-raw-link",
        ),
        pytest.param(
            "Look ![a picture](https://example.org/x.png) here",
            "Look",
            ["<img", "x.png"],
            id="markdown-image",
        ),
        pytest.param(
            'Look <img src="x" onerror="alert(1)"> here',
            "Look",
            ["<img", "onerror", "alert"],
            id="html-image",
        ),
        pytest.param(
            '<p style="color: red">styled</p><style>p { color: red }</style>',
            "<p>styled</p>",
            ["style=", "<style", "color"],
            id="style",
        ),
        pytest.param(
            '<iframe src="https://example.org/"></iframe>after',
            "after",
            ["<iframe", "example.org"],
            id="iframe",
        ),
    ],
)
def test_unsafe_markup_is_stripped(source: str, kept: str, forbidden: list[str]) -> None:
    html = markdown(source)

    assert html.startswith(OPEN)
    assert html.endswith(CLOSE)
    assert kept in html
    for fragment in forbidden:
        assert fragment not in html


def test_filter_is_registered_for_templates() -> None:
    template = Template("{% load consult_markdown %}{{ body|markdown }}")

    html = template.render(Context({"body": "## Title\n\n<script>x()</script>"}))

    assert html == f"{OPEN}<h2>Title</h2>\n{CLOSE}"
