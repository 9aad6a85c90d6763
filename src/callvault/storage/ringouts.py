"""RingOut rows: who asked for which two-legged call, and when it was cancelled or ended."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update

from callvault.storage.schema import ringouts


@dataclass(slots=True, frozen=True)
class RingOutRow:
    id: str
    account_id: int
    extension_id: int
    telephony_session_id: str
    from_number: str
    to_number: str
    caller_id: str | None
    created_ms: int
    cancelled_ms: int | None = None
    finished_ms: int | None = None


def _row(r: Any) -> RingOutRow:
    return RingOutRow(
        id=r.id,
        account_id=r.account_id,
        extension_id=r.extension_id,
        telephony_session_id=r.telephony_session_id,
        from_number=r.from_number,
        to_number=r.to_number,
        caller_id=r.caller_id,
        created_ms=r.created_ms,
        cancelled_ms=r.cancelled_ms,
        finished_ms=r.finished_ms,
    )


def insert(conn: Connection, row: RingOutRow) -> None:
    """Raises ``IntegrityError`` when the id is taken."""
    conn.execute(
        ringouts.insert().values(
            id=row.id,
            account_id=row.account_id,
            extension_id=row.extension_id,
            telephony_session_id=row.telephony_session_id,
            from_number=row.from_number,
            to_number=row.to_number,
            caller_id=row.caller_id,
            created_ms=row.created_ms,
            cancelled_ms=row.cancelled_ms,
            finished_ms=row.finished_ms,
        )
    )


def get(conn: Connection, account_id: int, ringout_id: str) -> RingOutRow | None:
    r = conn.execute(
        select(ringouts).where(ringouts.c.account_id == account_id, ringouts.c.id == ringout_id)
    ).first()
    return _row(r) if r else None


def set_session(conn: Connection, ringout_id: str, telephony_session_id: str) -> None:
    """The phone system chose its own session id for the call."""
    conn.execute(
        update(ringouts)
        .where(ringouts.c.id == ringout_id)
        .values(telephony_session_id=telephony_session_id)
    )


def mark_cancelled(conn: Connection, ringout_id: str, at_ms: int) -> None:
    conn.execute(
        update(ringouts)
        .where(ringouts.c.id == ringout_id, ringouts.c.cancelled_ms.is_(None))
        .values(cancelled_ms=at_ms)
    )


def mark_finished(conn: Connection, ringout_id: str, at_ms: int) -> None:
    conn.execute(
        update(ringouts)
        .where(ringouts.c.id == ringout_id, ringouts.c.finished_ms.is_(None))
        .values(finished_ms=at_ms)
    )


def remove(conn: Connection, ringout_id: str) -> None:
    """Forget a RingOut the phone system refused to place."""
    conn.execute(delete(ringouts).where(ringouts.c.id == ringout_id))
