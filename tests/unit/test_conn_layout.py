"""Layouts as data: validation messages that name the field, the JSON Schema, built-in provenance."""

from __future__ import annotations

import json
from copy import deepcopy
from typing import Any

import pytest

from ledgerbridge.connectors import LayoutError, builtin_names, load_builtin, validate_layout
from ledgerbridge.connectors.layout import json_schema_text
from ledgerbridge.connectors.schema import SCHEMA_FILE
from ledgerbridge.errors import InvalidInput, NotFound


def minimal(**overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "name": "Custom AR",
        "connector": "custom",
        "connection": "ar_invoices",
        "records": [
            {"name": "H", "fields": [{"name": "kind", "value": "H"}, {"name": "number", "source": "invoice.number"}]},
            {
                "name": "L",
                "per": "line",
                "fields": [
                    {"name": "kind", "value": "L"},
                    {"name": "description", "source": "line.description", "width": 30},
                    {"name": "amount", "type": "number", "source": "line.amount"},
                ],
            },
        ],
    }
    layout.update(overrides)
    return layout


def errors_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(LayoutError) as caught:
        validate_layout(data)
    return caught.value.errors


def with_field(record: int, index: int, **changes: Any) -> dict[str, Any]:
    data = minimal()
    data["records"][record]["fields"][index].update(changes)
    return data


def test_a_valid_custom_layout_validates() -> None:
    layout = validate_layout(minimal())
    assert layout.records[1].per == "line"
    assert layout.encoding == "cp1252" and layout.line_ending == "crlf"


def test_layout_error_is_an_invalid_input_naming_the_first_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_layout(with_field(1, 1, width=0))
    assert caught.value.field == "records[1].fields[1].width"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_field(1, 1, width=0), "records[1].fields[1].width: must be > 0"),
        (
            with_field(1, 2, type="money"),
            "records[1].fields[2].type: must be one of 'text', 'number', 'date' or 'flag'",
        ),
        (with_field(0, 1, colour="red"), "records[0].fields[1].colour: is not a layout setting"),
        (with_field(0, 1, name="has space"), "records[0].fields[1].name: must match ^[A-Za-z_][A-Za-z0-9_]*$"),
        (with_field(1, 2, decimals=9), "records[1].fields[2].decimals: must be <= 6"),
        (minimal(records=[]), "records: needs at least 1 item(s)"),
        (minimal(connection="invoices"), "connection: must be one of"),
        (minimal(delimiter=";;"), "delimiter: must be at most 1 characters"),
    ],
)
def test_shape_errors_name_the_field(data: dict[str, Any], expected: str) -> None:
    assert any(e.startswith(expected) for e in errors_of(data)), errors_of(data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (with_field(0, 1, source="invoice.numbr"), "records[0].fields[1].source: invoice has no field 'numbr'"),
        (with_field(0, 1, source="line.amount"), "records[0].fields[1].source: unknown name 'line' (line fields need"),
        (with_field(0, 1, source="uper(invoice.number)"), "records[0].fields[1].source: unknown function uper()"),
        (with_field(0, 1, source="left(invoice.number)"), "records[0].fields[1].source: left() takes 2 arguments"),
        (with_field(0, 1, source="invoice.transaction_date"), "records[0].fields[1].source: gives a date, but the"),
        (with_field(0, 1, source="invoice.customer"), "records[0].fields[1].source: invoice.customer is a group"),
        (with_field(0, 1, source="invoice.lines"), "records[0].fields[1].source: invoice.lines is a list"),
        (with_field(0, 1, source="invoice.updated_at"), "records[0].fields[1].source: invoice.updated_at is a UTC"),
        (with_field(0, 1, source="param.nope"), "records[0].fields[1].source: unknown param 'param.nope'"),
        (with_field(0, 1, source="lookup('t', invoice.number)"), "records[0].fields[1].source: unknown lookup table"),
        (with_field(0, 1, source="concat(invoice.number"), "records[0].fields[1].source: expected ')'"),
        (with_field(0, 1, value="x"), "records[0].fields[1].value: give either source or value, not both"),
        (with_field(1, 2, type="date"), "records[1].fields[2].date_format: is required for a date field"),
        (with_field(1, 2, quote="never", type="text"), "records[1].fields[2].quote: 'never' is only for number"),
        (with_field(1, 2, overflow="truncate"), "records[1].fields[2].overflow: only text may be truncated"),
        (with_field(1, 1, decimals=3), "records[1].fields[1].decimals: only for number fields"),
        (with_field(1, 1, pad="0", width=None), "records[1].fields[1].pad: padding needs a width"),
        (with_field(1, 1, pad="=", width=30), "records[1].fields[1].pad: '=' must be printable and not a quote"),
        (with_field(1, 0, name="description"), "records[1].fields[1].name: duplicate field name 'description'"),
        (with_field(1, 2, cite=["nowhere"]), "records[1].fields[2].cite: 'nowhere' is not one of layout.sources"),
        (with_field(1, 1, required=True, source=None, value=""), "records[1].fields[1].value: the constant is req"),
        (minimal(header=True), "header: a header row needs exactly one record type"),
        (minimal(delimiter="."), "delimiter: '.' cannot separate cells"),
        (minimal(format="fixed_width"), "records[0].fields[0].width: is required in a fixed_width layout"),
        (minimal(format="fixed_width", encoding="utf-8"), "encoding: fixed_width widths count characters"),
        (minimal(connection="labor_hours"), "records[0].fields[1].source: unknown name 'invoice'"),
        (minimal(connection="direct_costs"), "records[1].per: direct_costs documents have no lines"),
        (minimal(replacement='"'), "replacement: '\"' must be a printable character"),
    ],
)
def test_semantic_errors_name_the_field(data: dict[str, Any], expected: str) -> None:
    found = errors_of(data)
    assert any(e.startswith(expected) for e in found), found


