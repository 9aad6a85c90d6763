"""The user's CDR delta sync (CDR reference §9): create a token, then ask for the changes
since it. Tokens are opaque; one that cannot be continued gets 403 and the client starts over.

Step 2 is accepted on GET and POST, with and without ``/diff`` (the guide's worked example
leaves ``/diff`` out; the change log shows GET for the contacts twin).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.portsip.auth import authenticate, targets_of
from callvault.api.portsip.errors import PortsipError, PortsipRoute, validate_failed
from callvault.api.portsip.mapping import CHANGE_TYPE, target_body
from callvault.api.portsip.schemas import SYNC_ITEM
from callvault.domain.targets import ChangeKind
from callvault.services.targets import SyncTokenRejected, TargetChange

router = APIRouter(route_class=PortsipRoute)


def _date_from(request: Request) -> datetime | None:
    values = parse_qs(request.url.query, keep_blank_values=True)
    raw = (values.get("date_from") or values.get("$date_from") or [""])[0].strip()
    if not raw:
        return None
    # A "+hh:mm" offset sent unencoded arrives as a space.
    text = raw[:-6] + "+" + raw[-5:] if raw[-6:-5] == " " else raw
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise validate_failed(
            f"date_from must be an RFC 3339 time, not {raw!r}", parameter="date_from"
        ) from None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


@router.post("/api/user/cdrs/sync_tokens")
def create_sync_token(request: Request) -> Response:
    principal = authenticate(request)
    token = targets_of(request).start_sync(
        principal.account_id, principal.extension_id, principal.user_id, _date_from(request)
    )
    return JSONBytes({"token": token}, status_code=201)


def _change(change: TargetChange) -> dict[str, Any]:
    target = change.target.target
    items = [] if change.kind is ChangeKind.DELETED else [target_body(target, SYNC_ITEM)]
    return {"id": target.id, "change_type": CHANGE_TYPE[change.kind], "items": items}


@router.api_route("/api/user/cdrs/sync_tokens/{token}/diff", methods=["GET", "POST"])
@router.api_route("/api/user/cdrs/sync_tokens/{token}", methods=["GET", "POST"])
def sync_diff(request: Request, token: str) -> Response:
    principal = authenticate(request)
    try:
        diff = targets_of(request).diff(
            principal.account_id, principal.extension_id, principal.user_id, token
        )
    except SyncTokenRejected as exc:
        raise PortsipError(403, "FORBIDDEN", exc.message, {"token": token}) from None
    return JSONBytes({"token": diff.token, "items": [_change(c) for c in diff.changes]})
