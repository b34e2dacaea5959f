"""Rows: what a layout's field paths read. Built from canonical records; consumed by the renderer.

A `Row` is one document (an invoice, a purchase order, a direct cost, a labor summary) or one of its
lines. Its attributes are the namespaces a layout can name in a path (`invoice.number`, `line.amount`,
`customer.number`, `job.number`, `labor.hours`, ...). Which namespaces exist depends on the connection
and on the record type's level (`per: document|line`); `path_type` checks a path against them, so a
custom layout with a typo is refused when it is saved, not when the file is rendered.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from ledgerbridge.connectors.expr import ExprError, PathParts, ValueType
from ledgerbridge.records import DirectCost, Invoice, InvoiceLine, PurchaseOrder, PurchaseOrderLine, Ref

Level = Literal["document", "line"]
DOCUMENT, LINE = 0, 1


@dataclass(frozen=True, slots=True)
class RunInfo:
    """The export run the file belongs to (constant for every row of a file)."""

    tenant_id: str = ""
    connector: str = ""
    connection: str = ""
    run_id: str = ""
    period_start: date | None = None
    period_end: date | None = None


@dataclass(frozen=True, slots=True)
class Party:
    """A customer or vendor: the platform's id and name, and its id in the accounting system (`number`)."""

    id: str = ""
    name: str = ""
    number: str = ""


@dataclass(frozen=True, slots=True)
class JobInfo:
    """A job: `number` is the accounting system's job id when mapped, else the platform reference's name."""

    id: str = ""
    name: str = ""
    number: str = ""


@dataclass(frozen=True, slots=True)
class TaxInfo:
    """An invoice's tax: the platform's tax group and the accounting system's tax code it maps to."""

    group: str = ""
    code: str = ""
    rate: Decimal = Decimal("0")


@dataclass(frozen=True, slots=True)
class LaborRow:
    """Hours of one technician on one job on one local calendar day, of one pay type."""

    work_date: date
    employee_number: str
    technician_id: str
    technician_name: str
    job_id: str
    job_name: str
    job_number: str
    pay_type: Literal["regular", "overtime"]
    hours: Decimal
    entry_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Mappings:
    """Platform id -> accounting system id, per kind (from the tenant's mapping settings / External IDs)."""

    customers: Mapping[str, str] = field(default_factory=dict)
    vendors: Mapping[str, str] = field(default_factory=dict)
    jobs: Mapping[str, str] = field(default_factory=dict)
    tax_codes: Mapping[str, str] = field(default_factory=dict, metadata={"doc": "platform tax group -> code"})

    def customer(self, ref: Ref) -> Party:
        return Party(ref.id, ref.name, self.customers.get(ref.id, ""))

    def vendor(self, ref: Ref | None) -> Party:
        return Party() if ref is None else Party(ref.id, ref.name, self.vendors.get(ref.id, ""))

    def job(self, ref: Ref | None) -> JobInfo:
        if ref is None:
            return JobInfo()
        return JobInfo(ref.id, ref.name, self.jobs.get(ref.id) or ref.name)

    def tax_code(self, group: str) -> str:
        return self.tax_codes.get(group, group)


class Row:
    """One line's worth of input for the renderer. `record` is the source record, for problem reports."""

    __slots__ = (
        "cost",
        "customer",
        "invoice",
        "job",
        "labor",
        "level",
        "line",
        "line_no",
        "po",
        "record",
        "run",
        "tax",
        "vendor",
    )
    level: int
    record: object
    run: RunInfo
    invoice: Invoice
    po: PurchaseOrder
    cost: DirectCost
    labor: LaborRow
    line: InvoiceLine | PurchaseOrderLine
    line_no: int
    customer: Party
    vendor: Party
    job: JobInfo
    tax: TaxInfo

    def __init__(self, level: int, record: object, run: RunInfo, **namespaces: object) -> None:
        self.level = level
        self.record = record
        self.run = run
        for name, value in namespaces.items():
            setattr(self, name, value)


# --- what a path may name -----------------------------------------------------------------------------

_DOCUMENT_NAMESPACES: dict[str, dict[str, type]] = {
    "ar_invoices": {"run": RunInfo, "invoice": Invoice, "customer": Party, "job": JobInfo, "tax": TaxInfo},
    "labor_hours": {"run": RunInfo, "labor": LaborRow, "job": JobInfo},
    "purchase_orders": {"run": RunInfo, "po": PurchaseOrder, "vendor": Party, "job": JobInfo},
    "direct_costs": {"run": RunInfo, "cost": DirectCost, "vendor": Party, "job": JobInfo},
}
_LINE_NAMESPACES: dict[str, dict[str, type]] = {
    "ar_invoices": {"line": InvoiceLine, "line_no": int},
    "purchase_orders": {"line": PurchaseOrderLine, "line_no": int},
}


