"""Documents (targets.intacct.documents) -> the API functions that write and read them, and Intacct's
records -> documents again, so the engine can diff what Intacct holds against what it would write.

Element order follows api.xsd (create_invoice, update_invoice, lineitem, updatelineitem); generic objects
(create/update CUSTOMER) are `xs:any` in the schema and follow the SDK's CustomerCreateTest.php."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from xml.etree import ElementTree

from ledgerbridge.targets.intacct.wire import Function, element, ymd

LINE_FIELDS = ("glaccountno", "amount", "memo", "locationid", "departmentid", "projectid", "classid")
READ_PAGE = 1000  # readByQuery's largest page (fylein/sageintacct-sdk-py api_base.py)


def _line(tag: str, line: Mapping[str, Any], **attrs: str) -> ElementTree.Element:
    fields: dict[str, Any] = {k: line.get(k) for k in LINE_FIELDS[:5]}
    el = element(tag, fields, **attrs)
    custom = line.get("customfields") or {}
    if custom:
        # customfields sits between departmentid and projectid in the schema's sequence
        holder = element("customfields")
        for name, value in custom.items():
            holder.append(element("customfield", {"customfieldname": name, "customfieldvalue": value}))
        el.append(holder)
    for key in ("projectid", "classid"):
        if line.get(key):
            el.append(element(key, line[key]))
    return el


def _header(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "customerid": doc["customerid"],
        "datecreated": ymd(date.fromisoformat(doc["datecreated"])),
        "datedue": ymd(date.fromisoformat(doc["datedue"])) if doc.get("datedue") else None,
        "termname": doc.get("termname"),
    }


def create_invoice(doc: Mapping[str, Any], controlid: str) -> Function:
    el = element(
        "create_invoice",
        {
            **_header(doc),
            "invoiceno": doc.get("invoiceno"),
            "ponumber": doc.get("ponumber"),
            "description": doc.get("description"),
        },
    )
    items = element("invoiceitems")
    for line in doc["lines"]:
        items.append(_line("lineitem", line))
    el.append(items)
    return Function(controlid, el)


def update_invoice(key: str, doc: Mapping[str, Any], current_lines: int, controlid: str) -> Function:
    """Lines 1..current_lines are updated in place (updatelineitem line_num), the rest added (lineitem).
    update_invoice cannot remove a line: the target refuses such an update before sending it."""
    el = element(
        "update_invoice",
        {
            **_header(doc),
            "invoiceno": doc.get("invoiceno"),
            "ponumber": doc.get("ponumber"),
            "description": doc.get("description"),
        },
        key=key,
    )
    items = element("updateinvoiceitems")
    for n, line in enumerate(doc["lines"], start=1):
        if n <= current_lines:
            items.append(_line("updatelineitem", line, line_num=str(n)))
        else:
            items.append(_line("lineitem", line))
    el.append(items)
    return Function(controlid, el)


def create_object(obj: str, fields: Mapping[str, Any], controlid: str) -> Function:
    holder = element("create")
    holder.append(element(obj, fields))
    return Function(controlid, holder)


def update_object(obj: str, fields: Mapping[str, Any], controlid: str) -> Function:
    holder = element("update")
    holder.append(element(obj, fields))
    return Function(controlid, holder)


def read_by_query(obj: str, query: str, controlid: str, fields: str = "*", pagesize: int = READ_PAGE) -> Function:
    return Function(
        controlid,
        element("readByQuery", {"object": obj, "fields": fields, "query": query, "pagesize": str(pagesize)}),
    )


def read_more(result_id: str, controlid: str) -> Function:
    return Function(controlid, element("readMore", {"resultId": result_id}))


def read(obj: str, keys: Sequence[str], controlid: str, fields: str = "*") -> Function:
    return Function(controlid, element("read", {"object": obj, "keys": ",".join(keys), "fields": fields}))


def read_by_name(obj: str, names: Sequence[str], controlid: str, fields: str = "*") -> Function:
    return Function(controlid, element("readByName", {"object": obj, "keys": ",".join(names), "fields": fields}))


def quoted(value: str) -> str:
    """A value inside a readByQuery condition (single quotes doubled)."""
    return "'" + value.replace("'", "''") + "'"


# -- records back to documents ----------------------------------------------------------------------------


def _iso(mdy: str) -> str:
    if not mdy:
        return ""
    return datetime.strptime(mdy, "%m/%d/%Y").date().isoformat()


def invoice_lines(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    holder = record.get("ARINVOICEITEMS") or {}
    items = holder.get("arinvoiceitem", []) if isinstance(holder, Mapping) else []
    return [dict(items)] if isinstance(items, Mapping) else list(items)


def invoice_document(record: Mapping[str, Any]) -> dict[str, Any]:
    """An ARINVOICE record (read with its ARINVOICEITEMS) in the shape IntacctDocuments.invoice builds."""
    lines = []
    for item in invoice_lines(record):
        line = {
            "glaccountno": item.get("ACCOUNTNO", ""),
            "amount": item.get("AMOUNT", ""),
            "memo": item.get("ENTRYDESCRIPTION", ""),
            "locationid": item.get("LOCATIONID", ""),
            "departmentid": item.get("DEPARTMENTID", ""),
            "projectid": item.get("PROJECTID", ""),
            "classid": item.get("CLASSID", ""),
        }
        custom = {k: v for k, v in item.items() if k.startswith("GLDIM") and v}
        if custom:
            line["customfields"] = dict(sorted(custom.items()))
        lines.append({k: v for k, v in line.items() if v})
    doc = {
        "customerid": record.get("CUSTOMERID", ""),
        "datecreated": _iso(str(record.get("WHENCREATED", ""))),
        "datedue": _iso(str(record.get("WHENDUE", ""))),
        "termname": record.get("TERMNAME", ""),
        "invoiceno": record.get("RECORDID", ""),
        "ponumber": record.get("DOCNUMBER", ""),
        "description": record.get("DESCRIPTION", ""),
        "lines": lines,
    }
    return {k: v for k, v in doc.items() if v not in ("", None)}
