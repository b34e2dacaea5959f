"""ServiceTrade JSON -> canonical records (ledgerbridge.records). Pure functions, no I/O.

Money: JSON numbers reach these functions as Decimal (the adapter parses responses with parse_float=Decimal);
a float, should one slip through, is converted through its shortest repr (the JSON text for any amount of
15 significant digits or fewer), never through float arithmetic. Amounts with fewer than two decimals get
two (`1450.4` -> `1450.40`, the same value). Times are Unix seconds -> aware UTC datetimes; date-only fields
become calendar dates in the tenant's timezone.

References: `Ref.name` is the entity's display name, except for jobs, where it is the job number (what an
accounting system files job costs under).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Literal, get_args

from ledgerbridge.errors import PermanentError
from ledgerbridge.records import (
    Address,
    Customer,
    DirectCost,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Job,
    LaborEntry,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    Ref,
)

Json = dict[str, Any]
CENT = Decimal("0.01")
INVOICE_STATUSES: frozenset[str] = frozenset(get_args(InvoiceStatus))
Activity = Literal["onsite", "offsite", "enroute", "jobprep"]
ACTIVITIES: dict[str, Activity] = {
    "onsite": "onsite",
    "offsite": "offsite",
    "enroute": "enroute",
    "jobprep": "jobprep",
    "job_prep": "jobprep",
}
COST_TYPES = {"part": "M", "material": "M", "labor": "L", "equipment": "E", "subcontractor": "S", "subcontract": "S"}
_PO_PREFIX = re.compile(r"^\s*P\.?O\.?(?:\s*(?:#|no\.?|:)\s*|\s+)(?=\S)", re.IGNORECASE)


# -- scalars ---------------------------------------------------------------------------------------------------
def decimal(value: object, what: str = "number") -> Decimal:
    """An exact Decimal from a JSON number (Decimal or int), a numeric string, or (defensively) a float."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or value is None:
        raise ValueError(f"{what} is not a number: {value!r}")
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"{what} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"{what} is not a finite number: {value!r}")
    return number


def money(value: object, what: str = "amount") -> Decimal:
    """`decimal`, with at least two decimal places (a missing amount is zero)."""
    if value is None:
        return Decimal("0.00")
    number = decimal(value, what)
    exponent = number.as_tuple().exponent
    return number.quantize(CENT) if isinstance(exponent, int) and exponent > -2 else number


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def when(value: object) -> datetime | None:
    """Unix seconds -> aware UTC datetime; None/0/"" -> None."""
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(decimal(value, "timestamp")), UTC)


def day(value: object, tz: tzinfo) -> date | None:
    moment = when(value)
    return None if moment is None else moment.astimezone(tz).date()


def obj(value: object) -> Json:
    """A JSON object, or {} for anything else (null, a missing key)."""
    return value if isinstance(value, dict) else {}


def text(value: object) -> str:
    return "" if value is None else str(value)


def ref(obj: object, what: str) -> Ref:
    if not isinstance(obj, dict) or obj.get("id") in (None, ""):
        raise ValueError(f"{what} reference is missing")
    return Ref(id=str(obj["id"]), name=text(obj.get("name")))


def job_ref(obj: object) -> Ref:
    if not isinstance(obj, dict) or obj.get("id") in (None, ""):
        raise ValueError("job reference is missing")
    return Ref(id=str(obj["id"]), name=text(obj.get("number") or obj.get("name")))


def external_ids(obj: Json) -> dict[str, str]:
    values = obj.get("externalIds") or {}
    return {str(k): str(v) for k, v in values.items() if v not in (None, "")} if isinstance(values, dict) else {}


def address(obj: object) -> Address:
    a = obj if isinstance(obj, dict) else {}
    return Address(
        street=text(a.get("street")),
        city=text(a.get("city")),
        state=text(a.get("state")),
        postal_code=text(a.get("postalCode")),
        country=text(a.get("country")),
    )


