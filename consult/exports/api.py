"""A read-only HTTP API for scripts: the same downloads, variants and audit as the
workspace, authenticated with ``Authorization: Bearer <token>``.

    import pandas as pd
    pd.read_csv(url, storage_options={"Authorization": "Bearer " + token})
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from consult.analysis.access import WORKSPACE_ROLES, has_role
from consult.consultations.models import Consultation
from consult.exports.models import ApiToken, Channel, Variant
from consult.exports.services import FORMATS, allowed_variants
from consult.exports.views import download_for
from consult.responses.models import ResponseChannel


def api_token_create(*, user: User, name: str, now: datetime) -> str:
    """Make a token for ``user`` and return it; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, key_sha256=_digest(token), created_at=now)
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _error(status: int, message: str) -> JsonResponse:
    response = JsonResponse({"error": message}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="consult"'
    return response


def token_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A valid token of an analyst or data controller, else 401 or 403 (as JSON)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _error(401, "Send an API token: Authorization: Bearer <token>.")
        found = (
            ApiToken.objects.select_related("user")
            .filter(key_sha256=_digest(token.strip()))
            .first()
        )
        if found is None or not found.user.is_active:
            return _error(401, "That API token is not valid.")
        if not has_role(found.user, *WORKSPACE_ROLES):
            return _error(403, "The token's account has no analyst role.")
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return view(request, *args, **kwargs)

    return guarded


@require_GET
@token_required
def consultations(request: HttpRequest) -> JsonResponse:
    variants = allowed_variants(request.user)
    items = [
        {
            "slug": c.slug,
            "title": c.title,
            "opens_at": c.opens_at.isoformat(),
            "closes_at": c.closes_at.isoformat(),
            "download": request.build_absolute_uri(reverse("api:download", args=[c.slug])),
        }
        for c in Consultation.objects.all()
    ]
    return JsonResponse({"consultations": items, "formats": sorted(FORMATS), "variants": variants})


@require_GET
@token_required
def download(request: HttpRequest, slug: str) -> HttpResponseBase:
    consultation = Consultation.objects.filter(slug=slug).first()
    if consultation is None:
        return _error(404, f"No consultation has the slug {slug}.")
    format_key = request.GET.get("format", "csv")
    variant = request.GET.get("variant", Variant.ANONYMISED)
    if format_key not in FORMATS:
        return _error(400, f"format must be one of {', '.join(sorted(FORMATS))}.")
    if variant not in Variant.values:
        return _error(400, f"variant must be one of {', '.join(Variant.values)}.")
    try:
        made = download_for(
            request, consultation, format_key=format_key, variant=variant, channel=Channel.API
        )
    except PermissionDenied as error:
        return _error(403, str(error))
    return made.as_response()


@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    """The OpenAPI 3.1 description of this API."""
    text = {"type": "string"}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return JsonResponse(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "consult downloads",
                "version": "1",
                "description": (
                    "Read-only access to consultation responses for analysts. Every download "
                    "is recorded in the audit log under the token's account."
                ),
            },
            "servers": [{"url": request.build_absolute_uri("/")}],
            "security": [{"bearer": []}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                "schemas": {"Error": {"type": "object", "properties": {"error": text}}},
            },
            "paths": {
                "/api/v1/consultations/": {
                    "get": {
                        "summary": "Consultations, with the formats and variants you may download",
                        "responses": {
                            "200": {"description": "The list", "content": {"application/json": {}}},
                            "401": {"description": "No valid token", "content": error},
                            "403": {"description": "No analyst role", "content": error},
                        },
                    }
                },
                "/api/v1/consultations/{slug}/download/": {
                    "get": {
                        "summary": "Download responses (streamed)",
                        "parameters": [
                            {"name": "slug", "in": "path", "required": True, "schema": text},
                            {
                                "name": "format",
                                "in": "query",
                                "schema": {
                                    "type": "string",
                                    "enum": sorted(FORMATS),
                                    "default": "csv",
                                },
                            },
                            {
                                "name": "variant",
                                "in": "query",
                                "schema": {
                                    "type": "string",
                                    "enum": Variant.values,
                                    "default": "anonymised",
                                },
                            },
                            {
                                "name": "a",
                                "in": "query",
                                "description": "Answer filter key:code, repeatable",
                                "schema": {"type": "array", "items": text},
                                "style": "form",
                                "explode": True,
                            },
                            {
                                "name": "from",
                                "in": "query",
                                "schema": {"type": "string", "format": "date"},
                            },
                            {
                                "name": "to",
                                "in": "query",
                                "schema": {"type": "string", "format": "date"},
                            },
                            {
                                "name": "channel",
                                "in": "query",
                                "description": "How responses were received, repeatable",
                                "schema": {
                                    "type": "array",
                                    "items": {"type": "string", "enum": ResponseChannel.values},
                                },
                                "style": "form",
                                "explode": True,
                            },
                        ],
                        "responses": {
                            "200": {"description": "The file"},
                            "400": {"description": "Unknown format or variant", "content": error},
                            "401": {"description": "No valid token", "content": error},
                            "403": {
                                "description": "Variant not allowed for the role",
                                "content": error,
                            },
                            "404": {"description": "No such consultation", "content": error},
                        },
                    }
                },
            },
        }
    )
