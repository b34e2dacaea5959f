"""Cells: one value in, one finished cell out (cleaned, escaped, sized, padded, quoted).

The transform of a text value, in order (docs/connectors.md repeats it):
  1. control characters (U+0000-001F, U+007F-009F, U+2028, U+2029; CR LF counts as one) are replaced by a
     space, stripped, or reject the row (layout.control_chars);
  2. non-ASCII text is NFC-normalised; characters the encoding cannot hold are transliterated (Ł -> L,
     é -> e in ascii, “ -> "), replaced by layout.replacement, or reject the row (layout.unencodable);
     invisible joiners and combining marks that cannot be encoded are dropped;
  3. delimited text starting with = + - @ TAB or CR gets a leading ' (OWASP CSV injection guidance);
  4. longer than the field's width: reject the row, or truncate (overflow: truncate);
  5. padding to the width (always in fixed width; in delimited only when `pad` is set);
  6. quoting: `always`, or `minimal` = only when the cell holds the delimiter, a quote, or starts/ends with
     a space; a quote inside a quoted cell is doubled.
Numbers, dates and flags are produced here from typed values, never escaped, and never truncated.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from ledgerbridge.connectors.expr import compile_date_pattern, round_half_up, to_text
from ledgerbridge.connectors.layout import FieldSpec, Layout

CellFn = Callable[[object], str]

FORMULA_START = frozenset("=+-@\t\r")
_CONTROLS = [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_REPLACE_CONTROLS = dict.fromkeys(_CONTROLS, " ")
_STRIP_CONTROLS: dict[int, None] = dict.fromkeys(_CONTROLS)
_DROP_CATEGORIES = frozenset({"Mn", "Me", "Cf"})
# Letters NFKD does not decompose, and punctuation ascii lacks (written as escapes: ruff flags look-alikes).
_TRANSLIT = {
    "\u0141": 'L', "\u0142": 'l', "\u0110": 'D', "\u0111": 'd', "\u00d8": 'O', "\u00f8": 'o',
    "\u00c6": 'AE', "\u00e6": 'ae', "\u0152": 'OE', "\u0153": 'oe', "\u00df": 'ss', "\u00de": 'Th',
    "\u00fe": 'th', "\u0131": 'i', "\u2018": "'", "\u2019": "'", "\u201a": ',', "\u201c": '"',
    "\u201d": '"', "\u201e": '"', "\u2013": '-', "\u2014": '-', "\u2212": '-', "\u2026": '...',
    "\u20ac": 'EUR', "\u00a3": 'GBP', "\u2022": '*', "\u00b7": '.', "\u00d7": 'x', "\u00b0": ' deg',
    "\u00a9": '(c)', "\u00ae": '(R)', "\u2122": '(TM)',
}  # fmt: skip


class CellError(ValueError):
    """This value cannot be written to this field; the message says why (the row is rejected)."""


class TextCleaner:
    """Steps 1-2 of the text transform, for one layout."""

    def __init__(self, layout: Layout) -> None:
        self.encoding = "utf-8" if layout.encoding == "utf-8-sig" else layout.encoding
        self.controls = layout.control_chars
        self.unencodable = layout.unencodable
        self.replacement = layout.replacement
        self.table = _STRIP_CONTROLS if self.controls == "strip" else _REPLACE_CONTROLS

    def __call__(self, text: str) -> str:
        if not text.isprintable():
            if self.controls == "reject":
                bad = next((ch for ch in text if ord(ch) in _STRIP_CONTROLS), None)
                if bad is not None:
                    raise CellError(f"contains the control character U+{ord(bad):04X}")
            text = text.replace("\r\n", "\n").translate(self.table)
        if not text.isascii():
            text = self.encodable(unicodedata.normalize("NFC", text))
        return text

    def fits(self, ch: str) -> bool:
        try:
            ch.encode(self.encoding)
        except UnicodeEncodeError:
            return False
        return True

    def encodable(self, text: str) -> str:
        try:
            text.encode(self.encoding)
            return text
        except UnicodeEncodeError:
            pass
        out: list[str] = []
        for ch in text:
            if self.fits(ch):
                out.append(ch)
            elif self.unencodable == "reject":
                raise CellError(f"contains {ch!r} (U+{ord(ch):04X}), which {self.encoding} cannot encode")
            elif unicodedata.category(ch) in _DROP_CATEGORIES:
                continue
            elif self.unencodable == "transliterate":
                out.append(self.transliterate(ch) or self.replacement)
            else:
                out.append(self.replacement)
        return "".join(out)

    def transliterate(self, ch: str) -> str:
        candidate = _TRANSLIT.get(ch)
        if candidate is None:
            decomposed = unicodedata.normalize("NFKD", ch)
            candidate = "".join(c for c in decomposed if unicodedata.category(c) not in _DROP_CATEGORIES)
        if candidate and candidate.isprintable() and all(self.fits(c) for c in candidate):
            return candidate
        return ""


def control_free(text: str) -> str:
    """Control characters (and CR LF pairs) as single spaces."""
    return text if text.isprintable() else text.replace("\r\n", "\n").translate(_REPLACE_CONTROLS)


def quote_always(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def quoter(mode: str, delimiter: str) -> Callable[[str], str]:
    if mode == "always":
        return quote_always
    if mode == "never":
        return lambda text: text

    def minimal(text: str) -> str:
        if delimiter in text or '"' in text or "\n" in text or "\r" in text or text[:1] == " " or text[-1:] == " ":
            return quote_always(text)
        return text

    return minimal


class _Shape:
    """What every cell kind shares: width, padding, alignment, quoting, required."""

    def __init__(self, spec: FieldSpec, layout: Layout, default_align: str) -> None:
        fixed = layout.format == "fixed_width"
        self.name = spec.name
        self.width = spec.width
        self.required = spec.required
        self.pad = spec.pad if spec.pad is not None else (" " if fixed else None)
        self.right = (spec.align or default_align) == "right"
        default_quote = layout.quote if spec.type == "text" else "never"
        self.quote = quoter("never" if fixed else (spec.quote or default_quote), layout.delimiter)

    def blank(self) -> str:
        if self.required:
            raise CellError("is required but empty")
        return self.quote(" " * self.width if self.width and self.pad is not None else "")

    def fill(self, text: str) -> str:
        if self.width and self.pad is not None and len(text) < self.width:
            text = text.rjust(self.width, self.pad) if self.right else text.ljust(self.width, self.pad)
        return self.quote(text)


def text_cell(spec: FieldSpec, layout: Layout, clean: TextCleaner) -> CellFn:
    shape = _Shape(spec, layout, "left")
    escape = layout.formula_escape and layout.format == "delimited"
    width, truncate = spec.width, spec.overflow == "truncate"
    padded = bool(width) and shape.pad is not None
    finish = shape.fill if padded else shape.quote

    def cell(value: object) -> str:
        text = value if type(value) is str else to_text(value)
        if not (text.isascii() and text.isprintable()):
            text = clean(text)
        if not text:
            return shape.blank()
        if escape and text[0] in FORMULA_START:
            text = "'" + text
        if width and len(text) > width:
            if not truncate:
                raise CellError(f"is {len(text)} characters, longer than its width {width}: {text[:40]!r}")
            text = text[:width]
        return finish(text)

    return cell


def number_cell(spec: FieldSpec, layout: Layout) -> CellFn:
    shape = _Shape(spec, layout, "right")
    places, implied, trim, style = spec.decimals, spec.implied_decimal, spec.trim_zeros, spec.sign
    int_digits, blank_zero, width = spec.integer_digits, spec.blank_when_zero, spec.width
    zero_pad = shape.pad == "0"
    placeholder = width is not None and shape.pad is not None and style in ("trailing", "parentheses")

    def cell(value: object) -> str:
        if value is None or value == "":
            return shape.blank()
        if not isinstance(value, int | Decimal) or isinstance(value, bool):
            raise CellError(f"is not a number: {value!r}")
        try:
            amount = round_half_up(value, places)
        except ValueError as exc:
            raise CellError(str(exc)) from None
        if int_digits is not None and amount.adjusted() >= int_digits:
            raise CellError(f"{amount} has more than {int_digits} digits before the decimal point")
        if blank_zero and not amount:
            return shape.quote(" " * width if width and shape.pad is not None else "")
        negative = amount < 0
        magnitude = -amount if negative else amount
        if implied:
            digits = str(int(magnitude.scaleb(places)))
        else:
            digits = format(magnitude, "f")
            if trim and "." in digits:
                digits = digits.rstrip("0").rstrip(".")
        prefix, suffix = "", ""
        if style == "separate":
            prefix = "-" if negative else "+"
        elif negative:
            prefix, suffix = {"leading": ("-", ""), "trailing": ("", "-"), "parentheses": ("(", ")")}[style]
        elif placeholder:
            prefix, suffix = (" ", " ") if style == "parentheses" else ("", " ")
        text = prefix + digits + suffix
        if width is not None and len(text) > width:
            raise CellError(f"{text} is wider than its width {width}")
        if zero_pad and width is not None:
            text = prefix + digits.rjust(width - len(prefix) - len(suffix), "0") + suffix
        return shape.fill(text)

    return cell


def date_cell(spec: FieldSpec, layout: Layout) -> CellFn:
    shape = _Shape(spec, layout, "left")
    fmt = compile_date_pattern(spec.date_format or "")
    width = spec.width

    def cell(value: object) -> str:
        if value is None or value == "":
            return shape.blank()
        if not isinstance(value, date):
            raise CellError(f"is not a date: {value!r}")
        text = fmt(value)
        if width is not None and len(text) > width:
            raise CellError(f"{text} is wider than its width {width}")
        return shape.fill(text)

    return cell


def flag_cell(spec: FieldSpec, layout: Layout) -> CellFn:
    shape = _Shape(spec, layout, "left")
    true_value, false_value = spec.true_value, spec.false_value
    width = spec.width

    def cell(value: object) -> str:
        if value is None:
            return shape.blank()
        text = true_value if value else false_value
        if width is not None and len(text) > width:
            raise CellError(f"{text!r} is wider than its width {width}")
        return shape.fill(text)

    return cell


def cell_function(spec: FieldSpec, layout: Layout, clean: TextCleaner) -> CellFn:
    if spec.type == "number":
        return number_cell(spec, layout)
    if spec.type == "date":
        return date_cell(spec, layout)
    if spec.type == "flag":
        return flag_cell(spec, layout)
    return text_cell(spec, layout, clean)


def header_cell(title: str, layout: Layout, clean: TextCleaner) -> str:
    text = clean(title)
    if layout.formula_escape and text[:1] in FORMULA_START:
        text = "'" + text
    return quoter(layout.quote, layout.delimiter)(text)
