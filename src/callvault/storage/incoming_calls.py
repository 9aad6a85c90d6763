"""Incoming call logs (one per inbound call to a routing number) and their dial attempts:
what the escalation engine writes and reads back while a call goes on."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from callvault.storage.schema import (
    incoming_call_log_hours,
    incoming_call_log_items,
    incoming_call_logs,
)

HOUR_MS = 3_600_000

_L = incoming_call_logs.c
_I = incoming_call_log_items.c


@dataclass(slots=True)
class CallLogRow:
    id: str
    account_id: int
    policy_id: str
    provider: str
    caller_number: str | None
    routing_number: str | None
    provider_call_id: str | None
    status: str
    status_message: str | None
    duration_s: int
    cost_cents: int
    incoming_cost_cents: int
    outgoing_cost_cents: int
    started_ms: int
    ended_ms: int | None
    answered_by_extension_id: int | None
    current_rule_order: int
    repeat_count: int
    created_ms: int
    updated_ms: int


@dataclass(slots=True)
class AttemptRow:
    id: str
    account_id: int
    log_id: str
    attempt: int
    rule_id: str | None
    extension_id: int | None
    user_phone_number: str | None
    status: str
    status_message: str | None
    dial_duration_s: int
    cost_cents: int
    started_ms: int | None
    answered_ms: int | None
    ended_ms: int | None
    is_answered: bool
    provider_leg_id: str | None
    created_ms: int
    updated_ms: int


_LOG_FIELDS = tuple(f.name for f in fields(CallLogRow))
_ITEM_FIELDS = tuple(f.name for f in fields(AttemptRow))


def _log(r: Any) -> CallLogRow:
    return CallLogRow(**{name: getattr(r, name) for name in _LOG_FIELDS})


def _item(r: Any) -> AttemptRow:
    values = {name: getattr(r, name) for name in _ITEM_FIELDS}
    values["is_answered"] = bool(values["is_answered"])
    return AttemptRow(**values)


def insert_log(conn: Connection, row: CallLogRow) -> None:
    """Store a new log and count it in its hour (``incoming_call_log_hours``)."""
    conn.execute(incoming_call_logs.insert().values(**{n: getattr(row, n) for n in _LOG_FIELDS}))
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    hours = incoming_call_log_hours
    conn.execute(
        insert(hours)
        .values(account_id=row.account_id, hour=row.started_ms // HOUR_MS, logs=1)
        .on_conflict_do_update(
            index_elements=["account_id", "hour"], set_={"logs": hours.c.logs + 1}
        )
    )


def update_log(conn: Connection, log_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(incoming_call_logs).where(_L.id == log_id).values(**values))


def get_log(conn: Connection, log_id: str, *, lock: bool = False) -> CallLogRow | None:
    """A log by id; ``lock`` holds its row until the transaction ends (PostgreSQL), so two
    webhooks of one call are applied one after the other."""
    stmt = select(incoming_call_logs).where(_L.id == log_id)
    if lock:
        stmt = stmt.with_for_update()
    r = conn.execute(stmt).first()
    return _log(r) if r else None


def log_by_provider_call(conn: Connection, provider: str, call_id: str) -> CallLogRow | None:
    r = conn.execute(
        select(incoming_call_logs)
        .where(_L.provider == provider, _L.provider_call_id == call_id)
        .order_by(_L.created_ms.desc())
    ).first()
    return _log(r) if r else None


def insert_item(conn: Connection, row: AttemptRow) -> None:
    conn.execute(
        incoming_call_log_items.insert().values(**{n: getattr(row, n) for n in _ITEM_FIELDS})
    )


def update_item(conn: Connection, item_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(incoming_call_log_items).where(_I.id == item_id).values(**values))


def items_of(conn: Connection, log_id: str) -> list[AttemptRow]:
    rows = conn.execute(
        select(incoming_call_log_items).where(_I.log_id == log_id).order_by(_I.attempt)
    )
    return [_item(r) for r in rows]
