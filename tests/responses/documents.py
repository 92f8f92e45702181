"""Supporting documents made in the tests: real PDF, DOCX and ODT files with known text,
and files that only pretend to be one."""

from __future__ import annotations

import io
import zipfile

import docx
from django.core.files.base import ContentFile
from django.utils import timezone

from consult.responses.documents import ODT_MIMETYPE
from consult.responses.models import Document, DocumentKind, Response
from consult.responses.storage import documents_storage

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


def pdf_bytes(text: str = "Our position on live facial recognition") -> bytes:
    """A one-page PDF whose text is ``text`` (plain ASCII), with a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def docx_bytes(text: str = "Our position on live facial recognition") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    table = document.add_table(rows=1, cols=1)
    table.rows[0].cells[0].text = "Safeguards table"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def odt_bytes(text: str = "Our position on live facial recognition") -> bytes:
    """A minimal OpenDocument text: the mimetype first and stored, then the XML parts."""
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        f"<office:body><office:text><text:h>Response</text:h><text:p>{text}</text:p>"
        "</office:text></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", ODT_MIMETYPE, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def zip_bytes(members: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in (members or {"notes.txt": b"Just a zip"}).items():
            archive.writestr(name, data)
    return out.getvalue()


MAKERS = {DocumentKind.PDF: pdf_bytes, DocumentKind.DOCX: docx_bytes, DocumentKind.ODT: odt_bytes}


def document_attached(
    response: Response,
    *,
    kind: DocumentKind = DocumentKind.PDF,
    text: str = "Our position on live facial recognition",
) -> Document:
    """Attach a document to any response (sent ones too), as the journey stores one."""
    data = MAKERS[kind](text)
    name = documents_storage.save(f"{response.reference}-test.{kind}", ContentFile(data))
    return Document.objects.create(
        response=response,
        file=name,
        original_name=f"position-paper.{kind}",
        kind=kind,
        size=len(data),
        sha256="0" * 64,
        text=text,
        uploaded_at=timezone.now(),
    )
