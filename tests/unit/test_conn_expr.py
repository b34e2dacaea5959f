"""The layout expression language: parsing, type checking, evaluation; never Python's eval."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge.connectors.expr import (
    CallNode,
    ExprError,
    Lit,
    PathNode,
    PathParts,
    ValueType,
    compile_date_pattern,
    compile_source,
    parse,
    to_text,
)

TYPES: dict[PathParts, ValueType] = {
    ("a",): "text",
    ("b",): "text",
    ("n",): "number",
    ("d",): "date",
    ("f",): "flag",
}


class Scope:
    def __init__(self) -> None:
        self.params: Mapping[str, str] = {"prefix": "ST", "acct": "4000"}
        self.tables: Mapping[str, Mapping[str, str]] = {"pay": {"regular": "REG", "overtime": "OT"}}

    def path_type(self, parts: PathParts) -> ValueType:
        if parts not in TYPES:
            raise ExprError(f"no path {'.'.join(parts)}")
        return TYPES[parts]


def run(source: str, **values: Any) -> object:
    compiled = compile_source(source, Scope())
    if compiled.constant:
        return compiled.value
    keys = [values.get(p[0]) for p in compiled.paths]
    return compiled.fn(keys[0] if len(keys) == 1 else tuple(keys))


def test_parse_tree() -> None:
    node = parse("concat('x', a.b, 12.5, true, null)")
    assert isinstance(node, CallNode) and node.name == "concat"
    assert node.args[0] == Lit("x", "text", 8)
    assert node.args[1] == PathNode(("a", "b"), 13)
    assert node.args[2] == Lit(Decimal("12.5"), "number", 18)
    assert node.args[3] == Lit(True, "flag", 24)
    assert node.args[4] == Lit(None, "null", 30)


def test_quotes_are_doubled_inside_strings() -> None:
    assert parse("'O''Brien'") == Lit("O'Brien", "text", 1)
    assert parse('"say ""hi"""') == Lit('say "hi"', "text", 1)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("", "expected a value, found 'the end' (at column 1)"),
        ("'open", "unterminated string (at column 1)"),
        ("a b", "unexpected 'b' after the expression (at column 3)"),
        ("concat(a,", "expected a value"),
        ("a.", "expected a field name after '.'"),
        ("a + b", "unexpected character '+' (at column 3)"),
        ("__import__('os')", "unknown function __import__()"),
        ("concat(" * 20 + "a" + ")" * 20, "nested deeper than 16 calls"),
    ],
)
def test_syntax_errors(source: str, message: str) -> None:
    with pytest.raises(ExprError) as caught:
        compile_source(source, Scope())
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("a", {"a": "x"}, "x"),
        ("concat(param.prefix, a, '-', n)", {"a": "1001", "n": Decimal("2.50")}, "ST1001-2.5"),
        ("concat(a, b)", {"a": None, "b": "y"}, "y"),
        ("upper(a)", {"a": "abc"}, "ABC"),
        ("lower(a)", {"a": "ABC"}, "abc"),
        ("trim(a)", {"a": "  x "}, "x"),
        ("left(a, 3)", {"a": "abcdef"}, "abc"),
        ("right(a, 2)", {"a": "abcdef"}, "ef"),
        ("right(a, 0)", {"a": "abcdef"}, ""),
        ("right(a, 9)", {"a": "abc"}, "abc"),
        ("replace(a, '-', '')", {"a": "03-003"}, "03003"),
        ("default(a, b, 'none')", {"a": "", "b": None}, "none"),
        ("default(a, 'none')", {"a": "x"}, "x"),
        ("format_date(d, 'yyyymmdd')", {"d": date(2024, 3, 9)}, "20240309"),
        ("format_date(d, 'm/d/yy')", {"d": date(2024, 3, 9)}, "3/9/24"),
        ("format_date(d, 'mm/dd/yyyy')", {"d": None}, ""),
        ("round(n, 2)", {"n": Decimal("2.345")}, Decimal("2.35")),
        ("round(n, 2)", {"n": Decimal("-2.345")}, Decimal("-2.35")),
        ("round(n, 0)", {"n": Decimal("0.5")}, Decimal("1")),
        ("round(n, 2)", {"n": None}, None),
        ("abs(n)", {"n": Decimal("-3")}, Decimal("3")),
        ("neg(n)", {"n": Decimal("3")}, Decimal("-3")),
        ("lookup('pay', a)", {"a": "overtime"}, "OT"),
        ("lookup('pay', a)", {"a": "holiday"}, None),
        ("lookup('pay', a, param.acct)", {"a": "holiday"}, "4000"),
        ("if(f, 'Y', 'N')", {"f": True}, "Y"),
        ("if(f, 'Y', 'N')", {"f": None}, "N"),
        ("concat('a', 'b')", {}, "ab"),
    ],
)
def test_evaluation(source: str, values: dict[str, Any], expected: object) -> None:
    assert run(source, **values) == expected


