"""PortSIP's wire vocabulary for CDRs: field names, the REST enum spellings we emit, and which
fields each response shape carries (CDR reference §3, §5.2, §7).

Everything PortSIP-spelled lives here and in ``mapping.py``; the rest of callvault speaks
``CallTarget`` and ``TargetField``.
"""

from __future__ import annotations

from callvault.domain.target_query import TargetField
from callvault.domain.targets import EndReason, Rerouting, TargetDirection

# Wire field → target field, for filters and orderby (every scalar field of §5).
FIELDS: dict[str, TargetField] = {
    "id": TargetField.ID,
    "session_id": TargetField.SESSION_ID,
    "caller": TargetField.CALLER,
    "caller_domain": TargetField.CALLER_DOMAIN,
    "caller_display_name": TargetField.CALLER_NAME,
    "callee": TargetField.CALLEE,
    "callee_domain": TargetField.CALLEE_DOMAIN,
    "callee_display_name": TargetField.CALLEE_NAME,
    "started_at": TargetField.STARTED,
    "rang_at": TargetField.RANG,
    "answered_at": TargetField.ANSWERED,
    "ended_at": TargetField.ENDED,
    "call_id": TargetField.CALL_ID,
    "direction": TargetField.DIRECTION,
    "end_reason": TargetField.END_REASON,
    "reroute_reason": TargetField.REROUTED_BY,
    "status_code": TargetField.STATUS_CODE,
    "destination": TargetField.DESTINATION,
    "outbound_caller_id": TargetField.OUTBOUND_CALLER_ID,
    "did_cid": TargetField.DID,
    "trunk": TargetField.TRUNK,
    "duration": TargetField.TALK_SECONDS,
    "cost": TargetField.COST,
    "billed_account": TargetField.BILLED_ACCOUNT,
    "service_number": TargetField.SERVICE_NUMBER,
    "user_data": TargetField.USER_DATA,
}

DIRECTION: dict[TargetDirection, str] = {
    TargetDirection.INTERNAL: "EXTENSION_CALL",
    TargetDirection.INBOUND: "INBOUND_CALL",
    TargetDirection.OUTBOUND: "OUTBOUND_CALL",
    TargetDirection.INBOUND_OUTBOUND: "INBOUND_OUTBOUND_CALL",
}

END_REASON: dict[EndReason, str] = {
    EndReason.CALLER_HUNG_UP: "CALLER_DISCONNECTED",
    EndReason.CALLEE_HUNG_UP: "CALLEE_DISCONNECTED",
    EndReason.BLIND_TRANSFER: "BLIND_TRANSFER_COMPLETED",
    EndReason.ATTENDED_TRANSFER: "CONSULT_TRANSFER_COMPLETED",
    EndReason.REPLACED: "REPLACED",
    EndReason.REFERRED: "REFERRED",
    EndReason.REDIRECTED: "REDIRECTED",
    EndReason.CANCELLED: "CANCELLED",
}

# TRANSFER and OVERFLOW are in the OpenAPI file; the other 13 came with v22.3.0 (§7.3).
REROUTE_REASON: dict[Rerouting, str] = {r: r.value.upper() for r in Rerouting}

# REST spelling → stored value, per choice field ("" is "none").
CHOICES: dict[TargetField, dict[str, str]] = {
    TargetField.DIRECTION: {v: k.value for k, v in DIRECTION.items()},
    TargetField.END_REASON: {"": "", **{v: k.value for k, v in END_REASON.items()}},
    TargetField.REROUTED_BY: {"": "", **{v: k.value for k, v in REROUTE_REASON.items()}},
}

# Fields left out of a body when they have no value: their published schema has no room for
# "" (an enum without it, or minLength 1).
OMIT_WHEN_EMPTY = frozenset({"end_reason", "reroute_reason", "outbound_caller_id"})

_COMMON = (
    "caller",
    "caller_domain",
    "caller_display_name",
    "callee",
    "callee_domain",
    "callee_display_name",
    "started_at",
    "rang_at",
    "answered_at",
    "ended_at",
    "call_id",
    "direction",
    "end_reason",
    "reroute_reason",
    "status_code",
    "destination",
    "outbound_caller_id",
    "did_cid",
    "trunk",
)
_SERVICE = ("service_number", "user_data")
_BILLING = ("cost", "billed_account")

# The fields of each response shape (§5.2).
CDR_SUMMARY = ("id", *_COMMON, "duration", *_SERVICE)
CALLLOG_SUMMARY = ("id", "session_id", *_COMMON, "duration", *_SERVICE)
CDR_DETAIL = (*_COMMON, "duration", *_BILLING, *_SERVICE)
CALLLOG_DETAIL = ("id", "session_id", *_COMMON, "duration", *_BILLING, *_SERVICE)
USER_CDR_DETAIL = (*_COMMON, *_BILLING, *_SERVICE)
SYNC_ITEM = (
    "caller",
    "callee",
    "started_at",
    "answered_at",
    "ended_at",
    "outbound_caller_id",
    "did_cid",
    "trunk",
    "status_code",
)
