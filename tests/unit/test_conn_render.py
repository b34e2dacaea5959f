"""Rendering: cell formats, escaping, encodings, overflow, document atomicity, streaming; property tests."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerbridge.connectors import (
    Layout,
    LayoutError,
    Mappings,
    RenderSummary,
    direct_cost_rows,
    invoice_rows,
    load_builtin,
    render,
    render_bytes,
    validate_layout,
)
from ledgerbridge.records import DirectCost, Ref
from tests.unit.test_conn_helpers import MAPPINGS, invoices

JOB = Ref(id="j1", name="24-101")
VENDOR = Ref(id="v1", name="Ferguson")


def cost(description: str = "Fittings", amount: str = "12.34", **kw: Any) -> DirectCost:
    return DirectCost(
        source_id=kw.pop("source_id", "d1"),
        job=JOB,
        vendor=VENDOR,
        description=description,
        quantity=Decimal("1"),
        unit_cost=Decimal(amount),
        amount=Decimal(amount),
        used_on=date(2024, 3, 9),
        **kw,
    )


def layout_for(*fields: dict[str, Any], **settings_: Any) -> Layout:
    data: dict[str, Any] = {
        "name": "test",
        "connector": "custom",
        "connection": "direct_costs",
        "encoding": "utf-8",
        "line_ending": "lf",
        "records": [{"name": "r", "fields": list(fields)}],
    }
    data.update(settings_)
    return validate_layout(data)


def one(layout: Layout, *costs: DirectCost, summary: RenderSummary | None = None) -> str:
    data = render_bytes(layout, direct_cost_rows(costs or [cost()], Mappings(vendors={"v1": "FERG"})), summary)
    return data.decode("utf-8" if layout.encoding.startswith("utf") else layout.encoding)


def number(amount: str, **spec: Any) -> str:
    return one(layout_for({"name": "n", "type": "number", "source": "cost.amount", **spec}), cost(amount=amount))


def text(value: str, **spec: Any) -> str:
    settings_ = {k: spec.pop(k) for k in list(spec) if k in Layout.model_fields}
    return one(layout_for({"name": "t", "source": "cost.description", **spec}, **settings_), cost(value))


# --- numbers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "spec", "expected"),
    [
        ("1234.5", {}, "1234.50"),
        ("-1234.5", {}, "-1234.50"),
        ("0.005", {}, "0.01"),  # half up, not half even
        ("0.015", {}, "0.02"),
        ("2.675", {}, "2.68"),
        ("-2.675", {}, "-2.68"),  # half away from zero
        ("-0.001", {}, "0.00"),  # never -0.00
        ("12.345", {"decimals": 0}, "12"),
        ("-12.34", {"sign": "trailing"}, "12.34-"),
        ("-12.34", {"sign": "parentheses"}, "(12.34)"),
        ("12.34", {"sign": "separate"}, "+12.34"),
        ("-12.34", {"sign": "separate"}, "-12.34"),
        ("12.34", {"implied_decimal": True}, "1234"),
        ("-0.05", {"implied_decimal": True}, "-5"),
        ("4.00", {"trim_zeros": True}, "4"),
        ("4.50", {"trim_zeros": True}, "4.5"),
        ("0", {"blank_when_zero": True}, ""),
        ("12.34", {"quote": "always"}, '"12.34"'),
        ("12.34", {"width": 8, "pad": "0"}, "00012.34"),
        ("-12.34", {"width": 8, "pad": "0"}, "-0012.34"),
        ("12.34", {"width": 8, "pad": " "}, "   12.34"),
        ("12.34", {"width": 8, "pad": " ", "align": "left"}, "12.34   "),
        ("12.34", {"width": 8, "pad": "0", "sign": "trailing"}, "0012.34 "),
        ("-12.34", {"width": 8, "pad": "0", "sign": "trailing"}, "0012.34-"),
        ("12.34", {"width": 8, "pad": "0", "sign": "parentheses"}, " 012.34 "),
        ("-12.34", {"width": 8, "pad": "0", "sign": "parentheses"}, "(012.34)"),
        ("12.34", {"width": 6, "pad": "0", "implied_decimal": True}, "001234"),
        ("-12.34", {"width": 7, "pad": "0", "implied_decimal": True, "sign": "separate"}, "-001234"),
        ("999999999.99", {"integer_digits": 9}, "999999999.99"),
    ],
)
def test_number_formats(amount: str, spec: dict[str, Any], expected: str) -> None:
    assert number(amount, **spec) == expected + "\n"


def test_numbers_are_never_escaped_or_quoted_even_when_negative() -> None:
    assert number("-5") == "-5.00\n"


@pytest.mark.parametrize(
    ("amount", "spec", "message"),
    [
        ("1000000000", {"integer_digits": 9}, "has more than 9 digits before the decimal point"),
        ("123456.78", {"width": 8}, "123456.78 is wider than its width 8"),
        ("-12345.67", {"width": 8, "pad": "0"}, "-12345.67 is wider than its width 8"),
    ],
)
def test_numbers_that_do_not_fit_reject_the_row(amount: str, spec: dict[str, Any], message: str) -> None:
    summary = RenderSummary()
    layout = layout_for({"name": "n", "type": "number", "source": "cost.amount", **spec})
    assert one(layout, cost(amount=amount), summary=summary) == ""
    (problem,) = summary.problems
    assert problem.record_type == "direct_cost" and problem.source_id == "d1"
    assert problem.code == "too_long" and message in problem.message and problem.field == "n"


# --- text ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "spec", "expected"),
    [
        ("=1+1", {}, "'=1+1"),
        ("+15551234", {}, "'+15551234"),
        ("-5 ft pipe", {}, "'-5 ft pipe"),
        ("@SUM(A1)", {}, "'@SUM(A1)"),
        ("=1+1", {"formula_escape": False}, "=1+1"),
        ("a=b", {}, "a=b"),
        ("Smith, John", {}, '"Smith, John"'),
        ('6" pipe', {}, '"6"" pipe"'),
        ("plain", {"quote": "always"}, '"plain"'),
        ("plain", {}, "plain"),
        ("a\r\nb\nc\td", {}, "a b c d"),
        ("a\r\nb\x00c", {"control_chars": "strip"}, "abc"),
        ("line\u2028sep", {}, "line sep"),
        ("Zoë", {"encoding": "cp1252"}, "Zoë"),
        ("Łódź \u2013 “quoted”", {"encoding": "cp1252"}, "Lódz \u2013 “quoted”"),
        ("Łódź \u2013 “quoted”", {"encoding": "ascii"}, '"Lodz - ""quoted"""'),
        ("Zoë 👍🏽", {"encoding": "ascii", "unencodable": "replace"}, "Zo? ??"),
        ("Zoë 👍🏽", {"encoding": "ascii", "unencodable": "replace", "replacement": "_"}, "Zo_ __"),
        ("e\u0301", {"encoding": "cp1252"}, "é"),  # NFC first
        ("a\u200db", {"encoding": "cp1252"}, "ab"),  # invisible joiner dropped
        ("ﬁle", {"encoding": "ascii"}, "file"),
        ("Zoë", {"encoding": "utf-8"}, "Zoë"),
        ("x" * 40, {"width": 30, "overflow": "truncate"}, "x" * 30),
        ("=" + "x" * 40, {"width": 10, "overflow": "truncate"}, "'=xxxxxxxx"),
        ("abc", {"width": 6, "pad": "."}, "abc..."),
        ("abc", {"width": 6, "pad": " ", "align": "right"}, '"   abc"'),
    ],
)
def test_text_transform(value: str, spec: dict[str, Any], expected: str) -> None:
    assert text(value, **spec) == expected + "\n"


