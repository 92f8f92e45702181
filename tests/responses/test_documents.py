"""Supporting documents: the upload step of organisations' journey, files that lie about
their type, are too large or empty, the analysts' access and search, data packages and
erasure."""

from __future__ import annotations

import io
import os
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consult.analysis import services as analysis_services
from consult.analysis.models import Role
from consult.analysis.queries import subject_access_document
from consult.consultations.queries import consultation_spec
from consult.exports.models import DownloadRecord
from consult.responses import services
from consult.responses.documents import (
    EMPTY,
    PASSWORD_PROTECTED,
    WRONG_TYPE,
    DocumentRefusedError,
    OversizedUpload,
    document_inspect,
    size_in_words,
)
from consult.responses.models import Document, DocumentKind, Respondent, Response
from tests.analysis.conftest import respond, user_make
from tests.exports.readers import fetch, read_csv
from tests.responses.documents import (
    PNG,
    document_attached,
    docx_bytes,
    odt_bytes,
    pdf_bytes,
    zip_bytes,
)
from tests.responses.helpers import (
    INDIVIDUAL,
    answer_all,
    check_url,
    document_url,
    section_post,
    section_url,
)

ORGANISATION = {
    "respondent_type": "organisation",
    "organisation_name": "Neighbourhood Watch Association",
    "organisation_type": "civil_society",
    "region": "wales",
    "publication": "publish_named",
    "name": "Neighbourhood Watch Association",
}
PHRASE = "Independent oversight of watchlists"


def stored_files(settings) -> list[Path]:
    root = Path(settings.DOCUMENTS_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytest.fixture
def organisation(client: Client, consultation) -> Client:
    """A respondent who has answered "About you" and "Your organisation" as an
    organisation, and is on the supporting document's page."""
    spec = consultation_spec(consultation)
    about = client.post(
        section_url(consultation, "about-you"), section_post(spec, "about-you", ORGANISATION)
    )
    assert about["Location"] == section_url(consultation, "your-organisation")
    reply = client.post(
        section_url(consultation, "your-organisation"),
        section_post(spec, "your-organisation", ORGANISATION),
    )
    assert reply["Location"] == document_url(consultation)
    return client


def upload(client: Client, consultation, name: str, data: bytes, **query: str):
    url = document_url(consultation) + ("?return=check" if query.get("return") else "")
    return client.post(url, {"document": SimpleUploadedFile(name, data)})


# ------------------------------------------------------------------ where in the journey


def test_organisations_are_offered_the_upload_after_naming_their_organisation(
    organisation, consultation
):
    page = organisation.get(document_url(consultation))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'class="govuk-file-upload"' in html
    assert "Supporting document (optional)" in html
    assert "smaller than 10MB" in html
    # Back goes to the organisation's section; without a file, Continue carries on.
    assert f'href="{section_url(consultation, "your-organisation")}"' in html
    carry_on = organisation.post(document_url(consultation), {})
    assert carry_on.status_code == 302
    assert carry_on["Location"] == section_url(consultation, "use")
    assert not Document.objects.exists()


def test_the_section_after_goes_back_to_the_upload(organisation, consultation):
    page = organisation.get(section_url(consultation, "use"))
    assert f'href="{document_url(consultation)}"' in page.content.decode()


def test_without_a_draft_the_page_sends_people_to_the_start(client, consultation):
    reply = client.get(document_url(consultation))
    assert reply["Location"] == reverse("responses:start", args=[consultation.slug])


def test_individuals_are_never_offered_it(client, consultation):
    spec = consultation_spec(consultation)
    reply = client.post(
        section_url(consultation, "about-you"), section_post(spec, "about-you", INDIVIDUAL)
    )
    assert reply["Location"] == section_url(consultation, "use")
    assert client.get(document_url(consultation)).status_code == 302
    refused = upload(client, consultation, "paper.pdf", pdf_bytes())
    assert refused.status_code == 302
    assert not Document.objects.exists()


# ------------------------------------------------------------------------- valid uploads


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [
        ("Position paper.pdf", pdf_bytes, DocumentKind.PDF),
        ("position-paper.DOCX", docx_bytes, DocumentKind.DOCX),
        ("position paper.odt", odt_bytes, DocumentKind.ODT),
    ],
)
def test_a_valid_file_is_stored_privately_with_its_text(
    organisation, consultation, settings, name, make, kind
):
    data = make(PHRASE)
    reply = upload(organisation, consultation, name, data)
    assert reply.status_code == 302
    assert reply["Location"] == section_url(consultation, "use")
    document = Document.objects.get()
    assert document.kind == kind
    assert document.original_name == name
    assert document.size == len(data)
    assert PHRASE in document.text
    (stored,) = stored_files(settings)
    assert stored.read_bytes() == data
    assert stored.suffix == f".{kind}"
    assert name.split(".")[0] not in stored.name  # a random name, not the respondent's
    assert len(stored.stem) == 32
    assert str(stored).startswith(str(settings.DOCUMENTS_ROOT))
    assert not str(stored).startswith(str(settings.STATIC_ROOT))


