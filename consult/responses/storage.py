"""Where supporting documents are kept: a private folder that no URL serves."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class DocumentStorage(FileSystemStorage):
    """Files in ``DOCUMENTS_ROOT`` (read when used, so tests can point it elsewhere). No
    URL serves them: analysts download them through the workspace."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o640, directory_permissions_mode=0o750)

    @property
    def base_location(self) -> str:
        return str(settings.DOCUMENTS_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("Supporting documents have no public address")


documents_storage = DocumentStorage()


def document_storage() -> DocumentStorage:
    """The storage of ``Document.file`` (a callable, so migrations name it, not its folder)."""
    return documents_storage