def bad_record(kind: str, obj: Json, exc: Exception) -> PermanentError:
    return PermanentError(f"ServiceTrade {kind} {obj.get('id')} cannot be read: {exc}", code="bad_record")


# -- records ---------------------------------------------------------------------------------------------------
def customer(c: Json) -> Customer:
    try:
        return Customer(
            source_id=str(c["id"]),
            name=text(c.get("name")),
            ref_number=text(c.get("refNumber")),
            email=text(c.get("primaryEmail") or c.get("email")),
            phone=text(c.get("phoneNumber") or c.get("phone")),
            address=address(c.get("address")),
            status=text(c.get("status") or "active"),
            external_ids=external_ids(c),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("company", c, exc) from exc


def location(loc: Json) -> Location:
    group = obj(loc.get("taxGroup"))
    try:
        return Location(
            source_id=str(loc["id"]),
            name=text(loc.get("name")),
            customer=ref(loc.get("company"), "company"),
            address=address(loc.get("address")),
            taxable=bool(loc.get("taxable")),
            tax_group=text(group.get("name")),
            tax_rate=decimal(group.get("combinedRate") or 0, "combinedRate"),
            external_ids=external_ids(loc),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("location", loc, exc) from exc


def job(j: Json) -> Job:
    try:
        return Job(
            source_id=str(j["id"]),
            number=text(j.get("number")),
            name=text(j.get("name")),
            type=text(j.get("type")),
            status=text(j.get("status")),
            customer=ref(j.get("customer"), "customer"),
            location=ref(j.get("location"), "location"),
            customer_po=text(j.get("customerPo")),
            completed_on=when(j.get("completedOn")),
            external_ids=external_ids(j),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("job", j, exc) from exc


def invoice_line(item: Json) -> InvoiceLine:
    lib = obj(item.get("libItem"))
    service_line = obj(item.get("serviceLine"))
    quantity = decimal(item.get("quantity", 1), "quantity")
    price = money(item.get("price"), "price")
    total = item.get("totalPrice")
    return InvoiceLine(
        source_id=str(item["id"]),
        description=text(item.get("description") or lib.get("name")),
        item_code=text(lib.get("code")),
        item_name=text(lib.get("name")),
        service_line=text(service_line.get("name")),
        quantity=quantity,
        unit_price=price,
        amount=cents(quantity * price) if total is None else money(total, "totalPrice"),
        taxable=bool(item.get("taxable")),
    )


def invoice(inv: Json, tz: tzinfo) -> Invoice:
    """An invoice with its `items` (the caller fetches the invoice itself when a list omits them)."""
    try:
        lines = tuple(invoice_line(item) for item in inv.get("items") or [])
        subtotal = (
            money(inv["subtotal"])
            if inv.get("subtotal") is not None
            else sum((line.amount for line in lines), Decimal("0.00"))
        )
        total = money(inv.get("totalPrice"), "totalPrice") if inv.get("totalPrice") is not None else None
        tax = money(inv.get("tax"), "tax") if inv.get("tax") is not None else (total or subtotal) - subtotal
        group = obj(inv.get("taxGroup"))
        terms = inv.get("terms")
        transaction_date = day(inv.get("transactionDate"), tz)
        updated = when(inv.get("updated"))
        if transaction_date is None or updated is None:
            raise ValueError("transactionDate and updated are required")
        return Invoice(
            source_id=str(inv["id"]),
            number=text(inv.get("invoiceNumber") or inv["id"]),
            status=inv["status"],
            transaction_date=transaction_date,
            due_date=day(inv.get("dueDate"), tz),
            customer=ref(inv.get("customer"), "customer"),
            location=ref(inv.get("location"), "location"),
            job=job_ref(inv["job"]) if inv.get("job") else None,
            customer_po=text(inv.get("customerPo")),
            terms=text(terms.get("name")) if isinstance(terms, dict) else text(terms),
            tax_group=text(group.get("name")),
            tax_rate=decimal(group.get("combinedRate") or 0, "combinedRate"),
            lines=lines,
            subtotal=subtotal,
            tax_amount=tax,
            total=subtotal + tax if total is None else total,
            memo=text(inv.get("notes")),
            updated_at=updated,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("invoice", inv, exc) from exc


def labor_entry(ev: Json, employee_number: str, technician_name: str) -> LaborEntry:
    try:
        activity = ACTIVITIES.get(text(ev.get("activity") or "onsite").lower())
        if activity is None:
            raise ValueError(f"unknown activity {ev.get('activity')!r}")
        clock_in = when(ev.get("clockIn"))
        if clock_in is None:
            raise ValueError("clockIn is missing")
        user = ref(ev.get("user"), "user")
        return LaborEntry(
            source_id=str(ev["id"]),
            technician=Ref(id=user.id, name=technician_name or user.name),
            employee_number=employee_number,
            job=job_ref(ev.get("job")),
            activity=activity,
            clock_in=clock_in,
            clock_out=when(ev.get("clockOut")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("clock event", ev, exc) from exc


def po_reference(item: Json) -> str | None:
    """The purchase-order number of a job item (`source: {type: "refnumber", value: "PO 123"}` -> "123")."""
    source = item.get("source")
    if not isinstance(source, dict) or text(source.get("type")).lower() != "refnumber":
        return None
    value = text(source.get("value")).strip()
    return _PO_PREFIX.sub("", value).strip() or None


def _cost_code(item: Json) -> str:
    line = obj(item.get("serviceLine"))
    return text(line.get("abbr") or line.get("code"))


def po_line(item: Json) -> PurchaseOrderLine:
    lib = obj(item.get("libItem"))
    quantity, cost = decimal(item.get("quantity", 1), "quantity"), money(item.get("cost"), "cost")
    return PurchaseOrderLine(
        source_id=str(item["id"]),
        description=text(item.get("name") or item.get("description")),
        item_code=text(lib.get("code")),
        cost_code=_cost_code(item),
        quantity=quantity,
        unit_cost=cost,
        amount=cents(quantity * cost),
    )


def purchase_order(number: str, items: list[Json], tz: tzinfo) -> PurchaseOrder:
    """One PO from the job items carrying its reference (vendor and job from the first item that has them)."""
    first = items[0]
    try:
        vendor = next((i["vendor"] for i in items if isinstance(i.get("vendor"), dict)), None)
        if vendor is None:
            raise ValueError(f"no job item on PO {number} names a vendor")
        lines = tuple(po_line(i) for i in items)
        dates = [d for i in items if (d := day(i.get("usedOn") or i.get("created"), tz)) is not None]
        if not dates:
            raise ValueError(f"no job item on PO {number} has a usedOn date")
        return PurchaseOrder(
            source_id=number[:64],
            number=number[:64],
            vendor=ref(vendor, "vendor"),
            job=job_ref(first.get("job")),
            order_date=min(dates),
            lines=lines,
            total=sum((line.amount for line in lines), Decimal("0.00")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("purchase order", {"id": number}, exc) from exc


def direct_cost(item: Json, tz: tzinfo) -> DirectCost:
    lib = obj(item.get("libItem"))
    try:
        quantity, cost = decimal(item.get("quantity", 1), "quantity"), money(item.get("cost"), "cost")
        used_on = day(item.get("usedOn") or item.get("created"), tz)
        if used_on is None:
            raise ValueError("usedOn is missing")
        return DirectCost(
            source_id=str(item["id"]),
            job=job_ref(item.get("job")),
            vendor=ref(item["vendor"], "vendor") if isinstance(item.get("vendor"), dict) else None,
            cost_code=_cost_code(item),
            cost_type=COST_TYPES.get(text(lib.get("type")).lower(), "M" if not lib else "O"),
            description=text(item.get("name") or item.get("description")),
            quantity=quantity,
            unit_cost=cost,
            amount=cents(quantity * cost),
            used_on=used_on,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise bad_record("job item", item, exc) from exc
