"""Every spelling PortSIP has used for its CDR enums (REST, REST sample, webhook tables, webhook
samples; CDR reference §7) → callvault's target vocabulary.

Spellings are matched case-insensitively, ignoring ``_``, ``-`` and spaces, so
``CALLER_DISCONNECTED``, ``caller_disconnected`` and ``CallerDisconnected`` meet.
"""

from __future__ import annotations

from typing import TypeVar

from callvault.domain.targets import EndReason, Rerouting, TargetDirection

T = TypeVar("T")


def norm(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


DIRECTIONS: dict[str, TargetDirection] = {
    # REST; call_start / cdr_target_* / call_targets[]; call_cdr top level
    "extensioncall": TargetDirection.INTERNAL,
    "internal": TargetDirection.INTERNAL,
    "ext": TargetDirection.INTERNAL,
    "inboundcall": TargetDirection.INBOUND,
    "inbound": TargetDirection.INBOUND,
    "in": TargetDirection.INBOUND,
    "inboundoutboundcall": TargetDirection.INBOUND_OUTBOUND,
    "inboundoutbound": TargetDirection.INBOUND_OUTBOUND,
    "in2out": TargetDirection.INBOUND_OUTBOUND,
    "outboundcall": TargetDirection.OUTBOUND,
    "outbound": TargetDirection.OUTBOUND,
    "out": TargetDirection.OUTBOUND,
}

# ``None`` means "no end reason" (webhooks send "None" for it).
END_REASONS: dict[str, EndReason | None] = {
    "": None,
    "none": None,
    "callerdisconnected": EndReason.CALLER_HUNG_UP,
    "callerdisconnect": EndReason.CALLER_HUNG_UP,  # REST sample, admin list
    "calleedisconnected": EndReason.CALLEE_HUNG_UP,
    "calleedisconnect": EndReason.CALLEE_HUNG_UP,
    "blindtransfercompleted": EndReason.BLIND_TRANSFER,
    "blindtransfercomplete": EndReason.BLIND_TRANSFER,  # webhooks
    "consulttransfercompleted": EndReason.ATTENDED_TRANSFER,
    "consulttransfercomplete": EndReason.ATTENDED_TRANSFER,
    "attendedtransfercompleted": EndReason.ATTENDED_TRANSFER,
    "attendedtransfercomplete": EndReason.ATTENDED_TRANSFER,  # webhooks
    "replaced": EndReason.REPLACED,
    "referred": EndReason.REFERRED,
    "redirected": EndReason.REDIRECTED,
    "cancelled": EndReason.CANCELLED,
    "canceled": EndReason.CANCELLED,
}

REROUTINGS: dict[str, Rerouting | None] = {
    "": None,
    "none": None,
    **{norm(r.value): r for r in Rerouting},
}

# ``call_status`` (call_cdr top level) and ``status`` (call_targets[]).
ANSWERED_STATUS = frozenset({"answered"})
FAILED_STATUS = frozenset({"fail", "failed"})

# ``call_type`` of a call target: the services a call passed through.
SERVICE_CALL_TYPES = frozenset({"queuecall", "ringgroupcall", "queuecallbackcall"})
CALL_TYPES = frozenset(
    {"normalcall", "queuecall", "ringgroupcall", "callbackcall", "queuecallbackcall", "none"}
)


def choice(table: dict[str, T], text: str) -> T:
    """The entry of ``table`` spelled by ``text``; ``KeyError`` when it names none."""
    return table[norm(text)]
