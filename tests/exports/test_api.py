"""The read-only API: tokens, roles, audited downloads that pandas reads, the schema."""

import hashlib
import io
from io import StringIO

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from consult.exports.api import api_token_create
from consult.exports.models import ApiToken, Channel, DownloadRecord
from tests.exports.conftest import user_make

pytestmark = pytest.mark.django_db


def download_url(made) -> str:
    return f"/api/v1/consultations/{made.slug}/download/"


def auth(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_token_downloads_csv_that_pandas_reads_and_the_download_is_recorded(made, analyst):
    token = api_token_create(user=analyst, name="R scripts", now=timezone.now())
    reply = Client().get(
        download_url(made), {"format": "csv", "variant": "anonymised"}, **auth(token)
    )
    assert reply.status_code == 200
    body = b"".join(reply.streaming_content)
    frame = pd.read_csv(io.BytesIO(body), dtype=str, keep_default_na=False)
    assert list(frame["reference"]) == [sent.reference for sent in made.sent]
    record = DownloadRecord.objects.get()
    assert record.user == analyst
    assert record.channel == Channel.API
    assert record.sha256 == hashlib.sha256(body).hexdigest()
    assert record.row_count == len(made.sent)


def test_only_the_hash_of_a_token_is_stored(analyst):
    token = api_token_create(user=analyst, name="x", now=timezone.now())
    stored = ApiToken.objects.get()
    assert stored.key_sha256 == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.key_sha256


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer not-a-token", "Basic abc"])
def test_no_valid_token_gets_401(made, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    reply = Client().get(download_url(made), **extra)
    assert reply.status_code == 401
    assert reply["WWW-Authenticate"].startswith("Bearer")
    assert "error" in reply.json()
    assert not DownloadRecord.objects.exists()


def test_an_account_without_a_role_gets_403(made):
    user = user_make("nobody")
    token = api_token_create(user=user, name="x", now=timezone.now())
    assert Client().get("/api/v1/consultations/", **auth(token)).status_code == 403


def test_the_role_decides_the_variants(made, analyst, controller):
    analyst_token = api_token_create(user=analyst, name="x", now=timezone.now())
    controller_token = api_token_create(user=controller, name="y", now=timezone.now())
    refused = Client().get(download_url(made), {"variant": "full"}, **auth(analyst_token))
    assert refused.status_code == 403
    assert not DownloadRecord.objects.exists()
    allowed = Client().get(download_url(made), {"variant": "full"}, **auth(controller_token))
    assert allowed.status_code == 200
    assert b"email" in b"".join(allowed.streaming_content).split(b"\r\n")[0]
    listing = Client().get("/api/v1/consultations/", **auth(analyst_token)).json()
    assert listing["variants"] == ["publishable", "anonymised"]
    assert [c["slug"] for c in listing["consultations"]] == [made.slug]


@pytest.mark.parametrize(
    ("query", "status"), [({"format": "pdf"}, 400), ({"variant": "everything"}, 400)]
)
def test_bad_parameters_are_explained(made, analyst, query, status):
    token = api_token_create(user=analyst, name="x", now=timezone.now())
    reply = Client().get(download_url(made), query, **auth(token))
    assert reply.status_code == status
    assert "must be one of" in reply.json()["error"]


def test_filters_apply_as_in_the_workspace(made, analyst):
    token = api_token_create(user=analyst, name="x", now=timezone.now())
    reply = Client().get(download_url(made), {"a": "respondent_type:organisation"}, **auth(token))
    frame = pd.read_csv(io.BytesIO(b"".join(reply.streaming_content)), dtype=str)
    expected = [s.reference for s in made.sent if s.codes("respondent_type") == ("organisation",)]
    assert list(frame["reference"]) == expected


def test_the_openapi_schema_describes_the_api():
    schema = Client().get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/consultations/{slug}/download/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_the_token_command_prints_a_working_token(made, analyst):
    out = StringIO()
    call_command("create_api_token", analyst.username, "--name", "pandas", stdout=out)
    token = out.getvalue().strip()
    assert Client().get("/api/v1/consultations/", **auth(token)).status_code == 200
    with pytest.raises(CommandError):
        call_command("create_api_token", "nobody-at-all", "--name", "x")