def test_check_your_answers_shows_the_document_with_a_change_link(organisation, consultation):
    upload(organisation, consultation, "Position paper.pdf", pdf_bytes())
    answer_all(organisation, consultation, ORGANISATION)
    html = organisation.get(check_url(consultation)).content.decode()
    assert "Supporting document (optional)" in html
    assert "Position paper.pdf (PDF, " in html
    assert f'href="{document_url(consultation)}?return=check"' in html
    # Going back from "Check your answers" and carrying on returns there.
    reply = organisation.post(document_url(consultation) + "?return=check", {})
    assert reply["Location"] == check_url(consultation)


def test_a_new_file_replaces_the_old_and_remove_removes_it(
    organisation, consultation, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        upload(organisation, consultation, "first.pdf", pdf_bytes())
        upload(organisation, consultation, "second.odt", odt_bytes())
    document = Document.objects.get()
    assert document.original_name == "second.odt"
    assert [path.suffix for path in stored_files(settings)] == [".odt"]

    page = organisation.get(document_url(consultation)).content.decode()
    assert "second.odt" in page
    assert "Upload a different file" in page
    remove_url = reverse("responses:document_remove", args=[consultation.slug])
    assert f'action="{remove_url}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        reply = organisation.post(remove_url)
    assert reply["Location"] == document_url(consultation)
    assert not Document.objects.exists()
    assert stored_files(settings) == []


def test_continuing_without_a_file_keeps_the_one_attached(organisation, consultation):
    upload(organisation, consultation, "paper.pdf", pdf_bytes())
    organisation.post(document_url(consultation), {})
    assert Document.objects.get().original_name == "paper.pdf"


def test_answering_as_an_individual_instead_deletes_the_document(
    organisation, consultation, settings, django_capture_on_commit_callbacks
):
    from consult.consultations.queries import consultation_spec

    upload(organisation, consultation, "paper.pdf", pdf_bytes())
    spec = consultation_spec(consultation)
    with django_capture_on_commit_callbacks(execute=True):
        organisation.post(
            section_url(consultation, "about-you"),
            section_post(spec, "about-you", {**ORGANISATION, "respondent_type": "individual"}),
        )
    assert not Document.objects.exists()
    assert stored_files(settings) == []


# -------------------------------------------------------------------------- refused files


def too_large() -> bytes:
    return pdf_bytes() + b"\n%" + b"x" * (10 * 1024 * 1024)


def zip_bomb() -> bytes:
    """A DOCX-shaped zip with a part that inflates a thousand times."""
    return zip_bytes(
        {
            "[Content_Types].xml": b"application/vnd.openxmlformats-officedocument."
            b"wordprocessingml.document.main+xml",
            "word/document.xml": b"<" + b" " * (5 * 1024 * 1024),
        }
    )


def encrypted_odt() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(odt_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "META-INF/manifest.xml":
                data = data.replace(b"</manifest:manifest>", b"<manifest:encryption-data/>" + data)
            archive.writestr(info, data)
    return out.getvalue()


def odt_with_entities() -> bytes:
    content = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
        b"&lol;</office:document-content>"
    )
    return zip_bytes(
        {
            "mimetype": b"application/vnd.oasis.opendocument.text",
            "content.xml": content,
        }
    )


REFUSED = {
    "a PNG called .pdf": ("scan.pdf", lambda: PNG, WRONG_TYPE),
    "a zip called .pdf": ("paper.pdf", zip_bytes, WRONG_TYPE),
    "a PDF called .png": ("paper.png", pdf_bytes, WRONG_TYPE),
    "a PDF with no extension": ("paper", pdf_bytes, WRONG_TYPE),
    "an ODT called .docx": ("paper.docx", odt_bytes, WRONG_TYPE),
    "a plain zip called .docx": ("paper.docx", zip_bytes, WRONG_TYPE),
    "a DOCX called .odt": ("paper.odt", docx_bytes, WRONG_TYPE),
    "a broken PDF": ("paper.pdf", lambda: b"%PDF-1.7\nnot really", WRONG_TYPE),
    "a broken zip": ("paper.docx", lambda: b"PK\x03\x04broken", WRONG_TYPE),
    "a zip bomb": ("paper.docx", zip_bomb, WRONG_TYPE),
    "an ODT declaring entities": ("paper.odt", odt_with_entities, WRONG_TYPE),
    "a password-protected ODT": ("paper.odt", encrypted_odt, PASSWORD_PROTECTED),
    "an empty file": ("paper.pdf", lambda: b"", EMPTY),
    "a file over 10MB": ("paper.pdf", too_large, "The selected file must be smaller than 10MB"),
}


@pytest.mark.parametrize("case", REFUSED.keys())
def test_a_refused_file_is_explained_and_nothing_is_stored(
    organisation, consultation, settings, case
):
    name, make, message = REFUSED[case]
    reply = upload(organisation, consultation, name, make())
    assert reply.status_code == 400
    html = reply.content.decode()
    assert "<title>Error: " in html
    assert html.count(str(message)) == 2  # in the error summary and by the field
    assert 'href="#id_document"' in html
    assert "govuk-file-upload--error" in html
    assert not Document.objects.exists()
    assert stored_files(settings) == []
    # The other answers are kept.
    response = Response.objects.get()
    assert response.respondent_type == "organisation"
    assert (
        Respondent.objects.get(response=response).organisation_name
        == (ORGANISATION["organisation_name"])
    )


def test_a_refused_file_leaves_the_attached_one_in_place(organisation, consultation, settings):
    upload(organisation, consultation, "paper.pdf", pdf_bytes())
    reply = upload(organisation, consultation, "other.pdf", PNG)
    assert reply.status_code == 400
    assert "paper.pdf" in reply.content.decode()
    assert Document.objects.get().original_name == "paper.pdf"
    assert len(stored_files(settings)) == 1


def test_uploads_from_one_connection_are_limited_per_hour(
    organisation, consultation, settings, rate_limit_clock_stopped
):
    cache.clear()  # the counters of earlier tests' uploads
    settings.RESPONSE_SUBMISSIONS_PER_HOUR = 2
    for _ in range(2):
        assert upload(organisation, consultation, "paper.pdf", pdf_bytes()).status_code == 302
    refused = upload(organisation, consultation, "other.pdf", pdf_bytes())
    assert refused.status_code == 429
    assert Document.objects.get().original_name == "paper.pdf"
    cache.clear()


def test_the_size_limit_is_a_setting(organisation, consultation, settings):
    settings.DOCUMENT_MAX_BYTES = 2048
    reply = upload(organisation, consultation, "paper.pdf", pdf_bytes() + b"%" * 2048)
    assert "The selected file must be smaller than 2KB" in reply.content.decode()
    # The upload handler kept none of the file's bytes past the limit.
    kept = reply.wsgi_request.FILES["document"]
    assert isinstance(kept, OversizedUpload)
    assert kept.size > 2048
    assert size_in_words(10 * 1024 * 1024) == "10MB"
    assert size_in_words(512 * 1024) == "512KB"


def test_a_pdf_that_needs_a_password_is_refused(tmp_path):
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    with pytest.raises(DocumentRefusedError, match=str(PASSWORD_PROTECTED)):
        document_inspect(SimpleUploadedFile("locked.pdf", out.getvalue()))


def test_nothing_is_stored_when_the_response_was_sent_meanwhile(organisation, consultation):
    response = Response.objects.get()
    Response.objects.filter(pk=response.pk).update(status="submitted", submitted_at=timezone.now())
    reply = upload(organisation, consultation, "paper.pdf", pdf_bytes())
    assert reply["Location"] == reverse("responses:confirmation", args=[consultation.slug])
    assert not Document.objects.exists()


def test_a_failed_save_deletes_the_file_it_wrote(consultation, settings):
    response = respond(consultation, timezone.now(), **_organisation_answers())
    upload_file = SimpleUploadedFile("paper.pdf", pdf_bytes())
    with pytest.raises(services.ResponseNotDraftError):
        services.document_attach(
            response=response,
            upload=upload_file,
            inspected=document_inspect(upload_file),
            now=timezone.now(),
        )
    assert stored_files(settings) == []


# ------------------------------------------------------------------------------ analysts


def _organisation_answers(publication: str = "publish_named") -> dict:
    return {
        "respondent_type": ("organisation",),
        "organisation_name": "Neighbourhood Watch Association",
        "publication": (publication,),
        "name": "Neighbourhood Watch Association",
    }


@pytest.fixture
def sent_with_document(consultation) -> Response:
    response = respond(
        consultation, datetime(2026, 11, 2, 12, tzinfo=UTC), **_organisation_answers()
    )
    document_attached(response, text=PHRASE)
    return response


def download_url(response: Response) -> str:
    return reverse(
        "analysis:document_download", args=[response.consultation.slug, response.reference]
    )


def test_documents_are_never_served_to_the_public(sent_with_document, settings):
    url = download_url(sent_with_document)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("analysis:login"))
    public = Client()
    public.force_login(user_make("member-of-public"))
    assert public.get(url).status_code == 403
    document = Document.objects.get()
    with pytest.raises(ValueError, match="no public address"):
        document.file.url  # noqa: B018 - the storage has no URL to give
    assert not DownloadRecord.objects.exists()


