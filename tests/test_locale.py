"""The committed translations: complete, and the compiled catalogue the same as its source.

The .mo is committed so that ``make run`` on a fresh machine needs no gettext tools; this
test fails when the .po changes without compiling again (``make messages``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

LOCALE = Path(settings.LOCALE_PATHS[0])
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%\{\w+\}|<[^>]+>")


def catalogue(code: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / code / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_offered_language_has_a_catalogue(code):
    assert (LOCALE / code / "LC_MESSAGES" / "django.po").is_file()
    assert (LOCALE / code / "LC_MESSAGES" / "django.mo").is_file()


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(code):
    po = catalogue(code)

    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    for entry in po:
        assert sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(
            PLACEHOLDER.findall(entry.msgid)
        ), entry.msgid


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_matches_its_source(code):
    po = catalogue(code)
    mo = polib.mofile(str(LOCALE / code / "LC_MESSAGES" / "django.mo"))

    source = {entry.msgid: entry.msgstr for entry in po.translated_entries()}
    compiled = {entry.msgid: entry.msgstr for entry in mo if entry.msgid}
    assert compiled == source


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_catalogue_has_every_message_the_code_has(code, tmp_path):
    """A string marked for translation after the last ``make messages`` would be shown
    in English on a Welsh page: the catalogue made afresh from the code has the same
    messages as the committed one."""
    if shutil.which("xgettext") is None:
        pytest.skip("needs GNU gettext's xgettext: apt-get install gettext")
    copy = tmp_path / "consult"
    shutil.copytree(
        LOCALE.parent, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo")
    )
    subprocess.run(  # noqa: S603 - our own interpreter and Django's command
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            f"--locale={code}",
            "--no-location",
            "--no-obsolete",
            "--settings=consult.settings",
            f"--pythonpath={LOCALE.parent.parent}",
        ],
        cwd=copy,
        env={**os.environ, "DEBUG": "true"},
        check=True,
        capture_output=True,
    )

    made = polib.pofile(str(copy / "locale" / code / "LC_MESSAGES" / "django.po"))
    assert sorted(entry.msgid for entry in made) == sorted(entry.msgid for entry in catalogue(code))
