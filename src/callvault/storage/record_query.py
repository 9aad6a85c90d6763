"""``RecordQuery`` → SQL for the records the OneUptime face serves: incoming call logs, their
dial attempts, policies and escalation rules, with their related records one level deep.

Every filter, order and page is done by the database: a list is one SELECT of the asked columns
(related records LEFT JOINed) plus one COUNT, and list-valued fields are read for the page only.
Records come back as tuples of values in the order the query names its fields, for the face to
map without a lookup per value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    cast,
    exists,
    false,
    func,
    not_,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from callvault.domain.record_query import AnyOf, Condition, Filter, Op, RecordQuery
from callvault.storage.incoming_calls import HOUR_MS
from callvault.storage.schema import (
    accounts,
    extensions,
    incoming_call_log_hours,
    incoming_call_log_items,
    incoming_call_logs,
    incoming_call_policies,
    incoming_call_policy_numbers,
    incoming_call_policy_rules,
    oncall_groups,
)

Expr = ColumnElement[Any]
FieldSql = Callable[[FromClause], Expr]


@dataclass(slots=True, frozen=True)
class FieldSpec:
    sql: FieldSql
    nullable: bool
    text: bool  # compared as text (no CAST needed for substring operators)


@dataclass(slots=True, frozen=True)
class ManySpec:
    """A list-valued field: values of ``value`` in ``table`` rows whose ``fk`` is the key."""

    table: Table
    fk: str
    value: str
    order: str


@dataclass(slots=True, frozen=True)
class RelationSpec:
    target: str
    local: str  # field of this entity holding the related record's key


@dataclass(slots=True)
class EntitySpec:
    table: Table
    account: str | None  # field scoping rows to the account; None: ``id`` is the account
    fields: dict[str, FieldSpec] = field(default_factory=dict)
    many: dict[str, ManySpec] = field(default_factory=dict)
    relations: dict[str, RelationSpec] = field(default_factory=dict)
    # One alias per relation, made once: building aliases per query costs more than the SQL.
    _aliases: dict[str, FromClause] = field(default_factory=dict)

    def alias(self, relation: str, target: EntitySpec) -> FromClause:
        found = self._aliases.get(relation)
        if found is None:
            found = self._aliases[relation] = target.table.alias(f"rel_{relation}")
        return found

    def scope(self, source: FromClause) -> Expr:
        """Rows of the account bound as ``account_id``."""
        return self.fields[self.account or "id"].sql(source) == bindparam("account_id")


def _col(table: Table, name: str) -> FieldSpec:
    column: Column[Any] = table.c[name]

    def sql(source: FromClause) -> Expr:
        return source.c[name]

    return FieldSpec(sql, bool(column.nullable), isinstance(column.type, String))


def _cols(table: Table, *names: str, **renamed: str) -> dict[str, FieldSpec]:
    out = {name: _col(table, name) for name in names}
    out.update({alias: _col(table, name) for alias, name in renamed.items()})
    return out


def _always_null(kind: Any) -> FieldSpec:
    """Columns the dialect has that callvault never fills (soft delete, creators)."""
    return FieldSpec(lambda _t: cast(null(), kind), True, kind is String)


def _primary_number(column: str, kind: Any) -> FieldSpec:
    """A column of a policy's primary routing number (the first one)."""
    n = incoming_call_policy_numbers

    def sql(t: FromClause) -> Expr:
        sub = (
            select(n.c[column])
            .where(n.c.policy_id == t.c.id)
            .order_by(n.c.position)
            .limit(1)
            .scalar_subquery()
        )
        return cast(sub, kind)

    return FieldSpec(sql, True, kind is String)


_ACCOUNT = RelationSpec("account", "account_id")

