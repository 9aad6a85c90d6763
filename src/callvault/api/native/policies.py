"""Incoming call policies through the native API (account admins only):

- ``/api/v1/incoming-call-policies`` (GET list, POST create) and ``/{id}`` (GET, PATCH,
  DELETE), with ``/{id}/rules`` (GET, POST) and ``/{id}/rules/{ruleId}`` (PATCH, DELETE);
- ``/api/v1/on-call-groups`` (GET, POST) and ``/{id}`` (GET, PATCH, DELETE);
- ``/api/v1/incoming-call-numbers`` (GET) and ``/{extension}`` (PUT, DELETE): the number a
  user is dialled at;
- ``POST /api/v1/incoming-call-sandbox/calls``: a simulated call through the engine.

Errors are the native ``{"error": {"code", "message", "field"}}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from callvault.api.json import JSONBytes
from callvault.api.native.auth import require_admin
from callvault.api.native.errors import NativeError
from callvault.errors import CallvaultError, Conflict, InvalidInput, NotFound
from callvault.services.container import Services
from callvault.services.escalation_sandbox import SandboxOutcome, SandboxScript, parse_outcome
from callvault.storage.codec import from_ms
from callvault.storage.incoming_calls import AttemptRow, CallLogRow
from callvault.storage.policies import GroupRow, PolicyRow, RuleRow, UserNumberRow

router = APIRouter(prefix="/api/v1")

T = TypeVar("T")

_POLICY_IN = {
    "name": "name",
    "description": "description",
    "routingNumbers": "numbers",
    "greetingMessage": "greeting_message",
    "noAnswerMessage": "no_answer_message",
    "noOneAvailableMessage": "no_one_available_message",
    "isEnabled": "is_enabled",
    "repeatPolicyIfNoOneAnswers": "repeat_if_no_one_answers",
    "repeatPolicyIfNoOneAnswersTimes": "repeat_times",
}
_RULE_IN = {
    "name": "name",
    "description": "description",
    "order": "order",
    "escalateAfterSeconds": "escalate_after_seconds",
    "groupId": "group_id",
}
_FIELD_OUT = {v: k for k, v in {**_POLICY_IN, **_RULE_IN}.items()}
_STATUS = {NotFound: 404, InvalidInput: 400, Conflict: 409}


def _field(name: str | None) -> str | None:
    if name is None:
        return None
    head, sep, rest = name.partition("[")
    return _FIELD_OUT.get(head, head) + sep + rest


async def _call(fn: Callable[[], T]) -> T:
    """Run a service call in the thread pool; its errors become native errors."""
    try:
        return await run_in_threadpool(fn)
    except CallvaultError as exc:
        status = next((s for kind, s in _STATUS.items() if isinstance(exc, kind)), 400)
        raise NativeError(status, exc.code, exc.message, _field(exc.field)) from None


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise NativeError(400, "invalid-json", f"body is not valid JSON: {exc}", "body") from None
    if not isinstance(body, dict):
        raise NativeError(400, "invalid-input", "body must be a JSON object", "body")
    return body


def _renamed(body: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    out = {}
    for key, value in body.items():
        if key not in names:
            raise NativeError(400, "invalid-input", f"unknown field {key}", key)
        out[names[key]] = value
    return out


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _iso(ms: int | None) -> str | None:
    return from_ms(ms).isoformat().replace("+00:00", "Z") if ms is not None else None


# -- wire shapes ------------------------------------------------------------------------------


def _policy(p: PolicyRow, rules: list[RuleRow] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "slug": p.slug,
        "routingNumbers": list(p.numbers),
        "greetingMessage": p.greeting_message,
        "noAnswerMessage": p.no_answer_message,
        "noOneAvailableMessage": p.no_one_available_message,
        "isEnabled": p.is_enabled,
        "repeatPolicyIfNoOneAnswers": p.repeat_if_no_one_answers,
        "repeatPolicyIfNoOneAnswersTimes": p.repeat_times,
        "createdAt": _iso(p.created_ms),
        "updatedAt": _iso(p.updated_ms),
    }
    if rules is not None:
        out["rules"] = [_rule(r) for r in rules]
    return out


def _rule(r: RuleRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "policyId": r.policy_id,
        "name": r.name,
        "description": r.description,
        "order": r.order,
        "escalateAfterSeconds": r.escalate_after_seconds,
        "extensionId": str(r.extension_id) if r.extension_id is not None else None,
        "groupId": r.group_id,
    }


def _group(g: GroupRow) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "members": [str(m) for m in g.members]}


def _number(n: UserNumberRow) -> dict[str, Any]:
    return {
        "extensionId": str(n.extension_id),
        "phoneNumber": n.phone_number,
        "isVerified": n.is_verified,
    }


def _log(log: CallLogRow, attempts: list[AttemptRow]) -> dict[str, Any]:
    return {
        "id": log.id,
        "policyId": log.policy_id,
        "provider": log.provider,
        "callerPhoneNumber": log.caller_number,
        "routingPhoneNumber": log.routing_number,
        "status": log.status,
        "statusMessage": log.status_message,
        "startedAt": _iso(log.started_ms),
        "endedAt": _iso(log.ended_ms),
        "callDurationInSeconds": log.duration_s,
        "answeredByExtensionId": str(log.answered_by_extension_id)
        if log.answered_by_extension_id
        else None,
        "callCostInUSDCents": log.cost_cents,
        "repeatCount": log.repeat_count,
        "telephonySessionId": f"icl-{log.id}",
        "attempts": [
            {
                "id": a.id,
                "attempt": a.attempt,
                "ruleId": a.rule_id,
                "extensionId": str(a.extension_id) if a.extension_id is not None else None,
                "phoneNumber": a.user_phone_number,
                "status": a.status,
                "dialStatus": a.status_message,
                "isAnswered": a.is_answered,
                "startedAt": _iso(a.started_ms),
                "endedAt": _iso(a.ended_ms),
                "dialDurationInSeconds": a.dial_duration_s,
            }
            for a in attempts
        ],
    }


# -- extensions by id or number ----------------------------------------------------------------


def _extension(services: Services, account_id: int, ref: object, field: str) -> int:
    """An extension of the account named by id (9+ digits) or short number (1-8 digits)."""
    text = str(ref) if isinstance(ref, int) and not isinstance(ref, bool) else ref
    if not isinstance(text, str) or not text.isdigit():
        raise NativeError(400, "invalid-input", "must be an extension id or number", field)
    if len(text) <= 8:
        ext = services.accounts.extension_by_number(account_id, text)
        if ext is None:
            raise NativeError(404, "not-found", f"extension {text} does not exist", field)
        return ext.id
    return int(text)


def _rule_values(services: Services, account_id: int, body: dict[str, Any]) -> dict[str, Any]:
    target = {k: body.pop(k) for k in ("extensionId", "extensionNumber", "userId") if k in body}
    values = _renamed(body, _RULE_IN)
    for key, ref in target.items():
        values["extension_id"] = None if ref is None else _extension(services, account_id, ref, key)
    return values


# -- policies -----------------------------------------------------------------------------------


@router.get("/incoming-call-policies")
async def list_policies(request: Request) -> Response:
    who = require_admin(request, "read incoming call policies")
    found = await _call(lambda: _services(request).policies.policies(who.account_id))
    return JSONBytes({"records": [_policy(p) for p in found]})


@router.post("/incoming-call-policies")
async def create_policy(request: Request) -> Response:
    who = require_admin(request, "manage incoming call policies")
    values = _renamed(await _json(request), _POLICY_IN)
    svc = _services(request).policies
    made = await _call(lambda: svc.create_policy(who.account_id, **values))
    return JSONBytes(_policy(made, []), status_code=201)


@router.get("/incoming-call-policies/{policy_id}")
async def get_policy(request: Request, policy_id: str) -> Response:
    who = require_admin(request, "read incoming call policies")
    svc = _services(request).policies
    found = await _call(lambda: svc.policy(who.account_id, policy_id))
    rules = await _call(lambda: svc.rules(who.account_id, policy_id))
    return JSONBytes(_policy(found, rules))


@router.patch("/incoming-call-policies/{policy_id}")
async def update_policy(request: Request, policy_id: str) -> Response:
    who = require_admin(request, "manage incoming call policies")
    values = _renamed(await _json(request), _POLICY_IN)
    svc = _services(request).policies
    found = await _call(lambda: svc.update_policy(who.account_id, policy_id, **values))
    rules = await _call(lambda: svc.rules(who.account_id, policy_id))
    return JSONBytes(_policy(found, rules))


@router.delete("/incoming-call-policies/{policy_id}")
async def delete_policy(request: Request, policy_id: str) -> Response:
    who = require_admin(request, "manage incoming call policies")
    svc = _services(request).policies
    await _call(lambda: svc.delete_policy(who.account_id, policy_id))
    return Response(status_code=204)


@router.get("/incoming-call-policies/{policy_id}/rules")
async def list_rules(request: Request, policy_id: str) -> Response:
    who = require_admin(request, "read incoming call policies")
    svc = _services(request).policies
    rules = await _call(lambda: svc.rules(who.account_id, policy_id))
    return JSONBytes({"records": [_rule(r) for r in rules]})


@router.post("/incoming-call-policies/{policy_id}/rules")
async def add_rule(request: Request, policy_id: str) -> Response:
    who = require_admin(request, "manage incoming call policies")
    services = _services(request)
    values = _rule_values(services, who.account_id, await _json(request))
    made = await _call(lambda: services.policies.add_rule(who.account_id, policy_id, **values))
    return JSONBytes(_rule(made), status_code=201)


@router.patch("/incoming-call-policies/{policy_id}/rules/{rule_id}")
async def update_rule(request: Request, policy_id: str, rule_id: str) -> Response:
    who = require_admin(request, "manage incoming call policies")
    services = _services(request)
    values = _rule_values(services, who.account_id, await _json(request))
    svc = services.policies
    found = await _call(lambda: svc.update_rule(who.account_id, policy_id, rule_id, **values))
    return JSONBytes(_rule(found))


@router.delete("/incoming-call-policies/{policy_id}/rules/{rule_id}")
async def delete_rule(request: Request, policy_id: str, rule_id: str) -> Response:
    who = require_admin(request, "manage incoming call policies")
    svc = _services(request).policies
    await _call(lambda: svc.delete_rule(who.account_id, policy_id, rule_id))
    return Response(status_code=204)


# -- on-call groups -----------------------------------------------------------------------------


def _members(services: Services, account_id: int, raw: object) -> list[int]:
    if not isinstance(raw, list):
        raise NativeError(400, "invalid-input", "must be a list of extensions", "members")
    return [_extension(services, account_id, m, f"members[{i}]") for i, m in enumerate(raw)]


@router.get("/on-call-groups")
async def list_groups(request: Request) -> Response:
    who = require_admin(request, "read on-call groups")
    found = await _call(lambda: _services(request).policies.groups(who.account_id))
    return JSONBytes({"records": [_group(g) for g in found]})


@router.post("/on-call-groups")
async def create_group(request: Request) -> Response:
    who = require_admin(request, "manage on-call groups")
    services = _services(request)
    body = await _json(request)
    members = _members(services, who.account_id, body.get("members", []))
    name = body.get("name")
    made = await _call(
        lambda: services.policies.create_group(who.account_id, name, members)  # type: ignore[arg-type]
    )
    return JSONBytes(_group(made), status_code=201)


@router.get("/on-call-groups/{group_id}")
async def get_group(request: Request, group_id: str) -> Response:
    who = require_admin(request, "read on-call groups")
    found = await _call(lambda: _services(request).policies.group(who.account_id, group_id))
    return JSONBytes(_group(found))


@router.patch("/on-call-groups/{group_id}")
async def update_group(request: Request, group_id: str) -> Response:
    who = require_admin(request, "manage on-call groups")
    services = _services(request)
    body = await _json(request)
    members = _members(services, who.account_id, body["members"]) if "members" in body else None
    name = body.get("name")
    found = await _call(
        lambda: services.policies.update_group(who.account_id, group_id, name=name, members=members)
    )
    return JSONBytes(_group(found))


@router.delete("/on-call-groups/{group_id}")
async def delete_group(request: Request, group_id: str) -> Response:
    who = require_admin(request, "manage on-call groups")
    svc = _services(request).policies
    await _call(lambda: svc.delete_group(who.account_id, group_id))
    return Response(status_code=204)


# -- users' incoming-call numbers -----------------------------------------------------------------


@router.get("/incoming-call-numbers")
async def list_numbers(request: Request) -> Response:
    who = require_admin(request, "read incoming-call numbers")
    found = await _call(lambda: _services(request).policies.user_numbers(who.account_id))
    return JSONBytes({"records": [_number(n) for n in found]})


@router.put("/incoming-call-numbers/{extension}")
async def set_number(request: Request, extension: str) -> Response:
    who = require_admin(request, "manage incoming-call numbers")
    services = _services(request)
    ext = _extension(services, who.account_id, extension, "extension")
    body = await _json(request)
    verified = body.get("isVerified", True)
    if not isinstance(verified, bool):
        raise NativeError(400, "invalid-input", "must be true or false", "isVerified")
    phone = body.get("phoneNumber")
    saved = await _call(
        lambda: services.policies.set_user_number(
            who.account_id,
            ext,
            phone,  # type: ignore[arg-type]
            verified=verified,
        )
    )
    return JSONBytes(_number(saved))


@router.delete("/incoming-call-numbers/{extension}")
async def delete_number(request: Request, extension: str) -> Response:
    who = require_admin(request, "manage incoming-call numbers")
    services = _services(request)
    ext = _extension(services, who.account_id, extension, "extension")
    await _call(lambda: services.policies.remove_user_number(who.account_id, ext))
    return Response(status_code=204)


# -- sandbox ------------------------------------------------------------------------------------


def _outcomes(raw: object) -> dict[str, list[SandboxOutcome]]:
    if not isinstance(raw, dict):
        raise NativeError(400, "invalid-input", "must be an object of user: outcome", "outcomes")
    out: dict[str, list[SandboxOutcome]] = {}
    for key, value in raw.items():
        items = value if isinstance(value, list) else [value]
        parsed = []
        for item in items:
            if not isinstance(item, str):
                raise NativeError(400, "invalid-input", "must be text", f"outcomes.{key}")
            try:
                parsed.append(parse_outcome(item, f"outcomes.{key}"))
            except InvalidInput as exc:
                raise NativeError(400, exc.code, exc.message, exc.field) from None
        out[str(key)] = parsed
    return out


def _seconds(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise NativeError(400, "invalid-input", "must be a number of seconds", key)
    return float(value)


@router.post("/incoming-call-sandbox/calls")
async def sandbox_call(request: Request) -> Response:
    """Simulate a call to one of the account's routing numbers; nothing is dialled."""
    who = require_admin(request, "place sandbox calls")
    services = _services(request)
    body = await _json(request)
    to = body.get("to")
    if not isinstance(to, str):
        raise NativeError(400, "invalid-input", "is required: a routing number", "to")
    policy = await _call(lambda: services.policies.policy_for_number(to))
    if policy is None or policy.account_id != who.account_id:
        raise NativeError(404, "not-found", f"no policy of this account routes {to}", "to")
    default = body.get("default", "no-answer")
    try:
        default_outcome = parse_outcome(str(default), "default")
    except InvalidInput as exc:
        raise NativeError(400, exc.code, exc.message, exc.field) from None
    script = SandboxScript(
        outcomes=_outcomes(body.get("outcomes", {})),
        default=default_outcome,
        caller_hangs_up_after=_seconds(body, "callerHangsUpAfter"),
        greeting_seconds=_seconds(body, "greetingSeconds") or 4.0,
    )
    caller = body.get("from")
    result = await _call(
        lambda: services.sandbox.call(
            to=to, caller=caller if isinstance(caller, str) else None, script=script
        )
    )
    return JSONBytes(_log(result.log, result.attempts), status_code=201)
