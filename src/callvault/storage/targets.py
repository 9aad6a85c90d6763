"""The ``call_targets`` rows: one per leg of every stored record, written with the ``calls``
rows in the same transaction (``CallStore`` calls in here), kept up to date on every rewrite,
and backfilled for calls stored before them (migration 0006). Reads: ``storage/target_reads``.

Rows dropped from a record by an update are kept as deleted rows for the user's delta sync.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, delete, false, not_, select, update

from callvault.domain.calls import CallRecord
from callvault.domain.targets import targets_of
from callvault.storage.codec import decode_record, to_ms
from callvault.storage.schema import call_details, call_targets, calls

_t = call_targets.c

# What a row says about its target; a rewrite that changes none of these is no change.
_CONTENT = (
    "owner_extension_id",
    "session_id",
    "in_company",
    "in_owner",
    "caller",
    "caller_domain",
    "caller_name",
    "callee",
    "callee_domain",
    "callee_name",
    "started_ms",
    "rang_ms",
    "answered_ms",
    "ended_ms",
    "call_id",
    "direction",
    "end_reason",
    "rerouted_by",
    "status_code",
    "destination",
    "outbound_caller_id",
    "did",
    "trunk",
    "talk_seconds",
    "cost",
    "billed_account",
    "service_number",
    "user_data",
    "deleted",
)


def _ms(value: datetime | None) -> int | None:
    return None if value is None else to_ms(value)


def target_rows(account_id: int, record: CallRecord) -> list[dict[str, Any]]:
    """The ``call_targets`` values of a record's targets (without row keys and times)."""
    rows = []
    for t in targets_of(record):
        rows.append(
            {
                "account_id": account_id,
                "owner_extension_id": record.extension_id,
                "target_id": t.id,
                "position": t.position,
                "session_id": t.session_id,
                "in_company": t.in_company_log,
                "in_owner": t.in_owner_log,
                "caller": t.caller,
                "caller_domain": t.caller_domain,
                "caller_name": t.caller_name,
                "callee": t.callee,
                "callee_domain": t.callee_domain,
                "callee_name": t.callee_name,
                "started_ms": to_ms(t.started),
                "rang_ms": _ms(t.rang),
                "answered_ms": _ms(t.answered),
                "ended_ms": to_ms(t.ended),
                "call_id": t.call_id,
                "direction": t.direction.value,
                "end_reason": t.end_reason.value if t.end_reason else "",
                "rerouted_by": t.rerouted_by.value if t.rerouted_by else "",
                "status_code": t.status_code,
                "destination": t.destination,
                "outbound_caller_id": t.outbound_caller_id,
                "did": t.did,
                "trunk": t.trunk,
                "talk_seconds": t.talk_seconds,
                "cost": t.cost,
                "billed_account": t.billed_account,
                "service_number": t.service_number,
                "user_data": t.user_data,
                "deleted": record.deleted,
            }
        )
    return rows


# -- writes (inside the transaction that writes the calls rows) ------------------------------


