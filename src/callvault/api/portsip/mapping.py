"""Call targets → PortSIP's wire bodies: REST enum spellings, RFC 3339 UTC times, ``""`` for
an unknown text or time (as PortSIP's own sample does), and the three ``{id}`` shapes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from callvault.api.portsip.schemas import (
    DIRECTION,
    END_REASON,
    OMIT_WHEN_EMPTY,
    REROUTE_REASON,
)
from callvault.domain.targets import CallTarget, ChangeKind


def portsip_time(value: datetime | None) -> str:
    """``2024-08-20T06:00:59.457Z``; ``""`` for an unknown time."""
    if value is None:
        return ""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # isoformat ends "+00:00" for UTC; PortSIP writes "Z".
    return value.isoformat(timespec="milliseconds")[:-6] + "Z"


def _all_fields(t: CallTarget) -> dict[str, Any]:
    return {
        "id": t.id,
        "session_id": t.session_id,
        "caller": t.caller,
        "caller_domain": t.caller_domain,
        "caller_display_name": t.caller_name,
        "callee": t.callee,
        "callee_domain": t.callee_domain,
        "callee_display_name": t.callee_name,
        "started_at": portsip_time(t.started),
        "rang_at": portsip_time(t.rang),
        "answered_at": portsip_time(t.answered),
        "ended_at": portsip_time(t.ended),
        "call_id": t.call_id,
        "direction": DIRECTION[t.direction],
        "end_reason": END_REASON[t.end_reason] if t.end_reason else "",
        "reroute_reason": REROUTE_REASON[t.rerouted_by] if t.rerouted_by else "",
        "status_code": t.status_code,
        "destination": t.destination,
        "outbound_caller_id": t.outbound_caller_id,
        "did_cid": t.did,
        "trunk": t.trunk,
        "duration": t.talk_seconds,
        "cost": t.cost,
        "billed_account": t.billed_account,
        "service_number": t.service_number,
        "user_data": t.user_data,
    }


def target_body(t: CallTarget, shape: Sequence[str]) -> dict[str, Any]:
    """The fields of ``shape`` (a tuple from ``schemas``) for one target."""
    full = _all_fields(t)
    return {k: full[k] for k in shape if full[k] != "" or k not in OMIT_WHEN_EMPTY}


CHANGE_TYPE = {
    ChangeKind.CREATED: "CREATED",
    ChangeKind.UPDATED: "UPDATED",
    ChangeKind.DELETED: "DELETED",
}