ENTITIES: dict[str, EntitySpec] = {
    "account": EntitySpec(accounts, None, _cols(accounts, "id", "name")),
    "extension": EntitySpec(
        extensions, "account_id", _cols(extensions, "id", "account_id", "name", "number")
    ),
    "oncall_group": EntitySpec(
        oncall_groups, "account_id", _cols(oncall_groups, "id", "account_id", "name")
    ),
    "incoming_call_policy": EntitySpec(
        incoming_call_policies,
        "account_id",
        {
            **_cols(
                incoming_call_policies,
                "id",
                "account_id",
                "name",
                "description",
                "slug",
                "greeting_message",
                "no_answer_message",
                "no_one_available_message",
                "is_enabled",
                "repeat_if_no_one_answers",
                "repeat_times",
                "created_ms",
                "updated_ms",
            ),
            "routing_number": _primary_number("phone_number", String),
            "provider_number_id": _primary_number("provider_number_id", String),
            "country_code": _primary_number("country_code", String),
            "area_code": _primary_number("area_code", String),
            "purchased_ms": _primary_number("purchased_ms", BigInteger),
            "deleted_ms": _always_null(BigInteger),
            "provider_config_id": _always_null(String),
            "created_by": _always_null(String),
        },
        many={
            "routing_numbers": ManySpec(
                incoming_call_policy_numbers, "policy_id", "phone_number", "position"
            )
        },
        relations={"account": _ACCOUNT},
    ),
    "incoming_call_policy_rule": EntitySpec(
        incoming_call_policy_rules,
        "account_id",
        {
            **_cols(
                incoming_call_policy_rules,
                "id",
                "account_id",
                "policy_id",
                "name",
                "description",
                "escalate_after_seconds",
                "extension_id",
                "group_id",
                "created_ms",
                "updated_ms",
                order="rule_order",
            ),
            "deleted_ms": _always_null(BigInteger),
            "created_by": _always_null(String),
        },
        relations={
            "account": _ACCOUNT,
            "policy": RelationSpec("incoming_call_policy", "policy_id"),
            "user": RelationSpec("extension", "extension_id"),
            "group": RelationSpec("oncall_group", "group_id"),
        },
    ),
    "incoming_call_log": EntitySpec(
        incoming_call_logs,
        "account_id",
        {
            **_cols(
                incoming_call_logs,
                *(c.name for c in incoming_call_logs.columns),
            ),
            "deleted_ms": _always_null(BigInteger),
        },
        relations={
            "account": _ACCOUNT,
            "policy": RelationSpec("incoming_call_policy", "policy_id"),
            "answered_by": RelationSpec("extension", "answered_by_extension_id"),
        },
    ),
    "incoming_call_log_item": EntitySpec(
        incoming_call_log_items,
        "account_id",
        {
            **_cols(
                incoming_call_log_items,
                *(c.name for c in incoming_call_log_items.columns),
            ),
            "deleted_ms": _always_null(BigInteger),
        },
        relations={
            "account": _ACCOUNT,
            "log": RelationSpec("incoming_call_log", "log_id"),
            "rule": RelationSpec("incoming_call_policy_rule", "rule_id"),
            "user": RelationSpec("extension", "extension_id"),
        },
    ),
}


class QueryProblem(ValueError):
    """A query names something the store does not have (a face should have caught it)."""


def _spec(entity: str) -> EntitySpec:
    try:
        return ENTITIES[entity]
    except KeyError:
        raise QueryProblem(f"unknown entity {entity}") from None


def _field(spec: EntitySpec, name: str) -> FieldSpec:
    try:
        return spec.fields[name]
    except KeyError:
        raise QueryProblem(f"unknown field {name}") from None


# -- statements by shape ----------------------------------------------------------------------
#
# A query's shape is everything that decides its SQL (entity, fields, relations, which filters
# with which operators, order); its values are bound by name. Statements are built once per
# shape and reused: building a page's SELECT with its joins and filters anew cost about as much
# as running it on a 100-row page.

Shape = tuple[Any, ...]
# One record read: the values of the query's fields in order, then of each relation's fields.
Values = tuple[object, ...]
_LIKE = {
    Op.CONTAINS: "contains",
    Op.STARTS_WITH: "starts",
    Op.ENDS_WITH: "ends",
    Op.NOT_CONTAINS: "contains",
}


class _Binder:
    """Names a query's values by position (``v0``, ``v1`` …), so the same filters with other
    values have the same shape."""

    __slots__ = ("n", "params")

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.n = 0

    def __call__(self, value: object) -> str:
        name = f"v{self.n}"
        self.n += 1
        self.params[name] = value
        return name


def _like_pattern(value: object, where: str) -> str:
    text = str(value).strip().lower()
    text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"contains": f"%{text}%", "starts": f"{text}%", "ends": f"%{text}"}[where]


