"""``RecordQuery`` → SQL for the records the OneUptime face serves: incoming call logs, their
dial attempts, policies and escalation rules, with their related records one level deep.

Every filter, order and page is done by the database: a list is one SELECT of the asked columns
(related records LEFT JOINed) plus one COUNT, and list-valued fields are read for the page only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Integer,
    String,
    Table,
    and_,
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

from callvault.domain.record_query import AnyOf, Condition, Filter, Op, RecordQuery, Row
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

    def scope(self, source: FromClause, account_id: int) -> Expr:
        return self.fields[self.account or "id"].sql(source) == account_id


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


# -- filters ----------------------------------------------------------------------------------


def _like_pattern(value: object, where: str) -> str:
    text = str(value).strip().lower()
    text = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return {"contains": f"%{text}%", "starts": f"{text}%", "ends": f"%{text}"}[where]


def _as_text(spec: FieldSpec, expr: Expr) -> Expr:
    return expr if spec.text else cast(expr, String)


def _compare(spec: FieldSpec, expr: Expr, op: Op, values: Sequence[object]) -> Expr:
    first = values[0] if values else None
    match op:
        case Op.EQ:
            return expr.is_(None) if first is None else expr == first
        case Op.NE:
            return expr.is_not(None) if first is None else expr != first
        case Op.GT:
            return expr > first
        case Op.GE:
            return expr >= first
        case Op.LT:
            return expr < first
        case Op.LE:
            return expr <= first
        case Op.EQ_OR_NULL:
            return or_(expr.in_([v for v in values if v is not None]), expr.is_(None))
        case Op.GT_OR_NULL:
            return or_(expr > first, expr.is_(None))
        case Op.LT_OR_NULL:
            return or_(expr < first, expr.is_(None))
        case Op.BETWEEN:
            return and_(expr >= values[0], expr <= values[1])
        case Op.IS_NULL:
            return expr.is_(None)
        case Op.NOT_NULL:
            return expr.is_not(None)
        case Op.CONTAINS:
            return _as_text(spec, expr).ilike(_like_pattern(first, "contains"), escape="\\")
        case Op.STARTS_WITH:
            return _as_text(spec, expr).ilike(_like_pattern(first, "starts"), escape="\\")
        case Op.ENDS_WITH:
            return _as_text(spec, expr).ilike(_like_pattern(first, "ends"), escape="\\")
        case Op.NOT_CONTAINS:
            text = _as_text(spec, expr)
            return or_(
                not_(text.ilike(_like_pattern(first, "contains"), escape="\\")), expr.is_(None)
            )
        case Op.IN:
            return expr.in_(list(values)) if values else false()
        case Op.NOT_IN:
            return expr.not_in(list(values)) if values else true()
    raise QueryProblem(f"unknown operator {op}")


def _many_condition(spec: EntitySpec, source: FromClause, cond: Condition) -> Expr:
    many = spec.many[cond.field]
    value = many.table.c[many.value]
    value_spec = FieldSpec(lambda _t: value, True, True)
    if cond.op is Op.IS_NULL:
        return not_(exists().where(many.table.c[many.fk] == source.c.id))
    if cond.op is Op.NOT_NULL:
        return exists().where(many.table.c[many.fk] == source.c.id)
    match = _compare(value_spec, value, cond.op, cond.values)
    return exists().where(many.table.c[many.fk] == source.c.id, match)


def _condition(spec: EntitySpec, source: FromClause, cond: Condition, account_id: int) -> Expr:
    if cond.relation is not None:
        rel = spec.relations.get(cond.relation)
        if rel is None:
            raise QueryProblem(f"unknown relation {cond.relation}")
        target = _spec(rel.target)
        inner_source = target.table.alias()
        inner_cond = Condition(cond.field, cond.op, cond.values)
        inner = select(_field(target, "id").sql(inner_source)).where(
            target.scope(inner_source, account_id),
            _condition(target, inner_source, inner_cond, account_id),
        )
        return _field(spec, rel.local).sql(source).in_(inner)
    if cond.field in spec.many:
        return _many_condition(spec, source, cond)
    fspec = _field(spec, cond.field)
    return _compare(fspec, fspec.sql(source), cond.op, cond.values)


def _where(spec: EntitySpec, source: FromClause, query: RecordQuery) -> Expr:
    parts = [spec.scope(source, query.account_id)]
    for item in query.where:
        parts.append(_filter(spec, source, item, query.account_id))
    return and_(*parts)


def _filter(spec: EntitySpec, source: FromClause, item: Filter, account_id: int) -> Expr:
    if isinstance(item, AnyOf):
        return or_(*(_condition(spec, source, c, account_id) for c in item.conditions))
    return _condition(spec, source, item, account_id)


# -- reading ----------------------------------------------------------------------------------


def count(conn: Connection, query: RecordQuery) -> int:
    """How many records match (paging ignored)."""
    window = _started_window(query)
    if window is not None:
        return _count_window(conn, query.account_id, *window)
    spec = _spec(query.entity)
    source = spec.table
    stmt = select(func.count()).select_from(source).where(_where(spec, source, query))
    return int(conn.execute(stmt).scalar_one())


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
    rows of the partial hours at both ends."""
    if lo > hi:
        return 0
    logs = incoming_call_logs.c

    def rows_between(a: int, b: int) -> int:
        if a > b:
            return 0
        stmt = select(func.count()).where(
            logs.account_id == account_id, logs.started_ms >= a, logs.started_ms <= b
        )
        return int(conn.execute(stmt).scalar_one())

    first = -(-lo // HOUR_MS)  # the first hour starting at or after lo
    last = (hi + 1) // HOUR_MS - 1  # the last hour ending at or before hi
    if first > last:
        return rows_between(lo, hi)
    hours = incoming_call_log_hours.c
    whole = select(func.coalesce(func.sum(hours.logs), 0)).where(
        hours.account_id == account_id, hours.hour >= first, hours.hour <= last
    )
    total = int(conn.execute(whole).scalar_one())
    return total + rows_between(lo, first * HOUR_MS - 1) + rows_between((last + 1) * HOUR_MS, hi)


def fetch(conn: Connection, query: RecordQuery) -> list[Row]:
    """One page of matching records with the asked fields and related records."""
    spec = _spec(query.entity)
    source: FromClause = spec.table
    joined: Any = source
    columns: list[Expr] = [_field(spec, "id").sql(source).label("id")]
    for name in query.fields:
        if name != "id" and name not in spec.many:
            columns.append(_field(spec, name).sql(source).label(name))
    for rel_name, rel_fields in query.relations.items():
        rel = spec.relations.get(rel_name)
        if rel is None:
            raise QueryProblem(f"unknown relation {rel_name}")
        target = _spec(rel.target)
        alias = spec.alias(rel_name, target)
        key = _field(target, "id").sql(alias)
        joined = joined.outerjoin(alias, key == _field(spec, rel.local).sql(source))
        columns.append(key.label(f"{rel_name}__id"))
        for name in rel_fields:
            if name != "id" and name not in target.many:
                columns.append(_field(target, name).sql(alias).label(f"{rel_name}__{name}"))
    stmt = select(*columns).select_from(joined).where(_where(spec, source, query))
    stmt = stmt.order_by(*_ordering(spec, source, query)).limit(query.limit).offset(query.offset)
    result = conn.execute(stmt)
    keys = list(result.keys())
    out = [_nest(dict(zip(keys, values, strict=True)), query) for values in result]
    _fill_many(conn, spec, query.fields, out)
    for rel_name, rel_fields in query.relations.items():
        target = _spec(spec.relations[rel_name].target)
        related = [r[rel_name] for r in out if isinstance(r.get(rel_name), dict)]
        _fill_many(conn, target, rel_fields, related)  # type: ignore[arg-type]
    return out


def _ordering(spec: EntitySpec, source: FromClause, query: RecordQuery) -> list[Any]:
    out: list[Any] = []
    for order in query.order:
        fspec = _field(spec, order.field)
        expr = fspec.sql(source)
        if order.descending:
            # PostgreSQL's own placement (nulls count as largest), on SQLite too.
            out.append(expr.desc().nulls_first() if fspec.nullable else expr.desc())
        else:
            out.append(expr.asc().nulls_last() if fspec.nullable else expr.asc())
    last_desc = query.order[-1].descending if query.order else True
    key = _field(spec, "id").sql(source)
    out.append(key.desc() if last_desc else key.asc())  # a stable order for paging
    return out


def _nest(row: dict[str, Any], query: RecordQuery) -> Row:
    out: Row = {"id": row["id"]}
    for name in query.fields:
        if name in row:
            out[name] = row[name]
    for rel_name, rel_fields in query.relations.items():
        if row.get(f"{rel_name}__id") is None:
            out[rel_name] = None
            continue
        nested: Row = {"id": row[f"{rel_name}__id"]}
        for name in rel_fields:
            key = f"{rel_name}__{name}"
            if key in row:
                nested[name] = row[key]
        out[rel_name] = nested
    return out


def _fill_many(conn: Connection, spec: EntitySpec, names: Sequence[str], rows: list[Row]) -> None:
    for name in names:
        many = spec.many.get(name)
        if many is None:
            continue
        keys = [r["id"] for r in rows]
        found: dict[object, list[object]] = {k: [] for k in keys}
        if keys:
            t = many.table
            stmt = (
                select(t.c[many.fk], t.c[many.value])
                .where(t.c[many.fk].in_(keys))
                .order_by(t.c[many.fk], t.c[many.order])
            )
            for key, value in conn.execute(stmt):
                found[key].append(value)
        for r in rows:
            r[name] = found[r["id"]]


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
