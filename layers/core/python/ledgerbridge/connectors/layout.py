"""The declarative file layout: what a connection's export file looks like, as data.

A layout is JSON validated by these pydantic models (and described by `layout.schema.json`, generated from
them: `python -m ledgerbridge.connectors.layout > .../layout.schema.json`). Shape checks live here; the
checks that need more context (expressions, field paths, widths against the format) live in the compiler,
and `validate_layout` runs both, so a layout that validates is a layout that compiles.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ledgerbridge.errors import InvalidInput
from ledgerbridge.tenants import ConnectionName

Encoding = Literal["utf-8", "utf-8-sig", "cp1252", "latin-1", "ascii"]
FieldType = Literal["text", "number", "date", "flag"]
Origin = Literal["published", "default", "derived"]

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceRef(Spec):
    """A published document a layout (or one of its fields) is based on."""

    id: str = Field(pattern=NAME_PATTERN, max_length=64)
    title: str = Field(min_length=1, max_length=300)
    url: str = Field(default="", max_length=500)
    cited_in: str = Field(default="", max_length=300, description="where LedgerBridge's docs discuss it")


class FieldSpec(Spec):
    """One column (delimited) or one fixed-width slot of a record."""

    name: str = Field(pattern=NAME_PATTERN, max_length=64)
    header: str | None = Field(default=None, max_length=200, description="column title; defaults to name")
    source: str | None = Field(
        default=None, min_length=1, max_length=500, description="a field path or an expression (see docs)"
    )
    value: str | None = Field(default=None, max_length=200, description="a constant; neither = blank column")
    type: FieldType = "text"
    width: int | None = Field(default=None, gt=0, le=1000, description="fixed width: the slot; else max length")
    align: Literal["left", "right"] | None = Field(default=None, description="default: numbers right, else left")
    pad: str | None = Field(default=None, min_length=1, max_length=1, description="fill character")
    quote: Literal["minimal", "always", "never"] | None = Field(
        default=None, description="delimited only; default: text per layout.quote, others never"
    )
    overflow: Literal["reject", "truncate"] = Field(
        default="reject", description="longer than width: reject the row, or truncate (text only)"
    )
    required: bool = Field(default=False, description="an empty value rejects the row")
    date_format: str | None = Field(default=None, max_length=40, description="e.g. mm/dd/yyyy, m/d/yyyy")
    decimals: int = Field(default=2, ge=0, le=6)
    implied_decimal: bool = Field(default=False, description="12.34 -> 1234")
    trim_zeros: bool = Field(default=False, description="drop trailing fractional zeros: 4.00 -> 4")
    sign: Literal["leading", "trailing", "parentheses", "separate"] = "leading"
    integer_digits: int | None = Field(default=None, gt=0, le=18, description="max digits before the point")
    blank_when_zero: bool = False
    total: bool = Field(default=True, description="number fields: add to the run summary's totals")
    true_value: str = Field(default="Y", max_length=20)
    false_value: str = Field(default="N", max_length=20)
    origin: Origin = Field(default="default", description="published by the target, or a changeable default")
    cite: list[str] = Field(default_factory=list, description="ids of layout.sources this field relies on")
    notes: str = Field(default="", max_length=2000)


class RecordSpec(Spec):
    """A record type: one line per document (invoice, PO, labor row, cost) or one per document line."""

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_]+$")
    per: Literal["document", "line"] = "document"
    fields: list[FieldSpec] = Field(min_length=1, max_length=300)
    notes: str = Field(default="", max_length=2000)


class Layout(Spec):
    layout_version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=100)
    connector: str = Field(pattern=NAME_PATTERN, max_length=40, description="sage300cre, computerease, csv, ...")
    connection: ConnectionName
    variant: str = Field(default="", max_length=40)
    description: str = Field(default="", max_length=2000)
    format: Literal["delimited", "fixed_width"] = "delimited"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: Literal["minimal", "always"] = Field(default="minimal", description="default quoting of text fields")
    header: bool = Field(default=False, description="a first line of column titles (one record type only)")
    line_ending: Literal["crlf", "lf"] = "crlf"
    encoding: Encoding = "cp1252"
    unencodable: Literal["replace", "transliterate", "reject"] = "transliterate"
    replacement: str = Field(default="?", min_length=1, max_length=1)
    control_chars: Literal["replace", "strip", "reject"] = "replace"
    formula_escape: bool = Field(default=True, description="prefix ' to text cells starting = + - @ tab CR")
    params: dict[str, str] = Field(default_factory=dict, description="customer settings, read as param.<name>")
    tables: dict[str, dict[str, str]] = Field(default_factory=dict, description="lookup('table', key) tables")
    sources: list[SourceRef] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    records: list[RecordSpec] = Field(min_length=1, max_length=20)


class LayoutError(InvalidInput):
    """A layout that cannot be used. `errors` holds every problem, each starting with its field path."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        shown = "; ".join(errors[:10]) + (f"; and {len(errors) - 10} more" if len(errors) > 10 else "")
        super().__init__(f"invalid layout: {shown}", field=errors[0].split(":", 1)[0] if errors else "")


def format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "layout"


_MESSAGES = {
    "greater_than": "must be > {gt}",
    "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}",
    "less_than_equal": "must be <= {le}",
    "missing": "is required",
    "extra_forbidden": "is not a layout setting",
    "string_too_short": "must be at least {min_length} character(s)",
    "string_too_long": "must be at most {max_length} characters",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "allows at most {max_length} items",
    "literal_error": "must be one of {expected}",
    "string_pattern_mismatch": "must match {pattern}",
}


def parse_layout(data: Any) -> Layout:
    """The shape check only (pydantic), with messages that name the field path."""
    if not isinstance(data, dict):
        raise LayoutError(["layout: must be a JSON object"])
    try:
        return Layout.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            template = _MESSAGES.get(err["type"])
            ctx = err.get("ctx") or {}
            message = template.format(**ctx) if template else err["msg"]
            errors.append(f"{format_loc(tuple(err['loc']))}: {message}")
        raise LayoutError(errors) from None


def json_schema() -> dict[str, Any]:
    schema = Layout.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "LedgerBridge connector layout"
    return schema


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
