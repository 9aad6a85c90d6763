"""The per-account change sequence of ``calls`` rows, which call-log sync uses as its watermark.

Every transaction that writes an account's ``calls`` rows takes the next number from the
account's ``call_log_sync_state`` row and stamps it on every row it wrote (``change_seq``).
The UPDATE that takes the number keeps that row locked until the transaction ends, so one
account's writers commit in the order of their numbers: a reader that sees number N committed
knows every smaller number is committed (or rolled back) too. ``services/sync.py`` explains
why sync relies on this rather than on ``modified_ms``.

The lock is held from taking the number to commit. A writer that finds it free takes the
number before writing and stamps its rows as it writes them (``reserve_change_if_free``). A
writer that finds it held by another writer of the account does not wait there: it writes its
rows under a placeholder from ``pending_change``, and as its last step ``stamp_pending`` takes
the number and writes it over the placeholder (on PostgreSQL in one statement), so it holds
the lock only for that step. Stamping rewrites every row written (on PostgreSQL a new version
of each row and of its index entries: a quarter of a lone writer's ingest time, measured with
bench/ingest.py), which a lone writer has no reason to pay; holding the lock for a whole
ingest transaction while others wait cost an account's concurrent writers about 40% of their
throughput (bench/isync_soak.py), which the placeholder path avoids. On SQLite one writer runs
at a time anyway, so the lock is always free.

The PortSIP face keeps list totals in memory until the account's ``ChangeState`` moves
(``TargetStore._total`` in storage/target_reads.py). So every transaction that changes an
account's ``calls`` or ``call_targets`` rows must move it, in that same transaction: take a
number here, or for a wipe of the log call ``reset_call_log``. The state only grows; its row
is never deleted.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, bindparam, case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from callvault.storage.schema import call_log_sync_state, call_targets, calls

_state = call_log_sync_state


@dataclass(slots=True, frozen=True)
class ChangeState:
    """The newest committed change number of an account, and how often its log was reset."""

    change_seq: int
    log_epoch: int


def pending_change() -> int:
    """A placeholder change number for the rows of one transaction: negative (never a real
    number, so readers never match it) and random (no other transaction uses it)."""
    return -1 - secrets.randbits(62)


def reserve_change(conn: Connection, account_id: int) -> int:
    """Take the account's next change number (write transaction only).

    From here to commit the account's other writers wait, which is what makes number order
    equal commit order; so take it last, just before commit.
    """
    bump = (
        update(_state)
        .where(_state.c.account_id == account_id)
        .values(change_seq=_state.c.change_seq + 1)
        .returning(_state.c.change_seq)
    )
    got = conn.execute(bump).scalar_one_or_none()
    if got is None:
        _ensure_state(conn, account_id)
        got = conn.execute(bump).scalar_one()
    return int(got)


def reserve_change_if_free(conn: Connection, account_id: int) -> int | None:
    """Take the account's next change number if no other transaction holds the account's
    lock (write transaction only); None when one does, or when the account has no state row
    yet: then write under ``pending_change`` and ``stamp_pending`` last."""
    if conn.dialect.name == "postgresql":
        free = conn.execute(
            select(_state.c.account_id)
            .where(_state.c.account_id == account_id)
            .with_for_update(skip_locked=True)
        ).first()
        if free is None:
            return None
    return reserve_change(conn, account_id)


def stamp_pending(conn: Connection, account_id: int, pending: int) -> int:
    """Take the account's next change number and give it to the rows this transaction wrote
    under the placeholder ``pending`` (calls and their target rows); returns the number.

    The last step before commit: the account's other writers wait from here to commit.
    """
    if conn.dialect.name == "postgresql":
        # One round trip under the lock: taking the number and both stamps in one statement.
        taken = conn.execute(_stamp_in_one(account_id, pending)).scalar_one_or_none()
        if taken is not None:
            return int(taken)
    number = reserve_change(conn, account_id)
    _stamp(conn, account_id, pending, number)
    return number


def _stamp(conn: Connection, account_id: int, pending: int, number: int) -> None:
    t = call_targets.c
    conn.execute(
        update(call_targets)
        .where(t.call_pk.in_(_pending_pks(account_id, pending)), t.change_seq == pending)
        .values(
            change_seq=number,
            created_seq=case((t.created_seq == pending, number), else_=t.created_seq),
        )
    )
    conn.execute(
        update(calls)
        .where(calls.c.account_id == account_id, calls.c.change_seq == pending)
        .values(change_seq=number)
    )


def _stamp_in_one(account_id: int, pending: int) -> Select[Any]:
    """``WITH n AS (UPDATE state … RETURNING), t AS (UPDATE call_targets …), c AS (UPDATE
    calls …) SELECT n``. No row when the account has no state row yet; nothing is stamped."""
    bump = (
        update(_state)
        .where(_state.c.account_id == account_id)
        .values(change_seq=_state.c.change_seq + 1)
        .returning(_state.c.change_seq)
        .cte("n")
    )
    number = select(bump.c.change_seq).scalar_subquery()
    taken = select(bump.c.change_seq).exists()
    t = call_targets.c
    targets = (
        update(call_targets)
        .where(t.call_pk.in_(_pending_pks(account_id, pending)), t.change_seq == pending, taken)
        .values(
            change_seq=number,
            created_seq=case((t.created_seq == pending, number), else_=t.created_seq),
        )
        .cte("t")
    )
    rows = (
        update(calls)
        .where(calls.c.account_id == account_id, calls.c.change_seq == pending, taken)
        .values(change_seq=number)
        .cte("c")
    )
    return select(bump.c.change_seq).add_cte(targets).add_cte(rows)


def _pending_pks(account_id: int, pending: int) -> Select[Any]:
    return select(calls.c.pk).where(calls.c.account_id == account_id, calls.c.change_seq == pending)


def reset_call_log(conn: Connection, account_id: int) -> None:
    """Record that the account's call log was wiped: sync tokens issued before are expired."""
    _ensure_state(conn, account_id)
    conn.execute(
        update(_state)
        .where(_state.c.account_id == account_id)
        .values(log_epoch=_state.c.log_epoch + 1)
    )


# Built once: lists read the state on every request (PortSIP totals), and constructing the
# statement cost more than running it.
_READ_STATE = select(_state.c.change_seq, _state.c.log_epoch).where(
    _state.c.account_id == bindparam("account_id")
)


def change_state(conn: Connection, account_id: int) -> ChangeState:
    """The account's newest committed change number and reset count ((0, 0) before any write)."""
    row = conn.execute(_READ_STATE, {"account_id": account_id}).first()
    return ChangeState(int(row[0]), int(row[1])) if row else ChangeState(0, 0)


def _ensure_state(conn: Connection, account_id: int) -> None:
    """Create the account's state row if missing, continuing from its highest stamped number
    (not from this transaction's own placeholders, which are negative)."""
    start = (
        select(func.coalesce(func.max(calls.c.change_seq), 0))
        .where(calls.c.account_id == account_id, calls.c.change_seq > 0)
        .scalar_subquery()
    )
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(_state)
        .values(account_id=account_id, change_seq=start, log_epoch=0)
        .on_conflict_do_nothing(index_elements=["account_id"])
    )
