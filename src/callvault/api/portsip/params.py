"""The list query options (CDR reference §4): ``filter``, ``orderby``, ``top``, ``skip``,
``count``, ``search``, each also accepted as ``$name``. Failures are 400 ``VALIDATE_FAILED``
naming the parameter (and, for filter and orderby, the position and the reason).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import unquote_plus

from callvault.api.portsip.errors import PortsipError, validate_failed
from callvault.api.portsip.filter import FilterError, parse_filter, parse_orderby
from callvault.domain.target_query import Predicate, SortKey, TargetField

MAX_TOP = 100
MAX_SKIP = 2**31 - 1
# Newest first when no orderby is given (the order a call history is read in).
DEFAULT_ORDER = (SortKey(TargetField.STARTED, descending=True),)
_TRUE, _FALSE = frozenset({"true", "1"}), frozenset({"false", "0"})


@dataclass(slots=True, frozen=True)
class ListOptions:
    where: Predicate | None
    order: tuple[SortKey, ...]
    search: tuple[tuple[str, ...], ...]
    top: int
    skip: int


def _raw(query: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = defaultdict(list)
    for pair in query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            values[unquote_plus(key)].append(unquote_plus(value))
    return values


def _option(values: dict[str, list[str]], name: str) -> str | None:
    """The one value of ``name`` or ``$name``."""
    given = [(k, v) for k in (name, f"${name}") for v in values.get(k, [])]
    if not given:
        return None
    if len(given) > 1:
        raise validate_failed(
            f"{name}: give it once (as {name} or ${name})", parameter=name, reason="repeated"
        )
    key, value = given[0]
    if not value.isprintable():
        raise validate_failed(
            f"{key}: control characters are not allowed", parameter=key, reason="control"
        )
    return value


def _integer(values: dict[str, list[str]], name: str, low: int, high: int, default: int) -> int:
    raw = _option(values, name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
        raise validate_failed(
            f"{name} must be a whole number from {low} to {high}, not {raw!r}",
            parameter=name,
            reason="range",
        )
    return int(text)


def _grammar_error(name: str, exc: FilterError) -> PortsipError:
    return validate_failed(
        f"invalid {name} at position {exc.position}: {exc.reason}",
        parameter=name,
        position=exc.position,
        reason=exc.reason,
    )


def _search(text: str | None) -> tuple[tuple[str, ...], ...]:
    """``101 or 102``: alternatives separated by ``or``; the words of one must all match."""
    if not text or not text.strip():
        return ()
    groups: list[tuple[str, ...]] = []
    current: list[str] = []
    for word in text.split():
        if word.lower() == "or":
            if current:
                groups.append(tuple(current))
            current = []
        elif word.lower() != "and":
            current.append(word)
    if current:
        groups.append(tuple(current))
    return tuple(groups)


def list_options(query: str) -> ListOptions:
    """Parse the list options of a raw query string; raises ``PortsipError`` (400)."""
    values = _raw(query)
    where = order = None
    filter_text = _option(values, "filter")
    if filter_text is not None and filter_text.strip():
        try:
            where = parse_filter(filter_text)
        except FilterError as exc:
            raise _grammar_error("filter", exc) from None
    order_text = _option(values, "orderby")
    if order_text is not None and order_text.strip():
        try:
            order = parse_orderby(order_text)
        except FilterError as exc:
            raise _grammar_error("orderby", exc) from None
    count = _option(values, "count")
    if count is not None and count.strip().lower() not in _TRUE | _FALSE | {""}:
        raise validate_failed(
            f"count must be true or false, not {count!r}", parameter="count", reason="boolean"
        )
    return ListOptions(
        where=where,
        order=order or DEFAULT_ORDER,
        search=_search(_option(values, "search")),
        top=_integer(values, "top", 1, MAX_TOP, MAX_TOP),
        skip=_integer(values, "skip", 0, MAX_SKIP, 0),
    )
