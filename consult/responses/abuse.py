"""Keeping the public form for people: per-client rate limits, counted under a keyed
hash of the client's address that changes every day (addresses are never stored)."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import is_ratelimited


def client_key(group: str, request: HttpRequest) -> str:
    """A daily-rotating keyed hash of the client's address: enough to count requests,
    useless for finding out who sent them."""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.SECURE_PROXY_SSL_HEADER:  # behind our own proxy, which adds the client
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        address = forwarded.split(",")[-1].strip() or address
    day = timezone.now().date().isoformat()
    secret = f"{settings.SECRET_KEY}:{day}".encode()
    return hmac.new(secret, address.encode(), hashlib.sha256).hexdigest()[:32]


def too_many(request: HttpRequest, *, group: str, per_hour: int) -> bool:
    """Count this request against the client's hourly limit for ``group``."""
    return is_ratelimited(
        request, group=group, key=client_key, rate=f"{per_hour}/h", method="POST", increment=True
    )
