"""Canonical records: what every source produces and every target consumes.

Money is Decimal (a float is refused, never silently converted), times are timezone-aware and kept in UTC,
dates are calendar dates in the tenant's business day. Records are immutable and reject unknown fields, so
an adapter bug shows up as a clear validation error instead of a silently dropped value.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from ledgerbridge.times import UtcDatetime

# The platform's own invoice states (ServiceTrade: Technical Guide to Invoicing Integrations;
# docs/servicetrade-double.md).
InvoiceStatus = Literal[
    "draft", "ok", "internal_review", "pending_accounting", "processed", "failed", "sent", "paid", "void"
]
EntityType = Literal["customer", "location", "job", "invoice", "labor", "purchase_order", "direct_cost", "payment"]


def _refuse_float(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("money must be a Decimal, int or string, not a float (floats lose cents)")
    return value


Money = Annotated[Decimal, BeforeValidator(_refuse_float), Field(max_digits=18, decimal_places=6)]
Quantity = Annotated[Decimal, BeforeValidator(_refuse_float), Field(max_digits=18, decimal_places=6)]
SourceId = Annotated[str, Field(min_length=1, max_length=64)]


class Record(BaseModel):
    # defer_build: validators are built on a record's first validation, not at import; many functions import
    # these models (through the targets' documents) on paths that never read a platform record (make bench).
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, defer_build=True)


class Address(Record):
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""


class Ref(Record):
    """A reference to another record: its source id and display name."""

    id: SourceId
    name: str = ""


class Customer(Record):
    source_id: SourceId
    name: str = Field(min_length=1, max_length=500)
    ref_number: str = ""
    email: str = ""
    phone: str = ""
    address: Address = Address()
    status: str = "active"
    external_ids: dict[str, str] = Field(default_factory=dict)


class Location(Record):
    source_id: SourceId
    name: str = Field(min_length=1, max_length=500)
    customer: Ref
    address: Address = Address()
    taxable: bool = False
    tax_group: str = ""
    tax_rate: Decimal = Decimal("0")
    external_ids: dict[str, str] = Field(default_factory=dict)


class Job(Record):
    source_id: SourceId
    number: str
    name: str = ""
    type: str = ""
    status: str = ""
    customer: Ref
    location: Ref
    customer_po: str = ""
    completed_on: UtcDatetime | None = None
    external_ids: dict[str, str] = Field(default_factory=dict)


class InvoiceLine(Record):
    source_id: SourceId
    description: str = ""
    item_code: str = ""
    item_name: str = ""
    service_line: str = ""
    quantity: Quantity
    unit_price: Money
    amount: Money
    taxable: bool = False


class Invoice(Record):
    source_id: SourceId
    number: str = Field(min_length=1, max_length=64)
    status: InvoiceStatus
    transaction_date: date
    due_date: date | None = None
    customer: Ref
    location: Ref
    job: Ref | None = None
    customer_po: str = ""
    terms: str = ""
    tax_group: str = ""
    tax_rate: Decimal = Decimal("0")
    lines: tuple[InvoiceLine, ...] = Field(min_length=1)
    subtotal: Money
    tax_amount: Money
    total: Money
    memo: str = ""
    updated_at: UtcDatetime

    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))


class LaborEntry(Record):
    """One worked interval, from a clock-in/clock-out pair of the platform's clock events."""

    source_id: SourceId
    technician: Ref
    employee_number: str = ""
    job: Ref
    activity: Literal["onsite", "offsite", "enroute", "jobprep"] = "onsite"
    clock_in: UtcDatetime
    clock_out: UtcDatetime | None = None

    @model_validator(mode="after")
    def _ordered(self) -> LaborEntry:
        if self.clock_out is not None and self.clock_out < self.clock_in:
            raise ValueError(f"clock_out {self.clock_out.isoformat()} is before clock_in")
        return self


class PurchaseOrderLine(Record):
    source_id: SourceId
    description: str = ""
    item_code: str = ""
    cost_code: str = ""
    quantity: Quantity
    unit_cost: Money
    amount: Money


class PurchaseOrder(Record):
    source_id: SourceId
    number: str = Field(min_length=1, max_length=64)
    vendor: Ref
    job: Ref
    order_date: date
    lines: tuple[PurchaseOrderLine, ...] = Field(min_length=1)
    total: Money


class DirectCost(Record):
    """A cost posted straight to a job (parts, rentals, subcontract) without a purchase order."""

    source_id: SourceId
    job: Ref
    vendor: Ref | None = None
    cost_code: str = ""
    cost_type: str = "M"
    description: str = ""
    quantity: Quantity
    unit_cost: Money
    amount: Money
    used_on: date


class Payment(Record):
    source_id: SourceId
    invoice_id: SourceId
    amount: Money
    method: str = ""
    reference: str = ""
    paid_on: date


class RecordVersion(Record):
    """One version of a platform record: its id and the time it last changed (what the sweep compares)."""

    source_id: SourceId
    updated_at: UtcDatetime