@pytest.mark.parametrize(
    ("value", "spec", "code", "message"),
    [
        ("x" * 31, {"width": 30}, "too_long", "is 31 characters, longer than its width 30"),
        ("Zoë", {"encoding": "ascii", "unencodable": "reject"}, "bad_character", "'ë' (U+00EB), which ascii cannot"),
        ("a\nb", {"control_chars": "reject"}, "bad_character", "contains the control character U+000A"),
    ],
)
def test_text_that_cannot_be_written_rejects_the_row(value: str, spec: dict[str, Any], code: str, message: str) -> None:
    summary = RenderSummary()
    settings_ = {k: spec.pop(k) for k in list(spec) if k in Layout.model_fields}
    layout = layout_for({"name": "t", "source": "cost.description", **spec}, **settings_)
    out = one(layout, cost(value), cost("fine", source_id="d2"), summary=summary)
    assert out == "fine\n"
    (problem,) = summary.problems
    assert problem.source_id == "d1" and problem.code == code and message in problem.message
    assert problem.label.startswith("Direct cost")
    assert summary.held("hold_run") and not summary.held("hold_row")


def test_required_empty_value_rejects_the_row() -> None:
    summary = RenderSummary()
    layout = layout_for({"name": "c", "source": "cost.cost_code", "required": True})
    assert one(layout, cost(cost_code=""), cost(cost_code="01-500", source_id="d2"), summary=summary) == "01-500\n"
    (problem,) = summary.problems
    assert problem.source_id == "d1" and problem.code == "missing_value"
    assert problem.message == "r.c is required but empty" and problem.field == "c"


