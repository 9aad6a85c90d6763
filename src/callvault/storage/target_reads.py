"""Reads of the ``call_targets`` rows: a page of a view with its total count, a target by id,
and an extension's changes in commit order. ``TargetQuery`` predicates compile to SQL here, so
every filter, order and page is done by the database, never over rows in memory.

A page's total can come from ``KeptTotals`` (services/targets.py's ``TotalCache``) instead of a
COUNT, when the account's change state says nothing was written since it was counted; why
that is exact is explained at ``TargetStore._total``.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    false,
    func,
    not_,
    or_,
    select,
    true,
)

from callvault.domain.target_query import (
    SEARCHED,
    AllOf,
    AnyOf,
    Compare,
    Match,
    Negation,
    OneOf,
    Op,
    Predicate,
    SortKey,
    TargetField,
    TargetQuery,
    TargetRef,
    TextMatch,
    Value,
)
from callvault.domain.targets import (
    CallTarget,
    EndReason,
    Rerouting,
    StoredTarget,
    TargetDirection,
)
from callvault.storage.changes import ChangeState, change_state
from callvault.storage.codec import from_ms, to_ms
from callvault.storage.engine import Database
from callvault.storage.schema import call_targets

_t = call_targets.c

_COLUMN: dict[TargetField, Column[Any]] = {
    TargetField.ID: _t.target_id,
    TargetField.SESSION_ID: _t.session_id,
    TargetField.CALLER: _t.caller,
    TargetField.CALLER_DOMAIN: _t.caller_domain,
    TargetField.CALLER_NAME: _t.caller_name,
    TargetField.CALLEE: _t.callee,
    TargetField.CALLEE_DOMAIN: _t.callee_domain,
    TargetField.CALLEE_NAME: _t.callee_name,
    TargetField.STARTED: _t.started_ms,
    TargetField.RANG: _t.rang_ms,
    TargetField.ANSWERED: _t.answered_ms,
    TargetField.ENDED: _t.ended_ms,
    TargetField.CALL_ID: _t.call_id,
    TargetField.DIRECTION: _t.direction,
    TargetField.END_REASON: _t.end_reason,
    TargetField.REROUTED_BY: _t.rerouted_by,
    TargetField.STATUS_CODE: _t.status_code,
    TargetField.DESTINATION: _t.destination,
    TargetField.OUTBOUND_CALLER_ID: _t.outbound_caller_id,
    TargetField.DID: _t.did,
    TargetField.TRUNK: _t.trunk,
    TargetField.TALK_SECONDS: _t.talk_seconds,
    TargetField.COST: _t.cost,
    TargetField.BILLED_ACCOUNT: _t.billed_account,
    TargetField.SERVICE_NUMBER: _t.service_number,
    TargetField.USER_DATA: _t.user_data,
}
_NULLABLE = frozenset({TargetField.RANG, TargetField.ANSWERED})


def _scope(account_id: int, extension_id: int | None) -> list[ColumnElement[bool]]:
    cond = [_t.account_id == account_id, _t.deleted == false()]
    if extension_id is None:
        return [*cond, _t.in_company == true()]
    return [*cond, _t.owner_extension_id == extension_id, _t.in_owner == true()]


def _contains(col: ColumnElement[Any], text: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        return func.strpos(col, text) > 0
    return func.instr(col, text) > 0


def _compare(field: TargetField, op: Op, value: Value) -> ColumnElement[bool]:
    col = _COLUMN[field]
    if isinstance(value, datetime):
        value = to_ms(value)
    if value is None:
        if op not in (Op.EQ, Op.NE) or field not in _NULLABLE:
            # Only unknown times are null; "" is how an unknown text is stored.
            return true() if op is Op.NE and field not in _NULLABLE else false()
        return col.is_(None) if op is Op.EQ else col.is_not(None)
    test: ColumnElement[bool] = {
        Op.EQ: col == value,
        Op.NE: col != value,
        Op.GT: col > value,
        Op.GE: col >= value,
        Op.LT: col < value,
        Op.LE: col <= value,
    }[op]
    if field not in _NULLABLE:
        return test
    # An unknown time compares false, and "not" of that is true (never SQL's unknown).
    if op is Op.NE:
        return or_(col.is_(None), test)
    return and_(col.is_not(None), test)


def _text_match(p: TextMatch, dialect: str) -> ColumnElement[bool]:
    col, n = _COLUMN[p.field], len(p.text)
    if n == 0:
        return true()
    if p.kind is Match.STARTS:
        return func.substr(col, 1, n) == p.text
    if p.kind is Match.ENDS:
        return and_(func.length(col) >= n, func.substr(col, func.length(col) - n + 1) == p.text)
    return _contains(col, p.text, dialect)


def compile_predicate(p: Predicate, dialect: str) -> ColumnElement[bool]:
    """A predicate tree as a SQL boolean over ``call_targets``."""
    if isinstance(p, Compare):
        return _compare(p.field, p.op, p.value)
    if isinstance(p, TextMatch):
        return _text_match(p, dialect)
    if isinstance(p, OneOf):
        return _COLUMN[p.field].in_(p.values) if p.values else false()
    if isinstance(p, AllOf):
        return and_(true(), *(compile_predicate(q, dialect) for q in p.parts))
    if isinstance(p, AnyOf):
        return or_(false(), *(compile_predicate(q, dialect) for q in p.parts))
    return not_(compile_predicate(p.part, dialect))


def _search(groups: tuple[tuple[str, ...], ...], dialect: str) -> ColumnElement[bool]:
    def word(w: str) -> ColumnElement[bool]:
        needle = w.lower()
        return or_(*(_contains(func.lower(_COLUMN[f]), needle, dialect) for f in SEARCHED))

    return or_(*(and_(*(word(w) for w in group)) for group in groups))


def _order(keys: tuple[SortKey, ...]) -> list[Any]:
    out: list[Any] = []
    for key in keys:
        col = _COLUMN[key.field]
        ordered = col.desc() if key.descending else col.asc()
        if key.field in _NULLABLE:  # the same place for unknown times on both backends
            ordered = ordered.nulls_last() if key.descending else ordered.nulls_first()
        out.append(ordered)
    first_desc = keys[0].descending if keys else True
    out.append(_t.pk.desc() if first_desc else _t.pk.asc())
    return out


# The columns a read returns, in the order ``_decode`` unpacks them.
_READ = (
    _t.target_id,
    _t.session_id,
    _t.position,
    _t.caller,
    _t.caller_domain,
    _t.caller_name,
    _t.callee,
    _t.callee_domain,
    _t.callee_name,
    _t.started_ms,
    _t.rang_ms,
    _t.answered_ms,
    _t.ended_ms,
    _t.call_id,
    _t.direction,
    _t.end_reason,
    _t.rerouted_by,
    _t.status_code,
    _t.destination,
    _t.outbound_caller_id,
    _t.did,
    _t.trunk,
    _t.talk_seconds,
    _t.cost,
    _t.billed_account,
    _t.service_number,
    _t.user_data,
    _t.in_company,
    _t.in_owner,
    _t.owner_extension_id,
    _t.deleted,
    _t.modified_ms,
    _t.pk,
    _t.created_seq,
    _t.change_seq,
)
# Where a row of ``_READ`` holds its version: key, change number, modification time.
_VERSION_AT = tuple(
    next(i for i, col in enumerate(_READ) if col.key == name)
    for name in ("pk", "change_seq", "modified_ms")
)
_DIRECTIONS = {d.value: d for d in TargetDirection}
_END_REASONS: dict[str, EndReason | None] = {"": None, **{e.value: e for e in EndReason}}
_REROUTINGS: dict[str, Rerouting | None] = {"": None, **{r.value: r for r in Rerouting}}


def _decode(row: Any) -> StoredTarget:
    """A row of ``_READ`` columns; positional, as list pages decode a hundred at a time."""
    (
        target_id,
        session_id,
        position,
        caller,
        caller_domain,
        caller_name,
        callee,
        callee_domain,
        callee_name,
        started,
        rang,
        answered,
        ended,
        call_id,
        direction,
        end_reason,
        rerouted_by,
        status_code,
        destination,
        outbound_caller_id,
        did,
        trunk,
        talk_seconds,
        cost,
        billed_account,
        service_number,
        user_data,
        in_company,
        in_owner,
        owner,
        deleted,
        modified,
        pk,
        created_seq,
        change_seq,
    ) = row
    target = CallTarget(
        target_id,
        session_id,
        position,
        caller,
        caller_domain,
        caller_name,
        callee,
        callee_domain,
        callee_name,
        from_ms(started),
        from_ms(rang) if rang is not None else None,
        from_ms(answered) if answered is not None else None,
        from_ms(ended),
        call_id,
        _DIRECTIONS[direction],
        _END_REASONS[end_reason],
        _REROUTINGS[rerouted_by],
        status_code,
        destination,
        outbound_caller_id,
        did,
        trunk,
        talk_seconds,
        cost,
        billed_account,
        service_number,
        user_data,
        bool(in_company),
        bool(in_owner),
    )
    return StoredTarget(
        target, owner, bool(deleted), from_ms(modified), pk, created_seq, change_seq
    )


@dataclass(slots=True, frozen=True)
class Changes:
    """A slice of one extension's target changes, in commit order, and where it ended."""

    items: list[StoredTarget]
    # The newest change number committed when the slice was read, and the log's reset count.
    upto: int
    log_epoch: int


