"""The layout expression language: a tiny, safe language for a field's `source`.

    expr    := literal | path | call
    literal := 'text' | "text" | 12 | 12.50 | -3 | true | false | null     (quotes doubled inside: 'O''Brien')
    path    := name ('.' name)*                                            (invoice.customer.id, param.ar_account)
    call    := name '(' [expr (',' expr)*] ')'

Parsed here into a small tree, type-checked against the fields the rows really have, and compiled to
closures. Nothing is ever evaluated as Python: there is no eval, no attribute access beyond the checked
paths, no loops. Every function is pure, so a field's value depends only on the values of its paths;
the renderer uses that to cache a field's finished cell by those values.

Output size is bounded twice, because a 500-character expression of nested replace()/concat() could
otherwise build gigabytes: the type check estimates the longest text every call can produce (a text field
counts as PATH_TEXT characters) and refuses an expression that could exceed MAX_TEXT, naming the column;
and every text-producing call checks its real result against MAX_TEXT before building it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from operator import itemgetter
from typing import Any, Literal, Protocol

ValueType = Literal["text", "number", "date", "flag", "null"]
PathParts = tuple[str, ...]
Fn = Callable[[Any], object]

MAX_DEPTH = 16
MAX_ARGS = 20
MAX_TEXT = 65_536  # characters any expression may produce: far beyond any accounting file's cell
PATH_TEXT = 1_024  # what the size estimate assumes for a text field (real values are checked when run)
MAX_NUMBER_DIGITS = 40  # a number needing more digits than this has no text form (1e400 would be 400 chars)
_TYPE_TEXT: dict[str, int] = {"number": MAX_NUMBER_DIGITS + 2, "date": 10, "flag": 5, "null": 0, "text": PATH_TEXT}


class ExprError(ValueError):
    def __init__(self, message: str, col: int = 0) -> None:
        super().__init__(f"{message} (at column {col})" if col else message)
        self.col = col


@dataclass(frozen=True, slots=True)
class Lit:
    value: object
    type: ValueType
    col: int


@dataclass(frozen=True, slots=True)
class PathNode:
    parts: PathParts
    col: int


@dataclass(frozen=True, slots=True)
class CallNode:
    name: str
    args: tuple[Node, ...]
    col: int


Node = Lit | PathNode | CallNode

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<str>'(?:[^']|'')*'|"(?:[^"]|"")*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<punct>[().,])""",
    re.VERBOSE,
)


