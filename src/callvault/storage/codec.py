"""Compact JSON encoding of call records for the ``summary`` and ``legs`` blobs.

Keys are the domain's own short names (never a vendor's wire names); absent values are left
out so the narrow list row stays small. Times are epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

import orjson

from callvault.domain.calls import (
    Billing,
    CallBase,
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
)

_PARTY_KEYS = (
    ("phone_number", "pn"),
    ("extension_number", "en"),
    ("extension_id", "eid"),
    ("name", "nm"),
    ("location", "loc"),
    ("device_id", "dev"),
    ("dialer_phone_number", "dlr"),
    ("dialed_phone_number", "dld"),
)


E = TypeVar("E", bound=StrEnum)


def _members(enum: type[E]) -> dict[str, E]:
    """Stored value → member, a plain dict lookup (``Enum(value)`` is several times slower and
    decoding runs for every leg of every listed record)."""
    return {m.value: m for m in enum}


_CALLTYPE = _members(CallType)
_DIRECTION = _members(Direction)
_ACTION = _members(Action)
_RESULT = _members(Result)
_REASON = _members(Reason)
_TRANSPORT = _members(Transport)
_DELEGATIONTYPE = _members(DelegationType)
_INTERNALTYPE = _members(InternalType)
_LEGTYPE = _members(LegType)
_RECORDINGTYPE = _members(RecordingType)


def to_ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


# The encoders below run for every leg of every ingested record. They spell their fields out
# as plain ``if``s rather than looping over the key tables (``getattr`` and a filtered dict
# cost about twice as much), and hand enum members to orjson as they are (it writes a member
# as its value; ``.value`` is a Python-level property). Keys must be written in the tables'
# order: the blobs' bytes are covered by the stored content hash, and
# tests/test_encoding_stability.py holds them to what earlier versions wrote.


def _party_out(p: Party) -> dict[str, str]:
    out: dict[str, str] = {}
    if p.phone_number is not None:
        out["pn"] = p.phone_number
    if p.extension_number is not None:
        out["en"] = p.extension_number
    if p.extension_id is not None:
        out["eid"] = p.extension_id
    if p.name is not None:
        out["nm"] = p.name
    if p.location is not None:
        out["loc"] = p.location
    if p.device_id is not None:
        out["dev"] = p.device_id
    if p.dialer_phone_number is not None:
        out["dlr"] = p.dialer_phone_number
    if p.dialed_phone_number is not None:
        out["dld"] = p.dialed_phone_number
    return out


_PARTY_ATTRS = {short: attr for attr, short in _PARTY_KEYS}


def _party_in(d: dict[str, str]) -> Party:
    return Party(**{_PARTY_ATTRS[k]: v for k, v in d.items() if k in _PARTY_ATTRS})


_CDR_TIMES = ("ring_time", "answer_time", "end_time")
_CDR_PLAIN = (
    "reroute_reason",
    "sip_call_id",
    "sip_status_code",
    "trunk",
    "did",
    "outbound_caller_id",
    "cost",
    "billed_account",
    "user_data",
    "from_domain",
    "to_domain",
    "destination",
    "service_number",
    "reached_by",
)


def _cdr_out(c: CdrFacts) -> dict[str, Any]:
    """``_CDR_TIMES``, then ``_CDR_PLAIN``, then who hung up (see the note above)."""
    out: dict[str, Any] = {}
    if c.ring_time is not None:
        out["ring_time"] = to_ms(c.ring_time)
    if c.answer_time is not None:
        out["answer_time"] = to_ms(c.answer_time)
    if c.end_time is not None:
        out["end_time"] = to_ms(c.end_time)
    if c.reroute_reason is not None:
        out["reroute_reason"] = c.reroute_reason
    if c.sip_call_id is not None:
        out["sip_call_id"] = c.sip_call_id
    if c.sip_status_code is not None:
        out["sip_status_code"] = c.sip_status_code
    if c.trunk is not None:
        out["trunk"] = c.trunk
    if c.did is not None:
        out["did"] = c.did
    if c.outbound_caller_id is not None:
        out["outbound_caller_id"] = c.outbound_caller_id
    if c.cost is not None:
        out["cost"] = c.cost
    if c.billed_account is not None:
        out["billed_account"] = c.billed_account
    if c.user_data is not None:
        out["user_data"] = c.user_data
    if c.from_domain is not None:
        out["from_domain"] = c.from_domain
    if c.to_domain is not None:
        out["to_domain"] = c.to_domain
    if c.destination is not None:
        out["destination"] = c.destination
    if c.service_number is not None:
        out["service_number"] = c.service_number
    if c.reached_by is not None:
        out["reached_by"] = c.reached_by
    if c.disconnected_by is not None:
        out["disconnected_by"] = c.disconnected_by
    return out


_CDR_CONVERT: dict[str, Callable[[Any], Any] | None] = {
    **{name: from_ms for name in _CDR_TIMES},
    **{name: None for name in _CDR_PLAIN},
    "disconnected_by": _members(Disconnector).__getitem__,
}


def _cdr_in(d: dict[str, Any]) -> CdrFacts:
    kw: dict[str, Any] = {}
    for key, value in d.items():
        if key in _CDR_CONVERT:
            convert = _CDR_CONVERT[key]
            kw[key] = value if convert is None else convert(value)
    return CdrFacts(**kw)


def _base_out(r: CallBase) -> dict[str, Any]:
    # Enum members as they are, optional fields in this order (see the note above).
    out: dict[str, Any] = {
        "t": r.type,
        "dir": r.direction,
        "act": r.action,
        "st": to_ms(r.start_time),
        "ms": r.duration_ms,
    }
    if r.result is not None:
        out["res"] = r.result
    if r.reason is not None:
        out["rsn"] = r.reason
    if r.reason_description is not None:
        out["rd"] = r.reason_description
    if r.extension_id is not None:
        out["ext"] = r.extension_id
    if r.telephony_session_id is not None:
        out["tsid"] = r.telephony_session_id
    if r.sip_uuid_info is not None:
        out["sip"] = r.sip_uuid_info
    if r.transfer_target_session_id is not None:
        out["xtgt"] = r.transfer_target_session_id
    if r.transferee_session_id is not None:
        out["xee"] = r.transferee_session_id
    if r.party_id is not None:
        out["pid"] = r.party_id
    if r.transport is not None:
        out["tr"] = r.transport
    if r.delegation_type is not None:
        out["dt"] = r.delegation_type
    if r.internal_type is not None:
        out["it"] = r.internal_type
    if r.finished is not None:
        out["fin"] = r.finished
    if r.from_party is not None:
        out["from"] = _party_out(r.from_party)
    if r.to_party is not None:
        out["to"] = _party_out(r.to_party)
    if r.message is not None:
        out["msg"] = [r.message.id, r.message.type, r.message.uri]
    if r.delegate is not None:
        out["dlg"] = [r.delegate.id, r.delegate.name]
    if r.recording is not None:
        rec = r.recording
        out["rec"] = [rec.id, rec.type.value, rec.content_uri, *([1] if rec.held else [])]
    if r.short_recording:
        out["srec"] = True
    if r.billing is not None:
        out["bill"] = [r.billing.cost_included, r.billing.cost_purchased]
    if r.metadata_categories:
        out["mc"] = r.metadata_categories
    cdr = _cdr_out(r.cdr)
    if cdr:
        out["cdr"] = cdr
    return out


def _recording_in(v: list[Any]) -> Recording:
    rid, rtype, curi, *held = v
    return Recording(rid, _RECORDINGTYPE[rtype], curi, bool(held))


# Stored key → (attribute, how to turn the stored value back), for records and legs alike
# (only records have ``id``/``sid``, only legs ``lt``/``m``). Decoding walks the keys a blob
# has, typically a dozen of the thirty: listing a Detailed page decodes a few hundred of them.
_FIELDS: dict[str, tuple[str, Callable[[Any], Any] | None]] = {
    "t": ("type", _CALLTYPE.__getitem__),
    "dir": ("direction", _DIRECTION.__getitem__),
    "act": ("action", _ACTION.__getitem__),
    "st": ("start_time", from_ms),
    "ms": ("duration_ms", None),
    "res": ("result", _RESULT.__getitem__),
    "rsn": ("reason", _REASON.__getitem__),
    "rd": ("reason_description", None),
    "ext": ("extension_id", None),
    "tsid": ("telephony_session_id", None),
    "sip": ("sip_uuid_info", None),
    "xtgt": ("transfer_target_session_id", None),
    "xee": ("transferee_session_id", None),
    "pid": ("party_id", None),
    "tr": ("transport", _TRANSPORT.__getitem__),
    "dt": ("delegation_type", _DELEGATIONTYPE.__getitem__),
    "it": ("internal_type", _INTERNALTYPE.__getitem__),
    "fin": ("finished", None),
    "from": ("from_party", _party_in),
    "to": ("to_party", _party_in),
    "msg": ("message", lambda v: Message(*v)),
    "dlg": ("delegate", lambda v: Delegate(*v)),
    "rec": ("recording", _recording_in),
    "srec": ("short_recording", None),
    "bill": ("billing", lambda v: Billing(*v)),
    "mc": ("metadata_categories", None),
    "cdr": ("cdr", _cdr_in),
    "id": ("id", None),
    "sid": ("session_id", None),
    "lt": ("leg_type", _LEGTYPE.__getitem__),
    "m": ("master", None),
}


def _fields_in(d: dict[str, Any]) -> dict[str, Any]:
    """A stored record or leg as the keyword arguments of its dataclass."""
    kw: dict[str, Any] = {}
    for key, value in d.items():
        entry = _FIELDS.get(key)
        if entry is not None:
            attr, convert = entry
            kw[attr] = value if convert is None else convert(value)
    return kw


def encode_summary(record: CallRecord) -> bytes:
    """The record without its legs: everything a Simple-view list item needs."""
    out = _base_out(record)
    out["id"] = record.id
    out["sid"] = record.session_id
    return orjson.dumps(out)


def encode_legs(legs: list[Leg]) -> bytes:
    encoded = []
    for leg in legs:
        d = _base_out(leg)
        d["lt"] = leg.leg_type
        if leg.master:
            d["m"] = True
        encoded.append(d)
    return orjson.dumps(encoded)


def decode_record(
    summary: bytes,
    *,
    legs: bytes | None,
    deleted: bool,
    modified_ms: int,
) -> CallRecord:
    record = CallRecord(
        deleted=deleted,
        last_modified_time=from_ms(modified_ms),
        **_fields_in(orjson.loads(summary)),
    )
    if legs is not None:
        record.legs = [Leg(**_fields_in(ld)) for ld in orjson.loads(legs)]
    return record
