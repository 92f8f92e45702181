"""The supporting document's upload step in a real browser: a file that lies about its
type, a valid one, replacing and removing it, "Check your answers", and the analysts'
documents page; axe on each."""

from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from consult.responses.documents import WRONG_TYPE
from consult.responses.models import Document
from tests.analysis.conftest import respond
from tests.browser.pages import CHECK_ANSWERS, answer_page, assert_accessible
from tests.browser.test_analysis_pages import sign_in
from tests.responses.documents import PNG, document_attached, docx_bytes, pdf_bytes

ORGANISATION = {
    "respondent_type": "organisation",
    "organisation_type": "civil_society",
    "publication": "publish_named",
}


def to_the_upload(page: Page, site: str) -> None:
    page.goto(site)
    page.get_by_role("link", name="Live facial recognition in public places").click()
    page.get_by_role("button", name="Start now").click()
    answer_page(page, ORGANISATION)  # About you
    answer_page(page, ORGANISATION)  # Your organisation
    expect(page.locator("h1")).to_have_text("Supporting document (optional)")


def choose(page: Page, name: str, data: bytes, mime: str) -> None:
    page.get_by_label("Upload a").set_input_files({"name": name, "mimeType": mime, "buffer": data})
    page.get_by_role("button", name="Continue").click()


def test_upload_replace_remove_and_check(page: Page, site: str, open_consultation):
    to_the_upload(page, site)
    assert_accessible(page, "a11y-document")

    choose(page, "scan.pdf", PNG, "application/pdf")
    assert page.title().startswith("Error: ")
    summary_link = page.locator(".govuk-error-summary a")
    expect(summary_link).to_have_text(str(WRONG_TYPE))
    assert_accessible(page, "a11y-document-error")
    summary_link.click()
    expect(page.locator("#id_document")).to_be_focused()
    assert not Document.objects.exists()

    choose(page, "Position paper.pdf", pdf_bytes(), "application/pdf")
    expect(page.locator("h1")).not_to_have_text("Supporting document (optional)")
    page.get_by_role("link", name="Back").click()
    expect(page.locator(".govuk-summary-list bdi")).to_have_text("Position paper.pdf")
    assert_accessible(page, "a11y-document-attached")

    choose(
        page,
        "Position paper.docx",
        docx_bytes(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    page.get_by_role("link", name="Back").click()
    page.get_by_role("button", name="Remove Position paper.docx").click()
    expect(page.locator(".govuk-summary-list")).to_have_count(0)
    assert not Document.objects.exists()

    choose(page, "Final paper.pdf", pdf_bytes(), "application/pdf")
    for _page_number in range(10):
        if CHECK_ANSWERS in page.title():
            break
        answer_page(page, ORGANISATION)
    expect(page.get_by_text("Final paper.pdf (PDF, ")).to_be_visible()
    assert_accessible(page, "a11y-document-check-answers")
    assert Document.objects.get().original_name == "Final paper.pdf"


def test_the_analysts_documents_page(page: Page, site: str, open_consultation):
    response = respond(
        open_consultation,
        timezone.now(),
        respondent_type=("organisation",),
        organisation_name="Neighbourhood Watch Association",
        publication=("publish_named",),
        name="Neighbourhood Watch Association",
    )
    document_attached(response, text="Independent oversight of watchlists")
    sign_in(page, site)
    page.goto(site + reverse("analysis:documents", args=[open_consultation.slug]))
    assert_accessible(page, "a11y-analysis-documents")
    page.get_by_label("Search the documents’ text").fill("oversight")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("mark").first).to_have_text("oversight")
    assert_accessible(page, "a11y-analysis-documents-search")
    with page.expect_download() as download:
        page.get_by_role("link", name=f"Download {response.reference}.pdf").click()
    assert download.value.suggested_filename == f"{response.reference}.pdf"
