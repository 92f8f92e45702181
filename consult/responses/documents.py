"""Supporting documents: the upload size limit, and what a file really is (from its bytes,
never its name) with its text for the analysts' search. Their storage: ``storage.py``."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any
from xml.parsers import expat  # DTDs and entities are refused below  # nosec B407

import docx
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext, gettext_lazy
from pypdf import PdfReader

from consult.responses.models import DocumentKind

MEBIBYTE = 1024 * 1024
# Shown to the respondent in the page's language: translated when shown, not on import.
WRONG_TYPE = gettext_lazy("The selected file must be a PDF, DOCX or ODT")
EMPTY = gettext_lazy("The selected file is empty")
PASSWORD_PROTECTED = gettext_lazy("The selected file is password protected")
PDF_MAGIC = b"%PDF-"
ZIP_MAGIC = b"PK\x03\x04"
ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
EXTENSIONS = {".pdf": DocumentKind.PDF, ".docx": DocumentKind.DOCX, ".odt": DocumentKind.ODT}
CONTENT_TYPES: dict[str, str] = {
    DocumentKind.PDF: "application/pdf",
    DocumentKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    DocumentKind.ODT: "application/vnd.oasis.opendocument.text",
}
# Zip bombs: a DOCX or ODT is a zip of XML parts. Their sizes as the archive declares them
# bound what reading can inflate (zipfile stops at the declared size), so these limits
# are checked before any part is read.
ZIP_MAX_MEMBERS = 2_000
ZIP_MAX_UNCOMPRESSED = 200 * MEBIBYTE
ZIP_MAX_RATIO = 200  # XML deflates about 10 times; a bomb, thousands of times
PDF_MAX_PAGES = 1_000
TEXT_MAX_CHARACTERS = 2_000_000  # enough for a long report; the rest is not searched


def size_in_words(size: int) -> str:
    """10485760 as "10MB", as GOV.UK error messages write sizes."""
    if size >= MEBIBYTE:
        return f"{size / MEBIBYTE:.3g}MB"
    return f"{max(1, round(size / 1024))}KB"


def too_large_message() -> str:
    return gettext("The selected file must be smaller than %(size)s") % {
        "size": size_in_words(settings.DOCUMENT_MAX_BYTES)
    }


class OversizedUpload(UploadedFile):
    """What is left of a file that passed ``DOCUMENT_MAX_BYTES``: its name and how much of
    it arrived, without its bytes."""

    def __init__(self, name: str, content_type: str, size: int) -> None:
        super().__init__(io.BytesIO(), name=name, content_type=content_type, size=size)


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops passing a file's bytes on once it passes ``DOCUMENT_MAX_BYTES``: the rest of
    the upload is read and thrown away (the browser must finish sending before it can get
    the page that says so), so no more than the limit of a file reaches memory or disk."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        return raw_data if self.received <= settings.DOCUMENT_MAX_BYTES else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if self.received <= settings.DOCUMENT_MAX_BYTES:
            return None  # the next handler keeps the file
        return OversizedUpload(self.file_name or "", self.content_type or "", self.received)


class DocumentRefusedError(ValueError):
    """A file that cannot be a supporting document; the message tells the respondent why."""


@dataclass(frozen=True)
class Inspected:
    kind: DocumentKind
    text: str


def document_inspect(upload: UploadedFile) -> Inspected:
    """What the upload is (PDF, DOCX or ODT, from its content, which must agree with its
    name) and its text. Raises ``DocumentRefusedError`` with the message to show."""
    size = upload.size or 0
    if size > settings.DOCUMENT_MAX_BYTES:
        raise DocumentRefusedError(too_large_message())
    if size == 0:
        raise DocumentRefusedError(EMPTY)
    named = EXTENSIONS.get(PurePath(upload.name or "").suffix.lower())
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if named == DocumentKind.PDF and head == PDF_MAGIC:
        inspected = Inspected(DocumentKind.PDF, _pdf_text(upload))
    elif named in {DocumentKind.DOCX, DocumentKind.ODT} and head.startswith(ZIP_MAGIC):
        inspected = _zipped(upload)
    else:
        raise DocumentRefusedError(WRONG_TYPE)
    if inspected.kind != named:  # an ODT called .docx: the name lies about the file
        raise DocumentRefusedError(WRONG_TYPE)
    upload.seek(0)
    return inspected


def _pdf_text(upload: IO[bytes]) -> str:
    try:
        reader = PdfReader(upload)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentRefusedError(PASSWORD_PROTECTED)
        texts = []
        length = 0
        for page in reader.pages[:PDF_MAX_PAGES]:
            text = page.extract_text() or ""
            texts.append(text)
            length += len(text)
            if length > TEXT_MAX_CHARACTERS:
                break
    except DocumentRefusedError:
        raise
    except Exception as error:  # a broken PDF can fail in many ways inside pypdf
        raise DocumentRefusedError(WRONG_TYPE) from error
    return _clean("\n".join(texts))


def _zipped(upload: IO[bytes]) -> Inspected:
    try:
        with zipfile.ZipFile(upload) as archive:
            _check_zip(archive)
            names = set(archive.namelist())
            if "mimetype" in names and archive.read("mimetype").strip() == ODT_MIMETYPE:
                manifest = (
                    archive.read("META-INF/manifest.xml")
                    if "META-INF/manifest.xml" in names
                    else b""
                )
                if b"encryption-data" in manifest:
                    raise DocumentRefusedError(PASSWORD_PROTECTED)
                with archive.open("content.xml") as content:
                    return Inspected(DocumentKind.ODT, _odt_text(content))
            if (
                "[Content_Types].xml" in names
                and "word/document.xml" in names
                and DOCX_MAIN in archive.read("[Content_Types].xml")
            ):
                upload.seek(0)
                return Inspected(DocumentKind.DOCX, _docx_text(upload))
    except DocumentRefusedError:
        raise
    except Exception as error:  # a broken or hostile zip, or XML that does not parse
        raise DocumentRefusedError(WRONG_TYPE) from error
    raise DocumentRefusedError(WRONG_TYPE)


def _check_zip(archive: zipfile.ZipFile) -> None:
    members = archive.infolist()
    if len(members) > ZIP_MAX_MEMBERS:
        raise DocumentRefusedError(WRONG_TYPE)
    if any(member.flag_bits & 0x1 for member in members):  # zip encryption
        raise DocumentRefusedError(PASSWORD_PROTECTED)
    if sum(member.file_size for member in members) > ZIP_MAX_UNCOMPRESSED:
        raise DocumentRefusedError(WRONG_TYPE)
    for member in members:
        if member.file_size > MEBIBYTE and member.file_size > ZIP_MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise DocumentRefusedError(WRONG_TYPE)


def _docx_text(upload: IO[bytes]) -> str:
    document = docx.Document(upload)  # python-docx's parser resolves no entities
    texts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            texts.extend(cell.text for cell in row.cells)
    return _clean("\n".join(texts))


# The elements of an ODT's content.xml after which text starts a new line.
ODT_TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
ODT_BREAKS = {f"{ODT_TEXT_NS} {name}" for name in ("p", "h", "line-break", "list-item")}


def _odt_text(content: IO[bytes]) -> str:
    """The text of an ODT's content.xml, read with the standard library's expat parser:
    a document type declaration (the way to entity expansion attacks) is refused, and
    expat fetches nothing from outside."""
    parser = expat.ParserCreate(namespace_separator=" ")  # nosec B407
    parts: list[str] = []

    def refuse(*_args: Any) -> Any:
        raise DocumentRefusedError(WRONG_TYPE)

    def start(name: str, _attributes: dict[str, str]) -> None:
        if name in ODT_BREAKS:
            parts.append("\n")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.CharacterDataHandler = parts.append
    parser.ParseFile(content)
    return _clean("".join(parts))


def _clean(text: str) -> str:
    """Text as stored: NUL characters (which PostgreSQL cannot hold) dropped, blank lines
    squeezed, cut at ``TEXT_MAX_CHARACTERS``."""
    lines = (line.strip() for line in text.replace("\x00", "").splitlines())
    return "\n".join(line for line in lines if line)[:TEXT_MAX_CHARACTERS]
