"""RingOut (call-log reference §10): create, poll and cancel a two-legged call.

``POST …/extension/{extensionId}/ring-out`` (Heavy), ``GET …/ring-out/{ringoutId}`` (Light),
``DELETE …/ring-out/{ringoutId}`` (Heavy), each also under the legacy ``/ringout`` spelling,
which the ``uri`` echoes. App permission ``RingOut``; a user rings out from their own extension,
an admin from any of the account's. Request errors use the legacy codes: TEL-108 / TEL-109 for
an empty or invalid ``from`` / ``to`` number, CMN-101 for other bad fields.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.ringcentral.auth import (
    Caller,
    resolve_account,
    resolve_extension,
)
from callvault.api.ringcentral.deps import caller_for, services_of, uris_for
from callvault.api.ringcentral.errors import RcError, invalid_param, not_found
from callvault.api.ringcentral.mapping import API, Uris
from callvault.errors import Conflict, NotFound
from callvault.services.ringout import RingOut, RingOutRequest
from callvault.services.telephony import TelephonyUnavailable

router = APIRouter()

SPELLINGS = ("ring-out", "ringout")
# E.164: a country code and up to 15 digits. Clients also send it without "+" (the guide's own
# example does) and with spaces, dots, dashes or parentheses; those are dropped.
_E164 = re.compile(r"\+?[1-9][0-9]{6,14}")
_PUNCTUATION = re.compile(r"[\s().\-]")


def _scope(request: Request, caller: Caller, account_id: str, extension_id: str) -> tuple[int, int]:
    acc = resolve_account(caller, account_id)
    return acc, resolve_extension(services_of(request), caller, extension_id)


# -- the request body ---------------------------------------------------------------------------


def _number(value: Any) -> str | None:
    """An E.164 number as ``+digits``, or None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    cleaned = _PUNCTUATION.sub("", value)
    if not _E164.fullmatch(cleaned):
        return None
    return cleaned if cleaned.startswith("+") else f"+{cleaned}"


def _bad_number(name: str, code: str, value: Any) -> RcError:
    message = f"Parameter [{name}] phone number is empty or invalid"
    if isinstance(value, str) and value:
        return RcError(400, code, message, parameterName=name, parameterValue=value)
    return RcError(400, code, message, parameterName=name)


def _party_number(data: dict[str, Any], name: str, code: str) -> str:
    party = data.get(name)
    raw = party.get("phoneNumber") if isinstance(party, dict) else None
    number = _number(raw)
    if number is None:
        if name == "from" and isinstance(party, dict) and party.get("forwardingNumberId"):
            # Forwarding numbers are not kept by callvault: none can be found.
            raise not_found("forwardingNumberId", str(party["forwardingNumberId"]))
        raise _bad_number(name, code, raw)
    return number


def _optional_object(data: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_param(name, None, "must be an object")
    return value


def parse_request(raw: bytes) -> RingOutRequest:
    """A ``MakeRingOutRequest`` body → the service's request; raises ``RcError``."""
    try:
        data = orjson.loads(raw) if raw.strip() else None
    except orjson.JSONDecodeError:
        raise RcError(400, "CMN-103", "JSON can't be parsed") from None
    if not isinstance(data, dict):
        raise invalid_param("body", None, "a JSON object with from and to is required")
    from_number = _party_number(data, "from", "TEL-108")
    to_number = _party_number(data, "to", "TEL-109")
    caller_id = None
    if (caller := _optional_object(data, "callerId")) is not None and (
        raw_id := caller.get("phoneNumber")
    ) not in (None, ""):
        caller_id = _number(raw_id)
        if caller_id is None:
            raise invalid_param("callerId.phoneNumber", str(raw_id))
    prompt = data.get("playPrompt", False)
    if prompt is None:
        prompt = False
    if not isinstance(prompt, bool):
        raise invalid_param("playPrompt", str(prompt), "must be true or false")
    country_id = None
    if (country := _optional_object(data, "country")) is not None:
        value = country.get("id")
        if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
            raise invalid_param("country.id", None, "must be a string")
        country_id = str(value) if value is not None else None
    return RingOutRequest(from_number, to_number, caller_id, prompt, country_id)


# -- responses ------------------------------------------------------------------------------------


def _wire(ringout: RingOut, uris: Uris, spelling: str) -> dict[str, Any]:
    """``GetRingOutStatusResponse``; ``uri`` keeps the spelling the client used."""
    row, status = ringout.row, ringout.status
    return {
        "id": row.id,
        "uri": f"{uris.extension(row.extension_id)}/{spelling}/{row.id}",
        "status": {
            "callStatus": status.call.value,
            "callerStatus": status.caller.value,
            "calleeStatus": status.callee.value,
        },
    }


def _mapped(exc: NotFound | Conflict | TelephonyUnavailable, ringout_id: str | None) -> RcError:
    if isinstance(exc, NotFound):
        if exc.field == "extensionId":
            return not_found("extensionId")
        return not_found("ringOutId", ringout_id)
    if isinstance(exc, Conflict):
        return invalid_param("ringOutId", ringout_id, exc.message)
    return RcError(503, "CMN-201", "Service Temporary Unavailable")


# -- routes ---------------------------------------------------------------------------------------


async def create_ringout(request: Request, account_id: str, extension_id: str) -> Response:
    caller = caller_for(request, "RingOut", "heavy")
    acc, ext = _scope(request, caller, account_id, extension_id)
    order = parse_request(await request.body())
    service = services_of(request).ringouts
    try:
        ringout = await run_in_threadpool(service.create, acc, ext, order)
    except (NotFound, Conflict, TelephonyUnavailable) as exc:
        raise _mapped(exc, None) from None
    spelling = _spelling(request)
    return JSONBytes(_wire(ringout, uris_for(request, acc), spelling), headers=caller.headers)


def ringout_status(
    request: Request, account_id: str, extension_id: str, ringout_id: str
) -> Response:
    caller = caller_for(request, "RingOut", "light")
    acc, ext = _scope(request, caller, account_id, extension_id)
    try:
        ringout = services_of(request).ringouts.status(acc, ext, ringout_id)
    except NotFound as exc:
        raise _mapped(exc, ringout_id) from None
    body = _wire(ringout, uris_for(request, acc), _spelling(request))
    return JSONBytes(body, headers=caller.headers)


def cancel_ringout(
    request: Request, account_id: str, extension_id: str, ringout_id: str
) -> Response:
    caller = caller_for(request, "RingOut", "heavy")
    acc, ext = _scope(request, caller, account_id, extension_id)
    try:
        services_of(request).ringouts.cancel(acc, ext, ringout_id)
    except (NotFound, Conflict, TelephonyUnavailable) as exc:
        raise _mapped(exc, ringout_id) from None
    return Response(status_code=204, headers=caller.headers)


def _spelling(request: Request) -> str:
    return "ringout" if "/ringout" in request.url.path else "ring-out"


for _spelled in SPELLINGS:
    _base = f"{API}/account/{{account_id}}/extension/{{extension_id}}/{_spelled}"
    router.add_api_route(_base, create_ringout, methods=["POST"])
    router.add_api_route(f"{_base}/{{ringout_id}}", ringout_status, methods=["GET"])
    router.add_api_route(f"{_base}/{{ringout_id}}", cancel_ringout, methods=["DELETE"])