def _arg(op: Op, values: Sequence[object], bind: _Binder) -> Any:
    """The names of the values ``op`` compares with (None: it needs none)."""
    first = values[0] if values else None
    if op in (Op.EQ, Op.NE):
        return None if first is None else bind(first)  # null: IS (NOT) NULL
    if op in (Op.IS_NULL, Op.NOT_NULL):
        return None
    if op is Op.BETWEEN:
        return (bind(values[0]), bind(values[1]))
    if op is Op.EQ_OR_NULL:
        return bind([v for v in values if v is not None])
    if op in (Op.IN, Op.NOT_IN):
        return bind(list(values)) if values else None  # empty: nothing / everything
    if op in _LIKE:
        return bind(_like_pattern(first, _LIKE[op]))
    return bind(first)


def _filter_shape(item: Filter, bind: _Binder) -> Shape:
    if isinstance(item, AnyOf):
        return ("any", tuple(_filter_shape(c, bind) for c in item.conditions))
    return ("cond", item.relation, item.field, item.op, _arg(item.op, item.values, bind))


def _where_shape(query: RecordQuery, params: dict[str, Any]) -> Shape:
    """``query.where`` as a shape; its values go into ``params``."""
    params["account_id"] = query.account_id
    bind = _Binder(params)
    return tuple(_filter_shape(item, bind) for item in query.where)


# -- filters ----------------------------------------------------------------------------------


def _as_text(spec: FieldSpec, expr: Expr) -> Expr:
    return expr if spec.text else cast(expr, String)


def _compare(spec: FieldSpec, expr: Expr, op: Op, arg: Any) -> Expr:
    match op:
        case Op.EQ:
            return expr.is_(None) if arg is None else expr == bindparam(arg)
        case Op.NE:
            return expr.is_not(None) if arg is None else expr != bindparam(arg)
        case Op.GT:
            return expr > bindparam(arg)
        case Op.GE:
            return expr >= bindparam(arg)
        case Op.LT:
            return expr < bindparam(arg)
        case Op.LE:
            return expr <= bindparam(arg)
        case Op.EQ_OR_NULL:
            return or_(expr.in_(bindparam(arg, expanding=True)), expr.is_(None))
        case Op.GT_OR_NULL:
            return or_(expr > bindparam(arg), expr.is_(None))
        case Op.LT_OR_NULL:
            return or_(expr < bindparam(arg), expr.is_(None))
        case Op.BETWEEN:
            return and_(expr >= bindparam(arg[0]), expr <= bindparam(arg[1]))
        case Op.IS_NULL:
            return expr.is_(None)
        case Op.NOT_NULL:
            return expr.is_not(None)
        case Op.CONTAINS | Op.STARTS_WITH | Op.ENDS_WITH:
            return _as_text(spec, expr).ilike(bindparam(arg), escape="\\")
        case Op.NOT_CONTAINS:
            text = _as_text(spec, expr)
            return or_(not_(text.ilike(bindparam(arg), escape="\\")), expr.is_(None))
        case Op.IN:
            return expr.in_(bindparam(arg, expanding=True)) if arg else false()
        case Op.NOT_IN:
            return expr.not_in(bindparam(arg, expanding=True)) if arg else true()
    raise QueryProblem(f"unknown operator {op}")


def _many_condition(spec: EntitySpec, source: FromClause, name: str, op: Op, arg: Any) -> Expr:
    many = spec.many[name]
    value = many.table.c[many.value]
    value_spec = FieldSpec(lambda _t: value, True, True)
    owned = many.table.c[many.fk] == source.c.id
    if op is Op.IS_NULL:
        return not_(exists().where(owned))
    if op is Op.NOT_NULL:
        return exists().where(owned)
    return exists().where(owned, _compare(value_spec, value, op, arg))


def _condition(spec: EntitySpec, source: FromClause, shape: Shape) -> Expr:
    _, relation, name, op, arg = shape
    if relation is not None:
        rel = spec.relations.get(relation)
        if rel is None:
            raise QueryProblem(f"unknown relation {relation}")
        target = _spec(rel.target)
        inner_source = target.table.alias()
        inner = select(_field(target, "id").sql(inner_source)).where(
            target.scope(inner_source),
            _condition(target, inner_source, ("cond", None, name, op, arg)),
        )
        return _field(spec, rel.local).sql(source).in_(inner)
    if name in spec.many:
        return _many_condition(spec, source, name, op, arg)
    fspec = _field(spec, name)
    return _compare(fspec, fspec.sql(source), op, arg)


def _filter(spec: EntitySpec, source: FromClause, shape: Shape) -> Expr:
    if shape[0] == "any":
        return or_(*(_condition(spec, source, c) for c in shape[1]))
    return _condition(spec, source, shape)


