"""The call store: rows of ``calls``/``call_details`` to and from ``CallRecord``.

Writes happen only through ``Database.write()`` connections handed in by the ingest service;
reads open their own connection.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, partial
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    update,
)

from callvault.domain.calls import CallRecord
from callvault.domain.enums import Direction, Result
from callvault.domain.outcome import MISSED_RESULTS
from callvault.domain.query import CallQuery, Page, StoredRecord
from callvault.storage.changes import reserve_change, reset_call_log
from callvault.storage.codec import decode_record, encode_legs, encode_summary, to_ms
from callvault.storage.engine import Database
from callvault.storage.numbers import digits
from callvault.storage.schema import call_details, calls
from callvault.storage.targets import (
    delete_targets,
    insert_targets,
    purge_targets,
    replace_targets,
    target_rows,
)


@dataclass(slots=True)
class EncodedCall:
    """A record ready to write: its narrow row values, its legs blob and its target rows."""

    record_id: str
    row: dict[str, Any]
    legs: bytes
    content_hash: str
    targets: list[dict[str, Any]] = field(default_factory=list)


def encode_call(account_id: int, record: CallRecord) -> EncodedCall:
    """Encode a record for storage; ``content_hash`` covers everything but modification time."""
    summary = encode_summary(record)
    legs = encode_legs(record.legs)
    content_hash = hashlib.blake2b(summary + b"\x00" + legs, digest_size=16).hexdigest()
    cats = record.metadata_categories
    row = {
        "account_id": account_id,
        "record_id": record.id,
        "owner_extension_id": record.extension_id,
        "session_id": record.session_id,
        "telephony_session_id": record.telephony_session_id,
        "start_ms": to_ms(record.start_time),
        "direction": record.direction.value,
        "call_type": record.type.value,
        "transport": record.transport.value if record.transport else None,
        "result": record.result.value if record.result else None,
        "recording_type": record.recording.type.value if record.recording else None,
        "from_number": digits(record.from_party.phone_number) if record.from_party else None,
        "to_number": digits(record.to_party.phone_number) if record.to_party else None,
        "metadata_categories": f",{','.join(cats)}," if cats else None,
        "blocked": record.result is Result.BLOCKED,
        "deleted": record.deleted,
        "content_hash": content_hash,
        "summary": summary,
    }
    return EncodedCall(record.id, row, legs, content_hash, target_rows(account_id, record))


class CallStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # -- writes (connection from Database.write) -------------------------------------------

    @staticmethod
    def existing(
        conn: Connection, account_id: int, record_ids: Sequence[str]
    ) -> dict[str, tuple[int, str, bool]]:
        """Map record id → (pk, content hash, deleted) for the ids already stored."""
        found: dict[str, tuple[int, str, bool]] = {}
        for start in range(0, len(record_ids), 500):
            chunk = record_ids[start : start + 500]
            rows = conn.execute(
                select(calls.c.record_id, calls.c.pk, calls.c.content_hash, calls.c.deleted).where(
                    calls.c.account_id == account_id, calls.c.record_id.in_(chunk)
                )
            )
            for rid, pk, h, deleted in rows:
                found[rid] = (pk, h, deleted)
        return found

    @staticmethod
    def insert(
        conn: Connection, encoded: Sequence[EncodedCall], modified_ms: int, change_seq: int
    ) -> None:
        """Insert new records under ``change_seq``: a placeholder from ``pending_change`` that
        ``stamp_pending`` replaces before commit, or a number from ``reserve_change``."""
        if not encoded:
            return
        rows = [dict(e.row, modified_ms=modified_ms, change_seq=change_seq) for e in encoded]
        # A plain executemany then one lookup of the new keys: both drivers batch this well,
        # while INSERT … RETURNING over many rows makes psycopg parse one huge statement.
        conn.execute(calls.insert(), rows)
        account_id = encoded[0].row["account_id"]
        ids = [e.record_id for e in encoded]
        pk_by_id: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            found = conn.execute(
                select(calls.c.record_id, calls.c.pk).where(
                    calls.c.account_id == account_id,
                    calls.c.record_id.in_(ids[start : start + 500]),
                )
            )
            pk_by_id.update({rid: pk for rid, pk in found})
        conn.execute(
            call_details.insert(),
            [{"call_pk": pk_by_id[e.record_id], "legs": e.legs} for e in encoded],
        )
        insert_targets(
            conn, [(pk_by_id[e.record_id], e.targets) for e in encoded], modified_ms, change_seq
        )

    @staticmethod
    def replace(
        conn: Connection, pk: int, encoded: EncodedCall, modified_ms: int, change_seq: int
    ) -> None:
        """Overwrite a stored record. A record the user deleted stays deleted: a phone system
        re-sending a corrected record must not bring it back into the user's log."""
        values = {k: v for k, v in encoded.row.items() if k != "deleted" or v}
        conn.execute(
            update(calls)
            .where(calls.c.pk == pk)
            .values(**values, modified_ms=modified_ms, change_seq=change_seq)
        )
        conn.execute(
            update(call_details).where(call_details.c.call_pk == pk).values(legs=encoded.legs)
        )
        replace_targets(conn, pk, encoded.targets, modified_ms, change_seq)

    def soft_delete(
        self, account_id: int, extension_id: int, date_to: datetime, modified_ms: int
    ) -> int:
        """Mark an extension's records that started before ``date_to`` deleted; return count."""
        with self.db.write() as conn:
            # A transaction of two statements: taking the number first costs nothing here.
            change_seq = reserve_change(conn, account_id)
            doomed = (
                calls.c.account_id == account_id,
                calls.c.owner_extension_id == extension_id,
                calls.c.start_ms < to_ms(date_to),
                calls.c.deleted == false(),
            )
            delete_targets(conn, select(calls.c.pk).where(*doomed), modified_ms, change_seq)
            result = conn.execute(
                update(calls)
                .where(*doomed)
                .values(deleted=True, modified_ms=modified_ms, change_seq=change_seq)
            )
            return int(result.rowcount or 0)

    @staticmethod
    def purge_account(conn: Connection, account_id: int) -> None:
        """Delete every record of the account: a call-log reset, which expires sync tokens."""
        reset_call_log(conn, account_id)
        purge_targets(conn, account_id)
        pks = select(calls.c.pk).where(calls.c.account_id == account_id)
        conn.execute(delete(call_details).where(call_details.c.call_pk.in_(pks)))
        conn.execute(delete(calls).where(calls.c.account_id == account_id))

    # -- reads ------------------------------------------------------------------------------

    def list(self, query: CallQuery) -> Page[CallRecord]:
        """One page of the log, newest first; legs are read only for this page's rows."""
        page = self.list_stored(query)
        return Page(items=[s.load() for s in page.items], has_more=page.has_more)

    def list_stored(self, query: CallQuery) -> Page[StoredRecord]:
        """``list`` with each record's decoding left to the caller (``StoredRecord.load``).

        Rows and legs are read in one read transaction, so every ``load`` decodes the
        version that ``version`` names even if the record changes later.
        """
        shape, params = _filters(query)
        # One row more than the page tells whether another page follows.
        params["limit"] = query.per_page + 1
        params["offset"] = (query.page - 1) * query.per_page
        with self.db.read() as conn:
            rows = conn.execute(_page_statement(shape), params).all()
            has_more = len(rows) > query.per_page
            rows = rows[: query.per_page]
            legs = legs_for(conn, [r.pk for r in rows]) if query.with_legs else {}
        items = [
            StoredRecord(
                record_id,
                (content_hash, deleted, modified_ms),
                partial(
                    decode_record,
                    summary,
                    legs=legs.get(pk),
                    deleted=deleted,
                    modified_ms=modified_ms,
                ),
            )
            for pk, record_id, summary, deleted, modified_ms, content_hash in rows
        ]
        return Page(items=items, has_more=has_more)

    def get_many(
        self,
        account_id: int,
        record_ids: Iterable[str],
        *,
        extension_id: int | None = None,
        with_legs: bool = False,
    ) -> dict[str, CallRecord]:
        """Records by id within an account (and an extension's log when given)."""
        ids = list(record_ids)
        cond = [calls.c.account_id == account_id, calls.c.record_id.in_(ids)]
        if extension_id is not None:
            cond.append(calls.c.owner_extension_id == extension_id)
        with self.db.read() as conn:
            rows = conn.execute(_row_select().where(*cond)).all()
            legs = legs_for(conn, [r.pk for r in rows]) if with_legs else {}
        return {r.record_id: decode_row(r, legs.get(r.pk), with_legs) for r in rows}

    def with_recordings(
        self, account_id: int, *, after_pk: int = 0, limit: int = 500
    ) -> Sequence[tuple[int, CallRecord]]:
        """Records of the account that name a recording, by key after ``after_pk`` (a batch
        of at most ``limit``; the last key continues), without legs."""
        stmt = (
            _row_select()
            .where(
                calls.c.account_id == account_id,
                calls.c.recording_type.is_not(None),
                calls.c.pk > after_pk,
            )
            .order_by(calls.c.pk)
            .limit(limit)
        )
        with self.db.read() as conn:
            rows = conn.execute(stmt).all()
        return [(r.pk, decode_row(r, None, False)) for r in rows]

    def count(self, account_id: int) -> int:
        with self.db.read() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(calls).where(calls.c.account_id == account_id)
                ).scalar_one()
            )