def test_every_problem_is_reported_at_once() -> None:
    data = minimal()
    data["records"][0]["fields"][1]["source"] = "invoice.nope"
    data["records"][1]["fields"][1]["width"] = -3
    data["records"][1]["fields"][2]["source"] = "line.nope"
    found = errors_of(data)
    assert found[0].startswith("records[1].fields[1].width")  # shape errors come first, alone
    data["records"][1]["fields"][1]["width"] = 3
    found = errors_of(data)
    assert [e.split(":")[0] for e in found] == ["records[0].fields[1].source", "records[1].fields[2].source"]


def test_source_errors_point_at_the_column() -> None:
    (message,) = errors_of(with_field(0, 1, source="concat(invoice.number, upper(invoice.nope))"))
    assert message.endswith("(at column 30)")


def test_not_a_dict_is_refused() -> None:
    with pytest.raises(LayoutError):
        validate_layout([])  # type: ignore[arg-type]


def test_model_dump_round_trips_through_validation() -> None:
    for name in builtin_names():
        layout = load_builtin(*name)
        assert validate_layout(json.loads(layout.model_dump_json())) == layout


def test_schema_file_is_generated_from_the_model() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == json_schema_text(), (
        "run: python -m ledgerbridge.connectors.schema"
    )
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert schema["properties"]["records"]["minItems"] == 1
    assert "FieldSpec" in schema["$defs"]


def test_unknown_builtin_is_not_found() -> None:
    with pytest.raises(NotFound):
        load_builtin("sage300cre", "payments")


def test_load_builtin_returns_a_copy() -> None:
    first = load_builtin("csv", "labor_hours")
    first.params["x"] = "y"
    assert "x" not in load_builtin("csv", "labor_hours").params


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_provenance(name: tuple[str, str, str]) -> None:
    """Each built-in says where it comes from: sources, notes, and per field published vs default."""
    layout = load_builtin(*name)
    assert layout.connector == name[0] and layout.connection == name[1] and layout.variant == name[2]
    assert layout.sources and layout.notes and layout.description
    for source in layout.sources:
        assert source.url.startswith(("https://", "http://")), source.id
        assert source.cited_in in ("", "docs/connectors.md"), source.id
    for record in layout.records:
        for spec in record.fields:
            if spec.origin in ("published", "derived"):
                assert spec.cite, f"{record.name}.{spec.name} is {spec.origin} but cites nothing"


def test_builtin_files_are_plain_data() -> None:
    from importlib import resources

    folder = resources.files("ledgerbridge.connectors").joinpath("layouts")
    for entry in folder.iterdir():
        data = json.loads(entry.read_text(encoding="utf-8"))
        original = deepcopy(data)
        validate_layout(data)
        assert data == original  # validation never mutates its input


def test_a_layout_whose_expression_could_build_a_huge_text_is_refused_naming_field_and_column() -> None:
    grow = "'a', 'aaaaaaaaaa'"
    source = f"replace(replace(replace(replace(replace('aaaaaaaaaa', {grow}), {grow}), {grow}), {grow}), {grow})"
    with pytest.raises(LayoutError) as caught:
        validate_layout(with_field(0, 1, source=source))
    assert caught.value.field == "records[0].fields[1].source"
    assert "the limit is 65536 (at column 9)" in str(caught.value)
    with pytest.raises(LayoutError, match="too large to round"):
        validate_layout(with_field(0, 1, source=f"round({'9' * 300}, 2)", type="number"))