def _tokens(text: str) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            what = "unterminated string" if text[pos] in "'\"" else f"unexpected character {text[pos]!r}"
            raise ExprError(what, pos + 1)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos + 1))
        pos = m.end()
    out.append(("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self, value: str) -> None:
        kind, got, col = self.peek()
        if got != value or kind == "str":
            raise ExprError(f"expected {value!r}, found {got or 'the end'!r}", col)
        self.i += 1

    def expr(self, depth: int = 0) -> Node:
        if depth > MAX_DEPTH:
            raise ExprError(f"nested deeper than {MAX_DEPTH} calls", self.peek()[2])
        kind, text, col = self.peek()
        self.i += 1
        if kind == "num":
            return Lit(Decimal(text), "number", col)
        if kind == "str":
            return Lit(text[1:-1].replace(text[0] * 2, text[0]), "text", col)
        if kind != "name":
            raise ExprError(f"expected a value, found {text or 'the end'!r}", col)
        if text in ("true", "false"):
            return Lit(text == "true", "flag", col)
        if text == "null":
            return Lit(None, "null", col)
        if self.peek()[1] == "(":
            self.i += 1
            args: list[Node] = []
            if self.peek()[1] != ")":
                args.append(self.expr(depth + 1))
                while self.peek()[1] == ",":
                    self.i += 1
                    args.append(self.expr(depth + 1))
            self.take(")")
            return CallNode(text, tuple(args), col)
        parts = [text]
        while self.peek()[1] == ".":
            self.i += 1
            kind, name, ncol = self.peek()
            if kind != "name":
                raise ExprError("expected a field name after '.'", ncol)
            self.i += 1
            parts.append(name)
        return PathNode(tuple(parts), col)


def parse(text: str) -> Node:
    parser = _Parser(text)
    node = parser.expr()
    kind, got, col = parser.peek()
    if kind != "end":
        raise ExprError(f"unexpected {got!r} after the expression", col)
    return node


# --- values -------------------------------------------------------------------------------------------


def decimal_text(value: Decimal) -> str:
    """A number as plain text: no exponent, no trailing zeros (1.50 -> 1.5), never '-0'."""
    if not value:
        return "0"
    if not value.is_finite() or abs(value.adjusted()) > MAX_NUMBER_DIGITS:
        raise ValueError(f"{value} is too large to write out (more than {MAX_NUMBER_DIGITS} digits)")
    return format(value.normalize(), "f")


def bounded(text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text would be {len(text)} characters; the limit is {MAX_TEXT}")
    return text


def _concat(parts: list[str]) -> str:
    size = sum(map(len, parts))
    if size > MAX_TEXT:
        raise ValueError(f"concat() would make {size} characters; the limit is {MAX_TEXT}")
    return "".join(parts)


def _replace(text: str, old: str, new: str) -> str:
    if len(new) > len(old):  # measure before building: the growth is count x the difference
        size = len(text) + text.count(old) * (len(new) - len(old))
        if size > MAX_TEXT:
            raise ValueError(f"replace() would make {size} characters; the limit is {MAX_TEXT}")
    return text.replace(old, new)


def to_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no text form for {type(value).__name__}")


_DATE_TOKEN = re.compile(r"yyyy|yy|mm|m|dd|d", re.IGNORECASE)


def compile_date_pattern(pattern: str) -> Callable[[date], str]:
    """`mm/dd/yyyy`, `m/d/yyyy`, `mmddyyyy`, `yyyy-mm-dd` ... (case-insensitive); other letters are refused."""
    pieces: list[str | Callable[[date], str]] = []
    pos = 0
    for m in [*_DATE_TOKEN.finditer(pattern), None]:
        literal = pattern[pos : m.start() if m else len(pattern)]
        bad = next((ch for ch in literal if ch.isalpha()), None)
        if bad is not None:
            raise ExprError(f"unknown date token {bad!r}: use yyyy, yy, mm, m, dd, d and separators")
        if literal:
            pieces.append(literal)
        if m:
            pieces.append(_DATE_PARTS[m.group().lower()])
            pos = m.end()
    if all(isinstance(p, str) for p in pieces):
        raise ExprError("a date pattern needs at least one of yyyy, yy, mm, m, dd, d")

    def fmt(d: date) -> str:
        return "".join([p if isinstance(p, str) else p(d) for p in pieces])

    return fmt


_DATE_PARTS: dict[str, Callable[[date], str]] = {
    "yyyy": lambda d: f"{d.year:04d}",
    "yy": lambda d: f"{d.year % 100:02d}",
    "mm": lambda d: f"{d.month:02d}",
    "m": lambda d: str(d.month),
    "dd": lambda d: f"{d.day:02d}",
    "d": lambda d: str(d.day),
}


def round_half_up(value: int | Decimal, places: int) -> Decimal:
    try:
        result = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"{value} is too large to round to {places} places") from exc
    return result if result else abs(result)


# --- type checking ------------------------------------------------------------------------------------


class Scope(Protocol):
    """What an expression may read: the rows' field paths, the layout's params and lookup tables."""

    params: Mapping[str, str]
    tables: Mapping[str, Mapping[str, str]]

    def path_type(self, parts: PathParts) -> ValueType:
        """The type of a row field path; raises ExprError naming what is wrong with it."""
        ...


_TEXTABLE: tuple[ValueType, ...] = ("text", "number", "null")


@dataclass(frozen=True)
class Compiled:
    """A checked expression: its type, the row paths it reads, and `fn(key) -> value`.

    `key` is the value of the only path, or the tuple of the paths' values (in `paths` order) when there
    are several. A constant has no paths; `direct` means the expression is a bare path (fn is identity).
    """

    type: ValueType
    paths: tuple[PathParts, ...]
    fn: Fn
    constant: bool
    direct: bool

    @property
    def value(self) -> object:
        return self.fn(None)


def compile_source(text: str, scope: Scope) -> Compiled:
    node = parse(text)
    checker = _Checker(scope)
    vtype = checker.check(node)
    _estimate(node, scope)
    paths = tuple(checker.paths)
    if not paths:
        try:
            const = _build(node, scope, lambda _p: _none)(None)
        except (ValueError, ArithmeticError) as exc:
            raise ExprError(str(exc), node.col) from None
        return Compiled(vtype, (), _constant(const), constant=True, direct=False)
    if isinstance(node, PathNode):
        return Compiled(vtype, paths, _identity, constant=False, direct=True)
    if len(paths) == 1:
        fn = _build(node, scope, lambda _p: _identity)
    else:
        index = {p: i for i, p in enumerate(paths)}

        def access(p: PathParts) -> Fn:
            return itemgetter(index[p])

        fn = _build(node, scope, access)
    return Compiled(vtype, paths, fn, constant=False, direct=False)


def _identity(value: object) -> object:
    return value


def _none(_key: object) -> None:
    return None


class _Checker:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.paths: list[PathParts] = []

    def check(self, node: Node) -> ValueType:
        if isinstance(node, Lit):
            return node.type
        if isinstance(node, PathNode):
            if node.parts[0] == "param":
                if len(node.parts) != 2 or node.parts[1] not in self.scope.params:
                    known = ", ".join(sorted(self.scope.params)) or "none defined"
                    raise ExprError(f"unknown param {'.'.join(node.parts)!r} (layout params: {known})", node.col)
                return "text"
            try:
                vtype = self.scope.path_type(node.parts)
            except ExprError as exc:
                raise ExprError(str(exc), node.col) from None
            if node.parts not in self.paths:
                self.paths.append(node.parts)
            return vtype
        return self.call(node)

    def call(self, node: CallNode) -> ValueType:
        name, args, col = node.name, node.args, node.col
        spec = _ARITY.get(name)
        if spec is None:
            raise ExprError(f"unknown function {name}() (known: {', '.join(sorted(_ARITY))})", col)
        low, high = spec
        if not low <= len(args) <= high:
            want = str(low) if low == high else f"{low} to {high}"
            raise ExprError(f"{name}() takes {want} arguments, got {len(args)}", col)
        types = [self.check(a) for a in args]

        def need(i: int, allowed: tuple[ValueType, ...], what: str) -> None:
            if types[i] not in allowed:
                raise ExprError(f"{name}() argument {i + 1} must be {what}, not {types[i]}", args[i].col)

        def literal(i: int, kind: type) -> Any:
            arg = args[i]
            if not isinstance(arg, Lit) or not isinstance(arg.value, kind) or isinstance(arg.value, bool):
                what = "a quoted text" if kind is str else "a whole number"
                raise ExprError(f"{name}() argument {i + 1} must be {what} literal", arg.col)
            return arg.value

        if name == "concat":
            for i in range(len(args)):
                need(i, _TEXTABLE, "text or a number (format dates with format_date)")
            return "text"
        if name in ("upper", "lower", "trim"):
            need(0, _TEXTABLE, "text")
            return "text"
        if name in ("left", "right"):
            need(0, _TEXTABLE, "text")
            n = literal(1, Decimal)
            if n != n.to_integral_value() or not 0 <= n <= 1000:
                raise ExprError(f"{name}() length must be a whole number 0..1000", args[1].col)
            return "text"
        if name == "replace":
            need(0, _TEXTABLE, "text")
            if not literal(1, str):
                raise ExprError("replace() needs a non-empty text to find", args[1].col)
            literal(2, str)
            return "text"
        if name == "format_date":
            need(0, ("date", "null"), "a date")
            compile_date_pattern(literal(1, str))
            return "text"
        if name == "round":
            need(0, ("number", "null"), "a number")
            n = literal(1, Decimal)
            if n != n.to_integral_value() or not 0 <= n <= 6:
                raise ExprError("round() places must be a whole number 0..6", args[1].col)
            return "number"
        if name in ("abs", "neg"):
            need(0, ("number", "null"), "a number")
            return "number"
        if name == "lookup":
            table = literal(0, str)
            if table not in self.scope.tables:
                known = ", ".join(sorted(self.scope.tables)) or "none defined"
                raise ExprError(f"unknown lookup table {table!r} (layout tables: {known})", args[0].col)
            need(1, _TEXTABLE, "text")
            if len(args) == 3:
                need(2, _TEXTABLE, "text")
            return "text"
        if name == "default":
            return self.same_type(name, types, args, range(len(args)))
        # if(condition, then, else)
        need(0, ("flag", "null"), "a flag (true/false)")
        return self.same_type(name, types, args, (1, 2))

    @staticmethod
    def same_type(name: str, types: list[ValueType], args: tuple[Node, ...], idx: Any) -> ValueType:
        found: ValueType = "null"
        for i in idx:
            if types[i] == "null":
                continue
            if found not in ("null", types[i]):
                raise ExprError(f"{name}() arguments must share one type: {found} and {types[i]}", args[i].col)
            found = types[i]
        return found


_ARITY: dict[str, tuple[int, int]] = {
    "concat": (1, MAX_ARGS),
    "upper": (1, 1),
    "lower": (1, 1),
    "trim": (1, 1),
    "left": (2, 2),
    "right": (2, 2),
    "replace": (3, 3),
    "format_date": (2, 2),
    "round": (2, 2),
    "abs": (1, 1),
    "neg": (1, 1),
    "lookup": (2, 3),
    "default": (1, MAX_ARGS),
    "if": (3, 3),
}

# --- size estimate ------------------------------------------------------------------------------------


def _estimate(node: Node, scope: Scope) -> int:
    """The most characters a checked expression can produce as text; ExprError past MAX_TEXT."""
    if isinstance(node, Lit):
        return len(to_text(node.value)) if node.type != "number" else _TYPE_TEXT["number"]
    if isinstance(node, PathNode):
        if node.parts[0] == "param":
            return len(scope.params[node.parts[1]])
        return _TYPE_TEXT[scope.path_type(node.parts)]
    sizes = [_estimate(a, scope) for a in node.args]
    name = node.name
    if name == "concat":
        size = sum(sizes)
    elif name in ("upper", "lower"):
        size = 3 * sizes[0]  # a case change can triple a character (e.g. U+0390)
    elif name in ("left", "right"):
        size = min(sizes[0], int(_lit(node.args[1], Decimal)))
    elif name == "replace":
        old, new = _lit(node.args[1], str), _lit(node.args[2], str)
        size = sizes[0] + (sizes[0] // len(old)) * max(0, len(new) - len(old))
    elif name == "format_date":
        size = 2 * len(_lit(node.args[1], str))  # m and d become two digits at most
    elif name == "lookup":
        table = scope.tables[_lit(node.args[0], str)]
        size = max([*map(len, table.values()), sizes[2] if len(sizes) == 3 else 0])
    elif name == "if":
        size = max(sizes[1:])
    elif name in ("round", "abs", "neg"):
        size = _TYPE_TEXT["number"]
    else:  # trim, default
        size = max(sizes)
    if size > MAX_TEXT:
        raise ExprError(f"{name}() could produce up to {size} characters; the limit is {MAX_TEXT}", node.col)
    return size


# --- closures -----------------------------------------------------------------------------------------


def _build(node: Node, scope: Scope, access: Callable[[PathParts], Fn]) -> Fn:
    """Compile a checked tree to `fn(key)`; `access(path)` reads one path's value out of the key."""
    if isinstance(node, Lit):
        return _constant(node.value)
    if isinstance(node, PathNode):
        if node.parts[0] == "param":
            return _constant(scope.params[node.parts[1]])
        return access(node.parts)
    fns = [_build(a, scope, access) for a in node.args]
    name = node.name
    if name == "concat":
        return lambda k: _concat([to_text(f(k)) for f in fns])
    if name in ("upper", "lower", "trim"):
        methods: dict[str, Callable[[str], str]] = {"upper": str.upper, "lower": str.lower, "trim": str.strip}
        method = methods[name]
        f0 = fns[0]
        return lambda k: bounded(method(to_text(f0(k))))
    if name in ("left", "right"):
        f0, n = fns[0], int(_lit(node.args[1], Decimal))
        if name == "left":
            return lambda k: to_text(f0(k))[:n]

        def right(k: object) -> str:
            text = to_text(f0(k))
            return text[len(text) - n :] if n else ""

        return right
    if name == "replace":
        f0, old, new = fns[0], _lit(node.args[1], str), _lit(node.args[2], str)
        return lambda k: _replace(to_text(f0(k)), old, new)
    if name == "format_date":
        f0, fmt = fns[0], compile_date_pattern(_lit(node.args[1], str))

        def format_date(k: Any) -> str:
            v = f0(k)
            return "" if v is None else fmt(v)  # type: ignore[arg-type]  # checked: a date

        return format_date
    if name in ("round", "abs", "neg"):
        f0 = fns[0]
        places = int(_lit(node.args[1], Decimal)) if name == "round" else 0
        op: Callable[[Any], object] = {
            "round": lambda v: round_half_up(v, places),
            "abs": abs,
            "neg": lambda v: -v,
        }[name]

        def number(k: Any) -> object:
            v = f0(k)
            return None if v is None else op(v)

        return number
    if name == "lookup":
        table = scope.tables[_lit(node.args[0], str)]
        f1 = fns[1]
        f2 = fns[2] if len(fns) == 3 else _none
        return lambda k: table.get(to_text(f1(k)), f2(k))
    if name == "default":
        return lambda k: next((v for f in fns if (v := f(k)) is not None and v != ""), None)
    f0, f1, f2 = fns  # if
    return lambda k: f1(k) if f0(k) else f2(k)


def _constant(value: object) -> Fn:
    return lambda _k: value


def _lit(node: Node, kind: type) -> Any:
    assert isinstance(node, Lit) and isinstance(node.value, kind)
    return node.value
