"""``manage.py export_responses``: the workspace's downloads from the command line."""

from __future__ import annotations

import hashlib

import pytest
from django.core.management import CommandError, call_command

from consult.analysis.models import Role
from consult.exports.models import DownloadRecord
from tests.exports.conftest import user_make
from tests.exports.readers import fetch, read_csv, read_jsonl

pytestmark = pytest.mark.django_db


def test_the_command_writes_the_same_rows_as_the_web_download(
    made, analyst, analyst_client, tmp_path
):
    path = tmp_path / "out.csv"

    call_command(
        "export_responses",
        made.slug,
        "--format",
        "csv",
        "--variant",
        "anonymised",
        "--user",
        analyst.username,
        "--output",
        str(path),
    )
    written = path.read_bytes()
    record = DownloadRecord.objects.get()
    _, web = fetch(analyst_client, made.slug, "csv", "anonymised")

    assert read_csv(written) == read_csv(web)
    assert written == web
    assert [row["reference"] for row in read_csv(written)[1]] == [s.reference for s in made.sent]
    assert record.user == analyst
    assert record.channel == "command"
    assert (record.format, record.variant) == ("csv", "anonymised")
    assert record.consultation == made.consultation
    assert record.row_count == len(made.sent)
    assert record.byte_count == len(written)
    assert record.sha256 == hashlib.sha256(written).hexdigest()
    assert record.complete is True
    assert record.filename.startswith(f"{made.slug}-anonymised-")


def test_the_command_writes_to_standard_output_without_a_file(made, analyst, capsysbinary):
    call_command("export_responses", made.slug, "--format", "jsonl", "--user", analyst.username)

    out = capsysbinary.readouterr().out
    assert [r["reference"] for r in read_jsonl(out)] == [s.reference for s in made.sent]
    record = DownloadRecord.objects.get()
    assert (record.variant, record.channel, record.byte_count) == (
        "anonymised",
        "command",
        len(out),
    )


def test_a_data_controller_may_take_the_full_data(made, controller, tmp_path):
    path = tmp_path / "full.csv"

    call_command(
        "export_responses",
        made.slug,
        "--variant",
        "full",
        "--user",
        controller.username,
        "--output",
        str(path),
    )

    header, rows = read_csv(path.read_bytes())
    assert "email" in header
    assert len(rows) == len(made.sent)
    assert DownloadRecord.objects.get().user == controller


def test_an_analyst_cannot_take_the_full_data(made, analyst, tmp_path):
    path = tmp_path / "full.csv"

    with pytest.raises(CommandError, match="full"):
        call_command(
            "export_responses",
            made.slug,
            "--variant",
            "full",
            "--user",
            analyst.username,
            "--output",
            str(path),
        )

    assert DownloadRecord.objects.count() == 0
    assert not path.exists()


def test_an_account_without_a_role_cannot_take_anything(made, tmp_path):
    user_make("nobody")

    with pytest.raises(CommandError):
        call_command(
            "export_responses",
            made.slug,
            "--user",
            "nobody",
            "--output",
            str(tmp_path / "x.csv"),
        )

    assert DownloadRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("slug", "user", "message"),
    [
        ("no-such-consultation", "analyst", "No consultation"),
        ("facial-recognition", "nobody-at-all", "No active account"),
    ],
)
def test_an_unknown_consultation_or_user_is_an_error(made, analyst, slug, user, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_responses", slug, "--user", user)

    assert DownloadRecord.objects.count() == 0


def test_an_inactive_account_is_refused(made, tmp_path):
    user = user_make("gone", Role.DATA_CONTROLLER)
    user.is_active = False
    user.save()

    with pytest.raises(CommandError, match="No active account"):
        call_command("export_responses", made.slug, "--user", "gone")

    assert DownloadRecord.objects.count() == 0
