"""Stored rows -> the JSON the API returns: embedded references `{id, name, uri}`, absolute uris, externalIds.

Field names follow the published sources in docs/servicetrade-double.md where there is evidence; the rest
are the choices listed there.
"""

from __future__ import annotations

from typing import Any

from sandbox.servicetrade.store import ClockBlock, Row, Store, item_total


class Renderer:
    def __init__(self, store: Store, base_url: str):
        self.store = store
        self.api = f"{base_url}/api"

    def uri(self, kind: str, entity_id: int) -> str:
        return f"{self.api}/{kind}/{entity_id}"

    # -- references ----------------------------------------------------------------------------------------
    def company_ref(self, company_id: int | None) -> Row | None:
        company = self.store.companies.get(company_id or 0)
        if company is None:
            return None
        return {"id": company["id"], "name": company["name"], "uri": self.uri("company", company["id"])}

    def location_ref(self, location_id: int | None) -> Row | None:
        loc = self.store.locations.get(location_id or 0)
        if loc is None:
            return None
        return {
            "id": loc["id"],
            "name": loc["name"],
            "uri": self.uri("location", loc["id"]),
            "phoneNumber": loc.get("phoneNumber", ""),
            "address": dict(loc["address"]),
            "taxable": loc["taxable"],
        }

    def user_ref(self, user_id: int | None) -> Row | None:
        user = self.store.users.get(user_id or 0)
        if user is None:
            return None
        return {"id": user["id"], "name": user["name"], "uri": self.uri("user", user["id"])}

    def job_ref(self, job_id: int | None) -> Row | None:
        job = self.store.jobs.get(job_id or 0)
        if job is None:
            return None
        return {"id": job["id"], "number": job["number"], "name": job["name"], "uri": self.uri("job", job["id"])}

    def tax_group_ref(self, group_id: int | None) -> Row | None:
        group = self.store.tax_groups.get(group_id or 0)
        return None if group is None else self.tax_group(group)

    def lib_item_ref(self, lib_item_id: int | None) -> Row | None:
        item = self.store.lib_items.get(lib_item_id or 0)
        if item is None:
            return None
        return {
            "id": item["id"],
            "code": item["code"],
            "name": item["name"],
            "type": item["type"],
            "uri": self.uri("libitem", item["id"]),
        }

    def service_line_ref(self, service_line_id: int | None) -> Row | None:
        line = self.store.service_lines.get(service_line_id or 0)
        return None if line is None else dict(line)

    # -- entities ------------------------------------------------------------------------------------------
    def company(self, c: Row) -> Row:
        return {
            "id": c["id"],
            "uri": self.uri("company", c["id"]),
            "name": c["name"],
            "refNumber": c.get("refNumber", ""),
            "status": c["status"],
            "isCustomer": c.get("isCustomer", False),
            "isVendor": c.get("isVendor", False),
            "address": dict(c.get("address", {})),
            "phoneNumber": c.get("phoneNumber", ""),
            "primaryEmail": c.get("primaryEmail", ""),
            "tags": list(c.get("tags", [])),
            "externalIds": self.store.external("company", c["id"]),
            "created": c["created"],
            "updated": c["updated"],
        }

    def location(self, loc: Row) -> Row:
        return {
            "id": loc["id"],
            "uri": self.uri("location", loc["id"]),
            "name": loc["name"],
            "refNumber": loc.get("refNumber", ""),
            "storeNumber": loc.get("storeNumber", ""),
            "status": loc["status"],
            "taxable": loc["taxable"],
            "taxGroup": self.tax_group_ref(loc.get("taxGroupId")),
            "address": dict(loc["address"]),
            "company": self.company_ref(loc["companyId"]),
            "phoneNumber": loc.get("phoneNumber", ""),
            "email": loc.get("email", ""),
            "lat": loc.get("lat"),
            "lon": loc.get("lon"),
            "primaryContact": None,
            "offices": [],
            "tags": list(loc.get("tags", [])),
            "externalIds": self.store.external("location", loc["id"]),
            "created": loc["created"],
            "updated": loc["updated"],
        }

    def user(self, u: Row) -> Row:
        return {
            "id": u["id"],
            "uri": self.uri("user", u["id"]),
            "username": u.get("username", u.get("email", "")),
            "firstName": u["firstName"],
            "lastName": u["lastName"],
            "name": u["name"],
            "email": u.get("email", ""),
            "phone": u.get("phone", ""),
            "status": u["status"],
            "role": u.get("role", "technician"),
            "isTech": u.get("isTech", False),
            "company": self.company_ref(u.get("companyId")),
            "externalIds": self.store.external("user", u["id"]),
            "created": u["created"],
            "updated": u["updated"],
        }

    def job(self, j: Row) -> Row:
        invoiced = any(inv.get("jobId") == j["id"] for inv in self.store.invoices.values())
        return {
            "id": j["id"],
            "uri": self.uri("job", j["id"]),
            "number": j["number"],
            "name": j["name"],
            "customName": j.get("customName"),
            "type": j["type"],
            "status": j["status"],
            "displayStatus": j["status"].replace("_", " ").title(),
            "description": j.get("description", ""),
            "customerPo": j.get("customerPo", ""),
            "isInvoiced": invoiced,
            "vendor": self.company_ref(j.get("vendorId")),
            "customer": self.company_ref(j.get("customerId")),
            "location": self.location_ref(j.get("locationId")),
            "techs": [ref for tid in j.get("techIds", []) if (ref := self.user_ref(tid))],
            "serviceRequests": [],
            "currentAppointment": None,
            "appointments": [],
            "scheduledDate": j.get("scheduledDate"),
            "completedOn": j.get("completedOn"),
            "tags": list(j.get("tags", [])),
            "externalIds": self.store.external("job", j["id"]),
            "created": j["created"],
            "updated": j["updated"],
        }

    def job_item(self, item: Row) -> Row:
        return {
            "id": item["id"],
            "uri": self.uri("jobitem", item["id"]),
            "name": item["name"],
            "description": item.get("description", item["name"]),
            "quantity": item["quantity"],
            "cost": item["cost"],
            "price": item.get("price"),
            "usedOn": item.get("usedOn"),
            "job": self.job_ref(item["jobId"]),
            "libItem": self.lib_item_ref(item.get("libItemId")),
            "vendor": self.company_ref(item.get("vendorId")),
            "serviceLine": self.service_line_ref(item.get("serviceLineId")),
            "source": dict(item["source"]) if item.get("source") else None,
            "externalIds": self.store.external("jobitem", item["id"]),
            "created": item["created"],
            "updated": item["updated"],
        }

    def invoice_item(self, item: Row, invoice_id: int) -> Row:
        return {
            "id": item["id"],
            "uri": self.uri("invoiceitem", item["id"]),
            "invoice": {"id": invoice_id, "uri": self.uri("invoice", invoice_id)},
            "description": item.get("description", ""),
            "quantity": item["quantity"],
            "price": item["price"],
            "totalPrice": item_total(item),
            "taxable": bool(item.get("taxable")),
            "libItem": self.lib_item_ref(item.get("libItemId")),
            "serviceLine": self.service_line_ref(item.get("serviceLineId")),
        }

    def invoice(self, inv: Row) -> Row:
        totals = self.store.totals(inv)
        return {
            "id": inv["id"],
            "uri": self.uri("invoice", inv["id"]),
            "invoiceNumber": inv["invoiceNumber"],
            "name": inv["name"],
            "type": inv.get("type", "invoice"),
            "status": inv["status"],
            "transactionDate": inv["transactionDate"],
            "dueDate": inv.get("dueDate"),
            "customer": self.company_ref(inv.get("customerId")),
            "vendor": self.company_ref(inv.get("vendorId")),
            "location": self.location_ref(inv.get("locationId")),
            "job": self.job_ref(inv.get("jobId")),
            "customerPo": inv.get("customerPo", ""),
            "terms": dict(inv["terms"]) if inv.get("terms") else None,
            "notes": inv.get("notes", ""),
            "partial": bool(inv.get("partial")),
            "assignedUser": self.user_ref(inv.get("assignedUserId")),
            "contract": None,
            "taxGroup": self.tax_group_ref(inv.get("taxGroupId")),
            "items": [self.invoice_item(item, inv["id"]) for item in inv["items"]],
            **totals,
            "tags": list(inv.get("tags", [])),
            "externalIds": self.store.external("invoice", inv["id"]),
            "created": inv["created"],
            "updated": inv["updated"],
        }

    def payment(self, p: Row) -> Row:
        return {
            "id": p["id"],
            "uri": self.uri("payment", p["id"]),
            "invoice": {"id": p["invoiceId"], "uri": self.uri("invoice", p["invoiceId"])},
            "amount": p["amount"],
            "method": p["method"],
            "referenceNumber": p.get("referenceNumber", ""),
            "date": p["date"],
            "created": p["created"],
        }

    def comment(self, c: Row) -> Row:
        return {
            "id": c["id"],
            "uri": self.uri("comment", c["id"]),
            "entityType": c["entityType"],
            "entityId": c["entityId"],
            "content": c["content"],
            "visibility": list(c.get("visibility", [])),
            "author": self.user_ref(c.get("authorId")),
            "created": c["created"],
        }

    def clock_event(self, ev: Row) -> Row:
        job = self.job_ref(ev.get("jobId"))
        return {
            "id": ev["id"],
            "activity": ev["activity"],
            "source": ev.get("source", "mobile"),
            "user": self.user_ref(ev["userId"]),
            "job": None if job is None else {"id": job["id"], "number": job["number"], "uri": job["uri"]},
            "appointment": {"id": ev["appointmentId"]} if ev.get("appointmentId") else None,
            "clockIn": ev["clockIn"],
            "clockOut": ev.get("clockOut"),
            "lat": ev.get("lat"),
            "lon": ev.get("lon"),
        }

    def block_events(self, block: ClockBlock, indexes: list[int]) -> list[Row]:
        """Bulk rows, with the user and job references built once per page."""
        users: dict[int, Row | None] = {}
        jobs: dict[int, Row | None] = {}
        out: list[Row] = []
        for i in indexes:
            row = block.row(i)
            uid, jid = row["userId"], row["jobId"]
            if uid not in users:
                users[uid] = self.user_ref(uid)
            if jid not in jobs:
                ref = self.job_ref(jid)
                jobs[jid] = None if ref is None else {"id": ref["id"], "number": ref["number"], "uri": ref["uri"]}
            row.update(user=users[uid], job=jobs[jid], appointment=None)
            del row["userId"], row["jobId"], row["appointmentId"]
            out.append(row)
        return out

    def tax_group(self, g: Row) -> Row:
        return {
            "id": g["id"],
            "uri": self.uri("taxgroup", g["id"]),
            "name": g["name"],
            "code": g.get("code", ""),
            "combinedRate": g["combinedRate"],
        }

    def lib_item(self, item: Row) -> Row:
        return {
            "id": item["id"],
            "uri": self.uri("libitem", item["id"]),
            "code": item["code"],
            "name": item["name"],
            "type": item["type"],
            "active": item.get("active", True),
            "price": item["price"],
            "cost": item["cost"],
            "serviceLine": self.service_line_ref(item.get("serviceLineId")),
            "externalIds": self.store.external("libitem", item["id"]),
            "updated": item.get("updated"),
        }

    def webhook(self, w: Row) -> Row:
        return {
            "id": w["id"],
            "uri": self.uri("webhook", w["id"]),
            "hookUrl": w["hookUrl"],
            "enabled": w["enabled"],
            "confirmed": w["confirmed"],
            "includeChangesets": w["includeChangesets"],
            "entityEvents": w["entityEvents"],
            "created": w["created"],
            "updated": w["updated"],
        }

    def entity(self, entity_type: str, row: Row) -> Row:
        """Any stored row by type name (external-id reverse lookups)."""
        render: dict[str, Any] = {
            "company": self.company,
            "location": self.location,
            "user": self.user,
            "job": self.job,
            "jobitem": self.job_item,
            "invoice": self.invoice,
            "libitem": self.lib_item,
        }
        fn = render.get(entity_type)
        return fn(row) if fn is not None else dict(row)