def _row_select() -> Select[Any]:
    c = calls.c
    return select(c.pk, c.record_id, c.summary, c.deleted, c.modified_ms, c.content_hash)


def missed_clause() -> ColumnElement[bool]:
    """SQL twin of ``domain.outcome.is_missed``: inbound, with a result in ``MISSED_RESULTS``.

    The rule itself lives in the domain; this only restates it over the stored columns, and a
    test checks the two agree for every direction and result.
    """
    return and_(
        calls.c.direction == Direction.INBOUND.value,
        calls.c.result.in_(sorted(r.value for r in MISSED_RESULTS)),
    )


def filtered_select(q: CallQuery) -> Select[Any]:
    """Rows of ``q``'s log matching its filters (no order, no paging), values bound."""
    shape, params = _filters(q)
    return _filtered(shape).params(params)


def _filters(q: CallQuery) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``q`` as a statement shape (which filters are present) and the values to bind.

    Lists pages are built from a handful of shapes, so each shape's statement is built once
    (``_filtered``): constructing it anew cost a quarter of a 100-row page's time.
    """
    params: dict[str, Any] = {"account_id": q.account_id}
    if q.extension_id is not None:
        params["extension_id"] = q.extension_id
    if q.date_from is not None:
        params["date_from"] = to_ms(q.date_from)
    if q.date_to is not None:
        params["date_to"] = to_ms(q.date_to)
    if q.directions:
        params["directions"] = sorted(d.value for d in q.directions)
    if q.types:
        params["types"] = sorted(t.value for t in q.types)
    if q.transports:
        params["transports"] = sorted(t.value for t in q.transports)
    if q.phone_number:
        params["phone_number"] = digits(q.phone_number)
    if q.session_id:
        params["session_id"] = q.session_id
    if q.telephony_session_id:
        params["telephony_session_id"] = q.telephony_session_id
    if q.recording_types:
        params["recording_types"] = sorted(t.value for t in q.recording_types)
    categories = sorted(q.metadata_categories)
    for n, category in enumerate(categories):
        params[f"category_{n}"] = f",{category},"
    shape = (
        frozenset(params),
        q.recording_types is not None,
        q.show_deleted,
        q.show_blocked,
    )
    return shape, params


@lru_cache(maxsize=256)
def _filtered(shape: tuple[Any, ...]) -> Select[Any]:
    """The SELECT for one shape from ``_filters``, every value a bind parameter."""
    present, any_recording, show_deleted, show_blocked = shape
    c = calls.c
    equal = {
        "account_id": c.account_id,
        "extension_id": c.owner_extension_id,
        "session_id": c.session_id,
        "telephony_session_id": c.telephony_session_id,
    }
    one_of = {
        "directions": c.direction,
        "types": c.call_type,
        "transports": c.transport,
        "recording_types": c.recording_type,
    }
    cond: list[Any] = [col == bindparam(name) for name, col in equal.items() if name in present]
    if "date_from" in present:
        cond.append(c.start_ms >= bindparam("date_from"))
    if "date_to" in present:
        cond.append(c.start_ms <= bindparam("date_to"))
    cond += [
        col.in_(bindparam(name, expanding=True)) for name, col in one_of.items() if name in present
    ]
    if "phone_number" in present:
        number: Any = bindparam("phone_number")
        cond.append(or_(c.from_number == number, c.to_number == number))
    if any_recording and "recording_types" not in present:
        cond.append(c.recording_type.is_not(None))
    categories = sorted(name for name in present if name.startswith("category_"))
    if categories:
        cond.append(or_(*(c.metadata_categories.contains(bindparam(n)) for n in categories)))
    if not show_deleted:
        cond.append(c.deleted == false())
    if not show_blocked:
        cond.append(c.blocked == false())
    return _row_select().where(and_(*cond))


@lru_cache(maxsize=256)
def _page_statement(shape: tuple[Any, ...]) -> Select[Any]:
    """``_filtered(shape)`` newest first, one page (``limit``/``offset`` bound too)."""
    return (
        _filtered(shape)
        .order_by(calls.c.start_ms.desc(), calls.c.pk.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


def legs_for(conn: Connection, pks: list[int]) -> dict[int, bytes]:
    """The legs blobs of the rows ``pks``, read only for the page being returned."""
    if not pks:
        return {}
    rows = conn.execute(
        select(call_details.c.call_pk, call_details.c.legs).where(call_details.c.call_pk.in_(pks))
    )
    return {pk: legs for pk, legs in rows}


def decode_row(row: Any, legs: bytes | None, with_legs: bool) -> CallRecord:
    """A ``calls`` row (with ``summary``, ``deleted``, ``modified_ms``) as a ``CallRecord``."""
    return decode_record(
        row.summary,
        legs=legs if with_legs else None,
        deleted=row.deleted,
        modified_ms=row.modified_ms,
    )