class KeptTotals(Protocol):
    """Totals of list queries by ``total_key``, each good only at the change state it was
    counted at: ``get`` answers None unless the entry's state is exactly ``state``."""

    def get(self, key: Hashable, state: ChangeState) -> int | None: ...

    def put(self, key: Hashable, state: ChangeState, total: int) -> None: ...


class TotalKey(NamedTuple):
    """What a query's total depends on: account, view, filter and search, never its order or
    window. The predicates are frozen dataclasses, hashable as they are; the types of the
    compared values go in beside them because ``1 == 1.0 == True`` in Python while the bound
    parameters differ (PostgreSQL would refuse a boolean against a number column)."""

    account_id: int
    extension_id: int | None
    where: Predicate | None
    value_types: tuple[str, ...]
    search: tuple[tuple[str, ...], ...]


def total_key(query: TargetQuery) -> TotalKey:
    return TotalKey(
        query.account_id,
        query.extension_id,
        query.where,
        _value_types(query.where),
        query.search,
    )


def _value_types(p: Predicate | None) -> tuple[str, ...]:
    if isinstance(p, Compare):
        return (type(p.value).__name__,)
    if isinstance(p, AllOf | AnyOf):
        return tuple(t for q in p.parts for t in _value_types(q))
    if isinstance(p, Negation):
        return _value_types(p.part)
    return ()