def test_analysts_download_a_document_as_an_attachment_recorded_in_the_log(sent_with_document):
    analyst = Client()
    user = user_make("analyst-one", Role.ANALYST)
    analyst.force_login(user)
    reply = analyst.get(download_url(sent_with_document))
    assert reply.status_code == 200
    body = b"".join(reply.streaming_content)
    assert body == Path(Document.objects.get().file.path).read_bytes()
    reference = sent_with_document.reference
    assert reply["Content-Disposition"] == f'attachment; filename="{reference}.pdf"'
    assert reply["Content-Type"] == "application/pdf"
    assert reply["X-Content-Type-Options"] == "nosniff"
    assert reply["Cache-Control"] == "no-store"
    assert reply["Content-Security-Policy"] == "default-src 'none'; sandbox"
    record = DownloadRecord.objects.get()
    assert (record.user, record.format, record.filename) == (user, "document", f"{reference}.pdf")
    assert record.filters == {"response": reference}
    assert record.complete
    assert record.byte_count == len(body)


def test_a_withdrawn_response_keeps_its_document_but_it_no_longer_counts(
    sent_with_document, settings
):
    services.response_withdraw(response=sent_with_document, now=timezone.now())
    assert Document.objects.exists()
    assert len(stored_files(settings)) == 1
    analyst = Client()
    analyst.force_login(user_make("analyst-one", Role.ANALYST))
    assert analyst.get(download_url(sent_with_document)).status_code == 404
    page = analyst.get(reverse("analysis:documents", args=["facial-recognition"]))
    assert sent_with_document.reference not in page.content.decode()


