"""Billing: /invoice /invoiceitem /payment /comment (docs/servicetrade-double.md).

The accounting contract (section 6): poll `status=pending_accounting`, then PUT `processed` or `failed` and
explain a failure with a comment. Totals are computed, never stored: line totals round half-up to cents,
tax is the taxable subtotal times the invoice's tax group rate, and a payment that clears the balance
marks the invoice `paid`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from werkzeug.wrappers import Response

from sandbox.servicetrade.http import (
    ApiError,
    Ctx,
    Query,
    Row,
    changeset,
    empty,
    envelope,
    not_found,
    paged,
    require,
    to_bool,
    to_decimal,
    to_int,
)
from sandbox.servicetrade.render import Renderer
from sandbox.servicetrade.store import ENTITY_CODES, INVOICE_STATUSES, day_stamp

INVOICE_LIMIT = INVOICE_MAX = 2000  # documented
DEFAULT_LIMIT = MAX_LIMIT = 2000  # not documented for payments/comments/invoice items
INVOICE_TYPES = frozenset({"invoice", "vendorbill", "external", "unknown"})
INVOICE_EDITABLE = ("name", "invoiceNumber", "notes", "status", "transactionDate", "partial", "assignedUserId")


def _r(ctx: Ctx) -> Renderer:
    return Renderer(ctx.store, ctx.base_url)


def _invoice(ctx: Ctx, invoice_id: int) -> Row:
    invoice = ctx.store.invoices.get(invoice_id)
    if invoice is None:
        raise not_found("Invoice", invoice_id)
    return invoice


# -- invoices --------------------------------------------------------------------------------------------------
def list_invoices(ctx: Ctx) -> Response:
    params = ctx.params
    statuses = params.texts("status")
    if statuses and not statuses.issubset(INVOICE_STATUSES):
        raise ApiError(400, f"Invalid invoice status: {', '.join(sorted(statuses - set(INVOICE_STATUSES)))}")
    q = Query(params).strs("status", lambda i: i["status"]).strs("type", lambda i: i.get("type", "invoice"))
    q.ints("jobId", lambda i: i.get("jobId")).ints("customerId", lambda i: i.get("customerId"))
    q.ints("contractId", lambda i: i.get("contractId")).ints("assignedUserId", lambda i: i.get("assignedUserId"))
    q.ints("invoiceRecurrenceId", lambda i: None)
    q.between("createdAfter", "createdBefore", lambda i: i["created"])
    q.between("updatedAfter", "updatedBefore", lambda i: i["updated"])
    q.between("transactionDateAfter", "transactionDateBefore", lambda i: i["transactionDate"])
    q.boolean("partial", lambda i: i.get("partial", False)).tags()
    sort = params.text("sort") or "name"
    if sort not in ("name", "transactionDate"):
        raise ApiError(400, "sort must be name or transactionDate")
    rows = sorted(q.apply(ctx.store.invoices.values()), key=lambda i: (i[sort], i["id"]))
    return envelope(paged(rows, params, "invoices", _r(ctx).invoice, INVOICE_LIMIT, INVOICE_MAX))


def get_invoice(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).invoice(_invoice(ctx, id)))


def update_invoice(ctx: Ctx, id: int) -> Response:
    invoice = _invoice(ctx, id)
    body, before = ctx.body(), dict(invoice)
    if body.get("contractId") is not None:
        raise ApiError(409, "The contract does not apply to this invoice's job")
    if "status" in body:
        status = body["status"]
        if status not in INVOICE_STATUSES:
            raise ApiError(400, f"Invalid invoice status: {status}")
        if invoice["status"] == "void" and status != "void":
            raise ApiError(400, f"Invalid status transition from void to {status}")
        invoice["status"] = status
    for key in ("name", "invoiceNumber", "notes"):
        if key in body:
            invoice[key] = "" if body[key] is None else str(body[key])
    if "transactionDate" in body:
        invoice["transactionDate"] = to_int(body["transactionDate"], "transactionDate")
    if "partial" in body:
        invoice["partial"] = to_bool(body["partial"], "partial")
    if "assignedUserId" in body:
        invoice["assignedUserId"] = None if body["assignedUserId"] is None else to_int(body["assignedUserId"], "x")
    invoice["updated"] = int(time.time())
    ctx.emit("invoice", id, "updated", changeset(before, invoice, INVOICE_EDITABLE))
    return envelope(_r(ctx).invoice(invoice))


def _new_item(ctx: Ctx, body: dict[str, Any], default_taxable: bool) -> Row:
    lib = ctx.store.lib_items.get(to_int(body.get("libItemId") or body.get("libitemId") or 0, "libItemId"))
    if (body.get("libItemId") or body.get("libitemId")) and lib is None:
        raise ApiError(404, "LibItem not found")
    price = body.get("price", lib["price"] if lib else None)
    if price is None:
        raise ApiError(400, "Missing required field(s): price")
    service_line = body.get("serviceLineId") or (lib or {}).get("serviceLineId")
    return {
        "id": ctx.store.new_id(),
        "description": str(body.get("description") or (lib["name"] if lib else "")),
        "quantity": to_decimal(body.get("quantity", 1), "quantity"),
        "price": to_decimal(price, "price"),
        "taxable": to_bool(body.get("taxable", default_taxable), "taxable"),
        "libItemId": lib["id"] if lib else None,
        "serviceLineId": None if service_line is None else to_int(service_line, "serviceLineId"),
    }


def create_invoice(ctx: Ctx) -> Response:
    body, store = ctx.body(), ctx.store
    if body.get("contractId") is not None:
        raise ApiError(409, "The contract does not apply to this job")
    job = None
    if body.get("jobId") is not None:
        job = store.jobs.get(to_int(body["jobId"], "jobId"))
        if job is None:
            raise not_found("Job", body["jobId"])
        location_id, customer_id = job["locationId"], job["customerId"]
    else:
        require(body, "locationId", "customerId")
        location_id, customer_id = to_int(body["locationId"], "locationId"), to_int(body["customerId"], "customerId")
    location = store.locations.get(location_id)
    if location is None:
        raise not_found("Location", location_id)
    kind, status = body.get("type", "invoice"), body.get("status", "ok")
    if kind not in INVOICE_TYPES or status not in INVOICE_STATUSES:
        raise ApiError(400, "Invalid invoice type or status")
    apply_tax = to_bool(body.get("applyTax", True), "applyTax")
    raw_items = body.get("items")
    if raw_items is None and job is not None:
        raw_items = [
            {"description": i["name"], "quantity": i["quantity"], "price": i.get("price") or i["cost"]}
            for i in store.job_items.values()
            if i["jobId"] == job["id"]
        ]
    now = int(time.time())
    invoice_id = store.new_id()
    number = str(body.get("invoiceNumber") or f"INV-{invoice_id % 100000:05d}")
    invoice: Row = {"id": invoice_id, "invoiceNumber": number, "name": f"Invoice {number}", "type": kind}
    invoice.update(status=status, transactionDate=to_int(body.get("transactionDate", now), "transactionDate"))
    invoice.update(dueDate=None, customerId=customer_id, locationId=location_id, jobId=job and job["id"])
    invoice.update(vendorId=to_int(body.get("vendorId", store.account["id"]), "vendorId"), terms=None)
    invoice.update(customerPo=(job or {}).get("customerPo", ""), notes=str(body.get("notes", "")), partial=False)
    invoice.update(assignedUserId=None, contractId=None, tags=[], created=now, updated=now)
    invoice["taxGroupId"] = location.get("taxGroupId") if apply_tax and location["taxable"] else None
    invoice["items"] = [_new_item(ctx, item, location["taxable"]) for item in raw_items or []]
    store.invoices[invoice_id] = invoice
    ctx.emit("invoice", invoice_id, "created")
    return envelope(_r(ctx).invoice(invoice))


# -- invoice items ---------------------------------------------------------------------------------------------
def list_invoice_items(ctx: Ctx) -> Response:
    wanted = ctx.params.integers("invoiceId")
    rows = [
        {**item, "_invoiceId": inv["id"]}
        for inv in ctx.store.invoices.values()
        if wanted is None or inv["id"] in wanted
        for item in inv["items"]
    ]
    renderer = _r(ctx)
    body = paged(rows, ctx.params, "invoiceItems", lambda i: renderer.invoice_item(i, i["_invoiceId"]), 2000, 2000)
    return envelope(body)


def _item(ctx: Ctx, item_id: int) -> tuple[Row, Row]:
    found = ctx.store.invoice_item(item_id)
    if found is None:
        raise not_found("InvoiceItem", item_id)
    return found


def get_invoice_item(ctx: Ctx, id: int) -> Response:
    invoice, item = _item(ctx, id)
    return envelope(_r(ctx).invoice_item(item, invoice["id"]))


def create_invoice_item(ctx: Ctx) -> Response:
    body = ctx.body()
    require(body, "invoiceId")
    invoice = _invoice(ctx, to_int(body["invoiceId"], "invoiceId"))
    location = ctx.store.locations.get(invoice["locationId"], {})
    item = _new_item(ctx, body, bool(location.get("taxable")))
    invoice["items"].append(item)
    invoice["updated"] = int(time.time())
    ctx.emit("invoice", invoice["id"], "updated")
    return envelope(_r(ctx).invoice_item(item, invoice["id"]))


def update_invoice_item(ctx: Ctx, id: int) -> Response:
    invoice, item = _item(ctx, id)
    body = ctx.body()
    if "description" in body:
        item["description"] = str(body["description"])
    for key in ("quantity", "price"):
        if key in body:
            item[key] = to_decimal(body[key], key)
    if "taxable" in body:
        item["taxable"] = to_bool(body["taxable"], "taxable")
    invoice["updated"] = int(time.time())
    ctx.emit("invoice", invoice["id"], "updated")
    return envelope(_r(ctx).invoice_item(item, invoice["id"]))


def delete_invoice_item(ctx: Ctx, id: int) -> Response:
    invoice, item = _item(ctx, id)
    invoice["items"].remove(item)
    invoice["updated"] = int(time.time())
    ctx.emit("invoice", invoice["id"], "updated")
    return empty(204)


# -- payments --------------------------------------------------------------------------------------------------
def list_payments(ctx: Ctx) -> Response:
    store = ctx.store
    q = Query(ctx.params).ints("invoiceId", lambda p: p["invoiceId"])
    q.ints("customerId", lambda p: store.invoices.get(p["invoiceId"], {}).get("customerId"))
    q.between("dateAfter", "dateBefore", lambda p: p["date"])
    q.between("createdAfter", "createdBefore", lambda p: p["created"])
    rows = q.apply(store.payments.values())
    return envelope(paged(rows, ctx.params, "payments", _r(ctx).payment, DEFAULT_LIMIT, MAX_LIMIT))


def get_payment(ctx: Ctx, id: int) -> Response:
    payment = ctx.store.payments.get(id)
    if payment is None:
        raise not_found("Payment", id)
    return envelope(_r(ctx).payment(payment))


def create_payment(ctx: Ctx) -> Response:
    body, store = ctx.body(), ctx.store
    require(body, "invoiceId", "amount", "method")
    invoice = _invoice(ctx, to_int(body["invoiceId"], "invoiceId"))
    amount = to_decimal(body["amount"], "amount")
    if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise ApiError(400, "amount must be a positive number of cents")
    if invoice["status"] in ("void", "draft"):
        raise ApiError(400, f"Cannot record a payment on a {invoice['status']} invoice")
    before = dict(invoice)
    if amount > store.totals(invoice)["balance"]:
        raise ApiError(400, "Payment amount exceeds the invoice balance")
    now = int(time.time())
    payment: Row = {"id": store.new_id(), "invoiceId": invoice["id"], "amount": amount, "method": str(body["method"])}
    payment.update(referenceNumber=str(body.get("referenceNumber", "")), created=now)
    date = body.get("date")
    payment["date"] = day_stamp(datetime.now(UTC).date()) if date is None else to_int(date, "date")
    store.payments[payment["id"]] = payment
    ctx.emit("payment", payment["id"], "created")
    if store.totals(invoice)["balance"] == 0 and invoice["status"] != "paid":
        invoice["statusBeforePaid"], invoice["status"] = invoice["status"], "paid"
    invoice["updated"] = now
    ctx.emit("invoice", invoice["id"], "updated", changeset(before, invoice, ("status",)))
    return envelope(_r(ctx).payment(payment))


def delete_payment(ctx: Ctx, id: int) -> Response:
    """Reverse a payment; an invoice it had paid in full goes back to its previous status."""
    payment = ctx.store.payments.pop(id, None)
    if payment is None:
        raise not_found("Payment", id)
    ctx.emit("payment", id, "deleted")
    invoice = ctx.store.invoices.get(payment["invoiceId"])
    if invoice is not None:
        before = dict(invoice)
        if invoice["status"] == "paid" and ctx.store.totals(invoice)["balance"] > 0:
            invoice["status"] = invoice.pop("statusBeforePaid", "sent")
        invoice["updated"] = int(time.time())
        ctx.emit("invoice", invoice["id"], "updated", changeset(before, invoice, ("status",)))
    return empty(204)


# -- comments --------------------------------------------------------------------------------------------------
def _entity_type(value: object) -> str:
    if isinstance(value, int | Decimal) or (isinstance(value, str) and value.isdigit()):
        code = int(value)
        if code not in ENTITY_CODES:
            raise ApiError(400, f"Unknown entityType {code}")
        return ENTITY_CODES[code]
    return str(value).strip().lower()


def list_comments(ctx: Ctx) -> Response:
    params = ctx.params
    entity_type = params.text("entityType")
    q = Query(params).ints("entityId", lambda c: c["entityId"])
    if entity_type is not None:
        wanted = _entity_type(entity_type)
        q.where(lambda c: c["entityType"] == wanted)
    rows = q.apply(ctx.store.comments.values())
    return envelope(paged(rows, params, "comments", _r(ctx).comment, DEFAULT_LIMIT, MAX_LIMIT))


def get_comment(ctx: Ctx, id: int) -> Response:
    comment = ctx.store.comments.get(id)
    if comment is None:
        raise not_found("Comment", id)
    return envelope(_r(ctx).comment(comment))


def create_comment(ctx: Ctx) -> Response:
    body = ctx.body()
    require(body, "entityType", "entityId", "content")
    entity_type, entity_id = _entity_type(body["entityType"]), to_int(body["entityId"], "entityId")
    collection = ctx.store.collection(entity_type)
    if collection is not None and entity_id not in collection:
        raise not_found(entity_type.capitalize(), entity_id)
    visibility = body.get("visibility") or []
    comment: Row = {"id": ctx.store.new_id(), "entityType": entity_type, "entityId": entity_id}
    comment.update(content=str(body["content"]), visibility=list(visibility), authorId=ctx.user_id)
    comment["created"] = int(time.time())
    ctx.store.comments[comment["id"]] = comment
    ctx.emit("comment", comment["id"], "created")
    return envelope(_r(ctx).comment(comment))


def delete_comment(ctx: Ctx, id: int) -> Response:
    if ctx.store.comments.pop(id, None) is None:
        raise not_found("Comment", id)
    return empty(204)
