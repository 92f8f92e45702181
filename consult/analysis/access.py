"""Who may open the workspace: signed-in members of the analyst or data controller groups;
and who may key in responses received by post, email or phone: data entry staff and data
controllers."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

from consult.analysis.models import Role

WORKSPACE_ROLES = [Role.ANALYST, Role.DATA_CONTROLLER]
ENTRY_ROLES = [Role.DATA_ENTRY, Role.DATA_CONTROLLER]


def has_role(user: Any, *roles: str) -> bool:
    return user.is_authenticated and not user_roles(user).isdisjoint(roles)


def user_roles(user: Any) -> frozenset[str]:
    """The user's groups, read once per user object (one request's): the access checks
    and the page's header both ask."""
    roles: frozenset[str] | None = getattr(user, "_consult_roles", None)
    if roles is None:
        roles = frozenset(user.groups.values_list("name", flat=True))
        user._consult_roles = roles
    return roles


def analyst_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Anonymous people go to sign in, and so do people who signed in without the second
    factor when it is required; signed-in people without a workspace role get 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if settings.OTP_REQUIRED and not request.user.is_verified():  # type: ignore[union-attr]
            # Signed in with a password alone (a session from before two-factor sign-in
            # was required): sign in again, with the code.
            return redirect_to_login(request.get_full_path())
        if not has_role(request.user, *WORKSPACE_ROLES):
            raise PermissionDenied("You need the analyst or data controller role.")
        return view(request, *args, **kwargs)

    return login_required(guarded)


def data_controller_required(
    view: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """As ``analyst_required``, and the user must be a data controller: the pages that
    show personal details or the audit logs."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not has_role(request.user, Role.DATA_CONTROLLER):
            raise PermissionDenied("Only data controllers can open this page.")
        return view(request, *args, **kwargs)

    return analyst_required(guarded)


def data_entry_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """As ``analyst_required``, for the pages that key in a response on a respondent's
    behalf: data entry staff and data controllers (they see the personal details typed)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if settings.OTP_REQUIRED and not request.user.is_verified():  # type: ignore[union-attr]
            return redirect_to_login(request.get_full_path())
        if not has_role(request.user, *ENTRY_ROLES):
            raise PermissionDenied("You need the data entry or data controller role.")
        return view(request, *args, **kwargs)

    return login_required(guarded)


def no_client_address(request: HttpRequest) -> None:
    """What django-axes records as the client's address: nothing (see settings)."""
    return None