def test_flags_dates_and_constants() -> None:
    data: dict[str, Any] = {
        "name": "t",
        "connector": "custom",
        "connection": "ar_invoices",
        "params": {"acct": "4000"},
        "records": [
            {
                "name": "D",
                "per": "line",
                "fields": [
                    {"name": "d", "type": "date", "source": "invoice.transaction_date", "date_format": "mmddyyyy"},
                    {"name": "f", "type": "flag", "source": "line.taxable", "true_value": "yes", "false_value": ""},
                    {"name": "g", "source": "if(line.taxable, 'T', param.acct)"},
                    {"name": "k", "value": "100%"},
                    {"name": "n", "type": "number", "source": "line_no", "decimals": 0},
                ],
            }
        ],
    }
    out = render_bytes(validate_layout(data), invoice_rows(invoices()[:1], MAPPINGS)).decode()
    assert out == "03082024,yes,T,100%,1\r\n03082024,yes,T,100%,2\r\n"


def test_if_on_a_number_is_refused() -> None:
    with pytest.raises(LayoutError, match="if\\(\\) argument 1 must be a flag"):
        layout_for({"name": "f", "source": "if(cost.amount, 'a', 'b')"})


def test_fixed_width_rows_have_exact_widths_and_no_escaping() -> None:
    layout = layout_for(
        {"name": "kind", "value": "DC", "width": 3},
        {"name": "desc", "source": "cost.description", "width": 12, "overflow": "truncate"},
        {"name": "amount", "type": "number", "source": "cost.amount", "width": 10, "pad": "0", "implied_decimal": True},
        {"name": "date", "type": "date", "source": "cost.used_on", "date_format": "yyyymmdd", "width": 8},
        {"name": "vendor", "source": "vendor.number", "width": 6, "align": "right"},
        format="fixed_width",
        encoding="cp1252",
        line_ending="crlf",
    )
    out = one(layout, cost("=Fittings, long name", "-12.34"))
    assert out == "DC =Fittings, l-00000123420240309  FERG\r\n"


def test_header_row_titles_are_escaped_and_quoted() -> None:
    layout = layout_for(
        {"name": "a", "header": "=Amount, USD", "type": "number", "source": "cost.amount"},
        {"name": "b", "source": "cost.description"},
        header=True,
    )
    assert one(layout).splitlines() == ['"\'=Amount, USD",b', "12.34,Fittings"]


def test_utf8_bom_is_written_once_however_the_file_is_chunked() -> None:
    layout = layout_for({"name": "b", "source": "cost.description"}, encoding="utf-8-sig")
    costs = [cost(f"n{i}", source_id=f"d{i}") for i in range(5)]
    chunks = list(render(layout, direct_cost_rows(costs), chunk_rows=2))
    assert chunks[0].startswith(b"\xef\xbb\xbfn0\n") and len(chunks) == 3
    assert b"".join(chunks).count(b"\xef\xbb\xbf") == 1


def test_empty_input_gives_a_file_with_only_the_header() -> None:
    layout = load_builtin("csv", "direct_costs")
    summary = RenderSummary()
    chunks = list(render(layout, [], summary))
    assert len(chunks) == 1 and chunks[0].startswith(b"\xef\xbb\xbfused_on,")
    assert summary.rows == 0 and summary.totals == {"row.amount": Decimal(0)}


def test_a_bad_line_drops_its_whole_invoice_and_nothing_else() -> None:
    layout = load_builtin("sage300cre", "ar_invoices").model_dump()
    layout["records"][1]["fields"][1].update(overflow="reject")  # D.description: 30 or reject
    summary = RenderSummary()
    data = render_bytes(validate_layout(layout), invoice_rows(invoices(), MAPPINGS), summary)
    lines = data.decode("cp1252").splitlines()
    assert [line[:3] for line in lines] == ['"I"', '"D"', '"D"', '"I"', '"D"', '"D"']
    assert not any('"1002"' in line for line in lines)
    (problem,) = summary.problems
    assert (problem.record_type, problem.source_id, problem.label) == (
        "invoice",
        "i2",
        'Invoice 1002 (Zoë\'s Café, "Downtown")',
    )
    assert problem.field == "description" and problem.message.startswith("D.description is 32 characters")
    assert summary.documents == 2 and summary.rows_by_record == {"I": 2, "D": 4}
    assert summary.totals["I.amount"] == Decimal("970.71")


def test_an_unmapped_customer_rejects_the_invoice_as_missing_value() -> None:
    summary = RenderSummary()
    data = render_bytes(load_builtin("sage300cre", "ar_invoices"), invoice_rows(invoices()[:1]), summary)
    assert data == b""
    (problem,) = summary.problems
    assert problem.code == "missing_value" and problem.message == "I.customer is required but empty"


