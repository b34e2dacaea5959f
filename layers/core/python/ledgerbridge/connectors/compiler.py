"""Compile a layout once into per-record renderers; check everything a layout can get wrong.

Per record type the compiler produces:
  * a `%` template with every constant cell already rendered in place and `%s` for the others;
  * one getter that reads every field's key from a row in a single call (`operator.attrgetter` of the
    field paths: a C loop);
  * per dynamic field, a bounded cache `key -> finished cell` whose misses run the field's expression and
    cell function. Expressions are pure, so equal keys always give equal cells.
A row is then `template % tuple(map(call, cells, getter(row)))`: no per-cell Python in the steady state
(render.py goes one step further and renders a whole chunk column by column).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from operator import attrgetter, call
from typing import Any

from ledgerbridge.connectors import rows as rowmod
from ledgerbridge.connectors.cells import FORMULA_START, CellError, CellFn, TextCleaner, cell_function, header_cell
from ledgerbridge.connectors.expr import (
    Compiled,
    ExprError,
    PathParts,
    ValueType,
    compile_date_pattern,
    compile_source,
    round_half_up,
)
from ledgerbridge.connectors.layout import FieldSpec, Layout, LayoutError, RecordSpec, parse_layout

CACHE_LIMIT = 4096
_NUMBER_CHARS = set("0123456789.+-() ")
_NUMBER_ONLY = ("decimals", "implied_decimal", "trim_zeros", "sign", "integer_digits", "blank_when_zero")
_ACCEPTS: dict[str, tuple[ValueType, ...]] = {
    "text": ("text", "number", "null"),
    "number": ("number", "null"),
    "date": ("date", "null"),
    "flag": ("flag", "null"),
}
_HINTS = {"date": "; format it with format_date(x, 'mm/dd/yyyy') or use a date field", "flag": "; use a flag field"}


class CellCache(dict[Any, str]):
    """key -> finished cell. Bounded: it empties itself at CACHE_LIMIT keys, so memory never grows with rows."""

    __slots__ = ("compute",)

    def __init__(self, compute: CellFn) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: Any) -> str:
        cell = self.compute(key)
        if len(self) >= CACHE_LIMIT:
            self.clear()
        self[key] = cell
        return cell


class AmountCache(dict[Any, Decimal]):
    """key -> the rounded amount the cell shows (0 when blank), for the run's totals."""

    __slots__ = ("compute",)

    def __init__(self, compute: Callable[[Any], Decimal]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: Any) -> Decimal:
        amount = self.compute(key)
        if len(self) >= CACHE_LIMIT:
            self.clear()
        self[key] = amount
        return amount


class RowRejected(Exception):
    def __init__(self, record: str, field_name: str, message: str) -> None:
        super().__init__(f"{record}.{field_name} {message}")
        self.record = record
        self.field = field_name
        self.message = message


def _safe_get(obj: object, parts: PathParts) -> object:
    for part in parts:
        if obj is None:
            return None
        obj = getattr(obj, part)
    return obj


@dataclass
class DynamicField:
    name: str
    paths: tuple[PathParts, ...]
    cache: CellCache
    amounts: AmountCache | None

    def safe_key(self, row: object) -> object:
        if len(self.paths) == 1:
            return _safe_get(row, self.paths[0])
        return tuple(_safe_get(row, p) for p in self.paths)


@dataclass
class CompiledRecord:
    name: str
    level: int
    template: str
    getter: Callable[[object], tuple[Any, ...]]
    cells: list[Callable[[Any], str]]
    dynamic: list[DynamicField]
    totals: list[tuple[str, int, AmountCache]] = field(default_factory=list)

    def render(self, row: object) -> tuple[str, tuple[Any, ...]]:
        """The row's line and keys; the fast path first, then field by field (None-safe, names the culprit)."""
        try:
            keys = self.getter(row)
            return self.template % tuple(map(call, self.cells, keys)), keys
        except (AttributeError, CellError):
            pass
        cells, slow_keys = [], []
        for f in self.dynamic:
            key = f.safe_key(row)
            try:
                cells.append(f.cache[key])
            except CellError as exc:
                raise RowRejected(self.name, f.name, str(exc)) from None
            slow_keys.append(key)
        return self.template % tuple(cells), tuple(slow_keys)


@dataclass
class CompiledLayout:
    layout: Layout
    records: tuple[list[CompiledRecord], list[CompiledRecord]]  # by level: document, line
    header: str
    encoding: str
    bom: bytes


class _Scope:
    def __init__(self, layout: Layout, level: rowmod.Level) -> None:
        self.connection = layout.connection
        self.level = level
        self.params: Mapping[str, str] = layout.params
        self.tables: Mapping[str, Mapping[str, str]] = layout.tables

    def path_type(self, parts: PathParts) -> ValueType:
        return rowmod.path_type(self.connection, self.level, parts)


