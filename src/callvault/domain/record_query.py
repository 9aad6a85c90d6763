"""A generic query over one kind of stored record: projection, filter, order and page.

Faces that let clients pick columns and operators (the OneUptime dialect) parse their wire
grammar into this; the store compiles it to SQL. Field names here are callvault's own (the
store's vocabulary), never a vendor's; values are already typed (dates as epoch milliseconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Op(StrEnum):
    EQ = "eq"
    NE = "ne"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"
    EQ_OR_NULL = "eq_or_null"  # any of ``values``, or null
    GT_OR_NULL = "gt_or_null"
    LT_OR_NULL = "lt_or_null"
    BETWEEN = "between"  # inclusive at both ends
    IS_NULL = "is_null"
    NOT_NULL = "not_null"
    CONTAINS = "contains"  # case-insensitive substring
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    NOT_CONTAINS = "not_contains"  # no such substring, or null
    IN = "in"
    NOT_IN = "not_in"


@dataclass(slots=True, frozen=True)
class Condition:
    """``field op values``; with ``relation`` set the field is the related record's."""

    field: str
    op: Op
    values: tuple[object, ...] = ()
    relation: str | None = None


@dataclass(slots=True, frozen=True)
class AnyOf:
    """True when any of the conditions is (a search across several fields)."""

    conditions: tuple[Condition, ...]


Filter = Condition | AnyOf


@dataclass(slots=True, frozen=True)
class Order:
    field: str
    descending: bool


@dataclass(slots=True)
class RecordQuery:
    """Records of ``entity`` in one account. ``fields`` are returned; ``relations`` maps a
    relation name to the related record's fields to return with each row."""

    entity: str
    account_id: int
    fields: list[str] = field(default_factory=list)
    relations: dict[str, list[str]] = field(default_factory=dict)
    where: list[Filter] = field(default_factory=list)
    order: list[Order] = field(default_factory=list)
    limit: int = 10
    offset: int = 0
