"""The raw event journal: every call event is stored before it is acknowledged.

Insertion ignores events already journaled (same account, source and event id), so a
redelivered webhook or a retried batch changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from callvault.storage.schema import call_events


@dataclass(slots=True, frozen=True)
class JournalEntry:
    event_id: str
    session_id: str
    sequence: int
    event_ms: int
    event: bytes
    raw: bytes | None = None


def append(
    conn: Connection,
    account_id: int,
    source: str,
    entries: Sequence[JournalEntry],
    received_ms: int,
) -> set[str]:
    """Journal ``entries``; returns the ids of those that were new.

    Known ids are looked up first and the rest inserted with ON CONFLICT DO NOTHING (a plain
    executemany, which both drivers run fast; a RETURNING form makes psycopg re-parse one huge
    statement per batch). If a concurrent request journals the same event in between, both
    report it new; the correlator drops the second copy by event id.
    """
    if not entries:
        return set()
    ids = [e.event_id for e in entries]
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        known.update(
            conn.execute(
                select(call_events.c.event_id).where(
                    call_events.c.account_id == account_id,
                    call_events.c.source == source,
                    call_events.c.event_id.in_(chunk),
                )
            ).scalars()
        )
    rows = [
        {
            "account_id": account_id,
            "source": source,
            "event_id": e.event_id,
            "session_id": e.session_id,
            "sequence": e.sequence,
            "event_ms": e.event_ms,
            "received_ms": received_ms,
            "call_done": False,
            "event": e.event,
            "raw": e.raw,
        }
        for e in entries
        if e.event_id not in known
    ]
    if rows:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(call_events).on_conflict_do_nothing(
            index_elements=["account_id", "source", "event_id"]
        )
        conn.execute(stmt, rows)
    return {e.event_id for e in entries if e.event_id not in known}


def session_events(conn: Connection, account_id: int, session_ids: Sequence[str]) -> list[bytes]:
    """Every journaled event of these sessions, in the order they were received."""
    rows = conn.execute(
        select(call_events.c.event)
        .where(call_events.c.account_id == account_id, call_events.c.session_id.in_(session_ids))
        .order_by(call_events.c.pk)
    )
    return [r[0] for r in rows]


def open_events(conn: Connection) -> Iterator[tuple[int, bytes]]:
    """(account, event) of every call not yet finished: what a restart must replay."""
    rows = conn.execute(
        select(call_events.c.account_id, call_events.c.event)
        .where(call_events.c.call_done.is_(False))
        .order_by(call_events.c.pk)
    )
    yield from ((account_id, event) for account_id, event in rows)


def mark_done(conn: Connection, account_id: int, session_ids: Sequence[str]) -> None:
    conn.execute(
        update(call_events)
        .where(call_events.c.account_id == account_id, call_events.c.session_id.in_(session_ids))
        .values(call_done=True)
    )


def sessions_in_range(
    conn: Connection, account_id: int | None, from_ms: int | None, to_ms: int | None
) -> list[tuple[int, str]]:
    """Distinct (account, session) with an event in the window."""
    stmt = select(call_events.c.account_id, call_events.c.session_id).distinct()
    if account_id is not None:
        stmt = stmt.where(call_events.c.account_id == account_id)
    if from_ms is not None:
        stmt = stmt.where(call_events.c.event_ms >= from_ms)
    if to_ms is not None:
        stmt = stmt.where(call_events.c.event_ms <= to_ms)
    return [(a, s) for a, s in conn.execute(stmt)]
