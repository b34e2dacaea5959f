"""The subset of the QBO query language a client uses (Intuit: query language):

    SELECT * | COUNT(*) | *, Prop | Prop, Prop FROM Entity [WHERE f op v [AND ...]] [ORDERBY f [ASC|DESC], ...]
        [STARTPOSITION n] [MAXRESULTS m]

op is = != < > <= >= IN (...) LIKE '%x%'. OR, JOIN and GROUP BY are refused as QBO refuses them. Strings are
single-quoted with backslash escapes (\\'). Comparisons of strings ignore case, as QBO's name lookups do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from sandbox.qbo.faults import query_parse_error, query_validation_error

MAX_RESULTS = 1000  # Intuit: query language; more is refused ("Max allowed value is 1000")
DEFAULT_RESULTS = 100

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),*])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE | re.DOTALL,
)

Literal_ = str | Decimal | bool


@dataclass
class Condition:
    field: str
    op: str  # = != < > <= >= in like
    values: list[Literal_]


@dataclass
class Select:
    entity: str
    count: bool = False
    fields: list[str] = field(default_factory=list)  # a projection; empty = every property (*)
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise query_parse_error(f"Encountered unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "")

    def next(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def keyword(self, *words: str) -> bool:
        kind, val = self.peek()
        if kind == "word" and val.upper() in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise query_parse_error(f"Expected {word}, found {self.peek()[1] or 'end of query'!r}")

    def expect(self, kind: str, value: str | None = None) -> str:
        k, v = self.next()
        if k != kind or (value is not None and v != value):
            raise query_parse_error(f"Expected {value or kind}, found {v or 'end of query'!r}")
        return v

    def literal(self) -> Literal_:
        kind, val = self.next()
        if kind == "string":
            return re.sub(r"\\(.)", r"\1", val[1:-1])
        if kind == "number":
            return Decimal(val)
        if kind == "word" and val.lower() in ("true", "false"):
            return val.lower() == "true"
        raise query_parse_error(f"Expected a value, found {val or 'end of query'!r}")

    def integer(self) -> int:
        value = self.literal()
        if not isinstance(value, Decimal) or value != value.to_integral_value() or value < 0:
            raise query_parse_error(f"Expected a whole number, found {value!r}")
        return int(value)

    def parse(self) -> Select:
        self.expect_keyword("SELECT")
        count = False
        if self.keyword("COUNT"):
            self.expect("punct", "(")
            self.expect("punct", "*")
            self.expect("punct", ")")
            count = True
        fields: list[str] = []
        if not count:  # `*`, `*, Sku` or `Id, Name` (Intuit's query reference: select * or a property list)
            star = self.peek() == ("punct", "*")
            if star:
                self.expect("punct", "*")
            else:
                fields.append(self.expect("word"))
            while self.peek() == ("punct", ","):
                self.expect("punct", ",")
                name = self.expect("word")
                if not star:
                    fields.append(name)
        self.expect_keyword("FROM")
        sel = Select(entity=self.expect("word"), count=count, fields=fields)
        if self.keyword("WHERE"):
            sel.where.append(self.condition())
            while self.keyword("AND"):
                sel.where.append(self.condition())
            if self.keyword("OR"):
                raise query_parse_error("OR is not supported in WHERE")
        if self.keyword("ORDERBY") or (self.keyword("ORDER") and self.keyword("BY")):
            while True:
                name = self.expect("word")
                desc = self.keyword("DESC")
                if not desc:
                    self.keyword("ASC")
                sel.order.append((name, desc))
                if self.peek() != ("punct", ","):
                    break
                self.next()
        if self.keyword("STARTPOSITION"):
            sel.start = max(1, self.integer())
        if self.keyword("MAXRESULTS"):
            sel.max_results = self.integer()
            if sel.max_results > MAX_RESULTS:  # QBO refuses, it does not clamp (ruckus/quickbooks-ruby#24)
                too_large = f"value {sel.max_results} is too large. Max allowed value is {MAX_RESULTS}"
                raise query_validation_error(too_large)
        if self.peek()[0] != "end":
            word = self.peek()[1]
            if word.upper() in ("OR", "JOIN", "GROUP"):
                raise query_parse_error(f"{word.upper()} is not supported")
            raise query_parse_error(f"Encountered {word!r} after the end of the statement")
        return sel

    def condition(self) -> Condition:
        name = self.expect("word")
        kind, val = self.peek()
        if kind == "op":
            self.next()
            return Condition(name, "!=" if val == "<>" else val, [self.literal()])
        if self.keyword("IN"):
            self.expect("punct", "(")
            values = [self.literal()]
            while self.peek() == ("punct", ","):
                self.next()
                values.append(self.literal())
            self.expect("punct", ")")
            return Condition(name, "in", values)
        if self.keyword("LIKE"):
            pattern = self.literal()
            if not isinstance(pattern, str):
                raise query_parse_error("LIKE needs a quoted pattern")
            return Condition(name, "like", [pattern])
        raise query_parse_error(f"Expected an operator after {name}, found {val or 'end of query'!r}")


def parse(text: str) -> Select:
    return _Parser(text).parse()


def field_value(doc: dict[str, Any], path: str) -> Any:
    """A (dotted) property; a reference (XxxRef, ParentRef) compares by its value."""
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        match = next((k for k in value if k.lower() == part.lower()), None)
        value = value.get(match) if match is not None else None
    if isinstance(value, dict) and "value" in value:
        value = value["value"]
    return value


def _compare(actual: Any, op: str, expected: Literal_) -> bool:
    if actual is None:
        return False
    if isinstance(expected, bool) or isinstance(actual, bool):
        left: Any = actual if isinstance(actual, bool) else str(actual).lower() == "true"
        right: Any = expected if isinstance(expected, bool) else str(expected).lower() == "true"
    elif isinstance(expected, Decimal) or isinstance(actual, Decimal | int):
        try:
            left, right = Decimal(str(actual)), Decimal(str(expected))
        except InvalidOperation:
            left, right = str(actual).casefold(), str(expected).casefold()
    elif (moments := _moments(str(actual), str(expected))) is not None:
        left, right = moments
    else:
        left, right = str(actual).casefold(), str(expected).casefold()
    ops: dict[str, Callable[[Any, Any], bool]] = {
        "=": lambda a, b: bool(a == b),
        "in": lambda a, b: bool(a == b),
        "!=": lambda a, b: bool(a != b),
        "<": lambda a, b: bool(a < b),
        ">": lambda a, b: bool(a > b),
        "<=": lambda a, b: bool(a <= b),
        ">=": lambda a, b: bool(a >= b),
    }
    return ops[op](left, right)


def _moments(actual: str, expected: str) -> tuple[datetime, datetime] | None:
    """Two date-times compared as instants (MetaData.LastUpdatedTime > '2026-01-01T00:00:00-08:00'), not as
    text: QBO answers in its own offset, clients send theirs. A value without an offset is taken as UTC."""
    if "T" not in actual or "T" not in expected:
        return None  # dates (TxnDate) compare as ISO text, which orders them correctly
    try:
        pair = datetime.fromisoformat(actual), datetime.fromisoformat(expected)
    except ValueError:
        return None
    left, right = (m if m.tzinfo else m.replace(tzinfo=UTC) for m in pair)
    return left, right


def matches(doc: dict[str, Any], cond: Condition) -> bool:
    actual = field_value(doc, cond.field)
    if cond.op == "like":
        pattern = "^" + ".*".join(re.escape(p) for p in str(cond.values[0]).split("%")) + "$"
        return actual is not None and re.match(pattern, str(actual), re.IGNORECASE | re.DOTALL) is not None
    return any(_compare(actual, cond.op, v) for v in cond.values)


def run(
    sel: Select,
    docs: list[dict[str, Any]],
    filterable: frozenset[str],
    hide_inactive: bool,
) -> tuple[list[dict[str, Any]], int]:
    """(the page, total matching). Fields outside `filterable` are refused, as QBO answers 400 for them."""
    known = {f.lower() for f in filterable}
    for name in [c.field for c in sel.where] + [o[0] for o in sel.order]:
        if name.lower() not in known:
            raise query_validation_error(f"property '{name}' is not queryable on {sel.entity}")
    wants_active = any(c.field.lower() == "active" for c in sel.where)
    rows = [
        d
        for d in docs
        if all(matches(d, c) for c in sel.where)
        and (not hide_inactive or wants_active or d.get("Active", True) is not False)
    ]
    for name, desc in reversed(sel.order):  # stable sorts, last key first
        rows.sort(key=partial(_row_key, name), reverse=desc)
    return rows[sel.start - 1 : sel.start - 1 + sel.max_results], len(rows)


def _row_key(name: str, doc: dict[str, Any]) -> tuple[int, Any]:
    return _sort_key(field_value(doc, name))


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return (1, Decimal(value))
    if isinstance(value, str) and value.isdigit():
        return (1, Decimal(value))  # Ids are numeric strings
    return (2, str(value).casefold())
