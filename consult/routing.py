"""Analysts' reads from a read replica (DATABASE_REPLICA_URL), everything else from the primary.

The public journey writes and reads its own writes, so it stays on the primary. The
analysts' workspace, downloads and API mostly read, and their heavy queries are what a
replica is for. So ``ReplicaMiddleware`` marks a request for the replica when it is a
GET or HEAD to one of those views, and ``ReplicaRouter`` sends that request's reads of
consultation data there. Writes always go to the primary.

A replica lags a little behind. After an analyst's request that changed consultation
data (a theme added, an answer coded, a data request recorded) their session reads from
the primary for REPLICA_LAG_SECONDS, so the page they are sent back to shows their
change. The router sees every write the ORM makes, so it is the change itself that pins
the session, not the method: signing in (a POST that changes no consultation data) does
not, and a GET that records something does.

API tokens are credentials: like accounts and sessions, they are always read from the
primary, so a new token works at once and a deleted one, or one whose account was
deactivated, stops working at once, however far the replica lags.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.db import models
from django.http import HttpRequest, HttpResponseBase

REPLICA = "replica"
# Apps whose tables the replica serves; accounts, sessions and sign-in state stay on the
# primary, which every request needs up to date.
REPLICATED_APPS = {"consultations", "responses", "analysis", "exports"}
# Models of those apps that decide who may do what: never read from the replica.
PRIMARY_ONLY_MODELS = {"exports.apitoken"}
# Views whose GETs read from the replica, by URL namespace.
READING_NAMESPACES = {"analysis", "exports", "api"}
SAFE_METHODS = {"GET", "HEAD"}
PINNED_UNTIL = "consult_primary_until"

_reads_from_replica: ContextVar[bool] = ContextVar("reads_from_replica", default=False)
_changed_replicated_data: ContextVar[bool] = ContextVar("changed_replicated_data", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def _replicated(model: type[models.Model]) -> bool:
    meta = model._meta
    return meta.app_label in REPLICATED_APPS and meta.label_lower not in PRIMARY_ONLY_MODELS


class ReplicaRouter:
    def db_for_read(self, model: type[models.Model], **hints: Any) -> str | None:
        if _reads_from_replica.get() and _replicated(model) and replica_configured():
            return REPLICA
        return None  # the primary

    def db_for_write(self, model: type[models.Model], **hints: Any) -> str | None:
        if _replicated(model):
            _changed_replicated_data.set(True)  # the request's session will be pinned
        return None

    def allow_relation(self, obj1: models.Model, obj2: models.Model, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA  # the replica follows the primary's schema by replication


class ReplicaMiddleware:
    """Chooses, for each request, whether its reads of consultation data may come from
    the replica, and pins the session to the primary after a workspace request that
    changed consultation data. Every request starts afresh, so nothing carries over."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        _reads_from_replica.set(False)
        _changed_replicated_data.set(False)
        response = self.get_response(request)
        if _changed_replicated_data.get() and _workspace(request) and replica_configured():
            request.session[PINNED_UNTIL] = time.time() + settings.REPLICA_LAG_SECONDS
        return response

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        _reads_from_replica.set(
            request.method in SAFE_METHODS
            and replica_configured()
            and _workspace(request)
            and request.session.get(PINNED_UNTIL, 0) <= time.time()  # not pinned
        )


def _request_over(**kwargs: Any) -> None:
    """The choice ends with the request, after a streamed download's last byte (when
    Django sends ``request_finished``), so nothing later in the thread inherits it."""
    _reads_from_replica.set(False)
    _changed_replicated_data.set(False)


request_finished.connect(_request_over, dispatch_uid="consult.routing.request_over")


def _workspace(request: HttpRequest) -> bool:
    match = request.resolver_match
    return match is not None and bool(READING_NAMESPACES & set(match.namespaces))