def _check_layout(layout: Layout, errors: list[str]) -> None:
    fixed = layout.format == "fixed_width"
    d = layout.delimiter
    if not fixed and (d.isalnum() or d in _NUMBER_CHARS or d in "\"'\r\n" or (not d.isprintable() and d != "\t")):
        errors.append(f"delimiter: {d!r} cannot separate cells (it appears in numbers, quotes or line breaks)")
    r = layout.replacement
    if not r.isprintable() or r in ('"', d) or not TextCleaner(layout).fits(r):
        errors.append(f"replacement: {r!r} must be a printable character the encoding holds, not a quote/delimiter")
    if layout.header and len(layout.records) != 1:
        errors.append("header: a header row needs exactly one record type")
    if fixed and layout.encoding in ("utf-8", "utf-8-sig"):
        errors.append("encoding: fixed_width widths count characters as bytes; use cp1252, latin-1 or ascii")
    if fixed and layout.header:
        errors.append("header: fixed_width layouts have no header row")
    for name in layout.params:
        if not name.isidentifier():
            errors.append(f"params.{name}: param names must be letters, digits and _")
    source_ids = {s.id for s in layout.sources}
    seen: set[str] = set()
    for i, rec in enumerate(layout.records):
        if rec.name in seen:
            errors.append(f"records[{i}].name: duplicate record type {rec.name!r}")
        seen.add(rec.name)
        if rec.per == "line" and not rowmod.has_lines(layout.connection):
            errors.append(f"records[{i}].per: {layout.connection} documents have no lines; use per: document")
        for j, spec in enumerate(rec.fields):
            for cited in spec.cite:
                if cited not in source_ids:
                    errors.append(f"records[{i}].fields[{j}].cite: {cited!r} is not one of layout.sources")


def _check_field(spec: FieldSpec, layout: Layout, at: str, names: set[str], errors: list[str]) -> None:
    fixed = layout.format == "fixed_width"
    if spec.name in names:
        errors.append(f"{at}.name: duplicate field name {spec.name!r}")
    names.add(spec.name)
    set_ = {name for name, info in FieldSpec.model_fields.items() if getattr(spec, name) != info.default}
    if spec.source is not None and spec.value is not None:
        errors.append(f"{at}.value: give either source or value, not both")
    if spec.value is not None and spec.type != "text":
        errors.append(f'{at}.value: constants are text; for a {spec.type} use source (e.g. source: "0")')
    if fixed and spec.width is None:
        errors.append(f"{at}.width: is required in a fixed_width layout")
    if not fixed and spec.pad is not None and spec.width is None:
        errors.append(f"{at}.pad: padding needs a width")
    if fixed and spec.quote is not None:
        errors.append(f"{at}.quote: fixed_width layouts are not quoted")
    if spec.quote == "never" and spec.type == "text":
        errors.append(f"{at}.quote: 'never' is only for number, date and flag fields (text may hold the delimiter)")
    if spec.overflow == "truncate" and spec.type != "text":
        errors.append(f"{at}.overflow: only text may be truncated; a {spec.type} that does not fit is rejected")
    if spec.type != "number":
        errors.extend(f"{at}.{name}: only for number fields" for name in _NUMBER_ONLY if name in set_)
    if spec.type != "date" and "date_format" in set_:
        errors.append(f"{at}.date_format: only for date fields")
    if spec.type != "flag":
        errors.extend(f"{at}.{name}: only for flag fields" for name in ("true_value", "false_value") if name in set_)
    if spec.implied_decimal and spec.trim_zeros:
        errors.append(f"{at}.trim_zeros: cannot be combined with implied_decimal")
    if spec.pad is not None and (
        not spec.pad.isprintable() or (not fixed and (spec.pad in FORMULA_START or spec.pad in ('"', layout.delimiter)))
    ):
        errors.append(f"{at}.pad: {spec.pad!r} must be printable and not a quote, the delimiter or = + - @")
    if spec.type == "date":
        if not spec.date_format:
            errors.append(f"{at}.date_format: is required for a date field (e.g. mm/dd/yyyy)")
        else:
            try:
                compile_date_pattern(spec.date_format)
            except ExprError as exc:
                errors.append(f"{at}.date_format: {exc}")
            bad = [
                ch
                for ch in spec.date_format
                if not (ch.isascii() and ch.isprintable()) or ch in ('"', layout.delimiter)
            ]
            if bad and not fixed:
                errors.append(f"{at}.date_format: {bad[0]!r} would need quoting; use / - . or no separator")
    if spec.type == "flag":
        for name in ("true_value", "false_value"):
            text = getattr(spec, name)
            if not text.isprintable() or (spec.quote == "never" and (layout.delimiter in text or '"' in text)):
                errors.append(f"{at}.{name}: {text!r} must be printable and, unquoted, hold no delimiter or quote")


