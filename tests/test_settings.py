"""Settings come from the environment; production refuses to start without a secret key."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT_SETTINGS = (
    "import json, consult.settings as s; print(json.dumps({"
    "'debug': s.DEBUG, 'db': s.DATABASES['default'], 'hosts': s.ALLOWED_HOSTS,"
    "'email': s.EMAIL_BACKEND, 'email_host': s.EMAIL_HOST, 'tls': s.EMAIL_USE_TLS,"
    "'cache': s.CACHES['default']['BACKEND'], 'sessions': s.SESSION_ENGINE,"
    "'languages': s.LANGUAGES}))"
)


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603 - fixed command, our own interpreter
        [sys.executable, "-c", PRINT_SETTINGS],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings()
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_development_defaults_use_sqlite_tuned_for_concurrent_writers():
    result = load_settings(DEBUG="true")
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    assert settings["debug"] is True
    database = settings["db"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] > 0
    assert settings["email"] == "django.core.mail.backends.console.EmailBackend"
    assert database["CONN_MAX_AGE"] > 0  # a connection per request cost more than a page
    assert settings["cache"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["sessions"] == "django.contrib.sessions.backends.db"


def test_database_email_and_hosts_come_from_the_environment():
    result = load_settings(
        SECRET_KEY="x" * 50,
        DATABASE_URL="postgres://consult:pw@db.internal:5432/consult",
        ALLOWED_HOSTS="consult.example.org",
        EMAIL_URL="smtp+tls://user:pw@smtp.example.org:587",
    )
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    assert settings["debug"] is False
    assert settings["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings["db"]["HOST"] == "db.internal"
    assert settings["hosts"] == ["consult.example.org"]
    assert settings["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert settings["email_host"] == "smtp.example.org"
    assert settings["tls"] is True


def test_with_redis_rate_limits_and_sessions_are_shared_through_it():
    result = load_settings(DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    settings = json.loads(result.stdout)
    assert settings["cache"] == "django.core.cache.backends.redis.RedisCache"
    assert settings["sessions"] == "django.contrib.sessions.backends.cached_db"


def test_documents_are_kept_outside_the_static_files():
    result = load_settings(DEBUG="true", DOCUMENTS_ROOT=str(ROOT / "staticfiles" / "documents"))
    assert result.returncode != 0
    assert "DOCUMENTS_ROOT must not be inside a folder of static files" in result.stderr
    result = load_settings(DEBUG="true", DOCUMENT_MAX_BYTES="2048")
    assert result.returncode == 0, result.stderr


def test_documents_default_to_a_private_folder_and_ten_megabytes():
    import consult.settings as real_settings

    assert Path(real_settings.DOCUMENTS_ROOT) == ROOT / "private" / "documents"
    assert real_settings.DOCUMENT_MAX_BYTES == 10 * 1024 * 1024
    assert real_settings.FILE_UPLOAD_HANDLERS[0] == (
        "consult.responses.documents.SizeLimitUploadHandler"
    )


def test_the_languages_offered_beside_english_come_from_the_environment():
    default = json.loads(load_settings(DEBUG="true").stdout)["languages"]
    third = load_settings(DEBUG="true", TRANSLATIONS="cy,ga")
    english_only = load_settings(DEBUG="true", TRANSLATIONS="")
    typo = load_settings(DEBUG="true", TRANSLATIONS="cy,welsh")
    no_name = load_settings(DEBUG="true", TRANSLATIONS="zh-cn")  # Django knows it by zh-hans
    english = load_settings(DEBUG="true", TRANSLATIONS="en-gb")

    assert default == [["en", "English"], ["cy", "Cymraeg"]]
    assert json.loads(third.stdout)["languages"] == [
        ["en", "English"],
        ["cy", "Cymraeg"],
        ["ga", "Gaeilge"],
    ]
    assert json.loads(english_only.stdout)["languages"] == [["en", "English"]]
    assert typo.returncode != 0
    assert "TRANSLATIONS: welsh is not a language code" in typo.stderr
    assert "TRANSLATIONS: zh-cn is not a language code" in no_name.stderr
    assert "TRANSLATIONS: en-gb is not a language code" in english.stderr