def test_missing_optional_reference_is_blank_not_an_error() -> None:
    """invoice.job is None for invoice 1003: a raw path through it gives a blank cell (slow path)."""
    data: dict[str, Any] = {
        "name": "t",
        "connector": "custom",
        "connection": "ar_invoices",
        "records": [
            {
                "name": "I",
                "fields": [{"name": "n", "source": "invoice.number"}, {"name": "j", "source": "invoice.job.id"}],
            }
        ],
    }
    out = render_bytes(validate_layout(data), invoice_rows(invoices(), MAPPINGS))
    assert out == b"1001,j1\r\n1002,j2\r\n1003,\r\n"


def test_cell_caches_stay_bounded() -> None:
    from ledgerbridge.connectors.compiler import CACHE_LIMIT
    from ledgerbridge.connectors.render import compiled

    layout = layout_for({"name": "b", "source": "cost.source_id"}, {"name": "c", "source": "cost.description"})
    costs = (cost(f"d{i}", source_id=f"d{i}") for i in range(CACHE_LIMIT * 2 + 10))
    total = sum(len(chunk) for chunk in render(layout, direct_cost_rows(costs)))
    assert total > 0
    for rec in compiled(layout).records[0]:
        assert all(len(f.cache) <= CACHE_LIMIT for f in rec.dynamic)


# --- properties -------------------------------------------------------------------------------------------

CONTROL = {*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029}


def expected_text(value: str, layout: Layout) -> str:
    """The documented transform, written out independently of the implementation."""
    value = value.replace("\r\n", "\n")
    gap = "" if layout.control_chars == "strip" else " "
    value = "".join(gap if ord(ch) in CONTROL else ch for ch in value)
    value = unicodedata.normalize("NFC", value)
    codec = "utf-8" if layout.encoding.startswith("utf") else layout.encoding
    kept = []
    for ch in value:
        try:
            ch.encode(codec)
            kept.append(ch)
        except UnicodeEncodeError:
            if unicodedata.category(ch) not in ("Mn", "Me", "Cf"):
                kept.append(layout.replacement)
    value = "".join(kept)
    if layout.formula_escape and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        value = "'" + value
    return value


any_text = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    descriptions=st.lists(any_text, min_size=1, max_size=5),
    code=any_text,
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "ascii", "latin-1"]),
    controls=st.sampled_from(["replace", "strip"]),
    quote=st.sampled_from(["minimal", "always"]),
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=3),
)
def test_any_text_parses_back(
    descriptions: list[str],
    code: str,
    delimiter: str,
    encoding: str,
    controls: str,
    quote: str,
    amount: Decimal,
) -> None:
    layout = layout_for(
        {"name": "desc", "source": "cost.description"},
        {"name": "amount", "type": "number", "source": "cost.amount"},
        {"name": "code", "source": "cost.cost_code", "quote": "always"},
        delimiter=delimiter,
        encoding=encoding,
        control_chars=controls,
        unencodable="replace",
        quote=quote,
        line_ending="crlf",
    )
    records = [cost(d, str(amount), cost_code=code, source_id=f"d{i}") for i, d in enumerate(descriptions)]
    data = render_bytes(layout, direct_cost_rows(records))
    decoded = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    parsed = list(csv.reader(io.StringIO(decoded, newline=""), delimiter=delimiter))
    assert len(parsed) == len(records) == decoded.count("\r\n")
    for row, record in zip(parsed, records, strict=True):
        assert row[0] == expected_text(record.description, layout)
        assert row[1] == str(record.amount.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") + 0)
        assert row[2] == expected_text(record.cost_code, layout)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(any_text, min_size=1, max_size=5),
    width=st.integers(min_value=1, max_value=15),
    overflow=st.sampled_from(["reject", "truncate"]),
    encoding=st.sampled_from(["cp1252", "ascii", "latin-1"]),
)
def test_fixed_width_rows_never_exceed_their_widths(
    values: list[str], width: int, overflow: str, encoding: str
) -> None:
    layout = layout_for(
        {"name": "a", "source": "cost.description", "width": width, "overflow": overflow},
        {"name": "b", "type": "number", "source": "cost.amount", "width": 9, "pad": "0"},
        format="fixed_width",
        encoding=encoding,
        unencodable="replace",
    )
    records = [cost(v, "-12.5", source_id=f"d{i}") for i, v in enumerate(values)]
    summary = RenderSummary()
    lines = render_bytes(layout, direct_cost_rows(records), summary).decode(encoding).split("\n")[:-1]
    expected = [
        (r.source_id, expected_text(r.description, layout.model_copy(update={"formula_escape": False})))
        for r in records
    ]
    fitting = [(sid, v) for sid, v in expected if overflow == "truncate" or len(v) <= width]
    assert len(lines) == len(fitting)
    for line, (_sid, value) in zip(lines, fitting, strict=True):
        assert len(line) == width + 9
        assert line[:width] == value[:width].ljust(width)
        assert line[width:] == "-00012.50"
    assert sorted(p.source_id for p in summary.problems) == sorted(
        sid for sid, v in expected if overflow == "reject" and len(v) > width
    )
