"""``POST /api/v1/webhooks/ringcentral/{accountId}``: RingCentral Telephony Session webhooks.

Point a RingCentral subscription (event filter ``/restapi/v1.0/account/~/telephony/sessions``,
``deliveryMode.verificationToken`` = the account's token) here and the call log fills in real
time. The subscription handshake (a POST with a ``Validation-Token`` header and no body) is
answered by echoing the header. Every notification must carry the verification token in
``Verification-Token`` (or, as newer RingCentral documents spell it, ``Validation-Token``).
Notifications are journaled before the 200 goes back; RingCentral extension ids become
callvault extensions on first sight.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.ringcentral.errors import RcError, not_found
from callvault.errors import NotFound
from callvault.importers.ringcentral_events import parse_notification
from callvault.importers.ringcentral_json import RecordError
from callvault.services.container import Services

router = APIRouter()

SOURCE = "ringcentral"


@router.post("/api/v1/webhooks/ringcentral/{account_id}")
async def ringcentral_webhook(request: Request, account_id: str) -> Response:
    services: Services = request.app.state.services
    if not account_id.isdigit():
        raise not_found("accountId", account_id)
    acc = int(account_id)
    try:
        services.accounts.account(acc)
    except NotFound:
        raise not_found("accountId", account_id) from None
    body = await request.body()
    validation = request.headers.get("validation-token")
    if validation is not None and not body.strip():
        # Subscription handshake: echo the token, answer 200 with a tiny response.
        return Response(
            status_code=200,
            headers={"Validation-Token": validation, "Content-Type": "application/json"},
        )
    token = request.headers.get("verification-token") or validation
    if not services.accounts.check_webhook_token(acc, SOURCE, token):
        raise RcError(401, "SUB-406", "Verification token is missing or does not match")
    try:
        envelope = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RcError(400, "CMN-103", f"JSON can't be parsed: {exc}") from None

    def link(rc_id: str, number: str | None, name: str | None) -> int:
        return services.accounts.link_extension(acc, SOURCE, rc_id, number=number, name=name)

    try:
        events = await run_in_threadpool(parse_notification, envelope, link)
    except RecordError as exc:
        raise RcError(
            400,
            "CMN-101",
            f"Parameter [{exc.field}] value is invalid: {exc.reason}",
            parameterName=exc.field,
        ) from None
    report = await run_in_threadpool(
        services.live.accept, acc, events, source=SOURCE, raws=[body] * len(events)
    )
    return JSONBytes(
        {
            "accepted": report.accepted,
            "duplicates": report.duplicates,
            "callsFinished": report.calls_finished,
        }
    )