_INSERT_COLUMNS = tuple(c.name for c in call_targets.columns if c.name != "pk")
_INSERT_SQL: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert target rows with the driver's own executemany.

    Several rows per call, each of 36 plain values (numbers, text, booleans the drivers adapt
    themselves): SQLAlchemy's per-value processing made this insert 2.5 times slower than
    the driver's, and it is most of what the targets add to the write path.
    """
    dialect = conn.dialect
    cached = _INSERT_SQL.get(dialect.name)
    if cached is None:
        compiled = call_targets.insert().compile(dialect=dialect, column_keys=_INSERT_COLUMNS)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        cached = _INSERT_SQL[dialect.name] = (str(compiled), order)
    sql, order = cached
    if order is None:
        conn.exec_driver_sql(sql, rows)
    else:
        conn.exec_driver_sql(sql, [tuple(r[k] for k in order) for r in rows])


def insert_targets(
    conn: Connection,
    rows_by_call: Iterable[tuple[int, Sequence[dict[str, Any]]]],
    modified_ms: int,
    change_seq: int,
) -> None:
    """Insert the target rows of newly inserted calls, given as (call pk, rows)."""
    stamp = {"modified_ms": modified_ms, "created_seq": change_seq, "change_seq": change_seq}
    rows = [dict(r, call_pk=pk, **stamp) for pk, targets in rows_by_call for r in targets]
    if rows:
        _insert(conn, rows)


_UPDATE = (
    update(call_targets)
    .where(_t.pk == bindparam("row_pk"))
    .values(
        {
            **{name: bindparam(name) for name in _CONTENT},
            "position": bindparam("position"),
            "modified_ms": bindparam("modified_ms"),
            "change_seq": bindparam("change_seq"),
        }
    )
)
# A leg that only moved within its record (another leg was dropped) has not changed.
_MOVE = update(call_targets).where(_t.pk == bindparam("row_pk")).values(position=bindparam("to"))


def replace_targets(
    conn: Connection,
    call_pk: int,
    rows: Sequence[dict[str, Any]],
    modified_ms: int,
    change_seq: int,
) -> None:
    """Bring a rewritten call's targets up to date: changed rows are updated, new ones
    inserted, and targets the record no longer has are kept as deleted rows. A record the
    user deleted keeps its targets deleted."""
    call_deleted = bool(
        conn.execute(select(calls.c.deleted).where(calls.c.pk == call_pk)).scalar_one()
    )
    stored = {
        r.target_id: r for r in conn.execute(select(call_targets).where(_t.call_pk == call_pk))
    }
    stamp = {"modified_ms": modified_ms, "change_seq": change_seq}
    changed, moved, fresh = [], [], []
    for row in rows:
        row = dict(row, deleted=row["deleted"] or call_deleted)
        old = stored.pop(row["target_id"], None)
        if old is None:
            fresh.append(dict(row, call_pk=call_pk, created_seq=change_seq, **stamp))
        elif any(getattr(old, name) != row[name] for name in _CONTENT):
            values = {name: row[name] for name in _CONTENT}
            changed.append(dict(values, row_pk=old.pk, position=row["position"], **stamp))
        elif old.position != row["position"]:
            moved.append({"row_pk": old.pk, "to": row["position"]})
    if changed:
        conn.execute(_UPDATE, changed)
    if moved:
        conn.execute(_MOVE, moved)
    if fresh:
        _insert(conn, fresh)
    gone = [r.pk for r in stored.values() if not r.deleted]
    if gone:
        conn.execute(update(call_targets).where(_t.pk.in_(gone)).values(deleted=True, **stamp))


def delete_targets(
    conn: Connection, call_pks: Select[Any], modified_ms: int, change_seq: int
) -> None:
    """Mark the targets of the calls ``call_pks`` selects deleted (a user's soft delete)."""
    conn.execute(
        update(call_targets)
        .where(_t.call_pk.in_(call_pks), _t.deleted == false())
        .values(deleted=True, modified_ms=modified_ms, change_seq=change_seq)
    )


def purge_targets(conn: Connection, account_id: int) -> None:
    conn.execute(delete(call_targets).where(_t.account_id == account_id))


def backfill_targets(conn: Connection, *, batch: int = 2000) -> int:
    """Write the target rows of every stored call that has none; returns how many calls.

    Used by migration 0006 and by data sets loaded around the write path. Reads calls in
    primary-key order, a batch at a time, so memory stays flat whatever the table size.
    """
    done, last = 0, 0
    has_targets = select(_t.call_pk).where(_t.call_pk == calls.c.pk).exists()
    while True:
        rows = conn.execute(
            select(
                calls.c.pk,
                calls.c.account_id,
                calls.c.summary,
                calls.c.deleted,
                calls.c.modified_ms,
                calls.c.change_seq,
                call_details.c.legs,
            )
            .join(call_details, call_details.c.call_pk == calls.c.pk)
            .where(calls.c.pk > last, not_(has_targets))
            .order_by(calls.c.pk)
            .limit(batch)
        ).all()
        if not rows:
            return done
        out: list[dict[str, Any]] = []
        for r in rows:
            record = decode_record(
                r.summary, legs=r.legs, deleted=r.deleted, modified_ms=r.modified_ms
            )
            stamp = {
                "call_pk": r.pk,
                "modified_ms": r.modified_ms,
                "created_seq": r.change_seq,
                "change_seq": r.change_seq,
            }
            out.extend(dict(t, **stamp) for t in target_rows(r.account_id, record))
        if out:
            _insert(conn, out)
        done += len(rows)
        last = rows[-1].pk