def has_lines(connection: str) -> bool:
    return connection in _LINE_NAMESPACES


def namespaces(connection: str, level: Level) -> dict[str, type]:
    found = dict(_DOCUMENT_NAMESPACES[connection])
    if level == "line":
        found.update(_LINE_NAMESPACES.get(connection, {}))
    return found


def _fields_of(cls: type) -> dict[str, Any]:
    if issubclass(cls, BaseModel):
        return {name: info.annotation for name, info in cls.model_fields.items()}
    if dataclasses.is_dataclass(cls):
        return dict(typing.get_type_hints(cls))
    return {}


def _unwrap(annotation: Any) -> Any:
    """X | None -> X; Annotated[X, ...] -> X."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return _unwrap(rest[0])
    return annotation


def _scalar(annotation: Any, shown: str) -> ValueType:
    if typing.get_origin(annotation) is Literal:
        if all(isinstance(a, str) for a in typing.get_args(annotation)):
            return "text"
    elif isinstance(annotation, type):
        if issubclass(annotation, str):
            return "text"
        if issubclass(annotation, bool):
            return "flag"
        if issubclass(annotation, int | Decimal):
            return "number"
        if issubclass(annotation, datetime) or "Datetime" in annotation.__name__:  # pydantic's AwareDatetime
            raise ExprError(f"{shown} is a UTC date and time, which a file cannot show unambiguously; use a date")
        if issubclass(annotation, date):
            return "date"
        if _fields_of(annotation):
            known = ", ".join(_fields_of(annotation))
            raise ExprError(f"{shown} is a group of fields; name one of: {known}")
    raise ExprError(f"{shown} is a list or mapping, which one cell cannot hold")


def path_type(connection: str, level: Level, parts: PathParts) -> ValueType:
    """The value type of a path for a record type of this connection and level, or ExprError."""
    scope = namespaces(connection, level)
    head = parts[0]
    if head not in scope:
        hint = ""
        if head in _LINE_NAMESPACES.get(connection, {}):
            hint = " (line fields need a record type with per: line)"
        known = ", ".join(sorted([*scope, "param"]))
        raise ExprError(f"unknown name {head!r}{hint}; known: {known}")
    current: Any = scope[head]
    for i, part in enumerate(parts[1:], start=1):
        fields = _fields_of(current) if isinstance(current, type) else {}
        shown = ".".join(parts[:i])
        if not fields:
            raise ExprError(f"{shown} has no fields (so {'.'.join(parts[: i + 1])!r} does not exist)")
        if part not in fields:
            raise ExprError(f"{shown} has no field {part!r}; known: {', '.join(fields)}")
        current = _unwrap(fields[part])
    return _scalar(current, ".".join(parts))


# --- building rows from records -------------------------------------------------------------------------


def invoice_rows(
    invoices: Iterable[Invoice], mappings: Mappings | None = None, run: RunInfo | None = None
) -> Iterator[Row]:
    """Each invoice as a document row followed by one row per line."""
    maps, run = mappings or Mappings(), run or RunInfo()
    for inv in invoices:
        ns = {
            "invoice": inv,
            "customer": maps.customer(inv.customer),
            "job": maps.job(inv.job),
            "tax": TaxInfo(inv.tax_group, maps.tax_code(inv.tax_group) if inv.tax_group else "", inv.tax_rate),
        }
        yield Row(DOCUMENT, inv, run, **ns)
        for n, line in enumerate(inv.lines, start=1):
            yield Row(LINE, inv, run, line=line, line_no=n, **ns)


def purchase_order_rows(
    orders: Iterable[PurchaseOrder], mappings: Mappings | None = None, run: RunInfo | None = None
) -> Iterator[Row]:
    maps, run = mappings or Mappings(), run or RunInfo()
    for po in orders:
        ns = {"po": po, "vendor": maps.vendor(po.vendor), "job": maps.job(po.job)}
        yield Row(DOCUMENT, po, run, **ns)
        for n, line in enumerate(po.lines, start=1):
            yield Row(LINE, po, run, line=line, line_no=n, **ns)


def direct_cost_rows(
    costs: Iterable[DirectCost], mappings: Mappings | None = None, run: RunInfo | None = None
) -> Iterator[Row]:
    maps, run = mappings or Mappings(), run or RunInfo()
    for cost in costs:
        yield Row(DOCUMENT, cost, run, cost=cost, vendor=maps.vendor(cost.vendor), job=maps.job(cost.job))


def labor_rows(summaries: Iterable[LaborRow], run: RunInfo | None = None) -> Iterator[Row]:
    run = run or RunInfo()
    for s in summaries:
        yield Row(DOCUMENT, s, run, labor=s, job=JobInfo(s.job_id, s.job_name, s.job_number))
