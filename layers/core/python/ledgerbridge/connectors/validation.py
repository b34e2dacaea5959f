"""Checks before an export, the hold policy, and the error file placed beside the export.

Every Problem names the record (type, source id, a label a person recognises), what is wrong and what to
change, in the platform where possible, so the next run picks the record up. Policy (the tenant's
`on_problem`): `hold_row` leaves out only the records with problems; `hold_run` holds the whole run.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal, TypeVar
from zoneinfo import ZoneInfo

from ledgerbridge.connectors.cells import FORMULA_START, control_free
from ledgerbridge.connectors.expr import round_half_up
from ledgerbridge.connectors.labor import split_by_day
from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.records import DirectCost, Invoice, LaborEntry, PurchaseOrder

Policy = Literal["hold_row", "hold_run"]
T = TypeVar("T")

ERROR_FILE_COLUMNS = ("record_type", "source_id", "record", "problem_code", "problem", "how_to_fix", "field")


@dataclass(frozen=True, slots=True)
class Problem:
    record_type: str  # invoice, labor, purchase_order, direct_cost
    source_id: str
    label: str
    code: str
    message: str
    fix: str
    field: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.record_type, self.source_id)


def describe(record: object, timezone: str = "UTC") -> tuple[str, str, str]:
    """(record type, source id, human label) for any record a connector handles."""
    if isinstance(record, Invoice):
        return "invoice", record.source_id, f"Invoice {record.number} ({record.customer.name or record.customer.id})"
    if isinstance(record, PurchaseOrder):
        return "purchase_order", record.source_id, f"PO {record.number} ({record.vendor.name or record.vendor.id})"
    if isinstance(record, DirectCost):
        what = record.description or record.cost_code or "cost"
        return "direct_cost", record.source_id, f"Direct cost {what!r} on job {record.job.name or record.job.id}"
    if isinstance(record, LaborEntry):
        start = record.clock_in.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
        who = record.technician.name or record.technician.id
        return "labor", record.source_id, f"Time of {who} on job {record.job.name or record.job.id} from {start}"
    if isinstance(record, LaborRow):
        who = f"{record.technician_name} ({record.employee_number or 'no employee number'})"
        label = f"{record.pay_type} hours of {who} on job {record.job_number}, {record.work_date.isoformat()}"
        return "labor", ",".join(record.entry_ids), label
    return type(record).__name__.lower(), str(getattr(record, "source_id", "")), repr(record)[:80]


_KINDS: dict[type, str] = {
    Invoice: "invoice",
    PurchaseOrder: "purchase_order",
    DirectCost: "direct_cost",
    LaborEntry: "labor",
}


def problem(record: object, code: str, message: str, fix: str, field: str = "", timezone: str = "UTC") -> Problem:
    kind, source_id, label = describe(record, timezone)
    return Problem(kind, source_id, label, code, message, fix, field)


# --- invoices and purchase orders ----------------------------------------------------------------------


def check_invoices(
    invoices: Iterable[Invoice],
    *,
    customer_ids: Mapping[str, str] | None = None,
    known_tax_codes: Collection[str] | None = None,
    tax_codes: Mapping[str, str] | None = None,
    decimals: int = 2,
    target: str = "the accounting system",
) -> list[Problem]:
    """Lines vs subtotal, subtotal + tax vs total (both as the file rounds them), an unmapped customer
    (`customer_ids`: platform customer id -> id in the target; None skips the check), and a tax code the
    target does not know (`known_tax_codes`; the code is `tax_codes[tax_group]`, else the group itself).
    """
    found: list[Problem] = []
    for inv in invoices:

        def add(code: str, message: str, fix: str, field: str = "", inv: Invoice = inv) -> None:
            found.append(problem(inv, code, message, fix, field))

        lines = sum((round_half_up(line.amount, decimals) for line in inv.lines), Decimal(0))
        subtotal, tax, total = (round_half_up(v, decimals) for v in (inv.subtotal, inv.tax_amount, inv.total))
        if lines != subtotal:
            add(
                "lines_mismatch",
                f"its {len(inv.lines)} lines add up to {lines} but the subtotal is {subtotal}",
                "Correct the invoice's line amounts (or re-save it so the subtotal is recalculated) on the platform",
                "subtotal",
            )
        if subtotal + tax != total:
            add(
                "total_mismatch",
                f"subtotal {subtotal} + tax {tax} = {subtotal + tax}, but the total is {total}",
                "Re-save the invoice on the platform so its total is recalculated, then export again",
                "total",
            )
        if customer_ids is not None and not customer_ids.get(inv.customer.id):
            add(
                "customer_unmapped",
                f"customer {inv.customer.name or inv.customer.id!r} (id {inv.customer.id}) has no id in {target}",
                f"Add the customer's {target} id as an External ID on the customer (company) in the platform",
                "customer",
            )
        if known_tax_codes is not None and inv.tax_group:
            code = (tax_codes or {}).get(inv.tax_group, inv.tax_group)
            if code not in known_tax_codes:
                add(
                    "unknown_tax_code",
                    f"tax group {inv.tax_group!r} maps to tax code {code!r}, which {target} does not have",
                    f"Map tax group {inv.tax_group!r} to one of {target}'s tax codes, or create the code there",
                    "tax_group",
                )
    return found


def check_purchase_orders(orders: Iterable[PurchaseOrder], *, decimals: int = 2) -> list[Problem]:
    found = []
    for po in orders:
        lines = sum((round_half_up(line.amount, decimals) for line in po.lines), Decimal(0))
        if lines != round_half_up(po.total, decimals):
            found.append(
                problem(
                    po,
                    "lines_mismatch",
                    f"its lines add up to {lines} but the total is {round_half_up(po.total, decimals)}",
                    "Correct the purchase order's line amounts on the platform",
                    "total",
                )
            )
    return found


# --- labor ----------------------------------------------------------------------------------------------


def check_labor(entries: Iterable[LaborEntry], *, timezone: str) -> list[Problem]:
    """Open clock-ins, overlapping entries of one technician, > 24 hours on one local day, and a
    technician without an employee number."""
    tz = ZoneInfo(timezone)
    found: list[Problem] = []

    def add(entry: LaborEntry, code: str, message: str, fix: str, field: str = "") -> None:
        found.append(problem(entry, code, message, fix, field, timezone))

    by_tech: dict[str, list[LaborEntry]] = defaultdict(list)
    for entry in entries:
        who = entry.technician.name or entry.technician.id
        if not entry.employee_number:
            add(
                entry,
                "no_employee_number",
                f"technician {who} has no employee number",
                f"Set {who}'s employee number (payroll id) on their user record in the platform",
                "employee_number",
            )
        if entry.clock_out is None:
            add(
                entry,
                "open_clock_in",
                f"clocked in at {_local(entry.clock_in, tz)} ({timezone}) with no clock-out",
                "Add the missing clock-out on the platform (or delete the clock-in), then export again",
                "clock_out",
            )
            continue
        by_tech[entry.technician.id].append(entry)

    for tech_entries in by_tech.values():
        tech_entries.sort(key=lambda e: (e.clock_in, e.source_id))
        latest: LaborEntry | None = None
        per_day: dict[date, timedelta] = defaultdict(timedelta)
        on_day: dict[date, list[LaborEntry]] = defaultdict(list)
        for entry in tech_entries:
            assert entry.clock_out is not None
            if latest is not None and latest.clock_out is not None and entry.clock_in < latest.clock_out:
                for a, b in ((entry, latest), (latest, entry)):
                    add(
                        a,
                        "overlap",
                        f"overlaps entry {b.source_id} on job {b.job.name or b.job.id} "
                        f"({_local(b.clock_in, tz)} to {_local(b.clock_out, tz)})",
                        "Correct the clock times on the platform so the technician's entries do not overlap",
                        "clock_in",
                    )
            if latest is None or (latest.clock_out is not None and entry.clock_out > latest.clock_out):
                latest = entry
            for day, start, end in split_by_day(entry.clock_in, entry.clock_out, tz):
                per_day[day] += end - start
                on_day[day].append(entry)
        for day, worked in sorted(per_day.items()):
            if worked > timedelta(hours=24):
                hours = round_half_up(Decimal(worked // timedelta(microseconds=1)) / 3_600_000_000, 2)
                for entry in on_day[day]:
                    add(
                        entry,
                        "over_24_hours",
                        f"the technician has {hours} hours on {day.isoformat()}, more than 24",
                        "Correct the clock times of that day on the platform",
                        "clock_out",
                    )
    return found


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


# --- policy and the error file ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    policy: Policy
    problems: tuple[Problem, ...]

    @property
    def run_held(self) -> bool:
        return self.policy == "hold_run" and bool(self.problems)

    @property
    def held(self) -> frozenset[tuple[str, str]]:
        return frozenset(p.key for p in self.problems)

    def keep(self, records: Iterable[T]) -> Iterator[T]:
        """The records to export: none when the run is held, else those without a problem."""
        if self.run_held:
            return
        held = self.held
        for record in records:
            if (_KINDS.get(type(record), ""), str(getattr(record, "source_id", ""))) not in held:
                yield record


def decide(problems: Iterable[Problem], policy: Policy) -> Decision:
    return Decision(policy, tuple(problems))


def _cell(text: str) -> str:
    text = control_free(text)
    return "'" + text if text[:1] in FORMULA_START else text


def error_file(problems: Iterable[Problem]) -> bytes:
    """The problems as CSV (UTF-8 with BOM so spreadsheets read it, CRLF, formula-safe cells)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ERROR_FILE_COLUMNS)
    for p in problems:
        writer.writerow([_cell(v) for v in (p.record_type, p.source_id, p.label, p.code, p.message, p.fix, p.field)])
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8", "replace")


def error_file_key(export_key: str) -> str:
    """`<prefix>/<run>.csv` -> `<prefix>/<run>.errors.csv`: the error file sits beside its export."""
    head, slash, name = export_key.rpartition("/")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{head}{slash}{stem}.errors.csv"
