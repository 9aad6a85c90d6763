"""PortSIP's OData-like ``filter`` and ``orderby`` → ``TargetQuery`` parts (CDR reference §4).

Grammar (keywords in any case; ``and`` binds tighter than ``or``, as in OData)::

    expr     := and ("or" and)*
    and      := unary ("and" unary)*
    unary    := "not" unary | primary
    primary  := "(" expr ")"
              | FIELD OP literal                       OP: eq ne gt ge lt le
              | FUNC "(" FIELD "," literal ")" [("eq" | "ne") ("true" | "false")]
    FUNC     := startswith | endswith | contains
    literal  := 'text' (a quote doubled inside) | number | null | true | false

Fields are every scalar of a CDR. Times take RFC 3339 text (a bare date means its midnight
UTC; ``''`` or null is "unknown"); ``status_code``, ``duration`` and ``cost`` take bare or
quoted numbers; ``direction``, ``end_reason`` and ``reroute_reason`` take any PortSIP
spelling, ``''`` meaning none. Anything else fails with ``FilterError``: the 1-based character
position and the reason.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from callvault.api.portsip.schemas import CHOICES, DIRECTION, END_REASON, FIELDS, REROUTE_REASON
from callvault.domain.target_query import (
    KIND,
    AllOf,
    AnyOf,
    Compare,
    FieldKind,
    Match,
    Negation,
    OneOf,
    Op,
    Predicate,
    SortKey,
    TargetField,
    TextMatch,
)
from callvault.importers import portsip_spellings as sp

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_TESTS = 100
MAX_SORT_KEYS = 5

_OPS = {op.value: op for op in Op}
_FUNCTIONS = {"startswith": Match.STARTS, "endswith": Match.ENDS, "contains": Match.CONTAINS}
_CMP: dict[Op, Callable[[str, str], bool]] = {
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.LT: operator.lt,
    Op.LE: operator.le,
}
_MATCH: dict[Match, Callable[[str, str], bool]] = {
    Match.STARTS: str.startswith,
    Match.ENDS: str.endswith,
    Match.CONTAINS: operator.contains,
}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<punct>[(),])
      | (?P<num>-?\d+(?:\.\d+)?(?![A-Za-z_]))
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<str>')""",
    re.VERBOSE,
)
# An offset whose "+" a form-encoded URL turned into a space: "…T10:00:00 02:00".
_LOST_PLUS = re.compile(r"(\d) (\d{2}:?\d{2})$")
_KIND_WORDS = {
    FieldKind.TEXT: "text",
    FieldKind.TIME: "a time",
    FieldKind.INTEGER: "a number",
    FieldKind.NUMBER: "a number",
    FieldKind.CHOICE: "a choice",
}
# Any spelling of a choice value → its REST spelling.
_ANY_SPELLING: dict[TargetField, Callable[[str], str | None]] = {
    TargetField.DIRECTION: lambda s: DIRECTION[sp.choice(sp.DIRECTIONS, s)],
    TargetField.END_REASON: lambda s: END_REASON[r] if (r := sp.choice(sp.END_REASONS, s)) else "",
    TargetField.REROUTED_BY: lambda s: (
        REROUTE_REASON[r] if (r := sp.choice(sp.REROUTINGS, s)) else ""
    ),
}


