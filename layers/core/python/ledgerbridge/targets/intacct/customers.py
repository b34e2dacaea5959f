"""New Intacct customers -> platform companies, for tenants that keep their customer list in Intacct
(`customers_to_platform`). Hourly, with the payments catch-up, since the tenant's own cursor.

A CUSTOMER modified since the cursor that no mapping links to a platform company (LedgerBridge's own
customers are mapped when it creates them) becomes a platform company whose reference number is the
CUSTOMERID. Exactly once: the platform is searched by that reference number before anything is created, so a
crash between the platform's write and the mapping's is healed by the next run; the cursor moves past a
customer only after the mapping is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from ledgerbridge.records import Address, Customer
from ledgerbridge.state import cursors, mappings, synclog
from ledgerbridge.targets.intacct import functions as fn
from ledgerbridge.targets.intacct.target import IntacctTarget

CURSOR = "intacct-customers"
FIRST_RUN = datetime(2000, 1, 1, tzinfo=UTC)


@runtime_checkable
class CompanyPlatform(Protocol):
    """What this needs from the field-service platform (ledgerbridge.source.servicetrade)."""

    def company_by_ref(self, ref_number: str) -> Customer | None: ...
    def create_company(self, customer: Customer) -> str: ...


def as_customer(record: dict[str, Any]) -> Customer:
    contact = record.get("DISPLAYCONTACT") or {}
    mail = contact.get("MAILADDRESS") or {} if isinstance(contact, dict) else {}
    return Customer(
        source_id=str(record["CUSTOMERID"]),
        name=str(record.get("NAME") or record["CUSTOMERID"]),
        ref_number=str(record["CUSTOMERID"]),
        email=str(contact.get("EMAIL1") or ""),
        phone=str(contact.get("PHONE1") or ""),
        address=Address(
            street=str(mail.get("ADDRESS1") or ""),
            city=str(mail.get("CITY") or ""),
            state=str(mail.get("STATE") or ""),
            postal_code=str(mail.get("ZIP") or ""),
        ),
    )


def pull_customers(tenant_id: str, target: IntacctTarget, platform: CompanyPlatform) -> int:
    """Platform companies for unlinked Intacct customers modified since the cursor; returns how many."""
    since = cursors.read(tenant_id, CURSOR)
    start = datetime.fromisoformat(since) if since else FIRST_RUN
    condition = f"WHENMODIFIED >= {fn.quoted(start.strftime('%m/%d/%Y %H:%M:%S'))}"
    records = sorted(target.query("CUSTOMER", condition), key=lambda r: (_when(r), str(r.get("CUSTOMERID"))))
    created = 0
    for record in records:
        customer_id = str(record.get("CUSTOMERID") or "")
        if customer_id and mappings.find_by_target(tenant_id, "intacct", "customer", customer_id) is None:
            customer = as_customer(record)
            found = platform.company_by_ref(customer_id)
            company_id = found.source_id if found is not None else platform.create_company(customer)
            mappings.put(
                tenant_id, "intacct", "customer", company_id, mappings.Mapping(customer_id, natural_key=customer_id)
            )
            mappings.put_reverse(tenant_id, "intacct", "customer", customer_id, company_id)
            synclog.write(
                synclog.LogEntry(
                    tenant_id,
                    "intacct",
                    "customer",
                    customer_id,
                    "recorded",
                    f"Intacct customer {customer_id} ({customer.name}) is platform company {company_id}",
                    company_id,
                )
            )
            created += found is None
        cursors.advance(tenant_id, CURSOR, _when(record).isoformat())
    return created


def _when(record: dict[str, Any]) -> datetime:
    return datetime.strptime(str(record["WHENMODIFIED"]), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)
