"""Queries behind call-log sync: a frame's newest records, changes since a change number, and
records modified since a time. ``services/sync.py`` holds the rules; this holds the SQL.

Positions are ``(start_ms, pk)`` for a record's place in a log (newest first) and
``(change_seq, pk)`` for its place in the order of changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select

from callvault.domain.calls import CallRecord
from callvault.domain.query import CallQuery, SyncFilter
from callvault.storage.calls import decode_row, filtered_select, legs_for, missed_clause
from callvault.storage.changes import ChangeState, change_state
from callvault.storage.engine import Database
from callvault.storage.schema import calls

# (start_ms, pk): where a record sits in a log.
LogKey = tuple[int, int]
# (change_seq, pk): where a change sits in the order of changes.
ChangeKey = tuple[int, int]


@dataclass(slots=True)
class SyncRow:
    record: CallRecord
    pk: int
    start_ms: int
    change_seq: int

    @property
    def log_key(self) -> LogKey:
        return (self.start_ms, self.pk)

    @property
    def change_key(self) -> ChangeKey:
        return (self.change_seq, self.pk)


class SyncStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def state(self, account_id: int) -> ChangeState:
        """The account's newest committed change number; read it before the rows it bounds."""
        with self.db.read() as conn:
            return change_state(conn, account_id)

    def newest(
        self,
        flt: SyncFilter,
        *,
        upto_seq: int,
        below: LogKey | None,
        floor_ms: int | None,
        limit: int,
        with_legs: bool,
    ) -> list[SyncRow]:
        """Up to ``limit`` undeleted records of ``flt``, newest first, that sit below ``below``
        (when given), started at or after ``floor_ms`` (when given), and were last changed at
        or before ``upto_seq``."""
        stmt = _select(flt, show_deleted=False).where(calls.c.change_seq <= upto_seq)
        if below is not None:
            stmt = stmt.where(_log_before(below))
        if floor_ms is not None:
            stmt = stmt.where(calls.c.start_ms >= floor_ms)
        stmt = stmt.order_by(calls.c.start_ms.desc(), calls.c.pk.desc()).limit(limit)
        return self._rows(stmt, with_legs)

    def changes(
        self,
        flt: SyncFilter,
        *,
        after_seq: int,
        upto_seq: int,
        frame: LogKey | None,
        limit: int,
        with_legs: bool,
    ) -> list[SyncRow]:
        """Up to ``limit`` records of ``flt`` changed after ``after_seq`` and at or before
        ``upto_seq``, inside the frame (at or above ``frame`` when given), in change order.
        Deleted records are included when ``flt.show_deleted``."""
        stmt = _select(flt, show_deleted=flt.show_deleted).where(
            calls.c.change_seq > after_seq, calls.c.change_seq <= upto_seq
        )
        if frame is not None:
            stmt = stmt.where(~_log_before(frame))
        stmt = stmt.order_by(calls.c.change_seq, calls.c.pk).limit(limit)
        return self._rows(stmt, with_legs)

    def modified(
        self,
        account_id: int,
        categories: frozenset[str],
        *,
        after: ChangeKey | None,
        upto_seq: int,
        floor_ms: int | None,
        limit: int,
        with_legs: bool,
    ) -> list[SyncRow]:
        """Up to ``limit`` company records (deleted ones too) changed after ``after`` and at or
        before ``upto_seq``, last modified at or after ``floor_ms`` (when given), in change
        order."""
        flt = SyncFilter(account_id=account_id, metadata_categories=categories)
        stmt = _select(flt, show_deleted=True).where(calls.c.change_seq <= upto_seq)
        if after is not None:
            seq, pk = after
            stmt = stmt.where(
                or_(calls.c.change_seq > seq, and_(calls.c.change_seq == seq, calls.c.pk > pk))
            )
        if floor_ms is not None:
            # Redundant as a filter (every row modified since floor_ms has at least this change
            # number), but it lets the walk in change order start near floor_ms instead of at
            # the account's first change: the two rise together.
            first = (
                select(func.min(calls.c.change_seq))
                .where(calls.c.account_id == account_id, calls.c.modified_ms >= floor_ms)
                .scalar_subquery()
            )
            stmt = stmt.where(calls.c.modified_ms >= floor_ms, calls.c.change_seq >= first)
        stmt = stmt.order_by(calls.c.change_seq, calls.c.pk).limit(limit)
        return self._rows(stmt, with_legs)

    def _rows(self, stmt: Select[Any], with_legs: bool) -> list[SyncRow]:
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
            legs = legs_for(conn, [r.pk for r in rows]) if with_legs else {}
        return [
            SyncRow(decode_row(r, legs.get(r.pk), with_legs), r.pk, r.start_ms, r.change_seq)
            for r in rows
        ]


def _select(flt: SyncFilter, *, show_deleted: bool) -> Select[Any]:
    query = CallQuery(
        account_id=flt.account_id,
        extension_id=flt.extension_id,
        recording_types=flt.recording_types,
        metadata_categories=flt.metadata_categories,
        show_deleted=show_deleted,
    )
    stmt = filtered_select(query).add_columns(calls.c.start_ms, calls.c.change_seq)
    return stmt.where(missed_clause()) if flt.missed_only else stmt


def _log_before(key: LogKey) -> ColumnElement[bool]:
    """Rows that sit below ``key`` in a newest-first log: older, or as old with a lower pk."""
    start_ms, pk = key
    return or_(calls.c.start_ms < start_ms, and_(calls.c.start_ms == start_ms, calls.c.pk < pk))


def sort_newest_first(rows: Sequence[SyncRow]) -> list[SyncRow]:
    return sorted(rows, key=lambda r: r.log_key, reverse=True)