def _where(spec: EntitySpec, source: FromClause, where: Shape) -> Expr:
    return and_(spec.scope(source), *(_filter(spec, source, item) for item in where))


# -- counting ---------------------------------------------------------------------------------


def count(conn: Connection, query: RecordQuery) -> int:
    """How many records match (paging ignored)."""
    window = _started_window(query)
    if window is not None:
        return _count_window(conn, query.account_id, *window)
    params: dict[str, Any] = {}
    where = _where_shape(query, params)
    return int(conn.execute(_count_statement(query.entity, where), params).scalar_one())


@lru_cache(maxsize=256)
def _count_statement(entity: str, where: Shape) -> Select[Any]:
    spec = _spec(entity)
    return select(func.count()).select_from(spec.table).where(_where(spec, spec.table, where))


_FAR = 2**62


def _started_window(query: RecordQuery) -> tuple[int, int] | None:
    """For a count of incoming call logs filtered only by ``started_ms`` bounds: the inclusive
    window (the hourly counts answer it); None for any other query."""
    if query.entity != "incoming_call_log" or not query.where:
        return None
    lo, hi = -_FAR, _FAR
    for item in query.where:
        if not isinstance(item, Condition) or item.relation or item.field != "started_ms":
            return None
        ints = [v for v in item.values if isinstance(v, int) and not isinstance(v, bool)]
        if len(ints) != len(item.values):
            return None
        first = ints[0] if ints else 0
        match item.op:
            case Op.GE:
                lo = max(lo, first)
            case Op.GT:
                lo = max(lo, first + 1)
            case Op.LE:
                hi = min(hi, first)
            case Op.LT:
                hi = min(hi, first - 1)
            case Op.BETWEEN:
                lo, hi = max(lo, first), min(hi, ints[1])
            case Op.EQ:
                lo, hi = max(lo, first), min(hi, first)
            case _:
                return None
    return lo, hi