@lru_cache(maxsize=512)
def _statements(
    key: TotalKey, order: tuple[SortKey, ...], dialect: str
) -> tuple[tuple[ColumnElement[bool], ...], Select[Any]]:
    """The conditions and the page SELECT (window bound at execution) of a query, built once
    per account, view, filter and order: a client paging through a filter, or polling it,
    repeats them, and building the expressions cost about a sixth of a page."""
    cond = _scope(key.account_id, key.extension_id)
    if key.where is not None:
        cond.append(compile_predicate(key.where, dialect))
    if key.search:
        cond.append(_search(key.search, dialect))
    page = (
        select(*_READ)
        .where(*cond)
        .order_by(*_order(order))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    return tuple(cond), page


class TargetStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def page(
        self, query: TargetQuery, totals: KeptTotals | None = None
    ) -> tuple[list[StoredTarget], int]:
        """One page of targets in the asked order, and how many match in all.

        The total is counted only when the page cannot tell it: a page that is not full,
        after a skip that did not run past the end, already says how many there are. With
        ``totals``, a total counted before is reused while the account has not changed.
        """
        refs, total = self.page_stored(query, totals)
        return [ref.load() for ref in refs], total

    def page_stored(
        self, query: TargetQuery, totals: KeptTotals | None = None
    ) -> tuple[list[TargetRef], int]:
        """``page`` with each target's decoding left to the caller (``TargetRef.load``); the
        version is the row's key, change number and modification time (every write of a
        target row stamps a new change number)."""
        key = total_key(query)
        cond, page = _statements(key, query.order, self.db.engine.dialect.name)
        with self.db.read() as conn:
            rows = conn.execute(page, {"limit": query.limit, "offset": query.offset}).all()
            if len(rows) < query.limit and (rows or query.offset == 0):
                total = query.offset + len(rows)
            elif totals is None:
                total = self._count(conn, cond)
            else:
                total = self._total(conn, cond, key, totals)
        pk, seq, modified = _VERSION_AT
        refs = [TargetRef((r[pk], r[seq], r[modified]), partial(_decode, r)) for r in rows]
        return refs, total

    def _total(
        self,
        conn: Connection,
        cond: Sequence[ColumnElement[bool]],
        key: TotalKey,
        totals: KeptTotals,
    ) -> int:
        """The total from ``totals`` if it was counted at the account's current change state,
        else counted now and kept under the state read *before* the count.

        Why a kept total is exact. (1) Every transaction that changes an account's
        ``call_targets`` rows moves its change state in the same transaction: ingest stamps
        a new change number (``stamp_pending``), a soft delete takes one (``reserve_change``),
        a purge bumps the log epoch (``reset_call_log``); so the rows and the state become
        visible together, in one commit. (2) The state only grows, and its row is never
        deleted. (3) The state is read before the COUNT, on this connection, and an entry is
        used only at exactly its state.

        Reads here see a fresh snapshot per statement, on both backends: PostgreSQL's READ
        COMMITTED, and SQLite because pysqlite opens no transaction for a SELECT (each one
        is its own WAL read). So the COUNT may see writes committed after the state was read,
        and a total kept under state S may include writes past S. It is still never served
        once the state has moved: a reader that reads S+1 or later misses the entry. A reader
        that reads S and finds the entry looks after that count ran. If the count saw a
        commit past S, the commit came after this reader read S and before it looked, so the
        total is the true count at a moment within this reader's request, as its own COUNT
        after its page would have been. If not, it is the count at S, the state the reader
        saw. Either way nothing committed before a list began is missing from its total.

        Not covered: rows written around the write path. ``backfill_targets`` (migration
        0006, bench data sets) inserts rows without moving the state; it runs in
        ``db upgrade`` before any server of this version starts, so no process holds an
        entry yet (they live in memory), and after it every write path writes the rows
        itself, so a later backfill finds nothing to add. The test suite's table wipes
        delete the state row, but each test's account has a new random id.
        """
        state = change_state(conn, key.account_id)
        total = totals.get(key, state)
        if total is None:
            total = self._count(conn, cond)
            totals.put(key, state, total)
        return total

    def count(self, query: TargetQuery) -> int:
        """How many targets match ``query`` (its order and window aside)."""
        with self.db.read() as conn:
            cond, _ = _statements(total_key(query), query.order, self.db.engine.dialect.name)
            return self._count(conn, cond)

    @staticmethod
    def _count(conn: Connection, cond: Sequence[ColumnElement[bool]]) -> int:
        total = select(func.count()).select_from(call_targets).where(*cond)
        return int(conn.execute(total).scalar_one())

    def get(
        self, account_id: int, target_id: str, extension_id: int | None = None
    ) -> StoredTarget | None:
        """A target of the company's view, or of the extension's own view when given."""
        cond = [*_scope(account_id, extension_id), _t.target_id == target_id]
        with self.db.read() as conn:
            row = conn.execute(select(*_READ).where(*cond).limit(1)).first()
        return _decode(row) if row is not None else None

    def changes(
        self,
        account_id: int,
        extension_id: int,
        *,
        after: tuple[int, int],
        started_from: datetime | None,
        limit: int,
    ) -> Changes:
        """The extension's own targets written after the (change number, row) ``after``,
        up to the newest committed change, oldest first, at most ``limit``."""
        seq, row = after
        with self.db.read() as conn:
            state = change_state(conn, account_id)
            cond = [
                _t.account_id == account_id,
                _t.owner_extension_id == extension_id,
                _t.in_owner == true(),
                or_(_t.change_seq > seq, and_(_t.change_seq == seq, _t.pk > row)),
                _t.change_seq <= state.change_seq,
            ]
            if started_from is not None:
                cond.append(_t.started_ms >= to_ms(started_from))
            rows = conn.execute(
                select(*_READ).where(*cond).order_by(_t.change_seq, _t.pk).limit(limit)
            ).all()
        return Changes([_decode(r) for r in rows], state.change_seq, state.log_epoch)

    def newest_change(self, account_id: int) -> tuple[int, int]:
        """The account's newest committed change number and its log's reset count."""
        with self.db.read() as conn:
            state = change_state(conn, account_id)
        return state.change_seq, state.log_epoch
