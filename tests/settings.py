"""Test settings: the real settings with fast hashing, local memory cache and in-memory email."""

import os

os.environ.setdefault("SECRET_KEY", "tests-only-not-secret")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from consult.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# The suite does not build the front-end assets (`make static` does), so their folders
# may be missing: nothing is served from them in tests.
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "staticfiles.W004"]  # noqa: F405
WHITENOISE_AUTOREFRESH = True

# The test client and the live server speak plain HTTP; tests that check HTTPS behaviour
# ask for a secure request instead.
SECURE_SSL_REDIRECT = False

# Lockout is tested on its own (tests/analysis/test_lockout.py); elsewhere test clients
# sign in without a request object, which django-axes would refuse.
AXES_ENABLED = False

# Two-factor sign-in is tested on its own (tests/analysis/test_two_factor.py); elsewhere
# tests sign analysts in directly.
OTP_REQUIRED = False

# Journeys in tests are quicker than any person; the check is tested on its own
# (tests/responses/test_abuse.py).
FASTEST_HUMAN_SECONDS = 0
# Every test client shares one address; the limits are tested on their own.
RESPONSE_STARTS_PER_HOUR = 1_000_000
RESPONSE_SUBMISSIONS_PER_HOUR = 1_000_000

# Tasks run at once, inside the request or command that enqueues them; the database
# backend and its worker are tested on their own (tests/analysis/test_theme_suggestions.py).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
