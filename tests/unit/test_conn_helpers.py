"""Canonical records for the connector tests (a small, fixed set), plus sanity tests of the set itself.

Other test_conn_* files import the builders from here. Values are chosen to exercise the formats: a
comma and quotes in names, a newline in a description, a formula-looking description, non-cp1252
characters, a negative line, a labor day that crosses midnight and the 2024 US spring-forward.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ledgerbridge.connectors import Mappings, RunInfo
from ledgerbridge.records import (
    DirectCost,
    Invoice,
    InvoiceLine,
    LaborEntry,
    PurchaseOrder,
    PurchaseOrderLine,
    Ref,
)

TZ = "America/New_York"
NY = ZoneInfo(TZ)
UPDATED = datetime(2024, 3, 12, 14, 0, tzinfo=UTC)

ACME = Ref(id="c1", name="Acme Mechanical")
ZOE = Ref(id="c2", name='Zoë\'s Café, "Downtown"')
NTP = Ref(id="c3", name="Northwind Property Trust")
J1 = Ref(id="j1", name="Acme HQ PM 2024")
J2 = Ref(id="j2", name="Zoe Cafe walk-in cooler")
FERGUSON = Ref(id="v1", name="Ferguson Supply, Inc.")
SUNBELT = Ref(id="v2", name="Sunbelt Rentals")

MAPPINGS = Mappings(
    customers={"c1": "ACME01", "c2": "ZOE", "c3": "NTP"},
    vendors={"v1": "FERG", "v2": "SUNB"},
    jobs={"j1": "24-101", "j2": "24-117"},
    tax_codes={"NC": "NCSALES"},
)
LABOR_PERIOD = (date(2024, 3, 9), date(2024, 3, 11))
RUN = RunInfo(tenant_id="acme-mech", connector="", connection="", run_id="r1", period_start=LABOR_PERIOD[0])


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=NY)


def line(sid: str, description: str, qty: str, price: str, amount: str, **kw: object) -> InvoiceLine:
    return InvoiceLine(
        source_id=sid,
        description=description,
        quantity=Decimal(qty),
        unit_price=Decimal(price),
        amount=Decimal(amount),
        **kw,  # type: ignore[arg-type]
    )


def invoices() -> list[Invoice]:
    return [
        Invoice(
            source_id="i1",
            number="1001",
            status="pending_accounting",
            transaction_date=date(2024, 3, 8),
            due_date=date(2024, 4, 7),
            customer=ACME,
            location=Ref(id="l1", name="Acme HQ"),
            job=J1,
            customer_po="PO-88",
            terms="Net 30",
            tax_group="NC",
            tax_rate=Decimal("0.0725"),
            lines=(
                line("il1", "Quarterly PM, rooftop units", "1", "450.00", "450.00", item_code="PM-Q", taxable=True),
                line(
                    "il2",
                    "Filter 20x25x2 MERV 13",
                    "4",
                    "12.375",
                    "49.50",
                    item_code="FLT-2025",
                    service_line="parts",
                    taxable=True,
                ),
            ),
            subtotal=Decimal("499.50"),
            tax_amount=Decimal("36.21"),
            total=Decimal("535.71"),
            updated_at=UPDATED,
        ),
        Invoice(
            source_id="i2",
            number="1002",
            status="pending_accounting",
            transaction_date=date(2024, 3, 9),
            customer=ZOE,
            location=Ref(id="l2", name="Café"),
            job=J2,
            lines=(
                line("il3", 'Replace "main" valve\nafter-hours', "1", "300", "300.00", item_code="LAB-OT"),
                line("il4", "Loyalty discount", "1", "-25", "-25.00", item_code="DISC"),
            ),
            subtotal=Decimal("275.00"),
            tax_amount=Decimal("0"),
            total=Decimal("275.00"),
            memo="Thanks, Zoë!",
            updated_at=UPDATED,
        ),
        Invoice(
            source_id="i3",
            number="1003",
            status="pending_accounting",
            transaction_date=date(2024, 3, 11),
            customer=NTP,
            location=Ref(id="l3", name="Łódź Tower"),
            job=None,
            lines=(
                line("il5", "=SUM(A1:A9) inspection", "2.5", "98", "245.00", item_code="INSP"),
                line("il6", "Thermostat 👍 replaced \u2013 Łódź", "1", "189.995", "190.00", item_code="TSTAT"),
            ),
            subtotal=Decimal("435.00"),
            tax_amount=Decimal("0"),
            total=Decimal("435.00"),
            updated_at=UPDATED,
        ),
    ]


def labor_entries() -> list[LaborEntry]:
    ana = Ref(id="t1", name="Ana Souza")
    lukasz = Ref(id="t2", name="Łukasz Wróbel")

    def entry(sid: str, tech: Ref, emp: str, job: Ref, start: datetime, end: datetime) -> LaborEntry:
        return LaborEntry(source_id=sid, technician=tech, employee_number=emp, job=job, clock_in=start, clock_out=end)

    return [
        # Saturday 9.5 h on J1, then 22:00 -> Sunday 04:00 on J2 (3 real hours after midnight: DST springs forward)
        entry("e1", ana, "104", J1, local(2024, 3, 9, 7), local(2024, 3, 9, 16, 30)),
        entry("e2", ana, "104", J2, local(2024, 3, 9, 22), local(2024, 3, 10, 4)),
        # Monday 8 h 35 m on J2, then 1 h 15 m on J1
        entry("e3", lukasz, "221", J2, local(2024, 3, 11, 6, 45), local(2024, 3, 11, 15, 20)),
        entry("e4", lukasz, "221", J1, local(2024, 3, 11, 15, 50), local(2024, 3, 11, 17, 5)),
    ]


def purchase_orders() -> list[PurchaseOrder]:
    def po_line(sid: str, desc: str, code: str, qty: str, cost: str, amount: str) -> PurchaseOrderLine:
        return PurchaseOrderLine(
            source_id=sid,
            description=desc,
            cost_code=code,
            item_code=sid.upper(),
            quantity=Decimal(qty),
            unit_cost=Decimal(cost),
            amount=Decimal(amount),
        )

    return [
        PurchaseOrder(
            source_id="p1",
            number="7001",
            vendor=FERGUSON,
            job=J1,
            order_date=date(2024, 3, 8),
            lines=(
                po_line("pl1", 'Copper pipe 3/4" type L, 20 ft', "15-400", "6", "41.125", "246.75"),
                po_line("pl2", "Ball valve 3/4", "15-410", "2", "18.50", "37.00"),
            ),
            total=Decimal("283.75"),
        ),
        PurchaseOrder(
            source_id="p2",
            number="7002",
            vendor=SUNBELT,
            job=J2,
            order_date=date(2024, 3, 11),
            lines=(po_line("pl3", "Scissor lift, 1 day", "01-500", "1", "310", "310.00"),),
            total=Decimal("310.00"),
        ),
    ]


def direct_costs() -> list[DirectCost]:
    return [
        DirectCost(
            source_id="d1",
            job=J2,
            vendor=SUNBELT,
            cost_code="01-500",
            cost_type="E",
            description="Crane rental, 4 hrs",
            quantity=Decimal("4"),
            unit_cost=Decimal("212.5"),
            amount=Decimal("850.00"),
            used_on=date(2024, 3, 9),
        ),
        DirectCost(
            source_id="d2",
            job=J1,
            vendor=FERGUSON,
            cost_code="15-900",
            cost_type="M",
            description="-Misc. fittings (credit)",
            quantity=Decimal("1"),
            unit_cost=Decimal("-14.20"),
            amount=Decimal("-14.20"),
            used_on=date(2024, 3, 11),
        ),
    ]


def test_fixture_invoices_add_up() -> None:
    for inv in invoices():
        assert inv.lines_total() == inv.subtotal
        assert inv.subtotal + inv.tax_amount == inv.total


def test_fixture_labor_is_closed_and_ordered() -> None:
    for e in labor_entries():
        assert e.clock_out is not None and e.clock_out > e.clock_in
