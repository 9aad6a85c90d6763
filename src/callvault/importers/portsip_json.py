"""PortSIP CDR JSON → ``CallRecord``: REST records and ``call_cdr`` webhook bodies.

Two inputs (CDR reference §5, §8.2):

- a REST record (``/cdrs``, ``/calllogs``, ``/user/cdrs`` items, list responses or detail
  bodies): one call target, RFC 3339 times, REST enum spellings;
- a ``call_cdr`` webhook body: a whole call with its ``call_targets[]``, Unix-second times as
  strings (``"0"`` = never), webhook spellings, ``ended_reason``/``end_reason``, ``did``/
  ``did_cid``, ``trunk_name``, ``talk_duration``, and ``destiantion`` as the events misspell it.

Every spelling of every enum is accepted (``portsip_spellings``). A call becomes one record per
extension of the account on it (as the correlator writes them), each carrying every target as a
leg, or one company record when no extension took part. Other webhook events (``call_start``,
``cdr_target_*`` …) carry no final CDR: ``records_from`` returns None for them. Files are
streamed item by item by ``portsip_files``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from callvault.domain.calls import CallRecord, CdrFacts, Leg, Party
from callvault.domain.enums import Direction, Disconnector, LegType, Reason, Result, Transport
from callvault.domain.ids import derived_id
from callvault.domain.targets import HAND_ON_WORDS, EndReason, Rerouting, TargetDirection
from callvault.importers import portsip_spellings as sp
from callvault.importers.native_events import ExtensionResolver
from callvault.importers.ringcentral_json import RecordError, parse_time

_MAX_ID = 64
_LEG_TYPE = {
    TargetDirection.INTERNAL: LegType.EXTENSION_TO_EXTENSION,
    TargetDirection.INBOUND: LegType.PSTN_TO_SIP,
    TargetDirection.OUTBOUND: LegType.SIP_TO_PSTN_METERED,
    # An outside caller carried back out: the forwarding leg (``targets.direction_of``).
    TargetDirection.INBOUND_OUTBOUND: LegType.SIP_FORWARDING,
}
_HUNG_UP_BY = {
    EndReason.CALLER_HUNG_UP: Disconnector.CALLER,
    EndReason.CANCELLED: Disconnector.CALLER,
    EndReason.CALLEE_HUNG_UP: Disconnector.CALLEE,
}
_FAILED_RESULT = {486: Result.BUSY, 600: Result.BUSY, 603: Result.REJECTED, 403: Result.REJECTED}
_WRONG_NUMBER = frozenset({404, 484, 604})


class _Obj:
    """Typed access to one JSON object of PortSIP's, with field paths for errors."""

    __slots__ = ("data", "path")

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise RecordError(path or "record", "must be a JSON object")
        self.data: dict[str, Any] = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def first(self, *keys: str) -> tuple[str, Any]:
        """The first of ``keys`` present with a value (PortSIP renames keys by surface)."""
        for key in keys:
            value = self.data.get(key)
            if value is not None:
                return key, value
        return keys[0], None

    def text(self, *keys: str) -> str | None:
        key, value = self.first(*keys)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise RecordError(self.at(key), "must be a string")
        return str(value)

    def integer(self, *keys: str) -> int | None:
        key, value = self.first(*keys)
        if value is None or value == "":
            return None
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) >= 2**62:
            raise RecordError(self.at(key), "must be an integer")
        return value

    def number(self, *keys: str) -> float | None:
        key, value = self.first(*keys)
        if value is None or value == "":
            return None
        try:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
        except (TypeError, ValueError):
            raise RecordError(self.at(key), "must be a number") from None

    def when(self, *keys: str) -> datetime | None:
        """RFC 3339 (REST) or Unix seconds as a string or number (webhooks); ``"0"`` and
        ``""`` mean never."""
        key, value = self.first(*keys)
        if value is None or value == "" or value == 0 or value == "0":
            return None
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 100_000_000_000 else value
            try:
                return datetime.fromtimestamp(seconds, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise RecordError(self.at(key), "is out of range") from None
        if not isinstance(value, str):
            raise RecordError(self.at(key), "must be an RFC 3339 time or Unix seconds")
        return parse_time(value, self.at(key))

    def choice(self, table: dict[str, Any], *keys: str) -> Any:
        key, value = self.first(*keys)
        if value is None:
            return table.get("")
        try:
            return sp.choice(table, str(value))
        except KeyError:
            raise RecordError(self.at(key), f"{value!r} is not a known value") from None


@dataclass(slots=True)
class _Target:
    """One call target, parsed but not yet bound to a record's point of view."""

    source_id: str | None
    direction: TargetDirection
    caller: Party
    callee: Party
    caller_ext: int | None
    callee_ext: int | None
    started: datetime
    ended: datetime
    answered: datetime | None
    service_call: bool
    cdr: CdrFacts

    @property
    def extension_id(self) -> int | None:
        """The extension the target belongs to: the one rung, else the one calling."""
        return self.callee_ext if self.callee_ext is not None else self.caller_ext


def _address(text: str | None) -> tuple[str | None, str | None]:
    """``sip:102@test.io`` → (``102``, ``test.io``); a plain number stays as it is."""
    if not text:
        return None, None
    if text.lower().startswith(("sip:", "sips:")):
        text = text.split(":", 1)[1]
    user, at, host = text.partition("@")
    return user or None, (host.split(";")[0] or None) if at else None


def _party(
    number: str | None, name: str | None, inside: bool, resolve: ExtensionResolver
) -> tuple[Party, int | None]:
    ext = resolve(None, number) if inside and number else None
    party = Party(
        extension_number=number if inside else None,
        phone_number=None if inside else number,
        extension_id=str(ext) if ext is not None else None,
        name=name,
    )
    return party, ext


def _target(
    o: _Obj, call: _Obj | None, resolve: ExtensionResolver, default_dir: TargetDirection | None
) -> _Target:
    """A target from a REST record (``call`` None) or a ``call_targets[]`` entry."""
    top = call or o
    direction = o.choice(sp.DIRECTIONS, "direction") or default_dir
    if direction is None:
        raise RecordError(o.at("direction"), "is required")
    caller, caller_host = _address(o.text("caller") or (call.text("caller") if call else None))
    callee, callee_host = _address(o.text("callee"))
    if caller is None and callee is None:
        raise RecordError(o.at("caller"), "caller or callee is required")
    inside_from = direction in (TargetDirection.INTERNAL, TargetDirection.OUTBOUND)
    inside_to = direction in (TargetDirection.INTERNAL, TargetDirection.INBOUND)
    from_name = o.text("caller_display_name") or top.text("caller_display_name")
    to_name = o.text("callee_display_name") or (
        top.text("callee_display_name") if callee == top.text("callee") else None
    )
    from_party, caller_ext = _party(caller, from_name, inside_from, resolve)
    to_party, callee_ext = _party(callee, to_name, inside_to, resolve)
    started = o.when("started_at", "start_time")
    if started is None:
        raise RecordError(o.at("started_at" if call is None else "start_time"), "is required")
    answered = o.when("answered_at", "answered_time")
    ended = o.when("ended_at", "ended_time") or answered or started
    if ended < started:
        raise RecordError(o.at("ended_at" if call is None else "ended_time"), "is before start")
    end_reason: EndReason | None = o.choice(sp.END_REASONS, "end_reason", "ended_reason")
    rerouted: Rerouting | None = o.choice(sp.REROUTINGS, "reroute_reason")
    call_type = sp.norm(o.text("call_type") or "")
    cdr = CdrFacts(
        ring_time=o.when("rang_at", "ring_time"),
        answer_time=answered,
        end_time=ended,
        disconnected_by=_HUNG_UP_BY.get(end_reason) if end_reason else None,
        reroute_reason=HAND_ON_WORDS.get(end_reason) if end_reason else None,
        sip_call_id=o.text("call_id") or (call.text("call_id") if call else None),
        sip_status_code=o.integer("status_code"),
        trunk=o.text("trunk", "trunk_name") or (top.text("trunk_name") if call else None),
        did=o.text("did_cid", "did") or (top.text("did_cid", "did") if call else None),
        outbound_caller_id=o.text("outbound_caller_id"),
        cost=o.number("cost"),
        billed_account=o.text("billed_account"),
        user_data=o.text("user_data") or (top.text("user_data") if call else None),
        from_domain=o.text("caller_domain") or caller_host or top.text("caller_domain"),
        to_domain=o.text("callee_domain") or callee_host or top.text("callee_domain"),
        destination=o.text("destination", "destiantion"),
        service_number=o.text("service_number"),
        reached_by=rerouted.value if rerouted else None,
    )
    return _Target(
        source_id=o.text("id") if call is None else o.text("cdr_id"),
        direction=direction,
        caller=from_party,
        callee=to_party,
        caller_ext=caller_ext,
        callee_ext=callee_ext,
        started=started,
        ended=ended,
        answered=answered,
        service_call=call_type in sp.SERVICE_CALL_TYPES,
        cdr=cdr,
    )


def _result(targets: list[_Target], outbound: bool) -> Result:
    if any(t.answered for t in targets):
        return Result.CALL_CONNECTED if outbound else Result.ACCEPTED
    code = targets[-1].cdr.sip_status_code or 0
    if code in _FAILED_RESULT:
        return _FAILED_RESULT[code]
    if code in _WRONG_NUMBER:
        return Result.WRONG_NUMBER
    if code >= 400 and code != 487:
        return Result.CALL_FAILED
    return Result.NO_ANSWER if outbound else Result.MISSED


_REASONS = {
    Result.ACCEPTED: Reason.ACCEPTED,
    Result.CALL_CONNECTED: Reason.CONNECTED,
    Result.MISSED: Reason.NO_ANSWER,
    Result.NO_ANSWER: Reason.NOT_ANSWERED,
    Result.BUSY: Reason.LINE_BUSY,
    Result.REJECTED: Reason.CALLS_NOT_ACCEPTED,
    Result.WRONG_NUMBER: Reason.BAD_NUMBER,
    Result.CALL_FAILED: Reason.FAILED_TRY_AGAIN,
}


def _leg(t: _Target, direction: Direction, master: bool) -> Leg:
    outbound = direction is Direction.OUTBOUND
    result = _result([t], outbound)
    leg_type = _LEG_TYPE[t.direction]
    if t.service_call and t.direction is not TargetDirection.INBOUND_OUTBOUND:
        leg_type = LegType.HUNTING
    return Leg(
        leg_type=leg_type,
        master=master,
        direction=direction,
        start_time=t.started,
        duration_ms=(t.ended - t.started) // timedelta(milliseconds=1),
        result=result,
        reason=_REASONS.get(result),
        extension_id=t.extension_id,
        party_id=t.source_id,
        transport=Transport.VOIP if t.direction is TargetDirection.INTERNAL else Transport.PSTN,
        from_party=t.caller,
        to_party=t.callee,
        cdr=t.cdr,
    )


def _owners(targets: list[_Target]) -> list[int | None]:
    owners: list[int | None] = []
    for t in targets:
        for ext in (t.extension_id, t.caller_ext, t.callee_ext):
            if ext is not None and ext not in owners:
                owners.append(ext)
    return owners or [None]


def _records(key: str, session_id: str, call: _Obj, targets: list[_Target]) -> list[CallRecord]:
    """One record per extension on the call (or a company record), each with every target."""
    first = targets[0]
    answered = [t for t in targets if t.answered]
    # The target that held the call at its end: the last one that answered.
    master = answered[-1] if answered else targets[-1]
    start = min(t.started for t in targets)
    end = max(t.ended for t in targets)
    call_reason: EndReason | None = call.choice(sp.END_REASONS, "ended_reason", "end_reason")
    out = []
    for owner in _owners(targets):
        if owner is None:
            outbound = first.direction is TargetDirection.OUTBOUND
        else:
            outbound = first.caller_ext == owner
        direction = Direction.OUTBOUND if outbound else Direction.INBOUND
        mine = [t for t in targets if owner in (t.callee_ext, t.caller_ext)] or targets
        result = _result(mine if not outbound else targets, outbound)
        to_party = first.callee
        if not outbound and owner is not None:
            to_party = next((t.callee for t in mine if t.callee_ext == owner), first.callee)
        external = any(t.direction is not TargetDirection.INTERNAL for t in targets)
        out.append(
            CallRecord(
                id=derived_id("portsip", key, owner if owner is not None else "company"),
                session_id=session_id,
                extension_id=owner,
                direction=direction,
                start_time=start,
                duration_ms=(end - start) // timedelta(milliseconds=1),
                result=result,
                reason=_REASONS.get(result),
                transport=Transport.PSTN if external else Transport.VOIP,
                from_party=first.caller,
                to_party=to_party,
                legs=[_leg(t, direction, t is master) for t in targets],
                cdr=CdrFacts(
                    ring_time=call.when("rang_at", "ring_time") or first.cdr.ring_time,
                    answer_time=answered[0].answered if answered else None,
                    end_time=end,
                    disconnected_by=_HUNG_UP_BY.get(call_reason) if call_reason else None,
                    sip_call_id=call.text("call_id"),
                    sip_status_code=call.integer("status_code"),
                    trunk=call.text("trunk", "trunk_name"),
                    did=call.text("did_cid", "did"),
                    outbound_caller_id=call.text("outbound_caller_id"),
                    user_data=call.text("user_data"),
                    from_domain=call.text("caller_domain"),
                    to_domain=call.text("callee_domain"),
                    service_number=call.text("service_number"),
                ),
            )
        )
    return out


def _serving_numbers(targets: list[_Target]) -> None:
    """Queue and ring-group targets were rung by the service reached just before them: its
    number is the service number (webhooks do not say it; REST records do)."""
    service = None
    for t in targets:
        if not t.service_call:
            service = t.callee.extension_number or t.callee.phone_number
        elif t.cdr.service_number is None:
            t.cdr.service_number = service


def _session(o: _Obj, fallback: str) -> str:
    sid = o.text("session_id")
    if sid is None:
        return fallback
    return sid if len(sid) <= _MAX_ID else derived_id(sid)


def is_call_cdr(data: Any) -> bool:
    """A ``call_cdr`` webhook body (a whole call), rather than one REST record."""
    return isinstance(data, dict) and (
        "call_targets" in data or data.get("event_type") == "call_cdr"
    )


def records_from(data: Any, resolve: ExtensionResolver) -> list[CallRecord] | None:
    """The records of one PortSIP REST record or ``call_cdr`` body; None for a webhook event
    that carries no final CDR. Raises ``RecordError`` naming the first bad field."""
    o = _Obj(data, "")
    event = o.text("event_type")
    if event is not None and event != "call_cdr":
        return None
    if not is_call_cdr(o.data):
        t = _target(o, None, resolve, None)
        key = t.source_id or derived_id(t.cdr.sip_call_id, t.started.isoformat(), o.text("caller"))
        return _records(key, _session(o, key), o, [t])
    raw = o.data.get("call_targets") or []
    if not isinstance(raw, list):
        raise RecordError("call_targets", "must be a list")
    call_dir = o.choice(sp.DIRECTIONS, "direction")
    if not raw:  # a call that reached no target: the call itself is the only target
        targets = [_target(o, None, resolve, call_dir)]
    else:
        targets = [
            _target(_Obj(item, f"call_targets[{n}]"), o, resolve, call_dir)
            for n, item in enumerate(raw)
        ]
    _serving_numbers(targets)
    started = targets[0].started.isoformat()
    key = o.text("session_id", "cdr_id") or derived_id(o.text("call_id"), started)
    if len(key) > _MAX_ID:
        key = derived_id(key)
    return _records(key, _session(o, key), o, targets)
