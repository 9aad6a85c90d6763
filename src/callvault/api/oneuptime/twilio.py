"""Twilio's voice webhooks for incoming call policies, at OneUptime's paths (reference §2):

- ``POST /notification/incoming-call/voice``: the routing number's voice URL (a call arrives);
- ``POST /notification/incoming-call/dial-status/{logId}/{itemId}``: the ``<Dial action>``
  (an attempt is over: decide the next step);
- ``POST /notification/incoming-call/attempt-status/{logId}/{itemId}``: the ``<Number>``
  status callback (the attempt rings, is answered);
- ``POST /notification/incoming-call/status``: the number's status callback (the call ended;
  a caller who hangs up mid-escalation is seen here or in the Dial action's ``CallStatus``).

The same routes answer under ``/incoming-call/…``. Every request must carry a valid
``X-Twilio-Signature`` made with the account's Twilio auth token (403 otherwise). Answers
are TwiML; failures are OneUptime's plain-text ones.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.oneuptime import twiml
from callvault.api.oneuptime.twilio_signature import is_valid
from callvault.domain.escalation import DialStatus, parse_dial_status
from callvault.errors import InvalidInput, NotFound
from callvault.services.container import Services
from callvault.services.escalation import DialInstruction, Instruction, Provider
from callvault.services.policies import normalise_phone

router = APIRouter()

PREFIXES = ("/notification/incoming-call", "/incoming-call")
# A parent call in one of these states has ended: the caller is gone.
_CALL_OVER = frozenset({"completed", "canceled", "busy", "failed", "no-answer"})


def _text(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain")


def _xml(body: str) -> Response:
    return Response(body, media_type="text/xml")


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _candidate_urls(request: Request) -> list[str]:
    """The URLs Twilio may have signed: the public base URL with this path and query, and the
    request's own URL as a proxy forwarded it."""
    query = f"?{request.url.query}" if request.url.query else ""
    public = _services(request).settings.base_url.rstrip("/") + request.url.path + query
    url = request.url
    proto = request.headers.get("x-forwarded-proto")
    host = request.headers.get("x-forwarded-host")
    if proto:
        url = url.replace(scheme=proto.split(",")[0].strip())
    if host:
        url = url.replace(netloc=host.split(",")[0].strip())
    return list(dict.fromkeys([public, str(url)]))


async def _signed_form(request: Request, account_id: int) -> tuple[dict[str, str], Response | None]:
    """The form parameters, and a refusal when the account has no Twilio credentials (400)
    or the signature does not match (403)."""
    pairs = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    form = dict(pairs)
    config = await run_in_threadpool(_services(request).policies.provider, account_id, "twilio")
    if config is None:
        return form, _text(400, "Twilio configuration not found")
    signature = request.headers.get("x-twilio-signature")
    if not is_valid(config.auth_token, _candidate_urls(request), pairs, signature):
        return form, _text(403, "Forbidden")
    return form, None


def _caller(raw: str | None) -> str | None:
    """The caller's number, or None when withheld (``anonymous``, ``Restricted`` …)."""
    try:
        return normalise_phone(raw or "", "From")
    except InvalidInput:
        return None


def _answer(request: Request, step: Instruction) -> Response:
    if not isinstance(step, DialInstruction):
        return _xml(twiml.hangup(step))
    base = _services(request).settings.base_url.rstrip("/") + PREFIXES[0]
    action = f"{base}/dial-status/{step.log_id}/{step.item_id}"
    progress = f"{base}/attempt-status/{step.log_id}/{step.item_id}"
    return _xml(twiml.dial(step, action, progress))


async def voice(request: Request) -> Response:
    """A call to a routing number: log it, greet the caller, dial the first reachable user."""
    services = _services(request)
    pairs = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    to = pairs.get("To") or pairs.get("Called")
    if not to:
        return _text(400, "Bad Request")
    policy = await run_in_threadpool(services.policies.policy_for_number, to)
    if policy is None:
        return _text(404, "Policy not found")
    form, refusal = await _signed_form(request, policy.account_id)
    if refusal is not None:
        return refusal
    call_sid = form.get("CallSid")
    if not call_sid:
        return _text(400, "CallSid is required")
    _log, step = await run_in_threadpool(
        lambda: services.escalation.incoming_call(
            provider=Provider.TWILIO,
            routing_number=to,
            caller_number=_caller(form.get("From")),
            provider_call_id=call_sid,
        )
    )
    return _answer(request, step)


async def dial_status(request: Request, log_id: str, item_id: str) -> Response:
    """The Dial ``action``: an attempt ended; answer the next step."""
    services = _services(request)
    try:
        log = await run_in_threadpool(services.escalation.log, log_id)
    except NotFound:
        return _text(404, "Call log not found")
    form, refusal = await _signed_form(request, log.account_id)
    if refusal is not None:
        return refusal
    dial = parse_dial_status(form.get("DialCallStatus"))
    duration = _seconds(form.get("DialCallDuration"))
    caller_gone = form.get("CallStatus", "").lower() in _CALL_OVER
    try:
        step = await run_in_threadpool(
            lambda: services.escalation.attempt_ended(
                log_id,
                item_id,
                dial_status=dial,
                dial_duration=duration if dial is DialStatus.COMPLETED else None,
                caller_gone=caller_gone,
            )
        )
    except NotFound:
        return _xml(twiml.hangup())
    return _answer(request, step)


async def attempt_status(request: Request, log_id: str, item_id: str) -> Response:
    """The dialled number's progress: ringing, answered (the end comes through the action)."""
    services = _services(request)
    try:
        log = await run_in_threadpool(services.escalation.log, log_id)
    except NotFound:
        return _text(404, "Call log not found")
    form, refusal = await _signed_form(request, log.account_id)
    if refusal is not None:
        return refusal
    status = form.get("CallStatus", "").lower()
    leg = form.get("CallSid")
    esc = services.escalation
    try:
        if status == "ringing":
            await run_in_threadpool(
                lambda: esc.attempt_ringing(log_id, item_id, provider_leg_id=leg)
            )
        elif status in ("in-progress", "answered"):
            await run_in_threadpool(
                lambda: esc.attempt_answered(log_id, item_id, provider_leg_id=leg)
            )
    except NotFound:
        return _text(404, "Call log item not found")
    return _xml(twiml.empty())


async def call_status(request: Request) -> Response:
    """The routing number's status callback: when the call is over, settle its log."""
    services = _services(request)
    pairs = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
    sid = pairs.get("CallSid", "")
    log = await run_in_threadpool(services.escalation.log_for_provider_call, Provider.TWILIO, sid)
    if log is None:
        return _text(404, "Call log not found")
    form, refusal = await _signed_form(request, log.account_id)
    if refusal is not None:
        return refusal
    if form.get("CallStatus", "").lower() in _CALL_OVER:
        duration = _seconds(form.get("CallDuration"))
        await run_in_threadpool(
            lambda: services.escalation.call_ended(log.id, call_duration=duration)
        )
    return _xml(twiml.empty())


def _seconds(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if text.isdigit() else None


for _prefix in PREFIXES:
    router.add_api_route(f"{_prefix}/voice", voice, methods=["POST"])
    router.add_api_route(
        f"{_prefix}/dial-status/{{log_id}}/{{item_id}}", dial_status, methods=["POST"]
    )
    router.add_api_route(
        f"{_prefix}/attempt-status/{{log_id}}/{{item_id}}", attempt_status, methods=["POST"]
    )
    router.add_api_route(f"{_prefix}/status", call_status, methods=["POST"])
