"""Master data and job costing: /company /location /user /job /jobitem /taxgroup /libitem /serviceline /externalid.

docs/servicetrade-double.md. Every list is paged (`page`, `limit`) with
`totalPages`/`page` beside the list key; filters are inclusive and comma lists are accepted everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
    field_of,
    not_found,
    paged,
    require,
    to_bool,
    to_decimal,
    to_int,
)
from sandbox.servicetrade.render import Renderer

DEFAULT_LIMIT = MAX_LIMIT = 2000  # jobs (documented) and every list whose limits are not documented
LOCATION_LIMIT, LOCATION_MAX = 10, 5000  # documented
JOB_STATUSES = frozenset(
    {"new", "canceled", "bidding", "scheduled", "completed", "pending_invoice", "sending_invoice", "invoiced", "closed"}
)
JOB_TYPES = frozenset(
    {
        *("unknown", "repair", "construction", "upgrade", "service_call", "urgent_service_call"),
        *("priority_service_call", "emergency_service_call", "cleaning", "inspection", "priority_inspection"),
        *("reinspection", "survey", "preventative_maintenance", "quality_assurance", "inspection_repair"),
        *("delivery", "pickup", "exchange", "sales", "installation", "warranty", "training", "testing"),
        *("administrative", "replacement", "design", "hookup"),
    }
)
EXTERNAL_ID_TYPES = frozenset(
    {"asset", "company", "contact", "contract", "deficiency", "location", "job", "jobitem", "libitem", "quote", "user"}
    | {"invoice"}  # not in the documented list; the invoicing guide links invoices by external id
)


def _r(ctx: Ctx) -> Renderer:
    return Renderer(ctx.store, ctx.base_url)


def _get(collection: dict[int, Row], kind: str, entity_id: int) -> Row:
    row = collection.get(entity_id)
    if row is None:
        raise not_found(kind.capitalize(), entity_id)
    return row


def _address(body: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    address = dict(current)
    if isinstance(body.get("address"), dict):
        address.update({k: str(v) for k, v in body["address"].items()})
    for key in ("street", "city", "state", "postalCode"):
        alias = "address" + key[0].upper() + key[1:]
        if alias in body:
            address[key] = str(body[alias])
    return address


def _touch(row: Row) -> None:
    row["updated"] = int(time.time())


# -- companies -------------------------------------------------------------------------------------------------
def list_companies(ctx: Ctx) -> Response:
    q = Query(ctx.params)
    for flag in ("isCustomer", "isVendor", "isContractor", "isContractee"):
        q.boolean(flag, field_of(flag, False))
    q.contains("name", lambda c: c["name"]).equals("refNumber", lambda c: c.get("refNumber"))
    for part in ("city", "state", "postalCode"):
        q.strs(part, lambda c, p=part: str(c.get("address", {}).get(p, "")))  # type: ignore[misc]
    q.strs("status", lambda c: c["status"], default={"active"})
    q.between("createdAfter", "createdBefore", lambda c: c["created"])
    q.between("updatedAfter", "updatedBefore", lambda c: c["updated"]).tags()
    rows = q.apply(ctx.store.companies.values())
    return envelope(paged(rows, ctx.params, "companies", _r(ctx).company, DEFAULT_LIMIT, MAX_LIMIT))


def get_company(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).company(_get(ctx.store.companies, "company", id)))


def create_company(ctx: Ctx) -> Response:
    body = ctx.body()
    require(body, "name")
    now = int(time.time())
    company: Row = {
        "id": ctx.store.new_id(),
        "name": str(body["name"]),
        "refNumber": str(body.get("refNumber", "")),
        "status": str(body.get("status", "active")),
        "isCustomer": to_bool(body.get("customer", body.get("isCustomer", True)), "customer"),
        "isVendor": to_bool(body.get("vendor", body.get("isVendor", False)), "vendor"),
        "address": _address(body, {"street": "", "city": "", "state": "", "postalCode": ""}),
        "phoneNumber": str(body.get("phoneNumber", "")),
        "primaryEmail": str(body.get("email", "")),
        "tags": [],
        "created": now,
        "updated": now,
    }
    ctx.store.companies[company["id"]] = company
    ctx.emit("company", company["id"], "created")
    return envelope(_r(ctx).company(company))


def update_company(ctx: Ctx, id: int) -> Response:
    company = _get(ctx.store.companies, "company", id)
    body, before = ctx.body(), dict(company)
    for key in ("name", "refNumber", "status", "phoneNumber"):
        if key in body:
            company[key] = str(body[key])
    if "email" in body:
        company["primaryEmail"] = str(body["email"])
    company["address"] = _address(body, company.get("address", {}))
    _touch(company)
    ctx.emit("company", id, "updated", changeset(before, company, ("name", "refNumber", "status", "address")))
    return envelope(_r(ctx).company(company))


# -- locations -------------------------------------------------------------------------------------------------
def list_locations(ctx: Ctx) -> Response:
    store, params = ctx.store, ctx.params

    def company(loc: Row) -> Row:
        return store.companies.get(loc["companyId"], {})

    q = Query(params).contains("name", lambda loc: loc["name"], lambda loc: loc.get("storeNumber"))
    q.ints("companyId", lambda loc: loc["companyId"])
    if "isVendor" in params:
        q.boolean("isVendor", lambda loc: company(loc).get("isVendor", False))
    else:
        q.boolean("isCustomer", lambda loc: company(loc).get("isCustomer", False), default=True)
    q.strs("status", lambda loc: loc["status"]).strs("companyStatus", lambda loc: company(loc).get("status"))
    q.between("createdAfter", "createdBefore", lambda loc: loc["created"])
    q.between("updatedAfter", "updatedBefore", lambda loc: loc["updated"]).tags()
    rows = q.apply(store.locations.values())
    return envelope(paged(rows, params, "locations", _r(ctx).location, LOCATION_LIMIT, LOCATION_MAX))


def get_location(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).location(_get(ctx.store.locations, "location", id)))


LOCATION_FIELDS = ("name", "storeNumber", "refNumber", "phoneNumber", "email", "status")


def create_location(ctx: Ctx) -> Response:
    body = ctx.body()
    require(body, "companyId", "name")
    company_id = to_int(body["companyId"], "companyId")
    _get(ctx.store.companies, "company", company_id)
    now = int(time.time())
    loc: Row = {"id": ctx.store.new_id(), "companyId": company_id, "status": "active", "taxable": False}
    loc.update({k: str(body[k]) for k in LOCATION_FIELDS if k in body})
    loc.update(address=_address(body, {"street": "", "city": "", "state": "", "postalCode": ""}), tags=[])
    loc.update(created=now, updated=now, lat=body.get("lat"), lon=body.get("lon"), taxGroupId=None)
    if "taxable" in body:
        loc["taxable"] = to_bool(body["taxable"], "taxable")
    ctx.store.locations[loc["id"]] = loc
    ctx.emit("location", loc["id"], "created")
    return envelope(_r(ctx).location(loc))


def update_location(ctx: Ctx, id: int) -> Response:
    loc = _get(ctx.store.locations, "location", id)
    body, before = ctx.body(), dict(loc)
    loc.update({k: str(body[k]) for k in LOCATION_FIELDS if k in body})
    if "taxable" in body:
        loc["taxable"] = to_bool(body["taxable"], "taxable")
    loc["address"] = _address(body, loc["address"])
    _touch(loc)
    ctx.emit("location", id, "updated", changeset(before, loc, (*LOCATION_FIELDS, "taxable", "address")))
    return envelope(_r(ctx).location(loc))


def delete_location(ctx: Ctx, id: int) -> Response:
    _get(ctx.store.locations, "location", id)
    del ctx.store.locations[id]
    ctx.emit("location", id, "deleted")
    return empty(204)


# -- users -----------------------------------------------------------------------------------------------------
def list_users(ctx: Ctx) -> Response:
    q = Query(ctx.params).contains("name", lambda u: u["name"]).contains("email", lambda u: u.get("email"))
    q.contains("phone", lambda u: u.get("phone")).strs("status", lambda u: u["status"], default={"active"})
    q.strs("role", lambda u: u.get("role")).boolean("isTech", lambda u: u.get("isTech", False))
    q.ints("company", lambda u: u.get("companyId"))
    q.between("createdAfter", "createdBefore", lambda u: u["created"])
    q.between("updatedAfter", "updatedBefore", lambda u: u["updated"])
    rows = q.apply(ctx.store.users.values())
    return envelope(paged(rows, ctx.params, "users", _r(ctx).user, DEFAULT_LIMIT, MAX_LIMIT))


def get_user(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).user(_get(ctx.store.users, "user", id)))


# -- jobs ------------------------------------------------------------------------------------------------------
def list_jobs(ctx: Ctx) -> Response:
    params = ctx.params
    q = Query(params).ints("id", lambda j: j["id"]).ints("jobIds", lambda j: j["id"])
    q.ints("number", lambda j: j["number"])
    statuses = params.texts("status")
    if statuses == {"all"}:
        q.where(lambda j: j["status"] != "canceled")
    elif statuses is not None:
        q.strs("status", lambda j: j["status"])
    elif "number" not in params:
        q.where(lambda j: j["status"] == "scheduled")  # the documented default
    q.strs("type", lambda j: j["type"])
    for name, key in (("locationId", "locationId"), ("vendorId", "vendorId"), ("customerId", "customerId")):
        q.ints(name, field_of(key))
    q.any_ints("techIds", lambda j: j.get("techIds", []))
    invoiced = {inv.get("jobId") for inv in ctx.store.invoices.values()}
    q.boolean("isInvoiced", lambda j: j["id"] in invoiced)
    q.between("completedOnBegin", "completedOnEnd", lambda j: j.get("completedOn"))
    q.between("scheduleDateFrom", "scheduleDateTo", lambda j: j.get("scheduledDate"))
    q.between("createdAfter", "createdBefore", lambda j: j["created"])
    q.between("updatedAfter", "updatedBefore", lambda j: j["updated"]).tags()
    rows = q.apply(ctx.store.jobs.values())
    return envelope(paged(rows, params, "jobs", _r(ctx).job, DEFAULT_LIMIT, MAX_LIMIT))


def get_job(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).job(_get(ctx.store.jobs, "job", id)))


def _job_fields(ctx: Ctx, job: Row, body: dict[str, Any]) -> None:
    if "type" in body:
        if body["type"] not in JOB_TYPES:
            raise ApiError(400, f"Invalid job type: {body['type']}")
        job["type"] = body["type"]
    if "status" in body:
        if body["status"] not in JOB_STATUSES:
            raise ApiError(400, f"Invalid job status: {body['status']}")
        job["status"] = body["status"]
    if "customerPo" in body:
        if len(str(body["customerPo"])) > 40:
            raise ApiError(400, "customerPo must be 40 characters or fewer")
        job["customerPo"] = str(body["customerPo"])
    if "description" in body:
        job["description"] = str(body["description"])
    if "techIds" in body:
        job["techIds"] = [to_int(t, "techIds") for t in body["techIds"] or []]
    if "completedOn" in body:
        job["completedOn"] = None if body["completedOn"] is None else to_int(body["completedOn"], "completedOn")


def create_job(ctx: Ctx) -> Response:
    body = ctx.body()
    require(body, "locationId", "type")
    loc = _get(ctx.store.locations, "location", to_int(body["locationId"], "locationId"))
    now = int(time.time())
    number = max((j["number"] for j in ctx.store.jobs.values()), default=100000) + 1
    job: Row = {"id": ctx.store.new_id(), "number": number, "status": "new", "customName": None}
    job.update(locationId=loc["id"], customerId=to_int(body.get("customerId", loc["companyId"]), "customerId"))
    job.update(vendorId=to_int(body.get("vendorId", ctx.store.account["id"]), "vendorId"), techIds=[], tags=[])
    job.update(description="", customerPo="", scheduledDate=None, completedOn=None, created=now, updated=now)
    _job_fields(ctx, job, body)
    job["name"] = f"{job['type'].replace('_', ' ').title()} Job #{number}"
    ctx.store.jobs[job["id"]] = job
    ctx.emit("job", job["id"], "created")
    return envelope(_r(ctx).job(job))


def update_job(ctx: Ctx, id: int) -> Response:
    job = _get(ctx.store.jobs, "job", id)
    body, before = ctx.body(), dict(job)
    _job_fields(ctx, job, body)
    _touch(job)
    ctx.emit("job", id, "updated", changeset(before, job, ("type", "status", "customerPo", "description")))
    return envelope(_r(ctx).job(job))


def delete_job(ctx: Ctx, id: int) -> Response:
    _get(ctx.store.jobs, "job", id)
    del ctx.store.jobs[id]
    ctx.emit("job", id, "deleted")
    return empty(204)


# -- job items -------------------------------------------------------------------------------------------------
def list_job_items(ctx: Ctx) -> Response:
    store = ctx.store
    q = Query(ctx.params).ints("jobId", lambda i: i["jobId"])
    q.between("usedOnAfter", "usedOnBefore", lambda i: i.get("usedOn"))
    q.between("createdAfter", "createdBefore", lambda i: i["created"])
    q.between("updatedAfter", "updatedBefore", lambda i: i["updated"])
    q.strs("libItemType", lambda i: store.lib_items.get(i.get("libItemId") or 0, {}).get("type", ""))
    rows = sorted(q.apply(store.job_items.values()), key=lambda i: (i["jobId"], i["id"]))
    return envelope(paged(rows, ctx.params, "jobItems", _r(ctx).job_item, DEFAULT_LIMIT, MAX_LIMIT))


def get_job_item(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).job_item(_get(ctx.store.job_items, "jobitem", id)))


def _job_item_fields(ctx: Ctx, item: Row, body: dict[str, Any]) -> None:
    for key in ("name", "description"):
        if key in body:
            item[key] = str(body[key])
    for key in ("quantity", "cost", "price"):
        if body.get(key) is not None:
            item[key] = to_decimal(body[key], key)
    refs: tuple[tuple[str, str, Callable[[], dict[int, Row]]], ...] = (
        ("libitemId", "libItemId", lambda: ctx.store.lib_items),
        ("libItemId", "libItemId", lambda: ctx.store.lib_items),
        ("serviceLineId", "serviceLineId", lambda: ctx.store.service_lines),
        ("vendorId", "vendorId", lambda: ctx.store.companies),
    )
    for name, key, collection in refs:
        if body.get(name) is not None:
            item[key] = _get(collection(), name[:-2], to_int(body[name], name))["id"]
    if "usedOn" in body:
        item["usedOn"] = to_int(body["usedOn"], "usedOn")
    if "source" in body:
        source = body["source"]
        if source is not None and not (isinstance(source, dict) and source.get("type") and "value" in source):
            raise ApiError(400, "source must be {type, value}")
        item["source"] = None if source is None else {"type": str(source["type"]), "value": str(source["value"])}


def create_job_item(ctx: Ctx) -> Response:
    body = ctx.body()
    require(body, "jobId", "name")
    job = _get(ctx.store.jobs, "job", to_int(body["jobId"], "jobId"))
    now = int(time.time())
    item: Row = {"id": ctx.store.new_id(), "jobId": job["id"], "quantity": Decimal(1), "cost": Decimal(0)}
    item.update(price=None, usedOn=now, libItemId=None, vendorId=None, serviceLineId=None, source=None)
    item.update(created=now, updated=now)
    _job_item_fields(ctx, item, body)
    ctx.store.job_items[item["id"]] = item
    ctx.emit("jobitem", item["id"], "created")
    return envelope(_r(ctx).job_item(item))


def update_job_item(ctx: Ctx, id: int) -> Response:
    item = _get(ctx.store.job_items, "jobitem", id)
    body, before = ctx.body(), dict(item)
    _job_item_fields(ctx, item, body)
    _touch(item)
    ctx.emit("jobitem", id, "updated", changeset(before, item, ("name", "quantity", "cost", "source")))
    return envelope(_r(ctx).job_item(item))


def delete_job_item(ctx: Ctx, id: int) -> Response:
    _get(ctx.store.job_items, "jobitem", id)
    del ctx.store.job_items[id]
    ctx.emit("jobitem", id, "deleted")
    return empty(204)


# -- reference data --------------------------------------------------------------------------------------------
def list_tax_groups(ctx: Ctx) -> Response:
    rows = list(ctx.store.tax_groups.values())
    return envelope(paged(rows, ctx.params, "taxGroups", _r(ctx).tax_group, DEFAULT_LIMIT, MAX_LIMIT))


def get_tax_group(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).tax_group(_get(ctx.store.tax_groups, "taxgroup", id)))


def list_lib_items(ctx: Ctx) -> Response:
    q = Query(ctx.params).boolean("active", lambda i: i.get("active", True)).strs("type", lambda i: i["type"])
    q.between("updatedAfter", "updatedBefore", lambda i: i.get("updated"))
    rows = q.apply(ctx.store.lib_items.values())
    return envelope(paged(rows, ctx.params, "libItems", _r(ctx).lib_item, DEFAULT_LIMIT, MAX_LIMIT))


def get_lib_item(ctx: Ctx, id: int) -> Response:
    return envelope(_r(ctx).lib_item(_get(ctx.store.lib_items, "libitem", id)))


def list_service_lines(ctx: Ctx) -> Response:
    rows = list(ctx.store.service_lines.values())
    return envelope(paged(rows, ctx.params, "serviceLines", dict, DEFAULT_LIMIT, MAX_LIMIT))


# -- external ids (section 5.11) -------------------------------------------------------------------------------
def _entity(ctx: Ctx, entity_type: str, entity_id: int) -> Row:
    if entity_type not in EXTERNAL_ID_TYPES:
        raise ApiError(400, f"External ids are not supported for entity type {entity_type!r}")
    collection = ctx.store.collection(entity_type)
    if collection is None or entity_id not in collection:
        raise not_found(entity_type.capitalize(), entity_id)
    return collection[entity_id]


def external_ids(ctx: Ctx, entity_type: str, first: str) -> Response:
    if not first.isdigit():
        raise ApiError(400, "Entity id must be numeric")
    _entity(ctx, entity_type, int(first))
    return envelope({"values": ctx.store.external(entity_type, int(first))})


def external_id(ctx: Ctx, entity_type: str, first: str, second: str) -> Response:
    """GET /externalid/{type}/{id}/{system} (value) or /externalid/{type}/{system}/{value} (reverse lookup):
    a numeric second segment is an entity id. POST/PUT set (or, with value "", clear) the value."""
    if ctx.request.method == "GET" and not first.isdigit():
        for (etype, eid), values in ctx.store.external_ids.items():
            if etype == entity_type and values.get(first) == second:
                return envelope(_r(ctx).entity(entity_type, _entity(ctx, entity_type, eid)))
        raise ApiError(404, f"No {entity_type} with {first} external id {second!r}")
    if not first.isdigit():
        raise ApiError(400, "Entity id must be numeric")
    entity_id = int(first)
    _entity(ctx, entity_type, entity_id)
    values = ctx.store.external_ids.setdefault((entity_type, entity_id), {})
    if ctx.request.method == "GET":
        if second not in values:
            raise ApiError(404, f"No {second} external id for {entity_type} {entity_id}")
        return envelope({"value": values[second]})
    body = ctx.body()
    if "value" not in body or body["value"] is None:
        raise ApiError(400, "Missing required field(s): value")
    value = str(body["value"])
    if value:
        values[second] = value
    else:
        values.pop(second, None)
    return envelope({"value": value})