def test_analysts_find_documents_by_their_text(
    consultation, sent_with_document, django_assert_max_num_queries
):
    other = respond(consultation, timezone.now(), **_organisation_answers("do_not_publish"))
    document_attached(other, kind=DocumentKind.DOCX, text="Cameras in shopping centres")
    analyst = Client()
    analyst.force_login(user_make("analyst-one", Role.ANALYST))
    url = reverse("analysis:documents", args=[consultation.slug])
    everything = analyst.get(url).content.decode()
    assert "2 documents" in everything
    with django_assert_max_num_queries(6):  # session, user, role; consultation, count, page
        found = analyst.get(url, {"q": "oversight WATCHLIST"}).content.decode()
    assert "1 document containing" in found
    assert sent_with_document.reference in found
    assert other.reference not in found
    assert "<mark>oversight</mark>" in found
    nothing = analyst.get(url, {"q": "oversight shopping"}).content.decode()
    assert "0 documents" in nothing


def test_erasure_deletes_the_file(sent_with_document, settings, django_capture_on_commit_callbacks):
    controller = user_make("controller", Role.DATA_CONTROLLER)
    with django_capture_on_commit_callbacks(execute=True):
        analysis_services.response_erase(
            response=sent_with_document, user=controller, case="DSR-1", now=timezone.now()
        )
    assert not Document.objects.exists()
    assert stored_files(settings) == []


def test_unsent_drafts_purged_take_their_documents_with_them(
    organisation, consultation, settings, django_capture_on_commit_callbacks
):
    upload(organisation, consultation, "paper.pdf", pdf_bytes())
    later = timezone.now() + settings.DRAFT_RETENTION_DAYS * timezone.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.personal_data_purge(now=later)
    assert not Document.objects.exists()
    assert stored_files(settings) == []