def _compile_record(
    rec: RecordSpec, layout: Layout, at: str, clean: TextCleaner, errors: list[str]
) -> CompiledRecord | None:
    scope = _Scope(layout, rec.per)
    level = rowmod.LINE if rec.per == "line" else rowmod.DOCUMENT
    names: set[str] = set()
    parts: list[str] = []
    dynamic: list[DynamicField] = []
    totals: list[tuple[str, int, AmountCache]] = []
    ok = True
    for j, spec in enumerate(rec.fields):
        fat = f"{at}.fields[{j}]"
        before = len(errors)
        _check_field(spec, layout, fat, names, errors)
        compiled: Compiled | None = None
        if spec.source is not None:
            try:
                compiled = compile_source(spec.source, scope)
            except ExprError as exc:
                errors.append(f"{fat}.source: {exc}")
            else:
                if compiled.type not in _ACCEPTS[spec.type]:
                    hint = _HINTS.get(compiled.type, "") if spec.type == "text" else ""
                    errors.append(f"{fat}.source: gives a {compiled.type}, but the field is {spec.type}{hint}")
        if len(errors) > before:
            ok = False
            continue
        cellfn = cell_function(spec, layout, clean)
        if compiled is None or compiled.constant:
            value = spec.value if compiled is None else compiled.value
            try:
                cell = cellfn(value)
            except CellError as exc:
                errors.append(f"{fat}.{'value' if compiled is None else 'source'}: the constant {exc}")
                ok = False
                continue
            parts.append(cell.replace("%", "%%"))
            continue
        compute = cellfn if compiled.direct else _through(compiled.fn, cellfn)
        amounts = None
        if spec.type == "number" and spec.total:
            amounts = AmountCache(_amount(compiled.fn, spec.decimals))
            totals.append((f"{rec.name}.{spec.name}", len(dynamic), amounts))
        dynamic.append(DynamicField(spec.name, compiled.paths, CellCache(compute), amounts))
        parts.append("%s")
    if not ok:
        return None
    sep = "" if layout.format == "fixed_width" else layout.delimiter.replace("%", "%%")
    end = "\r\n" if layout.line_ending == "crlf" else "\n"
    template = sep.join(parts) + end
    return CompiledRecord(
        rec.name, level, template, _getter(dynamic), [f.cache.__getitem__ for f in dynamic], dynamic, totals
    )


def _through(fn: Callable[[Any], object], cellfn: CellFn) -> CellFn:
    def compute(key: Any) -> str:
        try:
            value = fn(key)
        except (ValueError, ArithmeticError, TypeError) as exc:
            raise CellError(str(exc)) from None
        return cellfn(value)

    return compute


def _amount(fn: Callable[[Any], object], places: int) -> Callable[[Any], Decimal]:
    def compute(key: Any) -> Decimal:
        value = fn(key)
        if isinstance(value, int | Decimal) and not isinstance(value, bool):
            return round_half_up(value, places)
        return Decimal(0)

    return compute


def _getter(dynamic: list[DynamicField]) -> Callable[[object], tuple[Any, ...]]:
    if not dynamic:
        return lambda _row: ()
    dotted = [".".join(f.paths[0]) for f in dynamic if len(f.paths) == 1]
    if len(dynamic) >= 2 and len(dotted) == len(dynamic):
        return attrgetter(*dotted)  # one C call returns every field's key
    getters = [attrgetter(*(".".join(p) for p in f.paths)) for f in dynamic]
    return lambda row: tuple([g(row) for g in getters])


def compile_layout(layout: Layout) -> CompiledLayout:
    """Check and compile; raises LayoutError listing every problem by its field path."""
    errors: list[str] = []
    _check_layout(layout, errors)
    clean = TextCleaner(layout)
    by_level: tuple[list[CompiledRecord], list[CompiledRecord]] = ([], [])
    for i, rec in enumerate(layout.records):
        compiled = _compile_record(rec, layout, f"records[{i}]", clean, errors)
        if compiled is not None:
            by_level[compiled.level].append(compiled)
    if errors:
        raise LayoutError(errors)
    header = ""
    if layout.header:
        titles = [header_cell(f.header or f.name, layout, clean) for f in layout.records[0].fields]
        header = layout.delimiter.join(titles) + ("\r\n" if layout.line_ending == "crlf" else "\n")
    encoding = "utf-8" if layout.encoding == "utf-8-sig" else layout.encoding
    bom = b"\xef\xbb\xbf" if layout.encoding == "utf-8-sig" else b""
    return CompiledLayout(layout, by_level, header, encoding, bom)


def validate_layout(data: dict[str, Any]) -> Layout:
    """A tenant's saved layout ("custom connector"), checked completely; raises LayoutError naming each field."""
    layout = parse_layout(data)
    compile_layout(layout)
    return layout
