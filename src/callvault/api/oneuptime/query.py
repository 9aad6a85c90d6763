"""OneUptime's request grammar → ``RecordQuery``: ``select``, ``query`` (plain values and
``_type``-tagged operators), ``sort``, ``groupBy``, ``limit``/``skip`` (reference §3.3-3.5).

Every malformed part is a 400 naming the column and the reason. Values are typed here by the
column's kind (dates to epoch milliseconds, ids checked), so the store only compiles them.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from callvault.api.oneuptime.errors import OneUptimeError, bad_data
from callvault.api.oneuptime.models import MODELS, Column, Kind, Model, Relation
from callvault.domain.record_query import AnyOf, Condition, Filter, Op, Order

DEFAULT_LIMIT = 10
MAX_NUMERIC_ID = 10**18
# JavaScript's largest safe integer: beyond it OneUptime's own numbers are not exact either.
MAX_SAFE_NUMBER = 2**53 - 1

_COMPARE = {
    "GreaterThan": Op.GT,
    "GreaterThanOrEqual": Op.GE,
    "LessThan": Op.LT,
    "LessThanOrEqual": Op.LE,
    "GreaterThanOrNull": Op.GT_OR_NULL,
    "LessThanOrNull": Op.LT_OR_NULL,
}
_TEXT_SEARCH = {
    "Search": Op.CONTAINS,
    "StartsWith": Op.STARTS_WITH,
    "EndsWith": Op.ENDS_WITH,
    "NotContains": Op.NOT_CONTAINS,
}
_LISTS = {"Includes": Op.IN, "IncludesAll": Op.IN, "IncludesNone": Op.NOT_IN}
# Typed scalars: deserialized into their type, then compared for equality.
_TYPED = frozenset(
    {"ObjectID", "Phone", "DateTime", "Email", "Name", "PositiveNumber", "Decimal", "Hostname"}
)
_JS_INT = re.compile(r"^\s*([+-]?\d+)")


@dataclass(slots=True)
class Projection:
    """The columns asked for (``_id`` always), and each related model's columns."""

    columns: list[tuple[str, Column]] = field(default_factory=list)
    relations: list[tuple[str, Relation, list[tuple[str, Column]]]] = field(default_factory=list)

    def fields(self) -> list[str]:
        return [c.field for _, c in self.columns]

    def relation_fields(self) -> dict[str, list[str]]:
        return {rel.field: [c.field for _, c in cols] for _, rel, cols in self.relations}