def test_files_no_document_names_are_deleted_once_a_day_old(sent_with_document, settings):
    root = Path(settings.DOCUMENTS_ROOT)
    kept = Path(sent_with_document.document.file.path)
    old = time.time() - 2 * 24 * 60 * 60
    os.utime(kept, (old, old))  # a document's own file stays, however old
    orphan = root / "0123456789abcdef.pdf"  # written, then the process stopped
    orphan.write_bytes(pdf_bytes())
    os.utime(orphan, (old, old))
    uploading = root / "fedcba9876543210.pdf"  # its row is about to be saved
    uploading.write_bytes(pdf_bytes())
    out = io.StringIO()

    call_command("purge_personal_data", "--dry-run", stdout=out)
    assert "and 1 supporting document files that no response names" in out.getvalue()
    assert stored_files(settings) == sorted([kept, orphan, uploading])

    call_command("purge_personal_data", stdout=out)
    assert stored_files(settings) == sorted([kept, uploading])
    assert Document.objects.get().file.name == kept.name


# ------------------------------------------------------------------------- data packages


@pytest.fixture
def three_organisations(consultation) -> dict[str, Response]:
    sent = {}
    for kind, publication in zip(
        DocumentKind, ["publish_named", "publish_anonymous", "do_not_publish"], strict=True
    ):
        response = respond(consultation, timezone.now(), **_organisation_answers(publication))
        document_attached(response, kind=kind)
        sent[publication] = response
    return sent


def package_documents(client: Client, variant: str) -> dict[str, bytes]:
    _, body = fetch(client, "facial-recognition", "datapackage", variant)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {
            name: archive.read(name) for name in archive.namelist() if name.startswith("documents/")
        }


@pytest.mark.parametrize(
    ("variant", "role", "included"),
    [
        ("full", Role.DATA_CONTROLLER, {"publish_named", "publish_anonymous", "do_not_publish"}),
        ("publishable", Role.ANALYST, {"publish_named"}),
        ("anonymised", Role.ANALYST, set()),
    ],
)
def test_data_packages_carry_the_documents_the_variant_allows(
    three_organisations, variant, role, included
):
    client = Client()
    client.force_login(user_make(f"someone-{variant}", role))
    found = package_documents(client, variant)
    expected = {}
    for publication in included:
        document = three_organisations[publication].document
        path = f"documents/{three_organisations[publication].reference}.{document.kind}"
        expected[path] = Path(document.file.path).read_bytes()
    assert found == expected


@pytest.mark.parametrize("variant", ["full", "publishable", "anonymised"])
def test_each_row_names_the_type_of_its_document(three_organisations, consultation, variant):
    respond(consultation, timezone.now(), **_organisation_answers("publish_named"))  # none
    client = Client()
    client.force_login(user_make("controller", Role.DATA_CONTROLLER))

    _, body = fetch(client, "facial-recognition", "csv", variant)

    _header, rows = read_csv(body)
    by_reference = {row["reference"]: row["document"] for row in rows}
    attached = {
        response.reference: response.document.kind
        for publication, response in three_organisations.items()
        # The published file does not say an anonymous response attached one.
        if variant != "publishable" or publication == "publish_named"
    }
    assert by_reference == {reference: attached.get(reference, "") for reference in by_reference}
    assert "" in by_reference.values()  # the response without one
    assert set(attached) <= set(by_reference)
    if variant == "publishable":  # the anonymous one is there, with nothing said of it
        anonymous = three_organisations["publish_anonymous"].reference
        assert by_reference[anonymous] == ""
        assert three_organisations["do_not_publish"].reference not in by_reference


def test_data_packages_leave_out_withdrawn_responses_documents(three_organisations):
    withdrawn = three_organisations["publish_named"]
    services.response_withdraw(response=withdrawn, now=timezone.now())
    client = Client()
    client.force_login(user_make("controller", Role.DATA_CONTROLLER))
    assert not any(withdrawn.reference in path for path in package_documents(client, "full"))


def test_the_subject_access_export_describes_the_document(sent_with_document):
    held = subject_access_document(
        response=sent_with_document, spec=consultation_spec(sent_with_document.consultation)
    )
    document = Document.objects.get()
    assert held["supporting_document"] == {
        "file_name_as_sent": document.original_name,
        "type": "PDF",
        "bytes": document.size,
        "sha256": document.sha256,
        "uploaded_at": document.uploaded_at.isoformat(),
    }
    rows = [row for row in held["answers"] if row["key"] == "document"]
    assert rows[0]["answer"][0].startswith(f"{document.original_name} (PDF, ")