class FilterError(ValueError):
    """A filter or orderby that cannot be used: where (1-based) and why."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"at position {position}: {reason}")
        self.position = position
        self.reason = reason


@dataclass(slots=True, frozen=True)
class _Tok:
    kind: str  # "(", ")", ",", "str", "num", "word", "end"
    text: str
    pos: int  # 1-based


def _tokens(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    i = 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if m is None:
            ch = text[i]
            hint = "; quote text with single quotes" if ch == '"' else ""
            raise FilterError(i + 1, f"unexpected character {ch!r}{hint}")
        kind = m.lastgroup or ""
        if kind == "str":
            value, i = _string(text, i)
            out.append(_Tok("str", value, m.start() + 1))
            continue
        if kind == "punct":
            out.append(_Tok(m.group(), m.group(), i + 1))
        elif kind != "space":
            out.append(_Tok(kind, m.group(), i + 1))
        i = m.end()
    out.append(_Tok("end", "", len(text) + 1))
    return out


def _string(text: str, start: int) -> tuple[str, int]:
    """The quoted text starting at ``start`` (a doubled quote is one quote), and the index
    after its closing quote."""
    parts: list[str] = []
    i = start + 1
    while True:
        close = text.find("'", i)
        if close < 0:
            raise FilterError(start + 1, "text is not closed: a ' is missing")
        parts.append(text[i:close])
        if text.startswith("''", close):
            parts.append("'")
            i = close + 2
            continue
        return "".join(parts), close + 1


def _time(text: str, pos: int) -> datetime:
    text = _LOST_PLUS.sub(r"\1+\2", text.strip())
    try:
        value = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise FilterError(pos, f"{text!r} is not an RFC 3339 time") from None
    if value.tzinfo is None:  # a bare date or a time without zone: UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.tests = 0

    # -- tokens --------------------------------------------------------------------------

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def expect(self, kind: str, what: str) -> _Tok:
        if self.tok.kind != kind:
            raise self.error(f"expected {what}")
        return self.take()

    def error(self, reason: str) -> FilterError:
        tok = self.tok
        if tok.kind == "end":
            return FilterError(tok.pos, f"{reason}, but the filter ends here")
        shown = f"'{tok.text}'" if tok.kind == "str" else tok.text
        return FilterError(tok.pos, f"{reason}, found {shown}")

    # -- grammar -------------------------------------------------------------------------

    def parse(self) -> Predicate:
        if self.tok.kind == "end":
            raise FilterError(1, "the filter is empty")
        expr = self.disjunction()
        if self.tok.kind != "end":
            raise self.error("expected 'and', 'or' or the end of the filter")
        return expr

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.is_word("or"):
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def conjunction(self) -> Predicate:
        parts = [self.unary()]
        while self.is_word("and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def unary(self) -> Predicate:
        self.nest()
        try:
            if self.is_word("not"):
                self.take()
                return Negation(self.unary())
            return self.primary()
        finally:
            self.depth -= 1

    def nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FilterError(self.tok.pos, f"the filter nests deeper than {MAX_DEPTH} levels")

    def primary(self) -> Predicate:
        if self.tok.kind == "(":
            self.take()
            inner = self.disjunction()
            self.expect(")", "')' to close the '('")
            return inner
        if self.tok.kind != "word":
            raise self.error("expected a field name, a function or '('")
        self.tests += 1
        if self.tests > MAX_TESTS:
            raise FilterError(self.tok.pos, f"the filter has more than {MAX_TESTS} tests")
        if self.tok.text.lower() in _FUNCTIONS and self.toks[self.i + 1].kind == "(":
            return self.function()
        return self.comparison()

    def field(self) -> tuple[TargetField, _Tok]:
        tok = self.tok
        if tok.kind != "word":
            raise self.error("expected a field name")
        field = FIELDS.get(tok.text) or FIELDS.get(tok.text.lower())
        if field is None:
            raise FilterError(tok.pos, f"unknown field '{tok.text}'; fields: {', '.join(FIELDS)}")
        self.take()
        return field, tok

    def literal(self) -> _Tok:
        tok = self.tok
        if tok.kind in ("str", "num") or self.is_word("null", "true", "false"):
            return self.take()
        raise self.error("expected a value: 'text', a number or null")

    def comparison(self) -> Predicate:
        field, name = self.field()
        if not self.is_word(*_OPS):
            raise self.error(f"expected an operator (eq, ne, gt, ge, lt, le) after {name.text}")
        op = _OPS[self.take().text.lower()]
        return _compare(field, name.text, op, self.literal())

    def function(self) -> Predicate:
        func = self.take()
        kind = _FUNCTIONS[func.text.lower()]
        self.expect("(", "'('")
        field, name = self.field()
        self.expect(",", f"',' after the field of {func.text}")
        lit = self.literal()
        if lit.kind not in ("str", "num"):
            raise FilterError(lit.pos, f"{func.text} needs text to look for")
        self.expect(")", f"')' to close {func.text}(")
        test = _match(field, name, kind, lit)
        if self.is_word("eq", "ne"):  # startswith(caller,'1') eq true
            negate = self.take().text.lower() == "ne"
            if not self.is_word("true", "false"):
                raise self.error("expected true or false")
            negate ^= self.take().text.lower() == "false"
            return Negation(test) if negate else test
        return test


def _compare(field: TargetField, name: str, op: Op, lit: _Tok) -> Predicate:
    kind = KIND[field]
    word = lit.text.lower() if lit.kind == "word" else None
    if kind is FieldKind.TIME and lit.kind == "str" and not lit.text.strip():
        word = "null"  # an unknown time is "" on the wire
    if word in ("true", "false"):
        raise FilterError(lit.pos, f"{name} is {_KIND_WORDS[kind]}, not true or false")
    if kind is FieldKind.CHOICE:
        if word == "null":
            return _choice(field, name, op, "", lit.pos)
        return _choice(field, name, op, lit.text, lit.pos)
    if kind is FieldKind.TEXT:
        return Compare(field, op, "" if word == "null" else lit.text)
    if word == "null":
        if kind is not FieldKind.TIME or op not in (Op.EQ, Op.NE):
            raise FilterError(lit.pos, f"{name} can only be tested for null with eq or ne")
        return Compare(field, op, None)
    if kind is FieldKind.TIME:
        if lit.kind != "str":
            raise FilterError(lit.pos, f"{name} is a time: quote it, e.g. '2024-08-20T00:00:00Z'")
        return Compare(field, op, _time(lit.text, lit.pos))
    try:
        number = float(lit.text.strip())
    except ValueError:
        raise FilterError(lit.pos, f"{name} is a number, not {lit.text!r}") from None
    if kind is FieldKind.INTEGER:
        if not number.is_integer() or abs(number) >= 2**62:
            raise FilterError(lit.pos, f"{name} is a whole number, not {lit.text!r}")
        return Compare(field, op, int(number))
    return Compare(field, op, number)


def _rest_spelling(field: TargetField, name: str, text: str, pos: int) -> str:
    if text in CHOICES[field]:
        return text
    try:
        spelled = _ANY_SPELLING[field](text)
    except KeyError:
        spelled = None
    if spelled is None:
        allowed = ", ".join(s or "''" for s in CHOICES[field])
        raise FilterError(pos, f"{text!r} is not a value of {name}; use one of: {allowed}")
    return spelled


def _choice(field: TargetField, name: str, op: Op, text: str, pos: int) -> Predicate:
    """A test on a choice field, worked out over its REST spellings."""
    if op in (Op.EQ, Op.NE):
        stored = CHOICES[field][_rest_spelling(field, name, text, pos)]
        test = OneOf(field, (stored,))
        return test if op is Op.EQ else Negation(test)
    compare = _CMP[op]
    return OneOf(field, tuple(v for s, v in CHOICES[field].items() if compare(s, text)))


def _match(field: TargetField, name: _Tok, kind: Match, lit: _Tok) -> Predicate:
    field_kind = KIND[field]
    if field_kind is FieldKind.CHOICE:
        test = _MATCH[kind]
        return OneOf(field, tuple(v for s, v in CHOICES[field].items() if s and test(s, lit.text)))
    if field_kind is not FieldKind.TEXT:
        raise FilterError(
            name.pos, f"{name.text} is {_KIND_WORDS[field_kind]}; text functions need text"
        )
    return TextMatch(field, kind, lit.text)


def parse_filter(text: str) -> Predicate:
    """The predicate a filter expression states; raises ``FilterError``."""
    if len(text) > MAX_LENGTH:
        raise FilterError(MAX_LENGTH + 1, f"the filter is longer than {MAX_LENGTH} characters")
    return _Parser(text).parse()


def parse_orderby(text: str) -> tuple[SortKey, ...]:
    """``field [asc|desc]`` items separated by commas; raises ``FilterError``."""
    keys: list[SortKey] = []
    pos = 1
    for part in text.split(","):
        words = [(m.group(), pos + m.start()) for m in re.finditer(r"\S+", part)]
        if not words:
            raise FilterError(pos, "expected a field name")
        (name, at), rest = words[0], words[1:]
        field = FIELDS.get(name) or FIELDS.get(name.lower())
        if field is None:
            raise FilterError(at, f"unknown field '{name}'; fields: {', '.join(FIELDS)}")
        descending = False
        if rest:
            word, at = rest[0]
            if word.lower() not in ("asc", "desc"):
                raise FilterError(at, f"expected asc or desc after {name}, found {word}")
            descending = word.lower() == "desc"
            if len(rest) > 1:
                raise FilterError(rest[1][1], f"expected ',' or the end, found {rest[1][0]}")
        keys.append(SortKey(field, descending))
        pos += len(part) + 1
    if len(keys) > MAX_SORT_KEYS:
        raise FilterError(1, f"at most {MAX_SORT_KEYS} sort keys")
    return tuple(keys)