def test_constant_expressions_are_folded() -> None:
    compiled = compile_source("upper(concat(param.prefix, 'x'))", Scope())
    assert compiled.constant and compiled.paths == () and compiled.value == "STX"


def test_bare_path_is_direct_and_paths_are_deduplicated() -> None:
    assert compile_source("a", Scope()).direct
    compiled = compile_source("concat(a, b, a)", Scope())
    assert compiled.paths == (("a",), ("b",)) and not compiled.direct


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("concat(d)", "concat() argument 1 must be text or a number (format dates with format_date), not date"),
        ("upper(f)", "upper() argument 1 must be text, not flag"),
        ("left(a, n)", "left() argument 2 must be a whole number literal"),
        ("left(a, 1.5)", "left() length must be a whole number 0..1000"),
        ("round(a, 2)", "round() argument 1 must be a number, not text"),
        ("round(n, 7)", "round() places must be a whole number 0..6"),
        ("format_date(d, 'dd/qq/yyyy')", "unknown date token 'q'"),
        ("format_date(d, a)", "format_date() argument 2 must be a quoted text literal"),
        ("default(a, n)", "default() arguments must share one type: text and number"),
        ("if(a, 'Y', 'N')", "if() argument 1 must be a flag"),
        ("lookup('nope', a)", "unknown lookup table 'nope' (layout tables: pay)"),
        ("replace(a, '', 'x')", "replace() needs a non-empty text to find"),
        ("zz", "no path zz"),
    ],
)
def test_type_errors(source: str, message: str) -> None:
    with pytest.raises(ExprError) as caught:
        compile_source(source, Scope())
    assert message in str(caught.value)


def test_types_of_results() -> None:
    assert compile_source("round(n, 2)", Scope()).type == "number"
    assert compile_source("default(null, d)", Scope()).type == "date"
    assert compile_source("if(f, n, null)", Scope()).type == "number"


def test_to_text() -> None:
    assert to_text(Decimal("1.50")) == "1.5"
    assert to_text(Decimal("1E+2")) == "100"
    assert to_text(Decimal("-0.00")) == "0"
    assert to_text(Decimal("0.0000001")) == "0.0000001"
    assert to_text(7) == "7"
    assert to_text(None) == ""


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [("mm/dd/yyyy", "03/09/2024"), ("M/D/YYYY", "3/9/2024"), ("mmddyyyy", "03092024"), ("yyyy-mm-dd", "2024-03-09")],
)
def test_date_patterns(pattern: str, expected: str) -> None:
    assert compile_date_pattern(pattern)(date(2024, 3, 9)) == expected


def test_date_pattern_needs_a_token() -> None:
    with pytest.raises(ExprError):
        compile_date_pattern("//")


# --- output-size bounds: a short expression must not build a huge string ----------------------------------

TENFOLD = "'a', 'aaaaaaaaaa'"


def nested_replace(inner: str, times: int) -> str:
    for _ in range(times):
        inner = f"replace({inner}, {TENFOLD})"
    return inner


def test_a_constant_that_would_grow_past_the_bound_is_refused_with_its_column() -> None:
    source = nested_replace("'aaaaaaaaaa'", 5)  # would be 1,000,000 characters; the 4th replace() passes 65,536
    with pytest.raises(ExprError, match=r"up to 100000 characters; the limit is 65536 \(at column 9\)"):
        compile_source(source, Scope())


def test_a_field_expression_that_could_grow_past_the_bound_is_refused_at_type_check() -> None:
    with pytest.raises(ExprError, match=r"replace\(\) could produce up to .* characters"):
        compile_source(nested_replace("a", 2), Scope())
    with pytest.raises(ExprError, match="concat"):
        compile_source("concat(" + ", ".join([nested_replace("a", 1)] * 7) + ")", Scope())


def test_ordinary_expressions_stay_within_the_bound() -> None:
    assert run(nested_replace("a", 1), a="ab") == "aaaaaaaaaab"
    assert run("concat(a, ' ', b, ' ', upper(a), n, format_date(d, 'mm/dd/yyyy'))", a="x", b="y", n=1, d=None)


def test_every_string_operation_is_bounded_when_it_runs() -> None:
    long = "a" * 40_000
    with pytest.raises(ValueError, match="65536"):
        run("concat(a, b)", a=long, b=long)
    with pytest.raises(ValueError, match="65536"):
        run("replace(a, 'a', 'aa')", a=long)
    with pytest.raises(ValueError, match="65536"):
        run("upper(concat(a, a))", a="ß" * 20_000)  # upper() of ß is SS
    assert len(str(run("left(a, 5)", a=long * 10))) == 5


def test_rounding_a_number_too_large_is_an_expression_error_not_a_crash() -> None:
    with pytest.raises(ExprError, match="too large"):
        compile_source(f"round({'9' * 400}, 2)", Scope())


def test_a_number_with_a_huge_exponent_has_no_text_form() -> None:
    with pytest.raises(ValueError, match="too large"):
        to_text(Decimal("1e400"))
    assert to_text(Decimal("1e20")) == "100000000000000000000"
