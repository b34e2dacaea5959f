"""One Intacct company in the double: its records, the dimension and account lists writes must name, and
readByQuery's small condition language.

Records are kept as Intacct returns them (upper-case field names, dates MM/DD/YYYY): CUSTOMER, ARINVOICE
with ARINVOICEITEMS, ARPYMT with ARPYMTDETAIL (https://developer.intacct.com/api/accounts-receivable/ar-payments:
a payment is a header plus details naming the invoice they apply to)."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any


class Refused(Exception):
    """A function's own failure: becomes its result's errormessage."""

    def __init__(self, errorno: str, description: str, description2: str = "", correction: str = "") -> None:
        super().__init__(description)
        self.errorno, self.description, self.description2, self.correction = (
            errorno,
            description,
            description2,
            correction,
        )


def stamp(moment: datetime) -> str:
    """WHENMODIFIED as Intacct shows it (MM/DD/YYYY HH:MM:SS, UTC here)."""
    return moment.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S")


@dataclass
class Company:
    company_id: str
    users: dict[str, str] = field(default_factory=dict)  # user id -> password
    senders: set[str] = field(default_factory=set)  # sender ids on the Web Services authorization list
    locations: set[str] = field(default_factory=lambda: {"100", "200"})
    departments: set[str] = field(default_factory=lambda: {"SVC", "INST", "INSP"})
    projects: set[str] = field(default_factory=set)
    classes: set[str] = field(default_factory=lambda: {"COMM", "RES"})
    custom_dimensions: dict[str, set[str]] = field(default_factory=lambda: {"GLDIMREGION": {"EAST", "WEST"}})
    accounts: set[str] = field(default_factory=lambda: {"4000", "4100", "4200", "2200"})
    terms: set[str] = field(default_factory=lambda: {"Net 30", "Net 15", "Due on receipt"})
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)  # CUSTOMERID -> record
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)  # RECORDNO -> record
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # RECORDNO -> record
    payment_details: list[dict[str, Any]] = field(default_factory=list)
    next_recordno: int = 1000

    def recordno(self) -> str:
        self.next_recordno += 1
        return str(self.next_recordno)

    def table(self, obj: str) -> list[dict[str, Any]]:
        tables: dict[str, list[dict[str, Any]]] = {
            "CUSTOMER": list(self.customers.values()),
            "ARINVOICE": [_header(i) for i in self.invoices.values()],
            "ARPYMT": list(self.payments.values()),
            "ARPYMTDETAIL": self.payment_details,
        }
        if obj not in tables:
            raise Refused("BL01001973", f"Object {obj} is not supported by this sandbox", correction="Check the object")
        return tables[obj]

    # -- checks a write must pass -------------------------------------------------------------------------

    def must_exist(self, kind: str, value: str, known: set[str]) -> None:
        if value and value not in known:
            raise Refused(
                "BL03000018",
                f"Invalid {kind} '{value}' specified.",
                f"The {kind} {value} does not exist or is inactive.",
                f"Create the {kind} in Intacct, or use one that exists.",
            )

    def check_line(self, line: dict[str, Any]) -> None:
        self.must_exist("GL account", line.get("ACCOUNTNO", ""), self.accounts)
        self.must_exist("location", line.get("LOCATIONID", ""), self.locations)
        self.must_exist("department", line.get("DEPARTMENTID", ""), self.departments)
        self.must_exist("project", line.get("PROJECTID", ""), self.projects)
        self.must_exist("class", line.get("CLASSID", ""), self.classes)
        for name, value in line.items():
            if name.startswith("GLDIM"):
                if name not in self.custom_dimensions:
                    raise Refused("BL03000018", f"Invalid custom dimension {name}.", correction="Check the mapping")
                self.must_exist(name, value, self.custom_dimensions[name])


def _header(invoice: dict[str, Any]) -> dict[str, Any]:
    """readByQuery returns an invoice's header fields only."""
    return {k: v for k, v in invoice.items() if k != "ARINVOICEITEMS"}


# -- readByQuery conditions -------------------------------------------------------------------------------

_CONDITION = re.compile(r"^\s*(\w+)\s*(=|!=|>=|<=|>|<|IN)\s*(.+?)\s*$", re.IGNORECASE)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


def _values(text: str) -> list[str]:
    return [v.replace("''", "'") for v in _QUOTED.findall(text)] or [text.strip()]


def _comparable(field_name: str, value: str) -> Any:
    if field_name.startswith("WHEN") and re.match(r"\d\d/\d\d/\d{4}", value):
        fmt = "%m/%d/%Y %H:%M:%S" if len(value) > 10 else "%m/%d/%Y"
        return datetime.strptime(value, fmt)
    try:
        return Decimal(value) if re.fullmatch(r"-?\d+(\.\d+)?", value) else value
    except ArithmeticError:
        return value


_OPS = {"=": operator.eq, "!=": operator.ne, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def matches(record: dict[str, Any], query: str) -> bool:
    """`FIELD op 'value'` conditions joined by AND (=, !=, <, <=, >, >=, IN (...)); an empty query is all."""
    if not query.strip():
        return True
    for part in re.split(r"\s+AND\s+", query, flags=re.IGNORECASE):
        m = _CONDITION.match(part)
        if m is None:
            raise Refused("DL02000001", f"Invalid query: {query}", correction="Check the query syntax")
        name, op, raw = m.group(1).upper(), m.group(2).upper(), m.group(3)
        have = _comparable(name, str(record.get(name, "")))
        wanted = [_comparable(name, v) for v in _values(raw)]
        try:
            ok = have in wanted if op == "IN" else _OPS[op](have, wanted[0])
        except TypeError:  # a date against a text, say: no match, as SQL would have it
            ok = False
        if not ok:
            return False
    return True
