"""Who calls the OneUptime face: the ``ApiKey`` header (any case) names a key of one account,
which is the project; ``ProjectID`` is overridden by the key's account, as OneUptime does
(reference §3.2). Permissions are the key's OneUptime permission names (§3.9)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from starlette.requests import Request

from callvault.api.oneuptime.errors import OneUptimeError, bad_data, not_authorized
from callvault.api.oneuptime.models import Model, permission_list
from callvault.services.container import Services

INVALID_KEY = "Invalid API Key"


@dataclass(slots=True, frozen=True)
class Caller:
    account_id: int
    permissions: frozenset[str]


def authenticate(request: Request, model: Model, doing: str = "read") -> Caller:
    """The key's account and permissions; 401 without a key, 400 for a bad or unknown one."""
    values = request.headers.getlist("apikey")
    if not values:
        raise OneUptimeError(
            401,
            f"Authenticated user or a valid API key is needed to {doing} record of {model.title}.",
        )
    key = values[0].strip()
    if len(values) > 1 or not _is_uuid(key):
        raise bad_data(INVALID_KEY)
    services: Services = request.app.state.services
    row = services.api_keys.check(key)
    if row is None:
        raise bad_data(INVALID_KEY)
    return Caller(row.account_id, frozenset(row.permissions))


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def require(caller: Caller, model: Model, action: str) -> None:
    """422 unless the caller holds one of the model's permissions for ``action``
    (read, create, update, delete); an action with no permissions is never allowed."""
    allowed: tuple[str, ...] = getattr(model, action)
    if not allowed:
        raise not_authorized(f"{action} on {model.title} is not allowed.")
    if caller.permissions.isdisjoint(allowed):
        raise not_authorized(
            f"You do not have permissions to {action} {model.title}. "
            f"You need one of these permissions: {permission_list(allowed)}"
        )