def read_body(raw: bytes) -> dict[str, Any]:
    """The JSON request body; empty means ``{}``."""
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_data(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise bad_data("Request body must be a JSON object")
    return body


# -- select -----------------------------------------------------------------------------------


def _select_error(model: Model, name: str) -> OneUptimeError:
    names = ", ".join(sorted([*model.columns, *model.relations]))
    return bad_data(
        f'Invalid select clause. Cannot select on "{name}". This column does not exist on '
        f"{model.name}. Here are the columns you can select on instead: {names}"
    )


def parse_select(model: Model, raw: object) -> Projection:
    """``{column: true, relation: {column: true}}``; absent or empty selects only ``_id``."""
    out = Projection(columns=[("_id", model.columns["_id"])])
    if raw is None:
        return out
    if not isinstance(raw, dict):
        raise bad_data("Invalid select clause. Select must be an object of column: true.")
    for name, value in raw.items():
        if name in model.relations:
            if value is True or isinstance(value, dict):
                out.relations.append(_select_relation(model, name, value))
            elif value not in (False, None):
                raise bad_data(f'Invalid select clause. Select "{name}" with true or an object.')
            continue
        column = model.columns.get(name)
        if column is None:
            raise _select_error(model, name)
        if isinstance(value, dict | list):
            raise bad_data(f'Invalid select clause. "{name}" is a column: select it with true.')
        if value and name != "_id":
            out.columns.append((name, column))
    return out


def _select_relation(
    model: Model, name: str, value: object
) -> tuple[str, Relation, list[tuple[str, Column]]]:
    rel = model.relations[name]
    target = MODELS[rel.model]
    cols: list[tuple[str, Column]] = [("_id", target.columns["_id"])]
    if isinstance(value, dict):
        for inner, flag in value.items():
            if isinstance(flag, dict):
                raise bad_data(
                    "You cannot select deep relations. Selecting deep relations is not supported."
                )
            column = target.columns.get(inner)
            if column is None:
                raise _select_error(target, inner)
            if flag and inner != "_id":
                cols.append((inner, column))
    return name, rel, cols


# -- query ------------------------------------------------------------------------------------


def _invalid_column(model: Model, name: str) -> OneUptimeError:
    return bad_data(f"Invalid column on {model.name} - {name}. Column does not exist.")


def parse_query(model: Model, raw: object) -> list[Filter]:
    """``{column: value | operator, relation: {column: …}}``, all ANDed."""
    if raw is None:
        return []
    if not isinstance(raw, dict):
        raise bad_data("Invalid query. Query must be an object of column: value.")
    out: list[Filter] = []
    for name, value in raw.items():
        if isinstance(value, dict) and value.get("_type") == "MultiSearch":
            out.append(_multi_search(model, value))
        elif name in model.relations:
            out.extend(_relation_query(model, name, value))
        elif name in model.columns:
            out.extend(_conditions(name, model.columns[name], value))
        else:
            raise _invalid_column(model, name)
    return out


def _relation_query(model: Model, name: str, value: object) -> list[Condition]:
    rel = model.relations[name]
    target = MODELS[rel.model]
    if not isinstance(value, dict) or "_type" in value:
        raise bad_data(
            f"Invalid query for {name}: a relation is queried with an object of its columns."
        )
    out: list[Condition] = []
    for inner, inner_value in value.items():
        nested = isinstance(inner_value, dict) and "_type" not in inner_value
        if inner in target.relations or nested:
            raise bad_data(
                "You cannot query deep relations. Querying deep relations is not supported."
            )
        column = target.columns.get(inner)
        if column is None:
            raise _invalid_column(target, inner)
        for cond in _conditions(f"{name}.{inner}", column, inner_value):
            out.append(Condition(cond.field, cond.op, cond.values, relation=rel.field))
    return out


def _multi_search(model: Model, value: dict[str, Any]) -> AnyOf:
    fields = value.get("fields")
    text = value.get("value")
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        raise bad_data("Invalid query: MultiSearch needs fields, a list of column names.")
    if not isinstance(text, str | int | float) or isinstance(text, bool):
        raise bad_data("Invalid query: MultiSearch needs a text value.")
    conditions = []
    for name in fields:
        column = model.columns.get(name)
        if column is None:
            raise _invalid_column(model, name)
        _searchable(name, column, "MultiSearch")
        conditions.append(Condition(column.field, Op.CONTAINS, (str(text),)))
    return AnyOf(tuple(conditions))


def _operand(name: str, op_type: str, value: Mapping[str, Any], key: str = "value") -> Any:
    if key not in value:
        raise bad_data(f"Invalid query for {name}: {op_type} needs a {key}.")
    return value[key]


def _conditions(name: str, column: Column, value: object) -> list[Condition]:
    f = column.field
    if value is None:
        return [Condition(f, Op.IS_NULL)]
    if isinstance(value, list):
        return [Condition(f, Op.IN, tuple(coerce(name, column, v) for v in value))]
    if not isinstance(value, dict):
        return [Condition(f, Op.EQ, (coerce(name, column, value),))]
    op_type = value.get("_type")
    if not isinstance(op_type, str):
        raise bad_data(f'Invalid query for {name}: an operator object needs a "_type".')
    if op_type in ("EqualTo", "NotEqual") or op_type in _TYPED:
        op = Op.NE if op_type == "NotEqual" else Op.EQ
        operand = _operand(name, op_type, value)
        typed = None if operand is None else coerce(name, column, operand)
        return [Condition(f, op, (typed,))]
    if op_type == "EqualToOrNull":
        operand = _operand(name, op_type, value)
        items = operand if isinstance(operand, list) else [operand]
        return [Condition(f, Op.EQ_OR_NULL, tuple(coerce(name, column, v) for v in items))]
    if op_type in _COMPARE:
        if column.kind in (Kind.BOOL, Kind.PHONES):
            raise bad_data(f"Invalid query for {name}: {op_type} does not apply to this column.")
        operand = coerce(name, column, _operand(name, op_type, value))
        return [Condition(f, _COMPARE[op_type], (operand,))]
    if op_type == "InBetween":
        start = coerce(name, column, _operand(name, op_type, value, "startValue"))
        end = coerce(name, column, _operand(name, op_type, value, "endValue"))
        return [Condition(f, Op.BETWEEN, (start, end))]
    if op_type in ("IsNull", "NotNull"):
        return [Condition(f, Op.IS_NULL if op_type == "IsNull" else Op.NOT_NULL)]
    if op_type in _TEXT_SEARCH:
        _searchable(name, column, op_type)
        text = _operand(name, op_type, value)
        if not isinstance(text, str | int | float) or isinstance(text, bool):
            raise bad_data(f"Invalid query for {name}: {op_type} needs a text value.")
        return [Condition(f, _TEXT_SEARCH[op_type], (str(text),))]
    if op_type in _LISTS:
        items = _operand(name, op_type, value)
        if not isinstance(items, list):
            raise bad_data(f"Invalid query for {name}: {op_type} needs a list value.")
        return [Condition(f, _LISTS[op_type], tuple(coerce(name, column, v) for v in items))]
    raise bad_data(f'Invalid query for {name}: unknown operator "{op_type}".')


def _searchable(name: str, column: Column, op_type: str) -> None:
    if column.kind in (Kind.DATE, Kind.BOOL):
        raise bad_data(f"Invalid query for {name}: {op_type} does not apply to this column.")


# -- values -----------------------------------------------------------------------------------


def coerce(name: str, column: Column, value: object) -> object:
    """A query value as the store compares it; raises 400 naming the column and why."""
    if isinstance(value, dict):
        if "_type" not in value or "value" not in value:
            raise bad_data(f"Invalid value for {name}: expected a plain value.")
        value = value["value"]
    if value is None:
        return None
    kind = column.kind
    if kind in (Kind.ID, Kind.REF):
        if not isinstance(value, str):
            raise bad_data(f"Invalid value for {name}: expected an ID string.")
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise bad_data(f'Invalid value for {name}: "{value}" is not a valid UUID.') from None
    if kind in (Kind.NUM_ID, Kind.NUM_REF):
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not text.isascii() or not text.isdigit():
            raise bad_data(f"Invalid value for {name}: {value!r} is not a valid ID.")
        number = int(text)
        return number if number < MAX_NUMERIC_ID else -1
    if kind is Kind.DATE:
        return _date_ms(name, value)
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise bad_data(f"Invalid value for {name}: expected true or false.")
    if kind is Kind.NUMBER:
        if isinstance(value, bool):
            raise bad_data(f"Invalid value for {name}: expected a number.")
        try:
            amount = float(value) if isinstance(value, int | float) else float(str(value))
        except (ValueError, OverflowError):
            raise bad_data(f"Invalid value for {name}: {value!r} is not a number.") from None
        if not abs(amount) <= MAX_SAFE_NUMBER:
            raise bad_data(f"Invalid value for {name}: {value!r} is out of range.")
        return int(amount) if amount.is_integer() else amount
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise bad_data(f"Invalid value for {name}: expected a string.")
    return str(value).strip() if kind in (Kind.PHONE, Kind.PHONES) else str(value)


def _date_ms(name: str, value: object) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)  # epoch milliseconds, as JavaScript's Date takes a number
    if not isinstance(value, str):
        raise bad_data(f"Invalid value for {name}: expected an ISO 8601 date-time.")
    text = value.strip()
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise bad_data(
            f'Invalid value for {name}: "{value}" is not an ISO 8601 date-time.'
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # no zone: UTC, the server's zone
    return int(moment.timestamp() * 1000)


# -- sort, groupBy, paging --------------------------------------------------------------------


def parse_sort(model: Model, raw: object) -> list[Order]:
    """``{column: "ASC" | "DESC"}`` in the order given; absent or empty: ``createdAt`` DESC."""
    if raw is None or raw == {}:
        return [Order(model.columns["createdAt"].field, True)]
    if not isinstance(raw, dict):
        raise bad_data('Invalid sort. Sort must be an object of column: "ASC" | "DESC".')
    out = []
    for name, direction in raw.items():
        column = model.columns.get(name)
        if column is None:
            if name in model.relations:
                raise bad_data(f"Invalid sort on {model.name} - {name}. Sort by a column.")
            raise _invalid_column(model, name)
        if column.kind is Kind.PHONES:
            raise bad_data(f"Invalid sort on {model.name} - {name}. This column is a list.")
        text = direction.upper() if isinstance(direction, str) else direction
        if text not in ("ASC", "DESC"):
            raise bad_data(f'Invalid sort order for {name}: {direction!r}. Use "ASC" or "DESC".')
        out.append(Order(column.field, text == "DESC"))
    return out


def check_group_by(raw: object) -> None:
    if raw:
        raise bad_data("GroupBy is currently not supported")


def _js_int(value: object) -> int | None:
    """JavaScript's ``parseInt(String(value))``: the leading integer, or None (NaN)."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value) if not isinstance(value, float) else repr(value)
    found = _JS_INT.match(text)
    return int(found.group(1)) if found else None


def paging(
    query_params: Mapping[str, str], body: Mapping[str, Any], max_limit: int
) -> tuple[int, int]:
    """Effective ``limit`` and ``skip``: the query string first, else the body. A limit that
    is zero or not a number is the default 10 and a skip that is not a number is 0 (as
    OneUptime's code does); negatives are 400; a limit above ``max_limit`` is 400."""
    raw_limit = query_params.get("limit", body.get("limit"))
    raw_skip = query_params.get("skip", body.get("skip"))
    limit = _js_int(raw_limit) or DEFAULT_LIMIT
    skip = _js_int(raw_skip) or 0
    if limit < 0 or skip < 0:
        raise bad_data("positiveNumber cannot be less than 0")
    if skip > MAX_SAFE_NUMBER:
        raise bad_data(f"Skip should be less than or equal to {MAX_SAFE_NUMBER}")
    if limit > max_limit:
        raise bad_data(f"Limit should be less than or equal to {max_limit}")
    return limit, skip
