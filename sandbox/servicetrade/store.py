"""The in-memory store: every entity as a plain dict keyed by id, plus credentials and a compact clock block.

Stored rows hold references as ids (`customerId`, `locationId`, ...); render.py turns them into the API's
embedded `{id, name, uri}` objects. Money and quantities are Decimal. Times are Unix seconds. Date-only
values (transactionDate, dueDate, payment date) are stored at 12:00 UTC of that date, which is the same
calendar day in every timezone from UTC-11 to UTC+11.

Tests may read and mutate a Store directly (hold `store.lock` while a server runs, or accept the race).
"""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

Row = dict[str, Any]
CENT = Decimal("0.01")
FIRST_ID = 2_274_033_731_700_000  # real ids are 16 digits (docs/servicetrade-double.md)

# Numeric entity-type codes (docs/servicetrade-double.md); other types are addressed by name.
ENTITY_CODES: dict[int, str] = {
    3: "job",
    4: "user",
    5: "company",
    9: "quote",
    10: "deficiency",
    11: "location",
    16: "appointment",
    22: "contact",
}
INVOICE_STATUSES = (
    "draft",
    "ok",
    "internal_review",
    "pending_accounting",
    "processed",
    "failed",
    "sent",
    "paid",
    "void",
)
ACTIVITIES = ("onsite", "offsite", "enroute", "jobprep")


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def day_stamp(day: date) -> int:
    """The Unix time the sandbox uses for a date-only value (12:00 UTC)."""
    return int(datetime.combine(day, time(12), tzinfo=UTC).timestamp())


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    user_id: int


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    user_id: int


@dataclass
class ClockBlock:
    """Bulk clock events in columns (about 19 bytes a row), sorted by clock-in, never mutated.

    Row i has id `first_id + i`, user `user_ids[user_idx[i]]`, job `job_ids[job_idx[i]]`, clock-in
    `clock_in[i]` and clock-out `clock_in[i] + duration[i]`. One million rows take about 19 MB.
    """

    first_id: int
    user_ids: tuple[int, ...]
    job_ids: tuple[int, ...]
    clock_in: array[int]  # 'q'
    duration: array[int]  # 'I' seconds
    user_idx: array[int]  # 'H'
    job_idx: array[int]  # 'I'
    activity: array[int]  # 'B' index into ACTIVITIES
    _cache: OrderedDict[tuple[Any, ...], Sequence[int]] = field(default_factory=OrderedDict, repr=False)

    def __len__(self) -> int:
        return len(self.clock_in)

    def select(
        self,
        start: int | None,
        end: int | None,
        users: set[int] | None,
        jobs: set[int] | None,
        activities: set[str] | None,
    ) -> Sequence[int]:
        """Row indexes with clock-in in [start, end] and the given users/jobs/activities, in clock-in order.

        A window alone is a `range` (no memory); other filters scan the window once and cache the result,
        so paging through a filtered million rows costs one scan, not one per page.
        """
        lo = 0 if start is None else bisect.bisect_left(self.clock_in, start)
        hi = len(self) if end is None else bisect.bisect_right(self.clock_in, end)
        if users is None and jobs is None and activities is None:
            return range(lo, hi)
        key = (lo, hi, frozenset(users or ()), frozenset(jobs or ()), frozenset(activities or ()))
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        user_ok = None if users is None else {i for i, uid in enumerate(self.user_ids) if uid in users}
        job_ok = None if jobs is None else {i for i, jid in enumerate(self.job_ids) if jid in jobs}
        act_ok = None if activities is None else {i for i, a in enumerate(ACTIVITIES) if a in activities}
        found = array("I")
        for i in range(lo, hi):
            if user_ok is not None and self.user_idx[i] not in user_ok:
                continue
            if job_ok is not None and self.job_idx[i] not in job_ok:
                continue
            if act_ok is not None and self.activity[i] not in act_ok:
                continue
            found.append(i)
        self._cache[key] = found
        if len(self._cache) > 4:
            self._cache.popitem(last=False)
        return found

    def row(self, i: int) -> Row:
        """Row i in the stored clock-event shape (references as ids)."""
        clock_in = self.clock_in[i]
        return {
            "id": self.first_id + i,
            "activity": ACTIVITIES[self.activity[i]],
            "source": "mobile",
            "userId": self.user_ids[self.user_idx[i]],
            "jobId": self.job_ids[self.job_idx[i]],
            "appointmentId": None,
            "clockIn": clock_in,
            "clockOut": clock_in + self.duration[i],
            "lat": None,
            "lon": None,
        }


