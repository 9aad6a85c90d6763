"""RingCentral call-log JSON → ``CallRecord``.

Accepts a record exactly as RingCentral's Call Log API returns it (Simple or Detailed view), in
any historical enum spelling, plus an optional callvault ``cdr`` object (record or leg level)
carrying PBX CDR facts. Errors name the field path (``legs[2].result``) and the reason.
Unknown fields are ignored, so records from newer RingCentral versions still load.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from typing import IO, Any, TypeVar

import ijson

from callvault.domain.calls import (
    Billing,
    CallRecord,
    CdrFacts,
    Delegate,
    Leg,
    Message,
    Party,
    Recording,
)
from callvault.domain.enums import (
    Action,
    CallType,
    DelegationType,
    Direction,
    Disconnector,
    InternalType,
    LegType,
    Reason,
    RecordingType,
    Result,
    Transport,
    parse_enum,
)
from callvault.domain.ids import derived_id

E = TypeVar("E", bound=StrEnum)

_INT64 = 2**63
# What the call store can hold on every backend (column widths; PostgreSQL refuses NUL).
_MAX_ID = 64
_MAX_TELEPHONY_SESSION_ID = 128
_MAX_NUMBER_DIGITS = 32
_MAX_CATEGORIES = 498
# Record ids appear in URL paths, where a comma separates the ids of a batch.
_PATH_UNSAFE = frozenset(",/?#%\\")
_DIGIT = re.compile(r"\d")


class RecordError(ValueError):
    """A record field that cannot be accepted: ``field`` is its path, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class _Reader:
    """Typed access to one JSON object, building field paths for error messages."""

    __slots__ = ("data", "path")

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise RecordError(path or "record", "must be a JSON object")
        self.data = data
        self.path = path

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise RecordError(self.at(key), "is required")
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordError(self.at(key), "must be a string")
        return str(value)

    def identifier(self, key: str, max_len: int, *, in_path: bool = False) -> str | None:
        """An id-like string: 1..``max_len`` printable characters without spaces."""
        value = self.text(key)
        if value is None:
            return None
        if not value or len(value) > max_len:
            raise RecordError(self.at(key), f"must have 1 to {max_len} characters")
        # isprintable() is False for every whitespace character except the ASCII space.
        if not value.isprintable() or " " in value:
            raise RecordError(self.at(key), "must not contain spaces or control characters")
        if in_path and not _PATH_UNSAFE.isdisjoint(value):
            raise RecordError(self.at(key), "must not contain any of , / ? # % \\")
        return value

    def integer(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is None:
            return None
        whole_float = isinstance(value, float) and value.is_integer()
        if whole_float or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise RecordError(self.at(key), "must be an integer")
        if not -_INT64 <= value < _INT64:
            raise RecordError(self.at(key), "is out of range")
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RecordError(self.at(key), "must be a number")
        return float(value)

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise RecordError(self.at(key), "must be true or false")

    def choice(self, key: str, enum: type[E], *, required: bool = False) -> E | None:
        text = self.text(key, required=required)
        if text is None:
            return None
        try:
            return parse_enum(enum, text)
        except ValueError as exc:
            raise RecordError(self.at(key), str(exc)) from None

    def when(self, key: str, *, required: bool = False) -> datetime | None:
        text = self.text(key, required=required)
        if text is None:
            return None
        return parse_time(text, self.at(key))

    def obj(self, key: str) -> _Reader | None:
        value = self.data.get(key)
        return None if value is None else _Reader(value, self.at(key))


def parse_time(text: str, field: str) -> datetime:
    """ISO-8601 with a zone (``Z`` or ``±hh:mm``) → aware UTC datetime."""
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        raise RecordError(field, f"{text!r} is not an ISO-8601 date-time") from None
    if value.tzinfo is None:
        raise RecordError(field, f"{text!r} has no timezone (add Z or an offset)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise RecordError(field, f"{text!r} is out of range") from None


def _party(r: _Reader | None) -> Party | None:
    if r is None:
        return None
    device = r.obj("device")
    phone_number = r.text("phoneNumber")
    if phone_number is not None and len(_DIGIT.findall(phone_number)) > _MAX_NUMBER_DIGITS:
        raise RecordError(r.at("phoneNumber"), f"has more than {_MAX_NUMBER_DIGITS} digits")
    return Party(
        phone_number=phone_number,
        extension_number=r.text("extensionNumber"),
        extension_id=r.text("extensionId"),
        name=r.text("name"),
        location=r.text("location"),
        device_id=device.text("id", required=True) if device else None,
        dialer_phone_number=r.text("dialerPhoneNumber"),
        dialed_phone_number=r.text("dialedPhoneNumber"),
    )


def _cdr(r: _Reader | None) -> CdrFacts:
    if r is None:
        return CdrFacts()
    return CdrFacts(
        ring_time=r.when("ringTime"),
        answer_time=r.when("answerTime"),
        end_time=r.when("endTime"),
        disconnected_by=r.choice("disconnectedBy", Disconnector),
        reroute_reason=r.text("rerouteReason"),
        sip_call_id=r.text("sipCallId"),
        sip_status_code=r.integer("sipStatusCode"),
        trunk=r.text("trunk"),
        did=r.text("did"),
        outbound_caller_id=r.text("outboundCallerId"),
        cost=r.number("cost"),
        billed_account=r.text("billedAccount"),
        user_data=r.text("userData"),
    )


def _base(r: _Reader) -> dict[str, Any]:
    start = r.when("startTime", required=True)
    duration_ms = r.integer("durationMs")
    if duration_ms is None:
        seconds = r.integer("duration")
        duration_ms = seconds * 1000 if seconds is not None else 0
    if duration_ms < 0:
        raise RecordError(r.at("durationMs"), "must not be negative")
    ext = r.obj("extension")
    ext_id = None
    if ext is not None:
        ext_id = ext.integer("id")
        if ext_id is None:
            raise RecordError(ext.at("id"), "is required")
    message = r.obj("message")
    delegate = r.obj("delegate")
    recording = r.obj("recording")
    billing = r.obj("billing")
    target = r.obj("transferTarget")
    transferee = r.obj("transferee")
    categories = r.data.get("metadataCategories") or []
    if not isinstance(categories, list) or not all(isinstance(c, str) for c in categories):
        raise RecordError(r.at("metadataCategories"), "must be a list of strings")
    if not all(c and c.isprintable() and "," not in c for c in categories):
        raise RecordError(r.at("metadataCategories"), "must be names without commas")
    if len(",".join(categories)) > _MAX_CATEGORIES:
        raise RecordError(r.at("metadataCategories"), "are too long")
    return {
        "type": r.choice("type", CallType, required=True),
        "direction": r.choice("direction", Direction, required=True),
        "action": r.choice("action", Action, required=True),
        "start_time": start,
        "duration_ms": duration_ms,
        "result": r.choice("result", Result),
        "reason": r.choice("reason", Reason),
        "reason_description": r.text("reasonDescription"),
        "extension_id": ext_id,
        "telephony_session_id": r.identifier("telephonySessionId", _MAX_TELEPHONY_SESSION_ID),
        "sip_uuid_info": r.text("sipUuidInfo"),
        "transfer_target_session_id": target.text("telephonySessionId") if target else None,
        "transferee_session_id": transferee.text("telephonySessionId") if transferee else None,
        "party_id": r.text("partyId"),
        "transport": r.choice("transport", Transport),
        "from_party": _party(r.obj("from")),
        "to_party": _party(r.obj("to")),
        "message": Message(
            message.text("id", required=True) or "",
            message.text("type", required=True) or "",
            message.text("uri"),
        )
        if message
        else None,
        "delegate": Delegate(delegate.text("id", required=True) or "", delegate.text("name"))
        if delegate
        else None,
        "delegation_type": r.choice("delegationType", DelegationType),
        "recording": Recording(
            recording.text("id", required=True) or "",
            recording.choice("type", RecordingType) or RecordingType.AUTOMATIC,
            recording.text("contentUri"),
        )
        if recording
        else None,
        "short_recording": bool(r.flag("shortRecording")),
        "billing": Billing(
            billing.number("costIncluded") or 0.0, billing.number("costPurchased") or 0.0
        )
        if billing
        else None,
        "internal_type": r.choice("internalType", InternalType),
        "metadata_categories": list(categories),
        "finished": r.flag("finished"),
        "cdr": _cdr(r.obj("cdr")),
    }


def parse_record(data: Any) -> CallRecord:
    """One RingCentral call-log record (a decoded JSON object) → ``CallRecord``.

    Raises ``RecordError`` naming the first bad field.
    """
    r = _Reader(data, "")
    base = _base(r)
    legs_raw = r.data.get("legs") or []
    if not isinstance(legs_raw, list):
        raise RecordError("legs", "must be a list")
    legs = []
    for n, raw in enumerate(legs_raw):
        lr = _Reader(raw, f"legs[{n}]")
        legs.append(
            Leg(
                leg_type=lr.choice("legType", LegType) or LegType.UNKNOWN,
                master=bool(lr.flag("master")),
                **_base(lr),
            )
        )
    session_id = r.identifier("sessionId", _MAX_ID) or base["telephony_session_id"]
    record_id = r.identifier("id", _MAX_ID, in_path=True)
    if record_id is None:
        record_id = derived_id(
            session_id, base["extension_id"], base["start_time"].isoformat(), base["direction"]
        )
    if session_id is None:
        session_id = record_id
    elif len(session_id) > _MAX_ID:  # a long telephonySessionId standing in for sessionId
        session_id = derived_id(session_id)
    return CallRecord(
        id=record_id,
        session_id=session_id,
        legs=legs,
        deleted=bool(r.flag("deleted")),
        **base,
    )


def iter_file_records(stream: IO[bytes]) -> Iterator[Any]:
    """Stream the records of a RingCentral JSON file in constant memory.

    Accepts a list response (``{"records": [...], ...}``), a bare array of records, or NDJSON
    (one record per line).
    """
    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    if not head:
        return
    rest = _Prepend(head, stream)
    if head == b"[":
        yield from ijson.items(rest, "item", use_float=True)
        return
    # An object: either a list response or the first line of NDJSON.
    first_line = rest.readline()
    if first_line.rstrip().endswith(b"}") and _is_ndjson_record(first_line):
        import orjson

        yield orjson.loads(first_line)
        for line in stream:
            if line.strip():
                yield orjson.loads(line)
        return
    yield from ijson.items(_Prepend(first_line, stream), "records.item", use_float=True)


def _is_ndjson_record(line: bytes) -> bool:
    import orjson

    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    return isinstance(value, dict) and "records" not in value


class _Prepend:
    """A byte stream with some already-read bytes put back in front."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self.head = head
        self.stream = stream

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size < 0:
                data, self.head = self.head + self.stream.read(), b""
                return data
            data, self.head = self.head[:size], self.head[size:]
            if len(data) < size:
                data += self.stream.read(size - len(data))
            return data
        return self.stream.read(size)

    def readline(self) -> bytes:
        if b"\n" in self.head:
            line, _, self.head = self.head.partition(b"\n")
            return line + b"\n"
        data, self.head = self.head, b""
        return data + self.stream.readline()