def _count_window(conn: Connection, account_id: int, lo: int, hi: int) -> int:
    """Logs started in ``[lo, hi]``: whole hours from ``incoming_call_log_hours`` plus the
    rows of the partial hours at both ends, in one statement."""
    if lo > hi:
        return 0
    first = -(-lo // HOUR_MS)  # the first hour starting at or after lo
    last = (hi + 1) // HOUR_MS - 1  # the last hour ending at or before hi
    if first > last:  # no whole hour: count the rows of the window, nothing else
        head, tail, first, last = (lo, hi), (1, 0), 1, 0
    else:
        head, tail = (lo, first * HOUR_MS - 1), ((last + 1) * HOUR_MS, hi)
    params = {
        "account_id": account_id,
        "first": first,
        "last": last,
        "head_lo": head[0],
        "head_hi": head[1],
        "tail_lo": tail[0],
        "tail_hi": tail[1],
    }
    return int(conn.execute(_window_statement(), params).scalar_one())


@lru_cache(maxsize=1)
def _window_statement() -> Select[Any]:
    logs, hours = incoming_call_logs.c, incoming_call_log_hours.c
    account: Any = bindparam("account_id")

    def rows_between(lo: str, hi: str) -> Any:
        return (
            select(func.count())
            .select_from(incoming_call_logs)
            .where(
                logs.account_id == account,
                logs.started_ms >= bindparam(lo),
                logs.started_ms <= bindparam(hi),
            )
            .scalar_subquery()
        )

    whole = (
        select(func.coalesce(func.sum(hours.logs), 0))
        .where(
            hours.account_id == account,
            hours.hour >= bindparam("first"),
            hours.hour <= bindparam("last"),
        )
        .scalar_subquery()
    )
    return select(whole + rows_between("head_lo", "head_hi") + rows_between("tail_lo", "tail_hi"))


# -- reading ----------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class _Many:
    """A list-valued field of a page: read after the page's rows, for their keys only."""

    position: int  # its place in the returned values
    owner: int  # the selected column holding the owning record's key
    spec: ManySpec


@dataclass(slots=True, frozen=True)
class _Page:
    statement: Select[Any]
    picks: tuple[int, ...] | None  # selected column of each returned value; None: in order
    many: tuple[_Many, ...]


def fetch(conn: Connection, query: RecordQuery) -> list[Values]:
    """One page of matching records. Each is a tuple of the values of ``query.fields`` in
    order, then of each relation's fields in order (all None when there is no related record:
    name its ``id`` to tell); list-valued fields are tuples."""
    params: dict[str, Any] = {"limit": query.limit, "offset": query.offset}
    where = _where_shape(query, params)
    relations = tuple((name, tuple(names)) for name, names in query.relations.items())
    order = tuple((o.field, o.descending) for o in query.order)
    page = _page(query.entity, tuple(query.fields), relations, where, order)
    rows = conn.execute(page.statement, params).all()
    if page.picks is None:
        return [tuple(r) for r in rows]
    out = [[None if i < 0 else r[i] for i in page.picks] for r in rows]
    for many in page.many:
        found = _many_values(conn, many.spec, {r[many.owner] for r in rows} - {None})
        for r, values in zip(rows, out, strict=True):
            key = r[many.owner]
            values[many.position] = None if key is None else tuple(found[key])
    return [tuple(values) for values in out]


@lru_cache(maxsize=256)
def _page(
    entity: str,
    fields: tuple[str, ...],
    relations: tuple[tuple[str, tuple[str, ...]], ...],
    where: Shape,
    order: tuple[tuple[str, bool], ...],
) -> _Page:
    spec = _spec(entity)
    source: FromClause = spec.table
    joined: Any = source
    columns: list[Expr] = []
    picks: list[int] = []
    many: list[_Many] = []

    def add(expr: Expr) -> int:
        columns.append(expr.label(f"c{len(columns)}"))
        return len(columns) - 1

    def add_fields(owner: EntitySpec, at: FromClause, names: tuple[str, ...]) -> None:
        key: int | None = None
        for name in names:
            if name in owner.many:
                if key is None:
                    key = add(_field(owner, "id").sql(at))
                many.append(_Many(len(picks), key, owner.many[name]))
                picks.append(-1)
            else:
                picks.append(add(_field(owner, name).sql(at)))

    add_fields(spec, source, fields)
    for rel_name, rel_fields in relations:
        rel = spec.relations.get(rel_name)
        if rel is None:
            raise QueryProblem(f"unknown relation {rel_name}")
        target = _spec(rel.target)
        alias = spec.alias(rel_name, target)
        key = _field(target, "id").sql(alias)
        joined = joined.outerjoin(alias, key == _field(spec, rel.local).sql(source))
        add_fields(target, alias, rel_fields)
    stmt = (
        select(*columns)
        .select_from(joined)
        .where(_where(spec, source, where))
        .order_by(*_ordering(spec, source, order))
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )
    in_order = picks == list(range(len(columns)))
    return _Page(stmt, None if in_order else tuple(picks), tuple(many))


def _ordering(
    spec: EntitySpec, source: FromClause, order: tuple[tuple[str, bool], ...]
) -> list[Any]:
    out: list[Any] = []
    for name, descending in order:
        fspec = _field(spec, name)
        expr = fspec.sql(source)
        if descending:
            # PostgreSQL's own placement (nulls count as largest), on SQLite too.
            out.append(expr.desc().nulls_first() if fspec.nullable else expr.desc())
        else:
            out.append(expr.asc().nulls_last() if fspec.nullable else expr.asc())
    last_desc = order[-1][1] if order else True
    key = _field(spec, "id").sql(source)
    out.append(key.desc() if last_desc else key.asc())  # a stable order for paging
    return out


def _many_values(conn: Connection, many: ManySpec, keys: set[object]) -> dict[object, list[object]]:
    found: dict[object, list[object]] = {k: [] for k in keys}
    if keys:
        rows = conn.execute(_many_statement(many), {"keys": sorted(keys, key=str)})
        for key, value in rows:
            found[key].append(value)
    return found


@lru_cache(maxsize=16)
def _many_statement(many: ManySpec) -> Select[Any]:
    t = many.table
    return (
        select(t.c[many.fk], t.c[many.value])
        .where(t.c[many.fk].in_(bindparam("keys", expanding=True)))
        .order_by(t.c[many.fk], t.c[many.order])
    )


def field_kinds(entity: str) -> dict[str, str]:
    """Each field's storage kind (``int``, ``bool``, ``text``, ``many``): for checks in tests."""
    spec = _spec(entity)
    out: dict[str, str] = {name: "many" for name in spec.many}
    for name, fspec in spec.fields.items():
        expr = fspec.sql(spec.table)
        kind = expr.type
        if isinstance(kind, Boolean):
            out[name] = "bool"
        elif isinstance(kind, BigInteger | Integer):
            out[name] = "int"
        else:
            out[name] = "text"
    return out