@dataclass
class Store:
    """Everything the sandbox serves. Build one with demo.demo_dataset() or generate.generate()."""

    account: Row = field(default_factory=dict)  # the account's own company: {"id", "name"}
    companies: dict[int, Row] = field(default_factory=dict)
    locations: dict[int, Row] = field(default_factory=dict)
    users: dict[int, Row] = field(default_factory=dict)
    jobs: dict[int, Row] = field(default_factory=dict)
    job_items: dict[int, Row] = field(default_factory=dict)
    invoices: dict[int, Row] = field(default_factory=dict)  # items embedded under "items"
    payments: dict[int, Row] = field(default_factory=dict)
    comments: dict[int, Row] = field(default_factory=dict)
    clock_events: dict[int, Row] = field(default_factory=dict)  # small, mutable (demo + API-created)
    clock_block: ClockBlock | None = None  # bulk, read-only (benchmarks)
    tax_groups: dict[int, Row] = field(default_factory=dict)
    lib_items: dict[int, Row] = field(default_factory=dict)
    service_lines: dict[int, Row] = field(default_factory=dict)
    webhooks: dict[int, Row] = field(default_factory=dict)
    external_ids: dict[tuple[str, int], dict[str, str]] = field(default_factory=dict)
    clients: dict[str, OAuthClient] = field(default_factory=dict)
    logins: dict[str, Login] = field(default_factory=dict)
    next_id: int = FIRST_ID
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def new_id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    def reserve_ids(self, count: int) -> int:
        """Reserve `count` consecutive ids; returns the first."""
        with self.lock:
            first = self.next_id + 1
            self.next_id += count
            return first

    # -- lookups -------------------------------------------------------------------------------------------
    def collection(self, entity_type: str) -> dict[int, Row] | None:
        return {
            "company": self.companies,
            "location": self.locations,
            "user": self.users,
            "job": self.jobs,
            "jobitem": self.job_items,
            "invoice": self.invoices,
            "payment": self.payments,
            "comment": self.comments,
            "libitem": self.lib_items,
            "taxgroup": self.tax_groups,
            "clockevent": self.clock_events,
            "webhook": self.webhooks,
        }.get(entity_type)

    def external(self, entity_type: str, entity_id: int) -> dict[str, str]:
        return dict(self.external_ids.get((entity_type, entity_id), {}))

    def invoice_item(self, item_id: int) -> tuple[Row, Row] | None:
        """(invoice, item) holding the invoice item `item_id`."""
        for invoice in self.invoices.values():
            for item in invoice["items"]:
                if item["id"] == item_id:
                    return invoice, item
        return None

    # -- invoice arithmetic --------------------------------------------------------------------------------
    def tax_rate(self, invoice: Row) -> Decimal:
        group = self.tax_groups.get(invoice.get("taxGroupId") or 0)
        return Decimal(group["combinedRate"]) if group else Decimal("0")

    def totals(self, invoice: Row) -> dict[str, Decimal]:
        """Line totals round half-up to cents; tax is the rounded taxable subtotal times the group rate."""
        subtotal = taxable = Decimal("0.00")
        for item in invoice["items"]:
            line = item_total(item)
            subtotal += line
            if item.get("taxable"):
                taxable += line
        tax = money(taxable * self.tax_rate(invoice))
        paid = sum((p["amount"] for p in self.payments.values() if p["invoiceId"] == invoice["id"]), Decimal("0"))
        total = subtotal + tax
        return {"subtotal": subtotal, "tax": tax, "totalPrice": total, "amountPaid": paid, "balance": total - paid}


def item_total(item: Row) -> Decimal:
    return money(Decimal(item["quantity"]) * Decimal(item["price"]))
